"""Streaming mbox reader (mboxo and mboxrd, plain or gzip): one message at a time."""

from __future__ import annotations

import io
import os
import re
import stat
import zlib
from collections.abc import Iterator

from reviewtool.sources.limits import (
    READ_CHUNK_BYTES,
    GzipBombError,
    RatioGuard,
    max_message_bytes,
    too_big,
)
from reviewtool.sources.raw import RawMessage

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import BinaryIO

# A strict "From " separator: `From <addr> <asctime date>` as mbox writers put it
# (`From 1234abcd Mon Sep 17 00:00:00 2001` from git format-patch, `From mboxrd@z Thu Jan  1
# 00:00:00 1970` from public-inbox). Being strict keeps a commit-message line that happens
# to start with "From " from splitting a message in two; mboxo never escapes those.
FROM_LINE_RE = re.compile(rb"^From \S+ +(?:[A-Z][a-z]{2} +)?[A-Z][a-z]{2} +\d{1,2} +\d{1,2}:\d{2}")
# mboxrd escapes every `>*From ` line with one more `>`; undo exactly one.
MBOXRD_ESCAPE_RE = re.compile(rb"^>(>*From )", re.M)
GZIP_MAGIC = b"\x1f\x8b"


def looks_like_mbox(head: bytes) -> bool:
    """True when the first bytes of a file start an mbox."""
    return head.startswith(b"From ")


def open_maybe_gzip(path: str) -> BinaryIO:
    """Open a file for binary reading, transparently decompressing gzip (streamed, with a
    guard that refuses a stream expanding like a decompression bomb)."""
    raw = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = raw.read(2)
    raw.seek(0)
    if magic == GZIP_MAGIC:
        import gzip  # noqa: PLC0415 - only for .gz input

        stream = gzip.GzipFile(fileobj=raw, mode="rb")
        return RatioGuard(stream, raw, path)  # type: ignore[return-value]
    return raw


def iter_mbox(path: str, stream: BinaryIO | None = None) -> Iterator[RawMessage]:
    """Yield each message of an mbox file, never holding more than one in memory (or, for a
    file no bigger than one bounded read, that file)."""
    own = stream is None
    limit = max_message_bytes()
    fh = open_maybe_gzip(path) if stream is None else stream
    try:
        size = _small_plain_file(fh) if own else None
        data = fh.read(size + 1) if size is not None else None
        if data is not None and len(data) <= size:
            yield from _split_whole(data, path, limit)
        else:
            if data is not None:
                fh.seek(0)  # the file grew since it was looked at: stream it
            yield from _split(fh, path, limit)
    except GzipBombError as exc:
        yield RawMessage(b"", f"{path}", error=str(exc).removeprefix(f"{path}: "), damaged=True)
    except (OSError, EOFError, zlib.error) as exc:
        yield RawMessage(b"", f"{path}", error=f"archive is damaged: {exc}", damaged=True)
    finally:
        if own:
            fh.close()


def _split(fh: BinaryIO, path: str, limit: int) -> Iterator[RawMessage]:
    """Cut the stream at separators. Lines are read in bounded pieces, and a message past
    `limit` bytes is dropped as it grows (then rejected with its size), so that memory never
    holds more than one message of at most `limit` bytes."""
    lines: list[bytes] = []
    size = 0
    oversize = False
    start = 0
    offset = 0
    strict = True
    previous_blank = True
    first = True
    at_line_start = True
    while True:
        line = fh.readline(READ_CHUNK_BYTES)
        if not line:
            break
        starts_line, at_line_start = at_line_start, line.endswith(b"\n")
        if starts_line and line.startswith(b"From ") and (first or previous_blank):
            if first and not FROM_LINE_RE.match(line):
                # An mbox whose writer used a separator we do not know: fall back to the
                # classic rule (any "From " after a blank line).
                strict = False
            if not strict or FROM_LINE_RE.match(line):
                if oversize:
                    yield RawMessage(b"", f"{path}@{start}", error=too_big(size, limit))
                elif lines:
                    yield _message(lines, path, start)
                lines, size, oversize = [], 0, False
                start = offset
                offset += len(line)
                first = False
                previous_blank = False
                continue
        if first:
            # Text before any separator: not an mbox after all; treat the whole as one message.
            first = False
        offset += len(line)
        size += len(line)
        previous_blank = starts_line and line in (b"\n", b"\r\n")
        if oversize:
            continue
        if size > limit:
            lines, oversize = [], True  # let go of it now, not at the next separator
            continue
        lines.append(line)
    if oversize:
        yield RawMessage(b"", f"{path}@{start}", error=too_big(size, limit))
    elif lines:
        yield _message(lines, path, start)


def _small_plain_file(fh: BinaryIO) -> int | None:
    """The size of a regular file (not gzip, not a pipe) no bigger than one bounded read;
    None for anything else."""
    if not isinstance(fh, io.BufferedReader):
        return None
    info = os.fstat(fh.fileno())
    if stat.S_ISREG(info.st_mode) and info.st_size <= READ_CHUNK_BYTES:
        return info.st_size
    return None


def _split_whole(data: bytes, path: str, limit: int) -> Iterator[RawMessage]:
    """_split() of a file read whole (one .patch or a small mbox), with the same rules and
    results: only lines that start with `From ` are looked at in Python, the messages
    between them are cut out as slices. Every line is whole here, since the file is no
    longer than one bounded read."""
    strict = True
    body_start = 0  # where the current message's lines begin
    start = 0  # where its separator (or the file) begins
    for at in _lines_starting_with_from(data):
        end = data.find(b"\n", at) + 1 or len(data)
        line = data[at:end]
        if at == 0:
            strict = bool(FROM_LINE_RE.match(line))
        else:
            before = data.rfind(b"\n", 0, at - 1) + 1
            if data[before:at] not in (b"\n", b"\r\n"):
                continue
            if strict and not FROM_LINE_RE.match(line):
                continue
        if at > body_start:
            yield _whole_message(data[body_start:at], path, start, limit)
        start, body_start = at, end
    if len(data) > body_start:
        yield _whole_message(data[body_start:], path, start, limit)


def _lines_starting_with_from(data: bytes) -> Iterator[int]:
    """Where a separator can be: the offset of each line that starts with `From ` (what
    `^From ` finds under re.M), found with bytes.find: the pattern is tried at every offset."""
    if data.startswith(b"From "):
        yield 0
    at = data.find(b"\nFrom ")
    while at >= 0:
        yield at + 1
        at = data.find(b"\nFrom ", at + 1)


def _whole_message(body: bytes, path: str, start: int, limit: int) -> RawMessage:
    if len(body) > limit:
        return RawMessage(b"", f"{path}@{start}", error=too_big(len(body), limit))
    # The blank line before the next separator belongs to the mbox, not the message.
    if body.endswith(b"\n"):
        last = body.rfind(b"\n", 0, len(body) - 1) + 1
        if body[last:] in (b"\n", b"\r\n"):
            body = body[:last]
    return _finish(body, path, start)


def _message(lines: list[bytes], path: str, start: int) -> RawMessage:
    # The blank line before the next separator belongs to the mbox, not the message.
    if lines and lines[-1] in (b"\n", b"\r\n"):
        lines = lines[:-1]
    return _finish(b"".join(lines), path, start)


def _finish(data: bytes, path: str, start: int) -> RawMessage:
    if b"\n>" in data or data.startswith(b">"):
        data = MBOXRD_ESCAPE_RE.sub(rb"\1", data)
    return RawMessage(data, f"{path}@{start}")
