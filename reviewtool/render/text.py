"""The report for a terminal: plain text, coloured only when asked (the CLI asks on a tty)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from reviewtool.render.terminal import Painter, terminal_safe  # noqa: F401 - re-exported
from reviewtool.render.view import (
    diffstat,
    fmt_date,
    group_notes,
    patch_count_text,
    person_name,
    step_text,
)
from reviewtool.review import Review, SeriesReview, reviewers
from reviewtool.review.flags import CARRIED_OVER_CHANGED, UNCHANGED, fresh_reviewers, patch_flags
from reviewtool.review.verdict import NOT_CHECKED, PARTIAL, Part, compact_ranges, series_verdict

if TYPE_CHECKING:
    from reviewtool.analyses.migration import MigrationMap
    from reviewtool.analyses.rangediff import Comparison

# ANSI SGR codes by meaning, so a palette change is one edit.
COLORS = {
    "title": "1",
    "dim": "2",
    "ok": "32",
    "bad": "1;31",
    "warn": "33",
    "info": "36",
}
SEVERITY_TONE = {"error": "bad", "warning": "warn", "info": "info"}
STATUS_TONE = {"introduced": "bad", "persisting": "warn", "fixed": "ok"}
VERDICT_TONE = {"confirmed": "ok", "not-found": "bad", "vague": "warn"}
COMMENT_TONE = {"changed": "ok", "unchanged": "bad", "pending": "warn", "patch-dropped": "info"}
# Trace steps shown per finding on a terminal before "... N more".
TRACE_LINES = 8


def _Painter(color: bool) -> Painter:  # noqa: N802 - the name the renderers already use
    """The terminal painter with this renderer's colours (render.terminal)."""
    return Painter(color, COLORS)


def render_text(review: Review, color: bool = False) -> str:
    """The whole review as terminal text; ANSI colours only when `color` is true."""
    paint = _Painter(color)
    out: list[str] = []
    for sr in review.series_reviews:
        out.extend(_series_text(sr, paint))
        out.append("")
    others = review.other_series()
    if others:
        out.append(paint("Other series in the input (not reviewed here):", "title"))
        for series in others:
            out.append(f"  {series.title}")
            for revision in reversed(series.revisions):
                out.append(
                    f"    {revision.label:<6} {fmt_date(revision.date):<16}  "
                    f"{patch_count_text(revision)}"
                )
        out.append("")
    acc = review.accounting
    out.append(
        paint("Messages read: ", "title")
        + f"{acc.read} (cover {acc.cover}, patch {acc.patch}, reply {acc.reply}, "
        f"other {acc.other}, rejected {len(acc.rejected)})"
        + ("" if acc.balanced() else paint("  buckets do not add up", "bad"))
    )
    for rejected in acc.rejected:
        out.append(f"  rejected {rejected.source}: {rejected.reason}")
    notes = group_notes(review.unavailable())
    if notes:
        out.append(paint("Not run:", "warn"))
        for note in notes:
            out.append(f"  {note.analysis} ({note.scope}): {note.reason}")
    return paint.finish("\n".join(out).rstrip() + "\n")


