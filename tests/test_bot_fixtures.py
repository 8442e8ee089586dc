"""Fixtures for the bot tests: real-shaped list mail, a public-inbox repo, an SMTP server.

The mails are shaped as git send-email writes them (shallow threading under the cover,
`X-Mailer: git-send-email`, diffstat, `-- ` and the git version); the public-inbox v2 archive
they go into is the one git helper's (`tests.helpers.git.PublicInbox`).
"""

from __future__ import annotations

import email.utils
import os
import socket
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from reviewtool.bot.config import BotConfig, SmtpConfig
from reviewtool.bot.runner import BotRunner
from reviewtool.bot.smtp import SmtpTransport
from reviewtool.bot.state import Store
from reviewtool.bot.watchers import open_watcher
from tests.helpers.git import PublicInbox
from tests.helpers.reference import V8_TITLES

AUTHOR = ("David Stevens", "stevensd@chromium.org")
LIST_ADDR = "kvm@vger.kernel.org"
CC = ["Sean Christopherson <seanjc@google.com>", "linux-kernel@vger.kernel.org"]
BOT_FROM = "KVM review bot <review-bot@example.org>"
BASE_DATE = datetime(2023, 8, 24, 8, 4, tzinfo=UTC)


def _diff(index: int, title: str) -> str:
    """A small, well-formed diff; its content differs per patch so patch-ids differ."""
    name = f"helper_{index}"
    return (
        "diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c\n"
        "index 1a2b3c4d5e6f..6f5e4d3c2b1a 100644\n"
        "--- a/virt/kvm/kvm_main.c\n"
        "+++ b/virt/kvm/kvm_main.c\n"
        f"@@ -{100 + index * 10},6 +{100 + index * 10},11 @@ "
        "static bool kvm_is_ad_tracked_page(struct page *page)\n"
        " \treturn !PageReserved(page);\n"
        " }\n"
        " \n"
        f"+/* {title[:50]} */\n"
        f"+static inline int {name}(void)\n"
        "+{\n"
        f"+\treturn {index};\n"
        "+}\n"
        " static void kvm_set_page_dirty(struct page *page)\n"
        " {\n"
        " \tif (kvm_is_ad_tracked_page(page))\n"
    )


# A function whose early return keeps the page reference __gfn_to_pfn_memslot() took (the
# legacy API always returns with a reference held): the checker must flag the leak.
LEAKY_FUNCTION = """\
static int kvm_demo_map_gfn(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
\tbool writable;
\tkvm_pfn_t pfn;

\tpfn = __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, true, &writable, NULL);
\tif (is_error_noslot_pfn(pfn))
\t\treturn -EFAULT;

\tif (!writable)
\t\treturn -EPERM;

\tkvm_release_pfn_clean(pfn);
\treturn 0;
}
"""


def _leaky_diff(index: int, title: str) -> str:
    """A diff adding LEAKY_FUNCTION whole, so the hunk alone shows the function."""
    added = ["", *LEAKY_FUNCTION.splitlines()]
    start = 300 + index
    return (
        "diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c\n"
        "index 2b3c4d5e6f70..706f5e4d3c2b 100644\n"
        "--- a/arch/x86/kvm/mmu/mmu.c\n"
        "+++ b/arch/x86/kvm/mmu/mmu.c\n"
        f"@@ -{start},3 +{start},{3 + len(added)} @@ static void kvm_mmu_demo_prepare(void)\n"
        " {\n"
        " }\n" + "".join(f"+{line}\n" for line in added) + " \n"
    )


@dataclass
class Posting:
    """One revision of a series as mailed: the cover (when any) and the patches, as bytes."""

    label: str
    cover_id: str | None
    mails: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def first_id(self) -> str:
        return self.cover_id or self.ids[0]


