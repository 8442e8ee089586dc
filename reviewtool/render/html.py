"""The HTML report: one self-contained file rendered from `templates/` with autoescaping on.

Everything the template shows is prepared here as plain values; text that came from mail only
ever reaches the page through Jinja's escaping or through Pygments (which escapes too), so a
subject or a file name carrying markup shows as text. The page loads nothing: its CSS is inline,
it has no script, and a Content-Security-Policy says so to the browser as well.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import CLexer

import reviewtool
from reviewtool.analyses.findings import SEVERITIES, Finding
from reviewtool.render.view import (
    DiffLine,
    diffstat,
    excerpt_for,
    fmt_date,
    fmt_day,
    group_notes,
    parse_diff,
    person_name,
    version_sort_key,
)
from reviewtool.review import (
    Review,
    SeriesReview,
    VersionComparison,
    effective_revisions,
    reviewers,
)
from reviewtool.series.model import Patch, Revision

TEMPLATES_DIR = Path(reviewtool.__file__).resolve().parent.parent / "templates"
REPORT_TEMPLATE = "report.html.j2"
REPORT_CSS = "report.css"
# Pygments style for code; its rules are scoped under `.code` so they cannot touch the page.
PYGMENTS_STYLE = "default"
# Widest diffstat bar, in characters of `+`/`-`, as git's --stat draws it.
DIFFSTAT_BAR = 40
# The timeline's drawing box, in SVG user units.
TIMELINE_WIDTH = 1000
TIMELINE_MARGIN = 80
TIMELINE_HEIGHT = 180
TIMELINE_AXIS = 90
# Width a label (version and date) takes on the axis, in SVG units.
TIMELINE_LABEL_WIDTH = 120
# Label lanes in the order they are tried: (version text y, date text y, tick end y).
TIMELINE_LANES = ((62, 75, 80), (116, 129, 104), (26, 39, 44), (152, 165, 140))
# Show the full diff of each patch for the latest revision only: earlier ones are reachable
# through the comparisons, and eight versions of full diffs would bury the page.
DIFFS_OF_LATEST_ONLY = True
# File suffixes whose diff content is highlighted as C.
C_SUFFIXES = (".c", ".h")
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
}
# Rows of the migration matrix: generic code first, then the arches in the order KVM lists them.
AREA_ORDER = ("virt", "include", "x86", "arm64", "powerpc", "s390", "riscv", "other")
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

        raise InputError(f"report template not found: {TEMPLATES_DIR / REPORT_TEMPLATE}")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["badge_class"] = _badge_class
    env.filters["person"] = person_name
    env.filters["pathbreak"] = _path_breaks
    return env


def _path_breaks(path: str) -> Markup:
    """A file path that may wrap after each slash: escaped first, then <wbr> added."""
    return Markup("/<wbr>").join(escape(part) for part in str(path).split("/"))


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


@lru_cache(maxsize=1)
def _pygments_css() -> str:
    return HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".code")


# --------------------------------------------------------------------------- the page


def _page(review: Review) -> dict[str, Any]:
    series = [_series_view(sr) for sr in review.series_reviews]
    title = series[0]["title"] if len(series) == 1 else f"{len(series)} series"
    accounting = review.accounting
    return {
        "title": title,
        "csp": CSP,
        "css": Markup(_page_css()),
        "pygments_css": Markup(_pygments_css()),
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
        "other_series": [
            s.title for s in review.all_series if s not in [v.series for v in review.series_reviews]
        ],
    }


def _series_view(sr: SeriesReview) -> dict[str, Any]:
    prefix = f"s{sr.index}"
    revisions = [r for r in sr.series.revisions]
    latest = sr.latest
    findings = _findings_view(sr, prefix)
    comparisons = [_comparison_view(c, sr, prefix) for c in sr.comparisons]
    view = {
        "id": prefix,
        "title": sr.series.title,
        "change_id": sr.series.change_id,
        "linked_by": sr.series.linked_by,
        "latest": latest.label if latest else "",
        "authors": _authors(revisions),
        "timeline": _timeline(revisions),
        "unreviewed": [
            {"index": p.index, "title": p.title, "anchor": _patch_anchor(prefix, latest, p)}
            for p in sr.unreviewed_patches()
        ]
        if latest
        else [],
        "revisions": [
            _revision_view(r, prefix, with_diffs=(r is latest or not DIFFS_OF_LATEST_ONLY))
            for r in revisions
        ],
        "comparisons": comparisons,
        "migration": _migration_view(sr.migration_data),
        "findings": findings,
        "notes": sr.unavailable(),
    }
    view["summary"] = _summary(view, sr)
    view["toc"] = _toc(view)
    return view


def _toc(view: dict[str, Any]) -> list[dict[str, Any]]:
    prefix = view["id"]
    entries = [{"id": f"{prefix}-overview", "label": "Overview", "children": []}]
    entries.append(
        {
            "id": f"{prefix}-revisions",
            "label": "Revisions",
            "children": [{"id": r["anchor"], "label": r["label"]} for r in view["revisions"]],
        }
    )
    entries.append(
        {
            "id": f"{prefix}-comparisons",
            "label": "Version comparison",
            "children": [{"id": c["anchor"], "label": c["label"]} for c in view["comparisons"]],
        }
    )
    entries.append({"id": f"{prefix}-changelog", "label": "Changelog verdicts", "children": []})
    entries.append({"id": f"{prefix}-migration", "label": "Migration map", "children": []})
    entries.append({"id": f"{prefix}-findings", "label": "Findings", "children": []})
    return entries


def _summary(view: dict[str, Any], sr: SeriesReview) -> list[dict[str, str]]:
    latest = sr.latest
    latest_findings = sr.latest_findings()
    severities = Counter(f.severity for f in latest_findings)
    verdicts: Counter[str] = Counter()
    for comparison in sr.comparisons[-1:]:
        for item in comparison.changelog or []:
            verdicts[str(item.get("verdict", ""))] += 1
    cards = [
        {"label": "versions", "value": str(len(sr.series.revisions)), "tone": "info"},
        {
            "label": f"patches in {latest.label}" if latest else "patches",
            "value": str(len(latest.patches)) if latest else "0",
            "tone": "info",
        },
        {
            "label": "patches awaiting review",
            "value": str(len(view["unreviewed"])),
            "tone": "warn" if view["unreviewed"] else "ok",
        },
    ]
    if sr.findings and sr.findings[-1].available:
        errors = severities.get("error", 0)
        cards.append(
            {
                "label": f"findings in {sr.findings[-1].label}",
                "value": str(len(latest_findings)),
                "tone": "bad" if errors else ("warn" if latest_findings else "ok"),
            }
        )
    if verdicts:
        doubtful = verdicts.get("not-found", 0)
        cards.append(
            {
                "label": "changelog items not found",
                "value": f"{doubtful}/{sum(verdicts.values())}",
                "tone": "bad" if doubtful else "ok",
            }
        )
    return cards


def _authors(revisions: list[Revision]) -> list[str]:
    seen: dict[str, None] = {}
    for revision in revisions:
        for patch in revision.patches:
            seen.setdefault(person_name(patch.author), None)
    return list(seen)


# --------------------------------------------------------------------------- overview


def _timeline(revisions: list[Revision]) -> dict[str, Any]:
    """Points of an SVG timeline: x by date when dates are known, evenly spaced otherwise."""
    dated = [r.date for r in revisions if r.date is not None]
    span_lo = min(dated) if dated else None
    span_hi = max(dated) if dated else None
    inner = TIMELINE_WIDTH - 2 * TIMELINE_MARGIN
    points = []
    for position, revision in enumerate(revisions):
        if span_lo is not None and span_hi is not None and revision.date and span_hi > span_lo:
            frac = (_ts(revision.date) - _ts(span_lo)) / (_ts(span_hi) - _ts(span_lo))
        else:
            frac = position / max(len(revisions) - 1, 1)
        reviewed = sum(1 for p in revision.patches if reviewers(p))
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
                "missing": list(revision.missing),
                "flags": sorted(revision.flags),
            }
        )
    _place_labels(points)
    return {
        "width": TIMELINE_WIDTH,
        "height": TIMELINE_HEIGHT,
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
    return value.timestamp()


# --------------------------------------------------------------------------- revisions


def _patch_anchor(prefix: str, revision: Revision | None, patch: Patch) -> str:
    label = revision.label.replace(".", "-") if revision else "v"
    return f"{prefix}-{label}-p{patch.index}"


def _revision_view(revision: Revision, prefix: str, with_diffs: bool) -> dict[str, Any]:
    patches = []
    stats = [diffstat(p.diff) for p in revision.patches]
    widest = max((f.changed for s in stats for f in s.files), default=0)
    for patch, stat in zip(revision.patches, stats, strict=True):
        trailers = patch.reviewed_by()
        patches.append(
            {
                "index": patch.index,
                "total": patch.total,
                "anchor": _patch_anchor(prefix, revision, patch),
                "title": patch.title,
                "author": person_name(patch.author),
                "author_full": patch.author,
                "date": fmt_date(patch.date),
                "message_id": patch.message_id,
                "replies": patch.replies,
                "warnings": list(patch.mail.warnings),
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
                "diff": _diff_html(patch.diff) if with_diffs else None,
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
        "missing": list(revision.missing),
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
                "changelog": cover.changelog,
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


# --------------------------------------------------------------------------- code


def _highlight_lines(texts: list[str], path: str) -> list[Markup]:
    """Each text highlighted as code of `path`'s language, one Markup per input line."""
    if not texts:
        return []
    lexer = CLexer(stripnl=False, ensurenl=False) if path.endswith(C_SUFFIXES) else None
    if lexer is None:
        return [Markup(escape(t)) for t in texts]
    source = "\n".join(texts) + "\n"
    out = highlight(source, lexer, HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE))
    lines = out.split("\n")
    if len(lines) < len(texts):  # the lexer merged lines: fall back to plain, never misalign
        return [Markup(escape(t)) for t in texts]
    return [Markup(line) for line in lines[: len(texts)]]


