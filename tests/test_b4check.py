"""`reviewtool b4-check`: b4 review's check-command protocol (one message in, JSON out)."""

from __future__ import annotations

import json
import subprocess
import sys

from reviewtool.bot.b4check import check_message
from tests.helpers.mail import BASE_DATE, message, posting, review_reply

FIELDS = {"tool", "status", "summary", "url", "details"}


def _valid(results: list[dict]) -> None:
    """The shape b4 documents: tool and status required, status one of three words."""
    assert isinstance(results, list)
    for result in results:
        assert set(result) <= FIELDS
        assert isinstance(result["tool"], str) and result["tool"]
        assert result["status"] in ("pass", "warn", "fail")
        assert all(isinstance(result.get(k, ""), str) for k in ("summary", "url", "details"))


def test_patch_on_stdin_prints_a_json_array_b4_reads(tmp_path):
    patch = posting(8, 3).mails[2]
    done = subprocess.run(
        [sys.executable, "-m", "reviewtool", "b4-check", "--repo", str(tmp_path)],
        input=patch,
        capture_output=True,
        check=True,
        cwd=tmp_path,
    )
    results = json.loads(done.stdout)
    _valid(results)
    assert [r["tool"] for r in results] == ["reviewtool"]
    assert results[0]["summary"]


def test_patch_without_the_authors_sign_off_is_a_warning():
    post = posting(8, 2)
    patch = post.mails[1].replace(b"Signed-off-by: David Stevens", b"Signed-off-by: Some One Else")
    patch = patch.replace(b"<stevensd@chromium.org>\n---", b"<someone@example.org>\n---")
    (result,) = check_message(patch)
    _valid([result])
    assert result["status"] in ("warn", "fail")
    assert "Signed-off-by from the author" in result["details"]


def test_cover_letter_of_a_reroll_without_changelog_warns():
    cover = posting(3, 2).mails[0]
    stripped = cover.replace(b"v2 -> v3:\n", b"").replace(b"base-commit:", b"based-on:")
    (result,) = check_message(stripped)
    _valid([result])
    assert result["status"] == "warn"
    assert "changelog" in result["details"] and "base-commit" in result["details"]


def test_cover_letter_with_changelog_and_base_passes():
    (result,) = check_message(posting(3, 2).mails[0], report_url="https://rv.example.org/x")
    _valid([result])
    assert result["status"] == "pass"
    assert result["url"] == "https://rv.example.org/x"


def test_replies_and_plain_mail_have_nothing_to_report():
    post = posting(8, 2)
    assert check_message(review_reply(post, 1, ("A B", "ab@example.org"), BASE_DATE)) == []
    chat = message("KVM: a question", "Hello\n", "q@example.org", BASE_DATE)
    assert check_message(chat) == []


def test_bytes_that_are_not_mail_fail_with_a_reason():
    (result,) = check_message(b"\x00\x01\x02 binary junk")
    _valid([result])
    assert result["status"] == "fail" and "not a mail" in result["summary"]


def test_patch_that_leaks_a_page_reference_fails_with_the_trace():
    (result,) = check_message(posting(8, 3, leak_in=2).mails[2])
    _valid([result])
    assert result["status"] == "fail"
    assert result["summary"].startswith("1 finding")
    first = result["details"].splitlines()[0]
    assert first.startswith("arch/x86/kvm/mmu/mmu.c:") and ": error: leak:" in first
    assert "__gfn_to_pfn_memslot" in result["details"]


def test_clean_patch_passes():
    (result,) = check_message(posting(8, 3).mails[1])
    _valid([result])
    assert result["status"] == "pass" and result["summary"] == "no findings"
