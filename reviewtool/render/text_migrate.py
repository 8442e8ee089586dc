"""`reviewtool migrate` as text: one block per version, then the area x version table."""

from __future__ import annotations

from reviewtool.analyses.migration import MigrationMap, RevisionMigration, Site
from reviewtool.diff import area_sort_key
from reviewtool.render.terminal import Painter

# How many call sites a text listing shows per file and kind before summarising.
SITES_SHOWN = 8


def _sites(label: str, sites: list[Site]) -> list[str]:
    if not sites:
        return []
    shown = [
        f"{s.function or '(file scope)'}:{s.line}" + (f" [{s.patch}]" if s.patch else "")
        for s in sites[:SITES_SHOWN]
    ]
    more = f" (+{len(sites) - SITES_SHOWN} more)" if len(sites) > SITES_SHOWN else ""
    return [f"        {label}: " + ", ".join(shown) + more]


def _revision_text(revision: RevisionMigration, result: MigrationMap, bold) -> list[str]:
    mode = "whole files" if revision.mode == "tree" else "hunks only, partial"
    head = f"{revision.version}  ({mode})"
    if revision.definition_removed:
        head += f"  - definition of {result.old} removed"
    lines = [bold(head)]
    area = None
    for entry in revision.files:
        if entry.area != area:
            area = entry.area
            lines.append(f"  {area}")
        counts = (
            f"removed {len(entry.old_removed)}, remaining {len(entry.old_remaining)}, "
            f"added {len(entry.new_added)}"
        )
        lines.append(f"    {entry.path:<44} {entry.status:<10} {counts}")
        lines += _sites("removed", entry.old_removed)
        lines += _sites("remaining", entry.old_remaining)
        lines += _sites("added", entry.new_added)
        lines += [f"        note: {note}" for note in entry.notes]
    if revision.argument_map:
        lines.append("  argument map:")
        width = max(len(m.old_arg) for m in revision.argument_map)
        for mapping in revision.argument_map:
            lines.append(f"    {mapping.old_arg:<{width}} -> {mapping.new}")
            lines.append(f"    {'':<{width}}    {mapping.evidence}")
    if revision.leftovers:
        lines.append("  leftovers:")
        for leftover in revision.leftovers:
            text = f"  {leftover.text}" if leftover.text else ""
            lines.append(f"    {leftover.path}:{leftover.line} {leftover.kind}{text}")
    lines += [f"  note: {note}" for note in revision.notes]
    lines.append("")
    return lines


def format_text(result: MigrationMap, title: str = "", colour: bool = False) -> str:
    """The map for a terminal: one block per version, then the area x version table."""

    paint = Painter(colour)

    def bold(text: str) -> str:
        return paint(text, "bold")

    lines = []
    if title:
        lines.append(bold(title))
    lines.append(f"{result.old} -> {result.new}")
    if result.candidates:
        lines.append("detected candidates (old -> new, functions, files):")
        for candidate in result.candidates[:5]:
            lines.append(
                f"  {candidate.old} -> {candidate.new or '?'}  {candidate.functions} "
                f"function(s) in {len(candidate.files)} file(s)"
                + ("  definition removed" if candidate.definition_removed else "")
            )
    lines.append("")
    for revision in result.revisions:
        lines += _revision_text(revision, result, bold)
    table = result.area_table()
    if table:
        versions = [r.version for r in result.revisions]
        width = max(len(a) for a in table) + 2
        head = "areas".ljust(width) + "".join(f"{v:<11}" for v in versions)
        lines.append(bold(head.rstrip()))
        for area in sorted(table, key=area_sort_key):
            row = "".join(f"{table[area].get(v, '-'):<11}" for v in versions)
            lines.append((area.ljust(width) + row).rstrip())
    lines += [f"note: {note}" for note in result.notes]
    return paint.finish("\n".join(lines).rstrip("\n") + "\n")
