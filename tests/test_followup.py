"""Review comments followed from version N into N+1, on real list mail and the bundled example."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.followup import own_text, split_points
from reviewtool.ingest import load
from reviewtool.review import build_review, review_json

EXAMPLE_MBOX = Path(__file__).resolve().parents[1] / "examples/kvm-follow-pfn/mbox"


@pytest.fixture
def apic_comments(corpus_dir):
    review = build_review(
        load([str(corpus_dir / "kvm-apic-bus-freq")]),
        analyses=["rangediff", "changelog", "followup"],
    )
    return review.series_reviews[0].review_comments


def test_wrapped_attribution_and_sign_off_are_not_the_reviewers_text() -> None:
    body = (
        "On Mon, 29 Nov 2021 03:56:10 +0000,\n"
        "David Stevens <stevensd@chromium.org> wrote:\n"
        "> +\tif (page)\n"
        "> +\t\tkvm_release_page_clean(page);\n"
        "\n"
        "Only release what was followed.\n"
        "\n"
        "Best regards,\n"
        "\tMaxim Levitsky\n"
    )
    (point,) = split_points(body)
    assert point.quoted == ["+\tif (page)", "+\t\tkvm_release_page_clean(page);"]
    assert point.text == ["Only release what was followed."]
    assert own_text(body) == ["Only release what was followed."]


def test_each_quoted_block_of_a_real_review_is_one_comment(apic_comments) -> None:
    sean = [
        c
        for c in apic_comments
        if c.version == "v3" and c.patch_index == 3 and c.author.startswith("Sean")
    ]
    # Sean's reply to v3 3/4 answers eleven places of the patch.
    assert len(sean) >= 10
    first = sean[0]
    assert first.message_id == "ZdjzIgS6EAeCsUue@google.com"
    assert first.text.startswith("BUS_FREQUENCY_CONTROL is simultaneously too long")
    assert "+7.34 KVM_CAP_X86_BUS_FREQUENCY_CONTROL" in first.quoted
    # Quotes and the attribution line are never part of the reviewer's own text.
    assert all(not line.startswith(">") for c in sean for line in c.text.splitlines())
    assert all("wrote:" not in c.text for c in sean)


def test_a_rewritten_patch_is_not_reported_dropped(apic_comments) -> None:
    # v4 rewrote v3's patch 3 beyond what the range-diff pairs; the quoted capability name
    # is gone from v4's patch 3, so the point was acted on.
    first = next(c for c in apic_comments if c.version == "v3" and c.patch_index == 3)
    assert first.verdict == "changed"
    assert first.next_version == "v4" and first.next_patch_index == 3
    assert "rewrites this patch" in first.evidence


def test_a_point_whose_code_stays_the_same_is_unchanged(apic_comments) -> None:
    same = [c for c in apic_comments if c.verdict == "unchanged"]
    assert same
    for comment in same:
        assert comment.quoted and comment.next_version
        assert "same" in comment.evidence or "keeps the quoted lines" in comment.evidence


def test_comments_on_the_newest_version_wait_for_the_next(apic_comments) -> None:
    latest = [c for c in apic_comments if c.version == "v5"]
    assert latest and all(c.verdict == "pending" for c in latest)
    # A reply to the cover letter has no code to hold open.
    assert all(not c.open for c in latest if c.patch_index is None)


def test_json_lists_review_comments_with_the_issue_fields(corpus_dir) -> None:
    review = build_review(
        load([str(corpus_dir / "kvm-apic-bus-freq")]), analyses=["rangediff", "followup"]
    )
    comments = review_json(review)["reviews"][0]["review_comments"]
    assert comments
    fields = {"message_id", "author", "version", "patch_index", "quoted", "text", "verdict"}
    assert all(fields | {"evidence"} <= set(c) for c in comments)
    assert {c["verdict"] for c in comments} <= {
        "changed",
        "unchanged",
        "patch-dropped",
        "unclear",
        "pending",
    }


def test_example_reviewer_asking_for_a_helper_is_followed_into_the_next_version() -> None:
    review = build_review(load([str(EXAMPLE_MBOX)]), analyses=["rangediff", "followup"])
    comments = review.series_reviews[0].review_comments
    helper = next(c for c in comments if "helper" in c.text and c.version == "v2")
    assert helper.author.startswith("Sean Christopherson")
    assert "-\tkvm_release_pfn_clean(fault->pfn);" in helper.quoted
    assert helper.verdict in ("changed", "unchanged")
    assert helper.next_version == "v3"


def test_diff_command_lists_review_comments_of_the_older_version(corpus_dir, capsys) -> None:
    import json

    from reviewtool.cli import main

    path = str(corpus_dir / "kvm-apic-bus-freq")
    assert main(["diff", path, "--from", "4", "--to", "5", "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)["comparisons"]  # diff --json: issue 15.4
    comments = doc["review_comments"]
    assert {(c["version"], c["label"]) for c in comments} == {(4, "v4")}
    rick = next(c for c in comments if c["author"].startswith("Edgecombe"))
    assert rick["verdict"] == "unclear"
    assert rick["evidence"] == "the reply quotes the commit message, not code"
    assert main(["diff", path, "--from", "4", "--to", "5"]) == 0
    text = capsys.readouterr().out
    assert "review comments on v4:" in text
    assert "[changed] v4 patch 3, Xiaoyao Li:" in text


def test_bot_mail_says_what_the_new_version_did_with_each_review_comment(corpus_dir) -> None:
    from reviewtool.render.email import render_email_summary

    review = build_review(
        load([str(corpus_dir / "kvm-apic-bus-freq")]),
        analyses=["rangediff", "changelog", "followup"],
    )
    body = render_email_summary(review, "v5")
    assert "Review comments on the previous version" in body
    flat = " ".join(body.split())
    assert "[changed] patch 3, Xiaoyao Li:" in flat
