"""The one result object of a review: series, comparisons, migration map, findings, accounting.

Renderers, the pre-push hook and the bot read a `Review` and nothing else. Each analysis is
called through a small adapter: when its module is missing or it raises, the review records the
analysis as unavailable with the reason (the report shows it as a note) and goes on, because a
half-finished review is worth more to a maintainer than a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from reviewtool import __version__
from reviewtool.analyses.findings import SEVERITIES, Finding, NotChecked, severity_at_least
from reviewtool.analyses.status import fixed_since
from reviewtool.errors import UsageError
from reviewtool.series.changelog import changelog_step as changelog_step_for
from reviewtool.series.model import Accounting, ChangelogStep, Patch, Revision, Series
from reviewtool.series.reroll import applied_revisions

# The analyses a review runs, by the name the report and the JSON use.
ANALYSIS_RANGEDIFF = "rangediff"
ANALYSIS_CHANGELOG = "changelog"
ANALYSIS_MIGRATION = "migration"
ANALYSIS_SPEC = "spec"
ALL_ANALYSES = (ANALYSIS_RANGEDIFF, ANALYSIS_CHANGELOG, ANALYSIS_MIGRATION, ANALYSIS_SPEC)

# Trailers that count as "someone reviewed this patch" in the overview.
REVIEWED_TRAILERS = ("Reviewed-by", "Acked-by")

# Where each analysis lives; imported lazily so a missing one is a note, not an ImportError.
RANGEDIFF_MODULE = "reviewtool.analyses.rangediff"
CHANGELOG_MODULE = "reviewtool.analyses.changelog_check"
MIGRATION_MODULE = "reviewtool.analyses.migration"
SPEC_MODULE = "reviewtool.analyses.spec"

ProgressFn = Callable[..., None]


@dataclass
class AnalysisNote:
    """Whether one analysis ran on one scope, and why not when it did not."""

    analysis: str
    available: bool
    reason: str = ""
    scope: str = ""  # "v7 -> v8", "v8", or "" for the whole series

    def to_json(self) -> dict:
        """The JSON shape of the note."""
        return {
            "analysis": self.analysis,
            "scope": self.scope,
            "available": self.available,
            "reason": self.reason,
        }


@dataclass
class VersionComparison:
    """The range-diff of two consecutive revisions and the verdicts on the changelog step."""

    from_label: str
    to_label: str
    comparison: Any = None  # the analysis' Comparison object, when it ran
    data: dict | None = None  # comparison.to_json()
    changelog_step: ChangelogStep | None = None
    changelog: list[dict] | None = None  # one verdict per changelog item, JSON-shaped

    @property
    def label(self) -> str:
        return f"{self.from_label} -> {self.to_label}"

    def to_json(self) -> dict:
        """The JSON shape: the range-diff document with the changelog verdicts merged in."""
        out: dict[str, Any] = {"from": self.from_label, "to": self.to_label}
        if self.data:
            out.update(self.data)
            out["from"], out["to"] = self.from_label, self.to_label
        out["available"] = self.data is not None
        if self.changelog is not None:
            out["changelog"] = self.changelog
        out.setdefault("changelog", [])
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
    in_base: set[tuple[str, str, str, str]] = field(default_factory=set)
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

    def to_json(self) -> dict:
        """The JSON shape: the DESIGN.md finding contract, plus the status across versions."""
        return {
            "version": self.label,
            "available": self.available,
            "reason": self.reason,
            "findings": [
                {**finding.to_json(), "in_base": self.from_base(finding)}
                for finding in self.findings
            ],
            "fixed": [finding.to_json() for finding in self.fixed],
            "checked": [
                {"patch_index": index, "file": path, "function": name}
                for index, path, name in self.checked
            ],
            "not_checked": [item.to_json() for item in self.not_checked],
        }


@dataclass
class SeriesReview:
    """Everything the analyses said about one series."""

    index: int  # 1-based position in the collection, as `reviewtool series` numbers it
    series: Series
    comparisons: list[VersionComparison] = field(default_factory=list)
    migration: Any = None
    migration_data: dict | None = None
    findings: list[RevisionFindings] = field(default_factory=list)
    notes: list[AnalysisNote] = field(default_factory=list)
    # The revisions as the analyses read them (point revisions applied over their parent).
    applied: list[Revision] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.applied:
            self.applied = applied_revisions([r for r in self.series.revisions if r.patches])

    @property
    def latest(self) -> Revision | None:
        return self.series.revisions[-1] if self.series.revisions else None

    def findings_of(self, label: str) -> RevisionFindings | None:
        """The findings of one revision, by label (`v8`)."""
        for entry in self.findings:
            if entry.label == label:
                return entry
        return None

    def latest_findings(self) -> list[Finding]:
        """Findings still present in the latest revision: what blocks a merge."""
        if not self.findings:
            return []
        return list(self.findings[-1].findings)

    def unreviewed_patches(self) -> list[Patch]:
        """Patches of the latest revision with no Reviewed-by or Acked-by yet."""
        latest = self.latest
        if latest is None:
            return []
        return [patch for patch in latest.patches if not reviewers(patch)]

    def unavailable(self) -> list[AnalysisNote]:
        """The notes of analyses that did not run, in the order they were tried."""
        return [note for note in self.notes if not note.available]

    def to_json(self) -> dict:
        """The JSON shape of one series' analyses (the series model itself is listed apart)."""
        latest = self.latest
        return {
            "series": self.index,
            "title": self.series.title,
            "latest": latest.label if latest else None,
            "unreviewed": [patch.index for patch in self.unreviewed_patches()],
            "comparisons": [comparison.to_json() for comparison in self.comparisons],
            "migration": self.migration_data,
            "findings": [entry.to_json() for entry in self.findings],
            "analyses": [note.to_json() for note in self.notes],
        }


