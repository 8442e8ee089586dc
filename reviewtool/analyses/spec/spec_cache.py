"""The spec set kept on disk between runs, for the pre-push hook that starts on every push.

Reading the spec data (TOML, with every generation's includes merged) costs more than the rest
of the hook's set-up; a pickled copy loads in a tenth of the time. The key holds everything
the loaded set is made of: the bytes of every built-in data file, the source of the module
that builds it, and the reviewtool and Python versions. A changed byte anywhere is a new key;
an entry that cannot be read is rebuilt. A set with `--spec`/config spec files is never
cached: such a file may include others, which the key would not see.

Entries live in `<cache dir>/specs/` (`summary_cache.default_cache_dir`: the directory
README names; an empty `$REVIEWTOOL_CACHE_DIR` means no cache), and are read only when the
file belongs to the user running reviewtool and nobody else may write it: unpickling runs
code, so a file someone else could have put there is never loaded.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from reviewtool import __version__
from reviewtool.analyses.spec import model
from reviewtool.analyses.spec.model import DATA_DIR, Spec, SpecSet, load_specs
from reviewtool.analyses.spec.summary_cache import (
    SPEC_ENTRIES_KEPT,
    default_cache_dir,
    prune_oldest,
)

# Bumped whenever what is stored changes shape in a way the key would not see.
CACHE_VERSION = "2"
SUBDIR = "specs"


def spec_key() -> str:
    """The cache key of the built-in spec set (raises OSError if a data file is unreadable:
    loading would fail the same way, and must say so itself)."""
    digest = hashlib.blake2b(digest_size=20)
    parts: list[bytes] = [
        CACHE_VERSION.encode(),
        __version__.encode(),
        sys.version.encode(),
        Path(model.__file__).read_bytes(),
    ]
    for path in sorted(DATA_DIR.glob("*.toml")):
        parts += [path.name.encode(), path.read_bytes()]
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def load_specs_cached(
    spec_files: Iterable[str | Path] = (), cache_dir: Path | None | str = "default"
) -> SpecSet:
    """`model.load_specs(spec_files)`; the built-in set alone comes from the cache when its
    entry is there, and is stored there otherwise (best effort: a cache that fails only
    costs time)."""
    files = [str(path) for path in spec_files]
    directory = default_cache_dir() if cache_dir == "default" else cache_dir
    if directory is None or files:
        return load_specs(files)
    try:
        key = spec_key()
    except OSError:
        return load_specs(files)  # it reports the unreadable file as it always has
    entry = Path(directory) / SUBDIR / f"{key}.pickle"
    found = _read(entry)
    if found is not None:
        specs, common = found
        # The shared table (common.toml) the companions and other lookups read, from the
        # same entry: without it every run would parse common.toml again.
        if model._COMMON is None:
            model._COMMON = common
        return specs
    specs = load_specs(files)
    _write(entry, (specs, model.common_spec()))
    return specs


def _read(entry: Path) -> tuple[SpecSet, Spec] | None:
    try:
        with entry.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if not _trusted(info):
                return None
            found = pickle.load(handle)  # noqa: S301 - our own file, checked just above
    except Exception:  # noqa: BLE001 - missing, truncated, or from other code: rebuilt
        return None
    shaped = isinstance(found, tuple) and len(found) == 2
    if shaped and isinstance(found[0], SpecSet) and isinstance(found[1], Spec):
        return found
    return None


def _trusted(info: os.stat_result) -> bool:
    # A regular file of the user running us, that no one else may write.
    owner = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return stat.S_ISREG(info.st_mode) and owner and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _write(entry: Path, specs: tuple[SpecSet, Spec]) -> None:
    scratch = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        # Created for the owner only: _read refuses anything another user could write.
        fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(specs, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(scratch, entry)
        # One entry per release of reviewtool (or of its spec data): older ones are dead.
        prune_oldest(entry.parent, ".pickle", SPEC_ENTRIES_KEPT)
    except Exception:  # noqa: BLE001 - a cache that cannot be written only costs time
        try:
            scratch.unlink()
        except OSError:
            pass
