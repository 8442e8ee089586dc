"""From the stored mail of one revision to what the reply says: the bot's door to the review.

The same analyses as `reviewtool report` run here; the bot adds nothing of its own but the
note on what is missing. The series is cut at the revision being answered, so a backlog read
in one go still compares each version with the one before it, not with a later one.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewtool.bot.state import PendingRevision, SeenMessage
from reviewtool.mail import Mail, parse_mail
from reviewtool.series.model import Accounting, Revision, Series

if TYPE_CHECKING:
    from reviewtool.review import Review

# Reply bodies are read in mail clients set to 72 columns on kernel lists.
REPLY_WIDTH = 72
# How many patch titles the reply lists when the renderer is not there to summarise.
MAX_LISTED_PATCHES = 30


@dataclass
class Summary:
    """What the bot found for one revision and the text of its reply."""

    label: str
    title: str
    text: str
    findings: int
    missing: list[int]
    target: Mail  # the message the reply answers: the cover, else the first patch
    target_data: bytes
    report_html: str | None = None
    notes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # analyses that could not run
    changes: str = ""  # "since v7: 6 identical, 2 modified", for the short reply
    patches: int = 0  # patch mails of the revision that arrived
    # Changed functions of the revision the checker could not check whole ("file: function").
    not_checked: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        """Nothing found, nothing missing, everything checked: the reply may be short or left
        out. A revision the checker saw only in part is never clean."""
        return self.findings == 0 and not self.missing and not self.notes and not self.not_checked


def summarize(
    pending: PendingRevision,
    revision_rows: Sequence[SeenMessage],
    history_rows: Sequence[SeenMessage],
    report_url: str | None = None,
    want_html: bool = False,
) -> Summary:
    """Review one revision (with its earlier versions from `history_rows`) and summarise it."""
    mails = _decode(revision_rows)
    if not mails:
        raise ValueError(f"revision {pending.key} has no readable mail")
    own_ids = {m.message_id for m in mails}
    target = _target(mails)
    target_data = next(r.data for r in revision_rows if r.message_id == target.message_id)
    history = [m for m in _decode(history_rows) if m.message_id not in own_ids]
    missing = pending.missing()
    label = target.prefix.label
    title = target.title

    series, revision, accounting = _locate(mails + history, own_ids)
    review = None
    notes: list[str] = []
    if series is not None and revision is not None:
        label = revision.label
        title = revision.title or series.title or title
        review, why = _review(series, revision, accounting)
        if review is None:
            notes.append(why)
    findings = _count_findings(review)
    unchecked = _unchecked(review)
    not_checked = _not_checked(review)
    text = _render_text(review, label, report_url)
    if text is None:
        text = _fallback_text(mails, label, title, findings, notes)
    if revision is None or not revision.missing:
        # The renderer names missing patches it knows of; say it here when it could not.
        text = missing_note(missing, pending.total) + text
    html = _render_html(review) if (want_html and review is not None) else None
    return Summary(
        label=label,
        title=title,
        text=wrap(text),
        findings=findings,
        missing=missing,
        target=target,
        target_data=target_data,
        report_html=html,
        notes=notes,
        unchecked=unchecked,
        changes=_changes_line(review, label),
        patches=sum(1 for m in mails if not (m.prefix.counters_explicit and m.prefix.index == 0)),
        not_checked=not_checked,
    )


def _decode(rows: Sequence[SeenMessage]) -> list[Mail]:
    out = []
    for row in rows:
        if not row.data:
            continue
        try:
            out.append(parse_mail(row.data, row.location))
        except Exception:  # noqa: BLE001 - it parsed at ingest; a failure now only drops it
            continue
    return out


def _target(mails: list[Mail]) -> Mail:
    """The cover when there is one, else the lowest-numbered patch."""
    covers = [m for m in mails if m.prefix.counters_explicit and m.prefix.index == 0]
    if covers:
        return covers[0]
    return min(mails, key=lambda m: (m.prefix.index or 1, m.date is None, m.message_id))


def _locate(
    mails: list[Mail], own_ids: set[str]
) -> tuple[Series | None, Revision | None, Accounting]:
    """Assemble the mails and find the series and revision the answered mail belongs to."""
    try:
        from reviewtool.series.assemble import assemble
    except ImportError:
        return None, None, Accounting(read=len(mails))
    collection = assemble(mails)
    for series in collection.series:
        for position, revision in enumerate(series.revisions):
            ids = {p.message_id for p in revision.patches}
            if revision.cover is not None:
                ids.add(revision.cover.message_id)
            if ids & own_ids:
                cut = Series(
                    title=series.title,
                    change_id=series.change_id,
                    revisions=series.revisions[: position + 1],
                    linked_by=series.linked_by,
                )
                return cut, revision, collection.accounting
    return None, None, collection.accounting


def _review(series: Series, revision: Revision, accounting: Accounting) -> tuple[Any, str]:
    """A Review of the one series, or None with the reason."""
    try:
        from reviewtool.review import Review, review_series
    except ImportError as exc:
        return None, f"review unavailable: {exc}"
    try:
        series_review = review_series(series, index=1)
    except Exception as exc:  # noqa: BLE001 - one series the analyses choke on must not stop the bot
        return None, f"review failed: {type(exc).__name__}: {exc}"
    review = Review(series_reviews=[series_review], accounting=accounting, all_series=[series])
    return review, ""


def _changes_line(review: Review | None, label: str) -> str:
    """`since v7: 3 identical, 1 modified, 1 added` from the range-diff, or ''."""
    if review is None or not review.series_reviews:
        return ""
    comparison = review.series_reviews[0].comparison_to(label)
    result = comparison.comparison if comparison is not None else None
    if comparison is None or result is None:
        return ""
    counts: dict[str, int] = {}
    for pair in result.pairs:
        counts[pair.status] = counts.get(pair.status, 0) + 1
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    for name, patches in (("added", result.added), ("dropped", result.dropped)):
        if patches:
            parts.append(f"{len(patches)} {name}")
    return f"since {comparison.from_label}: {', '.join(parts)}" if parts else ""


def _unchecked(review: Review | None) -> list[str]:
    """Names of the analyses that did not run, each once."""
    if review is None:
        return ["review"]
    return list(dict.fromkeys(note.analysis for note in review.unavailable()))


def _not_checked(review: Review | None) -> list[str]:
    """`file: function` of every changed function the checker could not check whole."""
    if review is None:
        return []
    items = review.not_checked()
    return list(dict.fromkeys(f"{i.file}: {i.function}" if i.function else i.file for i in items))


def _count_findings(review: Review | None) -> int:
    return len(review.findings()) if review is not None else 0


def _render_text(review: Any, label: str, report_url: str | None) -> str | None:
    if review is None:
        return None
    try:
        module = importlib.import_module("reviewtool.render.email")
    except ImportError:
        return None
    try:
        return module.render_email_summary(review, label, report_url=report_url)
    except Exception:  # noqa: BLE001 - fall back to the plain summary rather than no reply
        return None


def _render_html(review: Any) -> str | None:
    try:
        from reviewtool.render.html import render_html

        return render_html(review)
    except Exception:  # noqa: BLE001 - the reply goes out without its link rather than not at all
        return None


def _fallback_text(
    mails: list[Mail], label: str, title: str, findings: int, notes: list[str]
) -> str:
    """A summary from the series data alone, for when the renderer is not there."""
    patches = sorted(
        (m for m in mails if not (m.prefix.counters_explicit and m.prefix.index == 0)),
        key=lambda m: m.prefix.index or 1,
    )
    total = max((m.prefix.total or 1 for m in mails), default=len(patches))
    lines = [f'reviewtool read {label} of "{title}": {len(patches)} of {total} patches.', ""]
    for mail in patches[:MAX_LISTED_PATCHES]:
        lines.append(f"  [{mail.prefix.index or 1}/{mail.prefix.total or 1}] {mail.title}")
    if len(patches) > MAX_LISTED_PATCHES:
        lines.append(f"  ... and {len(patches) - MAX_LISTED_PATCHES} more")
    lines.append("")
    lines.append(f"Findings: {findings}." if findings else "No findings.")
    for note in notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def missing_note(missing: list[int], total: int | None) -> str:
    """The paragraph that says which patches never arrived, or ''."""
    if not missing:
        return ""
    numbers = ", ".join(f"{i}/{total}" for i in missing)
    return (
        f"Not all of this revision reached the list in time: missing {numbers}.\n"
        "The review below covers only the patches that arrived.\n\n"
    )


_URL_RE = re.compile(r"^\S*://\S+$")


def wrap(text: str, width: int = REPLY_WIDTH) -> str:
    """Wrap every line to `width` columns, keeping indentation; a lone URL is left whole."""
    import textwrap

    out: list[str] = []
    for line in text.rstrip("\n").split("\n"):
        line = line if line == "-- " else line.rstrip()  # keep the signature separator
        if len(line) <= width or _URL_RE.match(line.strip()):
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        body = line.lstrip()
        bullet = re.match(r"^([-*]|\d+[.)]|\[\d+/\d+\])\s+", body)
        follow = indent + " " * (len(bullet.group(0)) if bullet else 0)
        out.extend(
            textwrap.wrap(
                body,
                width=width,
                initial_indent=indent,
                subsequent_indent=follow,
                break_long_words=True,
                break_on_hyphens=False,
            )
        )
    return "\n".join(out) + "\n"


def report_name(key: str, label: str) -> str:
    """A file name for the HTML report of one revision, stable across runs."""
    import hashlib

    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return f"{label}-{digest}.html"


def write_report(report_dir: Path, name: str, html: str) -> Path:
    """Write the report atomically (a reader never sees half a page)."""
    from reviewtool.outfile import write_output

    report_dir.mkdir(parents=True, exist_ok=True)  # the configured directory, the bot's own
    return write_output(report_dir / name, html.encode("utf-8", "replace"))
