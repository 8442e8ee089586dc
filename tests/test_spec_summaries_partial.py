"""Summaries of callees that release a page on some paths only, on real 6.12 files.

A function of another file that releases the page it is handed only when it returns 0 (or
only when it fails) gets a release row with `released_when`: its callers follow both answers,
so a caller that releases on the other answer is clean and one that forgets is a leak. A
callee whose releases the returned value cannot tell apart (`released_when = "some"`) takes
the page out of what its callers' checks judge, and the check says so in its notes: neither
a false alarm nor a silent all-clear. Variants are made in a temporary copy of book3s.c (the
helper) and book3s_32_mmu_host.c (the caller).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.spec import load_specs
from reviewtool.analyses.spec.check import check_tree_file
from reviewtool.analyses.spec.summaries import summarise_tree

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
BOOK3S = "arch/powerpc/kvm/book3s.c"
HOST32 = "arch/powerpc/kvm/book3s_32_mmu_host.c"
ANCHOR = "EXPORT_SYMBOL_GPL(kvmppc_gpa_to_pfn);\n"
RELEASE = "\tkvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);\nout:"

pytestmark = pytest.mark.skipif(
    not KERNEL.is_dir(),
    reason=f"real kernel files not found at {KERNEL} (../shared beside the repo in CI)",
)

ON_SUCCESS = """
int kvmppc_put_mapped_pfn(struct kvm_vcpu *vcpu, kvm_pfn_t pfn, bool mapped)
{
\tif (!mapped)
\t\treturn -EAGAIN;
\tkvm_release_pfn_clean(pfn);
\treturn 0;
}
EXPORT_SYMBOL_GPL(kvmppc_put_mapped_pfn);
"""

SOMETIMES = """
void kvmppc_put_pfn_maybe(struct kvm_vcpu *vcpu, kvm_pfn_t pfn)
{
\tif (vcpu->arch.pgdir)
\t\tkvm_release_pfn_clean(pfn);
}
EXPORT_SYMBOL_GPL(kvmppc_put_pfn_maybe);
"""


def _check(tmp_path: Path, helper: str, caller: str):
    """Summaries and findings of the 32-bit host MMU whose last release is `caller`, with
    `helper` added to book3s.c."""
    root = tmp_path / "linux"
    for relpath, old, new in ((BOOK3S, ANCHOR, ANCHOR + helper), (HOST32, RELEASE, caller)):
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (KERNEL / relpath).read_text(encoding="utf-8")
        assert text.count(old) == 1
        target.write_text(text.replace(old, new), encoding="utf-8")
    table = summarise_tree(root, [BOOK3S, HOST32], load_specs())
    result = check_tree_file(root, HOST32, summaries=table.rows)
    return table, result


def test_a_release_on_success_only_is_summarised_with_its_condition(tmp_path):
    legal = (
        "\tif (kvmppc_put_mapped_pfn(vcpu, hpaddr >> PAGE_SHIFT, true))\n"
        "\t\tkvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);\nout:"
    )
    table, result = _check(tmp_path, ON_SUCCESS, legal)
    row = table.rows["kvmppc_put_mapped_pfn"][0]
    assert (row.effect, row.arg, row.released_when) == ("release", 1, "zero")
    assert row.source == f"summary: {BOOK3S}:kvmppc_put_mapped_pfn"
    assert result.findings == []


def test_a_caller_forgetting_the_failed_release_leaks(tmp_path):
    forgot = "\tkvmppc_put_mapped_pfn(vcpu, hpaddr >> PAGE_SHIFT, true);\nout:"
    _, result = _check(tmp_path, ON_SUCCESS, forgot)
    assert [(f.function, f.rule) for f in result.findings] == [("kvmppc_mmu_map_page", "leak")]
    twice = (
        "\tif (!kvmppc_put_mapped_pfn(vcpu, hpaddr >> PAGE_SHIFT, true))\n"
        "\t\tkvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);\nout:"
    )
    _, result = _check(tmp_path / "twice", ON_SUCCESS, twice)
    rules = {(f.function, f.rule) for f in result.findings}
    assert ("kvmppc_mmu_map_page", "double-release") in rules


def test_a_release_the_result_cannot_tell_is_not_judged_and_says_so(tmp_path):
    call = "\tkvmppc_put_pfn_maybe(vcpu, hpaddr >> PAGE_SHIFT);\nout:"
    table, result = _check(tmp_path, SOMETIMES, call)
    assert table.rows["kvmppc_put_pfn_maybe"][0].released_when == "some"
    assert result.findings == []
    assert any(
        "kvmppc_mmu_map_page" in note and "kvmppc_put_pfn_maybe()" in note and "not judged" in note
        for note in result.notes
    )
