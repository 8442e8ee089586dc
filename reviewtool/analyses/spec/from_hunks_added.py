"""From mail alone: an acquisition a patch adds, followed through the lines its hunks show.

A reviewer reading a patch that adds `page = gfn_to_page(...)` in the middle of a function sees
a leak when an exit a few lines below it returns with the page neither released nor handed on,
even without the rest of the function. This module does that, and no more:

- the lines the revision's hunks have shown of each file are kept at their current numbers
  (`hunk_region.VisibleFile`); an acquire call of the spec on a patch's `+` line (one more call
  of that API than the patch removes from the function) is an acquisition added;
- the visible region from its statement on is wrapped as a function body and walked by the
  path walker itself (`check.check_source`, partial text): a `return` reached with the added
  acquisition's reference held, not released (spec release row), not handed on (returned,
  stored outside the frame, kept by an unknown callee: the walker's rules) and not an error
  result, is a `leak` introduced by that patch, with the hunk as evidence;
- a path that leaves the visible lines (their end, a block whose end is not shown, a `goto`
  to a label not shown, a `break` out of a loop not shown) is never judged, nor one that
  tests a location the region writes on other paths but not on this one (what it holds
  there comes from lines not shown: `bool device = false;` above, `device = true;` on one
  branch), and a region that does not parse proves nothing: the function stays
  "not checked (hunks-only)";
- a later patch of the same revision that changes the function is read too: when the region
  walked again no longer leaks that reference, the finding is marked fixed by that patch
  (a maintainer still asks for the fix to be folded in, so that every commit is sound).

A function a patch shows whole is walked by the checker already and skipped here. API names
come from the spec rows; nothing here knows a kernel function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from reviewtool.analyses.findings import EVIDENCE_HUNKS, Finding, HunkEvidence, TraceStep
from reviewtool.analyses.spec import values as V
from reviewtool.analyses.spec.branches import Branches
from reviewtool.analyses.spec.effects import CallEffects
from reviewtool.analyses.spec.hunk_region import BEFORE, VisibleFile, region_fragment
from reviewtool.analyses.spec.hunk_view import code_of, functions_shown, statement_text
from reviewtool.analyses.spec.locations import loc, path_of, read, store, values_under
from reviewtool.analyses.spec.model import Spec
from reviewtool.analyses.spec.rules import severity_of
from reviewtool.analyses.spec.state import NAME_MACRO_RE, UNSEEN_FLAGS, RawFinding
from reviewtool.analyses.spec.walker import Walker
from reviewtool.cparse import parse_c
from reviewtool.diff.model import is_c_path

_TAKEN_RE = re.compile(r"\(taken at line (\d+)\)")


@dataclass
class _Added:
    """An acquisition a patch added, with the leak found from it (while not fixed)."""

    path: str
    function: str
    line: int  # where the acquire call is, as the latest patch numbers the file
    api: str
    text: str
    finding: Finding


class AddedAcquisitions:
    """Walks the patches of one revision in order; the leaks of acquisitions they add."""

    def __init__(self, spec: Spec, label: str) -> None:
        self.spec = spec
        self.label = label
        self.files: dict[str, VisibleFile] = {}
        self.open: list[_Added] = []
        names = sorted({row.name for row in spec.rows_with("acquire")}, key=len, reverse=True)
        self._call_re = (
            re.compile(r"(?<![\w.>])(" + "|".join(map(re.escape, names)) + r")\s*\(")
            if names
            else None
        )

    def read_patch(self, index: int, patch, images) -> list[Finding]:  # noqa: ANN001
        """Take one patch (a parsed diff and its function images) into the visible text;
        the leaks it introduces and the earlier ones it fixes."""
        out: list[Finding] = []
        for file_diff in patch.files:
            if file_diff.binary or not is_c_path(file_diff.path) or self._call_re is None:
                continue
            mine = [i for i in images if i.path == file_diff.path]
            whole = {i.function for i in mine if i.function and (i.new_complete or i.complete)}
            functions: dict[int, str] = {}
            touched: dict[str, list[HunkEvidence]] = {}
            pieces: dict[str, list] = {}
            for number, hunk in enumerate(file_diff.hunks):
                for shown in functions_shown(file_diff.path, hunk, number, mine):
                    for line in shown.new_side():
                        functions[line.number] = shown.function
                    shown.evidence = replace(shown.evidence, patch_index=index)
                    touched.setdefault(shown.function, []).append(shown.evidence)
                    if shown.function not in whole:  # else the checker walks it whole
                        pieces.setdefault(shown.function, []).append(shown)
            added = [call for shown in pieces.values() for call in self._added_calls(shown)]
            visible = self.files.setdefault(file_diff.path, VisibleFile())
            moved = visible.apply(file_diff.hunks, index, functions)
            out += self._recheck(index, file_diff.path, moved, touched)
            for number, function, api, text, evidence in added:
                finding = self._leak(index, file_diff.path, function, number, api, text, evidence)
                if finding is not None:
                    out.append(finding)
                    self.open.append(_Added(file_diff.path, function, number, api, text, finding))
        return out

    def _added_calls(self, pieces: list) -> list[tuple[int, str, str, str, HunkEvidence]]:
        """(line, function, API, statement, hunk) of each acquire call on a `+` line of one
        function's hunks, for the APIs the patch calls more often in it than before (a call
        moved or rewritten in place is not an acquisition added)."""
        counts: dict[str, int] = {}
        calls: list[tuple[int, str, str, str, HunkEvidence]] = []
        for shown in pieces:
            for line in shown.lines:
                if line.kind == " ":
                    continue
                for match in self._call_re.finditer(code_of(line.text)):
                    api = match.group(1)
                    counts[api] = counts.get(api, 0) + (1 if line.kind == "+" else -1)
                    if line.kind == "+":
                        text = statement_text(code_of(line.text))
                        calls.append((line.number, shown.function, api, text, shown.evidence))
        return [call for call in calls if counts[call[2]] > 0]

    def _calls_added(self, path: str, function: str, api: str, index: int) -> list[int]:
        """The lines of `function` that patch `index` added with a call of `api`."""
        return [
            number
            for number, line in sorted(self.files[path].lines.items())
            if line.function == function
            and line.added_by == index
            and any(m.group(1) == api for m in self._call_re.finditer(code_of(line.text)))
        ]

    def _walk(self, path: str, function: str, number: int) -> list[RawFinding] | None:
        """The walker's leaks of the reference taken at `number`, on the visible region from
        its statement on; None when the region proves nothing (it does not parse, or the
        walk could not follow it)."""
        fragment = region_fragment(self.files[path], number, function, function)
        if fragment is None:
            return None
        parsed = parse_c(fragment.text)
        fdef = next(f for f in parsed.functions() if f.kind == "function")
        walker = Walker(parsed, self.spec, path, {fdef.name})
        walker.judge_fallthrough = False  # the end of the visible lines is not an exit
        walker.calls = _FragmentCalls(walker)
        branches = _FragmentBranches(walker, _written(fdef.node.child_by_field_name("body")))
        walker.branches = branches
        switch = walker.switch
        walker.switch = lambda st, node, frame: (
            [] if branches.unproven(st, node.node, frame) else switch(st, node, frame)
        )
        try:
            walker.check_function(fdef)
        except (RecursionError, KeyError, IndexError, TypeError, ValueError, AttributeError):
            return None  # as check.py does: a walk that cannot follow the text proves nothing
        return [
            raw
            for raw in walker.findings.values()
            if raw.rule == "leak"
            and fragment.first <= raw.line <= fragment.last
            and (m := _TAKEN_RE.search(raw.message))
            and int(m.group(1)) == number
        ]

    def _leak(self, index, path, function, number, api, text, evidence) -> Finding | None:  # noqa: ANN001
        leaks = self._walk(path, function, number)
        if not leaks:
            return None
        found = min(leaks, key=lambda f: (f.line, f.config))
        exit_text = statement_text(code_of(self.files[path].lines[found.line].text))
        trace = [TraceStep(line, event) for line, event in found.trace[:-1]]
        trace.append(
            TraceStep(
                found.line,
                f"{exit_text}: an exit shown in the hunk; nothing visible on "
                "this path releases the reference or hands it on",
            )
        )
        return Finding(
            rule="leak",
            severity=severity_of("leak"),
            file=path,
            line=found.line,
            function=function,
            message=(
                f"{api}() added by patch {index} at line {number} takes a reference that "
                f"`{exit_text}` returns without releasing: the reference leaks (from hunks)"
            ),
            version=self.label,
            config=found.config,
            trace=trace,
            status="introduced",
            patch_index=index,
            evidence=EVIDENCE_HUNKS,
            hunks=[evidence],
        )

    def _recheck(
        self, index: int, path: str, moved: dict[int, int], touched: dict[str, list[HunkEvidence]]
    ) -> list[Finding]:
        """Earlier leaks in the functions this patch changes, walked again: fixed when the
        acquisition is gone or no visible exit leaks its reference any more."""
        out: list[Finding] = []
        still: list[_Added] = []
        for item in self.open:
            if item.path != path:
                still.append(item)
                continue
            item.line = moved.get(item.line, 0)
            if item.function not in touched and item.line:
                still.append(item)
                continue
            if not item.line:
                # The call's line was rewritten: the same call added again in the function is
                # the acquisition still; none is an acquisition gone; several cannot be told.
                again = self._calls_added(path, item.function, item.api, index)
                if len(again) > 1:
                    still.append(item)
                    continue
                item.line = again[0] if again else 0
            if item.line:
                leaks = self._walk(path, item.function, item.line)
                if leaks is None or leaks:
                    still.append(item)  # still leaks, or nothing can be told
                    continue
            fixed = replace(item.finding, status="fixed", patch_index=index)
            fixed.trace = list(item.finding.trace)
            fixed.hunks = [*item.finding.hunks, *touched.get(item.function, [])]
            out.append(fixed)
        self.open = still
        return out


def _paths_read(node) -> set[str]:  # noqa: ANN001
    """The lvalue paths an expression reads (`fault->pfn` -> `fault.pfn`), callees left out."""
    out: set[str] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if current.type in ("identifier", "field_expression"):
            path = path_of(current)
            if path is not None:
                out.add(path)
                continue
        if current.type == "call_expression":
            stack.append(current.child_by_field_name("arguments"))
            continue
        if current.type == "pointer_expression" and current.children[0].type == "&":
            continue  # `&map`: its address, not what it holds
        stack.extend(current.named_children)
    return out


_LOOP_KINDS = ("for_statement", "while_statement", "do_statement")


def _loops_around(node) -> tuple[tuple[int, int], ...]:  # noqa: ANN001
    """The byte spans of the loops that hold `node`."""
    spans = []
    parent = node.parent
    while parent is not None:
        if parent.type in _LOOP_KINDS:
            spans.append((parent.start_byte, parent.end_byte))
        parent = parent.parent
    return tuple(spans)


def _written(body) -> dict[str, list[tuple[int, tuple[tuple[int, int], ...]]]]:  # noqa: ANN001
    """The lvalue paths the region writes (assigned, incremented, or passed by address), each
    with where: the byte it starts at and the loops around it."""
    out: dict[str, list[tuple[int, tuple[tuple[int, int], ...]]]] = {}
    stack = [body]
    while stack:
        node = stack.pop()
        target = None
        if node.type == "assignment_expression":
            target = node.child_by_field_name("left")
        elif node.type == "update_expression":
            target = node.child_by_field_name("argument")
        elif node.type == "pointer_expression" and node.children and node.children[0].type == "&":
            target = node.child_by_field_name("argument")
        if target is not None and (path := path_of(target)) is not None:
            out.setdefault(path, []).append((node.start_byte, _loops_around(node)))
        stack.extend(node.named_children)
    return out


class _FragmentBranches(Branches):
    """The walker's conditions, except that a path is dropped (it proves nothing) where it
    tests a location the region writes on other paths while this path has not written it:
    there the answer depends on what lines not shown left in it (`bool device = false;`
    above the region, `device = true;` on one branch inside it)."""

    def __init__(self, walker: Walker, written: dict) -> None:
        super().__init__(walker)
        self.written = written

    def unproven(self, st, node, frame) -> bool:  # noqa: ANN001
        """True when `node` reads a location a write of the region may reach (one above it,
        or one in a loop around both) while this path has not written it."""
        if node is None or frame.depth != 0 or not self.written:
            return False
        loops = _loops_around(node)
        for path in _paths_read(node):
            parts = path.split(".")
            prefixes = [".".join(parts[:cut]) for cut in range(1, len(parts) + 1)]
            reaching = [
                (at, around)
                for prefix in prefixes
                for at, around in self.written.get(prefix, ())
                if at < node.start_byte or set(around) & set(loops)
            ]
            if not reaching:
                continue  # an input here: no write of the region comes before this test
            if not any(
                (0, prefix) in st.env and st.env[(0, prefix)] != V.Sym(f"0:{BEFORE}{prefix}")
                for prefix in prefixes
            ):
                return True
        return False

    def cond(self, st, node, frame):  # noqa: ANN001, ANN201
        if self.unproven(st, node, frame):
            return []
        return super().cond(st, node, frame)


class _FragmentCalls(CallEffects):
    """The walker's call effects, with what a fragment cannot see taken as the reference's
    way out: a callee that is neither a spec row nor shown may keep a page handed to it (the
    whole-function walk sees same-file callees; a fragment sees none), and an acquisition
    whose get flag the visible lines do not show being passed may hold nothing."""

    def call(self, st, node, frame):  # noqa: ANN001, ANN201
        name = self.callee_name(node)
        args = self.call_args(node)
        row = self.spec.row(name, len(args))
        wrapped = NAME_MACRO_RE.fullmatch(name)
        if row is None and wrapped:
            row = self.spec.row(wrapped.group(1), len(args))
        unseen = row is None and name not in self.spec.bug_if_true and name not in self.definitions
        handed: set[int] = set()
        if unseen:
            for arg in args:
                for value in values_under(st, frame.depth, arg):
                    handed |= V.holds_reference_to(value)
        out = super().call(st, node, frame)
        if handed:
            for s, _ in out:
                s.lost = s.lost | handed
        if frame.depth == 0:
            # `&writable`: the call's output. What the lines not shown left there is gone.
            for arg in args:
                if arg.type != "pointer_expression" or arg.children[0].type != "&":
                    continue
                path = path_of(arg.child_by_field_name("argument"))
                if path is None:
                    continue
                for s, _ in out:
                    if s.env.get((0, path), V.UNKNOWN) in (V.UNKNOWN, V.Sym(f"0:{BEFORE}{path}")):
                        # One symbol per argument, named as the walker names a call's result.
                        store(s, (0, path), V.Sym(f"ret:{arg.start_byte}"))
        return out

    def acquire(self, st, row, args, frame, line):  # noqa: ANN001, ANN201
        before = set(st.sim.pages)
        shown = row.get == "always" or self._get_shown(st, row, args, frame)
        out = super().acquire(st, row, args, frame, line)
        if shown:
            return out
        for s, _ in out:
            s.lost = s.lost | (set(s.sim.pages) - before)
        return out

    def _get_shown(self, st, row, args, frame) -> bool:  # noqa: ANN001
        """True when the flags the call passes visibly hold the get flag."""
        flags = V.UNKNOWN
        if row.struct_arg is not None and row.struct_arg < len(args) and row.flags_field:
            struct = loc(st, args[row.struct_arg], frame)
            if struct is not None:
                flags = read(st, (struct[0], f"{struct[1]}.{row.flags_field}"))
        elif row.flags_arg is not None and row.flags_arg < len(args):
            flags = self.walker.exprs.eval(st.copy(), args[row.flags_arg], frame)[0][1]
        return (
            isinstance(flags, V.Flags)
            and row.get_flag in flags.names
            and UNSEEN_FLAGS not in flags.names
        )


__all__ = ["AddedAcquisitions"]
