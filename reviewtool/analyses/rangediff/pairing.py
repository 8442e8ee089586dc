"""Pairing two revisions' patches as git range-diff does: exact matches, then costs, then
the assignment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from reviewtool.analyses.rangediff.model import DEFAULT_CREATION_FACTOR
from reviewtool.analyses.rangediff.normalise import diff_size, normalise_diff
from reviewtool.analyses.rangediff.solver import GIT_COST_MAX, _solve
from reviewtool.analyses.rangediff.xdiff import Flags, changed_lines, flags_cost
from reviewtool.errors import AnalysisError
from reviewtool.series.model import Patch, Revision

# Price every pair exactly (as git does) up to this many; past it, pairs a cheap bound proves
# hopeless keep the bound, which changes no optimum and saves most of the time.
EXACT_PAIR_LIMIT = 2500


@dataclass
class _Side:
    """One revision's patches prepared for pairing."""

    patches: list[Patch]
    lines: list[list[str]]
    ids: list[list[int]]
    sizes: list[int]
    keys: list[str]


def _prepare(revision: Revision, intern: dict[str, int]) -> _Side:
    patches = sorted(revision.patches, key=lambda p: p.index)
    lines = [normalise_diff(p.diff) for p in patches]
    ids = [[intern.setdefault(line, len(intern)) for line in patch] for patch in lines]
    return _Side(
        patches=patches,
        lines=lines,
        ids=ids,
        sizes=[diff_size(patch) for patch in lines],
        keys=["\n".join(patch) for patch in lines],
    )


def _exact_matches(old: _Side, new: _Side) -> dict[int, int]:
    """Old position -> new position for identical diffs.

    git keeps the old patches in a hash map that returns the latest added of equal entries,
    so among duplicates the last old patch is taken first; do the same.
    """
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(old.keys):
        by_key.setdefault(key, []).append(i)
    out: dict[int, int] = {}
    for j, key in enumerate(new.keys):
        candidates = by_key.get(key)
        if candidates:
            out[candidates.pop()] = j
    return out


# Column space for (line, k-th occurrence); later occurrences are left out, which only
# weakens (never breaks) the lower bound.
_MAX_OCCURRENCE = 64


def _intersections(old_ids: list[list[int]], new_ids: list[list[int]]) -> list[list[int]]:
    """[r][c]: the size of the multiset intersection of old patch r's and new patch c's lines
    (a line counted at most _MAX_OCCURRENCE times), through an index of lines, so that only
    patches sharing a line meet."""
    index: dict[int, list[tuple[int, int]]] = {}
    for r, patch in enumerate(old_ids):
        for line, count in Counter(patch).items():
            index.setdefault(line, []).append((r, min(count, _MAX_OCCURRENCE)))
    out = [[0] * len(new_ids) for _ in old_ids]
    for c, patch in enumerate(new_ids):
        for line, count in Counter(patch).items():
            mine = min(count, _MAX_OCCURRENCE)
            for r, theirs in index.get(line, ()):
                out[r][c] += theirs if theirs < mine else mine
    return out


def _git_cost_matrix(
    old: _Side, new: _Side, matched: dict[int, int], factor: int, exact_limit: int
) -> tuple[list[list[int]], dict[tuple[int, int], int], dict[tuple[int, int], Flags]]:
    """git's square cost matrix, indexed [new or dummy][old or dummy] like git's COST(col, row).

    Exactly matched patches cost 0 with each other and GIT_COST_MAX with everything else;
    leaving a patch unpaired costs its size times the factor; dummy meets dummy at 0.
    Pair costs are exact, except that when there are more than exact_limit pairs to price,
    a pair that a lower bound proves hopeless (dearer than leaving both unpaired, so never
    chosen) keeps that bound instead of its exact size. Also the changed-line flags of each
    pair priced exactly, which the interdiff of a chosen pair reuses.
    """
    na, nb = len(old.ids), len(new.ids)
    n = na + nb
    rows = [i for i in range(na) if i not in matched]
    taken = set(matched.values())
    cols = [j for j in range(nb) if j not in taken]
    create_old = [old.sizes[i] * factor // 100 for i in range(na)]
    create_new = [new.sizes[j] * factor // 100 for j in range(nb)]
    dummy_row = [GIT_COST_MAX if i in matched else create_old[i] for i in range(na)] + [0] * nb
    matrix = [[GIT_COST_MAX] * na + [0] * nb for _ in range(nb)] + [
        list(dummy_row) for _ in range(na)
    ]
    for j in range(nb):
        matrix[j][na:] = [GIT_COST_MAX if j in taken else create_new[j]] * nb
    for i, j in matched.items():
        matrix[j][i] = 0
    costs: dict[tuple[int, int], int] = {}
    changes: dict[tuple[int, int], Flags] = {}
    if rows and cols:
        if len(rows) * len(cols) > exact_limit:
            bounds = _intersections([old.ids[i] for i in rows], [new.ids[j] for j in cols])
        else:
            bounds = None
        for r, i in enumerate(rows):
            old_ids, old_length, old_create = old.ids[i], len(old.ids[i]), create_old[i]
            for c, j in enumerate(cols):
                if bounds is not None:
                    # What a diff of the two cannot go below: every line not in both.
                    bound = old_length + len(new.ids[j]) - 2 * bounds[r][c]
                    if bound > old_create + create_new[j]:
                        matrix[j][i] = bound
                        continue
                changes[(i, j)] = flags = changed_lines(old_ids, new.ids[j])
                costs[(i, j)] = matrix[j][i] = flags_cost(flags)
    assert len(matrix) == n
    return matrix, costs, changes


def pair_patches(
    old: Revision, new: Revision, creation_factor: float = DEFAULT_CREATION_FACTOR
) -> list[tuple[int | None, int | None]]:
    """(old index, new index) of every patch, None on the side it is missing, as git pairs them."""
    return [
        (
            old_side.patches[i].index if i is not None else None,
            new_side.patches[j].index if j is not None else None,
        )
        for i, j, old_side, new_side in _assign(old, new, creation_factor)[0]
    ]


def _assign(old: Revision, new: Revision, creation_factor: float):
    """Positions paired by exact match then optimal assignment; also the prepared sides, the
    pairs' costs and the changed-line flags of the pairs priced exactly."""
    if creation_factor < 0:
        raise AnalysisError(f"creation factor must not be negative (got {creation_factor})")
    factor = int(round(creation_factor * 100))
    intern: dict[str, int] = {}
    old_side, new_side = _prepare(old, intern), _prepare(new, intern)
    matched = _exact_matches(old_side, new_side)
    na, nb = len(old_side.ids), len(new_side.ids)
    pairing: dict[int, int] = {}
    costs: dict[tuple[int, int], int] = {}
    changes: dict[tuple[int, int], Flags] = {}
    if na + nb > 1:
        matrix, costs, changes = _git_cost_matrix(
            old_side, new_side, matched, factor, EXACT_PAIR_LIMIT
        )
        pairing = _solve(matrix, na, nb)
    for i, j in matched.items():
        costs[(i, j)] = 0
    out: list = []
    paired_new = set(pairing.values())
    for i in range(na):
        out.append((i, pairing.get(i), old_side, new_side))
    for j in range(nb):
        if j not in paired_new:
            out.append((None, j, old_side, new_side))
    return out, old_side, new_side, costs, changes