@dataclass
class Review:
    """The whole result that renderers, the hook and the bot read."""

    series_reviews: list[SeriesReview]
    accounting: Accounting
    all_series: list[Series] = field(default_factory=list)
    collection: Any = None
    sources: list[str] = field(default_factory=list)
    repo: str | None = None
    generated: datetime = field(default_factory=lambda: datetime.now(UTC))
    notes: list[AnalysisNote] = field(default_factory=list)
    tool_version: str = __version__

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
            if _known(f.severity) and severity_at_least(f.severity, threshold)
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

    def to_json(self) -> dict:
        """The JSON format; `series` and `accounting` exactly as `reviewtool series --json`."""
        series_doc = series_json(self.collection, self.all_series, self.accounting)
        return {
            "tool": {"name": "reviewtool", "version": self.tool_version},
            "generated": self.generated.isoformat(timespec="seconds"),
            "sources": list(self.sources),
            "repo": self.repo,
            "series": series_doc["series"],
            "accounting": series_doc["accounting"],
            "reviews": [review.to_json() for review in self.series_reviews],
            "analyses": [note.to_json() for note in self.notes],
        }


def reviewers(patch: Patch) -> list[str]:
    """People who gave a Reviewed-by or Acked-by on a patch, in the order they did."""
    names: list[str] = []
    for trailer in patch.reviewed_by():
        if trailer.name in REVIEWED_TRAILERS and trailer.value not in names:
            names.append(trailer.value)
    return names


def _known(severity: str) -> bool:
    return severity in SEVERITIES


# --------------------------------------------------------------------------- JSON of the series


def series_json(collection: Any, all_series: Sequence[Series], accounting: Accounting) -> dict:
    """The series part of the JSON, by the series layer's own serialiser, so it is exactly what
    `reviewtool series --json` prints."""
    from reviewtool.series import to_json

    if collection is None:  # a Review built by hand (the bot, tests)
        collection = SimpleNamespace(series=list(all_series), accounting=accounting, notes=[])
    return to_json(collection)


def jsonable(value: Any) -> Any:
    """Turn an analysis result into plain JSON data: its `to_json`, a dataclass, or itself."""
    if hasattr(value, "to_json") and callable(value.to_json):
        return value.to_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


# --------------------------------------------------------------------------- building a review


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
        collection,
        sources=[str(p) for p in paths],
        repo=repo,
        select=select,
        analyses=analyses,
    )


