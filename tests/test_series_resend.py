"""Issue 15.1, 16.3 and 17.1 on real `git format-patch` mail: resent patches, bounded
counters, patches whose cover never arrived, every consecutive pair compared by `diff`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtool.ingest import load
from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, msgid, reply, set_header


@pytest.fixture
def repo(tmp_path):
    repo = init_repo(tmp_path / "repo")
    return repo, git(repo, "rev-parse", "HEAD").strip()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=120
    )


def resend_alone(patch: Path, dest: Path, parent: str, days_later: int = 7) -> Path:
    """The patch sent again by its author, a week later, in reply to a tester's message."""
    text = patch.read_text()
    text = set_header(text, "Message-Id", f"<resent.{patch.stem}@chromium.org>")
    text = set_header(text, "In-Reply-To", f"<{parent}>")
    text = set_header(text, "References", f"<{parent}>")
    text = set_header(text, "Date", f"Thu, {1 + days_later} Sep 2023 10:00:00 +0000")
    dest.write_text(text)
    return dest


def test_patch_resent_alone_fills_the_missing_index(repo, tmp_path):
    repo, base = repo
    files = make_posting(repo, base, 9, tmp_path / "v9")
    lost = files[6]  # 6/6 never reached the list
    lost.rename(tmp_path / "lost.patch")
    tester = tmp_path / "v9" / "tester.eml"
    tester.write_text(
        reply(
            "unrelated-thread@example.org",
            "Tester <tester@example.org>",
            "I cannot find 6/6 on the list, could you resend it?",
            subject="Re: [PATCH v9 0/6] KVM: allow mapping non-refcounted pages",
            msg_id="tester-asks@example.org",
        )
    )
    resend_alone(tmp_path / "lost.patch", tmp_path / "v9" / "resent.eml", "tester-asks@example.org")
    collection = load([str(tmp_path / "v9")])
    assert len(collection.series) == 1
    revision = collection.series[0].revisions[0]
    assert [p.index for p in revision.patches] == [1, 2, 3, 4, 5, 6]
    assert revision.missing == []
    assert any("came later" in note and "attached" in note for note in revision.notes)


def test_resent_patch_with_two_possible_revisions_joins_neither(repo, tmp_path):
    repo, base = repo
    first = make_posting(repo, base, 9, tmp_path / "a")
    second = make_posting(repo, base, 9, tmp_path / "b", title="KVM: a second take")
    # Two postings of v9 by one author, each without its 6/6.
    for files in (first, second):
        files[6].unlink()
    source = make_posting(repo, base, 9, tmp_path / "c")[6]
    resend_alone(source, tmp_path / "resent.eml", "nobody-here@example.org")
    for path in (tmp_path / "c").iterdir():
        path.unlink()
    collection = load([str(tmp_path / "a"), str(tmp_path / "b"), str(tmp_path / "resent.eml")])
    revisions = [r for s in collection.series for r in s.revisions]
    full = [r for r in revisions if r.cover is not None]
    assert len(full) == 2
    assert all(r.missing == [6] for r in full)
    alone = [r for r in revisions if r.cover is None]
    assert len(alone) == 1
    assert any("attached to neither" in note for note in alone[0].notes)
    assert any("attached to neither" in note for note in collection.notes)


def test_resent_patch_of_another_area_is_not_attached(repo, tmp_path):
    repo, base = repo
    files = make_posting(repo, base, 9, tmp_path / "v9")
    files[6].unlink()
    other = make_posting(repo, base, 9, tmp_path / "other", prefix="mm: gup")[6]
    text = other.read_text().replace("virt/kvm/step6.c", "mm/gup_other.c")
    (tmp_path / "other.patch").write_text(text)
    resend_alone(tmp_path / "other.patch", tmp_path / "v9" / "resent.eml", "x@example.org")
    revision = next(r for s in load([str(tmp_path / "v9")]).series for r in s.revisions if r.cover)
    assert revision.missing == [6]


