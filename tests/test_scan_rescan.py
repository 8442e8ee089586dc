"""`cparse.rescan`: the function scan of a text from the scan of an earlier version must be
exactly the scan of the text itself, whatever the edit between them (the hook scans each
pushed version of a file from the previous one)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.cparse.rescan import rescan, scan_after
from reviewtool.cparse.scan import scan_functions
from tests.helpers import kernelrepo

DATA = Path(__file__).resolve().parent / "data"

# Lines an edit may insert: brace lines, headers, statements, comments, directives, blanks.
EDIT_LINES = [
    "{",
    "}",
    "} ",
    "{\r",
    "",
    "static int added_helper(int x)",
    "static void FNAME(added)(struct kvm_vcpu *vcpu,",
    "\t\tint more)",
    "\treturn 0;",
    "\tif (x)",
    "\t\tgoto out;",
    "out:",
    "#ifdef CONFIG_DEMO",
    "#endif",
    "/* a comment */",
    " * inside a comment",
    "int declared;",
    "\tx = added_helper(x);",
]


def _real_files() -> list[Path]:
    return sorted(DATA.rglob("*.c")) + kernelrepo.real_c_files()


def edited(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(lines) + 1)
        kind = rng.random()
        if kind < 0.4:
            lines[at:at] = rng.choices(EDIT_LINES, k=rng.randint(1, 6))
        elif kind < 0.7:
            del lines[at : at + rng.randint(1, 8)]
        else:
            lines[at : at + rng.randint(1, 4)] = rng.choices(EDIT_LINES, k=rng.randint(1, 4))
    return "\n".join(lines)


def test_real_kernel_files_are_there() -> None:
    kernelrepo.require_kernel_files()


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_rescan_is_the_scan_on_edited_real_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    rng = random.Random(path.name)
    versions = [text]
    for _ in range(25):
        versions.append(edited(versions[-1], rng))
    for old, new in zip(versions, versions[1:], strict=False):
        old_spans = scan_functions(old)
        if old_spans is None:
            continue
        assert rescan(old, old_spans, new) == scan_functions(new)
        assert rescan(new, scan_functions(new) or [], old) == old_spans
    # Several earlier versions to choose from, as the hook keeps them.
    earlier = [(v, s) for v in versions[-4:-1] if (s := scan_functions(v)) is not None]
    assert scan_after(versions[-1], earlier) == scan_functions(versions[-1])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(EDIT_LINES), max_size=40),
    st.lists(st.sampled_from(EDIT_LINES), max_size=40),
    st.lists(st.sampled_from(EDIT_LINES), max_size=40),
    st.lists(st.sampled_from(EDIT_LINES), max_size=8),
    st.booleans(),
)
def test_rescan_is_the_scan_on_generated_texts(head, middle, tail, replacement, newline_end):
    end = "\n" if newline_end else ""
    old = "\n".join([*head, *middle, *tail]) + end
    new = "\n".join([*head, *replacement, *tail]) + end
    old_spans = scan_functions(old)
    if old_spans is not None:
        assert rescan(old, old_spans, new) == scan_functions(new)
        assert scan_after(new, [(old, old_spans)]) == scan_functions(new)


def test_unrelated_text_is_scanned_whole() -> None:
    one = "int a(void)\n{\n\treturn 0;\n}\n"
    other = "static void b(int x)\n{\n}\n\nstatic void c(int y)\n{\n}\n"
    assert scan_after(other, [(one, scan_functions(one))]) == scan_functions(other)
    assert rescan(one, scan_functions(one), other) == scan_functions(other)


@pytest.mark.parametrize(
    "above",
    [
        "int b(int x)",  # the line above a header turns into more header: it grows upwards
        "\tx = 1,",
        "}",
        "/* note */",
        "#define DEMO 1",
    ],
)
def test_an_edit_on_the_line_above_a_header(above: str) -> None:
    old = "int a;\n\nstatic int f(void)\n{\n\treturn 0;\n}\n\nstatic int g(void)\n{\n}\n"
    new = old.replace("int a;\n\n", f"int a;\n{above}\n", 1)
    assert rescan(old, scan_functions(old), new) == scan_functions(new)
    back = scan_functions(new)
    if back is not None:
        assert rescan(new, back, old) == scan_functions(old)
