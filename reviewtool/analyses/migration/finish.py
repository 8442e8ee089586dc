"""A file's entry completed: argument mappings from its call pairs, and its status."""

from __future__ import annotations

from reviewtool.analyses.migration.arguments import _Pair, map_arguments
from reviewtool.analyses.migration.model import (
    COVER_PATH,
    STATUS_LEFTOVER,
    STATUS_MIGRATED,
    STATUS_PARTIAL,
    STATUS_UNTOUCHED,
    FileMigration,
    Leftover,
    RevisionMigration,
)
from reviewtool.analyses.migration.sites import _classify_mention, _cover_leftovers
from reviewtool.cparse import ParsedSource
from reviewtool.diff import (
    area_of,
    area_sort_key,
)
from reviewtool.series.model import Revision


def _finish(
    result: RevisionMigration,
    revision: Revision,
    old: str,
    mentions: list[tuple[str, ParsedSource | None, int, str]],
    pairs: list[_Pair],
) -> None:
    if result.definition_removed:
        for path, parsed, line, text in mentions:
            kind = _classify_mention(path, parsed, line, text, old)
            if kind is not None and kind != "definition":
                result.leftovers.append(Leftover(path, line, kind, text.strip()))
        result.leftovers.extend(_cover_leftovers(revision, old))
    leftover_paths = {leftover.path for leftover in result.leftovers}
    for entry in result.files:
        entry.old_removed.sort(key=lambda s: (s.patch or 0, s.line))
        entry.old_remaining.sort(key=lambda s: s.line)
        entry.new_added.sort(key=lambda s: (s.patch or 0, s.line))
        entry.status = _status(entry, entry.path in leftover_paths)
    for leftover in result.leftovers:
        if leftover.path != COVER_PATH and result.file(leftover.path) is None:
            result.files.append(
                FileMigration(
                    leftover.path,
                    area_of(leftover.path),
                    STATUS_LEFTOVER,
                    partial=result.mode != "tree",
                )
            )
    result.files.sort(key=lambda f: (area_sort_key(f.area), f.path))
    result.argument_map = map_arguments(pairs)


def _status(entry: FileMigration, has_leftovers: bool) -> str:
    if entry.old_removed and entry.old_remaining:
        return STATUS_PARTIAL
    if entry.old_removed:
        return STATUS_MIGRATED
    if entry.old_remaining:
        return STATUS_UNTOUCHED
    if has_leftovers:
        return STATUS_LEFTOVER
    return STATUS_MIGRATED


# -- argument mapping ----------------------------------------------------------------------------
