"""Kernel-aware, length-preserving rewriting of C text before tree-sitter sees it.

Every edit replaces ASCII code characters by as many ASCII characters, never touching a
newline, so a line and column in the sanitised text are the same line and column in the real
file, and byte offsets match too. Comments and string literals are never edited.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from reviewtool.cparse.kernel import (
    ATTRIBUTE_CALLS,
    ATTRIBUTE_WORDS,
    ITERATOR_RE,
    TYPE_ARGUMENT_RE,
)

# Comments, string and character literals: blanked in the analysis copy so that braces and
# words inside them count for nothing.
_OPAQUE_RE = re.compile(
    r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"?|'(?:\\.|[^'\\\n])*'?", re.S
)
_DIRECTIVE_RE = re.compile(r"^[ \t]*#[ \t]*(\w*)", re.M)
# One pass finds every candidate attribute; the tables then say which it is.
_ATTR_CANDIDATE_RE = re.compile(r"(?<!\w)(?:__|asmlinkage|noin|notrace)\w*")
_CALL_OPEN_RE = re.compile(r"\s*\(")
# `)` followed by `(`: where `FNAME(name)(` can end; far rarer than upper-case words.
_CLOSE_THEN_OPEN_RE = re.compile(r"\)(?=[ \t]*\()")
_NAME_MACRO_TAIL_RE = re.compile(r"(?<![\w])([A-Z][A-Z0-9_]*)\(\s*([A-Za-z_]\w*)\s*$")
# How far back from `)(` a `FNAME(name` can start.
NAME_MACRO_LOOKBACK = 80
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


def _analysis_copy(text: str) -> tuple[str, bytearray]:
    """The text with comments and literals blanked (same length, same newlines), and a mask
    of the characters that lie inside comments."""
    comments = bytearray(len(text))
    for match in _OPAQUE_RE.finditer(text):
        if match.group(0).startswith("/"):
            comments[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    return _OPAQUE_RE.sub(lambda m: _blank(m.group(0)), text), comments


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
    """Collects same-length replacements; the first claim on a span wins.

    Blanking keeps comments whole and never replaces a non-ASCII character: a space is one
    byte, and tree-sitter's byte offsets must stay those of the real text.
    """

    def __init__(self, text: str, comments: bytearray) -> None:
        self.chars = list(text)
        self.comments = comments
        self.claimed = bytearray(len(text))
        self.count = 0

    def replace(self, start: int, replacement: str) -> None:
        end = start + len(replacement)
        if self.claimed.find(1, start, end) >= 0:
            return
        if "\n" in self.chars[start:end]:
            replacement = "".join(
                old if old == "\n" else new
                for old, new in zip(self.chars[start:end], replacement, strict=True)
            )
        self.chars[start:end] = replacement
        self.claimed[start:end] = b"\x01" * (end - start)
        self.count += 1

    def blank(self, start: int, end: int) -> None:
        kept = [
            char if char == "\n" or not char.isascii() or self.comments[start + i] else " "
            for i, char in enumerate(self.chars[start:end])
        ]
        self.replace(start, "".join(kept))

    def result(self) -> str:
        return "".join(self.chars)


def _line_starts(text: str) -> list[int]:
    starts = [0]
    starts.extend(match.end() for match in re.finditer("\n", text))
    return starts


def _directive_lines(
    code: str, code_lines: list[str], starts: list[int]
) -> list[tuple[int, str, int]]:
    """(line index, directive, last line index) for each preprocessor line, continuations joined."""
    out: list[tuple[int, str, int]] = []
    after = -1
    for match in _DIRECTIVE_RE.finditer(code):
        index = bisect.bisect_right(starts, match.start()) - 1
        if index <= after:
            continue  # inside the continuation of the previous directive
        last = index
        while code_lines[last].rstrip().endswith("\\") and last + 1 < len(code_lines):
            last += 1
        out.append((index, match.group(1), last))
        after = last
    return out


def _conditionals(
    code_lines: list[str],
    directives: list[tuple[int, str, int]],
    editor: _Editor,
    starts: list[int],
    masked: list[MaskedRegion],
) -> None:
    """Resolve `#if` groups whose branches split braces or parentheses: keep the first branch.

    tree-sitter copes with a conditional whose every branch is a whole statement. When an
    `#ifdef` opens a brace in each branch (`if (a) {` / `#else` / `if (b) {`) or sits inside
    an argument list, it cannot, so the directives go and only the first branch stays. The
    hidden branches are reported as masked regions, never dropped silently.
    """
    if not any(name in ("if", "ifdef", "ifndef") for _line, name, _last in directives):
        return
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
    code, comments = _analysis_copy(text)
    code_lines = code.split("\n")
    starts = _line_starts(code)
    editor = _Editor(text, comments)
    masked: list[MaskedRegion] = []
    directives = _directive_lines(code, code_lines, starts)
    _conditionals(code_lines, directives, editor, starts, masked)
    # Directive lines (macro bodies included) are left to the preprocessor grammar.
    for line, _name, last in directives:
        for number in range(line, last + 1):
            code_lines[number] = " " * len(code_lines[number])
    code = "\n".join(code_lines)

    for match in _ATTR_CANDIDATE_RE.finditer(code):
        word = match.group(0)
        if word in ATTRIBUTE_WORDS:
            editor.blank(match.start(), match.end())
        elif word in ATTRIBUTE_CALLS:
            opening = _CALL_OPEN_RE.match(code, match.end())
            close = _matching_paren(code, opening.end() - 1) if opening else -1
            if close > 0:
                editor.blank(match.start(), close + 1)
    for match in _CLOSE_THEN_OPEN_RE.finditer(code):
        window_start = max(0, match.start() - NAME_MACRO_LOOKBACK)
        tail = _NAME_MACRO_TAIL_RE.search(code, window_start, match.start())
        if tail is None:
            continue
        macro, name = tail.group(1), tail.group(2)
        start, width = tail.start(), match.end() - tail.start()
        editor.replace(start, f"{macro}_{name}".ljust(width, "_"))
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
