"""The path walker: follow every path through a function, drive the simulator, report findings.

Paths fork at if/else, `&&`/`||`, `?:`, switch, and at every acquisition (one path per page kind
the spec allows). A condition tested twice keeps its first answer. Same-file callees are
walked in place (their paths continue in the caller), so fields such as `fault->pfn` carry a
page from `kvm_faultin_pfn()` to the exit paths of `direct_page_fault()`.
"""

from __future__ import annotations

import zlib

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.callgraph import CallGraph, callers_only
from reviewtool.analyses.spec.cfg import Cfg, build_cfg
from reviewtool.analyses.spec.config import ConfigMixin
from reviewtool.analyses.spec.effects import EffectsMixin
from reviewtool.analyses.spec.liveness import LivenessMixin
from reviewtool.analyses.spec.model import ERROR, Spec
from reviewtool.analyses.spec.simulator import Simulator, Violation
from reviewtool.analyses.spec.state import (
    ERRNO_RE,
    IDENT_RE,
    MAX_INLINE_DEPTH,
    MAX_LABEL_VISITS,
    MAX_STEPS_PER_FUNCTION,
    UNSEEN_FLAGS,
    Frame,
    RawFinding,
    State,
    fold,
    line_of,
    param_list,
)

__all__ = ["RawFinding", "State", "Walker"]


