"""`reviewtool scan`: whole archives into the series index, every series reviewed, one index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool.cli import main
from reviewtool.mail.parse import parse_mail
from reviewtool.scan.run import ScanOptions, scan
from reviewtool.series.index import SeriesIndex
from reviewtool.series.summary import summarize
from reviewtool.sources import iter_messages, spans
from tests.helpers.git import PublicInbox, public_inbox

COVER = """From: {name} <{addr}>
To: kvm@vger.kernel.org
Subject: [PATCH v{v} 0/{n}] KVM: x86: Rework the frobnicator of area {s}
Date: Mon, 0{v} Jan 2024 10:00:00 +0000
Message-ID: <cover-{s}-v{v}@example.org>

This reworks area {s}.

Changes in v{v}:
- renamed a helper

{name} (1):
  KVM: x86: step

 virt/kvm/area{s}.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)
"""

PATCH = """From: {name} <{addr}>
To: kvm@vger.kernel.org
Subject: [PATCH v{v} {i}/{n}] KVM: x86: Step {i} of area {s}
Date: Mon, 0{v} Jan 2024 10:0{i}:00 +0000
Message-ID: <patch-{s}-v{v}-{i}@example.org>
{threading}
Step {i} of the rework of area {s}.

Signed-off-by: {name} <{addr}>
---
 virt/kvm/area{s}.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/virt/kvm/area{s}.c b/virt/kvm/area{s}.c
