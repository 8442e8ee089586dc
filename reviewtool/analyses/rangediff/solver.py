"""The assignment of old patches to new ones: git's own solver, SciPy's for large ones.

git range-diff solves with a Jonker-Volgenant solver (linear-assignment.c); the port here
follows it step by step, so that among equally cheap pairings the one git picks is picked.
It is exact and fast for the assignments real series give; SciPy (imported only then) takes
over past `GIT_SOLVER_LIMIT` rows, or should the port ever fail to produce a consistent result.
"""

from __future__ import annotations

from operator import sub

from reviewtool.errors import AnalysisError

# git's COST_MAX: the cost of a pair that must never be chosen (range-diff.c).
GIT_COST_MAX = 1 << 16
# Rows (old plus new patches) up to which git's solver runs alone. Its port is pure Python:
# a 100-patch reroll (200 rows) takes milliseconds, a 1,000-patch one would take seconds.
GIT_SOLVER_LIMIT = 400


def _git_assignment(matrix: list[list[int]], potentials: list[int] | None = None) -> list[int]:
    """Column -> row of a minimum assignment, choosing among equal ones as git does.

    git's range-diff solves with a Jonker-Volgenant solver (linear-assignment.c) whose
    tie-breaking follows its scan order; equal totals are common (a patch split in two
    costs the same paired with either half), so to pair as git pairs we follow the same
    steps: column reduction, reduction transfer, two rounds of augmenting row reduction,
    then shortest augmenting paths. matrix[row, column]. `potentials`, when given, receives
    the column potentials the solver ends with (a certificate of optimality, see _solve).
    """
    n = len(matrix)
    if n < 2:
        return [0] * n
    cost = matrix
    column2row = [-1] * n
    row2column = [-1] * n
    v = [0] * n
    if potentials is not None:
        potentials[:] = [0] * n
        v = potentials  # the same list: the caller reads the final potentials
    # The first row holding each column's minimum (numpy's argmin over axis 0). A run of
    # equal rows (range-diff's dummy rows) is read once, at its first row.
    firsts = [r for r in range(n) if r == 0 or cost[r] != cost[r - 1]]
    distinct = [cost[r] for r in firsts]
    first_min = [firsts[column.index(min(column))] for column in zip(*distinct, strict=True)]
    for j in range(n - 1, -1, -1):
        i1 = first_min[j]
        v[j] = cost[i1][j]
        if row2column[i1] == -1:
            row2column[i1] = j
            column2row[j] = i1
        else:
            if row2column[i1] >= 0:
                row2column[i1] = -2 - row2column[i1]
            column2row[j] = -1
    free_row = [0] * n
    free_count = 0
    for i in range(n):
        j1 = row2column[i]
        if j1 == -1:
            free_row[free_count] = i
            free_count += 1
        elif j1 < -1:
            row2column[i] = -2 - j1
        else:
            # The least reduced cost of the row outside its column.
            reduced = list(map(sub, cost[i], v))
            reduced[j1] = reduced[1 if j1 == 0 else 0]
            v[j1] -= min(reduced)
    if free_count == 0:
        return column2row
    # The free rows are mostly range-diff's dummy rows, all alike: a row equal to the one
    # before reuses its reduced costs, brought up to date where v changed since (one column).
    last_row: list[int] | None = None
    reduced: list[int] = []
    for _phase in range(2):
        k = 0
        saved = free_count
        free_count = 0
        while k < saved:
            i = free_row[k]
            k += 1
            row = cost[i]
            if row is not last_row and row != last_row:
                reduced = list(map(sub, row, v))
                last_row = row
            j1, u1, j2, u2 = _two_least(reduced)
            i0 = column2row[j1]
            if u1 < u2:
                v[j1] -= u2 - u1
                reduced[j1] = row[j1] - v[j1]
            elif i0 >= 0:
                j1 = j2
                i0 = column2row[j1]
            if i0 >= 0:
                if u1 < u2:
                    k -= 1
                    free_row[k] = i0
                else:
                    free_row[free_count] = i0
                    free_count += 1
            row2column[i] = j1
            column2row[j1] = i
    d = [0] * n
    pred = [0] * n
    col = [0] * n
    for f in range(free_count):
        i1 = free_row[f]
        low = up = 0
        # d[j] = cost[i1][j] - v[j], pred[j] = i1, col[j] = j, at C speed (git's first loop).
        d[:] = map(sub, cost[i1], v)
        pred[:] = [i1] * n
        col[:] = range(n)
        j = -1
        if _least_column_is_free(d, column2row):
            # The first scan (col is 0..n-1 in order) would put the least columns first and
            # find a free one among them; git then jumps to the update with j the last column
            # it scanned, n - 1, and `last` 0: the same, without the scan's loop.
            last, j = 0, n - 1
            found = True
        else:
            found = False
        while not found:
            last = low
            least = d[col[up]]
            up += 1
            for k in range(up, n):
                j = col[k]
                c = d[j]
                if c <= least:
                    if c < least:
                        up = low
                        least = c
                    col[k] = col[up]
                    col[up] = j
                    up += 1
            # git jumps to the update here with j still the last column scanned; keep that.
            if any(column2row[col[k]] == -1 for k in range(low, up)):
                break
            while True:
                j1 = col[low]
                low += 1
                i = column2row[j1]
                u1 = cost[i][j1] - v[j1] - least
                row_i = cost[i]
                for k in range(up, n):
                    j = col[k]
                    c = row_i[j] - v[j] - u1
                    if c < d[j]:
                        d[j] = c
                        pred[j] = i
                        if c == least:
                            if column2row[j] == -1:
                                found = True
                                break
                            col[k] = col[up]
                            col[up] = j
                            up += 1
                if found or low == up:
                    break
        for k in range(last):
            j1 = col[k]
            v[j1] += d[j1] - least
        while True:
            if j < 0:
                raise AnalysisError("assignment solver lost its way")
            i = pred[j]
            column2row[j] = i
            j, row2column[i] = row2column[i], j
            if i == i1:
                break
    return column2row


