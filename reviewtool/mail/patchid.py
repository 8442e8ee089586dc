"""`git patch-id --stable` computed from a mail's diff, in Python, equal to git's.

b4 and maintainers tell an unchanged patch across versions by this id: the SHA-1 of each
file's diff with every whitespace character removed and hunk line numbers ignored, the
per-file hashes summed (so file order does not matter). `--stable` is the summing.
"Whitespace" is git's: space, tab, CR and LF bytes; git's `isspace()` leaves out form feed,
vertical tab and every non-ASCII space (a no-break space stays in the hash).
"""

from __future__ import annotations

import re

try:
    # CPython's own SHA-1: `hashlib` would first load OpenSSL, which costs more than hashing
    # every patch of a 100-patch series (a short command such as `reviewtool diff` feels it).
    from _sha1 import sha1
except ImportError:  # another Python: the same digest from hashlib
    from hashlib import sha1

HUNK_HEADER_RE = re.compile(r"^@@ -\d+(?:,(?P<before>\d+))? \+\d+(?:,(?P<after>\d+))? @@")
# The bytes git's sane_ctype table calls space (git-compat-util.h): what remove_space() drops.
GIT_WHITESPACE = b" \t\n\r"
ID_BITS = 160


def patch_id(diff: str) -> str | None:
    """The stable patch-id of a diff (40 hex digits), or None when it holds no diff."""
    total = 0
    hashed = 0  # git's patchlen: nothing hashed means no patch-id
    file_lines: list[str] = []  # the current file's hashed lines, squeezed at its end
    before = after = -1
    binary = False
    for line in diff.split("\n"):
        if before > 0 and after > 0 and line[:1] in ("-", "+", " "):
            # Inside a hunk with lines left on both sides, the usual line: nothing below
            # applies but the counting.
            if line[0] != "+":
                before -= 1
            if line[0] != "-":
                after -= 1
            file_lines.append(line)
            continue
        if line.startswith("\\ ") and len(line) + 1 > 12:
            continue  # `\ No newline at end of file` (git counts the newline in the length)
        if not hashed and not file_lines and not line.startswith("diff "):
            continue
        if before == -1:
            if line.startswith(("GIT binary patch", "Binary files")):
                # git hashes the blob ids of a binary diff; mail rarely carries them whole.
                binary, before = True, 0
                continue
            if line.startswith("index "):
                continue
            if line.startswith("--- "):
                before = after = 1
            elif not line[:1].isalpha():
                break
        if binary:
            if line.startswith("diff "):
                binary, before = False, -1
            else:
                continue
        if before == 0 and after == 0:
            match = HUNK_HEADER_RE.match(line)
            if match:
                before = int(match.group("before") or 1)
                after = int(match.group("after") or 1)
                continue
            if not line.startswith("diff "):
                break
            total, hashed = _flush(total, hashed, file_lines)
            file_lines = []
            before = after = -1
        if line[:1] in ("-", " "):
            before -= 1
        if line[:1] in ("+", " "):
            after -= 1
        file_lines.append(line)
    total, hashed = _flush(total, hashed, file_lines)  # git flushes the last file whatever it held
    if not hashed:
        return None
    return total.to_bytes(ID_BITS // 8, "little").hex()


def _flush(total: int, hashed: int, lines: list[str]) -> tuple[int, int]:
    """Add one file's SHA-1 to the sum, as git does (20 bytes, little-endian, with carry);
    and the count of bytes hashed so far. One translate squeezes a file's whitespace: the
    hash of the squeezed lines one after another is the hash of their squeezed join."""
    squeezed = "".join(lines).encode("utf-8", "surrogateescape").translate(None, GIT_WHITESPACE)
    value = int.from_bytes(sha1(squeezed).digest(), "little")
    return (total + value) % (1 << ID_BITS), hashed + len(squeezed)
