"""The HTML report: a valid, self-contained document with every section a reviewer needs."""

from __future__ import annotations

import re
from pathlib import Path

import html5lib
import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.ingest import load
from reviewtool.mail.model import Trailer
from reviewtool.render.html import render_html
from reviewtool.render.safe_html import visible_html
from reviewtool.review import AnalysisNote, Review, build_review, review_series
from reviewtool.series.model import Accounting
from tests.helpers.review_support import make_review, make_series, mbox_text

SECTIONS = ("verdict", "comparisons", "findings", "comments", "revisions", "migration", "overview")


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(make_review())


@pytest.fixture(scope="module")
def doc(page: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(page)


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_report_is_valid_html_by_the_html5_parsing_rules(page: str) -> None:
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    tree = parser.parse(page)
    assert tree.find("head/title") is not None
    assert parser.errors == []


def test_every_section_is_present_and_linked_from_the_contents(doc) -> None:
    ids = {e.get("id") for e in doc.iter() if e.get("id")}
    for name in SECTIONS:
        assert f"s1-{name}" in ids
    assert "accounting" in ids
    links = [a.get("href") for a in doc.xpath("//nav[@class='toc']//a")]
    assert {f"#s1-{name}" for name in SECTIONS} <= set(links)
    # Every link of the contents lands on an element of the page.
    assert all(link[1:] in ids for link in links)


def test_overview_lists_versions_with_dates_patch_counts_and_authors(doc) -> None:
    rows = doc.xpath("//table[@data-table='versions']/tbody/tr")
    cells = [[_text(td) for td in row.xpath("td")] for row in rows]
    # Newest first, as everywhere on the page (the table listed oldest first, the body newest).
    assert [c[0] for c in cells] == ["v3", "v2", "v1"]
    assert [c[1] for c in cells] == ["2023-08-24 09:30", "2023-07-24 09:30", "2023-07-04 09:30"]
    assert [c[2] for c in cells] == ["3 patches", "2 patches", "2 patches"]
    assert {c[4] for c in cells} == {"David Stevens"}
    # The timeline draws one point per version.
    assert len(doc.xpath("//svg[@class='timeline']//*[local-name()='circle']")) == 3


def test_overview_names_the_latest_patches_still_without_review(doc) -> None:
    part = doc.xpath("//*[@data-part='unreviewed']")[0]
    items = [_text(li) for li in part.xpath(".//li")]
    assert items == [
        "2 KVM: x86/mmu: Migrate to __kvm_follow_pfn",
        "3 KVM: x86/mmu: Don't release pfns that were not followed with FOLL_GET",
    ]


def test_revision_lists_patches_with_diffstat_and_review_trailers(doc) -> None:
    v3 = doc.xpath("//*[@data-revision='v3']")[0]
    rows = v3.xpath(".//table[contains(@class,'patch-list')]/tbody/tr[@id]")
    assert len(rows) == 3
    first = rows[0]
    assert "virt/kvm/kvm_main.c" in _text(first)
    assert "+8" in _text(first) and "-5" in _text(first)
    chips = [_text(c) for c in first.xpath(".//span[contains(@class,'chip')]")]
    assert chips == ["Reviewed: Sean Christopherson", "Acked: Paolo Bonzini"]
    assert "none yet" in _text(rows[1])
    # The latest revision carries its diffs, C-highlighted by Pygments.
    diffs = v3.xpath(".//details[@data-diff]")
    assert len(diffs) == 3
    assert diffs[2].xpath(".//tr[@class='del']")
    assert diffs[0].xpath(".//span[@class='k' or @class='kt']")


def test_comparison_shows_pairs_and_the_interdiff_highlighted(doc) -> None:
    cmp = doc.xpath("//*[@data-comparison='v1 -> v2']")[0]
    statuses = [p.get("data-status") for p in cmp.xpath(".//div[@class='pair']")]
    assert statuses == ["message-only", "code-changed"]
    removed = cmp.xpath(".//table[contains(@class,'inter')]//tr[starts-with(@class,'del')]")
    added = cmp.xpath(".//table[contains(@class,'inter')]//tr[starts-with(@class,'add')]")
    assert "FOLL_GET |" in _text(removed[0])
    assert "FOLL_GET" not in _text(added[0])
    # A retitled patch shows its old title too.
    assert "KVM: Introduce __kvm_follow_pfn function" in _text(cmp)
    later = doc.xpath("//*[@data-comparison='v2 -> v3']")[0]
    assert later.xpath(".//div[@data-status='added']")


def test_changelog_items_carry_their_verdicts(doc) -> None:
    block = doc.xpath("//*[@data-changelog='v2 -> v3']")[0]
    verdicts = [(li.get("data-verdict"), _text(li)) for li in block.xpath(".//li[@data-verdict]")]
    assert verdicts[0][0] == "confirmed" and "Add patch 3" in verdicts[0][1]
    assert verdicts[1] == ("not-found", "not-found Rebase")


def test_migration_map_is_a_file_by_version_matrix(doc) -> None:
    table = doc.xpath("//table[@data-table='migration']")[0]
    header = [_text(th) for th in table.xpath("thead/tr/th")]
    assert header == ["file", "v1", "v2", "v3"]
    files = [_text(th) for th in table.xpath("tbody/tr/th[@class='file']")]
    # Generic code first, then x86, then arm64.
    assert files == ["virt/kvm/kvm_main.c", "arch/x86/kvm/mmu/mmu.c", "arch/arm64/kvm/mmu.c"]
    arm = table.xpath("tbody/tr[th[@class='file']='arch/arm64/kvm/mmu.c']/td")
    assert [td.get("class") for td in arm] == ["muted"] * 3
    assert "untouched" in _text(arm[0])
    # Each area's row says, per version, whether the area is migrated.
    areas = [[_text(c) for c in tr.xpath("th|td")] for tr in table.xpath("tbody/tr[@class='area']")]
    assert areas[0] == ["virt", "migrated", "migrated", "migrated"]
    assert areas[2] == ["arm64", "untouched", "untouched", "untouched"]


def test_finding_has_excerpt_trace_and_status(doc) -> None:
    card = doc.xpath("//article[@data-rule='leak']")[0]
    assert card.get("data-status") == "introduced"
    text = _text(card)
    assert "arch/x86/kvm/mmu/mmu.c:4523 in direct_page_fault()" in text
    assert "FOLL_GET (32-bit or !tdp_enabled)" in text
    focus = card.xpath(".//tr[contains(@class,'focus')]")
    assert len(focus) == 1 and "write_unlock" in _text(focus[0])
    # The removed release shows in the excerpt, as the patch removed it.
    assert "kvm_release_pfn_clean" in _text(card.xpath(".//tr[contains(@class,'del')]")[0])
    steps = [_text(li) for li in card.xpath(".//ol[@class='trace']/li")]
    assert steps[1] == "4522 goto out_unlock"
    matrix = doc.xpath("//table[@data-table='findings-by-version']/tbody/tr")
    assert [_text(td) for td in matrix[0].xpath("td")] == ["leak", "0", "0", "1"]


def test_accounting_shows_every_bucket(doc) -> None:
    rows = doc.xpath("//table[@data-table='accounting']//tr")
    values = {_text(r.xpath("td")[0]): _text(r.xpath("td")[1]) for r in rows}
    assert values == {
        "cover letters": "3",
        "patches": "7",
        "replies": "2",
        "other mail": "0",
        "rejected": "0",
        "read": "12",
    }


def test_page_loads_nothing_and_runs_nothing(page: str, doc) -> None:
    assert not doc.xpath("//script | //link | //iframe | //img | //object | //embed")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "default-src 'none'" in csp
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    assert "@media print" in page


def test_mail_text_is_escaped_not_interpreted() -> None:
    series = make_series()
    patch = series.revisions[-1].patches[0]
    patch.mail.prefix = patch.mail.prefix.__class__(
        version=3, index=1, total=3, title='<b id="bold">x</b> & "quotes"'
    )
    review = make_review(series)
    doc = lxml.html.fromstring(render_html(review))
    assert not doc.xpath("//b[@id='bold']")
    assert '<b id="bold">x</b> & "quotes"' in doc.text_content()


def test_unavailable_analyses_are_shown_as_notes() -> None:
    review = make_review()
    sr = review.series_reviews[0]
    sr.migration = None
    sr.notes.append(AnalysisNote("migration", False, "ModuleNotFoundError: not yet", ""))
    doc = lxml.html.fromstring(render_html(review))
    section = doc.xpath("//*[@id='s1-migration']")[0]
    assert "Migration map unavailable: ModuleNotFoundError: not yet" in _text(section)
    notes = doc.xpath("//*[@id='notes']")[0]
    assert "not yet" in _text(notes)


def test_report_of_real_mail_renders_whatever_analyses_ran(tmp_path: Path) -> None:
    path = tmp_path / "series.mbox"
    path.write_text(mbox_text(make_series()), encoding="utf-8")
    review = build_review(load([str(path)]), sources=[str(path)])
    doc = lxml.html.fromstring(render_html(review))
    for name in SECTIONS:
        assert doc.xpath(f"//*[@id='s1-{name}']")
    # Each analysis either shows results or says why it did not run.
    for note in review.unavailable():
        assert note.reason in doc.text_content()


def test_two_series_get_their_own_sections_and_contents() -> None:
    first, second = make_series(), make_series()
    second.title = "KVM: x86: Make bus clock frequency for vAPIC timer configurable"
    review = Review(
        series_reviews=[review_series(first, index=1), review_series(second, index=2)],
        accounting=Accounting(read=26, cover=6, patch=14, reply=6),
        all_series=[first, second],
    )
    doc = lxml.html.fromstring(render_html(review))
    for prefix in ("s1", "s2"):
        for name in SECTIONS:
            assert doc.xpath(f"//section[@id='{prefix}-{name}']")
    names = [_text(e) for e in doc.xpath("//nav//div[@class='series-name']")]
    assert names == [f"1. {first.title}", f"2. {second.title}"]
    assert _text(doc.xpath("//h1")[0]) == "2 series"


_TITLE_CHARS = st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(_TITLE_CHARS, min_size=1, max_size=40).filter(lambda t: t.strip()),
    body=st.text(max_size=200),
    path=st.text(
        st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc", "Cs")), min_size=1, max_size=20
    ),
    trailer=st.text(_TITLE_CHARS, max_size=40),
    message=st.text(_TITLE_CHARS, max_size=60),
)
def test_any_text_from_mail_renders_as_valid_inert_html(title, body, path, trailer, message):
    series = make_series()
    v3 = series.revisions[-1]
    patch = v3.patches[2]
    patch.mail.prefix = patch.mail.prefix.__class__(version=3, index=3, total=3, title=title)
    patch.mail.body = patch.mail.commit_message = body
    patch.mail.diff = patch.mail.diff.replace("arch/x86/kvm/mmu/mmu.c", f"arch/{path}")
    patch.review_trailers = [Trailer("Reviewed-by", f"{trailer} <r@example.org>", "m")]
    review = make_review(series)
    finding = review.series_reviews[0].findings[-1].findings[0]
    finding.message, finding.file = message, f"arch/{path}"
    page = render_html(review)

    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(page)  # raises on any parse error
    doc = lxml.html.fromstring(page)
    assert not doc.xpath("//script | //iframe | //img | //object")
    text = doc.text_content()
    # Controls show as the text doors' stand-ins, bidi controls as `<U+202E>` (issue 16.6);
    # this pinned U+FFFD for controls before 16.6 asked for visible stand-ins everywhere.
    assert visible_html(title) in text
    assert visible_html(f"arch/{path}") in text


def test_series_left_out_by_the_selection_are_named_in_the_accounting() -> None:
    chosen, other = make_series(), make_series()
    other.title = "KVM: selftests: Add a test for the APIC bus frequency"
    review = Review(
        series_reviews=[review_series(chosen, index=1, analyses=())],
        accounting=Accounting(read=26, cover=6, patch=14, reply=6),
        all_series=[chosen, other],
    )
    doc = lxml.html.fromstring(render_html(review))
    section = doc.xpath("//section[@id='accounting']")[0]
    assert other.title in _text(section)
    assert not doc.xpath("//section[@id='s2-overview']")
