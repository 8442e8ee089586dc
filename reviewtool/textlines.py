"""Lines as git counts them, and text with its control characters made visible.

`str.splitlines()` also breaks on `\\f`, `\\v`, `\\r`, `\\x1c`-`\\x1e`, `\\x85`, U+2028 and
U+2029, none of which ends a line for git: a patch line `+a();\\f-b();` is ONE added line to
`git apply`, so splitting it in two would show a reader a patch other than the one applied.
Every layer that cuts mail or diff text into lines uses `git_lines`.
"""

from __future__ import annotations

import re

# Characters a reader cannot see or that move the cursor: C0 (tab excepted), DEL, C1, the
# Unicode line and paragraph separators.
_INVISIBLE_RE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


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
    """`text` with each control character replaced by a visible stand-in (U+240C for `\\f`)."""
    return _INVISIBLE_RE.sub(_symbol, text)
