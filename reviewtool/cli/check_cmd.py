"""`reviewtool check PATH...`: the FOLL_GET checker over C files or the patches of a series."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reviewtool.analyses.findings import SEVERITIES, Finding, severity_at_least
from reviewtool.analyses.spec import check_revision, check_source, load_specs
from reviewtool.analyses.spec.revision import COMPANIONS
from reviewtool.cli.common import print_json
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `check` subcommand."""
    parser = sub.add_parser(
        "check",
        help="check page references (FOLL_GET, releases, mmu_lock) path by path",
        description=(
            "Walk every path of the functions each patch changes (or of every function of a "
            "C file) and report leaks, double releases, marks of non-refcounted pages, "
            "installs before the notifier retry check, and the other FOLL_GET rules. "
            "With --repo the patches are applied in a temporary worktree (your checkout is "
            "not touched) and whole functions are checked."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", help="mail (mbox, Maildir, .eml, .patch) or C files"
    )
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
    parser.add_argument("--json", action="store_true", help="print findings as JSON")
    parser.add_argument(
        "--fail-on",
        choices=SEVERITIES,
        default="error",
        help="exit 1 when a finding is at least this severe (default: error)",
    )
    parser.set_defaults(func=run)


def _print_finding(finding: Finding, out) -> None:
    where = f" [{finding.version} {finding.patch_index}]" if finding.version else ""
    status = f" ({finding.status})" if finding.status else ""
    config = f" [{finding.config}]" if finding.config else ""
    partial = " [partial: function not fully visible]" if finding.partial else ""
    out.write(f"{finding.compiler_line()}{config}{status}{where}{partial}\n")
    out.write(f"    in {finding.function}():\n")
    for line in finding.trace_lines():
        out.write(line + "\n")


def _companion_texts(name: str) -> dict[str, str]:
    """The files that #include this one, found beside it (paging_tmpl.h -> mmu.c)."""
    found = {}
    path = Path(name).resolve()
    for suffix, companions in COMPANIONS.items():
        if not path.as_posix().endswith(suffix):
            continue
        root = Path(path.as_posix()[: -len(suffix)])
        for companion in companions:
            candidate = root / companion
            if candidate.is_file():
                found[str(candidate)] = candidate.read_text(encoding="utf-8", errors="replace")
    return found


def _check_c_files(paths: list[str], specs) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    notes: list[str] = []
    for name in paths:
        try:
            text = Path(name).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"cannot read {name}: {exc.strerror}") from exc
        result = check_source(name, text, None, specs, context=_companion_texts(name))
        findings += result.findings
        notes += [f"{name}: spec generation {result.generation}"] + result.notes
    return findings, notes


def _check_mail(args, specs) -> tuple[list[Finding], list[str]]:
    from reviewtool.cli.common import load_collection  # noqa: PLC0415 - mail path only
    from reviewtool.series import select_series  # noqa: PLC0415

    collection = load_collection(args.paths)
    notes = list(collection.notes)
    chosen = select_series(collection.series, args.series)
    if not chosen:
        raise InputError("no patch series found in the input")
    findings: list[Finding] = []
    for series in chosen:
        for revision in series.revisions:
            findings += check_revision(revision, args.repo, args.base, specs)
    return findings, notes


def run(args: argparse.Namespace) -> int:
    """Check, print, and return 1 when findings reach --fail-on."""
    for name in args.paths:
        if not Path(name).exists():
            raise InputError(f"no such file or directory: {name}")
    specs = load_specs(args.spec)
    c_files = [p for p in args.paths if p.endswith(C_SUFFIXES)]
    mail = [p for p in args.paths if not p.endswith(C_SUFFIXES)]
    findings, notes = _check_c_files(c_files, specs)
    if mail:
        args.paths = mail
        more, more_notes = _check_mail(args, specs)
        findings += more
        notes += more_notes
    current = [f for f in findings if f.status != "fixed"]
    if args.json:
        print_json({"findings": [f.to_json() for f in findings], "notes": notes})
    else:
        for finding in findings:
            _print_finding(finding, sys.stdout)
        for note in notes:
            sys.stderr.write(f"note: {note}\n")
    failing = [f for f in current if severity_at_least(f.severity, args.fail_on)]
    return 1 if failing else 0
