"""The body of the mailing-list bot's reply: plain text, no line longer than 72 columns.

Kernel lists read mail in terminals and quote it with "> "; 72 columns leaves room for a few
levels of quoting inside 80. Paths and identifiers longer than a line are broken rather than
allowed to overflow, because one long line is what makes list archives wrap everything.
"""

from __future__ import annotations

import textwrap
from collections import Counter

from reviewtool.analyses.findings import Finding
from reviewtool.errors import UsageError
from reviewtool.render.view import group_notes, person_name, step_text
from reviewtool.review import Review, SeriesReview, VersionComparison, reviewers
from reviewtool.review.flags import CARRIED_OVER_CHANGED, patch_flags, stale_review
from reviewtool.review.verdict import compact_ranges
from reviewtool.textlines import visible

MAX_COLUMNS = 72
# Trace steps quoted per finding: enough to follow the path, short enough for a reply.
TRACE_STEPS = 5
# Findings listed in full; the rest are counted and left to the HTML report.
FINDINGS_LISTED = 10
# Functions not checked, listed one a line; the rest are counted.
NOT_CHECKED_LISTED = 15
INDENT = "  "


def render_email_summary(review: Review, revision_label: str, report_url: str | None = None) -> str:
    """The bot's reply body for one revision (`v8`) of a reviewed series."""
    sr, label = _find(review, revision_label)
    revision = sr.series.revision(label)
    lines: list[str] = []
    title = sr.series.title
    _para(lines, f'This is an automated review of {label} of "{title}" by reviewtool.')
    if revision is not None and revision.missing:
        _para(
            lines,
            f"Patches {', '.join(map(str, revision.missing))} of {label} did not arrive; "
            "the review covers what did.",
        )

    comparison = _comparison_to(sr, label)
    if comparison is not None:
        _heading(lines, f"Changes since {comparison.from_label}")
        _changes(lines, comparison)
        if comparison.verdicts is not None:
            step = comparison.changelog_step
            claimed = (
                f"{_label(step.from_version)} -> {_label(step.to_version)}"
                if step is not None and step.from_version is not None
                else comparison.label
            )
            _heading(lines, f"Changelog {claimed}")
            for verdict in comparison.verdicts:
                _item(lines, f"[{verdict.verdict}] {verdict.item}")
            if not comparison.verdicts:
                _para(lines, "The changelog step lists no items.")
            for change in comparison.undocumented:
                _item(lines, f"[undocumented] {change.summary}")

    _review_comments(lines, sr, label)

    _migration(lines, sr, label)
    _findings(lines, sr, label)

    if revision is not None and revision.patches:
        waiting = [p for p in revision.patches if not reviewers(p)]
        if waiting:
            _heading(lines, "Still without Reviewed-by or Acked-by")
            for patch in waiting:
                _item(lines, f"{patch.index}/{patch.total or len(revision.patches)} {patch.title}")
        # Trailers given on the previous version that the author kept although the code
        # changed (review.flags): the review they claim is of other code.
        carried = [
            (patch, flag)
            for patch in revision.patches
            for flag in patch_flags(patch)
            if flag.kind == CARRIED_OVER_CHANGED
        ]
        if carried:
            _heading(lines, "Review trailers carried over a changed patch")
            for patch, flag in carried:
                _item(lines, f"{patch.index}/{patch.total or len(revision.patches)}: {flag.detail}")
            stale = [patch.index for patch in revision.patches if stale_review(patch)]
            if stale:
                many = len(stale) != 1
                lines.append("")
                _para(
                    lines,
                    f"Patch{'es' if many else ''} {compact_ranges(stale)} of {label} "
                    f"therefore {'have' if many else 'has'} no review of the code as sent: "
                    "not counted as reviewed.",
                )

    unavailable = [n for n in sr.unavailable() if not n.scope or label in n.scope]
    if unavailable:
        _heading(lines, "Not checked")
        for note in group_notes(unavailable):
            _item(lines, f"{note.analysis} ({note.scope}): {note.reason}")

    if report_url:
        _heading(lines, "Full report")
        lines.extend(_hard_wrap(report_url, ""))
    lines.append("")
    lines.append("-- ")
    lines.append(f"reviewtool {review.tool_version}")
    return "\n".join(_fit(visible(line)) for line in lines) + "\n"


def _label(version: object) -> str:
    text = str(version)
    return text if text.startswith("v") else f"v{text}"


def _find(review: Review, revision_label: str) -> tuple[SeriesReview, str]:
    wanted = revision_label.strip().lower().lstrip("v")
    for sr in review.series_reviews:
        for revision in sr.series.revisions:
            if revision.label.lstrip("v") == wanted:
                return sr, revision.label
    raise UsageError(f"no reviewed series has a revision {revision_label!r}")


def _comparison_to(sr: SeriesReview, label: str) -> VersionComparison | None:
    for comparison in sr.comparisons:
        if comparison.to_label == label:
            return comparison
    return None


def _changes(lines: list[str], comparison: VersionComparison) -> None:
    result = comparison.comparison
    if result is None:
        _para(lines, "The comparison with the previous version could not be made.")
        return
    counts = Counter(pair.status for pair in result.pairs)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if result.added:
        summary += f", {len(result.added)} added"
    if result.dropped:
        summary += f", {len(result.dropped)} dropped"
    _para(lines, summary.strip(", ") or "No patches to compare.")
    for pair in result.pairs:
        if pair.status == "identical":
            continue
        moved = pair.from_index != pair.to_index
        where = f"{pair.from_index} -> {pair.to_index}" if moved else str(pair.to_index)
        _item(lines, f"{where} {pair.status}: {pair.title_to}")
    for patch in result.added:
        _item(lines, f"{patch.index} added: {patch.title}")
    for patch in result.dropped:
        _item(lines, f"{patch.index} dropped: {patch.title}")


