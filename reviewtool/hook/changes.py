"""Pushed commits as patches: which lines of which C files each commit changes.

All commits come out of one `git log -p -U0` run through GitPython: one process for the whole
push instead of one per commit, and no context lines, because only the changed lines matter
(the analyses read whole functions from the commit's own tree).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import git

from reviewtool.diff.model import Hunk, read_diff
from reviewtool.textlines import git_lines

# C sources and headers; git's pathspec `*` crosses directories, so these match at any depth.
C_PATHSPECS = ("*.c", "*.h")

_MARK = "reviewtool-commit "


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
    """Parse the output of `git log --format='<mark>%H %P%n%s' -p -U0`.

    Each commit's diff is read by the package's one diff reader (`diff.model.read_diff`), so
    the hook cuts lines and ends hunks exactly as the report and `git apply` do.
    """
    patches: dict[str, CommitPatch] = {}
    records: list[tuple[CommitPatch, list[str]]] = []
    for line in git_lines(text):
        if line.startswith(_MARK):
            ids = line[len(_MARK) :].split()
            if not ids:
                continue
            current = CommitPatch(ids[0], ids[1] if len(ids) > 1 else None, "")
            patches[current.sha] = current
            records.append((current, []))
        elif records:
            records[-1][1].append(line)
    for commit, lines in records:
        if lines:
            commit.subject = lines[0]
        diff = read_diff("\n".join(lines[1:]) + "\n", lenient=True)
        for file_diff in diff.files:
            has_names = any(h.startswith("+++ ") for h in file_diff.header)
            if not has_names and not file_diff.renamed:
                continue  # a mode change or a binary file: no lines to check
            change = FileChange(file_diff.old_path, file_diff.new_path)
            commit.files.append(change)
            for hunk in file_diff.hunks:
                _add_hunk(change, hunk)
    return patches


def _add_hunk(change: FileChange, hunk: Hunk) -> None:
    if hunk.new_length:
        change.new_lines.update(range(hunk.new_start, hunk.new_start + hunk.new_length))
    else:
        # A pure deletion: `new_start` is the line before the removed block.
        if hunk.new_start > 0:
            change.new_lines.add(hunk.new_start)
        change.removed_lines.update(range(hunk.old_start, hunk.old_start + hunk.old_length))
