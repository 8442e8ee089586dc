"""Recall of the FOLL_GET checker on realistic mistakes made in the real Linux 6.12 files.

    python benchmarks/kernel_mutants.py [--kernel DIR] [--kind KIND]... [--file PATH]...

The page-handling files of ../shared/kernel/linux-6.12 are copied into a temporary directory
(never edited in place). For every function that faults a page in (calls an acquisition of the
spec), each mistake below is made once, at one place, and the mutated file is checked whole
with its companions, as `reviewtool check FILE` does:

  delete-release       one release statement removed         -> leak
  release-twice        one release statement written twice   -> double-release
  release-twice-emptied
                       the same, for a release that empties its holder (`empties_holder`
                       in its spec row: kvm_vcpu_unmap() returns at once on a map whose
                       hva it cleared) -> nothing: harmless, the checker must stay silent
  mark-after-release   a mark moved after the next release   -> use-after-release
  release-before-mark  a release moved above the mark        -> use-after-release
  move-across-unlock   a mark or a dirty release made under mmu_lock moved after the unlock
                       -> nothing: legal in 6.12 (see below), the checker must stay silent
  ported-release-after-unlock
                       on the fault handler ported to the 6.13 release API (below), the
                       release moved after the mmu_lock unlock -> release-dirty-unlocked

A mutant counts as found when a finding of the named rule, absent before the mutation, is
reported in the mutated function or on a path through it. Functions the checker already
reports on (the real bugs of the tree) are not mutated: their finding hides a second one.
Lines keep their numbers (a removed statement becomes blank), so findings before and after
compare by line. The files are checked as `reviewtool check DIR` checks them: with the
summaries of the functions the other files define (analyses/spec/summaries.py).

Two kinds of the issue are not mistakes that 6.12 code can make:
- Moving a mark or a dirty release across the unlock: on every 6.12 fault path the faulted-in
  page holds its reference from the fault-in to its release, so marking it (or releasing it
  dirty) after mmu_lock is dropped is legal - 6.12 itself marks after the unlock (riscv
  kvm_riscv_gstage_map, loongarch kvm_map_page). The mistake needs a page held without a
  reference (v8 without FOLL_GET) or an API that asserts the lock (6.13's
  kvm_release_faultin_page). The moves are still made, as `move-across-unlock`: the checker
  must not flag them (a flag would be a false alarm).
- Dropping a FOLL_GET-style argument: no API of these files takes one. The KVM acquisitions
  always take a reference, and the get_user_page*() calls imply it by name (their flags carry
  FOLL_WRITE/FOLL_HWPOISON, never a get flag). The spec corpus (tests/data/spec) covers the
  kind on the v8 API.
So that the move is tried where it is a mistake, each 6.12 fault handler that faults a page
in itself and releases it after dropping mmu_lock is first ported to the 6.13 API, as 6.13
did to these handlers: the acquisition hands the refcounted page out (the upstream-6.13
acquisition row with a page out-argument; the other arguments kept), the accessed marks go,
and each release becomes the 6.13 release row (page, unused, dirty) made before the unlock
that precedes it, dirty under the condition of the dirty mark it replaces. Names come from
the spec rows. Only handlers that mark the page dirty themselves are ported (a release that
is never dirty may follow the unlock in 6.13 too). The port itself must check clean; its
mutant moves that release back after the unlock.
Target: at least 90% of the mutants of each kind found (for the legal kinds, move-across-unlock
and release-twice-emptied: left alone).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from reviewtool.analyses.spec import load_specs
from reviewtool.analyses.spec.check import _spec_for, check_tree_file
from reviewtool.analyses.spec.summaries import summarise_tree, with_summaries
from reviewtool.cparse import parse_c

KERNEL = Path(__file__).resolve().parent.parent.parent / "shared" / "kernel" / "linux-6.12"
TARGET = 0.90
EXPECTED = {
    "delete-release": "leak",
    "release-twice": "double-release",
    # A second kvm_vcpu_unmap() of the same map finds map->hva NULL and returns: no mistake.
    "release-twice-emptied": None,
    "mark-after-release": "use-after-release",
    "release-before-mark": "use-after-release",
    "move-across-unlock": None,  # legal in 6.12: no finding expected
    "ported-release-after-unlock": "release-dirty-unlocked",
}
PORT_GENERATION = "upstream-6.13"


@dataclass
class Mutant:
    """One mistake made at one place of one function."""

    kind: str
    path: str
    function: str
    first_line: int
    last_line: int
    line: int
    text: str  # the whole mutated file


def _statements(node, wanted):
    """Expression statements under `node` that are a call of a name in `wanted`."""
    todo = [node]
    while todo:
        current = todo.pop()
        if current.type == "expression_statement" and current.named_children:
            call = current.named_children[0]
            if call.type == "call_expression":
                name = call.child_by_field_name("function")
                if name is not None and name.text.decode() in wanted:
                    yield current, name.text.decode()
        todo.extend(current.named_children)


def _blank(text: bytes, start: int, end: int) -> bytes:
    """The bytes with [start, end) replaced by spaces, newlines kept (lines keep numbers)."""
    gap = bytes(b if b == 0x0A else 0x20 for b in text[start:end])
    return text[:start] + gap + text[end:]


def mutants_of(
    root: Path, relpath: str, skip: frozenset[str] = frozenset(), summaries=None
) -> list[Mutant]:
    """Every mutant of one file, outside the functions in `skip`; `summaries`: rows of other
    files' functions (a page from another file's helper is faulted in here too)."""
    text = (root / relpath).read_text(encoding="utf-8", errors="replace")
    raw = text.encode("utf-8", "surrogateescape")
    parsed = parse_c(text)
    defined = {f.name for f in parsed.functions() if f.kind == "function"}
    spec = with_summaries(_spec_for(text, None), summaries, defined)
    acquire = {n for n, rows in spec.rows.items() if any(r.effect == "acquire" for r in rows)}
    release = {n for n, rows in spec.rows.items() if any(r.effect == "release" for r in rows)}
    emptied = {
        n
        for n, rows in spec.rows.items()
        if any(r.effect == "release" and r.empties_holder for r in rows)
    }
    mark = {n for n, rows in spec.rows.items() if any(r.effect == "mark" for r in rows)}
    dirty = {
        n
        for n, rows in spec.rows.items()
        if any(r.effect == "release" and (r.dirty or r.dirty_arg is not None) for r in rows)
    }
    lock = {n for n, rows in spec.rows.items() if any(r.effect == "lock" for r in rows)}
    unlock = {n for n, rows in spec.rows.items() if any(r.effect == "unlock" for r in rows)}
    # A helper of the file that only takes (or only drops) the lock is a lock call too
    # (arm64 kvm_fault_lock()/kvm_fault_unlock()).
    for fdef in parsed.functions():
        body = fdef.node.child_by_field_name("body")
        if fdef.kind != "function" or body is None:
            continue
        takes, drops = _calls(body, lock), _calls(body, unlock)
        if takes != drops:
            (lock if takes else unlock).add(fdef.name)
    out: list[Mutant] = []
    for fdef in parsed.functions():
        if fdef.kind != "function" or fdef.recovered or fdef.name in skip:
            continue
        body = fdef.node.child_by_field_name("body")
        if body is None or not list(_statements(body, acquire)) and not _calls(body, acquire):
            continue
        releases = sorted(_statements(body, release), key=lambda p: p[0].start_byte)
        marks = sorted(_statements(body, mark), key=lambda p: p[0].start_byte)

        def make(kind: str, mutated: bytes, line: int, fdef=fdef) -> None:
            out.append(
                Mutant(
                    kind,
                    relpath,
                    fdef.name,
                    fdef.start_line,
                    fdef.end_line,
                    line,
                    mutated.decode("utf-8", "surrogateescape"),
                )
            )

        for stmt, name in releases:
            line = stmt.start_point.row + 1
            make("delete-release", _blank(raw, stmt.start_byte, stmt.end_byte), line)
            copy = raw[stmt.start_byte : stmt.end_byte]
            twice = "release-twice-emptied" if name in emptied else "release-twice"
            make(twice, raw[: stmt.end_byte] + b" " + copy + raw[stmt.end_byte :], line)
        for stmt, _ in marks:
            after = [r for r, _ in releases if r.start_byte > stmt.end_byte]
            if after:
                rel = after[0]
                moved = raw[stmt.start_byte : stmt.end_byte]
                mutated = _blank(raw, stmt.start_byte, stmt.end_byte)
                mutated = mutated[: rel.end_byte] + b" " + moved + mutated[rel.end_byte :]
                make("mark-after-release", mutated, rel.start_point.row + 1)
                # The other way round: the release hoisted above the mark.
                rel_text = raw[rel.start_byte : rel.end_byte]
                mutated = _blank(raw, rel.start_byte, rel.end_byte)
                mutated = mutated[: stmt.start_byte] + rel_text + b" " + mutated[stmt.start_byte :]
                make("release-before-mark", mutated, stmt.start_point.row + 1)
        locks = sorted(_lock_calls(body, lock, spec), key=lambda p: p[0].start_byte)
        unlocks = sorted(_lock_calls(body, unlock, spec), key=lambda p: p[0].start_byte)
        for stmt, _ in sorted(_statements(body, mark | dirty), key=lambda p: p[0].start_byte):
            taken = [k for k, _ in locks if k.end_byte <= stmt.start_byte]
            dropped = [u for u, _ in unlocks if u.start_byte >= stmt.end_byte]
            if not taken or not dropped:
                continue
            if any(taken[-1].end_byte <= u.start_byte < stmt.start_byte for u, _ in unlocks):
                continue  # the lock was dropped again before it: not made under the lock
            after = dropped[0]
            moved = raw[stmt.start_byte : stmt.end_byte]
            mutated = _blank(raw, stmt.start_byte, stmt.end_byte)
            mutated = mutated[: after.end_byte] + b" " + moved + mutated[after.end_byte :]
            make("move-across-unlock", mutated, stmt.start_point.row + 1)
    return out


def _port_rows(specs):
    """(acquisition, release) rows of the 6.13 API: the pfn acquisition that hands the
    refcounted page out, and the release that takes (page, unused, dirty)."""
    gen = specs.generation(PORT_GENERATION)
    own = [row for rows in gen.rows.values() for row in rows]
    acquire = next(
        r
        for r in own
        if r.effect == "acquire"
        and r.refcounted_arg is not None
        and r.error_when_null_arg is None
        and r.result == "return"
    )
    release = next(
        r
        for r in own
        if r.effect == "release" and r.unused_arg is not None and r.dirty_arg is not None
    )
    return acquire, release


def _condition_of(node) -> str:
    """The condition of the nearest `if` around a statement, or `true`."""
    current = node.parent
    while current is not None and current.type != "function_definition":
        if current.type == "if_statement":
            cond = current.child_by_field_name("condition")
            return cond.text.decode() if cond is not None else "true"
        current = current.parent
    return "true"


def port_function(raw: bytes, fdef, legacy, specs, after: bool = False) -> bytes | None:
    """The file with one 6.12 fault handler ported to the 6.13 release API (None: not a
    handler to port); `after`: each release made after its unlock instead (the mutant)."""
    acquire_row, release_row = _port_rows(specs)
    body = fdef.node.child_by_field_name("body")
    legacy_acq = {
        n
        for n, rows in legacy.rows.items()
        if any(r.effect == "acquire" and r.result == "return" and r.get == "always" for r in rows)
    }
    found = None
    todo = [body]
    while todo and found is None:
        node = todo.pop()
        if node.type == "assignment_expression":
            right = node.child_by_field_name("right")
            left = node.child_by_field_name("left")
            if right is not None and right.type == "call_expression" and left.type == "identifier":
                name = right.child_by_field_name("function").text.decode()
                if name in legacy_acq:
                    found = (left.text.decode(), right)
        todo.extend(reversed(node.named_children))
    if found is None:
        return None
    var, call = found
    release = {n for n, rows in legacy.rows.items() if any(r.effect == "release" for r in rows)}
    marks = {n for n, rows in legacy.rows.items() if any(r.effect == "mark" for r in rows)}
    dirty_marks = {
        n for n, rows in legacy.rows.items() if any(r.effect == "mark" and r.dirty for r in rows)
    }
    unlock = {n for n, rows in legacy.rows.items() if any(r.effect == "unlock" for r in rows)}

    def of_var(stmt) -> bool:
        args = stmt.named_children[0].child_by_field_name("arguments")
        return args is not None and args.text.decode().strip("() ") == var

    rels = [st for st, _ in _statements(body, release) if of_var(st)]
    mks = [(st, n) for st, n in _statements(body, marks) if of_var(st)]
    unlocks = sorted(_lock_calls(body, unlock, legacy), key=lambda p: p[0].start_byte)
    edits: list[tuple[int, int, bytes]] = []  # (start, end, replacement), applied backwards
    for rel in rels:
        before = [u for u, _ in unlocks if u.end_byte <= rel.start_byte]
        if not before:
            return None
        unlock_stmt = before[-1]
        between = raw[unlock_stmt.end_byte : rel.start_byte].decode("utf-8", "replace")
        if "goto" in between or "return" in between:
            return None
        lock_arg = unlock_stmt.named_children[0].child_by_field_name("arguments")
        kvm = lock_arg.text.decode().strip("() ").lstrip("&")
        for suffix in ("->mmu_lock", ".mmu_lock"):
            kvm = kvm.removesuffix(suffix)
        dirty = [
            _condition_of(st) for st, n in mks if n in dirty_marks and st.end_byte <= rel.start_byte
        ]
        dirty_text = " || ".join(dirty) if dirty else "false"
        unused = "false" if dirty else "true"
        text = f"{release_row.name}({kvm}, __page, {unused}, {dirty_text}); "
        edits.append((rel.start_byte, rel.end_byte, b";"))
        if after:
            edits.append((unlock_stmt.end_byte, unlock_stmt.end_byte, b" " + text.encode()))
        else:
            edits.append((unlock_stmt.start_byte, unlock_stmt.start_byte, text.encode()))
    if not rels or not any(st for st, n in mks if n in dirty_marks):
        return None  # never released dirty: a clean release may follow the unlock
    for st, _ in mks:
        edits.append((st.start_byte, st.end_byte, b";"))
    args = [a.text.decode() for a in call.child_by_field_name("arguments").named_children]
    args = (args + ["NULL"] * 4)[:4]
    new_call = f"{acquire_row.name}({', '.join(args)}, &__page)"
    edits.append((call.start_byte, call.end_byte, new_call.encode()))
    edits.append((body.start_byte + 1, body.start_byte + 1, b" struct page *__page = NULL;"))
    out = raw
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out = out[:start] + text + out[end:]
    return out


def _lock_calls(body, wanted, spec):
    """Lock (or unlock) statements of mmu_lock: a row's `arg_contains` must be in the call."""
    for stmt, name in _statements(body, wanted):
        needed = {row.arg_contains for row in spec.rows.get(name, ())}
        if not needed or any(part in stmt.text.decode() for part in needed):
            yield stmt, name


