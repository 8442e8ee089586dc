"""Whole files before and after each patch, read from the user's repository without writing it.

A `Scratch` keeps everything it makes in one private temporary directory: an index file that
holds only the paths the series touches (loaded from the base commit with `git ls-tree` and
`git update-index --index-info`), and an object directory for the blobs `git apply --cached`
writes (the repository's own objects are reached as an alternate, read only). Files are read
by object id through one `git cat-file --batch` process. Nothing is checked out, no worktree is
registered, no ref, index, config or object of the repository is written, and nothing
repository-wide is pruned: a run killed at any point leaves at most its own temporary
directory, which the next run on the same host removes (only when its owning process is gone).
Every git call gets an environment naming these paths explicitly, so a GIT_DIR or
GIT_INDEX_FILE inherited from a hook cannot redirect it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from reviewtool.diff.model import parse_patch_diff
from reviewtool.errors import AnalysisError, InputError

SCRATCH_PREFIX = "reviewtool-scratch-"
# Environment variables that would point git at another repository, index or object store.
_REDIRECTING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


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


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_ENV}
    env["GIT_OPTIONAL_LOCKS"] = "0"  # never refresh or lock anything of the repository
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_LITERAL_PATHSPECS"] = "1"  # a path from a patch is a path, never a pattern
    return env


def _run(args: list[str], env: dict[str, str], cwd: str | Path | None = None, data=None):
    try:
        return subprocess.run(
            ["git", *args], env=env, cwd=cwd, input=data, capture_output=True, check=False
        )
    except OSError as exc:
        raise AnalysisError(f"cannot run git: {exc.strerror}") from exc


def _git_dirs(repo_dir: str | Path) -> tuple[str, str]:
    """(git dir, object directory) of a repository, absolute; InputError when it is none."""
    if not Path(repo_dir).is_dir():
        raise InputError(f"not a git repository: {repo_dir}")
    done = _run(
        ["rev-parse", "--absolute-git-dir", "--git-path", "objects"], _clean_env(), repo_dir
    )
    lines = done.stdout.decode("utf-8", "surrogateescape").splitlines()
    if done.returncode != 0 or len(lines) != 2:
        raise InputError(f"not a git repository: {repo_dir}")
    git_dir, objects = lines
    return git_dir, str((Path(repo_dir) / objects).resolve())


def resolve_base(repo_dir: str | Path, rev: str) -> str:
    """The full commit id of rev in the repo, or BaseNotFoundError."""
    git_dir, _objects = _git_dirs(repo_dir)
    env = {**_clean_env(), "GIT_DIR": git_dir}
    done = _run(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], env)
    if done.returncode != 0 or not rev or rev.startswith("-"):
        raise BaseNotFoundError(f"base {rev} is not a commit of {repo_dir}")
    return done.stdout.decode().strip()


def _scratch_prefix() -> str:
    """`reviewtool-scratch-<host>.`: a pid means something only on the host that made it."""
    host = "".join(c for c in socket.gethostname() if c.isalnum()) or "host"
    return f"{SCRATCH_PREFIX}{host}."


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive, and not ours to judge
    return True


def clean_leftovers(tmp_root: str | Path | None = None) -> list[Path]:
    """Remove scratch directories of this user whose process is gone; return what went.

    Only names made by Scratch on this host (`reviewtool-scratch-<host>.<pid>-...`) are
    considered, so nothing another program, another machine sharing the directory or another
    live run owns is touched.
    """
    removed = []
    root = Path(tmp_root or tempfile.gettempdir())
    for entry in root.glob(f"{_scratch_prefix()}*"):
        pid_text = entry.name[len(_scratch_prefix()) :].split("-", 1)[0]
        try:
            pid = int(pid_text)
            owner = entry.lstat().st_uid
        except (ValueError, OSError):
            continue
        if owner != os.getuid() or entry.is_symlink() or _process_alive(pid):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


class _TermAsExit:
    """While a scratch is open in the main thread, SIGTERM unwinds (so cleanup runs)."""

    def __init__(self) -> None:
        self.previous = None
        self.installed = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return  # the program has its own plan for SIGTERM
        self.previous = signal.signal(signal.SIGTERM, _exit_on_term)
        self.installed = True

    def remove(self) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous or signal.SIG_DFL)
            self.installed = False


def _exit_on_term(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)


class Scratch:
    """The base commit plus applied patches, in a private index; use as a context manager."""

    def __init__(self, repo_dir: str | Path, base: str) -> None:
        self.repo_dir = str(repo_dir)
        self.git_dir, self.repo_objects = _git_dirs(repo_dir)
        self.base = resolve_base(repo_dir, base)
        self.tmp: Path | None = None
        self.env: dict[str, str] = {}
        self._batch: subprocess.Popen | None = None
        # Paths copied into the private index (and what is there now: blob id, None = gone).
        self._index: dict[str, str | None] = {}
        self._read_cache: dict[str, str | None] = {}
        self._term = _TermAsExit()

    def __enter__(self) -> Scratch:
        clean_leftovers()
        self._term.install()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{_scratch_prefix()}{os.getpid()}-"))
        objects = self.tmp / "objects"
        objects.mkdir()
        self.env = {
            **_clean_env(),
            "GIT_DIR": self.git_dir,
            "GIT_INDEX_FILE": str(self.tmp / "index"),
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": self.repo_objects,
        }
        try:
            self._batch = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            self.close()
            raise AnalysisError(f"cannot run git: {exc.strerror}") from exc
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the reader and remove the scratch directory (nothing else exists to undo)."""
        if self._batch is not None:
            try:
                if self._batch.stdin:
                    self._batch.stdin.close()
                self._batch.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._batch.kill()
                self._batch.wait()
            if self._batch.stdout:
                self._batch.stdout.close()
            self._batch = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        self._term.remove()

    # -- reading -----------------------------------------------------------------------------

    def _object(self, name: str) -> bytes | None:
        """A blob's bytes by object name (`<id>` or `<commit>:<path>`), None when absent."""
        if self._batch is None or self._batch.stdin is None or self._batch.stdout is None:
            raise AnalysisError("the scratch index is not open")
        if "\n" in name:
            done = _run(["cat-file", "blob", name], self.env)
            return done.stdout if done.returncode == 0 else None
        self._batch.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        self._batch.stdin.flush()
        header = self._batch.stdout.readline()
        parts = header.split()
        if len(parts) != 3:
            return None  # `<name> missing` (or ambiguous)
        data = self._batch.stdout.read(int(parts[2]))
        self._batch.stdout.read(1)  # the newline after the contents
        return data if parts[1] == b"blob" else None

    def read(self, path: str) -> str | None:
        """The file's text after the patches applied so far, or None when it does not exist."""
        if path in self._read_cache:
            return self._read_cache[path]
        if path in self._index:
            blob = self._index[path]
            data = self._object(blob) if blob else None
        else:
            data = self._object(f"{self.base}:{path}")
        text = data.decode("utf-8", "replace") if data is not None else None
        self._read_cache[path] = text
        return text

    # -- the private index -------------------------------------------------------------------

    def _load(self, paths: Iterable[str | None]) -> None:
        """Copy paths not yet in the private index from the base commit (absent ones stay so)."""
        wanted = sorted({p for p in paths if p and p not in self._index})
        if not wanted:
            return
        done = _run(["ls-tree", "-z", "--full-tree", self.base, "--", *wanted], self.env)
        if done.returncode != 0:
            raise AnalysisError(f"git ls-tree failed: {_stderr(done)}")
        entries = []
        for record in done.stdout.split(b"\0"):
            if not record:
                continue
            meta, _tab, raw_path = record.partition(b"\t")
            mode, kind, blob = meta.split()
            path = raw_path.decode("utf-8", "surrogateescape")
            if kind == b"blob" and path in wanted:
                entries.append(mode + b" " + blob + b"\t" + raw_path + b"\0")
                self._index[path] = blob.decode()
        for path in wanted:
            self._index.setdefault(path, None)
        if entries:
            done = _run(["update-index", "-z", "--index-info"], self.env, data=b"".join(entries))
            if done.returncode != 0:
                raise AnalysisError(f"git update-index failed: {_stderr(done)}")

    def _refresh(self, paths: list[str]) -> None:
        """Blob ids of paths in the private index after a patch (None where it deleted one)."""
        done = _run(["ls-files", "-s", "-z", "--", *paths], self.env)
        now: dict[str, str] = {}
        for record in done.stdout.split(b"\0"):
            if record:
                meta, _tab, raw_path = record.partition(b"\t")
                now[raw_path.decode("utf-8", "surrogateescape")] = meta.split()[1].decode()
        for path in paths:
            self._index[path] = now.get(path)
            self._read_cache.pop(path, None)

    def apply(self, diff: str, index: int = 0) -> None:
        """Apply one patch's diff to the private index, or raise PatchApplyError."""
        text = diff if diff.endswith("\n") else diff + "\n"
        if self.tmp is None:
            raise AnalysisError("the scratch index is not open")
        touched = [name for names in _touched(text) for name in names if name]
        self._load(touched)
        patch_file = self.tmp / f"patch-{index}.diff"
        patch_file.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            done = _run(
                ["apply", "--cached", "--whitespace=nowarn", str(patch_file)], self.env, self.tmp
            )
        finally:
            patch_file.unlink(missing_ok=True)
        if done.returncode != 0:
            raise PatchApplyError(index, _stderr(done))
        self._refresh(sorted(set(touched)))

    def grep(self, word: str) -> list[tuple[str, int, str]]:
        """(path, line, text) of every line naming word as a whole word, after the patches."""
        hits = [
            hit
            for hit in self._grep(["-e", word, self.base, "--"], prefix=f"{self.base}:")
            if hit[0] not in self._index
        ]
        if any(self._index.values()):
            hits += self._grep(["--cached", "-e", word], prefix="")
        return sorted(hits)

    def _grep(self, args: list[str], prefix: str) -> list[tuple[str, int, str]]:
        done = _run(["grep", "-z", "-n", "-w", "-I", "-F", *args], self.env)
        if done.returncode == 1:
            return []  # no match
        if done.returncode != 0:
            raise AnalysisError(f"git grep failed: {_stderr(done)}")
        hits = []
        for row in done.stdout.decode("utf-8", "replace").splitlines():
            path, line, text = row.split("\0", 2)
            hits.append((path.removeprefix(prefix), int(line), text))
        return hits

    def loaded_paths(self) -> list[str]:
        """The paths copied from the base into the private index: what the patches touch."""
        return sorted(self._index)

    def files(self) -> list[str]:
        """Every path after the patches applied so far."""
        done = _run(["ls-tree", "-r", "-z", "--name-only", "--full-tree", self.base], self.env)
        names = {n for n in done.stdout.decode("utf-8", "surrogateescape").split("\0") if n}
        names -= set(self._index)
        names |= {path for path, blob in self._index.items() if blob}
        return sorted(names)


# The name callers know; the class no longer makes a git worktree.
Worktree = Scratch


def _stderr(done: subprocess.CompletedProcess) -> str:
    text = done.stderr.decode("utf-8", "replace").strip()
    return text or f"git exited with {done.returncode}"


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
