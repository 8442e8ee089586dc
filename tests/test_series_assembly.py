"""Series assembly from real `git format-patch` output: versions, threads, mess, accounting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewtool.ingest import load
from reviewtool.series import to_json
from tests.helpers.git import commit, fill_cover, format_patch, git, init_repo, write

CHANGELOG_V2 = """Follow pages without taking references where the MMU notifier guards them.

v1 -> v2:
 - Rename gfn_to_pfn_page to gfn_to_pfn_noref, as suggested in
   review of v1.
 - Drop the arm64 hunk.
"""


def make_version(
    repo: Path,
    base: str,
    version: int,
    out: Path,
    tweak: str = "",
    extra: tuple[str, ...] = (),
    title: str = "KVM: allow mapping non-refcounted pages",
    body: str = "Follow pages without taking references.\n",
) -> list[Path]:
    git(repo, "checkout", "-q", "-B", f"v{version}", base)
    for i, name in enumerate(("kvm_main.c", "mmu.c", "pfncache.c"), 1):
        write(repo, f"virt/kvm/part{i}_{name}", f"int part{i}{tweak};\n")
        commit(
            repo,
            f"KVM: mmu: part {i} of the change{tweak}\n\nWhy part {i}.\n\n"
            f"Signed-off-by: David Stevens <stevensd@chromium.org>\n",
            date=f"2023-0{version}-0{i}T10:00:00+00:00",
        )
    files = format_patch(repo, base, out, version, *extra)
    fill_cover(files[0], title, body)
    return files


@pytest.fixture
def repo(tmp_path):
    repo = init_repo(tmp_path / "repo")
    return repo, git(repo, "rev-parse", "HEAD").strip()


def msgid(path: Path) -> str:
    return re.search(r"^Message-Id: <([^>]+)>", path.read_text(), re.M | re.I).group(1)


def test_two_versions_form_one_series_with_changelog(repo, tmp_path):
    repo, base = repo
    make_version(repo, base, 1, tmp_path / "v1")
    make_version(repo, base, 2, tmp_path / "v2", tweak="_v2", body=CHANGELOG_V2)
    collection = load([str(tmp_path / "v1"), str(tmp_path / "v2")])
    assert len(collection.series) == 1
    series = collection.series[0]
    assert [r.label for r in series.revisions] == ["v1", "v2"]
    v2 = series.revisions[1]
    assert [p.index for p in v2.patches] == [1, 2, 3] and v2.missing == []
    assert v2.base_commit == base
    step = v2.cover.changelog[0]
    assert (step.from_version, step.to_version) == (1, 2)
    assert step.items[0] == (
        "Rename gfn_to_pfn_page to gfn_to_pfn_noref, as suggested in review of v1."
    )
    assert v2.patches[0].files == ["virt/kvm/part1_kvm_main.c"]
    acc = collection.accounting
    assert (acc.read, acc.cover, acc.patch, acc.reply, acc.other) == (8, 2, 6, 0, 0)


def test_new_version_sent_inside_old_thread_is_linked_by_thread(repo, tmp_path):
    repo, base = repo
    v1 = make_version(repo, base, 1, tmp_path / "v1")
    make_version(
        repo,
        base,
        2,
        tmp_path / "v2",
        tweak="_v2",
        title="KVM: a wholly new title",
        extra=(f"--in-reply-to={msgid(v1[0])}",),
    )
    collection = load([str(tmp_path)])
    assert len(collection.series) == 1
    assert collection.series[0].linked_by == "thread"
    assert [r.label for r in collection.series[0].revisions] == ["v1", "v2"]


def test_different_titles_and_authors_stay_apart(repo, tmp_path):
    repo, base = repo
    make_version(repo, base, 1, tmp_path / "a")
    other = make_version(repo, base, 2, tmp_path / "b", tweak="_b", title="KVM: something else")
    for path in other:
        path.write_text(
            path.read_text()
            .replace("stevensd@chromium.org", "seanjc@google.com")
            .replace("part ", "piece ")
        )
    collection = load([str(tmp_path / "a"), str(tmp_path / "b")])
    assert len(collection.series) == 2


def test_change_id_links_versions_whose_titles_differ(repo, tmp_path):
    repo, base = repo
    v1 = make_version(
        repo, base, 1, tmp_path / "v1", body="b\n\nchange-id: 20230824-follow-pfn-abc\n"
    )
    v2 = make_version(
        repo,
        base,
        2,
        tmp_path / "v2",
        tweak="_v2",
        title="KVM: renamed",
        body="b\n\nchange-id: 20230824-follow-pfn-abc\n",
    )
    for path in v2[1:]:
        path.write_text(path.read_text().replace("part ", "piece "))
    assert v1 and v2
    collection = load([str(tmp_path)])
    assert len(collection.series) == 1
    assert collection.series[0].change_id == "20230824-follow-pfn-abc"
    assert collection.series[0].linked_by == "change-id"


def strip_threading(path: Path) -> None:
    text = re.sub(
        r"^(In-Reply-To|References): .*\n(?:[ \t].*\n)*", "", path.read_text(), flags=re.M
    )
    path.write_text(text)


def test_unthreaded_patch_is_stitched_back_and_said(repo, tmp_path):
    repo, base = repo
    files = make_version(repo, base, 2, tmp_path / "v2")
    strip_threading(files[2])
    collection = load([str(tmp_path / "v2")])
    revision = collection.series[0].revisions[0]
    assert [p.index for p in revision.patches] == [1, 2, 3]
    assert revision.stitched
    assert any("unthreaded" in note for note in revision.notes)


def test_missing_and_duplicate_indices_are_reported(repo, tmp_path):
    repo, base = repo
    files = make_version(repo, base, 2, tmp_path / "v2")
    files[2].unlink()  # 2/3 never arrived
    again = files[3].read_text().replace(msgid(files[3]), "resent-3@chromium.org")
    (tmp_path / "v2" / "0003-resent.patch").write_text(again)
    revision = load([str(tmp_path / "v2")]).series[0].revisions[0]
    assert revision.missing == [2]
    assert revision.duplicates == [3]
    assert revision.partial


def test_copy_from_a_second_list_is_one_message(repo, tmp_path):
    repo, base = repo
    files = make_version(repo, base, 2, tmp_path / "v2")
    text = files[1].read_text()
    listed = text.replace(
        "Subject:",
        "List-Id: <kvm.vger.kernel.org>\nX-Mailing-List: kvm@vger.kernel.org\n"
        "Archived-At: <https://lore.kernel.org/r/x>\nSubject:",
        1,
    )
    (tmp_path / "v2" / "0001-copy-from-list.patch").write_text(listed)
    collection = load([str(tmp_path / "v2")])
    revision = collection.series[0].revisions[0]
    assert revision.duplicates == []
    kept = revision.patch(1).mail
    assert kept.list_changes == 0
    acc = collection.accounting
    assert acc.read == 5 and acc.patch == 3 and len(acc.rejected) == 1
    assert "another copy" in acc.rejected[0].reason
    assert acc.balanced()


def test_point_revision_replaces_one_patch(repo, tmp_path):
    repo, base = repo
    files = make_version(repo, base, 5, tmp_path / "v5")
    text = files[2].read_text()
    point = (
        text.replace("[PATCH v5 2/3]", "[PATCH v5.1 2/3]")
        .replace(msgid(files[2]), "v5.1-2@chromium.org")
        .replace("int part2;", "int part2_fixed;")
    )
    point = re.sub(r"^In-Reply-To: .*$", f"In-Reply-To: <{msgid(files[2])}>", point, flags=re.M)
    (tmp_path / "v5.1.patch").write_text(point)
    series = load([str(tmp_path)]).series
    assert len(series) == 1
    labels = [r.label for r in series[0].revisions]
    assert labels == ["v5", "v5.1"]
    rerolled = series[0].revisions[1]
    assert rerolled.replaces == [2] and rerolled.partial and rerolled.missing == []


def reply(path: Path, to: Path, who: str, text: str, msg: str) -> None:
    target = to.read_text()
    subject = re.search(r"^Subject: (.*)$", target, re.M).group(1)
    path.write_text(
        f"From: {who}\nTo: David Stevens <stevensd@chromium.org>\n"
        f"Subject: Re: {subject}\nDate: Fri, 01 Sep 2023 10:00:00 -0700\n"
        f"Message-ID: <{msg}>\nIn-Reply-To: <{msgid(to)}>\nReferences: <{msgid(to)}>\n\n"
        f"On Thu, Aug 24, 2023, David Stevens wrote:\n> Why part 1.\n\n{text}\n"
    )


def test_reply_trailers_land_on_their_patch_and_cover_acks_on_all(repo, tmp_path):
    repo, base = repo
    files = make_version(repo, base, 8, tmp_path / "v8")
    replies = tmp_path / "replies"
    replies.mkdir()
    reply(
        replies / "r1.eml",
        files[1],
        "Sean Christopherson <seanjc@google.com>",
        "Reviewed-by: Sean Christopherson <seanjc@google.com>",
        "r1@google.com",
    )
    reply(
        replies / "r2.eml",
        replies / "r1.eml",
        "Peter Xu <peterx@redhat.com>",
        "Agreed.\n\nTested-by: Peter Xu <peterx@redhat.com>",
        "r2@redhat.com",
    )
    reply(
        replies / "r3.eml",
        files[0],
        "Marc Zyngier <maz@kernel.org>",
        "For arm64:\n\nAcked-by: Marc Zyngier <maz@kernel.org>",
        "r3@kernel.org",
    )
    collection = load([str(tmp_path / "v8"), str(replies)])
    revision = collection.series[0].revisions[0]
    first = revision.patch(1)
    assert first.replies == 2
    names = sorted((t.name, t.email) for t in first.reviewed_by())
    assert names == [
        ("Acked-by", "maz@kernel.org"),
        ("Reviewed-by", "seanjc@google.com"),
        ("Tested-by", "peterx@redhat.com"),
    ]
    assert [(t.name, t.email) for t in revision.patch(3).reviewed_by()] == [
        ("Acked-by", "maz@kernel.org")
    ]
    assert collection.accounting.reply == 3


def test_every_message_is_accounted_for(repo, tmp_path):
    repo, base = repo
    make_version(repo, base, 3, tmp_path / "in")
    (tmp_path / "in" / "junk.eml").write_bytes(b"\x00\x01\x02 garbage\n")
    (tmp_path / "in" / "announce.eml").write_text(
        "From: pbonzini@redhat.com\nSubject: KVM Forum call for papers\n"
        "Message-ID: <cfp@redhat.com>\n\nSubmit talks.\n"
    )
    collection = load([str(tmp_path / "in")])
    acc = collection.accounting
    assert acc.balanced()
    assert (acc.cover, acc.patch, acc.other) == (1, 3, 1)
    assert [Path(r.source).name for r in acc.rejected] == ["junk.eml"]


def test_json_document_has_the_contract_fields(repo, tmp_path):
    repo, base = repo
    make_version(repo, base, 2, tmp_path / "v2", body=CHANGELOG_V2)
    doc = to_json(load([str(tmp_path / "v2")]))
    revision = doc["series"][0]["revisions"][0]
    assert set(revision) >= {
        "version",
        "partial",
        "cover",
        "total",
        "patches",
        "missing",
        "duplicates",
    }
    assert set(revision["cover"]) >= {
        "message_id",
        "subject",
        "date",
        "author",
        "changelog",
        "base_commit",
    }
    assert set(revision["patches"][0]) >= {
        "index",
        "total",
        "title",
        "message_id",
        "author",
        "date",
        "files",
        "trailers",
        "review_trailers",
        "replies",
    }
    assert set(doc["accounting"]) >= {"read", "cover", "patch", "reply", "other", "rejected"}
    assert revision["cover"]["changelog"][0] == {
        "from": 1,
        "to": 2,
        "items": [
            "Rename gfn_to_pfn_page to gfn_to_pfn_noref, as suggested in review of v1.",
            "Drop the arm64 hunk.",
        ],
    }
