"""Kernel-aware, length-preserving rewriting of C text before tree-sitter sees it.

Every edit replaces ASCII code characters by as many ASCII characters, never touching a
newline, so a line and column in the sanitised text are the same line and column in the real
file, and byte offsets match too. Comments and string literals are never edited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.cparse.kernel import (
    ATTRIBUTE_CALLS,
    ATTRIBUTE_WORDS,
    ITERATOR_RE,
    NAME_MACRO_RE,
    TYPE_ARGUMENT_RE,
)

# Comments, string and character literals: blanked in the analysis copy so that braces and
# words inside them count for nothing.
_OPAQUE_RE = re.compile(
    r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?", re.S
)
_DIRECTIVE_RE = re.compile(r"^[ \t]*#[ \t]*(\w*)")
_ATTR_WORD_RE = re.compile(
    r"\b(?:" + "|".join(sorted(ATTRIBUTE_WORDS, key=len, reverse=True)) + r")\b"
)
_ATTR_CALL_RE = re.compile(
    r"\b(?:" + "|".join(sorted(ATTRIBUTE_CALLS, key=len, reverse=True)) + r")\s*\("
)
_ITERATOR_LINE_RE = re.compile(r"^([ \t]+)(" + ITERATOR_RE.pattern + r")([ \t]*)\(", re.M)
_LOOP_KEYWORD = "while"


@dataclass(frozen=True)
class MaskedRegion:
    """Lines the sanitiser hid from the parser, and why (an `#else` branch it could not keep)."""

    start_line: int
    end_line: int
    reason: str


@dataclass
class Sanitized:
    """The rewritten text and what was hidden to get there."""

    text: str
    masked: list[MaskedRegion] = field(default_factory=list)
    edits: int = 0


def _blank(segment: str) -> str:
    """Spaces for every character but newlines, which line numbers depend on."""
    return re.sub(r"[^\n]", " ", segment)


def _analysis_copy(text: str) -> str:
    """The text with comments and literals blanked; same length, same newlines."""
    return _OPAQUE_RE.sub(lambda m: _blank(m.group(0)), text)


def _matching_paren(code: str, open_at: int) -> int:
    """Index of the `)` that closes the `(` at open_at, or -1."""
    depth = 0
    for index in range(open_at, len(code)):
        char = code[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


class _Editor:
    """Collects same-length replacements; the first claim on a span wins."""

    def __init__(self, text: str) -> None:
        self.chars = list(text)
        self.claimed = bytearray(len(text))
        self.count = 0

    def replace(self, start: int, replacement: str) -> None:
        end = start + len(replacement)
        if any(self.claimed[start:end]):
            return
        for offset, char in enumerate(replacement):
            if self.chars[start + offset] != "\n":
                self.chars[start + offset] = char
        self.claimed[start:end] = b"\x01" * (end - start)
        self.count += 1

    def blank(self, start: int, end: int) -> None:
        self.replace(start, _blank("".join(self.chars[start:end])))

    def result(self) -> str:
        return "".join(self.chars)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def _directive_lines(code_lines: list[str]) -> list[tuple[int, str, int]]:
    """(line index, directive, last line index) for each preprocessor line, continuations joined."""
    out = []
    index = 0
    while index < len(code_lines):
        match = _DIRECTIVE_RE.match(code_lines[index])
        if match:
            last = index
            while code_lines[last].rstrip().endswith("\\") and last + 1 < len(code_lines):
                last += 1
            out.append((index, match.group(1), last))
            index = last + 1
        else:
            index += 1
    return out


def _conditionals(
    code_lines: list[str], editor: _Editor, starts: list[int], masked: list[MaskedRegion]
) -> None:
    """Resolve `#if` groups whose branches split braces or parentheses: keep the first branch.

    tree-sitter copes with a conditional whose every branch is a whole statement. When an
    `#ifdef` opens a brace in each branch (`if (a) {` / `#else` / `if (b) {`) or sits inside
    an argument list, it cannot, so the directives go and only the first branch stays. The
    hidden branches are reported as masked regions, never dropped silently.
    """
    directives = _directive_lines(code_lines)
    directive_at = {line: (name, last) for line, name, last in directives}
    skip = {n for line, _name, last in directives for n in range(line, last + 1)}
    # Parenthesis depth at the start of each line, directives ignored.
    depth_at: list[int] = []
    depth = 0
    for number, line in enumerate(code_lines):
        depth_at.append(depth)
        if number not in skip:
            depth += line.count("(") - line.count(")")
    stack: list[list[int]] = []  # each group: directive line indices, first is #if*
    for line, name, _last in directives:
        if name in ("if", "ifdef", "ifndef"):
            stack.append([line])
        elif name in ("elif", "else", "elifdef", "elifndef") and stack:
            stack[-1].append(line)
        elif name == "endif" and stack:
            group = stack.pop() + [line]
            _resolve_group(group, code_lines, directive_at, skip, depth_at, editor, starts, masked)


def _branch_balance(
    code_lines: list[str], first: int, last: int, skip: set[int]
) -> tuple[int, int]:
    braces = parens = 0
    for number in range(first, last):
        if number in skip:
            continue
        line = code_lines[number]
        braces += line.count("{") - line.count("}")
        parens += line.count("(") - line.count(")")
    return braces, parens


def _resolve_group(
    group: list[int],
    code_lines: list[str],
    directive_at: dict[int, tuple[str, int]],
    skip: set[int],
    depth_at: list[int],
    editor: _Editor,
    starts: list[int],
    masked: list[MaskedRegion],
) -> None:
    branches = [(group[i] + 1, group[i + 1]) for i in range(len(group) - 1)]
    balances = [_branch_balance(code_lines, first, last, skip) for first, last in branches]
    in_parens = any(depth_at[line] > 0 for line in group)
    if not in_parens and all(balance == (0, 0) for balance in balances):
        return
    for line in group:
        last = directive_at[line][1]
        editor.blank(starts[line], starts[last] + len(code_lines[last]))
    if len(branches) > 1:
        first_hidden, end = branches[1][0] - 1, group[-1]
        for number in range(branches[1][0], end):
            if number not in skip:
                editor.blank(starts[number], starts[number] + len(code_lines[number]))
        condition = code_lines[group[0]].strip()
        masked.append(
            MaskedRegion(
                first_hidden + 1,
                end + 1,
                f"alternative branches of `{condition}` hidden: they split braces or parentheses",
            )
        )
    # Lines of the resolved group no longer count as directives for enclosing groups.
    for line in group:
        for number in range(line, directive_at[line][1] + 1):
            code_lines[number] = " " * len(code_lines[number])
    for number in range(branches[1][0] if len(branches) > 1 else group[-1], group[-1]):
        code_lines[number] = " " * len(code_lines[number])


def sanitize(text: str) -> Sanitized:
    """Rewrite kernel idioms tree-sitter-c trips on, keeping every offset of the real file."""
    code = _analysis_copy(text)
    code_lines = code.split("\n")
    starts = _line_starts(code)
    editor = _Editor(text)
    masked: list[MaskedRegion] = []
    _conditionals(code_lines, editor, starts, masked)
    # Directive lines (macro bodies included) are left to the preprocessor grammar.
    for line, _name, last in _directive_lines(code.split("\n")):
        for number in range(line, last + 1):
            code_lines[number] = " " * len(code_lines[number])
    code = "\n".join(code_lines)

    for match in _ATTR_CALL_RE.finditer(code):
        close = _matching_paren(code, match.end() - 1)
        if close > 0:
            editor.blank(match.start(), close + 1)
    for match in _ATTR_WORD_RE.finditer(code):
        editor.blank(match.start(), match.end())
    for match in NAME_MACRO_RE.finditer(code):
        macro, name = match.group(1), match.group(2)
        width = match.end() - match.start()
        editor.replace(match.start(), f"{macro}_{name}".ljust(width, "_"))
    for match in TYPE_ARGUMENT_RE.finditer(code):
        if "\n" not in match.group(2):
            editor.replace(match.start(2), re.sub(r"[ \t]", "_", match.group(2)))
    for match in _ITERATOR_LINE_RE.finditer(code):
        _rewrite_iterator(code, match, editor)
    return Sanitized(editor.result(), masked, editor.count)


def _rewrite_iterator(code: str, match: re.Match[str], editor: _Editor) -> None:
    """`list_for_each_entry(pos, head, member) {` -> `while              (pos, head, member) {`.

    A comma expression is a valid loop condition, so the arguments stay parsed and their
    calls stay visible. Only statement position counts: an indented line that begins with the
    macro and is not followed by `;` (a call) or an operator.
    """
    close = _matching_paren(code, match.end() - 1)
    if close < 0:
        return
    rest = code[close + 1 : close + 200].lstrip()
    if not rest or rest[0] in ";,)=.-+*/&|?:[]<>!":
        return
    name = match.group(2)
    editor.replace(match.start(2), _LOOP_KEYWORD.ljust(len(name)))
