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
from itertools import chain
from pathlib import Path
from typing import Protocol

from reviewtool.errors import InputError
from reviewtool.sources.mbox import FROM_LINE_RE, MBOXRD_ESCAPE_RE
from reviewtool.sources.publicinbox import epoch_repos, is_public_inbox, read_commits, read_epoch

# Messages per committed batch: big enough to amortise the fsync, small enough that a crash
# re-reads little.
BATCH_SIZE = 200
# Read a growing mbox in chunks of this size.
MBOX_CHUNK = 1 << 20


@dataclass(frozen=True)
class Incoming:
    """One new message's bytes and where it was read, or why that piece could not be read."""

    data: bytes
    location: str
    error: str | None = None  # the source could not give this piece as a message
    damaged: bool = False  # ... because the source itself is damaged (a truncated pack)


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
    """A public-inbox v2 inbox (or one epoch repo), read by the one public-inbox reader
    (`sources.publicinbox`), so a damaged epoch is read as far as it goes, as the CLI reads it.

    The cursor holds, per epoch, the last commit walked and the commits whose message could
    not be read (tried again at each poll, so a repaired archive loses nothing). While an
    epoch's history cannot be walked, every readable commit is read at each poll (seen
    Message-IDs drop the repeats) and the walked commit stays where it was.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path).resolve()
        self.source = f"public-inbox:{self.path}"
        self.epochs = _epochs(self.path)
        if not self.epochs:
            raise InputError(f"{path}: no public-inbox git epoch found")

    def poll(self, cursor: str | None, known_files: set[str]) -> Iterator[Batch]:
        """Read new commits of every epoch, oldest first, and retry unreadable ones."""
        state: dict = json.loads(cursor) if cursor else {}
        for name, epoch_path in self.epochs:
            if not epoch_path.is_dir():
                raise InputError(f"{epoch_path}: not a git repository")
            yield from self._read(name, str(epoch_path), state)

    def _read(self, name: str, epoch: str, state: dict) -> Iterator[Batch]:
        unread_key = f"{name}:unread"
        # Commits whose message could not be read yet: those of earlier polls first.
        unread: list[str] = [str(sha) for sha in state.get(unread_key, [])]
        retried = list(unread)
        walked = True  # False once the reader says the history cannot be walked
        answered: set[str] = set()  # retried commits the reader gave something for
        batch = Batch()
        pieces = chain(
            (("retry", c, r) for c, r in (read_commits(epoch, retried) if retried else ())),
            (("walk", c, r) for c, r in read_epoch(epoch, state.get(name))),
        )
        for how, commit, raw in pieces:
            batch.messages.append(Incoming(raw.data, raw.location, raw.error, raw.damaged))
            if how == "retry" and commit is not None:
                answered.add(commit)
            if commit is None:
                walked = False
            elif raw.error is None and how == "retry":
                unread.remove(commit)
            elif raw.error is not None and how == "walk" and walked and commit not in unread:
                unread.append(commit)
            if how == "walk" and walked and commit is not None:
                state[name] = commit
            if len(batch.messages) >= BATCH_SIZE:
                batch.cursor = _cursor(state, unread_key, unread)
                yield batch
                batch = Batch()
        # A retried commit the reader passed over silently holds a deletion (`d`) now.
        gone = [sha for sha in retried if sha not in answered and sha in unread]
        for sha in gone:
            unread.remove(sha)
        if batch.messages or gone:
            batch.cursor = _cursor(state, unread_key, unread)
            yield batch


def _cursor(state: dict, unread_key: str, unread: list[str]) -> str:
    """The cursor after a batch: the walked commit of each epoch and its unread commits."""
    if unread:
        state[unread_key] = list(unread)
    else:
        state.pop(unread_key, None)
    return json.dumps(state, sort_keys=True)


def _epochs(path: Path) -> list[tuple[str, Path]]:
    """(name, path) of each epoch, in order: `git/0.git`, `git/1.git`, ... or the repo itself;
    the names key the cursor."""
    if not is_public_inbox(str(path)):
        return []
    return [(_epoch_name(Path(epoch), path), Path(epoch)) for epoch in epoch_repos(str(path))]


def _epoch_name(epoch: Path, inbox: Path) -> str:
    return "0" if epoch == inbox else epoch.name.removesuffix(".git")


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
