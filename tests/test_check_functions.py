"""The checker's entry point for some functions of a file (the pre-push hook's door):
checking them in a text with unneeded bodies blanked, in the file and in its companions,
gives the findings of checking them in the whole texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.spec.check import check_functions, check_source
from reviewtool.analyses.spec.model import companions_of
from reviewtool.analyses.spec.selection import select_functions

KERNEL = Path(__file__).resolve().parents[1] / "../shared/kernel/linux-6.12"
TMPL = "arch/x86/kvm/mmu/paging_tmpl.h"

MMU = """\
#include "paging_tmpl.h"

static kvm_pfn_t demo_faultin(struct kvm_memory_slot *slot, gfn_t gfn, bool write)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | (write ? FOLL_WRITE : 0),
	};

	return __kvm_follow_pfn(&foll);
}

static int demo_unrelated(int x)
{
	return x * 2;
}
"""
HEADER = """\
static int FNAME(demo_fault)(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
	kvm_pfn_t pfn;

	pfn = demo_faultin(slot, gfn, true);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (gfn > 10)
		return -EAGAIN;
	kvm_release_pfn_clean(pfn);
	return 0;
}

static int demo_other(int x)
{
	return x;
}
"""


def test_lines_choose_the_enclosing_function_and_companions_supply_its_callees() -> None:
    context = {"arch/x86/kvm/mmu/mmu.c": MMU}
    functions, result = check_functions(TMPL, HEADER, lines={9}, context=context)
    assert functions == {"FNAME(demo_fault)"}
    assert [(f.rule, f.line, f.function) for f in result.findings] == [
        ("leak", 9, "FNAME(demo_fault)")
    ]
    # Without the file that takes the reference, nothing can be said about it.
    assert check_functions(TMPL, HEADER, lines={9})[1].findings == []


def test_blanking_keeps_the_callee_in_the_companion_and_drops_the_rest() -> None:
    chosen = select_functions(HEADER, lines={9}, context={"mmu.c": MMU})
    assert chosen.reduced
    kept = chosen.context["mmu.c"]
    assert "__kvm_follow_pfn(&foll)" in kept and "return x * 2;" not in kept
    assert kept.count("\n") == MMU.count("\n")  # every line of the companion where it was
    assert "demo_other" not in chosen.text


@pytest.mark.skipif(not KERNEL.is_dir(), reason="../shared/kernel/linux-6.12 is not here")
@pytest.mark.parametrize(
    "name", ["FNAME(prefetch_gpte)", "FNAME(sync_spte)", "FNAME(gpte_changed)"]
)
def test_blanked_texts_give_the_findings_of_the_whole_real_files(name: str) -> None:
    text = (KERNEL / TMPL).read_text(encoding="utf-8", errors="replace")
    context = {
        other: (KERNEL / other).read_text(encoding="utf-8", errors="replace")
        for other in companions_of(TMPL)
    }
    assert context, "paging_tmpl.h has its [companions] entry"
    functions, part = check_functions(TMPL, text, names={name}, context=context)
    assert functions == {name}
    whole = check_source(TMPL, text, {name}, context=context)
    assert [f.to_json() for f in part.findings] == [f.to_json() for f in whole.findings]
    assert (part.checked, part.not_checked) == (whole.checked, whole.not_checked)


def _real_template() -> tuple[str, dict[str, str]]:
    text = (KERNEL / TMPL).read_text(encoding="utf-8", errors="replace")
    context = {
        other: (KERNEL / other).read_text(encoding="utf-8", errors="replace")
        for other in companions_of(TMPL)
    }
    return text, context


@pytest.mark.skipif(not KERNEL.is_dir(), reason="../shared/kernel/linux-6.12 is not here")
def test_a_helper_asked_for_alone_is_walked_inside_its_callers() -> None:
    # FNAME(prefetch_gpte) installs an spte; every caller in the file holds mmu_lock and has
    # checked for a retry. Walked as a root with nothing known it once raised
    # install-before-retry-check at the install: a false alarm a whole-file check never made,
    # met by a push or a series that touches only this helper.
    text, context = _real_template()
    name = "FNAME(prefetch_gpte)"
    whole = check_source(TMPL, text, None, context=context)
    assert [f for f in whole.findings if f.function == name] == []
    alone = check_source(TMPL, text, {name}, context=context)
    assert alone.findings == [] and alone.checked == [name] and alone.not_checked == []
    functions, part = check_functions(TMPL, text, names={name}, context=context)
    assert functions == {name} and part.findings == [] and part.checked == [name]


@pytest.mark.skipif(not KERNEL.is_dir(), reason="../shared/kernel/linux-6.12 is not here")
def test_a_mistake_in_a_helper_asked_for_alone_is_still_reported_in_its_name() -> None:
    text, context = _real_template()
    body = text[text.index("FNAME(prefetch_gpte)(struct kvm_vcpu") :]
    release = body.index("\tkvm_release_pfn_clean(pfn);\n")
    start = len(text) - len(body)
    broken = (
        text[: start + release]
        + "\t;\n"
        + text[start + release + len("\tkvm_release_pfn_clean(pfn);\n") :]
    )
    name = "FNAME(prefetch_gpte)"
    functions, part = check_functions(TMPL, broken, names={name}, context=context)
    assert functions == {name}
    assert {(f.function, f.rule) for f in part.findings} == {(name, "leak")}
    # The callers walked to check it are not reported on: only what was asked for.
    assert part.checked == [name]
