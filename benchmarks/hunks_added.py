"""From mail alone, "an acquisition added", on the real Linux 6.12 files: false alarms and recall.

    python benchmarks/hunks_added.py [--kernel DIR] [--file PATH]... [--no-mutants]
                                     [--shape call|block]

For every acquire call of the spec inside a function of ../shared/kernel/linux-6.12 (the files
are copied into a temporary git repository, never edited in place), a patch is mailed with
`git format-patch` whose base has that call renamed to a name no spec row has, and which puts
the real call back: an acquisition added, whose post-image is the real 6.12 code. With
`--shape block` the base lacks every line from the acquisition to the end of the function and
the function's one-line declarations instead, so the patch adds a whole block of code and the
variables it uses (as a patch that introduces a mapping does), every line of it shown.

- clean: the patch alone. 6.12 has no page-reference leak in these files, so every leak from
  hunks reported is a false alarm. Target: none.
- mutants: the same patch, which also blanks one release statement of that function after the
  acquisition (`;` in its place, so the structure stays): the reference the added call takes
  now leaks on the paths through that statement. The whole function, checked by the tree
  walker before and after (`check_functions`, with the file's companions), says whether it
  sees the leak; the from-hunks analyses see only the mail. Reported, per kind of from-hunks
  finding ("an acquisition added", "a release removed"): how many mutants the mail alone
  shows (recall: a leaking exit the hunks do not show is rightly left "not checked
  (hunks-only)"), and each one the tree walker does not confirm, printed to be read.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewtool.analyses.spec import findings_from_hunks, load_specs
from reviewtool.analyses.spec.check import check_functions
from reviewtool.analyses.spec.hunk_region import DECLARATION_RE
from reviewtool.analyses.spec.model import companions_of
from reviewtool.cparse import parse_c
from reviewtool.ingest import load
from reviewtool.series.reroll import applied_revisions

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
RENAMED = "_unmodelled"
ENV = {
    "GIT_AUTHOR_NAME": "A U Thor",
    "GIT_AUTHOR_EMAIL": "author@example.org",
    "GIT_COMMITTER_NAME": "A U Thor",
    "GIT_COMMITTER_EMAIL": "author@example.org",
    "GIT_AUTHOR_DATE": "2024-09-02T10:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-09-02T10:00:00+00:00",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
    "PATH": "/usr/bin:/bin:/usr/local/bin",
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env=ENV, capture_output=True, text=True, check=True
    )
    return done.stdout


def _mail(repo: Path, root: str, relpath: str, base: str, after: str, out: Path) -> Path:
    """The patch turning `base` into `after` at `relpath`, on commit `root`, as mail."""
    _git(repo, "checkout", "-q", "--detach", root)
    (repo / relpath).write_text(base, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "base with the call renamed")
    (repo / relpath).write_text(after, encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "KVM: fault the page in")
    out.write_text(_git(repo, "format-patch", "-1", "--stdout"), encoding="utf-8")
    return out


def _hunk_leaks(mail: Path) -> list:
    revisions = [
        revision
        for series in load([str(mail)]).series
        for revision in applied_revisions([r for r in series.revisions if r.patches])
    ]
    return [
        f
        for revision in revisions
        for f in findings_from_hunks(revision)
        if f.rule == "leak" and f.status == "introduced"
    ]


def _sites(text: str, acquire: set[str], release: set[str]):
    """(function, line index of the acquire call, API, [line indexes of releases after it])."""
    lines = text.split("\n")
    call = re.compile(
        r"(?<![\w.>])(" + "|".join(sorted(acquire, key=len, reverse=True)) + r")\s*\("
    )
    freed = re.compile(
        r"^\s*(" + "|".join(sorted(release, key=len, reverse=True)) + r")\s*\(.*\);\s*$"
    )
    for fdef in parse_c(text).functions():
        if fdef.kind != "function" or fdef.recovered:
            continue
        for index in range(fdef.start_line, fdef.end_line - 1):
            match = call.search(lines[index])
            if not match or lines[index].lstrip().startswith(("*", "/*", "//")):
                continue
            after = [i for i in range(index + 1, fdef.end_line - 1) if freed.match(lines[i])]
            yield fdef.name, index, fdef.end_line - 1, match.group(1), after


def _body_start(lines: list[str], index: int) -> int:
    """The index of the first line of the body of the function holding `lines[index]`."""
    start = index
    while start > 0 and lines[start - 1] != "{":
        start -= 1
    return start


def _tree_leaks(relpath: str, text: str, function: str, context: dict[str, str]) -> set[int]:
    _, result = check_functions(relpath, text, names=[function], context=context)
    return {f.line for f in result.findings if f.rule == "leak" and f.function == function}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", type=Path, default=KERNEL)
    parser.add_argument("--file", action="append", default=[])
    parser.add_argument("--no-mutants", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print every mutant's outcome")
    parser.add_argument(
        "--shape",
        choices=("call", "block"),
        default="call",
        help="call: the patch adds the call alone; block: the patch adds every line from the "
        "acquisition to the end of the function (a new block of code, all of it shown)",
    )
    args = parser.parse_args(argv)
    if not args.kernel.is_dir():
        print(f"real kernel files not found at {args.kernel}", file=sys.stderr)
        return 2
    specs = load_specs()
    files = args.file or sorted(
        p.relative_to(args.kernel).as_posix()
        for p in args.kernel.rglob("*")
        if p.suffix in (".c", ".h") and p.is_file()
    )
    clean_cases = clean_alarms = 0
    leaking = mutants = 0
    found = {"added": 0, "removed": 0, "either": 0}
    unconfirmed = 0
    started = time.perf_counter()
    analysis = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "linux"
        repo.mkdir()
        for relpath in files:
            target = repo / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((args.kernel / relpath).read_bytes())
        _git(repo, "init", "-q", "-b", "master")
        _git(repo, "add", ".")
        _git(repo, "commit", "-q", "-m", "Linux 6.12")
        root = _git(repo, "rev-parse", "HEAD").strip()
        out = Path(scratch) / "patch.mbox"
        for relpath in files:
            real = (args.kernel / relpath).read_text(encoding="utf-8", errors="replace")
            spec = specs.detect(real)
            acquire = {r.name for r in spec.rows_with("acquire")}
            release = {r.name for r in spec.rows_with("release")}
            context = {
                c: (args.kernel / c).read_text(encoding="utf-8", errors="replace")
                for c in companions_of(relpath)
                if (args.kernel / c).is_file()
            }
            lines = real.split("\n")
            for function, index, end, api, releases in _sites(real, acquire, release):
                if args.shape == "block":
                    # The block and the function's declarations: a patch adding a mapping
                    # declares what it maps into, in a hunk of its own at the top.
                    first = _body_start(lines, index)
                    kept = [line for line in lines[first:index] if not DECLARATION_RE.match(line)]
                    base_lines = lines[:first] + kept + lines[end:]
                else:
                    base_lines = list(lines)
                    base_lines[index] = re.sub(
                        rf"\b{re.escape(api)}\s*\(", f"{api}{RENAMED}(", lines[index], count=1
                    )
                base = "\n".join(base_lines)
                tick = time.perf_counter()
                leaks = _hunk_leaks(_mail(repo, root, relpath, base, real, out))
                analysis += time.perf_counter() - tick
                clean_cases += 1
                for leak in leaks:
                    clean_alarms += 1
                    print(
                        f"FALSE ALARM (clean): {relpath}:{leak.line} {leak.function}: "
                        f"{leak.message}"
                    )
                if args.no_mutants:
                    continue
                before = _tree_leaks(relpath, real, function, context) if releases else set()
                for gone in releases:
                    mutated = list(lines)
                    mutated[gone] = re.sub(r"\S.*", ";", lines[gone])
                    after = "\n".join(mutated)
                    mutants += 1
                    tree = _tree_leaks(relpath, after, function, context) - before
                    tick = time.perf_counter()
                    leaks = [
                        f
                        for f in _hunk_leaks(_mail(repo, root, relpath, base, after, out))
                        if f.function == function
                    ]
                    analysis += time.perf_counter() - tick
                    leaking += bool(tree)
                    kinds = {"added" if "added by patch" in f.message else "removed" for f in leaks}
                    for kind in kinds:
                        found[kind] += 1
                    found["either"] += bool(kinds)
                    if args.verbose:
                        outcome = "found" if leaks else ("missed" if tree else "-")
                        print(f"{outcome}: {relpath} {function} release at {gone + 1} blanked")
                    if leaks and not tree:
                        unconfirmed += 1
                        print(
                            f"NOT CONFIRMED BY THE TREE WALKER: {relpath}:{leaks[0].line} "
                            f"{function} (release at line {gone + 1} blanked): {leaks[0].message}"
                        )
    total = time.perf_counter() - started
    print(f"clean: {clean_cases} acquisitions added, {clean_alarms} leak(s) from hunks (target 0)")
    if not args.no_mutants:
        print(
            f"mutants: {mutants} releases blanked, {leaking} seen leaking by the tree walker; "
            f"from the mail alone {found['either']} found ({found['added']} as an acquisition "
            f"added, {found['removed']} as a release removed), {unconfirmed} of them not "
            "confirmed by the tree walker (printed above)"
        )
    print(f"time: {total:.1f} s in all, {analysis:.1f} s reading mail and reasoning over hunks")
    return 1 if clean_alarms else 0


if __name__ == "__main__":
    sys.exit(main())
