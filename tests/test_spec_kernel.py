"""The checker over the real Linux 6.12 KVM files in ../shared/kernel/linux-6.12.

Every page-handling file is checked whole, as `reviewtool check FILE` does. What must come out:
the one page-reference bug known in them (MIPS kvm_mips_map_page() marks the pfn accessed after
releasing it), the extra get_page() of PPC kvmppc_patch_dcbz() (gfn_to_page() already returns
with a reference; one put_page() drops one of the two: fixed upstream in 6.13 as "KVM: PPC:
Remove extra get_page() to fix page refcount leak"), nothing else, and no function left
unexplored.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.findings import NOT_CHECKED_BOUND, NOT_CHECKED_ERROR
from reviewtool.analyses.spec.check import check_tree_file

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
FILES = (
    sorted(
        str(p.relative_to(KERNEL))
        for p in KERNEL.rglob("*")
        if p.suffix in (".c", ".h") and p.parts[len(KERNEL.parts)] in ("arch", "virt", "include")
    )
    if KERNEL.is_dir()
    else []
)
# (file, function, rule): the real bugs of this tree.
REAL_BUGS = {
    ("arch/mips/kvm/mmu.c", "kvm_mips_map_page", "use-after-release"),
    ("arch/powerpc/kvm/book3s_pr.c", "kvmppc_patch_dcbz", "leak"),
}

pytestmark = pytest.mark.skipif(
    not KERNEL.is_dir(),
    reason=f"real kernel files not found at {KERNEL} (../shared beside the repo in CI)",
)


@pytest.fixture(scope="module")
def results():
    return {path: check_tree_file(KERNEL, path) for path in FILES}


def test_the_tree_holds_every_page_handling_file():
    assert len(FILES) >= 30
    assert "arch/x86/kvm/mmu/mmu.c" in FILES


def test_only_the_real_bugs_are_reported(results):
    found = {(f.file, f.function, f.rule) for r in results.values() for f in r.findings}
    assert found == REAL_BUGS


def test_each_real_bug_is_reported_once_where_it_is(results):
    mips = results["arch/mips/kvm/mmu.c"].findings
    assert [(f.function, f.rule, f.line) for f in mips] == [
        ("kvm_mips_map_page", "use-after-release", 647)
    ]
    trace = [step.event for step in mips[0].trace]
    assert any("kvm_release_pfn_clean() releases the page" in event for event in trace)
    ppc = results["arch/powerpc/kvm/book3s_pr.c"].findings
    assert [(f.function, f.rule) for f in ppc] == [("kvmppc_patch_dcbz", "leak")]
    assert any("get_page() takes another reference" in step.event for step in ppc[0].trace)


def test_no_function_is_left_unexplored(results):
    cut = [
        (item.file, item.function, item.reason)
        for r in results.values()
        for item in r.not_checked
        if item.reason in (NOT_CHECKED_BOUND, NOT_CHECKED_ERROR)
    ]
    assert cut == []
