"""The one diff reader of the package: a small typed model of a patch's diff.

Everything that reads a diff (the analyses, the range-diff, the renderers, the hook's
`git log -p` stream) reads it through `read_diff`, so they all see the same lines. Lines are cut
as git cuts them (on `\\n` only, see `reviewtool.textlines`), and a hunk ends where its header's
line counts say, as `git apply` reads it: a `-- ` signature or a list footer after the last hunk
is never part of the diff, and a line inside the counts is never taken for a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.diff.areas import area_of
from reviewtool.diff.patterns import (
    C_SUFFIXES,
    DEV_NULL,
    HUNK_RE,
    MAX_LINE_NUMBER,
    PATH_ESCAPES,
    QUOTED_PATH_RE,
)
from reviewtool.errors import InputError
from reviewtool.textlines import git_lines

__all__ = [
    "DEV_NULL",
    "DiffLine",
    "FileDiff",
    "Hunk",
    "PatchDiff",
    "is_c_path",
    "parse_patch_diff",
    "read_diff",
    "split_diff_git",
    "unquote_path",
]


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: kind " ", "-" or "+", its old and new line numbers, its text."""

    kind: str
    old_line: int | None
    new_line: int | None
    text: str


@dataclass
class Hunk:
    """One `@@` block: where it sits in the old and new file and what it shows."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    section: str
    lines: list[DiffLine]
    header: str = ""  # the `@@` line as the diff wrote it
    # `\ No newline at end of file` markers: index into `lines` of the line they follow.
    markers: dict[int, str] = field(default_factory=dict)
    # Lines after the hunk's counts ran out and before the next hunk or file (a signature,
    # a footer, garbage): shown as the diff has them, never read as code.
    trailing: list[str] = field(default_factory=list)

    @property
    def removed(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "-"]

    @property
    def added(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "+"]


@dataclass
class FileDiff:
    """What a patch does to one file."""

    path: str  # the path after the patch (before it, for a deleted file)
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False
    # The lines from `diff --git` (or `---`) to the first hunk, as the diff wrote them.
    header: list[str] = field(default_factory=list)
    old_mode: str = ""
    new_mode: str = ""
    renamed: bool = False  # `rename from`/`copy from` headers name the old path

    @property
    def area(self) -> str:
        return area_of(self.path)

    @property
    def status(self) -> str:
        """added, deleted, renamed or modified."""
        if self.old_path is None:
            return "added"
        if self.new_path is None:
            return "deleted"
        if self.old_path != self.new_path:
            return "renamed"
        return "modified"

    @property
    def is_c(self) -> bool:
        """True for C sources and headers, whose hunks have functions."""
        return is_c_path(self.path)

    def removed_lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.removed]

    def added_lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.added]


@dataclass
class PatchDiff:
    """Every file one patch touches, in diff order, and the hunks that could not be read."""

    files: list[FileDiff]
    # One line per hunk that did not hold together (lenient reading): "path: why". A hunk
    # cut short by the end of the text is kept as far as it goes; any other is left out.
    problems: list[str] = field(default_factory=list)
    # Lines before the first file (a commit message, notes) as the text had them.
    preamble: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def file(self, path: str) -> FileDiff | None:
        for diff in self.files:
            if path in (diff.path, diff.old_path, diff.new_path):
                return diff
        return None


def is_c_path(path: str) -> bool:
    """True for the files the C analyses read (sources and headers)."""
    return path.endswith(C_SUFFIXES)


def unquote_path(text: str) -> str:
    """Undo git's C-style quoting of an unusual file name (octal bytes, backslash escapes)."""
    if not text.startswith('"'):
        return text  # the usual name: git quotes only names with unusual bytes
    quoted = QUOTED_PATH_RE.match(text)
    if not quoted:
        return text
    text = quoted.group(1)
    raw = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "01234567":
                raw.append(int(text[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            raw.extend(PATH_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        raw.extend(char.encode())
        i += 1
    return raw.decode("utf-8", "replace")


def _header_path(text: str, prefix: str | None = None) -> str | None:
    """A path from a `---`/`+++`/`rename` header: unquoted, a/ b/ dropped, None for /dev/null."""
    # A timestamp may follow the name after a tab (GNU diff); git quotes names holding tabs.
    text = text.rstrip("\t") if text.startswith('"') else text.split("\t")[0]
    if text == DEV_NULL:
        return None
    text = unquote_path(text)
    if prefix is None:
        return text[2:] if text[:2] in ("a/", "b/") else text
    return text.removeprefix(prefix)


def split_diff_git(line: str) -> tuple[str, str]:
    """Old and new names from `diff --git a/x b/y` (names may hold spaces: split in the middle)."""
    rest = line[len("diff --git ") :]
    if rest.startswith('"'):
        parts = re.findall(r'"(?:[^"\\]|\\.)*"|\S+', rest)
        if len(parts) == 2:
            return _header_path(parts[0]) or parts[0], _header_path(parts[1]) or parts[1]
    marker = rest.find(" b/")
    if marker > 0:
        return _header_path(rest[:marker]) or "", _header_path(rest[marker + 1 :]) or ""
    half = len(rest) // 2
    return _header_path(rest[:half]) or "", _header_path(rest[half + 1 :]) or ""


class _Reader:
    """One pass over the lines of a diff; a hunk that does not hold together is left out."""

    def __init__(self, lines: list[str], lenient: bool) -> None:
        self.lines = lines
        self.lenient = lenient
        self.i = 0
        self.files: list[FileDiff] = []
        self.problems: list[str] = []
        self.preamble: list[str] = []

    def fail(self, path: str, why: str) -> None:
        if not self.lenient:
            raise InputError(f"cannot read diff: {path}: {why}")
        self.problems.append(f"{path}: {why}")

    def starts_file(self, i: int) -> bool:
        line = self.lines[i]
        if line.startswith("diff --git "):
            return True
        return (
            line.startswith("--- ")
            and i + 1 < len(self.lines)
            and self.lines[i + 1].startswith("+++ ")
        )

    def read(self) -> None:
        n = len(self.lines)
        while self.i < n:
            if self.starts_file(self.i):
                self.read_file()
            else:
                if not self.files:
                    self.preamble.append(self.lines[self.i])
                elif self.files[-1].hunks:
                    self.files[-1].hunks[-1].trailing.append(self.lines[self.i])
                else:
                    self.files[-1].header.append(self.lines[self.i])
                self.i += 1

    def read_file(self) -> None:
        lines, n = self.lines, len(self.lines)
        first = lines[self.i]
        old_name = new_name = None
        is_new = is_delete = renamed = binary = False
        old_mode = new_mode = ""
        header: list[str] = []
        if first.startswith("diff --git "):
            old_name, new_name = split_diff_git(first)
            header.append(first)
            self.i += 1
        old_path: str | None = old_name
        new_path: str | None = new_name
        while self.i < n and _is_extended_header(lines[self.i]):
            line = lines[self.i]
            header.append(line)
            self.i += 1
            # The prefixes exclude each other; the lines every file has are tried first.
            if line.startswith("index "):
                continue
            if line.startswith("--- "):
                old_path = _header_path(line[4:])
                is_new = is_new or old_path is None
            elif line.startswith("+++ "):
                new_path = _header_path(line[4:])
                is_delete = is_delete or new_path is None
                break  # the hunks follow
            elif line.startswith("new file mode "):
                is_new, new_mode = True, line.split()[-1]
            elif line.startswith("deleted file mode "):
                is_delete, old_mode = True, line.split()[-1]
            elif line.startswith("old mode "):
                old_mode = line.split()[-1]
            elif line.startswith("new mode "):
                new_mode = line.split()[-1]
            elif line.startswith(("rename from ", "copy from ")):
                old_path, renamed = _header_path(line.split(" ", 2)[2], ""), True
            elif line.startswith(("rename to ", "copy to ")):
                new_path, renamed = _header_path(line.split(" ", 2)[2], ""), True
            elif line.startswith(("Binary files ", "GIT binary patch")):
                binary = True
        if is_new:
            old_path = None
        if is_delete:
            new_path = None
        path = new_path or old_path or new_name or old_name or ""
        diff = FileDiff(path, old_path, new_path, [], binary, header, old_mode, new_mode, renamed)
        self.files.append(diff)
        while self.i < n:
            line = lines[self.i]
            if line.startswith("@@"):  # a hunk header never starts a file: tried first
                self.read_hunk(diff)
            elif self.starts_file(self.i):
                break
            elif diff.hunks:
                diff.hunks[-1].trailing.append(line)
                self.i += 1
            else:
                if line.startswith(("Binary files ", "GIT binary patch")):
                    diff.binary = True
                diff.header.append(line)
                self.i += 1

    def read_hunk(self, diff: FileDiff) -> None:
        lines, n = self.lines, len(self.lines)
        header = lines[self.i]
        self.i += 1
        match = HUNK_RE.match(header)
        if not match:
            self.fail(diff.path, f"unreadable hunk header {header[:80]!r}")
            self.skip_body()
            return
        old_start, new_start = int(match[1]), int(match[3])
        old_length = int(match[2]) if match[2] is not None else 1
        new_length = int(match[4]) if match[4] is not None else 1
        if max(old_start, new_start, old_length, new_length) > MAX_LINE_NUMBER:
            self.fail(diff.path, f"hunk header {header[:80]!r} is past line {MAX_LINE_NUMBER}")
            self.skip_body()
            return
        hunk = Hunk(old_start, old_length, new_start, new_length, match[5], [], header)
        old_no, new_no = old_start, new_start
        old_left, new_left = old_length, new_length
        add = hunk.lines.append
        i = self.i  # a local index: this loop runs once per line of every diff read
        while i < n and (old_left > 0 or new_left > 0):
            line = lines[i]
            kind = line[:1]
            if kind == "-" and old_left > 0:
                add(DiffLine("-", old_no, None, line[1:]))
                old_no, old_left = old_no + 1, old_left - 1
            elif kind == "+" and new_left > 0:
                add(DiffLine("+", None, new_no, line[1:]))
                new_no, new_left = new_no + 1, new_left - 1
            elif (kind == " " or line == "") and old_left > 0 and new_left > 0:
                # Mail clients strip the lone space of an empty context line; git apply too
                # takes an empty line inside a hunk for context.
                add(DiffLine(" ", old_no, new_no, line[1:]))
                old_no, new_no = old_no + 1, new_no + 1
                old_left, new_left = old_left - 1, new_left - 1
            elif kind == "\\" and hunk.lines:
                hunk.markers[len(hunk.lines) - 1] = line
            else:
                self.i = i
                self.fail(
                    diff.path,
                    f"hunk {header[:60]!r} ends early ({old_left} old and {new_left} new "
                    "lines missing)",
                )
                return
            i += 1
        self.i = i
        if old_left > 0 or new_left > 0:
            # Kept as far as it goes (a reader shows what is there), but named as damaged;
            # its lengths become what it holds, never what its header claimed.
            self.fail(diff.path, f"hunk {header[:60]!r} is cut short at the end of the diff")
            hunk.old_length -= old_left
            hunk.new_length -= new_left
        if self.i < n and lines[self.i].startswith("\\") and hunk.lines:
            hunk.markers[len(hunk.lines) - 1] = lines[self.i]
            self.i += 1
        diff.hunks.append(hunk)

    def skip_body(self) -> None:
        """Step over the lines of a hunk that is left out, to the next hunk or file."""
        n = len(self.lines)
        while self.i < n and not self.lines[self.i].startswith("@@"):
            if self.starts_file(self.i):
                return
            self.i += 1


_EXTENDED_HEADERS = (
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "copy from ",
    "copy to ",
    "rename from ",
    "rename to ",
    "similarity index ",
    "dissimilarity index ",
    "index ",
    "Binary files ",
    "GIT binary patch",
    "--- ",
    "+++ ",
)


def _is_extended_header(line: str) -> bool:
    return line.startswith(_EXTENDED_HEADERS)


def read_diff(text: str, *, lenient: bool = False) -> PatchDiff:
    """Read a unified diff (a patch mail's diff part, `git diff` or `git log -p` output).

    With `lenient`, a hunk that does not hold together (a header past sane line numbers, fewer
    lines than its counts) is named in `problems` and left out (kept as far as it goes when
    the text simply ends inside it); otherwise it raises InputError.
    """
    reader = _Reader(git_lines(text), lenient)
    reader.read()
    return PatchDiff(reader.files, reader.problems, reader.preamble)


def parse_patch_diff(diff: str, *, lenient: bool = False) -> PatchDiff:
    """Read the diff part of one patch mail (or `git diff` output) into a PatchDiff."""
    # No signature is cut off beforehand: a removed line `-` reads `--`, just like a signature
    # separator; the hunk's counts tell the two apart and the reader keeps what follows them.
    text = diff
    patch = read_diff(text, lenient=lenient)
    if not patch.files and text.strip() and not lenient:
        raise InputError("cannot read diff: no file header (`diff --git` or `---`/`+++`)")
    return patch
