"""The C parsing layer: kernel idioms parse with the real file's lines; errors are reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewtool.cparse import cache_clear, cache_info, parse_c, sanitize

DATA = Path(__file__).parent / "data" / "c"
EXPECT_RE = re.compile(r"//\s*expect-(function|call|error|declaration):?\s*(\S+)?\s*(\d+)?")


def _expectations(text: str) -> list[tuple[str, str | None, int | None, int, str | None]]:
    """(kind, name, argc, line of the code it is about, enclosing expected function)."""
    out = []
    function = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = EXPECT_RE.search(line)
        if not match:
            continue
        kind, name, argc = match.group(1), match.group(2), match.group(3)
        if kind == "function":
            function = name
        out.append((kind, name, int(argc) if argc else None, number + 1, function))
    return out


def _fixture(name: str) -> str:
    return (DATA / name).read_text()


@pytest.mark.parametrize(
    "name",
    ["kernel_constructs.c", "kvm_host_excerpt.h", "conditional_braces.c", "statement_cutting.c"],
)
def test_kernel_constructs_parse_without_error_regions(name: str) -> None:
    parsed = parse_c(_fixture(name))
    assert parsed.errors == []
    assert parsed.ok


@pytest.mark.parametrize(
    "name",
    ["kernel_constructs.c", "broken_function.c", "conditional_braces.c", "statement_cutting.c"],
)
def test_annotated_functions_start_on_their_real_lines(name: str) -> None:
    text = _fixture(name)
    parsed = parse_c(text)
    lines = text.splitlines()
    expected = [e for e in _expectations(text) if e[0] == "function"]
    assert expected
    for _kind, fname, _argc, line, _fn in expected:
        found = [f for f in parsed.functions() if f.name == fname]
        assert len(found) == 1, fname
        assert found[0].start_line == line
        assert found[0].is_static == lines[line - 1].startswith("static")
        assert lines[found[0].end_line - 1] == "}"
        assert parsed.enclosing_function(line + 2).name == fname


@pytest.mark.parametrize(
    "name",
    ["kernel_constructs.c", "broken_function.c", "conditional_braces.c", "statement_cutting.c"],
)
def test_annotated_calls_are_found_with_function_and_argument_count(name: str) -> None:
    text = _fixture(name)
    parsed = parse_c(text)
    expected = [e for e in _expectations(text) if e[0] == "call"]
    assert expected
    for _kind, callee, argc, line, function in expected:
        sites = [c for c in parsed.calls(callee) if c.line == line]
        assert len(sites) == 1, (callee, line)
        site = sites[0]
        assert site.function == function
        assert len(site.args) == argc
        real_line = text.splitlines()[line - 1]
        assert real_line[site.column - 1 :].startswith(callee)


def test_call_arguments_are_the_real_texts_not_the_sanitised_ones() -> None:
    parsed = parse_c(_fixture("kernel_constructs.c"))
    (container,) = parsed.calls("container_of")
    assert container.args[1] == "struct kvm_vcpu"
    (minimum,) = parsed.calls("min_t")
    assert minimum.args[0] == "unsigned long"
    first = parsed.calls("__gfn_to_pfn_memslot")[0]
    assert first.args[4] == "&async"
    assert first.args[-1] == "&fault->hva"  # an argument on a continuation line
    assert first.end_line > first.line


def test_fname_function_keeps_its_macro_name() -> None:
    parsed = parse_c(_fixture("kernel_constructs.c"))
    names = [f.name for f in parsed.functions()]
    assert "FNAME(page_fault)" in names
    assert parsed.calls("FNAME(fetch)")[0].function == "FNAME(page_fault)"


def test_ifdef_splitting_braces_keeps_first_branch_and_reports_the_hidden_one() -> None:
    text = _fixture("kernel_constructs.c")
    parsed = parse_c(text)
    lines = text.splitlines()
    (masked,) = parsed.masked
    assert lines[masked.start_line - 1].strip() == "#else"
    assert lines[masked.end_line - 1].strip() == "#endif"
    assert "CONFIG_X86_64" in masked.reason


def test_sanitiser_preserves_length_and_every_newline() -> None:
    text = _fixture("kernel_constructs.c")
    result = sanitize(text)
    assert len(result.text) == len(text)
    assert [i for i, c in enumerate(result.text) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]
    assert "__always_inline" not in result.text
    assert "__user" not in result.text
    assert result.edits > 0


def test_every_attribute_word_is_found_by_the_candidate_search() -> None:
    from reviewtool.cparse.kernel import ATTRIBUTE_CALLS, ATTRIBUTE_WORDS

    for word in sorted(ATTRIBUTE_WORDS):
        assert word not in sanitize(f"static {word} int x;\n").text
    for word in sorted(ATTRIBUTE_CALLS):
        assert word not in sanitize(f"int f(void) {word}((x, y));\n").text


def test_sanitiser_leaves_comments_and_strings_alone() -> None:
    text = (
        'static int f(void)\n{\n\t/* __user list_for_each_entry(a) { */\n\treturn g("__rcu");\n}\n'
    )
    assert sanitize(text).text == text


def test_error_region_names_the_function_it_hits_and_neighbours_survive() -> None:
    text = _fixture("broken_function.c")
    parsed = parse_c(text)
    expected = [e for e in _expectations(text) if e[0] == "error"]
    assert expected
    for _kind, _name, _argc, line, function in expected:
        hits = [r for r in parsed.errors if r.start_line <= line <= r.end_line]
        assert hits, f"no error region covers line {line}"
        assert hits[0].function == function
        described = hits[0].describe()
        assert described.startswith("not checked: could not parse line")
        assert described.endswith(f"of `{function}`")
    names = [f.name for f in parsed.functions()]
    assert names == [e[1] for e in _expectations(text) if e[0] == "function"]


def test_declarations_give_prototype_parameter_names() -> None:
    text = _fixture("kvm_host_excerpt.h")
    parsed = parse_c(text)
    for _kind, name, _argc, line, _fn in _expectations(text):
        (declaration,) = parsed.declarations(name)
        assert declaration.kind == "prototype"
        assert declaration.line == line
    params = parsed.prototype("__gfn_to_pfn_memslot")
    assert params is not None and params[2:6] == ("atomic", "interruptible", "async", "write_fault")
    assert parsed.definitions("__gfn_to_pfn_memslot") == []


def test_definitions_include_function_like_macros() -> None:
    parsed = parse_c(_fixture("kernel_constructs.c"))
    (macro,) = parsed.definitions("FNAME")
    assert macro.kind == "macro"
    assert macro.params == ("name",)
    (function,) = parsed.definitions("__kvm_faultin_pfn")
    assert function.kind == "function" and function.is_static


def test_parse_is_cached_by_content_hash() -> None:
    cache_clear()
    text = _fixture("kernel_constructs.c")
    first = parse_c(text)
    again = parse_c("".join(list(text)))  # equal content, a different string object
    assert again is first
    assert cache_info() == {"hits": 1, "misses": 1, "entries": 1}
    changed = parse_c(text + "\n")
    assert changed is not first
    assert cache_info()["misses"] == 2


def test_cache_evicts_oldest_when_its_text_budget_is_spent(monkeypatch) -> None:
    from reviewtool.cparse import parse

    cache_clear()
    monkeypatch.setattr(parse, "CACHE_MAX_CHARS", 3000)
    texts = [f"int f{i}(void)\n{{\n\treturn {i};\n}}\n" * 40 for i in range(4)]
    parsed = [parse_c(text) for text in texts]
    assert sum(len(t) for t in texts) > 3000
    assert cache_info()["entries"] < len(texts)
    assert parse_c(texts[-1]) is parsed[-1]  # the newest stays
    cache_clear()


def test_lines_are_preserved_for_an_image_padded_to_its_offset() -> None:
    fragment = "static void f(void)\n{\n\tg(1);\n}\n"
    parsed = parse_c("\n" * 99 + fragment)
    (call,) = parsed.calls("g")
    assert call.line == 102
    assert parsed.functions()[0].start_line == 100


def test_parse_c_rejects_bytes_with_a_typed_error() -> None:
    from reviewtool.errors import AnalysisError

    with pytest.raises(AnalysisError):
        parse_c(b"int x;")  # type: ignore[arg-type]


def test_nested_conditionals_report_each_hidden_branch() -> None:
    text = _fixture("conditional_braces.c")
    parsed = parse_c(text)
    lines = text.splitlines()
    assert len(parsed.masked) == 2
    for region in parsed.masked:
        assert lines[region.start_line - 1].strip().replace(" ", "") == "#else"
        assert lines[region.end_line - 1].strip().replace(" ", "") == "#endif"


def test_branch_hidden_inside_a_function_is_reported_as_not_checked() -> None:
    text = _fixture("statement_cutting.c")
    parsed = parse_c(text)
    lines = text.splitlines()
    (hidden,) = parsed.hidden
    assert hidden.function == "demo_create"
    assert lines[hidden.start_line - 1].strip() == "#else"
    assert lines[hidden.end_line - 1].strip() == "#endif"
    assert hidden.describe().startswith(f"not checked: lines {hidden.start_line}-")
    assert "`#ifdef CONFIG_X86_64`" in hidden.describe()
    assert parsed.unchecked() == [hidden]
    # A single-branch group that cuts a statement hides nothing: its code stays parsed.
    assert [c.function for c in parsed.calls("memunmap")] == ["demo_unmap"]


def test_initializer_conditionals_are_not_reported_as_unchecked_code() -> None:
    parsed = parse_c(_fixture("statement_cutting.c"))
    assert all(region.function is not None for region in parsed.unchecked())


C_PIECES = st.sampled_from(
    [
        "static __always_inline int f(void __user *p)\n{\n",
        "\tlist_for_each_entry(a, b, c) {\n",
        "#ifdef CONFIG_X\n",
        "#else\n",
        "#endif\n",
        "\tif (a) {\n",
        "}\n",
        "\tg(container_of(p, struct s, m));\n",
        "/* { __rcu */\n",
        '\tprintk("%s {", "}");\n',
        "\tr = FNAME(fetch)(v, f);\n",
        "\u00e9\u00e8 // caf\u00e9\n",
        '\tpr_info("d\u00e9j\u00e0 vu");\n',
        "\\\n",
        "(",
        ")",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(C_PIECES, max_size=40))
@example(
    [
        "#ifdef CONFIG_X\n",
        "static int f(void)\n{\n",
        "#else\n",
        "\u00e9\u00e8 // caf\u00e9\n",
        "#endif\n",
    ]
)
def test_sanitiser_keeps_every_offset_whatever_the_input(pieces: list[str]) -> None:
    text = "".join(pieces)
    result = sanitize(text).text
    assert len(result) == len(text)
    assert len(result.encode()) == len(text.encode())
    assert [i for i, c in enumerate(result) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]
    parse_c(text)  # never raises, whatever the text
