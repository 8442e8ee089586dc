"""The hook's shortcut: checking a file with unneeded function bodies blanked out must give
exactly the findings of checking the whole file."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.cparse import parse_c
from reviewtool.cparse.scan import reduce_text, scan_functions, with_callees

DATA = Path(__file__).resolve().parent / "data"
C_FILES = sorted(DATA.rglob("*.c")) + sorted(DATA.rglob("*.h"))

SPLIT_BY_IFDEF = """\
#ifdef CONFIG_KVM_NEW_FAULT
static int demo_fault(struct kvm_vcpu *vcpu, gpa_t gpa, u64 error_code)
{
#else
static int demo_fault(struct kvm_vcpu *vcpu, gpa_t gpa)
{
#endif
	return 0;
}
"""

CALLS = """\
static int helper_b(int x)
{
	return x + 1;
}

static int helper_a(int x)
{
	return helper_b(x) * 2;
}

static int unrelated(int x)
{
	return x;
}

static int entry(int x)
{
	return helper_a(x);
}
"""


def checker():
    import reviewtool.analyses.spec.check as check

    return check


def test_scan_finds_kernel_style_functions_with_their_lines() -> None:
    spans = scan_functions(CALLS)
    assert [(s.name, s.start, s.end) for s in spans] == [
        ("helper_b", 1, 4),
        ("helper_a", 6, 9),
        ("unrelated", 11, 14),
        ("entry", 16, 19),
    ]


def test_scan_gives_up_on_braces_split_by_ifdef() -> None:
    assert scan_functions(SPLIT_BY_IFDEF) is None


def test_reduction_keeps_callees_transitively_and_every_line_number() -> None:
    spans = scan_functions(CALLS)
    entry = next(s for s in spans if s.name == "entry")
    keep = with_callees(CALLS, spans, {entry})
    assert {s.name for s in keep} == {"entry", "helper_a", "helper_b"}
    reduced = reduce_text(CALLS, spans, keep)
    original, after = CALLS.splitlines(), reduced.splitlines()
    assert len(after) == len(original)
    assert all(after[i] == "" for i in range(10, 14))  # `unrelated` blanked
    assert [after[i] for i in range(15, 19)] == original[15:19]
    parsed = parse_c(reduced)
    assert parsed.enclosing_function(18).name == "entry"
    assert {f.name for f in parsed.functions()} == {"entry", "helper_a", "helper_b"}


@pytest.mark.parametrize("path", C_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_scan_names_functions_as_the_parser_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    spans = scan_functions(text)
    if spans is None:
        pytest.skip("layout the scan does not claim to read; the hook uses the whole file")
    parsed = {f.name for f in parse_c(text).functions() if f.kind == "function"}
    assert {span.name for span in spans} == parsed


@pytest.mark.parametrize("path", C_FILES, ids=lambda p: str(p.relative_to(DATA)))
def test_reduced_text_gives_the_findings_of_the_whole_file(path: Path) -> None:
    check = checker()
    from reviewtool.analyses.spec.model import detect_generation, load_specs

    text = path.read_text(encoding="utf-8")
    spans = scan_functions(text)
    if spans is None:
        pytest.skip("layout the scan does not claim to read; the hook uses the whole file")
    specs = load_specs()
    generation = specs.detect(text)
    assert detect_generation(specs, text) is generation
    for span in spans:
        whole = check.check_source(str(path), text, {span.name}, spec=generation)
        keep = with_callees(text, spans, {span})
        part = check.check_source(
            str(path), reduce_text(text, spans, keep, span.end), {span.name}, spec=generation
        )
        assert [f.to_json() for f in part.findings] == [f.to_json() for f in whole.findings], (
            span.name
        )
