"""`cparse.scan.with_callers` searches each caller's name in the whole text instead of cutting
every body into identifiers: it must keep exactly the spans the plain definition keeps (a span
whose body, cut as `_IDENT.findall` cuts it, names a kept span's own identifier)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.cparse.scan import Span, scan_functions, with_callers
from tests.helpers import kernelrepo

DATA = Path(__file__).resolve().parent / "data"
_IDENT = re.compile(r"[A-Za-z_]\w*")


def callers_by_definition(text: str, spans: list[Span], seeds: set[Span]) -> set[Span]:
    """The definition, spelled out: every body split into identifiers."""
    lines = text.split("\n")
    mentions = {
        span: set(_IDENT.findall("\n".join(lines[span.start - 1 : span.end]))) for span in spans
    }
    keep, todo = set(seeds), list(seeds)
    while todo:
        name = _IDENT.findall(todo.pop().name)[-1:]
        for span, named in mentions.items():
            if span not in keep and name and name[0] in named:
                keep.add(span)
                todo.append(span)
    return keep


def test_real_kernel_files_are_there() -> None:
    kernelrepo.require_kernel_files()


@pytest.mark.parametrize(
    "path",
    kernelrepo.real_c_files() + sorted(DATA.rglob("*.c")),
    ids=lambda p: p.name,
)
def test_callers_match_the_definition_on_real_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    spans = scan_functions(text)
    if not spans:
        pytest.skip("layout the scan does not read (the checker uses the whole file there)")
    chosen = random.Random(path.name).sample(spans, min(12, len(spans)))
    for seed in chosen:
        expected = callers_by_definition(text, spans, {seed})
        assert with_callers(text, spans, {seed}) == expected, seed.name
    # Several seeds at once, as a commit changing several functions asks.
    assert with_callers(text, spans, set(chosen)) == callers_by_definition(text, spans, set(chosen))


# Bodies built from names that are prefixes, suffixes and infixes of each other, glued to
# digits, non-ASCII letters and underscores: every way an identifier cut could go wrong.
_PIECES = ["fa", "fab", "b", "_fa", "fa_", "9", "é", "ß", "x9", " ", "(", ")", ";", "\n", "->"]


@st.composite
def texts_with_spans(draw: st.DrawFn) -> tuple[str, list[Span]]:
    lines: list[str] = []
    spans: list[Span] = []
    names = ["fa", "fab", "b", "_fa", "fa_", "x9", "FNAME(fa)"]
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(names))
        body = "".join(draw(st.lists(st.sampled_from(_PIECES), max_size=30))).split("\n")
        start = len(lines) + 1
        lines.append(f"static int {name}(void)")
        lines.append("{")
        lines.extend(body)
        lines.append("}")
        spans.append(Span(name, start, len(lines)))
        lines.append("".join(draw(st.lists(st.sampled_from(_PIECES[:10]), max_size=5))))
    return "\n".join(lines), spans


@settings(max_examples=300, deadline=None)
@given(texts_with_spans(), st.data())
def test_callers_match_the_definition_on_generated_texts(built, data) -> None:
    text, spans = built
    seeds = set(data.draw(st.lists(st.sampled_from(spans), min_size=1, max_size=3)))
    assert with_callers(text, spans, seeds) == callers_by_definition(text, spans, seeds)


def test_overlapping_spans_are_looked_up_one_by_one() -> None:
    text = "int a(void)\n{\n\tb();\n}\nint b(void)\n{\n}\n"
    outer, inner, callee = Span("a", 1, 4), Span("x", 2, 3), Span("b", 5, 7)
    spans = [outer, inner, callee]
    assert with_callers(text, spans, {callee}) == {outer, inner, callee}
    assert with_callers(text, spans, {callee}) == callers_by_definition(text, spans, {callee})
