"""Entry points of the FOLL_GET checker: a C source, a revision of a series, two versions."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.analyses.findings import (
    NOT_CHECKED_BOUND,
    NOT_CHECKED_ERROR,
    NOT_CHECKED_UNPARSED,
    Finding,
    NotChecked,
    TraceStep,
)
from reviewtool.analyses.spec.fields import released_in
from reviewtool.analyses.spec.model import (
    Spec,
    SpecSet,
    default_specs,
    detect_generation,
    generation_of,
    tree_file,
)
from reviewtool.analyses.spec.rules import severity_of
from reviewtool.analyses.spec.selection import select_functions
from reviewtool.analyses.spec.summaries import (
    Summaries,
    seeded_params,
    walk_seeded,
    with_summaries,
)
from reviewtool.analyses.spec.summary_cache import digest_of
from reviewtool.analyses.spec.walker import RawFinding, Walker
from reviewtool.cparse import parse_c


@dataclass
class CheckResult:
    """Findings of one check, and notes on what could not be fully checked."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generation: str = ""
    # Functions walked on every path; and those not (or not fully) checked, with the reason.
    checked: list[str] = field(default_factory=list)
    not_checked: list[NotChecked] = field(default_factory=list)


# Results of check_source() with the default specs, by what it was given: the same function
# text comes back in every version that leaves it alone, and in the next patch's "before".
MAX_CACHED_CHECKS = 512
_CHECKS: OrderedDict[str, CheckResult] = OrderedDict()
_LINE_RE = re.compile(r"line (\d+)")


def spec_for(text: str, spec: Spec | SpecSet | None) -> Spec:
    """The spec generation a C text uses (the default spec set when none is given)."""
    return generation_of(text, spec)


_default_specs = default_specs
_spec_for = spec_for


def _merge_configs(raw: list[RawFinding]) -> list[RawFinding]:
    """One finding per rule and line: a rule broken in every configuration has no config."""
    by_place: dict[tuple, list[RawFinding]] = {}
    for item in raw:
        by_place.setdefault((item.rule, item.function, item.line), []).append(item)
    merged = []
    for items in by_place.values():
        configs = {item.config for item in items}
        first = min(items, key=lambda item: len(item.trace))
        decisions = {item.get_passed for item in items}
        if "" in configs or {True, False} <= decisions:
            # Broken whether the flag was passed or not: the configuration does not matter.
            first = RawFinding(
                first.rule, first.function, first.line, first.message, "", first.trace
            )
        elif len(configs) > 1:
            # Broken in several named configurations: say all of them.
            first = replace(first, config="; or ".join(sorted(configs)))
        merged.append(first)
    return merged


def _where(line: int, chunks: list[tuple[str, int]]) -> tuple[str, int]:
    """The file and line of a line of the checked text followed by its context texts."""
    for other, offset in reversed(chunks):
        if line > offset:
            return other, line - offset
    return chunks[0][0], line


def _relocate(item: RawFinding, chunks: list[tuple[str, int]]) -> RawFinding:
    """Steps and messages that point into context text name that file (their line becomes 0)."""
    if len(chunks) == 1:
        return item

    def name(match: re.Match[str]) -> str:
        other, local = _where(int(match.group(1)), chunks)
        return f"line {local}" if other == chunks[0][0] else f"{other}:{local}"

    trace = []
    for line, event in item.trace:
        other, local = _where(line, chunks)
        event = _LINE_RE.sub(name, event)
        trace.append((line, event) if other == chunks[0][0] else (0, f"{other}:{local}: {event}"))
    message = _LINE_RE.sub(name, item.message)
    return replace(item, trace=tuple(trace), message=message)


def _finding(path: str, item: RawFinding, partial: bool) -> Finding:
    return Finding(
        rule=item.rule,
        severity=severity_of(item.rule),
        file=path,
        line=item.line,
        function=item.function,
        message=item.message,
        config=item.config,
        trace=[TraceStep(line, event) for line, event in item.trace],
        partial=partial,
    )


def _hosted(result: CheckResult, hosts: set[str], asked: set[str]) -> None:
    """Speak of the `asked` functions, not of the `hosts` walked to check them: a host not
    walked whole leaves them not checked whole, for the host's reason."""
    result.checked = [name for name in result.checked if name not in hosts]
    kept = []
    for item in result.not_checked:
        if item.function not in hosts:
            kept.append(item)
            continue
        for name in sorted(asked):
            detail = f"{item.detail} (walked inside its caller {item.function})"
            kept.append(NotChecked(item.file, name, item.reason, detail))
            if name in result.checked:
                result.checked.remove(name)
    result.not_checked = kept
    result.notes = [note for note in result.notes if not any(f": {h}: " in note for h in hosts)]


