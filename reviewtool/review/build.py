"""Building a Review: run each analysis on the chosen series and gather the typed results.

An analysis that cannot run on its input raises a `ReviewtoolError`; the review records it as
a note with the reason (every output shows it) and goes on, because a half-finished review is
worth more to a maintainer than no review. Any other exception is a bug and is not hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from reviewtool.analyses import changelog_check, followup, migration, rangediff, spec
from reviewtool.analyses.changelog_check import Verdict
from reviewtool.analyses.findings import Finding
from reviewtool.analyses.migration import MigrationMap
from reviewtool.analyses.rangediff import Comparison
from reviewtool.analyses.spec.revision import RevisionCheck, with_hunk_findings
from reviewtool.errors import ReviewtoolError, UsageError
from reviewtool.review.findings import as_check, check_by_patch, file_sources, revision_findings
from reviewtool.review.model import (
    ALL_ANALYSES,
    ANALYSIS_CHANGELOG,
    ANALYSIS_FOLLOWUP,
    ANALYSIS_MIGRATION,
    ANALYSIS_RANGEDIFF,
    ANALYSIS_SPEC,
    AnalysisNote,
    Review,
    RevisionFindings,
    SeriesReview,
    VersionComparison,
)
from reviewtool.series.assemble import Collection
from reviewtool.series.changelog import changelog_step as changelog_step_for
from reviewtool.series.model import ChangelogStep, Revision, Series
from reviewtool.series.reroll import applied_revisions

ProgressFn = Callable[[int, int, str], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Analyses:
    """The analysis entry points a review calls; one place to name them (and for a test to
    put a checker with known answers in)."""

    compare: Callable[[Revision, Revision], Comparison] = rangediff.compare
    verify_changelog: Callable[[Comparison, ChangelogStep], list[Verdict]] = (
        changelog_check.verify_changelog
    )
    build_map: Callable[..., MigrationMap] = migration.build_map
    check_revision: Callable[..., RevisionCheck | list[Finding]] = spec.check_revision_result
    # Without a tree: findings reasoned over the delta of each patch of a whole revision.
    from_hunks: Callable[[Revision], list[Finding]] = spec.findings_from_hunks


# What build_review runs unless told otherwise.
ANALYSES = Analyses()


def select_series(all_series: Sequence[Series], selector: str | None) -> list[tuple[int, Series]]:
    """The series to review with their 1-based numbers: every series that has patches, or
    those `selector` picks (an index, a change-id or part of a title, as `reviewtool series`)."""
    numbered = list(enumerate(all_series, start=1))
    if not selector:
        chosen = [(i, s) for i, s in numbered if any(r.patches for r in s.revisions)]
        return chosen or numbered
    from reviewtool.series import select_series as pick  # one selection rule for every command

    picked = {id(s) for s in pick(list(all_series), selector)}
    return [(i, s) for i, s in numbered if id(s) in picked]


def review_paths(
    paths: Sequence[str | Path],
    *,
    repo: str | Path | None = None,
    select: str | None = None,
    analyses: Iterable[str] = ALL_ANALYSES,
    progress: ProgressFn | None = None,
) -> Review:
    """Read mail from `paths` with the series layer and review what it holds."""
    from reviewtool.ingest import load  # the series layer reads; the review only assembles

    collection = load([str(p) for p in paths], progress=progress)
    return build_review(
        collection, sources=[str(p) for p in paths], repo=repo, select=select, analyses=analyses
    )


def build_review(
    collection: Collection,
    *,
    sources: Sequence[str] = (),
    repo: str | Path | None = None,
    select: str | None = None,
    analyses: Iterable[str] = ALL_ANALYSES,
    progress: ProgressFn | None = None,
    archive_url: str = "",
    versions: tuple[str | None, str | None] = (None, None),
) -> Review:
    """Run every analysis on the chosen series of a collection and gather the results;
    `progress(done, total, what)` hears of each step. `versions` (first, last; None where
    open) reviews only that range, of the one series that has those versions."""
    wanted = set(analyses)
    unknown = wanted - set(ALL_ANALYSES)
    if unknown:
        raise UsageError(f"unknown analyses: {', '.join(sorted(unknown))}")
    all_series = list(collection.series)
    repo_text = str(repo) if repo is not None else None
    if any(versions):
        from reviewtool.series import select_with_versions  # the one choice by versions

        chosen = [
            (picked.number, picked.cut, picked.applied())
            for picked in select_with_versions(all_series, select, *versions)
        ]
    else:
        chosen = [(index, series, None) for index, series in select_series(all_series, select)]
    tick = _Ticker(progress, sum(_steps(series, wanted) for _, series, _ in chosen))
    reviews = [
        review_series(
            series, index=index, repo=repo_text, analyses=wanted, progress=tick, applied=applied
        )
        for index, series, applied in chosen
    ]
    return Review(
        series_reviews=reviews,
        accounting=collection.accounting,
        all_series=all_series,
        collection=collection,
        sources=list(sources),
        repo=repo_text,
        archive_url=archive_url,
    )


def review_series(
    series: Series,
    *,
    index: int = 1,
    repo: str | None = None,
    analyses: Iterable[str] = ALL_ANALYSES,
    progress: ProgressFn | None = None,
    applied: list[Revision] | None = None,
) -> SeriesReview:
    """Run the analyses on one series; `applied`: its revisions as the analyses read them
    when the series was cut to a range (a point revision applied over a parent outside it)."""
    wanted = set(analyses)
    tick = progress if isinstance(progress, _Ticker) else _Ticker(progress, _steps(series, wanted))
    review = SeriesReview(index=index, series=series, applied=list(applied or []))
    revisions = review.applied
    if ANALYSIS_RANGEDIFF in wanted or ANALYSIS_CHANGELOG in wanted:
        _compare_versions(review, revisions, wanted, tick)
    if ANALYSIS_MIGRATION in wanted:
        tick(f"migration map of {series.title}")
        _migration(review, revisions, repo)
    if ANALYSIS_SPEC in wanted:
        _findings(review, revisions, repo, tick)
    if ANALYSIS_FOLLOWUP in wanted:
        _followup(review)
    return review


def effective_revisions(revisions: list[Revision]) -> list[Revision]:
    """Revisions as the analyses see them: point revisions applied over their parent."""
    return applied_revisions(revisions)


class _Ticker:
    """Counts analysis steps and passes them to a progress callable, if there is one."""

    def __init__(self, progress: ProgressFn | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def __call__(self, what: str) -> None:
        if self.progress is not None:
            self.progress(self.done, self.total, what)
        self.done += 1


def _steps(series: Series, wanted: set[str]) -> int:
    """How many analysis calls one series takes, for the progress bar's total."""
    count = sum(1 for r in series.revisions if r.patches)
    steps = 0
    if wanted & {ANALYSIS_RANGEDIFF, ANALYSIS_CHANGELOG}:
        steps += max(count - 1, 0)
    if ANALYSIS_MIGRATION in wanted:
        steps += 1
    if ANALYSIS_SPEC in wanted:
        steps += count
    return steps


