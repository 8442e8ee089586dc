"""The checker over the real Linux 6.12 KVM files in ../shared/kernel/linux-6.12.

Every page-handling file is checked whole, as `reviewtool check FILE` does. What must come out:
the one page-reference bug known in them (MIPS kvm_mips_map_page() marks the pfn accessed after
releasing it), the extra get_page() of PPC kvmppc_patch_dcbz() (gfn_to_page() already returns
with a reference; one put_page() drops one of the two: fixed upstream in 6.13 as "KVM: PPC:
Remove extra get_page() to fix page refcount leak"), nothing else, and no function left
unexplored. The files are checked as `reviewtool check DIR` checks them: with the summaries of
the functions the other files define (analyses/spec/summaries.py); realistic variants in a
temporary copy of the tree show findings that only those summaries make visible.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewtool.analyses.findings import NOT_CHECKED_BOUND, NOT_CHECKED_ERROR
from reviewtool.analyses.spec import load_specs
from reviewtool.analyses.spec.check import check_tree_file
from reviewtool.analyses.spec.summaries import summarise_tree
from reviewtool.analyses.spec.summary_cache import SummaryCache, spec_fingerprint

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
def cache(tmp_path_factory):
    # One cache for the tree and its variants: their unchanged files are summarised once.
    return SummaryCache(tmp_path_factory.mktemp("summaries"), spec_fingerprint())


@pytest.fixture(scope="module")
def summaries(cache):
    return summarise_tree(KERNEL, FILES, load_specs(), cache)


@pytest.fixture(scope="module")
def results(summaries):
    return {path: check_tree_file(KERNEL, path, summaries=summaries.rows) for path in FILES}


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


def test_the_tree_yields_summaries_of_cross_file_callees(summaries):
    # kvmppc_gpa_to_pfn() (book3s.c) faults a page in for the PPC host MMU files.
    row = summaries.rows["kvmppc_gpa_to_pfn"][0]
    assert (row.effect, row.source) == (
        "acquire",
        "summary: arch/powerpc/kvm/book3s.c:kvmppc_gpa_to_pfn",
    )
    assert all(
        row.source.startswith("summary: ") for rows in summaries.rows.values() for row in rows
    )


def _variant(tmp_path: Path, edits: dict[str, list[tuple[str, str]]]) -> Path:
    """A copy of the real tree with each (old, new) text replaced once in its file."""
    root = tmp_path / "linux"
    shutil.copytree(KERNEL, root)
    for relpath, changes in edits.items():
        target = root / relpath
        text = target.read_text(encoding="utf-8")
        for old, new in changes:
            assert text.count(old) == 1, (relpath, old)
            text = text.replace(old, new)
        target.write_text(text, encoding="utf-8")
    return root


def _findings(root: Path, relpath: str, table) -> list[tuple[str, str]]:
    result = check_tree_file(root, relpath, summaries=table.rows if table else None)
    return [(f.function, f.rule) for f in result.findings]


HOST64 = "arch/powerpc/kvm/book3s_64_mmu_host.c"
HOST32 = "arch/powerpc/kvm/book3s_32_mmu_host.c"


def test_a_release_deleted_after_a_cross_file_acquisition_is_found_through_the_summary(
    tmp_path, cache
):
    # The page comes from kvmppc_gpa_to_pfn() in book3s.c; the fault path of the 64-bit host
    # MMU forgets to release it.
    root = _variant(
        tmp_path,
        {
            HOST64: [
                (
                    "out_unlock:\n\tspin_unlock(&kvm->mmu_lock);\n\tkvm_release_pfn_clean(pfn);",
                    "out_unlock:\n\tspin_unlock(&kvm->mmu_lock);",
                )
            ]
        },
    )
    table = summarise_tree(root, FILES, load_specs(), cache)
    assert _findings(root, HOST64, table) == [("kvmppc_mmu_map_page", "leak")]
    assert _findings(root, HOST64, None) == []  # without the summary the page is invisible


HELPER = """
void kvmppc_release_gpa_pfn(struct kvm_vcpu *vcpu, kvm_pfn_t pfn)
{
\tkvm_release_pfn_clean(pfn);
}
EXPORT_SYMBOL_GPL(kvmppc_release_gpa_pfn);
"""


def test_a_mark_after_a_cross_file_release_is_found_through_the_summary(tmp_path, cache):
    # book3s.c gains a helper that releases the pfn; the 32-bit host MMU releases through it,
    # then (the mistake) marks the page it no longer holds.
    release = "\tkvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);\nout:"
    helper = {
        "arch/powerpc/kvm/book3s.c": [
            (
                "EXPORT_SYMBOL_GPL(kvmppc_gpa_to_pfn);\n",
                "EXPORT_SYMBOL_GPL(kvmppc_gpa_to_pfn);\n" + HELPER,
            )
        ]
    }
    through = "\tkvmppc_release_gpa_pfn(vcpu, hpaddr >> PAGE_SHIFT);\n"
    refactored = _variant(tmp_path / "refactor", {**helper, HOST32: [(release, through + "out:")]})
    table = summarise_tree(refactored, FILES, load_specs(), cache)
    assert table.rows["kvmppc_release_gpa_pfn"][0].effect == "release"
    assert _findings(refactored, HOST32, table) == []
    mark = "\tkvm_set_pfn_accessed(hpaddr >> PAGE_SHIFT);\n"
    buggy = _variant(tmp_path / "bug", {**helper, HOST32: [(release, through + mark + "out:")]})
    table = summarise_tree(buggy, FILES, load_specs(), cache)
    assert _findings(buggy, HOST32, table) == [("kvmppc_mmu_map_page", "use-after-release")]
    # Without the summaries neither the page (from book3s.c) nor its release is visible.
    assert _findings(buggy, HOST32, None) == []
