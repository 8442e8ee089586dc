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
  answer then);
- the answer about a call's result is kept while that call site may run again or a variable
  kept holds the result; the answer about an unwritten location while it may be read again.

Inside a callee, "ahead" goes on past its return into what its callers still run; a label
the path may not pass again (MAX_LABEL_VISITS) ends the look ahead there. The walker prunes
and compares states where paths meet (merge_points()): elsewhere a state comes from a
single node, so it merges where it would have one step before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.state import (
    IDENT_RE,
    MAX_INLINE_DEPTH,
    MAX_LABEL_VISITS,
    State,
    param_list,
)

# Values that hold a page reference: kept whatever happens, since leak checks look at every
# variable that could still drop the reference.
HOLDS_PAGE = ("pfn", "page", "addr")
# Struct fields an acquisition row reads by name (they need not appear in the code).
_ROW_FIELDS = (
    "flags_field",
    "guard_field",
    "refcounted_field",
    "error_when_null_field",
    "struct_page_field",
)
_EXITS = ("return", "end")
_DECLARATORS = ("init_declarator", "identifier", "pointer_declarator", "array_declarator")
# What a callee does to a condition's answer on its way from entry to return.
_TESTS, _PASSES, _KILLS = "tests", "passes", "kills"
# Verdicts on a variable at one point: kept, dropped, kept only if a live alias reaches it.
_KEEP, _DROP, _IF_ALIASED = 1, 0, 2


@dataclass
class _Static:
    """Per CFG node of one function: names (all, and those read), the text a condition may
    be tested in, call sites, the same-file functions it names, the names it overwrites,
    successors, and what is reachable from it and after it."""

    idents: list[frozenset[str]]
    reads: list[frozenset[str]]
    tested: list[str]
    calls: list[frozenset[int]]
    callees: list[dict[str, int]]  # same-file function -> times named
    kills: list[frozenset[str]]
    exits: list[bool]
    successors: list[tuple[int, ...]]
    reach: list[tuple[int, ...]]  # this node and every node reachable from it
    after: list[tuple[int, ...]]  # every node reachable from its successors
    body_reads: frozenset[str] = frozenset()
    uses: list[frozenset[str]] = field(default_factory=list)  # names read, not only stored


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
    static: _Static
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


def _call_sites(node: Node) -> set[int]:
    out = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if current.type == "call_expression":
            out.add(current.start_byte)
        todo.extend(current.children)
    return out


def _declared(node: Node) -> tuple[set[str], list[Node]]:
    """Names a declaration stores to, as the walker's declare() does, and their values."""
    out = set()
    values = []
    for child in node.named_children:
        if child.type not in _DECLARATORS:
            continue
        init = child.type == "init_declarator"
        target = child.child_by_field_name("declarator") if init else child
        while target is not None and target.type != "identifier":
            target = target.child_by_field_name("declarator")
        if target is not None:
            out.add(target.text.decode())
            value = child.child_by_field_name("value") if init else None
            if value is not None:
                values.append(value)
    return out, values


def _names(node: Node, text: str) -> list[str]:
    """Identifiers of a node, in the real text and the sanitised one (reads use the latter)."""
    return IDENT_RE.findall(text) + IDENT_RE.findall(node.text.decode())


