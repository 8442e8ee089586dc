"""Kernel-aware, length-preserving rewriting of C text before tree-sitter sees it.

Every edit replaces ASCII code characters by as many ASCII characters, never touching a
newline, so a line and column in the sanitised text are the same line and column in the real
file, and byte offsets match too. Comments and string literals are never edited.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from reviewtool.cparse.conditionals import (
    ConditionalResolver,
    MaskedRegion,
    directive_lines,
    has_directives,
    line_starts,
)
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
_DEFINE_PARAMS_RE = re.compile(r"[ \t]*#[ \t]*define[ \t]+\w+\(([^)\n]*)\)")
_NAMED_VARIADIC_RE = re.compile(r"\w(\.\.\.)")
_ELLIPSIS_RE = re.compile(r"\.\.\.")
# A `case` label whose expression has not ended before the `...`.
_LABEL_START_RE = re.compile(r"(?<!\w)case\b[^;{}:]*\Z")
# How far back from `...` the `case` of a range can start.
CASE_RANGE_LOOKBACK = 200
# How far past an iterator macro's `)` to look for what follows it.
ITERATOR_LOOKAHEAD = 200
# A run of more blank lines than this is padding (an image at its real line numbers, the
# gap between two hunks): it is cut down to this many before the passes below and put back
# after. Every pass decides from a window of at most the look-behinds/-aheads above or from
# whole lines, so a window that starts inside a run sees only newlines either way.
BLANK_RUN_KEPT = 1 + max(NAME_MACRO_LOOKBACK, CASE_RANGE_LOOKBACK, ITERATOR_LOOKAHEAD)
_BLANK_RUN_RE = re.compile(rf"\n{{{BLANK_RUN_KEPT + 1},}}")
# Patterns below start with a literal (fast to scan for); the character before a match is
# checked in code (`_continues_a_name`), since a leading look-behind makes each scan ~20x slower.
_DECLARING_MACRO_RE = re.compile(r"DE(?:FINE|CLARE)_[A-Z0-9_]*[ \t]*\(")
_NEXT_CODE_RE = re.compile(r"\s*(\S)")
_WORD_RE = re.compile(r"\w+")
# A line that begins with a name and `(`: where a file-scope macro invocation sits.
_LINE_CALL_RE = re.compile(r"^[A-Za-z_]\w*[ \t]*\(", re.M)
# After `name(args)`, these mean a definition, a prototype or an initialiser follows.
_NOT_AN_INVOCATION_END = "{;,=:[()"
_ASM_RE = re.compile(r"_?_?asm(?:__)?(?:\s+(?:volatile|__volatile__|goto|inline))*\s*\(")
_OFFSETOF_RE = re.compile(r"offsetof\s*\(")
_MEMBER_PATH_RE = re.compile(r",[^,]*[.\[]|,[^,]*->")


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


def sanitize(text: str) -> Sanitized:
    """Rewrite kernel idioms tree-sitter-c trips on, keeping every offset of the real file."""
    lead = len(text) - len(text.lstrip("\n"))
    if lead:
        # An image padded to its real line numbers: the padding needs no rewriting, and the
        # per-line passes below would spend their time on it.
        inner = sanitize(text[lead:])
        masked = [
            MaskedRegion(r.start_line + lead, r.end_line + lead, r.reason) for r in inner.masked
        ]
        return Sanitized("\n" * lead + inner.text, masked, inner.edits)
    runs = [(m.start(), m.end()) for m in _BLANK_RUN_RE.finditer(text)]
    if runs:
        return _sanitize_around_runs(text, runs)
    return _sanitize(text)


def _sanitize_around_runs(text: str, runs: list[tuple[int, int]]) -> Sanitized:
    """sanitize() of a text whose long blank runs (padding between images) are first cut
    down to BLANK_RUN_KEPT newlines, then given back their length: same result, but the
    passes read the code, not millions of newlines."""
    kept = "\n" * BLANK_RUN_KEPT
    pieces = []
    position = 0
    for start, end in runs:
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    inner = _sanitize(kept.join(pieces))
    # Sanitising never moves a newline: the kept runs sit where they were put.
    out = []
    cursor = 0
    for piece, (start, end) in zip(pieces, runs, strict=False):
        out.append(inner.text[cursor : cursor + len(piece)])
        out.append(text[start:end])
        cursor += len(piece) + BLANK_RUN_KEPT
    out.append(inner.text[cursor:])
    # Line n of the short text is line n + (lines removed by the runs before it) of the real one.
    run_lines = []  # (first short line after the run, lines the run lost)
    short_line = removed = 0
    for piece, (start, end) in zip(pieces, runs, strict=False):
        short_line += piece.count("\n") + BLANK_RUN_KEPT
        removed += end - start - BLANK_RUN_KEPT
        run_lines.append((short_line, removed))

    def real(line: int) -> int:
        shift = 0
        for first_after, lost in run_lines:
            if line < first_after:
                break
            shift = lost
        return line + shift

    masked = [MaskedRegion(real(r.start_line), real(r.end_line), r.reason) for r in inner.masked]
    return Sanitized("".join(out), masked, inner.edits)


def _sanitize(text: str) -> Sanitized:
    code, comments = _analysis_copy(text)
    code_lines = code.split("\n")
    editor = _Editor(text, comments)
    masked: list[MaskedRegion] = []
    # Line offsets are needed only around directives; a function image usually has none.
    starts = line_starts(code) if has_directives(code) else []
    directives = directive_lines(code, code_lines, starts) if starts else []
    if directives:
        _macro_definitions(text, code_lines, starts, directives, editor)
        masked = ConditionalResolver(code_lines, starts, directives).resolve(editor.blank)
    # Directive lines (macro bodies included) are left to the preprocessor grammar.
    for directive in directives:
        for number in range(directive.line, directive.last + 1):
            code_lines[number] = " " * len(code_lines[number])
    code = "\n".join(code_lines)

    # Before the type-argument rewrite, which would claim `struct x` inside these calls.
    _declaring_macros(code, editor)
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
    _case_ranges(code, editor)
    _file_scope_invocations(code, editor)
    _asm_templates(code, editor)
    _member_offsets(code, editor)
    return Sanitized(editor.result(), masked, editor.count)


def _macro_definitions(
    text: str, code_lines: list[str], starts: list[int], directives: list, editor: _Editor
) -> None:
    """Comments inside a multi-line `#define` and named variadic parameters (`fmt...`).

    tree-sitter ends a macro body at a comment that opens a continuation line, and its
    grammar has no `name...` parameter; a comment in a macro body means nothing to the
    parser and `fmt...` reads the same as a plain `fmt` parameter for every query made here.
    """
    for directive in directives:
        if directive.name != "define":
            continue
        start = starts[directive.line]
        end = starts[directive.last] + len(code_lines[directive.last])
        header = _DEFINE_PARAMS_RE.match(text, start, end)
        if header is not None:
            for param in _NAMED_VARIADIC_RE.finditer(text, header.start(1), header.end(1)):
                editor.replace(param.start(1), "   ")
        if directive.last == directive.line:
            continue
        for match in _OPAQUE_RE.finditer(text, start, end):
            if match.group(0).startswith("/"):
                editor.replace(match.start(), _blank_ascii(match.group(0)))


def _continues_a_name(code: str, start: int) -> bool:
    """True when the text before start makes a match part of a longer name or a member."""
    if start == 0:
        return False
    before = code[start - 1]
    return before.isalnum() or before in "_.>"


def _blank_ascii(segment: str) -> str:
    """Spaces for ASCII characters but newlines; other characters stay (byte offsets)."""
    return "".join(c if c == "\n" or not c.isascii() else " " for c in segment)


def _case_ranges(code: str, editor: _Editor) -> None:
    """GNU case ranges: `case A ... B:` -> `case A  |  B:`, one valid constant expression."""
    for match in _ELLIPSIS_RE.finditer(code):
        window_start = max(0, match.start() - CASE_RANGE_LOOKBACK)
        if _LABEL_START_RE.search(code, window_start, match.start()) is not None:
            editor.replace(match.start(), " | ")


def _declaring_macros(code: str, editor: _Editor) -> None:
    """`static DEFINE_PER_CPU(u64, x);` -> `static DEFINE_PER_CPU _        ;`.

    Kernel `DEFINE_*`/`DECLARE_*` macros expand to declarations; written as a type name and
    a placeholder declarator they parse as one, at file scope, in a struct or in a body.
    """
    for match in _DECLARING_MACRO_RE.finditer(code):
        if _continues_a_name(code, match.start()):
            continue
        opening = match.end() - 1
        close = _matching_paren(code, opening)
        if close < 0:
            continue
        after = _NEXT_CODE_RE.match(code, close + 1)
        if after is None or after.group(1) not in ";=":
            continue
        editor.replace(opening, " _" + " " * (close - opening - 1))


def _brace_depths(code: str) -> tuple[list[int], list[int]]:
    """Positions of every brace and the depth just after it, for depth lookups by bisection."""
    positions: list[int] = []
    depths: list[int] = []
    depth = 0
    for match in re.finditer(r"[{}]", code):
        depth += 1 if match.group(0) == "{" else -1
        positions.append(match.start())
        depths.append(depth)
    return positions, depths


def _file_scope_invocations(code: str, editor: _Editor) -> None:
    """A macro call alone at file scope with no `;` (`module_init(f)`) is blanked.

    Such a macro expands to declarations or whole functions; left in place, tree-sitter reads
    it as the start of an old-style definition and swallows the functions after it.
    """
    positions, depths = _brace_depths(code)
    for match in _LINE_CALL_RE.finditer(code):
        index = bisect.bisect_right(positions, match.start()) - 1
        if index >= 0 and depths[index] != 0:
            continue
        close = _matching_paren(code, match.end() - 1)
        if close < 0:
            continue
        after = _NEXT_CODE_RE.match(code, close + 1)
        if after is not None and after.group(1) in _NOT_AN_INVOCATION_END:
            continue
        following = _WORD_RE.match(code, after.start(1)) if after is not None else None
        if following is not None and (
            following.group(0) in ATTRIBUTE_WORDS or following.group(0) in ATTRIBUTE_CALLS
        ):
            continue  # `name(args) __must_hold(x) {`: a definition with an attribute
        editor.blank(match.start(), close + 1)


def _asm_templates(code: str, editor: _Editor) -> None:
    """Macros between the strings of an asm template (`_ASM_EXTABLE(1b, %l[x])`) are blanked.

    They expand to more template text; the strings around them stay and concatenate.
    """
    for match in _ASM_RE.finditer(code):
        if _continues_a_name(code, match.start()):
            continue
        opening = match.end() - 1
        close = _matching_paren(code, opening)
        if close < 0:
            continue
        colon = code.find(":", opening, close)
        template_end = close if colon < 0 else colon
        for token in re.finditer(r"\S+", code[opening + 1 : template_end]):
            editor.blank(opening + 1 + token.start(), opening + 1 + token.end())


def _member_offsets(code: str, editor: _Editor) -> None:
    """`offsetof(T, a.b)` -> `offsetoF(T, a.b)`: a plain call, since the grammar's offsetof
    takes one field name only."""
    for match in _OFFSETOF_RE.finditer(code):
        if _continues_a_name(code, match.start()):
            continue
        close = _matching_paren(code, match.end() - 1)
        if close > 0 and _MEMBER_PATH_RE.search(code, match.end(), close):
            editor.replace(match.end() - 2, "F")


def _rewrite_iterator(code: str, match: re.Match[str], editor: _Editor) -> None:
    """`list_for_each_entry(pos, head, member) {` -> `while              (pos, head, member) {`.

    A comma expression is a valid loop condition, so the arguments stay parsed and their
    calls stay visible. Only statement position counts: an indented line that begins with the
    macro and is not followed by `;` (a call) or an operator.
    """
    close = _matching_paren(code, match.end() - 1)
    if close < 0:
        return
    rest = code[close + 1 : close + ITERATOR_LOOKAHEAD].lstrip()
    if not rest or rest[0] in ";,)=.-+*/&|?:[]<>!":
        return
    name = match.group(2)
    editor.replace(match.start(2), _LOOP_KEYWORD.ljust(len(name)))