def message(
    subject: str,
    body: str,
    msgid: str,
    date: datetime,
    author: tuple[str, str] = AUTHOR,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """One mail as git send-email (or a mail client, for replies) would put it on the wire."""
    headers = [
        ("From", email.utils.formataddr(author)),
        ("To", LIST_ADDR),
        ("Cc", ", ".join(CC)),
        ("Subject", subject),
        ("Date", email.utils.format_datetime(date)),
        ("Message-ID", f"<{msgid}>"),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", f"<{in_reply_to}>"))
        headers.append(("References", " ".join(f"<{r}>" for r in references or [in_reply_to])))
    headers += [
        ("X-Mailer", "git-send-email 2.42.0.rc1.204.g551eb34607-goog"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("List-Id", "<kvm.vger.kernel.org>"),
    ]
    headers += list((extra or {}).items())
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return (head + "\n" + body).encode("utf-8")


def posting(
    version: int,
    n: int,
    *,
    tag: str = "kvm",
    title: str = "KVM: allow mapping non-refcounted pages",
    cover: bool = True,
    date: datetime = BASE_DATE,
    author: tuple[str, str] = AUTHOR,
    in_reply_to: str | None = None,
    leak_in: int | None = None,
) -> Posting:
    """A revision of `n` patches (with a cover letter unless `cover` is False); patch
    `leak_in` adds a function that leaks a page reference."""
    stamp = date.strftime("%Y%m%d%H%M%S")
    domain = author[1].split("@")[1]
    label = f"v{version}" if version > 1 else ""
    pre = "PATCH" + (f" {label}" if label else "")
    out = Posting(label=f"v{version}", cover_id=None)
    root_refs = [in_reply_to] if in_reply_to else []
    cover_id = f"{stamp}.{tag}.0-{version}@{domain}" if (cover and n > 1) else None
    if cover_id:
        shortlog = "\n".join(f"  {V8_TITLES[i % len(V8_TITLES)]}" for i in range(n))
        changelog = ""
        if version > 1:
            changelog = (
                f"v{version - 1} -> v{version}:\n"
                " - Take the reference only where the caller asked for one.\n"
                " - Rebase on the kvm next branch.\n\n"
            )
        body = (
            "This series lets KVM map pages that are not reference counted, such\n"
            "as the tail pages amdgpu hands out for virtio-gpu blob resources.\n\n"
            f"{changelog}"
            f"{author[0]} ({n}):\n{shortlog}\n\n"
            " virt/kvm/kvm_main.c | 40 ++++++++++++++++++++++++++++++++++++++++\n"
            f" 1 file changed, 40 insertions(+)\n\n"
            "base-commit: 0f2ab4ce07f1a1b0e6f27a2a8c6e0fd0d1d7c1c2\n"
            "-- \n2.42.0.rc1.204.g551eb34607-goog\n"
        )
        subject = f"[{pre} 0/{n}] {title}"
        out.mails.append(
            message(subject, body, cover_id, date, author, in_reply_to, root_refs or None)
        )
        out.cover_id = cover_id
    for i in range(1, n + 1):
        msgid = f"{stamp}.{tag}.{i}-{version}@{domain}"
        patch_title = V8_TITLES[(i - 1) % len(V8_TITLES)]
        counter = f" {i}/{n}" if n > 1 else ""
        subject = f"[{pre}{counter}] {patch_title}"
        body = (
            f"Rework this step of the {title[5:25]} work so that the reference\n"
            "taken on the page is explicit and owned by the caller.\n\n"
            f"Signed-off-by: {author[0]} <{author[1]}>\n"
            "---\n"
            " virt/kvm/kvm_main.c | 5 +++++\n"
            " 1 file changed, 5 insertions(+)\n\n"
            + (_leaky_diff if i == leak_in else _diff)(i, patch_title)
            + "-- \n2.42.0.rc1.204.g551eb34607-goog\n"
        )
        parent = cover_id or in_reply_to
        refs = root_refs + ([cover_id] if cover_id else [])
        out.mails.append(
            message(
                subject,
                body,
                msgid,
                date + timedelta(seconds=i),
                author,
                parent,
                refs or None,
            )
        )
        out.ids.append(msgid)
    return out


def review_reply(to: Posting, index: int, who: tuple[str, str], date: datetime) -> bytes:
    """A reviewer's reply to one patch: quoted text, a comment and a Reviewed-by."""
    target = to.ids[index - 1]
    refs = ([to.cover_id] if to.cover_id else []) + [target]
    body = (
        "On Thu, Aug 24, 2023, David Stevens wrote:\n"
        "> Rework this step so that the reference\n"
        "> taken on the page is explicit and owned by the caller.\n\n"
        "Looks right to me.\n\n"
        f"Reviewed-by: {who[0]} <{who[1]}>\n"
    )
    subject = f"Re: [PATCH {to.label} {index}/{len(to.ids)}] {V8_TITLES[index - 1]}"
    return message(
        subject, body, f"reply-{index}-{to.label}@{who[1].split('@')[1]}", date, who, target, refs
    )


# -- a public-inbox v2 inbox that grows message by message -------------------------------


class Clock:
    """A clock the test moves by hand; sleeping moves it too."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def make_runner(tmp_path: Path, source: Path, smtp: SmtpConfig, clock: Clock, **overrides):
    """A bot runner on `source` sending through `smtp`, its time and sleep on `clock`;
    `overrides` replace fields of the test configuration."""
    config = BotConfig(
        smtp=smtp,
        from_addr=BOT_FROM,
        settle_seconds=3600,
        retry_base_seconds=5,
        echo_wait_seconds=0,
        max_age_days=0,
    )
    config = replace(config, **overrides)
    store = Store(tmp_path / "bot.sqlite")
    runner = BotRunner(
        config,
        store,
        [open_watcher(source)],
        SmtpTransport(config.smtp),
        clock=clock,
        sleep=clock.sleep,
    )
    return runner, store


def add_to_maildir(maildir: Path, data: bytes, name: str) -> Path:
    """Deliver one message into `new/` the way an MDA does (write in tmp/, rename)."""
    for sub in ("tmp", "new", "cur"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    tmp = maildir / "tmp" / name
    tmp.write_bytes(data)
    final = maildir / "new" / name
    os.rename(tmp, final)
    return final


# -- a real SMTP server on loopback --------------------------------------------------------


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message the test SMTP server accepted."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self):
        return BytesParser(policy=default_policy).parsebytes(self.data)


class Inbox:
    """aiosmtpd handler: keeps what it accepts; can refuse the first N DATA with 451 and can
    echo each accepted message into a Maildir, as a list delivers to its archive."""

    def __init__(self, fail_first: int = 0, echo_to: Path | None = None) -> None:
        self.received: list[Received] = []
        self.fail_first = fail_first
        self.attempts = 0
        self.echo_to = echo_to
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return "451 4.3.0 try again later"
            data = envelope.original_content or envelope.content
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(data)))
            if self.echo_to is not None:
                add_to_maildir(self.echo_to, bytes(data), f"echo-{len(self.received)}")
        return "250 2.0.0 queued"


def smtp_servers():
    """Generator behind the `smtp_server` fixture: yields a starter of loopback SMTP servers,
    each returning (handler, port); stops them all afterwards."""
    servers = []

    def start(handler: Inbox | None = None) -> tuple[Inbox, int]:
        handler = handler or Inbox()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        return handler, port

    yield start
    for controller in servers:
        controller.stop()


@pytest.fixture
def smtp_server():
    """Start SMTP servers on 127.0.0.1: `handler, port = smtp_server(Inbox(...))`."""
    yield from smtp_servers()


# -- checks on the fixtures themselves -----------------------------------------------------


def test_fixture_posting_threads_patches_under_the_cover():
    from reviewtool.mail import parse_mail

    post = posting(8, 3)
    mails = [parse_mail(data, "fixture") for data in post.mails]
    assert mails[0].prefix.index == 0 and mails[0].prefix.total == 3
    assert all(m.in_reply_to == post.cover_id for m in mails[1:])
    assert all(m.has_diff for m in mails[1:])


def test_fixture_public_inbox_commits_hold_one_message_each(tmp_path):
    import git

    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    repo = git.Repo(inbox.epoch)
    commits = list(repo.iter_commits("master"))
    assert len(commits) == 3
    assert all([b.name for b in c.tree.blobs] == ["m"] for c in commits)


def test_fixture_smtp_server_accepts_and_counts(smtp_server):
    import smtplib

    handler, port = smtp_server()
    with smtplib.SMTP("127.0.0.1", port) as conn:
        conn.sendmail("a@example.org", ["b@example.org"], b"Subject: hi\r\n\r\nbody\r\n")
    assert len(handler.received) == 1
    assert handler.received[0].message["subject"] == "hi"
