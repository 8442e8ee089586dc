"""Preprocessor lines and `#if` groups tree-sitter cannot keep as they are.

tree-sitter-c accepts a conditional whose every branch is a run of whole statements or
declarations. The kernel also writes conditionals that cut through a statement (`} else` /
`#endif`, `if (x)` / `#ifdef`, an operand of `|=`), through an argument list or an initializer
list, and directives inside an initializer. Those groups lose their directive lines and keep
their first branch; any other branch is hidden and reported as a masked region, never dropped
silently. A group with a single branch hides nothing: it reads as if its condition held.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_DIRECTIVE_RE = re.compile(r"^[ \t]*#[ \t]*(\w*)", re.M)
_CONDITIONAL_OPENERS = ("if", "ifdef", "ifndef")
_CONDITIONAL_MIDDLES = ("elif", "else", "elifdef", "elifndef")
# What the code before a conditional may end with for the group to start a new statement.
_STATEMENT_BOUNDARY = ";{}"
# What a branch may end with to be a run of whole statements or declarations.
_WHOLE_ENDINGS = ";}"
_LEADING_ELSE_RE = re.compile(r"\s*else\b")
_CASE_LABEL_RE = re.compile(r"\s*(?:case\b|default\s*:)")


@dataclass(frozen=True)
class MaskedRegion:
    """Lines the sanitiser hid from the parser, and why (an `#else` branch it could not keep)."""

    start_line: int
    end_line: int
    reason: str


@dataclass(frozen=True)
class Directive:
    """One preprocessor line: its first line index, its name, its last (continued) line index."""

    line: int
    name: str
    last: int


def line_starts(text: str) -> list[int]:
    """Offset of the first character of each line."""
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def has_directives(code: str) -> bool:
    """True when the code holds at least one preprocessor line."""
    return _DIRECTIVE_RE.search(code) is not None


def directive_lines(code: str, code_lines: list[str], starts: list[int]) -> list[Directive]:
    """Every preprocessor line of the code, continuations joined."""
    out: list[Directive] = []
    after = -1
    for match in _DIRECTIVE_RE.finditer(code):
        index = bisect.bisect_right(starts, match.start()) - 1
        if index <= after:
            continue  # inside the continuation of the previous directive
        last = index
        while code_lines[last].rstrip().endswith("\\") and last + 1 < len(code_lines):
            last += 1
        out.append(Directive(index, match.group(1), last))
        after = last
    return out


class ConditionalResolver:
    """Finds the `#if` groups and stray directives to rewrite; the editor does the blanking.

    `blank(start, end)` is called with character offsets of the real text; `code_lines` (the
    analysis copy, comments and literals blanked) is updated so that enclosing groups see the
    resolved lines as blank.
    """

    def __init__(self, code_lines: list[str], starts: list[int], directives: list[Directive]):
        self.code_lines = code_lines
        self.starts = starts
        self.directives = directives
        self.directive_at = {d.line: d for d in directives}
        self.skip = {n for d in directives for n in range(d.line, d.last + 1)}
        self.masked: list[MaskedRegion] = []
        lines = sorted(self.directive_at)
        flat = self._without_directives("\n".join(code_lines))
        self._paren_depth = self._depths_at(flat, lines)
        self._brace_openers = self._initializer_lines(flat, lines)
        # Each conditional's first line, kept for messages before the rewrite blanks it.
        self._opening_text = {
            d.line: " ".join(code_lines[d.line].split())
            for d in directives
            if d.name in _CONDITIONAL_OPENERS
        }

    # -- structure of the code around a directive ----------------------------------------------
    # Only the lines of directives are asked about; each pass below is linear in the text and
    # works at C speed (str.count, re.finditer), since padded images hold thousands of lines.

    def _without_directives(self, code: str) -> str:
        """The code with every directive line blanked (same offsets)."""
        parts = []
        position = 0
        for directive in self.directives:
            start = self.starts[directive.line]
            end = self.starts[directive.last] + len(self.code_lines[directive.last])
            parts.append(code[position:start])
            parts.append(re.sub(r"[^\n]", " ", code[start:end]))
            position = end
        parts.append(code[position:])
        return "".join(parts)

    def _depths_at(self, flat: str, lines: list[int]) -> dict[int, int]:
        """Parenthesis depth at the start of each given line (sorted), directives ignored."""
        out: dict[int, int] = {}
        depth = position = 0
        for line in lines:
            end = self.starts[line]
            depth += flat.count("(", position, end) - flat.count(")", position, end)
            position = end
            out[line] = depth
        return out

    def _initializer_lines(self, flat: str, lines: list[int]) -> dict[int, bool]:
        """For each given line (sorted): does it start directly inside `= { ... }`?"""
        out: dict[int, bool] = {}
        stack: list[bool] = []
        pending = iter(lines)
        line = next(pending, None)
        for match in re.finditer(r"[{}]", flat):
            while line is not None and self.starts[line] <= match.start():
                out[line] = bool(stack) and stack[-1]
                line = next(pending, None)
            if match.group(0) == "{":
                before = match.start() - 1
                while before >= 0 and flat[before].isspace():
                    before -= 1
                stack.append(before >= 0 and flat[before] in "=,")
            elif stack:
                stack.pop()
        while line is not None:
            out[line] = bool(stack) and stack[-1]
            line = next(pending, None)
        return out

    def _starts_statement(self, line: int) -> bool:
        """True when the code before a line ends a statement, opens a block or is a case label.

        A goto label does not count: tree-sitter wants a statement right after it.
        """
        for number in range(line - 1, -1, -1):
            if number in self.skip:
                continue
            stripped = self.code_lines[number].rstrip()
            if not stripped:
                continue
            if stripped[-1] in _STATEMENT_BOUNDARY:
                return True
            return stripped[-1] == ":" and bool(_CASE_LABEL_RE.match(stripped))
        return True

    def _branch_is_whole(self, first: int, last: int) -> bool:
        """True when lines first..last-1 are whole statements: balanced, closed, not an `else`."""
        braces = parens = 0
        text_parts = []
        for number in range(first, last):
            if number in self.skip:
                continue
            line = self.code_lines[number]
            for char in line:
                if char == "{":
                    braces += 1
                elif char == "}":
                    braces -= 1
                    if braces < 0:
                        return False
                elif char == "(":
                    parens += 1
                elif char == ")":
                    parens -= 1
                    if parens < 0:
                        return False
            text_parts.append(line)
        if braces or parens:
            return False
        body = "\n".join(text_parts).strip()
        if not body:
            return True
        return body[-1] in _WHOLE_ENDINGS and not _LEADING_ELSE_RE.match(body)

    # -- rewriting ---------------------------------------------------------------------------

    def resolve(self, blank) -> list[MaskedRegion]:
        """Rewrite every group and stray directive tree-sitter cannot keep; return the masks."""
        stack: list[list[int]] = []
        for directive in self.directives:
            name = directive.name
            if name in _CONDITIONAL_OPENERS:
                stack.append([directive.line])
            elif name in _CONDITIONAL_MIDDLES and stack:
                stack[-1].append(directive.line)
            elif name == "endif" and stack:
                self._resolve_group(stack.pop() + [directive.line], blank)
            elif self._brace_openers.get(directive.line):
                # `#define` / `#include` inside an initializer list: no grammar rule holds it.
                self._blank_directive(directive, blank)
        return self.masked

    def _needs_rewrite(self, group: list[int]) -> bool:
        if any(self._paren_depth.get(line, 0) > 0 for line in group):
            return True
        if self._brace_openers.get(group[0]):
            return True
        if not self._starts_statement(group[0]):
            return True
        branches = [(group[i] + 1, group[i + 1]) for i in range(len(group) - 1)]
        return not all(self._branch_is_whole(first, last) for first, last in branches)

    def _blank_directive(self, directive: Directive, blank) -> None:
        start = self.starts[directive.line]
        end = self.starts[directive.last] + len(self.code_lines[directive.last])
        blank(start, end)
        for number in range(directive.line, directive.last + 1):
            self.code_lines[number] = " " * len(self.code_lines[number])

    def _resolve_group(self, group: list[int], blank) -> None:
        if not self._needs_rewrite(group):
            return
        for line in group:
            self._blank_directive(self.directive_at[line], blank)
        if len(group) <= 2:
            return
        first_hidden, end = group[1], group[-1]
        for number in range(first_hidden + 1, end):
            if number not in self.skip and self.code_lines[number].strip():
                blank(self.starts[number], self.starts[number] + len(self.code_lines[number]))
            self.code_lines[number] = " " * len(self.code_lines[number])
        condition = self._opening_text[group[0]]
        self.masked.append(
            MaskedRegion(
                first_hidden + 1,
                end + 1,
                f"alternative branches of `{condition}` hidden: "
                "they cut through a statement, an argument list or an initializer",
            )
        )