def _reason(exc: ReviewtoolError) -> str:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def _run(
    review: SeriesReview, analysis: str, scope: str, func: Callable[[], T]
) -> tuple[bool, T | None]:
    """Call one analysis; when it cannot run on this input, record why and carry on."""
    try:
        result = func()
    except ReviewtoolError as exc:
        review.notes.append(AnalysisNote(analysis, False, _reason(exc), scope))
        return False, None
    review.notes.append(AnalysisNote(analysis, True, "", scope))
    return True, result


def _compare_versions(
    review: SeriesReview, revisions: list[Revision], wanted: set[str], tick: _Ticker
) -> None:
    for old, new in zip(revisions, revisions[1:], strict=False):
        entry = VersionComparison(from_label=old.label, to_label=new.label)
        review.comparisons.append(entry)
        tick(f"range-diff {entry.label}")

        def compare(old: Revision = old, new: Revision = new) -> Comparison:
            return ANALYSES.compare(old, new)

        ok, comparison = _run(review, ANALYSIS_RANGEDIFF, entry.label, compare)
        if not ok or comparison is None:
            continue
        entry.comparison = comparison
        if ANALYSIS_CHANGELOG in wanted:
            _check_changelog(review, entry, comparison, old, new)


def _check_changelog(
    review: SeriesReview,
    entry: VersionComparison,
    comparison: Comparison,
    old: Revision,
    new: Revision,
) -> None:
    """Verdicts on the changelog step: those `compare` attached, or `verify_changelog`'s."""
    scope = entry.label
    entry.changelog_step = changelog_step_for(old, new)
    if comparison.changelog:
        entry.verdicts = list(comparison.changelog)
        entry.undocumented = list(comparison.undocumented)
        review.notes.append(AnalysisNote(ANALYSIS_CHANGELOG, True, "", scope))
        return
    step = entry.changelog_step
    if step is None:
        reason = (
            f"{new.label} has no cover letter"
            if new.cover is None and not new.changelog
            else f"the {new.label} changelog has no step for {scope}"
        )
        review.notes.append(AnalysisNote(ANALYSIS_CHANGELOG, False, reason, scope))
        return

    def verify() -> list[Verdict]:
        return ANALYSES.verify_changelog(comparison, step)

    ok, verdicts = _run(review, ANALYSIS_CHANGELOG, scope, verify)
    if ok:
        entry.verdicts = list(verdicts or [])
        entry.undocumented = list(comparison.undocumented) or changelog_check.undocumented_changes(
            comparison, entry.verdicts
        )


