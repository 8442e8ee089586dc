"""The bot on a damaged public-inbox epoch (issue 16.7, bot side): it reads with the same reader
as the CLI, so what can be read is read and answered, each unreadable message is accounted
with its reason, the damage is said (log, state, exit 2 with `--once`), never "read 0, ok".

Every inbox is a real git repository built in a temp dir (`tests.helpers.git.PublicInbox`,
loose objects as public-inbox's writer leaves them between repacks) and then damaged the way
disks and interrupted copies damage them: a message blob lost, a commit object overwritten,
a pack cut short.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from test_bot_fixtures import Clock, make_runner, smtp_servers

from reviewtool.bot.config import SmtpConfig
from reviewtool.sources.publicinbox import iter_public_inbox
from tests.helpers.git import PublicInbox, git, run_git
from tests.helpers.mail import BASE_DATE, posting

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def smtp_server():
    """Loopback SMTP servers: `handler, port = smtp_server(Inbox(...))`."""
    yield from smtp_servers()


def _bot(tmp_path: Path, inbox: PublicInbox, port: int, clock: Clock):
    logged: list[str] = []
    smtp = SmtpConfig(host="127.0.0.1", port=port, tls="none", timeout=10)
    runner, store = make_runner(tmp_path, inbox.path, smtp, clock)
    runner.log = logged.append
    return runner, store, logged


def _two_series(inbox: PublicInbox) -> tuple[list[str], list[str], list[bytes]]:
    """Series A (v2, cover + 2 patches) and series B (v1, cover + 3 patches) on the list;
    the commit ids of each, and A's mails."""
    first = posting(2, 2, tag="a", title="KVM: first damaged-inbox series")
    second = posting(1, 3, tag="b", title="KVM: second series", date=BASE_DATE + timedelta(hours=1))
    a = [inbox.add(data) for data in first.mails]
    b = [inbox.add(data) for data in second.mails]
    return a, b, first.mails


def _git(epoch: Path, *args: str) -> str:
    return git(epoch, *args).strip()


def _loose(epoch: Path, sha: str) -> Path:
    return epoch / "objects" / sha[:2] / sha[2:]


def _answered(handler) -> set[str]:
    return {str(r.message["In-Reply-To"]).strip("<>") for r in handler.received}


def test_a_lost_message_blob_is_rejected_with_its_reason_and_the_rest_is_answered(
    tmp_path, smtp_server
):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    a, b, _ = _two_series(inbox)
    blob = _git(inbox.epoch, "rev-parse", f"{a[1]}:m")
    lost = _loose(inbox.epoch, blob)
    saved = lost.read_bytes()
    lost.unlink()  # patch 1/2 of series A is gone from the archive

    clock = Clock()
    runner, store, logged = _bot(tmp_path, inbox, port, clock)
    stats = runner.run_once()
    # Every commit is accounted: 6 messages read, 1 rejected with git's reason.
    assert stats.read == len(a) + len(b)
    assert stats.kinds.get("rejected") == 1
    (piece,) = stats.damaged
    assert a[1][:12] in piece and "no message" in piece
    rejected = store.index.rejected()
    assert [place for place, _ in rejected] == [f"{inbox.epoch}@{a[1][:12]}"]
    assert any("is damaged: 1 piece(s)" in line for line in logged)
    # Series B is whole and answered; A lacks a patch and waits for the settle time.
    b_cover = posting(1, 3, tag="b", title="x", date=BASE_DATE + timedelta(hours=1)).first_id
    assert _answered(handler) == {b_cover}

    # A poll while still damaged accounts for nothing twice and answers nothing twice.
    again = runner.run_once()
    assert again.added == 0 and len(store.index.rejected()) == 1
    assert len(handler.received) == 1

    # The object comes back (the archive is re-fetched): the lost message is read then, and
    # series A, now whole, is answered once.
    lost.parent.mkdir(exist_ok=True)
    lost.write_bytes(saved)
    repaired = runner.run_once()
    assert repaired.added == 1 and not repaired.damaged
    assert _answered(handler) == {b_cover, posting(2, 2, tag="a").first_id}
    assert len(handler.received) == 2
    assert store.has_message(posting(2, 2, tag="a").ids[0])


def test_a_corrupt_commit_reads_every_other_message_and_says_so(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    a, b, _ = _two_series(inbox)
    commit = _loose(inbox.epoch, a[2])  # the commit of A's patch 2/2: the history breaks there
    commit.chmod(0o644)
    commit.write_bytes(b"x" * 40)
    runner, store, logged = _bot(tmp_path, inbox, port, Clock())
    stats = runner.run_once()
    assert stats.damaged, "a broken history must not look like a clean run"
    # The one reader of the CLI and the bot: the bot accounts exactly what the CLI reads.
    cli = list(iter_public_inbox(str(inbox.path)))
    readable = [r for r in cli if r.data]
    assert stats.read == len(cli)
    assert stats.read - stats.kinds.get("rejected", 0) == len(readable) == len(a) + len(b) - 1
    assert len(handler.received) == 1  # series B, whole, answered; A waits for its patch
    assert any("is damaged" in line for line in logged)


def test_a_cut_pack_is_never_read_zero_ok_for_the_bot(tmp_path):
    inbox = PublicInbox(tmp_path / "inbox")
    a, b, _ = _two_series(inbox)
    _git(inbox.epoch, "repack", "-adq")
    (pack,) = (inbox.epoch / "objects" / "pack").glob("*.pack")
    pack.chmod(0o644)
    pack.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    out = tmp_path / "replies"
    args = [sys.executable, "-m", "reviewtool", "bot", "--source", str(inbox.path), "--once"]
    args += ["--dry-run", "--dry-run-dir", str(out), "--state", str(tmp_path / "bot.sqlite")]
    args += ["--quiet"]
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ}
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("reviewtool bot: damaged input:")
    cli = list(iter_public_inbox(str(inbox.path)))
    assert f"read {len(cli)} message(s)" in result.stdout


def test_a_purged_and_rewritten_epoch_is_read_again_not_called_damaged(tmp_path, smtp_server):
    # public-inbox's purge rewrites an epoch's history: the commit the cursor names is gone.
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    a, b, a_mails = _two_series(inbox)
    runner, store, logged = _bot(tmp_path, inbox, port, Clock())
    first = runner.run_once()
    assert not first.damaged and len(handler.received) == 2
    _git(inbox.epoch, "update-ref", "-d", "refs/heads/master")
    inbox.head = None
    for data in a_mails:  # the history again, without series B
        inbox.add(data)
    _git(inbox.epoch, "reflog", "expire", "--expire=now", "--all")
    _git(inbox.epoch, "gc", "-q", "--prune=now")
    assert run_git(inbox.epoch, "cat-file", "-e", b[-1], check=False).returncode, (
        "the cursor's commit must be gone for this test"
    )
    again = runner.run_once()
    assert not again.damaged and again.read == len(a_mails) and again.added == 0
    assert not any(" is damaged:" in line for line in logged)
    assert len(handler.received) == 2  # nothing answered twice
