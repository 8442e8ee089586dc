"""Fixtures for the bot tests: real-shaped list mail, a public-inbox repo, an SMTP server.

The mails are shaped as git send-email writes them (shallow threading under the cover,
`X-Mailer: git-send-email`, diffstat, `-- ` and the git version); the public-inbox v2 archive
they go into is the one git helper's (`tests.helpers.git.PublicInbox`).
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, replace
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
from tests.helpers.mail import posting

BOT_FROM = "KVM review bot <review-bot@example.org>"


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


def reply_once(tmp_path: Path, source: Path, port: int, **overrides) -> Store:
    """One pass of a bot on its own clock over `source`, replying through the loopback SMTP
    server on `port`; `overrides` replace fields of the configuration. Returns its store."""
    smtp = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=10)
    config = BotConfig(smtp=smtp, from_addr=BOT_FROM, echo_wait_seconds=0, max_age_days=0)
    config = replace(config, **overrides)
    store = Store(tmp_path / "bot.sqlite")
    BotRunner(config, store, [open_watcher(source)], SmtpTransport(config.smtp)).run_once()
    return store


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


def serve(handler, port: int | None = None, **options) -> tuple[Controller, int]:
    """A started aiosmtpd server on 127.0.0.1 (on `port`, or a free one) and its port;
    `options` go to aiosmtpd's Controller (an authenticator, TLS). The caller stops it."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, port


def smtp_servers():
    """Generator behind the `smtp_server` fixture: yields a starter of loopback SMTP servers,
    each returning (handler, port); stops them all afterwards."""
    servers = []

    def start(handler: Inbox | None = None) -> tuple[Inbox, int]:
        handler = handler or Inbox()
        controller, port = serve(handler)
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
