"""`reviewtool bot`: follow a list, review each complete series, reply by mail exactly once."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
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
    parser.add_argument(
        "--smtp-tls",
        choices=("starttls", "ssl", "none"),
        help="how to secure the SMTP connection (overrides the config; default starttls)",
    )
    parser.add_argument(
        "--requeue",
        nargs="*",
        metavar="MESSAGE-ID",
        help="put failed and in-doubt replies (all, or the named ones) back in the queue, "
        "then exit; the next run sends them",
    )
    parser.add_argument("--from", dest="from_addr", metavar="ADDR", help="From address of replies")
    parser.add_argument(
        "--config", metavar="FILE", help="TOML config file (see `reviewtool.bot.config`)"
    )
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, hook: Callable[[str], None] | None = None) -> int:
    """Build the bot from the arguments and run it; `hook` is called at each named point of
    a run (the crash tests kill the process there)."""
    from reviewtool.bot.config import load_config
    from reviewtool.bot.runner import BotRunner
    from reviewtool.bot.smtp import FileTransport, SmtpTransport
    from reviewtool.bot.state import Store
    from reviewtool.bot.watchers import open_watcher

    state = args.state or (DEFAULT_DRY_RUN_STATE if args.dry_run else DEFAULT_STATE)
    if args.requeue is not None:
        return _requeue(Store(state), args.requeue)
    if not args.source:
        raise UsageError("bot: --source is required (or --requeue)")
    if args.interval is not None and args.interval <= 0:
        raise UsageError("--interval must be more than 0 seconds")
    config = load_config(Path(args.config) if args.config else None)
    config = config.with_overrides(smtp=args.smtp, from_addr=args.from_addr, tls=args.smtp_tls)
    watchers = [open_watcher(src) for src in args.source]
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
        f"{stats.unknown} in doubt, {stats.skipped} revisions without a reply"
    )
    if stats.paused:
        print(f"reviewtool bot: sending paused, SMTP unavailable: {stats.paused}", file=sys.stderr)
    if stats.failed or stats.unknown:
        print(
            "reviewtool bot: failed and in-doubt replies stay queued; "
            "`reviewtool bot --requeue` sends them again",
            file=sys.stderr,
        )
    for error in stats.errors:
        print(f"reviewtool bot: could not review {error}", file=sys.stderr)
    if stats.damaged:
        # What could be read was read and answered; a damaged source is never a clean run.
        print(
            f"reviewtool bot: damaged input: {len(stats.damaged)} piece(s) could not be read; "
            f"first: {stats.damaged[0]}",
            file=sys.stderr,
        )
        return 2
    return 0


def _requeue(store, message_ids: list[str]) -> int:
    """`--requeue`: failed and in-doubt replies back to pending."""
    try:
        requeued = store.requeue(message_ids)
    finally:
        store.close()
    missing = {m.strip("<>") for m in message_ids} - set(requeued)
    for message_id in requeued:
        print(f"requeued <{message_id}>")
    print(f"{len(requeued)} repl{'y' if len(requeued) == 1 else 'ies'} requeued")
    if missing:
        raise UsageError(
            "not failed or in doubt, so not requeued: "
            + ", ".join(f"<{m}>" for m in sorted(missing))
        )
    return 0
