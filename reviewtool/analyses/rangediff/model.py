"""The range-diff's result: pairs with interdiffs, added and dropped patches, regroupings."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewtool.series.model import Revision

# git range-diff's default --creation-factor (RANGE_DIFF_CREATION_FACTOR_DEFAULT, percent).
DEFAULT_CREATION_FACTOR = 0.6

STATUS_IDENTICAL = "identical"

STATUS_MESSAGE_ONLY = "message-only"

STATUS_CODE_CHANGED = "code-changed"

# Every status a PatchPair can carry: the range-diff makes no other (an added or a dropped
# patch is an UnpairedPatch, not a pair).
PAIR_STATUSES = (STATUS_IDENTICAL, STATUS_MESSAGE_ONLY, STATUS_CODE_CHANGED)


@dataclass
class InterdiffHunk:
    """One hunk of the diff between two versions of a patch (or of an added/dropped patch).

    Each line is an outer marker (' ', '-', '+': old version, new version) followed by the
    patch line it marks, itself starting with the patch's own marker.
    """

    file: str
    function: str
    lines: list[str]
    rebase: bool = False

    def changed(self) -> list[tuple[str, str]]:
        """(outer marker, patch line) of every line that differs between the versions."""
        return [(line[0], line[1:]) for line in self.lines if line[:1] in "-+"]

    def code_lines(self) -> list[tuple[str, str]]:
        """Changed lines that are code the patch adds or removes (not context, not headers)."""
        return [(o, inner) for o, inner in self.changed() if inner[:1] in "-+"]

    def to_json(self) -> dict:
        """{file, function, rebase, lines}."""
        return {
            "file": self.file,
            "function": self.function,
            "rebase": self.rebase,
            "lines": list(self.lines),
        }


@dataclass
class PatchPair:
    """Two versions of one patch that the assignment paired."""

    from_index: int
    to_index: int
    status: str
    title_from: str
    title_to: str
    subject_changed: bool = False
    moved: bool = False
    rebase_only: bool = False
    interdiff: list[InterdiffHunk] = field(default_factory=list)
    message_diff: list[str] = field(default_factory=list)
    cost: int = 0
    # The two normalised patch diffs, for checks that need more than the interdiff.
    old_lines: list[str] = field(default_factory=list, repr=False)
    new_lines: list[str] = field(default_factory=list, repr=False)

    @property
    def real_hunks(self) -> list[InterdiffHunk]:
        """Interdiff hunks that change code, not only context or offsets."""
        return [hunk for hunk in self.interdiff if not hunk.rebase]

    def to_json(self) -> dict:
        """The pair as the issue's JSON shape gives it, plus subject_changed/moved/message_diff."""
        return {
            "from_index": self.from_index,
            "to_index": self.to_index,
            "status": self.status,
            "title_from": self.title_from,
            "title_to": self.title_to,
            "subject_changed": self.subject_changed,
            "moved": self.moved,
            "rebase_only": self.rebase_only,
            "interdiff": [hunk.to_json() for hunk in self.interdiff],
            "message_diff": list(self.message_diff),
        }


@dataclass
class UnpairedPatch:
    """A patch present on one side only, with its content (git shows just a bare `<` / `>`)."""

    index: int
    title: str
    content: list[InterdiffHunk] = field(default_factory=list)
    size: int = 0
    author: str = ""

    def to_json(self) -> dict:
        """{index, title, author, size, content}."""
        return {
            "index": self.index,
            "title": self.title,
            "author": self.author,
            "size": self.size,
            "content": [hunk.to_json() for hunk in self.content],
        }


@dataclass
class Regrouping:
    """Patches split or squashed between versions: from_indices became to_indices."""

    kind: str  # "split" or "squash"
    from_indices: list[int]
    to_indices: list[int]
    coverage: float

    def to_json(self) -> dict:
        """{kind, from, to, coverage}."""
        return {
            "kind": self.kind,
            "from": list(self.from_indices),
            "to": list(self.to_indices),
            "coverage": round(self.coverage, 2),
        }


@dataclass
class Comparison:
    """The range-diff of two revisions: pairs, added, dropped, regroupings, changelog verdicts."""

    from_label: str
    to_label: str
    pairs: list[PatchPair] = field(default_factory=list)
    added: list[UnpairedPatch] = field(default_factory=list)
    dropped: list[UnpairedPatch] = field(default_factory=list)
    splits: list[Regrouping] = field(default_factory=list)
    squashes: list[Regrouping] = field(default_factory=list)
    changelog: list = field(default_factory=list)  # changelog_check.Verdict
    undocumented: list = field(default_factory=list)  # changelog_check.Undocumented
    creation_factor: float = DEFAULT_CREATION_FACTOR
    from_base: str | None = None
    to_base: str | None = None
    # The revisions compared: changelog claims about trailers and cover letters read them.
    old: Revision | None = field(default=None, repr=False, compare=False)
    new: Revision | None = field(default=None, repr=False, compare=False)

    @property
    def hunk_count(self) -> int:
        """Interdiff hunks over every pair."""
        return sum(len(pair.interdiff) for pair in self.pairs)

    @property
    def rebase_hunk_count(self) -> int:
        """Interdiff hunks that differ only in context or offset."""
        return sum(1 for pair in self.pairs for hunk in pair.interdiff if hunk.rebase)

    @property
    def rebase_share(self) -> float:
        """Share of the interdiff hunks that are rebase noise (0.0 when nothing changed)."""
        total = self.hunk_count
        return self.rebase_hunk_count / total if total else 0.0

    def pair_to(self, to_index: int) -> PatchPair | None:
        """The pair whose new patch is at to_index, or None."""
        return next((pair for pair in self.pairs if pair.to_index == to_index), None)

    def hunks_of(self, to_index: int) -> list[InterdiffHunk]:
        """The hunks evidence can point at for a new patch: its interdiff, or its content."""
        pair = self.pair_to(to_index)
        if pair is not None:
            return pair.interdiff
        added = next((p for p in self.added if p.index == to_index), None)
        return added.content if added else []

    def to_json(self) -> dict:
        """The issue's JSON shape, plus splits, squashes and the rebase share."""
        return {
            "from": self.from_label,
            "to": self.to_label,
            "pairs": [pair.to_json() for pair in self.pairs],
            "added": [patch.to_json() for patch in self.added],
            "dropped": [patch.to_json() for patch in self.dropped],
            "changelog": [verdict.to_json() for verdict in self.changelog],
            "undocumented": [entry.to_json() for entry in self.undocumented],
            "splits": [regroup.to_json() for regroup in self.splits],
            "squashes": [regroup.to_json() for regroup in self.squashes],
            "rebase_share": round(self.rebase_share, 3),
            "rebase_hunks": self.rebase_hunk_count,
            "interdiff_hunks": self.hunk_count,
        }
