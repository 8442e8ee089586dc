"""The checker over the labelled corpus: every `ruleid` found, nothing else reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.spec import RULE_NAMES, check_source
from reviewtool.analyses.spec.accuracy import Score, read_expectations

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parent / "data" / "spec"
FILES = sorted(CORPUS.rglob("*.c"))
GENERATIONS = {"legacy": "legacy", "v8": "v8", "v10": "v10", "upstream": "upstream-6.13"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_findings_match_its_annotations(path):
    text = path.read_text(encoding="utf-8")
    expect = read_expectations(text, str(path))
    result = check_source(expect.path, text)
    score = Score()
    score.add(path.name, expect, result.findings)
    assert not score.misses, score.misses
    assert not score.false_positives, score.false_positives
    assert not result.notes, result.notes


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(CORPUS)))
def test_corpus_file_is_read_with_the_generation_of_its_directory(path):
    text = path.read_text(encoding="utf-8")
    result = check_source(read_expectations(text, str(path)).path, text)
    assert result.generation == GENERATIONS[path.parent.name]


def test_corpus_has_forty_cases_and_seeds_every_rule():
    functions = 0
    seeded: set[str] = set()
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        functions += sum(1 for line in text.splitlines() if line.startswith("{"))
        seeded |= {rule for _, rule in read_expectations(text, str(path)).must}
    assert functions >= 40
    assert seeded == set(RULE_NAMES)


def test_corpus_covers_every_generation_and_area():
    names = {(p.parent.name, p.name.split("-")[0]) for p in FILES}
    for generation in GENERATIONS:
        assert {area for gen, area in names if gen == generation} >= {"x86", "arm64"}
    assert {area for _, area in names} >= {"x86", "arm64", "ppc", "kvm"}
