"""Time and peak memory of `reviewtool check FILE` on the real Linux 6.12 KVM files.

    python benchmarks/kernel_speed.py [--kernel DIR] [--file PATH]...

Each page-handling file of ../shared/kernel/linux-6.12 is checked in a fresh process, run
from the tree's root as a user would (`cd linux && reviewtool check arch/x86/kvm/mmu/mmu.c`):
wall time and peak resident memory of that process (os.wait4's rusage), findings and
functions left unexplored. Then every file in one process (`reviewtool check FILE...`).
Targets: mmu.c under 5 s and 200 MB; all files under 30 s.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
MMU = "arch/x86/kvm/mmu/mmu.c"
_FINDING_RE = re.compile(r"^\S+:\d+: (error|warning): ")
TARGET_MMU_SECONDS, TARGET_MMU_MB, TARGET_ALL_SECONDS = 5.0, 200.0, 30.0


def _run(root: Path, files: list[str]) -> tuple[float, float, str, str]:
    """(seconds, peak MB, stdout, stderr) of one `reviewtool check` process."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "reviewtool", "check", *files],
            cwd=root,
            env=env,
            stdout=out,
            stderr=err,
        )
        # wait4 gives this child's own peak memory (RUSAGE_CHILDREN keeps only the maximum).
        _, _, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = 0  # reaped here; keep Popen from waiting again
        out.seek(0)
        err.seek(0)
        return elapsed, usage.ru_maxrss / 1024, out.read(), err.read()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default=str(KERNEL), help="the real 6.12 files")
    parser.add_argument("--file", action="append", default=[], help="only these files")
    args = parser.parse_args(argv)
    root = Path(args.kernel)
    if not root.is_dir():
        print(f"kernel files not found at {root}", file=sys.stderr)
        return 2
    files = args.file or sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.suffix in (".c", ".h") and p.parts[len(root.parts)] in ("arch", "virt", "include")
    )
    print(f"{'file':42} {'s':>6} {'MB':>6} {'findings':>8} {'unexplored':>10}")
    total = 0.0
    peak = 0.0
    mmu = (0.0, 0.0)
    for relpath in files:
        seconds, mb, out, err = _run(root, [relpath])
        findings = sum(1 for line in out.splitlines() if _FINDING_RE.match(line))
        unexplored = (out + err).count("not fully explored") + (out + err).count("(bound)")
        total += seconds
        peak = max(peak, mb)
        if relpath == MMU:
            mmu = (seconds, mb)
        print(f"{relpath:42} {seconds:6.2f} {mb:6.1f} {findings:8d} {unexplored:10d}")
    print(f"{'sum of the per-file processes':42} {total:6.2f} {peak:6.1f}")
    seconds, mb, _, _ = _run(root, files)
    print(f"{'all files in one process':42} {seconds:6.2f} {mb:6.1f}")
    ok = mmu[0] < TARGET_MMU_SECONDS and mmu[1] < TARGET_MMU_MB and seconds < TARGET_ALL_SECONDS
    print(
        f"targets: {MMU} < {TARGET_MMU_SECONDS:.0f} s and < {TARGET_MMU_MB:.0f} MB, "
        f"all files < {TARGET_ALL_SECONDS:.0f} s: {'met' if ok else 'not met'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
