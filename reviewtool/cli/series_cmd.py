"""`reviewtool series PATH... [--json]`: the series, versions and patches found in mail."""

from __future__ import annotations

import argparse
import sys

from reviewtool.cli.common import add_paths_argument, load_collection, print_json, use_colour
from reviewtool.series import Collection, select_series, to_json
from reviewtool.series.model import format_ranges


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `series` subcommand."""
    parser = sub.add_parser(
        "series",
        help="list every series and version found in mail",
        description="Group the mail into series and versions; show covers, patches, trailers.",
    )
    add_paths_argument(parser)
    parser.add_argument("--json", action="store_true", help="print the series model as JSON")
    parser.add_argument("--series", metavar="SEL", help="only series matching an index or title")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the series table or JSON; 0 on success."""
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    collection.series = select_series(collection.series, args.series)
    if args.json:
        print_json(to_json(collection))
    else:
        sys.stdout.write(format_table(collection, use_colour()))
    return 0


def format_table(collection: Collection, colour: bool = False) -> str:
    """The human-readable listing: one block per series, one line per revision and patch."""

    def bold(text: str) -> str:
        return f"\033[1m{text}\033[0m" if colour else text

    def dim(text: str) -> str:
        return f"\033[2m{text}\033[0m" if colour else text

    lines: list[str] = []
    for number, series in enumerate(collection.series, 1):
        lines.append(bold(f"[{number}] {series.title}"))
        if series.change_id:
            lines.append(f"    change-id: {series.change_id}")
        for revision in series.revisions:
            date = revision.date.strftime("%Y-%m-%d") if revision.date else "????-??-??"
            count = f"{len(revision.patches)}/{revision.total}"
            flags = " ".join(sorted(revision.flags))
            head = f"  {revision.label:<6} {date}  {count:>7} patches  {revision.author}"
            if flags:
                head += f"  [{flags}]"
            lines.append(head)
            if revision.missing:
                lines.append(f"         missing: {format_ranges(revision.missing_ranges)}")
            if revision.duplicates:
                lines.append(f"         sent twice: {', '.join(map(str, revision.duplicates))}")
            if revision.replaces:
                lines.append(f"         point revision replacing: {revision.replaces}")
            for step in revision.changelog[:1]:
                lines.append(
                    dim(
                        f"         changelog v{step.from_version} -> v{step.to_version}: "
                        f"{len(step.items)} item(s)"
                    )
                )
            for patch in revision.patches:
                reviewed = patch.reviewed_by()
                tags = f"  ({', '.join(sorted({t.name for t in reviewed}))})" if reviewed else ""
                same = dim(f"  [= {patch.unchanged_from}]") if patch.unchanged_from else ""
                lines.append(f"    {patch.index:>3}/{patch.total} {patch.title}{dim(tags)}{same}")
                for trailer in patch.carried_over_changed:
                    lines.append(
                        f"         ! {trailer.name} carried over a changed patch: {trailer.value}"
                    )
                for ignored in patch.ignored_trailers:
                    lines.append(
                        dim(
                            f"         not applied: {ignored.trailer.name}: "
                            f"{ignored.trailer.value} (sent by {ignored.sender})"
                        )
                    )
            for note in revision.notes:
                lines.append(dim(f"         note: {note}"))
        lines.append("")
    acc = collection.accounting
    lines.append(acc.summary())
    for rejected in acc.rejected[:20]:
        lines.append(dim(f"  rejected {rejected.source}: {rejected.reason}"))
    if len(acc.rejected) > 20:
        lines.append(dim(f"  ... and {len(acc.rejected) - 20} more rejected"))
    for note in collection.notes:
        lines.append(dim(f"note: {note}"))
    return "\n".join(lines) + "\n"
