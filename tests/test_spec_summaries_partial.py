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


# -- out-argument acquisitions (kvm_vcpu_map()-style) -------------------------------------

PR = "arch/powerpc/kvm/book3s_pr.c"
MAP_HELPER = """
int kvmppc_map_guest_page(struct kvm_vcpu *vcpu, gpa_t gpa, struct kvm_host_map *map)
{
\tif (kvm_vcpu_map(vcpu, gpa_to_gfn(gpa), map))
\t\treturn -EFAULT;
\treturn 0;
}
EXPORT_SYMBOL_GPL(kvmppc_map_guest_page);
"""
READER = """static int kvmppc_read_guest_word(struct kvm_vcpu *vcpu, gpa_t gpa, u32 *val)
{
\tstruct kvm_host_map map;

\tif (kvmppc_map_guest_page(vcpu, gpa, &map))
\t\treturn -EFAULT;
\t*val = *(u32 *)map.hva;
\tkvm_vcpu_unmap(vcpu, &map, false);
\treturn 0;
}

static void kvmppc_patch_dcbz("""


def _files(tmp_path: Path, edits: dict[str, tuple[str, str]], summarised: list[str]):
    root = tmp_path / "linux"
    for relpath in summarised:
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (KERNEL / relpath).read_text(encoding="utf-8")
        if relpath in edits:
            old, new = edits[relpath]
            assert text.count(old) == 1
            text = text.replace(old, new)
        target.write_text(text, encoding="utf-8")
    return root, summarise_tree(root, summarised, load_specs())


def _in(root: Path, relpath: str, table, function: str) -> list[str]:
    result = check_tree_file(root, relpath, summaries=table.rows)
    return [f.rule for f in result.findings if f.function == function]


def test_a_callee_mapping_into_its_pointer_argument_is_an_acquisition(tmp_path):
    edits = {
        BOOK3S: (ANCHOR, ANCHOR + MAP_HELPER),
        PR: ("static void kvmppc_patch_dcbz(", READER),
    }
    root, table = _files(tmp_path, edits, [BOOK3S, PR])
    row = table.rows["kvmppc_map_guest_page"][0]
    assert (row.effect, row.result, row.result_arg) == ("acquire", "arg", 2)
    assert row.source == f"summary: {BOOK3S}:kvmppc_map_guest_page"
    assert _in(root, PR, table, "kvmppc_read_guest_word") == []
    # The realistic mistake: the unmap forgotten.
    forgot = READER.replace("\tkvm_vcpu_unmap(vcpu, &map, false);\n", "")
    root, table = _files(tmp_path / "bug", {**edits, PR: (edits[PR][0], forgot)}, [BOOK3S, PR])
    assert _in(root, PR, table, "kvmppc_read_guest_word") == ["leak"]


# -- callees that take or drop mmu_lock --------------------------------------------------

MMU = "arch/x86/kvm/mmu/mmu.c"
X86 = "arch/x86/kvm/x86.c"
X86_ANCHOR = "EXPORT_SYMBOL_GPL(kvm_emulate_halt);\n"
LOCK_HELPERS = """
void kvm_mmu_write_lock(struct kvm *kvm)
{
\twrite_lock(&kvm->mmu_lock);
}
EXPORT_SYMBOL_GPL(kvm_mmu_write_lock);

void kvm_mmu_write_unlock(struct kvm *kvm)
{
\twrite_unlock(&kvm->mmu_lock);
}
EXPORT_SYMBOL_GPL(kvm_mmu_write_unlock);
"""
FAULT = """\twrite_lock(&vcpu->kvm->mmu_lock);

\tr = make_mmu_pages_available(vcpu);
\tif (r)
\t\tgoto out_unlock;

\tif (is_page_fault_stale(vcpu, fault)) {
\t\tr = RET_PF_RETRY;
\t\tgoto out_unlock;
\t}

\tr = direct_map(vcpu, fault);

out_unlock:
\twrite_unlock(&vcpu->kvm->mmu_lock);
\tkvm_release_pfn_clean(orig_pfn);"""


def test_callees_taking_and_dropping_mmu_lock_are_summarised(tmp_path):
    through = FAULT.replace(
        "\twrite_lock(&vcpu->kvm->mmu_lock);", "\tkvm_mmu_write_lock(vcpu->kvm);"
    )
    through = through.replace(
        "\twrite_unlock(&vcpu->kvm->mmu_lock);", "\tkvm_mmu_write_unlock(vcpu->kvm);"
    )
    edits = {X86: (X86_ANCHOR, X86_ANCHOR + LOCK_HELPERS), MMU: (FAULT, through)}
    root, table = _files(tmp_path, edits, [X86, MMU])
    assert table.rows["kvm_mmu_write_lock"][0].effect == "lock"
    assert table.rows["kvm_mmu_write_unlock"][0].effect == "unlock"
    assert _in(root, MMU, table, "direct_page_fault") == []
    # The mistake the lock decides: the retry check made before the lock is taken.
    early = through.replace("\tkvm_mmu_write_lock(vcpu->kvm);\n", "").replace(
        "\tr = direct_map(vcpu, fault);",
        "\tkvm_mmu_write_lock(vcpu->kvm);\n\tr = direct_map(vcpu, fault);",
    )
    root, table = _files(tmp_path / "bug", {**edits, MMU: (FAULT, early)}, [X86, MMU])
    assert _in(root, MMU, table, "direct_page_fault") == ["install-before-retry-check"]
