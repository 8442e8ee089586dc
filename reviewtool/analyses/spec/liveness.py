"""What a path may still read from a point on, so that a state keeps only that.

Two paths that differ only in a variable nobody reads again, or in the answer to a condition
nobody tests again, have the same future: dropping what cannot matter lets the walker's
seen-set merge them. The test is syntactic and errs on the side of keeping:

- a variable is kept while its name appears in a statement reachable from the point (gotos
  included) or a pointer parameter still alive stands for it; a struct field while, besides,
  its field name is read anywhere ahead; a variable holding a page is always kept;
- the answer to a condition is kept while a statement ahead, or a same-file function it may
  walk into (transitively), tests the condition's text - unless a declaration or an
  assignment to a plain local overwrites one of its names first (the walker forgets the
  answer then; answers.py searches for those tests);
- the answer about a call's result is kept while that call site may run again or a variable
  kept holds the result; the answer about an unwritten location while it may be read again.

Inside a callee, "ahead" goes on past its return into what its callers still run; a label
the path may not pass again (MAX_LOOP_PASSES) ends the look ahead there. The walker prunes
and compares states where paths meet (merge_points()): elsewhere a state comes from a
single node, so it merges where it would have one step before. What each function looks
like (names, tests, reachability per CFG node) comes from flowfacts.py.
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.answers import Ahead, AnswerSearch
from reviewtool.analyses.spec.cfg import Cfg
from reviewtool.analyses.spec.flowfacts import FunctionFacts, NodeFacts, plain_call
from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.state import (
    MAX_LOOP_PASSES,
    State,
)

# Struct fields an acquisition row reads by name (they need not appear in the code).
_ROW_FIELDS = (
    "flags_field",
    "guard_field",
    "refcounted_field",
    "error_when_null_field",
    "struct_page_field",
)
_TESTS, _PASSES, _KILLS = "tests", "passes", "kills"
# Verdicts on a variable at one point: kept, dropped, kept only if a live alias reaches it.
_KEEP, _DROP, _IF_ALIASED = 1, 0, 2


class Liveness:
    """Liveness for one Walker's text: what may be read ahead of a point, and pruning."""

    def __init__(
        self,
        spec: Spec,
        definitions: dict,
        cfg: Callable[[Node], Cfg],
        text: Callable[[Node], str],
        relevant: Callable[[str], bool],
    ) -> None:
        self.spec = spec
        self.definitions = definitions
        self.cfg = cfg
        self.text = text
        self.relevant = relevant
        self.facts = FunctionFacts(definitions, cfg, text)
        self.row_fields = _row_fields(spec)
        # Ahead points by (function, node, depth, id(cont), ...): their ids key further ones.
        self._ahead_memo: dict[tuple, Ahead] = {}
        self._conts: dict[int, Ahead | None] = {}
        self.answers = AnswerSearch(spec, definitions, self.facts, relevant)

    def merge_points(self, fdef) -> frozenset[int]:
        """CFG nodes where paths may meet (FunctionFacts.merge_points)."""
        return self.facts.merge_points(fdef)

    # -- points on a path ------------------------------------------------------------------

    def _make_ahead(
        self, fdef, static: NodeFacts, nodes, named: set[str], depth: int, cont: Ahead | None
    ) -> Ahead:
        idents = dict(cont.idents) if cont is not None else {}
        idents[depth] = frozenset().union(*(static.idents[n] for n in nodes))
        reads = set().union(*(static.reads[n] for n in nodes))
        calls = set().union(*(static.calls[n] for n in nodes))
        for n in nodes:
            named |= set(static.callees[n])
        for name in self.facts.closure(named):
            body_reads, sites = self.facts.callee_info(name)
            reads |= body_reads
            calls |= sites
        if cont is not None:
            reads |= cont.reads
            calls |= cont.calls
        # An acquisition reads its struct's fields by name.
        reads |= {f for f, rows in self.row_fields.items() if rows & reads}
        found = Ahead(
            idents, frozenset(reads), frozenset(calls), static, (), cont, fdef.name, depth
        )
        found.own_calls = (
            frozenset().union(*(static.calls[n] for n in nodes)) if nodes else frozenset()
        )
        found.span = (fdef.node.start_byte, fdef.node.end_byte)
        return found

    def _memo(self, key: tuple, cont: Ahead | None, build) -> Ahead:
        found = self._ahead_memo.get(key)
        if found is None:
            found = self._ahead_memo[key] = build()
            # The key holds the id of `cont`: keep it alive as long as the entry.
            self._conts.setdefault(id(cont), cont)
        return found

    def blocked_labels(self, st: State, fdef, depth: int) -> frozenset[int]:
        """Labels of `fdef` the walker lets this path pass no more (MAX_LOOP_PASSES)."""
        if not st.label_visits:
            return frozenset()
        nodes = self.cfg(fdef.node).nodes
        return frozenset(
            nid
            for (frame, nid), count in st.label_visits.items()
            if frame == depth
            and count >= MAX_LOOP_PASSES
            and nid < len(nodes)
            and nodes[nid].kind == "label"
        )

    def ahead(
        self,
        fdef,
        nid: int,
        depth: int,
        cont: Ahead | None,
        blocked: frozenset[int] = frozenset(),
    ) -> Ahead:
        """What may be read from CFG node `nid` of `fdef` on, with the callers' `cont`,
        on a path that may not pass the `blocked` labels."""
        key = (fdef.node.id, nid, depth, id(cont), blocked)

        def build() -> Ahead:
            static = self.facts.of(fdef)
            nodes = self.facts.reach(static, (nid,), blocked)
            found = self._make_ahead(fdef, static, nodes, set(), depth, cont)
            found.starts = (nid,)
            found.blocked = blocked
            return found

        return self._memo(key, cont, build)

    def after_call(
        self,
        fdef,
        nid: int,
        depth: int,
        cont: Ahead | None,
        callee: str,
        blocked: frozenset[int] = frozenset(),
    ) -> Ahead:
        """What the caller may read once `callee`, called from node `nid`, returns: the rest
        of that statement, what follows it, and the callers' `cont`."""
        key = (fdef.node.id, nid, depth, id(cont), callee, blocked)

        def build() -> Ahead:
            static = self.facts.of(fdef)
            node = self.cfg(fdef.node).nodes[nid]
            plain = plain_call(node.node, callee, node.kind)
            named = set(static.callees[nid])
            # The statement calls `callee` once: that call is the one now walked.
            if static.callees[nid].get(callee, 0) <= 1:
                named.discard(callee)
            if plain is not None:
                named = set()
            after = self.facts.reach(static, static.successors[nid], blocked)
            found = self._make_ahead(fdef, static, after, named, depth, cont)
            found.blocked = blocked
            if plain is None:
                found.idents[depth] = static.idents[nid] | found.idents[depth]
                found.reads = found.reads | static.reads[nid]
                found.calls = found.calls | static.calls[nid]
                found.own_calls = found.own_calls | static.calls[nid]
            else:
                # Only the store is left: its target (a parameter may stand for a caller's
                # variable) is named, nothing is read or tested.
                found.idents[depth] = plain | found.idents[depth]
            found.head, found.skip = nid, callee
            found.head_plain = plain is not None
            found.head_exit = static.exits[nid]
            found.starts = () if found.head_exit else static.successors[nid]
            return found

        return self._memo(key, cont, build)

    # -- pruning ---------------------------------------------------------------------------

    def _env_verdict(self, ahead: Ahead, where: tuple[int, str], whole: bool = False) -> int:
        frame, path = where
        root, _, rest = path.partition(".")
        if rest and not whole and rest.rpartition(".")[2] not in ahead.reads:
            return _DROP
        names = ahead.idents.get(frame)
        if names is None or root not in names:
            return _IF_ALIASED
        if rest or whole:
            return _KEEP
        # A plain variable: named ahead, but is it read before being overwritten?
        point = ahead
        while point is not None and point.depth != frame:
            point = point.cont
        if point is None or self._var_live(point, root):
            return _KEEP
        return _IF_ALIASED

    def _var_live(self, ahead: Ahead, name: str) -> bool:
        """True when a variable of the frame `ahead` walks may be read before it is
        overwritten (or the frame returns)."""
        key = "\2" + name
        found = ahead.memo.get(key)
        if found is not None:
            return found
        static = ahead.static
        found = False
        if ahead.head is not None:
            if not ahead.head_plain and name in static.uses[ahead.head]:
                found = True
            elif name in static.kills[ahead.head] or ahead.head_exit:
                ahead.memo[key] = False
                return False
        if not found:
            seen: set[int] = set()
            todo = list(ahead.starts)
            while todo:
                nid = todo.pop()
                if nid in seen or nid in ahead.blocked:
                    continue
                seen.add(nid)
                if name in static.uses[nid]:
                    found = True
                    break
                if name not in static.kills[nid]:
                    todo.extend(static.successors[nid])
        ahead.memo[key] = found
        return found

    def prune(self, st: State, ahead: Ahead, depth: int) -> None:
        """Drop the variables and condition answers nothing ahead can read."""
        env = st.env
        memo = ahead.env_memo
        doubtful = None
        dropped = None
        aliases = []
        for where, value in env.items():
            # A value holding a page reference is kept whatever happens: leak checks look at
            # every variable that could still drop the reference.
            if isinstance(value, V.REFERENCE_HOLDERS):
                continue
            if isinstance(value, V.Alias):
                aliases.append((where, value))
            if value == V.ZERO_STRUCT:
                # A `{...}` struct answers reads of any of its fields: its name counts.
                verdict = self._env_verdict(ahead, where, whole=True)
            else:
                verdict = memo.get(where)
                if verdict is None:
                    verdict = memo[where] = self._env_verdict(ahead, where)
            if verdict == _KEEP:
                continue
            if verdict == _IF_ALIASED:
                doubtful = doubtful or []
                doubtful.append(where)
            else:
                dropped = dropped or []
                dropped.append(where)
        alive = None
        if doubtful:
            alive = _aliased(aliases, ahead)
            for where in doubtful:
                if (where[0], where[1].partition(".")[0]) not in alive:
                    dropped = dropped or []
                    dropped.append(where)
        if dropped:
            gone = set(dropped)
            env = st.env = {k: v for k, v in env.items() if k not in gone}
        self._forget_pages(st)
        if not st.facts:
            return
        facts = None
        syms = None
        for text in st.facts:
            keep = ahead.memo.get(text)  # for a symbol: True when needed whatever env holds
            if keep is None:
                if text.startswith("sym:"):
                    keep = ahead.memo[text] = self._sym_static(text[4:], ahead)
                else:
                    keep = self.answers.tests(ahead, text)
            if not keep and text.startswith("sym:"):
                name = text[4:]
                if syms is None:
                    syms = {value.name for value in env.values() if isinstance(value, V.Sym)}
                if name in syms:
                    keep = True
                elif _unwritten_field_read(name, ahead):
                    if alive is None:
                        alive = _aliased(aliases, ahead)
                    frame_text, _, path = name.partition(":")
                    keep = (int(frame_text), path.partition(".")[0]) in alive
            if not keep:
                if facts is None:
                    facts = dict(st.facts)
                del facts[text]
        if facts is not None:
            st.facts = facts

    @staticmethod
    def _forget_pages(st: State) -> None:
        """Pages no variable holds that keep no reference (or whose reference went where the
        walker stops following) can matter no more: dropping them lets paths merge."""
        pages = st.sim.pages
        if not pages:
            return
        held = set()
        for value in st.env.values():
            if isinstance(value, V.REFERENCE_HOLDERS):
                held.add(value.pid)
        gone = {
            pid
            for pid, page in pages.items()
            if pid not in held and (page.refs == 0 or pid in st.lost)
        }
        if gone:
            st.sim.forget(gone)
            st.lost = st.lost - gone

    @staticmethod
    def _sym_static(name: str, ahead: Ahead) -> bool:
        """True when the answer about a symbolic value may be looked up again whatever the
        variables hold: its call site may run again, or its location be read by name."""
        if name.startswith("ret:"):
            # The same call site run again in the same call of its function gives the same
            # symbol; once that function returned, the next call of it is another story.
            site = int(name[4:])
            point = ahead
            while point is not None:
                if point.span[0] <= site < point.span[1]:
                    return site in point.own_calls
                point = point.cont
            return False
        frame_text, _, path = name.partition(":")
        root, _, rest = path.partition(".")
        if int(frame_text) not in ahead.idents:
            return False  # a frame that returned: its locations are gone
        # Read again while unwritten: its field is read ahead, and its root is named by its
        # frame or by any frame ahead (a sibling at that depth).
        if rest and rest.rpartition(".")[2] not in ahead.reads:
            return False
        names = ahead.idents.get(int(frame_text))
        return (names is not None and root in names) or root in ahead.reads


