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
