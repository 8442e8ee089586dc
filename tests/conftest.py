"""Shared test fixtures: where the real-mail corpus and the bundled example live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"
EXAMPLE = ROOT / "examples" / "kvm-follow-pfn"


@pytest.fixture
def corpus_dir() -> Path:
    """The real list mail in ../shared/corpus; tests that need it skip where it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"real-mail corpus not found at {CORPUS} (it lives beside the repo in CI)")
    return CORPUS


@pytest.fixture(scope="session")
def example_build(tmp_path_factory) -> tuple[Path, Path]:
    """The bundled example's mail and git repository, built from nothing once per test run."""
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("example-build")
    mbox, repo = root / "mbox", root / "linux"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "build.py"), "--out", str(mbox), "--repo-out", str(repo)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return mbox, repo


@pytest.fixture(autouse=True, scope="session")
def _summary_cache_in_tmp(tmp_path_factory):
    """`check DIR` keeps callee summaries in a cache directory: in tests, a temporary one
    (never the user's ~/.cache), also for the CLI runs in subprocesses."""
    import os

    before = os.environ.get("REVIEWTOOL_CACHE_DIR")
    os.environ["REVIEWTOOL_CACHE_DIR"] = str(tmp_path_factory.mktemp("reviewtool-cache"))
    yield
    if before is None:
        os.environ.pop("REVIEWTOOL_CACHE_DIR", None)
    else:
        os.environ["REVIEWTOOL_CACHE_DIR"] = before
