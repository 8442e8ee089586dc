"""check_source, the spec data files and `reviewtool check` on C files: behaviours of the walker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool.analyses.spec import check_source, compare_findings, load_specs
from reviewtool.analyses.spec.model import builtin_generations
from reviewtool.cli import main
from reviewtool.errors import InputError

CORPUS = Path(__file__).parent / "data" / "spec"

# A v8-style fault-in whose FOLL_GET depends on the configuration, and a consumer that never
# releases: the leak exists only where FOLL_GET is passed.
CONDITIONAL_GET = """\
static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = FOLL_WRITE,
		.guarded_by_mmu_notifier = true,
	};

	foll.flags |= (tdp_enabled && IS_ENABLED(CONFIG_X86_64)) ? 0 : FOLL_GET;
	fault->pfn = __kvm_follow_pfn(&foll);
	return RET_PF_CONTINUE;
}

static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r = __kvm_faultin_pfn(vcpu, fault);

	if (r != RET_PF_CONTINUE)
		return r;
	return RET_PF_RETRY;
}
"""


def _rules(text: str, path: str = "virt/kvm/kvm_main.c", **kw) -> list[tuple[str, int]]:
    return [(f.rule, f.line) for f in check_source(path, text, **kw).findings]


def test_leak_names_the_configuration_that_passes_foll_get():
    [finding] = check_source("arch/x86/kvm/mmu/mmu.c", CONDITIONAL_GET).findings
    assert finding.rule == "leak"
    assert finding.function == "direct_page_fault"
    assert finding.config == "FOLL_GET passed (!tdp_enabled or 32-bit)"
    assert finding.line == 21
    assert finding.severity == "error"


def test_only_the_requested_functions_are_reported():
    text = CONDITIONAL_GET
    assert check_source("arch/x86/kvm/mmu/mmu.c", text, {"__kvm_faultin_pfn"}).findings == []


def test_condition_tested_twice_keeps_its_answer():
    text = """\
static void peek(struct kvm *kvm, gfn_t gfn, bool want)
{
	kvm_pfn_t pfn = 0;

	if (want)
		pfn = gfn_to_pfn(kvm, gfn);
	do_something();
	if (want)
		kvm_release_pfn_clean(pfn);
}
"""
    assert _rules(text) == []


def test_switch_case_missing_a_release_leaks_at_its_return():
    text = """\
static int use_page(struct kvm *kvm, gfn_t gfn, int mode)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	switch (mode) {
	case 0:
		kvm_release_pfn_clean(pfn);
		break;
	case 1:
		kvm_release_pfn_dirty(pfn);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}
"""
    assert _rules(text) == [("leak", 15)]


def test_goto_cleanup_and_loops_run_zero_or_one_times():
    text = """\
static int fill(struct kvm *kvm, gfn_t gfn, int n)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	int i, ret = 0;

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		ret = poke(pfn, i);
		if (ret)
			goto out;
	}
	while (busy(kvm))
		cpu_relax();
out:
	kvm_release_pfn_clean(pfn);
	return ret;
}
"""
    assert _rules(text) == []


def test_release_inside_loop_is_a_double_release_when_the_retry_loops_back():
    text = """\
static int retry_fault(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
retry:
	kvm_release_pfn_clean(pfn);
	if (need_retry(kvm))
		goto retry;
	return 0;
}
"""
    assert ("double-release", 8) in _rules(text)


def test_same_file_callee_summary_carries_the_reference_in_a_struct_field():
    text = """\
static void grab(struct kvm *kvm, struct kvm_host_map *map, gfn_t gfn)
{
	map->pfn = gfn_to_pfn(kvm, gfn);
}

static void drop(struct kvm_host_map *map)
{
	kvm_release_pfn_clean(map->pfn);
}

static int user(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_host_map map;

	grab(kvm, &map, gfn);
	if (is_error_noslot_pfn(map.pfn))
		return -EFAULT;
	drop(&map);
	drop(&map);
	return 0;
}
"""
    assert _rules(text) == [("double-release", 8)]


def test_answers_never_read_again_merge_and_the_walk_completes():
    # 2^24 paths if every answer were kept; none is read again, so they merge. The work
    # bound itself is pinned by test_spec_perf's walk with answers that stay live.
    conditions = "".join(f"\tif (flag{i}(kvm))\n\t\tcount++;\n" for i in range(24))
    text = (
        "static int many(struct kvm *kvm, gfn_t gfn)\n{\n\tint count = 0;\n"
        "\tkvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);\n\n"
        f"{conditions}\tkvm_release_pfn_clean(pfn);\n\treturn count;\n}}\n"
    )
    result = check_source("virt/kvm/kvm_main.c", text)
    assert not any("not fully explored" in note for note in result.notes)
    assert result.findings == []


def test_each_generation_is_detected_from_the_code():
    samples = {
        "legacy": "x = __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, w, &wr, NULL);",
        "v8": "pfn = __kvm_follow_pfn(&foll); ok = foll.is_refcounted_page;",
        "v10": "pfn = kvm_follow_pfn(&kfp); page = kfp.refcounted_page;",
        "upstream-6.13": "pfn = __kvm_faultin_pfn(slot, gfn, FOLL_WRITE, &writable, &page);",
    }
    specs = load_specs()
    for name, code in samples.items():
        assert specs.detect(code).name == name
    # x86's own two-argument __kvm_faultin_pfn is not the 6.13 API
    assert specs.detect("r = __kvm_faultin_pfn(vcpu, fault);").name == "legacy"


def test_every_generation_loads_with_locks_notifier_and_consumers():
    for spec in builtin_generations():
        assert spec.rows_with("acquire") and spec.rows_with("release")
        assert spec.row("write_unlock", 1).effect == "unlock"
        assert spec.row("mmu_invalidate_retry", 2).effect == "retry-check"
        assert spec.row("is_error_noslot_pfn", 1).effect == "predicate"
        assert spec.is_consumer("user_mem_abort") and spec.is_consumer("direct_page_fault")


def test_spec_file_teaches_a_new_api_without_python(tmp_path):
    spec_file = tmp_path / "pin.toml"
    spec_file.write_text(
        """\
