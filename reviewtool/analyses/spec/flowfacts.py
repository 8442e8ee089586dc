"""What each function looks like to liveness: per CFG node, the names it mentions and
reads, the text a condition may be tested in, its call sites, the same-file functions it
names, the names it overwrites, and what is reachable from it (computed once per function).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tree_sitter import Node

from reviewtool.analyses.spec.cfg import Cfg
from reviewtool.analyses.spec.state import IDENT_RE, param_list

_EXITS = ("return", "end")
_DECLARATORS = ("init_declarator", "identifier", "pointer_declarator", "array_declarator")


@dataclass
class NodeFacts:
    """Per CFG node of one function: names (all, and those read), the text a condition may
    be tested in, call sites, the same-file functions it names, the names it overwrites,
    successors, and what is reachable from it and after it."""

    idents: list[frozenset[str]]
    reads: list[frozenset[str]]
    tested: list[str]
    calls: list[frozenset[int]]
    callees: list[dict[str, int]]  # same-file function -> times named
    kills: list[frozenset[str]]
    exits: list[bool]
    successors: list[tuple[int, ...]]
    reach: list[tuple[int, ...]]  # this node and every node reachable from it
    after: list[tuple[int, ...]]  # every node reachable from its successors
    body_reads: frozenset[str] = frozenset()
    uses: list[frozenset[str]] = field(default_factory=list)  # names read, not only stored


def _call_sites(node: Node) -> set[int]:
    out = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if current.type == "call_expression":
            out.add(current.start_byte)
        todo.extend(current.children)
    return out


def _declared(node: Node) -> tuple[set[str], list[Node]]:
    """Names a declaration stores to, as the walker's declare() does, and their values."""
    out = set()
    values = []
    for child in node.named_children:
        if child.type not in _DECLARATORS:
            continue
        init = child.type == "init_declarator"
        target = child.child_by_field_name("declarator") if init else child
        while target is not None and target.type != "identifier":
            target = target.child_by_field_name("declarator")
        if target is not None:
            out.add(target.text.decode())
            value = child.child_by_field_name("value") if init else None
            if value is not None:
                values.append(value)
    return out, values


def _names(node: Node, text: str) -> list[str]:
    """Identifiers of a node, in the real text and the sanitised one (reads use the latter)."""
    return IDENT_RE.findall(text) + IDENT_RE.findall(node.text.decode())


