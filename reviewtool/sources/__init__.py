"""Sources: read message bytes from mbox, Maildir, single files, directories, public-inbox.

Every reader streams: memory holds one message at a time, whatever the archive's size.
"""

from __future__ import annotations

import os
import stat
import zlib
from collections.abc import Iterable, Iterator

from reviewtool.errors import InputError
from reviewtool.sources.limits import READ_CHUNK_BYTES, GzipBombError, max_message_bytes, too_big
from reviewtool.sources.maildir import is_maildir, iter_maildir, read_file
from reviewtool.sources.mbox import (
    GZIP_MAGIC,
    _split_whole,
    iter_mbox,
    looks_like_mbox,
    open_maybe_gzip,
)
from reviewtool.sources.publicinbox import is_public_inbox, iter_public_inbox
from reviewtool.sources.raw import RawMessage

__all__ = ["RawMessage", "iter_messages", "iter_path", "SkippedFile"]

# How much of a file we look at to decide whether it holds mail.
SNIFF_BYTES = 4096
# File names in a directory that are never mail (keeps README/SOURCES notes out of the count).
NOT_MAIL_SUFFIXES = (".md", ".rst", ".py", ".json", ".html", ".png", ".jpg", ".toml", ".yaml")


# Names that claim to hold mail: when such a file does not, it is rejected with a reason.
MAIL_SUFFIXES = (".eml", ".patch", ".diff", ".mbox", ".mbx", ".msg", ".gz", ".mail")


class SkippedFile(Exception):
    """A file in a directory walk that is not mail; the caller notes it."""


def iter_messages(paths: Iterable[str], skipped: list[str] | None = None) -> Iterator[RawMessage]:
    """Yield every message found under the given paths, in order."""
    for path in paths:
        yield from iter_path(path, skipped)


def iter_path(path: str, skipped: list[str] | None = None) -> Iterator[RawMessage]:
    """Yield the messages of one path, whatever its format."""
    try:
        info = os.stat(path)  # one stat for "exists" and "is a directory"
    except (OSError, ValueError):
        raise InputError(f"{path}: no such file or directory") from None
    if stat.S_ISDIR(info.st_mode):
        if is_maildir(path):
            yield from iter_maildir(path)
        elif is_public_inbox(path):
            yield from iter_public_inbox(path)
        else:
            yield from _iter_directory(path, skipped)
        return
    kind, whole = _sniff(path)
    if kind == "mbox":
        if whole is not None:
            yield from _split_whole(whole, path, max_message_bytes())
        else:
            yield from iter_mbox(path)
    elif kind == "message":
        if whole is not None:
            yield _whole_file_message(whole, path)
        else:
            yield read_file(path) if not _is_gzip(path) else _read_gzip_message(path)
    elif kind == "empty":
        yield RawMessage(b"", path, error="empty file")
    elif skipped is None or _claims_to_be_mail(path):
        yield RawMessage(b"", path, error="not a mail file (no mail headers, no mbox separator)")
    else:
        skipped.append(path)


def _iter_directory(path: str, skipped: list[str] | None) -> Iterator[RawMessage]:
    for root, dirs, files in os.walk(path):
        dirs.sort()
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in sorted(files):
            if name.startswith("."):
                continue
            full = os.path.join(root, name)
            if name.lower().endswith(NOT_MAIL_SUFFIXES):
                if skipped is not None:
                    skipped.append(full)
                continue
            yield from iter_path(full, skipped if skipped is not None else [])


def _claims_to_be_mail(path: str) -> bool:
    """A name that says mail (`.eml`, `.patch`, public-inbox's `m`, no suffix): reject, not skip."""
    name = os.path.basename(path).lower()
    return name.endswith(MAIL_SUFFIXES) or "." not in name


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def _read_gzip_message(path: str) -> RawMessage:
    """One gzipped message, decompressed up to the size limit and never past it."""
    limit = max_message_bytes()
    try:
        with open_maybe_gzip(path) as fh:
            data = fh.read(limit + 1)
    except GzipBombError as exc:
        return RawMessage(b"", path, error=str(exc).removeprefix(f"{path}: "), damaged=True)
    except (OSError, EOFError, zlib.error) as exc:
        return RawMessage(b"", path, error=f"damaged gzip file: {exc}", damaged=True)
    if len(data) > limit:
        return RawMessage(b"", path, error=too_big(len(data), limit))
    return RawMessage(data, path)


def _whole_file_message(data: bytes, path: str) -> RawMessage:
    """`read_file` of a file already read whole."""
    limit = max_message_bytes()
    if len(data) > limit:
        return RawMessage(b"", path, error=too_big(len(data), limit))
    return RawMessage(data, path)


def _small_plain_bytes(path: str) -> bytes | None:
    """The bytes of a regular, uncompressed file no bigger than one bounded read, read with
    the os calls alone (open, fstat, read, close: Python's buffered file adds a tty check and
    seeks, which cost more than the read for a 2 kB patch); None for anything else, and for
    a file that grew while read (the streaming readers take those)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_size > READ_CHUNK_BYTES:
            return None
        data = os.read(descriptor, info.st_size + 1)
    finally:
        os.close(descriptor)
    if len(data) > info.st_size or data.startswith(GZIP_MAGIC):
        return None
    return data


def _sniff(path: str) -> tuple[str, bytes | None]:
    """Tell an mbox from a single message from something else by the first bytes; and the
    file's bytes when it is a small plain file, read whole here so that it is opened once
    (a directory of 200 `.patch` files is read in 200 opens, not 400)."""
    try:
        whole = _small_plain_bytes(path)
        if whole is not None:
            data = whole
        else:
            with open_maybe_gzip(path) as fh:
                data = fh.read(SNIFF_BYTES)
    except (EOFError, zlib.error, GzipBombError):
        return "mbox", None  # a damaged gzip: the mbox reader yields what it can and says so
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    head = data[:SNIFF_BYTES]
    if not head.strip():
        return "empty", None
    if looks_like_mbox(head):
        return "mbox", whole
    first = head.lstrip(b"\r\n").split(b"\n", 1)[0]
    if b":" in first:
        name = first.split(b":", 1)[0]
        if name and all(33 <= c <= 126 for c in name):
            return "message", whole
    return "other", None