def build_review(
    collection: Any,
    *,
    sources: Sequence[str] = (),
    repo: str | Path | None = None,
    select: str | None = None,
    analyses: Iterable[str] = ALL_ANALYSES,
    progress: ProgressFn | None = None,
) -> Review:
    """Run every analysis on the chosen series of a collection (anything with `.series` and
    `.accounting`) and gather the results; `progress(done, total, what)` hears of each step."""
    wanted = set(analyses)
    unknown = wanted - set(ALL_ANALYSES)
    if unknown:
        raise UsageError(f"unknown analyses: {', '.join(sorted(unknown))}")
    all_series = list(collection.series)
    accounting = collection.accounting
    repo_text = str(repo) if repo is not None else None
    chosen = select_series(all_series, select)
    tick = _Ticker(progress, sum(_steps(series, wanted) for _, series in chosen))
    reviews = [
        review_series(series, index=index, repo=repo_text, analyses=wanted, progress=tick)
        for index, series in chosen
    ]
    return Review(
        series_reviews=reviews,
        accounting=accounting,
        all_series=all_series,
        collection=collection,
        sources=list(sources),
        repo=repo_text,
    )


def review_series(
    series: Series,
    *,
    index: int = 1,
    repo: str | None = None,
    analyses: Iterable[str] = ALL_ANALYSES,
    progress: ProgressFn | None = None,
) -> SeriesReview:
    """Run the analyses on one series."""
    wanted = set(analyses)
    tick = progress if isinstance(progress, _Ticker) else _Ticker(progress, _steps(series, wanted))
    review = SeriesReview(index=index, series=series)
    revisions = review.applied
    if ANALYSIS_RANGEDIFF in wanted or ANALYSIS_CHANGELOG in wanted:
        _compare_versions(review, revisions, wanted, tick)
    if ANALYSIS_MIGRATION in wanted:
        tick(f"migration map of {series.title}")
        _migration(review, revisions, repo)
    if ANALYSIS_SPEC in wanted:
        _findings(review, revisions, repo, tick)
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


class _Unavailable(Exception):
    """An analysis module or entry point is not there (yet)."""


def _entry(module: str, *names: str) -> Callable[..., Any]:
    """The first of `names` that `module` provides."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise _Unavailable(f"{module} is not part of this build") from exc
        raise
    for name in names:
        func = getattr(mod, name, None)
        if callable(func):
            return func
    raise _Unavailable(f"{module} provides none of {', '.join(names)}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Unavailable):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run(
    review: SeriesReview, analysis: str, scope: str, func: Callable[[], Any]
) -> tuple[bool, Any]:
    """Call one analysis; on failure record why and carry on."""
    try:
        result = func()
    except Exception as exc:  # noqa: BLE001 - an analysis failing must not sink the review
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
        scope = entry.label
        tick(f"range-diff {scope}")

        def compare(old: Revision = old, new: Revision = new) -> Any:
            return _entry(RANGEDIFF_MODULE, "compare")(old, new)

        ok, comparison = _run(review, ANALYSIS_RANGEDIFF, scope, compare)
        if not ok:
            continue
        entry.comparison = comparison
        entry.data = jsonable(comparison)
        if ANALYSIS_CHANGELOG in wanted:
            _check_changelog(review, entry, old, new)


def _check_changelog(
    review: SeriesReview, entry: VersionComparison, old: Revision, new: Revision
) -> None:
    """Verdicts on the changelog step: those `compare` attached, or `verify_changelog`'s."""
    scope = entry.label
    entry.changelog_step = changelog_step_for(old, new)
    attached = _verdict_list((entry.data or {}).get("changelog"))
    if attached:
        entry.changelog = attached
        review.notes.append(AnalysisNote(ANALYSIS_CHANGELOG, True, "", scope))
        return
    if entry.changelog_step is None:
        reason = (
            f"{new.label} has no cover letter"
            if new.cover is None and not getattr(new, "changelog", None)
            else f"the {new.label} changelog has no step for {scope}"
        )
        review.notes.append(AnalysisNote(ANALYSIS_CHANGELOG, False, reason, scope))
        return

    def verify(comparison: Any = entry.comparison, step: ChangelogStep = entry.changelog_step):
        return _entry(CHANGELOG_MODULE, "verify_changelog")(comparison, step)

    ok, verdicts = _run(review, ANALYSIS_CHANGELOG, scope, verify)
    if ok:
        entry.changelog = _verdict_list(jsonable(verdicts))
        if entry.data is not None and not entry.data.get("undocumented"):
            undocumented = getattr(entry.comparison, "undocumented", None)
            if undocumented:
                entry.data["undocumented"] = jsonable(undocumented)


