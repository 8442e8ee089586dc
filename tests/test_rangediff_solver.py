"""The assignment: git's solver alone for the sizes real series have, SciPy only past them.

git's solver (a port of linear-assignment.c) decides small assignments without SciPy's check,
so it must find the optimum by itself; and a range-diff of a real-sized series must not pay
for importing SciPy at all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from reviewtool.analyses.rangediff.solver import GIT_COST_MAX, _solve, _total, _two_least

EXAMPLE_MBOX = Path(__file__).resolve().parent.parent / "examples" / "kvm-follow-pfn" / "mbox"


@st.composite
def cost_matrices(draw):
    """Matrices shaped as range-diff builds them: [new or dummy][old or dummy], pair costs,
    forbidden pairs (GIT_COST_MAX), the cost of leaving each patch unpaired, dummy meets
    dummy at 0."""
    na, nb = draw(st.integers(0, 7)), draw(st.integers(0, 7))
    pair = st.one_of(st.integers(0, 80), st.just(GIT_COST_MAX))
    create_old = [draw(st.integers(0, 40)) for _ in range(na)]
    create_new = [draw(st.integers(0, 40)) for _ in range(nb)]
    matrix = [[draw(pair) for _ in range(na)] + [create_new[j]] * nb for j in range(nb)]
    matrix += [list(create_old) + [0] * nb for _ in range(na)]
    return matrix, na, nb


@settings(max_examples=300, deadline=None)
@given(cost_matrices())
def test_the_pairing_is_optimal_with_or_without_scipy(case) -> None:
    """git's solver is trusted alone only where its potentials prove it optimal; ties that
    leave its result incomplete go to SciPy. Either way the pairing costs the optimum."""
    matrix, na, nb = case
    if na + nb < 2:
        return
    pairs = _solve([list(row) for row in matrix], na, nb)
    assert len(set(pairs.values())) == len(pairs)
    rows, cols = linear_sum_assignment(np.array(matrix))
    assert _total(matrix, pairs, na, nb) == sum(
        matrix[r][c] for r, c in zip(rows, cols, strict=True)
    )


def test_a_series_range_diff_does_not_import_scipy() -> None:
    v7, v8 = EXAMPLE_MBOX / "v7.mbox", EXAMPLE_MBOX / "v8.mbox"
    probe = (
        "import sys\n"
        "from reviewtool.analyses.changelog_check import compare\n"
        "from reviewtool.ingest import load\n"
        "series = next(s for s in load(sys.argv[1:]).series if s.revision('v8'))\n"
        "result = compare(series.revision('v7'), series.revision('v8'))\n"
        "assert result.pairs, 'nothing paired'\n"
        "print('scipy' in sys.modules, 'numpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(v7), str(v8)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.split() == ["False", "False"]


def _git_scan(reduced: list[int]) -> tuple[int, int, int, int]:
    """linear-assignment.c's augmenting-row-reduction scan, step by step: the reference."""
    j1, u1 = 0, reduced[0]
    j2, u2 = -1, None
    for j in range(1, len(reduced)):
        c = reduced[j]
        if u2 is None or u2 > c:
            if u1 < c:
                u2, j2 = c, j
            else:
                u2, u1, j2, j1 = u1, c, j1, j
    return j1, u1, j2, u2


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=2, max_size=12))
def test_the_two_least_columns_are_those_git_scans_to(reduced) -> None:
    """Ties are the rule in range-diff costs: the columns picked must be git's."""
    assert _two_least(list(reduced)) == _git_scan(reduced)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.lists(st.lists(st.integers(0, 4), min_size=n, max_size=n), min_size=n, max_size=n),
            st.booleans(),
        )
    )
)
def test_the_first_scan_shortcut_pairs_as_the_full_scan(case) -> None:
    """When a least column of a free row's first scan has no row yet, the solver skips the
    scan's loop; the assignment and the potentials must be those the loop gives."""
    from reviewtool.analyses.rangediff import solver

    matrix, dummies_alike = case
    if dummies_alike:  # range-diff's shape: the dummy rows are one row repeated
        for row in range(len(matrix) // 2, len(matrix)):
            matrix[row] = list(matrix[-1])
    shortcut_potentials: list[int] = []
    shortcut = solver._git_assignment([list(r) for r in matrix], shortcut_potentials)
    full_potentials: list[int] = []
    original = solver._least_column_is_free
    solver._least_column_is_free = lambda d, column2row: False  # always the full scan
    try:
        full = solver._git_assignment([list(r) for r in matrix], full_potentials)
    finally:
        solver._least_column_is_free = original
    assert shortcut == full
    assert shortcut_potentials == full_potentials
