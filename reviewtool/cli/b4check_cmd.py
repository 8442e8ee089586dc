"""`reviewtool b4-check`: a `b4 review` check command (one message on stdin, JSON out).

Configure it in git config::

    [b4]
        review-perpatch-check-cmd = reviewtool b4-check
        review-series-check-cmd = reviewtool b4-check
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `b4-check` subcommand."""
    parser = sub.add_parser(
        "b4-check",
        help="b4 review check command: one patch or cover on stdin, JSON results out",
        description=(
            "Read one RFC 822 message on stdin and print the JSON array b4's per-patch and "
            "per-series check commands print: [{tool, status, summary, url, details}]."
        ),
    )
    parser.add_argument(
        "--repo",
        metavar="DIR",
        help="kernel tree for pre-images (default: the git repository of the current directory)",
    )
    parser.add_argument("--report-url", metavar="URL", help="link to put in each result")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the message and print the results."""
    from reviewtool.bot.b4check import check_message

    data = sys.stdin.buffer.read()
    repo = args.repo or _toplevel()
    results = check_message(data, repo=repo, report_url=args.report_url)
    json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _toplevel() -> str | None:
    """The git top-level of the working directory, as b4 runs checks from there."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None