def _diff_html(diff: str) -> list[dict[str, Any]]:
    """Files of a diff, each a list of rows (kind, numbers, highlighted text)."""
    files = []
    for diff_file in parse_diff(diff):
        code = [line for line in diff_file.lines if line.kind in ("add", "del", "ctx")]
        highlighted = iter(_highlight_lines([line.text for line in code], diff_file.path))
        rows = []
        for line in diff_file.lines:
            if line.kind in ("add", "del", "ctx"):
                rows.append(_row(line, next(highlighted)))
            elif line.kind != "file":
                rows.append(_row(line, Markup(escape(line.text))))
        files.append({"path": diff_file.path, "rows": rows})
    return files


def _row(line: DiffLine, html: Markup) -> dict[str, Any]:
    marker = {"add": "+", "del": "-", "ctx": " "}.get(line.kind, "")
    return {
        "kind": line.kind,
        "old": line.old_no if line.old_no is not None else "",
        "new": line.new_no if line.new_no is not None else "",
        "marker": marker,
        "html": html,
    }


def _interdiff_rows(value: Any) -> list[dict[str, Any]]:
    """Rows of an interdiff: hunk dicts (`{file, function, rebase, lines}`) or plain text.

    Each line of a diff of diffs carries two markers: the outer one says what changed between
    the versions, the inner one what the patch itself does; both get their own colour.
    """
    rows: list[dict[str, Any]] = []
    if isinstance(value, list) and all(isinstance(h, dict) and "lines" in h for h in value):
        for hunk in value:
            where = " ".join(str(x) for x in (hunk.get("file"), hunk.get("function")) if x)
            rows.append(
                {
                    "kind": "hunk",
                    "inner": "",
                    "text": f"@@ {where}"
                    + ("   (rebase: context or offset only)" if hunk.get("rebase") else ""),
                }
            )
            rows.extend(_marked_row(str(line)) for line in hunk.get("lines") or [])
        return rows
    return [_marked_row(line) for line in _interdiff_text(value).splitlines()]