def _verdict_list(data: Any) -> list[dict]:
    """Verdicts as a list of dicts, whatever container the analysis returned them in."""
    if data is None:
        return []
    if isinstance(data, dict):
        for key in ("changelog", "verdicts", "items"):
            if isinstance(data.get(key), list):
                return [d for d in data[key] if isinstance(d, dict)]
        return [data]
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    return []


def _migration(review: SeriesReview, revisions: list[Revision], repo: str | None) -> None:
    def build() -> Any:
        func = _entry(MIGRATION_MODULE, "build_map")
        return func(revisions, repo=repo) if repo else func(revisions)

    ok, result = _run(review, ANALYSIS_MIGRATION, "", build)
    if ok:
        review.migration = result
        data = jsonable(result)
        review.migration_data = data if isinstance(data, dict) else {"revisions": data}


def _findings(
    review: SeriesReview, revisions: list[Revision], repo: str | None, tick: _Ticker
) -> None:
    previous: list[Finding] | None = None
    cache: dict[str, Any] = {}
    for revision in revisions:
        label = revision.label
        tick(f"checking {label}")

        def check(revision: Revision = revision) -> Any:
            func = _entry(SPEC_MODULE, "check_revision_result", "check_revision")
            if repo:
                return func(revision, repo=repo, base=revision.base_commit)
            return _check_by_patch(func, revision, cache)

        ok, result = _run(review, ANALYSIS_SPEC, label, check)
        if not ok:
            note = review.notes[-1]
            review.findings.append(RevisionFindings(label, available=False, reason=note.reason))
            # The next version is judged against the last one that could be checked (v8
            # against v7 when the v7.1 reroll does not apply), not against nothing.
            continue
        checked, not_checked = _coverage(result)
        found, fixed_from_base, in_base = net_findings(
            [f for f in _found(result) if isinstance(f, Finding)]
        )
        for finding in found + fixed_from_base:
            finding.version = finding.version or label
        entry = RevisionFindings(
            label, findings=found, in_base=in_base, checked=checked, not_checked=not_checked
        )
        if previous is not None:
            entry.fixed = fixed_since(previous, found)
        else:
            # The first version is judged against the base tree, as the checker saw it.
            for finding in found:
                finding.status = "persisting" if finding.key() in in_base else "introduced"
            entry.fixed = fixed_from_base
        if repo and found:
            entry.sources = file_sources(repo, revision, found)
        review.findings.append(entry)
        previous = found


def _found(result: Any) -> list:
    """The findings of a checker result: a RevisionCheck, or a plain list (older entry)."""
    if result is None:
        return []
    return list(getattr(result, "findings", result))


def _coverage(result: Any) -> tuple[list[tuple[int, str, str]], list[NotChecked]]:
    """(checked, not checked) of a RevisionCheck; a plain list of findings says nothing of
    what was covered, so nothing counts as checked whole."""
    checked = list(getattr(result, "checked", []) or [])
    not_checked = [n for n in getattr(result, "not_checked", []) or [] if isinstance(n, NotChecked)]
    return checked, _latest_not_checked(not_checked)


def _latest_not_checked(items: list[NotChecked]) -> list[NotChecked]:
    """One entry per function and reason: the one of the last patch that touched it."""
    latest: dict[tuple[str, str, str], NotChecked] = {}
    for item in sorted(items, key=lambda n: n.patch_index or 0):
        latest.pop(item.key(), None)
        latest[item.key()] = item
    return sorted(latest.values(), key=lambda n: (n.patch_index or 0, n.file, n.function))


