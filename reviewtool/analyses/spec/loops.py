"""Loops run to a fixpoint: a path passes a loop head (or a label a `goto` returns to) again
and again until the state it brings there is one the head has already seen.

Two states at a head are the same when they differ only in what cannot change what happens
next: the ids of the pages (each pass faults in a page under a new id) and how many copies of
an identical page no variable holds any more (a reference leaked on each pass is reported
once per exit line, however often it leaked). A bound on the passes is a safety net: a path
cut there is reported as not checked, never dropped silently.
"""

from __future__ import annotations

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.cfg import Cfg, CfgNode
from reviewtool.analyses.spec.state import State

LOOP_BOUND_REASON = "loop bound reached"
WORK_BOUND_REASON = "work bound reached"


def new_pass(st: State, head: CfgNode, depth: int, graph: Cfg, calls_ahead: frozenset[int]) -> None:
    """A path passes a loop head (or a label a `goto` returns to) again: the calls it may
    run from there run again and may answer otherwise, so the answers about their results
    are forgotten; and the loops inside a loop start counting their passes anew."""
    st.facts = {
        text: answer
        for text, answer in st.facts.items()
        if not (text.startswith("sym:ret:") and int(text[8:]) in calls_ahead)
    }
    if head.span is None:
        return
    low, high = head.span
    inner = [
        key
        for key in st.label_visits
        if key[0] == depth
        and (span := graph.nodes[key[1]].span) is not None
        and low <= span[0]
        and span[1] <= high
        and span != head.span
    ]
    for key in inner:
        del st.label_visits[key]


def head_key(st: State) -> tuple:
    """The state as a loop head compares it with the states it has seen (see above)."""
    sim = st.sim
    named: set[int] = set(st.lost)
    for value in st.env.values():
        pid = getattr(value, "pid", None)
        if pid is not None:
            named.add(pid)
    order = {pid: rank for rank, pid in enumerate(sorted(named))}
    pages = tuple((order[pid], *sim.page_key(pid)) for pid in sorted(sim.pages) if pid in order)
    unnamed = frozenset(sim.page_key(pid) for pid in sim.pages if pid not in order)
    env = frozenset((where, V.renumbered(value, order)) for where, value in st.env.items())
    return (
        pages,
        unnamed,
        sim.lock_key(),
        env,
        frozenset(st.facts.items()),
        st.assumptions,
        st.get_label,
        frozenset(order[pid] for pid in st.lost),
    )
