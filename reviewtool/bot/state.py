"""The bot's memory: one SQLite file (WAL) with what was seen, what was decided, and an outbox.

Exactly-once rests on three rules:
- a message and the source cursor that passes it are committed in one transaction, so a
  crash re-reads at most what was not committed and Message-IDs drop the rest;
- a decision and its reply (in the outbox) are committed in one transaction, before any send;
- a reply is marked `sending` before the SMTP transaction and `sent` after the server accepts
  it. A row found `sending` after a restart is in doubt: if its Message-ID has come back
  through the list it was delivered, otherwise it is sent again with the same Message-ID.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reviewtool.errors import InputError

SCHEMA_VERSION = 1
# How long a writer waits for another process holding the database before giving up.
BUSY_TIMEOUT_SECONDS = 30.0

KINDS = ("cover", "patch", "reply", "other", "own", "rejected")
OUTBOX_STATES = ("pending", "sending", "sent", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen (
    message_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    revision_key TEXT,
    idx INTEGER,
    total INTEGER,
    author TEXT,
    title TEXT,
    received REAL NOT NULL,
    sent REAL,
    location TEXT,
    data BLOB
);
CREATE INDEX IF NOT EXISTS seen_revision ON seen(revision_key);
CREATE INDEX IF NOT EXISTS seen_author ON seen(author);
CREATE INDEX IF NOT EXISTS seen_title ON seen(title);
CREATE TABLE IF NOT EXISTS files (source TEXT NOT NULL, name TEXT NOT NULL,
                                  PRIMARY KEY (source, name));
CREATE TABLE IF NOT EXISTS decisions (
    revision_key TEXT PRIMARY KEY,
    decided REAL NOT NULL,
    outcome TEXT NOT NULL,
    reply_id TEXT,
    note TEXT
);
CREATE TABLE IF NOT EXISTS outbox (
    message_id TEXT PRIMARY KEY,
    revision_key TEXT NOT NULL UNIQUE,
    sender TEXT NOT NULL,
    recipients TEXT NOT NULL,
    data BLOB NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt REAL NOT NULL,
    sending_since REAL,
    sent_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_status ON outbox(status, next_attempt);
"""


@dataclass(frozen=True)
class SeenMessage:
    """One row of `seen`: a message the bot has read and how it classified it."""

    message_id: str
    kind: str
    revision_key: str | None = None
    idx: int | None = None
    total: int | None = None
    author: str | None = None
    title: str | None = None  # normalised, to find earlier versions sent by someone else
    received: float = 0.0
    sent: float | None = None  # the Date header, as a timestamp
    location: str = ""
    data: bytes | None = None


@dataclass(frozen=True)
class OutboxRow:
    """One reply waiting to be sent, being sent, sent or given up on."""

    message_id: str
    revision_key: str
    sender: str
    recipients: list[str]
    data: bytes
    status: str
    attempts: int
    next_attempt: float
    sending_since: float | None
    sent_at: float | None
    last_error: str | None


@dataclass(frozen=True)
class PendingRevision:
    """A revision with mail but no decision yet: its messages' indices and first arrival."""

    key: str
    first_seen: float
    has_cover: bool
    total: int | None
    indices: frozenset[int]
    sent: float | None = None  # the latest Date header among its mails

    @property
    def point(self) -> bool:
        """A point revision (`v7.1`): it rerolls only the patches it carries."""
        return "." in self.key.rsplit("|", 2)[-2] if self.key.count("|") >= 2 else False

    def missing(self) -> list[int]:
        """Patch numbers 1..N not yet seen (empty when N is unknown or for a point revision)."""
        if not self.total or self.point:
            return []
        return [i for i in range(1, self.total + 1) if i not in self.indices]

    @property
    def complete(self) -> bool:
        """Cover (when N > 1) and every patch 1..N have arrived; a point revision is complete
        with the patches it has."""
        if self.point:
            return bool(self.indices)
        if not self.total:
            return False
        cover_ok = self.has_cover or self.total == 1
        return cover_ok and not self.missing()


Hook = Callable[[str], None]


def _no_hook(point: str) -> None:
    return None


