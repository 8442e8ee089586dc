"""The sources the bot follows, each read from where it stopped last time.

A watcher yields batches: the new messages and the cursor (or the file names) that pass them.
The runner commits a batch and its cursor together, so a crash re-reads at most one batch and
the Message-IDs already in the state drop the repeats.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from reviewtool.errors import InputError
from reviewtool.sources.mbox import FROM_LINE_RE, MBOXRD_ESCAPE_RE

# Messages per committed batch: big enough to amortise the fsync, small enough that a crash
# re-reads little.
BATCH_SIZE = 200
# Read a growing mbox in chunks of this size.
MBOX_CHUNK = 1 << 20


@dataclass(frozen=True)
class Incoming:
    """One new message's bytes and where it was read."""

    data: bytes
    location: str


@dataclass
class Batch:
    """New messages and the cursor (or Maildir file names) that pass them."""

    messages: list[Incoming] = field(default_factory=list)
    cursor: str | None = None
    files: list[str] = field(default_factory=list)


class Watcher(Protocol):
    """A source that can be read from a cursor on."""

    source: str

    def poll(self, cursor: str | None, known_files: set[str]) -> Iterator[Batch]:
        """Yield batches of messages that arrived after `cursor`."""
        ...


class PublicInboxWatcher:
    """A public-inbox v2 inbox (or one epoch repo): each commit adds one message as file `m`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self.source = f"public-inbox:{self.path}"
        self.epochs = _epochs(self.path)
        if not self.epochs:
            raise InputError(f"{path}: no public-inbox git epoch found")

    def poll(self, cursor: str | None, known_files: set[str]) -> Iterator[Batch]:
        """Walk new commits of every epoch, oldest first."""
        import git  # GitPython; imported here so the other watchers do not need it

        state: dict[str, str] = json.loads(cursor) if cursor else {}
        for name, epoch_path in self.epochs:
            try:
                repo = git.Repo(epoch_path)
            except (git.exc.GitError, OSError) as exc:
                raise InputError(f"{epoch_path}: not a git repository: {exc}") from None
            try:
                if not repo.head.is_valid():
                    continue
                yield from self._walk(repo, name, epoch_path, state)
            finally:
                repo.close()

    def _walk(self, repo, name: str, epoch_path: Path, state: dict[str, str]) -> Iterator[Batch]:
        import git

        last = state.get(name)
        rev = f"{last}..HEAD" if last else "HEAD"
        try:
            shas = repo.git.rev_list("--reverse", rev).split()
        except git.exc.GitCommandError:
            # The last commit seen is gone (the inbox was purged and rewritten): read it all
            # again; Message-IDs already seen are dropped.
            shas = repo.git.rev_list("--reverse", "HEAD").split()
        batch = Batch()
        for sha in shas:
            commit = repo.commit(sha)
            try:
                blob = commit.tree / "m"
            except KeyError:
                blob = None  # a deletion commit (`d`) or something else: no message
            if blob is not None:
                data = blob.data_stream.read()
                batch.messages.append(Incoming(data, f"{epoch_path}@{sha[:12]}"))
            state[name] = sha
            if len(batch.messages) >= BATCH_SIZE:
                batch.cursor = json.dumps(state, sort_keys=True)
                yield batch
                batch = Batch()
        if shas:
            batch.cursor = json.dumps(state, sort_keys=True)
            yield batch


def _epochs(path: Path) -> list[tuple[str, Path]]:
    """(name, path) of each epoch, in order: `git/0.git`, `git/1.git`, ... or the repo itself."""
    git_dir = path / "git"
    if git_dir.is_dir():
        found = []
        for child in git_dir.iterdir():
            stem = child.name.removesuffix(".git")
            if child.is_dir() and stem.isdigit():
                found.append((int(stem), child))
        return [(str(n), p) for n, p in sorted(found)]
    if (path / "HEAD").is_file() or (path / ".git").exists():
        return [("0", path)]
    return []


class MaildirWatcher:
    """A Maildir: files in `new/` (and `cur/`, where a reader may have moved them)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self.source = f"maildir:{self.path}"
        if not (self.path / "new").is_dir():
            raise InputError(f"{path}: not a Maildir (no new/ directory)")

    def poll(self, cursor: str | None, known_files: set[str]) -> Iterator[Batch]:
        """Yield files not read before, oldest name first (names start with the time)."""
        names: dict[str, Path] = {}
        for sub in ("cur", "new"):
            folder = self.path / sub
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if entry.is_file() and not entry.name.startswith("."):
                    # The unique part before ':2,FLAGS' survives a move from new/ to cur/.
                    names.setdefault(entry.name.split(":", 1)[0], Path(entry.path))
        batch = Batch()
        for key in sorted(names):
            if key in known_files:
                continue
            try:
                data = names[key].read_bytes()
            except FileNotFoundError:
                continue  # moved between listing and reading; the next poll finds it
            except OSError as exc:
                raise InputError(f"{names[key]}: cannot read: {exc.strerror}") from None
            batch.messages.append(Incoming(data, str(names[key])))
            batch.files.append(key)
            if len(batch.messages) >= BATCH_SIZE:
                yield batch
                batch = Batch()
        if batch.messages:
            yield batch


