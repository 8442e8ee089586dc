"""The reference simulator against an independent, history-based statement of the rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewtool.analyses.spec.model import ERROR, HELD, NOT_REFCOUNTED, PAGE_KINDS, UNHELD
from reviewtool.analyses.spec.simulator import Simulator, SpecViolation

# ---------------------------------------------------------------------------------------------
# The rules, stated again from KVM-FACTS.md over the history of operations, without the
# simulator's state: each op's verdict is read off what came before it.


def _lock_depth(history: list[tuple]) -> int:
    depth = 0
    for op in history:
        if op[0] == "lock":
            depth += 1
        elif op[0] == "unlock":
            depth = max(0, depth - 1)
    return depth


def _pages(history: list[tuple]) -> list[tuple]:
    return [op for op in history if op[0] == "acquire"]


def _refs(history: list[tuple], verdicts: list[list[str]], page: int) -> tuple[int, int]:
    """(references ever taken, references currently held) on `page` before the op."""
    acquires = _pages(history)
    taken = 1 if acquires[page - 1][1] == HELD else 0
    dropped = 0
    for op, verdict in zip(history, verdicts, strict=True):
        if op[0] == "get" and op[1] == page and not verdict:
            taken += 1
        # A dirty release after unlock breaks rule 6 but still drops the reference.
        if op[0] == "release" and op[1] == page and verdict in ([], ["release-dirty-unlocked"]):
            kind = acquires[page - 1][1]
            if not op[4] and kind not in op[6] and kind != ERROR:
                dropped += 1
    return taken, taken - dropped


def expected(history: list[tuple], verdicts: list[list[str]], op: tuple) -> list[str]:
    """The rules `op` breaks, given every earlier op and its verdict."""
    name = op[0]
    locked = _lock_depth(history) > 0
    acquires = _pages(history)
    if name == "acquire":
        _, kind, with_get, guarded, get_required, _struct_page = op
        rules = []
        if not with_get and not guarded:
            rules.append("no-get-unguarded")
        if not with_get and get_required:
            rules.append("get-required")
        return rules
    if name == "get":
        return (
            ["release-without-reference"]
            if acquires[op[1] - 1][1] in (ERROR, NOT_REFCOUNTED)
            else []
        )
    if name == "release":
        _, page, dirty, unused, null_page, null_safe, noop = op
        kind = acquires[page - 1][1]
        if null_page:
            return [] if null_safe else ["release-without-reference"]
        if kind in noop:
            return []
        if kind == ERROR:
            return ["release-without-reference"]
        taken, held = _refs(history, verdicts, page)
        if held == 0:
            return ["double-release"] if taken else ["release-without-reference"]
        took_lock = any(o[0] == "lock" for o in history)
        if dirty and not unused and took_lock and not locked:
            return ["release-dirty-unlocked"]
        return []
    if name == "mark":
        _, page, null_page, noop, via_pfn = op
        kind = acquires[page - 1][1]
        if via_pfn and kind == NOT_REFCOUNTED and not acquires[page - 1][5]:
            return []  # PFNMAP: no struct page, the pfn helpers skip it
        if null_page:
            return ["mark-not-refcounted"]
        if kind in noop:
            return []
        if kind in (ERROR, NOT_REFCOUNTED):
            return ["mark-not-refcounted"]
        taken, held = _refs(history, verdicts, page)
        if held == 0 and taken:
            return ["use-after-release"]
        if held == 0 and not locked:
            return ["mark-after-unlock"]
        return []
    if name == "install":
        # The last retry check must have passed under a lock still held, with the snapshot
        # read before every fault-in that came before the check.
        if not locked:
            return ["install-before-retry-check"]
        # Pages faulted in while the lock was held, and it was never dropped since, cannot
        # have been invalidated in between (the atomic prefetch paths): no check needed.
        faulted = [i for i, o in enumerate(history) if o[0] == "acquire"]
        if faulted and all(
            _lock_depth(history[:i]) > 0
            and all(_lock_depth(history[: j + 1]) > 0 for j in range(i, len(history)))
            for i in faulted
        ):
            return []
        checks = [i for i, o in enumerate(history) if o[0] == "retry"]
        if not checks:
            return ["install-before-retry-check"]
        last = checks[-1]
        stale = history[last][1]
        depth_then = _lock_depth(history[:last])
        # a full unlock after the check cancels it
        cancelled = any(_lock_depth(history[: i + 1]) == 0 for i in range(last, len(history)))
        snaps = [i for i, o in enumerate(history[:last]) if o[0] == "snapshot"]
        faults = [i for i, o in enumerate(history[:last]) if o[0] == "acquire"]
        late = bool(snaps) and any(f < snaps[0] for f in faults)
        if stale or depth_then == 0 or cancelled or late:
            return ["install-before-retry-check"]
        return []
    if name == "exit":
        escaped = op[1]
        return [
            "leak"
            for page in range(1, len(acquires) + 1)
            if page not in escaped and _refs(history, verdicts, page)[1] > 0
        ]
    return []


def run_simulator(sim: Simulator, op: tuple) -> list[str]:
    name = op[0]
    if name == "acquire":
        _, kind, with_get, guarded, get_required, struct_page = op
        _, found = sim.acquire(kind, with_get, guarded, get_required, 0, struct_page)
    elif name == "get":
        found = sim.get_page(op[1])
    elif name == "release":
        _, page, dirty, unused, null_page, null_safe, noop = op
        found = sim.release(page, dirty, unused, null_page, null_safe, noop, True)
    elif name == "mark":
        found = sim.mark(op[1], op[2], op[3], op[4])
    elif name == "lock":
        found = sim.lock()
    elif name == "unlock":
        found = sim.unlock()
    elif name == "snapshot":
        found = sim.snapshot()
    elif name == "retry":
        found = sim.retry_check(op[1])
    elif name == "install":
        found = sim.install()
    else:
        found = sim.exit(frozenset(op[1]))
    return [v.rule for v in found]


_NOOPS = st.sampled_from([(), (ERROR,), (ERROR, NOT_REFCOUNTED)])
_OP = st.one_of(
    st.tuples(
        st.just("acquire"),
        st.sampled_from(PAGE_KINDS),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
    ),
    st.tuples(st.just("get"), st.integers(1, 4)),
    st.tuples(
        st.just("release"),
        st.integers(1, 4),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        st.booleans(),
        _NOOPS,
    ),
    st.tuples(st.just("mark"), st.integers(1, 4), st.booleans(), _NOOPS, st.booleans()),
    st.tuples(st.just("lock")),
    st.tuples(st.just("unlock")),
    st.tuples(st.just("snapshot")),
    st.tuples(st.just("retry"), st.booleans()),
    st.tuples(st.just("install")),
    st.tuples(st.just("exit"), st.frozensets(st.integers(1, 4), max_size=2)),
)


def _valid(ops: list[tuple]) -> list[tuple]:
    """Drop ops that name a page not acquired yet (the walker never produces those)."""
    out, pages = [], 0
    for op in ops:
        if op[0] == "acquire":
            pages += 1
        elif op[0] in ("get", "release", "mark") and op[1] > pages:
            continue
        out.append(op)
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(_OP, max_size=25).map(_valid))
def test_simulator_agrees_with_the_rules_on_random_sequences(ops):
    sim = Simulator()
    history: list[tuple] = []
    verdicts: list[list[str]] = []
    for op in ops:
        want = expected(history, verdicts, op)
        got = run_simulator(sim, op)
        assert got == want, f"after {history}: {op} gave {got}, rules say {want}"
        history.append(op)
        verdicts.append(got)


@settings(max_examples=200, deadline=None)
@given(st.lists(_OP, max_size=25).map(_valid))
def test_strict_simulator_raises_at_the_first_violation(ops):
    loose, strict = Simulator(), Simulator(strict=True)
    for op in ops:
        found = run_simulator(loose, op)
        if found:
            with pytest.raises(SpecViolation) as caught:
                run_simulator(strict, op)
            assert caught.value.violation.rule == found[0]
            return
        assert run_simulator(strict, op) == []


# ---------------------------------------------------------------------------------------------
# One sequence per rule, as a reviewer would describe the bug.


def test_held_reference_not_released_before_exit_is_a_leak():
    sim = Simulator()
    pid, _ = sim.acquire(HELD)
    assert [v.rule for v in sim.exit()] == ["leak"]
    assert sim.exit(frozenset({pid})) == []


def test_error_pfn_return_is_not_a_leak():
    sim = Simulator()
    sim.acquire(ERROR)
    assert sim.exit() == []


def test_second_release_is_a_double_release():
    sim = Simulator()
    pid, _ = sim.acquire(HELD)
    assert sim.release(pid) == []
    assert [v.rule for v in sim.release(pid)] == ["double-release"]


def test_release_of_page_followed_without_get_has_no_reference():
    sim = Simulator()
    pid, _ = sim.acquire(UNHELD, with_get=False)
    assert [v.rule for v in sim.release(pid)] == ["release-without-reference"]


def test_put_page_on_null_is_not_null_safe_but_kvm_release_is():
    sim = Simulator()
    pid, _ = sim.acquire(NOT_REFCOUNTED)
    assert sim.release(pid, null_page=True, null_safe=True) == []
    assert [v.rule for v in sim.release(pid, null_page=True, null_safe=False)] == [
        "release-without-reference"
    ]


def test_marking_after_release_and_marking_untracked_pages():
    sim = Simulator()
    held, _ = sim.acquire(HELD)
    untracked, _ = sim.acquire(NOT_REFCOUNTED)
    sim.release(held)
    assert [v.rule for v in sim.mark(held)] == ["use-after-release"]
    assert [v.rule for v in sim.mark(untracked)] == ["mark-not-refcounted"]


def test_marking_without_reference_needs_mmu_lock():
    sim = Simulator()
    pid, _ = sim.acquire(UNHELD, with_get=False)
    sim.lock()
    assert sim.mark(pid) == []
    sim.unlock()
    assert [v.rule for v in sim.mark(pid)] == ["mark-after-unlock"]


def test_dirty_release_after_unlock_unless_unused():
    sim = Simulator()
    a, _ = sim.acquire(HELD)
    b, _ = sim.acquire(HELD)
    sim.lock()
    sim.unlock()
    assert sim.release(a, dirty=True, unused=True, needs_lock_when_dirty=True) == []
    found = sim.release(b, dirty=True, needs_lock_when_dirty=True)
    assert [v.rule for v in found] == ["release-dirty-unlocked"]


def test_install_needs_a_passed_retry_check_under_the_lock():
    sim = Simulator()
    sim.snapshot()
    sim.acquire(HELD)
    sim.lock()
    assert [v.rule for v in sim.install()] == ["install-before-retry-check"]
    sim.retry_check(stale=False)
    assert sim.install() == []
    sim.unlock()
    sim.lock()
    assert [v.rule for v in sim.install()] == ["install-before-retry-check"]


def test_snapshot_after_fault_in_makes_the_retry_check_useless():
    sim = Simulator()
    sim.acquire(HELD)
    sim.snapshot()
    sim.lock()
    sim.retry_check(stale=False)
    found = sim.install()
    assert [v.rule for v in found] == ["install-before-retry-check"]
    assert "after the fault-in" in found[0].message


def test_follow_without_get_needs_notifier_guard_and_a_recording_spte():
    sim = Simulator()
    _, found = sim.acquire(UNHELD, with_get=False, guarded=False, get_required=True)
    assert sorted(v.rule for v in found) == ["get-required", "no-get-unguarded"]
    _, found = sim.acquire(UNHELD, with_get=False, guarded=True, get_required=False)
    assert found == []
