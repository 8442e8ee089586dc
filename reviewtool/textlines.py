"""Lines as git counts them, and text with its control characters made visible.

`str.splitlines()` also breaks on `\\f`, `\\v`, `\\r`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and
U+2029, none of which ends a line for git: a patch line `+a();\\f-b();` is ONE added line to
`git apply`, so splitting it in two would show a reader a patch other than the one applied.
Every layer that cuts mail or diff text into lines uses `git_lines`.
"""

from __future__ import annotations

import re
from functools import cache

# Unicode's bidirectional controls: embeddings, overrides and isolates, and the marks. They
# reorder what a reader sees without being seen themselves: `safe\u202egnp.exe` reads as
# `safeexe.png` (the "Trojan Source" trick), so every door shows them as `<U+202E>`.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters a reader cannot see or that move the cursor: C0 (tab excepted), DEL, C1, the
# Unicode line and paragraph separators, the bidi controls.
_INVISIBLE = [
    *map(chr, range(0x00, 0x09)),
    *map(chr, range(0x0A, 0x20)),
    *map(chr, range(0x7F, 0xA0)),
    "\u2028",
    "\u2029",
    *BIDI_CONTROLS,
]


def git_lines(text: str) -> list[str]:
    """`text` cut on `\\n` only, as git cuts a patch; a final newline ends the last line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def stand_in(char: str) -> str:
    """The visible stand-in of one control character: U+240C for `\\f`, U+241B for ESC,
    `<U+202E>` for a bidi override."""
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: U+240C for form feed
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with each control character replaced by a visible stand-in (U+240C for `\\f`,
    `<U+202E>` for a bidi override)."""
    return text.translate(_stand_ins(keep_lines=False))


def visible_text(text: str) -> str:
    """Multi-line text for a terminal: like `visible`, but newline and tab stay as they are.

    The one sanitiser of every text door (series, diff, migrate, check, the hook, report
    --format text): an ESC from a subject or path shows as U+241B instead of retitling or
    clearing the reader's terminal, a bidi control as `<U+202E>` instead of reordering.
    """
    return text.translate(_stand_ins(keep_lines=True))


@cache
def _stand_ins(keep_lines: bool) -> dict[int, str]:
    """The translation table of `visible` (or, keeping newlines, of `visible_text`)."""
    return {ord(char): stand_in(char) for char in _INVISIBLE if not (keep_lines and char == "\n")}


# A unified-diff hunk header; the one copy of this pattern (diff.patterns re-exports it).
HUNK_HEADER_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$")


def signature_offset(diff: str) -> int | None:
    """Where a `-- ` signature starts in a mail's diff part, or None.

    A removed line holding `- ` reads `-- `, just like the signature separator; git apply goes
    by the hunk's line counts, so a `-- ` line counts as the signature only outside a hunk.
    A hunk whose counts claim more lines than it has (a hand-edited patch) would swallow the
    signature: then the last `-- ` line with at most three lines after it is the signature.
    """
    counted = _signature_after_hunks(diff)
    if counted is not None:
        return counted
    # The substring first: the multi-line pattern is tried at every position of the text.
    tail = _TRAILING_SIGNATURE_RE.search(diff) if "-- \n" in diff else None
    return tail.start() if tail else None


_TRAILING_SIGNATURE_RE = re.compile(r"^-- \n(?:[^\n]*\n?){0,3}\Z", re.M)


def _signature_after_hunks(diff: str) -> int | None:
    offset = 0
    old_left = new_left = 0
    for line in diff.split("\n"):
        if old_left > 0 or new_left > 0:
            kind = line[:1]
            if kind == "-":
                old_left -= 1
            elif kind == "+":
                new_left -= 1
            elif kind == "\\":
                pass
            else:
                old_left, new_left = old_left - 1, new_left - 1
        elif line == "-- ":
            return offset
        else:
            match = HUNK_HEADER_RE.match(line)
            if match:
                old_left = int(match[2]) if match[2] is not None else 1
                new_left = int(match[4]) if match[4] is not None else 1
        offset += len(line) + 1
    return None
