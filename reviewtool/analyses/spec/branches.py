"""Conditions on a path: every answer a test can take, decided where the values say, forked
(and remembered for the rest of the path) where they do not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.model import ERROR
from reviewtool.analyses.spec.state import Frame, State, line_of

if TYPE_CHECKING:
    from reviewtool.analyses.spec.walker import Walker


class Branches:
    """Answers conditions for one Walker."""

    def __init__(self, walker: Walker) -> None:
        self.walker = walker
        self.spec = walker.spec
        self.text = walker.text

    def cond(self, st: State, node: Node, frame: Frame) -> list[tuple[State, bool]]:
        """Every (state, answer) a condition can take on this path."""
        kind = node.type
        if kind == "parenthesized_expression" and node.named_children:
            return self.cond(st, node.named_children[-1], frame)
        if kind == "unary_expression" and self.text(node.child_by_field_name("operator")) == "!":
            return [
                (s, not a) for s, a in self.cond(st, node.child_by_field_name("argument"), frame)
            ]
        if kind == "call_expression" and self.walker.calls.callee_name(node) in (
            "likely",
            "unlikely",
        ):
            args = self.walker.calls.call_args(node)
            if len(args) == 1:
                return self.cond(st, args[0], frame)
        if (
            kind == "call_expression"
            and self.walker.calls.callee_name(node) in self.spec.bug_if_true
        ):
            # WARN_ON_ONCE(x), KVM_BUG_ON(x, kvm): the true branch is a kernel bug, so the
            # path goes on where x is false; x is still evaluated for what it does.
            out = []
            for s, _ in self.walker.calls.eval_args(st, self.walker.calls.call_args(node), frame):
                out.append((s, False))
            return out
        if kind == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op in ("&&", "||"):
                if self.walker.configs.config_only(node):
                    # `tdp_enabled && IS_ENABLED(CONFIG_X86_64)`: one configuration question,
                    # answered as a whole so that findings name it as the code does.
                    return self.unknown(st, node, frame)
                out = []
                for s, a in self.cond(st, left, frame):
                    if a == (op == "||"):
                        out.append((s, a))
                    else:
                        out.extend(self.cond(s, right, frame))
                return out
            if op in ("==", "!=", "<", ">", "<=", ">="):
                out = []
                for s1, lv in self.walker.exprs.eval(st, left, frame):
                    for s2, rv in self.walker.exprs.eval(s1.copy(), right, frame):
                        out.extend(self.compare(s2, op, lv, rv, node, frame))
                return out
        out = []
        for s, value in self.walker.exprs.eval(st, node, frame):
            out.extend(self.truth(s, value, node, frame))
        return out

    def compare(self, st, op, lv, rv, node, frame) -> list[tuple[State, bool]]:
        """Answers of `==`, `!=`, `<`...: decided for constants, error pfns and NULL pages."""
        if isinstance(lv, V.Const) and isinstance(rv, V.Const):
            a, b = lv.number, rv.number
            result = {
                "==": a == b,
                "!=": a != b,
                "<": a < b,
                ">": a > b,
                "<=": a <= b,
                ">=": a >= b,
            }
            return [(st, result[op])]
        if op in ("==", "!="):
            for this, other in ((lv, rv), (rv, lv)):
                if isinstance(this, V.Pfn) and other == V.ERROR_PFN:
                    if st.sim.pages[this.pid].kind != ERROR:
                        return [(st, op == "!=")]
                    break
                if isinstance(this, (V.Page, V.Refcounted, V.Pfn)) and other == V.NULL:
                    return [(s, a != (op == "==")) for s, a in self.truth(st, this, node, frame)]
        return self.unknown(st, node, frame)

    def truth(
        self, st: State, value: V.Value, node: Node, frame: Frame
    ) -> list[tuple[State, bool]]:
        """Answers of a value used as a condition; unknown values fork."""
        if isinstance(value, V.Const):
            return [(st, bool(value.number))]
        if isinstance(value, (V.Pfn, V.ErrorPfn, V.Alias, V.Addr)):
            return [(st, True)]
        if isinstance(value, (V.Page, V.Refcounted)):
            answer = st.sim.pages[value.pid].kind in value.kinds
            st.event(line_of(node), f"'{self.text(node)}' is {'true' if answer else 'false'}")
            return [(st, answer)]
        if isinstance(value, V.Flags):
            return [(st, bool(value.names))]
        if isinstance(value, V.Sym) and not self.walker.configs.is_config(self.text(node)):
            key = f"sym:{value.name}"
            if key in st.facts:
                return [(st, st.facts[key])]
            out = []
            for answer in (True, False):
                s = st.copy()
                s.facts[key] = answer
                out.append((s, answer))
            return out
        if isinstance(value, V.Retry):
            out = []
            for stale in (True, False):
                s = st.copy()
                s.sim.retry_check(stale)
                verdict = "stale: retry" if stale else "passed"
                locked = "" if s.sim.locked else " (mmu_lock not held)"
                s.event(line_of(node), f"retry check '{self.text(node)}' {verdict}{locked}")
                out.append((s, stale))
            return out
        return self.unknown(st, node, frame)

    def unknown(self, st: State, node: Node, frame: Frame) -> list[tuple[State, bool]]:
        text = self.text(node)
        if text in st.facts:
            return [(st, st.facts[text])]
        given = self.walker.configs.given_answer(node)
        if given is not None:
            return [(st, given)]
        out = []
        for answer in (True, False):
            s = st.copy()
            s.facts[text] = answer
            if self.walker.configs.is_config(text):
                s.assumptions = (*s.assumptions, (self.walker.configs.render(node, answer), answer))
                s.assume_nodes = (*s.assume_nodes, (node, answer))
                s.event(line_of(node), f"assume {self.walker.configs.render(node, answer)}")
            out.append((s, answer))
        return out
