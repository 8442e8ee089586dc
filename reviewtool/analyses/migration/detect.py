"""Auto-detection of replaced APIs: old calls removed across files, new ones added."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewtool.analyses.migration.model import MIN_CANDIDATE_FILES, Candidate
from reviewtool.analyses.migration.sites import _is_c
from reviewtool.cparse import ParsedSource, parse_c
from reviewtool.diff import (
    PatchDiff,
    function_images,
    parse_patch_diff,
)
from reviewtool.errors import ReviewtoolError
from reviewtool.series.model import Revision


def detect_candidates(revisions: Sequence[Revision]) -> list[Candidate]:
    """Functions whose calls vanish from two or more files while another's appear in place.

    Also a function whose definition a patch removes. Best candidate first.
    """
    removed: dict[str, dict[tuple[str, str | None], int]] = {}
    added: dict[str, set[tuple[str, str | None]]] = {}
    definitions_removed: set[str] = set()
    for revision in revisions:
        for patch in revision.patches:
            if not patch.diff:
                continue
            try:
                images = function_images(patch.diff)
            except ReviewtoolError:
                continue  # a diff the diff reader cannot read names no API
            for image in images:
                if not _is_c(image.path) or not image.changed:
                    continue
                before, after = parse_c(image.old_padded()), parse_c(image.new_padded())
                gone = _changed_calls(before, image.removed_lines, after, image.added_lines)
                came = _changed_calls(after, image.added_lines, before, image.removed_lines)
                for name in gone:
                    key = (image.path, image.function)
                    bucket = removed.setdefault(name, {})
                    bucket[key] = bucket.get(key, 0) + 1
                for name in came:
                    added.setdefault(name, set()).add((image.path, image.function))
                for definition in before.functions():
                    if definition.start_line in image.removed_lines and not after.definitions(
                        definition.name
                    ):
                        definitions_removed.add(definition.name)
    out = []
    for name, places in removed.items():
        files = tuple(sorted({path for path, _ in places}))
        if len(files) < MIN_CANDIDATE_FILES and name not in definitions_removed:
            continue
        best_new, best_shared = None, 0
        for other, other_places in added.items():
            if other == name:
                continue
            shared = len(set(places) & other_places)
            if shared > best_shared or (shared == best_shared and shared and other < best_new):
                best_new, best_shared = other, shared
        if best_shared == 0 and name not in definitions_removed:
            continue
        out.append(Candidate(name, best_new, files, best_shared, name in definitions_removed))
    out.sort(key=lambda c: c.score, reverse=True)
    return out


def _changed_calls(
    parsed: ParsedSource, lines: list[int], other: ParsedSource, other_lines: list[int]
) -> list[str]:
    """Names of calls on changed lines that the other image does not also change."""
    wanted = set(lines)
    other_wanted = set(other_lines)
    mine: dict[str, int] = {}
    for call in parsed.all_calls():
        if wanted.intersection(call.lines):
            mine[call.name] = mine.get(call.name, 0) + 1
    theirs: dict[str, int] = {}
    for call in other.all_calls():
        if other_wanted.intersection(call.lines):
            theirs[call.name] = theirs.get(call.name, 0) + 1
    return [
        name
        for name, count in mine.items()
        for _ in range(max(0, count - theirs.get(name, 0)))
        if re.fullmatch(r"[A-Za-z_]\w*", name)
    ]


# -- entry points --------------------------------------------------------------------------------


def _diffs(revision: Revision) -> list[tuple[int, PatchDiff, str]]:
    out = []
    for patch in sorted(revision.patches, key=lambda p: p.index):
        if patch.diff:
            out.append((patch.index, parse_patch_diff(patch.diff, lenient=True), patch.diff))
    return out
