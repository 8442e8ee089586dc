"""Two C facts the walker needs on the real PPC host MMU fault paths (book3s_32/64_mmu_host.c):
a kernel-bug assertion used as a statement, and a pfn shifted into an address and back."""

from __future__ import annotations

from reviewtool.analyses.spec import check_source

TEMPLATE = """
int map_it(struct kvm *kvm, gfn_t gfn, struct segment *map)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	unsigned long hpaddr;

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	GUARD
	hpaddr = pfn << PAGE_SHIFT;
	RELEASE
	return 0;
}
"""


def _rules(guard: str, release: str = "kvm_release_pfn_clean(hpaddr >> PAGE_SHIFT);") -> list:
    text = TEMPLATE.replace("GUARD", guard).replace("RELEASE", release)
    return [f.rule for f in check_source("host.c", text).findings]


def test_a_shifted_pfn_shifted_back_is_the_same_reference():
    assert _rules("") == []
    assert _rules("", release="") == ["leak"]


def test_an_unconditional_warning_marks_a_path_that_never_runs():
    # `WARN_ON(true); goto out;` skips the release on a path the kernel calls a bug.
    assert _rules("if (!map) {\n\t\tWARN_ON(true);\n\t\treturn -EINVAL;\n\t}") == []
    assert _rules("if (!map) {\n\t\treturn -EINVAL;\n\t}") == ["leak"]


def test_an_assertion_statement_keeps_only_the_paths_where_it_holds():
    # After BUG_ON(!map) the map is there: the early return below cannot run.
    assert _rules("BUG_ON(!map);\n\tif (!map)\n\t\treturn -EINVAL;") == []
    assert _rules("BUG_ON(gfn);\n\tif (!map)\n\t\treturn -EINVAL;") == ["leak"]
