#!/usr/bin/env python3
"""Peak memory of one reviewtool run on crafted hostile inputs (issue 16.3).

    python benchmarks/hostile.py [--code DIR] [--big-mb N]

Each input is written to a temporary directory, then `reviewtool series` (or `check`) runs on it
in a fresh process; the figure is that process's peak resident memory (ru_maxrss), its exit
code and the first line it printed on stderr. `--code` runs another checkout's reviewtool
(for a before/after comparison). Inputs: one message of N MB that is a single line, a gzip
of a small header followed by zeros (a decompression bomb: a few hundred KB on disk), a patch
whose hunk header claims line 2,147,483,648, and `[PATCH 1/99999999999]`.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
    "From: A U Thor <author@example.org>\n"
    "Subject: [PATCH {index}] KVM: x86: a crafted message\n"
    "Message-ID: <crafted-{tag}@example.org>\n"
    "Date: Tue, 5 Sep 2023 10:00:00 +0000\n\n"
)


def write_inputs(work: Path, big_mb: int) -> list[tuple[str, list[str]]]:
    big = work / "big.mbox"
    with big.open("wb") as out:
        out.write(HEADER.format(index="1/1", tag="big").encode())
        chunk = b"x" * (1024 * 1024)
        for _ in range(big_mb):
            out.write(chunk)
        out.write(b"\n")
    bomb = work / "bomb.mbox.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(HEADER.format(index="1/1", tag="bomb").encode())
        chunk = b"\0" * (1024 * 1024)
        for _ in range(2048):  # 2 GB of zeros
            out.write(chunk)
    far = work / "far.eml"
    far.write_text(
        HEADER.format(index="1/1", tag="far").split("\n", 1)[1]
        + "x\n---\ndiff --git a/arch/x86/kvm/x.c b/arch/x86/kvm/x.c\n"
        "--- a/arch/x86/kvm/x.c\n+++ b/arch/x86/kvm/x.c\n"
        "@@ -2147483648,2 +2147483648,2 @@ int f(void)\n int f(void)\n"
        "-\tkvm_release_pfn_clean(pfn);\n+\treturn 0;\n"
    )
    total = work / "total.eml"
    total.write_text(HEADER.format(index="1/99999999999", tag="total").split("\n", 1)[1] + "x\n")
    return [
        (f"one {big_mb} MB single-line message (series)", ["series", str(big)]),
        (f"gzip bomb, {bomb.stat().st_size // 1024} KB on disk (series)", ["series", str(bomb)]),
        ("hunk header at line 2147483648 (check)", ["check", str(far)]),
        ("[PATCH 1/99999999999] (series --json)", ["series", "--json", str(total)]),
    ]


def run(code: Path, args: list[str]) -> tuple[float, int, int, str]:
    """(seconds, peak RSS in MB, exit code, first stderr line) of one fresh process."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "reviewtool", *args],
        cwd=code,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    stderr = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
    seconds = time.perf_counter() - start
    code_ = os.waitstatus_to_exitcode(status)
    first = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    return seconds, usage.ru_maxrss // 1024, code_, first[:110]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose reviewtool runs")
    parser.add_argument("--big-mb", type=int, default=200, help="size of the big message")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, command in write_inputs(Path(tmp), args.big_mb):
            seconds, peak, exit_code, line = run(args.code.resolve(), command)
            print(f"{name}: {peak} MB peak, {seconds:.1f} s, exit {exit_code}")
            if line:
                print(f"    stderr: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
