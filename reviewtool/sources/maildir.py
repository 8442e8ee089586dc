"""Maildir reader: every message in cur/ and new/, oldest name first."""

from __future__ import annotations

import os
from collections.abc import Iterator

from reviewtool.sources.limits import max_message_bytes, too_big
from reviewtool.sources.raw import RawMessage

MAILDIR_SUBDIRS = ("cur", "new")


def is_maildir(path: str) -> bool:
    """A Maildir has cur/, new/ and tmp/ side by side."""
    return all(os.path.isdir(os.path.join(path, sub)) for sub in ("cur", "new", "tmp"))


def iter_maildir(path: str, subdirs: tuple[str, ...] = MAILDIR_SUBDIRS) -> Iterator[RawMessage]:
    """Yield each message file of a Maildir (tmp/ holds deliveries in progress: skipped)."""
    for sub in subdirs:
        folder = os.path.join(path, sub)
        for name in sorted(os.listdir(folder)):
            if name.startswith("."):
                continue
            yield read_file(os.path.join(folder, name))


def read_file(path: str) -> RawMessage:
    """One RFC 822 message stored alone in a file (rejected unread past the size limit)."""
    limit = max_message_bytes()
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limit:
                return RawMessage(b"", path, error=too_big(size, limit))
            data = fh.read(limit + 1)  # a file that grows while read is bounded too
            if len(data) > limit:
                return RawMessage(b"", path, error=too_big(len(data), limit))
            return RawMessage(data, path)
    except OSError as exc:
        return RawMessage(b"", path, error=f"cannot read file: {exc.strerror or exc}")
