"""Read one message again from where a source found it (`path@offset` in an mbox, a file).

The series layer keeps headers, trailers and diff summaries of a large input and drops the
bodies; an analysis that needs a body reads it back through this, one seek and one message.
"""

from __future__ import annotations

import os

from reviewtool.errors import InputError
from reviewtool.sources.limits import max_message_bytes
from reviewtool.sources.mbox import GZIP_MAGIC, _split


def can_read_again(location: str, plain: dict[str, bool] | None = None) -> bool:
    """True when `read_again` can read the message at `location` again cheaply (not gzip,
    public-inbox objects, standard input). `plain` caches, per file, whether it is a plain
    file, so an mbox is asked once, not once per message."""
    plain = {} if plain is None else plain
    path, sep, offset = location.rpartition("@")
    if sep and offset.isdigit():
        if path not in plain:
            plain[path] = _plain_file(path)
        if plain[path]:
            return True
    if location not in plain:
        plain[location] = _plain_file(location)
    return plain[location]


def read_again(location: str) -> bytes:
    """The bytes of the message at `location` (`path@offset` in an mbox, or a file)."""
    path, sep, offset = location.rpartition("@")
    if sep and offset.isdigit() and not os.path.isfile(location):
        return _mbox_message(path, int(offset))
    return _whole_file(location)


def _plain_file(path: str) -> bool:
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            return fh.read(2) != GZIP_MAGIC
    except OSError:
        return False


def _whole_file(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the message again: {exc.strerror or exc}") from exc


def _mbox_message(path: str, offset: int) -> bytes:
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            for raw in _split(fh, path, max_message_bytes()):
                if raw.error:
                    raise InputError(f"{path}@{offset}: cannot read the message again: {raw.error}")
                return raw.data
    except OSError as exc:
        raise InputError(f"{path}: cannot read the message again: {exc.strerror or exc}") from exc
    raise InputError(f"{path}@{offset}: no message there: the file changed since it was read")
