"""`reviewtool fetch MSGID --lore BASEURL [-o FILE]`: download a thread as an mbox."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `fetch` subcommand."""
    from reviewtool.bot.fetch import DEFAULT_LORE

    parser = sub.add_parser(
        "fetch",
        help="download a thread (t.mbox.gz) from a public-inbox server such as lore",
        description="Download the whole thread of a message from a public-inbox HTTP server.",
    )
    parser.add_argument("msgid", metavar="MSGID", help="Message-ID, with or without <>, or its URL")
    parser.add_argument(
        "--lore",
        default=DEFAULT_LORE,
        metavar="BASEURL",
        help=f"public-inbox base URL (default {DEFAULT_LORE})",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the mbox here (default stdout)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="one deadline for the whole download (default 60)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Download and write the mbox."""
    from reviewtool.bot.fetch import count_messages, fetch_thread, split_thread_url

    base, msgid = args.lore, args.msgid
    from_url = split_thread_url(msgid)
    if from_url is not None:
        base, msgid = from_url
    mbox = fetch_thread(msgid, base, timeout=args.timeout)
    if args.output and args.output != "-":
        from reviewtool.outfile import write_output

        where = str(write_output(args.output, mbox))
    else:
        sys.stdout.buffer.write(mbox)
        sys.stdout.flush()
        where = "stdout"
    print(f"reviewtool fetch: {count_messages(mbox)} message(s) to {where}", file=sys.stderr)
    return 0
