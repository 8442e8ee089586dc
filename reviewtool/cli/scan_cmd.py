"""`reviewtool scan ARCHIVE...`: every series of whole archives, one report each, and an index."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from reviewtool.errors import UsageError
from reviewtool.render.progress import ProgressBar

DEFAULT_OUT = "scan"
EXIT_OK = 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `scan` subcommand."""
    parser = sub.add_parser(
        "scan",
        help="review every series of public-inbox archives or mboxes; write an index",
        description=(
            "Index the archives (incrementally: a re-run reads only new mail), review every "
            "series found with the same analyses as `report`, and write one JSON (and HTML) "
            "per series plus index.json and index.html under --out."
        ),
    )
    parser.add_argument("archives", nargs="+", metavar="ARCHIVE", help="public-inbox or mbox")
    parser.add_argument(
        "--touching",
        nargs="+",
        metavar="NAME",
        default=[],
        help="only series whose patches touch these functions or files (shell patterns)",
    )
    parser.add_argument("--since", metavar="DATE", help="only series with mail on or after DATE")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes")
    parser.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on a dask.distributed cluster (pip install 'reviewtool[scale]')",
    )
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR", help="output directory")
    parser.add_argument("--html", action="store_true", help="also write an HTML report per series")
    parser.set_defaults(func=run)


def parse_since(text: str | None) -> float | None:
    """`2021-01-01` (or a full ISO time) as a POSIX timestamp, UTC unless it says otherwise."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text}: not a date (use YYYY-MM-DD)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


def run(args: argparse.Namespace) -> int:
    """Run the scan; 0 when it finished (failed series are in the index), 2 on bad input."""
    from reviewtool.scan.run import ScanOptions, scan

    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    options = ScanOptions(
        archives=args.archives,
        out=Path(args.out),
        touching=args.touching,
        since=parse_since(args.since),
        jobs=args.jobs,
        scheduler=args.scheduler,
        html=args.html,
    )
    with ProgressBar("scan") as bar:
        summary = scan(options, progress=bar)
    print(
        f"reviewtool: scanned {summary.read} message(s) ({summary.added} new, "
        f"{summary.rejected} rejected): {summary.series} series, {summary.failed} failed, "
        f"{summary.reused} unchanged since the last scan; wrote {Path(args.out) / 'index.json'}",
        file=sys.stderr,
    )
    for note in summary.notes:
        print(f"reviewtool: note: {note}", file=sys.stderr)
    return EXIT_OK
