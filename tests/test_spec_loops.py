"""Loops run to a fixpoint (spec/loops.py): a path passes a loop head again until the state it
brings there is one the head has seen, so a mistake made only on a loop's third pass is found,
and a loop that does not settle within the bound is said to be not checked, never dropped.

Fixtures here, and a realistic variant of a real 6.12 retry loop (PPC `kvmppc_share_page()`)
in a temporary copy of the real file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from reviewtool.analyses.findings import NOT_CHECKED_BOUND
from reviewtool.analyses.spec import check_source
from reviewtool.analyses.spec.check import check_tree_file
from reviewtool.analyses.spec.state import MAX_LOOP_PASSES

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
UVMEM = "arch/powerpc/kvm/book3s_hv_uvmem.c"
PATH = "virt/kvm/kvm_main.c"


def _rules(text: str) -> list[tuple[str, int]]:
    return sorted((f.rule, f.line) for f in check_source(PATH, text).findings)


# The third pass gives up without releasing: two passes (the old unrolling) never get there.
THIRD_PASS_LEAK = """\
static int fault_with_retries(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn;
	int attempt = 0;

again:
	pfn = gfn_to_pfn(kvm, gfn);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (attempt == 2)
		return -EAGAIN;
	attempt = attempt + 1;
	kvm_release_pfn_clean(pfn);
	goto again;
}
"""


def test_a_leak_on_the_third_pass_of_a_retry_loop_is_found():
    assert _rules(THIRD_PASS_LEAK) == [("leak", 11)]


def test_the_same_loop_releasing_on_every_pass_is_clean():
    fixed = """\
static int fault_with_retries(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn;
	int attempt = 0;

again:
	pfn = gfn_to_pfn(kvm, gfn);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (attempt == 2)
		goto out;
	attempt = attempt + 1;
	kvm_release_pfn_clean(pfn);
	goto again;
out:
	kvm_release_pfn_clean(pfn);
	return -EAGAIN;
}
"""
    assert _rules(fixed) == []


# The release on the retry path depends on a flag the first pass sets: only the second retry
# (the third pass through the label) skips it, and the page of the second pass leaks.
RELEASE_ONLY_ON_FIRST_RETRY = """\
static int map_with_retry(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn;
	bool retried = false;

retry:
	pfn = gfn_to_pfn(kvm, gfn);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (still_busy(kvm, gfn)) {
		if (!retried)
			kvm_release_pfn_clean(pfn);
		retried = true;
		goto retry;
	}
	kvm_release_pfn_clean(pfn);
	return 0;
}
"""


def test_a_release_skipped_only_after_a_state_change_across_passes_is_a_leak():
    rules = _rules(RELEASE_ONLY_ON_FIRST_RETRY)
    assert ("leak", 9) in rules or ("leak", 17) in rules
    assert {rule for rule, _ in rules} == {"leak"}


def test_a_loop_whose_state_settles_is_checked_whole():
    text = """\
static int fill(struct kvm *kvm, gfn_t gfn, int n)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	int i, done = 0;

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		if (poke(pfn, i))
			done = 1;
	}
	kvm_release_pfn_clean(pfn);
	return done;
}
"""
    result = check_source(PATH, text)
    assert result.findings == []
    assert result.checked == ["fill"]
    assert result.not_checked == []


def test_a_loop_that_never_settles_is_reported_as_not_checked():
    # `count` takes a new value on every pass and nothing bounds it: no fixpoint, so the
    # bound cuts the walk, and the function is said to be not checked, with the reason.
    text = """\
static int spin(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	int count = 0;

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	while (busy(kvm))
		count = count + 1;
	kvm_release_pfn_clean(pfn);
	return count;
}
"""
    result = check_source(PATH, text)
    assert [(n.function, n.reason) for n in result.not_checked] == [("spin", NOT_CHECKED_BOUND)]
    assert "loop bound reached" in result.not_checked[0].detail
    assert "spin" not in result.checked
    assert MAX_LOOP_PASSES > 2


needs_kernel = pytest.mark.skipif(
    not KERNEL.is_dir(),
    reason=f"real kernel files not found at {KERNEL} (../shared beside the repo in CI)",
)

# In kvmppc_share_page(), the retry branch releases the pfn before `goto retry`.
REAL_RETRY = """\
		pvt->remove_gfn = false; /* it continues to be a valid GFN */
		kvm_release_pfn_clean(pfn);
		goto retry;
"""
# The variant: the release is made only on the first retry (a flag set across passes).
FIRST_RETRY_ONLY = """\
		pvt->remove_gfn = false; /* it continues to be a valid GFN */
		if (!retried)
			kvm_release_pfn_clean(pfn);
		retried = true;
		goto retry;
"""


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    root = tmp_path / "linux"
    target = root / UVMEM
    target.parent.mkdir(parents=True)
    shutil.copyfile(KERNEL / UVMEM, target)
    text = target.read_text()
    assert text.count(old) == 1
    text = text.replace(old, new).replace(
        "\tunsigned long uvmem_pfn;\n\n\tsrcu_idx = srcu_read_lock(&kvm->srcu);\n"
        "\tmutex_lock(&kvm->arch.uvmem_lock);\n\tif (kvmppc_gfn_is_uvmem_pfn(gfn, kvm, "
        "&uvmem_pfn)) {\n\t\tuvmem_page",
        "\tunsigned long uvmem_pfn;\n\tbool retried = false;\n\n"
        "\tsrcu_idx = srcu_read_lock(&kvm->srcu);\n"
        "\tmutex_lock(&kvm->arch.uvmem_lock);\n\tif (kvmppc_gfn_is_uvmem_pfn(gfn, kvm, "
        "&uvmem_pfn)) {\n\t\tuvmem_page",
        1,
    )
    assert "bool retried = false;" in text
    target.write_text(text)
    return root


@needs_kernel
def test_real_retry_loop_is_clean_and_checked_whole():
    result = check_tree_file(KERNEL, UVMEM)
    assert result.findings == []
    assert "kvmppc_share_page" in result.checked or not any(
        n.function == "kvmppc_share_page" for n in result.not_checked
    )
    assert [n for n in result.not_checked if n.reason == NOT_CHECKED_BOUND] == []


@needs_kernel
def test_real_retry_loop_releasing_only_on_its_first_retry_leaks(tmp_path):
    root = _variant(tmp_path, REAL_RETRY, FIRST_RETRY_ONLY)
    result = check_tree_file(root, UVMEM)
    found = {(f.function, f.rule) for f in result.findings}
    assert found == {("kvmppc_share_page", "leak")}
    assert [n for n in result.not_checked if n.reason == NOT_CHECKED_BOUND] == []
