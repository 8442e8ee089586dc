"""The diff between two versions of a patch, hunk by hunk, each flagged rebase noise or not."""

from __future__ import annotations

import re

from reviewtool.analyses.rangediff.model import InterdiffHunk
from reviewtool.analyses.rangediff.xdiff import Flags, diff_ops
from reviewtool.series.model import Patch

_HEADER_PREFIX = " ## "


def _context_of(lines: list[str], index: int) -> tuple[str, str]:
    """(file, function) in force at a line of a normalised diff."""
    function = ""
    for k in range(min(index, len(lines) - 1), -1, -1):
        line = lines[k]
        if line.startswith("@@") and not function:
            function = line.split(":", 1)[1].strip() if ":" in line else ""
        if line.startswith(_HEADER_PREFIX):
            title = line[len(_HEADER_PREFIX) : -3] if line.endswith(" ##") else line[4:]
            path = re.sub(r" \((new|deleted|mode change [^)]*)\)", "", title)
            return path.split(" => ")[-1], function
    return "", function


def _is_rebase_line(inner: str) -> bool:
    """A changed line of the interdiff that is only context or a hunk header of the patch."""
    if inner == "" or inner.startswith("@@"):
        return True
    return inner[:1] == " " and not inner.startswith(" ## ")


def _reordered(text: list[str]) -> bool:
    """True when a context line leaves and comes back in one hunk: it moved across the
    patch's own changes (an unlock now after the call it used to precede), which is a change
    of the patch, not of its surroundings."""
    gone = {line[2:].strip() for line in text if line[:2] == "- " and line[2:].strip()}
    came = {line[2:].strip() for line in text if line[:2] == "+ " and line[2:].strip()}
    return bool(gone & came)


def interdiff(
    old_lines: list[str], new_lines: list[str], changed: Flags | None = None
) -> list[InterdiffHunk]:
    """The diff of two normalised patch diffs, hunk by hunk, each flagged rebase or not
    (`changed`: the pairing's changed-line flags for the two, when it priced them)."""
    hunks = []
    for ops in diff_ops(old_lines, new_lines, changed):
        text = []
        first_change = None
        for tag, i, j in ops:
            inner = old_lines[i] if tag in " -" else new_lines[j]
            text.append(tag + inner)
            if first_change is None and tag != " ":
                first_change = (tag, i, j)
        assert first_change is not None
        tag, i, j = first_change
        where = _context_of(old_lines, i) if tag == "-" else _context_of(new_lines, j)
        changed = [line[1:] for line in text if line[0] != " "]
        hunks.append(
            InterdiffHunk(
                file=where[0],
                function=where[1],
                lines=text,
                rebase=all(_is_rebase_line(inner) for inner in changed) and not _reordered(text),
            )
        )
    return hunks


def content_hunks(lines: list[str], marker: str) -> list[InterdiffHunk]:
    """A whole patch as hunks (one per patch hunk), each line under one outer marker."""
    hunks: list[InterdiffHunk] = []
    current: InterdiffHunk | None = None
    for k, line in enumerate(lines):
        if line.startswith(_HEADER_PREFIX) or line.startswith("@@"):
            if line.startswith("@@") or current is None or current.lines:
                file, function = _context_of(lines, k)
                current = InterdiffHunk(file=file, function=function, lines=[])
                hunks.append(current)
            current.lines.append(marker + line)
        elif line and current is not None:
            current.lines.append(marker + line)
    return [hunk for hunk in hunks if any(line[1:2] in "-+" for line in hunk.lines)] or hunks


def _message_lines(patch: Patch) -> list[str]:
    return [line.rstrip() for line in patch.commit_message.strip("\n").split("\n")]
