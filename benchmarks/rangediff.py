#!/usr/bin/env python3
"""Time reviewtool's range-diff from mail against `git range-diff` on the same two versions.

    python benchmarks/rangediff.py [--repeat N]

Two cases: the bundled example's v7 -> v8 (its repository rebuilt by
examples/kvm-follow-pfn/build.py) and a generated 100-patch series rerolled onto a moved
base (reorders, drops, additions, edits, a split and a squash). For each, git range-diff is
run on the commits and reviewtool on the format-patch mail of the same commits; the figures
are the best of N runs, and the pairings must be identical.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reviewtool.analyses.rangediff import compare, pair_patches  # noqa: E402
from reviewtool.ingest import load  # noqa: E402
from tests.helpers.rangediff_support import (  # noqa: E402
    GIT_ENV,
    GitSeries,
    kernel_tree,
    load_revision,
    moved_base,
    mutate,
    parse_range_diff,
    random_series,
)

SERIES_LENGTH = 100


def best_of(repeat: int, action) -> tuple[float, object]:
    """The shortest wall time of `repeat` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def git_range_diff(repo: Path, old: str, new: str) -> list[tuple]:
    import os

    out = subprocess.run(
        ["git", "-C", str(repo), "range-diff", "--no-color", old, new],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    ).stdout
    return parse_range_diff(out)


def installed_env() -> dict[str, str]:
    """The environment of an installed tool: byte code cached (in a private prefix, so that
    the checkout stays clean), whatever PYTHONDONTWRITEBYTECODE this shell has."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "reviewtool-bench-pycache")
    return env


def reviewtool_diff(paths: list[Path]) -> None:
    """`reviewtool diff PATHS` in a fresh process, as a user runs it."""
    subprocess.run(
        [sys.executable, "-m", "reviewtool", "diff", *map(str, paths)],
        capture_output=True,
        check=True,
        cwd=ROOT,
        env=installed_env(),
    )


def python_only(code: str) -> None:
    """`python -c CODE` in a fresh process, in the environment `reviewtool diff` runs in."""
    subprocess.run(
        [sys.executable, "-c", code], capture_output=True, check=True, cwd=ROOT, env=installed_env()
    )


def scipy_loaded(paths: list[Path]) -> bool:
    """Whether `reviewtool diff PATHS` imported SciPy (it should only for large assignments)."""
    probe = (
        "import sys, runpy; sys.argv = ['reviewtool', 'diff', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('reviewtool', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "sys.stderr.write('SCIPY=%d' % ('scipy' in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *map(str, paths)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=installed_env(),
    )
    return "SCIPY=1" in out.stderr


def child_cpu(action) -> float:
    """CPU seconds (user + system) the child processes of `action` used: on a loaded machine
    the wall time measures the queue for a core more than the program. getrusage counts in
    microseconds (os.times in clock ticks of 10 ms, too coarse for a 100 ms command)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    action()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def report(
    name: str,
    repeat: int,
    repo: Path,
    old_range: str,
    new_range: str,
    old,
    new,
    paths: list[Path],
) -> bool:
    git_time, git_pairs = best_of(repeat, lambda: git_range_diff(repo, old_range, new_range))
    reviewtool_diff(paths)  # once to fill the byte-code cache, as an installed tool has it
    command_time, _ = best_of(repeat, lambda: reviewtool_diff(paths))
    pair_time, ours = best_of(repeat, lambda: pair_patches(old, new))
    full_time, _ = best_of(repeat, lambda: compare(old, new))
    same = sorted(ours, key=str) == sorted(git_pairs, key=str)
    print(f"{name}: {len(old.patches)} -> {len(new.patches)} patches")
    print(f"  git range-diff (process, commits)   {git_time * 1000:8.1f} ms")
    print(
        f"  reviewtool pairing (from mail)      {pair_time * 1000:8.1f} ms"
        f"   ({pair_time / git_time:.2f}x git)"
    )
    print(f"  reviewtool compare (pairs+interdiff+changelog) {full_time * 1000:8.1f} ms")
    git_cpu = min(
        child_cpu(lambda: git_range_diff(repo, old_range, new_range)) for _ in range(repeat)
    )
    command_cpu = min(child_cpu(lambda: reviewtool_diff(paths)) for _ in range(repeat))
    print(
        f"  CPU time, git range-diff / reviewtool diff  {git_cpu * 1000:6.0f} ms / "
        f"{command_cpu * 1000:6.0f} ms   ({command_cpu / max(git_cpu, 1e-9):.2f}x git)"
    )
    start_cpu = min(child_cpu(lambda: python_only("pass")) for _ in range(repeat))
    # The imports as the command makes them: building its parser loads `diff`'s modules,
    # with the garbage collector paused and then frozen (cli._build_parser_as_the_program).
    import_cpu = min(
        child_cpu(
            lambda: python_only(
                "from reviewtool.cli import _build_parser_as_the_program as build\nbuild(['diff'])"
            )
        )
        for _ in range(repeat)
    )
    # The work includes what diff imports only when its input needs it.
    print(
        f"    of which Python start-up {start_cpu * 1000:.0f} ms, then imports and parser "
        f"{(import_cpu - start_cpu) * 1000:.0f} ms, then the work "
        f"{(command_cpu - import_cpu) * 1000:.0f} ms (CPU)"
    )
    print(
        f"  reviewtool diff (process, mail)     {command_time * 1000:8.1f} ms"
        f"   ({command_time / git_time:.2f}x git; SciPy imported: "
        f"{'yes' if scipy_loaded(paths) else 'no'})"
    )
    print(f"  identical pairing: {'yes' if same else 'NO'}")
    return same


