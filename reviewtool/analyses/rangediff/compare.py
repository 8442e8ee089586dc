"""Range-diff of two revisions from mail alone: pairs, interdiffs, added, dropped, regroupings."""

from __future__ import annotations

from reviewtool.analyses.rangediff.interdiff import _message_lines, content_hunks, interdiff
from reviewtool.analyses.rangediff.model import (
    DEFAULT_CREATION_FACTOR,
    STATUS_CODE_CHANGED,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    Comparison,
    PatchPair,
    UnpairedPatch,
)
from reviewtool.analyses.rangediff.pairing import _assign, _Side
from reviewtool.analyses.rangediff.regroup import _change_bag, _moved, _regroupings
from reviewtool.analyses.rangediff.xdiff import Flags, diff_ops
from reviewtool.series.model import Revision


def compare(
    old: Revision, new: Revision, creation_factor: float = DEFAULT_CREATION_FACTOR
) -> Comparison:
    """Range-diff two revisions from their mail: pairs with interdiffs, added, dropped, regroupings.

    The changelog verdicts are the changelog check's (`analyses.changelog_check.compare`
    gives the comparison with them); the range-diff itself knows nothing of cover letters.
    """
    assignment, old_side, new_side, costs, changes = _assign(old, new, creation_factor)
    result = Comparison(
        from_label=old.label,
        to_label=new.label,
        creation_factor=creation_factor,
        from_base=old.base_commit,
        to_base=new.base_commit,
        old=old,
        new=new,
    )
    pair_positions = [(i, j) for i, j, _, _ in assignment if i is not None and j is not None]
    moved = _moved(pair_positions)
    for i, j, _, _ in assignment:
        if i is not None and j is not None:
            result.pairs.append(
                _make_pair(old_side, new_side, i, j, j in moved, costs, changes.get((i, j)))
            )
        elif i is not None:
            result.dropped.append(_unpaired(old_side, i, "-"))
        else:
            result.added.append(_unpaired(new_side, j, "+"))
    result.pairs.sort(key=lambda pair: pair.to_index)
    result.added.sort(key=lambda patch: patch.index)
    result.dropped.sort(key=lambda patch: patch.index)
    result.splits, result.squashes = _regroupings(
        pair_positions,
        [i for i, j, _, _ in assignment if j is None],
        [j for i, j, _, _ in assignment if i is None],
        [_change_bag(lines) for lines in old_side.lines],
        [_change_bag(lines) for lines in new_side.lines],
        [p.index for p in old_side.patches],
        [p.index for p in new_side.patches],
    )
    return result


def _make_pair(
    old_side: _Side,
    new_side: _Side,
    i: int,
    j: int,
    moved: bool,
    costs: dict,
    changed: Flags | None,
) -> PatchPair:
    old_patch, new_patch = old_side.patches[i], new_side.patches[j]
    same_code = old_side.keys[i] == new_side.keys[j]
    old_message, new_message = _message_lines(old_patch), _message_lines(new_patch)
    subject_changed = old_patch.title != new_patch.title
    hunks = [] if same_code else interdiff(old_side.lines[i], new_side.lines[j], changed)
    if not same_code:
        status = STATUS_CODE_CHANGED
    elif old_message != new_message or subject_changed:
        status = STATUS_MESSAGE_ONLY
    else:
        status = STATUS_IDENTICAL
    message_diff = []
    if old_message != new_message:
        for ops in diff_ops(old_message, new_message):
            message_diff.extend(
                tag + (old_message[a] if tag in " -" else new_message[b]) for tag, a, b in ops
            )
    return PatchPair(
        from_index=old_patch.index,
        to_index=new_patch.index,
        status=status,
        title_from=old_patch.title,
        title_to=new_patch.title,
        subject_changed=subject_changed,
        moved=moved,
        rebase_only=bool(hunks) and all(hunk.rebase for hunk in hunks),
        interdiff=hunks,
        message_diff=message_diff,
        cost=costs.get((i, j), 0),
        old_lines=old_side.lines[i],
        new_lines=new_side.lines[j],
    )


def _unpaired(side: _Side, k: int, marker: str) -> UnpairedPatch:
    patch = side.patches[k]
    return UnpairedPatch(
        index=patch.index,
        title=patch.title,
        content=content_hunks(side.lines[k], marker),
        size=side.sizes[k],
        author=patch.author,
    )