class MboxWatcher:
    """An mbox file that grows at its end; the cursor is the byte offset read up to."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self.source = f"mbox:{self.path}"
        if not self.path.is_file():
            raise InputError(f"{path}: no such mbox file")

    def poll(self, cursor: str | None, known_files: set[str]) -> Iterator[Batch]:
        """Yield whole messages after the offset; a message still being written waits."""
        offset = int(json.loads(cursor)["offset"]) if cursor else 0
        try:
            size = self.path.stat().st_size
            if size < offset:
                offset = 0  # truncated or replaced: start over, seen Message-IDs drop repeats
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                batch = Batch()
                for start, end, data in _split_complete(fh, offset):
                    batch.messages.append(Incoming(data, f"{self.path}:{start}"))
                    batch.cursor = json.dumps({"offset": end})
                    if len(batch.messages) >= BATCH_SIZE:
                        yield batch
                        batch = Batch()
                if batch.messages:
                    yield batch
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read: {exc.strerror}") from None


def _split_complete(fh, base: int) -> Iterator[tuple[int, int, bytes]]:
    """(start, end, message) for each complete message from the current position.

    A message is complete when the next separator follows it, or, for the last one, when the
    file ends with the blank line every mbox writer puts after a message.
    """
    lines: list[bytes] = []
    start = base
    offset = base
    previous_blank = True
    for line in fh:
        if previous_blank and line.startswith(b"From ") and FROM_LINE_RE.match(line):
            if lines:
                yield start, offset, _unescape(lines)
            lines = []
            start = offset
            offset += len(line)
            previous_blank = False
            continue
        lines.append(line)
        offset += len(line)
        previous_blank = line in (b"\n", b"\r\n")
    if lines and previous_blank and lines[-1].endswith(b"\n"):
        yield start, offset, _unescape(lines)


def _unescape(lines: list[bytes]) -> bytes:
    body = b"".join(lines)
    # The blank line after each message belongs to the mbox, not to the message.
    if body.endswith(b"\n\n"):
        body = body[:-1]
    return MBOXRD_ESCAPE_RE.sub(rb"\1", body)


def open_watcher(path: Path | str) -> Watcher:
    """Pick the watcher for a path: public-inbox git, Maildir, or mbox file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such source")
    if p.is_dir():
        if (p / "new").is_dir():
            return MaildirWatcher(p)
        if _epochs(p):
            return PublicInboxWatcher(p)
        raise InputError(f"{path}: neither a Maildir nor a public-inbox repository")
    return MboxWatcher(p)
