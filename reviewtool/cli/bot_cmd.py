"""`reviewtool bot`: follow a list, review each complete series, reply by mail exactly once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewtool.errors import UsageError

DEFAULT_STATE = "bot.sqlite"
# A dry run keeps its own state, so trying the bot out never uses up the real replies.
DEFAULT_DRY_RUN_STATE = "bot.dry-run.sqlite"
DEFAULT_DRY_RUN_DIR = "bot-replies"
DEFAULT_INTERVAL = 300.0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `bot` subcommand."""
    parser = sub.add_parser(
        "bot",
        help="follow a mailing list and reply to each new series with its review",
        description=(
            "Follow public-inbox repositories, Maildirs or growing mbox files; review each "
            "revision once it is complete (or once the settle time has passed) and reply "
            "to it by mail, exactly once, even across crashes."
        ),
    )
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        metavar="SRC",
        help="public-inbox inbox or epoch repo, Maildir, or mbox file (repeatable)",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="one pass, then exit")
    mode.add_argument(
        "--interval",
        type=float,
        metavar="SECONDS",
        help=f"poll the sources this often (default {DEFAULT_INTERVAL:.0f})",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help=f"SQLite state file (default {DEFAULT_STATE}; {DEFAULT_DRY_RUN_STATE} with --dry-run)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="write replies as .eml files instead of sending them",
    )
    parser.add_argument(
        "--dry-run-dir",
        default=DEFAULT_DRY_RUN_DIR,
        metavar="DIR",
        help=f"where --dry-run writes replies (default {DEFAULT_DRY_RUN_DIR})",
    )
    parser.add_argument("--smtp", metavar="HOST:PORT", help="SMTP server (overrides the config)")
    parser.add_argument("--from", dest="from_addr", metavar="ADDR", help="From address of replies")
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config file (see `reviewtool.bot.config`)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the bot from the arguments and run it."""
    from reviewtool.bot.config import load_config
    from reviewtool.bot.runner import BotRunner, KillSwitch
    from reviewtool.bot.smtp import FileTransport, SmtpTransport
    from reviewtool.bot.state import Store
    from reviewtool.bot.watchers import open_watcher

    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be more than 0 seconds")
    config = load_config(Path(args.config) if args.config else None)
    config = config.with_overrides(smtp=args.smtp, from_addr=args.from_addr)
    watchers = [open_watcher(src) for src in args.source]
    state = args.state or (DEFAULT_DRY_RUN_STATE if args.dry_run else DEFAULT_STATE)
    hook = KillSwitch.from_environ()
    transport = (
        FileTransport(Path(args.dry_run_dir))
        if args.dry_run
        else SmtpTransport(config.smtp, hook=hook)
    )

    def log(message: str) -> None:
        if not args.quiet:
            print(f"reviewtool bot: {message}", file=sys.stderr, flush=True)

    store = Store(state)
    try:
        runner = BotRunner(config, store, watchers, transport, hook=hook, log=log)
        if args.once:
            stats = runner.run_once()
        else:
            stats = runner.run_forever(args.interval or DEFAULT_INTERVAL)
    finally:
        store.close()
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(stats.kinds.items())) or "nothing"
    print(f"read {stats.read} message(s), {stats.added} new ({kinds})")
    where = f" to {args.dry_run_dir}" if args.dry_run else ""
    print(
        f"replies: {stats.sent} sent{where}, {stats.confirmed} confirmed from the list, "
        f"{stats.deferred} held by the hourly limit, {stats.failed} failed, "
        f"{stats.skipped} revisions without a reply"
    )
    for error in stats.errors:
        print(f"reviewtool bot: could not review {error}", file=sys.stderr)
    return 0