def _calls(node, wanted) -> bool:
    """True when a call of a name in `wanted` occurs anywhere under `node`."""
    todo = [node]
    while todo:
        current = todo.pop()
        if current.type == "call_expression":
            name = current.child_by_field_name("function")
            if name is not None and name.text.decode() in wanted:
                return True
        todo.extend(current.named_children)
    return False


def _keys(result) -> set[tuple]:
    return {(f.rule, f.function, f.line) for f in result.findings}


def found(mutant: Mutant, before: set[tuple], result) -> bool:
    """True when a new finding of the expected rule lies in or passes through the function
    (for a legal change: when no new finding does)."""
    rule = EXPECTED[mutant.kind]
    if rule is None:
        return not any(
            (f.rule, f.function, f.line) not in before
            and (
                f.function == mutant.function
                or any(mutant.first_line <= step.line <= mutant.last_line for step in f.trace)
            )
            for f in result.findings
        )
    for finding in result.findings:
        if finding.rule != rule or (finding.rule, finding.function, finding.line) in before:
            continue
        if finding.function == mutant.function:
            return True
        if any(mutant.first_line <= step.line <= mutant.last_line for step in finding.trace):
            return True
    return False


def _ported_mutants(root, relpath, original, buggy, table, totals, hits, missed) -> None:
    """Port each fault handler of a file to the 6.13 release API; where the port checks
    clean, move its release after the unlock and expect release-dirty-unlocked."""
    specs = load_specs()
    raw = original.encode("utf-8", "surrogateescape")
    legacy = _spec_for(original, None)
    kind = "ported-release-after-unlock"
    for fdef in parse_c(original).functions():
        if fdef.kind != "function" or fdef.recovered or fdef.name in buggy:
            continue
        if fdef.node.child_by_field_name("body") is None:
            continue
        ported = port_function(raw, fdef, legacy, specs)
        mutated = port_function(raw, fdef, legacy, specs, after=True)
        if ported is None or mutated is None:
            continue
        target = root / relpath
        try:
            target.write_bytes(ported)
            clean = check_tree_file(root, relpath, summaries=table)
            target.write_bytes(mutated)
            result = check_tree_file(root, relpath, summaries=table)
        finally:
            target.write_text(original, encoding="utf-8")
        mine = [f for f in clean.findings if f.function == fdef.name]
        where = f"{relpath}:{fdef.start_line} in {fdef.name}"
        if mine:
            missed.append(f"port: {where} does not check clean ({mine[0].rule})")
            continue
        mutant = Mutant(kind, relpath, fdef.name, fdef.start_line, fdef.end_line, 0, "")
        totals[kind] += 1
        if found(mutant, {(f.rule, f.function, f.line) for f in clean.findings}, result):
            hits[kind] += 1
        else:
            missed.append(f"{kind}: {where}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel", default=str(KERNEL), help="the real 6.12 files")
    parser.add_argument("--kind", action="append", choices=sorted(EXPECTED), default=[])
    parser.add_argument("--file", action="append", default=[], help="only these files")
    parser.add_argument("--verbose", action="store_true", help="list every missed mutant")
    args = parser.parse_args(argv)
    source = Path(args.kernel)
    if not source.is_dir():
        print(f"kernel files not found at {source}", file=sys.stderr)
        return 2
    kinds = args.kind or sorted(EXPECTED)
    totals: Counter = Counter()
    hits: Counter = Counter()
    missed: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "linux"
        shutil.copytree(source, root, ignore=shutil.ignore_patterns("LICENSES", "COPYING"))
        tree = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".c", ".h"))
        files = args.file or tree
        # What each file's functions do as other files' callees (as `check DIR` does); a
        # mutant changes one file, checked with the summaries of the others.
        table = summarise_tree(root, tree, load_specs()).rows
        for relpath in files:
            original = (root / relpath).read_text(encoding="utf-8", errors="replace")
            baseline = check_tree_file(root, relpath, summaries=table)
            before = _keys(baseline)
            # A function already reported (a real bug) hides what a mutant adds to it.
            buggy = frozenset(f.function for f in baseline.findings)
            if "ported-release-after-unlock" in kinds:
                _ported_mutants(root, relpath, original, buggy, table, totals, hits, missed)
            for mutant in mutants_of(root, relpath, buggy, table):
                if mutant.kind not in kinds:
                    continue
                (root / relpath).write_text(mutant.text, encoding="utf-8", errors="surrogateescape")
                try:
                    result = check_tree_file(root, relpath, summaries=table)
                finally:
                    (root / relpath).write_text(original, encoding="utf-8")
                totals[mutant.kind] += 1
                if found(mutant, before, result):
                    hits[mutant.kind] += 1
                else:
                    missed.append(f"{mutant.kind}: {relpath}:{mutant.line} in {mutant.function}")
    elapsed = time.perf_counter() - started
    print(f"{'kind':28} {'mutants':>8} {'found':>6} {'recall':>7}")
    for kind in kinds:
        total = totals[kind]
        share = hits[kind] / total if total else 0.0
        shown = f"{share:7.1%}" if total else "    n/a"
        print(f"{kind:28} {total:8d} {hits[kind]:6d} {shown}")
    all_total, all_hits = sum(totals.values()), sum(hits.values())
    overall = all_hits / all_total if all_total else 0.0
    print(f"{'all':28} {all_total:8d} {all_hits:6d} {overall:7.1%}   ({elapsed:.1f} s)")
    print(f"{'drop-get':28} n/a: no API of the 6.12 files takes a FOLL_GET-style argument")
    if args.verbose:
        for line in missed:
            print(f"  missed {line}")
    return 0 if all(hits[k] >= TARGET * totals[k] for k in kinds if totals[k]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
