"""The migration map's model: call sites, files, argument mappings, leftovers, candidates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.diff import (
    area_sort_key,
)

# Auto-detection: an old API must lose calls in at least this many files.
MIN_CANDIDATE_FILES = 2
# Flags whose names carry the API's option bits (`FOLL_WRITE`, `FOLL_NOWAIT`).
FLAG_RE = re.compile(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b")
LITERAL_TRUE = frozenset({"true", "1"})
LITERAL_FALSE = frozenset({"false", "0", "NULL"})
COVER_PATH = "cover letter"

STATUS_MIGRATED = "migrated"
STATUS_PARTIAL = "partial"
STATUS_UNTOUCHED = "untouched"
STATUS_LEFTOVER = "leftover"


@dataclass
class Site:
    """One call site: the function it sits in and its line.

    The line is the real file's: in tree mode the base for a removed call and the end of the
    revision for a remaining or added one; from hunks alone, the pre- or post-image of the
    patch that removed or added it.
    """

    function: str | None
    line: int
    patch: int | None = None
    args: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """`{"function", "line", "patch"}`."""
        return {"function": self.function, "line": self.line, "patch": self.patch}


@dataclass
class FileMigration:
    """One file of one revision: old calls removed and remaining, new calls added."""

    path: str
    area: str
    status: str = STATUS_UNTOUCHED
    old_removed: list[Site] = field(default_factory=list)
    old_remaining: list[Site] = field(default_factory=list)
    new_added: list[Site] = field(default_factory=list)
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    declarations_changed: bool = False

    def to_json(self) -> dict:
        """The issue's file object, plus `partial` and `notes`."""
        return {
            "path": self.path,
            "area": self.area,
            "status": self.status,
            "old_removed": [s.to_json() for s in self.old_removed],
            "old_remaining": [s.to_json() for s in self.old_remaining],
            "new_added": [s.to_json() for s in self.new_added],
            "partial": self.partial,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class ArgumentMapping:
    """Where one positional argument of the old API went in the new one, and why we think so."""

    old_arg: str
    new: str
    evidence: str

    def to_json(self) -> dict:
        return {"old_arg": self.old_arg, "new": self.new, "evidence": self.evidence}


@dataclass(frozen=True)
class Leftover:
    """A mention of the old API after its definition was removed: declaration, comment, doc."""

    path: str
    line: int
    kind: str  # declaration, comment, doc, macro, cover, reference
    text: str = ""

    def to_json(self) -> dict:
        return {"path": self.path, "line": self.line, "kind": self.kind}


@dataclass
class RevisionMigration:
    """The map of one revision."""

    version: str
    files: list[FileMigration] = field(default_factory=list)
    argument_map: list[ArgumentMapping] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    mode: str = "hunks"  # "tree" (whole files from the repository) or "hunks" (the patch alone)
    definition_removed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def partial(self) -> bool:
        return self.mode != "tree"

    def file(self, path: str) -> FileMigration | None:
        return next((f for f in self.files if f.path == path), None)

    def area_status(self) -> dict[str, str]:
        """Per area: migrated, partial or untouched (leftover counts as migrated here)."""
        by_area: dict[str, list[str]] = {}
        for entry in self.files:
            if entry.old_removed or entry.old_remaining:
                by_area.setdefault(entry.area, []).append(entry.status)
        out = {}
        for area, statuses in by_area.items():
            done = {STATUS_MIGRATED, STATUS_LEFTOVER}
            if all(s in done for s in statuses):
                out[area] = STATUS_MIGRATED
            elif all(s == STATUS_UNTOUCHED for s in statuses):
                out[area] = STATUS_UNTOUCHED
            else:
                out[area] = STATUS_PARTIAL
        return out

    def to_json(self) -> dict:
        """The issue's revision object, plus `mode`, `partial`, `definition_removed`, `notes`."""
        return {
            "version": self.version,
            "files": [f.to_json() for f in self.files],
            "argument_map": [a.to_json() for a in self.argument_map],
            "leftovers": [leftover.to_json() for leftover in self.leftovers],
            "mode": self.mode,
            "partial": self.partial,
            "definition_removed": self.definition_removed,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class Candidate:
    """A replaced API found without --old/--new: calls of old vanish where new appear."""

    old: str
    new: str | None
    files: tuple[str, ...]
    functions: int
    definition_removed: bool

    @property
    def score(self) -> tuple[int, int, int]:
        return (self.functions, len(self.files), int(self.definition_removed))

    def to_json(self) -> dict:
        return {
            "old": self.old,
            "new": self.new,
            "files": list(self.files),
            "functions": self.functions,
            "definition_removed": self.definition_removed,
        }


@dataclass
class MigrationMap:
    """Call sites of an old and a new API across the revisions of a series."""

    old: str
    new: str
    revisions: list[RevisionMigration] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def area_table(self) -> dict[str, dict[str, str]]:
        """area -> version -> status, for every area that ever held an old call."""
        table: dict[str, dict[str, str]] = {}
        for revision in self.revisions:
            for area, status in revision.area_status().items():
                table.setdefault(area, {})[revision.version] = status
        return {area: table[area] for area in sorted(table, key=area_sort_key)}

    def to_json(self) -> dict:
        """`{"old", "new", "revisions": [...]}` as the issue gives, plus areas and candidates."""
        return {
            "old": self.old,
            "new": self.new,
            "revisions": [r.to_json() for r in self.revisions],
            "areas": self.area_table(),
            "candidates": [c.to_json() for c in self.candidates],
            "notes": list(self.notes),
        }


# -- reading calls -----------------------------------------------------------------------------
