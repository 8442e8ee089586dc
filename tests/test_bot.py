"""The mailing-list bot end to end: real sources, real SQLite, a real SMTP server on loopback."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from test_bot_fixtures import (
    BOT_FROM,
    Clock,
    Inbox,
    add_to_maildir,
    make_runner,
    serve,
    smtp_servers,
)

from reviewtool.bot.config import BotConfig, SmtpConfig
from reviewtool.bot.runner import BotRunner, RunStats, backoff
from reviewtool.bot.smtp import SmtpTransport
from reviewtool.bot.state import Store
from reviewtool.bot.watchers import open_watcher
from reviewtool.cli import main
from tests.helpers.git import PublicInbox
from tests.helpers.mail import AUTHOR, BASE_DATE, LIST_ADDR, message, posting, review_reply


@pytest.fixture
def smtp_server():
    """Loopback SMTP servers: `handler, port = smtp_server(Inbox(...))`."""
    yield from smtp_servers()


SEAN = ("Sean Christopherson", "seanjc@google.com")


def make_bot(tmp_path: Path, source: Path, port: int, clock: Clock | None = None, **overrides):
    """A runner on the given source sending to the loopback SMTP server."""
    smtp = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=10)
    return make_runner(tmp_path, source, smtp, clock or Clock(), **overrides)


def body_of(received) -> str:
    return received.message.get_content()


# -- replies --------------------------------------------------------------------------------


def test_complete_series_in_public_inbox_gets_one_threaded_reply(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v2 = posting(2, 3)
    for data in v2.mails:
        inbox.add(data)
    runner, _ = make_bot(tmp_path, inbox.path, port)

    runner.run_once()
    runner.run_once()  # nothing new: nothing sent

    assert len(handler.received) == 1
    mail = handler.received[0].message
    assert mail["Subject"] == "Re: [PATCH v2 0/3] KVM: allow mapping non-refcounted pages"
    assert mail["In-Reply-To"] == f"<{v2.cover_id}>"
    assert f"<{v2.cover_id}>" in mail["References"]
    assert mail["To"].addresses[0].addr_spec == AUTHOR[1]
    cc = {a.addr_spec for a in mail["Cc"].addresses}
    assert {LIST_ADDR, "seanjc@google.com", "linux-kernel@vger.kernel.org"} <= cc
    assert mail["From"].addresses[0].addr_spec == "review-bot@example.org"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = body_of(handler.received[0])
    assert "v2" in body and "KVM: allow mapping non-refcounted pages" in body
    assert all(len(line) <= 72 for line in body.splitlines())
    assert set(handler.received[0].recipients) >= {AUTHOR[1], LIST_ADDR}


def test_series_growing_message_by_message_is_answered_once_when_complete(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v8 = posting(8, 4)
    runner, store = make_bot(tmp_path, inbox.path, port)
    seen_before_last = []
    for data in v8.mails:
        inbox.add(data)
        runner.run_once()
        seen_before_last.append(len(handler.received))
    assert seen_before_last == [0, 0, 0, 0, 1]
    assert store.counts() == {"cover": 1, "patch": 4}


def test_second_version_reply_says_what_changed_since_the_first(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v1 = posting(1, 3)
    v2 = posting(2, 3, date=BASE_DATE + timedelta(days=20))
    for data in v1.mails + v2.mails:
        inbox.add(data)
    runner, _ = make_bot(tmp_path, inbox.path, port, reply_when_clean=True)
    runner.run_once()
    subjects = sorted(r.message["Subject"] for r in handler.received)
    assert subjects == [
        "Re: [PATCH 0/3] KVM: allow mapping non-refcounted pages",
        "Re: [PATCH v2 0/3] KVM: allow mapping non-refcounted pages",
    ]
    v2_reply = next(r for r in handler.received if "v2" in r.message["Subject"])
    assert v2_reply.message["In-Reply-To"] == f"<{v2.cover_id}>"
    assert "v1" in body_of(v2_reply)


def test_incomplete_revision_waits_then_reply_names_what_is_missing(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v3 = posting(3, 4)
    for data in v3.mails[:2] + v3.mails[3:]:  # 2/4 never arrives
        inbox.add(data)
    clock = Clock()
    runner, _ = make_bot(tmp_path, inbox.path, port, clock=clock, settle_seconds=600)

    runner.run_once()
    assert handler.received == []
    clock.now += 601
    runner.run_once()

    assert len(handler.received) == 1
    body = body_of(handler.received[0])
    assert re.search(r"missing 2/4|Patches 2 of v3 did not arrive", body)
    assert handler.received[0].message["In-Reply-To"] == f"<{v3.cover_id}>"


def test_series_without_cover_is_answered_under_patch_one(tmp_path, smtp_server):
    handler, port = smtp_server()
    maildir = tmp_path / "list"
    v4 = posting(4, 2, cover=False)
    for i, data in enumerate(v4.mails):
        add_to_maildir(maildir, data, f"1700000000.{i}.host")
    clock = Clock()
    runner, _ = make_bot(tmp_path, maildir, port, clock=clock, settle_seconds=60)
    runner.run_once()
    assert handler.received == []  # no cover: complete only once the settle time passes
    clock.now += 61
    runner.run_once()
    mail = handler.received[0].message
    assert mail["In-Reply-To"] == f"<{v4.ids[0]}>"
    assert mail["Subject"].startswith("Re: [PATCH v4 1/2] ")


def test_replies_discussion_and_the_bots_own_mail_are_never_reviewed(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v5 = posting(5, 2)
    for data in v5.mails:
        inbox.add(data)
    inbox.add(review_reply(v5, 1, SEAN, BASE_DATE + timedelta(hours=3)))
    inbox.add(
        message(
            "KVM: what is the plan for non-refcounted pages?",
            "Is anyone looking at the pfncache side of this?\n",
            "question-1@example.org",
            BASE_DATE,
            SEAN,
        )
    )
    # A patch-shaped mail carrying the bot's header: its own mail, looped back.
    own = (
        posting(9, 1, tag="own")
        .mails[0]
        .replace(b"MIME-Version:", b"X-Reviewtool-Bot: reviewtool 0.1.0\nMIME-Version:", 1)
    )
    inbox.add(own)
    runner, store = make_bot(tmp_path, inbox.path, port)
    stats = runner.run_once()

    assert stats.kinds == {"cover": 1, "patch": 2, "reply": 1, "other": 1, "own": 1}
    assert len(handler.received) == 1
    assert handler.received[0].message["In-Reply-To"] == f"<{v5.cover_id}>"
    assert [d[1] for d in store.decisions()] == ["reply"]


def test_bot_sees_its_reply_on_the_list_and_a_rebuilt_state_does_not_reply_again(
    tmp_path, smtp_server
):
    maildir = tmp_path / "list"
    handler, port = smtp_server(Inbox(echo_to=maildir))  # the list archives what it carries
    for i, data in enumerate(posting(6, 2).mails):
        add_to_maildir(maildir, data, f"1700000000.{i}.host")
    runner, store = make_bot(tmp_path, maildir, port)
    runner.run_once()
    assert len(handler.received) == 1
    store.close()
    (tmp_path / "bot.sqlite").unlink()  # the state is lost; the list still has our reply

    runner, store = make_bot(tmp_path, maildir, port)
    runner.run_once()
    assert len(handler.received) == 1
    assert [d[1] for d in store.decisions()] == ["answered-before"]


def test_clean_series_gets_no_reply_when_config_says_so(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(7, 2).mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port, reply_when_clean=False)
    runner.run_once()
    assert [d[1] for d in store.decisions()] == ["clean"]
    assert handler.received == []


def test_clean_series_short_reply_says_nothing_was_found(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(7, 2).mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port, reply_when_clean=True)
    runner.run_once()
    assert store.decisions()[0][3].endswith(": 0 finding(s)")
    body = body_of(handler.received[0])
    assert "found nothing to report" in body
    assert len(body.splitlines()) <= 8


def test_report_link_points_at_the_html_written_to_the_report_dir(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(8, 2).mails:
        inbox.add(data)
    reports = tmp_path / "www"
    runner, _ = make_bot(
        tmp_path, inbox.path, port, report_dir=reports, base_url="https://rv.example.org/r"
    )
    runner.run_once()
    body = body_of(handler.received[0])
    pages = list(reports.glob("*.html"))
    assert len(pages) == 1
    assert f"https://rv.example.org/r/{pages[0].name}" in body
    assert "<html" in pages[0].read_text().lower()


def test_cc_policy_lists_keeps_only_list_addresses(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    runner, _ = make_bot(
        tmp_path, inbox.path, port, cc="lists", extra_cc=("kvm-robot-log@example.org",)
    )
    runner.run_once()
    mail = handler.received[0].message
    cc = [a.addr_spec for a in mail["Cc"].addresses]
    # kvm@ is the list the List-Id names; LKML is not a list this config knows.
    assert cc == [LIST_ADDR, "kvm-robot-log@example.org"]


# -- sending: retries, limits, dry run -----------------------------------------------------


def test_smtp_refusals_are_retried_with_backoff_until_accepted(tmp_path, smtp_server):
    handler, port = smtp_server(Inbox(fail_first=2))
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    clock = Clock()
    start = clock.now
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, retry_base_seconds=5)
    stats = runner.run_once()

    assert len(handler.received) == 1 and handler.attempts == 3
    assert stats.retried == 2 and stats.sent == 1
    row = store.outbox()[0]
    assert row.status == "sent" and row.attempts == 3
    assert clock.now - start == pytest.approx(5 + 10)  # 5 s, then 10 s


def test_unreachable_server_leaves_reply_pending_for_a_later_run(tmp_path, smtp_server):
    from test_bot_fixtures import free_port

    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    dead_port = free_port()
    runner, store = make_bot(
        tmp_path, inbox.path, dead_port, retry_base_seconds=400, max_attempts=3
    )
    runner.run_once()
    row = store.outbox()[0]
    # An outage is not the reply's fault: no attempt is charged to it (it used to be).
    assert row.status == "pending" and row.attempts == 0
    assert "cannot reach SMTP server" in runner.store.get_meta("smtp_pause_reason")
    store.close()

    handler, port = smtp_server()
    clock = Clock(1_700_000_000.0 + 401)
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock)
    runner.run_once()
    assert len(handler.received) == 1 and store.outbox()[0].status == "sent"


def test_permanent_refusal_is_not_retried(tmp_path, smtp_server):
    class Refuse(Inbox):
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 5.1.1 no such user"

    handler, port = smtp_server(Refuse())
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port)
    stats = runner.run_once()
    assert stats.failed == 1 and stats.retried == 0
    assert store.outbox()[0].status == "failed"


def test_per_hour_limit_holds_replies_until_the_hour_has_passed(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for k in range(3):
        for data in posting(2, 2, tag=f"s{k}", title=f"KVM: series number {k}").mails:
            inbox.add(data)
    clock = Clock()
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, per_hour=2)
    stats = runner.run_once()
    assert len(handler.received) == 2 and stats.deferred == 1

    clock.now += 1800
    runner.run_once()
    assert len(handler.received) == 2
    clock.now += 1801
    runner.run_once()
    assert len(handler.received) == 3
    assert {r.status for r in store.outbox()} == {"sent"}


def test_series_older_than_the_reply_window_is_recorded_but_not_answered(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in (
        posting(2, 2).mails + posting(3, 2, tag="new", date=BASE_DATE + timedelta(days=30)).mails
    ):
        inbox.add(data)
    clock = Clock((BASE_DATE + timedelta(days=31)).timestamp())
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, max_age_days=14)
    runner.run_once()
    assert sorted(d[1] for d in store.decisions()) == ["reply", "too-old"]
    assert len(handler.received) == 1 and "v3" in handler.received[0].message["Subject"]


def test_backoff_doubles_up_to_the_cap():
    assert [backoff(n, 30, 200) for n in range(1, 6)] == [30, 60, 120, 200, 200]


def test_dry_run_writes_replies_to_files_and_sends_nothing(tmp_path, smtp_server, capsys):
    handler, port = smtp_server()
    maildir = tmp_path / "list"
    post = posting(2, 2)
    for i, data in enumerate(post.mails):
        add_to_maildir(maildir, data, f"1700000000.{i}.host")
    out = tmp_path / "replies"
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nmax_age_days = 0\n")
    code = main(
        [
            "bot",
            "--config",
            str(config),
            "--source",
            str(maildir),
            "--once",
            "--dry-run",
            "--dry-run-dir",
            str(out),
            "--state",
            str(tmp_path / "dry.sqlite"),
            "--smtp",
            f"127.0.0.1:{port}",
            "--from",
            BOT_FROM,
        ]
    )
    assert code == 0
    assert handler.received == []
    files = list(out.glob("*.eml"))
    assert len(files) == 1
    text = files[0].read_text()
    assert f"In-Reply-To: <{post.cover_id}>" in text
    assert "replies: 1 sent to" in capsys.readouterr().out


def test_cli_once_sends_through_smtp_named_on_the_command_line(tmp_path, smtp_server):
    handler, port = smtp_server()
    mbox = tmp_path / "list.mbox"
    post = posting(2, 2)
    with open(mbox, "wb") as fh:
        for data in post.mails:
            fh.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + data + b"\n")
    config = tmp_path / "bot.toml"
    config.write_text(
        '[bot]\nfrom = "nobody <nobody@example.org>"\nsettle_seconds = 60\nmax_age_days = 0\n'
    )
    args = ["bot", "--source", str(mbox), "--once", "--state", str(tmp_path / "s.sqlite")]
    args += ["--config", str(config), "--smtp", f"127.0.0.1:{port}", "--from", BOT_FROM]
    args += ["--smtp-tls", "none"]
    assert main(args) == 0
    assert len(handler.received) == 1
    assert handler.received[0].sender == "review-bot@example.org"  # --from beat the config


def test_cli_reports_a_missing_source_without_a_traceback(tmp_path, capsys):
    code = main(["bot", "--source", str(tmp_path / "nowhere"), "--once"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no such source" in err and "Traceback" not in err


# -- sources -------------------------------------------------------------------------------


def test_growing_mbox_is_read_from_the_last_offset_and_a_half_written_message_waits(tmp_path):
    mbox = tmp_path / "list.mbox"
    mails = posting(2, 3).mails
    sep = b"From mboxrd@z Thu Jan  1 00:00:00 1970\n"
    mbox.write_bytes(sep + mails[0] + b"\n" + sep + mails[1][:200])  # second still arriving
    watcher = open_watcher(mbox)
    batches = list(watcher.poll(None, set()))
    assert [len(b.messages) for b in batches] == [1]
    cursor = batches[-1].cursor
    with open(mbox, "ab") as fh:
        fh.write(mails[1][200:] + b"\n" + sep + mails[2] + b"\n")
    later = [m for b in watcher.poll(cursor, set()) for m in b.messages]
    assert [m.data for m in later] == [mails[1], mails[2]]


def test_mbox_from_lines_in_bodies_are_unescaped(tmp_path):
    mbox = tmp_path / "list.mbox"
    data = message("[PATCH] KVM: doc", "Text\n>From the start.\n", "esc@example.org", BASE_DATE)
    mbox.write_bytes(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + data + b"\n")
    (msg,) = [m for b in open_watcher(mbox).poll(None, set()) for m in b.messages]
    assert b"\nFrom the start.\n" in msg.data


def test_public_inbox_watcher_follows_new_commits_and_skips_deletions(tmp_path):
    inbox = PublicInbox(tmp_path / "inbox")
    mails = posting(2, 2).mails
    inbox.add(mails[0])
    watcher = open_watcher(inbox.path)
    first = list(watcher.poll(None, set()))
    assert sum(len(b.messages) for b in first) == 1
    inbox.delete()
    inbox.add(mails[1])
    inbox.add(mails[2])
    later = [m.data for b in watcher.poll(first[-1].cursor, set()) for m in b.messages]
    assert later == mails[1:]
    assert json.loads(first[-1].cursor) != {}


def test_maildir_watcher_reads_each_file_once_even_after_a_move_to_cur(tmp_path):
    maildir = tmp_path / "md"
    mails = posting(2, 2).mails
    path = add_to_maildir(maildir, mails[0], "1700000000.1.host")
    watcher = open_watcher(maildir)
    first = list(watcher.poll(None, set()))
    known = {name for b in first for name in b.files}
    path.rename(maildir / "cur" / "1700000000.1.host:2,S")
    add_to_maildir(maildir, mails[1], "1700000001.2.host")
    later = [m.data for b in watcher.poll(None, known) for m in b.messages]
    assert later == [mails[1]]


def test_duplicate_copies_from_two_sources_are_reviewed_once(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    maildir = tmp_path / "md"
    post = posting(2, 2)
    for i, data in enumerate(post.mails):
        inbox.add(data)
        add_to_maildir(maildir, data, f"1700000000.{i}.host")
    config = BotConfig(
        smtp=SmtpConfig(host="127.0.0.1", port=port, tls="none"), from_addr=BOT_FROM, max_age_days=0
    )
    store = Store(tmp_path / "s.sqlite")
    runner = BotRunner(
        config,
        store,
        [open_watcher(inbox.path), open_watcher(maildir)],
        SmtpTransport(config.smtp),
    )
    stats: RunStats = runner.run_once()
    assert stats.read == 6 and stats.added == 3
    assert len(handler.received) == 1


# -- state ---------------------------------------------------------------------------------


def test_state_file_is_in_wal_mode_and_holds_seen_decisions_and_outbox(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(2, 2).mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port)
    runner.run_once()
    store.close()
    db = sqlite3.connect(tmp_path / "bot.sqlite")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT COUNT(*) FROM seen").fetchone()[0] == 3
    assert db.execute("SELECT outcome FROM decisions").fetchall() == [("reply",)]
    (status, msgid) = db.execute("SELECT status, message_id FROM outbox").fetchone()
    assert status == "sent"
    assert handler.received[0].message["Message-ID"] == f"<{msgid}>"


def test_reply_message_id_is_stable_for_a_revision(tmp_path):
    from reviewtool.bot.reply import reply_message_id

    key = "cover@example.org|v2|3"
    assert reply_message_id(key, BOT_FROM) == reply_message_id(key, BOT_FROM)
    assert reply_message_id(key, BOT_FROM) != reply_message_id("other|v2|3", BOT_FROM)
    assert reply_message_id(key, BOT_FROM).endswith("@example.org")


def test_a_review_that_raises_is_decided_error_once_and_never_retried(tmp_path, smtp_server):
    # The store's fault hook raises inside the first review of each process, as an analysis
    # that runs out of memory would (MemoryError); three restarts on the same state.
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    posts = [posting(2, 2, tag=f"r{k}", title=f"KVM: raising series {k}") for k in range(3)]
    for post in posts:
        for data in post.mails:
            inbox.add(data)

    def first_review_raises():
        passed = []

        def hook(point: str) -> None:
            if point == "review-started" and not passed:
                passed.append(point)
                raise MemoryError("analysis ran out of memory")

        return hook

    for _ in range(3):
        runner, store = make_bot(tmp_path, inbox.path, port)
        runner.hook = first_review_raises()
        stats = runner.run_once()
        store.close()
    decisions = Store(tmp_path / "bot.sqlite").decisions()
    outcomes = sorted(outcome for _, outcome, _, _ in decisions)
    assert outcomes == ["error", "reply", "reply"]
    (failed,) = [(key, note) for key, outcome, _, note in decisions if outcome == "error"]
    assert failed[1] == "MemoryError: analysis ran out of memory"
    assert len(handler.received) == 2
    assert failed[0] not in {str(r.message["In-Reply-To"]).strip("<>") for r in handler.received}
    assert stats.decided == 0 and not stats.errors  # the last restart had nothing left to do


def test_unreadable_mail_is_recorded_as_rejected_and_does_not_stop_the_bot(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    inbox.add(b"\x00\x01 this is not mail at all\n")
    for data in posting(2, 2).mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port)
    stats = runner.run_once()
    assert stats.kinds.get("rejected") == 1
    assert len(handler.received) == 1


def test_real_list_mail_gets_one_reply_per_revision_and_none_to_review_replies(
    tmp_path, smtp_server, corpus_dir
):
    from reviewtool.mail import parse_mail

    handler, port = smtp_server()
    maildir = tmp_path / "list"
    covers = set()
    for i, path in enumerate(sorted(corpus_dir.glob("*/*.eml"))):
        data = path.read_bytes()
        mail = parse_mail(data, str(path))
        if mail.prefix.index == 0 and not mail.prefix.reply:
            covers.add(mail.message_id)
        add_to_maildir(maildir, data, f"{1700000000 + i}.{path.stem}.host")
    runner, store = make_bot(tmp_path, maildir, port, settle_seconds=0)
    stats = runner.run_once()

    assert stats.kinds["reply"] > 0
    answered = [str(r.message["In-Reply-To"]).strip("<>") for r in handler.received]
    assert sorted(answered) == sorted(covers)
    for received in handler.received:
        assert all(len(line) <= 72 for line in body_of(received).splitlines())
        assert received.message["Subject"].startswith("Re: [PATCH")


def test_interval_mode_answers_series_as_they_arrive_between_polls(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    arriving = posting(2, 2).mails + posting(3, 1, tag="single", title="KVM: one fix").mails
    clock = Clock()
    runner, _ = make_bot(tmp_path, inbox.path, port, clock=clock)
    sent_after_poll = []

    def sleep(seconds: float) -> None:
        sent_after_poll.append(len(handler.received))
        clock.sleep(seconds)
        if arriving:
            inbox.add(arriving.pop(0))  # the list grows by one message per poll

    runner.sleep = sleep
    runner.run_forever(interval=60, stop=lambda: len(sent_after_poll) >= 5)
    assert sent_after_poll == [0, 0, 0, 1, 2]
    assert len(handler.received) == 2


def test_smtp_login_uses_the_password_from_the_environment_and_never_prints_it(
    tmp_path, capsys, monkeypatch
):
    from aiosmtpd.smtp import AuthResult

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"hunter2-secret")

    handler = Inbox()
    controller, port = serve(handler, authenticator=authenticator, auth_require_tls=False)
    try:
        maildir = tmp_path / "list"
        for i, data in enumerate(posting(2, 2).mails):
            add_to_maildir(maildir, data, f"1700000000.{i}.host")
        config = tmp_path / "bot.toml"
        config.write_text(
            '[smtp]\ntls = "none"\nallow_plaintext_auth = true\nusername = "kvm-bot"\n'
            'password_env = "RT_TEST_SMTP_PW"\n'
            "[bot]\nmax_age_days = 0\n"
        )
        monkeypatch.setenv("RT_TEST_SMTP_PW", "hunter2-secret")
        code = main(
            [
                "bot",
                "--source",
                str(maildir),
                "--once",
                "--config",
                str(config),
                "--state",
                str(tmp_path / "s.sqlite"),
                "--smtp",
                f"127.0.0.1:{port}",
                "--from",
                BOT_FROM,
            ]
        )
    finally:
        controller.stop()
    out = capsys.readouterr()
    assert code == 0
    assert logins == [(b"kvm-bot", b"hunter2-secret")]
    assert len(handler.received) == 1
    assert "hunter2" not in out.out + out.err


def test_a_reply_taken_by_one_process_is_not_sent_by_another(tmp_path):
    one = Store(tmp_path / "s.sqlite")
    other = Store(tmp_path / "s.sqlite")
    one.decide("k|v2|2", "reply", reply=("id@example.org", "bot@example.org", ["a@b"], b"x"))
    (row,) = other.due(now=2e9)  # the other process saw it pending
    assert one.begin_send(row.message_id, now=1.0) is True
    assert other.begin_send(row.message_id, now=1.0) is False


def test_findings_reach_the_reply_with_file_line_and_trace(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for data in posting(8, 3, leak_in=2).mails:
        inbox.add(data)
    # Findings are answered even when replies to clean series are off.
    runner, store = make_bot(tmp_path, inbox.path, port, reply_when_clean=False)
    runner.run_once()
    assert len(handler.received) == 1
    body = body_of(handler.received[0])
    assert re.search(r"arch/x86/kvm/mmu/mmu\.c:\d+", body)
    assert "leak" in body and "__gfn_to_pfn_memslot" in body
    assert all(len(line) <= 72 for line in body.splitlines())
    assert store.decisions()[0][3].endswith(": 1 finding(s)")


def test_a_send_that_failed_after_data_but_reached_the_list_is_not_repeated(tmp_path, smtp_server):
    maildir = tmp_path / "list"

    class LateFailure(Inbox):
        """Delivers to the list, then the client sees an error (a lost 250)."""

        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            self.attempts += 1
            add_to_maildir(maildir, envelope.original_content, f"echo-{self.attempts}")
            return "451 4.4.2 connection timed out"

    handler, port = smtp_server(LateFailure())
    for i, data in enumerate(posting(2, 2).mails):
        add_to_maildir(maildir, data, f"1700000000.{i}.host")
    runner, store = make_bot(tmp_path, maildir, port, retry_base_seconds=5)
    stats = runner.run_once()
    assert handler.attempts == 1
    assert stats.confirmed == 1
    assert store.outbox()[0].status == "sent"


def test_interval_mode_at_the_hourly_limit_sleeps_the_interval_not_a_busy_loop(
    tmp_path, smtp_server
):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    for k in range(2):
        for data in posting(2, 2, tag=f"s{k}", title=f"KVM: paced series {k}").mails:
            inbox.add(data)
    clock = Clock()
    runner, _ = make_bot(tmp_path, inbox.path, port, clock=clock, per_hour=1)
    sleeps = []
    runner.sleep = lambda seconds: (sleeps.append(seconds), clock.sleep(seconds))
    runner.run_forever(interval=600, stop=lambda: len(sleeps) >= 7)
    assert sleeps == [600] * 7
    assert len(handler.received) == 2  # the second went out once the hour had passed


def test_patches_whose_references_leave_out_the_covers_parent_still_join_the_cover(
    tmp_path, smtp_server
):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v1 = posting(1, 2)
    v2 = posting(2, 2, date=BASE_DATE + timedelta(days=7), in_reply_to=v1.cover_id)
    # Some tools thread v2's cover under v1 but give its patches only the cover as reference.
    v2_mails = [v2.mails[0]] + [
        data.replace(f"<{v1.cover_id}> <{v2.cover_id}>".encode(), f"<{v2.cover_id}>".encode())
        for data in v2.mails[1:]
    ]
    assert all(f"References: <{v2.cover_id}>\n".encode() in d for d in v2_mails[1:])
    for data in v1.mails + v2_mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port)
    runner.run_once()
    answered = sorted(str(r.message["In-Reply-To"]) for r in handler.received)
    assert answered == sorted([f"<{v1.cover_id}>", f"<{v2.cover_id}>"])
    assert store.pending_revisions() == []


def test_bundled_example_history_grows_message_by_message_and_each_version_is_answered_once(
    tmp_path, smtp_server
):

    from reviewtool.mail import parse_mail
    from reviewtool.sources import iter_messages

    example = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn" / "mbox"
    if not example.is_dir():
        pytest.skip("examples/kvm-follow-pfn/mbox not built")
    raws = [r for r in iter_messages([str(p) for p in sorted(example.glob("*.mbox"))]) if r.data]
    dated = []
    for raw in raws:
        mail = parse_mail(raw.data, raw.location)
        dated.append((mail.date or BASE_DATE, mail.subject, raw.data, mail))
    dated.sort(key=lambda item: (item[0], item[1]))
    heads = {}
    for _, _, _, mail in dated:
        if mail.prefix.reply:
            continue
        label = mail.prefix.label
        if mail.prefix.index == 0 or (label not in heads and mail.prefix.point is not None):
            heads.setdefault(label, mail.message_id)

    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    clock = Clock()
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock)
    stats = RunStats()
    for _, _, data, _ in dated:
        inbox.add(data)
        runner.cycle(stats)
        clock.now += 60

    answered = {str(r.message["In-Reply-To"]).strip("<>") for r in handler.received}
    assert len(handler.received) == len(heads) >= 9
    assert answered == set(heads.values())
    v8 = next(r for r in handler.received if "v8 0/8" in r.message["Subject"])
    assert "since v7" in body_of(v8)
    # v5's 3/4 arrived unthreaded: it joins its cover, so nothing is reported missing.
    v5 = next(r for r in handler.received if "v5 0/4" in r.message["Subject"])
    assert "did not arrive" not in body_of(v5) and "missing" not in body_of(v5)
    assert stats.kinds["reply"] >= 11


def _unthread(data: bytes) -> bytes:
    """The mail as `git send-email --no-thread` sends it: no In-Reply-To, no References."""
    lines = data.split(b"\n")
    return b"\n".join(
        line for line in lines if not line.startswith((b"In-Reply-To:", b"References:"))
    )


@pytest.mark.parametrize("cover_first", [True, False])
def test_unthreaded_patches_join_their_authors_cover_in_either_order(
    tmp_path, smtp_server, cover_first
):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    post = posting(5, 3)
    cover, patches = post.mails[0], [_unthread(d) for d in post.mails[1:]]
    clock = Clock()
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, settle_seconds=600)
    for data in [cover, *patches] if cover_first else [*patches, cover]:
        inbox.add(data)
        runner.run_once()
    clock.now += 601
    runner.run_once()
    assert len(handler.received) == 1
    assert handler.received[0].message["In-Reply-To"] == f"<{post.cover_id}>"
    assert "missing" not in body_of(handler.received[0])
    assert [d[1] for d in store.decisions()] == ["reply"]


def test_unthreaded_series_without_cover_are_one_revision_each_even_from_one_author(
    tmp_path, smtp_server
):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    first = posting(1, 2, cover=False, title="KVM: first series")
    later = posting(1, 2, cover=False, tag="later", date=BASE_DATE + timedelta(days=10))
    clock = Clock()
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, settle_seconds=600)
    for post in (first, later):
        for data in post.mails:
            inbox.add(_unthread(data))
            runner.run_once()
        clock.now += 601
        runner.run_once()
    assert [str(r.message["In-Reply-To"]) for r in handler.received] == [
        f"<{first.ids[0]}>",
        f"<{later.ids[0]}>",
    ]
    assert all("missing" not in body_of(r) for r in handler.received)
