"""The path walker on generated straight-line fault handlers agrees with the simulator.

Each random operation list becomes a kernel-style arm64 `user_mem_abort()`; the walker must
report exactly the (rule, line) pairs the simulator reports over every page kind each
acquisition can end in.
"""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.analyses.spec import check_source
from reviewtool.analyses.spec.model import ERROR, HELD, NOT_REFCOUNTED, UNHELD
from reviewtool.analyses.spec.simulator import Simulator

PATH = "arch/arm64/kvm/mmu.c"
HEADER = """\
static int user_mem_abort(struct kvm_vcpu *vcpu, struct kvm_memory_slot *memslot, gfn_t gfn)
{
	struct kvm *kvm = vcpu->kvm;
	unsigned long mmu_seq;
"""
OP = st.one_of(
    st.tuples(st.just("acquire"), st.booleans(), st.booleans()),  # with FOLL_GET, guarded
    st.tuples(st.just("release"), st.integers(1, 3), st.booleans()),  # page, dirty
    st.tuples(st.just("mark"), st.integers(1, 3)),
    st.tuples(st.just("lock")),
    st.tuples(st.just("unlock")),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("install")),
)


def _statement(op: tuple) -> str:
    """The C statement of one non-acquire operation."""
    name = op[0]
    if name == "release":
        return f"\tkvm_release_pfn_{'dirty' if op[2] else 'clean'}(pfn{op[1]});"
    if name == "mark":
        return f"\tkvm_set_pfn_dirty(pfn{op[1]});"
    return {
        "lock": "\tread_lock(&kvm->mmu_lock);",
        "unlock": "\tread_unlock(&kvm->mmu_lock);",
        "snapshot": "\tmmu_seq = kvm->mmu_invalidate_seq;",
        "install": "\tkvm_pgtable_stage2_map(kvm->arch.pgt, gfn, pfn1, 0);",
    }[name]


def _program(ops: list[tuple]) -> tuple[str, list[tuple[tuple, int]], int]:
    """C text, each kept op with its line, and the line of the final return."""
    body: list[str] = []
    kept: list[tuple[tuple, int]] = []
    first = HEADER.count("\n") + 1
    pages = 0
    for op in ops:
        name = op[0]
        if name in ("release", "mark") and op[1] > pages:
            continue
        if name == "acquire":
            pages += 1
            flags = "FOLL_GET | FOLL_WRITE" if op[1] else "FOLL_WRITE"
            guard = "true" if op[2] else "false"
            text = (
                f"\tstruct kvm_follow_pfn foll{pages} = {{ .slot = memslot, .gfn = gfn, "
                f".flags = {flags}, .guarded_by_mmu_notifier = {guard}, "
                f".allow_non_refcounted_struct_page = true }};\n"
                f"\tkvm_pfn_t pfn{pages} = __kvm_follow_pfn(&foll{pages});"
            )
            kept.append((op, first + len(body) + 1))
            body += text.split("\n")
            continue
        text = _statement(op)
        kept.append((op, first + len(body)))
        body.append(text)
    end = first + len(body)
    return HEADER + "\n".join(body) + "\n\treturn 0;\n}\n", kept, end


def _simulated(kept: list[tuple[tuple, int]], end: int) -> set[tuple[str, int]]:
    """(rule, line) over every combination of page kinds the acquisitions allow."""
    acquires = [op for op, _ in kept if op[0] == "acquire"]
    choices = [
        (ERROR, HELD, NOT_REFCOUNTED) if op[1] else (ERROR, UNHELD, NOT_REFCOUNTED)
        for op in acquires
    ]
    found: set[tuple[str, int]] = set()
    for kinds in itertools.product(*choices):
        sim, pid = Simulator(), 0
        for op, line in kept:
            name = op[0]
            if name == "acquire":
                kind = kinds[pid]
                pid += 1
                _, out = sim.acquire(kind, op[1], op[2], not op[1], line)
            elif name == "release":
                noop = (ERROR, NOT_REFCOUNTED)
                out = sim.release(op[1], op[2], False, False, True, noop, True)
            elif name == "mark":
                out = sim.mark(op[1], False, (ERROR,), True)
            elif name == "install":
                out = sim.install() if (sim.pages or sim.snapshot_taken) else []
            else:
                out = getattr(sim, name)()
            found |= {(v.rule, line) for v in out}
        found |= {(v.rule, end) for v in sim.exit()}
    return found


@settings(max_examples=150, deadline=None)
@given(st.lists(OP, min_size=1, max_size=9))
def test_walker_reports_what_the_simulator_reports(ops):
    text, kept, end = _program(ops)
    walked = {(f.rule, f.line) for f in check_source(PATH, text).findings}
    assert walked == _simulated(kept, end), text
