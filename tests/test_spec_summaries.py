"""Callee summaries across files (analyses/spec/summaries.py): what a function of one file does
to a page reference, given to callers in other files as a derived spec row."""

from __future__ import annotations

import pytest

import reviewtool.analyses.spec.summaries as summaries_mod
from reviewtool.analyses.spec import check_source, load_specs
from reviewtool.analyses.spec.summaries import (
    SOURCE_PREFIX,
    summarise_texts,
    with_summaries,
)
from reviewtool.analyses.spec.summary_cache import SummaryCache
from reviewtool.cli.check_walk import check_files

HELPERS = """
kvm_pfn_t helper_get_pfn(struct kvm_vcpu *vcpu, gfn_t gfn, bool write)
{
	if (!vcpu)
		return KVM_PFN_ERR_FAULT;
	return gfn_to_pfn_prot(vcpu->kvm, gfn, write, NULL);
}

void helper_put_pfn(struct kvm_vcpu *vcpu, kvm_pfn_t pfn, bool dirty)
{
	vcpu->stat.puts++;
	kvm_release_pfn_clean(pfn);
}

void helper_maybe_put(kvm_pfn_t pfn, bool done)
{
	if (done)
		kvm_release_pfn_clean(pfn);
}

void helper_touch(kvm_pfn_t pfn)
{
	kvm_set_pfn_dirty(pfn);
}

static kvm_pfn_t local_get(struct kvm *kvm, gfn_t gfn)
{
	return gfn_to_pfn(kvm, gfn);
}

kvm_pfn_t helper_static_user(struct kvm *kvm, gfn_t gfn)
{
	return local_get(kvm, gfn);
}
"""

CALLER_LEAKS = """
int map_one(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	kvm_pfn_t pfn = helper_get_pfn(vcpu, gfn, true);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (gfn & 1)
		return -EAGAIN;
	helper_put_pfn(vcpu, pfn, false);
	return 0;
}
"""

CALLER_TWICE = """
int map_two(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(vcpu->kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	helper_put_pfn(vcpu, pfn, false);
	kvm_release_pfn_clean(pfn);
	return 0;
}
"""

CALLER_CLEAN = """
int map_three(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	kvm_pfn_t pfn = helper_get_pfn(vcpu, gfn, false);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	helper_touch(pfn);
	helper_put_pfn(vcpu, pfn, true);
	return 0;
}
"""


@pytest.fixture(scope="module")
def specs():
    return load_specs()


@pytest.fixture(scope="module")
def table(specs):
    texts = {
        "helpers.c": (HELPERS, {}),
        "leaks.c": (CALLER_LEAKS, {}),
        "twice.c": (CALLER_TWICE, {}),
        "clean.c": (CALLER_CLEAN, {}),
    }
    return summarise_texts(texts, specs)


def test_each_effect_is_summarised_from_the_code(table):
    rows = {name: found[0] for name, found in table.rows.items()}
    got = rows["helper_get_pfn"]
    assert (got.effect, got.result, got.get) == ("acquire", "return", "always")
    assert set(got.kinds) == {"error", "held", "not_refcounted"}
    put = rows["helper_put_pfn"]
    assert (put.effect, put.arg, put.takes, put.arity) == ("release", 1, "pfn", 3)
    touch = rows["helper_touch"]
    assert (touch.effect, touch.arg, touch.dirty) == ("mark", 0, True)
    assert all(row.source == f"{SOURCE_PREFIX}helpers.c:{row.name}" for row in rows.values())


def test_no_summary_where_a_row_could_not_say_the_truth(table):
    # Released on some paths only; a static function (never called from elsewhere); a
    # function no other file calls.
    assert "helper_maybe_put" not in table.rows
    assert "local_get" not in table.rows
    assert "helper_static_user" not in table.rows


def test_a_caller_in_another_file_finds_the_leak_only_through_the_summary(table, specs):
    without = check_source("leaks.c", CALLER_LEAKS, None, specs)
    assert without.findings == []
    found = check_source("leaks.c", CALLER_LEAKS, None, specs, summaries=table.rows)
    assert [(f.function, f.rule) for f in found.findings] == [("map_one", "leak")]
    assert any("helper_get_pfn()" in step.event for step in found.findings[0].trace)


def test_a_release_inside_a_callee_counts_in_the_caller(table, specs):
    found = check_source("twice.c", CALLER_TWICE, None, specs, summaries=table.rows)
    assert [(f.function, f.rule) for f in found.findings] == [("map_two", "double-release")]
    clean = check_source("clean.c", CALLER_CLEAN, None, specs, summaries=table.rows)
    assert clean.findings == []


