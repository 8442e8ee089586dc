"""The bot keeps its mail in the shared series index, in its own state file: one store."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from test_bot import Clock, body_of, make_bot
from test_bot_fixtures import smtp_servers

from reviewtool.bot.state import Store
from reviewtool.errors import InputError
from reviewtool.series.index import SeriesIndex
from tests.helpers.git import PublicInbox
from tests.helpers.mail import BASE_DATE, posting


@pytest.fixture
def smtp_server():
    yield from smtp_servers()


def test_bot_state_file_is_a_series_index_that_scan_can_read(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    v1 = posting(1, 2)
    v2 = posting(2, 2, date=BASE_DATE + timedelta(days=7))
    for data in v1.mails + v2.mails:
        inbox.add(data)
    runner, store = make_bot(tmp_path, inbox.path, port)
    runner.run_once()
    store.close()
    index = SeriesIndex(tmp_path / "bot.sqlite")
    groups = index.groups()
    # v1 and v2 are linked by their patch titles: one group holding both versions
    assert len(groups) == 1 and groups[0].patches == 4
    assert {m.message_id for m in index.members(groups[0].group_id)} >= set(v1.ids + v2.ids)
    index.close()
    assert len(handler.received) == 2
    assert "since v1" in body_of(handler.received[1])


def test_a_patch_that_joins_an_answered_revision_late_gets_no_second_reply(tmp_path, smtp_server):
    handler, port = smtp_server()
    inbox = PublicInbox(tmp_path / "inbox")
    post = posting(3, 3)
    clock = Clock()
    runner, store = make_bot(tmp_path, inbox.path, port, clock=clock, settle_seconds=600)
    for data in post.mails[:-1]:  # the cover and patches 1-2; patch 3 is late
        inbox.add(data)
    runner.run_once()
    assert handler.received == []  # incomplete: waits for the settle time
    clock.now += 601
    runner.run_once()
    assert len(handler.received) == 1 and "3" in body_of(handler.received[0])
    inbox.add(post.mails[-1])
    clock.now += 601
    runner.run_once()
    assert len(handler.received) == 1
    assert store.pending_revisions() == []
    assert [d[1] for d in store.decisions()] == ["reply"]


def test_state_file_of_the_old_schema_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "bot.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.commit()
    db.close()
    with pytest.raises(InputError, match="state schema 1, expected 2"):
        Store(path)
