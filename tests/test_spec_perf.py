"""The path walker merges paths that differ only in what nothing ahead reads (liveness.py):
it must find exactly what the walker finds keeping every state whole, and the bundled
example's functions must be walked to the end, not cut short by the work bound.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewtool.analyses.spec import check_source
from reviewtool.analyses.spec.check import _spec_for
from reviewtool.analyses.spec.walker import Walker
from reviewtool.cparse import parse_c
from reviewtool.ingest import load

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn"
PATH = "virt/kvm/kvm_main.c"


def _walk(text: str, pruning: bool) -> tuple[set, bool]:
    """Every function of `text` walked with or without pruning: what was found (rule,
    function, line, message, configuration), and whether every path was walked."""
    parsed = parse_c(text)
    walker = Walker(parsed, _spec_for(text, None), PATH, None)
    walker.pruning = pruning
    explored = True
    for fdef in parsed.functions():
        if fdef.kind == "function" and not fdef.recovered:
            explored = walker.check_function(fdef) and explored
    # Not the trace: a callee's paths that merge leave one way out where the whole walk had
    # several, so the caller may reach a finding first along another (equally real) path.
    found = {(f.rule, f.function, f.line, f.message, f.config) for f in walker.findings.values()}
    return found, explored


def _rules(text: str) -> set[tuple[str, int]]:
    return {(f.rule, f.line) for f in check_source(PATH, text).findings}


# -- generated functions: pruned and whole walks agree -------------------------------------

# Parameters and call results are symbols; `y` and `z` hold unknown values, so tests of them
# are remembered by their text.
CONDITIONS = [
    "a",
    "!a",
    "x",
    "!x",
    "y",
    "!y",
    "z > 1",
    "!(z > 1)",
    "a && y",
    "x || b",
    "probe(kvm)",
    "kvm->flag",
]
SIMPLE = [
    "pfn = gfn_to_pfn(kvm, gfn);",
    "if (is_error_noslot_pfn(pfn))\n\t\treturn -EFAULT;",
    "kvm_release_pfn_clean(pfn);",
    "kvm_release_pfn_dirty(pfn);",
    "kvm_set_pfn_dirty(pfn);",
    "x = probe(kvm);",
    "x = 0;",
    "y = x;",
    "y = z + 1;",
    "z = x * 2;",
    "a = probe(kvm);",
    "kvm->flag = x;",
    "helper(kvm, pfn, &x);",
    "write_lock(&kvm->mmu_lock);",
    "write_unlock(&kvm->mmu_lock);",
    "return 0;",
]
HELPER = """
static void helper(struct kvm *kvm, kvm_pfn_t pfn, int *out)
{
	if (kvm->flag)
		kvm_release_pfn_clean(pfn);
	if (probe(kvm))
		*out = 1;
}
"""


@st.composite
def _block(draw, depth: int = 0) -> list[str]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            cond = draw(st.sampled_from(CONDITIONS))
            then = draw(_block(depth + 1))
            other = draw(_block(depth + 1)) if draw(st.booleans()) else []
            out.append(f"if ({cond}) {{")
            out += [f"\t{line}" for line in then]
            if other:
                out.append("} else {")
                out += [f"\t{line}" for line in other]
            out.append("}")
        else:
            out.append(draw(st.sampled_from(SIMPLE)))
    return out


@st.composite
def _function(draw) -> str:
    body = draw(_block())
    if draw(st.booleans()):  # a bounded retry loop, as hva_to_pfn() has
        cond = draw(st.sampled_from(CONDITIONS))
        body = ["retry:", *body, f"if ({cond})\n\t\tgoto retry;"]
    lines = "\n\t".join(body)
    return (
        HELPER
        + "\nstatic int fuzz(struct kvm *kvm, gfn_t gfn, bool a, bool b)\n{\n"
        + "\tkvm_pfn_t pfn = KVM_PFN_ERR_FAULT;\n\tint x = 0, y, z = b * 2;\n\n"
        + f"\t{lines}\n\treturn x;\n}}\n"
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_function())
def test_pruned_walk_finds_what_the_whole_walk_finds(text):
    whole, whole_explored = _walk(text, pruning=False)
    assume(whole_explored)
    pruned, pruned_explored = _walk(text, pruning=True)
    assert pruned_explored
    assert pruned == whole


# -- what must survive pruning -------------------------------------------------------------


def test_answer_tested_again_after_paths_meet_is_kept():
    text = """\
