"""`reviewtool report` on the bundled example, v1..v8 of the reference series."""

from __future__ import annotations

from pathlib import Path

import html5lib
import lxml.html
import pytest

from reviewtool.ingest import load
from reviewtool.render.html import render_html
from reviewtool.review import build_review

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

EXAMPLE_MBOX = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn" / "mbox"


@pytest.fixture(scope="module")
def review():
    if not EXAMPLE_MBOX.exists():
        pytest.skip(f"bundled example not built yet: {EXAMPLE_MBOX}")
    return build_review(load([str(EXAMPLE_MBOX)]), sources=[str(EXAMPLE_MBOX)])


@pytest.fixture(scope="module")
def doc(review):
    page = render_html(review)
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(page)  # raises on any HTML5 parse error
    return lxml.html.fromstring(page)


def test_example_report_covers_every_version(review, doc) -> None:
    labels = [r.label for r in review.series_reviews[0].series.revisions]
    assert labels[0] == "v1" and labels[-1] == "v8"
    rows = doc.xpath("//table[@data-table='versions']/tbody/tr/td[1]")
    assert [" ".join(td.text_content().split()).split()[0] for td in rows] == labels[::-1]
    for section in (
        "verdict",
        "comparisons",
        "findings",
        "comments",
        "revisions",
        "migration",
        "overview",
    ):
        assert doc.xpath(f"//section[@id='s1-{section}']")


def test_example_point_revision_is_compared_as_a_reroll_of_one_patch(review) -> None:
    sr = review.series_reviews[0]
    step = next((c for c in sr.comparisons if c.to_label.count(".") == 1), None)
    if step is None:
        pytest.skip("the example has no point revision")
    assert step.comparison is not None
    changed = [p for p in step.comparison.pairs if p.status != "identical"]
    assert not step.comparison.dropped
    assert len(changed) == 1


def test_example_v8_lists_its_eight_patches_with_diffs(doc) -> None:
    v8 = doc.xpath("//*[@data-revision='v8']")[0]
    assert len(v8.xpath(".//table[contains(@class,'patch-list')]/tbody/tr[@id]")) == 8
    assert len(v8.xpath(".//details[@data-diff]")) == 8


def test_example_accounting_adds_up(review, doc) -> None:
    acc = review.accounting
    assert acc.balanced()
    read = doc.xpath("//table[@data-table='accounting']//tr[last()]/td[2]")[0]
    assert read.text_content().strip() == str(acc.read)


def test_example_mail_summary_fits_72_columns_and_names_the_findings(review) -> None:
    from reviewtool.render.email import MAX_COLUMNS, render_email_summary

    sr = review.series_reviews[0]
    body = render_email_summary(review, sr.latest.label, report_url="https://example.org/r.html")
    assert max(len(line) for line in body.splitlines()) <= MAX_COLUMNS
    for finding in sr.latest_findings():
        assert f"{finding.file}:{finding.line}: {finding.severity}: {finding.rule}" in body
    assert "Changes since" in body
