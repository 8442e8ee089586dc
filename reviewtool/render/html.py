"""The HTML report: one self-contained file rendered from `templates/` with autoescaping on.

Everything the template shows is prepared here as plain values; text that came from mail only
ever reaches the page through Jinja's escaping or through Pygments (which escapes too), so a
subject or a file name carrying markup shows as text. The page loads nothing: its CSS is inline,
it has no script, and a Content-Security-Policy says so to the browser as well.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

import reviewtool
from reviewtool.render.code import diff_rows, pygments_css
from reviewtool.render.safe_html import text_html, visible_html
from reviewtool.render.sections import (
    comparison_view,
    findings_view,
    migration_view,
    patch_anchor,
)
from reviewtool.render.verdict import comment_view, reply_view, verdict_view
from reviewtool.render.view import (
    MailLinks,
    diffstat,
    fmt_date,
    fmt_day,
    group_notes,
    patch_count_text,
    person_name,
)
from reviewtool.review import (
    Review,
    SeriesReview,
)
from reviewtool.review.flags import fresh_reviewers, patch_flags
from reviewtool.review.verdict import compact_ranges, series_verdict
from reviewtool.series.model import Revision, Series

_PACKAGE = Path(reviewtool.__file__).resolve().parent
# Where the templates are looked for: the repository's top-level `templates/` (a checkout or an
# editable install), then a copy inside the package (a wheel that ships them as package data).
TEMPLATE_DIRS = (_PACKAGE.parent / "templates", _PACKAGE / "templates")
TEMPLATES_DIR = next((d for d in TEMPLATE_DIRS if d.is_dir()), TEMPLATE_DIRS[0])
REPORT_TEMPLATE = "report.html.j2"
REPORT_CSS = "report.css"
# The timeline's drawing box, in SVG user units.
TIMELINE_WIDTH = 1000
TIMELINE_MARGIN = 80
TIMELINE_AXIS = 90
# Width a label (version and date) takes on the axis, in SVG units (a 10-character date at
# 11 px is about 70 units; a margin keeps neighbours apart).
TIMELINE_LABEL_WIDTH = 84
# Label lanes in the order they are tried: (version text y, date text y, tick end y).
TIMELINE_LANES = ((62, 75, 80), (116, 129, 104), (26, 39, 44), (152, 165, 140))
# Show the full diff of each patch for the latest revision only: earlier ones are reachable
# through the comparisons, and eight versions of full diffs would bury the page.
DIFFS_OF_LATEST_ONLY = True
# Verdicts of changelog items, and the badge colour each gets.
VERDICT_CLASSES = {
    "confirmed": "ok",
    "not-found": "bad",
    "vague": "warn",
    "undocumented": "warn",
}
STATUS_CLASSES = {"introduced": "bad", "persisting": "warn", "fixed": "ok"}
MIGRATION_CLASSES = {
    "migrated": "ok",
    "partial": "warn",
    "untouched": "muted",
    "leftover": "bad",
    "other API": "info",
    "declarations": "muted",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def render_html(review: Review) -> str:
    """The whole report as one HTML document."""
    env = _environment()
    template = env.get_template(REPORT_TEMPLATE)
    return template.render(page=_page(review))


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    if not (TEMPLATES_DIR / REPORT_TEMPLATE).is_file():
        from reviewtool.errors import InputError

        raise InputError(
            f"report template {REPORT_TEMPLATE} not found in {' or '.join(map(str, TEMPLATE_DIRS))}"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible_html,  # every printed value: controls from mail shown
    )
    env.globals["badge_class"] = _badge_class
    env.filters["person"] = person_name
    env.filters["pathbreak"] = _path_breaks
    return env


def _path_breaks(path: str) -> Markup:
    """A file path that may wrap after each slash: escaped first, then <wbr> added."""
    return Markup("/<wbr>").join(text_html(part) for part in str(path).split("/"))


def _badge_class(kind: str, value: Any) -> str:
    table = {
        "verdict": VERDICT_CLASSES,
        "status": STATUS_CLASSES,
        "migration": MIGRATION_CLASSES,
        "severity": {"error": "bad", "warning": "warn", "info": "info"},
    }.get(kind, {})
    return table.get(str(value), "muted")


@lru_cache(maxsize=1)
def _page_css() -> str:
    # Read as text, not rendered as a template: CSS braces are not Jinja syntax.
    return (TEMPLATES_DIR / REPORT_CSS).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the page


def _page(review: Review) -> dict[str, Any]:
    links = MailLinks(review.archive_url)
    series = [_series_view(sr, links) for sr in review.series_reviews]
    title = series[0]["title"] if len(series) == 1 else f"{len(series)} series"
    accounting = review.accounting
    return {
        "title": title,
        "csp": CSP,
        "css": Markup(_page_css()),
        "pygments_css": Markup(pygments_css()),
        "generated": review.generated.strftime("%Y-%m-%d %H:%M UTC"),
        "tool_version": review.tool_version,
        "sources": review.sources,
        "repo": review.repo,
        "series": series,
        "accounting": {
            "read": accounting.read,
            "rows": [
                ("cover letters", accounting.cover),
                ("patches", accounting.patch),
                ("replies", accounting.reply),
                ("other mail", accounting.other),
                ("rejected", len(accounting.rejected)),
            ],
            "rejected": accounting.rejected,
            "balanced": accounting.balanced(),
        },
        "notes": group_notes(review.unavailable()),
        "other_series": [_other_series_view(s) for s in review.other_series()],
        "archive_url": review.archive_url,
    }


def _other_series_view(series: Series) -> dict[str, Any]:
    """A series left out of the review (often one whose patches are not in the input): its
    versions with dates and patch counts, so it is listed, not lost."""
    return {
        "title": series.title,
        "versions": [
            {
                "label": r.label,
                "date": fmt_day(r.date),
                "count": patch_count_text(r),
            }
            for r in reversed(series.revisions)
        ],
    }


def _series_view(sr: SeriesReview, links: MailLinks) -> dict[str, Any]:
    prefix = f"s{sr.index}"
    revisions = list(sr.series.revisions)
    latest = sr.latest
    judged = sr.latest_with_patches
    findings = findings_view(sr, prefix)
    comparisons = [comparison_view(c, sr, prefix) for c in sr.comparisons]
    view = {
        "id": prefix,
        "title": sr.series.title,
        "change_id": sr.series.change_id,
        "linked_by": sr.series.linked_by,
        "latest": latest.label if latest else "",
        "judged": judged.label if judged else "",
        "authors": _authors(revisions),
        "timeline": _timeline(revisions),
        # Newest first, as a maintainer reads them; only the judged version unfolded.
        "revisions": [
            _revision_view(
                r,
                prefix,
                links,
                with_diffs=(r is judged or not DIFFS_OF_LATEST_ONLY),
                folded=r is not judged,
            )
            for r in reversed(revisions)
        ],
        "comparisons": list(reversed(comparisons)),
        "migration": migration_view(sr.migration),
        "findings": findings,
        "notes": sr.unavailable(),
    }
    view["verdict"] = verdict_view(series_verdict(sr), sr, prefix, links, comparisons, findings)
    view["comments"] = [comment_view(c, prefix, links, sr) for c in sr.review_comments]
    view["toc"] = _toc(view)
    return view


def _toc(view: dict[str, Any]) -> list[dict[str, Any]]:
    prefix = view["id"]
    entries = [{"id": f"{prefix}-verdict", "label": "Verdict", "children": []}]
    entries.append(
        {
            "id": f"{prefix}-comparisons",
            "label": "Version comparison",
            "children": [{"id": c["anchor"], "label": c["label"]} for c in view["comparisons"]],
        }
    )
    entries.append({"id": f"{prefix}-findings", "label": "Findings", "children": []})
    entries.append({"id": f"{prefix}-comments", "label": "Review comments", "children": []})
    entries.append(
        {
            "id": f"{prefix}-revisions",
            "label": "Revisions",
            "children": [{"id": r["anchor"], "label": r["label"]} for r in view["revisions"]],
        }
    )
    entries.append({"id": f"{prefix}-migration", "label": "Migration map", "children": []})
    entries.append({"id": f"{prefix}-overview", "label": "History", "children": []})
    return entries


def _authors(revisions: list[Revision]) -> list[str]:
    seen: dict[str, None] = {}
    for revision in revisions:
        for patch in revision.patches:
            seen.setdefault(person_name(patch.author), None)
    return list(seen)


# --------------------------------------------------------------------------- overview


def _timeline(revisions: list[Revision]) -> dict[str, Any]:
    """Points of an SVG timeline: x by date when dates are known, evenly spaced otherwise."""
    dated = [_ts(r.date) for r in revisions if r.date is not None]
    span_lo = min(dated) if dated else None
    span_hi = max(dated) if dated else None
    inner = TIMELINE_WIDTH - 2 * TIMELINE_MARGIN
    points = []
    for position, revision in enumerate(revisions):
        if span_lo is not None and span_hi is not None and revision.date and span_hi > span_lo:
            frac = (_ts(revision.date) - span_lo) / (span_hi - span_lo)
        else:
            frac = position / max(len(revisions) - 1, 1)
        # A review carried over changed code vouches for other code (review.flags).
        reviewed = sum(1 for p in revision.patches if fresh_reviewers(p))
        points.append(
            {
                "label": revision.label,
                "x": round(TIMELINE_MARGIN + frac * inner, 1),
                "date": fmt_day(revision.date),
                "datetime": fmt_date(revision.date),
                "patches": len(revision.patches),
                "total": revision.total,
                "reviewed": reviewed,
                "author": person_name(revision.author),
                "cover": revision.cover.mail.title if revision.cover else "",
                "partial": revision.partial,
                "missing": compact_ranges(revision.missing),
                "count": patch_count_text(revision),
                "flags": sorted(revision.flags),
            }
        )
    _place_labels(points)
    # Crop the drawing to the lanes in use: two versions need one row of labels, not four.
    ys = [p["label_y"] - 14 for p in points] + [p["date_y"] + 6 for p in points]
    top = min([TIMELINE_AXIS - 16, *ys])
    bottom = max([TIMELINE_AXIS + 16, *ys])
    return {
        "width": TIMELINE_WIDTH,
        "top": top,
        "height": bottom - top,
        "axis": TIMELINE_AXIS,
        "points": points,
    }


def _place_labels(points: list[dict[str, Any]]) -> None:
    """Give each point's label a lane (near or far, above or below the axis) where it does not
    overlap the label before it: versions sent days apart sit a few units apart on a years-long
    axis, and their labels would otherwise print over each other."""
    ends = [float("-inf")] * len(TIMELINE_LANES)
    for point in points:
        start = point["x"] - TIMELINE_LABEL_WIDTH / 2
        free = [i for i, end in enumerate(ends) if end <= start]
        lane = free[0] if free else min(range(len(ends)), key=lambda i: ends[i])
        ends[lane] = point["x"] + TIMELINE_LABEL_WIDTH / 2
        label_y, date_y, tick_end = TIMELINE_LANES[lane]
        point.update(label_y=label_y, date_y=date_y, tick_end=tick_end)


def _ts(value: datetime) -> float:
    # A Date header without a zone gives a naive datetime; read it as UTC rather than as this
    # machine's local time, and never compare it with an aware one.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


# --------------------------------------------------------------------------- revisions


def _revision_view(
    revision: Revision, prefix: str, links: MailLinks, with_diffs: bool, folded: bool
) -> dict[str, Any]:
    patches = []
    stats = [diffstat(p.diff) for p in revision.patches]
    widest = max((f.changed for s in stats for f in s.files), default=0)
    for patch, stat in zip(revision.patches, stats, strict=True):
        trailers = patch.reviewed_by()
        patches.append(
            {
                "index": patch.index,
                "total": patch.total,
                "anchor": patch_anchor(prefix, revision, patch),
                "title": patch.title,
                "author": person_name(patch.author),
                "author_full": patch.author,
                "date": fmt_date(patch.date),
                "message_id": patch.message_id,
                "url": links.url(patch.message_id),
                "replies": [reply_view(m, links) for m in patch.reply_mails],
                "warnings": list(patch.mail.warnings),
                # Unchanged since vN / a review trailer carried over changed code (review.flags).
                "flags": [
                    {"kind": f.kind, "text": f.text, "detail": f.detail} for f in patch_flags(patch)
                ],
                "stat": {
                    "summary": stat.summary(),
                    "added": stat.added,
                    "removed": stat.removed,
                    "files": [
                        {
                            "path": f.path,
                            "added": f.added,
                            "removed": f.removed,
                            "plus": _bar(f.added, widest),
                            "minus": _bar(f.removed, widest),
                        }
                        for f in stat.files
                    ],
                },
                "review": [
                    {"name": t.name, "who": person_name(t.value), "value": t.value}
                    for t in trailers
                ],
                "trailers": [
                    {"name": t.name, "value": t.value, "short": _trailer_short(t.value)}
                    for t in patch.trailers
                    if t.name not in ("Reviewed-by", "Acked-by", "Tested-by")
                    and not (t.name == "Signed-off-by" and t.value == patch.author)
                ],
                "diff": diff_rows(patch.diff) if with_diffs else None,
            }
        )
    cover = revision.cover
    return {
        "label": revision.label,
        "anchor": f"{prefix}-{revision.label.replace('.', '-')}",
        "title": revision.title,
        "date": fmt_date(revision.date),
        "author": revision.author,
        "base_commit": revision.base_commit,
        "total": revision.total,
        "missing": compact_ranges(revision.missing),
        "count": patch_count_text(revision),
        "folded": folded,
        "duplicates": list(revision.duplicates),
        "stitched": revision.stitched,
        "partial": revision.partial,
        "replaces": list(revision.replaces),
        "flags": sorted(revision.flags),
        "notes": list(revision.notes),
        "cover": (
            {
                "subject": cover.subject,
                "message_id": cover.message_id,
                "url": links.url(cover.message_id),
                "changelog": cover.changelog,
                "replies": [reply_view(m, links) for m in cover.reply_mails],
            }
            if cover
            else None
        ),
        "cover_trailers": [{"name": t.name, "value": t.value} for t in revision.cover_trailers],
        "patches": patches,
        "with_diffs": with_diffs,
    }


def _trailer_short(value: str) -> str:
    """A person trailer's name alone (the address is in the tooltip); other values as they are."""
    return person_name(value) if value.rstrip().endswith(">") else value


def _bar(count: int, widest: int) -> int:
    """Width in percent of a diffstat bar, at least a sliver for any change."""
    if not count or not widest:
        return 0
    return max(2, round(100 * count / widest))
