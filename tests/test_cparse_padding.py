"""Padding costs nothing and changes nothing: a text with long runs of blank lines (an image at
its real line numbers, the gaps between hunks) sanitises and parses exactly as if every blank
line were read, on made-up edge cases and on the real 6.12 KVM files padded out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.cparse.parse import PARSE_BLANK_RUN, _parse_tree, parse_c
from reviewtool.cparse.sanitize import BLANK_RUN_KEPT, _sanitize, sanitize

KERNEL = Path(__file__).resolve().parents[1].parent / "shared" / "kernel" / "linux-6.12"
RUN = "\n" * (max(BLANK_RUN_KEPT, PARSE_BLANK_RUN) * 3)

EDGE_CASES = {
    "comment across a run": "int f(void)\n{\n\t/* open" + RUN + " closed */\n\treturn 0;\n}\n",
    "string across a run": 'int f(void)\n{\n\tx = "abc' + RUN + 'def";\n\treturn 0;\n}\n',
    "statement split by a run": RUN + "int f(void)\n{\n\tif (x)" + RUN + "\t\treturn 1;\n}\n" + RUN,
    "macro continued into a run": "#define X(a) \\\n" + RUN + "int f(void) { return 0; }\n",
    "line comment continued into a run": (
        "int f(void)\n{\n\t// note \\\n" + RUN + "\treturn 0;\n}\n"
    ),
    "label after a run": "int f(void)\n{\n\tgoto out;" + RUN + "out:\n\treturn 0;\n}\n",
    "parameters split by a run": "int g(int a,\n" + RUN + " int b)\n{\n\treturn a;\n}\n",
    "unclosed comment before a run": "int f(void)\n{\n\t/* open" + RUN,
    "only padding": RUN,
    "#else branch hidden after a run": (
        "int f(int x)\n{\n\tif (x)\n#ifdef A\n\t\treturn 1;\n#else\n\t\treturn 2;\n#endif"
        + RUN
        + "\treturn 0;\n}\n"
        + RUN
        + "int g(int x)\n{\n\tif (x)\n#ifdef B\n\t\treturn 1;\n#else\n"
        + RUN
        + "\t\treturn 2;\n#endif\n\treturn 0;\n}\n"
    ),
    "case range after a run": "int f(int x)\n{\n\tswitch (x) {\n\tcase 1" + RUN + "... 3:\n"
    "\t\treturn 1;\n\t}\n\treturn 0;\n}\n",
}


def _nodes(tree) -> list[tuple]:
    """Every node of a tree with its kind and exact position, in document order."""
    out, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        out.append(
            (
                node.type,
                node.start_byte,
                node.end_byte,
                tuple(node.start_point),
                tuple(node.end_point),
                node.has_error,
                node.is_missing,
            )
        )
        stack.extend(reversed(node.children))
    return out


def _same_as_reading_every_line(text: str) -> None:
    whole = _sanitize(text.lstrip("\n"))
    lead = len(text) - len(text.lstrip("\n"))
    short = sanitize(text)
    assert short.text == "\n" * lead + whole.text
    assert [(r.start_line - lead, r.end_line - lead, r.reason) for r in short.masked] == [
        (r.start_line, r.end_line, r.reason) for r in whole.masked
    ]
    assert short.edits == whole.edits
    data = short.text.encode("utf-8", "surrogatepass")
    assert _nodes(_parse_tree(data)) == _nodes(_parse_tree(data, skip_blank_runs=False))


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_padding_is_read_as_if_every_line_were(name: str) -> None:
    _same_as_reading_every_line(EDGE_CASES[name])


def test_hidden_branches_keep_their_real_lines_behind_padding() -> None:
    text = EDGE_CASES["#else branch hidden after a run"]
    lines = text.split("\n")
    masked = parse_c(text).masked
    assert len(masked) == 2
    for region in masked:
        assert lines[region.start_line - 1].startswith("#else")
        assert lines[region.end_line - 1].startswith("#endif")


def _padded(text: str) -> str:
    """A real file with long blank runs after every function, after every continued line and
    among the directives and comments inside bodies."""
    out = []
    for number, line in enumerate(text.split("\n")):
        out.append(line)
        if (
            line == "}"
            or line.endswith("\\")
            or (line.startswith("#") and number % 5 == 0)
            or (line.startswith("\t/*") and number % 3 == 0)
        ):
            out.append(RUN)
    return RUN + "\n".join(out)


def test_real_kvm_files_padded_out_read_the_same() -> None:
    if not KERNEL.is_dir():
        pytest.skip(f"real kernel files not found at {KERNEL} (they live beside the repo in CI)")
    sources = sorted(p for p in KERNEL.rglob("*") if p.suffix in (".c", ".h"))
    assert sources
    masked = 0
    for path in sources:
        text = _padded(path.read_text())
        _same_as_reading_every_line(text)
        masked += len(sanitize(text).masked)
    assert masked  # the padded tree still holds hidden `#else` branches, mapped back above