def test_patches_whose_cover_never_arrived_stay_one_revision(repo, tmp_path):
    repo, base = repo
    files = make_posting(repo, base, 3, tmp_path / "v3")
    files[0].unlink()  # the cover letter was lost; the patches still answer its Message-ID
    for path in files[1:]:
        path.write_text(set_header(path.read_text(), "Date", "Mon, 1 Jan 2024 10:00:00 +0000"))
    # A second posting of v3 by the same author on the same day, also cover-less.
    again = make_posting(repo, base, 3, tmp_path / "again", title="other")
    again[0].unlink()
    for path in again[1:]:
        path.write_text(set_header(path.read_text(), "Date", "Mon, 1 Jan 2024 11:00:00 +0000"))
    collection = load([str(tmp_path / "v3"), str(tmp_path / "again")])
    revisions = [r for s in collection.series for r in s.revisions]
    assert sorted(len(r.patches) for r in revisions) == [6, 6]
    assert all(r.duplicates == [] for r in revisions)


def test_absurd_counters_are_rejected_with_a_reason_and_accounted(repo, tmp_path):
    repo, base = repo
    files = make_posting(repo, base, 1, tmp_path / "v1", count=2)
    text = files[1].read_text().replace("[PATCH 1/2]", "[PATCH 1/99999999999]")
    (tmp_path / "huge.eml").write_text(text)
    collection = load([str(tmp_path / "huge.eml")])
    acc = collection.accounting
    assert acc.read == 1 and len(acc.rejected) == 1 and acc.balanced()
    assert "99999999999" in acc.rejected[0].reason
    done = cli("series", str(tmp_path / "huge.eml"))
    assert done.returncode == 2 and "rejected" in done.stderr


def test_missing_indices_are_ranges(repo, tmp_path):
    repo, base = repo
    files = make_posting(repo, base, 1, tmp_path / "v1", count=2)
    text = files[1].read_text().replace("[PATCH 1/2]", "[PATCH 1/9999]")
    (tmp_path / "big.eml").write_text(text)
    done = cli("series", str(tmp_path / "big.eml"), "--json")
    assert done.returncode == 0, done.stderr
    revision = json.loads(done.stdout)["series"][0]["revisions"][0]
    assert revision["missing_ranges"] == [[2, 9999]]
    table = cli("series", str(tmp_path / "big.eml")).stdout
    assert "missing: 2-9999" in table
    assert len(table) < 2000


@pytest.mark.parametrize("content", [b"", b"\x7fELF\x02\x01\x01binary"])
def test_input_without_any_message_is_exit_2_with_the_accounting(tmp_path, content):
    path = tmp_path / "nothing.eml"
    path.write_bytes(content)
    for command in ("series", "diff", "migrate", "report"):
        done = cli(command, str(path))
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "read 1:" in done.stderr and "1 rejected" in done.stderr
        assert "Traceback" not in done.stderr


