"""Bounds on what one piece of input may make reviewtool hold: mail is written by strangers.

A message over the size limit is rejected with a reason (and accounted) without being held in
memory; a gzip stream that expands far more than mail does is refused as a likely bomb. The
limit is set with `REVIEWTOOL_MAX_MESSAGE_MB` (README, "Limits"); the default is far above any
real patch mail (the biggest on the kernel lists are a few megabytes).
"""

from __future__ import annotations

import os

from reviewtool.errors import InputError

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import BinaryIO

DEFAULT_MAX_MESSAGE_MB = 64
MAX_MESSAGE_ENV = "REVIEWTOOL_MAX_MESSAGE_MB"
# Mail compresses four to ten times; a stream that expands more than this past the floor
# below is a decompression bomb, not an archive.
GZIP_MAX_RATIO = 100
GZIP_RATIO_FLOOR_BYTES = 16 * 1024 * 1024
# Lines are read in pieces of at most this size, so a message that is one endless line is
# still measured (and rejected) without being held whole.
READ_CHUNK_BYTES = 1024 * 1024


def max_message_bytes() -> int:
    """The per-message size limit in bytes, from REVIEWTOOL_MAX_MESSAGE_MB or the default."""
    value = os.environ.get(MAX_MESSAGE_ENV, "").strip()
    if not value:
        return DEFAULT_MAX_MESSAGE_MB * 1024 * 1024
    try:
        megabytes = float(value)
    except ValueError:
        raise InputError(f"{MAX_MESSAGE_ENV}={value!r} is not a number of megabytes") from None
    if megabytes <= 0:
        raise InputError(f"{MAX_MESSAGE_ENV}={value!r} must be more than 0")
    return int(megabytes * 1024 * 1024)


def too_big(size: int, limit: int) -> str:
    """The reason a message of `size` bytes is rejected."""
    return (
        f"message larger than the {limit / (1024 * 1024):g} MB limit "
        f"({size / (1024 * 1024):.1f} MB or more; set {MAX_MESSAGE_ENV} to raise it)"
    )


class GzipBombError(InputError):
    """A gzip stream that expands far more than mail ever does."""


class RatioGuard:
    """A gzip reader that counts what it gives out against what it read from the file, and
    stops the stream when the ratio says bomb."""

    def __init__(self, stream: BinaryIO, raw: BinaryIO, path: str) -> None:
        self.stream = stream
        self.raw = raw
        self.path = path
        self.produced = 0

    def _account(self, data: bytes) -> bytes:
        self.produced += len(data)
        if self.produced > GZIP_RATIO_FLOOR_BYTES:
            consumed = max(self.raw.tell(), 1)
            if self.produced > consumed * GZIP_MAX_RATIO:
                raise GzipBombError(
                    f"{self.path}: gzip expands more than {GZIP_MAX_RATIO} times "
                    f"({consumed} bytes gave {self.produced}): refused as a decompression bomb"
                )
        return data

    def read(self, size: int = -1) -> bytes:
        return self._account(self.stream.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._account(self.stream.readline(size))

    def __iter__(self):  # noqa: ANN204 - an iterator of lines, as a file is
        while True:
            line = self.readline(READ_CHUNK_BYTES)
            if not line:
                return
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.stream.seek(offset, whence)

    def tell(self) -> int:
        return self.stream.tell()

    def close(self) -> None:
        self.stream.close()
        self.raw.close()

    def __enter__(self) -> RatioGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
