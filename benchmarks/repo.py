"""`check --repo` and `report --repo` on a big tree, and a kill harness proving the tree untouched.

    python benchmarks/repo.py [--fillers 80000] [--kills 50] [--repeat 3] [--keep DIR]

Builds (in a temporary directory) a repository whose base commit is the real Linux 6.12 KVM
files from ../shared/kernel plus `--fillers` filler files standing for the rest of a kernel
tree, and a three-patch series of our own on top (the third a realistic leak). Prints the wall
time of `reviewtool check --repo` and `reviewtool report --repo` in a fresh interpreter, then
kills `check --repo` `--kills` times at random points (SIGKILL or SIGTERM) and compares every
byte of the repository (work tree, .git with index, refs, config and objects, worktree list)
with the state before. Not a test: timing belongs here, never in tests/.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import kernelrepo  # noqa: E402

SCRATCH_PREFIX = "reviewtool-scratch-"


def _command(kind: str, repo: kernelrepo.KernelRepo, out_dir: Path) -> list[str]:
    command = [sys.executable, "-m", "reviewtool", kind, "--repo", str(repo.path)]
    if kind == "report":
        command += ["-o", str(out_dir / "report.html"), "--fail-on", "none"]
    return [*command, str(repo.mail)]


def _wall(command: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=env["TMPDIR"], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _wait_for_scratch(run: subprocess.Popen, scratch_tmp: Path) -> int:
    """Wait until the run has a scratch directory open (1) or has ended (0)."""
    while run.poll() is None:
        if any(scratch_tmp.glob(f"{SCRATCH_PREFIX}*.{run.pid}-*")):
            return 1
        time.sleep(0.002)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fillers", type=int, default=80_000)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1216)
    args = parser.parse_args()
    if not kernelrepo.kernel_available():
        print(f"real kernel files not found at {kernelrepo.KERNEL}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        repo = kernelrepo.build(root / "build", fillers=args.fillers)
        print(
            f"repository: {repo.files} files at base, built in {time.perf_counter() - start:.1f} s"
        )
        scratch_tmp = root / "tmp"
        scratch_tmp.mkdir()
        # cwd is the scratch parent: `python -m` puts the cwd first on sys.path, and PYTHONPATH
        # (which code to measure) must win.
        env = {
            **os.environ,
            "TMPDIR": str(scratch_tmp),
            "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT)),
        }
        for kind in ("check", "report"):
            wall = _wall(_command(kind, repo, root), env, args.repeat)
            print(f"{kind} --repo: {wall:.2f} s (median of {args.repeat}, fresh interpreter)")
        before = kernelrepo.snapshot(repo.path)
        full = _wall(_command("check", repo, root), env, 1)
        chooser = random.Random(args.seed)
        changed = leftovers_seen = targeted = 0
        by_signal = {"SIGKILL": 0, "SIGTERM": 0}
        for _ in range(args.kills):
            run = subprocess.Popen(
                _command("check", repo, root),
                env=env,
                cwd=scratch_tmp,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if chooser.random() < 0.5:
                time.sleep(chooser.uniform(0.05, full))  # anywhere in the run
            else:
                targeted += _wait_for_scratch(run, scratch_tmp)  # while the scratch is open
                time.sleep(chooser.uniform(0, 0.05))
            sig = chooser.choice([signal.SIGKILL, signal.SIGTERM])
            run.send_signal(sig)
            run.wait(timeout=120)
            by_signal[sig.name] += 1
            leftovers_seen += len(list(scratch_tmp.glob(f"{SCRATCH_PREFIX}*")))
            if kernelrepo.snapshot(repo.path) != before:
                changed += 1
        subprocess.run(
            _command("check", repo, root),
            env=env,
            cwd=scratch_tmp,
            capture_output=True,
            check=False,
        )
        remaining = list(scratch_tmp.glob(f"{SCRATCH_PREFIX}*"))
        print(
            f"kills: {args.kills} ({by_signal['SIGKILL']} SIGKILL, {by_signal['SIGTERM']} SIGTERM) "
            f"({targeted} of them while a scratch index was open, the rest at uniform points "
            f"of a {full:.1f} s run); repository changed after {changed}; "
            f"scratch dirs seen after kills: {leftovers_seen}; left after the next run: "
            f"{len(remaining)}"
        )
        return 1 if changed or remaining else 0


if __name__ == "__main__":
    raise SystemExit(main())
