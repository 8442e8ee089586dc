"""`reviewtool series PATH... [--json]`: the series, versions and patches found in mail."""

from __future__ import annotations

import argparse
import sys

from reviewtool.cli.common import add_paths_argument, load_collection, use_colour
from reviewtool.render.text_series import format_table
from reviewtool.series import select_series
from reviewtool.series.serialize import iter_json_text


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
        for text in iter_json_text(collection):  # one series at a time: archives stay bounded
            sys.stdout.write(text)
    else:
        sys.stdout.write(format_table(collection, use_colour()))
    return 0
