"""The terminal, JSON and mail renderers, and the progress bar."""

from __future__ import annotations

import io
import json

import pytest

from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.errors import UsageError
from reviewtool.render.email import MAX_COLUMNS, render_email_summary
from reviewtool.render.jsonout import render_json
from reviewtool.render.progress import ProgressBar
from reviewtool.render.text import render_text
from reviewtool.review import review_json
from tests.helpers.review_support import make_review

ANSI = "\x1b["


def test_text_has_no_colour_unless_asked() -> None:
    review = make_review()
    plain = render_text(review)
    assert ANSI not in plain
    coloured = render_text(review, color=True)
    assert ANSI in coloured
    assert plain.splitlines()[0] == "1. KVM: allow mapping non-refcounted pages"


def test_text_lists_versions_changes_verdicts_and_findings() -> None:
    text = render_text(make_review())
    assert "  v3     2023-08-24 09:30    3 patches  1/3 reviewed  David Stevens" in text
    assert "2 -> 2  code-changed  KVM: x86/mmu: Migrate to __kvm_follow_pfn" in text
    assert "[not-found] Rebase" in text
    assert (
        "arch/x86/kvm/mmu/mmu.c:4523: error: leak: reference from __kvm_follow_pfn() is not "
        "released on the out_unlock path [introduced]"
    ) in text
    assert "      4522: goto out_unlock" in text
    assert "Messages read: 12 (cover 3, patch 7, reply 2, other 0, rejected 0)" in text


def test_json_output_is_the_review_model() -> None:
    review = make_review()
    doc = json.loads(render_json(review))
    assert doc == json.loads(json.dumps(review_json(review), default=str))
    finding = doc["reviews"][0]["findings"][-1]["findings"][0]
    # The DESIGN.md finding contract.
    assert {"rule", "severity", "file", "line", "function", "version", "message", "trace"} <= set(
        finding
    )
    assert finding["trace"][0] == {
        "line": 4520,
        "event": "fault->pfn holds a page reference (FOLL_GET)",
    }
    assert doc["reviews"][0]["comparisons"][1]["changelog"][1]["verdict"] == "not-found"
    assert doc["reviews"][0]["unreviewed"] == [2, 3]


def test_email_summary_keeps_every_line_within_72_columns() -> None:
    review = make_review()
    long = Finding(
        rule="release-dirty-unlocked",
        severity="warning",
        file="arch/powerpc/kvm/" + "very_long_directory_name/" * 4 + "book3s_64_mmu_radix.c",
        line=880,
        function="kvmppc_book3s_instantiate_page_with_a_long_name",
        message="kvm_release_pfn_dirty() is called after spin_unlock(&kvm->mmu_lock) " * 3,
        version="v3",
        trace=[TraceStep(870 + n, "step " + "x" * 90) for n in range(8)],
    )
    review.series_reviews[0].findings[-1].findings.append(long)
    url = "https://reports.example.org/kvm/" + "a" * 100 + "/report.html"
    body = render_email_summary(review, "v3", report_url=url)
    assert max(len(line) for line in body.splitlines()) <= MAX_COLUMNS
    assert "arch/x86/kvm/mmu/mmu.c:4523: error: leak [introduced]" in body
    assert "... 3 more steps" in body
    assert "".join(body.split("Full report")[1].split()[1:3]).startswith("https://reports")


def test_email_summary_says_what_changed_and_what_waits_for_review() -> None:
    body = render_email_summary(make_review(), "v3")
    assert 'automated review of v3 of "KVM: allow mapping non-refcounted pages"' in " ".join(
        body.split()
    )
    assert "Changes since v2" in body
    assert "3 added: KVM: x86/mmu: Don't release pfns that were not followed" in body
    assert "- [not-found] Rebase" in body
    assert "Migration __gfn_to_pfn_memslot -> __kvm_follow_pfn" in body
    assert "1 in v3: 1 introduced, 0 persisting; 0 fixed" in body
    assert "Still without Reviewed-by or Acked-by" in body
    assert "Full report" not in body


def test_email_summary_of_an_unknown_revision_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        render_email_summary(make_review(), "v9")


def test_progress_is_silent_in_a_pipe() -> None:
    stream = io.StringIO()
    bar = ProgressBar("reading", stream=stream)
    for n in range(1000):
        bar(n, 1000)
    bar.close()
    assert stream.getvalue() == ""


def test_progress_draws_on_a_terminal_and_erases_itself() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [0.0]
    stream = Tty()
    bar = ProgressBar("reading", stream=stream, clock=lambda: now[0])
    bar(1, 4)  # too early: a bar that flashes for a moment is noise
    assert stream.getvalue() == ""
    now[0] = 1.0
    bar(2, 4, "messages")
    assert stream.getvalue().endswith("reading [###############---------------] 2/4 messages")
    now[0] = 1.01
    bar(3, 4)  # within the redraw interval: not drawn
    assert "3/4" not in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r")
    assert bar.line() == "reading [######################--------] 3/4"


def test_terminal_sequences_from_mail_are_made_harmless() -> None:
    review = make_review()
    patch = review.series_reviews[0].series.revisions[-1].patches[1]
    evil = "KVM: x86: \x1b]0;owned\x07retitle \x1b[2Jclear \x9b31m"
    patch.mail.prefix = patch.mail.prefix.__class__(version=3, index=2, total=3, title=evil)
    for text in (render_text(review, color=True), render_email_summary(review, "v3")):
        assert "\x1b]" not in text and "\x1b[2J" not in text and "\x07" not in text
        assert "\x9b" not in text
        # Shown, not obeyed: the one sanitiser (textlines.visible_text) draws each control.
        # (This pinned U+FFFD before issue 16.6 asked for visible stand-ins.)
        assert "\u241b]0;owned\u2407retitle \u241b[2Jclear <U+009B>31m" in text
    # The renderer's own colours survive.
    assert "\x1b[1;31m" in render_text(review, color=True)
