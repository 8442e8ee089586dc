"""The path walker: follow every path through a function, drive the simulator, report findings.

Paths fork at if/else, `&&`/`||`, `?:`, switch, and at every acquisition (one path per page kind
the spec allows). A condition tested twice keeps its first answer. Same-file callees are
walked in place (their paths continue in the caller), so fields such as `fault->pfn` carry a
page from `kvm_faultin_pfn()` to the exit paths of `direct_page_fault()`.
"""

from __future__ import annotations

import itertools
import re
import zlib
from dataclasses import dataclass, field

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.cfg import Cfg, build_cfg
from reviewtool.analyses.spec.model import ERROR, HELD, NOT_REFCOUNTED, UNHELD, ApiRow, Spec
from reviewtool.analyses.spec.simulator import Simulator, Violation

# Work bounds: node visits per checked function, callee nesting, passes through one label on a
# path (a `goto retry` loop runs at most twice), events kept in a trace.
MAX_STEPS_PER_FUNCTION = 30_000
MAX_INLINE_DEPTH = 4
MAX_LABEL_VISITS = 2
MAX_TRACE = 40
MAX_ENTAILMENT_ATOMS = 10

KIND_TEXT = {
    ERROR: "error pfn (no reference)",
    HELD: "refcounted page, reference held",
    UNHELD: "refcounted page, no reference (no FOLL_GET)",
    NOT_REFCOUNTED: "page not refcounted",
}

_IDENT_RE = re.compile(r"[A-Za-z_]\w*")
_ERRNO_RE = re.compile(r"E[A-Z0-9]+")
# Stands in a flag set for flags set where the walker cannot see (a caller, a hidden line).
UNSEEN_FLAGS = "?"
# Effects that only answer questions: a callee using nothing else is not walked into.
_PURE = ("predicate", "to-page")
_NAME_MACRO_RE = re.compile(r"[A-Z][A-Z0-9_]*\(\s*(\w+)\s*\)")


def _ws(text: str) -> str:
    return " ".join(text.split())


def _line(node: Node) -> int:
    return node.start_point.row + 1


@dataclass
class State:
    """Everything one path knows: the simulator, variables, answers to conditions, trace."""

    sim: Simulator
    env: dict[tuple[int, str], tuple] = field(default_factory=dict)
    facts: dict[str, bool] = field(default_factory=dict)
    assumptions: tuple[tuple[str, bool], ...] = ()
    assume_nodes: tuple[tuple[Node, bool], ...] = ()
    get_label: str = ""
    locals: frozenset[tuple[int, str]] = frozenset()
    lost: frozenset[int] = frozenset()
    label_visits: dict[tuple[int, int], int] = field(default_factory=dict)
    trace: tuple[tuple[int, str], ...] = ()

    def copy(self) -> State:
        return State(
            self.sim.copy(),
            dict(self.env),
            dict(self.facts),
            self.assumptions,
            self.assume_nodes,
            self.get_label,
            self.locals,
            self.lost,
            dict(self.label_visits),
            self.trace,
        )

    def key(self) -> tuple:
        return (
            self.sim.key(),
            frozenset(self.env.items()),
            frozenset(self.facts.items()),
            self.assumptions,
            self.get_label,
            self.lost,
        )

    def event(self, line: int, text: str) -> None:
        self.trace = (*self.trace, (line, text))[-MAX_TRACE:]


@dataclass
class Frame:
    """One function being walked: its name, depth, parameters (and which are pointers)."""

    name: str
    depth: int
    params: dict[str, bool]


@dataclass
class RawFinding:
    """What the walker found, before it becomes a Finding."""

    rule: str
    function: str
    line: int
    message: str
    config: str
    trace: tuple[tuple[int, str], ...]


