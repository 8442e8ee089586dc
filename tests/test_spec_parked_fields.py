"""Pages parked in struct fields, and releases that empty their holder, on real 6.12 files.

A page stored into memory the function does not own (`pte->pfn`, a map kept in
`vmx->nested`) is handed on only when some function of the files checked releases from that
field (analyses/spec/fields.py). A field nobody releases from keeps nothing: deleting the
release after such a store is a leak. `kvm_vcpu_unmap()` empties its map, so a second unmap of
the same map is harmless. Variants are made in a temporary copy of the files concerned.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewtool.analyses.spec import load_specs
from reviewtool.analyses.spec.check import check_tree_file
from reviewtool.analyses.spec.summaries import summarise_tree

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
BOOK3S = "arch/powerpc/kvm/book3s.c"
HOST32 = "arch/powerpc/kvm/book3s_32_mmu_host.c"
VMX_NESTED = "arch/x86/kvm/vmx/nested.c"
SVM_NESTED = "arch/x86/kvm/svm/nested.c"

pytestmark = pytest.mark.skipif(
    not KERNEL.is_dir(),
    reason=f"real kernel files not found at {KERNEL} (../shared beside the repo in CI)",
)


def _variant(tmp_path: Path, relpath: str, changes: list[tuple[str, str]]) -> Path:
    """A copy of one real file (at its path in a temporary tree, with book3s.c, whose
    kvmppc_gpa_to_pfn() faults the 32-bit host MMU's pages in) with each (old, new) text
    replaced once."""
    root = tmp_path / "linux"
    (root / BOOK3S).parent.mkdir(parents=True)
    shutil.copyfile(KERNEL / BOOK3S, root / BOOK3S)
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(KERNEL / relpath, target)
    text = target.read_text(encoding="utf-8")
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return root


def _findings(root: Path, relpath: str) -> list[tuple[str, str]]:
    """Findings of one file checked as `check DIR` checks it: with the summaries of the
    other files' functions."""
    table = summarise_tree(root, [BOOK3S, relpath], load_specs()).rows
    return [(f.function, f.rule) for f in check_tree_file(root, relpath, summaries=table).findings]


HPTE_RELEASE = "\tkvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);\nout:"


def test_a_pfn_parked_in_an_hpte_entry_nobody_releases_from_is_a_leak(tmp_path):
    # 6.12's HPTE cache keeps the pfn as a number only (invalidate_pte() drops no reference):
    # the release after kvmppc_mmu_hpte_cache_map() is the only one on the success path.
    root = _variant(tmp_path, HOST32, [(HPTE_RELEASE, "out:")])
    assert _findings(root, HOST32) == [("kvmppc_mmu_map_page", "leak")]


def test_a_pfn_parked_in_a_field_someone_releases_from_is_handed_on(tmp_path):
    # The legal design: a function of the file drops the reference the entry keeps.
    owner = (
        "void kvmppc_mmu_unmap_page(struct kvm_vcpu *vcpu, struct kvmppc_pte *pte)\n",
        "static void drop_hpte_page(struct hpte_cache *pte)\n"
        "{\n\tkvm_release_pfn_clean(pte->pfn);\n}\n\n"
        "void kvmppc_mmu_unmap_page(struct kvm_vcpu *vcpu, struct kvmppc_pte *pte)\n",
    )
    root = _variant(tmp_path, HOST32, [(HPTE_RELEASE, "out:"), owner])
    assert _findings(root, HOST32) == []
    # A release from the same field name of another struct type is no owner.
    other = (owner[0], owner[1].replace("struct hpte_cache *pte", "struct kvm_host_map *pte"))
    root = _variant(tmp_path / "other", HOST32, [(HPTE_RELEASE, "out:"), other])
    assert _findings(root, HOST32) == [("kvmppc_mmu_map_page", "leak")]


MSR_UNMAP = "\tkvm_vcpu_unmap(vcpu, &vmx->nested.msr_bitmap_map, false);\n"


def test_a_map_kept_in_a_nested_field_nobody_unmaps_is_a_leak(tmp_path):
    root = _variant(tmp_path, VMX_NESTED, [(MSR_UNMAP, "\n")])
    assert _findings(root, VMX_NESTED) == [("nested_vmx_prepare_msr_bitmap", "leak")]


def test_a_map_kept_in_a_field_unmapped_elsewhere_is_handed_on(tmp_path):
    # The real file: three maps live in vmx->nested fields that nested_put_vmcs12_pages()
    # unmaps later; the MSR bitmap map is unmapped in place. Moving that unmap to where the
    # others are is legal too.
    assert _findings(_variant(tmp_path / "real", VMX_NESTED, []), VMX_NESTED) == []
    later = (
        "\tvmx->nested.pi_desc = NULL;\n\n\tkvm_mmu_free_roots(",
        "\tvmx->nested.pi_desc = NULL;\n"
        "\tkvm_vcpu_unmap(vcpu, &vmx->nested.msr_bitmap_map, false);\n\n\tkvm_mmu_free_roots(",
    )
    root = _variant(tmp_path, VMX_NESTED, [(MSR_UNMAP, "\n"), later])
    assert _findings(root, VMX_NESTED) == []


SVM_UNMAP = "out:\n\tkvm_vcpu_unmap(vcpu, &map, true);\n\n\treturn ret;"


def test_a_second_unmap_of_the_same_map_is_harmless(tmp_path):
    # kvm_vcpu_unmap() clears map->hva and returns at once on a cleared map.
    twice = "out:\n\tkvm_vcpu_unmap(vcpu, &map, true);\n\tkvm_vcpu_unmap(vcpu, &map, true);"
    root = _variant(tmp_path, SVM_NESTED, [(SVM_UNMAP, twice + "\n\n\treturn ret;")])
    assert _findings(root, SVM_NESTED) == []
    # Its deletion is still a leak.
    root = _variant(tmp_path / "deleted", SVM_NESTED, [(SVM_UNMAP, "out:\n\n\treturn ret;")])
    assert ("nested_svm_vmrun", "leak") in _findings(root, SVM_NESTED)


XIVE = "arch/powerpc/kvm/book3s_xive_native.c"
QUEUE_FAILED = (
    "\t\t       priority, xc->server_num, rc);\n\t\tput_page(page);\n\t\treturn rc;",
    "\t\t       priority, xc->server_num, rc);\n\t\treturn rc;",
)


def test_a_queue_page_a_failed_configure_did_not_keep_must_be_released(tmp_path):
    # xive_native_configure_queue() keeps the queue page only when it succeeds (a spec
    # row): the real file releases it when the call fails, and is clean; without that
    # put_page() the page leaks.
    assert _findings(_variant(tmp_path / "real", XIVE, []), XIVE) == []
    root = _variant(tmp_path, XIVE, [QUEUE_FAILED])
    assert _findings(root, XIVE) == [("kvmppc_xive_native_set_queue_config", "leak")]
