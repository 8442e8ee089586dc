"""Expressions on a path: every value an expression can take (paths fork where it can go
several ways), assignments, declarations and `{ .field = ... }` initialisers.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.locations import loc, read, resolve, store
from reviewtool.analyses.spec.state import ERRNO_RE, UNSEEN_FLAGS, Frame, State, line_of

if TYPE_CHECKING:
    from reviewtool.analyses.spec.walker import Walker


class Expressions:
    """Evaluates expressions for one Walker (calls go to its CallEffects, tests to its
    Branches)."""

    def __init__(self, walker: Walker) -> None:
        self.walker = walker
        self.spec = walker.spec
        self.text = walker.text
        self.literals: dict[int, V.Value | None] = {}

    def literal(self, node: Node) -> V.Value | None:
        """The value of a literal or well-known name (RET_PF_*, FOLL_*, -EFAULT), or None
        (cached per node)."""
        key = node.id
        if key in self.literals:
            return self.literals[key]
        found = self.literals[key] = self._literal(node)
        return found

    def constant(self, node: Node) -> int | None:
        """The integer a case label or literal stands for, if known."""
        value = self.literal(node)
        return value.number if isinstance(value, V.Const) else None

    def _literal(self, node: Node) -> V.Value | None:
        text = self.text(node)
        if node.type == "number_literal":
            try:
                return V.Const(int(text.rstrip("uUlL"), 0))
            except ValueError:
                return V.UNKNOWN
        if node.type in ("true", "false", "null"):
            return V.Const({"true": 1, "false": 0, "null": 0}[node.type])
        if node.type == "identifier":
            if text in self.spec.constants:
                return V.Const(self.spec.constants[text])
            if self.spec.is_flag(text):
                return V.flags(frozenset({text}))
            if self.spec.is_error_pfn(text):
                return V.ERROR_PFN
        if node.type == "unary_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "-" and arg is not None and ERRNO_RE.fullmatch(self.text(arg)):
                return V.Const(-1 - zlib.crc32(self.text(arg).encode()) % 4000)
        return None

    def eval(self, st: State, node: Node | None, frame: Frame) -> list[tuple[State, V.Value]]:
        """Every (state, value) an expression can produce on this path."""
        if node is None:
            return [(st, V.UNKNOWN)]
        kind = node.type
        literal = self.literal(node)
        if literal is not None and not (
            kind == "identifier" and (frame.depth, self.text(node)) in st.env
        ):
            return [(st, literal)]
        if kind == "identifier":
            return [(st, read(st, resolve(st, frame.depth, node.text.decode())))]
        if kind == "field_expression":
            out = []
            fld = node.child_by_field_name("field")
            for s, _ in self.eval(st, node.child_by_field_name("argument"), frame):
                if fld is not None and self.spec.row(fld.text.decode(), 0) is not None:
                    row = self.spec.row(fld.text.decode(), 0)
                    if row.effect == "snapshot":
                        s.sim.snapshot()
                        s.event(line_of(node), f"notifier snapshot '{self.text(node)}'")
                where = loc(s, node, frame)
                out.append((s, read(s, where) if where else V.UNKNOWN))
            return out
        if kind in ("parenthesized_expression",):
            inner = node.named_children[-1] if node.named_children else None
            return self.eval(st, inner, frame)
        if kind == "cast_expression":
            return self.eval(st, node.child_by_field_name("value"), frame)
        if kind == "pointer_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "*":
                out = []
                for s, _ in self.eval(st, arg, frame):
                    where = loc(s, node, frame)
                    out.append((s, read(s, where) if where else V.UNKNOWN))
                return out
            return [(s, V.UNKNOWN) for s, _ in self.eval(st, arg, frame)]
        if kind == "unary_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "!":
                return [(s, V.Const(int(a))) for s, a in self.walker.branches.cond(st, node, frame)]
            out = []
            for s, value in self.eval(st, arg, frame):
                if op == "~" and isinstance(value, V.Flags):
                    out.append((s, V.NotFlags(value.names)))
                elif op == "-" and isinstance(value, V.Const):
                    out.append((s, V.Const(-value.number)))
                else:
                    out.append((s, V.UNKNOWN))
            return out
        if kind == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op in ("&&", "||", "==", "!=", "<", ">", "<=", ">="):
                return [(s, V.Const(int(a))) for s, a in self.walker.branches.cond(st, node, frame)]
            out = []
            for s1, lv in self.eval(st, node.child_by_field_name("left"), frame):
                for s2, rv in self.eval(s1, node.child_by_field_name("right"), frame):
                    out.append((s2, self.arith(op, lv, rv)))
            return out
        if kind == "conditional_expression":
            out = []
            for s, answer in self.walker.branches.cond(
                st, node.child_by_field_name("condition"), frame
            ):
                branch = node.child_by_field_name("consequence" if answer else "alternative")
                out.extend(self.eval(s, branch, frame))
            return out
        if kind == "call_expression":
            return self.walker.calls.call(st, node, frame)
        if kind == "assignment_expression":
            return self.assign(st, node, frame)
        if kind == "declaration":
            return self.declare(st, node, frame)
        if kind in ("comma_expression", "expression_statement"):
            states = [(st, V.UNKNOWN)]
            for child in node.named_children:
                states = [pair for s, _ in states for pair in self.eval(s, child, frame)]
            return states
        if kind == "update_expression":
            arg = node.child_by_field_name("argument")
            out = []
            for s, _ in self.eval(st, arg, frame):
                where = loc(s, arg, frame) if arg is not None else None
                if where:
                    store(s, where, V.UNKNOWN)
                out.append((s, V.UNKNOWN))
            return out
        states = [(st, V.UNKNOWN)]
        for child in node.named_children:
            if child.type in ("call_expression", "assignment_expression", "comma_expression"):
                states = [
                    (s2, V.UNKNOWN) for s, _ in states for s2, _ in self.eval(s, child, frame)
                ]
        return states

    @staticmethod
    def arith(op: str, lv: V.Value, rv: V.Value) -> V.Value:
        """`|`, `&` and `~` on FOLL_* flag sets and constants; anything else is unknown."""
        if op in ("+", "-", "|") and (isinstance(lv, V.Addr) or isinstance(rv, V.Addr)):
            # An offset (or tag bits) into the same page.
            return lv if isinstance(lv, V.Addr) else rv
        if op in ("<<", ">>") and isinstance(lv, V.Pfn) and isinstance(rv, (V.Const, V.Sym)):
            # `hpaddr = pfn << PAGE_SHIFT; ... release(hpaddr >> PAGE_SHIFT)`: the same page
            # and reference; handed to a mapping function, a number, not a kept pointer.
            return lv
        if op == "&" and isinstance(lv, V.Pfn) and not isinstance(rv, V.Flags):
            # `pfn &= ~(nr_pages - 1)`: the head of the huge page the pfn lies in, the same
            # folio and the same reference.
            return lv
        if op in ("|", "&") and (isinstance(lv, V.Flags) or isinstance(rv, V.Flags)):
            # `flags = write ? FOLL_WRITE : 0;` then `flags |= ...`: 0 is the empty flag set.
            lv = V.flags(frozenset()) if lv == V.NULL else lv
            rv = V.flags(frozenset()) if rv == V.NULL else rv
        if op == "|":
            if isinstance(lv, V.Flags) and isinstance(rv, V.Flags):
                return V.flags(lv.names | rv.names)
            for a, b in ((lv, rv), (rv, lv)):
                if isinstance(a, V.Flags) and isinstance(b, (V.Unknown, V.Sym)):
                    # Flags set somewhere we cannot see: FOLL_GET may be among them.
                    return V.flags(a.names | {UNSEEN_FLAGS})
                if isinstance(a, V.Flags) and isinstance(b, V.Const):
                    return a
            if isinstance(lv, V.Const) and isinstance(rv, V.Const):
                return V.Const(lv.number | rv.number)
        if op == "&":
            for a, b in ((lv, rv), (rv, lv)):
                if isinstance(a, V.Flags) and isinstance(b, V.NotFlags):
                    return V.flags(a.names - b.names)
                if isinstance(a, V.Flags) and isinstance(b, V.Flags):
                    return V.flags(a.names & b.names)
        if isinstance(lv, V.Const) and isinstance(rv, V.Const):
            ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "&": lambda a, b: a & b}
            if op in ops:
                return V.Const(ops[op](lv.number, rv.number))
        return V.UNKNOWN

    def assign(self, st: State, node: Node, frame: Frame) -> list[tuple[State, V.Value]]:
        """`x = v`, `x |= v`, ...: every value the right side can take, stored."""
        op = self.text(node.child_by_field_name("operator"))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        out = []
        for s, value in self.eval(st, right, frame):
            where = loc(s, left, frame)
            if where is None:
                out.append((s, value))
                continue
            if op != "=":
                value = self.arith(op[:-1], read(s, where), value)
            store(s, where, value)
            out.append((s, value))
        return out

    def declare(self, st: State, node: Node, frame: Frame) -> list[tuple[State, V.Value]]:
        """A declaration: the names become locals, with their initial values."""
        states = [(st, V.UNKNOWN)]
        for child in node.named_children:
            if child.type not in (
                "init_declarator",
                "identifier",
                "pointer_declarator",
                "array_declarator",
            ):
                continue
            target = (
                child.child_by_field_name("declarator")
                if child.type == "init_declarator"
                else child
            )
            while target is not None and target.type != "identifier":
                target = target.child_by_field_name("declarator")
            if target is None:
                continue
            name = target.text.decode()
            value_node = (
                child.child_by_field_name("value") if child.type == "init_declarator" else None
            )
            nxt = []
            for s, _ in states:
                s.locals = s.locals | {(frame.depth, name)}
                where = (frame.depth, name)
                if value_node is None:
                    store(s, where, V.UNKNOWN)
                    nxt.append((s, V.UNKNOWN))
                elif value_node.type == "initializer_list":
                    nxt.extend(self.initialise(s, name, value_node, frame))
                else:
                    for s2, value in self.eval(s, value_node, frame):
                        store(s2, where, value)
                        nxt.append((s2, value))
            states = nxt
        return states

    def initialise(
        self, st: State, name: str, init: Node, frame: Frame
    ) -> list[tuple[State, V.Value]]:
        """`struct kvm_follow_pfn foll = { .flags = ... }`: named fields set, the rest zero."""
        store(st, (frame.depth, name), V.ZERO_STRUCT)
        states = [st]
        for pair in init.named_children:
            if pair.type != "initializer_pair":
                continue
            designator = pair.child_by_field_name("designator") or pair.named_children[0]
            value_node = pair.child_by_field_name("value") or pair.named_children[-1]
            fld = designator.named_children[0] if designator.named_children else designator
            where = (frame.depth, f"{name}.{fld.text.decode()}")
            nxt = []
            for s in states:
                for s2, value in self.eval(s, value_node, frame):
                    store(s2, where, value)
                    nxt.append(s2)
            states = nxt
        return [(s, V.UNKNOWN) for s in states]