class LivenessMixin:
    """Liveness of the Walker (uses its cfg(), text(), relevant(), definitions, spec)."""

    # -- what each function looks like ----------------------------------------------------

    def _kills(self, node: Node, params: set[str]) -> tuple[frozenset[str], list[Node]]:
        """Names a statement overwrites on every path through it (the walker forgets the
        answers that name them), and the parts evaluated before the store."""
        if node.type == "declaration":
            names, values = _declared(node)
            return frozenset(names), values
        expr = _assignment(node)
        if expr is not None:
            left = expr.child_by_field_name("left")
            right = expr.child_by_field_name("right")
            # A parameter may stand for a caller's variable: the store goes there.
            if left is not None and right is not None and left.type == "identifier":
                name = left.text.decode()
                if name not in params:
                    return frozenset({name}), [right]
        return frozenset(), []

    def _reads(self, node: Node, names: list[str]) -> frozenset[str]:
        """Names a statement may read: all but a struct field it only writes."""
        expr = _assignment(node)
        if expr is not None and self.text(expr.child_by_field_name("operator")) == "=":
            left = expr.child_by_field_name("left")
            if left is not None and left.type == "field_expression":
                written = left.child_by_field_name("field")
                if written is not None:
                    name = written.text.decode()
                    # Named once in each text: that is the write.
                    if names.count(name) <= 2:
                        return frozenset(n for n in names if n != name)
        return frozenset(names)

    def _static(self, fdef) -> _Static:
        """Names, text, call sites and reachability of each CFG node of a function."""
        cache = self.__dict__.setdefault("_static_cache", {})
        found = cache.get(fdef.node.id)
        if found is not None:
            return found
        params = {name for name, _ in param_list(fdef.node)}
        graph = self.cfg(fdef.node)
        idents, reads, tested, calls, callees, kills = [], [], [], [], [], []
        uses: list[frozenset[str]] = []
        for cfg_node in graph.nodes:
            node = cfg_node.node
            if node is None:
                idents.append(frozenset())
                reads.append(frozenset())
                uses.append(frozenset())
                tested.append("")
                calls.append(frozenset())
                callees.append({})
                kills.append(frozenset())
                continue
            text = self.text(node)
            names = _names(node, text)
            idents.append(frozenset(names))
            reads.append(self._reads(node, names))
            calls.append(frozenset(_call_sites(node)))
            named: dict[str, int] = {}
            for name in IDENT_RE.findall(text):
                if name in self.definitions:
                    named[name] = named.get(name, 0) + 1
            callees.append(named)
            killed, values = (
                self._kills(node, params) if cfg_node.kind == "expr" else (frozenset(), [])
            )
            kills.append(killed)
            # A condition is tested in a store's value, never in the name stored to.
            tested.append("\n".join(self.text(v) for v in values) if killed else text)
            compound = (expr := _assignment(node)) is not None and self.text(
                expr.child_by_field_name("operator")
            ) != "="
            if killed and not compound:
                uses.append(frozenset(n for v in values for n in _names(v, self.text(v))))
            else:
                uses.append(frozenset(names))
        successors = []
        for cfg_node in graph.nodes:
            nxt = [cfg_node.next, cfg_node.true, cfg_node.false]
            nxt += [target for _, target in cfg_node.cases]
            successors.append(tuple(sorted({n for n in nxt if n is not None})))
        reach: list[tuple[int, ...]] = []
        after: list[tuple[int, ...]] = []
        for start in range(len(graph.nodes)):
            seen: set[int] = set()
            todo = list(successors[start])
            while todo:
                current = todo.pop()
                if current not in seen:
                    seen.add(current)
                    todo.extend(successors[current])
            after.append(tuple(sorted(seen)))
            reach.append(tuple(sorted(seen | {start})))
        exits = [cfg_node.kind in _EXITS for cfg_node in graph.nodes]
        found = _Static(
            idents, reads, tested, calls, callees, kills, exits, successors, reach, after
        )
        found.body_reads = frozenset().union(*reads)
        found.uses = uses
        cache[fdef.node.id] = found
        return found

    def _closure(self, names) -> frozenset[str]:
        """Same-file functions in `names`, and every function they name, transitively."""
        memo = self.__dict__.setdefault("_closures", {})
        key = frozenset(names)
        found = memo.get(key)
        if found is not None:
            return found
        out: set[str] = set()
        todo = [n for n in key if n in self.definitions]
        while todo:
            name = todo.pop()
            if name in out:
                continue
            out.add(name)
            static = self._static(self.definitions[name])
            for named in static.callees:
                todo.extend(n for n in named if n not in out)
        found = memo[key] = frozenset(out)
        return found

    def _callee_info(self, name: str) -> tuple[frozenset[str], frozenset[int]]:
        """The names read and the call sites of one same-file function."""
        static = self._static(self.definitions[name])
        return static.body_reads, frozenset().union(*static.calls)

    def _row_fields(self) -> dict[str, frozenset[str]]:
        """Struct fields the spec's rows read by name, with the rows that read each."""
        found = self.__dict__.get("_row_field_map")
        if found is None:
            out: dict[str, set[str]] = {}
            for rows in self.spec.rows.values():
                for row in rows:
                    for attr in _ROW_FIELDS:
                        if getattr(row, attr):
                            out.setdefault(getattr(row, attr), set()).add(row.name)
            found = self.__dict__["_row_field_map"] = {k: frozenset(v) for k, v in out.items()}
        return found

    # -- points on a path ------------------------------------------------------------------

    def _make_ahead(
        self, fdef, static: _Static, nodes, named: set[str], depth: int, cont: Ahead | None
    ) -> Ahead:
        idents = dict(cont.idents) if cont is not None else {}
        idents[depth] = frozenset().union(*(static.idents[n] for n in nodes))
        reads = set().union(*(static.reads[n] for n in nodes))
        calls = set().union(*(static.calls[n] for n in nodes))
        for n in nodes:
            named |= set(static.callees[n])
        for name in self._closure(named):
            body_reads, sites = self._callee_info(name)
            reads |= body_reads
            calls |= sites
        if cont is not None:
            reads |= cont.reads
            calls |= cont.calls
        # An acquisition reads its struct's fields by name.
        reads |= {f for f, rows in self._row_fields().items() if rows & reads}
        found = Ahead(
            idents, frozenset(reads), frozenset(calls), static, (), cont, fdef.name, depth
        )
        found.own_calls = (
            frozenset().union(*(static.calls[n] for n in nodes)) if nodes else frozenset()
        )
        found.span = (fdef.node.start_byte, fdef.node.end_byte)
        return found

    def _memo(self, key: tuple, cont: Ahead | None, build) -> Ahead:
        memo = self.__dict__.setdefault("_ahead_memo", {})
        found = memo.get(key)
        if found is None:
            found = memo[key] = build()
            # The key holds the id of `cont`: keep it alive as long as the entry.
            memo.setdefault(("cont", id(cont)), cont)
        return found

    def merge_points(self, fdef) -> frozenset[int]:
        """CFG nodes where paths may meet, or leave the function: the entry, labels, nodes
        with several predecessors, returns and the end. Elsewhere a path comes from a
        single node, so the states there merge where they did one step before."""
        cache = self.__dict__.setdefault("_merge_points", {})
        found = cache.get(fdef.node.id)
        if found is None:
            graph = self.cfg(fdef.node)
            static = self._static(fdef)
            preds = [0] * len(graph.nodes)
            for successors in static.successors:
                for nxt in successors:
                    preds[nxt] += 1
            found = frozenset(
                nid
                for nid, node in enumerate(graph.nodes)
                if nid == graph.entry or preds[nid] != 1 or node.kind in ("label", *_EXITS)
            )
            cache[fdef.node.id] = found
        return found

    @staticmethod
    def _reach(static: _Static, starts, blocked: frozenset[int]) -> tuple[int, ...]:
        """The nodes reachable from `starts` (included) without passing a blocked label."""
        if not blocked:
            return tuple(sorted({n for start in starts for n in static.reach[start]}))
        seen: set[int] = set()
        todo = [n for n in starts if n not in blocked]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(n for n in static.successors[current] if n not in blocked)
        return tuple(sorted(seen))

    def blocked_labels(self, st: State, fdef, depth: int) -> frozenset[int]:
        """Labels of `fdef` the walker lets this path pass no more (MAX_LABEL_VISITS)."""
        if not st.label_visits:
            return frozenset()
        nodes = self.cfg(fdef.node).nodes
        return frozenset(
            nid
            for (frame, nid), count in st.label_visits.items()
            if frame == depth
            and count >= MAX_LABEL_VISITS
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
            static = self._static(fdef)
            nodes = self._reach(static, (nid,), blocked)
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
            static = self._static(fdef)
            node = self.cfg(fdef.node).nodes[nid]
            plain = _plain_call(node.node, callee, node.kind)
            named = set(static.callees[nid])
            # The statement calls `callee` once: that call is the one now walked.
            if static.callees[nid].get(callee, 0) <= 1:
                named.discard(callee)
            if plain is not None:
                named = set()
            after = self._reach(static, static.successors[nid], blocked)
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

    # -- conditions ------------------------------------------------------------------------

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
        static: _Static,
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
            effect = self._summary(callee, depth + 1, text, names)
            if effect == _TESTS:
                return _TESTS
            if effect == _KILLS and self._surely_inlined(callee, fname, depth):
                killed = True
        return _KILLS if killed else _PASSES

    def _search(
        self,
        static: _Static,
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

    def _summary(self, name: str, depth: int, text: str, names: frozenset[str]) -> str:
        """What a callee walked at `depth` does to a condition between entry and return."""
        memo = self.__dict__.setdefault("_summaries", {})
        key = (name, depth, text)
        found = memo.get(key)
        if found is None:
            memo[key] = _TESTS  # a call cycle: assume the worst
            fdef = self.definitions[name]
            entry = self.cfg(fdef.node).entry
            found = self._search(self._static(fdef), (entry,), name, depth, text, names)
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
            tag = value[0]
            if tag in HOLDS_PAGE:
                continue
            if tag == "alias":
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
                    keep = self.tests(ahead, text)
            if not keep and text.startswith("sym:"):
                name = text[4:]
                if syms is None:
                    syms = {value[1] for value in env.values() if value[0] == "sym"}
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
            if value[0] in HOLDS_PAGE:
                held.add(value[1])
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
        ((frame, path), (value[1], value[2].partition(".")[0])) for (frame, path), value in aliases
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


def _assignment(node: Node) -> Node | None:
    """The assignment an expression statement consists of, if it does."""
    if node.type == "expression_statement" and len(node.named_children) == 1:
        expr = node.named_children[0]
        if expr.type == "assignment_expression":
            return expr
    return None


def _plain_call(node: Node | None, callee: str, kind: str) -> frozenset[str] | None:
    """When a statement only returns or stores a call of `callee` (`return f(x);`,
    `r = f(x);`, `int r = f(x);`): the names its store goes through; else None."""
    if node is None:
        return None
    value, target = None, frozenset()
    if kind == "return":
        value = node
    elif node.type == "declaration":
        declarators = [c for c in node.named_children if c.type in _DECLARATORS]
        if len(declarators) == 1 and declarators[0].type == "init_declarator":
            value = declarators[0].child_by_field_name("value")
    else:
        expr = _assignment(node)
        if expr is not None and expr.child_by_field_name("operator").text == b"=":
            value = expr.child_by_field_name("right")
            left = expr.child_by_field_name("left")
            target = frozenset(IDENT_RE.findall(left.text.decode())) if left else frozenset()
    if value is None or value.type != "call_expression":
        return None
    function = value.child_by_field_name("function")
    if function is None or function.text.decode() != callee:
        return None
    return target
