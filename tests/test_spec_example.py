"""The FOLL_GET checker on the bundled example: the findings examples/README.md expects."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reviewtool.analyses.spec import check_revision
from reviewtool.series import load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The example's mail and git repository, built from nothing."""
    if not (EXAMPLE / "build.py").is_file():
        pytest.skip("the bundled example is not in this checkout")
    root = tmp_path_factory.mktemp("example")
    mbox, repo = root / "mbox", root / "linux"
    subprocess.run(
        [sys.executable, str(EXAMPLE / "build.py"), "--out", str(mbox), "--repo-out", str(repo)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return mbox, repo


def _findings(built, version: str):
    mbox, repo = built
    [series] = load([str(mbox / f"{version}.mbox")]).series
    [revision] = series.revisions
    return check_revision(revision, repo=str(repo))


def _summary(findings) -> set[tuple[str, str, str, int | None]]:
    return {(f.file, f.function, f.rule, f.patch_index) for f in findings if f.status != "fixed"}


def test_v8_5_of_8_introduces_the_leak_on_32bit_or_shadow_paging(built):
    findings = _findings(built, "v8")
    assert _summary(findings) == {
        ("arch/x86/kvm/mmu/mmu.c", "direct_page_fault", "leak", 5),
        ("arch/x86/kvm/mmu/paging_tmpl.h", "FNAME(page_fault)", "leak", 5),
    }
    for finding in findings:
        assert finding.status == "introduced"
        assert finding.version == "v8"
        assert finding.config == "FOLL_GET passed (32-bit or !tdp_enabled)"
        assert any("with FOLL_GET" in step.event for step in finding.trace)


def test_v7_5_of_8_drops_foll_get_everywhere_and_marks_after_unlock(built):
    summary = _summary(_findings(built, "v7"))
    assert {rule for _, _, rule, _ in summary} == {"get-required", "mark-after-unlock"}
    assert {(function, rule) for _, function, rule, _ in summary} == {
        ("__kvm_faultin_pfn", "get-required"),
        ("direct_page_fault", "mark-after-unlock"),
        ("kvm_tdp_mmu_page_fault", "mark-after-unlock"),
        ("FNAME(page_fault)", "mark-after-unlock"),
    }
    assert {index for *_, index in summary} == {5}


@pytest.mark.parametrize("version", ["v1", "v6"])
def test_versions_before_foll_get_have_no_findings(built, version):
    assert _summary(_findings(built, version)) == set()
