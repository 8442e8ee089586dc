"""End-to-end time of `reviewtool report` on the bundled example (v1..v8). Target: under 2 s.

    python benchmarks/report.py [MBOX_PATH...] [--repeat N]

Prints the wall time of the whole command (a fresh interpreter, as a user runs it) and, in
process, the time of each stage: reading the mail, running the analyses, rendering HTML.
Not a test: timing belongs here, never in tests/.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kvm-follow-pfn" / "mbox"
TARGET_S = 2.0
DEFAULT_REPEAT = 5


def _times(func, repeat: int) -> tuple[float, float, object]:
    """First (cold: empty parse caches) and median of the rest (warm) wall times."""
    times, result = [], None
    for _ in range(max(repeat, 2)):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times[1:]), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=[str(EXAMPLE)])
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT)
    args = parser.parse_args()
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        print(f"benchmark input not found: {', '.join(missing)}", file=sys.stderr)
        return 2

    from reviewtool.ingest import load
    from reviewtool.render.html import render_html
    from reviewtool.review import build_review

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        command = [sys.executable, "-m", "reviewtool", "report", *args.paths, "-o", str(out)]
        command += ["--fail-on", "none"]

        def whole() -> int:
            return subprocess.run(command, capture_output=True, check=False).returncode

        _, wall, code = _times(whole, args.repeat)
        size = out.stat().st_size if out.exists() else 0

    start = time.perf_counter()
    import reviewtool.analyses.migration  # noqa: F401 - what the command imports, timed
    import reviewtool.analyses.rangediff  # noqa: F401
    import reviewtool.analyses.spec  # noqa: F401

    t_import = time.perf_counter() - start
    load_cold, load_warm, collection = _times(lambda: load(args.paths), args.repeat)
    review_cold, review_warm, review = _times(lambda: build_review(collection), args.repeat)
    render_cold, render_warm, _ = _times(lambda: render_html(review), args.repeat)

    revisions = sum(len(s.revisions) for s in collection.series)
    patches = sum(len(r.patches) for s in collection.series for r in s.revisions)
    print(f"input: {', '.join(args.paths)}")
    print(
        f"  {collection.accounting.read} messages, {len(collection.series)} series, "
        f"{revisions} revisions, {patches} patches"
    )
    print(f"  reviewtool report, fresh process (median of {max(args.repeat, 2) - 1}): {wall:.3f} s")
    print(f"    exit code {code}, report {size / 1024:.0f} KiB")
    print(
        f"  in process, cold / warm: imports {t_import:.3f} s, read mail {load_cold:.3f} / "
        f"{load_warm:.3f} s, analyses {review_cold:.3f} / {review_warm:.3f} s, "
        f"render HTML {render_cold:.3f} / {render_warm:.3f} s"
    )
    for note in review.unavailable():
        scope = f" ({note.scope})" if note.scope else ""
        print(f"  note: {note.analysis}{scope} did not run: {note.reason}")
    verdict = "within" if wall < TARGET_S else "OVER"
    print(f"  target {TARGET_S:.1f} s: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
