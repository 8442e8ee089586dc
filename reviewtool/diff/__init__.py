"""diff layer: a unidiff model of one patch, area of a path, pre/post images of functions.

Whole files before and after each patch, from a temporary worktree, are in `diff.tree`.
"""

from reviewtool.diff.areas import area_of, area_sort_key
from reviewtool.diff.images import (
    FunctionImage,
    close_comments,
    function_images,
    function_name_from_header,
)
from reviewtool.diff.model import DiffLine, FileDiff, Hunk, PatchDiff, parse_patch_diff
from reviewtool.diff.tree import (
    AppliedPatch,
    BaseNotFoundError,
    FileState,
    PatchApplyError,
    Worktree,
    apply_series,
    resolve_base,
)

__all__ = [
    "AppliedPatch",
    "BaseNotFoundError",
    "FileState",
    "PatchApplyError",
    "Worktree",
    "apply_series",
    "close_comments",
    "resolve_base",
    "DiffLine",
    "FileDiff",
    "FunctionImage",
    "Hunk",
    "PatchDiff",
    "area_of",
    "area_sort_key",
    "function_images",
    "function_name_from_header",
    "parse_patch_diff",
]
