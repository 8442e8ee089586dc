"""Benchmark the mailing-list bot: messages ingested per second, replies per minute.

Builds a public-inbox v2 epoch (one commit per message, the message as blob `m`, written with
`git fast-import`) holding 10,000 messages in 500 series (covers, patches, review replies and
discussion), points the bot at it with an aiosmtpd server on loopback, and times each phase:

    python benchmarks/bot.py [--messages 10000] [--series 500] [--keep DIR]
"""

from __future__ import annotations

import argparse
import email.utils
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiosmtpd.controller import Controller

from reviewtool.bot.config import BotConfig, SmtpConfig
from reviewtool.bot.runner import BotRunner, RunStats
from reviewtool.bot.smtp import SmtpTransport
from reviewtool.bot.state import Store
from reviewtool.bot.watchers import open_watcher

AREAS = ["x86/mmu", "arm64", "PPC", "s390", "mmu", "selftests", "SVM", "VMX", "guest_memfd"]
VERBS = ["Rework", "Drop", "Add", "Fix", "Move", "Rename", "Track", "Document", "Split"]
NOUNS = [
    "pfn lookup",
    "dirty logging",
    "page refcount",
    "fault path",
    "memslot walk",
    "TLB flush",
    "async page fault",
    "mmu notifier",
    "shadow paging",
    "huge page split",
]
BASE = datetime(2024, 2, 1, tzinfo=UTC)


def _mail(author, subject, msgid, date, parent=None, refs=(), body="") -> bytes:
    head = [
        f"From: {email.utils.formataddr(author)}",
        "To: kvm@vger.kernel.org",
        "Cc: Sean Christopherson <seanjc@google.com>, Paolo Bonzini <pbonzini@redhat.com>",
        f"Subject: {subject}",
        f"Date: {email.utils.format_datetime(date)}",
        f"Message-ID: <{msgid}>",
    ]
    if parent:
        head.append(f"In-Reply-To: <{parent}>")
        head.append("References: " + " ".join(f"<{r}>" for r in refs or [parent]))
    head += [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=UTF-8",
        "List-Id: <kvm.vger.kernel.org>",
    ]
    return ("\n".join(head) + "\n\n" + body).encode()


def _patch_body(author, k: int, i: int, title: str) -> str:
    return (
        f"{title} so the caller owns the reference it takes.\n\n"
        f"Signed-off-by: {author[0]} <{author[1]}>\n---\n"
        " arch/x86/kvm/mmu/mmu.c | 4 +++-\n 1 file changed, 3 insertions(+), 1 deletion(-)\n\n"
        "diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c\n"
        "index 0123456789ab..ba9876543210 100644\n"
        "--- a/arch/x86/kvm/mmu/mmu.c\n+++ b/arch/x86/kvm/mmu/mmu.c\n"
        f"@@ -{200 + i * 7},5 +{200 + i * 7},7 @@ "
        f"static int series_{k}_step_{i}(struct kvm_vcpu *vcpu)\n"
        " \tint r;\n \n"
        f"-\tr = old_step_{k}_{i}(vcpu);\n"
        f"+\tr = new_step_{k}_{i}(vcpu);\n"
        "+\tif (r)\n+\t\treturn r;\n"
        " \treturn 0;\n }\n-- \n2.43.0\n"
    )


