"""The spec set kept on disk for the pre-push hook: the same set as reading the TOML, read
from the cache only when it was built from exactly these bytes and only from a file nobody
else could have written, and nothing written outside `<cache dir>/specs/`."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import pytest

from reviewtool.analyses.spec import model, spec_cache
from reviewtool.analyses.spec.model import DATA_DIR, SpecSet, common_spec, load_specs


def same(left: SpecSet, right: SpecSet) -> bool:
    return left.generations == right.generations and left.overrides == right.overrides


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def entry(cache: Path) -> Path:
    return cache / spec_cache.SUBDIR / f"{spec_cache.spec_key()}.pickle"


def test_cached_set_is_the_set_the_toml_gives(tmp_path: Path) -> None:
    first = spec_cache.load_specs_cached(cache_dir=tmp_path)
    assert files_under(tmp_path) == [entry(tmp_path)]
    again = spec_cache.load_specs_cached(cache_dir=tmp_path)
    fresh = load_specs()
    assert same(first, fresh) and same(again, fresh)
    assert again is not first
    # Owner-only: nobody else may write what will be unpickled.
    assert entry(tmp_path).stat().st_mode & 0o077 == 0


def test_the_entry_is_what_is_read(tmp_path: Path) -> None:
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    planted = load_specs()
    planted.generations = planted.generations[:1]
    entry(tmp_path).write_bytes(pickle.dumps((planted, common_spec())))
    assert same(spec_cache.load_specs_cached(cache_dir=tmp_path), planted)


def test_an_entry_others_may_write_is_never_loaded(tmp_path: Path) -> None:
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    planted = load_specs()
    planted.generations = planted.generations[:1]
    entry(tmp_path).write_bytes(pickle.dumps((planted, common_spec())))
    os.chmod(entry(tmp_path), 0o666)
    assert same(spec_cache.load_specs_cached(cache_dir=tmp_path), load_specs())


def test_the_shared_table_comes_from_the_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    monkeypatch.setattr(model, "_COMMON", None)
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    assert model._COMMON is not None and model._COMMON == model._load_file(DATA_DIR / "common.toml")


@pytest.mark.parametrize(
    "damage", [b"", b"not a pickle", pickle.dumps({"a": 1}), pickle.dumps(load_specs())]
)
def test_a_broken_entry_is_rebuilt(tmp_path: Path, damage: bytes) -> None:
    spec_cache.load_specs_cached(cache_dir=tmp_path)
    entry(tmp_path).write_bytes(damage)
    assert same(spec_cache.load_specs_cached(cache_dir=tmp_path), load_specs())
    stored, common = pickle.loads(entry(tmp_path).read_bytes())
    assert same(stored, load_specs()) and common == common_spec()


def test_a_changed_data_file_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    monkeypatch.setattr(spec_cache, "DATA_DIR", data)
    before = spec_cache.spec_key()
    common = data / "common.toml"
    common.write_text(common.read_text() + "\n# one more byte\n")
    assert spec_cache.spec_key() != before


def test_spec_files_are_never_cached(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text('[[api]]\nname = "demo_get_page"\neffect = "acquire"\n')
    cache = tmp_path / "cache"
    found = spec_cache.load_specs_cached([extra], cache_dir=cache)
    assert same(found, load_specs([str(extra)]))
    assert not cache.exists()


def test_empty_cache_dir_setting_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEWTOOL_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert same(spec_cache.load_specs_cached(), load_specs())
    assert files_under(tmp_path) == []


def test_default_directory_is_the_one_readme_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REVIEWTOOL_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    spec_cache.load_specs_cached()
    assert files_under(tmp_path) == [entry(tmp_path / "xdg" / "reviewtool")]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "$XDG_CACHE_HOME/reviewtool" in readme and "specs/" in readme


def test_a_cache_that_cannot_be_written_only_costs_time(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory would be\n")
    assert same(spec_cache.load_specs_cached(cache_dir=blocked), load_specs())
    assert files_under(tmp_path) == [blocked]
