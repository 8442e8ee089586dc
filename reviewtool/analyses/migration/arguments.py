"""How the old API's positional arguments map onto the new one, from call pairs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewtool.analyses.migration.model import (
    FLAG_RE,
    LITERAL_FALSE,
    LITERAL_TRUE,
    ArgumentMapping,
)
from reviewtool.analyses.migration.sites import api_calls
from reviewtool.cparse import Assignment, CallSite, ParsedSource


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