def build_archive(count: int, series: int, seed: int = 8) -> list[bytes]:
    """`count` messages: `series` series (cover + patches), review replies, discussion."""
    rng = random.Random(seed)
    authors = [(f"Developer {a}", f"dev{a}@example.org") for a in range(max(1, series // 10))]
    mails: list[bytes] = []
    threads: list[tuple[str, str, int, list[str]]] = []
    for k in range(series):
        author = authors[k % len(authors)]
        n = rng.randint(3, 13)
        date = BASE + timedelta(minutes=17 * k)
        domain = author[1].split("@")[1]
        cover = f"{k}.0@{domain}"
        title = (
            f"KVM: {AREAS[k % len(AREAS)]}: {VERBS[k % len(VERBS)]} {NOUNS[k % len(NOUNS)]} #{k}"
        )
        mails.append(
            _mail(
                author,
                f"[PATCH v{1 + k % 3} 0/{n}] {title}",
                cover,
                date,
                body=f"Cover letter of series {k}.\n\nbase-commit: {k:040x}\n",
            )
        )
        ids = []
        for i in range(1, n + 1):
            msgid = f"{k}.{i}@{domain}"
            ptitle = f"KVM: {AREAS[(k + i) % len(AREAS)]}: step {i} of series {k}"
            mails.append(
                _mail(
                    author,
                    f"[PATCH v{1 + k % 3} {i}/{n}] {ptitle}",
                    msgid,
                    date + timedelta(seconds=i),
                    cover,
                    [cover],
                    _patch_body(author, k, i, ptitle),
                )
            )
            ids.append(msgid)
        threads.append((cover, title, n, ids))
    reviewer = ("Sean Christopherson", "seanjc@google.com")
    r = 0
    while len(mails) < count:
        cover, title, n, ids = threads[r % len(threads)]
        if r % 5 == 4:
            mails.append(
                _mail(
                    reviewer,
                    f"KVM: thoughts on {NOUNS[r % len(NOUNS)]} #{r}",
                    f"talk.{r}@google.com",
                    BASE + timedelta(hours=r),
                    body="What is the plan here?\n",
                )
            )
        else:
            target = ids[r % n]
            mails.append(
                _mail(
                    reviewer,
                    f"Re: [PATCH] {title}",
                    f"re.{r}@google.com",
                    BASE + timedelta(hours=r),
                    target,
                    [cover, target],
                    body=f"> diff\n\nLooks good.\n\nReviewed-by: {reviewer[0]} <{reviewer[1]}>\n",
                )
            )
        r += 1
    return mails[:count]


def write_public_inbox(path: Path, mails: list[bytes]) -> None:
    """One bare epoch `git/0.git`, one commit per message, via git fast-import."""
    epoch = path / "git" / "0.git"
    epoch.mkdir(parents=True)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", str(epoch)], check=True, env=env)
    stream = bytearray()
    for n, data in enumerate(mails, 1):
        stream += f"commit refs/heads/master\nmark :{n}\n".encode()
        stream += f"committer inbox <inbox@example.org> {1_700_000_000 + n} +0000\n".encode()
        stream += b"data 1\nm\n"
        if n > 1:
            stream += f"from :{n - 1}\n".encode()
        stream += b"deleteall\n"
        stream += f"M 100644 inline m\ndata {len(data)}\n".encode() + data + b"\n"
    subprocess.run(
        ["git", "fast-import", "--quiet"], input=bytes(stream), cwd=epoch, check=True, env=env
    )


class _Sink:
    """aiosmtpd handler that counts what it accepts."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.count += 1
        return "250 OK"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--series", type=int, default=500)
    parser.add_argument("--keep", type=Path, help="build the archive and state here and keep them")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="reviewtool-bot-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        mails = build_archive(args.messages, args.series)
        write_public_inbox(work / "inbox", mails)
        print(
            f"archive: {len(mails)} messages, {args.series} series, built in "
            f"{time.perf_counter() - t0:.1f}s"
        )

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        sink = _Sink()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            config = replace(
                BotConfig(smtp=SmtpConfig(host="127.0.0.1", port=port, tls="none")),
                from_addr="bench bot <bot@example.org>",
                per_hour=0,
                settle_seconds=3600,
                max_age_days=0,
            )
            store = Store(work / "bot.sqlite")
            runner = BotRunner(
                config, store, [open_watcher(work / "inbox")], SmtpTransport(config.smtp)
            )
            stats = RunStats()
            t0 = time.perf_counter()
            runner.ingest(stats)
            ingest = time.perf_counter() - t0
            t0 = time.perf_counter()
            runner.decide(stats)
            decide = time.perf_counter() - t0
            t0 = time.perf_counter()
            runner.flush(stats)
            flush = time.perf_counter() - t0
            store.close()
        finally:
            controller.stop()
        print(
            f"ingest: {stats.read} messages in {ingest:.1f}s = {stats.read / ingest:,.0f} msg/s "
            f"({', '.join(f'{n} {k}' for k, n in sorted(stats.kinds.items()))})"
        )
        print(
            f"review + queue: {stats.queued} replies in {decide:.1f}s = "
            f"{stats.queued / decide * 60:,.0f} replies/min"
        )
        print(
            f"send (SMTP, loopback): {stats.sent} replies in {flush:.1f}s = "
            f"{stats.sent / flush * 60:,.0f} replies/min"
        )
        total = decide + flush
        print(
            f"end to end after ingest: {stats.sent / total * 60:,.0f} replies/min; "
            f"server received {sink.count}"
        )
        if stats.errors:
            print(f"{len(stats.errors)} revisions could not be reviewed, first: {stats.errors[0]}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