def file_sources(
    repo: str, revision: Revision, findings: list[Finding]
) -> dict[tuple[int, str], str]:
    """The text of each file a finding points into, as the finding's patch left it.

    With a tree the checker reads whole files, so a finding may sit on a line no hunk shows;
    the report still wants to show the code there. Best effort: a revision that does not
    apply (the checker has said so already) gets no sources.
    """
    from reviewtool.diff.tree import apply_series  # git is needed only with a tree

    patches = sorted(revision.patches, key=lambda p: p.index)
    wanted = {(f.patch_index or 0, f.file) for f in findings}
    try:
        applied, final = apply_series(
            repo, revision.base_commit or "", [p.diff for p in patches], {f for _, f in wanted}
        )
    except Exception:  # noqa: BLE001 - excerpts fall back to the hunks
        return {}
    out: dict[tuple[int, str], str] = {}
    for index, path in wanted:
        text = final.get(path)
        touched = [s for s in applied if path in s.files]
        before = [s for s in touched if s.index <= index] if index else touched
        if before:
            text = before[-1].files[path].after
        elif touched:  # first touched after the finding's patch: it was as in the base
            text = touched[0].files[path].before
        if text is not None:
            out[(index, path)] = text
    return out


def _check_by_patch(check: Callable[..., Any], revision: Revision, cache: dict[str, Any]) -> Any:
    """check_revision() one patch at a time, reusing the findings of a patch whose diff an
    earlier version already carried.

    Without a tree the checker sees only what each patch's hunks show, so a patch's findings
    depend on its diff alone; most patches of v(N+1) repeat v(N)'s diff unchanged, and
    checking them once is what keeps a v1..v8 report within its time budget.
    """
    out = SimpleNamespace(findings=[], checked=[], not_checked=[])
    for patch in revision.patches:
        key = hashlib.sha1(patch.diff.encode("utf-8", "replace")).hexdigest()
        if key not in cache:
            alone = Revision(
                version=revision.version,
                point=revision.point,
                total=revision.total,
                patches=[patch],
            )
            result = check(alone)
            checked, not_checked = _coverage(result)
            cache[key] = (
                [f for f in _found(result) if isinstance(f, Finding)],
                [name for _, *name in checked],
                not_checked,
            )
        findings, checked, not_checked = cache[key]
        for finding in findings:
            out.findings.append(
                replace(
                    finding,
                    trace=list(finding.trace),
                    version=revision.label,
                    patch_index=patch.index,
                )
            )
        out.checked += [(patch.index, path, name) for path, name in checked]
        out.not_checked += [
            replace(item, version=revision.label, patch_index=patch.index) for item in not_checked
        ]
    return out


def net_findings(
    per_patch: list[Finding],
) -> tuple[list[Finding], list[Finding], set[tuple[str, str, str, str]]]:
    """What a revision holds once all its patches are applied.

    The checker reports per patch (status against the code before that patch): a leak that
    patch 4 introduces and patch 5 still shows is one finding, and one that patch 6 fixes is
    gone. Returns the findings present after the last patch (the latest sighting of each, so
    its patch shows its lines), those fixed of what the base already had, and the keys of
    findings already in the base (not the series' doing).
    """
    present: dict[tuple[str, str, str, str], Finding] = {}
    fixed: dict[tuple[str, str, str, str], Finding] = {}
    introduced: set[tuple[str, str, str, str]] = set()
    seen_before: set[tuple[str, str, str, str]] = set()
    ordered = sorted(per_patch, key=lambda f: f.patch_index or 0)
    for finding in ordered:
        key = finding.key()
        if finding.status == "fixed":
            present.pop(key, None)
            if key not in introduced:
                fixed[key] = finding
            continue
        if finding.status in ("introduced", ""):  # no status: judged on the revision as a whole
            introduced.add(key)
        elif key not in introduced:
            seen_before.add(key)  # "persisting" on first sight: it was there before the series
        fixed.pop(key, None)
        present[key] = finding
    in_base = {key for key in seen_before if key not in introduced}
    return list(present.values()), list(fixed.values()), in_base
