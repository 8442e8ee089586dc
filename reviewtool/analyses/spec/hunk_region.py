"""The lines of a file that a revision's hunks have shown, and the region of them a path can be
followed through.

`VisibleFile` keeps, patch after patch, every line the hunks showed of one file, at its number
in the file as the latest patch leaves it (a later hunk shifts the lines below it and replaces
the lines it covers), with the function it belongs to and the patch that added it.

`region_fragment` cuts, around a line, the visible run of one function that a path starting
at that line's statement can be followed through, and wraps it as a function body for the
walker. Where the visible lines stop proving anything, the fragment sends the path out of it
(`goto` a label that does not exist, which the walker never judges): the end of a block whose
closing brace is not shown, a `break`/`continue` whose loop is not shown. A fragment that
does not parse, or holds a `case` whose `switch` is not shown or a preprocessor line, is no
fragment: nothing can be proved from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.cparse import parse_c
from reviewtool.diff.model import Hunk

# The label a path leaving the visible lines jumps to; never defined, so the walker's CFG sends
# it to the function's end, which a fragment's walk does not judge.
OFF_REGION = "__reviewtool_off_region"
_LEAVE = f"goto {OFF_REGION};"
# What a local declared outside the region is initialised with in the fragment: the value the
# lines not shown left in it (the walker reads it as a symbol of that name).
BEFORE = "__reviewtool_before_"
_LOOPS = ("for_statement", "while_statement", "do_statement")
# Statement kinds the walker's CFG follows (cfg.py); any other kind in a fragment could hide a
# release the CFG would step over, so such a fragment proves nothing.
_FOLLOWED = {
    "compound_statement",
    "expression_statement",
    "declaration",
    "if_statement",
    "else_clause",
    "while_statement",
    "for_statement",
    "do_statement",
    "switch_statement",
    "case_statement",
    "goto_statement",
    "break_statement",
    "continue_statement",
    "return_statement",
    "labeled_statement",
    "comment",
}
_STRING_RE = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'')
_COMPLETE_ENDINGS = (";", "{", "}")


@dataclass
class VisibleLine:
    """One line of the file as the hunks showed it."""

    text: str
    function: str | None
    added_by: int | None  # the patch whose `+` line it is (None: context, never added)


@dataclass
class VisibleFile:
    """What the hunks of a revision have shown of one file, numbered as the latest patch
    leaves it."""

    lines: dict[int, VisibleLine] = field(default_factory=dict)

    def apply(self, hunks: list[Hunk], index: int, functions: dict[int, str]) -> dict[int, int]:
        """Take one patch's hunks of this file: lines they cover are replaced by their new
        side, lines below them shift; `functions` names the function of new line numbers.
        Returns where each line the file had before the patch now is, for the lines known
        (a line the patch removes has no entry)."""
        spans = sorted((h.old_start, h.old_length, h.new_length) for h in hunks)
        moved: dict[int, VisibleLine] = {}
        where: dict[int, int] = {}
        for number, line in self.lines.items():
            shift, covered = 0, False
            for old_start, old_length, new_length in spans:
                last = old_start + old_length - 1
                if old_length and old_start <= number <= last:
                    covered = True
                    break
                if number > (last if old_length else old_start):
                    shift += new_length - old_length
            if not covered:
                moved[number + shift] = line
                where[number] = number + shift
        for hunk in hunks:
            for diff_line in hunk.lines:
                if diff_line.kind == "-" or not diff_line.new_line:
                    continue
                before = None
                if diff_line.kind == " " and diff_line.old_line:
                    before = self.lines.get(diff_line.old_line)
                    where[diff_line.old_line] = diff_line.new_line
                moved[diff_line.new_line] = VisibleLine(
                    diff_line.text,
                    functions.get(diff_line.new_line) or (before.function if before else None),
                    index if diff_line.kind == "+" else (before.added_by if before else None),
                )
        self.lines = moved
        return where

    def run(self, number: int, function: str) -> list[int]:
        """The contiguous visible line numbers of `function` around `number`."""
        if number not in self.lines:
            return []

        def mine(n: int) -> bool:
            line = self.lines.get(n)
            return line is not None and line.function == function

        first = number
        while mine(first - 1):
            first -= 1
        last = number
        while mine(last + 1):
            last += 1
        return list(range(first, last + 1))


@dataclass
class Fragment:
    """A visible region wrapped as a function body: its text (real line numbers kept) and the
    real lines it covers."""

    text: str
    first: int
    last: int


def _code(text: str) -> str:
    """A line without strings, character literals and one-line comments."""
    text = _STRING_RE.sub('""', text)
    return re.sub(r"/\*.*?\*/", " ", text).split("//")[0]


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _statement_start(lines: list[str], at: int) -> int:
    """The first line of the statement that holds `lines[at]`, read back over lines that do
    not end a statement (an argument list, a condition, a brace-less `if`/`for` head)."""
    start = at
    while start > 0:
        above = _code(lines[start - 1]).strip()
        if (
            not above
            or above.startswith(("#", "*", "/*"))
            or above.endswith((*_COMPLETE_ENDINGS, ":"))
        ):
            break
        start -= 1
    return start


def region_fragment(
    visible: VisibleFile, number: int, function: str, header_name: str
) -> Fragment | None:
    """The fragment a path from the statement at line `number` of `function` can be followed
    through, wrapped as `header_name`'s body; None when the visible lines prove nothing."""
    numbers = visible.run(number, function)
    if not numbers:
        return None
    texts = [visible.lines[n].text for n in numbers]
    at = numbers.index(number)
    start = _statement_start(texts, at)
    end = _cut(texts, start, at)
    if end is None:
        return None
    body = texts[start:end]
    depth = 0
    for text in body:
        code = _code(text)
        depth += code.count("{") - code.count("}")
    first = numbers[start]
    if first < 2:
        return None
    lines = [""] * (first - 2)
    lines.append(
        f"static int {header_name}(void) {{ {_declarations(visible, function, numbers[start:end])}"
    )
    lines += body
    lines += [f"{_LEAVE} }}"] * depth
    lines.append(f"{_LEAVE} }}")
    text = "\n".join(lines) + "\n"
    return _settled(text, header_name, first, numbers[end - 1])


