"""A line scan for kernel-style function bodies, to hand the checker only what it needs.

A push of 10 commits over three 5,000-line files would mean thirty full parses; the hook must
answer in well under a second. Kernel style opens and closes a function body with a brace
alone at column 0, so a line scan finds every body without parsing. The checker then gets
the file with the bodies it does not need blanked out (line for line, so every line number
stays right): the changed functions, the same-file functions they mention (the checker
summarises same-file callees), and everything outside function bodies (types, macros,
declarations). When the scan does not recognise the layout it answers None and the caller
falls back to the whole file.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

# A brace alone on its line at column 0: where kernel style opens and closes a function body.
# Matched from the newline before it (the text is searched with one put in front): a pattern
# that starts with a literal is searched for at C speed, where `^` under MULTILINE is tried at
# every character (a sixth of the time on a 5,000-line file).
_BRACE_LINE = re.compile(r"\n([{}])[ \t]*\r?(?=\n|\Z)")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_IDENT_START = re.compile(r"[A-Za-z_]")
_WORD = re.compile(r"\w")
_CALLISH = re.compile(r"([A-Za-z_]\w*)\s*\(")
_MACRO_NAME = re.compile(r"\(\s*([A-Za-z_]\w*)\s*\)\s*\(")
# Names that take parentheses in a function header but are not the function.
_HEADER_MACROS = frozenset(
    {
        "__attribute__",
        "__printf",
        "__scanf",
        "__must_hold",
        "__acquires",
        "__releases",
        "__cond_acquires",
        "__aligned",
        "__section",
        "__alias",
        "__diag_ignore",
        "__no_sanitize_address",
        "__malloc",
        "__weak",
    }
)


@dataclass(frozen=True)
class Span:
    """A function definition: 1-based first header line and closing-brace line."""

    name: str
    start: int
    end: int

    def contains(self, line: int) -> bool:
        """True when `line` lies in the header or the body."""
        return self.start <= line <= self.end


def scan_functions(text: str) -> list[Span] | None:
    """Every kernel-style function definition in `text`, or None when the layout is not one."""
    return scan_lines(text, 0, None)


def scan_lines(text: str, low: int, high: int | None) -> list[Span] | None:
    """The definitions in 0-based lines [low, high) of `text` (to its end for None), read
    with no body open at `low`; None when the layout is not one (a body still open at the
    end counts: those lines cannot be read alone)."""
    lines = _lines(text)
    spans: list[Span] = []
    open_at: int | None = None
    line, offset = low, 0
    # Newline k of `searched` starts line low + k of the text.
    searched = "\n" + (text if low == 0 and high is None else "\n".join(lines[low:high]))
    for match in _BRACE_LINE.finditer(searched):
        line += searched.count("\n", offset, match.start())
        offset = match.start()
        if match[1] == "{":
            if open_at is not None:
                return None  # two bodies open at once: braces split by #ifdef, or not kernel style
            open_at = line
        elif open_at is not None:
            span = _span(lines, open_at, line)
            if span is None:
                return None
            spans.append(span)
            open_at = None
    return None if open_at is not None else spans


def reduce_text(text: str, spans: list[Span], keep: set[Span], last_line: int = 0) -> str:
    """`text` with every span not in `keep` turned into empty lines, ending after the last kept
    span (or `last_line`, if later): every kept line stays at its number.

    What follows the last kept function cannot affect it (C declares before use), and
    dropping it saves the parser half the file on average.
    """
    lines = list(_lines(text))  # a copy: the bodies not kept are blanked in it
    end = max([last_line, *(span.end for span in keep)])
    if end:
        lines = lines[:end]
    for span in spans:
        if span.start > len(lines):
            break
        if span not in keep:
            for index in range(span.start - 1, min(span.end, len(lines))):
                lines[index] = ""
    return "\n".join(lines) + "\n"


def with_callees(text: str, spans: list[Span], seeds: set[Span]) -> set[Span]:
    """`seeds` and every span they mention by name, transitively."""
    lines = _lines(text)
    by_name: dict[str, list[Span]] = {}
    for span in spans:
        # `FNAME(fetch)` is called as `FNAME(fetch)(...)`: index it under both identifiers.
        for name in set(_IDENT.findall(span.name)):
            by_name.setdefault(name, []).append(span)
    keep = set(seeds)
    todo = list(seeds)
    while todo:
        span = todo.pop()
        body = "\n".join(lines[span.start - 1 : span.end])
        for name in set(_IDENT.findall(body)):
            for callee in by_name.get(name, ()):
                if callee not in keep:
                    keep.add(callee)
                    todo.append(callee)
    return keep


def with_callers(text: str, spans: list[Span], seeds: set[Span]) -> set[Span]:
    """`seeds` and every span that mentions one of them by name, transitively."""
    # Searched name by name in the whole text (a literal search at C speed) rather than by
    # splitting every body into identifiers: only the callers' names are ever asked for.
    ordered = list(spans)
    if any(a.start > b.start for a, b in zip(ordered, ordered[1:], strict=False)):
        ordered.sort(key=lambda span: (span.start, span.end))
    starts = [span.start for span in ordered]
    # The scan's spans never overlap; any others are looked up one by one.
    disjoint = all(a.end < b.start for a, b in zip(ordered, ordered[1:], strict=False))
    keep = set(seeds)
    todo = list(seeds)
    asked: set[str] = set()
    while todo:
        # `FNAME(fetch)` is called as `FNAME(fetch)(...)`: its own identifier is the last one.
        name = _IDENT.findall(todo.pop().name)[-1:]
        if not name or name[0] in asked:
            continue
        asked.add(name[0])
        for offset in _mentions(text, name[0]):
            line = text.count("\n", 0, offset) + 1  # C speed; a name has few mentions
            if disjoint:
                index = bisect.bisect_right(starts, line) - 1
                holding = [ordered[index]] if index >= 0 else []
            else:
                holding = ordered
            for span in holding:
                if span.contains(line) and span not in keep:
                    keep.add(span)
                    todo.append(span)
    return keep


def _mentions(text: str, name: str) -> list[int]:
    """Offsets in `text` where `name` is a whole identifier, as `_IDENT.findall` cuts them."""
    found = []
    for match in re.finditer(re.escape(name) + r"(?!\w)", text):
        start = match.start()
        # findall starts an identifier at the first ASCII letter or `_` of a run of word
        # characters: the name counts only if no such character comes before it in its run.
        before = start
        while before > 0 and _WORD.match(text, before - 1):
            if _IDENT_START.match(text, before - 1):
                break
            before -= 1
        else:
            found.append(start)
    return found


@lru_cache(maxsize=8)
def _lines(text: str) -> tuple[str, ...]:
    # Split once per text: the scan, the callee closure and the blanking all read its lines.
    return tuple(text.split("\n"))


def _span(lines: tuple[str, ...], open_at: int, close_at: int) -> Span | None:
    # Walk up from the brace over the header lines; a blank line, a directive, the end of a
    # statement, a comment or another body ends the header.
    start = open_at
    while start > 0:
        above = lines[start - 1].rstrip()
        if not above or above.startswith("#") or above.endswith((";", "}", "*/", "{")):
            break
        if above.lstrip().startswith(("//", "/*", "*")):
            break
        start -= 1
    if start == open_at:
        return None
    header = " ".join(lines[start:open_at])
    name = _function_name(header)
    return Span(name, start + 1, close_at + 1) if name else None


@lru_cache(maxsize=4096)
def _function_name(header: str) -> str | None:
    # The name is the last `identifier(` outside parentheses that is not an attribute macro;
    # a name built by a macro, `FNAME(page_fault)(...)`, is spelled as the parser spells it.
    names = []
    for match in _CALLISH.finditer(header):
        before = header[: match.start()]
        if before.count("(") == before.count(")") and match[1] not in _HEADER_MACROS:
            built = _MACRO_NAME.match(header, match.end() - 1)
            names.append(f"{match[1]}({built[1]})" if built else match[1])
    return names[-1] if names else None
