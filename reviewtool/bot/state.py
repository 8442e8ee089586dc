"""The bot's memory: one SQLite file (WAL) with the series index, decisions and an outbox.

The mail the bot has read lives in the series index (`series.index`, tables `messages`,
`links`, `groups`) inside this same file: one store, not two. The index groups mail as it
arrives; the bot reads a group's covers and patches back and lets the series assembler say
which revisions it holds, so the bot has no threading rules of its own.

Exactly-once rests on these rules:
- a message and the source cursor that passes it are committed in one transaction, so a
  crash re-reads at most what was not committed and Message-IDs drop the rest;
- a review is recorded as begun (committed) before it runs, and that record goes with its
  decision: a revision whose review killed the process is known at the next start, and after
  a second death it is decided `failed` instead of killing the bot at every restart;
- a decision and its reply (in the outbox) are committed in one transaction, before any send,
  together with the Message-IDs of the revision it answers: mail that joins the revision
  later is attached to that decision, never answered again;
- a reply is marked `sending` before the SMTP transaction and `sent` after the server accepts
  it. A row found `sending` after a restart is in doubt: if its Message-ID has come back
  through the list it was delivered, otherwise it is sent again with the same Message-ID.
- a reply whose body went out without an answer from the server is `unknown`: it may have
  been delivered, so it is never sent again on its own; its copy on the list marks it `sent`,
  and `reviewtool bot --requeue` hands it (or a `failed` one) back to the queue.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.errors import InputError
from reviewtool.mail import parse_mail
from reviewtool.series.assemble import assemble
from reviewtool.series.index import IndexedMessage, SeriesIndex
from reviewtool.series.model import Revision
from reviewtool.series.summary import MessageSummary
from reviewtool.sources.spans import PLACE_FILE, Place

SCHEMA_VERSION = 2
# How long a writer waits for another process holding the database before giving up.
BUSY_TIMEOUT_SECONDS = 30.0

KINDS = ("cover", "patch", "reply", "other", "own", "rejected")
OUTBOX_STATES = ("pending", "sending", "sent", "failed", "unknown")
# Where a pause of the outbox after an SMTP outage is kept (the key/value table).
PAUSE_UNTIL_META = "smtp_paused_until"
PAUSE_REASON_META = "smtp_pause_reason"
OUTAGES_META = "smtp_outages_in_a_row"
# Replies an operator may put back in the queue with `reviewtool bot --requeue`.
REQUEUEABLE_STATES = ("failed", "unknown")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (source TEXT NOT NULL, name TEXT NOT NULL,
                                  PRIMARY KEY (source, name));
CREATE TABLE IF NOT EXISTS decisions (
    revision_key TEXT PRIMARY KEY,
    decided REAL NOT NULL,
    outcome TEXT NOT NULL,
    reply_id TEXT,
    note TEXT
);
CREATE TABLE IF NOT EXISTS decided_messages (
    message_id TEXT PRIMARY KEY,
    revision_key TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS waiting (group_id INTEGER PRIMARY KEY);
-- Reviews begun and not yet decided: a process that dies while reviewing leaves its row.
CREATE TABLE IF NOT EXISTS reviews (
    revision_key TEXT PRIMARY KEY,
    attempts INTEGER NOT NULL,
    started REAL NOT NULL
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
-- What the bot has read, as earlier versions of this file called it.
CREATE VIEW IF NOT EXISTS seen AS
    SELECT message_id, kind, received, sent, place_source AS location FROM messages;
"""


@dataclass(frozen=True)
class Ingested:
    """One message read by a watcher: its index summary and bytes, or why it is unreadable."""

    kind: str  # cover, patch, reply, other, own or rejected
    location: str
    received: float
    summary: MessageSummary | None = None
    data: bytes | None = None  # kept for covers and patches: what a review reads later
    reason: str = ""  # why a rejected message could not be read

    @property
    def message_id(self) -> str:
        return self.summary.message_id if self.summary is not None else ""


