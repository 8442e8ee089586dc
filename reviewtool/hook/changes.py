"""Pushed commits as patches: which lines of which C files each commit changes.

All commits come out of one `git log -p -U0` run through GitPython: one process for the whole
push instead of one per commit, and no context lines, because only the changed lines matter
(the analyses read whole functions from the commit's own tree).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import git

from reviewtool.textlines import git_lines

# C sources and headers; git's pathspec `*` crosses directories, so these match at any depth.
C_PATHSPECS = ("*.c", "*.h")
C_SUFFIXES = (".c", ".h")

_MARK = "reviewtool-commit "
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_NULL = "/dev/null"
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


@dataclass
class FileChange:
    """The changed lines of one file in one commit."""

    old_path: str | None
    new_path: str | None
    # Lines of the post-image that the commit adds or rewrites, plus the line right before
    # each pure deletion, so the function a deletion shrank is still found.
    new_lines: set[int] = field(default_factory=set)
    # Lines of the pre-image removed without replacement: their function is looked up in
    # the parent, then checked in the commit (if it still exists there).
    removed_lines: set[int] = field(default_factory=set)

    @property
    def path(self) -> str:
        """The file's name after the commit (or before it, for a deletion)."""
        return self.new_path or self.old_path or ""


@dataclass
class CommitPatch:
    """One commit as the hook sees it."""

    sha: str
    parent: str | None
    subject: str
    files: list[FileChange] = field(default_factory=list)

    def short(self) -> str:
        """`abcdef123456 ("subject")` for messages."""
        return f'{self.sha[:12]} ("{self.subject}")'


def is_c_path(path: str) -> bool:
    """True for the files the C analyses read."""
    return path.endswith(C_SUFFIXES)


def commit_patches(repo: git.Repo, shas: list[str]) -> dict[str, CommitPatch]:
    """The C changes of each commit in `shas`, keyed by sha (commits without any are kept)."""
    if not shas:
        return {}
    out = repo.git.log(
        "--no-walk=unsorted",
        f"--format={_MARK}%H %P%n%s",
        "-p",
        "-U0",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--first-parent",
        *shas,
        "--",
        *C_PATHSPECS,
        strip_newline_in_stdout=False,
    )
    patches = parse_log(out)
    # Commits with no C change print no diff but still print their header; keep every sha.
    for sha in shas:
        patches.setdefault(sha, CommitPatch(sha, None, ""))
    return patches


def parse_log(text: str) -> dict[str, CommitPatch]:
    """Parse the output of `git log --format='<mark>%H %P%n%s' -p -U0`."""
    patches: dict[str, CommitPatch] = {}
    current: CommitPatch | None = None
    change: FileChange | None = None
    want_subject = False
    old_path: str | None = None
    renamed: list[str | None] = [None, None]

    def close_file() -> None:
        # A pure rename prints no ---/+++ lines, yet the base lookup needs to know of it.
        if current is not None and change is None and renamed[0] and renamed[1]:
            current.files.append(FileChange(renamed[0], renamed[1]))
        renamed[:] = [None, None]

    for line in git_lines(text):
        if line.startswith(_MARK):
            close_file()
            ids = line[len(_MARK) :].split()
            current = CommitPatch(ids[0], ids[1] if len(ids) > 1 else None, "")
            patches[current.sha] = current
            change = None
            want_subject = True
            continue
        if current is None:
            continue
        if want_subject:
            current.subject = line
            want_subject = False
            continue
        if line.startswith("diff --git "):
            close_file()
            change = None
        elif change is None and line.startswith("rename from "):
            renamed[0] = _path(line[len("rename from ") :], "")
        elif change is None and line.startswith("rename to "):
            renamed[1] = _path(line[len("rename to ") :], "")
        elif line.startswith("--- "):
            old_path = _path(line[4:], "a/")
        elif line.startswith("+++ "):
            change = FileChange(old_path, _path(line[4:], "b/"))
            current.files.append(change)
        elif change is not None and line.startswith("@@"):
            _add_hunk(change, line)
    close_file()
    return patches


def _add_hunk(change: FileChange, header: str) -> None:
    match = _HUNK.match(header)
    if not match:
        return
    old_start, old_count, new_start, new_count = (
        int(match[1]),
        int(match[2] or 1) if match[2] != "0" else 0,
        int(match[3]),
        int(match[4] or 1) if match[4] != "0" else 0,
    )
    if new_count:
        change.new_lines.update(range(new_start, new_start + new_count))
    else:
        # A pure deletion: `new_start` is the line before the removed block.
        if new_start > 0:
            change.new_lines.add(new_start)
        change.removed_lines.update(range(old_start, old_start + old_count))


def _path(text: str, prefix: str) -> str | None:
    text = text.rstrip("\t")
    if text == _NULL:
        return None
    if text.startswith('"') and text.endswith('"'):
        text = _unquote(text[1:-1])
    return text.removeprefix(prefix)


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of unusual file names (octal bytes, backslash escapes)."""
    raw = bytearray()
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "01234567":
                raw.append(int(text[i + 1 : i + 4], 8))
                i += 4
                continue
            raw.extend(_ESCAPES.get(nxt, nxt).encode())
            i += 2
            continue
        raw.extend(char.encode())
        i += 1
    return raw.decode("utf-8", "replace")
