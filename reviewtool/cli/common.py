"""Pieces every subcommand shares: the PATH arguments, loading with a progress bar, JSON out."""

from __future__ import annotations

import argparse
import sys

from reviewtool.errors import InputError
from reviewtool.ingest import load
from reviewtool.series import Collection

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any


def add_paths_argument(parser: argparse.ArgumentParser) -> None:
    """PATH...: mbox, Maildir, .eml/.patch files, directories, public-inbox repositories."""
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="mbox (.mbox, .mbox.gz), Maildir, .eml/.patch file, directory, public-inbox repo",
    )
    add_trailer_argument(parser)


def add_trailer_argument(parser: argparse.ArgumentParser) -> None:
    """--sloppy-trailers: b4's switch for follow-up trailers from another address."""
    parser.add_argument(
        "--sloppy-trailers",
        action="store_true",
        help="apply follow-up trailers whose address differs from the sender's "
        "(b4's -S; by default they are reported, not applied)",
    )


def add_version_arguments(parser: argparse.ArgumentParser) -> None:
    """--from A / --to B / --version N: the range of versions to work on (diff's spelling).

    With versions given, the series is the one that has them; when several do, exit 2
    lists each with its --series selector (series.select_with_versions)."""
    parser.add_argument(
        "--from", dest="from_version", metavar="A", help="first version to include (v7, 7.1)"
    )
    parser.add_argument("--to", dest="to_version", metavar="B", help="last version to include")
    parser.add_argument(
        "--version",
        dest="only_version",
        metavar="N",
        help="only this version (same as --from N --to N)",
    )


def version_range(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """The (first, last) versions `add_version_arguments` read; None where open."""
    from reviewtool.series import version_bounds  # noqa: PLC0415 - with the mail path only

    return version_bounds(args.only_version, args.from_version, args.to_version)


def load_collection(paths: list[str], *, sloppy_trailers: bool = False) -> Collection:
    """Read the inputs, drawing a progress bar on a terminal only."""
    progress = None
    try:
        from reviewtool.render.progress import Progress  # noqa: PLC0415 - optional renderer piece

        bar = Progress("reading mail", stream=sys.stderr)
        progress = bar.update
    except ImportError:
        bar = None
    try:
        collection = load(paths, progress=progress, sloppy_trailers=sloppy_trailers)
    finally:
        if bar is not None:
            bar.close()
    accounting = collection.accounting
    if collection.damaged:
        # Read what could be read, but never report a damaged source as a clean run (exit 2).
        raise InputError(
            f"damaged input: {len(collection.damaged)} piece(s) could not be read "
            f"({accounting.summary()}); first: {collection.damaged[0]}"
        )
    if not accounting.messages():
        # Nothing decoded at all is an input error for every command (exit 2), and the
        # accounting says what was read and why it was rejected.
        why = f" (first: {accounting.rejected[0].reason})" if accounting.rejected else ""
        raise InputError(f"no mail message in {', '.join(paths)}: {accounting.summary()}{why}")
    return collection


def print_json(data: Any) -> None:
    """Pretty JSON on stdout."""
    import json  # noqa: PLC0415 - only --json writes JSON: a text run never loads it

    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def use_colour(stream=None) -> bool:
    """Colour only on a terminal."""
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()
