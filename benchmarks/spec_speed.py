"""How long the FOLL_GET checker takes on the bundled example, per version.

    python benchmarks/spec_speed.py [--repo DIR] [--mbox PATH]

Without --repo the example's repository and mail are built into a temporary directory first
(examples/kvm-follow-pfn/build.py). For each version: check_revision() with the tree and
nothing remembered from earlier checks ("cold"), its walker steps and the functions the work
bound cut short; then the whole series in order as `reviewtool report` runs it ("series",
results reused across versions), and without the tree. Target: any one version <= 1 s.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import reviewtool.analyses.spec.check as check_module
from reviewtool.analyses.spec import check_revision
from reviewtool.analyses.spec.walker import Walker
from reviewtool.errors import ReviewtoolError
from reviewtool.ingest import load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn"
TARGET_SECONDS = 1.0


class _Counter:
    """Walker steps and work-bound hits, counted around Walker.check_function."""

    def __init__(self) -> None:
        self.steps = 0
        self.cut: list[str] = []
        self._original = Walker.check_function

    def __enter__(self) -> _Counter:
        counter, original = self, self._original

        def check_function(walker: Walker, fdef) -> bool:
            explored = original(walker, fdef)
            counter.steps += walker.steps
            if not explored:
                counter.cut.append(fdef.name)
            return explored

        Walker.check_function = check_function
        return self

    def __exit__(self, *_exc) -> None:
        Walker.check_function = self._original


def _timed(revision, repo: str | None) -> tuple[float, int, str]:
    started = time.perf_counter()
    try:
        found = len(check_revision(revision, repo=repo))
    except ReviewtoolError as exc:
        return time.perf_counter() - started, 0, type(exc).__name__
    return time.perf_counter() - started, found, ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", help="the example's git repository (built when omitted)")
    parser.add_argument("--mbox", default=str(EXAMPLE / "mbox"), help="the example's mail")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        repo = args.repo
        if repo is None:
            repo = str(Path(scratch) / "linux")
            subprocess.run(
                [
                    sys.executable,
                    str(EXAMPLE / "build.py"),
                    "--out",
                    str(Path(scratch) / "mbox"),
                    "--repo-out",
                    repo,
                ],
                check=True,
                capture_output=True,
            )
        [series] = load([args.mbox]).series
        revisions = series.revisions
        check_revision(revisions[0], repo=repo)  # imports, specs, parser: not the checker's
        print(f"{'version':8} {'cold s':>7} {'steps':>7} {'found':>5}  cut short / error")
        worst = 0.0
        for revision in revisions:
            check_module._CHECKS.clear()
            with _Counter() as counter:
                seconds, found, error = _timed(revision, repo)
            worst = max(worst, seconds)
            note = error or ", ".join(counter.cut)
            print(f"{revision.label:8} {seconds:7.2f} {counter.steps:7} {found:5}  {note}")
        check_module._CHECKS.clear()
        for repo_arg, name in ((repo, "series with the tree"), (None, "series from the hunks")):
            started = time.perf_counter()
            for revision in revisions:
                _timed(revision, repo_arg)
            print(f"{name}: {time.perf_counter() - started:.2f} s")
    verdict = "met" if worst <= TARGET_SECONDS else "NOT met"
    print(f"slowest version {worst:.2f} s (target <= {TARGET_SECONDS:.0f} s): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
