"""Parse C with tree-sitter-c after sanitising, cache by content hash, answer queries."""

from __future__ import annotations

import bisect
import hashlib
import re
import threading
from collections import OrderedDict
from functools import cached_property

from tree_sitter import Language, Node, Parser, Point, Query, QueryCursor, Range, Tree

from reviewtool.cparse.grammar import c_language
from reviewtool.cparse.model import (
    Assignment,
    CallSite,
    Declaration,
    FunctionDef,
    ParseErrorRegion,
)
from reviewtool.cparse.sanitize import MaskedRegion, sanitize
from reviewtool.errors import AnalysisError

# How many parses stay cached; a series touches a few dozen files per revision.
CACHE_SIZE = 256
# A parse holds about 40 times its text in memory (tree, indexes): bound the cache by the
# total text it covers too, so a run over many large files stays near 300 MB.
CACHE_MAX_CHARS = 8_000_000

# Runs of more blank lines than this are left out of what tree-sitter reads (see _parse_tree).
PARSE_BLANK_RUN = 64
RUN_HEAD_KEPT = 3
_BLANK_RUN_BYTES_RE = re.compile(rb"\n{%d,}" % (PARSE_BLANK_RUN + 1))

_LANGUAGE = Language(c_language())
_QUERY = Query(
    _LANGUAGE,
    """
    (function_definition) @function
    (call_expression function: (_) @callee) @call
    (declaration) @declaration
    (preproc_function_def) @macro
    (preproc_def) @macro
    (assignment_expression) @assignment
    (init_declarator) @init
    """,
)
_DECLARATOR_WRAPPERS = (
    "pointer_declarator",
    "parenthesized_declarator",
    "attributed_declarator",
    "init_declarator",
    "array_declarator",
)


class _Cache:
    """A small LRU of ParsedSource keyed by the SHA-256 of the text."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[str, ParsedSource] = OrderedDict()
        self.chars = 0
        self.hits = 0
        self.misses = 0
        self.lock = threading.Lock()


_CACHE = _Cache(CACHE_SIZE)
_PARSER_LOCAL = threading.local()


def _parser() -> Parser:
    parser = getattr(_PARSER_LOCAL, "parser", None)
    if parser is None:
        parser = _PARSER_LOCAL.parser = Parser(_LANGUAGE)
    return parser


def _parse_tree(data: bytes, skip_blank_runs: bool = True) -> Tree:
    """tree-sitter's parse of data; long runs of blank lines are not read.

    An image padded to its real line numbers is mostly newlines (a function at line 5,000 of
    its file sits behind 4,999 of them). Whitespace is nothing to the grammar, so only the
    ranges between such runs are given to tree-sitter; it still counts rows and bytes in the
    whole text, so every node keeps the position it has in the real file.
    """
    parser = _parser()
    ranges = _included_ranges(data) if skip_blank_runs else []
    parser.included_ranges = ranges  # [] is the whole text
    try:
        return parser.parse(data)
    finally:
        if ranges:
            parser.included_ranges = []


def _included_ranges(data: bytes) -> list[Range]:
    """The stretches of data between runs of more than PARSE_BLANK_RUN newlines; [] when
    there is no such run.

    Each run keeps its first RUN_HEAD_KEPT newlines and its last one: a line ending in `\\`
    (a macro or a `//` comment continued) runs on to the next line, and its token ends with
    that line's newline, which must still be read for the node to end where it does.
    """
    out: list[Range] = []
    position = row = 0
    for match in _BLANK_RUN_BYTES_RE.finditer(data):
        start, end = match.start() + RUN_HEAD_KEPT, match.end() - 1
        if start > position:
            out.append(_range(data, position, start, row))
        row += data.count(b"\n", position, end)
        position = end
    if not out and position == 0:
        return []
    if position < len(data):
        out.append(_range(data, position, len(data), row))
    return out


def _range(data: bytes, start: int, end: int, row: int) -> Range:
    """A Range of data[start:end], whose first byte is on 0-based row `row`."""
    end_row = row + data.count(b"\n", start, end)
    start_column = start - (data.rfind(b"\n", 0, start) + 1)
    end_column = end - (data.rfind(b"\n", 0, end) + 1)
    return Range(Point(row, start_column), Point(end_row, end_column), start, end)


def content_hash(text: str) -> str:
    """The cache key of a text."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def parse_c(text: str) -> ParsedSource:
    """Parse C text (a whole file or an image padded to its real lines); cached by content."""
    if not isinstance(text, str):
        raise AnalysisError(f"parse_c expects text, got {type(text).__name__}")
    key = content_hash(text)
    with _CACHE.lock:
        cached = _CACHE.entries.get(key)
        if cached is not None:
            _CACHE.entries.move_to_end(key)
            _CACHE.hits += 1
            return cached
        _CACHE.misses += 1
    parsed = ParsedSource(text, key)
    with _CACHE.lock:
        if key not in _CACHE.entries:
            _CACHE.entries[key] = parsed
            _CACHE.chars += len(text)
        while len(_CACHE.entries) > 1 and (
            len(_CACHE.entries) > _CACHE.size or _CACHE.chars > CACHE_MAX_CHARS
        ):
            _key, evicted = _CACHE.entries.popitem(last=False)
            _CACHE.chars -= len(evicted.text)
    return parsed