@dataclass(frozen=True)
class SeenMessage:
    """A stored message as a review reads it: its bytes and where they came from."""

    message_id: str
    kind: str
    location: str
    data: bytes | None
    received: float | None = None
    sent: float | None = None  # the Date header, as a timestamp


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
    """A revision (as the series assembler sees its group) with mail but no decision yet."""

    key: str  # the Message-ID of its cover, else of its first patch: names the decision
    label: str  # v8, v7.1
    first_seen: float
    has_cover: bool
    total: int | None
    indices: frozenset[int]
    sent: float | None = None  # the latest Date header among its mails
    point: bool = False  # a point revision (`v7.1`) rerolls only the patches it carries
    members: tuple[SeenMessage, ...] = ()  # its cover and patches
    history: tuple[SeenMessage, ...] = field(default=(), repr=False)  # the rest of its group

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
        _refuse_foreign_file(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed "sending"/"sent" must survive a power cut, not just a crash.
            self.db.execute("PRAGMA synchronous=FULL")
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master")}
            if tables and "meta" not in tables:
                self.db.close()
                raise InputError(
                    f"{self.path}: a SQLite database of something else, not a bot state file"
                )
            self.db.executescript(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable bot state file: {exc}") from None
        except OSError as exc:
            raise InputError(f"{self.path}: cannot open state file: {exc.strerror}") from None
        version = self.get_meta("schema_version")
        if version is not None and version != str(SCHEMA_VERSION):
            raise InputError(
                f"{self.path}: state schema {version}, expected {SCHEMA_VERSION} "
                "(a state file of an older reviewtool: start with a new --state file; the "
                "bot's own replies on the list keep it from answering a series twice)"
            )
        try:
            self.db.executescript(_SCHEMA)
            self.index = SeriesIndex(self.db)
        except (sqlite3.DatabaseError, InputError) as exc:
            raise InputError(f"{self.path}: not a usable bot state file: {exc}") from None
        if version is None:
            self.set_meta("schema_version", str(SCHEMA_VERSION))

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

    # mail, through the series index

    def has_message(self, message_id: str) -> bool:
        """True when a message with this Message-ID was read before."""
        return self.index.has(message_id)

    def record_batch(
        self,
        source: str,
        messages: Iterable[Ingested],
        cursor: str | None = None,
        files: Iterable[str] = (),
    ) -> int:
        """Index messages and move the source's cursor in one transaction; returns how many
        were new."""
        added = 0
        with self.transaction("ingest-uncommitted"):
            for msg in messages:
                if msg.summary is None:
                    reason = msg.reason or "unreadable"
                    # A damaged source gives the same unreadable piece at each poll until it
                    # is repaired: accounted once.
                    if not self._rejected_before(msg.location, reason):
                        self.index.reject(msg.location, reason)
                        added += 1
                    continue
                summary = replace(msg.summary, kind=msg.kind)
                place = Place(PLACE_FILE, msg.location)
                if self.index.add(summary, place, data=msg.data, received=msg.received):
                    added += 1
                    group = self.index.group_of(summary.message_id)
                    self.db.execute("INSERT OR IGNORE INTO waiting(group_id) VALUES (?)", (group,))
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

    def _rejected_before(self, location: str, reason: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM rejected WHERE place = ? AND reason = ? LIMIT 1", (location, reason)
        ).fetchone()
        return row is not None

    def counts(self) -> dict[str, int]:
        """How many messages of each kind were read (`rejected` when there were any)."""
        counts = self.index.counts()
        rejected = counts.pop("rejected", 0)
        counts.pop("groups", None)
        if rejected:
            counts["rejected"] = rejected
        return counts

    def pending_revisions(self) -> list[PendingRevision]:
        """Revisions that have mail and no decision, oldest first.

        Only groups that gained mail since all their revisions were decided are assembled.
        A revision some of whose mail was already answered is that decision's, never a new
        one: its newcomers are attached to it here."""
        out: list[PendingRevision] = []
        for (group_id,) in list(self.db.execute("SELECT group_id FROM waiting")):
            members = self.index.members(group_id)
            pending = self._group_revisions(members) if members else []
            if not pending:
                with self.transaction():
                    self.db.execute("DELETE FROM waiting WHERE group_id = ?", (group_id,))
            out.extend(pending)
        return sorted(out, key=lambda p: (p.first_seen, p.key))

    def _group_revisions(self, members: Sequence[IndexedMessage]) -> list[PendingRevision]:
        rows = {m.message_id: _seen(m) for m in members}
        mails = []
        for member in members:
            if member.data and member.kind in ("cover", "patch"):
                try:
                    mails.append(parse_mail(member.data, member.place.source))
                except Exception:  # noqa: BLE001 - it parsed at ingest; a failure now drops it
                    continue
        collection = assemble(mails)
        out = []
        for series in collection.series:
            for revision in series.revisions:
                ids = _revision_ids(revision)
                if not ids:
                    continue
                decided = self._decided_key(ids)
                if decided is not None:
                    self._attach(ids, decided)
                    continue
                own = tuple(rows[i] for i in ids if i in rows)
                others = tuple(r for i, r in rows.items() if i not in ids and r.data)
                out.append(_pending(revision, ids, own, others))
        return out

    def _decided_key(self, ids: Sequence[str]) -> str | None:
        marks = ",".join("?" * len(ids))
        row = self.db.execute(
            f"SELECT revision_key FROM decided_messages WHERE message_id IN ({marks}) LIMIT 1",
            tuple(ids),
        ).fetchone()
        return row[0] if row else None

    def _attach(self, ids: Sequence[str], key: str) -> None:
        """Mail that joined an answered revision late belongs to that decision."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO decided_messages(message_id, revision_key) VALUES (?, ?)",
                [(i, key) for i in ids],
            )

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

    def begin_review(self, key: str, now: float) -> int:
        """Record (committed) that the review of a revision starts; how many times it has
        started, this one included."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO reviews(revision_key, attempts, started) VALUES (?, 1, ?) "
                "ON CONFLICT(revision_key) DO UPDATE SET attempts = attempts + 1, started = ?",
                (key, now, now),
            )
            row = self.db.execute(
                "SELECT attempts FROM reviews WHERE revision_key = ?", (key,)
            ).fetchone()
        return int(row[0])

    def review_attempts(self, key: str) -> int:
        """Reviews of a revision begun and never decided: each one ended the process."""
        row = self.db.execute(
            "SELECT attempts FROM reviews WHERE revision_key = ?", (key,)
        ).fetchone()
        return int(row[0]) if row else 0

    def decide(
        self,
        key: str,
        outcome: str,
        note: str = "",
        reply: tuple[str, str, list[str], bytes] | None = None,
        now: float | None = None,
        members: Sequence[str] = (),
    ) -> bool:
        """Record a decision on the revision of `members` and, with it, the reply to send;
        False when already decided."""
        now = time.time() if now is None else now
        with self.transaction("decide-uncommitted"):
            cur = self.db.execute(
                "INSERT OR IGNORE INTO decisions(revision_key, decided, outcome, reply_id, note) "
                "VALUES (?,?,?,?,?)",
                (key, now, outcome, reply[0] if reply else None, note),
            )
            if cur.rowcount == 0:
                return False
            self.db.execute("DELETE FROM reviews WHERE revision_key = ?", (key,))
            self.db.executemany(
                "INSERT OR IGNORE INTO decided_messages(message_id, revision_key) VALUES (?, ?)",
                [(message_id, key) for message_id in (*members, key)],
            )
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

    def mark_unknown(self, message_id: str, error: str) -> None:
        """The body went out and no answer came: perhaps delivered, never resent on its own."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'unknown', last_error = ? WHERE message_id = ?",
                (error, message_id),
            )

    def release(self, message_id: str, next_attempt: float, error: str) -> None:
        """Back from `sending` to pending without charging the reply an attempt: the server
        was at fault (an outage), not the message."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'pending', attempts = MAX(attempts - 1, 0), "
                "next_attempt = ?, last_error = ? WHERE message_id = ? AND status = 'sending'",
                (next_attempt, error, message_id),
            )

    def pause(self, until: float, reason: str) -> int:
        """Hold the whole outbox back until `until` (an SMTP outage); the outages in a row."""
        with self.transaction():
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", (OUTAGES_META,))
            found = row.fetchone()
            outages = int(found[0]) + 1 if found else 1
            for key, value in (
                (OUTAGES_META, str(outages)),
                (PAUSE_UNTIL_META, repr(until)),
                (PAUSE_REASON_META, reason),
            ):
                self.db.execute(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value)
                )
        return outages

    def outages_in_a_row(self) -> int:
        """SMTP outages since the last reply that went through."""
        return int(self.get_meta(OUTAGES_META) or "0")

    def paused(self) -> tuple[float, str] | None:
        """(until, reason) while the outbox is held back after an outage, else None."""
        until = self.get_meta(PAUSE_UNTIL_META)
        return (float(until), self.get_meta(PAUSE_REASON_META) or "") if until else None

    def resume(self) -> None:
        """A reply went through: the outage is over."""
        with self.transaction():
            self.db.execute(
                "DELETE FROM meta WHERE key IN (?, ?, ?)",
                (PAUSE_UNTIL_META, PAUSE_REASON_META, OUTAGES_META),
            )

    def requeue(self, message_ids: Iterable[str] = ()) -> list[str]:
        """Put `failed` and `unknown` replies (all, or the named ones) back in the queue with
        a fresh attempt count, due at the next run; the Message-IDs requeued."""
        wanted = [m.strip().strip("<>") for m in message_ids]
        when = 0.0
        states = ",".join("?" * len(REQUEUEABLE_STATES))
        with self.transaction():
            rows = self.db.execute(
                f"SELECT message_id FROM outbox WHERE status IN ({states}) ORDER BY created, rowid",
                REQUEUEABLE_STATES,
            ).fetchall()
            chosen = [r[0] for r in rows if not wanted or r[0] in wanted]
            # The operator says "try now": a pause after an outage ends with it.
            self.db.execute("DELETE FROM meta WHERE key = ?", (PAUSE_UNTIL_META,))
            for message_id in chosen:
                self.db.execute(
                    "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt = ? "
                    "WHERE message_id = ?",
                    (when, message_id),
                )
        return chosen


