"""Lines as git counts them, and text with its control characters made visible.

`str.splitlines()` also breaks on `\\f`, `\\v`, `\\r`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and
U+2029, none of which ends a line for git: a patch line `+a();\\f-b();` is ONE added line to
`git apply`, so splitting it in two would show a reader a patch other than the one applied.
Every layer that cuts mail or diff text into lines uses `git_lines`.
"""

from __future__ import annotations

import re

# Unicode's bidirectional controls: embeddings, overrides and isolates, and the marks. They
# reorder what a reader sees without being seen themselves: `safe\u202egnp.exe` reads as
# `safeexe.png` (the "Trojan Source" trick), so every door shows them as `<U+202E>`.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters a reader cannot see or that move the cursor: C0 (tab excepted), DEL, C1, the
# Unicode line and paragraph separators, the bidi controls.
_INVISIBLE_RE = re.compile(f"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
# The same for whole multi-line text: newline and tab keep their meaning.
_INVISIBLE_IN_TEXT_RE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_BIDI_RE = re.compile(f"[{BIDI_CONTROLS}]")


def git_lines(text: str) -> list[str]:
    """`text` cut on `\\n` only, as git cuts a patch; a final newline ends the last line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _symbol(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    if code < 0x20:
        return chr(0x2400 + code)  # the Control Pictures block: U+240C for form feed
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """`text` with each control character replaced by a visible stand-in (U+240C for `\\f`,
    `<U+202E>` for a bidi override)."""
    return _INVISIBLE_RE.sub(_symbol, text)


def visible_text(text: str) -> str:
    """Multi-line text for a terminal: like `visible`, but newline and tab stay as they are.

    The one sanitiser of every text door (series, diff, migrate, check, the hook, report
    --format text): an ESC from a subject or path shows as U+241B instead of retitling or
    clearing the reader's terminal, a bidi control as `<U+202E>` instead of reordering.
    """
    return _INVISIBLE_IN_TEXT_RE.sub(_symbol, text)


def show_bidi(text: str) -> str:
    """Only the bidi controls made visible (`<U+202E>`): for HTML, whose own escaping deals
    with the rest."""
    return _BIDI_RE.sub(_symbol, text)
