"""Issue 15.3, cover-letter trailers exactly as b4 applies them by default.

b4 0.13 and later apply trailers sent in follow-ups to the cover letter to every patch of that
revision (`b4 am -t/--apply-cover-trailers` became a no-op; b4's own help says "This is now the
default behavior"); the address rule holds for them as for any follow-up (`-S` relaxes it); and
they are not carried to the next revision, even onto patches whose code did not change (b4
carries per-patch trailers by patch-id, never the cover's). Mail from `git format-patch` in a
temporary repository, replies written as mail clients write them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reviewtool.ingest import load
from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, msgid, reply

SEAN = "Sean Christopherson <seanjc@google.com>"
TESTER = "Tester Person <tester@example.com>"


def _posting(tmp_path: Path, *versions: int) -> tuple[Path, dict[int, list[Path]]]:
    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    files = {v: make_posting(repo, base, v, tmp_path / "mail" / f"v{v}", count=3) for v in versions}
    return tmp_path / "mail", files


def _names(trailers) -> list[tuple[str, str]]:
    return sorted((t.name, t.email) for t in trailers)


def test_cover_trailers_apply_to_every_patch_of_the_revision(tmp_path):
    folder, files = _posting(tmp_path, 1)
    cover = files[1][0]
    (folder / "v1" / "ack.eml").write_text(
        reply(
            cover,
            SEAN,
            "For the series:\n\nReviewed-by: Sean Christopherson <seanjc@google.com>",
            msg_id="sean-ack@google.com",
        )
    )
    # A tester answers Sean's reply, not the cover itself: still in the cover's thread.
    (folder / "v1" / "tested.eml").write_text(
        reply(
            "sean-ack@google.com",
            TESTER,
            "Tested-by: Tester Person <tester@example.com>",
            subject="Re: [PATCH v1 0/3] KVM: allow mapping non-refcounted pages",
            extra_refs=(msgid(cover),),
        )
    )
    (revision,) = load([str(folder)]).series[0].revisions
    expected = [("Reviewed-by", "seanjc@google.com"), ("Tested-by", "tester@example.com")]
    assert _names(revision.cover_trailers) == expected
    for patch in revision.patches:
        assert _names(patch.review_trailers) == expected, patch.index
        assert _names(patch.reviewed_by()) == expected
    # The same through the command a maintainer runs.
    done = subprocess.run(
        [sys.executable, "-m", "reviewtool", "series", str(folder), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    patches = json.loads(done.stdout)["series"][0]["revisions"][0]["patches"]
    assert [sorted(t["name"] for t in p["review_trailers"]) for p in patches] == [
        ["Reviewed-by", "Tested-by"]
    ] * 3


def test_cover_trailer_from_another_address_is_reported_not_applied_unless_sloppy(tmp_path):
    folder, files = _posting(tmp_path, 1)
    (folder / "v1" / "ack.eml").write_text(
        reply(files[1][0], "Maxim Levitsky <mlevitsk@redhat.com>",
              "Acked-by: Maxim Levitsky <maximlevitsky@gmail.com>")
    )  # fmt: skip
    (revision,) = load([str(folder)]).series[0].revisions
    assert revision.cover_trailers == []
    assert [(i.trailer.email, i.sender) for i in revision.ignored_cover_trailers] == [
        ("maximlevitsky@gmail.com", "Maxim Levitsky <mlevitsk@redhat.com>")
    ]
    assert all(p.review_trailers == [] for p in revision.patches)
    (sloppy,) = load([str(folder)], sloppy_trailers=True).series[0].revisions
    assert all(
        _names(p.review_trailers) == [("Acked-by", "maximlevitsky@gmail.com")]
        for p in sloppy.patches
    )


def test_cover_trailers_are_not_carried_to_the_next_revision(tmp_path):
    folder, files = _posting(tmp_path, 1, 2)
    (folder / "v1" / "ack.eml").write_text(
        reply(files[1][0], SEAN, "Reviewed-by: Sean Christopherson <seanjc@google.com>")
    )
    series = load([str(folder)]).series
    assert len(series) == 1
    v1, v2 = series[0].revisions
    sean = [("Reviewed-by", "seanjc@google.com")]
    assert all(_names(p.review_trailers) == sean for p in v1.patches)
    # v2's patches are the same code (same patch-id), yet the v1 cover's trailer stays on v1.
    assert [p.unchanged_from for p in v2.patches] == ["v1", "v1", "v1"]
    assert v2.cover_trailers == [] and all(p.review_trailers == [] for p in v2.patches)
