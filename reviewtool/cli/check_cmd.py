"""`reviewtool check PATH...`: the FOLL_GET checker over C files or the patches of a series."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewtool.analyses.findings import SEVERITIES, Finding, NotChecked, severity_at_least
from reviewtool.analyses.spec import check_revision_result, load_specs
from reviewtool.cli.check_walk import c_files_under, check_files, is_c_tree
from reviewtool.cli.common import (
    add_trailer_argument,
    add_version_arguments,
    print_json,
    version_range,
)
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.errors import InputError, UsageError
from reviewtool.render.progress import ProgressBar
from reviewtool.render.terminal import terminal_safe
from reviewtool.render.text_check import format_coverage, format_finding
from reviewtool.schemas import SCHEMA_VERSION, with_version_fields


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `check` subcommand."""
    parser = sub.add_parser(
        "check",
        help="check page references (FOLL_GET, releases, mmu_lock) path by path",
        description=(
            "Walk every path of the functions each patch changes (or of every function of a "
            "C file) and report leaks, double releases, marks of non-refcounted pages, "
            "installs before the notifier retry check, and the other FOLL_GET rules. "
            "With --repo the patches are applied in a private temporary index (your repository is "
            "not touched) and whole functions are checked."
        ),
    )
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="mail (mbox, Maildir, .eml, .patch), C files, or a directory of C files",
    )
    add_trailer_argument(parser)
    parser.add_argument("--repo", metavar="DIR", help="git repository holding the base commit")
    parser.add_argument("--base", metavar="REV", help="base revision (default: from the mail)")
    parser.add_argument(
        "--spec",
        metavar="FILE",
        action="append",
        default=[],
        help="TOML file of API rows adding to or overriding the built-in spec (repeatable)",
    )
    parser.add_argument("--series", metavar="SEL", help="only series matching an index or title")
    add_version_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="error",
        help="exit 1 when a finding is at least this severe (default: error)",
    )
    parser.set_defaults(func=run)


class _Run:
    """What one `check` run found, covered and could not cover."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.checked = 0  # functions checked whole
        self.not_checked: list[NotChecked] = []
        # Revisions whose not-checked functions are summarised rather than listed one a line.
        self.summarised: list[tuple[str, int, list[NotChecked]]] = []


def _check_c_files(paths: list[str], spec_files: list[str], run: _Run) -> None:
    """Check C files (those of a directory too), in parallel processes when there are many."""
    if not paths:
        return
    with ProgressBar("checking") as progress:
        results = check_files(paths, spec_files, progress)
    for name, result in results:
        run.findings += result.findings
        run.checked += len(result.checked)
        run.not_checked += result.not_checked
        run.notes += [f"{name}: spec generation {result.generation}"] + [
            note for note in result.notes if not _said_by(note, result.not_checked)
        ]


def _said_by(note: str, not_checked: list[NotChecked]) -> bool:
    """True when a note repeats what a NotChecked entry already says on stdout."""
    return any(f": {item.function}:" in note or item.detail in note for item in not_checked)


def _check_mail(args, specs, run: _Run) -> None:
    from reviewtool.cli.common import load_collection  # noqa: PLC0415 - mail path only
    from reviewtool.series import select_with_versions  # noqa: PLC0415

    start, end = version_range(args)
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    run.notes += list(collection.notes)
    # The series that has the versions asked for (several: exit 2 naming each --series N).
    chosen = select_with_versions(collection.series, args.series, start, end)
    if not chosen:
        raise InputError("no patch series found in the input")
    for selected in chosen:
        revisions = [r for r in selected.revisions if r.patches]
        for position, revision in enumerate(revisions):
            result = check_revision_result(revision, args.repo, args.base, specs)
            run.findings += result.findings
            run.checked += len(result.checked)
            if position == len(revisions) - 1:
                run.not_checked += result.not_checked
            elif result.not_checked:
                run.summarised.append((revision.label, len(result.checked), result.not_checked))


def run(args: argparse.Namespace) -> int:
    """Check, print, and return 1 when findings reach --fail-on."""
    for name in args.paths:
        if not Path(name).exists():
            raise InputError(f"no such file or directory: {name}")
    from reviewtool.cli import EXIT_FINDINGS, EXIT_NOT_CHECKED, EXIT_OK  # noqa: PLC0415

    specs = load_specs(args.spec)
    trees = [p for p in args.paths if Path(p).is_dir() and is_c_tree(p)]
    c_files = [p for p in args.paths if p.endswith(C_SUFFIXES) and Path(p).is_file()]
    for tree in trees:
        c_files += c_files_under(tree)
    mail = [p for p in args.paths if p not in trees and p not in c_files]
    if not mail and any(version_range(args)):
        raise UsageError("--version/--from/--to choose versions of a series read from mail")
    run_ = _Run()
    _check_c_files(c_files, args.spec, run_)
    if mail:
        args.paths = mail
        _check_mail(args, specs, run_)
    findings, notes = run_.findings, run_.notes
    everything = run_.not_checked + [i for _, _, items in run_.summarised for i in items]
    current = [f for f in findings if f.status != "fixed"]
    if args.json:
        print_json(
            {
                "schema_version": SCHEMA_VERSION,
                "findings": [with_version_fields(f.to_json()) for f in findings],
                "checked": run_.checked,
                "not_checked": [with_version_fields(item.to_json()) for item in everything],
                "notes": notes,
            }
        )
    else:
        text = "".join(format_finding(finding) for finding in findings)
        text += format_coverage(run_.checked, run_.not_checked, run_.summarised)
        # Paths, function names and notes come from the files and mail read: made visible.
        sys.stdout.write(terminal_safe(text))
        sys.stderr.write(terminal_safe("".join(f"note: {note}\n" for note in notes)))
    failing = [f for f in current if severity_at_least(f.severity, args.fail_on)]
    if failing:
        return EXIT_FINDINGS
    return EXIT_NOT_CHECKED if everything else EXIT_OK
