"""The scan's memory of what it reviewed: one row per index group, in the index's SQLite file.

A re-run reviews only the groups that changed (new mail joined them) since their row was
written; the others keep their entries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scan_results (
    group_id INTEGER PRIMARY KEY,
    generation INTEGER NOT NULL,
    html INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    entries TEXT NOT NULL
);
"""


class ScanResults:
    """Index entries per group of the series index, with the generation they were made in."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.executescript(_SCHEMA)

    def fresh(self, group_id: int, changed: int, html: bool) -> bool:
        """True when the group was reviewed (without error) after it last changed."""
        row = self.db.execute(
            "SELECT generation, html, failed FROM scan_results WHERE group_id = ?", (group_id,)
        ).fetchone()
        if row is None:
            return False
        generation, had_html, failed = row
        return generation >= changed and not failed and (had_html or not html)

    def save(self, group_id: int, generation: int, entries: list[dict], html: bool) -> None:
        """Record a group's entries (replacing older ones)."""
        failed = any(e.get("error") for e in entries)
        self.db.execute(
            "INSERT OR REPLACE INTO scan_results(group_id, generation, html, failed, entries) "
            "VALUES (?, ?, ?, ?, ?)",
            (group_id, generation, int(html), int(failed), json.dumps(entries, ensure_ascii=False)),
        )

    def entries(self, group_ids: Sequence[int]) -> list[dict]:
        """The entries of these groups, in the order given."""
        out: list[dict] = []
        for group_id in group_ids:
            row = self.db.execute(
                "SELECT entries FROM scan_results WHERE group_id = ?", (group_id,)
            ).fetchone()
            if row is not None:
                out.extend(json.loads(row[0]))
        return out
