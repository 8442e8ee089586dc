"""`fields.ReleasedFields` remembers what each function's text says (the pre-push hook checks
one version of a file after another): the fields must be exactly those of the plain
definition, spelled out here, on the real 6.12 files and on texts built to need every round
of the hand-over search."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reviewtool.analyses.spec.fields import (
    ReleasedFields,
    _functions_of,
    chains,
    declared_types,
    key_of,
    released_in,
)
from reviewtool.analyses.spec.model import call_arguments, load_specs
from tests.helpers import kernelrepo

_WORD_RE = re.compile(r"[A-Za-z_]\w*")


def by_definition(bodies: dict[str, str], params: dict[str, list[str]], spec) -> set:
    """The fields released from, computed as the definition reads, nothing remembered."""
    keys: set = set()
    releasing = {row.name: {row.arg} for row in spec.rows_with("release")}
    for _ in range(3):
        grown = False
        for fname, body in bodies.items():
            for callee, indexes in list(releasing.items()):
                if callee == fname or callee not in body:
                    continue
                for args, _ in call_arguments(body, callee):
                    for index in indexes:
                        if index >= len(args):
                            continue
                        words = set(_WORD_RE.findall(args[index]))
                        for position, pname in enumerate(params.get(fname, ())):
                            if pname in words and position not in releasing.get(fname, ()):
                                releasing.setdefault(fname, set()).add(position)
                                grown = True
        if not grown:
            break
    for body in bodies.values():
        found = [
            args[index]
            for callee, indexes in releasing.items()
            if callee in body
            for args, _ in call_arguments(body, callee)
            for index in indexes
            if index < len(args)
        ]
        types = declared_types(body) if found else {}
        for arg in found:
            for variable, fields_ in chains(arg):
                keys.add(key_of(variable, fields_, types))
            for word in set(_WORD_RE.findall(arg)) - {v for v, _ in chains(arg)}:
                for match in re.finditer(rf"(?<![\w>.]){re.escape(word)}\s*=(?!=)([^;]*);", body):
                    for variable, fields_ in chains(match.group(1)):
                        keys.add(key_of(variable, fields_, types))
    return keys


def test_real_kernel_files_are_there() -> None:
    kernelrepo.require_kernel_files()


@pytest.mark.parametrize("path", kernelrepo.real_c_files(), ids=lambda p: p.name)
def test_fields_are_the_definitions_on_real_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    specs = load_specs()
    for spec in specs.generations:
        expected = by_definition(*_functions_of(text), spec)
        assert released_in([text], spec).keys == expected, spec.name
        # Again, from what was remembered: the same answer.
        assert released_in([text], spec).keys == expected, spec.name


HANDING = """\
static void drop_c(struct demo *d, kvm_pfn_t pfn)
{
\tkvm_release_pfn_clean(pfn);
}

static void drop_b(struct demo *d, kvm_pfn_t first, kvm_pfn_t second)
{
\tdrop_c(d, second);
}

static void drop_a(struct demo *d)
{
\tstruct demo_map *m = d->maps;
\tkvm_pfn_t held = m->held_pfn;

\tdrop_b(d, 0, held);
\tdrop_c(d, d->other.pfn);
}

static void drop_r(struct demo *d, kvm_pfn_t pfn, kvm_pfn_t other)
{
	kvm_release_pfn_clean(pfn);
	if (d)
		drop_r(NULL, other, 0);
}

static void drop_z(struct demo *d)
{
	drop_r(d, 0, d->third.pfn);
\tdrop_a(d);
\tkvm_release_pfn_dirty(d->dirty_pfn);
}
"""


def test_hand_over_rounds_are_the_definitions() -> None:
    spec = load_specs().generations[-1]
    bodies, params = _functions_of(HANDING)
    # The order matters to a three-round search: each order, as the definition runs it.
    for order in (list(bodies), list(reversed(bodies))):
        ordered = {name: bodies[name] for name in order}
        found = ReleasedFields()
        found.add_functions(ordered, params, spec)
        assert found.keys == by_definition(ordered, params, spec)
    assert by_definition(bodies, params, spec)  # the text does release from fields


@pytest.mark.parametrize("path", kernelrepo.real_c_files(), ids=lambda p: p.name)
def test_bodies_are_the_lines_of_each_function(path: Path) -> None:
    from reviewtool.cparse.scan import scan_functions

    text = path.read_text(encoding="utf-8", errors="replace")
    for variant in (text, text.rstrip("\n"), text + "\n\n"):
        spans = scan_functions(variant)
        if not spans:
            continue
        lines = variant.split("\n")
        expected = {span.name: "\n".join(lines[span.start - 1 : span.end]) for span in spans}
        assert _functions_of(variant)[0] == expected
