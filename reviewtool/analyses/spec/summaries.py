"""Callee summaries across the files of a tree: what a function defined in one file does to a
page reference, as its callers in other files see it.

Within one text the walker walks a callee in its caller's state. A callee in another file is
known only through spec rows. This module derives such rows from the code itself, once per
non-static function of a set of files (a tree `check DIR` reads, or the files a series touches
with their companions), by walking the function with the same walker:

- "acquire": every way out that returns a page returns one with a reference held (or a page
  that is not refcounted), the other ways out return no page (an error); or (`result =
  "arg"`, kvm_vcpu_map()-style) every way out that returns 0 leaves such a page in what one
  pointer parameter points at, the others return an error;
- "release": a page passed in argument N is released on every way out;
- "mark": a page passed in argument N is marked (not released) on every way out;
- "release" on some ways out only: on those that return 0 (`released_when = "zero"`) or an
  error (`"nonzero"`) when the returned value tells them apart, else `"some"` (callers then
  stop judging that page after the call, and say so);
- "lock" / "unlock": it returns with mmu_lock taken (or dropped) on every way out
  (`kvm_mmu_lock()`-style helpers: a caller's mark or release "before the unlock" depends
  on them);
- no summary otherwise ("no page effect", or marks on some paths only).

A summary is a spec row like the data rows (`source = "summary: PATH:FUNCTION"`), given to
callers in other files only: a hand-written row for the same name always wins, and a caller's
own text walks its own functions in place. A summary walk reports nothing: a bug inside the
callee is reported once, by the callee's own check. Summaries are cached by the content of
the file, its companions, the spec data and the summaries the walk could see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path

from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.callgraph import called_in
from reviewtool.analyses.spec.model import (
    ERROR,
    HELD,
    NOT_REFCOUNTED,
    RELEASE_ALWAYS,
    RELEASE_ON_ERROR,
    RELEASE_ON_ZERO,
    RELEASE_SOMETIMES,
    UNHELD,
    ApiRow,
    Spec,
    SpecSet,
    call_arguments,
    generation_of,
    tree_file,
)
from reviewtool.analyses.spec.simulator import Simulator
from reviewtool.analyses.spec.state import Frame, State, line_of, param_list
from reviewtool.analyses.spec.summary_cache import SummaryCache, digest_of, row_json
from reviewtool.analyses.spec.walker import Walker
from reviewtool.cparse import parse_c

SOURCE_PREFIX = "summary: "
# What summarise_source() says of a function with no page effect a row can state (never
# given to callers; it makes a same-named function elsewhere a conflict).
NO_EFFECT = "none"
# Chains across files (A calls B in another file, which calls C in a third) take one round
# per link, and one more finds nothing new.
MAX_ROUNDS = 4
# Where a seeded argument page is kept on the walker's path, whatever the function does with
# its parameter (a location no C name can take).
_SEED = "@arg"
_EFFECTS_SUMMARISED = ("release", "mark")
# Returned values that mean "no page": an error pfn constant, an integer (NULL, -EFAULT).
_ERROR_VALUES = (V.ErrorPfn, V.Const)
_WORD_RE = re.compile(r"[A-Za-z_]\w*")

# name -> rows derived for it (usually one); what callers in other files are given.
Summaries = dict[str, list[ApiRow]]


class _Recording(Simulator):
    """A simulator that also remembers, per path, each release and mark of a page: (pid,
    "release" or "mark", dirty, kinds it is a no-op for, safe on NULL)."""

    def __init__(self) -> None:
        super().__init__()
        self.done: frozenset[tuple] = frozenset()

    def copy(self) -> _Recording:
        clone = super().copy()
        clone.__class__ = _Recording
        return clone  # `done` is immutable: the copy of __dict__ shares it safely

    def key(self) -> tuple:
        return (super().key(), self.done)

    def release(self, pid: int, dirty: bool = False, unused: bool = False, **kwargs):
        found = super().release(pid, dirty=dirty, unused=unused, **kwargs)
        noop = tuple(kwargs.get("noop_kinds", ()))
        null_safe = kwargs.get("null_safe", True)
        self.done = self.done | {(pid, "release", dirty and not unused, noop, null_safe)}
        return found

    def mark(self, pid: int, null_page=False, noop_kinds=(), via_pfn=False, dirty=False):
        found = super().mark(pid, null_page, noop_kinds, via_pfn, dirty=dirty)
        self.done = self.done | {(pid, "mark", dirty, tuple(noop_kinds), True)}
        return found


class _SummaryWalker(Walker):
    """The walker for summaries: it reports nothing (the function's own check does)."""

    def report(self, *args, **kwargs) -> None:
        return None


@dataclass
class SummarySet:
    """Summaries of the functions of a set of files, and what could not be summarised."""

    rows: Summaries = field(default_factory=dict)
    # Names defined (non-static) in several files with different effects: no summary.
    conflicts: set[str] = field(default_factory=set)
    rounds: int = 0

    def for_text(self, defined: Iterable[str]) -> Summaries:
        """The summaries a text may use: those of functions it does not define itself."""
        own = set(defined)
        return {name: rows for name, rows in self.rows.items() if name not in own}


def with_summaries(spec: Spec, summaries: Summaries | None, defined: Iterable[str]) -> Spec:
    """`spec` plus the summaries of functions the text does not define; a hand-written row
    for the same name always wins. Returns `spec` itself when nothing is added."""
    if not summaries:
        return spec
    own = set(defined)
    extra = {
        name: rows for name, rows in summaries.items() if name not in spec.rows and name not in own
    }
    if not extra:
        return spec
    merged = Spec(**{f.name: getattr(spec, f.name) for f in fields(Spec)})
    merged.rows = {**spec.rows, **{name: list(rows) for name, rows in extra.items()}}
    return merged


# -- deriving ------------------------------------------------------------------------------


def summarise_source(
    path: str,
    text: str,
    spec: Spec,
    context: dict[str, str] | None = None,
    known: Summaries | None = None,
    wanted: set[str] | None = None,
) -> list[ApiRow]:
    """Summary rows of the non-static functions `text` defines (`context`: files compiled
    with it, whose functions its functions may call). `spec` is the generation the text
    uses; `known`: summaries of other files' functions, seen as rows; `wanted`: only these
    functions (those another file calls), all when None."""
    full = "\n".join([text, *(context or {}).values()])
    own_lines = text.count("\n") + 1
    parsed = parse_c(full)
    own = [
        fdef
        for fdef in parsed.functions()
        if fdef.kind == "function"
        and not fdef.recovered
        and not fdef.is_static
        and fdef.start_line <= own_lines
        and "(" not in fdef.name
        and (wanted is None or fdef.name in wanted)
    ]
    if not own:
        return []
    defined = {f.name for f in parsed.functions() if f.kind == "function"}
    generation = with_summaries(spec, known, defined)
    walker = _SummaryWalker(parsed, generation, path, None)
    dropping = _dropping_params(walker)
    found: list[ApiRow] = []
    seen: set[str] = set()
    for fdef in own:
        if fdef.name in seen or fdef.name in generation.rows:
            continue  # a hand-written row says what it does
        seen.add(fdef.name)
        seeded = sorted(dropping.get(fdef.name, ()))
        row = None
        if seeded or walker.reaches_page(fdef.name):  # else no page can reach it
            try:
                row = _summarise_function(walker, fdef, seeded, path)
            except (RecursionError, KeyError, IndexError, TypeError, ValueError, AttributeError):
                row = None  # what the walker cannot follow gets no summary (its check says why)
        if row is None and _lock_imbalance(walker, fdef):
            try:
                row = _lock_row(walker, fdef, path)
            except (RecursionError, KeyError, IndexError, TypeError, ValueError, AttributeError):
                row = None
        # "No summary" is kept too: another file's same-named function with an effect is
        # then a conflict, not the answer for both.
        found.append(row or ApiRow(fdef.name, NO_EFFECT, source=f"{SOURCE_PREFIX}{path}"))
    return found


def _dropping_params(walker: Walker) -> dict[str, set[int]]:
    """Per function of the text, the indexes of parameters it hands (directly, or through
    functions of the text) to the argument a release or mark row drops or marks."""
    rows = walker.spec.rows
    bodies = {f: walker.parsed.node_text(d.node) for f, d in walker.definitions.items()}
    names = {f: [p for p, _ in param_list(d.node)] for f, d in walker.definitions.items()}
    direct: dict[str, set[int]] = {
        name: {row.arg for row in found if row.effect in _EFFECTS_SUMMARISED}
        for name, found in rows.items()
    }
    result: dict[str, set[int]] = {f: set() for f in bodies}
    for _ in range(4):  # helpers nest a few deep at most
        changed = False
        for fname, body in bodies.items():
            for callee in walker.graph.calls.get(fname, ()):
                indexes = direct.get(callee) if callee in rows else result.get(callee)
                if not indexes:
                    continue
                for args, _ in call_arguments(body, callee):
                    for index in indexes:
                        if index >= len(args):
                            continue
                        for word in _WORD_RE.findall(args[index]):
                            if word in names[fname]:
                                position = names[fname].index(word)
                                if position not in result[fname]:
                                    result[fname].add(position)
                                    changed = True
        if not changed:
            break
    return result


def _lock_imbalance(walker: Walker, fdef) -> bool:
    """True when a function's own text takes mmu_lock more (or fewer) times than it drops it:
    the only ones that may return with the lock changed (a cheap test before any walk)."""
    body = walker.body_text(fdef)
    counts = {"lock": 0, "unlock": 0}
    for effect in counts:
        for row in walker.spec.rows_with(effect):
            if row.name in body:
                counts[effect] += sum(
                    1
                    for args, _ in call_arguments(body, row.name)
                    if not row.arg_contains or any(row.arg_contains in a for a in args)
                )
    return counts["lock"] != counts["unlock"]


def _lock_row(walker: Walker, fdef, path: str) -> ApiRow | None:
    """A "lock" row for a function that returns with mmu_lock held on every way out when
    called without it, an "unlock" row for one that returns without it on every way out
    when called with it (`kvm_mmu_lock()`-style helpers); None otherwise."""
    source = f"{SOURCE_PREFIX}{path}:{fdef.name}"
    for effect, entry in (("lock", False), ("unlock", True)):
        exits, _ = walk_seeded(walker, fdef, [], locked=entry)
        if exits and not walker.exhausted and all(s.sim.locked != entry for s, _, _ in exits):
            return ApiRow(fdef.name, effect, arity=len(param_list(fdef.node)), source=source)
    return None


def walk_seeded(
    walker: Walker, fdef, seeded: list[int], locked: bool = False
) -> tuple[list, dict[int, tuple]]:
    """Walk one function from its entry with a held page in each seeded parameter (what a
    caller hands it). Returns its ways out and the seeded pages: pid -> (index, is pointer).
    The walker reports what the function does wrong with those pages (a mark after its own
    release); leaks are not judged (the page is the caller's)."""
    walker.steps = 0
    walker.exhausted = False
    walker.configs.start(fdef.name)
    params = param_list(fdef.node)
    frame = Frame(fdef.name, 0, dict(params), pointers=walker.pointer_locals(fdef))
    st = State(_Recording())
    st.locals = frozenset((0, name) for name, _ in params)
    if locked:
        st.sim.lock()  # called with mmu_lock held
    seeds: dict[int, tuple[int, bool]] = {}
    for index in seeded:
        pname, pointer = params[index]
        pid, _ = st.sim.acquire(HELD, line=line_of(fdef.node))
        value = V.Page(pid, (HELD,)) if pointer else V.Pfn(pid)
        st.env[(0, pname)] = value
        st.env[(0, f"{_SEED}{index}")] = value
        seeds[pid] = (index, pointer)
    if seeds:
        st.event(line_of(fdef.node), "a page with its reference held is passed in")
    return walker.walk(fdef, st, frame), seeds


def seeded_params(walker: Walker) -> dict[str, list[int]]:
    """Per function of the walker's text, the parameters it hands to a release or mark."""
    return {name: sorted(found) for name, found in _dropping_params(walker).items() if found}


def _summarise_function(walker: _SummaryWalker, fdef, seeded: list[int], path: str):
    """A function's summary row, read off its ways out (None: no page effect a row can
    state truthfully)."""
    exits, seeds = walk_seeded(walker, fdef, seeded)
    if walker.exhausted or not exits:
        return None
    params = param_list(fdef.node)
    source = f"{SOURCE_PREFIX}{path}:{fdef.name}"
    arity = len(params)
    for pid, (index, pointer) in seeds.items():
        row = _argument_row(fdef.name, exits, pid, index, pointer, arity, source)
        if row is not None:
            return row
    row = _acquire_row(fdef.name, exits, set(seeds), arity, source)
    if row is None and not seeds:
        row = _out_argument_row(fdef.name, exits, params, arity, source)
    return row


def _argument_row(name, exits, pid, index, pointer, arity, source) -> ApiRow | None:
    """A release (or mark) row when every way out released (or marked) the seeded page.
    The row is a no-op for the kinds every release inside is a no-op for (a reserved pfn
    for kvm_release_pfn_clean()), NULL-safe when every release inside is."""
    takes = "page" if pointer else "pfn"
    released, marked = [], []
    for s, _, _ in exits:
        done = [item for item in s.sim.done if item[0] == pid]
        released.append([item for item in done if item[1] == "release"])
        marked.append([item for item in done if item[1] == "mark"])
    when = RELEASE_ALWAYS
    if all(released):
        chosen, effect = released, "release"
    elif not any(released) and all(marked):
        chosen, effect = marked, "mark"
    elif any(released):
        chosen, effect = [found for found in released if found], "release"
        when = _released_when(exits, released, pid)
    else:
        return None
    items = [item for found in chosen for item in found]
    noop = set(items[0][3]).intersection(*(set(item[3]) for item in items))
    return ApiRow(
        name,
        effect,
        arity=arity,
        arg=index,
        takes=takes,
        dirty=all(any(item[2] for item in found) for found in chosen),
        noop_kinds=tuple(k for k in (ERROR, UNHELD, NOT_REFCOUNTED) if k in noop),
        null_safe=all(item[4] for item in items),
        released_when=when,
        source=source,
    )


def _answer(value: V.Value) -> str | None:
    """How a caller's test reads a returned value: "zero", "nonzero", or None (unknown)."""
    if isinstance(value, V.Const):
        return RELEASE_ON_ZERO if value.number == 0 else RELEASE_ON_ERROR
    if isinstance(value, V.ErrorPfn):
        return RELEASE_ON_ERROR
    return None


def _released_when(exits, released, pid: int) -> str:
    """When a callee that releases the seeded page on some ways out only releases it: on
    the ways out that return 0 ("zero") or an error ("nonzero") when the returned value
    tells them apart and the other ways out leave the page with the caller untouched;
    "some" otherwise (a caller cannot tell: its handling of the page is not judged)."""
    answers = {True: set(), False: set()}
    for (s, value, _), found in zip(exits, released, strict=True):
        if not found:
            stored = any(
                pid in V.holds_reference_to(v)
                for (depth, where), v in s.env.items()
                if depth != 0 or "." in where or where.startswith("*")
            )
            if pid in s.lost or stored or pid not in s.sim.pages:
                return RELEASE_SOMETIMES  # handed on (or lost): not the caller's to release
        answers[bool(found)].add(_answer(value))
    if answers[True] == {RELEASE_ON_ZERO} and answers[False] == {RELEASE_ON_ERROR}:
        return RELEASE_ON_ZERO
    if answers[True] == {RELEASE_ON_ERROR} and answers[False] == {RELEASE_ON_ZERO}:
        return RELEASE_ON_ERROR
    return RELEASE_SOMETIMES


def _acquire_row(name, exits, seeded: set[int], arity, source) -> ApiRow | None:
    """An acquire row when some way out returns a page taken inside the function, each such
    page with its reference held (or not refcounted), and the others return no page."""
    kinds: set[str] = set()
    tags: set[str] = set()
    returns_page = False
    for s, value, _ in exits:
        if isinstance(value, V.PAGE_VALUES) and value.pid in seeded:
            return None  # hands back what it was given
        if not isinstance(value, V.PAGE_VALUES):
            if isinstance(value, _ERROR_VALUES):
                kinds.add(ERROR)
            # A value the walker cannot follow is no evidence either way: the caller sees
            # the kinds of the acquisitions the walker does follow.
            continue
        page = s.sim.pages.get(value.pid)
        if page is None:
            return None
        if page.kind == ERROR:
            kinds.add(ERROR)
            continue
        if page.kind == HELD and page.refs > 0:
            kinds.add(HELD)
        elif page.kind == NOT_REFCOUNTED:
            kinds.add(NOT_REFCOUNTED)
        else:
            return None  # a page without its reference: a caller could not release it
        returns_page = True
        tags.add("page" if isinstance(value, V.Page) else "pfn")
    if not returns_page or HELD not in kinds or len(tags) != 1:
        return None
    ordered = tuple(k for k in (ERROR, HELD, NOT_REFCOUNTED) if k in kinds)
    return ApiRow(
        name,
        "acquire",
        arity=arity,
        result="page" if tags == {"page"} else "return",
        get="always",
        kinds=ordered,
        source=source,
    )


def _out_argument_row(name, exits, params, arity, source) -> ApiRow | None:
    """An acquire row with `result = "arg"` (`kvm_vcpu_map()`-style): every way out that
    returns 0 leaves a page taken inside with its reference held (or not refcounted) in what
    one pointer parameter points at, and every other way out returns an error with no page
    held."""
    pointers = {pname: index for index, (pname, pointer) in enumerate(params) if pointer}
    indexes: set[int] = set()
    kinds: set[str] = set()
    for s, value, _ in exits:
        answer = _answer(value)
        held = {pid for pid, page in s.sim.pages.items() if page.refs > 0}
        stored: dict[int, int] = {}
        for (depth, where), v in s.env.items():
            root = where.lstrip("*").split(".")[0]
            if depth == 0 and root in pointers:
                for pid in V.holds_reference_to(v):
                    stored[pid] = pointers[root]
        out = {pid: index for pid, index in stored.items() if pid in s.sim.pages}
        kept = {pid for pid in out if s.sim.pages[pid].kind in (HELD, NOT_REFCOUNTED)}
        if held - set(out):
            return None  # a reference held somewhere a caller cannot release it from
        if kept:
            if answer != RELEASE_ON_ZERO:
                return None  # success must read as 0, as the callers test it
            indexes |= {out[pid] for pid in kept}
            kinds |= {s.sim.pages[pid].kind for pid in kept}
        elif answer == RELEASE_ON_ERROR:
            kinds.add(ERROR)
        else:
            return None  # neither a page nor an error: a caller could not tell
    if len(indexes) != 1 or HELD not in kinds:
        return None
    return ApiRow(
        name,
        "acquire",
        arity=arity,
        result="arg",
        result_arg=indexes.pop(),
        get="always",
        kinds=tuple(k for k in (ERROR, HELD, NOT_REFCOUNTED) if k in kinds),
        source=source,
    )


# -- over a set of files ---------------------------------------------------------------------


def summarise_cached(
    path: str,
    text: str,
    context: dict[str, str],
    specs: SpecSet | Spec,
    known: Summaries | None,
    cache: SummaryCache | None,
    wanted: set[str] | None = None,
) -> list[ApiRow]:
    """summarise_source() through the cache."""
    full = "\n".join([text, *context.values()])
    if known:
        # Only the summaries of names the text calls can change its own: the key stays
        # the same when a summary elsewhere in the tree changes.
        calls = called_in(full)
        known = {name: rows for name, rows in known.items() if name in calls} or None
    visible = digest_of(known) + "\0" + ("\0".join(sorted(wanted)) if wanted is not None else "*")
    key = cache.key(path, text, context, visible) if cache is not None else ""
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    rows = summarise_source(path, text, generation_of(full, specs), context, known, wanted)
    if cache is not None:
        cache.put(key, rows)
    return rows


def merge(found: dict[str, list[ApiRow]]) -> SummarySet:
    """One table from per-file rows: a name defined in several files with different effects
    (each architecture's own `kvm_arch_*`) gets none."""
    result = SummarySet()
    by_name: dict[str, list[ApiRow]] = {}
    for rows in found.values():
        for row in rows:
            by_name.setdefault(row.name, []).append(row)
    for name, rows in by_name.items():
        if all(row.effect == NO_EFFECT for row in rows):
            continue
        import json  # noqa: PLC0415 - only when summarising: the hook's checks never do

        shapes = {json.dumps({**row_json(r), "source": ""}, sort_keys=True) for r in rows}
        if len(shapes) > 1:
            result.conflicts.add(name)
        else:
            result.rows[name] = [min(rows, key=lambda r: r.source)]
    return result


def called_elsewhere(calls_of: dict[str, set[str]]) -> dict[str, set[str]]:
    """Per file, the names the other files of the set call: only those need a summary."""
    counts: dict[str, int] = {}
    for names in calls_of.values():
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return {
        path: {name for name, count in counts.items() if count > (name in names)}
        for path, names in calls_of.items()
    }


def summarise_files(
    names: list[str],
    summarise_one: Callable[[list[tuple[str, Summaries | None, set[str]]]], list[list[ApiRow]]],
    calls_of: dict[str, set[str]],
) -> SummarySet:
    """Summaries of every file of `names`, in rounds: a round re-summarises only the files
    that call a function the previous round summarised anew. `summarise_one` maps a batch of
    (file, summaries it may use, names other files call) to their rows (in worker
    processes, or here); `calls_of[file]` holds the names the file calls."""
    per_file: dict[str, list[ApiRow]] = {}
    todo = list(names)
    table = SummarySet()
    wanted = called_elsewhere(calls_of)
    for round_number in range(1, MAX_ROUNDS + 1):
        if not todo:
            break
        batch = [(name, table.rows or None, wanted.get(name, set())) for name in todo]
        for name, rows in zip(todo, summarise_one(batch), strict=True):
            per_file[name] = rows
        new_table = merge(per_file)
        new_table.rounds = round_number
        changed = {
            n
            for n in set(new_table.rows) | set(table.rows)
            if new_table.rows.get(n) != table.rows.get(n)
        }
        table = new_table
        todo = [name for name in names if calls_of.get(name, set()) & changed]
    return table


def called_names(text: str) -> set[str]:
    """Names a C text calls (a cheap scan: which files a new summary can matter to)."""
    return called_in(text)


def summarise_texts(
    texts: dict[str, tuple[str, dict[str, str]]],
    specs: SpecSet | Spec,
    cache: SummaryCache | None = None,
) -> SummarySet:
    """Summaries of a set of files given as path -> (text, companion texts), in this
    process (a series' touched files, a test's tree)."""

    def one(batch):
        return [
            summarise_cached(name, *texts[name], specs, known, cache, wanted)
            for name, known, wanted in batch
        ]

    calls = {name: called_in("\n".join([t, *c.values()])) for name, (t, c) in texts.items()}
    return summarise_files(list(texts), one, calls)


def summarise_tree(
    root: str | Path,
    relpaths: list[str],
    specs: SpecSet | Spec,
    cache: SummaryCache | None = None,
) -> SummarySet:
    """Summaries of files of a source tree (paths relative to `root`), with companions."""
    return summarise_texts({rel: tree_file(root, rel) for rel in relpaths}, specs, cache)
