"""Issue 15.6 in the verdict: a patch whose every Reviewed-by/Acked-by was carried over from the
previous version although its code changed is not counted as reviewed. The verdict's reviews
part lists it apart and turns partial, naming it, in the JSON (valid against the shipped
schema), the text report, the HTML report and the bot's reply. The mail is `git format-patch`
output from a temporary repository with review replies as mail clients send them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from jsonschema import Draft202012Validator

from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, reply

REVIEWER = "Sean Christopherson <seanjc@google.com>"
TRAILER = f"Reviewed-by: {REVIEWER}"
SIGNOFF = "Signed-off-by: David Stevens <stevensd@chromium.org>\n"


@pytest.fixture(scope="module")
def mail(tmp_path_factory) -> Path:
    """v1 reviewed by Sean patch by patch; v2 carries his Reviewed-by into every patch.
    Patch 1 is the same change in v2; patches 2 and 3 changed, and Sean reviewed v2's patch 3
    again in a reply, so only patch 2's review is of other code."""
    root = tmp_path_factory.mktemp("stale")
    repo = init_repo(root / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    v1 = make_posting(repo, base, 1, root / "mail" / "v1", count=3)
    v2 = make_posting(repo, base, 2, root / "mail" / "v2", count=3, tweak="_fixed", changed=(2, 3))
    for i in (1, 2, 3):
        (root / "mail" / "v1" / f"review-{i}.eml").write_text(reply(v1[i], REVIEWER, TRAILER))
    for path in v2[1:]:
        path.write_text(path.read_text().replace(SIGNOFF, f"{TRAILER}\n{SIGNOFF}"))
    (root / "mail" / "v2" / "review-3.eml").write_text(reply(v2[3], REVIEWER, TRAILER))
    return root / "mail"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=300
    )


def report(mail: Path, tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"report.{fmt}"
    done = cli("report", str(mail), "--format", fmt, "-o", str(out), "--fail-on", "none")
    assert done.returncode in (0, 3), done.stderr
    return out.read_text(encoding="utf-8")


def test_json_verdict_does_not_count_a_review_of_other_code(mail, tmp_path):
    document = json.loads(report(mail, tmp_path, "json"))
    schema = json.loads(cli("schema", "report").stdout)
    errors = list(Draft202012Validator(schema).iter_errors(document))
    assert not errors, [e.message for e in errors[:3]]
    (series,) = document["reviews"]
    verdict = series["verdict"]
    assert verdict["judged"]["label"] == "v2" and verdict["previous"]["label"] == "v1"
    reviews = verdict["unreviewed"]
    assert reviews["items"] == []  # every patch carries a Reviewed-by...
    stale = reviews["stale_reviews"]
    assert [s["index"] for s in stale] == [2]  # ...but patch 2's is of v1's code
    assert stale[0]["trailers"] == [{"name": "Reviewed-by", "value": REVIEWER}]
    assert reviews["state"] == "partial"
    assert "patch 2 of v2" in reviews["reason"] and "code changed" in reviews["reason"]


def test_text_verdict_lists_the_review_carried_over_changed_code(mail, tmp_path):
    text = report(mail, tmp_path, "text")
    verdict = text[text.index("Verdict on v2") :]
    lines = verdict.splitlines()
    at = next(i for i, line in enumerate(lines) if "review carried over changed code" in line)
    assert lines[at].rstrip().endswith(": 1")
    assert lines[at + 1].split()[0] == "2" and REVIEWER in lines[at + 1]
    assert "patches without Reviewed-by or Acked-by: 0" in verdict
    partial = next(line for line in lines if line.strip().startswith("partial:"))
    assert "patch 2 of v2" in partial
    # The versions table counts the same way: patch 2 of v2 is not reviewed as sent.
    (v2_row,) = [ln for ln in lines if ln.strip().startswith("v2 ") and " reviewed " in ln]
    assert "3 patches  2/3 reviewed" in v2_row


def test_html_verdict_lists_the_review_carried_over_changed_code(mail, tmp_path):
    tree = lxml.html.fromstring(report(mail, tmp_path, "html"))
    (part,) = tree.xpath("//*[@data-part='unreviewed']")
    assert part.get("data-state") == "partial"
    text = " ".join(part.text_content().split())
    assert "has a Reviewed-by or an Acked-by" not in text  # no all-clear
    assert [li.get("data-stale-review") for li in part.xpath(".//*[@data-stale-review]")] == ["2"]
    assert "Review carried over changed code: 1 of 3" in text
    assert "patch 2 of v2" in text
    (v2_row,) = tree.xpath("//table[@data-table='versions']//tr[td[1]//strong[.='v2']]")
    assert "2/3" in [" ".join(td.text_content().split()) for td in v2_row.xpath("td")]


def test_bot_mail_summary_says_the_patch_has_no_review_of_its_code(mail):
    from reviewtool.ingest import load
    from reviewtool.render.email import render_email_summary
    from reviewtool.review import build_review

    review = build_review(load([str(mail)]), analyses=("rangediff",))
    text = " ".join(render_email_summary(review, "v2").split())
    assert "Patch 2 of v2 therefore has no review of the code as sent" in text
    assert "Still without Reviewed-by or Acked-by" not in text


def test_a_review_given_again_on_the_changed_code_counts(mail):
    from reviewtool.ingest import load
    from reviewtool.review import build_review
    from reviewtool.review.flags import fresh_reviewers, stale_review

    review = build_review(load([str(mail)]), analyses=("rangediff",))
    v2 = review.series_reviews[0].series.revision("v2")
    by_index = {p.index: p for p in v2.patches}
    assert [stale_review(by_index[i]) for i in (1, 2, 3)] == [False, True, False]
    assert fresh_reviewers(by_index[3]) == [REVIEWER]  # the v2 reply, not the carried trailer
    assert by_index[3].carried_over_changed  # while the carried one is still flagged
    assert fresh_reviewers(by_index[1]) == [REVIEWER]  # same patch-id: the trailer holds
