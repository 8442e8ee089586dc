"""What a series does to an API's declarations: prototypes, static definitions."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reviewtool.analyses.migration.sites import _is_c
from reviewtool.cparse import ParsedSource, parse_c
from reviewtool.diff import (
    function_images,
    parse_patch_diff,
)
from reviewtool.errors import ReviewtoolError
from reviewtool.series.model import Revision


def _defines(parsed: ParsedSource, name: str) -> bool:
    return any(d.kind == "function" and not d.is_static for d in parsed.definitions(name))


def _declarations_changed(
    base: ParsedSource | None, final: ParsedSource | None, old: str, new: str
) -> bool:
    def names(parsed: ParsedSource | None) -> tuple[int, int]:
        if parsed is None:
            return (0, 0)
        return (len(parsed.declarations(old)), len(parsed.declarations(new)))

    return names(base) != names(final)


# -- per-revision analysis from hunks alone ----------------------------------------------------


def old_prototype(revisions: Iterable[Revision], name: str) -> tuple[str, ...]:
    """Parameter names of name from any prototype or definition the patches show."""
    for revision in revisions:
        for patch in revision.patches:
            if not patch.diff or name not in patch.diff:
                continue
            try:
                images = function_images(patch.diff)
            except ReviewtoolError:
                continue
            for image in images:
                if not _is_c(image.path) or name not in image.old_text + image.new_text:
                    continue
                for text in (image.old_padded(), image.new_padded()):
                    found = parse_c(text).prototype(name) if text else None
                    if found:
                        return found
    return ()


def static_definitions(revisions: Iterable[Revision], name: str) -> set[str]:
    """Paths whose hunks show a file-local `static ... name(` definition, in any revision.

    From the patch alone the static definition may sit outside every hunk of one revision;
    a function that is file-local in one version is file-local in the others, so the hint
    is shared across the series.
    """
    pattern = re.compile(rf"^static\b.*\b{re.escape(name)}\s*\(")
    paths: set[str] = set()
    for revision in revisions:
        for patch in revision.patches:
            if not patch.diff or name not in patch.diff:
                continue
            parsed = parse_patch_diff(patch.diff, lenient=True)
            for file_diff in parsed.files:
                for hunk in file_diff.hunks:
                    if pattern.match(hunk.section) or any(
                        pattern.match(line.text) for line in hunk.lines
                    ):
                        paths.add(file_diff.path)
    return paths
