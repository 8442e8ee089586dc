"""Archives cut into pieces that can be read apart, and one message read back by its place.

`scan` reads big archives in partitions (an mbox byte range, a run of public-inbox commits),
possibly in other processes or on other machines, and the series index keeps where each
message lives so a review can read just the messages it needs. Both need the same two
things: where a message starts and how long it is (mbox), or which git blob holds it
(public-inbox). The separator rule is the streaming reader's (`sources.mbox`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from reviewtool.errors import InputError
from reviewtool.sources import NOT_MAIL_SUFFIXES, iter_path
from reviewtool.sources.maildir import is_maildir
from reviewtool.sources.mbox import FROM_LINE_RE, GZIP_MAGIC, MBOXRD_ESCAPE_RE, open_maybe_gzip
from reviewtool.sources.publicinbox import MESSAGE_BLOB, epoch_repos, is_public_inbox

# An mbox is cut into ranges of about this size: big enough that a partition's start-up cost
# is noise, small enough that two workers share a 100 MB archive.
MBOX_PARTITION_BYTES = 32 * 1024 * 1024
# A public-inbox epoch is cut into runs of this many commits (one message each).
COMMITS_PER_PARTITION = 20_000

# What kind of place a message is read back from.
PLACE_MBOX = "mbox"  # byte offset and length in an mbox (offsets of the decompressed stream)
PLACE_BLOB = "blob"  # a git blob id in a public-inbox epoch repository
PLACE_FILE = "file"  # a file holding one message (.eml, Maildir entry)


@dataclass(frozen=True)
class Place:
    """Where one message's bytes live, so that they can be read again later."""

    kind: str
    source: str  # the mbox, the epoch repository or the file
    offset: int = 0
    length: int = 0
    blob: str = ""

    def describe(self) -> str:
        """`path@offset`, `epoch@blob`: the form reviewtool's other readers print."""
        if self.kind == PLACE_MBOX:
            return f"{self.source}@{self.offset}"
        if self.kind == PLACE_BLOB:
            return f"{self.source}@{self.blob[:12]}"
        return self.source


@dataclass(frozen=True)
class Partition:
    """One independently readable piece of an archive."""

    kind: str  # PLACE_MBOX, PLACE_BLOB or PLACE_FILE
    source: str
    start: int = 0  # mbox: first byte; public-inbox: first commit number after `since`
    end: int | None = None  # mbox: messages starting before this byte; public-inbox: commits
    since: str = ""  # public-inbox: the commit already read (the cursor), or ""

    def describe(self) -> str:
        """A short name for progress lines and error messages."""
        if self.kind == PLACE_MBOX:
            return f"{self.source}[{self.start}:{'' if self.end is None else self.end}]"
        if self.kind == PLACE_BLOB:
            return f"{self.source}[commits {self.start}:{self.end}]"
        return self.source


@dataclass(frozen=True)
class PlacedMessage:
    """The bytes of one message, where they came from, or why they could not be read."""

    data: bytes
    place: Place
    error: str | None = None


def plan(
    path: str,
    cursors: dict[str, str] | None = None,
    partition_bytes: int = MBOX_PARTITION_BYTES,
) -> list[Partition]:
    """The partitions of one input path; `cursors` (source -> position) skip what was read."""
    cursors = cursors or {}
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file or directory")
    if os.path.isdir(path) and is_public_inbox(path):
        return [p for epoch in epoch_repos(path) for p in _plan_epoch(epoch, cursors.get(epoch))]
    if os.path.isfile(path) and _is_mbox(path):
        return _plan_mbox(path, int(cursors.get(path) or 0), partition_bytes)
    if os.path.isdir(path) and not is_maildir(path):
        # A directory of mboxes and messages: each file is planned on its own, in the order
        # the streaming reader walks them, so an mbox in it is still cut into ranges.
        out: list[Partition] = []
        for root, dirs, files in os.walk(path):
            dirs.sort()
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in sorted(files):
                if not name.startswith(".") and not name.lower().endswith(NOT_MAIL_SUFFIXES):
                    out.extend(plan(os.path.join(root, name), cursors, partition_bytes))
        return out
    return [Partition(PLACE_FILE, path)]


def _is_mbox(path: str) -> bool:
    try:
        with open_maybe_gzip(path) as fh:
            return fh.read(5) == b"From "
    except (OSError, EOFError):
        return False


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _plan_mbox(path: str, done: int, partition_bytes: int) -> list[Partition]:
    if _is_gzip(path):
        # A gzip stream cannot be entered in the middle: one partition, read from the cursor.
        return [Partition(PLACE_MBOX, path, done, None)]
    size = os.path.getsize(path)
    if done >= size:
        return []
    starts = list(range(done, size, max(1, partition_bytes)))
    ends = [*starts[1:], None]
    return [Partition(PLACE_MBOX, path, s, e) for s, e in zip(starts, ends, strict=True)]


def _plan_epoch(epoch: str, since: str | None) -> list[Partition]:
    count = _rev_count(epoch, since)
    return [
        Partition(PLACE_BLOB, epoch, s, min(s + COMMITS_PER_PARTITION, count), since or "")
        for s in range(0, count, COMMITS_PER_PARTITION)
    ]


