"""The FOLL_GET checker on the bundled example: the findings examples/README.md expects."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from reviewtool.analyses.spec import check_revision, compare_versions
from reviewtool.ingest import load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn"


@pytest.fixture(scope="module")
def built(example_build) -> tuple[Path, Path]:
    """The example's mail and git repository, built from nothing (once per test run)."""
    return example_build


_CHECKED: dict[tuple[str, str], list] = {}


def _findings(built, version: str):
    """check_revision() of one version, once per test run (each takes seconds)."""
    mbox, repo = built
    key = (str(repo), version)
    if key not in _CHECKED:
        [series] = load([str(mbox / f"{version}.mbox")]).series
        [revision] = series.revisions
        _CHECKED[key] = check_revision(revision, repo=str(repo))
    return [replace(f, trace=list(f.trace)) for f in _CHECKED[key]]


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


def test_across_versions_v8_trades_v7_findings_for_the_leak(built):
    by_version = {v: _findings(built, v) for v in ("v7", "v8")}
    marked = compare_versions(by_version)
    v8 = {(f.function, f.rule, f.status) for f in marked["v8"]}
    assert ("direct_page_fault", "leak", "introduced") in v8
    assert ("direct_page_fault", "mark-after-unlock", "fixed") in v8
    assert ("__kvm_faultin_pfn", "get-required", "fixed") in v8
