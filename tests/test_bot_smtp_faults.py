"""Bot delivery under SMTP faults, each against a real server on loopback (aiosmtpd, or a
plain socket for a server that hangs): what is lost, what is sent twice, what waits."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult
from test_bot_fixtures import Clock, Inbox, add_to_maildir, free_port, make_runner, serve

from reviewtool.bot.config import SmtpConfig, load_config
from reviewtool.bot.state import Store
from reviewtool.cli import main
from reviewtool.errors import InputError
from tests.helpers.mail import posting

SERIES = 9  # replies queued at once in the outage tests, as in the report


def _list(tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    """A Maildir list with `count` one-patch series; the Message-IDs a reply answers."""
    maildir = tmp_path / "list"
    targets = []
    for k in range(count):
        post = posting(1, 1, tag=f"f{k}", title=f"KVM: fault series {k}")
        targets.append(post.first_id)
        for i, data in enumerate(post.mails):
            add_to_maildir(maildir, data, f"17000000{k:02d}.{i}.host")
    return maildir, targets


def _bot(tmp_path: Path, source: Path, smtp: SmtpConfig, clock: Clock, **overrides):
    # A retry base longer than --once waits: each run is one attempt.
    return make_runner(tmp_path, source, smtp, clock, **{"retry_base_seconds": 600, **overrides})


def _plain(port: int, **kw) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=kw.pop("timeout", 5), **kw)


def _replies_per_target(handler: Inbox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for received in handler.received:
        target = str(received.message["In-Reply-To"]).strip("<>")
        counts[target] = counts.get(target, 0) + 1
    return counts


# -- outages pause the queue; nothing is failed for the server's fault -----------------------


def test_outage_longer_than_the_retry_budget_pauses_the_queue_and_loses_nothing(tmp_path):
    maildir, targets = _list(tmp_path, SERIES)
    clock = Clock()
    dead = _plain(free_port())
    runner, store = _bot(tmp_path, maildir, dead, clock, max_attempts=2)
    for _ in range(4):  # more runs than max_attempts, server down all along
        stats = runner.run_once()
        assert stats.paused and "cannot reach" in stats.paused
        clock.now += 7200
    rows = store.outbox()
    assert len(rows) == SERIES
    assert {r.status for r in rows} == {"pending"} and all(r.attempts == 0 for r in rows)
    store.close()

    handler = Inbox()
    controller, _ = serve(handler, port=dead.port)
    try:
        runner, store = _bot(tmp_path, maildir, dead, clock, max_attempts=2)
        stats = runner.run_once()
    finally:
        controller.stop()
    assert stats.sent == SERIES and stats.paused is None
    assert _replies_per_target(handler) == {t: 1 for t in targets}  # none lost, none twice


def test_login_refused_pauses_the_queue_instead_of_failing_every_reply(tmp_path):
    maildir, targets = _list(tmp_path, SERIES)
    passwords = {"good": b"right-horse"}

    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.password == passwords["good"], handled=False)

    handler = Inbox()
    controller, port = serve(handler, authenticator=authenticator, auth_require_tls=False)
    clock = Clock()
    try:
        smtp = _plain(port, username="bot", password="wrong", allow_plaintext_auth=True)
        runner, store = _bot(tmp_path, maildir, smtp, clock)
        stats = runner.run_once()
        assert stats.failed == 0 and "login as bot refused (535)" in (stats.paused or "")
        assert {r.status for r in store.outbox()} == {"pending"}
        assert "wrong" not in stats.paused
        store.close()
        clock.now += 7200
        smtp = replace(smtp, password="right-horse")
        runner, store = _bot(tmp_path, maildir, smtp, clock)
        stats = runner.run_once()
    finally:
        controller.stop()
    assert stats.sent == SERIES
    assert _replies_per_target(handler) == {t: 1 for t in targets}


# -- a server that takes the body and never answers -----------------------------------------


class Swallow(Inbox):
    """Accepts DATA, reads the whole body, then never answers (until released)."""

    def __init__(self, echo_to: Path | None = None) -> None:
        super().__init__(echo_to=echo_to)
        self.release = threading.Event()
        self.swallowed = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.swallowed += 1
        if self.echo_to is not None:  # the list got it even though the client heard nothing
            add_to_maildir(self.echo_to, bytes(envelope.original_content), f"sw-{self.swallowed}")
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "421 4.4.2 closing"


def test_data_timeout_is_in_doubt_never_resent_and_confirmed_by_its_list_copy(tmp_path):
    maildir, targets = _list(tmp_path, 3)
    handler = Swallow(echo_to=None)
    controller, port = serve(handler)
    clock = Clock()
    try:
        runner, store = _bot(tmp_path, maildir, _plain(port, timeout=1), clock)
        first = runner.run_once()
        for _ in range(3):  # later runs, even after the pause is over, do not resend it
            clock.now += 7200
            runner.run_once()
    finally:
        handler.release.set()
        controller.stop()
    # One reply per run reaches the hung DATA, then the queue pauses; each later run tries
    # the next reply, never one already in doubt.
    assert first.unknown == 1 and first.paused
    assert [r.status for r in store.outbox()] == ["unknown"] * 3
    assert handler.swallowed == 3 and all(r.attempts == 1 for r in store.outbox())
    # Now its copy comes back through the list: delivered after all.
    unknown = next(r for r in store.outbox() if r.status == "unknown")
    add_to_maildir(maildir, unknown.data, "late-echo")
    good = Inbox()
    controller, port = serve(good)
    try:
        store.close()
        runner, store = _bot(tmp_path, maildir, _plain(port), clock)
        stats = runner.run_once()
    finally:
        controller.stop()
    # The one whose copy came back is sent; the others stay in doubt, and nothing was resent.
    assert stats.confirmed == 1 and good.received == []
    assert sorted(r.status for r in store.outbox()) == ["sent", "unknown", "unknown"]


def test_in_doubt_reply_is_sent_again_only_when_requeued(tmp_path, capsys):
    maildir, targets = _list(tmp_path, 1)
    handler = Swallow()
    controller, port = serve(handler)
    clock = Clock()
    try:
        runner, store = _bot(tmp_path, maildir, _plain(port, timeout=1), clock)
        runner.run_once()
    finally:
        handler.release.set()
        controller.stop()
    assert [r.status for r in store.outbox()] == ["unknown"]
    store.close()
    assert main(["bot", "--requeue", "--state", str(tmp_path / "bot.sqlite")]) == 0
    assert "1 reply requeued" in capsys.readouterr().out
    good = Inbox()
    controller, port = serve(good)
    try:
        runner, store = _bot(tmp_path, maildir, _plain(port), clock)
        runner.run_once()
    finally:
        controller.stop()
    assert len(good.received) == 1 and store.outbox()[0].status == "sent"


def test_hung_server_costs_one_timeout_per_run_not_one_per_reply(tmp_path):
    maildir, _ = _list(tmp_path, 4)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []

    def accept_and_hang() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)  # never greets

    thread = threading.Thread(target=accept_and_hang, daemon=True)
    thread.start()
    clock = Clock()
    try:
        runner, store = _bot(tmp_path, maildir, _plain(port, timeout=0.5), clock)
        stats = runner.run_once()
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert len(accepted) == 1 and stats.outages == 1
    assert "timed out" in (stats.paused or "")
    assert {r.status for r in store.outbox()} == {"pending"}


# -- a refusal of one reply is that reply's, and can be requeued ----------------------------


def test_permanent_refusal_fails_one_reply_and_requeue_sends_it(tmp_path, capsys):
    maildir, targets = _list(tmp_path, 3)
    refused = {targets[1]}

    class RefuseOne(Inbox):
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            text = bytes(envelope.original_content).decode()
            if any(f"<{t}>" in text for t in refused):
                return "554 5.7.1 message content rejected"
            return await super().handle_DATA(server, session, envelope)

    handler = RefuseOne()
    controller, port = serve(handler)
    clock = Clock()
    try:
        runner, store = _bot(tmp_path, maildir, _plain(port), clock)
        stats = runner.run_once()
        assert stats.sent == 2 and stats.failed == 1 and stats.paused is None
        failed = [r for r in store.outbox() if r.status == "failed"]
        assert len(failed) == 1 and "554" in (failed[0].last_error or "")
        store.close()
        refused.clear()  # the postmaster fixed the filter
        code = main(
            ["bot", "--requeue", failed[0].message_id, "--state", str(tmp_path / "bot.sqlite")]
        )
        assert code == 0
        runner, store = _bot(tmp_path, maildir, _plain(port), clock)
        runner.run_once()
    finally:
        controller.stop()
    assert _replies_per_target(handler) == {t: 1 for t in targets}


def test_requeue_of_a_reply_that_was_not_failed_is_a_usage_error(tmp_path, capsys):
    Store(tmp_path / "s.sqlite").close()
    code = main(["bot", "--requeue", "nope@example.org", "--state", str(tmp_path / "s.sqlite")])
    assert code == 2
    assert "not failed or in doubt" in capsys.readouterr().err


# -- TLS: STARTTLS by default, no password in plaintext --------------------------------------


def test_default_is_starttls_and_a_plaintext_server_gets_nothing(tmp_path):
    maildir, _ = _list(tmp_path, 1)
    handler = Inbox()
    controller, port = serve(handler)
    clock = Clock()
    try:
        smtp = SmtpConfig(host="127.0.0.1", port=port, timeout=5)  # tls left at its default
        runner, store = _bot(tmp_path, maildir, smtp, clock)
        stats = runner.run_once()
    finally:
        controller.stop()
    assert smtp.tls == "starttls"
    assert handler.received == [] and "does not offer STARTTLS" in (stats.paused or "")
    assert store.outbox()[0].status == "pending"


def test_config_refuses_a_password_over_plaintext_unless_allowed(tmp_path):
    path = tmp_path / "bot.toml"
    path.write_text('[smtp]\ntls = "none"\nusername = "bot"\npassword_env = "PW"\n')
    with pytest.raises(InputError, match="plaintext"):
        load_config(path, environ={"PW": "x"})
    path.write_text(
        '[smtp]\ntls = "none"\nusername = "bot"\npassword_env = "PW"\nallow_plaintext_auth = true\n'
    )
    assert load_config(path, environ={"PW": "x"}).smtp.allow_plaintext_auth is True
    path.write_text("[smtp]\n")
    assert load_config(path).smtp.tls == "starttls"


def test_transport_never_sends_a_password_in_plaintext_even_if_built_in_code(tmp_path):
    maildir, _ = _list(tmp_path, 1)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.password)
        return AuthResult(success=True)

    controller, port = serve(Inbox(), authenticator=authenticator, auth_require_tls=False)
    try:
        smtp = _plain(port, username="bot", password="secret")
        runner, store = _bot(tmp_path, maildir, smtp, Clock())
        stats = runner.run_once()
    finally:
        controller.stop()
    assert logins == [] and "plaintext" in (stats.paused or "")


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    where = tmp_path_factory.mktemp("tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_starttls_then_login_delivers_with_a_private_ca(tmp_path, tls_files):
    import ssl

    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    maildir, targets = _list(tmp_path, 2)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=True)

    handler = Inbox()
    controller, port = serve(
        handler,
        authenticator=authenticator,
        tls_context=context,
        require_starttls=True,
    )
    try:
        smtp = SmtpConfig(
            host="127.0.0.1", port=port, timeout=5, username="bot", password="pw", ca_file=cert
        )
        runner, store = _bot(tmp_path, maildir, smtp, Clock())
        stats = runner.run_once()
    finally:
        controller.stop()
    assert stats.sent == 2 and logins == [(b"bot", b"pw")]
    assert _replies_per_target(handler) == {t: 1 for t in targets}


# -- the state file ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b"not a database at all\n" * 10, b"SQLite format 3\x00" + b"\x00" * 10]
)
def test_state_file_that_is_not_a_valid_database_stops_the_bot(tmp_path, capsys, content):
    maildir, _ = _list(tmp_path, 1)
    state = tmp_path / "bot.sqlite"
    state.write_bytes(content)
    code = main(
        [
            "bot",
            "--source",
            str(maildir),
            "--once",
            "--state",
            str(state),
            "--dry-run",
            "--dry-run-dir",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "state file" in err and "Traceback" not in err
    assert state.read_bytes() == content and not (tmp_path / "out").exists()


def test_a_sqlite_database_of_something_else_is_not_taken_as_state(tmp_path):
    import sqlite3

    path = tmp_path / "other.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE photos (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="not a bot state file"):
        Store(path)