def _cut(texts: list[str], start: int, at: int) -> int | None:
    """Where the region ends (exclusive): before the first brace that closes a block opened
    above it, a preprocessor line or a comment that does not close; trailing lines that do
    not end a statement go. None when that leaves no whole statement from `at` on."""
    depth, end, opened = 0, len(texts), -1
    for i in range(start, len(texts)):
        raw = texts[i]
        if opened >= 0:
            if "*/" in raw:
                opened = -1
            continue
        if raw.strip().startswith("#"):
            end = i
            break
        code = _code(raw)
        if "/*" in code:
            opened = i
            code = code.split("/*")[0]
        low = depth
        for char in code:
            depth += {"{": 1, "}": -1}.get(char, 0)
            low = min(low, depth)
        if low < 0:
            end = i
            break
    if opened >= 0:
        end = min(end, opened)
    while end > at:
        if _code(texts[end - 1]).strip().endswith(_COMPLETE_ENDINGS):
            break
        end -= 1
    if end <= at:
        return None
    return end


# A declaration on one line of a function body (kernel style: one tab in); tree-sitter decides.
DECLARATION_RE = re.compile(
    r"^\t(?!(?:return|goto|if|else|for|while|do|switch|case|default)\b)"
    r"[A-Za-z_][\w \t*]*[\s*]\**\w+\s*(?:\[[^\]]*\]\s*)*(?:[=,][^;]*)?;\s*$"
)


def _declarations(visible: VisibleFile, function: str, inside: list[int]) -> str:
    """The locals the visible lines of `function` declare at body level (outside the region),
    each initialised with a symbol for the value the lines not shown left in it: in the
    fragment they stay this frame's memory (without them a value stored in a name the region
    does not declare counts as handed on)."""
    skip = set(inside)
    out = []
    for number, line in sorted(visible.lines.items()):
        if line.function != function or number in skip:
            continue
        code = _code(line.text).rstrip()
        if not DECLARATION_RE.match(code) or re.search(r"\b(static|extern)\b", code):
            continue
        out += _declared(code)
    return " ".join(out)


def _declared(code: str) -> list[str]:
    """`struct page *page = NULL, *other;` -> `struct page *page = __reviewtool_before_page;`,
    `struct page *other = __reviewtool_before_other;`."""
    parsed = parse_c(f"void __reviewtool_declarations(void)\n{{\n{code}\n}}\n")
    if not parsed.ok:
        return []
    out = []
    stack = [parsed.tree.root_node]
    while stack:
        node = stack.pop()
        if node.type != "declaration":
            stack.extend(node.named_children)
            continue
        declarators = [
            c.child_by_field_name("declarator") if c.type == "init_declarator" else c
            for c in node.named_children
            if c.type in ("init_declarator", "identifier", "pointer_declarator", "array_declarator")
        ]
        if not declarators:
            continue
        first = min(
            c.start_byte
            for c in node.named_children
            if c.type in ("init_declarator", "identifier", "pointer_declarator", "array_declarator")
        )
        type_text = parsed.text.encode()[node.start_byte : first].decode().strip()
        for declarator in declarators:
            name = declarator
            while name is not None and name.type != "identifier":
                name = name.child_by_field_name("declarator")
            if name is not None:
                # Its value where the region starts is whatever lines not shown made it.
                text = f"{type_text} {parsed.node_text(declarator)} = {BEFORE}{name.text.decode()};"
                out.append(text)
    return out


def _enclosing_kinds(node) -> set[str]:
    kinds = set()
    parent = node.parent
    while parent is not None and parent.type != "function_definition":
        kinds.add(parent.type)
        parent = parent.parent
    return kinds


def _settled(text: str, header_name: str, first: int, last: int) -> Fragment | None:
    """The fragment with every `break`/`continue` whose loop is not shown sent out of the
    region; None when it does not parse or holds what the walker's CFG would misread."""
    parsed = parse_c(text)
    if not parsed.ok or parsed.unchecked():
        return None
    functions = [f for f in parsed.functions() if f.kind == "function"]
    if len(functions) != 1 or functions[0].recovered:
        return None
    data = text.encode("utf-8", "surrogatepass")
    edits = []
    stack = [functions[0].node.child_by_field_name("body")]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        if node.type.endswith("statement") and node.type not in _FOLLOWED:
            return None
        if node.type in ("break_statement", "continue_statement", "case_statement"):
            kinds = _enclosing_kinds(node)
            inside = any(k in kinds for k in _LOOPS)
            if node.type == "case_statement" and "switch_statement" not in kinds:
                return None
            if node.type == "break_statement" and not (inside or "switch_statement" in kinds):
                edits.append(node)
            if node.type == "continue_statement" and not inside:
                edits.append(node)
        stack.extend(node.named_children)
    for node in sorted(edits, key=lambda n: n.start_byte, reverse=True):
        data = data[: node.start_byte] + _LEAVE.encode() + data[node.end_byte :]
    if edits:
        text = data.decode("utf-8", "surrogatepass")
        if not parse_c(text).ok:
            return None
    return Fragment(text, first, last)
