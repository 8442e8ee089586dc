"""Whole files before and after each patch, from a temporary worktree of the user's repo.

The worktree is created detached and without a checkout, next to nothing of the user's:
its own HEAD and index live under `.git/worktrees/<name>`, patches are applied to that index
only (`git apply --cached`, so no working files are written), files are read from it, and the
worktree is removed and pruned on the way out. The user's checkout, index and refs are never
touched. Every git call names the worktree's git dir and index explicitly, so a GIT_DIR or
GIT_INDEX_FILE inherited from a hook cannot redirect it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import git

from reviewtool.diff.model import parse_patch_diff
from reviewtool.errors import AnalysisError, InputError

WORKTREE_PREFIX = "reviewtool-wt-"


class PatchApplyError(AnalysisError):
    """A patch of the series does not apply on the base (or on the patches before it)."""

    def __init__(self, index: int, detail: str, applied: list[AppliedPatch] | None = None):
        self.index = index
        self.detail = detail.strip()
        self.applied = applied or []
        first = self.detail.splitlines()[0] if self.detail else "git apply failed"
        super().__init__(f"patch {index} does not apply: {first}")


class BaseNotFoundError(AnalysisError):
    """The base commit is not in the repository."""


@dataclass
class FileState:
    """One file before and after one patch; None where it does not exist."""

    path: str
    before: str | None
    after: str | None
    old_path: str | None = None


@dataclass
class AppliedPatch:
    """The files one patch touched, whole, before and after it (1-based index in the series)."""

    index: int
    files: dict[str, FileState] = field(default_factory=dict)


def _repo(repo_dir: str | Path) -> git.Repo:
    try:
        return git.Repo(str(repo_dir), search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise InputError(f"not a git repository: {repo_dir}") from exc


def resolve_base(repo_dir: str | Path, rev: str) -> str:
    """The full commit id of rev in the repo, or BaseNotFoundError."""
    repo = _repo(repo_dir)
    try:
        return repo.git.rev_parse("--verify", "--quiet", f"{rev}^{{commit}}")
    except git.GitCommandError as exc:
        raise BaseNotFoundError(f"base {rev} is not a commit of {repo_dir}") from exc


class Worktree:
    """A detached, checkout-free worktree at base; use as a context manager."""

    def __init__(self, repo_dir: str | Path, base: str) -> None:
        self.repo = _repo(repo_dir)
        self.base = resolve_base(repo_dir, base)
        self.tmp: Path | None = None
        self.path: Path | None = None
        self._git: git.Git | None = None
        # path -> text in the index; a patch forgets the paths it touches (one git call a read
        # was most of a --repo report's time)
        self._read_cache: dict[str, str | None] = {}

    def __enter__(self) -> Worktree:
        self.tmp = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
        self.path = self.tmp / "tree"
        try:
            self.repo.git.worktree("add", "--detach", "--no-checkout", str(self.path), self.base)
            gitdir = self._gitdir()
            self._git = git.Git(str(self.path))
            self._git.update_environment(
                GIT_DIR=str(gitdir),
                GIT_WORK_TREE=str(self.path),
                GIT_INDEX_FILE=str(gitdir / "index"),
                GIT_COMMON_DIR=str(Path(self.repo.common_dir).resolve()),
            )
            self._git.read_tree(self.base)
        except git.GitCommandError as exc:
            self.close()
            raise AnalysisError(f"cannot make a temporary worktree: {_git_message(exc)}") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _gitdir(self) -> Path:
        assert self.path is not None
        pointer = (self.path / ".git").read_text().strip()
        return Path(pointer.split(":", 1)[1].strip())

    def close(self) -> None:
        """Remove the worktree and its admin files; prune stale worktree entries."""
        if self.path is not None:
            try:
                self.repo.git.worktree("remove", "--force", str(self.path))
            except git.GitCommandError:
                pass  # not created, or already gone: prune below tidies what is left
            self.path = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        try:
            self.repo.git.worktree("prune")
        except git.GitCommandError:
            pass
        self._git = None

    @property
    def git(self) -> git.Git:
        if self._git is None:
            raise AnalysisError("the worktree is not open")
        return self._git

    def read(self, path: str) -> str | None:
        """The file's text in the worktree's index, or None when it does not exist."""
        if path in self._read_cache:
            return self._read_cache[path]
        try:
            data = self.git.cat_file("blob", f":{path}", stdout_as_string=False)
            text: str | None = data.decode("utf-8", "replace")
        except git.GitCommandError:
            text = None
        self._read_cache[path] = text
        return text

    def apply(self, diff: str, index: int = 0) -> None:
        """Apply one patch's diff to the worktree's index, or raise PatchApplyError."""
        text = diff if diff.endswith("\n") else diff + "\n"
        assert self.tmp is not None
        patch_file = self.tmp / f"patch-{index}.diff"
        patch_file.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            self.git.apply("--cached", "--whitespace=nowarn", str(patch_file))
        except git.GitCommandError as exc:
            raise PatchApplyError(index, _git_message(exc)) from exc
        finally:
            patch_file.unlink(missing_ok=True)
            for path, old_path, new_path in _touched(text):
                for name in (path, old_path, new_path):
                    self._read_cache.pop(name or "", None)

    def grep(self, word: str) -> list[tuple[str, int, str]]:
        """(path, line, text) of every line naming word as a whole word, in the index."""
        try:
            out = self.git.grep("--cached", "-n", "-w", "-I", "-F", "-e", word)
        except git.GitCommandError as exc:
            if exc.status == 1:
                return []  # no match
            raise AnalysisError(f"git grep failed: {_git_message(exc)}") from exc
        hits = []
        for row in out.splitlines():
            path, line, text = row.split(":", 2)
            hits.append((path, int(line), text))
        return hits

    def files(self) -> list[str]:
        """Every path in the worktree's index."""
        return self.git.ls_files().splitlines()


def _git_message(exc: git.GitCommandError) -> str:
    """git's own words from a failed command, without GitPython's wrapping."""
    text = str(exc.stderr or exc).strip()
    if text.startswith("stderr:"):
        text = text[len("stderr:") :].strip()
    return text.strip("'\"").strip()


def _touched(diff: str) -> list[tuple[str, str | None, str | None]]:
    return [(f.path, f.old_path, f.new_path) for f in parse_patch_diff(diff).files]


def apply_series(
    repo_dir: str | Path,
    base: str,
    diffs: Iterable[str],
    extra_paths: Iterable[str] = (),
) -> tuple[list[AppliedPatch], dict[str, str | None]]:
    """Apply diffs in order on base; whole touched files before/after each, and the end state.

    Returns the per-patch states and the text after the last patch of every touched path and
    of extra_paths. Raises PatchApplyError (carrying the patches that did apply) on failure.
    """
    applied: list[AppliedPatch] = []
    with Worktree(repo_dir, base) as tree:
        touched: dict[str, None] = dict.fromkeys(extra_paths)
        for index, diff in enumerate(diffs, start=1):
            state = AppliedPatch(index)
            files = _touched(diff)
            for path, old_path, _new_path in files:
                state.files[path] = FileState(path, tree.read(old_path or path), None, old_path)
            try:
                tree.apply(diff, index)
            except PatchApplyError as exc:
                raise PatchApplyError(index, exc.detail, applied) from None
            for path, _old_path, new_path in files:
                state.files[path].after = tree.read(new_path) if new_path else None
                touched.setdefault(path, None)
            applied.append(state)
        final = {path: tree.read(path) for path in touched}
    return applied, final
