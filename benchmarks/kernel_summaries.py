"""Callee summaries over the real Linux 6.12 files: how many, and what they cost.

    python benchmarks/kernel_summaries.py [--kernel DIR] [--workers N]

Summarises the page-handling files of ../shared/kernel/linux-6.12 (analyses/spec/summaries.py)
with an empty cache, then again from the cache, and times `check DIR`'s driver
(cli/check_walk.check_files) over the tree with and without summaries. Prints every summary.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from reviewtool.analyses.spec import load_specs
from reviewtool.analyses.spec.summaries import summarise_tree
from reviewtool.analyses.spec.summary_cache import SummaryCache, spec_fingerprint
from reviewtool.cli.check_walk import c_files_under, check_files

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default=str(KERNEL), help="the real 6.12 files")
    parser.add_argument("--workers", type=int, default=None, help="processes for check DIR")
    args = parser.parse_args(argv)
    root = Path(args.kernel)
    if not root.is_dir():
        print(f"kernel files not found at {root}", file=sys.stderr)
        return 2
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".c", ".h"))
    specs = load_specs()
    with tempfile.TemporaryDirectory() as scratch:
        cache = SummaryCache(Path(scratch), spec_fingerprint())
        started = time.perf_counter()
        table = summarise_tree(root, files, specs, cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        again = summarise_tree(root, files, specs, SummaryCache(Path(scratch), spec_fingerprint()))
        warm = time.perf_counter() - started
        assert again.rows == table.rows
        names = c_files_under(root)
        timings = {}
        findings = {}
        for mode, use in (("without", False), ("cold", True), ("warm", True)):
            started = time.perf_counter()
            results = check_files(
                names, [], workers=args.workers, use_summaries=use, cache_dir=Path(scratch) / "dir"
            )
            timings[mode] = time.perf_counter() - started
            findings[mode] = sorted(
                (f.file, f.function, f.rule) for _, r in results for f in r.findings
            )
    print(f"files: {len(files)}; summaries: {len(table.rows)}; conflicts: {len(table.conflicts)}")
    print(f"rounds: {table.rounds}")
    for name, rows in sorted(table.rows.items()):
        for row in rows:
            print(f"  {name}: {row.effect} ({row.source})")
    print(f"summarise, empty cache: {cold:.2f} s; from the cache: {warm:.2f} s")
    for mode, what in (
        ("without", "without summaries"),
        ("cold", "with summaries, empty cache"),
        ("warm", "with summaries, from the cache"),
    ):
        print(f"check DIR {what}: {timings[mode]:.2f} s, {len(findings[mode])} findings")
    for item in findings["warm"]:
        print(f"  {item[0]}: {item[1]}: {item[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