def _marked_row(line: str) -> dict[str, Any]:
    outer = line[:1]
    if line.startswith(("@@", "##")):
        kind = "hunk"
    elif line.startswith(("diff --git", "+++ ", "--- ", "index ")):
        kind = "meta"
    elif outer == "+":
        kind = "add"
    elif outer == "-":
        kind = "del"
    else:
        kind = "ctx"
    inner = line[1:2] if kind in ("add", "del", "ctx") else ""
    return {"kind": kind, "inner": {"+": "in-add", "-": "in-del"}.get(inner, ""), "text": line}


def _interdiff_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for hunk in value:
            if isinstance(hunk, dict):
                parts.append(str(hunk.get("text") or hunk.get("diff") or hunk.get("hunk") or ""))
            else:
                parts.append(str(hunk))
        return "\n".join(p.rstrip("\n") for p in parts if p)
    if isinstance(value, dict):
        return str(value.get("text") or value.get("diff") or "")
    return str(value)


# --------------------------------------------------------------------------- comparisons


def _comparison_view(comparison: VersionComparison, sr: SeriesReview, prefix: str) -> dict:
    data = comparison.data or {}
    pairs = []
    for pair in data.get("pairs", []) or []:
        if not isinstance(pair, dict):
            continue
        pairs.append(
            {
                "from_index": pair.get("from_index"),
                "to_index": pair.get("to_index"),
                "status": str(pair.get("status", "")),
                "title_from": pair.get("title_from", ""),
                "title_to": pair.get("title_to", ""),
                "renamed": pair.get("title_from") not in (None, pair.get("title_to")),
                "moved": bool(pair.get("moved", pair.get("from_index") != pair.get("to_index"))),
                "rebase_only": bool(pair.get("rebase_only")),
                "rows": _interdiff_rows(pair.get("interdiff")),
                "message_rows": [_marked_row(str(x)) for x in pair.get("message_diff") or []],
                "extra": {
                    k: v
                    for k, v in pair.items()
                    if k
                    not in (
                        "from_index",
                        "to_index",
                        "status",
                        "title_from",
                        "title_to",
                        "rebase_only",
                        "interdiff",
                        "message_diff",
                        "moved",
                        "subject_changed",
                    )
                    and isinstance(v, (str, int, float))
                    and not isinstance(v, bool)
                },
            }
        )
    changelog = []
    for item in comparison.changelog or []:
        evidence = item.get("evidence") or []
        changelog.append(
            {
                "item": str(item.get("item", "")),
                "verdict": str(item.get("verdict", "")),
                "evidence": [_evidence_text(e) for e in evidence],
            }
        )
    notes = [note for note in sr.notes if note.scope == comparison.label and not note.available]
    status_counts = Counter(p["status"] for p in pairs)
    return {
        "label": comparison.label,
        "from": comparison.from_label,
        "to": comparison.to_label,
        "anchor": f"{prefix}-cmp-{comparison.from_label}-{comparison.to_label}".replace(".", "-"),
        "available": comparison.data is not None,
        "pairs": pairs,
        "status_counts": sorted(status_counts.items()),
        "added": [_side_patch(p) for p in data.get("added", []) or []],
        "dropped": [_side_patch(p) for p in data.get("dropped", []) or []],
        "splits": [
            _regroup_text(r) for r in (data.get("splits") or []) + (data.get("squashes") or [])
        ],
        "interdiff_hunks": data.get("interdiff_hunks"),
        "rebase_hunks": data.get("rebase_hunks"),
        "step": comparison.changelog_step,
        "changelog": changelog,
        "changelog_ran": comparison.changelog is not None,
        "undocumented": [
            _evidence_text(u) for u in (data.get("undocumented") or []) if u is not None
        ],
        "notes": notes,
    }


