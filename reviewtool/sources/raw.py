"""The unit every source yields: the bytes of one message and where they came from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RawMessage:
    """One message's bytes, or the reason a piece of input could not be read as one."""

    data: bytes
    location: str
    error: str | None = None  # set when the source could not read this piece
    # True when the piece could not be read because the source itself is damaged (a
    # truncated pack, a broken gzip stream): the run must not look like a clean one.
    damaged: bool = False
