"""What one hunk shows of the functions it touches, read the way a reviewer reads a patch.

The hunk is cut into functions (`functions_shown`); each line keeps its side and number. Kernel
indentation tells which visible `if`/`else`/loop a line runs under (`enclosing`), and whether
the walk up reached the function body, so nothing above it is hidden. Only lines are read
here; what they mean for references is `hunk_facts`' job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reviewtool.analyses.findings import HunkEvidence
from reviewtool.analyses.spec.condition import Cond, conjoin, negate, parse_condition
from reviewtool.analyses.spec.model import call_arguments
from reviewtool.diff.model import Hunk

if TYPE_CHECKING:
    from reviewtool.diff.images import FunctionImage

_TAB = 8
_IF_RE = re.compile(r"^\s*(?:\}\s*)?(else\s+)?if\s*\(")
_ELSE_RE = re.compile(r"^\s*(?:\}\s*)?else\b(?!\s+if)")
_RETURN_RE = re.compile(r"^\s*return\b")


def _indent(text: str) -> int:
    width = 0
    for char in text:
        if char == "\t":
            width += _TAB - width % _TAB
        elif char == " ":
            width += 1
        else:
            break
    return width


def code_of(text: str) -> str:
    """The line without its comment (a cheap cut: enough to read flags and calls)."""
    return re.sub(r"/\*.*?\*/", " ", text.split("//")[0])


def _is_code(text: str) -> bool:
    stripped = code_of(text).strip()
    return bool(stripped) and not stripped.startswith(("*", "/*", "#"))


def call_args(text: str, name: str) -> list[list[str]]:
    """The argument texts of every call of `name` that closes on this line (a call that goes
    on past it does not show all its arguments)."""
    return [
        [a for a in args if a] if any(args) else []
        for args, closed in call_arguments(text, name)
        if closed
    ]


def lvalue_key(expr: str) -> str:
    """An lvalue as a key: no spaces, no `&`, no outer parentheses."""
    expr = "".join(expr.split()).lstrip("&")
    while expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
    return expr


@dataclass
class ShownLine:
    """A line of one function as a patch's hunk shows it."""

    kind: str  # " ", "-" or "+"
    text: str
    number: int  # new line number (old number for a removed line)


@dataclass
class ShownFunction:
    """One function as one hunk shows it: its lines and the hunk they come from."""

    path: str
    function: str
    lines: list[ShownLine]
    evidence: HunkEvidence

    def new_side(self) -> list[ShownLine]:
        """The lines as the patch leaves them (context and added)."""
        return [line for line in self.lines if line.kind != "-"]


def functions_shown(
    path: str, hunk: Hunk, index: int, images: list[FunctionImage]
) -> list[ShownFunction]:
    """The hunk cut into the functions it touches (kernel style tells where one ends)."""
    evidence = HunkEvidence(
        None,
        path,
        hunk.header or f"@@ -{hunk.old_start} +{hunk.new_start} @@",
        "\n".join(line.kind + line.text for line in hunk.lines),
    )
    out = []
    for image in images:
        if image.hunk_index != index or not image.function:
            continue
        old_end = image.old_start + max(0, image.old_text.count("\n") - 1)
        new_end = image.new_start + max(0, image.new_text.count("\n") - 1)
        lines: list[ShownLine] = []
        for line in hunk.lines:
            if line.kind == "-":
                if image.old_text and image.old_start <= (line.old_line or 0) <= old_end:
                    lines.append(ShownLine("-", line.text, line.old_line or 0))
            elif image.new_text and image.new_start <= (line.new_line or 0) <= new_end:
                lines.append(ShownLine(line.kind, line.text, line.new_line or 0))
        if lines:
            out.append(ShownFunction(path, image.function, lines, evidence))
    return out


def _statement_head(lines: list[ShownLine], at: int) -> tuple[str, int]:
    """The text of the statement head starting at `lines[at]`, joined until its parentheses
    close (a condition may run over several lines), and the index after it."""
    text, depth, j = "", 0, at
    while j < len(lines):
        part = code_of(lines[j].text)
        text += " " + part.strip()
        depth += part.count("(") - part.count(")")
        j += 1
        if depth <= 0:
            break
    return text.strip(), j


def _if_condition(head: str) -> str | None:
    """`if (a || b) {` -> `a || b`."""
    match = _IF_RE.match(head)
    if not match:
        return None
    start = match.end()
    depth = 1
    for j in range(start, len(head)):
        depth += {"(": 1, ")": -1}.get(head[j], 0)
        if depth == 0:
            return head[start:j]
    return None


def enclosing(lines: list[ShownLine], at: int) -> tuple[Cond, bool]:
    """The condition under which `lines[at]` runs, read from the visible lines above it by
    kernel indentation; and whether the walk reached the function body (nothing hidden)."""
    conds: list[Cond] = []
    level = _indent(lines[at].text)
    j = at - 1
    # Kernel style: a function's body is indented one tab; a statement there runs unguarded.
    while j >= 0 and level > _TAB:
        text = lines[j].text
        if not _is_code(text) or _indent(text) >= level:
            j -= 1
            continue
        head_at = j
        # A head over several lines starts where its indentation does.
        while (
            head_at > 0
            and _is_code(lines[head_at].text)
            and not re.match(
                r"^\s*(?:\}\s*)?(?:else\b|if\b|for\b|while\b|switch\b|do\b|[\w\s*]+\(|\.|struct\b)",
                lines[head_at].text,
            )
        ):
            head_at -= 1
        head, _ = _statement_head(lines, head_at)
        level = _indent(lines[head_at].text)
        if _ELSE_RE.match(head):
            # `} else {`: the negation of the `if` at the same level above it.
            k = head_at - 1
            while k >= 0 and not (_indent(lines[k].text) == level and _IF_RE.match(lines[k].text)):
                k -= 1
            if k < 0:
                return conjoin([*conds, Cond("atom", "?")]), False
            cond = _if_condition(_statement_head(lines, k)[0])
            conds.append(negate(parse_condition(cond)) if cond else Cond("atom", "?"))
            j = k - 1
            continue
        cond = _if_condition(head)
        if cond is not None:
            conds.append(parse_condition(cond))
        elif re.match(r"^\s*(for|while|switch|do)\b", head):
            conds.append(Cond("atom", head.strip().rstrip("{").strip()))
        j = head_at - 1
    return conjoin(conds), level <= _TAB


def statement_text(code: str) -> str:
    """A line of code as a trace shows it: spaces collapsed, no trailing `;` or `,`."""
    return " ".join(code.split()).rstrip(";,").rstrip()


def exit_after(shown: ShownFunction, removed: ShownLine) -> int:
    """The line of the first `return` after a removed line, in the new text; else where the
    removed line was."""
    position = shown.lines.index(removed)
    for line in shown.lines[position + 1 :]:
        if line.kind != "-" and _RETURN_RE.match(line.text):
            return line.number
    following = [line.number for line in shown.lines[position + 1 :] if line.kind != "-"]
    return following[0] if following else removed.number
