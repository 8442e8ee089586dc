"""Whether the answer to a condition may be looked up again ahead of a point on a path.

A condition's answer matters while a statement ahead, or a same-file function it may walk
into (transitively), tests the condition's text - unless a declaration or an assignment to a
plain local overwrites one of its names first (the walker forgets the answer then). Inside a
callee, "ahead" goes on past its return into what its callers still run (`Ahead.cont`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from reviewtool.analyses.spec.flowfacts import FunctionFacts, NodeFacts
from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.state import IDENT_RE, MAX_INLINE_DEPTH

# What a callee does to a condition's answer on its way from entry to return.
_TESTS, _PASSES, _KILLS = "tests", "passes", "kills"


@dataclass(eq=False)
class Ahead:
    """What may still be read from one point of a path on (callers' continuations included).

    `idents` are the names each frame depth may still name; `reads` the names read ahead in
    any frame (fields included); `calls` the start bytes of the call sites that may still
    run. Conditions are looked up along the CFG from `starts` (after `head`, the rest of the
    statement a callee returns into), then in `cont`, the callers' continuation.
    """

    idents: dict[int, frozenset[str]]
    reads: frozenset[str]
    calls: frozenset[int]
    static: NodeFacts
    starts: tuple[int, ...]
    cont: Ahead | None
    fname: str
    depth: int
    head: int | None = None
    skip: str | None = None  # the callee being walked: that call of the head is under way
    head_exit: bool = False  # the head is a return: the callers' continuation comes next
    head_plain: bool = False  # the head only stores or returns the callee's value
    blocked: frozenset[int] = frozenset()  # labels this path may not pass again
    memo: dict[str, bool] = field(default_factory=dict)
    # Call sites this frame may still run, and the bytes its function spans.
    own_calls: frozenset[int] = frozenset()
    span: tuple[int, int] = (0, 0)
    env_memo: dict[tuple[int, str], int] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def _token_pattern(text: str) -> re.Pattern[str]:
    """`text` where it stands whole: `page` is not found inside `kvm_page`."""
    head = r"(?<!\w)" if text[:1].isalnum() or text[:1] == "_" else ""
    tail = r"(?!\w)" if text[-1:].isalnum() or text[-1:] == "_" else ""
    return re.compile(head + re.escape(text) + tail)


def occurs(text: str, blob: str) -> bool:
    """True when the expression text occurs in `blob` at token boundaries."""
    return text in blob and _token_pattern(text).search(blob) is not None


class AnswerSearch:
    """Searches the CFGs of one text for tests of a condition (one per Liveness)."""

    def __init__(
        self,
        spec: Spec,
        definitions: dict,
        facts: FunctionFacts,
        relevant: Callable[[str], bool],
    ) -> None:
        self.spec = spec
        self.definitions = definitions
        self.facts = facts
        self.cfg = facts.cfg
        self.relevant = relevant
        # What a callee does to a condition between entry and return, by (name, depth, text).
        self._summaries: dict[tuple, str] = {}

    def _may_inline(self, name: str, caller_depth: int) -> bool:
        """True when a call of `name` from a frame at `caller_depth` may be walked into."""
        return name in self.definitions and caller_depth < MAX_INLINE_DEPTH and self.relevant(name)

    def _surely_inlined(self, name: str, caller: str, caller_depth: int) -> bool:
        """True when every call of `name` from there is walked into (no spec row for it)."""
        return (
            self._may_inline(name, caller_depth) and name != caller and name not in self.spec.rows
        )

    def _node_effect(
        self,
        static: NodeFacts,
        nid: int,
        fname: str,
        depth: int,
        text: str,
        names: frozenset[str],
        skip: str | None = None,
    ) -> str:
        """What CFG node `nid` does to a condition: tests it, overwrites a name of it, or
        passes it on (callees included; `skip` is a call already under way)."""
        if occurs(text, static.tested[nid]):
            return _TESTS
        killed = bool(names & static.kills[nid])
        for callee, count in static.callees[nid].items():
            if callee == skip and count <= 1:
                continue
            if not self._may_inline(callee, depth):
                continue
            effect = self.summary(callee, depth + 1, text, names)
            if effect == _TESTS:
                return _TESTS
            if effect == _KILLS and self._surely_inlined(callee, fname, depth):
                killed = True
        return _KILLS if killed else _PASSES

    def _search(
        self,
        static: NodeFacts,
        starts,
        fname: str,
        depth: int,
        text: str,
        names: frozenset[str],
        blocked: frozenset[int] = frozenset(),
    ) -> str:
        """From `starts` on: _TESTS when a path tests the condition before overwriting it,
        else _PASSES when a path reaches the function's exit, else _KILLS."""
        seen: set[int] = set()
        todo = list(starts)
        passes = False
        while todo:
            nid = todo.pop()
            if nid in seen or nid in blocked:
                continue
            seen.add(nid)
            effect = self._node_effect(static, nid, fname, depth, text, names)
            if effect == _TESTS:
                return _TESTS
            if effect == _KILLS:
                continue
            if static.exits[nid]:
                passes = True
            todo.extend(static.successors[nid])
        return _PASSES if passes else _KILLS

    def summary(self, name: str, depth: int, text: str, names: frozenset[str]) -> str:
        """What a callee walked at `depth` does to a condition between entry and return."""
        memo = self._summaries
        key = (name, depth, text)
        found = memo.get(key)
        if found is None:
            memo[key] = _TESTS  # a call cycle: assume the worst
            fdef = self.definitions[name]
            entry = self.cfg(fdef.node).entry
            found = self._search(self.facts.of(fdef), (entry,), name, depth, text, names)
            memo[key] = found
        return found

    def tests(self, ahead: Ahead, text: str) -> bool:
        """True when a condition with this text may be tested ahead before the walker
        forgets its answer (a store to one of its names)."""
        found = ahead.memo.get(text)
        if found is None:
            found = ahead.memo[text] = self._tests(ahead, text)
        return found

    def _tests(self, ahead: Ahead, text: str) -> bool:
        names = frozenset(IDENT_RE.findall(text))
        static = ahead.static
        if ahead.head is not None:
            if ahead.head_plain:
                effect = _KILLS if names & static.kills[ahead.head] else _PASSES
            else:
                effect = self._node_effect(
                    static, ahead.head, ahead.fname, ahead.depth, text, names, ahead.skip
                )
            if effect == _TESTS:
                return True
            if effect == _KILLS:
                return False
            if ahead.head_exit:
                return ahead.cont is not None and self.tests(ahead.cont, text)
        effect = self._search(
            static, ahead.starts, ahead.fname, ahead.depth, text, names, ahead.blocked
        )
        if effect == _TESTS:
            return True
        return effect == _PASSES and ahead.cont is not None and self.tests(ahead.cont, text)