def _side_patch(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        content = value.get("content") or value.get("diff")
        return {
            "index": value.get("index", value.get("to_index", value.get("from_index"))),
            "title": value.get("title", ""),
            "rows": _interdiff_rows(content) if content else [],
        }
    return {"index": value, "title": "", "rows": []}


def _regroup_text(value: Any) -> str:
    if isinstance(value, dict) and "kind" in value:
        old = ", ".join(str(i) for i in value.get("from") or [])
        new = ", ".join(str(i) for i in value.get("to") or [])
        verb = "split into" if value["kind"] == "split" else "squashed into"
        share = value.get("coverage")
        tail = f" ({round(100 * share)}% of the changed lines)" if isinstance(share, float) else ""
        return f"Patch{'es' if ',' in old else ''} {old} {verb} {new}{tail}"
    return _evidence_text(value)


def _evidence_text(value: Any) -> str:
    if isinstance(value, dict) and set(value) <= {"to_index", "from_index", "hunk", "summary"}:
        parts = []
        if value.get("to_index") is not None:
            parts.append(f"patch {value['to_index']}")
        if value.get("hunk"):
            parts.append(f"hunk {str(value['hunk']).strip()}")
        if value.get("summary"):
            parts.append(str(value["summary"]))
        return ", ".join(parts)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if item in (None, "", []):
                continue
            parts.append(f"{key}: {item}" if key not in ("summary", "text") else str(item))
        return "; ".join(parts)
    return str(value)


# --------------------------------------------------------------------------- migration


def _migration_view(data: dict | None) -> dict[str, Any] | None:
    """The file x version matrix: one row per file, one column per revision."""
    if not data:
        return None
    revisions = [r for r in data.get("revisions", []) or [] if isinstance(r, dict)]
    columns = [str(r.get("version", r.get("label", "?"))) for r in revisions]
    columns = [f"v{c}" if c.isdigit() else c for c in columns]
    rows: dict[str, dict[str, Any]] = {}
    for column, revision in zip(columns, revisions, strict=True):
        for item in revision.get("files", []) or []:
            if not isinstance(item, dict):
                continue
            path = str(item.get("path", ""))
            row = rows.setdefault(path, {"path": path, "area": item.get("area", ""), "cells": {}})
            row["cells"][column] = {
                "status": str(item.get("status", "")),
                "removed": len(item.get("old_removed") or []),
                "remaining": len(item.get("old_remaining") or []),
                "added": len(item.get("new_added") or []),
                "title": _migration_title(item),
            }
    # The analysis orders its areas (generic code first, then the arches); follow it.
    areas = data.get("areas") if isinstance(data.get("areas"), dict) else {}
    known = list(areas)
    ordered = sorted(
        rows.values(),
        key=lambda r: (
            known.index(r["area"]) if r["area"] in known else len(known),
            _area_rank(str(r["area"])),
            r["path"],
        ),
    )
    area_cells = {
        str(area): {
            (f"v{v}" if str(v).isdigit() else str(v)): str(status)
            for v, status in (by_version or {}).items()
        }
        for area, by_version in areas.items()
        if isinstance(by_version, dict)
    }
    latest = revisions[-1] if revisions else {}
    return {
        "old": data.get("old", ""),
        "new": data.get("new", ""),
        "columns": columns,
        "rows": ordered,
        "area_cells": area_cells,
        "argument_map": [a for a in latest.get("argument_map", []) or [] if isinstance(a, dict)],
        "leftovers": [
            {"version": c, **item}
            for c, r in zip(columns, revisions, strict=True)
            for item in (r.get("leftovers") or [])
            if isinstance(item, dict)
        ][-20:],
        "candidates": data.get("candidates") or [],
    }


def _area_rank(area: str) -> tuple[int, str]:
    key = area.rstrip("/").removeprefix("arch/")
    for rank, known in enumerate(AREA_ORDER):
        if key == known:
            return (rank, area)
    return (len(AREA_ORDER), area)


def _migration_title(item: dict) -> str:
    def sites(key: str) -> str:
        return ", ".join(
            f"{s.get('function', '?')}:{s.get('line', '?')}"
            for s in item.get(key) or []
            if isinstance(s, dict)
        )

    parts = []
    for key, label in (
        ("old_removed", "removed"),
        ("old_remaining", "remaining"),
        ("new_added", "added"),
    ):
        text = sites(key)
        if text:
            parts.append(f"{label}: {text}")
    return "; ".join(parts)


# --------------------------------------------------------------------------- findings


def _findings_view(sr: SeriesReview, prefix: str) -> dict[str, Any]:
    # Excerpts come from the revision as applied (a point revision with its base's patches);
    # links go to the patches the page lists.
    applied = {r.label: r for r in effective_revisions([r for r in sr.series.revisions])}
    listed = {r.label: r for r in sr.series.revisions}
    versions = []
    for entry in sr.findings:
        counts = Counter(f.status or "introduced" for f in entry.findings)
        versions.append(
            {
                "label": entry.label,
                "available": entry.available,
                "reason": entry.reason,
                "total": len(entry.findings),
                "introduced": counts.get("introduced", 0),
                "persisting": counts.get("persisting", 0),
                "fixed": len(entry.fixed),
                "cards": [
                    _finding_card(
                        f,
                        applied.get(entry.label),
                        listed.get(entry.label),
                        prefix,
                        n,
                        entry.from_base(f),
                    )
                    for n, f in enumerate(_ordered(entry.findings + entry.fixed), start=1)
                ],
            }
        )
    rules = sorted({f.rule for entry in sr.findings for f in entry.findings})
    matrix = [
        {
            "rule": rule,
            "cells": [
                sum(1 for f in entry.findings if f.rule == rule) if entry.available else None
                for entry in sr.findings
            ],
        }
        for rule in rules
    ]
    return {
        "ran": any(entry.available for entry in sr.findings),
        "versions": versions,
        "latest": versions[-1] if versions else None,
        "matrix": matrix,
        "labels": [entry.label for entry in sr.findings],
    }


def _ordered(findings: list[Finding]) -> list[Finding]:
    rank = {s: i for i, s in enumerate(reversed(SEVERITIES))}
    status_rank = {"introduced": 0, "persisting": 1, "fixed": 2}
    return sorted(
        findings,
        key=lambda f: (status_rank.get(f.status, 1), rank.get(f.severity, 9), f.file, f.line),
    )


def _finding_card(
    finding: Finding,
    revision: Revision | None,
    listed: Revision | None,
    prefix: str,
    n: int,
    in_base: bool = False,
) -> dict:
    excerpt = excerpt_for(finding, revision)
    excerpt_rows = []
    if excerpt is not None:
        highlighted = _highlight_lines([line.text for line in excerpt.lines], excerpt.path)
        for line, html in zip(excerpt.lines, highlighted, strict=True):
            row = _row(line, html)
            row["focus"] = line.new_no == excerpt.focus
            row["traced"] = line.new_no in excerpt.trace_lines
            excerpt_rows.append(row)
    patch_index = finding.patch_index or (excerpt.patch_index if excerpt else None)
    shown = listed.patch(patch_index) if listed and patch_index else None
    return {
        "anchor": f"{prefix}-f-{finding.version or 'v'}-{n}".replace(".", "-"),
        "patch_anchor": _patch_anchor(prefix, listed, shown) if shown else "",
        "rule": finding.rule,
        "severity": finding.severity,
        "status": finding.status or "introduced",
        "file": finding.file,
        "line": finding.line,
        "function": finding.function,
        "version": finding.version,
        "config": finding.config,
        "message": finding.message,
        "partial": finding.partial,
        "in_base": in_base and finding.status != "fixed",
        "patch_index": patch_index,
        "trace": [{"line": step.line, "event": step.event} for step in finding.trace],
        "excerpt": excerpt_rows,
    }


def sort_labels(labels: list[str]) -> list[str]:
    """Revision labels in version order."""
    return sorted(labels, key=version_sort_key)
