"""The on-disk caches stay bounded: beyond the entries each keeps, the least recently used
go, and only entries of that cache (nothing else in the directory, no symlink's target)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reviewtool.analyses.spec import spec_cache, summary_cache
from reviewtool.analyses.spec.model import ApiRow
from reviewtool.analyses.spec.summary_cache import SummaryCache, prune_oldest


def aged(path: Path, text: str, age: int) -> Path:
    path.write_text(text)
    os.utime(path, (1_000_000 - age, 1_000_000 - age))
    return path


def test_prune_keeps_the_newest_and_touches_nothing_else(tmp_path: Path) -> None:
    entries = [aged(tmp_path / f"{n}.json", "[]", age=n) for n in range(5)]
    other = aged(tmp_path / "notes.txt", "keep me", age=99)
    outside = aged(tmp_path.parent / f"{tmp_path.name}-target.json", "[]", age=99)
    (tmp_path / "link.json").symlink_to(outside)
    prune_oldest(tmp_path, ".json", keep=2)
    assert [p.exists() for p in entries] == [True, True, False, False, False]
    assert other.read_text() == "keep me"
    assert outside.exists()  # a symlink is not an entry: neither it nor its target is removed
    assert (tmp_path / "link.json").is_symlink()


def test_prune_of_a_missing_directory_is_silent(tmp_path: Path) -> None:
    prune_oldest(tmp_path / "absent", ".json", keep=1)


def test_summary_cache_drops_the_least_recently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summary_cache, "SUMMARY_ENTRIES_KEPT", 2)
    cache = SummaryCache(tmp_path, "fingerprint")
    row = ApiRow(name="helper_release", effect="release", arg=0, source="summary: a.c:helper")
    cache.put("old", [row])
    cache.put("used", [row])
    for name, age in (("old", 30), ("used", 20)):
        os.utime(tmp_path / "summaries" / f"{name}.json", (1_000_000 - age,) * 2)
    assert cache.get("used") == [row]  # a hit makes it the most recently used
    cache.put("new", [row])
    assert cache.get("used") == [row] and cache.get("new") == [row]
    assert cache.get("old") is None


def test_spec_cache_keeps_only_recent_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = tmp_path / spec_cache.SUBDIR
    specs.mkdir()
    stale = [aged(specs / f"stale{n}.pickle", "x", age=100 + n) for n in range(6)]
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    kept = sorted(p.name for p in specs.iterdir())
    assert f"{spec_cache.spec_key()}.pickle" in kept
    assert len(kept) == summary_cache.SPEC_ENTRIES_KEPT
    assert [p.exists() for p in stale] == [True, True, True, False, False, False]
