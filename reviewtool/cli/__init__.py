"""The `reviewtool` command line: argument parsing, exit codes, I/O; no analysis logic.

Each subcommand lives in its own module under `reviewtool.cli` and provides
`register(subparsers)`, which adds its parser and sets `func` to a `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys

from reviewtool import __version__
from reviewtool.errors import ReviewtoolError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
# No finding at or above the threshold, but changed code was not checked (no tree, unparsed
# lines, work bound): silence is not an all-clear, so a script must not read it as one.
EXIT_NOT_CHECKED = 3

# Subcommand modules, in the order `reviewtool --help` lists them.
COMMAND_MODULES = (
    "reviewtool.cli.series_cmd",
    "reviewtool.cli.diff_cmd",
    "reviewtool.cli.migrate_cmd",
    "reviewtool.cli.check_cmd",
    "reviewtool.cli.report_cmd",
    "reviewtool.cli.scan_cmd",
    "reviewtool.cli.hook_cmd",
    "reviewtool.cli.bot_cmd",
    "reviewtool.cli.fetch_cmd",
    "reviewtool.cli.b4check_cmd",
    "reviewtool.cli.schema_cmd",
)


def _terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`: $COLUMNS, else stdout's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, the terminal width read as shutil reads it but without shutil.

    argparse builds a formatter for every add_argument (to check its metavar), and the stock
    one imports shutil for the width, which loads bz2 and lzma with it: 2 ms of every run of
    a command that never prints its help.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _terminal_columns() - 2  # as argparse: two columns of margin
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns every exit code."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(f"{self.prog}: {message}")


class _ArgumentError(Exception):
    pass


def _command_name(module: str) -> str:
    """`reviewtool.cli.b4check_cmd` -> `b4-check`: the word a user types."""
    stem = module.rsplit(".", 1)[-1].removesuffix("_cmd")
    return {"b4check": "b4-check"}.get(stem, stem)


def _modules_for(argv: list[str]) -> tuple[str, ...]:
    """Only the chosen subcommand's module: a pre-push hook must not pay for the bot's imports."""
    words = [a for a in argv if not a.startswith("-")]
    if words:
        wanted = [m for m in COMMAND_MODULES if _command_name(m) == words[0]]
        if wanted:
            return tuple(wanted)
    return COMMAND_MODULES


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand registered (or just the one argv names)."""
    parser = _Parser(
        prog="reviewtool",
        description="Review Linux-kernel-style patch series from mail.",
        epilog="Exit codes: 0 ok, 1 findings at or above the threshold, 2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"reviewtool {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in _modules_for(argv) if argv is not None else COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _build_parser_as_the_program(argv: list[str]) -> argparse.ArgumentParser:
    """`build_parser` when main() is the process itself (the console script, `python -m`).

    Building the parser imports the chosen command's modules, most of what a command loads.
    Their objects live as long as the process, so the cyclic collector is paused while they
    are made and then kept from walking them again (gc.freeze: they move to its permanent
    generation; reference counting still frees whatever is dropped). Otherwise it walks them
    on each of its runs and finds nothing: 7 ms of a 110 ms `reviewtool diff`.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return build_parser(argv)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    # A caller that passes argv (a test, an embedding program) keeps its collector as it is.
    as_the_program = argv is None
    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv
    try:
        parser = _build_parser_as_the_program(argv) if as_the_program else build_parser(argv)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return int(args.func(args))
    except _ArgumentError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_USAGE
    except ReviewtoolError as exc:
        if debug:
            import traceback  # noqa: PLC0415 - only for --debug, never on a clean run

            traceback.print_exc()
        print(f"reviewtool: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("reviewtool: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last guard before a user sees a traceback
        if debug:
            import traceback  # noqa: PLC0415 - only for --debug, never on a clean run

            traceback.print_exc()
        print(
            f"reviewtool: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for details)",
            file=sys.stderr,
        )
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
