"""Hunk mode: what the patches' hunks alone show of each call (results marked partial)."""

from __future__ import annotations

import re
from dataclasses import replace

from reviewtool.analyses.migration.arguments import _Pair, _pairs_in, wrapper_pairs
from reviewtool.analyses.migration.declarations import _declarations_changed, static_definitions
from reviewtool.analyses.migration.finish import _finish
from reviewtool.analyses.migration.model import FileMigration, RevisionMigration, Site
from reviewtool.analyses.migration.sites import (
    _is_c,
    _replacement_note,
    _site,
    _unmatched_pairs,
    api_calls,
)
from reviewtool.cparse import CallSite, ParsedSource, parse_c
from reviewtool.diff import (
    FunctionImage,
    PatchDiff,
    area_of,
    close_comments,
    function_images,
)
from reviewtool.series.model import Revision
from reviewtool.textlines import git_lines


def _function_of(call: CallSite, image: FunctionImage) -> str | None:
    return call.function or image.function


def _map_from_hunks(
    revision: Revision,
    old: str,
    new: str,
    diffs: list[tuple[int, PatchDiff, str]],
    shadowed: dict[str, set[str]] | None = None,
    known_params: tuple[str, ...] = (),
) -> RevisionMigration:
    result = RevisionMigration(revision.label, mode="hunks")
    hints = dict(shadowed or {})
    for name in (old, new):
        if name not in hints:
            hints[name] = static_definitions([revision], name)
    entries: dict[str, FileMigration] = {}
    pending_old: dict[tuple[str, str | None], list[Site]] = {}  # old calls the series added
    seen_old: dict[tuple[str, str | None, tuple[str, ...]], Site] = {}  # visible, untouched
    mentions: dict[tuple[str, str], tuple[str, ParsedSource | None, int, str]] = {}
    definition_state = "unseen"
    pairs: list[_Pair] = []
    params: tuple[str, ...] = ()

    def entry_for(path: str) -> FileMigration:
        if path not in entries:
            entries[path] = FileMigration(path, area_of(path), partial=True)
        return entries[path]

    for index, patch, _text in diffs:
        # Per path, every old- and new-API call the hunks show on each side, with the
        # function it sits in. A call on an unchanged line whose function changed name
        # (git showing a wrapper turn into its caller) moved; one that did not, stayed.
        seen: dict[str, dict[str, list[tuple[CallSite, ParsedSource]]]] = {}
        new_parts: dict[tuple[str, str | None], list[tuple[int, str]]] = {}
        callees: dict[tuple[str, str | None], tuple[set[str], set[str]]] = {}
        for image in function_images(patch):
            path = image.path
            if image.new_text:
                new_parts.setdefault((path, image.function), []).append(
                    (image.new_start, image.new_text)
                )
            before = parse_c(image.old_padded()) if _is_c(path) else None
            after = parse_c(image.new_padded()) if _is_c(path) else None
            for text_line, line_no in _mention_lines(image.new_text, image.new_start, old):
                mentions[(path, text_line.strip())] = (path, after, line_no, text_line)
            for text_line, _line_no in _mention_lines(image.old_text, image.old_start, old):
                if text_line.strip() and _line_removed(image, text_line):
                    mentions.pop((path, text_line.strip()), None)
            if before is None or after is None:
                continue
            if path in hints[old] and (before.calls(old) or after.calls(old)):
                note = f"{path} defines its own static {old}: its calls are not the generic API"
                if note not in entry_for(path).notes:
                    entry_for(path).notes.append(note)
            whole = ([before] if image.old_complete else []) + (
                [after] if image.new_complete else []
            )
            # A fragment that starts inside a function never parses cleanly: only errors in
            # wholly visible functions are worth a note.
            for region in [r for parsed in whole for r in parsed.errors]:
                if region.function == image.function:
                    note = f"{path}: {region.describe()} (hunk image)"
                    if note not in entry_for(path).notes:
                        entry_for(path).notes.append(note)
            names = callees.setdefault((path, image.function), (set(), set()))
            names[0].update(c.name for c in before.all_calls())
            names[1].update(c.name for c in after.all_calls())
            sides = seen.setdefault(path, {"old-": [], "old+": [], "new-": [], "new+": []})
            for name, key in ((old, "old"), (new, "new")):
                shadowed = path in hints[name]
                for side, parsed in (("-", before), ("+", after)):
                    for call in [] if shadowed else api_calls(parsed, name):
                        sides[key + side].append(
                            (replace(call, function=_function_of(call, image)), parsed)
                        )
            if _declarations_changed(before, after, old, new):
                entry_for(path).declarations_changed = True
            removed_def = any(d.start_line in image.removed_lines for d in before.definitions(old))
            added_def = any(d.start_line in image.added_lines for d in after.definitions(old))
            if removed_def != added_def:
                definition_state = "removed" if removed_def else "present"
            params = params or before.prototype(old) or after.prototype(old) or ()
            if image.added_lines and after.definitions(old):
                pairs.extend(wrapper_pairs(path, after, old, new))
        for path, sides in seen.items():
            gone_old = _unmatched_pairs(sides["old-"], sides["old+"])
            came_functions = {c.function for c, _ in _unmatched_pairs(sides["new+"], sides["new-"])}
            for function in {c.function for c, _ in gone_old} - came_functions:
                before_names, after_names = callees.get((path, function), (set(), set()))
                note = _replacement_note(function, before_names, after_names, old, new)
                if note and note not in entry_for(path).notes:
                    entry_for(path).notes.append(note)
            came_old = _unmatched_pairs(sides["old+"], sides["old-"])
            gone_new = _unmatched_pairs(sides["new-"], sides["new+"])
            came_new = _unmatched_pairs(sides["new+"], sides["new-"])
            # What this patch shows of a function supersedes what earlier patches showed.
            for call, _parsed in sides["old-"]:
                seen_old.pop((path, call.function, tuple(call.args)), None)
            moved = {id(call) for call, _ in came_old}
            for call, _parsed in sides["old+"]:
                if id(call) not in moved:
                    seen_old[(path, call.function, tuple(call.args))] = _site(call, index)
            for call, _parsed in gone_old:
                if pending_old.get((path, call.function)):
                    pending_old[(path, call.function)].pop(0)  # the series added it itself
                    continue
                entry_for(path).old_removed.append(_site(call, index))
            for call, _parsed in came_old:
                pending_old.setdefault((path, call.function), []).append(_site(call, index))
            for call, _parsed in gone_new:
                earlier = entry_for(path).new_added
                match = next((s for s in earlier if s.function == call.function), None)
                if match is not None:
                    earlier.remove(match)  # a new-API call the series added and took out
            for call, _parsed in came_new:
                entry_for(path).new_added.append(_site(call, index))
            if gone_old and came_new:
                merged = {
                    function: parse_c(_merge_images(parts))
                    for (image_path, function), parts in new_parts.items()
                    if image_path == path
                }
                came = [(call, merged.get(call.function, parsed)) for call, parsed in came_new]
                pairs.extend(_pairs_in(path, gone_old, came))
    for pair in pairs:
        pair.params = pair.params or params or known_params
    for (path, _function), sites in pending_old.items():
        entry_for(path).old_remaining.extend(sites)
    for (path, _function, _args), site in seen_old.items():
        entry_for(path).old_remaining.append(site)
    result.files = [
        e
        for e in entries.values()
        if e.old_removed or e.old_remaining or e.new_added or e.declarations_changed
    ]
    result.definition_removed = definition_state == "removed"
    _finish(result, revision, old, list(mentions.values()), pairs)
    result.notes.append(
        "from the patches alone: remaining calls are only those the hunks show (partial)"
    )
    return result


def _merge_images(parts: list[tuple[int, str]]) -> str:
    """One text holding several images of a function at their real lines, blank between.

    The struct a new call fills is often declared in an earlier hunk than the call itself.
    """
    lines: list[str] = []
    for start, text in sorted(parts):
        for offset, line in enumerate(git_lines(close_comments(text))):
            number = start - 1 + offset
            while len(lines) <= number:
                lines.append("")
            lines[number] = line
    return "\n".join(lines) + "\n"


def _mention_lines(text: str, start: int, name: str) -> list[tuple[str, int]]:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    return [
        (line, start + offset)
        for offset, line in enumerate(git_lines(text))
        if pattern.search(line)
    ]


def _line_removed(image: FunctionImage, text_line: str) -> bool:
    for offset, line in enumerate(git_lines(image.old_text)):
        if line == text_line and image.old_start + offset in image.removed_lines:
            return True
    return False


# -- finishing: status, leftovers, argument map --------------------------------------------------
