"""Pushed commits as patches: which lines of which C files each commit changes.

All commits come out of one `git log -p -U0` run through GitPython: one process for the whole
push instead of one per commit, and no context lines, because only the changed lines matter
(the analyses read whole functions from the commit's own tree).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reviewtool.diff.model import Hunk, read_diff
from reviewtool.errors import InputError
from reviewtool.hook.gitio import GitRepo, git_output

# C sources and headers; git's pathspec `*` crosses directories, so these match at any depth.
C_PATHSPECS = ("*.c", "*.h")

# One record per commit, each field ended by NUL; a record starts a line (see parse_log).
_RECORD_FORMAT = "%x00%H%x00%P%x00%s%x00"
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# Where a record starts: a NUL at the start of the stream or of a line.
_RECORD_START = re.compile(r"(?:\A|(?<=\n))\x00")


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
    # git calls the file binary (a NUL byte, or a `-diff` attribute): no line of it can be
    # read from the patch, so it is reported as not checked, never passed over in silence.
    binary: bool = False
    # Lines the commit adds and removes in this file, as `git show --numstat` counts them.
    added: int = 0
    deleted: int = 0

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


def commit_patches(repo: Any, shas: list[str]) -> dict[str, CommitPatch]:
    """The C changes of each commit in `shas`, keyed by sha (commits without any are kept)."""
    return start_commit_patches(repo, shas)()


def start_commit_patches(repo: Any, shas: list[str]) -> Callable[[], dict[str, CommitPatch]]:
    """Start reading what `commit_patches` gives; the function returned waits and parses.

    git computes the diffs on its own core meanwhile (a GitRepo; GitPython's Repo is run when
    the function is called)."""
    if not shas:
        return dict
    args = (
        "log",
        "--no-walk=unsorted",
        f"--format={_RECORD_FORMAT}",
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
    )
    if isinstance(repo, GitRepo):
        pending = repo.start(*args)
    else:
        pending = functools.partial(git_output, repo, *args)

    def finish() -> dict[str, CommitPatch]:
        patches = parse_log(pending(), shas)
        # Commits with no C change print no diff but still print their header; keep every sha.
        for sha in shas:
            patches.setdefault(sha, CommitPatch(sha, None, ""))
        return patches

    return finish


def changed_c_paths(repo: GitRepo, shas: list[str]) -> set[str]:
    """The C files (at any path the commits give them) that `shas` change: tree names only,
    no diff computed, to know early whether a push needs the checker at all."""
    if not shas:
        return set()
    out = repo.run(
        "diff-tree",
        "--stdin",
        "-r",
        "--root",
        "--name-only",
        "--no-commit-id",
        "-z",
        "--",
        *C_PATHSPECS,
        stdin="".join(f"{sha}\n" for sha in shas).encode(),
    )
    return {name for name in out.split("\0") if name}


def parse_log(text: str, shas: list[str]) -> dict[str, CommitPatch]:
    """Parse `git log --no-walk=unsorted --format=<_RECORD_FORMAT> -p -U0 SHAS...`.

    Each commit is a record that starts with a NUL at the start of a line: `NUL sha NUL
    parents NUL subject NUL`, then its diff. A subject cannot hold a NUL, and no diff line
    starts with one (each starts with its marker), so nothing a commit carries can start a
    record; a NUL inside a diff line (git calls a file binary only for a NUL in its first
    8000 bytes, so a later one is printed) is data of that line. Each record must name, in
    order, a commit asked for: a stream that does not is refused rather than half-read. Each
    diff is read by the package's one diff reader (`diff.model.read_diff`), which cuts lines
    as `git apply` does.
    """
    records = _RECORD_START.split(text)
    if records and records[0].strip() == "":
        records = records[1:]
    patches: dict[str, CommitPatch] = {}
    # The pathspec drops commits without a C change: the records are the asked-for commits
    # that have one, in the order asked.
    expected = iter(shas)
    for index, record in enumerate(records):
        fields = record.split("\0", 3)
        if len(fields) != 4:
            raise InputError(
                f"git log gave {len(fields)} NUL-separated fields in record {index + 1}, not "
                "whole commit records; refusing to guess which changes belong to which commit"
            )
        got, parents, subject, body = fields
        if not _OBJECT_ID.fullmatch(got) or not any(sha == got for sha in expected):
            raise InputError(
                f"git log record {index + 1} names {got[:50]!r}, not one of the commits "
                "asked for (in order)"
            )
        sha = got
        parent_ids = parents.split()
        if any(not _OBJECT_ID.fullmatch(p) for p in parent_ids):
            raise InputError(f"git log record of {sha}: parents {parents[:100]!r} are not ids")
        commit = CommitPatch(sha, parent_ids[0] if parent_ids else None, subject)
        patches[sha] = commit
        diff = read_diff(body.lstrip("\n"), lenient=True)
        for file_diff in diff.files:
            if file_diff.binary or _says_binary(file_diff.header):
                change = FileChange(file_diff.old_path, file_diff.new_path, binary=True)
                commit.files.append(change)
                continue
            has_names = any(h.startswith("+++ ") for h in file_diff.header)
            if not has_names and not file_diff.renamed:
                continue  # a mode change: no lines to check
            change = FileChange(file_diff.old_path, file_diff.new_path)
            commit.files.append(change)
            for hunk in file_diff.hunks:
                _add_hunk(change, hunk)
    return patches


def _says_binary(header: list[str]) -> bool:
    return any(line.startswith(("Binary files ", "GIT binary patch")) for line in header)


def _add_hunk(change: FileChange, hunk: Hunk) -> None:
    change.added += hunk.new_length
    change.deleted += hunk.old_length
    if hunk.new_length:
        change.new_lines.update(range(hunk.new_start, hunk.new_start + hunk.new_length))
    else:
        # A pure deletion: `new_start` is the line before the removed block.
        if hunk.new_start > 0:
            change.new_lines.add(hunk.new_start)
        change.removed_lines.update(range(hunk.old_start, hunk.old_start + hunk.old_length))
