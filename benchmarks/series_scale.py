"""Series assembly at archive scale: time and peak memory of `reviewtool series --json` on
generated list mail, beside stdlib `mailbox` + `email` parsing of the same mbox.

The mbox holds what a list archive holds: series of 3-8 patches in 1-3 versions, each
version threaded under its cover, 1 patch in 7 sent without threading (joined back by
author, version and day), some covers lost (patches grouped by the Message-ID they answer),
a patch resent alone a week later, review replies with trailers, and list chatter. Each
measurement runs in its own child process so its peak RSS is its own.

    python benchmarks/series_scale.py [--messages 20000 100000] [--skip-stdlib] [--code DIR]

`--code DIR` measures the reviewtool found in DIR (another checkout: the "before" figure).
Read time per message across sizes: linear assembly keeps it flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

from ingest import run_stdlib  # the same stdlib reader the ingest benchmark times

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "data", "ingest-patch-body.txt"), encoding="utf-8") as _fh:
    PATCH_BODY = _fh.read()
with open(os.path.join(HERE, "data", "ingest-reply-body.txt"), encoding="utf-8") as _fh:
    REPLY_BODY = _fh.read()
SEPARATOR = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"
DAY = 86400


def _date(seconds: int) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(seconds))


def _message(headers: dict[str, str], body: str) -> str:
    head = "".join(f"{k}: {v}\n" for k, v in headers.items() if v)
    return (
        f"{SEPARATOR}{head}MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n{body}\n"
    )


def generate(path: str, count: int) -> int:
    """Write about `count` messages of list traffic; return how many were written."""
    written = 0
    work = 0
    start = 1_600_000_000
    with open(path, "w", encoding="utf-8") as out:
        while written < count:
            work += 1
            author = f"Dev{work % 997} Person <dev{work % 997}@example.org>"
            patches = 3 + work % 6
            versions = 1 + work % 3
            for version in range(1, versions + 1):
                when = start + work * 3600 + version * 14 * DAY
                tag = f"{work}.v{version}"
                prefix = f"PATCH v{version}" if version > 1 else "PATCH"
                cover_id = f"<cover.{tag}@example.org>"
                cover_lost = work % 11 == 0
                if not cover_lost:
                    changes = "".join(
                        f"v{v - 1} -> v{v}:\n - reworked step {v}\n\n"
                        for v in range(2, version + 1)
                    )
                    out.write(
                        _message(
                            {
                                "From": author,
                                "Subject": f"[{prefix} 0/{patches}] KVM: rework area {work}",
                                "Date": _date(when),
                                "Message-ID": cover_id,
                            },
                            f"This series reworks area {work}.\n\n{changes}"
                            f" {patches} files changed, 60 insertions(+), 40 deletions(-)\n",
                        )
                    )
                    written += 1
                for i in range(1, patches + 1):
                    resent_later = work % 13 == 0 and i == patches and version == versions
                    unthreaded = (work + i) % 7 == 0
                    headers = {
                        "From": author,
                        "Subject": f"[{prefix} {i}/{patches}] KVM: x86/mmu: step {i} of {work}",
                        "Date": _date(when + i * 7 + (7 * DAY if resent_later else 0)),
                        "Message-ID": f"<{tag}.{i}{'.again' if resent_later else ''}@example.org>",
                        "In-Reply-To": "" if unthreaded or resent_later else cover_id,
                        "References": "" if unthreaded or resent_later else cover_id,
                    }
                    body = PATCH_BODY.format(
                        i=i,
                        name=author.split(" <")[0],
                        addr=author[:-1].split("<")[1],
                        k=10,
                        a=4000 + i * 37 + version,
                    )
                    out.write(_message(headers, body))
                    written += 1
                    if i == 1:
                        out.write(
                            _message(
                                {
                                    "From": "Peter Xu <peterx@redhat.com>",
                                    "Subject": f"Re: {headers['Subject']}",
                                    "Date": _date(when + DAY),
                                    "Message-ID": f"<re.{tag}.{i}@redhat.com>",
                                    "In-Reply-To": headers["Message-ID"],
                                    "References": f"{cover_id} {headers['Message-ID']}",
                                },
                                REPLY_BODY.format(name=author.split(" <")[0]),
                            )
                        )
                        written += 1
            if work % 5 == 0:
                out.write(
                    _message(
                        {
                            "From": "Someone <someone@example.net>",
                            "Subject": f"question about area {work}",
                            "Date": _date(start + work * 3600),
                            "Message-ID": f"<chatter.{work}@example.net>",
                        },
                        "Is anyone looking at this?\n",
                    )
                )
                written += 1
    return written


def run_reviewtool(path: str) -> dict:
    """Child: `reviewtool series --json` minus printing: load, assemble, serialise."""
    from reviewtool.ingest import load

    try:  # the streaming writer `series --json` uses; older checkouts build one document
        from reviewtool.series.serialize import iter_json_text
    except ImportError:
        from reviewtool.series import to_json

        def iter_json_text(collection):
            yield json.dumps(to_json(collection), indent=2, ensure_ascii=False, default=str)

    start = time.perf_counter()
    collection = load([path])
    written = 0
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for text in iter_json_text(collection):
            written += sink.write(text)
    seconds = time.perf_counter() - start
    revisions = sum(len(s.revisions) for s in collection.series)
    return {
        "messages": collection.accounting.read,
        "series": len(collection.series),
        "revisions": revisions,
        "json_mb": written / 1e6,
        "seconds": seconds,
    }


def child(kind: str, path: str) -> None:
    result = run_reviewtool(path) if kind == "reviewtool" else run_stdlib(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, path: str, code: str | None) -> dict:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = os.path.abspath(code)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, path],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--skip-stdlib", action="store_true")
    parser.add_argument("--code", help="a reviewtool checkout to measure instead of this one")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    rows = []
    for count in args.messages:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "archive.mbox")
            written = generate(path, count)
            size = os.path.getsize(path) / 1e6
            ours = measure("reviewtool", path, args.code)
            theirs = None if args.skip_stdlib else measure("stdlib", path, None)
        per = ours["seconds"] / written * 1e6
        line = (
            f"{written:>7} msgs {size:6.0f} MB | series --json {ours['seconds']:7.1f} s "
            f"({per:5.0f} us/msg) peak {ours['peak_rss_mb']:6.0f} MB, {ours['series']} series, "
            f"{ours['revisions']} revisions"
        )
        if theirs:
            line += (
                f" | stdlib {theirs['seconds']:7.1f} s peak {theirs['peak_rss_mb']:4.0f} MB"
                f" | stdlib/series {theirs['seconds'] / ours['seconds']:.2f}x"
            )
        print(line, flush=True)
        rows.append(per)
    if len(rows) > 1:
        print(
            f"time per message, largest / smallest: {max(rows) / min(rows):.2f}x (target <= 1.5x)"
        )


if __name__ == "__main__":
    main()
