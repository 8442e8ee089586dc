"""Call sites of an API in parsed C, and what still names it (leftovers)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from reviewtool.analyses.migration.model import COVER_PATH, Leftover, Site
from reviewtool.cparse import CallSite, ParsedSource
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.series.model import Revision
from reviewtool.textlines import git_lines


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