class Store:
    """The SQLite state file; every method commits what it changes before it returns."""

    def __init__(self, path: Path | str, hook: Hook | None = None) -> None:
        self.path = Path(path)
        self.hook: Hook = hook or _no_hook
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed "sending"/"sent" must survive a power cut, not just a crash.
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable bot state file: {exc}") from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open state file: {exc.strerror}") from None
        version = self.get_meta("schema_version")
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))
        elif version != str(SCHEMA_VERSION):
            raise InputError(f"{self.path}: state schema {version}, expected {SCHEMA_VERSION}")

    def close(self) -> None:
        """Close the database."""
        self.db.close()

    @contextmanager
    def transaction(self, point: str = "") -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; `point` names the moment just before the commit."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            if point:
                self.hook(point)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # meta and cursors

    def get_meta(self, key: str) -> str | None:
        """A value from the key/value table, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a key/value pair."""
        with self.transaction():
            self.db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def cursor(self, source: str) -> str | None:
        """Where the watcher of `source` stopped last time."""
        return self.get_meta(f"cursor:{source}")

    def known_files(self, source: str) -> set[str]:
        """Every Maildir file name already read from `source`."""
        rows = self.db.execute("SELECT name FROM files WHERE source = ?", (source,))
        return {name for (name,) in rows}

    # seen

    def has_message(self, message_id: str) -> bool:
        """True when a message with this Message-ID was read before."""
        row = self.db.execute("SELECT 1 FROM seen WHERE message_id = ?", (message_id,)).fetchone()
        return row is not None

    def record_batch(
        self,
        source: str,
        messages: Iterable[SeenMessage],
        cursor: str | None = None,
        files: Iterable[str] = (),
    ) -> int:
        """Record messages and move the source's cursor in one transaction; returns rows added."""
        added = 0
        with self.transaction("ingest-uncommitted"):
            for msg in messages:
                cur = self.db.execute(
                    "INSERT OR IGNORE INTO seen(message_id, kind, revision_key, idx, total, "
                    "author, title, received, sent, location, data) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        msg.message_id,
                        msg.kind,
                        msg.revision_key,
                        msg.idx,
                        msg.total,
                        msg.author,
                        msg.title,
                        msg.received,
                        msg.sent,
                        msg.location,
                        msg.data,
                    ),
                )
                added += cur.rowcount
            if cursor is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    (f"cursor:{source}", cursor),
                )
            self.db.executemany(
                "INSERT OR IGNORE INTO files(source, name) VALUES (?, ?)",
                [(source, name) for name in files],
            )
        return added

    def cover_keys(self, message_ids: Iterable[str]) -> dict[str, str]:
        """Revision keys of the stored cover letters among these Message-IDs."""
        ids = list(dict.fromkeys(message_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT message_id, revision_key FROM seen WHERE kind = 'cover' "
            f"AND message_id IN ({marks})",
            ids,
        )
        return {mid: key for mid, key in rows}

    def author_covers(self, author: str, suffix: str) -> list[tuple[str, float | None]]:
        """(revision key, Date) of an author's cover letters whose key ends with `suffix`."""
        rows = self.db.execute(
            "SELECT revision_key, sent FROM seen WHERE kind = 'cover' AND author = ?", (author,)
        )
        return [(key, sent) for key, sent in rows if key and key.endswith(suffix)]

    def stray_groups(self, author: str, suffix: str) -> list[tuple[str, float | None]]:
        """(key, Date) of undecided groups of unthreaded patches from one author."""
        rows = self.db.execute(
            "SELECT s.revision_key, s.sent FROM seen s WHERE s.kind = 'patch' AND s.author = ? "
            "AND s.revision_key LIKE 'unthreaded:%' AND NOT EXISTS "
            "(SELECT 1 FROM decisions d WHERE d.revision_key = s.revision_key)",
            (author,),
        )
        return [(key, sent) for key, sent in rows if key.endswith(suffix)]

    def rekey(self, old: str, new: str) -> None:
        """Move the mail of one revision key to another (stray patches joining their cover)."""
        with self.transaction():
            self.db.execute("UPDATE seen SET revision_key = ? WHERE revision_key = ?", (new, old))

    def counts(self) -> dict[str, int]:
        """How many seen messages of each kind."""
        rows = self.db.execute("SELECT kind, COUNT(*) FROM seen GROUP BY kind")
        return {kind: n for kind, n in rows}

    def pending_revisions(self) -> list[PendingRevision]:
        """Revisions that have mail and no decision, oldest first."""
        rows = self.db.execute(
            "SELECT s.revision_key, s.kind, s.idx, s.total, s.received, s.sent FROM seen s "
            "WHERE s.revision_key IS NOT NULL AND s.kind IN ('cover', 'patch') "
            "AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.revision_key = s.revision_key)"
        )
        groups: dict[str, dict] = {}
        for key, kind, idx, total, received, sent in rows:
            group = groups.setdefault(
                key,
                {"first": received, "cover": False, "total": None, "indices": set(), "sent": None},
            )
            group["first"] = min(group["first"], received)
            if sent is not None:
                group["sent"] = max(group["sent"] or sent, sent)
            if kind == "cover":
                group["cover"] = True
            elif idx:
                group["indices"].add(idx)
            if total and (group["total"] is None or kind == "cover"):
                group["total"] = total
        out = [
            PendingRevision(
                key=key,
                first_seen=g["first"],
                has_cover=g["cover"],
                total=g["total"],
                indices=frozenset(g["indices"]),
                sent=g["sent"],
            )
            for key, g in groups.items()
        ]
        return sorted(out, key=lambda p: (p.first_seen, p.key))

    def revision_messages(self, key: str) -> list[SeenMessage]:
        """The stored cover and patches of one revision."""
        return self._select("WHERE revision_key = ? AND kind IN ('cover', 'patch')", (key,))

    def author_messages(self, author: str) -> list[SeenMessage]:
        """Every stored cover and patch from one author: the candidates for earlier versions."""
        return self._select("WHERE author = ? AND kind IN ('cover', 'patch')", (author,))

    def title_messages(self, titles: Iterable[str]) -> list[SeenMessage]:
        """Every stored cover and patch carrying one of these normalised titles."""
        titles = [t for t in set(titles) if t]
        if not titles:
            return []
        marks = ",".join("?" * len(titles))
        return self._select(
            f"WHERE title IN ({marks}) AND kind IN ('cover', 'patch')", tuple(sorted(titles))
        )

    def _select(self, where: str, params: tuple) -> list[SeenMessage]:
        rows = self.db.execute(
            "SELECT message_id, kind, revision_key, idx, total, author, title, received, sent, "
            f"location, data FROM seen {where} ORDER BY received, rowid",
            params,
        )
        return [SeenMessage(*row) for row in rows]

    # decisions and outbox

    def decided(self, key: str) -> bool:
        """True when the revision already has a decision."""
        row = self.db.execute("SELECT 1 FROM decisions WHERE revision_key = ?", (key,)).fetchone()
        return row is not None

    def decisions(self) -> list[tuple[str, str, str | None, str | None]]:
        """(revision_key, outcome, reply_id, note) for every decision."""
        return list(
            self.db.execute(
                "SELECT revision_key, outcome, reply_id, note FROM decisions ORDER BY decided"
            )
        )

    def decide(
        self,
        key: str,
        outcome: str,
        note: str = "",
        reply: tuple[str, str, list[str], bytes] | None = None,
        now: float | None = None,
    ) -> bool:
        """Record a decision and, with it, the reply to send; False when already decided."""
        now = time.time() if now is None else now
        with self.transaction("decide-uncommitted"):
            cur = self.db.execute(
                "INSERT OR IGNORE INTO decisions(revision_key, decided, outcome, reply_id, note) "
                "VALUES (?,?,?,?,?)",
                (key, now, outcome, reply[0] if reply else None, note),
            )
            if cur.rowcount == 0:
                return False
            if reply is not None:
                message_id, sender, recipients, data = reply
                self.db.execute(
                    "INSERT INTO outbox(message_id, revision_key, sender, recipients, data, "
                    "created, status, attempts, next_attempt) VALUES (?,?,?,?,?,?,?,?,?)",
                    (message_id, key, sender, json.dumps(recipients), data, now, "pending", 0, now),
                )
        return True

    def outbox(self, status: str | None = None) -> list[OutboxRow]:
        """Outbox rows, all or of one status, in creation order."""
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = self.db.execute(
            "SELECT message_id, revision_key, sender, recipients, data, status, attempts, "
            f"next_attempt, sending_since, sent_at, last_error FROM outbox {where} "
            "ORDER BY created, rowid",
            params,
        )
        return [_outbox_row(row) for row in rows]

    def due(self, now: float) -> list[OutboxRow]:
        """Pending rows whose next attempt is due."""
        rows = self.db.execute(
            "SELECT message_id, revision_key, sender, recipients, data, status, attempts, "
            "next_attempt, sending_since, sent_at, last_error FROM outbox "
            "WHERE status = 'pending' AND next_attempt <= ? ORDER BY created, rowid",
            (now,),
        )
        return [_outbox_row(row) for row in rows]

    def next_due(self) -> float | None:
        """When the earliest pending row becomes due, or None when nothing is pending."""
        row = self.db.execute(
            "SELECT MIN(next_attempt) FROM outbox WHERE status = 'pending'"
        ).fetchone()
        return row[0]

    def sent_since(self, since: float) -> int:
        """Replies handed to SMTP (sent, or in doubt) since a time: the per-hour budget used."""
        row = self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE (status = 'sent' AND sent_at >= ?) "
            "OR (status = 'sending' AND sending_since >= ?)",
            (since, since),
        ).fetchone()
        return row[0]

    def begin_send(self, message_id: str, now: float) -> bool:
        """Mark a pending row `sending` (committed) just before the SMTP transaction starts;
        False when it is no longer pending (another bot process on the same state took it)."""
        with self.transaction("begin-send-uncommitted"):
            cur = self.db.execute(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, "
                "sending_since = ? WHERE message_id = ? AND status = 'pending'",
                (now, message_id),
            )
        return cur.rowcount == 1

    def mark_sent(self, message_id: str, now: float, note: str = "") -> None:
        """Mark a row sent: the server accepted it (or its copy came back through the list)."""
        with self.transaction("mark-sent-uncommitted"):
            self.db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, last_error = ? "
                "WHERE message_id = ?",
                (now, note or None, message_id),
            )

    def mark_retry(self, message_id: str, next_attempt: float, error: str) -> None:
        """Put a row back to pending after a failed attempt."""
        with self.transaction("mark-retry-uncommitted"):
            self.db.execute(
                "UPDATE outbox SET status = 'pending', next_attempt = ?, last_error = ? "
                "WHERE message_id = ?",
                (next_attempt, error, message_id),
            )

    def mark_failed(self, message_id: str, error: str) -> None:
        """Give up on a row (permanent SMTP error, or too many attempts)."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'failed', last_error = ? WHERE message_id = ?",
                (error, message_id),
            )


def _outbox_row(row: tuple) -> OutboxRow:
    values = list(row)
    values[3] = json.loads(values[3])
    return OutboxRow(*values)
