"""diff layer: the one diff reader (a typed patch model), areas, pre/post images of functions.

Whole files before and after each patch, from a private temporary index, are in `diff.tree`
(imported on first use: it needs a git binary, the rest of the layer does not).
"""

from __future__ import annotations

import importlib

from reviewtool.diff.areas import area_of, area_sort_key
from reviewtool.diff.model import DiffLine, FileDiff, Hunk, PatchDiff, parse_patch_diff

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

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


def __getattr__(name: str) -> Any:
    if name in _IMAGES_NAMES:
        return getattr(importlib.import_module("reviewtool.diff.images"), name)
    if name in _TREE_NAMES:
        return getattr(importlib.import_module("reviewtool.diff.tree"), name)
    raise AttributeError(f"module 'reviewtool.diff' has no attribute {name!r}")


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
