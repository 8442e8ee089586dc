"""Range-diff of two revisions from mail alone: pairing, interdiff, rebase noise, splits.

Pairing follows `git range-diff` (range-diff.c) step by step so that both tools agree:
each patch's diff is normalised the way git normalises `git log -p` output (index lines,
line numbers and a/ b/ prefixes dropped, `## file ##` headers), identical diffs pair first,
the cost of pairing two patches is the size of the unified diff (3 lines of context) between
their normalised diffs, leaving a patch unpaired costs its size times the creation factor,
and the assignment is solved optimally. The diff of diffs is computed by a port of the
parts of git's xdiff that decide its size (Myers' middle snake, record cleanup, group
compaction), because a different minimal diff has a different amount of context and could
tip a close pairing the other way.

Modules, one job each: `normalise` (mail diff -> range-diff lines), `xdiff` (the diff
engine), `pairing` (costs), `solver` (the assignment), `interdiff`, `regroup` (splits,
squashes, moves), `model` (the result), `compare` (all of it for two revisions).
"""

from reviewtool.analyses.rangediff.compare import compare
from reviewtool.analyses.rangediff.interdiff import content_hunks, interdiff
from reviewtool.analyses.rangediff.model import (
    DEFAULT_CREATION_FACTOR,
    PAIR_STATUSES,
    STATUS_CODE_CHANGED,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    Comparison,
    InterdiffHunk,
    PatchPair,
    Regrouping,
    UnpairedPatch,
)
from reviewtool.analyses.rangediff.normalise import diff_size, normalise_diff
from reviewtool.analyses.rangediff.pairing import EXACT_PAIR_LIMIT, pair_patches
from reviewtool.analyses.rangediff.solver import GIT_COST_MAX, GIT_SOLVER_LIMIT
from reviewtool.analyses.rangediff.xdiff import (
    CONTEXT_LINES,
    changed_lines,
    diff_cost,
    diff_ops,
)

__all__ = [
    "CONTEXT_LINES",
    "DEFAULT_CREATION_FACTOR",
    "EXACT_PAIR_LIMIT",
    "GIT_COST_MAX",
    "GIT_SOLVER_LIMIT",
    "PAIR_STATUSES",
    "STATUS_CODE_CHANGED",
    "STATUS_IDENTICAL",
    "STATUS_MESSAGE_ONLY",
    "Comparison",
    "InterdiffHunk",
    "PatchPair",
    "Regrouping",
    "UnpairedPatch",
    "changed_lines",
    "compare",
    "content_hunks",
    "diff_cost",
    "diff_ops",
    "diff_size",
    "interdiff",
    "normalise_diff",
    "pair_patches",
]
