"""Calls on a path: the effect of a spec row (acquire, release, mark, lock, ...) or a
same-file callee walked in place, its paths continuing in the caller.
"""

from __future__ import annotations

import zlib
from typing import TYPE_CHECKING

from tree_sitter import Node

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.fields import target_of
from reviewtool.analyses.spec.locations import loc, read, resolve, store, values_under
from reviewtool.analyses.spec.model import (
    ERROR,
    RELEASE_ON_ZERO,
    RELEASE_SOMETIMES,
    ApiRow,
)
from reviewtool.analyses.spec.state import (
    KIND_TEXT,
    MAX_INLINE_DEPTH,
    NAME_MACRO_RE,
    UNSEEN_FLAGS,
    Frame,
    State,
    line_of,
)

if TYPE_CHECKING:
    from reviewtool.analyses.spec.walker import Walker

# What a call that fails returns where the walker needs a value (`-EFAULT`).
_ERROR_RESULT = V.Const(-1 - zlib.crc32(b"EFAULT") % 4000)


class CallEffects:
    """What a call does to a path, for one Walker: a spec row's effect, a same-file callee
    walked in place (through the Walker's Inliner), or an unknown result."""

    def __init__(self, walker: Walker) -> None:
        self.walker = walker
        self.spec = walker.spec
        self.definitions = walker.definitions
        self.text = walker.text

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
    ) -> list[tuple[State, list[V.Value]]]:
        """Every combination of argument values (arguments may fork)."""
        states: list[tuple[State, list[V.Value]]] = [(st, [])]
        for arg in args:
            states = [
                (s2, [*vals, v])
                for s, vals in states
                for s2, v in self.walker.exprs.eval(s, arg, frame)
            ]
        return states

    def call(self, st: State, node: Node, frame: Frame) -> list[tuple[State, V.Value]]:
        """A call: a spec row's effect, a same-file callee walked in place, or an unknown value."""
        name = self.callee_name(node)
        args = self.call_args(node)
        if name in self.spec.bug_if_true and args:
            # `BUG_ON(!map);`, `WARN_ON(true);` as a statement: the kernel calls the path
            # where the condition holds a bug, as in `if (WARN_ON(x))`; the path goes on
            # where it is false, and ends where it always holds.
            answers = self.walker.branches.cond(st, args[0], frame)
            return [(s, V.NULL) for s, answer in answers if not answer]
        row = self.spec.row(name, len(args))
        wrapped = NAME_MACRO_RE.fullmatch(name)
        if row is None and wrapped:  # KVM_PGT_FN(kvm_pgtable_stage2_map)(...)
            row = self.spec.row(wrapped.group(1), len(args))
        line = line_of(node)
        out: list[tuple[State, V.Value]] = []
        for s, values in self.eval_args(st, args, frame):
            if name in self.definitions:
                # Whether callers hold mmu_lock when they call it (read when it is walked).
                self.walker.entry_locks.setdefault(name, set()).add(s.sim.locked)
            if row is not None and row.effect != "snapshot":
                out.extend(self.apply_row(s, row, node, args, values, frame, line))
            elif (
                name in self.definitions
                and frame.depth < MAX_INLINE_DEPTH
                and name != frame.name
                and self.walker.relevant(name)
                and self.worth_walking(s, name, args, values, frame)
            ):
                out.extend(
                    self.walker.inliner.inline(s, self.definitions[name], args, values, frame, line)
                )
            else:
                self.forget_zeroes(s, args, frame)
                kept = {v.pid for v in values if isinstance(v, V.Addr)}
                if kept:
                    # An address inside the page handed to a function we cannot see: it may
                    # keep the mapping (a queue page), and with it the reference.
                    s.lost = s.lost | kept
                # What an unknown call returns: one symbol per call site, so that a copy of
                # the result (`fault->slot = ...; slot = fault->slot`) answers tests alike.
                out.append((s, V.Sym(f"ret:{node.start_byte}")))
        return out

    def worth_walking(self, st: State, name: str, args, values, frame: Frame) -> bool:
        """False when walking into a callee cannot change what this path knows: no page can
        come into its reach (neither acquired there nor passed in) and it neither takes nor
        drops mmu_lock nor checks the notifier."""
        if self.walker.reaches_page(name) or self.walker.graph.touches(
            name, self.walker.graph.lock_names
        ):
            return True
        if any(isinstance(value, (*V.REFERENCE_HOLDERS, V.Alias)) for value in values):
            return True  # a page, or an address inside one (it may keep it, or hand it on)
        return any(
            isinstance(value, V.REFERENCE_HOLDERS)
            for arg in args
            for value in values_under(st, frame.depth, arg)
        )

    def forget_zeroes(self, st: State, args: list[Node], frame: Frame) -> None:
        """A struct passed by address may get its unnamed fields written (out-fields)."""
        for arg in args:
            if arg.type == "pointer_expression" and self.text(arg).startswith("&"):
                where = loc(st, arg, frame)
                if where is not None and st.env.get(where) == V.ZERO_STRUCT:
                    st.env[where] = V.UNKNOWN

    def arg_value(self, values: list[V.Value], index: int | None) -> V.Value:
        """The value of argument `index`, unknown when absent."""
        if index is None or index >= len(values):
            return V.UNKNOWN
        return values[index]

    def apply_row(
        self, st, row: ApiRow, node, args, values, frame, line
    ) -> list[tuple[State, V.Value]]:
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
                self.walker.violations(st, st.sim.install(), frame, line)
            return [(st, V.UNKNOWN)]
        value = self.arg_value(values, row.arg)
        if effect == "predicate":
            if isinstance(value, V.PAGE_VALUES) and row.sometimes:
                if st.sim.pages[value.pid].kind not in row.true_when:
                    return [(st, V.NULL)]
                # True for some pages of these kinds only: the call site's own answer.
                return [(st, V.Sym(f"ret:{node.start_byte}"))]
            if isinstance(value, V.PAGE_VALUES):
                return [(st, V.Refcounted(value.pid, tuple(row.true_when)))]
            if value == V.ERROR_PFN:
                if row.sometimes:
                    return [(st, V.UNKNOWN)] if ERROR in row.true_when else [(st, V.NULL)]
                return [(st, V.Const(int(ERROR in row.true_when)))]
            return [(st, V.UNKNOWN)]
        if effect == "nonnull":
            return [(st, V.Const(1))]
        if effect == "address":
            if isinstance(value, V.PAGE_VALUES):
                return [(st, V.Addr(value.pid))]
            return [(st, V.UNKNOWN)]
        if effect == "keep":
            if isinstance(value, (V.Addr, *V.PAGE_VALUES)):
                kept = st.copy()
                kept.lost = kept.lost | {value.pid}
                kept.event(line, f"{name}() keeps the page")
                if row.kept_when != RELEASE_ON_ZERO:
                    return [(kept, V.Sym(f"ret:{node.start_byte}"))]
                # It keeps the page only when it succeeds: a failed call leaves it here.
                st.event(line, f"{name}() fails and keeps nothing")
                return [(kept, V.NULL), (st, _ERROR_RESULT)]
            return [(st, V.Sym(f"ret:{node.start_byte}"))]
        if effect == "assert-held":
            if row.arg_contains and not any(row.arg_contains in self.text(a) for a in args):
                return [(st, V.UNKNOWN)]
            if not st.sim.locked and frame.depth == 0:
                # lockdep_assert_held(&kvm->mmu_lock): every caller holds it.
                st.sim.lock()
                st.event(line, f"mmu_lock held by the caller ({name})")
            return [(st, V.UNKNOWN)]
        if effect == "to-page":
            if isinstance(value, V.PAGE_VALUES):
                return [(st, V.Page(value.pid, tuple(row.nonnull_when)))]
            return [(st, V.UNKNOWN)]
        if effect == "get-page":
            if isinstance(value, V.PAGE_VALUES):
                st.event(line, f"{name}() takes another reference")
                self.walker.violations(st, st.sim.get_page(value.pid), frame, line)
            return [(st, V.UNKNOWN)]
        if effect in ("release", "mark"):
            if value == V.NULL and row.takes == "page" and st.sim.pages:
                # NULL left in a page variable by a path that found no refcounted page.
                if effect == "mark":
                    self.walker.report(
                        st, "mark-not-refcounted", frame, line, f"{name}() on a NULL page"
                    )
                elif not row.null_safe:
                    self.walker.report(
                        st, "release-without-reference", frame, line, f"{name}() on a NULL page"
                    )
                return [(st, V.UNKNOWN)]
            holder = None
            if not isinstance(value, V.PAGE_VALUES) and self.text(args[row.arg]).startswith("&"):
                # `kvm_vcpu_unmap(vcpu, &map, dirty)`: the holder passed by address.
                holder = loc(st, args[row.arg], frame)
                value = read(st, holder) if holder else value
            elif row.empties_holder and row.arg < len(args):
                holder = loc(st, args[row.arg], frame)  # `map` itself holds the page
            if not isinstance(value, V.PAGE_VALUES):
                return [(st, V.UNKNOWN)]
            if row.empties_holder and holder is not None and st.env.get(holder) == value:
                # The release empties its holder: a second release of it does nothing.
                store(st, holder, V.NULL)
            pid = value.pid
            null_page = isinstance(value, V.Page) and st.sim.pages[pid].kind not in value.kinds
            if effect == "mark":
                st.event(line, f"{name}() marks the page")
                found = st.sim.mark(
                    pid, null_page, row.noop_kinds, row.takes == "pfn", dirty=row.dirty
                )
                self.walker.violations(st, found, frame, line)
                return [(st, V.UNKNOWN)]
            if row.released_when == RELEASE_SOMETIMES:
                # Released on some calls only, for a reason this path cannot test: the page
                # is no longer this path's to judge (said in the check's notes).
                st.lost = st.lost | {pid}
                st.event(line, f"{name}() releases the page on some paths only: not followed")
                self.walker.unjudged.add((frame.name, name, row.source))
                return [(st, V.Sym(f"ret:{node.start_byte}"))]
            kept = None
            if row.released_when:
                # Released exactly on the calls that return 0 (or an error): the other
                # answer leaves the page with the caller.
                kept = st.copy()
                kept.event(line, f"{name}() fails to release the page")
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
                    self.walker.violations(s2, found, frame, line)
                    out.append((s2, V.UNKNOWN))
            if kept is not None:
                released_value, kept_value = (
                    (V.NULL, _ERROR_RESULT)
                    if row.released_when == RELEASE_ON_ZERO
                    else (_ERROR_RESULT, V.NULL)
                )
                out = [(s2, released_value) for s2, _ in out] + [(kept, kept_value)]
            return out
        return [(st, V.UNKNOWN)]

    def flag_arg(self, st: State, fixed: bool, index: int | None, args, frame: Frame):
        """A release's dirty/unused answer: fixed by the row, or each way an argument can go."""
        if index is None or index >= len(args):
            return [(st, fixed)]
        return self.walker.branches.cond(st.copy(), args[index], frame)

    def acquire(
        self, st: State, row: ApiRow, args, frame: Frame, line: int
    ) -> list[tuple[State, V.Value]]:
        """A fault-in: one path per page kind the row allows with or without FOLL_GET."""
        struct = None
        if row.struct_arg is not None and row.struct_arg < len(args):
            struct = loc(st, args[row.struct_arg], frame)
        with_get, guarded = True, True
        if row.get != "always":
            flags_value = V.UNKNOWN
            if struct is not None and row.flags_field:
                flags_value = read(st, (struct[0], f"{struct[1]}.{row.flags_field}"))
            elif row.flags_arg is not None and row.flags_arg < len(args):
                flags_value = self.walker.exprs.eval(st.copy(), args[row.flags_arg], frame)[0][1]
            if isinstance(flags_value, V.Flags):
                names = flags_value.names
                with_get = row.get_flag in names or UNSEEN_FLAGS in names
            elif flags_value == V.NULL:
                with_get = False
            if not with_get and struct is not None and row.guard_field:
                guard = read(st, (struct[0], f"{struct[1]}.{row.guard_field}"))
                guarded = guard != V.NULL
        get_required = not with_get and self.walker.configs.get_required(st, frame)
        slot = V.UNKNOWN
        if row.error_when_null_arg is not None and row.error_when_null_arg < len(args):
            slot = self.walker.exprs.eval(st.copy(), args[row.error_when_null_arg], frame)[0][1]
        elif row.error_when_null_field and struct is not None:
            slot = read(st, (struct[0], f"{struct[1]}.{row.error_when_null_field}"))
        if row.get != "always" and st.assumptions and not st.get_label:
            passed = "passed" if with_get else "not passed"
            st.get_label = f"{row.get_flag} {passed} ({self.walker.configs.render_assumptions(st)})"
            st.get_passed = with_get
        out = []
        struct_page = True
        if row.struct_page_field and struct is not None:
            allowed = read(st, (struct[0], f"{struct[1]}.{row.struct_page_field}"))
            struct_page = allowed != V.NULL
        for kind in row.acquire_kinds(with_get):
            if slot == V.NULL and kind != ERROR:
                continue  # no memslot: only an error pfn comes back
            s = st.copy()
            if isinstance(slot, V.Sym) and kind != ERROR:
                if s.facts.get(f"sym:{slot.name}") is False:
                    continue
                s.facts[f"sym:{slot.name}"] = True
            pid, found = s.sim.acquire(kind, with_get, guarded, get_required, line, struct_page)
            get_text = (
                ""
                if row.get == "always"
                else (f" with {row.get_flag}" if with_get else f" without {row.get_flag}")
            )
            s.event(line, f"{row.name}(){get_text}: {KIND_TEXT[kind]}")
            self.walker.violations(s, found, frame, line)
            pfn = V.Pfn(pid)
            if row.refcounted_field and struct is not None:
                where = (struct[0], f"{struct[1]}.{row.refcounted_field}")
                store(s, where, self.refcounted_value(row, pid))
            if row.refcounted_arg is not None and row.refcounted_arg < len(args):
                where = loc(s, args[row.refcounted_arg], frame)
                if where:
                    store(s, where, self.refcounted_value(row, pid))
            if row.async_arg is not None and row.async_arg < len(args):
                where = loc(s, args[row.async_arg], frame)
                if where is not None and self.text(args[row.async_arg]).startswith("&"):
                    store(s, where, V.UNKNOWN if kind == ERROR else V.NULL)
            result = pfn
            if row.result == "page":
                # A struct page back, NULL (or an error pointer) when no page came.
                result = V.Page(pid, tuple(k for k in row.kinds if k != ERROR))
            if row.result == "arg" and row.result_arg is not None and row.result_arg < len(args):
                holder = args[row.result_arg]
                away = self.points_away(s, holder, frame)
                where = loc(s, holder, frame)
                if where:
                    store(s, where, pfn)
                    target = self.pointed_field(holder, frame) if away else None
                    if target is not None:
                        # `map = &vmx->nested.msr_bitmap_map; f(map)`: the page lives on in
                        # that field (handed on at the exit if someone releases from it).
                        store(s, resolve(s, frame.depth, target), pfn)
                    elif away:
                        # A local pointer to memory the walker does not follow: the
                        # reference lives on where the pointer points.
                        s.lost = s.lost | {pid}
                result = _ERROR_RESULT if kind == ERROR else V.NULL
            out.append((s, result))
        return out

    def points_away(self, st: State, holder: Node, frame: Frame) -> bool:
        """True when an out-argument is a local pointer variable whose target the walker does
        not follow (not `&x`, not a parameter standing for a caller's location)."""
        if holder.type != "identifier":
            return False
        where = (frame.depth, holder.text.decode())
        value = st.env.get(where, V.UNKNOWN)
        return where in st.locals and not isinstance(value, V.Alias)

    def pointed_field(self, holder: Node, frame: Frame) -> str | None:
        """The location (`vmx.nested.msr_bitmap_map`) a local pointer was set to point at
        in the function being walked, when its text sets it to one field only."""
        here = frame.here[0] if frame.here else None
        if here is None:
            return None
        found = target_of(holder.text.decode(), self.walker.body_text(here))
        if found is None:
            return None
        variable, fields = found
        return ".".join((variable, *fields))

    @staticmethod
    def refcounted_value(row: ApiRow, pid: int) -> V.Value:
        """The 'is refcounted' answer an acquisition hands back (bool or page)."""
        if row.refcounted_type == "page":
            return V.Page(pid, tuple(row.refcounted_when))
        return V.Refcounted(pid, tuple(row.refcounted_when))
