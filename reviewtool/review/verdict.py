"""What a maintainer must act on in the latest version of a series, said first by every output.

Each part says what was read and checked, and nothing more: a part whose analysis did not run,
or that has no input to speak of (a version whose patches are not in the input), carries a
`state` other than "checked" and the reason, so no output can turn silence into an all-clear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reviewtool.analyses.findings import Finding, NotChecked
from reviewtool.review.flags import stale_review
from reviewtool.review.model import SeriesReview, finding_json
from reviewtool.schemas import version_fields
from reviewtool.series.model import Patch, Revision, reviewers

if TYPE_CHECKING:
    from reviewtool.analyses.changelog_check import Verdict
    from reviewtool.analyses.followup import ReviewComment
    from reviewtool.analyses.rangediff import PatchPair

# States of a verdict part.
CHECKED = "checked"  # the analysis ran on the whole of what it judges
PARTIAL = "partial"  # it ran, but some of the code was not checked (listed, with why)
NOT_CHECKED = "not-checked"  # it did not run, or had nothing to run on (reason given)


@dataclass
class Part:
    """One statement of the verdict: its state and, when not fully checked, why."""

    state: str = CHECKED
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        """{state, reason}."""
        return {"state": self.state, "reason": self.reason}


@dataclass
class PatchChange:
    """One patch of the latest version and what changed in it since the previous one."""

    index: int
    title: str
    message_id: str
    change: str  # identical, message-only, code-changed, added, or "" (no comparison)
    detail: str
    from_index: int | None = None

    def to_json(self) -> dict[str, object]:
        """{index, title, message_id, change, detail, from_index}."""
        return {
            "index": self.index,
            "title": self.title,
            "message_id": self.message_id,
            "change": self.change,
            "detail": self.detail,
            "from_index": self.from_index,
        }


@dataclass
class SeriesVerdict:
    """The latest version's verdict: findings, changelog claims, open comments, reviews."""

    latest: str  # the newest version in the input, patches or not
    judged: str | None  # the newest version whose patches the input holds
    previous: str | None  # what `judged` is compared with
    cover_only: list[Revision] = field(default_factory=list)  # newer than `judged`, no patches
    introduced: list[Finding] = field(default_factory=list)
    findings: Part = field(default_factory=Part)
    not_checked: list[NotChecked] = field(default_factory=list)
    claims_not_found: list[Verdict] = field(default_factory=list)
    changelog: Part = field(default_factory=Part)
    open_comments: list[ReviewComment] = field(default_factory=list)
    comments_seen: int = 0  # review points on the judged and previous version in the input
    comments_by_verdict: dict[str, int] = field(default_factory=dict)  # of those seen
    comments: Part = field(default_factory=Part)
    unreviewed: list[Patch] = field(default_factory=list)
    # Patches whose every Reviewed-by/Acked-by was carried over although the code changed:
    # not reviewed as they are now, so neither counted as reviewed nor as never reviewed.
    stale_reviews: list[Patch] = field(default_factory=list)
    reviews: Part = field(default_factory=Part)
    changes: list[PatchChange] = field(default_factory=list)
    dropped: list[tuple[int, str]] = field(default_factory=list)  # (index, title) in previous
    comparison: Part = field(default_factory=Part)

    def to_json(self) -> dict[str, object]:
        """The verdict as JSON: each list with the state of the check behind it."""
        return {
            "latest": version_fields(self.latest) if self.latest else None,
            "judged": version_fields(self.judged) if self.judged else None,
            "previous": version_fields(self.previous) if self.previous else None,
            "cover_only": [
                {**version_fields(r.label), "total": r.total, "patches_read": len(r.patches)}
                for r in self.cover_only
            ],
            "findings_introduced": {
                **self.findings.to_json(),
                "items": [finding_json(f) for f in self.introduced],
                "not_checked": [finding_json(n) for n in self.not_checked],
            },
            "changelog_not_found": {
                **self.changelog.to_json(),
                "items": [{"item": v.item, "reason": v.reason} for v in self.claims_not_found],
            },
            "open_review_comments": {
                **self.comments.to_json(),
                "considered": self.comments_seen,
                "by_verdict": dict(self.comments_by_verdict),
                "items": [c.to_json() for c in self.open_comments],
            },
            "unreviewed": {
                **self.reviews.to_json(),
                "items": [{"index": p.index, "message_id": p.message_id} for p in self.unreviewed],
                "stale_reviews": [
                    {
                        "index": p.index,
                        "message_id": p.message_id,
                        "trailers": [
                            {"name": t.name, "value": t.value} for t in p.carried_over_changed
                        ],
                    }
                    for p in self.stale_reviews
                ],
            },
            "changes": {
                **self.comparison.to_json(),
                "items": [c.to_json() for c in self.changes],
                "dropped": [{"index": i, "title": t} for i, t in self.dropped],
            },
        }