def test_diff_compares_point_revision_with_what_follows(repo, tmp_path):
    repo, base = repo
    v7 = make_posting(repo, base, 7, tmp_path / "v7", count=3)
    make_posting(repo, base, 8, tmp_path / "v8", count=3, tweak="_v8", changed=(3,))
    point = v7[2].read_text().replace("[PATCH v7 2/3]", "[PATCH v7.1 2/3]")
    point = set_header(point, "Message-Id", "<v7.1-2@chromium.org>")
    point = set_header(point, "In-Reply-To", f"<{msgid(v7[2])}>")
    point = set_header(point, "Date", "Sat, 15 Jul 2023 10:00:00 +0000")
    (tmp_path / "v7" / "v7.1.patch").write_text(point.replace("int more2;", "int more2_fix;"))
    done = cli("diff", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    comparisons = json.loads(done.stdout)["comparisons"]
    labels = [(c["from"]["label"], c["to"]["label"]) for c in comparisons]
    assert labels == [("v7", "v7.1"), ("v7.1", "v8")]
    done = cli("diff", str(tmp_path), "--from", "7.1", "--to", "8", "--json")
    explicit = json.loads(done.stdout)["comparisons"]
    assert not explicit[0]["added"]  # all three of v7 as amended pair with v8's three
    assert len(explicit[0]["pairs"]) == 3


def test_unthreaded_stitching_is_by_day_not_by_scan(repo, tmp_path):
    """A patch sent without threading joins the revision sent the same day, not one a
    week earlier by the same author."""
    repo, base = repo
    files = make_posting(repo, base, 2, tmp_path / "v2", count=3)
    for path in files[1:]:
        text = set_header(path.read_text(), "In-Reply-To", None)
        text = set_header(text, "References", None)
        path.write_text(set_header(text, "Date", "Mon, 1 Jan 2024 10:00:00 +0000"))
    files[0].write_text(set_header(files[0].read_text(), "Date", "Mon, 1 Jan 2024 09:59:00 +0000"))
    revision = load([str(tmp_path / "v2")]).series[0].revisions[0]
    assert [p.index for p in revision.patches] == [1, 2, 3]
    assert revision.stitched


def test_diff_picks_the_series_that_has_the_versions(repo, tmp_path):
    repo, base = repo
    make_posting(repo, base, 1, tmp_path / "a1", count=2, title="KVM: first piece of work")
    make_posting(
        repo,
        base,
        2,
        tmp_path / "a2",
        count=2,
        tweak="_a",
        changed=(1,),
        title="KVM: first piece of work",
    )
    make_posting(
        repo, base, 7, tmp_path / "b7", count=2, prefix="mm: gup", title="mm: another piece"
    )
    make_posting(
        repo,
        base,
        8,
        tmp_path / "b8",
        count=2,
        prefix="mm: gup",
        tweak="_b",
        changed=(2,),
        title="mm: another piece",
    )
    done = cli("diff", str(tmp_path), "--from", "7", "--to", "8", "--json")
    assert done.returncode == 0, done.stderr
    (comparison,) = json.loads(done.stdout)["comparisons"]
    assert comparison["series"] == "mm: another piece"
    assert (comparison["from"]["version"], comparison["to"]["version"]) == (7, 8)


def test_diff_with_versions_two_series_have_lists_each_with_its_selector(repo, tmp_path):
    repo, base = repo
    for name, prefix in (("alpha", "KVM: mmu"), ("beta", "mm: gup")):
        make_posting(
            repo,
            base,
            1,
            tmp_path / f"{name}1",
            count=2,
            prefix=prefix,
            stem=name,
            title=f"{prefix}: work {name}",
        )
        make_posting(
            repo,
            base,
            2,
            tmp_path / f"{name}2",
            count=2,
            prefix=prefix,
            tweak="_x",
            changed=(1,),
            stem=name,
            title=f"{prefix}: work {name}",
        )
    done = cli("diff", str(tmp_path), "--from", "1", "--to", "2")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "2 series have v1 and v2" in done.stderr
    assert "--series 1" in done.stderr and "--series 2" in done.stderr
    picked = cli("diff", str(tmp_path), "--from", "1", "--to", "2", "--series", "2", "--json")
    assert picked.returncode == 0, picked.stderr
    assert len(json.loads(picked.stdout)["comparisons"]) == 1


def test_chain_reply_to_thousands_deep_does_not_exhaust_the_stack(tmp_path):
    """`git send-email --chain-reply-to` threads patch N under N-1; a reply thread can be
    as deep. Both are walked without recursion."""
    count = 3000
    parts = []
    for i in range(1, count + 1):
        parent = f"In-Reply-To: <p{i - 1}@example.org>\n" if i > 1 else ""
        parts.append(
            f"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: A <a@example.org>\n"
            f"Subject: [PATCH {i}/{count}] KVM: step {i}\nDate: Mon, 1 Jan 2024 10:00:00 +0000\n"
            f"Message-ID: <p{i}@example.org>\n{parent}\n"
            f"Why.\n\nSigned-off-by: A <a@example.org>\n---\n"
            f"diff --git a/f{i}.c b/f{i}.c\n--- a/f{i}.c\n+++ b/f{i}.c\n@@ -1 +1 @@\n-a\n+b\n\n"
        )
    for i in range(1, count + 1):
        parent = f"<r{i - 1}@example.org>" if i > 1 else f"<p{count}@example.org>"
        parts.append(
            f"From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: B <b@example.org>\n"
            f"Subject: Re: [PATCH {count}/{count}] KVM: step {count}\n"
            f"Date: Tue, 2 Jan 2024 10:00:00 +0000\nMessage-ID: <r{i}@example.org>\n"
            f"In-Reply-To: {parent}\n\nok {i}\n\n"
        )
    mbox = tmp_path / "deep.mbox"
    mbox.write_text("".join(parts))
    collection = load([str(mbox)])
    (series,) = collection.series
    (revision,) = series.revisions
    assert len(revision.patches) == count and revision.missing == []
    assert revision.patch(count).replies == count
