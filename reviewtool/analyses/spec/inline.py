"""Same-file callees walked in place: the callee's paths continue in the caller, its walk
shared between caller states that differ only in what it cannot see.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.locations import loc
from reviewtool.analyses.spec.state import IDENT_RE, MAX_TRACE, Frame, State, param_list

if TYPE_CHECKING:
    from reviewtool.analyses.spec.walker import Walker


class Inliner:
    """Walks same-file callees in place for one Walker, remembering each callee walk per
    entry state."""

    def __init__(self, walker: Walker) -> None:
        self.walker = walker
        self.spec = walker.spec
        self.definitions = walker.definitions
        self.inline_cache: dict[tuple, list[tuple[State, V.Value, int]]] = {}

    def walk_cached(self, fdef, st: State, callee: Frame) -> list[tuple[State, V.Value, int]]:
        """walk() of a callee, remembered per entry state: a helper called from several
        places (or on several paths in the same state) is walked once."""
        if self.walker.pruning:
            # What neither the callee nor its callers can read is no part of the entry state.
            entry = self.walker.liveness.ahead(
                fdef, self.walker.cfg(fdef.node).entry, callee.depth, callee.cont
            )
            self.walker.liveness.prune(st, entry, callee.depth)
            # Paths inside were pruned for what these callers read: the cache is theirs.
            key = (self.walker.configs.top, fdef.name, callee.depth, id(callee.cont), st.key())
        else:
            key = (self.walker.configs.top, fdef.name, callee.depth, st.key())
        if key not in self.inline_cache:
            prefix, st.trace = st.trace, ()
            self.inline_cache[key] = self.walker.walk(fdef, st, callee)
            st.trace = prefix
        out = []
        for s, value, exit_line in self.inline_cache[key]:
            copy = s.copy()
            copy.trace = (*st.trace, *s.trace)[-MAX_TRACE:]
            out.append((copy, value, exit_line))
        return out

    @staticmethod
    def forget_finished(st: State, value: V.Value, depth: int, spans: list) -> None:
        """Answers about what a returned call of a function computed: its calls' results and
        its locations. The next call of it computes them anew (unless a value kept on the
        path still holds one)."""
        held = {v.name for v in st.env.values() if isinstance(v, V.Sym)}
        if isinstance(value, V.Sym):
            held.add(value.name)
        kept = {}
        for text, answer in st.facts.items():
            if text.startswith("sym:") and text[4:] not in held:
                name = text[4:]
                if name.startswith("ret:"):
                    site = int(name[4:])
                    if any(start <= site < end for start, end in spans):
                        continue
                else:
                    frame_text = name.partition(":")[0]
                    if frame_text.isdigit() and int(frame_text) >= depth:
                        continue
            kept[text] = answer
        st.facts = kept

    def set_aside(self, st: State, callee: str, depth: int) -> tuple[dict, dict]:
        """Take out of the state what a callee cannot see or change (the callers' variables
        no parameter points to, answers about them and about conditions it never names), so
        that the callee's walk is shared by every caller state differing only in those; the
        caller puts them back on each way out. Variables holding a page stay in view."""
        reachable = {
            (value.frame, value.path.partition(".")[0])
            for (frame, _), value in st.env.items()
            if frame == depth and isinstance(value, V.Alias)
        }
        todo = list(reachable)
        while todo:
            target = st.env.get(todo.pop())
            if isinstance(target, V.Alias):
                root = (target.frame, target.path.partition(".")[0])
                if root not in reachable:
                    reachable.add(root)
                    todo.append(root)
        hidden_env = {
            where: value
            for where, value in st.env.items()
            if where[0] < depth
            and not isinstance(value, (*V.REFERENCE_HOLDERS, V.Alias))
            and (where[0], where[1].partition(".")[0]) not in reachable
        }
        names, spans = self.walker.graph.reach_of(callee, self.definitions)
        # A value passed on (a parameter holding the caller's unknown `early`) keeps the
        # answers about it in view.
        passed = {
            value.name
            for where, value in st.env.items()
            if isinstance(value, V.Sym) and where not in hidden_env
        }
        hidden_facts = {}
        for text, answer in st.facts.items():
            if text.startswith("sym:") and text[4:] in passed:
                continue
            if text.startswith("sym:ret:"):
                at = int(text[8:])
                if not any(start <= at < end for start, end in spans):
                    hidden_facts[text] = answer
            elif text.startswith("sym:"):
                frame_text, _, path = text[4:].partition(":")
                if frame_text.isdigit():
                    where = (int(frame_text), path.partition(".")[0])
                    if where[0] < depth and where not in reachable:
                        hidden_facts[text] = answer
            elif not names & set(IDENT_RE.findall(text)) and not self.walker.configs.is_config(
                text
            ):
                hidden_facts[text] = answer
        if hidden_env:
            st.env = {k: v for k, v in st.env.items() if k not in hidden_env}
        if hidden_facts:
            st.facts = {k: v for k, v in st.facts.items() if k not in hidden_facts}
        return hidden_env, hidden_facts

    def inline(
        self, st, fdef, args, values, frame: Frame, line: int
    ) -> list[tuple[State, V.Value]]:
        """Walk a same-file callee in place; its paths continue in the caller."""
        depth = frame.depth + 1
        params = param_list(fdef.node)
        caller, nid = frame.here
        blocked = self.walker.liveness.blocked_labels(st, caller, frame.depth)
        cont = self.walker.liveness.after_call(
            caller, nid, frame.depth, frame.cont, fdef.name, blocked
        )
        callee = Frame(
            fdef.name, depth, dict(params), cont=cont, pointers=self.walker.pointer_locals(fdef)
        )
        st.env = {k: v for k, v in st.env.items() if k[0] < depth}
        st.locals = frozenset(x for x in st.locals if x[0] < depth)
        for index, (pname, pointer) in enumerate(params):
            if index >= len(args):
                break
            st.locals = st.locals | {(depth, pname)}
            where = loc(st, args[index], frame) if pointer else None
            if where is not None:
                st.env[(depth, pname)] = V.Alias(where[0], where[1])
            else:
                st.env[(depth, pname)] = values[index] if index < len(values) else V.UNKNOWN
        st.event(line, f"call {fdef.name}()")
        hidden_env, hidden_facts = self.set_aside(st, fdef.name, depth)
        _, spans = self.walker.graph.reach_of(fdef.name, self.definitions)
        # The passes the caller made through its labels (a walk shared from the cache carries
        # those of the state that filled it); the callee's own end with its call.
        passes = {k: v for k, v in st.label_visits.items() if k[0] < depth}
        out = []
        before = set(st.sim.pages)
        for s, value, exit_line in self.walk_cached(fdef, st, callee):
            s.label_visits = dict(passes)
            self.forget_finished(s, value, depth, spans)
            if hidden_env:
                s.env = {**hidden_env, **s.env}
            if hidden_facts:
                s.facts = {**hidden_facts, **s.facts}
            away = {
                pid
                for k, v in s.env.items()
                if k[0] == depth
                and callee.elsewhere(k[1])
                and self.walker.field_kept(fdef, k[1])  # a field nobody releases keeps nothing
                for pid in V.holds_reference_to(v)
            }
            if away:
                s.lost = s.lost | away  # stored where the callee's pointers point
            mine = {v for k, v in s.env.items() if k[0] >= depth}
            s.env = {k: v for k, v in s.env.items() if k[0] < depth}
            s.locals = frozenset(x for x in s.locals if x[0] < depth)
            s.facts = {t: a for t, a in s.facts.items()}
            held_here = set().union(*(V.holds_reference_to(v) for v in mine)) if mine else set()
            elsewhere = set().union(
                *(V.holds_reference_to(v) for v in s.env.values())
            ) | V.holds_reference_to(value)
            # A page faulted in by this call that no variable holds any more (overwritten on a
            # later pass of a loop) was lost in the callee too.
            held_here |= {pid for pid in s.sim.pages if pid not in before}
            for pid in sorted(held_here - elsewhere - s.lost):
                if s.sim.holds(pid):
                    s.lost = s.lost | {pid}
                    self.walker.report(
                        s, "leak", callee, exit_line, "reference taken here is lost on return"
                    )
            if self.spec.is_consumer(fdef.name):
                # A fault handler called from another one: its own check reports its leaks.
                s.lost = s.lost | {pid for pid in s.sim.pages if s.sim.holds(pid)}
            out.append((s, value))
        return out
