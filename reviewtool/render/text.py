"""The report for a terminal: plain text, coloured only when asked (the CLI asks on a tty)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from reviewtool.render.view import diffstat, fmt_date, group_notes, person_name, step_text
from reviewtool.review import Review, SeriesReview, reviewers

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
# Trace steps shown per finding on a terminal before "... N more".
TRACE_LINES = 8


class _Painter:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, tone: str) -> str:
        if not self.color or tone not in COLORS:
            return text
        return f"\x1b[{COLORS[tone]}m{text}\x1b[0m"


def render_text(review: Review, color: bool = False) -> str:
    """The whole review as terminal text; ANSI colours only when `color` is true."""
    paint = _Painter(color)
    out: list[str] = []
    for sr in review.series_reviews:
        out.extend(_series_text(sr, paint))
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
    return terminal_safe("\n".join(out).rstrip() + "\n")


# Escape sequences this renderer writes itself; any other ESC came from mail.
_OUR_SGR = re.compile(
    "\x1b(?!\\[(?:" + "|".join(re.escape(c) for c in [*COLORS.values(), "0"]) + ")m)"
)
# Control characters but tab and newline (ESC is handled above), DEL and the C1 controls.
_CONTROLS = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0B, 0x1B), *range(0x1C, 0x20), *range(0x7F, 0xA0)], "\ufffd"
)


def terminal_safe(text: str) -> str:
    """Text with every control character from mail made visible and harmless: a subject
    carrying `ESC ]0;...` or `ESC [2J` must not retitle or clear the reviewer's terminal."""
    return _OUR_SGR.sub("\ufffd", text).translate(_CONTROLS)


def _series_text(sr: SeriesReview, paint: _Painter) -> list[str]:
    series = sr.series
    out = [paint(f"{sr.index}. {series.title}", "title")]
    for revision in series.revisions:
        reviewed = sum(1 for p in revision.patches if reviewers(p))
        extra = []
        if revision.missing:
            extra.append(paint(f"missing {','.join(map(str, revision.missing))}", "bad"))
        if revision.duplicates:
            extra.append(paint(f"duplicate {','.join(map(str, revision.duplicates))}", "warn"))
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
            out.append(
                f"  {patch.index:>2}/{patch.total or len(latest.patches)} {patch.title}"
                f"  {paint(f'+{stat.added}', 'ok')} {paint(f'-{stat.removed}', 'bad')}"
                f"  [{review_text}]"
            )
    for comparison in sr.comparisons:
        out.append("")
        out.append(paint(f"{comparison.label}", "title"))
        if comparison.data is None:
            out.append(paint("  comparison unavailable (see notes)", "dim"))
            continue
        out.extend(_comparison_lines(comparison.data, paint))
        for item in comparison.changelog or []:
            verdict = str(item.get("verdict", ""))
            badge = paint(f"[{verdict}]", VERDICT_TONE.get(verdict, "dim"))
            out.append(f"  {badge} {item.get('item', '')}")
        for change in comparison.data.get("undocumented") or []:
            text = change.get("summary", change) if isinstance(change, dict) else change
            out.append(f"  {paint('[undocumented]', 'warn')} {text}")
    if sr.migration_data:
        out.append("")
        out.extend(_migration_lines(sr.migration_data, paint))
    out.extend(_findings_lines(sr, paint))
    return out


def _comparison_lines(data: dict[str, Any], paint: _Painter) -> list[str]:
    out = []
    for pair in data.get("pairs") or []:
        if not isinstance(pair, dict):
            continue
        status = str(pair.get("status", ""))
        tone = "dim" if status == "identical" else ("warn" if "code" in status else "info")
        title = pair.get("title_to", "")
        out.append(
            f"  {pair.get('from_index')} -> {pair.get('to_index')}  {paint(status, tone)}  {title}"
        )
    for added in data.get("added") or []:
        title = added.get("title", "") if isinstance(added, dict) else ""
        index = added.get("index", "") if isinstance(added, dict) else added
        out.append(f"  + {index}  {paint('added', 'info')}  {title}")
    for dropped in data.get("dropped") or []:
        title = dropped.get("title", "") if isinstance(dropped, dict) else ""
        index = dropped.get("index", "") if isinstance(dropped, dict) else dropped
        out.append(f"  - {index}  {paint('dropped', 'bad')}  {title}")
    return out


def _migration_lines(data: dict[str, Any], paint: _Painter) -> list[str]:
    revisions = [r for r in data.get("revisions") or [] if isinstance(r, dict)]
    out = [paint(f"Migration {data.get('old', '?')} -> {data.get('new', '?')}", "title")]
    if not revisions:
        return out
    latest = revisions[-1]
    counts = Counter(str(f.get("status", "")) for f in latest.get("files") or [])
    version = latest.get("version", "")
    label = f"v{version}" if str(version).isdigit() else str(version)
    out.append("  " + label + ": " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    for item in latest.get("files") or []:
        status = str(item.get("status", ""))
        tone = {"migrated": "ok", "partial": "warn", "leftover": "bad"}.get(status, "dim")
        out.append(
            f"  {paint(f'{status:<10}', tone)} {item.get('path', '')}"
            f"  -{len(item.get('old_removed') or [])} ={len(item.get('old_remaining') or [])}"
            f" +{len(item.get('new_added') or [])}"
        )
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