def _review_comments(lines: list[str], sr: SeriesReview, label: str) -> None:
    """Review points on the previous version and what this one did with each."""
    followed = [c for c in sr.review_comments if c.next_version == label and c.patch_index]
    if not followed:
        return
    _heading(lines, "Review comments on the previous version")
    for comment in followed:
        first = comment.text.strip().split("\n")[0]
        stance = f"; author: {comment.stance}" if comment.stance else ""
        _item(
            lines,
            f"[{comment.verdict}] patch {comment.patch_index}, {person_name(comment.author)}: "
            f"{first}{stance}",
        )


def _migration(lines: list[str], sr: SeriesReview, label: str) -> None:
    migration = sr.migration
    if migration is None:
        return
    for revision in migration.revisions:
        if str(revision.version).lstrip("v") != label.lstrip("v"):
            continue
        counts = Counter(f.status for f in revision.files)
        _heading(lines, f"Migration {migration.old} -> {migration.new}")
        _para(lines, ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no files")
        for item in revision.files:
            if item.status in ("partial", "leftover"):
                where = ", ".join(f"{s.function or '?'}:{s.line}" for s in item.old_remaining)
                _item(
                    lines,
                    f"{item.status}: {item.path}"
                    + (f" (still calls the old API in {where})" if where else ""),
                )
        return


def _findings(lines: list[str], sr: SeriesReview, label: str) -> None:
    entry = sr.findings_of(label)
    if entry is None:
        return
    _heading(lines, "Page-reference findings")
    if not entry.available:
        _para(lines, f"The checker did not run: {entry.reason}")
        return
    if not entry.findings and not entry.fixed:
        if entry.not_checked:
            whole = len(entry.checked)
            _para(
                lines,
                f"No findings in the {whole} changed function(s) checked whole."
                if whole
                else "No findings, but nothing was checked whole: this is not an all-clear.",
            )
        else:
            _para(lines, "No findings.")
        _not_checked(lines, entry)
        return
    counts = Counter(f.status or "introduced" for f in entry.findings)
    _para(
        lines,
        f"{len(entry.findings)} in {label}: {counts.get('introduced', 0)} introduced, "
        f"{counts.get('persisting', 0)} persisting; {len(entry.fixed)} fixed since the "
        "previous version.",
    )
    for finding in (entry.findings + entry.fixed)[:FINDINGS_LISTED]:
        _finding(lines, finding)
    rest = len(entry.findings) + len(entry.fixed) - FINDINGS_LISTED
    if rest > 0:
        _para(lines, f"... and {rest} more in the full report.")
    _not_checked(lines, entry)


def _not_checked(lines: list[str], entry) -> None:  # noqa: ANN001 - RevisionFindings
    """The changed functions the checker could not check whole, and why."""
    if not entry.not_checked:
        return
    _para(
        lines,
        f"Not checked ({len(entry.not_checked)}): findings above cover only what was "
        "checked; these were not, or not whole:",
    )
    for item in entry.not_checked[:NOT_CHECKED_LISTED]:
        where = f"{item.file}: {item.function}" if item.function else item.file
        patch = f" (patch {item.patch_index})" if item.patch_index else ""
        _item(lines, f"{where}{patch}: {item.reason}: {item.detail}")
    rest = len(entry.not_checked) - NOT_CHECKED_LISTED
    if rest > 0:
        _item(lines, f"... and {rest} more in the full report")


def _finding(lines: list[str], finding: Finding) -> None:
    lines.append("")
    status = finding.status or "introduced"
    head = f"{finding.file}:{finding.line}: {finding.severity}: {finding.rule} [{status}]"
    lines.extend(_hard_wrap(head, ""))
    where = f"in {finding.function}()" if finding.function else ""
    if finding.patch_index:
        where += f", patch {finding.patch_index}"
    text = finding.message + (f" ({where.strip(', ')})" if where else "")
    lines.extend(_wrap(text, INDENT))
    if finding.config:
        lines.extend(_wrap(f"when {finding.config}", INDENT))
    for step in finding.trace[:TRACE_STEPS]:
        lines.extend(_wrap(step_text(step), INDENT * 2, INDENT * 2 + "  "))
    if len(finding.trace) > TRACE_STEPS:
        lines.append(f"{INDENT * 2}... {len(finding.trace) - TRACE_STEPS} more steps")


def _heading(lines: list[str], text: str) -> None:
    lines.append("")
    lines.extend(_hard_wrap(text, ""))
    lines.append("-" * min(len(text), MAX_COLUMNS))


def _para(lines: list[str], text: str) -> None:
    if lines and lines[-1] and not lines[-1].startswith("-"):
        lines.append("")
    lines.extend(_wrap(text, ""))


def _item(lines: list[str], text: str) -> None:
    lines.extend(_wrap(text, "- ", "  "))


def _wrap(text: str, first: str, rest: str | None = None) -> list[str]:
    wrapped = textwrap.wrap(
        " ".join(str(text).split()),
        width=MAX_COLUMNS,
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_long_words=True,
        break_on_hyphens=False,
    )
    return wrapped or [first.rstrip()]


def _hard_wrap(text: str, indent: str) -> list[str]:
    """Split text (a URL, a path) into chunks that fit, without adding spaces inside it."""
    room = MAX_COLUMNS - len(indent)
    return [indent + text[i : i + room] for i in range(0, max(len(text), 1), room)]


def _fit(line: str) -> str:
    # The last guard: nothing above should produce a longer line, but a mail that breaks the
    # limit is worse than a clipped one.
    return line if len(line) <= MAX_COLUMNS else line[:MAX_COLUMNS]
