"""The few git operations the pre-push hook needs, as plain `git` processes.

The hook runs on every push, so its start-up is part of every push: GitPython costs more to
import than the rest of the hook's own code, for a handful of commands. A `GitRepo` runs
`git` directly and reads blobs through one `git cat-file --batch` process. Every function
here also accepts a GitPython `Repo` (tests and library callers have one), through its
`git.execute`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewtool.errors import InputError

# Bytes of object names asked of cat-file at once: git answers the first while the rest are
# still being written, so they must fit in a pipe (64 KiB on Linux, 16 KiB or more elsewhere)
# or both sides wait on each other.
_BATCH_BYTES = 8192


class GitError(InputError):
    """A git command failed; the message is git's own first line."""


class GitRepo:
    """A repository addressed by its top directory (or git dir, for a bare repository)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._batch: subprocess.Popen[bytes] | None = None

    @classmethod
    def discover(cls, path: Path) -> GitRepo:
        """The repository containing `path` (its top, or its git dir when bare)."""
        try:
            done = subprocess.run(
                ["git", "-C", str(path), "rev-parse", "--show-toplevel", "--absolute-git-dir"],
                capture_output=True,
                text=True,
            )
        except OSError as exc:
            raise InputError(f"cannot run git: {exc.strerror}") from None
        lines = done.stdout.splitlines()
        if done.returncode or not lines:
            raise InputError(f"{path} is not inside a git repository")
        # A bare repository prints no top level: its git dir is the root.
        top = lines[0] if len(lines) == 2 else lines[-1]
        return cls(Path(top))

    def run(self, *args: str, stdin: bytes | None = None) -> str:
        """`git ARGS` in this repository; its stdout (a GitError with git's words on failure)."""
        return self.start(*args, stdin=stdin)()

    def start(self, *args: str, stdin: bytes | None = None) -> Callable[[], str]:
        """Start `git ARGS`; the function returned waits for it and gives what `run` gives.

        The hook has other work to do while git computes a diff (on another core)."""
        # Bytes, decoded here: text mode would also turn each `\r` of a patch line into a line
        # break (universal newlines), and the hook would read another diff than git applies.
        process = subprocess.Popen(
            ["git", "-C", str(self.root), *args],
            stdin=subprocess.PIPE if stdin is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

        def finish() -> str:
            out, err = process.communicate(stdin)
            if process.returncode:
                stderr = err.decode("utf-8", "replace")
                first = (stderr.strip().splitlines() or ["failed"])[0]
                raise GitError(f"git {args[0]}: {first}")
            return out.decode("utf-8", "replace")

        return finish

    def blob(self, spec: str) -> tuple[str, bytes] | None:
        """(type, content) of the object `spec` names (`commit:path`), or None if missing."""
        found = self._cat(spec)
        return None if found is None else (found[1], found[2])

    def info(self, spec: str) -> tuple[str, str] | None:
        """(object id, type) of what `spec` names (`sha^{commit}` too), or None if nothing.
        Asked of the cat-file process the blobs come through: no git process of its own."""
        found = self._cat(spec)
        return None if found is None else (found[0], found[1])

    def blobs(self, specs: list[str]) -> list[tuple[str, bytes] | None]:
        """`blob(spec)` for each of `specs`, asked of git in batches: one round trip per
        batch instead of one per object (git streams the answers while the hook reads)."""
        found: list[tuple[str, bytes] | None] = []
        batch: list[str] = []
        size = 0
        for spec in [*specs, None]:
            if batch and (spec is None or size + len(spec.encode()) + 1 > _BATCH_BYTES):
                found += [None if item is None else item[1:] for item in self._cat_many(batch)]
                batch, size = [], 0
            if spec is not None:
                batch.append(spec)
                size += len(spec.encode()) + 1
        return found

    def _cat(self, spec: str) -> tuple[str, str, bytes] | None:
        return self._cat_many([spec])[0]

    def _cat_many(self, specs: list[str]) -> list[tuple[str, str, bytes] | None]:
        if self._batch is None:
            self._batch = subprocess.Popen(
                ["git", "-C", str(self.root), "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
        assert self._batch.stdin is not None and self._batch.stdout is not None
        # A name with a newline cannot be asked for on one line: it cannot be a C file we read.
        asked = [spec for spec in specs if "\n" not in spec]
        # The requests fit in the pipe (_BATCH_BYTES), or are one: written whole before git's
        # answers are read, they cannot block on an answer git cannot write yet.
        self._batch.stdin.write(b"".join(spec.encode() + b"\n" for spec in asked))
        self._batch.stdin.flush()
        answers = {}
        for spec in asked:
            header = self._batch.stdout.readline().split()
            if len(header) != 3:
                answers[spec] = None  # `<spec> missing` (or ambiguous): no such object here
                continue
            sha, kind, size = header[0].decode(), header[1].decode(), int(header[2])
            data = self._batch.stdout.read(size)
            self._batch.stdout.read(1)  # the newline after the content
            answers[spec] = (sha, kind, data)
        return [answers.get(spec) for spec in specs]

    def detach(self) -> None:
        """Forget the cat-file process without ending it (a forked worker: it is the parent's)."""
        if self._batch is not None:
            for pipe in (self._batch.stdin, self._batch.stdout):
                if pipe is not None:
                    pipe.close()
            self._batch = None

    def close(self) -> None:
        """End the cat-file process."""
        if self._batch is not None:
            if self._batch.stdin:
                self._batch.stdin.close()
            self._batch.wait(timeout=10)
            self._batch = None


def git_output(repo: Any, *args: str) -> str:
    """Run `git ARGS` for a GitRepo or a GitPython Repo."""
    if isinstance(repo, GitRepo):
        return repo.run(*args)
    import git  # noqa: PLC0415 - only when a caller handed us GitPython's Repo

    try:
        return repo.git.execute(["git", *args], strip_newline_in_stdout=False)
    except git.GitCommandError as exc:
        first = (str(exc.stderr).strip().strip("'").strip().splitlines() or ["failed"])[0]
        raise GitError(f"git {args[0]}: {first}") from None


def read_blob(repo: Any, spec: str) -> tuple[str, bytes] | None:
    """(type, content) of `commit:path`, or None when there is no such object."""
    if isinstance(repo, GitRepo):
        return repo.blob(spec)
    try:
        _sha, kind, _size, data = repo.git.get_object_data(spec)
    except ValueError:
        return None
    return kind.decode(), data


def read_blobs(repo: Any, specs: list[str]) -> list[tuple[str, bytes] | None]:
    """`read_blob` of each of `specs`, in one exchange with git where it can."""
    if isinstance(repo, GitRepo):
        return repo.blobs(specs)
    return [read_blob(repo, spec) for spec in specs]


def object_type(repo: Any, rev: str) -> str | None:
    """`commit`, `tag`, `tree`, `blob`, or None when `rev` names nothing here."""
    if isinstance(repo, GitRepo):
        found = repo.info(rev)
        return None if found is None else found[1]
    try:
        return git_output(repo, "cat-file", "-t", rev).strip() or None
    except GitError:
        return None


def rev_parse(repo: Any, rev: str) -> str | None:
    """The object id `rev` names, or None."""
    if isinstance(repo, GitRepo):
        found = repo.info(f"{rev}^{{object}}")
        return None if found is None else found[0]
    try:
        return git_output(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{object}}").strip()
    except GitError:
        return None