def _migration(review: SeriesReview, revisions: list[Revision], repo: str | None) -> None:
    def build() -> MigrationMap:
        return ANALYSES.build_map(revisions, repo=repo) if repo else ANALYSES.build_map(revisions)

    ok, result = _run(review, ANALYSIS_MIGRATION, "", build)
    if ok:
        review.migration = result


def _findings(
    review: SeriesReview, revisions: list[Revision], repo: str | None, tick: _Ticker
) -> None:
    previous: list[Finding] | None = None
    cache: dict[str, RevisionCheck] = {}
    for revision in revisions:
        label = revision.label
        tick(f"checking {label}")

        def check(revision: Revision = revision) -> RevisionCheck:
            if repo:
                return as_check(
                    ANALYSES.check_revision(revision, repo=repo, base=revision.base_commit)
                )
            result = check_by_patch(ANALYSES.check_revision, revision, cache)
            # What one patch's delta means depends on the patches before it (where the flag
            # is passed): that reasoning runs over the whole revision, not patch by patch.
            result.findings = with_hunk_findings(result.findings, ANALYSES.from_hunks(revision))
            return result

        ok, result = _run(review, ANALYSIS_SPEC, label, check)
        if not ok:
            note = review.notes[-1]
            review.findings.append(RevisionFindings(label, available=False, reason=note.reason))
            # The next version is judged against the last one that could be checked (v8
            # against v7 when the v7.1 reroll does not apply), not against nothing.
            continue
        entry = revision_findings(revision, result or RevisionCheck(), previous)
        if repo and entry.findings:
            entry.sources = file_sources(repo, revision, entry.findings)
        review.findings.append(entry)
        previous = entry.findings


def _followup(review: SeriesReview) -> None:
    """Review replies on each version followed into the next one."""
    by_pair = {(c.from_label, c.to_label): c.comparison for c in review.comparisons}

    def follow() -> list[followup.ReviewComment]:
        return followup.follow_comments(review.series.revisions, by_pair)

    ok, comments = _run(review, ANALYSIS_FOLLOWUP, "", follow)
    if ok:
        review.review_comments = list(comments or [])