def _copy(result: CheckResult) -> CheckResult:
    """A copy callers may change (they set each finding's version and status)."""
    return CheckResult(
        findings=[replace(f, trace=list(f.trace)) for f in result.findings],
        notes=list(result.notes),
        generation=result.generation,
        checked=list(result.checked),
        not_checked=[replace(item) for item in result.not_checked],
    )


def _cache_key(path, text, functions, partial, context, summaries=None, whole_texts=None) -> str:
    digest = hashlib.blake2b(digest_size=20)
    parts = [path, text, "\0".join(sorted(functions)) if functions is not None else "\1"]
    parts.append("partial" if partial else "whole")
    parts.append(digest_of(summaries))
    parts += ["\2", *whole_texts] if whole_texts is not None else ["\3"]
    for name, other in (context or {}).items():
        parts += [name, other]
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def check_tree_file(
    root: str | Path,
    relpath: str,
    spec: Spec | SpecSet | None = None,
    summaries: Summaries | None = None,
) -> CheckResult:
    """Check every function of one file of a source tree, read with its companions;
    `summaries`: rows derived from the tree's other files (summaries.summarise_tree)."""
    text, context = tree_file(root, relpath)
    return check_source(
        relpath,
        text,
        None,
        spec,
        context=context,
        summaries=summaries,
        whole_texts=(text, *context.values()),
    )


def check_functions(
    path: str,
    text: str,
    lines: Iterable[int] = (),
    names: Iterable[str] = (),
    spec: Spec | SpecSet | None = None,
    context: dict[str, str] | None = None,
) -> tuple[frozenset[str], CheckResult]:
    """Check the functions of `text` that enclose `lines` or are called `names`, read with
    the `context` texts of its companions (files that compile it as part of themselves);
    return their names and the result. Bodies they cannot reach are blanked out first
    (`selection.select_functions`); the generation is read from the whole texts."""
    chosen = select_functions(text, lines, names, context)
    if not chosen.functions:
        return chosen.functions, CheckResult()
    if not isinstance(spec, Spec):
        whole = "\n".join([text, *(context or {}).values()])
        spec = detect_generation(spec or _default_specs(), whole)
    result = check_source(
        path,
        chosen.text,
        set(chosen.functions),
        spec,
        context=chosen.context,
        whole_texts=(text, *(context or {}).values()),
    )
    return chosen.functions, result


def check_source(
    path: str,
    text: str,
    functions: set[str] | None = None,
    spec: Spec | SpecSet | None = None,
    partial: bool = False,
    context: dict[str, str] | None = None,
    summaries: Summaries | None = None,
    whole_texts: tuple[str, ...] | None = None,
) -> CheckResult:
    """Check every function of a C text (or only `functions`).

    `partial` marks text that shows only part of a function (findings say so, leaks are not
    judged); `context` holds more C text whose functions may be called (a file that includes
    this one, other hunks of the same patch) but are not checked themselves; `summaries`
    holds rows derived from functions of other files (summaries.py), used where no
    hand-written row and no function of the text has the name. `whole_texts`: the whole
    files `text` and `context` are (or were cut from, bodies blanked): a page parked in a
    struct field none of their functions releases from is then a leak (fields.py); without
    them every field a page is stored in counts as handing it on.
    """
    args = (path, text, functions, spec, partial, context, summaries, whole_texts)
    if spec is not None:  # a caller's own spec may change between calls: never cached
        return _check_source(*args)
    key = _cache_key(path, text, functions, partial, context, summaries, whole_texts)
    found = _CHECKS.get(key)
    if found is None:
        found = _check_source(*args)
        _CHECKS[key] = found
        if len(_CHECKS) > MAX_CACHED_CHECKS:
            _CHECKS.popitem(last=False)
    else:
        _CHECKS.move_to_end(key)
    return _copy(found)


