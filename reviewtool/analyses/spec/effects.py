"""Calls on a path: the effect of a spec row (acquire, release, mark, lock, ...) or a
same-file callee walked in place, its paths continuing in the caller.
"""

from __future__ import annotations

import zlib

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.model import ERROR, ApiRow
from reviewtool.analyses.spec.state import (
    IDENT_RE,
    KIND_TEXT,
    MAX_INLINE_DEPTH,
    MAX_TRACE,
    NAME_MACRO_RE,
    UNSEEN_FLAGS,
    Frame,
    State,
    line_of,
    param_list,
)


class EffectsMixin:
    """Call handling of the Walker (uses its spec, definitions, eval(), cond(), report())."""

    def callee_name(self, node: Node) -> str:
        """The called function as written (`FNAME(fetch)` stays whole)."""
        function = node.child_by_field_name("function")
        return self.text(function) if function is not None else ""

    @staticmethod
    def call_args(node: Node) -> list[Node]:
        """The argument nodes of a call."""
        args = node.child_by_field_name("arguments")
        return [a for a in (args.named_children if args else []) if a.type != "comment"]

    def eval_args(
        self, st: State, args: list[Node], frame: Frame
    ) -> list[tuple[State, list[tuple]]]:
        """Every combination of argument values (arguments may fork)."""
        states: list[tuple[State, list[tuple]]] = [(st, [])]
        for arg in args:
            states = [(s2, [*vals, v]) for s, vals in states for s2, v in self.eval(s, arg, frame)]
        return states

    def call(self, st: State, node: Node, frame: Frame) -> list[tuple[State, tuple]]:
        """A call: a spec row's effect, a same-file callee walked in place, or an unknown value."""
        name = self.callee_name(node)
        args = self.call_args(node)
        row = self.spec.row(name, len(args))
        wrapped = NAME_MACRO_RE.fullmatch(name)
        if row is None and wrapped:  # KVM_PGT_FN(kvm_pgtable_stage2_map)(...)
            row = self.spec.row(wrapped.group(1), len(args))
        line = line_of(node)
        out: list[tuple[State, tuple]] = []
        for s, values in self.eval_args(st, args, frame):
            if name in self.definitions:
                # Whether callers hold mmu_lock when they call it (read when it is walked).
                self.entry_locks.setdefault(name, set()).add(s.sim.locked)
            if row is not None and row.effect != "snapshot":
                out.extend(self.apply_row(s, row, node, args, values, frame, line))
            elif (
                name in self.definitions
                and frame.depth < MAX_INLINE_DEPTH
                and name != frame.name
                and self.relevant(name)
                and self.worth_walking(s, name, args, values, frame)
            ):
                out.extend(self.inline(s, self.definitions[name], args, values, frame, line))
            else:
                self.forget_zeroes(s, args, frame)
                kept = {v[1] for v in values if v[0] == "addr"}
                if kept:
                    # An address inside the page handed to a function we cannot see: it may
                    # keep the mapping (a queue page), and with it the reference.
                    s.lost = s.lost | kept
                # What an unknown call returns: one symbol per call site, so that a copy of
                # the result (`fault->slot = ...; slot = fault->slot`) answers tests alike.
                out.append((s, ("sym", f"ret:{node.start_byte}")))
        return out

    def worth_walking(self, st: State, name: str, args, values, frame: Frame) -> bool:
        """False when walking into a callee cannot change what this path knows: no page can
        come into its reach (neither acquired there nor passed in) and it neither takes nor
        drops mmu_lock nor checks the notifier."""
        if self.reaches_page(name) or self.graph.touches(name, self.graph.lock_names):
            return True
        if any(value[0] in ("pfn", "page", "alias") for value in values):
            return True
        for arg in args:
            path = self.path_of(arg)
            if path is None:
                continue
            frame_at, where = self.resolve(st, frame.depth, path)
            for (depth, held), value in st.env.items():
                if depth != frame_at or value[0] not in ("pfn", "page"):
                    continue
                if held == where or held.startswith(where + "."):
                    return True
        return False

    def forget_zeroes(self, st: State, args: list[Node], frame: Frame) -> None:
        """A struct passed by address may get its unnamed fields written (out-fields)."""
        for arg in args:
            if arg.type == "pointer_expression" and self.text(arg).startswith("&"):
                where = self.loc(st, arg, frame)
                if where is not None and st.env.get(where) == V.ZERO_STRUCT:
                    st.env[where] = V.UNKNOWN

    def arg_value(self, values: list[tuple], index: int | None) -> tuple:
        """The value of argument `index`, unknown when absent."""
        if index is None or index >= len(values):
            return V.UNKNOWN
        return values[index]

    def apply_row(
        self, st, row: ApiRow, node, args, values, frame, line
    ) -> list[tuple[State, tuple]]:
        """Apply one spec row's effect to the path."""
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
            if value[0] in ("pfn", "page") and row.sometimes:
                if st.sim.pages[value[1]].kind not in row.true_when:
                    return [(st, V.const(0))]
                # True for some pages of these kinds only: the call site's own answer.
                return [(st, ("sym", f"ret:{node.start_byte}"))]
            if value[0] in ("pfn", "page"):
                return [(st, ("refc", value[1], tuple(row.true_when)))]
            if value == V.ERROR_PFN:
                if row.sometimes:
                    return [(st, V.UNKNOWN)] if ERROR in row.true_when else [(st, V.const(0))]
                return [(st, V.const(int(ERROR in row.true_when)))]
            return [(st, V.UNKNOWN)]
        if effect == "nonnull":
            return [(st, V.const(1))]
        if effect == "address":
            if value[0] in ("pfn", "page"):
                return [(st, ("addr", value[1]))]
            return [(st, V.UNKNOWN)]
        if effect == "assert-held":
            if row.arg_contains and not any(row.arg_contains in self.text(a) for a in args):
                return [(st, V.UNKNOWN)]
            if not st.sim.locked and frame.depth == 0:
                # lockdep_assert_held(&kvm->mmu_lock): every caller holds it.
                st.sim.lock()
                st.event(line, f"mmu_lock held by the caller ({name})")
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
            if value[0] not in ("pfn", "page") and self.text(args[row.arg]).startswith("&"):
                # `kvm_vcpu_unmap(vcpu, &map, dirty)`: the holder passed by address.
                where = self.loc(st, args[row.arg], frame)
                value = self.read(st, where) if where else value
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
        """A fault-in: one path per page kind the row allows with or without FOLL_GET."""
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
            passed = "passed" if with_get else "not passed"
            st.get_label = f"{row.get_flag} {passed} ({self.render_assumptions(st)})"
            st.get_passed = with_get
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
            if row.result == "page":
                # A struct page back, NULL (or an error pointer) when no page came.
                result = ("page", pid, tuple(k for k in row.kinds if k != ERROR))
            if row.result == "arg" and row.result_arg is not None and row.result_arg < len(args):
                holder = args[row.result_arg]
                away = self.points_away(s, holder, frame)
                where = self.loc(s, holder, frame)
                if where:
                    self.store(s, where, pfn)
                    if away:
                        # A local pointer to a struct elsewhere (`map = &vmx->...; f(map)`):
                        # the reference lives on where the pointer points.
                        s.lost = s.lost | {pid}
                result = V.const(-1 - zlib.crc32(b"EFAULT") % 4000) if kind == ERROR else V.const(0)
            out.append((s, result))
        return out

    def points_away(self, st: State, holder: Node, frame: Frame) -> bool:
        """True when an out-argument is a local pointer variable whose target the walker does
        not follow (not `&x`, not a parameter standing for a caller's location)."""
        if holder.type != "identifier":
            return False
        where = (frame.depth, holder.text.decode())
        value = st.env.get(where, V.UNKNOWN)
        return where in st.locals and value[0] != "alias"

    @staticmethod
    def refcounted_value(row: ApiRow, pid: int) -> tuple:
        """The 'is refcounted' answer an acquisition hands back (bool or page)."""
        if row.refcounted_type == "page":
            return ("page", pid, tuple(row.refcounted_when))
        return ("refc", pid, tuple(row.refcounted_when))

    def walk_cached(self, fdef, st: State, callee: Frame) -> list[tuple[State, tuple, int]]:
        """walk() of a callee, remembered per entry state: a helper called from several
        places (or on several paths in the same state) is walked once."""
        if self.pruning:
            # What neither the callee nor its callers can read is no part of the entry state.
            entry = self.ahead(fdef, self.cfg(fdef.node).entry, callee.depth, callee.cont)
            self.prune(st, entry, callee.depth)
            # Paths inside were pruned for what these callers read: the cache is theirs.
            key = (self.top, fdef.name, callee.depth, id(callee.cont), st.key())
        else:
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

    @staticmethod
    def forget_finished(st: State, value: tuple, depth: int, spans: list) -> None:
        """Answers about what a returned call of a function computed: its calls' results and
        its locations. The next call of it computes them anew (unless a value kept on the
        path still holds one)."""
        held = {v[1] for v in st.env.values() if v[0] == "sym"}
        if value[0] == "sym":
            held.add(value[1])
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
            (value[1], value[2].partition(".")[0])
            for (frame, _), value in st.env.items()
            if frame == depth and value[0] == "alias"
        }
        todo = list(reachable)
        while todo:
            target = st.env.get(todo.pop())
            if target is not None and target[0] == "alias":
                root = (target[1], target[2].partition(".")[0])
                if root not in reachable:
                    reachable.add(root)
                    todo.append(root)
        hidden_env = {
            where: value
            for where, value in st.env.items()
            if where[0] < depth
            and value[0] not in ("pfn", "page", "addr", "alias")
            and (where[0], where[1].partition(".")[0]) not in reachable
        }
        names, spans = self.graph.reach_of(callee, self.definitions)
        # A value passed on (a parameter holding the caller's unknown `early`) keeps the
        # answers about it in view.
        passed = {
            value[1]
            for where, value in st.env.items()
            if value[0] == "sym" and where not in hidden_env
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
            elif not names & set(IDENT_RE.findall(text)) and not self.is_config(text):
                hidden_facts[text] = answer
        if hidden_env:
            st.env = {k: v for k, v in st.env.items() if k not in hidden_env}
        if hidden_facts:
            st.facts = {k: v for k, v in st.facts.items() if k not in hidden_facts}
        return hidden_env, hidden_facts

    def inline(self, st, fdef, args, values, frame: Frame, line: int) -> list[tuple[State, tuple]]:
        """Walk a same-file callee in place; its paths continue in the caller."""
        depth = frame.depth + 1
        params = param_list(fdef.node)
        caller, nid = frame.here
        blocked = self.blocked_labels(st, caller, frame.depth)
        cont = self.after_call(caller, nid, frame.depth, frame.cont, fdef.name, blocked)
        callee = Frame(
            fdef.name, depth, dict(params), cont=cont, pointers=self.pointer_locals(fdef)
        )
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
        hidden_env, hidden_facts = self.set_aside(st, fdef.name, depth)
        _, spans = self.graph.reach_of(fdef.name, self.definitions)
        # The passes the caller made through its labels (a walk shared from the cache carries
        # those of the state that filled it); the callee's own end with its call.
        passes = {k: v for k, v in st.label_visits.items() if k[0] < depth}
        out = []
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
                if k[0] == depth and callee.elsewhere(k[1])
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
