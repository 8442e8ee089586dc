"""The bot's crash seam, on the test side: run `reviewtool bot` with a hook that SIGKILLs the
process the Nth time it passes a named point (`reviewtool.bot.runner.HOOK_POINTS`).

Run as a script: `python tests/helpers/botkill.py SPEC BOT-ARGS...`, SPEC being
`NAME[:N][,NAME[:N]...]` (N defaults to 1; an empty SPEC kills nowhere).
"""

from __future__ import annotations

import os
import signal
import sys


class KillSwitch:
    """A runner hook that SIGKILLs this process at the named points."""

    def __init__(self, spec: str | None) -> None:
        self.targets: dict[str, int] = {}
        self.hits: dict[str, int] = {}
        for part in (spec or "").split(","):
            name, _, count = part.strip().partition(":")
            if name:
                self.targets[name] = int(count) if count.isdigit() else 1

    def __call__(self, point: str) -> None:
        if point not in self.targets:
            return
        self.hits[point] = self.hits.get(point, 0) + 1
        if self.hits[point] == self.targets[point]:
            os.kill(os.getpid(), signal.SIGKILL)


def main(argv: list[str]) -> int:
    """Parse the bot's arguments as the CLI does and run it with the kill switch as hook."""
    from reviewtool.cli import bot_cmd, build_parser
    from reviewtool.errors import ReviewtoolError

    spec, bot_args = argv[0], ["bot", *argv[1:]]
    args = build_parser(bot_args).parse_args(bot_args)
    try:
        return bot_cmd.run(args, hook=KillSwitch(spec))
    except ReviewtoolError as exc:
        print(f"reviewtool: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