def _unwritten_field_read(name: str, ahead: Ahead) -> bool:
    """False when `name` is a location (`depth:path`) whose field nothing ahead reads."""
    if name.startswith("ret:"):
        return False
    rest = name.partition(".")[2]
    return not rest or rest.rpartition(".")[2] in ahead.reads


def _aliased(aliases: list, ahead: Ahead) -> set[tuple[int, str]]:
    """(depth, name) of the variables a live pointer parameter stands for."""
    links = [
        ((frame, path), (value.frame, value.path.partition(".")[0]))
        for (frame, path), value in aliases
    ]
    alive: set[tuple[int, str]] = set()
    for (frame, name), _ in links:
        names = ahead.idents.get(frame)
        if names is not None and name in names:
            alive.add((frame, name))
    changed = True
    while changed:
        changed = False
        for source, target in links:
            if source in alive and target not in alive:
                alive.add(target)
                changed = True
    return alive


def _row_fields(spec: Spec) -> dict[str, frozenset[str]]:
    """Struct fields the spec's rows read by name, with the rows that read each."""
    out: dict[str, set[str]] = {}
    for rows in spec.rows.values():
        for row in rows:
            for attr in _ROW_FIELDS:
                if getattr(row, attr):
                    out.setdefault(getattr(row, attr), set()).add(row.name)
    return {k: frozenset(v) for k, v in out.items()}