def example_case(repeat: int, work: Path) -> bool:
    build = ROOT / "examples" / "kvm-follow-pfn" / "build.py"
    if not build.exists():
        print("example: examples/kvm-follow-pfn/build.py not found, skipped")
        return True
    repo, mbox = work / "linux", work / "mbox"
    subprocess.run(
        [sys.executable, str(build), "--out", str(mbox), "--repo-out", str(repo)],
        check=True,
        capture_output=True,
    )
    start = time.perf_counter()
    collection = load([str(mbox / "v7.mbox"), str(mbox / "v8.mbox")])
    load_time = time.perf_counter() - start
    series = next(s for s in collection.series if s.revision("v7") and s.revision("v8"))
    old, new = series.revision("v7"), series.revision("v8")
    print(f"(example mail read in {load_time * 1000:.1f} ms)")
    return report(
        "example v7 -> v8",
        repeat,
        repo,
        f"{old.base_commit}..v7",
        f"{new.base_commit}..v8",
        old,
        new,
        [mbox / "v7.mbox", mbox / "v8.mbox"],
    )


def generated_case(repeat: int, work: Path) -> bool:
    rng = random.Random(2023)
    tree = kernel_tree(files=24, functions=30, seed=7)
    anchors = [(p, line) for p, lines in tree.items() for line in lines if line.startswith("\tv")]
    v1 = random_series(rng, tree, SERIES_LENGTH)
    used = {e.anchor for p in v1 for e in p.edits}
    spare = [a for a in anchors if a[1] not in used]
    rng.shuffle(spare)
    spare = spare[:8]
    kinds = ["reorder", "drop", "add", "modify", "reword", "split", "squash"] * 2
    v2 = mutate(rng, v1, list(spare), kinds)
    repo = GitSeries.create(work / "generated")
    base1 = repo.commit_base(tree, "base")
    # The reroll sits on a base that moved: many patches' context changes.
    moved = moved_base(rng, tree, used | {a[1] for a in spare})
    base2 = repo.commit_base(moved, "upstream")
    repo.commit_series("v1", base1, tree, v1)
    repo.commit_series("v2", base2, moved, v2)
    start = time.perf_counter()
    mail1, mail2 = (
        repo.format_patch("v1", 1, work / "mail1"),
        repo.format_patch("v2", 2, work / "mail2"),
    )
    old, new = load_revision(mail1), load_revision(mail2)
    print(f"(generated mail written and read in {(time.perf_counter() - start) * 1000:.0f} ms)")
    b1, t1 = repo.branches["v1"]
    b2, t2 = repo.branches["v2"]
    return report(
        f"generated {SERIES_LENGTH}-patch series",
        repeat,
        repo.repo,
        f"{b1}..{t1}",
        f"{b2}..{t2}",
        old,
        new,
        [mail1, mail2],
    )


def load_average() -> str:
    """The 1-minute load average: with other work on the machine, every figure is higher."""
    import os

    return f"{os.getloadavg()[0]:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (best is kept)")
    args = parser.parse_args()
    print(f"load average at start: {load_average()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ok = example_case(args.repeat, work)
        print()
        ok = generated_case(args.repeat, work) and ok
    print(f"load average at end: {load_average()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