def param_list(function: Node) -> list[tuple[str, bool]]:
    """(name, is_pointer) of each parameter of a function_definition node."""
    declarator = function.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        declarator = declarator.child_by_field_name("declarator")
    if declarator is None:
        return []
    params = declarator.child_by_field_name("parameters")
    out = []
    for param in params.named_children if params else []:
        if param.type != "parameter_declaration":
            continue
        node = param.child_by_field_name("declarator")
        pointer = False
        while node is not None and node.type != "identifier":
            if node.type in ("pointer_declarator", "array_declarator"):
                pointer = True
            node = node.child_by_field_name("declarator")
        if node is not None:
            out.append((node.text.decode(), pointer))
    return out


class Walker:
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
        self.inline_cache: dict[tuple, list[tuple[State, tuple, int]]] = {}
        self.relevance: set[str] | None = None
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
        key = (node.start_byte, node.end_byte)
        found = self.texts.get(key)
        if found is None:
            found = self.texts[key] = _ws(self.parsed.node_text(node))
        return found

    def relevant(self, name: str) -> bool:
        """True when a same-file function touches references, locks or the notifier at all,
        directly or through its callees; others are not worth walking into."""
        if self.relevance is None:
            calls: dict[str, set[str]] = {}
            for fname, fdef in self.definitions.items():
                body = self.parsed.node_text(fdef.node)
                calls[fname] = set(_IDENT_RE.findall(body))
            effects = {
                n for n, rows in self.spec.rows.items() if any(r.effect not in _PURE for r in rows)
            }
            hot = {f for f, names in calls.items() if names & effects}
            changed = True
            while changed:
                changed = False
                for fname, names in calls.items():
                    if fname not in hot and names & hot:
                        hot.add(fname)
                        changed = True
            self.relevance = hot
        return name in self.relevance

    def cfg(self, function: Node) -> Cfg:
        if function.id not in self.cfgs:
            self.cfgs[function.id] = build_cfg(function)
        return self.cfgs[function.id]

    def report(self, st: State, rule: str, frame: Frame, line: int, message: str) -> None:
        if self.selected is not None and frame.name not in self.selected:
            return
        if line > self.last_line:
            return
        config = st.get_label or self.render_assumptions(st)
        key = (rule, frame.name, line, config)
        if key not in self.findings:
            trace = (*st.trace, (line, f"{rule}: {message}"))
            self.findings[key] = RawFinding(rule, frame.name, line, message, config, trace)

    def violations(self, st: State, found: list[Violation], frame: Frame, line: int) -> None:
        for violation in found:
            self.report(st, violation.rule, frame, line, violation.message)

    def render(self, node: Node, positive: bool) -> str:
        """A condition as a configuration reads: `!(a && b)` -> `!a or !b`, named per spec."""
        if node.type == "parenthesized_expression" and node.named_children:
            return self.render(node.named_children[0], positive)
        if (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            return self.render(node.child_by_field_name("argument"), not positive)
        if node.type == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op in ("&&", "||"):
                joins_and = (op == "&&") == positive
                left = self.render(node.child_by_field_name("left"), positive)
                right = self.render(node.child_by_field_name("right"), positive)
                return f"{left} {'and' if joins_and else 'or'} {right}"
        text = self.text(node)
        key = text if positive else f"!{text}"
        return self.spec.config_names.get(key, key)

    def render_assumptions(self, st: State) -> str:
        return ", ".join(text for text, _ in st.assumptions)

    def given_answer(self, node: Node) -> bool | None:
        """The answer the checked function's known configuration ([assume]) gives, if any."""
        if not self.given:
            return None
        atoms: list[str] = []
        self.atoms(node, atoms)
        if not atoms or not all(atom in self.given for atom in atoms):
            return None
        return self.holds(node, self.given)

    def config_only(self, node: Node) -> bool:
        atoms: list[str] = []
        self.atoms(node, atoms)
        return all(self.is_config(atom) for atom in atoms)

    def is_config(self, text: str) -> bool:
        return any(atom in text for atom in self.config_atoms)

    # -- locations -------------------------------------------------------------------------

    def resolve(self, st: State, frame: int, path: str) -> tuple[int, str]:
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
        path = self.path_of(node)
        return self.resolve(st, frame.depth, path) if path else None

    def path_of(self, node: Node) -> str | None:
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
        st.env[where] = value
        names = set(where[1].split("."))
        sym = f"sym:{where[0]}:{where[1]}"
        st.facts = {
            text: answer
            for text, answer in st.facts.items()
            if not (text == sym or text.startswith(sym + "."))
            and (text.startswith("sym:") or not names & set(_IDENT_RE.findall(text)))
        }

    # -- walking ---------------------------------------------------------------------------

    def walk(self, fdef, st: State, frame: Frame) -> list[tuple[State, tuple, int]]:
        """Every way out of `fdef`: (state, returned value, line of the exit)."""
        graph = self.cfg(fdef.node)
        exits: list[tuple[State, tuple, int]] = []
        stack = [(graph.entry, st)]
        seen: set[tuple] = set()
        while stack:
            nid, st = stack.pop()
            self.steps += 1
            if self.steps > MAX_STEPS_PER_FUNCTION:
                self.exhausted = True
                break
            key = (nid, st.key())
            if key in seen:
                continue
            seen.add(key)
            node = graph.nodes[nid]
            if node.kind == "label":
                count = st.label_visits.get((frame.depth, nid), 0)
                if count >= MAX_LABEL_VISITS:
                    continue
                st.label_visits[(frame.depth, nid)] = count + 1
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
        value = self.literal(node)
        return value[1] if value is not None and value[0] == "c" else None

    def literal(self, node: Node) -> tuple | None:
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
            if text.startswith("FOLL_"):
                return V.flags(frozenset({text}))
            if text.startswith(("KVM_PFN_ERR", "KVM_PFN_NOSLOT")):
                return V.ERROR_PFN
        if node.type == "unary_expression":
            op = self.text(node.child_by_field_name("operator"))
            arg = node.child_by_field_name("argument")
            if op == "-" and arg is not None and _ERRNO_RE.fullmatch(self.text(arg)):
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
        tag = value[0]
        if tag == "c":
            return [(st, bool(value[1]))]
        if tag in ("pfn", "errpfn", "alias"):
            return [(st, True)]
        if tag in ("page", "refc"):
            answer = st.sim.pages[value[1]].kind in value[2]
            st.event(_line(node), f"'{self.text(node)}' is {'true' if answer else 'false'}")
            return [(st, answer)]
        if tag == "err":
            answer = st.sim.pages[value[1]].kind == ERROR
            st.event(_line(node), f"'{self.text(node)}' is {'true' if answer else 'false'}")
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
                s.event(_line(node), f"retry check '{self.text(node)}' {verdict}{locked}")
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
                s.event(_line(node), f"assume {self.render(node, answer)}")
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
                        s.event(_line(node), f"notifier snapshot '{self.text(node)}'")
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

    def callee_name(self, node: Node) -> str:
        function = node.child_by_field_name("function")
        return self.text(function) if function is not None else ""

    @staticmethod
    def call_args(node: Node) -> list[Node]:
        args = node.child_by_field_name("arguments")
        return [a for a in (args.named_children if args else []) if a.type != "comment"]

    def eval_args(
        self, st: State, args: list[Node], frame: Frame
    ) -> list[tuple[State, list[tuple]]]:
        states: list[tuple[State, list[tuple]]] = [(st, [])]
        for arg in args:
            states = [(s2, [*vals, v]) for s, vals in states for s2, v in self.eval(s, arg, frame)]
        return states

    def call(self, st: State, node: Node, frame: Frame) -> list[tuple[State, tuple]]:
        name = self.callee_name(node)
        args = self.call_args(node)
        row = self.spec.row(name, len(args))
        wrapped = _NAME_MACRO_RE.fullmatch(name)
        if row is None and wrapped:  # KVM_PGT_FN(kvm_pgtable_stage2_map)(...)
            row = self.spec.row(wrapped.group(1), len(args))
        line = _line(node)
        out: list[tuple[State, tuple]] = []
        for s, values in self.eval_args(st, args, frame):
            if row is not None and row.effect != "snapshot":
                out.extend(self.apply_row(s, row, node, args, values, frame, line))
            elif (
                name in self.definitions
                and frame.depth < MAX_INLINE_DEPTH
                and name != frame.name
                and self.relevant(name)
            ):
                out.extend(self.inline(s, self.definitions[name], args, values, frame, line))
            else:
                self.forget_zeroes(s, args, frame)
                # What an unknown call returns: one symbol per call site, so that a copy of
                # the result (`fault->slot = ...; slot = fault->slot`) answers tests alike.
                out.append((s, ("sym", f"ret:{node.start_byte}")))
        return out

    def forget_zeroes(self, st: State, args: list[Node], frame: Frame) -> None:
        """A struct passed by address may get its unnamed fields written (out-fields)."""
        for arg in args:
            if arg.type == "pointer_expression" and self.text(arg).startswith("&"):
                where = self.loc(st, arg, frame)
                if where is not None and st.env.get(where) == V.ZERO_STRUCT:
                    st.env[where] = V.UNKNOWN

    def arg_value(self, values: list[tuple], index: int | None) -> tuple:
        if index is None or index >= len(values):
            return V.UNKNOWN
        return values[index]

    def apply_row(
        self, st, row: ApiRow, node, args, values, frame, line
    ) -> list[tuple[State, tuple]]:
        effect = row.effect
        name = row.name
        if effect == "acquire":
            found = self.acquire(st, row, args, frame, line)
            for s, _ in found:
                self.forget_zeroes(s, args, frame)
            return found
        if effect == "lock" or effect == "unlock":
            if row.arg_contains and not any(row.arg_contains in self.text(a) for a in args):
                return [(st, V.UNKNOWN)]
            (st.sim.lock if effect == "lock" else st.sim.unlock)()
            st.event(line, f"mmu_lock {'taken' if effect == 'lock' else 'dropped'} ({name})")
            return [(st, V.UNKNOWN)]
        if effect == "retry-check":
            return [(st, V.RETRY)]
        if effect == "install":
            if st.sim.pages or st.sim.snapshot_taken:
                st.event(line, f"mapping installed ({name})")
                self.violations(st, st.sim.install(), frame, line)
            return [(st, V.UNKNOWN)]
        value = self.arg_value(values, row.arg)
        if effect == "predicate":
            if value[0] in ("pfn", "page"):
                return [(st, ("refc", value[1], tuple(row.true_when)))]
            if value == V.ERROR_PFN:
                return [(st, V.const(int(ERROR in row.true_when)))]
            return [(st, V.UNKNOWN)]
        if effect == "to-page":
            if value[0] in ("pfn", "page"):
                return [(st, ("page", value[1], tuple(row.nonnull_when)))]
            return [(st, V.UNKNOWN)]
        if effect == "get-page":
            if value[0] in ("page", "pfn"):
                st.event(line, f"{name}() takes another reference")
                self.violations(st, st.sim.get_page(value[1]), frame, line)
            return [(st, V.UNKNOWN)]
        if effect in ("release", "mark"):
            if value == V.const(0) and row.takes == "page" and st.sim.pages:
                # NULL left in a page variable by a path that found no refcounted page.
                if effect == "mark":
                    self.report(st, "mark-not-refcounted", frame, line, f"{name}() on a NULL page")
                elif not row.null_safe:
                    self.report(
                        st, "release-without-reference", frame, line, f"{name}() on a NULL page"
                    )
                return [(st, V.UNKNOWN)]
            if value[0] not in ("pfn", "page"):
                return [(st, V.UNKNOWN)]
            pid = value[1]
            null_page = value[0] == "page" and st.sim.pages[pid].kind not in value[2]
            if effect == "mark":
                st.event(line, f"{name}() marks the page")
                found = st.sim.mark(pid, null_page, row.noop_kinds, row.takes == "pfn")
                self.violations(st, found, frame, line)
                return [(st, V.UNKNOWN)]
            out = []
            for s1, dirty in self.flag_arg(st, row.dirty, row.dirty_arg, args, frame):
                for s2, unused in self.flag_arg(s1, row.unused, row.unused_arg, args, frame):
                    how = " dirty" if dirty and not unused else (" unused" if unused else "")
                    s2.event(line, f"{name}() releases the page{how}")
                    found = s2.sim.release(
                        pid,
                        dirty=dirty,
                        unused=unused,
                        null_page=null_page,
                        null_safe=row.null_safe,
                        noop_kinds=row.noop_kinds,
                        needs_lock_when_dirty=row.needs_lock_when_dirty,
                    )
                    self.violations(s2, found, frame, line)
                    out.append((s2, V.UNKNOWN))
            return out
        return [(st, V.UNKNOWN)]

    def flag_arg(self, st: State, fixed: bool, index: int | None, args, frame: Frame):
        """A release's dirty/unused answer: fixed by the row, or each way an argument can go."""
        if index is None or index >= len(args):
            return [(st, fixed)]
        return self.cond(st.copy(), args[index], frame)

    def acquire(
        self, st: State, row: ApiRow, args, frame: Frame, line: int
    ) -> list[tuple[State, tuple]]:
        struct = None
        if row.struct_arg is not None and row.struct_arg < len(args):
            struct = self.loc(st, args[row.struct_arg], frame)
        with_get, guarded = True, True
        if row.get != "always":
            flags_value = V.UNKNOWN
            if struct is not None and row.flags_field:
                flags_value = self.read(st, (struct[0], f"{struct[1]}.{row.flags_field}"))
            elif row.flags_arg is not None and row.flags_arg < len(args):
                flags_value = self.eval(st.copy(), args[row.flags_arg], frame)[0][1]
            if flags_value[0] == "flags":
                with_get = row.get_flag in flags_value[1] or UNSEEN_FLAGS in flags_value[1]
            elif flags_value == V.const(0):
                with_get = False
            if not with_get and struct is not None and row.guard_field:
                guard = self.read(st, (struct[0], f"{struct[1]}.{row.guard_field}"))
                guarded = not (guard[0] == "c" and guard[1] == 0)
        get_required = not with_get and self.get_required(st, frame)
        slot = V.UNKNOWN
        if row.error_when_null_arg is not None and row.error_when_null_arg < len(args):
            slot = self.eval(st.copy(), args[row.error_when_null_arg], frame)[0][1]
        elif row.error_when_null_field and struct is not None:
            slot = self.read(st, (struct[0], f"{struct[1]}.{row.error_when_null_field}"))
        if row.get != "always" and st.assumptions and not st.get_label:
            passed = "FOLL_GET passed" if with_get else "FOLL_GET not passed"
            st.get_label = f"{passed} ({self.render_assumptions(st)})"
        out = []
        struct_page = True
        if row.struct_page_field and struct is not None:
            allowed = self.read(st, (struct[0], f"{struct[1]}.{row.struct_page_field}"))
            struct_page = allowed != V.const(0)
        for kind in row.acquire_kinds(with_get):
            if slot == V.const(0) and kind != ERROR:
                continue  # no memslot: only an error pfn comes back
            s = st.copy()
            if slot[0] == "sym" and kind != ERROR:
                if s.facts.get(f"sym:{slot[1]}") is False:
                    continue
                s.facts[f"sym:{slot[1]}"] = True
            pid, found = s.sim.acquire(kind, with_get, guarded, get_required, line, struct_page)
            get_text = (
                ""
                if row.get == "always"
                else (" with FOLL_GET" if with_get else " without FOLL_GET")
            )
            s.event(line, f"{row.name}(){get_text}: {KIND_TEXT[kind]}")
            self.violations(s, found, frame, line)
            pfn = ("pfn", pid)
            if row.refcounted_field and struct is not None:
                where = (struct[0], f"{struct[1]}.{row.refcounted_field}")
                self.store(s, where, self.refcounted_value(row, pid))
            if row.refcounted_arg is not None and row.refcounted_arg < len(args):
                where = self.loc(s, args[row.refcounted_arg], frame)
                if where:
                    self.store(s, where, self.refcounted_value(row, pid))
            if row.async_arg is not None and row.async_arg < len(args):
                where = self.loc(s, args[row.async_arg], frame)
                if where is not None and self.text(args[row.async_arg]).startswith("&"):
                    self.store(s, where, V.UNKNOWN if kind == ERROR else V.const(0))
            result = pfn
            if row.result == "arg" and row.result_arg is not None and row.result_arg < len(args):
                where = self.loc(s, args[row.result_arg], frame)
                if where:
                    self.store(s, where, pfn)
                result = V.const(-1 - zlib.crc32(b"EFAULT") % 4000) if kind == ERROR else V.const(0)
            out.append((s, result))
        return out

    @staticmethod
    def refcounted_value(row: ApiRow, pid: int) -> tuple:
        if row.refcounted_type == "page":
            return ("page", pid, tuple(row.refcounted_when))
        return ("refc", pid, tuple(row.refcounted_when))

    def get_required(self, st: State, frame: Frame) -> bool:
        """Rule 9: FOLL_GET is omitted in a configuration where the SPTE cannot record it."""
        for rule in self.spec.get_required:
            if not (rule.applies(self.path, frame.name) or rule.applies(self.path, self.top)):
                continue
            if not self.entails(st.assume_nodes, rule.needs):
                return True
        return False

    def entails(self, assumed: tuple[tuple[Node, bool], ...], needs: tuple[str, ...]) -> bool:
        if "false" in needs:
            return False
        atoms: list[str] = list(self.given)
        for node, _ in assumed:
            self.atoms(node, atoms)
        if not set(needs) <= set(atoms):
            return False
        if len(atoms) > MAX_ENTAILMENT_ATOMS:
            return True
        for bits in itertools.product((False, True), repeat=len(atoms)):
            world = dict(zip(atoms, bits, strict=True))
            if any(world[atom] != value for atom, value in self.given.items()):
                continue
            if all(self.holds(node, world) == answer for node, answer in assumed):
                if not all(world[need] for need in needs):
                    return False
        return True

    def atoms(self, node: Node, out: list[str]) -> None:
        if node.type == "parenthesized_expression" and node.named_children:
            self.atoms(node.named_children[-1], out)
        elif (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            self.atoms(node.child_by_field_name("argument"), out)
        elif node.type == "binary_expression" and self.text(
            node.child_by_field_name("operator")
        ) in ("&&", "||"):
            self.atoms(node.child_by_field_name("left"), out)
            self.atoms(node.child_by_field_name("right"), out)
        elif self.text(node) not in out:
            out.append(self.text(node))

    def holds(self, node: Node, world: dict[str, bool]) -> bool:
        if node.type == "parenthesized_expression" and node.named_children:
            return self.holds(node.named_children[-1], world)
        if (
            node.type == "unary_expression"
            and self.text(node.child_by_field_name("operator")) == "!"
        ):
            return not self.holds(node.child_by_field_name("argument"), world)
        if node.type == "binary_expression":
            op = self.text(node.child_by_field_name("operator"))
            if op == "&&":
                return self.holds(node.child_by_field_name("left"), world) and self.holds(
                    node.child_by_field_name("right"), world
                )
            if op == "||":
                return self.holds(node.child_by_field_name("left"), world) or self.holds(
                    node.child_by_field_name("right"), world
                )
        return world[self.text(node)]

    def walk_cached(self, fdef, st: State, callee: Frame) -> list[tuple[State, tuple, int]]:
        """walk() of a callee, remembered per entry state: a helper called from several
        places (or on several paths in the same state) is walked once."""
        key = (self.top, fdef.name, callee.depth, st.key())
        if key not in self.inline_cache:
            prefix, st.trace = st.trace, ()
            self.inline_cache[key] = self.walk(fdef, st, callee)
            st.trace = prefix
        out = []
        for s, value, exit_line in self.inline_cache[key]:
            copy = s.copy()
            copy.trace = (*st.trace, *s.trace)[-MAX_TRACE:]
            out.append((copy, value, exit_line))
        return out

    def inline(self, st, fdef, args, values, frame: Frame, line: int) -> list[tuple[State, tuple]]:
        """Walk a same-file callee in place; its paths continue in the caller."""
        depth = frame.depth + 1
        params = param_list(fdef.node)
        callee = Frame(fdef.name, depth, dict(params))
        st.env = {k: v for k, v in st.env.items() if k[0] < depth}
        st.locals = frozenset(x for x in st.locals if x[0] < depth)
        for index, (pname, pointer) in enumerate(params):
            if index >= len(args):
                break
            st.locals = st.locals | {(depth, pname)}
            where = self.loc(st, args[index], frame) if pointer else None
            if where is not None:
                st.env[(depth, pname)] = ("alias", where[0], where[1])
            else:
                st.env[(depth, pname)] = values[index] if index < len(values) else V.UNKNOWN
        st.event(line, f"call {fdef.name}()")
        out = []
        for s, value, exit_line in self.walk_cached(fdef, st, callee):
            mine = {v for k, v in s.env.items() if k[0] >= depth}
            s.env = {k: v for k, v in s.env.items() if k[0] < depth}
            s.locals = frozenset(x for x in s.locals if x[0] < depth)
            s.facts = {t: a for t, a in s.facts.items()}
            held_here = set().union(*(V.holds_reference_to(v) for v in mine)) if mine else set()
            elsewhere = set().union(
                *(V.holds_reference_to(v) for v in s.env.values())
            ) | V.holds_reference_to(value)
            for pid in sorted(held_here - elsewhere - s.lost):
                if s.sim.holds(pid):
                    s.lost = s.lost | {pid}
                    self.report(
                        s, "leak", callee, exit_line, "reference taken here is lost on return"
                    )
            if self.spec.is_consumer(fdef.name):
                # A fault handler called from another one: its own check reports its leaks.
                s.lost = s.lost | {pid for pid in s.sim.pages if s.sim.holds(pid)}
            out.append((s, value))
        return out

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
        frame = Frame(fdef.name, 0, dict(params))
        st = State(Simulator())
        st.locals = frozenset((0, name) for name, _ in params)
        consumer = self.spec.is_consumer(fdef.name)
        for s, value, line in self.walk(fdef, st, frame):
            escaped: set[int] = set()
            if not consumer:
                escaped |= V.holds_reference_to(value)
                for (fr, path), v in s.env.items():
                    root = path.split(".")[0]
                    pointer_param = frame.params.get(root, False) and "." in path
                    if pointer_param or (fr, root) not in s.locals:
                        escaped |= V.holds_reference_to(v)
            found = s.sim.exit(frozenset(escaped | s.lost))
            for violation in found:
                acquired = s.sim.pages[violation.page].line if violation.page else 0
                where = f" (taken at line {acquired})" if acquired else ""
                s2 = s.copy()
                s2.event(line, "return")
                self.report(s2, "leak", frame, line, f"{violation.message}{where}")
        return not self.exhausted