def _git(epoch: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        ["git", f"--git-dir={epoch}", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )


def _revs(since: str | None) -> str:
    return f"{since}..HEAD" if since else "HEAD"


def _rev_count(epoch: str, since: str | None) -> int:
    done = subprocess.run(
        ["git", f"--git-dir={epoch}", "rev-list", "--count", _revs(since)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return 0  # an empty epoch (no HEAD yet) holds no mail
    return int(done.stdout.strip() or 0)


def read_partition(part: Partition) -> Iterator[PlacedMessage]:
    """Every message of one partition, in archive order, one at a time."""
    if part.kind == PLACE_MBOX:
        yield from _read_mbox_range(part.source, part.start, part.end)
    elif part.kind == PLACE_BLOB:
        yield from _read_commits(part)
    else:
        for raw in iter_path(part.source, []):
            where = raw.location if os.path.isfile(raw.location) else part.source
            yield PlacedMessage(raw.data, Place(PLACE_FILE, where), raw.error)


def last_commit(part: Partition) -> str:
    """The newest commit of a public-inbox partition: the epoch's cursor once it is read."""
    if part.kind != PLACE_BLOB or part.end is None:
        return ""
    proc = _git(part.source, "rev-list", "--reverse", _revs(part.since or None))
    last = ""
    assert proc.stdout is not None
    for number, line in enumerate(proc.stdout):
        if number == part.end - 1:
            last = line.decode().strip()
            break
    proc.kill()
    proc.wait()
    return last


def _read_mbox_range(path: str, start: int, end: int | None) -> Iterator[PlacedMessage]:
    """Messages whose separator lies in [start, end); the last one is read to its end."""
    try:
        with open_maybe_gzip(path) as fh:
            strict = bool(FROM_LINE_RE.match(fh.readline()))
            start, previous_blank = _line_start(fh, start)
            yield from _split_range(fh, path, start, end, strict, previous_blank)
    except (OSError, EOFError) as exc:
        yield PlacedMessage(b"", Place(PLACE_MBOX, path, start), f"archive is damaged: {exc}")


def _is_separator(line: bytes, strict: bool) -> bool:
    return line.startswith(b"From ") and (not strict or bool(FROM_LINE_RE.match(line)))


def _line_start(fh, start: int) -> tuple[int, bool]:
    """Move to the first line that begins at or after `start`; say whether the line before it
    is blank (a separator counts only after a blank line, or at byte 0)."""
    if start == 0:
        fh.seek(0)
        return 0, True
    back = min(start, 3)
    fh.seek(start - back)
    before = fh.read(back)
    if before.endswith(b"\n"):
        # At a line start: the line before is blank when it is only a line end itself.
        return start, before[:-1].endswith(b"\n") or before == b"\n" * back or (
            before.endswith(b"\n\r\n")
        )
    rest = fh.readline()  # the tail of a line cut in the middle: never a separator
    return start + len(rest), False


def _split_range(fh, path: str, start: int, end: int | None, strict: bool, previous_blank: bool):
    offset = start
    lines: list[bytes] = []
    msg_start = -1
    for line in fh:
        if previous_blank and _is_separator(line, strict):
            if msg_start >= 0:
                yield _placed(lines, path, msg_start, offset)
            lines = []
            if end is not None and offset >= end:
                return
            msg_start = offset
            offset += len(line)
            previous_blank = False
            continue
        if msg_start >= 0:
            lines.append(line)
        offset += len(line)
        previous_blank = line in (b"\n", b"\r\n")
    if msg_start >= 0:
        yield _placed(lines, path, msg_start, offset)


def _placed(lines: list[bytes], path: str, start: int, stop: int) -> PlacedMessage:
    return PlacedMessage(_unescape(lines), Place(PLACE_MBOX, path, start, stop - start))


def _unescape(lines: list[bytes]) -> bytes:
    # The blank line before the next separator belongs to the mbox, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    data = b"".join(lines)
    if b"\n>" in data or data.startswith(b">"):
        data = MBOXRD_ESCAPE_RE.sub(rb"\1", data)
    return data


def _read_commits(part: Partition) -> Iterator[PlacedMessage]:
    """The `m` blob of commits [start, end) after `since`, oldest first, by `git cat-file`."""
    revs = _git(part.source, "rev-list", "--reverse", _revs(part.since or None))
    batch = subprocess.Popen(
        ["git", f"--git-dir={part.source}", "cat-file", "--batch"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert revs.stdout is not None and batch.stdin is not None and batch.stdout is not None
    try:
        for number, line in enumerate(revs.stdout):
            if number < part.start:
                continue
            if part.end is not None and number >= part.end:
                break
            commit = line.decode().strip()
            batch.stdin.write(f"{commit}:{MESSAGE_BLOB}\n".encode())
            batch.stdin.flush()
            header = batch.stdout.readline().decode().split()
            if len(header) < 3 or header[1] == "missing":
                continue  # a deletion commit (public-inbox writes `d`): no message to read
            size = int(header[2])
            data = batch.stdout.read(size)
            batch.stdout.read(1)  # the newline after each object
            yield PlacedMessage(data, Place(PLACE_BLOB, part.source, blob=header[0]))
    finally:
        revs.kill()
        revs.wait()
        batch.stdin.close()
        batch.kill()
        batch.wait()


def read_back(place: Place) -> bytes:
    """The bytes of one message from where the index says it is."""
    try:
        if place.kind == PLACE_MBOX:
            with open_maybe_gzip(place.source) as fh:
                fh.seek(place.offset)
                block = fh.read(place.length)
            head, _, rest = block.partition(b"\n")
            if not head.startswith(b"From "):
                raise InputError(f"{place.describe()}: no message starts there any more")
            return _unescape(rest.splitlines(keepends=True))
        if place.kind == PLACE_BLOB:
            done = subprocess.run(
                ["git", f"--git-dir={place.source}", "cat-file", "blob", place.blob],
                capture_output=True,
            )
            if done.returncode != 0:
                raise InputError(f"{place.describe()}: blob is gone from the archive")
            return done.stdout
        with open(place.source, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{place.describe()}: cannot read: {exc.strerror or exc}") from exc
