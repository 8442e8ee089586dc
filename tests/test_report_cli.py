"""`reviewtool report`: outputs, formats and exit codes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import lxml.html
import pytest

from reviewtool.cli import main
from reviewtool.review import build as build_mod
from tests.helpers.review_support import make_series, mbox_text


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    path = tmp_path / "series.mbox"
    path.write_text(mbox_text(make_series()), encoding="utf-8")
    return path


@pytest.fixture
def leaky_checker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A checker module that finds one warning in v2 and one error in v3."""
    (tmp_path / "leaky_checker.py").write_text(
        textwrap.dedent(
            """
            from reviewtool.analyses.findings import Finding

            def check_revision(revision, repo=None, base=None):
                severity = {2: "warning", 3: "error"}.get(revision.version)
                if severity is None:
                    return []
                return [Finding(rule="leak", severity=severity, file="arch/x86/kvm/mmu/mmu.c",
                                line=4523, function="direct_page_fault",
                                message="reference not released on out_unlock")]
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    check = importlib.import_module("leaky_checker").check_revision
    monkeypatch.setattr(build_mod, "ANALYSES", replace(build_mod.ANALYSES, check_revision=check))
    yield
    sys.modules.pop("leaky_checker", None)


def test_report_writes_html_to_report_html_by_default(
    mbox: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(mbox), "--fail-on", "none"]) == 0
    doc = lxml.html.parse(str(tmp_path / "report.html")).getroot()
    assert doc.xpath("//h1")[0].text_content() == "KVM: allow mapping non-refcounted pages"
    assert "wrote report.html" in capsys.readouterr().err


def test_report_to_stdout_and_json_beside_it(mbox: Path, tmp_path: Path, capsys) -> None:
    out_json = tmp_path / "out" / "report.json"
    out_json.parent.mkdir()  # a missing directory is refused now (issue 16.5), not created
    code = main(["report", str(mbox), "-o", "-", "--json", str(out_json), "--fail-on", "none"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("<!DOCTYPE html>")
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    assert doc["reviews"][0]["latest"] == {"version": 3, "point": None, "label": "v3"}


def test_json_format_matches_the_series_command(mbox: Path, capsys) -> None:
    assert main(["report", str(mbox), "--format", "json", "--fail-on", "none"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert main(["series", str(mbox), "--json"]) == 0
    series = json.loads(capsys.readouterr().out)
    assert report["series"] == series["series"]
    assert report["accounting"] == series["accounting"]


def test_text_format_in_a_pipe_has_no_colour(mbox: Path, capsys) -> None:
    assert main(["report", str(mbox), "--format", "text", "--fail-on", "none"]) == 0
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert out.startswith("1. KVM: allow mapping non-refcounted pages")


def test_exit_code_follows_fail_on(mbox: Path, tmp_path: Path, leaky_checker) -> None:
    html = str(tmp_path / "r.html")
    assert main(["report", str(mbox), "-o", html]) == 1  # default threshold: error
    assert main(["report", str(mbox), "-o", html, "--fail-on", "warning"]) == 1
    assert main(["report", str(mbox), "-o", html, "--fail-on", "none"]) == 0


def test_only_the_latest_version_decides_the_exit_code(
    mbox: Path, tmp_path: Path, leaky_checker
) -> None:
    # v2's warning is history once v3 exists; selecting v3's series still fails on its error.
    html = str(tmp_path / "r.html")
    assert main(["report", str(mbox), "-o", html, "--series", "1", "--fail-on", "error"]) == 1


def test_input_and_usage_errors_exit_2_with_one_line(tmp_path: Path, mbox: Path, capsys) -> None:
    assert main(["report", str(tmp_path / "missing.mbox")]) == 2
    assert main(["report", str(mbox), "--repo", str(tmp_path / "nowhere")]) == 2
    assert main(["report", str(mbox), "--series", "no such title"]) == 2
    assert main(["report", str(mbox), "--format", "pdf"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "--repo" in err and "not a directory" in err


def test_cli_in_a_pipe_draws_no_progress_and_no_traceback(mbox: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "reviewtool", "report", str(mbox), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1, 3)  # 3: changed code not checked (no tree)
    assert "\r" not in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "r.html").stat().st_size > 0
