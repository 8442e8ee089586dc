"""The report's analysis sections as plain values: comparisons, migration matrix, findings.

Each builder reads the JSON shape an analysis documents (issue texts and DESIGN.md) rather
than its objects, and tolerates missing keys: an analysis that grows a field must not break
the page, and one that lacks a field shows less rather than nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from reviewtool.analyses.findings import SEVERITIES, Finding
from reviewtool.render.code import code_row, highlight_lines, interdiff_rows, marked_row
from reviewtool.render.view import excerpt_for
from reviewtool.review import SeriesReview, VersionComparison
from reviewtool.series.model import Patch, Revision

# Rows of the migration matrix when the analysis gives no order: generic code, then arches.
AREA_ORDER = ("virt", "include", "x86", "arm64", "powerpc", "s390", "riscv", "other")


def patch_anchor(prefix: str, revision: Revision | None, patch: Patch) -> str:
    label = revision.label.replace(".", "-") if revision else "v"
    return f"{prefix}-{label}-p{patch.index}"


# --------------------------------------------------------------------------- comparisons


def comparison_view(comparison: VersionComparison, sr: SeriesReview, prefix: str) -> dict:
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
                "rows": interdiff_rows(pair.get("interdiff")),
                "message_rows": [marked_row(str(x)) for x in pair.get("message_diff") or []],
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
            "rows": interdiff_rows(content) if content else [],
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


def migration_view(data: dict | None) -> dict[str, Any] | None:
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


def findings_view(sr: SeriesReview, prefix: str) -> dict[str, Any]:
    # Excerpts come from the revision as applied (a point revision with its base's patches);
    # links go to the patches the page lists.
    applied = {r.label: r for r in sr.applied}
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
                "checked": len(entry.checked),
                "not_checked": [item.to_json() for item in entry.not_checked],
                "cards": [
                    _finding_card(
                        f,
                        applied.get(entry.label),
                        listed.get(entry.label),
                        prefix,
                        n,
                        entry.from_base(f),
                        entry.source_of(f),
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
        # Every version checked whole: only then may silence read as "no rule is broken".
        "complete": all(entry.available and not entry.not_checked for entry in sr.findings),
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
    source: str | None = None,
) -> dict:
    excerpt = excerpt_for(finding, revision, source)
    excerpt_rows = []
    if excerpt is not None:
        highlighted = highlight_lines([line.text for line in excerpt.lines], excerpt.path)
        for line, html in zip(excerpt.lines, highlighted, strict=True):
            row = code_row(line, html)
            row["focus"] = line.new_no == excerpt.focus
            row["traced"] = line.new_no in excerpt.trace_lines
            excerpt_rows.append(row)
    patch_index = finding.patch_index or (excerpt.patch_index if excerpt else None)
    shown = listed.patch(patch_index) if listed and patch_index else None
    return {
        "anchor": f"{prefix}-f-{finding.version or 'v'}-{n}".replace(".", "-"),
        "patch_anchor": patch_anchor(prefix, listed, shown) if shown else "",
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
        "patch_total": (revision.total or len(revision.patches)) if revision else None,
        "trace": [{"line": step.line, "event": step.event} for step in finding.trace],
        "excerpt": excerpt_rows,
    }
