"""`reviewtool migrate PATH...`: the API migration map of a series, per version, file and area."""

from __future__ import annotations

import argparse
import sys

from reviewtool.analyses.migration import build_map, detect_candidates
from reviewtool.cli.common import (
    add_paths_argument,
    add_version_arguments,
    load_collection,
    print_json,
    use_colour,
    version_range,
)
from reviewtool.errors import UsageError
from reviewtool.render.text_migrate import format_text
from reviewtool.review.model import migration_json
from reviewtool.schemas import SCHEMA_VERSION
from reviewtool.series import Selected, select_with_versions


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
    add_version_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the map as JSON")
    parser.set_defaults(func=run)


def _pick_series(series: list[Selected], old: str | None) -> tuple[Selected, list[str]]:
    """The series to map: the only one, or the one whose diffs name the old API the most."""
    notes: list[str] = []
    if len(series) == 1:
        return series[0], notes

    def weight(candidate: Selected) -> tuple[int, int]:
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
    notes.append(
        f"{len(series)} series found; mapping {ranked[0].series.title!r} "
        f"(choose with --series {ranked[0].number})"
    )
    return ranked[0], notes


def run(args: argparse.Namespace) -> int:
    """Print the migration map as text or JSON; 0 on success."""
    if (args.old is None) != (args.new is None):
        raise UsageError("give both --old and --new, or neither to detect them")
    if args.base and not args.repo:
        raise UsageError("--base needs --repo")
    start, end = version_range(args)
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    series = select_with_versions(collection.series, args.series, start, end)
    if not series:
        raise UsageError("no patch series found in the input")
    chosen, notes = _pick_series(series, args.old)
    # A range that starts at a point revision maps its parent too (v7.1 is v7 amended);
    # only the revisions asked for are shown.
    result = build_map(chosen.context, args.old, args.new, repo=args.repo, base=args.base)
    if not chosen.whole:
        labels = {r.label for r in chosen.revisions}
        result.revisions = [r for r in result.revisions if r.version in labels]
    result.notes[:0] = notes
    if args.json:
        document = migration_json(result)
        print_json({"schema_version": SCHEMA_VERSION, **document})
    else:
        sys.stdout.write(format_text(result, chosen.series.title, use_colour()))
    return 0
