"""Ingest benchmark: reviewtool's streaming reader + decoder against mailbox.mbox + email.

Generates an mbox of realistic kernel list mail (patches, covers, quoted replies, some
quoted-printable and base64 bodies), then reads it in two child processes so each one's
peak memory is its own:
  reviewtool:  sources.iter_mbox + mail.parse_mail (subject prefix, trailers, diff split)
  stdlib:      mailbox.mbox + email.message_from_binary_file(policy=default), subject,
               Message-ID and body text read
Prints messages/s, MB/s and peak RSS for each, and the speed-up.

    python benchmarks/ingest.py [--messages 100000] [--keep FILE]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import quopri
import resource
import subprocess
import sys
import tempfile
import time

PATCH = """From: {name} <{addr}>
To: kvm@vger.kernel.org
Cc: Sean Christopherson <seanjc@google.com>, Paolo Bonzini <pbonzini@redhat.com>,
 linux-kernel@vger.kernel.org
Subject: [PATCH v{v} {i}/{n}] KVM: x86/mmu: Rework step {i} of series {s}
Date: Thu, 24 Aug 2023 17:{mm:02d}:{ss:02d} +0900
Message-ID: <20230824080408.{s}-{i}-{addr}>
In-Reply-To: <20230824080408.{s}-0-{addr}>
References: <20230824080408.{s}-0-{addr}>
List-Id: <kvm.vger.kernel.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: {cte}

{body}"""


HERE = os.path.dirname(os.path.abspath(__file__))
# Message bodies live beside the script: they hold tabs and trailing blanks, as real diffs do.
with open(os.path.join(HERE, "data", "ingest-patch-body.txt"), encoding="utf-8") as _fh:
    PATCH_BODY = _fh.read()
with open(os.path.join(HERE, "data", "ingest-reply-body.txt"), encoding="utf-8") as _fh:
    REPLY_BODY = _fh.read()


def generate(path: str, count: int) -> int:
    """Write `count` messages; return the file size."""
    per_series = 9  # cover-less 6-patch series + 3 replies
    with open(path, "w", encoding="utf-8") as out:
        written = 0
        s = 0
        while written < count:
            s += 1
            name, addr = "David Stevens", f"stevensd{s % 50}@chromium.org"
            for i in range(1, 7):
                body = PATCH_BODY.format(i=i, name=name, addr=addr, k=10, a=4000 + i * 37)
                cte = "8bit"
                if (s + i) % 20 == 0:
                    cte, body = "quoted-printable", quopri.encodestring(body.encode()).decode()
                elif (s + i) % 33 == 0:
                    cte, body = "base64", base64.encodebytes(body.encode()).decode()
                text = PATCH.format(
                    name=name,
                    addr=addr,
                    v=s % 9 + 1,
                    i=i,
                    n=6,
                    s=s,
                    mm=i,
                    ss=s % 60,
                    cte=cte,
                    body=body,
                )
                out.write(f"From mboxrd@z Thu Jan  1 00:00:00 1970\n{text}\n")
                written += 1
            for r in range(3):
                text = PATCH.format(
                    name="Peter Xu",
                    addr="peterx@redhat.com",
                    v=s % 9 + 1,
                    i=r + 1,
                    n=6,
                    s=s,
                    mm=30 + r,
                    ss=0,
                    cte="8bit",
                    body=REPLY_BODY.format(name=name),
                )
                text = text.replace("Subject: [PATCH", "Subject: Re: [PATCH").replace(
                    f"Message-ID: <20230824080408.{s}-{r + 1}-", f"Message-ID: <reply.{s}.{r}-"
                )
                out.write(f"From mboxrd@z Thu Jan  1 00:00:00 1970\n{text}\n")
                written += 1
            assert per_series == 9
    return os.path.getsize(path)


def run_reviewtool(path: str) -> dict:
    """Child: read with reviewtool's source and decoder."""
    from reviewtool.mail import parse_mail
    from reviewtool.sources.mbox import iter_mbox

    start = time.perf_counter()
    count = diffs = 0
    for raw in iter_mbox(path):
        mail = parse_mail(raw.data, raw.location)
        count += 1
        diffs += bool(mail.diff)
    return {"messages": count, "with_diff": diffs, "seconds": time.perf_counter() - start}


def run_stdlib(path: str) -> dict:
    """Child: read with mailbox.mbox and the email package (policy=default)."""
    import email
    import email.policy
    import mailbox

    def factory(fh):
        return email.message_from_binary_file(fh, policy=email.policy.default)

    start = time.perf_counter()
    count = 0
    for message in mailbox.mbox(path, factory=factory, create=False):
        _ = message["subject"], message["message-id"]
        body = message.get_body(("plain",))
        if body is not None:
            body.get_content()
        count += 1
    return {"messages": count, "seconds": time.perf_counter() - start}


def child(kind: str, path: str) -> None:
    result = run_reviewtool(path) if kind == "reviewtool" else run_stdlib(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, path: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, path],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--keep", help="write the generated mbox here and keep it")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    tmp = None
    path = args.keep
    if not path:
        tmp = tempfile.NamedTemporaryFile(suffix=".mbox", delete=False)
        path = tmp.name
        tmp.close()
    try:
        size = generate(path, args.messages)
        mb = size / 1e6
        print(f"mbox: {args.messages} messages, {mb:.1f} MB")
        results = {kind: measure(kind, path) for kind in ("reviewtool", "stdlib")}
        for kind, res in results.items():
            rate = res["messages"] / res["seconds"]
            print(
                f"{kind:>10}: {res['messages']} msgs in {res['seconds']:.2f} s = "
                f"{rate:,.0f} msg/s, {mb / res['seconds']:.1f} MB/s, "
                f"peak RSS {res['peak_rss_mb']:.0f} MB"
            )
        speedup = results["stdlib"]["seconds"] / results["reviewtool"]["seconds"]
        print(f"speed-up: {speedup:.1f}x (target >= 5x)")
    finally:
        if tmp is not None:
            os.unlink(path)


if __name__ == "__main__":
    main()
