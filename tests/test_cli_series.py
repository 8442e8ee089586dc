"""The `reviewtool series` door: output, JSON, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).parent / "data" / "mail"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=120
    )


def test_series_json_on_real_files():
    done = run("series", str(DATA / "encoding-qp-patch.eml"), "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    patch = doc["series"][0]["revisions"][0]["patches"][0]
    assert patch["files"] == ["virt/kvm/kvm_main.c"]
    assert doc["accounting"]["patch"] == 1


def test_table_lists_versions_and_accounting():
    done = run("series", str(DATA))
    assert done.returncode == 0
    assert "read 5:" in done.stdout
    assert "\033[" not in done.stdout  # no colour in a pipe


def test_missing_path_is_exit_2_with_one_line():
    done = run("series", "/no/such/mbox")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_option_is_exit_2():
    done = run("series", "--bogus", str(DATA))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_no_subcommand_is_exit_2():
    assert run().returncode == 2


def test_series_selector_that_matches_nothing_is_exit_2():
    done = run("series", str(DATA), "--series", "no such title")
    assert done.returncode == 2
    assert "matches no series" in done.stderr