[[api]]
name = "pin_guest_pfn"
effect = "acquire"
get = "always"
kinds = ["error", "held"]

[[api]]
name = "unpin_guest_pfn"
effect = "release"
takes = "pfn"
""",
        encoding="utf-8",
    )
    text = """\
static int touch(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = pin_guest_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (busy(kvm))
		return -EBUSY;
	unpin_guest_pfn(pfn);
	return 0;
}
"""
    assert _rules(text) == []
    specs = load_specs([str(spec_file)])
    assert [(f.rule, f.line) for f in check_source("x.c", text, spec=specs).findings] == [
        ("leak", 8)
    ]


def test_spec_file_with_unknown_effect_is_an_input_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[api]]\nname = "x"\neffect = "teleport"\n', encoding="utf-8")
    with pytest.raises(InputError, match="teleport"):
        load_specs([str(bad)])
    broken = tmp_path / "broken.toml"
    broken.write_text("[[api]\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        load_specs([str(broken)])


def test_compare_marks_introduced_fixed_and_persisting():
    path = "arch/x86/kvm/mmu/mmu.c"
    old = check_source(path, (CORPUS / "legacy" / "x86-fault-mutations.c").read_text()).findings
    new = check_source(path, (CORPUS / "legacy" / "x86-fault-ok.c").read_text()).findings
    marked = compare_findings(old, new)
    assert marked and {f.status for f in marked} == {"fixed"}
    again = compare_findings(
        old, check_source(path, (CORPUS / "legacy" / "x86-fault-mutations.c").read_text()).findings
    )
    assert {f.status for f in again} == {"persisting"}


def test_check_command_prints_compiler_lines_and_exit_codes(capsys):
    leaky = str(CORPUS / "v8" / "x86-fault-leak-5of8.c")
    assert main(["check", leaky]) == 1
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"{leaky}:") and ": error: leak: " in first
    assert "FOLL_GET passed (!tdp_enabled or 32-bit)" in first
    assert out.splitlines()[1].startswith("    ")
    assert main(["check", str(CORPUS / "v8" / "x86-fault-ok.c")]) == 0


WARNING_ONLY = """\
static int user_mem_abort(struct kvm_vcpu *vcpu, struct kvm_memory_slot *memslot, gfn_t gfn)
{
	struct kvm *kvm = vcpu->kvm;
	unsigned long mmu_seq = kvm->mmu_invalidate_seq;
	struct page *page;
	bool writable;
	kvm_pfn_t pfn;

	pfn = __kvm_faultin_pfn(memslot, gfn, FOLL_WRITE, &writable, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	kvm_fault_lock(kvm);
	if (!mmu_invalidate_retry(kvm, mmu_seq))
		map_it(kvm, pfn);
	kvm_fault_unlock(kvm);
	kvm_release_faultin_page(kvm, page, false, true);
	return 0;
}
"""


def test_check_command_fail_on_threshold_and_json(capsys, tmp_path):
    marks = str(CORPUS / "v8" / "x86-mark.c")
    assert main(["check", marks, "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    rules = {f["rule"]: f["severity"] for f in data["findings"]}
    assert rules == {"mark-not-refcounted": "error", "mark-after-unlock": "warning"}
    warning_only = tmp_path / "arch/arm64/kvm/mmu.c"
    warning_only.parent.mkdir(parents=True)
    warning_only.write_text(WARNING_ONLY, encoding="utf-8")
    assert main(["check", str(warning_only)]) == 0
    assert "release-dirty-unlocked" in capsys.readouterr().out
    assert main(["check", str(warning_only), "--fail-on", "warning"]) == 1


def test_check_command_on_missing_file_is_a_usage_error(capsys, tmp_path):
    assert main(["check", str(tmp_path / "none.c")]) == 2
    assert "no such file" in capsys.readouterr().err
