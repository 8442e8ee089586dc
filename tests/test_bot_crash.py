"""Crash safety: SIGKILL the bot at every named point of a run, restart it, count the replies.

The bot runs as a real subprocess (`tests/helpers/botkill.py`) whose runner hook kills it the
Nth time it passes a point. The SMTP server delivers each accepted reply back
into the list's Maildir, as a real list archives what it carries: that is how a restarted bot
learns that a send cut short after the server's "250" did go out.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_bot_fixtures import BOT_FROM, Inbox, add_to_maildir, serve

from reviewtool.bot.runner import HOOK_POINTS
from tests.helpers.mail import posting

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

KILLER = Path(__file__).resolve().parent / "helpers" / "botkill.py"

# (point, nth passage): every point, and later passages where a run passes a point more than
# once (one decision, one send and one state write per reply; three replies per run).
SCENARIOS = [
    ("ingest-uncommitted", 1),
    ("after-ingest-commit", 1),
    ("decide-uncommitted", 1),
    ("decide-uncommitted", 3),
    ("after-decide-commit", 1),
    ("review-started", 1),
    ("review-started", 3),
    ("begin-send-uncommitted", 1),
    ("before-send", 1),
    ("smtp-before-data", 1),
    ("smtp-before-data", 3),
    ("after-send", 1),
    ("after-send", 2),
    ("after-send", 3),
    ("mark-sent-uncommitted", 1),
    ("after-mark-sent", 1),
]
# Runs killed one after another before a clean run: crashes during recovery itself.
CHAINS = [
    ["after-send:1", "after-send:1"],
    ["smtp-before-data:2", "after-send:1", "mark-sent-uncommitted:1"],
    ["decide-uncommitted:2", "before-send:1", "after-mark-sent:1"],
]
PARALLEL = max(2, min(4, os.cpu_count() or 2))


def _lists(tmp: Path) -> tuple[Path, list[str]]:
    """A list with three revisions (two with covers, one single patch) and some noise."""
    maildir = tmp / "list"
    targets = []
    for k, (version, n) in enumerate([(2, 2), (3, 3), (1, 1)]):
        post = posting(version, n, tag=f"c{k}", title=f"KVM: crash series {k}")
        targets.append(post.first_id)
        for i, data in enumerate(post.mails):
            add_to_maildir(maildir, data, f"17000000{k:02d}.{i}.host")
    return maildir, targets


def _run_bot(tmp: Path, maildir: Path, port: int, kill: str | None) -> int:
    config = tmp / "bot.toml"
    if not config.exists():
        config.write_text(
            "[bot]\nsettle_seconds = 3600\necho_wait_seconds = 0\nretry_base_seconds = 0\n"
            'max_age_days = 0\n[smtp]\ntls = "none"\n'
        )
    args = [sys.executable, str(KILLER), kill or "", "--source", str(maildir), "--once"]
    args += ["--state", str(tmp / "bot.sqlite"), "--smtp", f"127.0.0.1:{port}"]
    args += ["--from", BOT_FROM, "--config", str(config), "--quiet"]
    done = subprocess.run(args, capture_output=True, timeout=120)
    if done.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(done.stderr.decode())
    return done.returncode


def _scenario(tmp: Path, kills: list[str]) -> tuple[list[int], Counter, Counter, int]:
    """Run the bot killed at each point in turn, then clean; what the server received."""
    tmp.mkdir(parents=True)
    maildir, targets = _lists(tmp)
    handler = Inbox(echo_to=maildir)
    controller, port = serve(handler)
    try:
        codes = [_run_bot(tmp, maildir, port, kill) for kill in kills]
        codes.append(_run_bot(tmp, maildir, port, None))
        if len(kills) > 1:
            codes.append(_run_bot(tmp, maildir, port, None))  # and once more: nothing new
    finally:
        controller.stop()
    per_target = Counter(str(r.message["In-Reply-To"]).strip("<>") for r in handler.received)
    per_id = Counter(str(r.message["Message-ID"]) for r in handler.received)
    expected = Counter({t: 1 for t in targets})
    return codes, per_target - expected + (expected - per_target), per_id, len(targets)


def test_scenarios_cover_every_kill_point():
    assert {point for point, _ in SCENARIOS} == set(HOOK_POINTS)


def test_every_revision_gets_exactly_one_reply_whatever_point_the_bot_is_killed_at(tmp_path):
    jobs = [[f"{point}:{n}"] for point, n in SCENARIOS] + CHAINS
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda a: _scenario(tmp_path / f"s{a[0]}", a[1]), enumerate(jobs)))
    killed_runs = 0
    for kills, (codes, wrong, per_id, _) in zip(jobs, results, strict=True):
        assert not wrong, f"killed at {kills}: replies off by {dict(wrong)}"
        assert all(n == 1 for n in per_id.values()), f"killed at {kills}: {per_id}"
        assert codes[-1] == 0 and codes[: len(kills)] == [-signal.SIGKILL] * len(kills)
        killed_runs += sum(1 for c in codes if c == -signal.SIGKILL)
    # Every planned kill happened: the points are really on the path of a run.
    assert killed_runs == sum(len(k) for k in jobs)
    print(
        f"\nkill points tried: {len(SCENARIOS)} single + {len(CHAINS)} chains, "
        f"{killed_runs} kills, {len(HOOK_POINTS)} distinct points"
    )


@pytest.mark.parametrize("point", ["after-send:1"])
def test_without_the_list_copy_a_cut_short_send_is_repeated_with_the_same_message_id(
    tmp_path, point
):
    # The window exactly-once cannot close over SMTP alone: the server said 250, the bot died
    # before recording it, and no copy came back. The resend carries the same Message-ID, so
    # archives and mail clients fold the two into one.
    maildir, targets = _lists(tmp_path)
    handler = Inbox()  # no echo into the list
    controller, port = serve(handler)
    try:
        assert _run_bot(tmp_path, maildir, port, point) == -signal.SIGKILL
        assert _run_bot(tmp_path, maildir, port, None) == 0
    finally:
        controller.stop()
    ids = Counter(str(r.message["Message-ID"]) for r in handler.received)
    assert len(ids) == len(targets)
    assert sorted(ids.values()) == [1, 1, 2]


def test_a_revision_whose_review_kills_the_bot_is_given_up_once_and_the_others_answered(tmp_path):
    # The poison: the review of the first revision ends the process (as the OOM killer or a
    # crash in a C extension would) at every start. Before, each restart began with that
    # revision again and died: no series on the list was ever answered again.
    maildir, targets = _lists(tmp_path)
    handler = Inbox(echo_to=maildir)
    controller, port = serve(handler)
    try:
        # Five restarts; the review started first in each of the first three is killed.
        kills = ["review-started:1"] * 3 + [None, None]
        codes = [_run_bot(tmp_path, maildir, port, kill) for kill in kills]
    finally:
        controller.stop()
    # Runs 1-2 die on revision 0; run 3 gives it up and dies on revision 1's first review
    # (one death may be the machine's); runs 4-5 finish.
    assert codes == [-signal.SIGKILL] * 3 + [0, 0]
    db = sqlite3.connect(tmp_path / "bot.sqlite")
    decisions = dict(db.execute("SELECT revision_key, outcome FROM decisions"))
    notes = dict(db.execute("SELECT revision_key, note FROM decisions"))
    assert decisions == {targets[0]: "failed", targets[1]: "reply", targets[2]: "reply"}
    assert "ended the bot 2 times" in notes[targets[0]]
    assert db.execute("SELECT COUNT(*) FROM reviews").fetchone()[0] == 0
    answered = Counter(str(r.message["In-Reply-To"]).strip("<>") for r in handler.received)
    assert answered == Counter({targets[1]: 1, targets[2]: 1})
