"""Writing an output file the user named, without harming what is already there.

A regular file (or a new path) is replaced atomically: the bytes go to a temporary file in
the same directory, which is renamed over the target, so a reader never sees half a report
and a crash leaves the old file whole. Anything else at that path (a character or block
device such as /dev/null, a FIFO, a socket) is written *through*, never replaced: renaming
over /dev/null as root would swap the machine's null device for a regular file. A symbolic
link is followed, so the file it points to is what gets replaced. A missing parent directory
is the user's mistake (a typo), not a request to create it: a `UsageError` (exit 2).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from reviewtool.errors import InputError, UsageError


def write_output(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write `data` to the file the user named (see the module doc); the path written."""
    path = Path(target)
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"cannot write {path}: it is a directory")
    if mode is not None and not stat.S_ISREG(mode):
        _write_through(path, real, data)
        return path
    parent = real.parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {path}: directory {parent} does not exist")
    _replace_atomically(path, real, data, mode)
    return path


def _write_through(shown: Path, real: Path, data: bytes) -> None:
    """A device, FIFO or socket: open it and write, leaving the node itself alone."""
    try:
        # No O_CREAT and no O_TRUNC: the node exists, and it is not ours to reshape.
        fd = os.open(real, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise InputError(f"cannot write {shown}: {exc.strerror or exc}") from None


def _replace_atomically(shown: Path, real: Path, data: bytes, mode: int | None) -> None:
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp makes 0600; keep the permissions the old file had, or the usual ones.
        os.chmod(tmp_name, stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
        os.replace(tmp_name, real)
        tmp_name = None
    except OSError as exc:
        raise InputError(f"cannot write {shown}: {exc.strerror or exc}") from None
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
