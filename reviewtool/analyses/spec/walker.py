"""The path walker: follow every path through a function, drive the simulator, report findings.

Paths fork at if/else, `&&`/`||`, `?:`, switch, and at every acquisition (one path per page kind
the spec allows). A condition tested twice keeps its first answer. Same-file callees are
walked in place (their paths continue in the caller), so fields such as `fault->pfn` carry a
page from `kvm_faultin_pfn()` to the exit paths of `direct_page_fault()`.

The Walker owns the walk over a function's CFG and what one file's walk shares; the work is
done by parts it is composed of: Expressions (values), Branches (conditions), CallEffects
(calls), Inliner (same-file callees), Liveness (what a path may still read), Configs
(configurations).
"""

from __future__ import annotations

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.branches import Branches
from reviewtool.analyses.spec.callgraph import CallGraph, callers_only
from reviewtool.analyses.spec.cfg import Cfg, build_cfg
from reviewtool.analyses.spec.config import Configs
from reviewtool.analyses.spec.effects import CallEffects
from reviewtool.analyses.spec.expressions import Expressions
from reviewtool.analyses.spec.fields import ReleasedFields, declared_types
from reviewtool.analyses.spec.inline import Inliner
from reviewtool.analyses.spec.liveness import Liveness
from reviewtool.analyses.spec.loops import LOOP_BOUND_REASON, WORK_BOUND_REASON, head_key, new_pass
from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.simulator import Simulator, Violation
from reviewtool.analyses.spec.state import (
    MAX_LOOP_PASSES,
    MAX_STEPS_PER_FUNCTION,
    Frame,
    RawFinding,
    State,
    fold,
    line_of,
    param_list,
)

