"""The series index: every message's summary and place in SQLite, grouped incrementally.

One SQLite file holds, per message, what `series.summary` keeps (headers, trailers, diff
summary) and where its bytes live (mbox offset and length, public-inbox blob id, a file, or
the bytes themselves for sources that do not keep them). Messages are grouped as they
arrive, by union-find over link keys, so adding mail never re-reads the archive and never
walks what is already indexed:

- thread: a message is linked to itself and to every Message-ID it answers;
- change-id: b4's `change-id:` trailer;
- title: covers and patches of one author with the same normalised title (a v2 with the
  same patch titles as v1, whatever thread it was sent in);
- stitch: a patch sent without threading joins its author's mail of the same version and
  count sent within `STITCH_SECONDS` (git send-email --no-thread).

A group holds one piece of work and everything said about it; the series assembler
(`series.assemble`) turns a group's messages into Series -> Revision -> Patch, so there is
one threading rule set, applied to a few messages at a time. Groups are coarse on purpose:
the assembler splits what the keys joined too eagerly, never the other way round.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from reviewtool.errors import InputError
from reviewtool.series.assemble import STITCH_SECONDS
from reviewtool.series.summary import MessageSummary
from reviewtool.sources.spans import Place

INDEX_SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 30.0

# Link kinds (the `kind` column of `links`).
LINK_THREAD = "thread"
LINK_CHANGE = "change-id"
LINK_TITLE = "title"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    message_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    version INTEGER NOT NULL,
    point INTEGER,
    idx INTEGER,
    total INTEGER,
    author_email TEXT NOT NULL,
    author TEXT NOT NULL,
    sent REAL,
    threaded INTEGER NOT NULL,
    parents TEXT NOT NULL,
    change_id TEXT,
    base_commit TEXT,
    trailers TEXT NOT NULL,
    files TEXT NOT NULL,
    added INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    list_changes INTEGER NOT NULL,
    place_kind TEXT NOT NULL,
    place_source TEXT NOT NULL,
    place_offset INTEGER NOT NULL DEFAULT 0,
    place_length INTEGER NOT NULL DEFAULT 0,
    place_blob TEXT NOT NULL DEFAULT '',
    data BLOB,
    received REAL,
    group_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_group ON messages(group_id);
CREATE INDEX IF NOT EXISTS messages_stitch ON messages(author_email, version, total, sent);
CREATE TABLE IF NOT EXISTS touches (name TEXT NOT NULL, message_id TEXT NOT NULL,
                                    PRIMARY KEY (name, message_id));
CREATE TABLE IF NOT EXISTS links (kind TEXT NOT NULL, key TEXT NOT NULL,
                                  group_id INTEGER NOT NULL, PRIMARY KEY (kind, key));
CREATE INDEX IF NOT EXISTS links_group ON links(group_id);
CREATE TABLE IF NOT EXISTS groups (
    id INTEGER PRIMARY KEY,
    size INTEGER NOT NULL DEFAULT 0,
    patches INTEGER NOT NULL DEFAULT 0,
    first_sent REAL,
    last_sent REAL,
    changed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS rejected (place TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursors (source TEXT PRIMARY KEY, position TEXT NOT NULL);
"""

_MESSAGE_COLUMNS = (
    "message_id, kind, subject, title, version, point, idx, total, author_email, author, sent, "
    "threaded, parents, change_id, base_commit, trailers, files, added, removed, list_changes, "
    "place_kind, place_source, place_offset, place_length, place_blob, data, received, group_id"
)


@dataclass(frozen=True)
class GroupInfo:
    """One group of the index: its id, size, patch count, first and last Date, generation."""

    group_id: int
    size: int
    patches: int
    first_sent: float | None
    last_sent: float | None
    changed: int


@dataclass(frozen=True)
class IndexedMessage:
    """One stored message: kind, counters, author, Date, place and (when kept) its bytes."""

    message_id: str
    kind: str
    version: int
    point: int | None
    index: int | None
    total: int | None
    author_email: str
    title: str
    sent: float | None
    place: Place
    data: bytes | None
    received: float | None
    group_id: int


