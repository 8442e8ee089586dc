"""Scan benchmark: `reviewtool scan` in one process, with `--jobs 2`, and on a 2-worker Dask
LocalCluster, on the same generated mbox; checks that the three indexes agree.

The mbox is the ingest benchmark's (realistic patch mail: 6-patch series with review replies,
some quoted-printable and base64). Each run starts from an empty --out (a cold index), in a
child process so that its time and peak memory are its own; the LocalCluster's start-up is
timed apart from the scan. Keep it short on a shared machine:

    python benchmarks/scan.py [--messages 900] [--partition-mb 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from ingest import generate  # noqa: E402 - the ingest benchmark's generator, one of it


def child(mode: str, mbox: str, out: str, partition_mb: float) -> None:
    """Run one scan in this process and print its figures as JSON."""
    from reviewtool.scan.run import ScanOptions, scan

    options = ScanOptions(
        archives=[mbox],
        out=Path(out),
        partition_bytes=int(partition_mb * 2**20),
    )
    startup = 0.0
    cluster = None
    if mode == "jobs2":
        options.jobs = 2
    elif mode == "dask":
        from distributed import LocalCluster

        began = time.perf_counter()
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
        startup = time.perf_counter() - began
        options.scheduler = cluster.scheduler_address
    if mode == "index":
        # Reading and indexing alone: no series touches this name, so none is reviewed.
        options.touching = ["no_such_function_anywhere"]
    began = time.perf_counter()
    summary = scan(options)
    seconds = time.perf_counter() - began
    rescan = None
    if mode == "index":
        began = time.perf_counter()
        scan(options)  # the archive has not grown: only its end is looked at
        rescan = time.perf_counter() - began
    if cluster is not None:
        cluster.close()
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        got = resource.getrusage(who)
        cpu += got.ru_utime + got.ru_stime
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "startup": startup,
                "messages": summary.read,
                "series": summary.series,
                "failed": summary.failed,
                "driver_peak_rss_mb": usage,
                "cpu_seconds": cpu,  # driver and its worker processes, start-up included
                "rescan": rescan,
            }
        )
    )


def run(mode: str, mbox: str, out: str, partition_mb: float) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, mbox, out, str(partition_mb)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def series_of(out: str) -> list:
    with open(os.path.join(out, "index.json"), encoding="utf-8") as fh:
        return json.load(fh)["series"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=900)
    parser.add_argument("--partition-mb", type=float, default=1.0)
    parser.add_argument("--keep", metavar="DIR", help="keep the mbox and outputs here")
    parser.add_argument(
        "--index-messages",
        type=int,
        default=20000,
        help="also time reading and indexing alone on an mbox this big (0: skip)",
    )
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="scan-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        mbox = os.path.join(work, "list.mbox")
        size = generate(mbox, args.messages)
        print(f"{args.messages} messages, {size / 2**20:.1f} MB, {os.cpu_count()} CPUs")
        print(f"load average before: {os.getloadavg()[0]:.2f}")
        results = {}
        for mode in ("jobs1", "jobs2", "dask"):
            out = os.path.join(work, mode)
            shutil.rmtree(out, ignore_errors=True)
            results[mode] = run(mode, mbox, out, args.partition_mb)
            r = results[mode]
            extra = f" (+{r['startup']:.1f} s cluster start-up)" if r["startup"] else ""
            rate = r["messages"] / r["seconds"]
            print(
                f"{mode:6} {r['seconds']:7.1f} s{extra}  {rate:7.0f} msg/s  {r['series']} series, "
                f"{r['failed']} failed, driver peak {r['driver_peak_rss_mb']:.0f} MB, "
                f"CPU {r['cpu_seconds']:.1f} s"
            )
        base = results["jobs1"]["seconds"]
        for mode in ("jobs2", "dask"):
            print(f"speed-up {mode} vs jobs1: {base / results[mode]['seconds']:.2f}x")
        same = series_of(os.path.join(work, "jobs1")) == series_of(os.path.join(work, "jobs2"))
        same = same and series_of(os.path.join(work, "jobs1")) == series_of(
            os.path.join(work, "dask")
        )
        print(f"indexes identical: {same}")
        if args.index_messages:
            big = os.path.join(work, "big.mbox")
            size = generate(big, args.index_messages)
            out = os.path.join(work, "index")
            r = run("index", big, out, 32)
            print(
                f"index only: {r['messages']} messages ({size / 2**20:.0f} MB) in "
                f"{r['seconds']:.1f} s = {r['messages'] / r['seconds']:.0f} msg/s, "
                f"driver peak {r['driver_peak_rss_mb']:.0f} MB; re-scan with nothing new "
                f"{r['rescan']:.2f} s"
            )
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]))
    else:
        main()