def series_verdict(sr: SeriesReview) -> SeriesVerdict:
    """The verdict on the latest version of one reviewed series."""
    revisions = list(sr.series.revisions)
    latest = revisions[-1].label if revisions else ""
    judged = sr.latest_with_patches
    if judged is None:
        reason = "no version's patches are in the input"
        return SeriesVerdict(
            latest=latest,
            judged=None,
            previous=None,
            cover_only=[r for r in revisions if not r.patches],
            findings=Part(NOT_CHECKED, reason),
            changelog=Part(NOT_CHECKED, reason),
            comments=Part(NOT_CHECKED, reason),
            reviews=Part(NOT_CHECKED, reason),
            comparison=Part(NOT_CHECKED, reason),
        )
    position = revisions.index(judged)
    verdict = SeriesVerdict(
        latest=latest,
        judged=judged.label,
        previous=None,
        cover_only=[r for r in revisions[position + 1 :] if not r.patches],
    )
    _findings_part(sr, judged, verdict)
    _changes_part(sr, judged, verdict)
    _comments_part(sr, judged, verdict)
    _reviews_part(judged, verdict)
    return verdict


def _reviews_part(judged: Revision, verdict: SeriesVerdict) -> None:
    verdict.unreviewed = [p for p in judged.patches if not reviewers(p)]
    verdict.stale_reviews = [p for p in judged.patches if stale_review(p)]
    reasons = []
    if judged.missing:
        reasons.append(
            f"patches {compact_ranges(judged.missing)} of {judged.label} are not in the input"
        )
    if verdict.stale_reviews:
        stale = [p.index for p in verdict.stale_reviews]
        reasons.append(
            f"patch{'es' if len(stale) != 1 else ''} {compact_ranges(stale)} of {judged.label}: "
            f"every Reviewed-by/Acked-by was carried over from "
            f"{verdict.previous or 'the previous version'} although the code changed"
        )
    if reasons:
        verdict.reviews = Part(PARTIAL, "; ".join(reasons))


def _findings_part(sr: SeriesReview, judged: Revision, verdict: SeriesVerdict) -> None:
    entry = sr.findings_of(judged.label)
    if entry is None:
        verdict.findings = Part(NOT_CHECKED, "the page-reference checker was not run")
        return
    if not entry.available:
        verdict.findings = Part(NOT_CHECKED, entry.reason)
        return
    verdict.introduced = entry.introduced()
    verdict.not_checked = list(entry.not_checked)
    if entry.checked_nothing:
        verdict.findings = Part(
            NOT_CHECKED, f"no changed function of {judged.label} could be checked whole"
        )
    elif entry.not_checked:
        n = len(entry.not_checked)
        verdict.findings = Part(
            PARTIAL, f"{n} changed function{'s' if n != 1 else ''} not checked whole"
        )