class FunctionFacts:
    """NodeFacts of the functions of one parsed text, built on demand and kept."""

    def __init__(
        self, definitions: dict, cfg: Callable[[Node], Cfg], text: Callable[[Node], str]
    ) -> None:
        self.definitions = definitions
        self.cfg = cfg
        self.text = text
        self._by_function: dict[int, NodeFacts] = {}
        self._closures: dict[frozenset[str], frozenset[str]] = {}
        self._merge_points: dict[int, frozenset[int]] = {}
        self._calls_from: dict[tuple[int, int], frozenset[int]] = {}

    def kills(self, node: Node, params: set[str]) -> tuple[frozenset[str], list[Node]]:
        """Names a statement overwrites on every path through it (the walker forgets the
        answers that name them), and the parts evaluated before the store."""
        if node.type == "declaration":
            names, values = _declared(node)
            return frozenset(names), values
        expr = _assignment(node)
        if expr is not None:
            left = expr.child_by_field_name("left")
            right = expr.child_by_field_name("right")
            # A parameter may stand for a caller's variable: the store goes there.
            if left is not None and right is not None and left.type == "identifier":
                name = left.text.decode()
                if name not in params:
                    return frozenset({name}), [right]
        return frozenset(), []

    def reads(self, node: Node, names: list[str]) -> frozenset[str]:
        """Names a statement may read: all but a struct field it only writes."""
        expr = _assignment(node)
        if expr is not None and self.text(expr.child_by_field_name("operator")) == "=":
            left = expr.child_by_field_name("left")
            if left is not None and left.type == "field_expression":
                written = left.child_by_field_name("field")
                if written is not None:
                    name = written.text.decode()
                    # Named once in each text: that is the write.
                    if names.count(name) <= 2:
                        return frozenset(n for n in names if n != name)
        return frozenset(names)

    def of(self, fdef) -> NodeFacts:
        """Names, text, call sites and reachability of each CFG node of a function."""
        found = self._by_function.get(fdef.node.id)
        if found is not None:
            return found
        params = {name for name, _ in param_list(fdef.node)}
        graph = self.cfg(fdef.node)
        idents, reads, tested, calls, callees, kills = [], [], [], [], [], []
        uses: list[frozenset[str]] = []
        for cfg_node in graph.nodes:
            node = cfg_node.node
            if node is None:
                idents.append(frozenset())
                reads.append(frozenset())
                uses.append(frozenset())
                tested.append("")
                calls.append(frozenset())
                callees.append({})
                kills.append(frozenset())
                continue
            text = self.text(node)
            names = _names(node, text)
            idents.append(frozenset(names))
            reads.append(self.reads(node, names))
            calls.append(frozenset(_call_sites(node)))
            named: dict[str, int] = {}
            for name in IDENT_RE.findall(text):
                if name in self.definitions:
                    named[name] = named.get(name, 0) + 1
            callees.append(named)
            killed, values = (
                self.kills(node, params) if cfg_node.kind == "expr" else (frozenset(), [])
            )
            kills.append(killed)
            # A condition is tested in a store's value, never in the name stored to.
            tested.append("\n".join(self.text(v) for v in values) if killed else text)
            compound = (expr := _assignment(node)) is not None and self.text(
                expr.child_by_field_name("operator")
            ) != "="
            if killed and not compound:
                uses.append(frozenset(n for v in values for n in _names(v, self.text(v))))
            else:
                uses.append(frozenset(names))
        successors = []
        for cfg_node in graph.nodes:
            nxt = [cfg_node.next, cfg_node.true, cfg_node.false]
            nxt += [target for _, target in cfg_node.cases]
            successors.append(tuple(sorted({n for n in nxt if n is not None})))
        reach: list[tuple[int, ...]] = []
        after: list[tuple[int, ...]] = []
        for start in range(len(graph.nodes)):
            seen: set[int] = set()
            todo = list(successors[start])
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(successors[current])
            after.append(tuple(sorted(seen)))
            reach.append(tuple(sorted(seen | {start})))
        exits = [cfg_node.kind in _EXITS for cfg_node in graph.nodes]
        found = NodeFacts(
            idents, reads, tested, calls, callees, kills, exits, successors, reach, after
        )
        found.body_reads = frozenset().union(*reads)
        found.uses = uses
        self._by_function[fdef.node.id] = found
        return found

    def closure(self, names) -> frozenset[str]:
        """Same-file functions in `names`, and every function they name, transitively."""
        memo = self._closures
        key = frozenset(names)
        found = memo.get(key)
        if found is not None:
            return found
        out: set[str] = set()
        todo = [n for n in key if n in self.definitions]
        while todo:
            name = todo.pop()
            if name in out:
                continue
            out.add(name)
            static = self.of(self.definitions[name])
            for named in static.callees:
                todo.extend(n for n in named if n not in out)
        found = memo[key] = frozenset(out)
        return found

    def callee_info(self, name: str) -> tuple[frozenset[str], frozenset[int]]:
        """The names read and the call sites of one same-file function."""
        static = self.of(self.definitions[name])
        return static.body_reads, frozenset().union(*static.calls)

    def calls_from(self, fdef, nid: int) -> frozenset[int]:
        """Start bytes of the call sites of `fdef` a path may run from CFG node `nid` on."""
        key = (fdef.node.id, nid)
        found = self._calls_from.get(key)
        if found is None:
            static = self.of(fdef)
            found = frozenset().union(*(static.calls[n] for n in static.reach[nid]))
            self._calls_from[key] = found
        return found

    def merge_points(self, fdef) -> frozenset[int]:
        """CFG nodes where paths may meet, or leave the function: the entry, labels, nodes
        with several predecessors, returns and the end. Elsewhere a path comes from a
        single node, so the states there merge where they did one step before."""
        found = self._merge_points.get(fdef.node.id)
        if found is None:
            graph = self.cfg(fdef.node)
            static = self.of(fdef)
            preds = [0] * len(graph.nodes)
            for successors in static.successors:
                for nxt in successors:
                    preds[nxt] += 1
            found = frozenset(
                nid
                for nid, node in enumerate(graph.nodes)
                if nid == graph.entry or preds[nid] != 1 or node.kind in ("label", *_EXITS)
            )
            self._merge_points[fdef.node.id] = found
        return found

    @staticmethod
    def reach(static: NodeFacts, starts, blocked: frozenset[int]) -> tuple[int, ...]:
        """The nodes reachable from `starts` (included) without passing a blocked label."""
        if not blocked:
            return tuple(sorted({n for start in starts for n in static.reach[start]}))
        seen: set[int] = set()
        todo = [n for n in starts if n not in blocked]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(n for n in static.successors[current] if n not in blocked)
        return tuple(sorted(seen))


def _assignment(node: Node) -> Node | None:
    """The assignment an expression statement consists of, if it does."""
    if node.type == "expression_statement" and len(node.named_children) == 1:
        expr = node.named_children[0]
        if expr.type == "assignment_expression":
            return expr
    return None


def plain_call(node: Node | None, callee: str, kind: str) -> frozenset[str] | None:
    """When a statement only returns or stores a call of `callee` (`return f(x);`,
    `r = f(x);`, `int r = f(x);`): the names its store goes through; else None."""
    if node is None:
        return None
    value, target = None, frozenset()
    if kind == "return":
        value = node
    elif node.type == "declaration":
        declarators = [c for c in node.named_children if c.type in _DECLARATORS]
        if len(declarators) == 1 and declarators[0].type == "init_declarator":
            value = declarators[0].child_by_field_name("value")
    else:
        expr = _assignment(node)
        if expr is not None and expr.child_by_field_name("operator").text == b"=":
            value = expr.child_by_field_name("right")
            left = expr.child_by_field_name("left")
            target = frozenset(IDENT_RE.findall(left.text.decode())) if left else frozenset()
    if value is None or value.type != "call_expression":
        return None
    function = value.child_by_field_name("function")
    if function is None or function.text.decode() != callee:
        return None
    return target
