"""`reviewtool report PATH...`: the main job: review every version of a series, write a report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewtool.analyses.findings import SEVERITIES
from reviewtool.cli.common import (
    add_paths_argument,
    add_version_arguments,
    load_collection,
    use_colour,
    version_range,
)
from reviewtool.errors import InputError, UsageError
from reviewtool.outfile import write_output
from reviewtool.render.progress import ProgressBar
from reviewtool.review import Review, build_review

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_NOT_CHECKED = 3  # as reviewtool.cli.EXIT_NOT_CHECKED: no finding, but code not checked
FORMATS = ("html", "text", "json")
DEFAULT_HTML = "report.html"
# `--fail-on none` never fails on findings (a report-only run in CI).
FAIL_NEVER = "none"
DEFAULT_FAIL_ON = "error"


# Where a Message-ID is read on the web: the public lore archive of every kernel list.
DEFAULT_ARCHIVE_URL = "https://lore.kernel.org/all/{msgid}/"


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    parser = sub.add_parser(
        "report",
        help="review a series from mail and write the report (HTML, text or JSON)",
        description=(
            "Read mail, group it into series and versions, run every analysis (range-diff, "
            "changelog check, migration map, page-reference checker) and write one report. "
            "Exit 1 when a finding of the latest version is at or above --fail-on."
        ),
    )
    add_paths_argument(parser)
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=f"where to write the report; '-' for stdout (default: {DEFAULT_HTML} for html, "
        "stdout for text and json)",
    )
    parser.add_argument("--format", choices=FORMATS, default="html", help="report format")
    parser.add_argument("--json", metavar="FILE", help="also write the JSON review to FILE")
    parser.add_argument("--repo", metavar="DIR", help="a kernel git tree for whole-file analysis")
    parser.add_argument("--series", metavar="SEL", help="only series matching an index or title")
    add_version_arguments(parser)
    parser.add_argument(
        "--archive-url",
        metavar="URL",
        default=DEFAULT_ARCHIVE_URL,
        help="link each cover, patch and reply to this mail archive; {msgid} is replaced by "
        f"the Message-ID (default: {DEFAULT_ARCHIVE_URL.replace('%', '%%')}; '' for no links)",
    )
    parser.add_argument(
        "--fail-on",
        choices=(*SEVERITIES, FAIL_NEVER),
        default=DEFAULT_FAIL_ON,
        metavar="SEVERITY",
        help=f"exit 1 on findings at or above this severity: {', '.join(SEVERITIES)} or "
        f"{FAIL_NEVER} (default: {DEFAULT_FAIL_ON})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Build the review, write it where asked; 1 when findings reach --fail-on, else 0."""
    repo = _repo(args.repo)
    versions = version_range(args)
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    if not collection.series:
        raise InputError(
            f"no patch series found in {', '.join(args.paths)} "
            f"({collection.accounting.read} messages read)"
        )
    with ProgressBar("analysing") as bar:
        review = build_review(
            collection,
            sources=list(args.paths),
            repo=repo,
            select=args.series,
            progress=bar,
            archive_url=args.archive_url,
            versions=versions,
        )
    output = args.output or (DEFAULT_HTML if args.format == "html" else "-")
    _write(output, _render(review, args.format, output))
    if args.json:
        from reviewtool.render.jsonout import render_json

        _write(args.json, render_json(review))
    blocking = [] if args.fail_on == FAIL_NEVER else review.findings_at_least(args.fail_on)
    if output != "-":
        print(_summary_line(review, output, blocking, args.fail_on), file=sys.stderr)
    if blocking:
        return EXIT_FINDINGS
    # Nothing found in part of the code is not "nothing found": a script gating on the exit
    # code must not read it as clean (README, exit codes).
    if args.fail_on != FAIL_NEVER and review.not_checked():
        return EXIT_NOT_CHECKED
    return EXIT_OK


def _repo(value: str | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_dir():
        raise UsageError(f"--repo {value}: not a directory")
    if not (path / ".git").exists() and not (path / "HEAD").is_file():
        raise UsageError(f"--repo {value}: not a git repository")
    return str(path)


def _render(review: Review, fmt: str, output: str) -> str:
    if fmt == "json":
        from reviewtool.render.jsonout import render_json

        return render_json(review)
    if fmt == "text":
        from reviewtool.render.text import render_text

        return render_text(review, color=output == "-" and use_colour(sys.stdout))
    from reviewtool.render.html import render_html

    return render_html(review)


def _write(target: str, text: str) -> None:
    # "replace": a lone surrogate from a mangled mail must not cost the user the whole report.
    data = text.encode("utf-8", "replace")
    if target == "-":
        sys.stdout.flush()
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            buffer.write(data)
            buffer.flush()
        else:  # a text-only stream (tests capture stdout this way)
            sys.stdout.write(data.decode("utf-8"))
        return
    write_output(target, data)


def _summary_line(review: Review, output: str, blocking: list, fail_on: str) -> str:
    findings = review.findings()
    notes = review.unavailable()
    parts = [f"wrote {output}", f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"]
    if blocking:
        parts.append(f"{len(blocking)} at or above {fail_on}")
    if notes:
        parts.append(f"{len(notes)} analysis note{'s' if len(notes) != 1 else ''}")
    not_checked = review.not_checked()
    if not_checked:
        parts.append(
            f"{len(not_checked)} changed function{'s' if len(not_checked) != 1 else ''} "
            "not checked (see the report)"
        )
    return "reviewtool: " + ", ".join(parts)
