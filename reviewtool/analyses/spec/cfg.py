"""A function body as a small control-flow graph the path walker can follow.

A loop gets a head node (a label) its back edge returns to, as a `goto retry` does; the walker
runs loops to a fixpoint (loops.py): a path passes a head again until it brings a state the
head has seen, forgetting at each new pass the answers about the calls it may run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

# Statements that contain other statements in order, as a compound statement does (the
# sanitiser leaves `#if` groups in place when it cannot decide them).
_SEQUENCES = ("compound_statement", "preproc_if", "preproc_ifdef", "translation_unit")
_SKIPPED = ("comment", "preproc_call", "preproc_def", "preproc_function_def", "preproc_include")


@dataclass
class CfgNode:
    """One step: kind is expr, branch, switch, return, label or end."""

    kind: str
    node: Node | None = None
    next: int | None = None
    true: int | None = None
    false: int | None = None
    cases: list[tuple[Node | None, int]] = field(default_factory=list)
    label: str = ""
    line: int = 0
    span: tuple[int, int] | None = None  # a loop head: the bytes of the loop


@dataclass
class Cfg:
    """The graph of one function: nodes by id and the entry id."""

    nodes: list[CfgNode]
    entry: int


def _line(node: Node) -> int:
    return node.start_point.row + 1


class _Builder:
    def __init__(self) -> None:
        self.nodes: list[CfgNode] = []
        self.labels: dict[str, int] = {}

    def add(self, node: CfgNode) -> int:
        self.nodes.append(node)
        return len(self.nodes) - 1

    def loop_head(self, stmt: Node) -> int:
        """The node a loop's back edge returns to: a label the walker counts passes of, and
        whose span tells which answers a new pass must ask again."""
        head = self.add(CfgNode("label", label=f"<loop:{stmt.start_byte}>", line=_line(stmt)))
        self.nodes[head].span = (stmt.start_byte, stmt.end_byte)
        return head

    def label(self, name: str) -> int:
        if name not in self.labels:
            self.labels[name] = self.add(CfgNode("label", label=name))
        return self.labels[name]

    def build(self, stmt: Node | None, nxt: int, brk: int | None, cont: int | None) -> int:
        if stmt is None:
            return nxt
        kind = stmt.type
        if kind in _SEQUENCES:
            children = [c for c in stmt.named_children if c.type not in _SKIPPED]
            if kind != "compound_statement":
                # `#if X` / `#ifdef X`: the condition is not a statement; the `#else` part is
                # dropped (the sanitiser picks a side when it can).
                children = [
                    c
                    for c in children
                    if c.type
                    not in ("identifier", "preproc_defined", "preproc_else", "preproc_elif")
                    and c != stmt.child_by_field_name("condition")
                ]
            for child in reversed(children):
                nxt = self.build(child, nxt, brk, cont)
            return nxt
        if kind in ("expression_statement", "declaration"):
            if not stmt.named_children:
                return nxt
            return self.add(CfgNode("expr", stmt, next=nxt, line=_line(stmt)))
        if kind == "if_statement":
            cond = stmt.child_by_field_name("condition")
            then = self.build(stmt.child_by_field_name("consequence"), nxt, brk, cont)
            alternative = stmt.child_by_field_name("alternative")
            other = nxt
            if alternative is not None:
                inner = [c for c in alternative.named_children if c.type not in _SKIPPED]
                other = self.build(inner[0] if inner else None, nxt, brk, cont)
            return self.add(CfgNode("branch", cond, true=then, false=other, line=_line(stmt)))
        if kind == "while_statement":
            head = self.loop_head(stmt)
            cond = stmt.child_by_field_name("condition")
            body = self.build(stmt.child_by_field_name("body"), head, nxt, head)
            test = self.add(CfgNode("branch", cond, true=body, false=nxt, line=_line(stmt)))
            self.nodes[head].next = test
            return head
        if kind == "for_statement":
            head = self.loop_head(stmt)
            update = stmt.child_by_field_name("update")
            after = (
                self.add(CfgNode("expr", update, next=head, line=_line(update))) if update else head
            )
            body = self.build(stmt.child_by_field_name("body"), after, nxt, after)
            cond = stmt.child_by_field_name("condition")
            self.nodes[head].next = (
                self.add(CfgNode("branch", cond, true=body, false=nxt, line=_line(stmt)))
                if cond is not None
                else body
            )
            init = stmt.child_by_field_name("initializer")
            if init is not None:
                return self.add(CfgNode("expr", init, next=head, line=_line(init)))
            return head
        if kind == "do_statement":
            cond = stmt.child_by_field_name("condition")
            if cond is not None and cond.text.strip(b"() \t\n") == b"0":
                # `do { ... } while (0)`: a statement block, run once.
                return self.build(stmt.child_by_field_name("body"), nxt, nxt, nxt)
            head = self.loop_head(stmt)
            tail = (
                self.add(CfgNode("branch", cond, true=head, false=nxt, line=_line(cond)))
                if cond is not None
                else head
            )
            self.nodes[head].next = self.build(stmt.child_by_field_name("body"), tail, nxt, tail)
            return head
        if kind == "switch_statement":
            body = stmt.child_by_field_name("body")
            cases = [c for c in (body.named_children if body else []) if c.type == "case_statement"]
            following = nxt
            entries: list[tuple[Node | None, int]] = []
            for case in reversed(cases):
                value = case.child_by_field_name("value")
                stmts = [c for c in case.named_children if c != value and c.type not in _SKIPPED]
                entry = following
                for child in reversed(stmts):
                    entry = self.build(child, entry, nxt, cont)
                entries.append((value, entry))
                following = entry
            entries.reverse()
            return self.add(
                CfgNode(
                    "switch",
                    stmt.child_by_field_name("condition"),
                    next=nxt,
                    cases=entries,
                    line=_line(stmt),
                )
            )
        if kind == "goto_statement":
            target = stmt.child_by_field_name("label")
            return self.label(target.text.decode()) if target is not None else nxt
        if kind == "break_statement":
            return brk if brk is not None else nxt
        if kind == "continue_statement":
            return cont if cont is not None else nxt
        if kind == "return_statement":
            value = next((c for c in stmt.named_children if c.type not in _SKIPPED), None)
            return self.add(CfgNode("return", value, line=_line(stmt)))
        if kind == "labeled_statement":
            name_node = stmt.child_by_field_name("label")
            name = name_node.text.decode() if name_node is not None else ""
            inner = [c for c in stmt.named_children if c != name_node and c.type not in _SKIPPED]
            lid = self.label(name)
            self.nodes[lid].next = self.build(inner[-1] if inner else None, nxt, brk, cont)
            self.nodes[lid].line = _line(stmt)
            return lid
        return nxt


def build_cfg(function: Node) -> Cfg:
    """The graph of a function_definition node."""
    builder = _Builder()
    body = function.child_by_field_name("body")
    end_line = function.end_point.row + 1
    end = builder.add(CfgNode("end", line=end_line))
    entry = builder.build(body, end, None, None)
    for lid in builder.labels.values():
        if builder.nodes[lid].next is None:  # goto to a label the parse lost
            builder.nodes[lid].next = end
    return Cfg(builder.nodes, entry)