def test_a_bug_inside_the_callee_is_reported_once_in_the_callee(specs):
    buggy = HELPERS.replace(
        "\tkvm_release_pfn_clean(pfn);\n}\n\nvoid helper_maybe_put",
        "\tkvm_release_pfn_clean(pfn);\n\tkvm_set_pfn_accessed(pfn);\n}\n\nvoid helper_maybe_put",
    )
    texts = {"helpers.c": (buggy, {}), "clean.c": (CALLER_CLEAN, {})}
    table = summarise_texts(texts, specs)
    assert table.rows["helper_put_pfn"][0].effect == "release"
    callee = check_source("helpers.c", buggy, None, specs, summaries=table.rows)
    assert [(f.function, f.rule) for f in callee.findings] == [
        ("helper_put_pfn", "use-after-release")
    ]
    caller = check_source("clean.c", CALLER_CLEAN, None, specs, summaries=table.rows)
    assert caller.findings == []


def test_a_hand_written_row_wins_and_own_functions_are_walked_in_place(table, specs):
    generation = specs.generation("legacy")
    fake = {"gfn_to_pfn": table.rows["helper_touch"], **table.rows}
    merged = with_summaries(generation, fake, defined={"helper_put_pfn"})
    assert merged.rows["gfn_to_pfn"] == generation.rows["gfn_to_pfn"]
    assert "helper_put_pfn" not in merged.rows
    assert merged.rows["helper_get_pfn"] == table.rows["helper_get_pfn"]
    assert "helper_get_pfn" not in generation.rows  # the data rows are not changed


def test_names_with_different_effects_in_different_files_get_no_summary(specs):
    other = "void helper_put_pfn(struct kvm_vcpu *vcpu, kvm_pfn_t pfn, bool dirty)\n{\n}\n"
    texts = {
        "helpers.c": (HELPERS, {}),
        "other_arch.c": (other, {}),
        "twice.c": (CALLER_TWICE, {}),
    }
    table = summarise_texts(texts, specs)
    assert "helper_put_pfn" in table.conflicts
    assert "helper_put_pfn" not in table.rows


def test_chains_across_three_files_take_rounds(specs):
    middle = (
        "kvm_pfn_t middle_get(struct kvm_vcpu *vcpu, gfn_t gfn)\n{\n"
        "\treturn helper_get_pfn(vcpu, gfn, false);\n}\n"
    )
    caller = CALLER_LEAKS.replace("helper_get_pfn(vcpu, gfn, true)", "middle_get(vcpu, gfn)")
    texts = {"helpers.c": (HELPERS, {}), "middle.c": (middle, {}), "caller.c": (caller, {})}
    table = summarise_texts(texts, specs)
    assert table.rows["middle_get"][0].effect == "acquire"
    assert table.rounds == 3  # two to derive the chain, one that finds nothing new
    found = check_source("caller.c", caller, None, specs, summaries=table.rows)
    assert [(f.function, f.rule) for f in found.findings] == [("map_one", "leak")]


def test_a_second_run_reads_the_summaries_from_the_cache(specs, tmp_path, monkeypatch):
    texts = {"helpers.c": (HELPERS, {}), "leaks.c": (CALLER_LEAKS, {})}
    cache = SummaryCache(tmp_path, "fingerprint")
    first = summarise_texts(texts, specs, cache)
    assert list((tmp_path / "summaries").glob("*.json"))

    def no_walk(*args, **kwargs):
        raise AssertionError("summarised again despite the cache")

    monkeypatch.setattr(summaries_mod, "summarise_source", no_walk)
    second = summarise_texts(texts, specs, SummaryCache(tmp_path, "fingerprint"))
    assert second.rows == first.rows
    # Another spec version is another key: summarised anew.
    with pytest.raises(AssertionError, match="summarised again"):
        summarise_texts(texts, specs, SummaryCache(tmp_path, "other spec"))


@pytest.mark.parametrize("workers", [1, 2])
def test_check_dir_gives_callers_the_summaries(tmp_path, workers):
    (tmp_path / "helpers.c").write_text(HELPERS)
    (tmp_path / "leaks.c").write_text(CALLER_LEAKS)
    names = [str(tmp_path / "helpers.c"), str(tmp_path / "leaks.c")]
    results = dict(check_files(names, [], workers=workers, cache_dir=tmp_path / "cache"))
    found = [(f.function, f.rule) for f in results[names[1]].findings]
    assert found == [("map_one", "leak")]
    plain = dict(check_files(names, [], workers=workers, use_summaries=False))
    assert plain[names[1]].findings == []