class Walker(ConfigMixin, EffectsMixin, LivenessMixin):
    """Walks the functions of one parsed file under one spec generation."""

    def __init__(self, parsed, spec: Spec, path: str, selected: set[str] | None) -> None:
        self.parsed = parsed
        self.spec = spec
        self.path = path
        self.selected = selected
        self.definitions = {}
        for fdef in parsed.functions():
            if fdef.kind == "function" and not fdef.recovered:
                self.definitions.setdefault(fdef.name, fdef)
        self.cfgs: dict[int, Cfg] = {}
        self.texts: dict[tuple[int, int], str] = {}
        self.literals: dict[int, tuple | None] = {}
        # Drop what a path can no longer read (liveness.py) so that paths merge; off, every
        # state is kept whole and compared at every node (slow; for tests that compare).
        self.pruning = True
        self.inline_cache: dict[tuple, list[tuple[State, tuple, int]]] = {}
        self._graph: CallGraph | None = None
        # Per function: whether mmu_lock was held at each call of it walked so far.
        self.entry_locks: dict[str, set[bool]] = {}
        self._pointer_locals: dict[int, frozenset[str]] = {}
        self.findings: dict[tuple, RawFinding] = {}
        self.steps = 0
        self.exhausted = False
        self.top = ""
        self.last_line = 1 << 30  # findings past this line belong to context text
        self.given: dict[str, bool] = {}  # configuration atoms the checked function runs with
        self.judge_fallthrough = True  # False for hunk text: its end is not the function's
        self.config_atoms = {k.lstrip("!") for k in spec.config_names}

    # -- helpers ---------------------------------------------------------------------------

    def text(self, node: Node) -> str:
        """The real source text under a node, whitespace folded (cached)."""
        key = (node.start_byte, node.end_byte)
        found = self.texts.get(key)
        if found is None:
            found = self.texts[key] = fold(self.parsed.node_text(node))
        return found

    def literal(self, node: Node) -> tuple | None:
        """The value of a literal or well-known name (RET_PF_*, FOLL_*, -EFAULT), or None
        (cached per node)."""
        key = node.id
        if key in self.literals:
            return self.literals[key]
        found = self.literals[key] = self._literal(node)
        return found

    @property
    def graph(self) -> CallGraph:
        """Who calls whom among the functions of the text (built once)."""
        if self._graph is None:
            bodies = {f: self.parsed.node_text(d.node) for f, d in self.definitions.items()}
            self._graph = CallGraph.build(self.spec, bodies)
        return self._graph

    def relevant(self, name: str) -> bool:
        """True when a same-file function touches references, locks or the notifier at all,
        directly or through its callees; others are not worth walking into."""
        return self.graph.relevant(name)

    def reaches_page(self, name: str) -> bool:
        """True when a path through the function can meet a page at all."""
        return self.graph.reaches_page(name)

    def inner_functions(self, checked: dict[str, bool], text: str) -> set[str]:
        """Functions checked inside their callers rather than on their own."""
        return callers_only(self.graph, checked, text)

    def pointer_locals(self, fdef) -> frozenset[str]:
        """Locals a function declares as pointers (`struct vcpu_svm *svm = ...`)."""
        found = self._pointer_locals.get(fdef.node.id)
        if found is None:
            names = set()
            todo = [fdef.node.child_by_field_name("body")]
            while todo:
                node = todo.pop()
                if node is None:
                    continue
                if node.type == "pointer_declarator":
                    inner = node.child_by_field_name("declarator")
                    while inner is not None and inner.type != "identifier":
                        inner = inner.child_by_field_name("declarator")
                    if inner is not None:
                        names.add(inner.text.decode())
                todo.extend(node.named_children)
            found = self._pointer_locals[fdef.node.id] = frozenset(names)
        return found

    def cfg(self, function: Node) -> Cfg:
        """The control-flow graph of a function node (built once)."""
        if function.id not in self.cfgs:
            self.cfgs[function.id] = build_cfg(function)
        return self.cfgs[function.id]

    def report(self, st: State, rule: str, frame: Frame, line: int, message: str) -> None:
        """Record a finding on this path, once per rule, function, line and configuration."""
        if self.selected is not None and frame.name not in self.selected:
            return
        if line > self.last_line:
            return
        config = st.get_label or self.render_assumptions(st)
        key = (rule, frame.name, line, config)
        found = self.findings.get(key)
        # Several pages broken at one line: name the same one whatever order paths come in.
        if found is None or message < found.message:
            trace = (*st.trace, (line, f"{rule}: {message}"))
            self.findings[key] = RawFinding(
                rule,
                frame.name,
                line,
                message,
                config,
                trace,
                st.get_passed if st.get_label else None,
            )

    def violations(self, st: State, found: list[Violation], frame: Frame, line: int) -> None:
        """Report what the simulator found at this line."""
        for violation in found:
            self.report(st, violation.rule, frame, line, violation.message)

    # -- locations -------------------------------------------------------------------------

    def resolve(self, st: State, frame: int, path: str) -> tuple[int, str]:
        """Follow pointer-parameter aliases to the caller's location a path stands for."""
        path = path.lstrip("*")
        root, _, rest = path.partition(".")
        for _ in range(MAX_INLINE_DEPTH + 2):
            value = st.env.get((frame, root))
            if value is None or value[0] != "alias":
                break
            frame, target = value[1], value[2]
            path = f"{target}.{rest}" if rest else target
            root, _, rest = path.partition(".")
        return frame, path

    def loc(self, st: State, node: Node, frame: Frame) -> tuple[int, str] | None:
        """The location an lvalue expression names, or None (array elements, calls)."""
        path = self.path_of(node)
        return self.resolve(st, frame.depth, path) if path else None

    def path_of(self, node: Node) -> str | None:
        """`fault->pfn` -> `fault.pfn`: the dotted path of an lvalue, or None."""
        kind = node.type
        if kind == "identifier":
            return node.text.decode()
        if kind == "field_expression":
            base = self.path_of(node.child_by_field_name("argument"))
            fld = node.child_by_field_name("field")
            return f"{base}.{fld.text.decode()}" if base and fld is not None else None
        if kind == "pointer_expression":
            return self.path_of(node.child_by_field_name("argument"))
        if kind in ("parenthesized_expression", "cast_expression"):
            inner = node.child_by_field_name("value") or (
                node.named_children[-1] if node.named_children else None
            )
            return self.path_of(inner) if inner is not None else None
        return None

    def read(self, st: State, where: tuple[int, str]) -> tuple:
        """The value at a location: written on this path, zero in a `{...}` struct, or a symbol."""
        if where in st.env:
            return st.env[where]
        frame, path = where
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if st.env.get((frame, ".".join(parts[:cut]))) == V.ZERO_STRUCT:
                return V.const(0)
        # A value nobody on this path wrote: named after its location, so that a copy
        # (`slot = fault->slot`) and the original answer a test the same way.
        return ("sym", f"{frame}:{path}")

    def store(self, st: State, where: tuple[int, str], value: tuple) -> None:
        """Write a location and forget the answers to conditions that read it."""
        st.env[where] = value
        names = set(where[1].split("."))
        sym = f"sym:{where[0]}:{where[1]}"
        st.facts = {
            text: answer
            for text, answer in st.facts.items()
            if not (text == sym or text.startswith(sym + "."))
            and (text.startswith("sym:") or not names & set(IDENT_RE.findall(text)))
        }

    # -- walking ---------------------------------------------------------------------------

    def walk(self, fdef, st: State, frame: Frame) -> list[tuple[State, tuple, int]]:
        """Every way out of `fdef`: (state, returned value, line of the exit)."""
        graph = self.cfg(fdef.node)
        exits: list[tuple[State, tuple, int]] = []
        stack = [(graph.entry, st)]
        seen: set[tuple] = set()
        joins = self.merge_points(fdef) if self.pruning else None
        while stack:
            nid, st = stack.pop()
            self.steps += 1
            if self.steps > MAX_STEPS_PER_FUNCTION:
                self.exhausted = True
                break
            if joins is None or nid in joins:
                if joins is not None:
                    # Where paths meet (and where they leave): drop what nothing ahead reads,
                    # so that paths differing only in that merge.
                    blocked = self.blocked_labels(st, fdef, frame.depth)
                    ahead = self.ahead(fdef, nid, frame.depth, frame.cont, blocked)
                    self.prune(st, ahead, frame.depth)
                # How often the path passed each label is part of what it may still do: a
                # state on its last pass must not stand in for the same state on its first.
                key = (nid, st.key(), frozenset(st.label_visits.items()))
                if key in seen:
                    continue
                seen.add(key)
            frame.here = (fdef, nid)
            node = graph.nodes[nid]
            if node.kind == "label":
                count = st.label_visits.get((frame.depth, nid), 0)
                if count >= MAX_LABEL_VISITS:
                    continue
                st.label_visits[(frame.depth, nid)] = count + 1
                if count and node.span is not None:
                    # Another pass of a loop: its calls run again and may answer otherwise.
                    low, high = node.span
                    st.facts = {
                        text: answer
                        for text, answer in st.facts.items()
                        if not (text.startswith("sym:ret:") and low <= int(text[8:]) < high)
                    }
                stack.append((node.next, st))
            elif node.kind == "expr":
                for out, _ in self.eval(st.copy(), node.node, frame):
                    stack.append((node.next, out))
            elif node.kind == "branch":
                if node.node is None:
                    stack.append((node.true, st))
                    continue
                for out, answer in self.cond(st.copy(), node.node, frame):
                    stack.append((node.true if answer else node.false, out))
            elif node.kind == "switch":
                stack.extend(self.switch(st, node, frame))
            elif node.kind == "return":
                if node.node is None:
                    exits.append((st, V.UNKNOWN, node.line))
                else:
                    for out, value in self.eval(st.copy(), node.node, frame):
                        exits.append((out, value, node.line))
            elif node.kind == "end":
                if frame.depth == 0 and not self.judge_fallthrough:
                    continue
                exits.append((st, V.UNKNOWN, node.line))
        return exits

    def switch(self, st: State, node, frame: Frame) -> list[tuple[int, State]]:
        """Successors of a switch: the matching case when the value is known, else every case."""
        out = []
        for sub, value in self.eval(st.copy(), node.node, frame):
            matched = False
            for case_value, target in node.cases:
                if case_value is None:
                    continue
                case = self.constant(case_value)
                if value[0] == "c" and case is not None:
                    if case == value[1]:
                        out.append((target, sub.copy()))
                        matched = True
                        break
                    continue
                out.append((target, sub.copy()))
            if not matched:
                default = next((t for v, t in node.cases if v is None), node.next)
                out.append((default, sub.copy()))
        return out

    def constant(self, node: Node) -> int | None:
        """The integer a case label or literal stands for, if known."""
        value = self.literal(node)
        return value[1] if value is not None and value[0] == "c" else None

    def _literal(self, node: Node) -> tuple | None:
        text = self.text(node)
        if node.type == "number_literal":
            try:
                return V.const(int(text.rstrip("uUlL"), 0))
            except ValueError:
                return V.UNKNOWN
        if node.type in ("true", "false", "null"):
            return V.const({"true": 1, "false": 0, "null": 0}[node.type])
        if node.type == "identifier":
            if text in self.spec.constants:
                return V.const(self.spec.constants[text])
            if self.spec.is_flag(text):
                return V.flags(frozenset({text}))
            if self.spec.is_error_pfn(text):
                return V.ERROR_PFN
        if node.type == "unary_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "-" and arg is not None and ERRNO_RE.fullmatch(self.text(arg)):
                return V.const(-1 - zlib.crc32(self.text(arg).encode()) % 4000)
        return None

    # -- conditions ------------------------------------------------------------------------

    def cond(self, st: State, node: Node, frame: Frame) -> list[tuple[State, bool]]:
        """Every (state, answer) a condition can take on this path."""
        kind = node.type
        if kind == "parenthesized_expression" and node.named_children:
            return self.cond(st, node.named_children[-1], frame)
        if kind == "unary_expression" and self.text(node.child_by_field_name("operator")) == "!":
            return [
                (s, not a) for s, a in self.cond(st, node.child_by_field_name("argument"), frame)
            ]
        if kind == "call_expression" and self.callee_name(node) in ("likely", "unlikely"):
            args = self.call_args(node)
            if len(args) == 1:
                return self.cond(st, args[0], frame)
        if kind == "call_expression" and self.callee_name(node) in self.spec.bug_if_true:
            # WARN_ON_ONCE(x), KVM_BUG_ON(x, kvm): the true branch is a kernel bug, so the
            # path goes on where x is false; x is still evaluated for what it does.
            out = []
            for s, _ in self.eval_args(st, self.call_args(node), frame):
                out.append((s, False))
            return out
        if kind == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if op in ("&&", "||"):
                if self.config_only(node):
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
                for s1, lv in self.eval(st, left, frame):
                    for s2, rv in self.eval(s1.copy(), right, frame):
                        out.extend(self.compare(s2, op, lv, rv, node, frame))
                return out
        out = []
        for s, value in self.eval(st, node, frame):
            out.extend(self.truth(s, value, node, frame))
        return out

    def compare(self, st, op, lv, rv, node, frame) -> list[tuple[State, bool]]:
        """Answers of `==`, `!=`, `<`...: decided for constants, error pfns and NULL pages."""
        if lv[0] == "c" and rv[0] == "c":
            a, b = lv[1], rv[1]
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
                if this[0] == "pfn" and other == V.ERROR_PFN:
                    if st.sim.pages[this[1]].kind != ERROR:
                        return [(st, op == "!=")]
                    break
                if this[0] in ("page", "refc", "err", "pfn") and other == V.const(0):
                    return [(s, a != (op == "==")) for s, a in self.truth(st, this, node, frame)]
        return self.unknown(st, node, frame)

    def truth(self, st: State, value: tuple, node: Node, frame: Frame) -> list[tuple[State, bool]]:
        """Answers of a value used as a condition; unknown values fork."""
        tag = value[0]
        if tag == "c":
            return [(st, bool(value[1]))]
        if tag in ("pfn", "errpfn", "alias", "addr"):
            return [(st, True)]
        if tag in ("page", "refc"):
            answer = st.sim.pages[value[1]].kind in value[2]
            st.event(line_of(node), f"'{self.text(node)}' is {'true' if answer else 'false'}")
            return [(st, answer)]
        if tag == "err":
            answer = st.sim.pages[value[1]].kind == ERROR
            st.event(line_of(node), f"'{self.text(node)}' is {'true' if answer else 'false'}")
            return [(st, answer)]
        if tag == "flags":
            return [(st, bool(value[1]))]
        if tag == "sym" and not self.is_config(self.text(node)):
            key = f"sym:{value[1]}"
            if key in st.facts:
                return [(st, st.facts[key])]
            out = []
            for answer in (True, False):
                s = st.copy()
                s.facts[key] = answer
                out.append((s, answer))
            return out
        if tag == "retry":
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
        given = self.given_answer(node)
        if given is not None:
            return [(st, given)]
        out = []
        for answer in (True, False):
            s = st.copy()
            s.facts[text] = answer
            if self.is_config(text):
                s.assumptions = (*s.assumptions, (self.render(node, answer), answer))
                s.assume_nodes = (*s.assume_nodes, (node, answer))
                s.event(line_of(node), f"assume {self.render(node, answer)}")
            out.append((s, answer))
        return out

    # -- expressions -----------------------------------------------------------------------

    def eval(self, st: State, node: Node | None, frame: Frame) -> list[tuple[State, tuple]]:
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
            return [(st, self.read(st, self.resolve(st, frame.depth, node.text.decode())))]
        if kind == "field_expression":
            out = []
            fld = node.child_by_field_name("field")
            for s, _ in self.eval(st, node.child_by_field_name("argument"), frame):
                if fld is not None and self.spec.row(fld.text.decode(), 0) is not None:
                    row = self.spec.row(fld.text.decode(), 0)
                    if row.effect == "snapshot":
                        s.sim.snapshot()
                        s.event(line_of(node), f"notifier snapshot '{self.text(node)}'")
                where = self.loc(s, node, frame)
                out.append((s, self.read(s, where) if where else V.UNKNOWN))
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
                    where = self.loc(s, node, frame)
                    out.append((s, self.read(s, where) if where else V.UNKNOWN))
                return out
            return [(s, V.UNKNOWN) for s, _ in self.eval(st, arg, frame)]
        if kind == "unary_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "!":
                return [(s, V.const(int(a))) for s, a in self.cond(st, node, frame)]
            out = []
            for s, value in self.eval(st, arg, frame):
                if op == "~" and value[0] == "flags":
                    out.append((s, ("notflags", value[1])))
                elif op == "-" and value[0] == "c":
                    out.append((s, V.const(-value[1])))
                else:
                    out.append((s, V.UNKNOWN))
            return out
        if kind == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op in ("&&", "||", "==", "!=", "<", ">", "<=", ">="):
                return [(s, V.const(int(a))) for s, a in self.cond(st, node, frame)]
            out = []
            for s1, lv in self.eval(st, node.child_by_field_name("left"), frame):
                for s2, rv in self.eval(s1, node.child_by_field_name("right"), frame):
                    out.append((s2, self.arith(op, lv, rv)))
            return out
        if kind == "conditional_expression":
            out = []
            for s, answer in self.cond(st, node.child_by_field_name("condition"), frame):
                branch = node.child_by_field_name("consequence" if answer else "alternative")
                out.extend(self.eval(s, branch, frame))
            return out
        if kind == "call_expression":
            return self.call(st, node, frame)
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
                where = self.loc(s, arg, frame) if arg is not None else None
                if where:
                    self.store(s, where, V.UNKNOWN)
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
    def arith(op: str, lv: tuple, rv: tuple) -> tuple:
        """`|`, `&` and `~` on FOLL_* flag sets and constants; anything else is unknown."""
        if op in ("+", "-", "|") and "addr" in (lv[0], rv[0]):
            return lv if lv[0] == "addr" else rv  # an offset (or tag bits) into the same page
        if op == "&" and lv[0] == "pfn" and rv[0] != "flags":
            # `pfn &= ~(nr_pages - 1)`: the head of the huge page the pfn lies in, the same
            # folio and the same reference.
            return lv
        if op in ("|", "&") and "flags" in (lv[0], rv[0]):
            # `flags = write ? FOLL_WRITE : 0;` then `flags |= ...`: 0 is the empty flag set.
            lv = V.flags(frozenset()) if lv == V.const(0) else lv
            rv = V.flags(frozenset()) if rv == V.const(0) else rv
        if op == "|":
            if lv[0] == "flags" and rv[0] == "flags":
                return V.flags(lv[1] | rv[1])
            for a, b in ((lv, rv), (rv, lv)):
                if a[0] == "flags" and b[0] in ("?", "sym"):
                    # Flags set somewhere we cannot see: FOLL_GET may be among them.
                    return V.flags(a[1] | {UNSEEN_FLAGS})
                if a[0] == "flags" and b[0] == "c":
                    return a
            if lv[0] == "c" and rv[0] == "c":
                return V.const(lv[1] | rv[1])
        if op == "&":
            for a, b in ((lv, rv), (rv, lv)):
                if a[0] == "flags" and b[0] == "notflags":
                    return V.flags(a[1] - b[1])
                if a[0] == "flags" and b[0] == "flags":
                    return V.flags(a[1] & b[1])
        if lv[0] == "c" and rv[0] == "c":
            ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "&": lambda a, b: a & b}
            if op in ops:
                return V.const(ops[op](lv[1], rv[1]))
        return V.UNKNOWN

    def assign(self, st: State, node: Node, frame: Frame) -> list[tuple[State, tuple]]:
        """`x = v`, `x |= v`, ...: every value the right side can take, stored."""
        op = self.text(node.child_by_field_name("operator"))
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        out = []
        for s, value in self.eval(st, right, frame):
            where = self.loc(s, left, frame)
            if where is None:
                out.append((s, value))
                continue
            if op != "=":
                value = self.arith(op[:-1], self.read(s, where), value)
            self.store(s, where, value)
            out.append((s, value))
        return out

    def declare(self, st: State, node: Node, frame: Frame) -> list[tuple[State, tuple]]:
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
                    self.store(s, where, V.UNKNOWN)
                    nxt.append((s, V.UNKNOWN))
                elif value_node.type == "initializer_list":
                    nxt.extend(self.initialise(s, name, value_node, frame))
                else:
                    for s2, value in self.eval(s, value_node, frame):
                        self.store(s2, where, value)
                        nxt.append((s2, value))
            states = nxt
        return states

    def initialise(
        self, st: State, name: str, init: Node, frame: Frame
    ) -> list[tuple[State, tuple]]:
        """`struct kvm_follow_pfn foll = { .flags = ... }`: named fields set, the rest zero."""
        self.store(st, (frame.depth, name), V.ZERO_STRUCT)
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
                    self.store(s2, where, value)
                    nxt.append(s2)
            states = nxt
        return [(s, V.UNKNOWN) for s in states]

    # -- calls -----------------------------------------------------------------------------

    # -- entry -----------------------------------------------------------------------------

    def check_function(self, fdef) -> bool:
        """Walk one function from its entry; returns False when the work bound cut it short."""
        self.steps = 0
        self.exhausted = False
        self.top = fdef.name
        self.given = {}
        for atom in self.spec.assume.get(fdef.name, ()):
            self.given[atom.lstrip("!")] = not atom.startswith("!")
        params = param_list(fdef.node)
        frame = Frame(fdef.name, 0, dict(params), pointers=self.pointer_locals(fdef))
        st = State(Simulator())
        st.locals = frozenset((0, name) for name, _ in params)
        if self.entry_locks.get(fdef.name) == {True}:
            # Every call of it walked (callers are walked first) holds mmu_lock.
            st.sim.lock()
            st.event(line_of(fdef.node), "mmu_lock held by every caller")
        consumer = self.spec.is_consumer(fdef.name)
        for s, value, line in self.walk(fdef, st, frame):
            escaped: set[int] = set()
            if not consumer:
                escaped |= V.holds_reference_to(value)
                for (fr, path), v in s.env.items():
                    root = path.split(".")[0]
                    if (fr == 0 and frame.elsewhere(path)) or (fr, root) not in s.locals:
                        escaped |= V.holds_reference_to(v)
            found = s.sim.exit(frozenset(escaped | s.lost))
            for violation in found:
                acquired = s.sim.pages[violation.page].line if violation.page else 0
                where = f" (taken at line {acquired})" if acquired else ""
                s2 = s.copy()
                s2.event(line, "return")
                self.report(s2, "leak", frame, line, f"{violation.message}{where}")
        return not self.exhausted