def _verdict_lines(sr: SeriesReview, paint: _Painter) -> list[str]:
    """What to act on in the latest version, first; each part says when it was not checked."""
    verdict = series_verdict(sr)
    if verdict.judged is None:
        return [paint("  no version's patches are in the input: nothing was checked", "warn")]
    head = f"Verdict on {verdict.judged}"
    if verdict.previous:
        head += f" (compared with {verdict.previous})"
    out = [paint(head, "title")]
    for revision in verdict.cover_only:
        total = f", {revision.total} patches, none in the input" if revision.total else ""
        out.append(
            paint(
                f"  {revision.label} is newer but only its cover letter is in the input{total}",
                "warn",
            )
        )

    def state(part: Part, what: str) -> str | None:
        if part.state == NOT_CHECKED:
            return paint(f"  {what}: not checked ({part.reason})", "dim")
        return None

    line = state(verdict.findings, "findings")
    if line:
        out.append(line)
    else:
        out.append(
            f"  findings introduced: {len(verdict.introduced)}"
            + (f" ({verdict.findings.reason})" if verdict.findings.state == PARTIAL else "")
        )
        for finding in verdict.introduced:
            out.append(
                "    " + paint(finding.compiler_line(), SEVERITY_TONE.get(finding.severity, "dim"))
            )
    line = state(verdict.changelog, "changelog claims")
    if line:
        out.append(line)
    else:
        out.append(f"  changelog claims not found: {len(verdict.claims_not_found)}")
        for claim in verdict.claims_not_found:
            out.append(f"    {paint('[not-found]', 'bad')} {claim.item}")
            if claim.reason:
                out.append(paint(f"        {claim.reason}", "dim"))
    line = state(verdict.comments, "review comments")
    if line:
        out.append(line)
    else:
        out.append(
            f"  review comments still open: {len(verdict.open_comments)} of {verdict.comments_seen}"
        )
        for comment in verdict.open_comments:
            first = comment.text.strip().split("\n")[0]
            badge = paint(f"[{comment.verdict}]", COMMENT_TONE.get(comment.verdict, "dim"))
            out.append(
                f"    {badge} {comment.version} patch {comment.patch_index}, "
                f"{person_name(comment.author)}: {first}"
            )
    line = state(verdict.reviews, "reviews")
    if line:
        out.append(line)
    else:
        out.append(f"  patches without Reviewed-by or Acked-by: {len(verdict.unreviewed)}")
        for patch in verdict.unreviewed:
            out.append(f"    {patch.index} {patch.title}")
        if verdict.stale_reviews:
            out.append(
                paint(
                    "  review carried over changed code (not counted as reviewed): "
                    f"{len(verdict.stale_reviews)}",
                    "warn",
                )
            )
            for patch in verdict.stale_reviews:
                given = ", ".join(f"{t.name}: {t.value}" for t in patch.carried_over_changed)
                out.append(f"    {patch.index} {patch.title} ({given})")
        if verdict.reviews.state == PARTIAL:
            out.append(paint(f"    partial: {verdict.reviews.reason}", "dim"))
    line = state(verdict.comparison, "changes")
    if line:
        out.append(line)
    elif verdict.previous:
        changed = sum(1 for c in verdict.changes if c.change not in ("identical", ""))
        out.append(
            f"  changed since {verdict.previous}: {changed} of {len(verdict.changes)} patches"
        )
    for change in verdict.changes:
        if change.change in ("identical", ""):
            continue
        out.append(
            f"    {change.index} {change.change}: {change.title}"
            + (f" ({change.detail})" if change.detail else "")
        )
    for index, title in verdict.dropped:
        out.append(f"    {index} dropped: {title}")
    return out


def _series_text(sr: SeriesReview, paint: _Painter) -> list[str]:
    series = sr.series
    out = [paint(f"{sr.index}. {series.title}", "title")]
    out.extend(_verdict_lines(sr, paint))
    out.append("")
    for revision in reversed(series.revisions):
        # A review carried over changed code vouches for other code (review.flags).
        reviewed = sum(1 for p in revision.patches if fresh_reviewers(p))
        extra = []
        if revision.missing and revision.patches:
            extra.append(paint(f"missing {compact_ranges(revision.missing)}", "bad"))
        if revision.duplicates:
            extra.append(paint(f"duplicate {','.join(map(str, revision.duplicates))}", "warn"))
        if not revision.patches:
            out.append(
                f"  {revision.label:<6} {fmt_date(revision.date):<16}  "
                f"{patch_count_text(revision)}  {person_name(revision.author)}"
            )
            continue
        out.append(
            f"  {revision.label:<6} {fmt_date(revision.date):<16}  "
            f"{len(revision.patches):>3} patches  {reviewed}/{len(revision.patches)} reviewed  "
            f"{person_name(revision.author)}" + ("  " + " ".join(extra) if extra else "")
        )
    latest = sr.latest
    if latest is not None:
        out.append("")
        out.append(paint(f"{latest.label} patches", "title"))
        for patch in latest.patches:
            stat = diffstat(patch.diff)
            names = ", ".join(person_name(v) for v in reviewers(patch))
            review_text = paint(names, "ok") if names else paint("no review yet", "warn")
            flags = patch_flags(patch)
            same = [paint(f"[{f.text}]", "dim") for f in flags if f.kind == UNCHANGED]
            out.append(
                f"  {patch.index:>2}/{patch.total or len(latest.patches)} {patch.title}"
                f"  {paint(f'+{stat.added}', 'ok')} {paint(f'-{stat.removed}', 'bad')}"
                f"  [{review_text}]" + "".join(f"  {s}" for s in same)
            )
            for flag in flags:
                if flag.kind == CARRIED_OVER_CHANGED:
                    out.append("       " + paint(f"! {flag.text}: {flag.detail}", "bad"))
    for comparison in sr.comparisons:
        out.append("")
        out.append(paint(f"{comparison.label}", "title"))
        result = comparison.comparison
        if result is None:
            out.append(paint("  comparison unavailable (see notes)", "dim"))
            continue
        out.extend(_comparison_lines(result, paint))
        for verdict in comparison.verdicts or []:
            badge = paint(f"[{verdict.verdict}]", VERDICT_TONE.get(verdict.verdict, "dim"))
            out.append(f"  {badge} {verdict.item}")
            if verdict.verdict == "not-found" and verdict.reason:
                out.append(paint(f"      {verdict.reason}", "dim"))
        for change in comparison.undocumented:
            out.append(f"  {paint('[undocumented]', 'warn')} {change.summary}")
    if sr.migration is not None:
        out.append("")
        out.extend(_migration_lines(sr.migration, paint))
    out.extend(_findings_lines(sr, paint))
    out.extend(_comment_lines(sr, paint))
    return out


