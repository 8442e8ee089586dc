"""Writing output files: replace regular files atomically, write through anything else, never
create directories the user did not make (issue 16.5)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from reviewtool.cli import main
from reviewtool.errors import UsageError
from reviewtool.outfile import write_output

MAIL = Path(__file__).resolve().parent / "data" / "mail" / "encoding-qp-patch.eml"


def _report(tmp_path: Path, *out: str) -> int:
    # --fail-on none: the fixture's hunk is cut short, so not all of it is checked (exit 3);
    # these tests are about where the output goes.
    return main(["report", str(MAIL), "--format", "html", "--fail-on", "none", *out])


def _read_fifo_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def test_report_to_a_fifo_writes_through_it_and_leaves_the_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = _read_fifo_in_background(fifo)
    assert _report(tmp_path, "-o", str(fifo)) == 0
    thread.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got and got[0].lstrip().lower().startswith(b"<!doctype html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]  # no temp file left


def test_json_to_a_fifo_writes_through_it(tmp_path):
    fifo = tmp_path / "json-pipe"
    os.mkfifo(fifo)
    thread, got = _read_fifo_in_background(fifo)
    assert _report(tmp_path, "-o", str(tmp_path / "r.html"), "--json", str(fifo)) == 0
    thread.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got[0].lstrip().startswith(b"{")


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_report_to_a_character_device_keeps_the_device(tmp_path):
    # A null device of our own in a temp dir, standing in for /dev/null (never the real one).
    null = tmp_path / "null"
    os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    assert _report(tmp_path, "-o", str(null)) == 0
    mode = os.lstat(null).st_mode
    assert stat.S_ISCHR(mode) and os.major(os.lstat(null).st_rdev) == 1


def test_missing_parent_directory_is_a_usage_error_and_nothing_is_created(tmp_path, capsys):
    target = tmp_path / "no" / "such" / "dir" / "r.html"
    assert _report(tmp_path, "-o", str(target)) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err and len(err.splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_regular_file_is_replaced_keeping_its_permissions(tmp_path):
    target = tmp_path / "r.html"
    target.write_text("old")
    target.chmod(0o640)
    write_output(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


def test_a_symlink_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    write_output(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(UsageError, match="directory"):
        write_output(tmp_path, b"x")
