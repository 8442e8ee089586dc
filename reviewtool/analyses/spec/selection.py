"""Which functions of a C file some lines belong to, and the text the checker needs for them.

Checking a few functions of a 5,000-line file does not need the other bodies: the checker
gets the file with every body it cannot reach blanked out, line for line (so every line
number stays right). Kept: the chosen functions, the functions of the file that call them,
transitively (the checker walks a function inside its callers), the functions all these
mention by name, transitively, in the file and in its companions (the checker summarises
callees), and everything outside function bodies (types, macros, declarations). Where the
line scan cannot
read the layout, or the parser names a function differently from the scan, the whole text is
used instead: blanking only ever saves time, never changes a finding.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reviewtool.cparse import ParsedSource
    from reviewtool.cparse.scan import Span


@dataclass(frozen=True)
class Selection:
    """The text handed to the checker, the functions in it to check, and its context texts."""

    text: str
    functions: frozenset[str]
    reduced: bool
    context: dict[str, str] = field(default_factory=dict, compare=False)


def select_functions(
    text: str,
    lines: Iterable[int] = (),
    names: Iterable[str] = (),
    context: dict[str, str] | None = None,
    reduce: bool = True,
) -> Selection:
    """The functions of `text` enclosing `lines` plus those called `names`, with the text (and
    the `context` texts: files that compile this one) reduced to what checking them reads."""
    lines, names = frozenset(lines), frozenset(names)
    context = dict(context or {})
    chosen = _reduced(text, lines, names, context) if reduce else None
    return chosen or _whole(text, lines, names, context)


def function_spans(text: str) -> tuple[Span, ...] | None:
    """The kernel-style function definitions of `text` (`cparse.scan.scan_functions`), or
    None when the line scan cannot read its layout; remembered by text."""
    return _spans(text)


def functions_at(text: str, lines: Iterable[int]) -> frozenset[str]:
    """The names of the functions of `text` that enclose any of `lines`."""
    return select_functions(text, lines).functions


# The last texts scanned, with their spans: the next version of a file is scanned from them.
_RECENT: list[tuple[str, list[Span]]] = []
_RECENT_KEPT = 3


@lru_cache(maxsize=32)
def _spans(text: str) -> tuple[Span, ...] | None:
    # Cached by text: a commit's version of a file is the next commit's parent version.
    from reviewtool.cparse.rescan import scan_after

    spans = scan_after(text, _RECENT)
    if spans is None:
        return None
    _RECENT.append((text, spans))
    del _RECENT[:-_RECENT_KEPT]
    return tuple(spans)


def _reduced(
    text: str, lines: frozenset[int], names: frozenset[str], context: dict[str, str]
) -> Selection | None:
    """The selection with unneeded bodies blanked, or None when that is not safe."""
    from reviewtool.cparse import parse_c
    from reviewtool.cparse.scan import reduce_text, with_callers

    spans = _spans(text)
    if spans is None:
        return None
    seeds = {span for span in spans if span.name in names} | _spans_at(spans, lines)
    context_spans = {name: _spans(other) for name, other in context.items()}
    # Their callers too: the checker walks a function inside them (the lock they hold).
    callers = with_callers(text, list(spans), seeds)
    keep = _with_callees(text, spans, callers, context, context_spans)
    reduced = reduce_text(text, list(spans), keep[""], max(lines, default=0))
    parsed = parse_c(reduced)
    named = {function.name for function in parsed.functions() if function.name in names}
    if any(name in text for name in names - named):
        return None  # a wanted function the scan named differently (FNAME(...) and such)
    found = _enclosing(parsed, lines) | named
    for seed in seeds:
        function = parsed.enclosing_function(seed.end)
        if function is not None:
            found.add(function.name)
    # A function the scan did not see has callees it could not follow: use the whole file.
    for function in parsed.functions():
        if function.name in found and not any(
            span.start <= function.start_line and function.end_line <= span.end for span in keep[""]
        ):
            return None
    reduced_context = {}
    for name, other in context.items():
        found_spans = context_spans[name]
        if found_spans is None:
            reduced_context[name] = other  # a layout the scan cannot read: keep it whole
        else:
            # Not cut after its last kept body: the checked file sits inside its companion.
            reduced_context[name] = reduce_text(
                other, list(found_spans), keep[name], _line_count(other)
            )
    return Selection(reduced, frozenset(found), True, reduced_context)


def _line_count(text: str) -> int:
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _with_callees(
    text: str,
    spans: tuple[Span, ...],
    seeds: set[Span],
    context: dict[str, str],
    context_spans: dict[str, tuple[Span, ...] | None],
) -> dict[str, set[Span]]:
    """The spans to keep, per text ("" for `text` itself): `seeds` and every function they
    mention by name, transitively, in `text` and in the context texts. One call of the scan's
    `with_callees` over the texts joined as the checker joins them, spans moved to match."""
    from reviewtool.cparse.scan import Span, with_callees

    if not context:  # the text alone: no spans to move (most C files have no companion)
        return {"": with_callees(text, list(spans), seeds)}
    joined, pool, offset = [text], {span: ("", span) for span in spans}, text.count("\n") + 1
    for name, other in context.items():
        joined.append(other)
        for span in context_spans[name] or ():
            moved = Span(span.name, span.start + offset, span.end + offset)
            pool[moved] = (name, span)
        offset += other.count("\n") + 1
    kept = with_callees("\n".join(joined), list(pool), seeds)
    out: dict[str, set[Span]] = {"": set(), **{name: set() for name in context}}
    for span in kept:
        where, original = pool[span]
        out[where].add(original)
    return out


def _whole(
    text: str, lines: frozenset[int], names: frozenset[str], context: dict[str, str]
) -> Selection:
    from reviewtool.cparse import parse_c

    parsed = parse_c(text)
    found = _enclosing(parsed, lines) | {
        function.name for function in parsed.functions() if function.name in names
    }
    return Selection(text, frozenset(found), False, context)


def _enclosing(parsed: ParsedSource, lines: Iterable[int]) -> set[str]:
    names = set()
    for line in sorted(lines):
        function = parsed.enclosing_function(line)
        if function is not None:
            names.add(function.name)
    return names


def _spans_at(spans: tuple[Span, ...], lines: Iterable[int]) -> set[Span]:
    starts = [span.start for span in spans]
    hit = set()
    for line in lines:
        index = bisect.bisect_right(starts, line) - 1
        if index >= 0 and spans[index].contains(line):
            hit.add(spans[index])
    return hit
