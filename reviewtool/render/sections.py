"""The report's analysis sections as plain values: comparisons, migration matrix, findings.

Each builder reads the review's typed objects (the analyses' own result classes), so a renamed
field is an error here rather than a silently empty section.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from reviewtool.analyses.findings import SEVERITIES, Finding
from reviewtool.render.code import (
    code_row,
    highlight_lines,
    marked_row,
    plain_rows,
    rangediff_rows,
)
from reviewtool.render.view import excerpt_for
from reviewtool.review import RevisionFindings, SeriesReview, VersionComparison
from reviewtool.review.verdict import short_place
from reviewtool.series.model import Patch, Revision

if TYPE_CHECKING:  # types only: rendering must not load the analyses (SciPy, tree-sitter)
    from reviewtool.analyses.changelog_check import Evidence, Undocumented, Verdict
    from reviewtool.analyses.migration import FileMigration, MigrationMap, Site
    from reviewtool.analyses.rangediff import (
        Comparison,
        InterdiffHunk,
        PatchPair,
        Regrouping,
        UnpairedPatch,
    )

# Rows of the migration matrix when the analysis gives no order: generic code, then arches.
AREA_ORDER = ("virt", "include", "x86", "arm64", "powerpc", "s390", "riscv", "other")


def patch_anchor(prefix: str, revision: Revision | None, patch: Patch) -> str:
    label = revision.label.replace(".", "-") if revision else "v"
    return f"{prefix}-{label}-p{patch.index}"


# --------------------------------------------------------------------------- comparisons


def comparison_anchor(prefix: str, comparison: VersionComparison) -> str:
    """The HTML id of one version comparison."""
    return f"{prefix}-cmp-{comparison.from_label}-{comparison.to_label}".replace(".", "-")


def hunk_anchor(cmp_anchor: str, to_index: int | None, hunk: int) -> str:
    """The HTML id of interdiff hunk `hunk` (0-based) of the new patch `to_index`."""
    return f"{cmp_anchor}-p{to_index}-h{hunk + 1}"


def comparison_view(comparison: VersionComparison, sr: SeriesReview, prefix: str) -> dict:
    """A version comparison as the page shows it: pairs with numbered hunks in both views,
    added and dropped patches, changelog verdicts linked to the hunks they rest on."""
    anchor = comparison_anchor(prefix, comparison)
    result = comparison.comparison
    notes = [note for note in sr.notes if note.scope == comparison.label and not note.available]
    view: dict[str, Any] = {
        "label": comparison.label,
        "from": comparison.from_label,
        "to": comparison.to_label,
        "anchor": anchor,
        "available": result is not None,
        "pairs": [],
        "status_counts": [],
        "added": [],
        "dropped": [],
        "splits": [],
        "interdiff_hunks": 0,
        "rebase_hunks": 0,
        "step": comparison.changelog_step,
        "changelog": [],
        "changelog_ran": comparison.verdicts is not None,
        "undocumented": [],
        "notes": notes,
    }
    if result is None:
        return view
    pairs = [_pair_view(pair, anchor) for pair in result.pairs]
    view.update(
        pairs=pairs,
        status_counts=sorted(Counter(p["status"] for p in pairs).items()),
        added=[_side_patch(p, anchor, to_side=True) for p in result.added],
        dropped=[_side_patch(p, anchor, to_side=False) for p in result.dropped],
        splits=[_regroup_text(r) for r in [*result.splits, *result.squashes]],
        interdiff_hunks=result.hunk_count,
        rebase_hunks=result.rebase_hunk_count,
        changelog=[_verdict_view(v, result, anchor) for v in comparison.verdicts or []],
        undocumented=[_undocumented_view(u, anchor) for u in comparison.undocumented],
    )
    return view


def _pair_view(pair: PatchPair, anchor: str) -> dict[str, Any]:
    hunks = [_hunk_view(h, k, anchor, pair.to_index) for k, h in enumerate(pair.interdiff)]
    return {
        "from_index": pair.from_index,
        "to_index": pair.to_index,
        "status": pair.status,
        "title_from": pair.title_from,
        "title_to": pair.title_to,
        "renamed": pair.title_from != pair.title_to,
        "moved": pair.moved,
        "rebase_only": pair.rebase_only,
        "anchor": f"{anchor}-p{pair.to_index}",
        "hunks": hunks,
        "lines": sum(len(h["rows"]) for h in hunks),
        "message_rows": [marked_row(line) for line in pair.message_diff],
    }


def _hunk_view(hunk: InterdiffHunk, k: int, anchor: str, to_index: int | None) -> dict[str, Any]:
    plain = plain_rows(hunk)
    return {
        "number": k + 1,
        "anchor": hunk_anchor(anchor, to_index, k),
        "where": " ".join(
            x for x in (hunk.file, hunk.function and short_place(hunk.function, "")) if x
        ),
        "rebase": hunk.rebase,
        "rows": rangediff_rows(hunk),
        "plain": plain,
        # Only what the patch removes differs: the code after the patch is the same.
        "plain_same": not any(row["kind"] in ("add", "del") for row in plain),
    }


def _side_patch(patch: UnpairedPatch, anchor: str, to_side: bool) -> dict[str, Any]:
    hunks = (
        [_hunk_view(h, k, anchor, patch.index) for k, h in enumerate(patch.content)]
        if to_side
        else [
            _hunk_view(h, k, anchor + "-dropped", patch.index) for k, h in enumerate(patch.content)
        ]
    )
    return {
        "index": patch.index,
        "title": patch.title,
        "anchor": f"{anchor}-p{patch.index}" if to_side else f"{anchor}-dropped-p{patch.index}",
        "hunks": hunks,
        "lines": sum(len(h["rows"]) for h in hunks),
    }


def _regroup_text(value: Regrouping) -> str:
    old = ", ".join(str(i) for i in value.from_indices)
    new = ", ".join(str(i) for i in value.to_indices)
    verb = "split into" if value.kind == "split" else "squashed into"
    return (
        f"Patch{'es' if len(value.from_indices) > 1 else ''} {old} {verb} {new}"
        f" ({round(100 * value.coverage)}% of the changed lines)"
    )


def _verdict_view(verdict: Verdict, result: Comparison, anchor: str) -> dict[str, Any]:
    return {
        "item": verdict.item,
        "verdict": verdict.verdict,
        "reason": verdict.reason,
        "evidence": [
            e for e in (_evidence_view(ev, result, anchor) for ev in verdict.evidence) if e
        ],
    }


def _evidence_view(evidence: Evidence, result: Comparison, anchor: str) -> dict[str, str] | None:
    """One piece of evidence as a sentence and the id of what it points at ('' for none)."""
    if evidence.to_index is None:
        if evidence.from_index is None:
            return None
        return {
            "text": f"patch {evidence.from_index} of {result.from_label} dropped",
            "href": f"{anchor}-dropped-p{evidence.from_index}",
        }
    if evidence.to_index == 0:
        return {"text": "the cover letter", "href": ""}
    if evidence.hunk is None:
        return {"text": f"patch {evidence.to_index}", "href": f"{anchor}-p{evidence.to_index}"}
    hunks = result.hunks_of(evidence.to_index)
    where = ""
    if 0 <= evidence.hunk < len(hunks):
        hunk = hunks[evidence.hunk]
        where = (
            f" ({short_place(hunk.function, hunk.file)})" if (hunk.function or hunk.file) else ""
        )
    return {
        "text": f"patch {evidence.to_index}, hunk {evidence.hunk + 1}{where}",
        "href": hunk_anchor(anchor, evidence.to_index, evidence.hunk),
    }


def _undocumented_view(entry: Undocumented, anchor: str) -> dict[str, str]:
    where = f"patch {entry.to_index}: " if entry.to_index is not None else ""
    return {
        "text": f"{where}{entry.summary}",
        "href": f"{anchor}-p{entry.to_index}" if entry.to_index is not None else "",
    }


# --------------------------------------------------------------------------- migration


def migration_view(migration: MigrationMap | None) -> dict[str, Any] | None:
    """The file x version matrix: one row per file, one column per revision."""
    if migration is None:
        return None
    columns = [_label(r.version) for r in migration.revisions]
    rows: dict[str, dict[str, Any]] = {}
    for column, revision in zip(columns, migration.revisions, strict=True):
        for item in revision.files:
            row = rows.setdefault(item.path, {"path": item.path, "area": item.area, "cells": {}})
            row["cells"][column] = {
                "status": shown_status(item),
                "removed": len(item.old_removed),
                "remaining": len(item.old_remaining),
                "added": len(item.new_added),
                "title": _migration_title(item),
            }
    areas = migration.area_table()
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
        area: {_label(v): status for v, status in by_version.items()}
        for area, by_version in areas.items()
    }
    # An area whose files all dropped the old API without calling the new one moved to some
    # other API in that version: not "migrated" to this one.
    for column, revision in zip(columns, migration.revisions, strict=True):
        for area, cells in area_cells.items():
            files = [f for f in revision.files if f.area == area and f.old_removed]
            if files and all(shown_status(f) == STATUS_ELSEWHERE for f in files):
                cells[column] = STATUS_ELSEWHERE
    latest = migration.revisions[-1] if migration.revisions else None
    return {
        "old": migration.old,
        "new": migration.new,
        "columns": columns,
        "rows": ordered,
        "area_cells": area_cells,
        "argument_map": [a.to_json() for a in latest.argument_map] if latest else [],
        "leftovers": [
            {"version": c, **item.to_json()}
            for c, r in zip(columns, migration.revisions, strict=True)
            for item in r.leftovers
            # A cover letter naming the old API is prose about the change, not code left behind.
            if item.kind != "cover"
        ][-20:],
        "candidates": [c.to_json() for c in migration.candidates],
    }


# Old calls removed but none of the new API added: the version replaced them with something
# else (an earlier design of the series), which must not read as migrated to the new API.
STATUS_ELSEWHERE = "other API"


# No call of either API changed, only declarations or prototypes: nothing was migrated there.
STATUS_DECLARATIONS = "declarations"


def shown_status(item: FileMigration) -> str:
    """The file's status as the matrix shows it."""
    if item.status == "migrated" and item.old_removed and not item.new_added:
        return STATUS_ELSEWHERE
    if item.status == "migrated" and not (item.old_removed or item.new_added):
        return STATUS_DECLARATIONS
    return item.status