__all__ = ["RawFinding", "State", "Walker"]


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
        # Drop what a path can no longer read (liveness.py) so that paths merge; off, every
        # state is kept whole and compared at every node (slow; for tests that compare).
        self.pruning = True
        self._graph: CallGraph | None = None
        # Per function: whether mmu_lock was held at each call of it walked so far.
        self.entry_locks: dict[str, set[bool]] = {}
        self._pointer_locals: dict[int, frozenset[str]] = {}
        self._types: dict[int, dict[str, str]] = {}
        # The fields the whole files checked release a page from (fields.py): a page parked
        # in another field is leaked. None: not known (a function image from mail).
        self.released_fields: ReleasedFields | None = None
        # (function, callee, source) where a callee that releases a page on some paths only
        # took it out of what the walk judges (check.py says so in its notes).
        self.unjudged: set[tuple[str, str, str]] = set()
        self.findings: dict[tuple, RawFinding] = {}
        self.steps = 0
        self.exhausted = False
        self.bound_reason = ""  # why the walk was cut short (with `exhausted`)
        self.last_line = 1 << 30  # findings past this line belong to context text
        self.judge_fallthrough = True  # False for hunk text: its end is not the function's
        self.configs = Configs(spec, self.text, path)
        self.exprs = Expressions(self)
        self.branches = Branches(self)
        self.calls = CallEffects(self)
        self.inliner = Inliner(self)
        self.liveness = Liveness(spec, self.definitions, self.cfg, self.text, self.relevant)

    # -- helpers ---------------------------------------------------------------------------

    def text(self, node: Node) -> str:
        """The real source text under a node, whitespace folded (cached)."""
        key = (node.start_byte, node.end_byte)
        found = self.texts.get(key)
        if found is None:
            found = self.texts[key] = fold(self.parsed.node_text(node))
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

    def body_text(self, fdef) -> str:
        """The source text of a function definition."""
        return self.parsed.node_text(fdef.node)

    def types_in(self, fdef) -> dict[str, str]:
        """Variable -> struct type of a function's declarations (cached)."""
        found = self._types.get(fdef.node.id)
        if found is None:
            found = self._types[fdef.node.id] = declared_types(self.body_text(fdef))
        return found

    def field_kept(self, fdef, path: str) -> bool:
        """True when a page stored at `path` (`pte.pfn`, a location of `fdef`'s frame) is
        handed on: some function of the files checked releases from that field. A location
        that is no field is handed on (`*pfn = ...`), and so is every field when the walker
        was not told what the whole files release (a function image from mail, a hunk)."""
        root, _, rest = path.lstrip("*").partition(".")
        if not rest or self.released_fields is None:
            return True
        key = (self.types_in(fdef).get(root, ""), tuple(rest.split(".")))
        return self.released_fields.released(key)

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
        config = st.get_label or self.configs.render_assumptions(st)
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

    # -- walking ---------------------------------------------------------------------------

    def walk(self, fdef, st: State, frame: Frame) -> list[tuple[State, V.Value, int]]:
        """Every way out of `fdef`: (state, returned value, line of the exit)."""
        graph = self.cfg(fdef.node)
        exits: list[tuple[State, V.Value, int]] = []
        stack = [(graph.entry, st)]
        seen: set[tuple] = set()
        joins = self.liveness.merge_points(fdef) if self.pruning else None
        while stack:
            nid, st = stack.pop()
            self.steps += 1
            if self.steps > MAX_STEPS_PER_FUNCTION:
                self.exhausted = True
                self.bound_reason = WORK_BOUND_REASON
                break
            node = graph.nodes[nid]
            label = node.kind == "label"
            passes = st.label_visits.get((frame.depth, nid), 0) if label else 0
            if passes:
                calls = self.liveness.facts.calls_from(fdef, nid)
                new_pass(st, node, frame.depth, graph, calls)
            if joins is None or nid in joins:
                if joins is not None:
                    # Where paths meet (and where they leave): drop what nothing ahead reads,
                    # so that paths differing only in that merge.
                    blocked = self.liveness.blocked_labels(st, fdef, frame.depth)
                    ahead = self.liveness.ahead(fdef, nid, frame.depth, frame.cont, blocked)
                    self.liveness.prune(st, ahead, frame.depth)
                if label:
                    # Loops run to a fixpoint: a head lets a state through only if it has not
                    # seen it (page ids and pass counts apart, loops.py).
                    key = (nid, head_key(st))
                else:
                    # Elsewhere how often the path passed each label is part of the key: it
                    # bounds what the path may still do.
                    key = (nid, st.key(), frozenset(st.label_visits.items()))
                if key in seen:
                    continue
                seen.add(key)
            frame.here = (fdef, nid)
            if label:
                if passes >= MAX_LOOP_PASSES:
                    # The safety net: said, never silent (check.py reports the function as
                    # not checked whole).
                    self.exhausted = True
                    self.bound_reason = LOOP_BOUND_REASON
                    continue
                st.label_visits[(frame.depth, nid)] = passes + 1
                stack.append((node.next, st))
            elif node.kind == "expr":
                for out, _ in self.exprs.eval(st.copy(), node.node, frame):
                    stack.append((node.next, out))
            elif node.kind == "branch":
                if node.node is None:
                    stack.append((node.true, st))
                    continue
                for out, answer in self.branches.cond(st.copy(), node.node, frame):
                    stack.append((node.true if answer else node.false, out))
            elif node.kind == "switch":
                stack.extend(self.switch(st, node, frame))
            elif node.kind == "return":
                if node.node is None:
                    exits.append((st, V.UNKNOWN, node.line))
                else:
                    for out, value in self.exprs.eval(st.copy(), node.node, frame):
                        exits.append((out, value, node.line))
            elif node.kind == "end":
                if frame.depth == 0 and not self.judge_fallthrough:
                    continue
                exits.append((st, V.UNKNOWN, node.line))
        return exits

    def switch(self, st: State, node, frame: Frame) -> list[tuple[int, State]]:
        """Successors of a switch: the matching case when the value is known, else every case."""
        out = []
        for sub, value in self.exprs.eval(st.copy(), node.node, frame):
            matched = False
            for case_value, target in node.cases:
                if case_value is None:
                    continue
                case = self.exprs.constant(case_value)
                if isinstance(value, V.Const) and case is not None:
                    if case == value.number:
                        out.append((target, sub.copy()))
                        matched = True
                        break
                    continue
                out.append((target, sub.copy()))
            if not matched:
                default = next((t for v, t in node.cases if v is None), node.next)
                out.append((default, sub.copy()))
        return out

    def check_function(self, fdef) -> bool:
        """Walk one function from its entry; returns False when the work bound cut it short."""
        self.steps = 0
        self.exhausted = False
        self.bound_reason = ""
        self.configs.start(fdef.name)
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
                    if fr == 0 and frame.elsewhere(path):
                        # Parked in memory elsewhere: handed on, unless no function
                        # releases from that field (then nobody ever will).
                        if self.field_kept(fdef, path):
                            escaped |= V.holds_reference_to(v)
                    elif (fr, root) not in s.locals:
                        escaped |= V.holds_reference_to(v)
            found = s.sim.exit(frozenset(escaped | s.lost))
            for violation in found:
                acquired = s.sim.pages[violation.page].line if violation.page else 0
                where = f" (taken at line {acquired})" if acquired else ""
                s2 = s.copy()
                s2.event(line, "return")
                self.report(s2, "leak", frame, line, f"{violation.message}{where}")
        return not self.exhausted
