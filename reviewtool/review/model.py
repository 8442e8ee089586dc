"""The review model: `Review -> SeriesReview -> VersionComparison / MigrationMap / findings`.

Plain typed dataclasses, no I/O: every renderer, the hook and the bot read these objects; each
part makes its own JSON (`to_json`) and `review.document` joins them with each series' verdict
(made from this model, so it sits above it) into the one JSON document. The analyses' own
result types (`Comparison`, `Verdict`, `MigrationMap`, `Finding`) are held as they are, never
copied into dicts, so renaming a field is a type error in every reader instead of a silently
blank output.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from reviewtool import __version__
from reviewtool.analyses.findings import SEVERITIES, Finding, NotChecked, severity_at_least
from reviewtool.errors import UsageError
from reviewtool.schemas import version_fields, with_version_fields
from reviewtool.series.model import (
    Accounting,
    ChangelogStep,
    Patch,
    Revision,
    Series,
    reviewers,
)
from reviewtool.series.reroll import applied_revisions

if TYPE_CHECKING:  # the analyses' types only; importing them here would load SciPy for a render
    from reviewtool.analyses.changelog_check import Undocumented, Verdict
    from reviewtool.analyses.followup import ReviewComment
    from reviewtool.analyses.migration import MigrationMap
    from reviewtool.analyses.rangediff import Comparison
    from reviewtool.series.assemble import Collection

# The analyses a review runs, by the name the report and the JSON use.
ANALYSIS_RANGEDIFF = "rangediff"
ANALYSIS_CHANGELOG = "changelog"
ANALYSIS_MIGRATION = "migration"
ANALYSIS_SPEC = "spec"
ANALYSIS_FOLLOWUP = "followup"
ALL_ANALYSES = (
    ANALYSIS_RANGEDIFF,
    ANALYSIS_CHANGELOG,
    ANALYSIS_MIGRATION,
    ANALYSIS_SPEC,
    ANALYSIS_FOLLOWUP,
)

FindingKey = tuple[str, str, str, str]


@dataclass
class AnalysisNote:
    """Whether one analysis ran on one scope, and why not when it did not."""

    analysis: str
    available: bool
    reason: str = ""
    scope: str = ""  # "v7 -> v8", "v8", or "" for the whole series

    def to_json(self) -> dict[str, object]:
        """The JSON shape of the note."""
        return {
            "analysis": self.analysis,
            "scope": self.scope,
            # The versions the scope names, each as version, point and label.
            "versions": [version_fields(label) for label in scope_labels(self.scope)],
            "available": self.available,
            "reason": self.reason,
        }


@dataclass
class VersionComparison:
    """The range-diff of two consecutive revisions and the verdicts on the changelog step."""

    from_label: str
    to_label: str
    comparison: Comparison | None = None  # None: the range-diff did not run (see the notes)
    changelog_step: ChangelogStep | None = None
    verdicts: list[Verdict] | None = None  # None: the changelog check did not run
    undocumented: list[Undocumented] = field(default_factory=list)

    @property
    def label(self) -> str:
        """`v7 -> v8`."""
        return f"{self.from_label} -> {self.to_label}"

    @property
    def available(self) -> bool:
        """True when the range-diff ran."""
        return self.comparison is not None

    def to_json(self) -> dict[str, object]:
        """The range-diff document with the changelog verdicts merged in."""
        out: dict[str, object] = {}
        if self.comparison is not None:
            out.update(self.comparison.to_json())
        out["from"], out["to"] = version_fields(self.from_label), version_fields(self.to_label)
        out["available"] = self.comparison is not None
        out["changelog"] = [verdict.to_json() for verdict in self.verdicts or []]
        if self.comparison is not None:
            out["undocumented"] = [entry.to_json() for entry in self.undocumented]
        out["changelog_step"] = (
            {
                "from": self.changelog_step.from_version,
                "to": self.changelog_step.to_version,
                "items": list(self.changelog_step.items),
            }
            if self.changelog_step
            else None
        )
        return out


@dataclass
class RevisionFindings:
    """Findings of one revision, each marked introduced or persisting against the one before."""

    label: str
    findings: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)  # present before, gone in this revision
    available: bool = True
    reason: str = ""
    # Keys (Finding.key()) of findings the base tree already had: not the series' doing.
    in_base: set[FindingKey] = field(default_factory=set)
    # With a tree: (patch index, path) -> the file's text after that patch, for excerpts.
    sources: dict[tuple[int, str], str] = field(default_factory=dict)
    # What the checker covered: functions checked whole, and those it could not check (why).
    checked: list[tuple[int, str, str]] = field(default_factory=list)  # (patch, file, function)
    not_checked: list[NotChecked] = field(default_factory=list)

    @property
    def checked_nothing(self) -> bool:
        """True when the checker ran but checked no changed function whole: no all-clear."""
        return self.available and not self.checked and bool(self.not_checked)

    @property
    def complete(self) -> bool:
        """True when every changed function was checked whole (silence means clean)."""
        return self.available and not self.not_checked

    def source_of(self, finding: Finding) -> str | None:
        """The whole file a finding points into, as its patch left it, when a tree gave it."""
        return self.sources.get((finding.patch_index or 0, finding.file))

    def from_base(self, finding: Finding) -> bool:
        """True when the finding was in the code before the series touched it."""
        return finding.key() in self.in_base

    def introduced(self) -> list[Finding]:
        """Findings this revision brings in (not in the one before, not in the base)."""
        return [
            f
            for f in self.findings
            if (f.status or "introduced") == "introduced" and not self.from_base(f)
        ]

    def to_json(self) -> dict[str, object]:
        """The DESIGN.md finding contract, plus the status across versions."""
        return {
            **version_fields(self.label),
            "available": self.available,
            "reason": self.reason,
            "findings": [
                {**finding_json(finding), "in_base": self.from_base(finding)}
                for finding in self.findings
            ],
            "fixed": [finding_json(finding) for finding in self.fixed],
            "checked": [
                {"patch_index": index, "file": path, "function": name}
                for index, path, name in self.checked
            ],
            "not_checked": [finding_json(item) for item in self.not_checked],
        }


@dataclass
class SeriesReview:
    """Everything the analyses said about one series."""

    index: int  # 1-based position in the collection, as `reviewtool series` numbers it
    series: Series
    comparisons: list[VersionComparison] = field(default_factory=list)
    migration: MigrationMap | None = None
    findings: list[RevisionFindings] = field(default_factory=list)
    review_comments: list[ReviewComment] = field(default_factory=list)
    notes: list[AnalysisNote] = field(default_factory=list)
    # The revisions as the analyses read them (point revisions applied over their parent).
    applied: list[Revision] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.applied:
            self.applied = applied_revisions([r for r in self.series.revisions if r.patches])

    @property
    def latest(self) -> Revision | None:
        """The newest revision the input holds, patches or not."""
        return self.series.revisions[-1] if self.series.revisions else None

    @property
    def latest_with_patches(self) -> Revision | None:
        """The newest revision whose patches the input holds: the one the analyses judge."""
        with_patches = [r for r in self.series.revisions if r.patches]
        return with_patches[-1] if with_patches else None

    def findings_of(self, label: str) -> RevisionFindings | None:
        """The findings of one revision, by label (`v8`)."""
        return next((entry for entry in self.findings if entry.label == label), None)

    def comparison_to(self, label: str) -> VersionComparison | None:
        """The comparison that ends at revision `label`."""
        return next((c for c in self.comparisons if c.to_label == label), None)

    def latest_findings(self) -> list[Finding]:
        """Findings still present in the latest revision: what blocks a merge."""
        if not self.findings:
            return []
        return list(self.findings[-1].findings)

    def unreviewed_patches(self) -> list[Patch]:
        """Patches of the latest revision with no Reviewed-by or Acked-by yet (none when the
        input holds none of its patches: nothing can be said about patches not read)."""
        latest = self.latest
        if latest is None:
            return []
        return [patch for patch in latest.patches if not reviewers(patch)]

    def unavailable(self) -> list[AnalysisNote]:
        """The notes of analyses that did not run, in the order they were tried."""
        return [note for note in self.notes if not note.available]


@dataclass
class Review:
    """The whole result that renderers, the hook and the bot read."""

    series_reviews: list[SeriesReview]
    accounting: Accounting
    all_series: list[Series] = field(default_factory=list)
    collection: Collection | None = None
    sources: list[str] = field(default_factory=list)
    repo: str | None = None
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[AnalysisNote] = field(default_factory=list)
    tool_version: str = __version__
    # `https://lore.kernel.org/all/{msgid}/`-style link pattern for Message-IDs; "" for none.
    archive_url: str = ""

    def findings(self, latest_only: bool = True) -> list[Finding]:
        """Findings of every reviewed series: of its latest revision, or of every revision."""
        out: list[Finding] = []
        for review in self.series_reviews:
            if latest_only:
                out.extend(review.latest_findings())
            else:
                for entry in review.findings:
                    out.extend(entry.findings)
        return out

    def findings_at_least(self, threshold: str) -> list[Finding]:
        """Findings of the latest revisions as serious as `threshold` or more."""
        if threshold not in SEVERITIES:
            raise UsageError(f"unknown severity {threshold!r}; use one of {', '.join(SEVERITIES)}")
        return [
            f
            for f in self.findings()
            if f.severity in SEVERITIES and severity_at_least(f.severity, threshold)
        ]

    def not_checked(self) -> list[NotChecked]:
        """What the checker could not check in the latest revision of every reviewed series."""
        out: list[NotChecked] = []
        for review in self.series_reviews:
            if review.findings:
                out.extend(review.findings[-1].not_checked)
        return out

    def unavailable(self) -> list[AnalysisNote]:
        """Every analysis that did not run, across the review."""
        out = [note for note in self.notes if not note.available]
        for review in self.series_reviews:
            out.extend(review.unavailable())
        return out

    def other_series(self) -> list[Series]:
        """The series of the input that no series review covers. By identity (comparing by
        value would walk every patch): a series reviewed cut to some versions (`--from/--to`)
        shares its Revision objects with the series read, so it counts as reviewed."""
        reviewed = {id(sr.series) for sr in self.series_reviews}
        reviewed_revisions = {id(r) for sr in self.series_reviews for r in sr.series.revisions}
        return [
            s
            for s in self.all_series
            if id(s) not in reviewed and not any(id(r) in reviewed_revisions for r in s.revisions)
        ]


def scope_labels(scope: str) -> list[str]:
    """`"v7 -> v8"` -> `["v7", "v8"]`; `"v8"` -> `["v8"]`; `""` (the whole series) -> []."""
    return [part.strip() for part in scope.split("->") if part.strip()]


def finding_json(item: Finding | NotChecked) -> dict[str, object]:
    """A finding or not-checked entry as JSON, its version as version, point and label."""
    return with_version_fields(item.to_json())


def migration_json(migration: MigrationMap) -> dict[str, object]:
    """The migration map as `reviewtool migrate --json` gives it (without schema_version)."""
    document = migration.to_json()
    document["revisions"] = [with_version_fields(r) for r in document["revisions"]]
    return document