def _changes_part(sr: SeriesReview, judged: Revision, verdict: SeriesVerdict) -> None:
    comparison = sr.comparison_to(judged.label)
    if comparison is None:
        verdict.comparison = Part(NOT_CHECKED, f"{judged.label} is the first version in the input")
        verdict.changelog = Part(NOT_CHECKED, "no earlier version to compare with")
        verdict.changes = [
            PatchChange(p.index, p.title, p.message_id, "", "") for p in judged.patches
        ]
        return
    verdict.previous = comparison.from_label
    result = comparison.comparison
    if result is None:
        reason = _note_reason(sr, "rangediff", comparison.label) or "the range-diff did not run"
        verdict.comparison = Part(NOT_CHECKED, reason)
        verdict.changelog = Part(NOT_CHECKED, reason)
        return
    by_new = {pair.to_index: pair for pair in result.pairs}
    added = {patch.index for patch in result.added}
    for patch in judged.patches:
        pair = by_new.get(patch.index)
        if pair is not None:
            verdict.changes.append(
                PatchChange(
                    patch.index,
                    patch.title,
                    patch.message_id,
                    pair.status,
                    pair_detail(pair),
                    pair.from_index,
                )
            )
        elif patch.index in added:
            verdict.changes.append(
                PatchChange(patch.index, patch.title, patch.message_id, "added", "new patch")
            )
    verdict.dropped = [(p.index, p.title) for p in result.dropped]
    if comparison.verdicts is None:
        reason = _note_reason(sr, "changelog", comparison.label) or "the changelog was not checked"
        verdict.changelog = Part(NOT_CHECKED, reason)
        return
    verdict.claims_not_found = [v for v in comparison.verdicts if v.verdict == "not-found"]


def pair_detail(pair: PatchPair) -> str:
    """`2 hunks changed in kvm_faultin_pfn(), direct_page_fault()`, or what else changed."""
    parts = []
    if pair.moved:
        parts.append(f"moved from position {pair.from_index}")
    if pair.subject_changed:
        parts.append("retitled")
    real = [h for h in pair.interdiff if not h.rebase]
    if real:
        places = list(dict.fromkeys(short_place(h.function, h.file) for h in real))
        shown = ", ".join(places[:3]) + (", ..." if len(places) > 3 else "")
        parts.append(f"{len(real)} hunk{'s' if len(real) != 1 else ''} changed in {shown}")
    elif pair.interdiff:
        parts.append("context or offsets only (rebase)")
    if pair.message_diff:
        parts.append("commit message changed")
    return "; ".join(parts) or ("same code and message" if pair.status == "identical" else "")


_CALLED_RE = re.compile(r"([A-Za-z_]\w*)\s*\(")
# A name made by a macro, `NAME(page_fault)(args)`: keep the macro call as the name.
_MACRO_NAMED_RE = re.compile(r"([A-Za-z_]\w*\s*\(\s*[A-Za-z_]\w*\s*\))\s*\(")


def short_place(function: str, file: str) -> str:
    """`hva_to_pfn_slow()` from a hunk's function line, `struct kvm_follow_pfn` from a type's;
    the file when the hunk names no function."""
    text = function.strip().rstrip("{").strip()
    if not text:
        return file
    macro_named = _MACRO_NAMED_RE.search(text)
    if macro_named:
        return macro_named.group(1) + "()"
    called = _CALLED_RE.search(text)
    return called.group(1) + "()" if called else text


def _comments_part(sr: SeriesReview, judged: Revision, verdict: SeriesVerdict) -> None:
    if not any(note.analysis == "followup" and note.available for note in sr.notes):
        reason = _note_reason(sr, "followup", "") or "review comments were not followed"
        verdict.comments = Part(NOT_CHECKED, reason)
        return
    previous = verdict.previous
    considered = [
        c
        for c in sr.review_comments
        if c.patch_index is not None and c.version in (judged.label, previous)
    ]
    verdict.comments_seen = len(considered)
    for comment in considered:
        key = comment.verdict if comment.stance != "disagrees" else "argued by the author"
        verdict.comments_by_verdict[key] = verdict.comments_by_verdict.get(key, 0) + 1
    verdict.open_comments = [c for c in considered if c.open]


def _note_reason(sr: SeriesReview, analysis: str, scope: str) -> str:
    for note in sr.notes:
        if note.analysis == analysis and not note.available and (not scope or note.scope == scope):
            return note.reason
    return ""


def compact_ranges(numbers: list[int]) -> str:
    """`1-3, 5, 7-84` from a list of patch numbers."""
    values = sorted(set(numbers))
    out: list[str] = []
    start = prev = None
    for n in values:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            out.append(f"{start}-{prev}" if start != prev else str(start))
            start = prev = n
    if start is not None:
        out.append(f"{start}-{prev}" if start != prev else str(start))
    return ", ".join(out)