def _label(version: str | int) -> str:
    text = str(version)
    return f"v{text}" if text.isdigit() else text


def _area_rank(area: str) -> tuple[int, str]:
    key = area.rstrip("/").removeprefix("arch/")
    for rank, known in enumerate(AREA_ORDER):
        if key == known:
            return (rank, area)
    return (len(AREA_ORDER), area)


def _migration_title(item: FileMigration) -> str:
    def sites(found: list[Site]) -> str:
        return ", ".join(f"{s.function or '?'}:{s.line}" for s in found)

    parts = []
    for found, label in (
        (item.old_removed, "removed"),
        (item.old_remaining, "remaining"),
        (item.new_added, "added"),
    ):
        text = sites(found)
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
    # A fixed finding is gone from its own version's code: its excerpt and patch link come
    # from the last version that still had it (the one checked before this one).
    before: dict[str, RevisionFindings] = {}
    last: RevisionFindings | None = None
    for entry in sr.findings:
        if last is not None:
            before[entry.label] = last
        if entry.available:
            last = entry
    for entry in sr.findings:
        counts = Counter(f.status or "introduced" for f in entry.findings)
        earlier = before.get(entry.label)

        def card(f: Finding, n: int, entry: RevisionFindings = entry, earlier=earlier) -> dict:
            home = earlier if f.status == "fixed" and earlier is not None else entry
            return _finding_card(
                f,
                applied.get(home.label),
                listed.get(home.label),
                prefix,
                n,
                entry.from_base(f),
                home.source_of(f),
                anchor_label=entry.label,
            )

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
                    card(f, n)
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
    anchor_label: str = "",
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
        # By the version whose block lists the card: a fixed finding keeps its old version.
        "anchor": f"{prefix}-f-{anchor_label or finding.version or 'v'}-{n}".replace(".", "-"),
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
        "evidence": finding.evidence,
        "hunks": [
            {"patch_index": h.patch_index, "file": h.file, "header": h.header, "text": h.text}
            for h in finding.hunks
        ],
        "in_base": in_base and finding.status != "fixed",
        "patch_index": patch_index,
        "patch_total": (revision.total or len(revision.patches)) if revision else None,
        "trace": [{"line": step.line, "event": step.event} for step in finding.trace],
        "excerpt": excerpt_rows,
    }
