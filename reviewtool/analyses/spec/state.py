"""What the path walker carries along a path, and the bounds on its work.

A `State` is one path's knowledge: the simulator, variable and field values, answers to
conditions already tested, configuration assumptions, and the trace of events a finding shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from reviewtool.analyses.spec.model import ERROR, HELD, NOT_REFCOUNTED, UNHELD
from reviewtool.analyses.spec.simulator import Simulator
from reviewtool.analyses.spec.values import Value

# Work bounds: node visits per checked function, callee nesting, passes through one label on a
# path (loops run to a fixpoint, loops.py: this is the safety net, reported when reached),
# events kept in a trace.
MAX_STEPS_PER_FUNCTION = 30_000
MAX_INLINE_DEPTH = 4
MAX_LOOP_PASSES = 16
MAX_TRACE = 40
MAX_ENTAILMENT_ATOMS = 10

KIND_TEXT = {
    ERROR: "error pfn (no reference)",
    HELD: "refcounted page, reference held",
    UNHELD: "refcounted page, no reference (no FOLL_GET)",
    NOT_REFCOUNTED: "page not refcounted",
}

IDENT_RE = re.compile(r"[A-Za-z_]\w*")
ERRNO_RE = re.compile(r"E[A-Z0-9]+")
# Stands in a flag set for flags set where the walker cannot see (a caller, a hidden line).
UNSEEN_FLAGS = "?"
# Effects that only answer questions: a callee using nothing else is not walked into.
PURE_EFFECTS = ("predicate", "to-page")
NAME_MACRO_RE = re.compile(r"[A-Z][A-Z0-9_]*\(\s*(\w+)\s*\)")


def fold(text: str) -> str:
    """Whitespace folded to single spaces."""
    return " ".join(text.split())


def line_of(node: Node) -> int:
    """1-based line where a node starts."""
    return node.start_point.row + 1


@dataclass
class State:
    """Everything one path knows: the simulator, variables, answers to conditions, trace."""

    sim: Simulator
    env: dict[tuple[int, str], Value] = field(default_factory=dict)
    facts: dict[str, bool] = field(default_factory=dict)
    assumptions: tuple[tuple[str, bool], ...] = ()
    assume_nodes: tuple[tuple[Node, bool], ...] = ()
    get_label: str = ""
    get_passed: bool | None = None  # the flag the label names was passed (None: no label)
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
            self.get_passed,
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
    # What the callers may still read once this frame returns (liveness.Ahead), and the
    # (function, CFG node) being walked (set by the walker, read by calls).
    cont: object = None
    here: object = None
    # Locals declared as pointers: `svm->field` is memory elsewhere, not this frame's.
    pointers: frozenset[str] = frozenset()

    def elsewhere(self, path: str) -> bool:
        """True when a location of this frame is memory the frame does not own: a field
        reached through a pointer (local or parameter), or a write through a pointer
        parameter (`*hpa = ...`, which the walker stores under the parameter's name)."""
        root, dot, _ = path.partition(".")
        if root in self.pointers:
            return bool(dot)
        return self.params.get(root, False) and (bool(dot) or self.depth == 0)


@dataclass
class RawFinding:
    """What the walker found, before it becomes a Finding."""

    rule: str
    function: str
    line: int
    message: str
    config: str
    trace: tuple[tuple[int, str], ...]
    # With a configuration named after the FOLL_GET decision: whether the flag was passed.
    get_passed: bool | None = None


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
