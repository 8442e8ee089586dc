"""Hostile and damaged input (issue 16.3, 16.7, 16.8): bounded, accounted, never silent.

Every crafted input is made here, in temporary files: a hunk header far past any real line
number, a message over the size limit, a gzip bomb, a public-inbox epoch whose pack is cut
short or whose objects are gone, and a series with one damaged hunk.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from test_sources import MSG, make_public_inbox

from reviewtool.diff.model import parse_patch_diff
from reviewtool.errors import InputError
from reviewtool.sources import iter_messages
from tests.helpers.git import git

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_V8 = ROOT / "examples" / "kvm-follow-pfn" / "mbox" / "v8.mbox"
# Address space for a child run on crafted input: the old reader needed gigabytes.
CHILD_MEMORY_BYTES = 1536 * 1024 * 1024


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        preexec_fn=_limit_memory,
    )


def _patch_mail(hunk_header: str) -> str:
    return (
        "From: A U Thor <author@example.org>\n"
        "Subject: [PATCH] KVM: x86: touch a function far down the file\n"
        "Message-ID: <far-hunk@example.org>\n"
        "Date: Tue, 5 Sep 2023 10:00:00 +0000\n\n"
        "Change f.\n\nSigned-off-by: A U Thor <author@example.org>\n---\n"
        "diff --git a/arch/x86/kvm/x.c b/arch/x86/kvm/x.c\n"
        "--- a/arch/x86/kvm/x.c\n+++ b/arch/x86/kvm/x.c\n"
        f"{hunk_header}\n int f(void)\n-\tkvm_release_pfn_clean(pfn);\n+\treturn 0;\n"
    )


def test_a_hunk_header_past_any_real_line_number_is_skipped_not_allocated(tmp_path: Path) -> None:
    mail = tmp_path / "far.eml"
    mail.write_text(_patch_mail("@@ -2147483648,2 +2147483648,2 @@ int f(void)"))
    with pytest.raises(InputError, match="past line"):
        parse_patch_diff(mail.read_text().split("---\n", 1)[1])
    result = _run("check", str(mail))
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert result.returncode in (0, 1, 3), result.stderr
    assert "past line 10000000" in result.stdout + result.stderr


def _mbox(messages: list[bytes]) -> bytes:
    return b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + m + b"\n" for m in messages)


def test_a_message_over_the_size_limit_is_rejected_and_accounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = MSG.format(i=2).encode() + b"x" * (3 * 1024 * 1024) + b"\n"  # one endless line
    mbox = tmp_path / "big.mbox"
    mbox.write_bytes(_mbox([MSG.format(i=1).encode(), big, MSG.format(i=3).encode()]))
    result = _run("series", str(mbox), "--json", env={"REVIEWTOOL_MAX_MESSAGE_MB": "1"})
    assert result.returncode == 0, result.stderr
    accounting = json.loads(result.stdout)["accounting"]
    assert accounting["read"] == 3
    (rejected,) = accounting["rejected"]
    assert "larger than the 1 MB limit" in rejected["reason"]
    single = tmp_path / "big.eml"
    single.write_bytes(big)
    monkeypatch.setenv("REVIEWTOOL_MAX_MESSAGE_MB", "1")
    raws = list(iter_messages([str(single)]))
    assert raws[0].error and "limit" in raws[0].error and not raws[0].data


def test_the_size_limit_setting_must_be_a_number(tmp_path: Path) -> None:
    mbox = tmp_path / "one.mbox"
    mbox.write_bytes(_mbox([MSG.format(i=1).encode()]))
    result = _run("series", str(mbox), env={"REVIEWTOOL_MAX_MESSAGE_MB": "lots"})
    assert result.returncode == 2
    assert (
        len(result.stderr.strip().splitlines()) == 1
        and "REVIEWTOOL_MAX_MESSAGE_MB" in result.stderr
    )


def test_a_gzip_bomb_is_refused_as_damaged_input(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.mbox.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        out.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + MSG.format(i=1).encode())
        chunk = b"\0" * (1024 * 1024)
        for _ in range(300):  # 300 MB of zeros: about 300 KB compressed
            out.write(chunk)
    assert bomb.stat().st_size < 2 * 1024 * 1024
    result = _run("series", str(bomb))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "decompression bomb" in result.stderr


def test_a_cut_gzip_stream_is_damaged_input_not_a_clean_run(tmp_path: Path) -> None:
    whole = zlib.compress(_mbox([MSG.format(i=i).encode() for i in (1, 2, 3)]) * 50)
    cut = tmp_path / "cut.mbox.gz"
    data = gzip.compress(zlib.decompress(whole))
    cut.write_bytes(data[: len(data) // 2])
    result = _run("series", str(cut))
    assert result.returncode == 2, result.stderr
    assert "damaged input" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def _epoch(inbox: Path) -> Path:
    return inbox / "git" / "0.git"


def test_a_public_inbox_with_a_cut_pack_is_read_as_far_as_it_goes(tmp_path: Path) -> None:
    inbox = make_public_inbox(tmp_path / "inbox", [MSG.format(i=i) for i in (1, 2, 3)])
    git(_epoch(inbox), "repack", "-adq")
    (pack,) = (_epoch(inbox) / "objects" / "pack").glob("*.pack")
    pack.chmod(0o644)
    pack.write_bytes(pack.read_bytes()[: pack.stat().st_size // 2])
    raws = list(iter_messages([str(inbox)]))
    assert any(r.damaged for r in raws), [r.error for r in raws]
    assert all(r.error for r in raws if not r.data)
    result = _run("series", str(inbox))
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "damaged input" in result.stderr and "read 0, ok" not in result.stdout


def test_a_public_inbox_missing_one_message_object_reads_the_others(tmp_path: Path) -> None:
    inbox = make_public_inbox(tmp_path / "inbox", [MSG.format(i=i) for i in (1, 2, 3)])
    epoch = _epoch(inbox)
    # Each message is a loose object: lose the blob of the second message.
    second = git(epoch, "rev-parse", "HEAD~1:m").strip()
    (epoch / "objects" / second[:2] / second[2:]).unlink()
    raws = list(iter_messages([str(inbox)]))
    read = [r for r in raws if r.data]
    lost = [r for r in raws if r.error]
    assert len(read) == 2 and b"<part-1@google.com>" in read[0].data
    assert len(lost) == 1 and lost[0].damaged


def _damage_one_hunk(text: str) -> str:
    """The v8 mbox with the first hunk of its last patch cut short (a body line dropped)."""
    at = text.index("Subject: [PATCH v8 8/8]")
    header_end = text.index("\n", text.index("\n@@ ", at) + 1)
    first_line_end = text.index("\n", header_end + 1)
    return text[:header_end] + text[first_line_end:]


def test_one_damaged_hunk_does_not_stop_check_or_migrate(tmp_path: Path) -> None:
    if not EXAMPLE_V8.exists():
        pytest.skip("the bundled example's mbox is not built")
    broken = tmp_path / "v8-broken.mbox"
    broken.write_text(_damage_one_hunk(EXAMPLE_V8.read_text()))
    check = _run("check", str(broken))
    assert check.returncode != 2, check.stderr
    assert "not checked (unreadable)" in check.stdout + check.stderr
    migrate = _run("migrate", str(broken), "--json")
    assert migrate.returncode == 0, migrate.stderr
    assert "skipped" in migrate.stdout
