"""Every statement the report makes is true, or not made: each test pins one false statement
the report used to make (issue 14), on the test series, the bundled example or real mail."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import lxml.html
import pytest

from reviewtool.analyses.rangediff import InterdiffHunk
from reviewtool.ingest import load
from reviewtool.mail.model import Trailer
from reviewtool.render.code import plain_rows, rangediff_rows
from reviewtool.render.html import render_html
from reviewtool.render.text import render_text
from reviewtool.review import RevisionFindings, build_review, review_json
from reviewtool.series.model import Cover, Revision
from tests.helpers.mail import START, make_mail
from tests.helpers.review_support import make_review, make_series

LORE = "https://lore.kernel.org/all/{msgid}/"


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _cover_only(version: int, total: int) -> Revision:
    mail = make_mail(
        "KVM: allow mapping non-refcounted pages",
        version=version,
        index=0,
        total=total,
        body="A rework on top of the refcounted-page series.\n",
        when=START + timedelta(days=400),
    )
    return Revision(
        version=version, cover=Cover(mail), total=total, missing=list(range(1, total + 1))
    )


def test_a_version_whose_patches_are_not_in_the_input_is_not_called_reviewed() -> None:
    # Was: "Every patch of v11 has a Reviewed-by or an Acked-by" and a green
    # "0 awaiting review" for a version of which the input holds only the cover letter.
    review = make_review()
    review.series_reviews[0].series.revisions.append(_cover_only(4, 84))
    doc = lxml.html.fromstring(render_html(review))
    text = _text(doc)
    assert "Every patch of v4" not in text
    assert not any("v4 in the input has a Reviewed-by" in _text(p) for p in doc.xpath("//p"))
    verdict = doc.xpath("//section[@data-section='verdict']")[0]
    assert "Verdict on v3" in _text(verdict)
    cover_only = _text(verdict.xpath(".//*[@data-part='cover-only']")[0])
    assert "v4" in cover_only and "84 patches, none in the input" in cover_only
    # The v4 revision says what it holds, with the 84 missing numbers as one range.
    v4 = doc.xpath("//*[@data-revision='v4']")[0]
    assert "84 patches, none in the input" in _text(v4)
    assert "1-84" not in _text(v4.xpath(".//summary")[0]) or "missing 1-84" in _text(v4)
    assert "1, 2, 3" not in _text(v4)
    doc_json = review_json(review)["reviews"][0]["verdict"]
    assert doc_json["judged"]["label"] == "v3" and doc_json["latest"]["label"] == "v4"
    assert doc_json["cover_only"] == [
        {"version": 4, "point": None, "label": "v4", "total": 84, "patches_read": 0}
    ]
    assert "v4     " in render_text(review)
    assert "84 patches, none in the input" in render_text(review)


def test_a_checker_that_never_ran_is_not_an_all_clear() -> None:
    # Was: "No rule is broken in any version" when the checker did not run at all.
    review = make_review()
    sr = review.series_reviews[0]
    sr.findings = [
        RevisionFindings(label, available=False, reason="AnalysisError: no tree")
        for label in ("v1", "v2", "v3")
    ]
    doc = lxml.html.fromstring(render_html(review))
    assert "No rule is broken" not in _text(doc)
    part = doc.xpath("//*[@data-part='findings']")[0]
    assert part.get("data-state") == "not-checked"
    assert "not checked" in _text(part) and "no tree" in _text(part)
    verdict = review_json(review)["reviews"][0]["verdict"]["findings_introduced"]
    assert verdict["state"] == "not-checked" and verdict["items"] == []
    assert "findings: not checked (AnalysisError: no tree)" in render_text(review)


def test_a_removal_in_the_new_version_is_painted_as_a_removal() -> None:
    # Was: `+-` lines (the new version removes the line) painted green like an addition, so
    # v8's removal of the release looked like an addition.
    hunk = InterdiffHunk(
        file="arch/x86/kvm/mmu/mmu.c",
        function="static int direct_page_fault(struct kvm_vcpu *vcpu)",
        lines=[
            "  out_unlock:",
            "- \twrite_unlock(&vcpu->kvm->mmu_lock);",
            "+-\tkvm_release_pfn_clean(fault->pfn);",
            "+ \twrite_unlock(&vcpu->kvm->mmu_lock);",
            "++\tkvm_release_page_clean(fault->page);",
            "-+\tkvm_set_pfn_accessed(fault->pfn);",
        ],
    )
    kinds = {row["text"].split("\t")[-1]: row["kind"] for row in rangediff_rows(hunk)}
    assert kinds["kvm_release_pfn_clean(fault->pfn);"] == "rd-del"
    assert kinds["kvm_release_page_clean(fault->page);"] == "rd-add"
    assert kinds["kvm_set_pfn_accessed(fault->pfn);"] == "rd-unadd"
    # The plain interdiff compares the code after each version: the release the new version
    # removes was context before (it stays out of the old result only if it was removed).
    plain = {row["text"][1:].strip(): row["kind"] for row in plain_rows(hunk)}
    assert plain["kvm_release_page_clean(fault->page);"] == "add"
    assert plain["kvm_set_pfn_accessed(fault->pfn);"] == "del"
    assert "kvm_release_pfn_clean(fault->pfn);" not in plain


def test_replies_are_listed_with_author_trailers_text_and_a_link_to_the_mail() -> None:
    # Was: "3 replies", with no author, no link, no text, and no Message-ID anywhere.
    series = make_series()
    patch = series.revisions[-1].patches[1]
    reply = make_mail(
        "KVM: x86/mmu: Migrate to __kvm_follow_pfn",
        version=3,
        index=2,
        total=3,
        body=(
            "On Thu, Aug 24, 2023, David Stevens wrote:\n"
            "> +\tfault->map_writable = foll.writable;\n"
            "\n"
            "Looks right to me now that the flags are gone.\n"
            "\n"
            "Reviewed-by: Maxim Levitsky <mlevitsk@redhat.com>\n"
        ),
        author=("Maxim Levitsky", "mlevitsk@redhat.com"),
        message_id="reply-1@redhat.com",
        trailers=[Trailer("Reviewed-by", "Maxim Levitsky <mlevitsk@redhat.com>")],
    )
    reply.subject = "Re: " + reply.subject
    patch.reply_mails.append(reply)
    review = make_review(series)
    review.archive_url = LORE
    doc = lxml.html.fromstring(render_html(review))
    row = doc.xpath("//*[@data-revision='v3']//tr[contains(@class,'replies-row')]")[0]
    text = _text(row)
    assert "Maxim Levitsky" in text and "Reviewed-by: Maxim Levitsky" in text
    assert "Looks right to me now that the flags are gone." in text
    assert "> +" not in text and "wrote:" not in text
    assert row.xpath(".//a/@href") == ["https://lore.kernel.org/all/reply-1@redhat.com/"]
    title = doc.xpath("//tr[@id='s1-v3-p2']//a/@href")[0]
    assert title == f"https://lore.kernel.org/all/{patch.message_id}/"
    assert patch.message_id in _text(doc.xpath("//tr[@id='s1-v3-p2']")[0])


def test_without_an_archive_there_are_no_links_out() -> None:
    review = make_review()
    review.archive_url = ""
    page = render_html(review)
    assert "https://" not in page


def test_every_id_is_unique_and_every_internal_link_lands() -> None:
    # Was: duplicate ids (a fixed finding's card took its old version's id) and evidence that
    # named a hunk without linking it.
    doc = lxml.html.fromstring(render_html(make_review()))
    ids = Counter(e.get("id") for e in doc.iter() if e.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    targets = [a.get("href")[1:] for a in doc.iter("a") if (a.get("href") or "").startswith("#")]
    assert targets and all(t in ids for t in targets)
    evidence = doc.xpath("//ul[@class='evidence']/li")
    assert evidence and all(_text(li) for li in evidence)
    assert doc.xpath("//ul[@class='evidence']//a[starts-with(@href,'#s1-cmp-v1-v2-p2-h1')]")


@pytest.fixture(scope="module")
def example_doc(tmp_path_factory):
    from conftest import EXAMPLE

    mbox = EXAMPLE / "mbox"
    if not mbox.exists():
        pytest.skip(f"bundled example not built yet: {mbox}")
    review = build_review(load([str(mbox)]), sources=[str(mbox)], analyses=["migration"])
    return review, lxml.html.fromstring(render_html(review))


def test_versions_that_moved_to_another_api_are_not_called_migrated(example_doc) -> None:
    # Was: green "migrated" cells for v2..v6, which dropped the old call for an earlier design
    # (no __kvm_follow_pfn call at all).
    review, doc = example_doc
    migration = review.series_reviews[0].migration
    assert migration is not None
    table = doc.xpath("//table[@data-table='migration']")[0]
    header = [_text(th) for th in table.xpath("thead/tr/th")][1:]
    for revision, column in zip(migration.revisions, header, strict=True):
        for item in revision.files:
            row = table.xpath(f"tbody/tr[th[@class='file']][normalize-space(th)='{item.path}']")
            cell = row[0].xpath("td")[header.index(column)]
            if item.old_removed and not item.new_added:
                assert "migrated" not in _text(cell), (column, item.path)
                assert "other API" in _text(cell)
    # The newest columns are in the page and inside a scrolling box, not cut off.
    assert header[-2:] == ["v7.1", "v8"]
    assert table.getparent().get("class") == "scrollx"


def test_cover_letter_mentions_are_not_listed_as_code_left_behind(example_doc) -> None:
    review, doc = example_doc
    left = doc.xpath("//section[@data-section='migration']//h4[.='Left behind']")
    if left:
        rows = left[0].getnext().xpath(".//tbody/tr")
        assert all(_text(row.xpath("td")[2]) != "cover" for row in rows)


def test_a_vague_changelog_item_is_not_called_found() -> None:
    # Was (first draft of the verdict): "each item of the changelog was found" over an item
    # the check judged too vague to confirm.
    from reviewtool.analyses.changelog_check import Evidence, Verdict

    review = make_review()
    latest = review.series_reviews[0].comparisons[-1]
    latest.verdicts = [
        Verdict("Add patch 3 to stop releasing pages", "confirmed", [Evidence(3, None)]),
        Verdict("Addressed review feedback", "vague"),
    ]
    doc = lxml.html.fromstring(render_html(review))
    part = doc.xpath("//*[@data-part='changelog']")[0]
    assert "was found" not in _text(part)
    assert "1 confirmed, 1 vague" in _text(part)
