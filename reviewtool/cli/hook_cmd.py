"""`reviewtool hook install|uninstall|run`: the git pre-push hook."""

from __future__ import annotations

import argparse
import os
import sys

# Environment the pre-commit framework sets for hooks at the pre-push stage; it consumes
# git's stdin itself and hands each pushed ref over as a range.
PRE_COMMIT_FROM = "PRE_COMMIT_FROM_REF"
PRE_COMMIT_TO = "PRE_COMMIT_TO_REF"
PRE_COMMIT_REMOTE = "PRE_COMMIT_REMOTE_NAME"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `hook` subcommand and its actions."""
    parser = sub.add_parser(
        "hook",
        help="git pre-push hook: check the commits being pushed",
        description="Install, remove or run the pre-push hook that checks pushed commits.",
    )
    actions = parser.add_subparsers(dest="hook_action", metavar="ACTION", required=True)

    install = actions.add_parser("install", help="write the pre-push hook")
    install.add_argument("--repo", default=".", metavar="DIR", help="repository (default: .)")
    install.add_argument(
        "--force",
        action="store_true",
        help="if another pre-push hook exists, keep it and run it before reviewtool",
    )
    install.set_defaults(func=run_install)

    uninstall = actions.add_parser("uninstall", help="remove the hook, restoring a kept one")
    uninstall.add_argument("--repo", default=".", metavar="DIR", help="repository (default: .)")
    uninstall.set_defaults(func=run_uninstall)

    run = actions.add_parser(
        "run",
        help="what the hook calls: read git's pre-push input and check the pushed commits",
        description=(
            "Reads '<local ref> <local sha> <remote ref> <remote sha>' lines on stdin, as git "
            "gives a pre-push hook. Exit 0: push allowed; 1: new findings at or above fail_on; "
            '2: the check failed and on_error is "block".'
        ),
    )
    run.add_argument("remote", nargs="?", help="remote name (git passes it)")
    run.add_argument("url", nargs="?", help="remote URL (git passes it)")
    run.add_argument("--repo", default=".", metavar="DIR", help="repository (default: .)")
    run.add_argument("--from-ref", metavar="REV", help="check REV..TO-REF instead of stdin")
    run.add_argument("--to-ref", metavar="REV", help="tip to check instead of stdin")
    run.set_defaults(func=run_hook_cmd)


def run_install(args: argparse.Namespace) -> int:
    """Install the hook and say where."""
    from reviewtool.hook.install import install

    result = install(args.repo, force=args.force)
    print(f"reviewtool: {result.action} {result.hook}")
    if result.kept is not None:
        print(f"reviewtool: the existing hook runs first, kept as {result.kept}")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    """Remove the hook and say what was restored."""
    from reviewtool.hook.install import uninstall

    result = uninstall(args.repo)
    if result.action == "absent":
        print(f"reviewtool: no pre-push hook at {result.hook}")
    elif result.kept is not None:
        print(f"reviewtool: removed; the earlier hook is back at {result.hook}")
    else:
        print(f"reviewtool: removed {result.hook}")
    return 0


def run_hook_cmd(args: argparse.Namespace) -> int:
    """Check the push; print findings and the verdict; the exit code decides the push."""
    from reviewtool.hook.report import format_result
    from reviewtool.hook.run import run_hook

    from_ref, to_ref = args.from_ref, args.to_ref
    remote = args.remote or os.environ.get(PRE_COMMIT_REMOTE)
    stdin_text = ""
    if not to_ref and os.environ.get(PRE_COMMIT_TO):
        from_ref, to_ref = os.environ.get(PRE_COMMIT_FROM), os.environ[PRE_COMMIT_TO]
    elif not to_ref and sys.stdin is not None and sys.stdin.isatty():
        # Run by hand: check what pushing HEAD as a new branch would send.
        to_ref = "HEAD"
    elif not to_ref:
        stdin_text = sys.stdin.read() if sys.stdin is not None else ""
    result = run_hook(args.repo, stdin_text, remote=remote, from_ref=from_ref, to_ref=to_ref)
    # stderr, as hooks do: git passes it to the terminal and keeps its own stdout clean
    # (`git push --porcelain` output must stay parseable).
    sys.stderr.write(format_result(result))
    sys.stderr.flush()
    return result.exit_code()
