"""The API migration map: call sites of an old and a new API per revision, file and area.

For each revision of a series: which calls of the old API the patches removed, which remain
after the last patch, which calls of the new API they added (function and line each), how the
old positional arguments map onto the new API (from removed/added call pairs in the same
function), and what still names the old API after its definition is gone.

Two ways to see the code. With a repository and a base, the revision is applied in a
private temporary index and whole files before and after are parsed: "remaining" is then every
call in the tree. From the patch alone, only what the hunks show is known: results are marked
partial. A patch that does not apply is noted and the revision falls back to hunk images.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.cparse import Assignment, CallSite, ParsedSource, parse_c
from reviewtool.diff import (
    FunctionImage,
    PatchDiff,
    area_of,
    area_sort_key,
    close_comments,
    function_images,
    parse_patch_diff,
)
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.diff.tree import BaseNotFoundError, PatchApplyError, Worktree
from reviewtool.errors import ReviewtoolError, UsageError
from reviewtool.series.model import Revision
from reviewtool.series.reroll import applied_revision, parent_revision
from reviewtool.textlines import git_lines

# Auto-detection: an old API must lose calls in at least this many files.
MIN_CANDIDATE_FILES = 2
# Flags whose names carry the API's option bits (`FOLL_WRITE`, `FOLL_NOWAIT`).
FLAG_RE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
LITERAL_TRUE = frozenset({"true", "1"})
LITERAL_FALSE = frozenset({"false", "0", "NULL"})
COVER_PATH = "cover letter"

STATUS_MIGRATED = "migrated"
STATUS_PARTIAL = "partial"
STATUS_UNTOUCHED = "untouched"
STATUS_LEFTOVER = "leftover"


@dataclass
class Site:
    """One call site: the function it sits in and its line.

    The line is the real file's: in tree mode the base for a removed call and the end of the
    revision for a remaining or added one; from hunks alone, the pre- or post-image of the
    patch that removed or added it.
    """

    function: str | None
    line: int
    patch: int | None = None
    args: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """`{"function", "line", "patch"}`."""
        return {"function": self.function, "line": self.line, "patch": self.patch}


@dataclass
class FileMigration:
    """One file of one revision: old calls removed and remaining, new calls added."""

    path: str
    area: str
    status: str = STATUS_UNTOUCHED
    old_removed: list[Site] = field(default_factory=list)
    old_remaining: list[Site] = field(default_factory=list)
    new_added: list[Site] = field(default_factory=list)
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    declarations_changed: bool = False

    def to_json(self) -> dict:
        """The issue's file object, plus `partial` and `notes`."""
        return {
            "path": self.path,
            "area": self.area,
            "status": self.status,
            "old_removed": [s.to_json() for s in self.old_removed],
            "old_remaining": [s.to_json() for s in self.old_remaining],
            "new_added": [s.to_json() for s in self.new_added],
            "partial": self.partial,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ArgumentMapping:
    """Where one positional argument of the old API went in the new one, and why we think so."""

    old_arg: str
    new: str
    evidence: str

    def to_json(self) -> dict:
        return {"old_arg": self.old_arg, "new": self.new, "evidence": self.evidence}


@dataclass(frozen=True)
class Leftover:
    """A mention of the old API after its definition was removed: declaration, comment, doc."""

    path: str
    line: int
    kind: str  # declaration, comment, doc, macro, cover, reference
    text: str = ""

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "kind": self.kind}