def _least_column_is_free(d: list[int], column2row: list[int]) -> bool:
    """Whether a column holding the least of d has no row yet (C-speed searches for the
    least value's columns, which are few)."""
    least = min(d)
    at = -1
    for _ in range(d.count(least)):
        at = d.index(least, at + 1)
        if column2row[at] == -1:
            return True
    return False


def _two_least(reduced: list[int]) -> tuple[int, int, int, int]:
    """(j1, u1, j2, u2): the least and the next least of a row's reduced costs, with the
    columns git's scan picks among equal ones (linear-assignment.c's augmenting row
    reduction), found with C-speed min/index instead of a Python loop over every column.

    git scans left to right, replacing the second least only by a strictly smaller value:
    with the least value at several columns, u1 = u2 and j1 is the second such column, j2
    the first. With one least column p, the next least value s is taken at its second
    column before p if there are two or more before p, at its only column before p, or
    else at its first column after p.
    """
    least = min(reduced)
    first = reduced.index(least)
    if reduced.count(least) > 1:
        return reduced.index(least, first + 1), least, first, least
    second = min(reduced[:first] + reduced[first + 1 :])  # a row has two columns or more
    if second not in reduced[:first]:
        return first, least, reduced.index(second, first + 1), second
    before = reduced.index(second, 0, first)
    if second in reduced[before + 1 : first]:
        before = reduced.index(second, before + 1, first)
    return first, least, before, second


def _git_pairs(
    matrix: list[list[int]], na: int, nb: int, potentials: list[int] | None = None
) -> dict[int, int] | None:
    """Old position -> new position as git's solver pairs them; None when its result is not
    a consistent pairing (read only the real columns, as git reads them: its result leaves
    some dummy columns unset)."""
    try:
        column2row = _git_assignment(matrix, potentials)
    except AnalysisError:
        return None
    pairs = {i: column2row[i] for i in range(na) if 0 <= column2row[i] < nb}
    if len(set(pairs.values())) != len(pairs):
        return None
    return pairs


def _lower_bound(matrix: list[list[int]], potentials: list[int]) -> int:
    """A lower bound on every assignment's cost from any column potentials v (LP duality:
    with u_i = min_j (c_ij - v_j), sum u + sum v never exceeds the optimum)."""
    n = len(matrix)
    if len(potentials) != n:
        return -(1 << 62)  # no potentials: no bound
    rows = 0
    previous: list[int] | None = None
    least = 0
    for row in matrix:
        if row != previous:  # the dummy rows are all alike: their least is computed once
            least = min(map(sub, row, potentials))
            previous = row
        rows += least
    return rows + sum(potentials)


def _total(matrix: list[list[int]], pairs: dict[int, int], na: int, nb: int) -> int:
    """The cost of a pairing: its pairs, plus every patch it leaves unpaired."""
    total = sum(matrix[j][i] for i, j in pairs.items())
    total += sum(matrix[nb][i] for i in range(na) if i not in pairs)
    paired = set(pairs.values())
    total += sum(matrix[j][na] for j in range(nb) if j not in paired)
    return total


def _solve(matrix: list[list[int]], na: int, nb: int) -> dict[int, int]:
    """Old position -> new position of an optimal pairing; git's choice among optimal ones.

    Up to GIT_SOLVER_LIMIT rows git's solver decides alone when its own potentials prove its
    pairing optimal (its cost equals their dual bound), which is the usual case; importing
    SciPy would cost more than the whole range-diff of a 100-patch series. Otherwise (ties
    that leave git's result incomplete, or past the limit) SciPy's solver gives the optimum,
    and git's pairing is still taken when it costs that optimum.
    """
    if len(matrix) <= GIT_SOLVER_LIMIT:
        potentials: list[int] = []
        pairs = _git_pairs(matrix, na, nb, potentials)
        if pairs is not None and _total(matrix, pairs, na, nb) == _lower_bound(matrix, potentials):
            return pairs
    # Only here: NumPy and SciPy take about half a second to import.
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(np.array(matrix, dtype=np.int64))
    best = int(sum(matrix[r][c] for r, c in zip(rows, cols, strict=True)))
    scipy_pairs = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if c < na and r < nb}
    pairs = _git_pairs(matrix, na, nb)
    if pairs is not None and _total(matrix, pairs, na, nb) == best:
        return pairs
    return scipy_pairs