def _comparison_lines(result: Comparison, paint: _Painter) -> list[str]:
    out = []
    for pair in result.pairs:
        status = pair.status
        tone = "dim" if status == "identical" else ("warn" if "code" in status else "info")
        out.append(
            f"  {pair.from_index} -> {pair.to_index}  {paint(status, tone)}  {pair.title_to}"
        )
    for added in result.added:
        out.append(f"  + {added.index}  {paint('added', 'info')}  {added.title}")
    for dropped in result.dropped:
        out.append(f"  - {dropped.index}  {paint('dropped', 'bad')}  {dropped.title}")
    return out


def _migration_lines(migration: MigrationMap, paint: _Painter) -> list[str]:
    out = [paint(f"Migration {migration.old} -> {migration.new}", "title")]
    if not migration.revisions:
        return out
    latest = migration.revisions[-1]
    counts = Counter(f.status for f in latest.files)
    version = str(latest.version)
    label = f"v{version}" if version.isdigit() else version
    out.append("  " + label + ": " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for item in latest.files:
        tone = {"migrated": "ok", "partial": "warn", "leftover": "bad"}.get(item.status, "dim")
        out.append(
            f"  {paint(f'{item.status:<10}', tone)} {item.path}"
            f"  -{len(item.old_removed)} ={len(item.old_remaining)} +{len(item.new_added)}"
        )
    return out


def _comment_lines(sr: SeriesReview, paint: _Painter) -> list[str]:
    """Review comments and what the next version did with each."""
    if not sr.review_comments:
        return []
    out = ["", paint("Review comments", "title")]
    for comment in sr.review_comments:
        where = f"patch {comment.patch_index}" if comment.patch_index else "cover"
        tone = COMMENT_TONE.get(comment.verdict, "dim")
        first = comment.text.strip().split("\n")[0]
        out.append(
            f"  {comment.version} {where}  {paint(f'[{comment.verdict}]', tone)}  "
            f"{person_name(comment.author)}: {first}"
        )
        out.append(paint(f"      {comment.evidence}", "dim"))
        for answer in comment.answers:
            out.append(paint(f"      author answered ({answer.stance})", "dim"))
    return out


def _findings_lines(sr: SeriesReview, paint: _Painter) -> list[str]:
    if not sr.findings:
        return []
    entry = sr.findings[-1]
    out = ["", paint(f"Findings in {entry.label}", "title")]
    if not entry.available:
        out.append(paint(f"  checker unavailable: {entry.reason}", "dim"))
        return out
    if not entry.findings and not entry.fixed:
        if entry.not_checked:
            # Silence about code the checker did not see whole is not an all-clear.
            whole = len(entry.checked)
            out.append(
                paint(f"  none in the {whole} changed function(s) checked whole", "dim")
                if whole
                else paint("  none, but NOTHING was checked whole", "bad")
            )
        else:
            out.append(paint("  none", "ok"))
    for finding in entry.findings + entry.fixed:
        status = finding.status or "introduced"
        out.append(
            "  "
            + paint(f"{finding.file}:{finding.line}:", "title")
            + " "
            + paint(f"{finding.severity}:", SEVERITY_TONE.get(finding.severity, "dim"))
            + f" {finding.rule}: {finding.message} "
            + paint(f"[{status}]", STATUS_TONE.get(status, "dim"))
        )
        if finding.config:
            out.append(paint(f"      when {finding.config}", "dim"))
        for step in finding.trace[:TRACE_LINES]:
            out.append(f"      {step_text(step)}")
        if len(finding.trace) > TRACE_LINES:
            out.append(paint(f"      ... {len(finding.trace) - TRACE_LINES} more steps", "dim"))
    out.extend(_not_checked_lines(entry, paint))
    return out


def _not_checked_lines(entry, paint: _Painter) -> list[str]:  # noqa: ANN001 - RevisionFindings
    """Every changed function the checker could not check whole, and why."""
    if not entry.not_checked:
        return []
    out = [paint(f"  Not checked in {entry.label}: {len(entry.not_checked)}", "title")]
    for item in entry.not_checked:
        patch = f" [patch {item.patch_index}]" if item.patch_index else ""
        out.append(f"    {item.text()}{patch}")
    return out
