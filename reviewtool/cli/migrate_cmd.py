"""`reviewtool migrate PATH...`: the API migration map of a series, per version, file and area."""

from __future__ import annotations

import argparse
import sys

from reviewtool.analyses.migration import (
    MigrationMap,
    RevisionMigration,
    Site,
    build_map,
    detect_candidates,
)
from reviewtool.cli.common import add_paths_argument, load_collection, print_json, use_colour
from reviewtool.diff import area_sort_key
from reviewtool.errors import UsageError
from reviewtool.series import Series, select_series

# How many call sites a text listing shows per file and kind before summarising.
SITES_SHOWN = 8


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `migrate` subcommand."""
    parser = sub.add_parser(
        "migrate",
        help="map call sites of an old and a new API across the versions of a series",
        description=(
            "For each version: old-API calls removed and remaining, new-API calls added, per "
            "file and area; the argument mapping; leftovers. Without --old/--new the replaced "
            "API is detected. With --repo the revision is applied in a private temporary index "
            "(your checkout is not touched) and whole files are analysed."
        ),
    )
    add_paths_argument(parser)
    parser.add_argument("--old", metavar="NAME", help="the API being replaced")
    parser.add_argument("--new", metavar="NAME", help="the API replacing it")
    parser.add_argument("--repo", metavar="DIR", help="git repository holding the base commit")
    parser.add_argument(
        "--base", metavar="REV", help="base revision (default: base-commit: from the mail)"
    )
    parser.add_argument("--series", metavar="SEL", help="only series matching an index or title")
    parser.add_argument("--json", action="store_true", help="print the map as JSON")
    parser.set_defaults(func=run)


def _pick_series(series: list[Series], old: str | None) -> tuple[Series, list[str]]:
    """The series to map: the only one, or the one whose diffs name the old API the most."""
    notes: list[str] = []
    if len(series) == 1:
        return series[0], notes

    def weight(candidate: Series) -> tuple[int, int]:
        diffs = [p.diff for r in candidate.revisions for p in r.patches]
        if old:
            hits = sum(diff.count(old) for diff in diffs)
        else:
            found = detect_candidates(candidate.revisions)
            hits = found[0].functions if found else 0
        return hits, len(candidate.revisions)

    ranked = sorted(series, key=weight, reverse=True)
    if weight(ranked[0])[0] == 0:
        raise UsageError(
            f"{len(series)} series found and none replaces an API; pick one with --series"
        )
    notes.append(f"{len(series)} series found; mapping {ranked[0].title!r} (choose with --series)")
    return ranked[0], notes


def run(args: argparse.Namespace) -> int:
    """Print the migration map as text or JSON; 0 on success."""
    if (args.old is None) != (args.new is None):
        raise UsageError("give both --old and --new, or neither to detect them")
    if args.base and not args.repo:
        raise UsageError("--base needs --repo")
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    series = select_series(collection.series, args.series)
    if not series:
        raise UsageError("no patch series found in the input")
    chosen, notes = _pick_series(series, args.old)
    result = build_map(chosen.revisions, args.old, args.new, repo=args.repo, base=args.base)
    result.notes[:0] = notes
    if args.json:
        print_json(result.to_json())
    else:
        sys.stdout.write(format_text(result, chosen.title, use_colour()))
    return 0


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

    def bold(text: str) -> str:
        return f"\033[1m{text}\033[0m" if colour else text

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
    return "\n".join(lines).rstrip("\n") + "\n"
