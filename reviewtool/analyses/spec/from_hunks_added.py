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
  to a label not shown, a `break` out of a loop not shown) is never judged, and a region that
  does not parse proves nothing: the function stays "not checked (hunks-only)";
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
from reviewtool.analyses.spec.effects import CallEffects
from reviewtool.analyses.spec.hunk_region import VisibleFile, region_fragment
from reviewtool.analyses.spec.hunk_view import code_of, functions_shown, statement_text
from reviewtool.analyses.spec.locations import loc, path_of, read, resolve
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
            added: list[tuple[int, str, str, str, HunkEvidence]] = []
            touched: dict[str, list[HunkEvidence]] = {}
            for number, hunk in enumerate(file_diff.hunks):
                for shown in functions_shown(file_diff.path, hunk, number, mine):
                    for line in shown.new_side():
                        functions[line.number] = shown.function
                    evidence = replace(shown.evidence, patch_index=index)
                    touched.setdefault(shown.function, []).append(evidence)
                    if shown.function in whole:
                        continue  # the checker walks it whole
                    added += [(*call, evidence) for call in self._added_calls(shown)]
            visible = self.files.setdefault(file_diff.path, VisibleFile())
            moved = visible.apply(file_diff.hunks, index, functions)
            out += self._recheck(index, file_diff.path, moved, touched)
            for number, function, api, text, evidence in added:
                finding = self._leak(index, file_diff.path, function, number, api, text, evidence)
                if finding is not None:
                    out.append(finding)
                    self.open.append(_Added(file_diff.path, function, number, api, text, finding))
        return out

    def _added_calls(self, shown) -> list[tuple[int, str, str, str]]:  # noqa: ANN001
        """(line, function, API, statement) of each acquire call on a `+` line of the
        function, for APIs the patch calls more often there than before."""
        counts: dict[str, int] = {}
        calls: list[tuple[int, str, str, str]] = []
        for line in shown.lines:
            for match in self._call_re.finditer(code_of(line.text)):
                api = match.group(1)
                if line.kind == "+":
                    counts[api] = counts.get(api, 0) + 1
                    text = statement_text(code_of(line.text))
                    calls.append((line.number, shown.function, api, text))
                elif line.kind == "-":
                    counts[api] = counts.get(api, 0) - 1
        return [call for call in calls if counts[call[2]] > 0]

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
                path = path_of(arg)
                if path is None:
                    continue
                depth, where = resolve(st, frame.depth, path)
                for (at, held), value in st.env.items():
                    if at == depth and (held == where or held.startswith(where + ".")):
                        handed |= V.holds_reference_to(value)
        out = super().call(st, node, frame)
        if handed:
            for s, _ in out:
                s.lost = s.lost | handed
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