class SeriesIndex:
    """The SQLite series index; pass a path, or the connection of a store that shares it."""

    def __init__(self, target: str | Path | sqlite3.Connection) -> None:
        if isinstance(target, sqlite3.Connection):
            self.db = target
            self._own = False
        else:
            path = Path(target)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(
                    str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
                )
                self.db.execute("PRAGMA journal_mode=WAL")
                # An index can be rebuilt from its archives: a crash may lose the last batch.
                self.db.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.DatabaseError as exc:
                raise InputError(f"{path}: not a usable series index: {exc}") from None
            except OSError as exc:
                raise InputError(f"{path}: cannot open series index: {exc.strerror}") from None
            self._own = True
        try:
            self.db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"not a usable series index: {exc}") from None
        version = self._meta("schema_version")
        if version is None:
            with self.transaction():
                self._set_meta("schema_version", str(INDEX_SCHEMA_VERSION))
        elif version != str(INDEX_SCHEMA_VERSION):
            raise InputError(
                f"series index schema {version}, expected {INDEX_SCHEMA_VERSION}: "
                "remove the index file to rebuild it"
            )

    def close(self) -> None:
        """Close the database when this object opened it."""
        if self._own:
            self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or nothing when the caller already holds a transaction."""
        if self.db.in_transaction:
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM index_meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO index_meta(key, value) VALUES (?, ?)", (key, value))

    # -- cursors ----------------------------------------------------------------------
    def cursors(self) -> dict[str, str]:
        """Where reading stopped, per source (an mbox byte offset, an epoch's last commit)."""
        return dict(self.db.execute("SELECT source, position FROM cursors"))

    def set_cursor(self, source: str, position: str) -> None:
        """Record how far a source has been read (inside the batch's transaction, if any)."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO cursors(source, position) VALUES (?, ?)", (source, position)
            )

    # -- adding -----------------------------------------------------------------------
    def generation(self) -> int:
        """A counter that every batch of additions moves on; groups remember the last one."""
        return int(self._meta("generation") or 0)

    def begin_generation(self) -> int:
        """Start a new generation (one scan or one bot cycle) and return it."""
        with self.transaction():
            value = self.generation() + 1
            self._set_meta("generation", str(value))
        return value

    def has(self, message_id: str) -> bool:
        """True when the Message-ID is indexed."""
        row = self.db.execute("SELECT 1 FROM messages WHERE message_id = ?", (message_id,))
        return row.fetchone() is not None

    def add(
        self,
        summary: MessageSummary,
        place: Place,
        data: bytes | None = None,
        received: float | None = None,
    ) -> bool:
        """Index one message and link it into its group; False when its Message-ID is known."""
        with self.transaction():
            if self.has(summary.message_id):
                return False
            generation = self.generation()
            group = self._new_group(summary, generation)
            self.db.execute(
                f"INSERT INTO messages({_MESSAGE_COLUMNS}) VALUES ({','.join('?' * 28)})",
                (
                    summary.message_id,
                    summary.kind,
                    summary.subject,
                    summary.title,
                    summary.version,
                    summary.point,
                    summary.index,
                    summary.total,
                    summary.author_email,
                    summary.author,
                    summary.sent,
                    1 if summary.parents else 0,
                    json.dumps(list(summary.parents)),
                    summary.change_id,
                    summary.base_commit,
                    json.dumps([list(t) for t in summary.trailers], ensure_ascii=False),
                    json.dumps(list(summary.files), ensure_ascii=False),
                    summary.added,
                    summary.removed,
                    summary.list_changes,
                    place.kind,
                    place.source,
                    place.offset,
                    place.length,
                    place.blob,
                    data,
                    received,
                    group,
                ),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO touches(name, message_id) VALUES (?, ?)",
                [(name, summary.message_id) for name in (*summary.files, *summary.names)],
            )
            for kind, key in _link_keys(summary):
                group = self._link(kind, key, group, generation)
            if summary.kind in ("cover", "patch") and (summary.total or 1) > 1:
                for other in self._stitch_candidates(summary):
                    group = self._union(group, other, generation)
        return True

    def reject(self, where: str, reason: str) -> None:
        """Account for a piece of input that is not a readable message."""
        with self.transaction():
            self.db.execute("INSERT INTO rejected(place, reason) VALUES (?, ?)", (where, reason))

    def _new_group(self, summary: MessageSummary, generation: int) -> int:
        patches = 1 if summary.kind == "patch" else 0
        cur = self.db.execute(
            "INSERT INTO groups(size, patches, first_sent, last_sent, changed) "
            "VALUES (1, ?, ?, ?, ?)",
            (patches, summary.sent, summary.sent, generation),
        )
        return int(cur.lastrowid or 0)

    def _link(self, kind: str, key: str, group: int, generation: int) -> int:
        row = self.db.execute(
            "SELECT group_id FROM links WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        if row is None:
            self.db.execute(
                "INSERT INTO links(kind, key, group_id) VALUES (?, ?, ?)", (kind, key, group)
            )
            return group
        return self._union(group, int(row[0]), generation)

    def _stitch_candidates(self, summary: MessageSummary) -> list[int]:
        """Groups of the author's covers and patches of this version and count sent about then,
        when either side arrived without threading."""
        if summary.sent is None:
            return []
        rows = self.db.execute(
            "SELECT group_id, threaded, sent FROM messages WHERE author_email = ? AND version = ? "
            "AND total = ? AND sent BETWEEN ? AND ? AND point IS ? AND kind IN ('cover', 'patch') "
            "AND message_id != ?",
            (
                summary.author_email,
                summary.version,
                summary.total,
                summary.sent - STITCH_SECONDS,
                summary.sent + STITCH_SECONDS,
                summary.point,
                summary.message_id,
            ),
        )
        near = sorted(
            (abs(sent - summary.sent), group)
            for group, threaded, sent in rows
            if not summary.parents or not threaded
        )
        return [near[0][1]] if near else []

    def _union(self, a: int, b: int, generation: int) -> int:
        """Merge two groups (the smaller into the larger); the surviving id."""
        if a == b:
            return a
        rows = {
            gid: (size, patches, first, last)
            for gid, size, patches, first, last in self.db.execute(
                "SELECT id, size, patches, first_sent, last_sent FROM groups WHERE id IN (?, ?)",
                (a, b),
            )
        }
        keep, drop = (a, b) if (rows[a][0], -a) >= (rows[b][0], -b) else (b, a)
        sk, pk, fk, lk = rows[keep]
        sd, pd, fd, ld = rows[drop]
        firsts = [t for t in (fk, fd) if t is not None]
        lasts = [t for t in (lk, ld) if t is not None]
        self.db.execute(
            "UPDATE groups SET size = ?, patches = ?, first_sent = ?, last_sent = ?, changed = ? "
            "WHERE id = ?",
            (
                sk + sd,
                pk + pd,
                min(firsts) if firsts else None,
                max(lasts) if lasts else None,
                generation,
                keep,
            ),
        )
        self.db.execute("UPDATE messages SET group_id = ? WHERE group_id = ?", (keep, drop))
        self.db.execute("UPDATE links SET group_id = ? WHERE group_id = ?", (keep, drop))
        self.db.execute("DELETE FROM groups WHERE id = ?", (drop,))
        return keep

    # -- reading ----------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        """Indexed messages per kind, plus `rejected` and `groups`."""
        out = {
            kind: n
            for kind, n in self.db.execute("SELECT kind, COUNT(*) FROM messages GROUP BY kind")
        }
        out["rejected"] = self.db.execute("SELECT COUNT(*) FROM rejected").fetchone()[0]
        out["groups"] = self.db.execute("SELECT COUNT(*) FROM groups").fetchone()[0]
        return out

    def rejected(self) -> list[tuple[str, str]]:
        """(place, reason) of every piece of input that was not a readable message."""
        return list(self.db.execute("SELECT place, reason FROM rejected ORDER BY rowid"))

    def groups(
        self,
        touching: Sequence[str] = (),
        since: float | None = None,
        changed_after: int | None = None,
    ) -> list[GroupInfo]:
        """Groups that hold patches, oldest first; optionally only those with a patch touching
        one of the names or files (shell patterns: `kvm_release_pfn_*`, `virt/kvm/*`), with
        mail sent on or after `since`, or changed after a generation."""
        where = ["g.patches > 0"]
        params: list[object] = []
        if since is not None:
            where.append("g.last_sent >= ?")
            params.append(since)
        if changed_after is not None:
            where.append("g.changed > ?")
            params.append(changed_after)
        if touching:
            tests = []
            for pattern in touching:
                # A file named by its last components (`mmu.c`, `kvm/mmu.c`) matches too.
                tests.append("(t.name GLOB ? OR t.name GLOB ?)")
                params.extend([pattern, f"*/{pattern}"])
            where.append(
                "EXISTS (SELECT 1 FROM touches t JOIN messages m ON m.message_id = t.message_id "
                f"WHERE m.group_id = g.id AND m.kind = 'patch' AND ({' OR '.join(tests)}))"
            )
        rows = self.db.execute(
            "SELECT g.id, g.size, g.patches, g.first_sent, g.last_sent, g.changed FROM groups g "
            f"WHERE {' AND '.join(where)} ORDER BY g.first_sent IS NULL, g.first_sent, g.id",
            params,
        )
        return [GroupInfo(*row) for row in rows]

    def members(self, group_id: int) -> list[IndexedMessage]:
        """The messages of one group, in the order they were indexed."""
        return self._select("WHERE group_id = ? ORDER BY rowid", (group_id,))

    def message(self, message_id: str) -> IndexedMessage | None:
        """One indexed message, or None."""
        found = self._select("WHERE message_id = ?", (message_id,))
        return found[0] if found else None

    def group_of(self, message_id: str) -> int | None:
        """The group a message belongs to, or None when it is not indexed."""
        row = self.db.execute(
            "SELECT group_id FROM messages WHERE message_id = ?", (message_id,)
        ).fetchone()
        return int(row[0]) if row else None

    def _select(self, where: str, params: tuple) -> list[IndexedMessage]:
        rows = self.db.execute(
            "SELECT message_id, kind, version, point, idx, total, author_email, title, sent, "
            "place_kind, place_source, place_offset, place_length, place_blob, data, received, "
            f"group_id FROM messages {where}",
            params,
        )
        out = []
        for row in rows:
            place = Place(row[9], row[10], row[11], row[12], row[13])
            out.append(IndexedMessage(*row[:9], place, row[14], row[15], row[16]))
        return out


def _link_keys(summary: MessageSummary) -> Iterable[tuple[str, str]]:
    """The link keys of one message (see the module doc)."""
    yield LINK_THREAD, summary.message_id
    for parent in summary.parents:
        yield LINK_THREAD, parent
    if summary.change_id:
        yield LINK_CHANGE, summary.change_id
    if summary.kind in ("cover", "patch") and summary.title:
        # The sender and the in-body author both count: a series taken over by a colleague
        # keeps the original author's From: lines (as `series.assemble` links it too).
        for author in _authors(summary):
            key = [author, summary.kind, summary.title]
            yield LINK_TITLE, json.dumps(key, ensure_ascii=False)


def _authors(summary: MessageSummary) -> list[str]:
    found = [summary.author_email]
    start, end = summary.author.rfind("<"), summary.author.rfind(">")
    if 0 <= start < end:
        found.append(summary.author[start + 1 : end].strip().lower())
    return [a for a in dict.fromkeys(found) if a]
