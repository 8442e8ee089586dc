"""The function scan of a text, from the scan of an earlier version of it.

A push's commits change a few lines of the same files one after another, and each version is
scanned for its function bodies (`scan.scan_functions`). Where two versions share their first
and last lines, the bodies found there are the same (those in the shared end only move by the
difference in length): only the lines between are scanned again. The answer is always exactly
`scan_functions(text)`; when the shared ends do not settle it, that is what is computed.
"""

from __future__ import annotations

from reviewtool.cparse.scan import Span, _lines, scan_functions, scan_lines

# Compared a block at a time from either end: a slice compare runs at memcmp speed.
_BLOCK = 4096


def scan_after(text: str, earlier: list[tuple[str, list[Span]]]) -> list[Span] | None:
    """`scan_functions(text)`, from the scan of whichever of the `earlier` (text, its scan)
    pairs shares the most of it, if one shares at least half."""
    best, shared = None, len(text) // 2
    for old_text, old_spans in earlier:
        head = _common_head(old_text, text)
        tail = _common_tail(old_text, text, min(len(old_text), len(text)) - head)
        if head + tail > shared:
            best, shared = (old_text, old_spans, head, tail), head + tail
    if best is None:
        return scan_functions(text)
    return rescan(*best[:2], text, best[2], best[3])


def rescan(
    old_text: str,
    old_spans: list[Span],
    text: str,
    head_chars: int | None = None,
    tail_chars: int | None = None,
) -> list[Span] | None:
    """`scan_functions(text)`, given `old_spans == scan_functions(old_text)` (not None), and
    the characters the texts share at their start and end when already known."""
    if head_chars is None or tail_chars is None:
        head_chars = _common_head(old_text, text)
        limit = min(len(old_text), len(text)) - head_chars
        tail_chars = _common_tail(old_text, text, limit)
    # Whole lines shared: those before the first difference, and those after the last.
    head = old_text.count("\n", 0, head_chars)
    tail = old_text.count("\n", len(old_text) - tail_chars) if tail_chars else 0
    old_count = old_text.count("\n") + 1
    count = len(_lines(text))  # split once per text anyway: the scan and the blanking read it
    shift = count - old_count
    # A span reads from the line above its header (where the walk up stops) to its closing
    # brace: kept when all of that is shared (1-based lines; shared tail lines of the old
    # text are those past old_count - tail).
    before = [span for span in old_spans if span.end <= head]
    after = [span for span in old_spans if span.start - 1 > old_count - tail]
    if not before and not after:
        return scan_functions(text)
    low = before[-1].end if before else 0  # 0-based line after the last kept span
    high = after[0].start - 1 + shift if after else count  # 0-based first header line
    middle = scan_lines(text, low, high)
    if middle is None:
        return scan_functions(text)  # a layout the lines between cannot settle alone
    moved = after if not shift else [Span(s.name, s.start + shift, s.end + shift) for s in after]
    return [*before, *middle, *moved]


def _common_head(left: str, right: str) -> int:
    """How many leading characters the two texts share."""
    end = min(len(left), len(right))
    at = 0
    while at < end and left[at : at + _BLOCK] == right[at : at + _BLOCK]:
        at += _BLOCK
    if at >= end:
        return end
    low, high = at, min(at + _BLOCK, end)  # the first difference is in [low, high)
    while low < high:
        middle = (low + high + 1) // 2
        if left[at:middle] == right[at:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _common_tail(left: str, right: str, limit: int) -> int:
    """How many trailing characters the two texts share, at most `limit`."""

    def same(start: int, end: int) -> bool:
        # The characters `start` to `end` from the end (0 = the last) are the same in both.
        return (
            left[len(left) - end : len(left) - start]
            == right[len(right) - end : len(right) - start]
        )

    at = 0
    while at < limit and same(at, min(at + _BLOCK, limit)):
        at = min(at + _BLOCK, limit)
    if at >= limit:
        return limit
    low, high = at, min(at + _BLOCK, limit)  # the first difference from the end is in here
    while low < high:
        middle = (low + high + 1) // 2
        if same(at, middle):
            low = middle
        else:
            high = middle - 1
    return low
