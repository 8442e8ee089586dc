"""The C grammar loaded straight from tree-sitter-c's extension module is the package's own
grammar, and loading it brings none of what the package's `__init__` imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_c

from reviewtool.cparse.grammar import c_language

SAMPLE = sorted((Path(__file__).resolve().parent / "data").rglob("*.c"))[0]


def test_the_grammar_is_the_packages() -> None:
    ours = tree_sitter.Language(c_language())
    theirs = tree_sitter.Language(tree_sitter_c.language())
    assert (ours.name, ours.abi_version, ours.node_kind_count) == (
        theirs.name,
        theirs.abi_version,
        theirs.node_kind_count,
    )
    source = SAMPLE.read_bytes()
    ours_tree = tree_sitter.Parser(ours).parse(source)
    theirs_tree = tree_sitter.Parser(theirs).parse(source)
    assert str(ours_tree.root_node) == str(theirs_tree.root_node)


def test_parsing_imports_nothing_the_package_init_brings(tmp_path: Path) -> None:
    probe = (
        "import sys; from reviewtool.cparse import parse_c; parse_c('int f(void)\\n{\\n}\\n'); "
        "print(sorted(m for m in ('importlib.resources', 'tempfile', 'shutil', 'bz2', "
        "'lzma', 'tree_sitter_c') if m in sys.modules)); "
        "from tree_sitter_c import language; "
        "print(language is sys.modules['tree_sitter_c._binding'].language)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True
    )
    assert done.stdout.split("\n")[:2] == ["[]", "True"], done.stderr