index 1111111..2222222 100644
--- a/virt/kvm/area{s}.c
+++ b/virt/kvm/area{s}.c
@@ -10,7 +10,7 @@ static int area{s}_step{i}(struct kvm *kvm)
 {{
 \tint r;
\x20
-\tr = area{s}_old_helper(kvm, {i});
+\tr = area{s}_new_helper(kvm, {i} + {v});
 \tif (r)
 \t\treturn r;
 \treturn 0;
--
2.43.0
"""

REPLY = """From: Reviewer <reviewer@example.org>
To: kvm@vger.kernel.org
Subject: Re: [PATCH v{v} 2/{n}] KVM: x86: Step 2 of area {s}
Date: Mon, 0{v} Jan 2024 12:00:00 +0000
Message-ID: <reply-{s}-v{v}@example.org>
In-Reply-To: <patch-{s}-v{v}-2@example.org>
References: <cover-{s}-v{v}@example.org> <patch-{s}-v{v}-2@example.org>

> -\tr = area{s}_old_helper(kvm, 2);

Looks right to me.

Reviewed-by: Reviewer <reviewer@example.org>
"""

SEPARATOR = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"


def revision_mail(s: int, v: int, n: int = 3, threaded: bool = True) -> list[str]:
    """One revision of series `s`: cover (when threaded), n patches, one review reply."""
    who = {"name": f"Dev {s}", "addr": f"dev{s}@example.org", "s": s, "v": v, "n": n}
    mails = [COVER.format(**who)] if threaded else []
    for i in range(1, n + 1):
        threading = (
            f"In-Reply-To: <cover-{s}-v{v}@example.org>\nReferences: <cover-{s}-v{v}@example.org>\n"
            if threaded
            else ""
        )
        mails.append(PATCH.format(i=i, threading=threading, **who))
    if threaded:
        mails.append(REPLY.format(**who))
    return mails


def write_mbox(path: Path, mails: list[str], mode: str = "w") -> None:
    with open(path, mode, encoding="utf-8") as fh:
        for text in mails:
            fh.write(SEPARATOR + text + "\n")


def archive(tmp_path: Path) -> Path:
    """Four series (one sent without threading), two versions of two, and a broken message."""
    mails: list[str] = []
    for s in (1, 2):
        mails += revision_mail(s, 1) + revision_mail(s, 2)
    mails += revision_mail(3, 1)
    mails += revision_mail(4, 1, threaded=False)
    mails.append("this is not a mail header line\n\nnor a body\n")
    path = tmp_path / "list.mbox"
    write_mbox(path, mails)
    return path


def scan_dir(archives: list[Path], out: Path, **kwargs) -> dict:
    scan(ScanOptions(archives=[str(a) for a in archives], out=out, **kwargs))
    return json.loads((out / "index.json").read_text())


def comparable(out: Path) -> dict:
    """The index and every series JSON of a scan, without the scan's own time."""
    index = json.loads((out / "index.json").read_text())
    index.pop("generated")
    series = {}
    for path in sorted((out / "series").glob("*.json")):
        doc = json.loads(path.read_text())
        doc.pop("generated")
        series[path.name] = doc
    return {"index": index, "series": series}


def test_mbox_ranges_read_every_message_once_in_order(tmp_path):
    mbox = archive(tmp_path)
    whole = [r.data for r in iter_messages([str(mbox)])]
    for size in (97, 1000, 4096):
        parts = spans.plan(str(mbox), partition_bytes=size)
        assert len(parts) > 1
        pieces = [m for p in parts for m in spans.read_partition(p)]
        assert [m.data for m in pieces] == whole
        # and each message can be read back alone from its place
        assert [spans.read_back(m.place) for m in pieces] == whole


def test_scan_reviews_every_series_and_records_the_broken_message(tmp_path):
    index = scan_dir([archive(tmp_path)], tmp_path / "out", html=True)
    titles = sorted(e["title"] for e in index["series"])
    assert titles == [f"KVM: x86: Rework the frobnicator of area {s}" for s in (1, 2, 3)] + [
        "KVM: x86: Step 1 of area 4"
    ]
    by_title = {e["title"]: e for e in index["series"]}
    two = by_title["KVM: x86: Rework the frobnicator of area 1"]
    assert [v["label"] for v in two["versions"]] == ["v1", "v2"]
    assert [v["version"] for v in two["versions"]] == [1, 2]
    assert two["versions"][1]["review_replies"] == 1
    assert isinstance(two["open_review_comments"], int)
    # no tree: the checker read hunks only, and the index says so next to the count
    assert two["versions"][1]["findings"]["introduced"] == 0
    assert two["versions"][1]["not_checked"] >= 1
    unthreaded = by_title["KVM: x86: Step 1 of area 4"]
    assert unthreaded["versions"][0]["patches"] == 3  # stitched by author, version and time
    assert len(index["rejected"]) == 1
    for entry in index["series"]:
        assert (tmp_path / "out" / entry["json"]).is_file()
        assert (tmp_path / "out" / entry["html"]).is_file()
    html = (tmp_path / "out" / "index.html").read_text()
    assert "Rework the frobnicator of area 2" in html


def test_touching_selects_series_by_function_or_file(tmp_path):
    mbox = archive(tmp_path)
    by_call = scan_dir([mbox], tmp_path / "a", touching=["area2_new_helper"])
    assert [e["title"] for e in by_call["series"]] == ["KVM: x86: Rework the frobnicator of area 2"]
    by_removed = scan_dir([mbox], tmp_path / "r", touching=["area3_old_helper"])
    assert [e["title"] for e in by_removed["series"]] == [
        "KVM: x86: Rework the frobnicator of area 3"
    ]
    by_glob = scan_dir([mbox], tmp_path / "b", touching=["area[13]_step2"])
    assert len(by_glob["series"]) == 2
    by_file = scan_dir([mbox], tmp_path / "c", touching=["area4.c"])
    assert [e["title"] for e in by_file["series"]] == ["KVM: x86: Step 1 of area 4"]
    assert scan_dir([mbox], tmp_path / "d", touching=["nothing_like_this"])["series"] == []


def test_since_drops_series_with_no_mail_after_the_date(tmp_path):
    mbox = archive(tmp_path)
    index = scan_dir([mbox], tmp_path / "out", since=1704153600.0)  # 2024-01-02
    assert sorted(e["title"] for e in index["series"]) == [
        f"KVM: x86: Rework the frobnicator of area {s}" for s in (1, 2)
    ]


def test_rescan_reads_only_new_mail_and_reviews_only_changed_series(tmp_path):
    mbox = archive(tmp_path)
    out = tmp_path / "out"
    scan(ScanOptions(archives=[str(mbox)], out=out))
    again = scan(ScanOptions(archives=[str(mbox)], out=out))
    assert (again.read, again.added, again.reviewed, again.reused) == (0, 0, 0, 4)
    write_mbox(mbox, revision_mail(3, 2), mode="a")
    third = scan(ScanOptions(archives=[str(mbox)], out=out))
    assert (third.read, third.added, third.reviewed, third.reused) == (5, 5, 1, 3)
    index = json.loads((out / "index.json").read_text())
    three = [e for e in index["series"] if e["title"].endswith("area 3")]
    assert [v["label"] for v in three[0]["versions"]] == ["v1", "v2"]


def test_a_series_whose_mail_is_gone_fails_alone(tmp_path):
    mbox = archive(tmp_path)
    out = tmp_path / "out"
    scan(ScanOptions(archives=[str(mbox)], out=out))
    # The archive is rewritten under the index: area 1's mail is no longer where it was.
    text = mbox.read_text()
    cut = text.index("Subject: [PATCH v1 0/3] KVM: x86: Rework the frobnicator of area 1")
    mbox.write_text(text[:cut] + "X-Padding: shifts every later offset\n" + text[cut:])
    index = SeriesIndex(out / "index.sqlite")
    index.begin_generation()  # a new scan generation in which area 1's group has changed
    group = index.group_of("cover-1-v1@example.org")
    with index.transaction():
        index.db.execute("UPDATE groups SET changed = ? WHERE id = ?", (index.generation(), group))
    index.close()
    summary = scan(ScanOptions(archives=[str(mbox)], out=out))
    assert summary.failed == 1 and summary.series == 3
    doc = json.loads((out / "index.json").read_text())
    failed = [e for e in doc["series"] if e["error"]]
    assert len(failed) == 1 and "no message starts there" in failed[0]["error"]


def test_index_groups_versions_sent_by_a_new_author_with_the_same_titles(tmp_path, corpus_dir):
    index = SeriesIndex(tmp_path / "i.sqlite")
    for raw in iter_messages([str(corpus_dir / "kvm-apic-bus-freq")]):
        index.add(summarize(parse_mail(raw.data, raw.location)), spans.Place("file", raw.location))
    groups = index.groups()
    assert len(groups) == 1  # v3 (Isaku) and v4/v5 (Reinette, keeping Isaku's From:)
    assert index.groups(touching=["arch/x86/kvm/lapic.c"])
    index.close()


def make_public_inbox(path: Path, files: list[Path]) -> Path:
    """A public-inbox v2 inbox (git/0.git), one commit per message as file `m`."""
    return public_inbox([file.read_bytes() for file in files], path)


def test_public_inbox_scan_matches_the_series_command_and_is_incremental(tmp_path, corpus_dir):
    files = sorted((corpus_dir / "kvm-apic-bus-freq").glob("*.eml"))
    inbox = make_public_inbox(tmp_path / "inbox", files[:-3])
    out = tmp_path / "out"
    first = scan(ScanOptions(archives=[str(inbox)], out=out))
    assert first.read == len(files) - 3
    # the archive grows: three more commits; only they are read
    grown = PublicInbox.reopen(inbox)
    for file in files[-3:]:
        grown.add(file.read_bytes())
    second = scan(ScanOptions(archives=[str(inbox)], out=out))
    assert (second.read, second.added) == (3, 3)
    index = json.loads((out / "index.json").read_text())
    from reviewtool.ingest import load

    expected = load([str(corpus_dir / "kvm-apic-bus-freq")])
    assert [e["title"] for e in index["series"]] == [s.title for s in expected.series]
    assert [[v["label"] for v in e["versions"]] for e in index["series"]] == [
        [r.label for r in s.revisions] for s in expected.series
    ]


def test_scan_is_the_same_inline_with_two_processes_and_on_a_dask_cluster(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="dask.distributed is not installed (pip install '.[scale]')"
    )
    mbox = archive(tmp_path)
    scan_dir([mbox], tmp_path / "one", partition_bytes=2048)
    scan_dir([mbox], tmp_path / "two", partition_bytes=2048, jobs=2)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        scan_dir(
            [mbox], tmp_path / "dask", partition_bytes=2048, scheduler=cluster.scheduler_address
        )
    one = comparable(tmp_path / "one")
    assert len(one["index"]["series"]) == 4
    assert comparable(tmp_path / "two") == one
    assert comparable(tmp_path / "dask") == one


def test_cli_scan_bad_input_is_a_usage_error(tmp_path, capsys):
    mbox = archive(tmp_path)
    assert main(["scan", str(mbox), "--since", "last tuesday", "--out", str(tmp_path / "o")]) == 2
    assert "--since" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["scan", str(mbox), "--out", str(blocker)]) == 2
    assert main(["scan", str(tmp_path / "missing.mbox"), "--out", str(tmp_path / "o")]) == 2
    assert main(["scan", str(mbox), "--out", str(tmp_path / "ok")]) == 0
    assert "4 series" in capsys.readouterr().err