static int fault(struct kvm *kvm, gfn_t gfn, bool early)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (early)
		kvm_release_pfn_clean(pfn);
	kvm_flush(kvm);
	if (!early)
		kvm_release_pfn_clean(pfn);
	return 0;
}
"""
    # Forgetting `early` at the join would pair a true answer with a false one.
    assert _rules(text) == set()


def test_answer_about_an_unknown_value_tested_again_is_kept():
    text = """\
static int fault(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	int budget = kvm->budget * 2;

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (budget > 1)
		kvm_release_pfn_clean(pfn);
	kvm_flush(kvm);
	if (!(budget > 1))
		kvm_release_pfn_clean(pfn);
	return 0;
}
"""
    assert _rules(text) == set()


def test_answer_tested_again_in_a_helper_is_kept():
    text = """\
static void finish(kvm_pfn_t pfn, bool early)
{
	if (!early)
		kvm_release_pfn_clean(pfn);
}

static int fault(struct kvm *kvm, gfn_t gfn, bool early)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (early)
		kvm_release_pfn_clean(pfn);
	finish(pfn, early);
	return 0;
}
"""
    assert _rules(text) == set()


def test_variable_overwritten_between_two_tests_is_tested_anew():
    text = """\
static int fault(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	int busy = probe(kvm);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (busy)
		kvm_release_pfn_clean(pfn);
	busy = probe(kvm);
	if (!busy)
		kvm_release_pfn_clean(pfn);
	return 0;
}
"""
    # A new value may answer either way: released twice, or never.
    assert {rule for rule, _ in _rules(text)} == {"double-release", "leak"}


def test_page_held_in_a_dead_variable_still_counts_as_held():
    text = """\
static kvm_pfn_t grab(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);
	kvm_pfn_t copy = pfn;

	return copy;
}
"""
    # `pfn` is never read again, yet the reference it names is handed back through `copy`.
    assert _rules(text) == set()


def test_work_bound_still_stops_a_walk_with_too_many_live_answers():
    count = 20
    stores = "".join(f"\tint a{i} = probe{i}(kvm);\n" for i in range(count))
    tests = "".join(f"\tif (a{i})\n\t\tn++;\n" for i in range(count))
    text = (
        "static int many(struct kvm *kvm, gfn_t gfn)\n{\n\tint n = 0;\n"
        f"{stores}\tkvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);\n\n"
        f"{tests}{tests}\tkvm_release_pfn_clean(pfn);\n\treturn n;\n}}\n"
    )
    # Every answer is read again at the end: the paths cannot merge.
    notes = check_source(PATH, text).notes
    assert any("many: not fully explored" in note for note in notes)


def test_cached_result_comes_back_as_a_fresh_copy():
    text = """\
static int fault(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	return 0;
}
"""
    first = check_source(PATH, text)
    assert [f.rule for f in first.findings] == ["leak"]
    first.findings[0].status = "fixed"
    first.findings[0].trace.clear()
    second = check_source(PATH, text)
    assert second.findings[0].status == ""
    assert second.findings[0].trace
    assert replace(second.findings[0], status="fixed", trace=[]) == first.findings[0]


# -- the bundled example -------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(example_build) -> tuple[Path, Path]:
    """The example's mail and git repository, built from nothing (once per test run)."""
    return example_build


def test_example_functions_are_walked_to_the_end(example):
    mbox, repo = example
    [series] = load([str(mbox)]).series
    checked = 0
    for revision in series.revisions:
        paths = sorted({p for patch in revision.patches for p in patch.files})
        for path in paths:
            if not path.endswith(".c"):
                continue
            shown = subprocess.run(
                ["git", "-C", str(repo), "show", f"{revision.label}:{path}"],
                capture_output=True,
                text=True,
            )
            if shown.returncode != 0:  # the version's branch does not have the file
                continue
            notes = check_source(path, shown.stdout).notes
            assert not [n for n in notes if "not fully explored" in n], (revision.label, path)
            checked += 1
    assert checked > 0