def _refuse_foreign_file(path: Path) -> None:
    """A state file that exists but is not a SQLite database (an empty file, a truncated copy,
    something else) stops the bot: taking it as a fresh start would answer everything again."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a bot state file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open state file: {exc.strerror}") from None
    if head != b"SQLite format 3\x00":
        what = "is empty" if not head else "is not a SQLite database"
        raise InputError(
            f"{path}: {what}, so it is not a bot state file; the bot stops rather than "
            "answer every series again (restore the file, or remove it to start afresh)"
        )


def _outbox_row(row: tuple) -> OutboxRow:
    values = list(row)
    values[3] = json.loads(values[3])
    return OutboxRow(*values)


def _seen(member: IndexedMessage) -> SeenMessage:
    return SeenMessage(
        member.message_id,
        member.kind,
        member.place.source,
        member.data,
        member.received,
        member.sent,
    )


def _revision_ids(revision: Revision) -> list[str]:
    """The cover (first) and patch Message-IDs of a revision."""
    ids = [revision.cover.message_id] if revision.cover is not None else []
    return ids + [patch.message_id for patch in revision.patches]


def _pending(
    revision: Revision,
    ids: list[str],
    own: tuple[SeenMessage, ...],
    others: tuple[SeenMessage, ...],
) -> PendingRevision:
    received = [r.received for r in own if r.received is not None]
    sent = [r.sent for r in own if r.sent is not None]
    return PendingRevision(
        key=ids[0],
        label=revision.label,
        first_seen=min(received) if received else 0.0,
        has_cover=revision.cover is not None,
        total=revision.total,
        indices=frozenset(p.index for p in revision.patches),
        sent=max(sent) if sent else None,
        point=revision.point is not None,
        members=own,
        history=others,
    )
