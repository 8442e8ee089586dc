"""A small typed model of one patch's diff, read with unidiff."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from reviewtool.diff.areas import area_of
from reviewtool.errors import InputError

# format-patch ends the mail with "-- " and the git version; it is not part of the diff.
_SIGNATURE_RE = re.compile(r"^-- ?\n(?:[^\n]*\n?){0,3}\Z", re.M)
DEV_NULL = "/dev/null"


@dataclass(frozen=True)
class DiffLine:
    """One line of a hunk: kind " ", "-" or "+", its old and new line numbers, its text."""

    kind: str
    old_line: int | None
    new_line: int | None
    text: str


@dataclass
class Hunk:
    """One `@@` block: where it sits in the old and new file and what it shows."""

    old_start: int
    old_length: int
    new_start: int
    new_length: int
    section: str
    lines: list[DiffLine]

    @property
    def removed(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "-"]

    @property
    def added(self) -> list[DiffLine]:
        return [line for line in self.lines if line.kind == "+"]


@dataclass
class FileDiff:
    """What a patch does to one file."""

    path: str  # the path after the patch (before it, for a deleted file)
    old_path: str | None  # None for a new file
    new_path: str | None  # None for a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def area(self) -> str:
        return area_of(self.path)

    @property
    def status(self) -> str:
        """added, deleted, renamed or modified."""
        if self.old_path is None:
            return "added"
        if self.new_path is None:
            return "deleted"
        if self.old_path != self.new_path:
            return "renamed"
        return "modified"

    @property
    def is_c(self) -> bool:
        """True for C sources and headers, whose hunks have functions."""
        return self.path.endswith((".c", ".h"))

    def removed_lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.removed]

    def added_lines(self) -> list[DiffLine]:
        return [line for hunk in self.hunks for line in hunk.added]


@dataclass
class PatchDiff:
    """Every file one patch touches, in diff order."""

    files: list[FileDiff]

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files]

    def file(self, path: str) -> FileDiff | None:
        for diff in self.files:
            if path in (diff.path, diff.old_path, diff.new_path):
                return diff
        return None


def _strip_prefix(name: str | None) -> str | None:
    if name is None or name == DEV_NULL:
        return None
    return name[2:] if name[:2] in ("a/", "b/") else name


def parse_patch_diff(diff: str) -> PatchDiff:
    """Read the diff part of one patch mail (or `git diff` output) into a PatchDiff."""
    text = _SIGNATURE_RE.sub("", diff)
    if text and not text.endswith("\n"):
        text += "\n"
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(f"cannot read diff: {exc}") from exc
    files = []
    for patched in patch_set:
        old_path = _strip_prefix(patched.source_file)
        new_path = _strip_prefix(patched.target_file)
        if patched.is_added_file:
            old_path = None
        if patched.is_removed_file:
            new_path = None
        path = new_path or old_path or patched.path
        hunks = [
            Hunk(
                old_start=hunk.source_start,
                old_length=hunk.source_length,
                new_start=hunk.target_start,
                new_length=hunk.target_length,
                section=hunk.section_header or "",
                lines=[
                    DiffLine(
                        line.line_type,
                        line.source_line_no,
                        line.target_line_no,
                        line.value.rstrip("\n"),
                    )
                    for line in hunk
                    if line.line_type in (" ", "-", "+")
                ],
            )
            for hunk in patched
        ]
        files.append(FileDiff(path, old_path, new_path, hunks, binary=patched.is_binary_file))
    return PatchDiff(files)
