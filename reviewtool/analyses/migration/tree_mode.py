"""Tree mode: whole files before and after each patch, from a private index of the repository."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from reviewtool.analyses.migration.arguments import _Pair, _pairs_in, wrapper_pairs
from reviewtool.analyses.migration.declarations import _declarations_changed, _defines
from reviewtool.analyses.migration.finish import _finish
from reviewtool.analyses.migration.model import FileMigration, RevisionMigration
from reviewtool.analyses.migration.sites import (
    _callees_in,
    _is_c,
    _replacement_note,
    _site,
    _unmatched,
    api_calls,
    shadows,
)
from reviewtool.cparse import ParsedSource, parse_c
from reviewtool.diff import (
    PatchDiff,
    area_of,
)
from reviewtool.diff.tree import Worktree
from reviewtool.series.model import Revision
from reviewtool.textlines import git_lines


@dataclass
class _FileStates:
    base: str | None
    final: str | None
    per_patch: list[tuple[int, str | None, str | None]] = field(default_factory=list)


def _tree_states(
    repo: str | Path, base: str, diffs: list[tuple[int, PatchDiff, str]], names: Iterable[str]
) -> dict[str, _FileStates]:
    """Whole files at base, before/after each patch and at the end, from a private index."""
    states: dict[str, _FileStates] = {}
    with Worktree(repo, base) as tree:
        for name in names:
            for path, _line, _text in tree.grep(name):
                if path not in states:
                    states[path] = _FileStates(tree.read(path), None)
        for index, patch, text in diffs:
            touched = []
            for file_diff in patch.files:
                before = tree.read(file_diff.old_path) if file_diff.old_path else None
                if file_diff.path not in states:
                    states[file_diff.path] = _FileStates(before, None)
                touched.append((file_diff, before))
            tree.apply(text, index)
            for file_diff, before in touched:
                after = tree.read(file_diff.new_path) if file_diff.new_path else None
                states[file_diff.path].per_patch.append((index, before, after))
        for name in names:
            for path, _line, _text in tree.grep(name):
                states.setdefault(path, _FileStates(None, None))
        for path, state in states.items():
            state.final = tree.read(path)
    return states


def _first_patch(state: _FileStates, name: str, function: str | None, grow: bool) -> int | None:
    """The first patch that lowers (or raises) the count of name's calls in function."""
    for index, before, after in state.per_patch:
        count_before = _count(before, name, function)
        count_after = _count(after, name, function)
        if (count_after > count_before) if grow else (count_after < count_before):
            return index
    return None


def _count(text: str | None, name: str, function: str | None) -> int:
    if text is None:
        return 0
    return sum(1 for c in api_calls(parse_c(text), name) if c.function == function)


def _map_from_tree(
    revision: Revision,
    old: str,
    new: str,
    states: dict[str, _FileStates],
    known_params: tuple[str, ...] = (),
) -> RevisionMigration:
    result = RevisionMigration(revision.label, mode="tree")
    base_defined = final_defined = False
    mentions: list[tuple[str, ParsedSource | None, int, str]] = []
    pairs: list[_Pair] = []
    for path, state in states.items():
        if not _is_c(path):
            if state.final is not None:
                for number, text in enumerate(git_lines(state.final), start=1):
                    if re.search(rf"\b{re.escape(old)}\b", text):
                        mentions.append((path, None, number, text))
            continue
        base = parse_c(state.base) if state.base is not None else None
        final = parse_c(state.final) if state.final is not None else None
        entry = FileMigration(path, area_of(path))
        for parsed, label in ((base, "before"), (final, "after")):
            if parsed is None:
                continue
            for name in (old, new):
                if shadows(parsed, name) and parsed.calls(name):
                    entry.notes.append(
                        f"{path} {label} the revision defines its own static {name}: its "
                        f"{len(parsed.calls(name))} call(s) are not the generic API"
                    )
            for region in parsed.errors:
                entry.notes.append(f"{path} ({label}): {region.describe()}")
        base_defined |= bool(base and _defines(base, old))
        final_defined |= bool(final and _defines(final, old))
        base_old = api_calls(base, old) if base else []
        final_old = api_calls(final, old) if final else []
        base_new = api_calls(base, new) if base else []
        final_new = api_calls(final, new) if final else []
        for call in _unmatched(base_old, final_old):
            entry.old_removed.append(_site(call, _first_patch(state, old, call.function, False)))
        entry.old_remaining = [_site(call, None) for call in final_old]
        added = _unmatched(final_new, base_new)
        for function in {c.function for c in _unmatched(base_old, final_old)}:
            if not any(c.function == function for c in added):
                note = _replacement_note(
                    function, _callees_in(base, function), _callees_in(final, function), old, new
                )
                if note:
                    entry.notes.append(note)
        for call in added:
            entry.new_added.append(_site(call, _first_patch(state, new, call.function, True)))
        entry.declarations_changed = _declarations_changed(base, final, old, new)
        if final is not None:
            for number, text in enumerate(git_lines(state.final), start=1):  # type: ignore[union-attr]
                if re.search(rf"\b{re.escape(old)}\b", text):
                    mentions.append((path, final, number, text))
        if base is not None and final is not None:
            gone = _unmatched(base_old, final_old)
            pairs.extend(_pairs_in(path, [(c, base) for c in gone], [(c, final) for c in added]))
        for _index, _before, after_text in state.per_patch:
            if after_text is not None and old in after_text and new in after_text:
                pairs.extend(wrapper_pairs(path, parse_c(after_text), old, new))
        if (
            entry.old_removed
            or entry.old_remaining
            or entry.new_added
            or (entry.declarations_changed)
        ):
            result.files.append(entry)
    result.definition_removed = base_defined and not final_defined
    params = next(
        (
            found
            for state in states.values()
            if state.base is not None and old in state.base
            for found in [parse_c(state.base).prototype(old)]
            if found
        ),
        (),
    )
    for pair in pairs:
        pair.params = pair.params or params or known_params
    _finish(result, revision, old, mentions, pairs)
    return result
