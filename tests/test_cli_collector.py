"""The CLI as the process keeps CPython's cyclic collector off its imported modules
(paused while they load, then frozen); called with argv it leaves the collector alone."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtool.cli import main

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, sys
from reviewtool.cli import main
{before}
sys.argv = ["reviewtool", "schema", "diff"]
code = main()
print(code, gc.isenabled(), gc.get_freeze_count() > 0, file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("before", "expected"),
    [("", "0 True True"), ("gc.disable()", "0 False True")],
    ids=["collector on", "collector off"],
)
def test_as_the_program_the_imports_are_frozen_and_the_collector_restored(before, expected):
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(before=before)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.stdout.startswith("{")  # the command ran: the schema was printed
    assert out.stderr.split() == expected.split()


def test_a_caller_passing_argv_keeps_its_collector(capsys):
    frozen = gc.get_freeze_count()
    assert main(["schema", "diff"]) == 0
    assert capsys.readouterr().out.startswith("{")
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen
