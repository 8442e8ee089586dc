"""Issue 15.6 in the report: a patch unchanged since the previous version (same `git patch-id
--stable`) and a review trailer carried over a patch whose code changed are shown in the HTML
and text reports, from the one list of flags (`review.flags.patch_flags`), escaped. The mail is
`git format-patch` output from a temporary repository with review replies as clients send them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest

from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, reply

# A display name with characters HTML must escape, as mail clients let people write them.
REVIEWER = '"Sean <Q> & Co" <seanjc@google.com>'
TRAILER = "Reviewed-by: Sean <Q> & Co <seanjc@google.com>"


@pytest.fixture(scope="module")
def mail(tmp_path_factory) -> Path:
    """v1 reviewed by Sean patch by patch; v2 carries his Reviewed-by into every patch, but
    patch 2's code changed in v2 (patches 1 and 3 are byte-identical changes)."""
    root = tmp_path_factory.mktemp("flags")
    repo = init_repo(root / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    v1 = make_posting(repo, base, 1, root / "mail" / "v1", count=3)
    v2 = make_posting(repo, base, 2, root / "mail" / "v2", count=3, tweak="_fixed", changed=(2,))
    for i in (1, 2, 3):
        (root / "mail" / "v1" / f"review-{i}.eml").write_text(reply(v1[i], REVIEWER, TRAILER))
    for path in v2[1:]:
        path.write_text(
            path.read_text().replace(
                "Signed-off-by: David Stevens <stevensd@chromium.org>\n",
                f"{TRAILER}\nSigned-off-by: David Stevens <stevensd@chromium.org>\n",
            )
        )
    return root / "mail"


def report(mail: Path, tmp_path: Path, fmt: str) -> str:
    out = tmp_path / f"report.{fmt}"
    done = subprocess.run(
        [sys.executable, "-m", "reviewtool", "report", str(mail), "--format", fmt,
         "-o", str(out), "--fail-on", "none"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    return out.read_text(encoding="utf-8")


def test_html_report_shows_unchanged_and_carried_over_flags_escaped(mail, tmp_path):
    page = report(mail, tmp_path, "html")
    assert "<Q>" not in page  # the reviewer's name reaches the page escaped only
    tree = lxml.html.fromstring(page)
    v2_rows = tree.xpath("//tr[starts-with(@id, 's1-v2-')]")
    flags = {
        row.get("id"): sorted(b.get("data-flag") for b in row.xpath(".//*[@data-flag]"))
        for row in v2_rows
    }
    assert list(flags.values()) == [["unchanged"], ["carried-over-changed"], ["unchanged"]], flags
    carried = tree.xpath("//*[@data-flag='carried-over-changed']")[0]
    assert " ".join(carried.text_content().split()) == "Reviewed-by carried over a changed patch"
    assert "Sean <Q> & Co <seanjc@google.com>" in carried.get("title")
    detail = tree.xpath("//*[@data-flag-detail='carried-over-changed']")[0].text_content()
    assert "Sean <Q> & Co <seanjc@google.com>" in detail and "code changed" in detail
    unchanged = tree.xpath("//*[@data-flag='unchanged']")[0]
    assert unchanged.text_content() == "unchanged since v1"
    # v1 has no version before it: nothing to flag.
    assert not tree.xpath("//tr[starts-with(@id, 's1-v1-')]//*[@data-flag]")


def test_text_report_shows_the_same_flags(mail, tmp_path):
    text = report(mail, tmp_path, "text")
    latest = text[text.index("v2 patches") :]
    lines = latest.splitlines()
    patch_lines = [line for line in lines if line.lstrip()[:4] in ("1/3 ", "2/3 ", "3/3 ")]
    assert ["[unchanged since v1]" in line for line in patch_lines] == [True, False, True]
    carried = [line for line in lines if "carried over a changed patch" in line]
    assert len(carried) == 1 and "Sean <Q> & Co <seanjc@google.com>" in carried[0]
    assert carried[0].strip().startswith("! Reviewed-by carried over a changed patch")


def test_bot_mail_summary_names_the_trailer_carried_over_changed_code(mail):
    from reviewtool.ingest import load
    from reviewtool.render.email import render_email_summary
    from reviewtool.review import build_review

    review = build_review(load([str(mail)]), analyses=("rangediff",))
    text = render_email_summary(review, "v2")
    section = text[text.index("Review trailers carried over a changed patch") :]
    items = [line for line in section.splitlines()[2:] if line.startswith("- ")]
    assert len(items) == 1 and items[0].startswith("- 2/3: Reviewed-by: Sean <Q> & Co")
    assert "code changed" in section