def _check_source(
    path: str,
    text: str,
    functions: set[str] | None,
    spec: Spec | SpecSet | None,
    partial: bool,
    context: dict[str, str] | None,
    summaries: Summaries | None = None,
    whole_texts: tuple[str, ...] | None = None,
) -> CheckResult:
    own_lines = text.count("\n") + 1
    chunks = [(path, 0)]
    offset = own_lines
    for other, other_text in (context or {}).items():
        chunks.append((other, offset))
        offset += other_text.count("\n") + 1
    full = "\n".join([text, *(context or {}).values()])
    generation = spec_for(full, spec)
    parsed = parse_c(full)
    if summaries:
        defined = {f.name for f in parsed.functions() if f.kind == "function"}
        generation = with_summaries(generation, summaries, defined)
    walker = Walker(parsed, generation, path, functions)
    if whole_texts is not None:
        walker.released_fields = released_in(whole_texts, generation)
    walker.last_line = own_lines
    # Where a hunk's text ends is not where the function returns: only explicit returns count.
    walker.judge_fallthrough = not partial
    result = CheckResult(generation=generation.name)
    own = [
        fdef
        for fdef in parsed.functions()
        if fdef.kind == "function" and not fdef.recovered and fdef.start_line <= own_lines
    ]
    # A static helper only ever called directly is checked inside its callers (with the
    # lock they hold and the page they pass), and reported in its own name once. Asked for
    # some functions only, their callers in the file are walked too (the walker reports only
    # `functions`): alone, a function starts with nothing known and raises what its callers
    # rule out (the lock they all hold, the page they pass).
    inner = walker.inner_functions({fdef.name: fdef.is_static for fdef in own}, text)
    walked: set[str] | None = None
    hosts: set[str] = set()
    if functions is not None:
        hosts = walker.graph.callers_of(set(functions))
        walked = set(functions) | hosts
    by_name: dict[str, list] = {}
    for fdef in own:
        by_name.setdefault(fdef.name, []).append(fdef)
    own = [fdef for name in walker.graph.callers_first(list(by_name)) for fdef in by_name[name]]
    handed: dict[str, list[int]] | None = None
    for fdef in own:
        if walked is not None and fdef.name not in walked:
            continue
        if fdef.name not in inner and not walker.reaches_page(fdef.name):
            if handed is None:
                handed = seeded_params(walker)
            if fdef.name in handed:
                # No page comes in but through its parameters: walked with a held page in
                # each one a release or mark takes (what its callers in other files hand
                # it), so that a mistake inside it is reported here, once.
                walk_seeded(walker, fdef, handed[fdef.name])
                if walker.exhausted:
                    result.not_checked.append(
                        NotChecked(
                            path,
                            fdef.name,
                            NOT_CHECKED_BOUND,
                            "work bound reached; findings cover the paths walked",
                        )
                    )
                    continue
            result.checked.append(fdef.name)
            continue
        if fdef.name in inner:
            # Checked without a walk of its own: no page can come into its reach, or its
            # callers walk it in the states they call it in.
            result.checked.append(fdef.name)
            continue
        try:
            explored = walker.check_function(fdef)
        except (RecursionError, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            # One function the walker cannot follow must not stop the others being checked.
            result.notes.append(f"{path}: {fdef.name}: not checked ({type(exc).__name__}: {exc})")
            result.not_checked.append(
                NotChecked(path, fdef.name, NOT_CHECKED_ERROR, f"{type(exc).__name__}: {exc}")
            )
            continue
        if not explored:
            # The work bound, or the loop bound (a loop not at a fixpoint within it).
            reason = walker.bound_reason
            result.notes.append(
                f"{path}: {fdef.name}: not fully explored ({reason}); "
                "findings cover the paths walked"
            )
            result.not_checked.append(
                NotChecked(
                    path, fdef.name, NOT_CHECKED_BOUND, f"{reason}; findings cover the paths walked"
                )
            )
        else:
            result.checked.append(fdef.name)
    for function, callee, source in sorted(walker.unjudged):
        if functions is None or function in functions:
            result.notes.append(
                f"{path}: {function}: what happens to a page after {callee}() is not judged: "
                f"it releases it on some paths only ({source or 'spec row'})"
            )
    if hosts:
        _hosted(result, hosts, set(functions or ()))
    for region in parsed.unchecked():
        if region.start_line > own_lines:
            continue
        if functions is None or region.function in functions:
            result.notes.append(f"{path}: {region.describe()}")
            if region.function:
                # A path through lines the parser dropped was not walked.
                result.not_checked.append(
                    NotChecked(path, region.function, NOT_CHECKED_UNPARSED, region.describe())
                )
                if region.function in result.checked:
                    result.checked.remove(region.function)
    raw = _merge_configs(list(walker.findings.values()))
    raw = [_relocate(item, chunks) for item in raw]
    result.findings = sorted(
        (_finding(path, item, partial) for item in raw),
        key=lambda f: (f.file, f.line, f.rule, f.config),
    )
    return result
