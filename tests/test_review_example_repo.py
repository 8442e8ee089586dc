"""The main job on the bundled example with its git history: what a KVM reviewer must see."""

from __future__ import annotations

import pytest

from reviewtool.ingest import load
from reviewtool.review import build_review
from tests.conftest import EXAMPLE

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

FOLL_GET_CONFIG = "FOLL_GET passed (32-bit or !tdp_enabled)"


@pytest.fixture(scope="module")
def review(example_build):
    _, repo = example_build
    collection = load([str(EXAMPLE / "mbox")])
    return build_review(collection, repo=str(repo))


def by_label(review, label):
    series_review = review.series_reviews[0]
    return next(entry for entry in series_review.findings if entry.label == label)


def test_v8_introduces_the_5of8_leak_on_both_x86_fault_exits(review):
    v8 = by_label(review, "v8")
    leaks = [f for f in v8.findings if f.rule == "leak"]
    assert sorted(f.function for f in leaks) == ["FNAME(page_fault)", "direct_page_fault"]
    assert all(f.config == FOLL_GET_CONFIG and f.status == "introduced" for f in leaks)
    assert all(f.severity == "error" and f.trace for f in leaks)
    # kvm_tdp_mmu_page_fault only runs with 64-bit TDP: the look-alike is not flagged
    assert not any(f.function == "kvm_tdp_mmu_page_fault" for f in v8.findings)


def test_v8_fixes_what_its_changelog_says_it_fixed_in_v7(review):
    fixed = {(f.rule, f.function) for f in by_label(review, "v8").fixed}
    assert ("get-required", "__kvm_faultin_pfn") in fixed  # "Pass FOLL_GET on 32-bit or !tdp"
    assert {rule for rule, _ in fixed} >= {"mark-after-unlock"}  # "access bits before unlock"


def test_legacy_versions_are_clean(review):
    for label in ("v1", "v6"):
        assert by_label(review, label).findings == []


def test_reroll_that_does_not_apply_is_said_not_hidden(review):
    v71 = by_label(review, "v7.1")
    assert not v71.available and "does not apply" in v71.reason


def test_fixed_findings_show_the_line_they_were_on_in_the_version_that_had_them(review):
    # Was (issue 14): the excerpt of a finding v8 fixed came from v8's code with v7.1's line
    # numbers, so it highlighted a blank line or a call two lines off the trace.
    import lxml.html

    from reviewtool.render.html import render_html

    doc = lxml.html.fromstring(render_html(review))
    cards = doc.xpath("//article[@data-status='fixed']")
    assert cards
    for card in cards:
        focus = card.xpath(".//tr[contains(@class,'focus')]")
        assert len(focus) == 1, card.get("id")
        code = focus[0].xpath("td")[-1].text_content().strip()
        assert code, f"{card.get('id')} highlights a blank line"
    v8 = by_label(review, "v8")
    v71 = by_label(review, "v7.1")
    for finding in v8.fixed:
        source = v71.source_of(finding)
        if source is not None:
            assert source.split("\n")[finding.line - 1].strip()
