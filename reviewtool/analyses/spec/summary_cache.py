"""Callee summaries kept on disk between runs, and the keys that say when they are stale.

A summary depends on the file's text, its companions, the spec data and the summaries its
walk could see; each is part of the key, so a cached row is never used for other code.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from reviewtool.analyses.spec.model import DATA_DIR, ApiRow

# Bumped whenever what a summary means or how it is derived changes: old cache entries die.
SUMMARY_VERSION = "1"


def digest_of(summaries: dict[str, list[ApiRow]] | None) -> str:
    """A stable hash of a summary table (part of cache keys)."""
    if not summaries:
        return ""
    import json  # noqa: PLC0415 - only with summaries: the hook's checks have none

    items = sorted((name, [row_json(row) for row in rows]) for name, rows in summaries.items())
    return hashlib.blake2b(json.dumps(items).encode(), digest_size=16).hexdigest()


def row_json(row: ApiRow) -> dict:
    """A row as JSON: its name, effect and every field that differs from the default."""
    defaults = ApiRow(row.name, row.effect)
    data = asdict(row)
    return {k: v for k, v in data.items() if v != getattr(defaults, k) or k in ("name", "effect")}


def row_from_json(data: dict) -> ApiRow:
    """The row row_json() wrote."""
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return ApiRow(**values)


def spec_fingerprint(spec_files: Iterable[str] = ()) -> str:
    """A hash of the spec data the summaries were derived under (built-in and --spec files)."""
    digest = hashlib.blake2b(SUMMARY_VERSION.encode(), digest_size=16)
    for item in [*sorted(DATA_DIR.glob("*.toml")), *(Path(p) for p in spec_files)]:
        try:
            digest.update(item.read_bytes())
        except OSError:
            digest.update(str(item).encode())
    return digest.hexdigest()


def default_cache_dir() -> Path | None:
    """Where summaries are kept between runs: $REVIEWTOOL_CACHE_DIR (empty: no cache), else
    $XDG_CACHE_HOME/reviewtool, else ~/.cache/reviewtool."""
    chosen = os.environ.get("REVIEWTOOL_CACHE_DIR")
    if chosen is not None:
        return Path(chosen) if chosen else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "reviewtool"


# How many entries each cache keeps: one per file version for summaries (a hook run adds a few
# per push), one per release of reviewtool for the parsed spec set.
SUMMARY_ENTRIES_KEPT = 4000
SPEC_ENTRIES_KEPT = 4


def prune_oldest(directory: Path, suffix: str, keep: int) -> None:
    """Delete the least recently used entries (`*suffix`, by modification time) of a cache
    directory beyond the newest `keep`, as ccache bounds its size: without it, every file
    version a hook or a check ever met would stay on disk. Best effort."""
    try:
        with os.scandir(directory) as found:
            entries = [
                e for e in found if e.name.endswith(suffix) and e.is_file(follow_symlinks=False)
            ]
        if len(entries) <= keep:
            return
        dated = sorted(entries, key=lambda e: e.stat(follow_symlinks=False).st_mtime, reverse=True)
    except OSError:
        return
    for entry in dated[keep:]:
        try:
            os.unlink(entry.path)
        except OSError:
            pass


class SummaryCache:
    """Summary rows on disk, one small JSON file per (file content, spec, visible summaries)."""

    def __init__(self, directory: Path | None, fingerprint: str) -> None:
        self.directory = directory / "summaries" if directory is not None else None
        self.fingerprint = fingerprint

    def key(self, path: str, text: str, context: dict[str, str], known: str) -> str:
        """The cache key of one file's summaries."""
        digest = hashlib.blake2b(digest_size=20)
        for part in (self.fingerprint, path, text, *sorted(context.items()), known):
            data = str(part).encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        return digest.hexdigest()

    def get(self, key: str) -> list[ApiRow] | None:
        """The rows stored under `key`, or None."""
        if self.directory is None:
            return None
        import json  # noqa: PLC0415 - see digest_of

        entry = self.directory / f"{key}.json"
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
            rows = [row_from_json(item) for item in data]
        except (OSError, ValueError, TypeError):
            return None
        try:
            os.utime(entry)  # used now: pruning removes the least recently used first
        except OSError:
            pass
        return rows

    def put(self, key: str, rows: list[ApiRow]) -> None:
        """Store rows (best effort: a cache that cannot be written only costs time)."""
        if self.directory is None:
            return
        import json  # noqa: PLC0415 - see digest_of

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / f"{key}.json"
            scratch = target.with_suffix(f".{os.getpid()}.tmp")
            scratch.write_text(json.dumps([row_json(r) for r in rows]), encoding="utf-8")
            os.replace(scratch, target)
        except OSError:
            return
        prune_oldest(self.directory, ".json", SUMMARY_ENTRIES_KEPT)
