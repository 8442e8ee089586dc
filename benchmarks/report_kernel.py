"""`reviewtool report` on a long series against the real 6.12 files (no --repo). Target: < 2 s.

    python benchmarks/report_kernel.py [--versions 11] [--repeat 3] [--profile]

The reference series (v3..v13 of "KVM: allow mapping non-refcounted pages", 51 mails) is not
in ../shared/corpus, so this builds its shape: a repository whose base is the real Linux 6.12
KVM files, and `--versions` versions of a four-patch series (plus cover letters) whose patches
edit the fault handlers and pfn helpers of mmu.c, paging_tmpl.h, kvm_main.c and arm64 mmu.c
at their real line numbers (thousands), each version differing a little from the one before.
The checker then sees function images far down big files: what made the padding cost.
Prints the wall time of the whole command in a fresh interpreter, median of --repeat.
Not a test: timing belongs here, never in tests/.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import kernelrepo  # noqa: E402
from tests.helpers.git import fill_cover, format_patch, git  # noqa: E402

# (patch subject, file, functions whose bodies the patch edits)
PATCHES = [
    (
        "KVM: Say which fault-in paths take a reference",
        "virt/kvm/kvm_main.c",
        ["hva_to_pfn", "__gfn_to_pfn_memslot", "kvm_vcpu_map", "kvm_vcpu_unmap"],
    ),
    (
        "KVM: x86/mmu: Say who releases the faulted-in pfn",
        "arch/x86/kvm/mmu/mmu.c",
        ["__kvm_faultin_pfn", "kvm_faultin_pfn", "direct_page_fault", "kvm_tdp_mmu_page_fault"],
    ),
    (
        "KVM: x86/mmu: Same for the shadow paging fault path",
        "arch/x86/kvm/mmu/paging_tmpl.h",
        ["FNAME(fetch)", "FNAME(page_fault)"],
    ),
    (
        "KVM: arm64: Say who releases the faulted-in pfn",
        "arch/arm64/kvm/mmu.c",
        ["user_mem_abort"],
    ),
]


def _annotate(text: str, function: str, note: str) -> str:
    """A comment line as the first line of function's body."""
    name = re.escape(function)
    match = re.search(rf"^[^\n]*\b{name}\([^;{{]*?\)\n\{{\n", text, re.M | re.S)
    if match is None:
        raise ValueError(f"{function} not found")
    return text[: match.end()] + f"\t/* {note} */\n" + text[match.end() :]


def build_series(root: Path, versions: int) -> Path:
    """The mail of every version, in root/mail (one directory of .patch files)."""
    repo = kernelrepo.build(root, fillers=0, worktree=True)
    mail = root / "series"
    for version in range(1, versions + 1):
        git(repo.path, "checkout", "-q", "-f", "-B", f"v{version}", repo.base)
        for subject, path, functions in PATCHES:
            target = repo.path / path
            text = target.read_text()
            for function in functions:
                text = _annotate(text, function, f"{function}: reference rules, take {version}")
            target.write_text(text)
            git(repo.path, "commit", "-q", "-am", f"{subject}\n\nSigned-off-by: A <a@b.c>")
        out = root / f"v{version}"
        files = format_patch(repo.path, repo.base, out, version)
        fill_cover(files[0], "KVM: say who releases each page reference", f"Version {version}.")
        mail.mkdir(exist_ok=True)
        for file in files:
            text = re.sub(
                r"\.\d{9,11}\.git\.", f".{1732000000 + version * 86400}.git.", file.read_text()
            )
            (mail / f"v{version:02d}-{file.name}").write_text(text)
    return mail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=11)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also profile one run in process")
    parser.add_argument("--sort", default="cumulative", help="profile order (pstats key)")
    args = parser.parse_args()
    if not kernelrepo.kernel_available():
        print(f"real kernel files not found at {kernelrepo.KERNEL}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        mail = build_series(Path(tmp), args.versions)
        count = len(list(mail.glob("*.patch")))
        out = Path(tmp) / "report.html"
        command = [sys.executable, "-m", "reviewtool", "report", str(mail), "-o", str(out)]
        command += ["--fail-on", "none"]
        env = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", str(ROOT))}
        times, cpu = [], []
        for _ in range(args.repeat):
            start = time.perf_counter()
            used = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(
                command, env=env, cwd=tmp, capture_output=True, text=True, check=False
            )  # cwd: `python -m` puts it first on sys.path, and PYTHONPATH must win
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append(time.perf_counter() - start)
            cpu.append(after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime)
        print(
            f"report of {count} mails ({args.versions} versions): {statistics.median(times):.2f} s "
            f"wall, {statistics.median(cpu):.2f} s CPU (user+sys), median of {args.repeat} runs "
            f"in a fresh interpreter; exit {done.returncode}"
        )
        print(done.stderr.strip()[:300])
        if args.profile:
            from reviewtool.cli import main as cli_main

            profiler = cProfile.Profile()
            profiler.runcall(cli_main, ["report", str(mail), "-o", str(out), "--fail-on", "none"])
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(25)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
