"""Patches split or squashed between versions, and patches that moved."""

from __future__ import annotations

from collections import Counter

from reviewtool.analyses.rangediff.model import Regrouping

# Split/squash: a piece counts when this share of its changed lines came from the whole...
REGROUP_PIECE_SHARE = 0.5

# ...and the pieces together cover this share of the whole...
REGROUP_COVER_SHARE = 0.6

# ...and each piece brings at least this many changed lines.
REGROUP_MIN_LINES = 1

# Lines of a changed line that carry nothing to review: blank lines and lone braces (only
# whitespace and these characters).
_TRIVIAL_CHARS = " {}();"


def _moved(pairs: list[tuple[int, int]]) -> set[int]:
    """New positions of pairs outside a longest increasing run: the patches that moved."""
    ordered = sorted(pairs)
    tails: list[int] = []
    tails_at: list[int] = []
    parent = [-1] * len(ordered)
    for k, (_, j) in enumerate(ordered):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] < j:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(tails):
            tails.append(j)
            tails_at.append(k)
        else:
            tails[lo] = j
            tails_at[lo] = k
        parent[k] = tails_at[lo - 1] if lo else -1
    keep = set()
    k = tails_at[-1] if tails_at else -1
    while k >= 0:
        keep.add(ordered[k][1])
        k = parent[k]
    return {j for _, j in ordered if j not in keep}


def _change_bag(lines: list[str]) -> Counter[str]:
    """The code lines a patch adds or removes, whitespace-insensitive, trivial ones left out."""
    bag: Counter[str] = Counter()
    for line in lines:
        if line[:1] in "-+":
            squeezed = " ".join(line[1:].split())
            # _TRIVIAL_RE on the squeezed line: split() drops exactly the \s characters.
            if squeezed.strip(_TRIVIAL_CHARS):
                bag[line[0] + squeezed] += 1
    return bag


def _joins(whole: Counter[str], piece: Counter[str]) -> bool:
    """A piece counts toward a whole: enough of its changed lines came from the whole."""
    if whole.keys().isdisjoint(piece.keys()):
        return False  # nothing in common (the cheap test that settles most pieces)
    size = sum(piece.values())
    common = sum((whole & piece).values())
    return bool(size) and common >= REGROUP_MIN_LINES and common / size >= REGROUP_PIECE_SHARE


def _regroupings(
    pairs: list[tuple[int, int]],
    dropped: list[int],
    added: list[int],
    old_bags: list[Counter[str]],
    new_bags: list[Counter[str]],
    old_index: list[int],
    new_index: list[int],
) -> tuple[list[Regrouping], list[Regrouping]]:
    """Splits (one old patch's changes spread over new patches) and squashes (the reverse).

    A split shows as one old patch paired with one new patch plus a new patch that is
    "added" but whose lines came from the old one; so only unpaired patches may join.
    """
    partner_new = dict(pairs)
    partner_old = {j: i for i, j in pairs}

    def find(wholes, pieces, whole_bags, piece_bags, partner, loose):
        found = []
        for w in wholes:
            whole = whole_bags[w]
            total = sum(whole.values())
            if total == 0:
                continue
            # Only the whole's partner and the unpaired pieces may join, and a regrouping
            # needs an unpaired one: look at those first, and at the partner only then.
            members = [p for p in sorted(loose) if p in pieces and _joins(whole, piece_bags[p])]
            if not members:
                continue
            mate = partner.get(w)
            if mate is not None and mate not in loose and mate in pieces:
                if _joins(whole, piece_bags[mate]):
                    members = sorted([*members, mate])
            if len(members) < 2:
                continue
            covered = whole & sum((piece_bags[p] for p in members), Counter())
            coverage = sum(covered.values()) / total
            if coverage >= REGROUP_COVER_SHARE:
                found.append((w, sorted(members), coverage))
        return found

    n_old, n_new = len(old_bags), len(new_bags)
    splits = [
        Regrouping("split", [old_index[w]], [new_index[p] for p in members], cov)
        for w, members, cov in find(
            range(n_old), range(n_new), old_bags, new_bags, partner_new, set(added)
        )
    ]
    squashes = [
        Regrouping("squash", [old_index[p] for p in members], [new_index[w]], cov)
        for w, members, cov in find(
            range(n_new), range(n_old), new_bags, old_bags, partner_old, set(dropped)
        )
    ]
    return splits, squashes