def cache_info() -> dict[str, int]:
    """Hits, misses and entries of the parse cache."""
    with _CACHE.lock:
        return {"hits": _CACHE.hits, "misses": _CACHE.misses, "entries": len(_CACHE.entries)}


def cache_clear() -> None:
    """Empty the parse cache and reset its counters."""
    with _CACHE.lock:
        _CACHE.entries.clear()
        _CACHE.chars = 0
        _CACHE.hits = _CACHE.misses = 0


def _normalise(text: str) -> str:
    return " ".join(text.split())


class ParsedSource:
    """One parsed C text: the tree, the errors, and queries by name or line (1-based lines).

    `tree` is the parse of the sanitised text, which has the same length, lines and byte
    offsets as `text`: node positions are those of the real file, but `node.text` holds the
    sanitised bytes (`FNAME_fetch_` for `FNAME(fetch)`), so read node text with `node_text`.
    `masked` lists `#else` branches the sanitiser hid; `errors` what still did not parse.
    """

    def __init__(self, text: str, key: str | None = None) -> None:
        self.text = text
        self.key = key or content_hash(text)
        self._bytes = text.encode("utf-8", "surrogatepass")
        sanitized = sanitize(text)
        self.sanitized = sanitized.text
        self.masked: list[MaskedRegion] = sanitized.masked
        self.tree: Tree = _parse_tree(self.sanitized.encode("utf-8", "surrogatepass"))
        captures = QueryCursor(_QUERY).captures(self.tree.root_node)
        self._function_nodes: list[Node] = captures.get("function", [])
        self._call_nodes: list[Node] = captures.get("call", [])
        self._declaration_nodes: list[Node] = captures.get("declaration", [])
        self._macro_nodes: list[Node] = captures.get("macro", [])
        self._assignment_nodes: list[Node] = captures.get("assignment", [])
        self._init_nodes: list[Node] = captures.get("init", [])
        self.errors: list[ParseErrorRegion] = self._error_regions()

    # -- text helpers -------------------------------------------------------------------------

    def node_text(self, node: Node) -> str:
        """The real file's text under a node (not the sanitised one)."""
        return self._bytes[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def _column(self, node: Node) -> int:
        row, byte_column = node.start_point
        line_start = node.start_byte - byte_column
        return len(self._bytes[line_start : node.start_byte].decode("utf-8", "replace")) + 1

    # -- functions ------------------------------------------------------------------------------

    def _declarator_name(self, node: Node | None) -> tuple[str | None, Node | None]:
        """Name and parameter list of the function a declarator declares, if it does."""
        while node is not None and node.type in _DECLARATOR_WRAPPERS:
            inner = node.child_by_field_name("declarator")
            if inner is None:
                inner = next((c for c in node.named_children if c.type != "comment"), None)
            node = inner
        if node is None or node.type != "function_declarator":
            return None, None
        target = node.child_by_field_name("declarator")
        while target is not None and target.type in _DECLARATOR_WRAPPERS:
            target = target.child_by_field_name("declarator") or (
                target.named_children[0] if target.named_children else None
            )
        if target is None:
            return None, None
        return _normalise(self.node_text(target)), node.child_by_field_name("parameters")

    def _param_names(self, params: Node | None) -> tuple[str, ...]:
        if params is None:
            return ()
        names = []
        for param in params.named_children:
            if param.type == "variadic_parameter":
                names.append("...")
                continue
            if param.type != "parameter_declaration":
                continue
            declarator = param.child_by_field_name("declarator")
            ident = _innermost_identifier(declarator)
            if ident is not None:
                names.append(self.node_text(ident))
            else:
                type_text = _normalise(self.node_text(param))
                if type_text != "void":
                    names.append(type_text)
        return tuple(names)

    def _storage(self, node: Node) -> set[str]:
        return {
            self.node_text(child)
            for child in node.children
            if child.type == "storage_class_specifier"
        }

    @cached_property
    def _functions(self) -> list[FunctionDef]:
        found = []
        for node in self._function_nodes:
            name, params = self._declarator_name(node.child_by_field_name("declarator"))
            if name is None:
                continue
            found.append(
                FunctionDef(
                    name=name,
                    start_line=node.start_point.row + 1,
                    end_line=node.end_point.row + 1,
                    node=node,
                    is_static="static" in self._storage(node),
                    params=self._param_names(params),
                )
            )
        found.extend(self._recovered_functions())
        found.sort(key=lambda f: (f.start_line, f.end_line))
        return found

    def _recovered_functions(self) -> list[FunctionDef]:
        """Functions tree-sitter left inside ERROR nodes: a declarator then a body."""
        out = []
        for error in _error_nodes(self.tree.root_node):
            if error.type != "ERROR":
                continue
            children = error.children
            for index, child in enumerate(children):
                name, params = self._declarator_name(child)
                if name is None:
                    continue
                body = next(
                    (c for c in children[index + 1 :] if c.type == "compound_statement"), None
                )
                if body is None:
                    continue
                statics = [c for c in children[:index] if c.type == "storage_class_specifier"]
                start = children[0] if statics else child
                out.append(
                    FunctionDef(
                        name=name,
                        start_line=min(start.start_point.row, child.start_point.row) + 1,
                        end_line=body.end_point.row + 1,
                        node=error,
                        is_static=any(self.node_text(s) == "static" for s in statics),
                        params=self._param_names(params),
                        recovered=True,
                    )
                )
        return out

    def functions(self) -> list[FunctionDef]:
        """Every function defined in the text, in order of their first line."""
        return list(self._functions)

    @cached_property
    def _function_starts(self) -> list[int]:
        return [f.start_line for f in self._functions]

    def enclosing_function(self, line: int) -> FunctionDef | None:
        """The function whose definition spans line, or None at file scope."""
        index = bisect.bisect_right(self._function_starts, line) - 1
        while index >= 0:
            candidate = self._functions[index]
            if candidate.contains(line):
                return candidate
            if candidate.end_line < line and not candidate.recovered:
                break
            index -= 1
        return None

    # -- calls ----------------------------------------------------------------------------------

    @cached_property
    def _calls_by_name(self) -> dict[str, list[CallSite]]:
        index: dict[str, list[CallSite]] = {}
        for node in self._call_nodes:
            callee = node.child_by_field_name("function")
            if callee is None:
                continue
            name = _normalise(self.node_text(callee))
            line = node.start_point.row + 1
            arguments = node.child_by_field_name("arguments")
            args = (
                [
                    _normalise(self.node_text(arg))
                    for arg in arguments.named_children
                    if arg.type != "comment"
                ]
                if arguments is not None
                else []
            )
            enclosing = self.enclosing_function(line)
            index.setdefault(name, []).append(
                CallSite(
                    name=name,
                    line=line,
                    column=self._column(node),
                    function=enclosing.name if enclosing else None,
                    args=args,
                    node=node,
                    end_line=node.end_point.row + 1,
                )
            )
        for sites in index.values():
            sites.sort(key=lambda s: (s.line, s.column))
        return index

    def calls(self, name: str) -> list[CallSite]:
        """Every call of name, in file order, with argument texts (whitespace collapsed)."""
        return list(self._calls_by_name.get(name, []))

    def callees(self) -> list[str]:
        """Every name called in the text, each once."""
        return list(self._calls_by_name)

    def all_calls(self) -> list[CallSite]:
        """Every call in the text, in file order."""
        out = [site for sites in self._calls_by_name.values() for site in sites]
        out.sort(key=lambda s: (s.line, s.column))
        return out

    # -- definitions and declarations ---------------------------------------------------------

    def definitions(self, name: str) -> list[FunctionDef]:
        """Functions defined with name, and function-like or object macros of that name."""
        out = [f for f in self._functions if f.name == name]
        for node in self._macro_nodes:
            macro_name = node.child_by_field_name("name")
            if macro_name is not None and self.node_text(macro_name) == name:
                params = node.child_by_field_name("parameters")
                out.append(
                    FunctionDef(
                        name=name,
                        start_line=node.start_point.row + 1,
                        end_line=max(node.start_point.row + 1, node.end_point.row),
                        node=node,
                        is_static=False,
                        kind="macro",
                        params=tuple(self.node_text(p) for p in params.named_children)
                        if params is not None
                        else (),
                    )
                )
        out.sort(key=lambda f: f.start_line)
        return out

    @cached_property
    def _declarations(self) -> list[Declaration]:
        out = []
        for node in self._declaration_nodes:
            storage = self._storage(node)
            for declarator in node.children_by_field_name("declarator"):
                fname, params = self._declarator_name(declarator)
                if fname is not None:
                    kind, name, names = "prototype", fname, self._param_names(params)
                else:
                    ident = _innermost_identifier(declarator)
                    if ident is None:
                        continue
                    kind, name, names = "variable", self.node_text(ident), ()
                out.append(
                    Declaration(
                        name=name,
                        line=node.start_point.row + 1,
                        end_line=node.end_point.row + 1,
                        kind=kind,
                        is_static="static" in storage,
                        is_extern="extern" in storage,
                        params=names,
                        text=_normalise(self.node_text(node)),
                        node=node,
                    )
                )
        return out

    def declarations(self, name: str) -> list[Declaration]:
        """Declarations (prototypes and variables) that declare name, in file order."""
        return [d for d in self._declarations if d.name == name]

    def prototype(self, name: str) -> tuple[str, ...] | None:
        """Parameter names of name from its prototype or definition, or None when unseen."""
        for declaration in self.declarations(name):
            if declaration.kind == "prototype":
                return declaration.params
        for definition in self.definitions(name):
            if definition.kind == "function":
                return definition.params
        return None

    # -- assignments --------------------------------------------------------------------------

    @cached_property
    def _assignments(self) -> list[Assignment]:
        out = []
        for node in self._assignment_nodes:
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            operator = node.child_by_field_name("operator")
            if left is None or right is None:
                continue
            op = self.node_text(operator) if operator is not None else "="
            out.append(
                Assignment(
                    _normalise(self.node_text(left)),
                    op,
                    _normalise(self.node_text(right)),
                    node.start_point.row + 1,
                    condition=self._guard(node),
                )
            )
        for node in self._init_nodes:
            value = node.child_by_field_name("value")
            ident = _innermost_identifier(node.child_by_field_name("declarator"))
            target = self.node_text(ident) if ident is not None else None
            if value is None:
                continue
            if value.type != "initializer_list":
                if target is not None:
                    out.append(
                        Assignment(
                            target, "=", _normalise(self.node_text(value)), node.start_point.row + 1
                        )
                    )
                continue
            for pair in value.named_children:
                if pair.type != "initializer_pair":
                    continue
                designator = pair.child_by_field_name("designator")
                pair_value = pair.child_by_field_name("value")
                if designator is None or pair_value is None:
                    continue
                out.append(
                    Assignment(
                        _normalise(self.node_text(designator)),
                        "=",
                        _normalise(self.node_text(pair_value)),
                        pair.start_point.row + 1,
                        target,
                    )
                )
        out.sort(key=lambda a: a.line)
        return out

    def _guard(self, node: Node) -> str | None:
        """The condition of the `if` whose then-branch holds this statement directly."""
        statement = node.parent
        if statement is None or statement.type != "expression_statement":
            return None
        holder = statement.parent
        if holder is not None and holder.type == "compound_statement":
            if len(holder.named_children) > 3:
                return None  # a block of many statements: not a simple guard
            statement, holder = holder, holder.parent
        if holder is None or holder.type != "if_statement":
            return None
        consequence = holder.child_by_field_name("consequence")
        if consequence is None or consequence.id != statement.id:
            return None
        condition = holder.child_by_field_name("condition")
        if condition is None:
            return None
        text = _normalise(self.node_text(condition))
        return text[1:-1].strip() if text.startswith("(") and text.endswith(")") else text

    def assignments(self, start_line: int = 1, end_line: int | None = None) -> list[Assignment]:
        """Assignments and designated initializers between two lines (inclusive), in order."""
        last = end_line if end_line is not None else self.text.count("\n") + 1
        return [a for a in self._assignments if start_line <= a.line <= last]

    # -- errors ---------------------------------------------------------------------------------

    def _error_regions(self) -> list[ParseErrorRegion]:
        regions: list[ParseErrorRegion] = []
        for node in _error_nodes(self.tree.root_node):
            start, end = node.start_point.row + 1, node.end_point.row + 1
            if node.type == "ERROR" and node.end_point.column == 0 and end > start:
                end -= 1  # an ERROR that ends at column 0 ends on the line before
            enclosing = self.enclosing_function(start)
            function = enclosing.name if enclosing else self._name_inside(node)
            kind = "missing" if node.is_missing else "error"
            regions.append(ParseErrorRegion(start, end, function, kind))
        regions.sort(key=lambda r: (r.start_line, r.end_line))
        merged: list[ParseErrorRegion] = []
        for region in regions:
            last = merged[-1] if merged else None
            if (
                last is not None
                and last.function == region.function
                and region.start_line <= last.end_line + 1
            ):
                merged[-1] = ParseErrorRegion(
                    last.start_line,
                    max(last.end_line, region.end_line),
                    last.function,
                    "error" if "error" in (last.kind, region.kind) else "missing",
                )
            else:
                merged.append(region)
        return merged

    def _name_inside(self, node: Node) -> str | None:
        for child in node.children:
            name, _params = self._declarator_name(child)
            if name is not None:
                return name
        return None

    @cached_property
    def hidden(self) -> list[ParseErrorRegion]:
        """Masked `#if` branches that lie inside a function: code the parse does not hold."""
        out = []
        for region in self.masked:
            enclosing = self.enclosing_function(region.start_line)
            if enclosing is None:
                continue  # an initializer or a declaration list: no code a checker walks
            out.append(
                ParseErrorRegion(
                    region.start_line, region.end_line, enclosing.name, "masked", region.reason
                )
            )
        return out

    def unchecked(self) -> list[ParseErrorRegion]:
        """Every region a checker cannot see: parse errors and hidden branches, in line order."""
        return sorted(self.errors + self.hidden, key=lambda r: (r.start_line, r.end_line))

    @property
    def ok(self) -> bool:
        """True when the whole text parsed without an error region."""
        return not self.errors


def _error_nodes(root: Node) -> list[Node]:
    """ERROR and MISSING nodes, outermost only, visiting only subtrees that hold an error."""
    out: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            out.append(node)
            continue
        stack.extend(child for child in reversed(node.children) if child.has_error)
    return out


def _innermost_identifier(node: Node | None) -> Node | None:
    while node is not None:
        if node.type in ("identifier", "field_identifier", "type_identifier"):
            return node
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next(
                (c for c in node.named_children if c.type not in ("comment", "type_qualifier")),
                None,
            )
            if node.type in ("array_declarator", "function_declarator") and inner is None:
                return None
        node = inner
    return None