@dataclass
class RevisionMigration:
    """The map of one revision."""

    version: str
    files: list[FileMigration] = field(default_factory=list)
    argument_map: list[ArgumentMapping] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    mode: str = "hunks"  # "tree" (whole files from the repository) or "hunks" (the patch alone)
    definition_removed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return self.mode != "tree"

    def file(self, path: str) -> FileMigration | None:
        return next((f for f in self.files if f.path == path), None)

    def area_status(self) -> dict[str, str]:
        """Per area: migrated, partial or untouched (leftover counts as migrated here)."""
        by_area: dict[str, list[str]] = {}
        for entry in self.files:
            if entry.old_removed or entry.old_remaining:
                by_area.setdefault(entry.area, []).append(entry.status)
        out = {}
        for area, statuses in by_area.items():
            done = {STATUS_MIGRATED, STATUS_LEFTOVER}
            if all(s in done for s in statuses):
                out[area] = STATUS_MIGRATED
            elif all(s == STATUS_UNTOUCHED for s in statuses):
                out[area] = STATUS_UNTOUCHED
            else:
                out[area] = STATUS_PARTIAL
        return out

    def to_json(self) -> dict:
        """The issue's revision object, plus `mode`, `partial`, `definition_removed`, `notes`."""
        return {
            "version": self.version,
            "files": [f.to_json() for f in self.files],
            "argument_map": [a.to_json() for a in self.argument_map],
            "leftovers": [leftover.to_json() for leftover in self.leftovers],
            "mode": self.mode,
            "partial": self.partial,
            "definition_removed": self.definition_removed,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Candidate:
    """A replaced API found without --old/--new: calls of old vanish where new appear."""

    old: str
    new: str | None
    files: tuple[str, ...]
    functions: int
    definition_removed: bool

    @property
    def score(self) -> tuple[int, int, int]:
        return (self.functions, len(self.files), int(self.definition_removed))

    def to_json(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "files": list(self.files),
            "functions": self.functions,
            "definition_removed": self.definition_removed,
        }


@dataclass
class MigrationMap:
    """Call sites of an old and a new API across the revisions of a series."""

    old: str
    new: str
    revisions: list[RevisionMigration] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def area_table(self) -> dict[str, dict[str, str]]:
        """area -> version -> status, for every area that ever held an old call."""
        table: dict[str, dict[str, str]] = {}
        for revision in self.revisions:
            for area, status in revision.area_status().items():
                table.setdefault(area, {})[revision.version] = status
        return {area: table[area] for area in sorted(table, key=area_sort_key)}

    def to_json(self) -> dict:
        """`{"old", "new", "revisions": [...]}` as the issue gives, plus areas and candidates."""
        return {
            "old": self.old,
            "new": self.new,
            "revisions": [r.to_json() for r in self.revisions],
            "areas": self.area_table(),
            "candidates": [c.to_json() for c in self.candidates],
            "notes": list(self.notes),
        }


# -- reading calls -----------------------------------------------------------------------------


def _is_c(path: str) -> bool:
    return path.endswith(C_SUFFIXES)


def shadows(parsed: ParsedSource, name: str) -> bool:
    """True when the file defines or declares its own static `name`, hiding a generic API.

    x86 has a file-local static `__kvm_faultin_pfn` in mmu.c, and upstream later grew a
    generic API of the same name: inside that file, calls resolve to the static function.
    """
    if any(d.is_static for d in parsed.definitions(name) if d.kind == "function"):
        return True
    return any(d.is_static and d.kind == "prototype" for d in parsed.declarations(name))


def api_calls(parsed: ParsedSource, name: str) -> list[CallSite]:
    """Calls of the API `name` in a parsed file, none when a static of that name shadows it."""
    if shadows(parsed, name):
        return []
    return parsed.calls(name)


def _unmatched(sites: Sequence[CallSite], others: Sequence[CallSite]) -> list[CallSite]:
    """Sites with no counterpart in others in the same function (same arguments first)."""
    left: dict[str | None, list[CallSite]] = {}
    for other in others:
        left.setdefault(other.function, []).append(other)
    out = []
    pending = []
    for site in sites:
        pool = left.get(site.function, [])
        same = next((o for o in pool if o.args == site.args), None)
        if same is not None:
            pool.remove(same)
        else:
            pending.append(site)
    for site in pending:
        pool = left.get(site.function, [])
        if pool:
            pool.pop(0)
        else:
            out.append(site)
    return out


def _unmatched_pairs(
    items: Sequence[tuple[CallSite, ParsedSource]], others: Sequence[tuple[CallSite, ParsedSource]]
) -> list[tuple[CallSite, ParsedSource]]:
    """_unmatched over (call, parse) pairs."""
    parse_of = {id(call): parsed for call, parsed in items}
    kept = _unmatched([call for call, _ in items], [call for call, _ in others])
    return [(call, parse_of[id(call)]) for call in kept]


def _replacement_note(
    function: str | None, before: set[str], after: set[str], old: str, new: str
) -> str | None:
    """`f: old replaced by X, not new` when a function dropped old without calling new."""
    added = sorted(name for name in after - before if name != new and "(" not in name)
    if not added:
        return None
    shown = ", ".join(added[:3])
    return f"{function or '(file scope)'}: {old} replaced by {shown}, not {new}"


def _callees_in(parsed: ParsedSource | None, function: str | None) -> set[str]:
    if parsed is None:
        return set()
    return {c.name for c in parsed.all_calls() if c.function == function}


def _site(call: CallSite, patch: int | None, function: str | None = None) -> Site:
    return Site(function or call.function, call.line, patch, list(call.args))


# -- leftovers ---------------------------------------------------------------------------------


def _classify_mention(
    path: str, parsed: ParsedSource | None, line: int, text: str, name: str
) -> str | None:
    """What kind of mention of name a line is, or None when it is a call (not a leftover)."""
    if not _is_c(path):
        return "doc"
    stripped = text.strip()
    position = text.find(name)
    before = text[:position]
    if stripped.startswith(("*", "/*", "//")) or "/*" in before or "//" in before:
        return "comment"
    if stripped.startswith("#"):
        return "macro"
    if parsed is not None:
        if any(c.line <= line <= c.end_line for c in parsed.calls(name)):
            return None
        if any(d.line <= line <= d.end_line for d in parsed.declarations(name)):
            return "declaration"
        if any(d.start_line == line for d in parsed.definitions(name)):
            return "definition"
    if re.search(rf"\b{re.escape(name)}\s*\(", text) and stripped.endswith((";", ",")):
        return "declaration" if re.match(r"^[A-Za-z_]", text) else None
    return "reference"


def _cover_leftovers(revision: Revision, name: str) -> list[Leftover]:
    if revision.cover is None:
        return []
    out = []
    for number, text in enumerate(git_lines(revision.cover.mail.body), start=1):
        if re.search(rf"\b{re.escape(name)}\b", text):
            out.append(Leftover(COVER_PATH, number, "cover", text.strip()))
    return out


# -- per-revision analysis from whole files ----------------------------------------------------


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
            for region in parsed.unchecked():
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
            try:
                parsed = parse_patch_diff(patch.diff)
            except ReviewtoolError:
                continue
            for file_diff in parsed.files:
                for hunk in file_diff.hunks:
                    if pattern.match(hunk.section) or any(
                        pattern.match(line.text) for line in hunk.lines
                    ):
                        paths.add(file_diff.path)
    return paths


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


@dataclass
class _Pair:
    """A removed old call and the new call that replaced it in the same function."""

    path: str
    function: str | None
    old_call: CallSite
    params: tuple[str, ...]
    new_call: CallSite
    before: list[Assignment]  # assignments in the function up to the new call
    after: list[Assignment]  # assignments after the new call, up to the next one


def _pairs_in(
    path: str,
    removed: Sequence[tuple[CallSite, ParsedSource]],
    added: Sequence[tuple[CallSite, ParsedSource]],
) -> list[_Pair]:
    """Pair the k-th removed old call with the k-th added new call of the same function.

    Each call comes with the parse it was found in: the new call's parse gives the
    assignments around it (the struct it fills and the out-fields read after it).
    """
    by_function: dict[str | None, list[tuple[CallSite, ParsedSource]]] = {}
    for call, parsed in added:
        by_function.setdefault(call.function, []).append((call, parsed))
    grouped: dict[str | None, list[CallSite]] = {}
    for call, _parsed in removed:
        grouped.setdefault(call.function, []).append(call)
    out = []
    for function, old_calls in grouped.items():
        new_calls = sorted(by_function.get(function, []), key=lambda item: item[0].line)
        for position, (old_call, (new_call, after)) in enumerate(
            zip(old_calls, new_calls, strict=False)
        ):
            enclosing = after.enclosing_function(new_call.line)
            start = enclosing.start_line if enclosing else 1
            end = enclosing.end_line if enclosing else None
            following = new_calls[position + 1][0].line if position + 1 < len(new_calls) else end
            assignments = after.assignments(start, end)
            out.append(
                _Pair(
                    path,
                    function,
                    old_call,
                    (),
                    new_call,
                    [a for a in assignments if a.line <= new_call.end_line],
                    [
                        a
                        for a in assignments
                        if a.line > new_call.end_line and (following is None or a.line < following)
                    ],
                )
            )
    return out


def wrapper_pairs(path: str, parsed: ParsedSource, old: str, new: str) -> list[_Pair]:
    """The old API rewritten as a wrapper of the new one: its parameters are the old
    arguments, and its body shows where each goes (`if (async) foll.flags |= FOLL_NOWAIT`)."""
    out = []
    for definition in parsed.definitions(old):
        if definition.kind != "function":
            continue
        stand_in = CallSite(
            old, definition.start_line, 1, old, list(definition.params), definition.node
        )
        calls = [c for c in api_calls(parsed, new) if definition.contains(c.line)]
        for position, call in enumerate(calls):
            following = calls[position + 1].line if position + 1 < len(calls) else None
            last = following - 1 if following else definition.end_line
            out.append(
                _Pair(
                    path,
                    f"{old} (wrapper)",
                    stand_in,
                    definition.params,
                    call,
                    parsed.assignments(definition.start_line, call.end_line),
                    parsed.assignments(call.end_line + 1, last),
                )
            )
    return out


def _struct_var(call: CallSite) -> str | None:
    """`foll` for `__kvm_follow_pfn(&foll)` or `__kvm_follow_pfn(foll)`."""
    for arg in call.args:
        match = re.fullmatch(r"&?\s*([A-Za-z_]\w*)", arg)
        if match:
            return match.group(1)
    return None


def _flags_at(pair: _Pair, var: str | None) -> set[str]:
    """FOLL_* style flags set on the struct when the new call runs."""
    flags: set[str] = set()
    for assignment in pair.before:
        if assignment.field != "flags":
            continue
        if assignment.target not in (None, var) and not _on_var(assignment.left, var):
            continue
        named = set(FLAG_RE.findall(assignment.right))
        if assignment.op == "=":
            flags = named
        elif assignment.op == "|=":
            flags |= named
        elif assignment.op == "&=":
            flags -= named
    return flags


def _on_var(left: str, var: str | None) -> bool:
    return var is not None and re.match(rf"^{re.escape(var)}\s*(?:\.|->)", left) is not None


def _truthy(arg: str) -> bool | None:
    if arg in LITERAL_TRUE:
        return True
    if arg in LITERAL_FALSE:
        return False
    if arg.startswith("&"):
        return True  # an out-pointer that is passed
    return None


def _tokens(name: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", name.lower()) if len(t) > 2} - {"foll", "kvm"}


def _direct(pair: _Pair, position: int, var: str | None) -> list[tuple[str, str, bool]]:
    """Where an argument's value visibly went in this pair: (place, evidence, exact) each."""
    arg = pair.old_call.args[position]
    found: list[tuple[str, str, bool]] = []
    if arg.startswith("&"):
        target = arg[1:].strip()
        for assignment in pair.after:
            source = re.search(r"(?:\.|->)(\w+)\s*$", assignment.right)
            if assignment.left == target and source and _mentions_var(assignment.right, var):
                found.append(
                    (
                        f"field {source.group(1)} (out)",
                        f"`{arg}` -> `{assignment.left} = {assignment.right}`",
                        True,
                    )
                )
        return found
    if _truthy(arg) is not None:
        return found
    pattern = re.compile(rf"(?<![\w>.]){re.escape(arg)}(?![\w])")
    for assignment in pair.after:
        source = re.search(r"(?:\.|->)(\w+)\s*$", assignment.right)
        if assignment.left == f"*{arg}" and source and _mentions_var(assignment.right, var):
            found.append(
                (
                    f"field {source.group(1)} (out)",
                    f"`*{arg} = {assignment.right}`",
                    True,
                )
            )
    for assignment in pair.before:
        if assignment.field is None:
            continue
        if assignment.condition and pattern.search(assignment.condition):
            if assignment.target not in (None, var) and not _on_var(assignment.left, var):
                continue
            exact = assignment.condition.lstrip("!") == arg
            flags = FLAG_RE.findall(assignment.right) if assignment.field == "flags" else []
            place = f"{' | '.join(flags)} in .flags" if flags else f"field {assignment.field}"
            found.append(
                (
                    place,
                    f"`if ({assignment.condition}) {assignment.left} {assignment.op} "
                    f"{assignment.right}`",
                    exact,
                )
            )
            continue
        if not pattern.search(assignment.right):
            continue
        if assignment.target not in (None, var) and not _on_var(assignment.left, var):
            continue
        exact = assignment.right.lstrip("!") == arg
        if assignment.field == "flags":
            flags = _flags_near(assignment.right, arg)
            if flags:
                place = f"{' | '.join(flags)} in .flags"
                found.append((place, f"`.flags = {assignment.right}`", True))
                continue
        found.append(
            (f"field {assignment.field}", f"`.{assignment.field} = {assignment.right}`", exact)
        )
    return found


def _direct_all(pairs: Sequence[_Pair], position: int) -> tuple[str, str] | None:
    """Places an argument went across all pairs; exact matches win over mere mentions."""
    hits: list[tuple[str, str, bool, _Pair]] = []
    for pair in pairs:
        if position < len(pair.old_call.args):
            for place, text, exact in _direct(pair, position, _struct_var(pair.new_call)):
                hits.append((place, text, exact, pair))
    if any(exact for _, _, exact, _ in hits):
        hits = [hit for hit in hits if hit[2]]
    if not hits:
        return None
    places = list(dict.fromkeys(place for place, _, _, _ in hits))
    evidence = []
    for place in places:
        _place, text, _exact, pair = next(hit for hit in hits if hit[0] == place)
        evidence.append(f"{pair.function or '?'} ({pair.path}): {text}")
    return ", ".join(places), "; ".join(evidence)


def _mentions_var(text: str, var: str | None) -> bool:
    return var is None or re.search(rf"\b{re.escape(var)}\s*(?:\.|->)", text) is not None


def _flags_near(expression: str, arg: str) -> list[str]:
    """Flags an argument selects: `write_fault ? FOLL_WRITE : 0` -> [FOLL_WRITE]."""
    pattern = re.escape(arg)
    match = re.search(rf"\b{pattern}\b\s*\?\s*([A-Z][A-Z0-9_]*)", expression)
    if match:
        return [match.group(1)]
    match = re.search(rf"\b{pattern}\b\s*\)?\s*\*?\s*&?&?\s*([A-Z][A-Z0-9_]+)", expression)
    return [match.group(1)] if match else []


def _distinct(pairs: Sequence[_Pair]) -> list[_Pair]:
    """Pairs without repeats: a wrapper is seen again in every patch that touches its file."""
    out: dict[tuple, _Pair] = {}
    for pair in pairs:
        key = (
            pair.path,
            pair.function,
            tuple(pair.old_call.args),
            tuple(pair.new_call.args),
            tuple((a.left, a.op, a.right) for a in pair.before),
            tuple((a.left, a.op, a.right) for a in pair.after),
        )
        out.setdefault(key, pair)
    return list(out.values())


def map_arguments(pairs: Sequence[_Pair]) -> list[ArgumentMapping]:
    """Each old positional argument and where its value went, from removed/added call pairs.

    Direct evidence first: the argument's expression reappears in a field of the new call's
    struct (`.flags = write_fault ? FOLL_WRITE : 0`) or an out-pointer is filled from a
    field after the call (`fault->hva = foll.hva`). Literal arguments are then matched to
    flags by agreement across pairs: `&async` passed exactly where FOLL_NOWAIT is set.
    """
    pairs = _distinct(pairs)
    if not pairs:
        return []
    width = max(len(p.old_call.args) for p in pairs)
    names = next((p.params for p in pairs if len(p.params) == width), ())
    names = tuple(names) + tuple(f"arg{i + 1}" for i in range(len(names), width))
    out: list[ArgumentMapping] = []
    explained: set[str] = set()
    direct: dict[int, tuple[str, str]] = {}
    for position in range(width):
        found = _direct_all(pairs, position)
        if found is not None:
            direct[position] = found
            explained.update(FLAG_RE.findall(found[0]))
    flag_sets = [(pair, _flags_at(pair, _struct_var(pair.new_call))) for pair in pairs]
    for position in range(width):
        name = names[position]
        if position in direct:
            out.append(ArgumentMapping(name, *direct[position]))
            continue
        inferred = _correlate(position, name, flag_sets, explained)
        if inferred is not None:
            explained.add(inferred[0].split()[0])
            out.append(ArgumentMapping(name, *inferred))
            continue
        by_name = _field_by_name(name, position, pairs)
        if by_name is not None:
            out.append(ArgumentMapping(name, *by_name))
            continue
        out.append(ArgumentMapping(name, "unmapped", f"no evidence in {len(pairs)} call pair(s)"))
    return out


def _correlate(
    position: int,
    name: str,
    flag_sets: list[tuple[_Pair, set[str]]],
    explained: set[str],
) -> tuple[str, str] | None:
    """A flag set exactly in the pairs where the literal argument is true or non-NULL."""
    observed = [
        (pair, _truthy(pair.old_call.args[position]), flags)
        for pair, flags in flag_sets
        if position < len(pair.old_call.args) and _truthy(pair.old_call.args[position]) is not None
    ]
    if not observed or not any(value for _, value, _ in observed):
        return None
    every = set().union(*(flags for _, _, flags in observed))
    best = None
    for flag in sorted(every - explained):
        if not all((flag in flags) == value for _, value, flags in observed):
            continue
        varies = len({value for _, value, _ in observed}) > 1
        named = bool(_tokens(name) & _tokens(flag))
        if not (varies or named):
            continue
        score = (varies, named)
        if best is None or score > best[0]:
            best = (score, flag)
    if best is None:
        return None
    flag = best[1]
    agree = len(observed)
    sample = next(pair for pair, value, _ in observed if value)
    return (
        f"{flag} in .flags",
        f"{agree} call pair(s) agree: `{sample.old_call.args[position]}` in "
        f"{sample.function or '?'} ({sample.path}) where {flag} is set",
    )


def _field_by_name(name: str, position: int, pairs: Sequence[_Pair]) -> tuple[str, str] | None:
    """A struct field named like the parameter, set before a new call."""
    for pair in pairs:
        for assignment in pair.before:
            if assignment.field == name:
                arg = pair.old_call.args[position] if position < len(pair.old_call.args) else "?"
                return (
                    f"field {name}",
                    f"{pair.function or '?'} ({pair.path}): `{arg}` -> "
                    f"`.{name} = {assignment.right}` (same name)",
                )
    return None


# -- candidates ----------------------------------------------------------------------------------


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
            out.append((patch.index, parse_patch_diff(patch.diff), patch.diff))
    return out


def map_revision(
    revision: Revision,
    old: str,
    new: str,
    repo: str | Path | None = None,
    base: str | None = None,
    shadowed: dict[str, set[str]] | None = None,
    known_params: tuple[str, ...] = (),
) -> RevisionMigration:
    """The migration map of one revision: from whole files when a tree is at hand, else hunks.

    shadowed maps an API name to the paths known to define a static function of that name
    (see static_definitions); the hunks of this revision are searched when it is not given.
    known_params names the old API's parameters when this revision's hunks do not show its
    prototype (see old_prototype).
    """
    diffs = _diffs(revision)
    notes = []
    rev = base or revision.base_commit
    if repo is not None and rev:
        try:
            states = _tree_states(repo, rev, diffs, (old, new))
            return _map_from_tree(revision, old, new, states, known_params)
        except PatchApplyError as exc:
            notes.append(f"{revision.label}: {exc}; falling back to the hunks")
        except BaseNotFoundError as exc:
            notes.append(f"{revision.label}: {exc}; falling back to the hunks")
    elif repo is not None:
        notes.append(
            f"{revision.label}: no base-commit in the mail and no --base; using the hunks only"
        )
    result = _map_from_hunks(revision, old, new, diffs, shadowed, known_params)
    result.notes[:0] = notes
    return result


def effective_revision(
    revision: Revision, revisions: Sequence[Revision]
) -> tuple[Revision, str | None]:
    """A point revision (v7.1) stands for its version with some patches rerolled.

    It carries only the rerolled patches; mapped alone it would show one file of the series.
    The patches it does not replace come from the full revision of the same version.
    """
    if revision.point is None:
        return revision, None
    full = parent_revision(revisions, revision)
    if full is None:
        return revision, None
    rerolled = {patch.index for patch in revision.patches}
    kept = sorted(p.index for p in full.patches if p.index not in rerolled)
    note = (
        f"{revision.label} rerolls patch(es) {', '.join(map(str, sorted(rerolled)))} of "
        f"{full.label}: mapped with {full.label}'s other patches ({', '.join(map(str, kept))})"
    )
    stand_in = applied_revision(full, revision)
    return stand_in, note


def build_map(
    revisions: Sequence[Revision],
    old: str | None = None,
    new: str | None = None,
    repo: str | Path | None = None,
    base: str | None = None,
) -> MigrationMap:
    """The map across revisions; without old/new, the best detected candidate is used."""
    if (old is None) != (new is None):
        raise UsageError("give both --old and --new, or neither to detect them")
    candidates: list[Candidate] = []
    if old is None or new is None:
        candidates = detect_candidates(revisions)
        usable = [c for c in candidates if c.new is not None]
        if not usable:
            raise UsageError("no replaced API found in the patches; name it with --old and --new")
        old, new = usable[0].old, usable[0].new
    assert old is not None and new is not None
    result = MigrationMap(old, new, candidates=candidates)
    shadowed = {name: static_definitions(revisions, name) for name in (old, new)}
    params = old_prototype(revisions, old)
    for revision in revisions:
        effective, note = effective_revision(revision, revisions)
        mapped = map_revision(effective, old, new, repo, base, shadowed, params)
        if note:
            mapped.notes.insert(0, note)
        result.revisions.append(mapped)
    return result
