"""diff layer: the one diff reader (a typed patch model), areas, pre/post images of functions.

Whole files before and after each patch, from a private temporary index, are in `diff.tree`
(imported on first use: it needs a git binary, the rest of the layer does not).
"""

from __future__ import annotations

from reviewtool.diff.areas import area_of, area_sort_key
from reviewtool.diff.model import DiffLine, FileDiff, Hunk, PatchDiff, parse_patch_diff
from reviewtool.lazy import lazy_exports

# Imported on first use too: the range-diff reads diffs but never function images, and a
# command pays for every module it imports (`reviewtool diff` is measured against git).
_IMAGES_NAMES = (
    "FunctionImage",
    "close_comments",
    "diff_problems",
    "function_images",
    "function_name_from_header",
)
_TREE_NAMES = (
    "AppliedPatch",
    "BaseNotFoundError",
    "FileState",
    "PatchApplyError",
    "Worktree",
    "apply_series",
    "resolve_base",
)


_HOMES = {
    **dict.fromkeys(_IMAGES_NAMES, "reviewtool.diff.images"),
    **dict.fromkeys(_TREE_NAMES, "reviewtool.diff.tree"),
}
__getattr__ = lazy_exports(__name__, _HOMES, globals())


__all__ = [
    "DiffLine",
    "FileDiff",
    "Hunk",
    "PatchDiff",
    "area_of",
    "area_sort_key",
    "parse_patch_diff",
    *_IMAGES_NAMES,
    *_TREE_NAMES,
]
