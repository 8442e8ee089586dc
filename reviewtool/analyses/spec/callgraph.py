"""Who calls whom among the functions of one parsed text, and which of them can matter.

The walker needs three answers before it walks anything:

- which functions can reach an effect of the spec at all (directly or through callees): the
  others are never walked into, since they cannot change a page, the lock or the notifier;
- which functions can reach a page at all (an acquisition, or a notifier snapshot that makes
  an install checkable): a function that cannot has nothing to report and is summarised by
  that fact instead of being walked;
- which functions are roots: a `static` function whose every use is a direct call from
  another checked function is checked inside its callers, in the state they call it in (the
  lock they hold, the page they pass), not on its own with nothing known. Its findings are
  still reported once, in its own name.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.state import IDENT_RE, PURE_EFFECTS

# `FNAME(fetch)`, `KVM_PGT_FN(kvm_pgtable_stage2_map)`: a function name built by a macro.
_WRAPPED_RE = re.compile(r"\b[A-Z][A-Z0-9_]*\(\s*\w+\s*\)")
# Effects through which a page comes into a function's reach.
_PAGE_SOURCES = ("acquire", "snapshot")
# Effects on what a caller's path knows even when no page is in reach.
_LOCK_EFFECTS = ("lock", "unlock", "retry-check")


_OPEN_RE = re.compile(r"\s*\(")
_USE_RE = re.compile(r"(?<![\w>.])([A-Za-z_]\w*)(\s*\()?")
_COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
# A name followed by `(`: a call (or a function-like macro).
_CALLED_RE = re.compile(r"(\b[A-Z][A-Z0-9_]*\(\s*\w+\s*\)|(?<![\w>.])[A-Za-z_]\w*)\s*\(")


def named_in(text: str) -> set[str]:
    """Every name a function body mentions: identifiers and macro-built names."""
    names = set(IDENT_RE.findall(text))
    names.update(" ".join(m.group(0).split()) for m in _WRAPPED_RE.finditer(text))
    return names


def called_in(text: str) -> set[str]:
    """Names a function body calls (a pointer to a function stored away is no call)."""
    return {" ".join(m.group(1).split()) for m in _CALLED_RE.finditer(text)}


@dataclass
class CallGraph:
    """Names each function mentions, and the closures the walker asks about."""

    spec: Spec
    names: dict[str, set[str]]  # function -> names its body mentions
    calls: dict[str, set[str]]  # function -> names its body calls
    effects: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    lock_names: frozenset[str] = frozenset()
    _closures: dict[str, frozenset[str]] = field(default_factory=dict)
    _reach: dict[str, tuple] = field(default_factory=dict)

    @classmethod
    def build(cls, spec: Spec, bodies: dict[str, str]) -> CallGraph:
        """The graph of functions given as name -> body text."""
        code = {fname: _COMMENT_RE.sub(" ", body) for fname, body in bodies.items()}
        names = {fname: named_in(body) for fname, body in code.items()}
        calls = {fname: called_in(body) for fname, body in code.items()}
        effects = frozenset(
            name
            for name, rows in spec.rows.items()
            if any(row.effect not in PURE_EFFECTS for row in rows)
        )
        sources = frozenset(
            name
            for name, rows in spec.rows.items()
            if any(row.effect in _PAGE_SOURCES for row in rows)
        )
        lock_names = frozenset(
            name
            for name, rows in spec.rows.items()
            if any(row.effect in _LOCK_EFFECTS for row in rows)
        )
        return cls(spec, names, calls, effects, sources, lock_names)

    def closure(self, fname: str) -> frozenset[str]:
        """`fname` and every function of the text it may call, transitively."""
        found = self._closures.get(fname)
        if found is None:
            seen: set[str] = set()
            todo = [fname]
            while todo:
                current = todo.pop()
                if current in seen or current not in self.names:
                    continue
                seen.add(current)
                todo.extend(n for n in self.calls[current] if n in self.names)
            found = self._closures[fname] = frozenset(seen)
        return found

    def reach_of(self, fname: str, definitions: dict) -> tuple[frozenset[str], list]:
        """Names mentioned anywhere in `fname`'s closure, and the byte spans of its
        functions (a call site inside them may run again there)."""
        found = self._reach.get(fname)
        if found is None:
            closure = self.closure(fname)
            names = frozenset().union(*(self.names[f] for f in closure)) if closure else frozenset()
            spans = [
                (definitions[f].node.start_byte, definitions[f].node.end_byte)
                for f in closure
                if f in definitions
            ]
            found = self._reach[fname] = (names, spans)
        return found

    def touches(self, fname: str, wanted: frozenset[str]) -> bool:
        """True when `fname` or a function it may call names one of `wanted`."""
        return any(self.names[f] & wanted for f in self.closure(fname))

    def callers_first(self, fnames: list[str]) -> list[str]:
        """`fnames` ordered so that a function comes after the ones that call it."""
        wanted = set(fnames)
        order: list[str] = []
        done: set[str] = set()
        for start in fnames:
            if start in done:
                continue
            stack = [(start, iter(sorted(self.calls.get(start, ()) & wanted)))]
            done.add(start)
            while stack:
                current, pending = stack[-1]
                nxt = next((n for n in pending if n not in done), None)
                if nxt is None:
                    stack.pop()
                    order.append(current)
                else:
                    done.add(nxt)
                    stack.append((nxt, iter(sorted(self.calls.get(nxt, ()) & wanted))))
        order.reverse()
        return order

    def callers_of(self, targets: set[str]) -> set[str]:
        """Every function that calls one of `targets`, directly or through other callers."""
        callers: dict[str, set[str]] = {}
        for caller, called in self.calls.items():
            for name in called:
                callers.setdefault(name, set()).add(caller)
        found: set[str] = set()
        todo = list(targets)
        while todo:
            for caller in callers.get(todo.pop(), ()):
                if caller not in found and caller not in targets:
                    found.add(caller)
                    todo.append(caller)
        return found

    def relevant(self, fname: str) -> bool:
        """True when walking into `fname` can change a page, the lock or the notifier."""
        return fname in self.names and self.touches(fname, self.effects)

    def reaches_page(self, fname: str) -> bool:
        """True when a path through `fname` can meet a page (an acquisition or a snapshot)."""
        return fname in self.names and self.touches(fname, self.sources)


def callers_only(graph: CallGraph, checked: dict[str, bool], text: str) -> set[str]:
    """Static functions of `checked` (name -> is_static) whose every use in `text` is a
    direct call, reached from a root through such calls: they are checked inside their
    callers. A function a spec row describes stays a root (callers apply the row instead), and
    so does a consumer (a fault handler: its own exits must drop what it holds, whoever calls
    it, so it is checked on its own; a caller walking it leaves its leaks to that check)."""
    # One pass over the text: how often each name stands alone, and how often as a call.
    uses: Counter = Counter()
    calls: Counter = Counter()
    for match in _USE_RE.finditer(text):
        uses[match.group(1)] += 1
        if match.group(2):
            calls[match.group(1)] += 1
    candidates = set()
    for fname, is_static in checked.items():
        if not is_static or fname in graph.spec.rows or graph.spec.is_consumer(fname):
            continue
        if "(" in fname:  # FNAME(fetch): a macro-built name, looked up on its own
            pattern = re.compile(rf"(?<![\w>.]){re.escape(fname)}(?!\w)")
            ends = [m.end() for m in pattern.finditer(text)]
            named, called = len(ends), sum(1 for end in ends if _OPEN_RE.match(text, end))
        else:
            named, called = uses[fname], calls[fname]
        if named < 2:  # the definition only: nobody calls it here
            continue
        if called == named:
            candidates.add(fname)  # else its address is taken (an ops table, a callback)
    roots = [f for f in checked if f not in candidates]
    reached: set[str] = set()
    todo = [f for f in roots if graph.relevant(f)]
    while todo:
        current = todo.pop()
        for name in graph.calls.get(current, ()):
            if name in candidates and name not in reached and graph.relevant(name):
                reached.add(name)
                todo.append(name)
    return reached
