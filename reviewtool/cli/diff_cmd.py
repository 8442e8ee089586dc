"""`reviewtool diff PATH... [--series SEL] [--from A --to B] [--json]`: range-diff from mail.

By default every consecutive pair of full revisions of every series is compared; a point
revision (v7.1) is compared with the patches of its parent that it replaces.
"""

from __future__ import annotations

import argparse
import sys

from reviewtool.analyses.changelog_check import compare
from reviewtool.analyses.rangediff import DEFAULT_CREATION_FACTOR, Comparison
from reviewtool.cli.common import add_paths_argument, load_collection, print_json, use_colour
from reviewtool.errors import UsageError
from reviewtool.render.text_diff import format_comparison
from reviewtool.schemas import SCHEMA_VERSION, version_fields
from reviewtool.series import Revision, Series, select_for_versions
from reviewtool.series.reroll import applied_revisions, parent_revision, rerolled_part

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from reviewtool.analyses.followup import ReviewComment


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `diff` subcommand."""
    parser = sub.add_parser(
        "diff",
        help="range-diff versions of a series from mail, and check the changelog",
        description=(
            "Pair the patches of two versions as git range-diff does, show what changed "
            "(rebase noise apart), and check the cover letter's changelog against it."
        ),
    )
    add_paths_argument(parser)
    parser.add_argument("--series", metavar="SEL", help="series by 1-based index or title")
    parser.add_argument("--from", dest="from_version", metavar="A", help="older version (v7)")
    parser.add_argument("--to", dest="to_version", metavar="B", help="newer version (v8)")
    parser.add_argument(
        "--creation-factor",
        type=float,
        default=DEFAULT_CREATION_FACTOR,
        metavar="F",
        help="cost of leaving a patch unpaired, as a share of its size (default 0.6; "
        "git's --creation-factor=60)",
    )
    parser.add_argument("--json", action="store_true", help="print the comparisons as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare the chosen revisions and print the result; 0 on success."""
    factor = args.creation_factor
    if factor > 1.0:
        factor = factor / 100  # accept git's percent spelling too
    if factor < 0:
        raise UsageError("--creation-factor must not be negative")
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    # The series that has the versions asked for; several is an error naming each --series.
    chosen = select_for_versions(
        collection.series, args.series, [args.from_version, args.to_version]
    )
    work: list[tuple[Series, Revision, Revision]] = []
    for series in chosen:
        work.extend((series, a, b) for a, b in revision_pairs(series, args))
    if not work:
        raise UsageError(
            "nothing to compare: no series has two versions in the input "
            f"({len(collection.series)} series found)"
        )
    results = [(series, compare(old, new, factor)) for series, old, new in work]
    comments = [_comments_followed(comparison) for _, comparison in results]
    if args.json:
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "comparisons": [
                    {
                        "series": s.title,
                        **c.to_json(),
                        "from": version_fields(c.from_label),
                        "to": version_fields(c.to_label),
                        "review_comments": [x.to_json() for x in found],
                    }
                    for (s, c), found in zip(results, comments, strict=True)
                ],
            }
        )
    else:
        colour = use_colour(sys.stdout)
        for (series, comparison), found in zip(results, comments, strict=True):
            sys.stdout.write(format_comparison(series.title, comparison, colour, found))
    return 0


def _comments_followed(comparison: Comparison) -> list[ReviewComment]:
    """Review comments on the old version, followed into the new one (analyses/followup)."""
    if comparison.old is None or comparison.new is None:
        return []
    old = comparison.old
    if not any(p.reply_mails for p in old.patches) and not (old.cover and old.cover.reply_mails):
        return []  # nobody answered the old version: no comment to follow, no analysis to load
    from reviewtool.analyses.followup import follow_comments  # noqa: PLC0415 - see above

    pair = {(comparison.from_label, comparison.to_label): comparison}
    found = follow_comments([comparison.old, comparison.new], pair)
    return [c for c in found if c.version == comparison.from_label]


def revision_pairs(series: Series, args: argparse.Namespace) -> list[tuple[Revision, Revision]]:
    """The (old, new) revisions to compare for one series: the asked pair, or every
    consecutive pair (v7 -> v7.1 -> v8), a point revision read as applied over its parent."""
    wanted_from, wanted_to = args.from_version, args.to_version
    if wanted_from or wanted_to:
        return [_explicit_pair(series, wanted_from, wanted_to)]
    applied = applied_revisions(series.revisions)
    pairs: list[tuple[Revision, Revision]] = []
    for position in range(1, len(series.revisions)):
        old, new = applied[position - 1], applied[position]
        point = series.revisions[position]
        if point.point is not None and old.version == point.version:
            # v7 -> v7.1: only the patches the point revision rerolls.
            parent = parent_revision(series.revisions, point) or series.revisions[position - 1]
            pairs.append((rerolled_part(parent, point), point))
        else:
            pairs.append((old, new))
    return pairs


def _explicit_pair(series: Series, start: str | None, end: str | None) -> tuple[Revision, Revision]:
    revisions = series.revisions
    have = ", ".join(r.label for r in revisions)
    old = series.revision(start) if start else None
    new = series.revision(end) if end else None
    if start and old is None:
        raise UsageError(f"{series.title!r} has no version {start} (has {have})")
    if end and new is None:
        raise UsageError(f"{series.title!r} has no version {end} (has {have})")
    if old is None and new is not None:
        position = revisions.index(new)
        if position == 0:
            raise UsageError(f"{new.label} is the first version of {series.title!r}")
        old = revisions[position - 1]
    if new is None and old is not None:
        position = revisions.index(old)
        if position == len(revisions) - 1:
            raise UsageError(f"{old.label} is the last version of {series.title!r}")
        new = revisions[position + 1]
    assert old is not None and new is not None
    if old is new:
        raise UsageError(f"--from and --to name the same version ({old.label})")
    if new.point is not None and old.version == new.version and old.point is None:
        return rerolled_part(old, new), new
    # A point revision stands for its version with the rerolled patches in place (v7.1 -> v8
    # compares all of v7 as amended, not the one patch v7.1 carried).
    applied = dict(zip(map(id, revisions), applied_revisions(revisions), strict=True))
    return applied[id(old)], applied[id(new)]
