"""What the hunks show about references: where the get flag is put into an acquisition's
flags and under which visible condition, where an acquire call's result is stored, and which
releases a patch removed. `HunkState` keeps them across the patches of one revision; API
names, flags and fields come from the spec rows, never from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.analyses.findings import Finding, HunkEvidence
from reviewtool.analyses.spec.condition import Cond
from reviewtool.analyses.spec.hunk_view import (
    ShownFunction,
    ShownLine,
    call_args,
    code_of,
    enclosing,
    lvalue_key,
    statement_text,
)
from reviewtool.analyses.spec.model import ApiRow


@dataclass
class GetFact:
    """The get flag put into an acquisition's flags, as the hunks show it."""

    path: str
    function: str
    line: int
    text: str
    cond: Cond
    seen_whole: bool  # the enclosing statements up to the function body are all visible
    evidence: HunkEvidence


@dataclass
class Acquisition:
    """An acquire call whose result the hunks show being stored."""

    path: str
    function: str
    line: int
    target: str
    row: ApiRow
    text: str
    evidence: HunkEvidence


@dataclass
class RemovedRelease:
    """A release a patch removed and did not put back in the same function."""

    path: str
    function: str
    line: int  # where the exit now is (a return after it), else where it was
    text: str
    target: str
    row: ApiRow
    patch_index: int
    evidence: HunkEvidence
    reported: Finding | None = None


@dataclass
class HunkState:
    """What the hunks of the revision have shown so far."""

    facts: dict[tuple[str, str], dict[str, GetFact]] = field(default_factory=dict)
    dropped: dict[tuple[str, str], list[GetFact]] = field(default_factory=dict)
    acquisitions: dict[str, Acquisition] = field(default_factory=dict)
    removed: list[RemovedRelease] = field(default_factory=list)
    required: dict[tuple[str, str], Finding] = field(default_factory=dict)


def _flag_re(row: ApiRow) -> re.Pattern[str] | None:
    if not row.flags_field:
        return None
    field_ = re.escape(row.flags_field)
    flag = re.escape(row.get_flag)
    # `.flags = FOLL_GET | ...` (an initializer or an assignment) or `foll.flags |= FOLL_GET`;
    # never `&= ~FOLL_GET`.
    return re.compile(rf"(?:^|[.>])\s*{field_}\s*\|?=\s*[^;~]*(?<![\w~]){flag}\b")


def get_facts_in(
    shown: ShownFunction, rows: list[ApiRow], lines: list[ShownLine]
) -> list[tuple[ShownLine, GetFact]]:
    """The get-flag statements among `lines` (one side of a function), with conditions."""
    out = []
    patterns = [p for p in (_flag_re(row) for row in rows) if p is not None]
    for at, line in enumerate(lines):
        code = code_of(line.text)
        if any(p.search(code) for p in patterns):
            cond, whole = enclosing(lines, at)
            fact = GetFact(
                shown.path,
                shown.function,
                line.number,
                statement_text(code),
                cond,
                whole,
                shown.evidence,
            )
            out.append((line, fact))
    return out


def fact_key(fact: GetFact) -> str:
    """Which flag statement a fact is, across versions of its text: the assignment's target
    and operator, and its condition (`.flags =` stays the same statement when other flags
    join it)."""
    target = fact.text.split("=", 1)[0].strip()
    return f"{target}= if {fact.cond}"


def holder(path: str, function: str, target: str) -> str:
    """Where a reference is held: a field (`fault->pfn`) is the same across the functions
    that pass the struct along; a plain variable belongs to its function."""
    if "->" in target or "." in target:
        return target
    return f"{path}:{function}:{target}"


def acquisitions_in(shown: ShownFunction, rows: list[ApiRow]) -> list[Acquisition]:
    """The acquire calls on the function's new side whose stored result the line shows."""
    out = []
    for line in shown.new_side():
        code = code_of(line.text)
        for row in rows:
            for args in call_args(code, row.name):
                if not row.matches_call(len(args)):
                    continue
                if row.result == "arg" and row.result_arg is not None:
                    if row.result_arg >= len(args):
                        continue
                    target = lvalue_key(args[row.result_arg])
                else:
                    match = re.match(rf"^\s*([^=;]+?)\s*=\s*{re.escape(row.name)}\s*\(", code)
                    if not match:
                        continue
                    target = lvalue_key(match.group(1).split()[-1])
                out.append(
                    Acquisition(
                        shown.path,
                        shown.function,
                        line.number,
                        target,
                        row,
                        statement_text(code),
                        shown.evidence,
                    )
                )
    return out


def releases_in(lines: list[ShownLine], rows: list[ApiRow]) -> list[tuple[ShownLine, ApiRow, str]]:
    """Each release call among `lines`, with its row and the released value as a key."""
    out = []
    for line in lines:
        code = code_of(line.text)
        for row in rows:
            for args in call_args(code, row.name):
                if row.matches_call(len(args)) and row.arg < len(args):
                    out.append((line, row, lvalue_key(args[row.arg])))
    return out
