"""From mail alone: findings reasoned over the delta of each patch, with its hunks as evidence.

Without a tree the walker sees only the parts of functions a patch shows, and cannot judge a
leak there. A reviewer reading the list does better: "this patch removes the release from the
fault exits, while the same series still passes FOLL_GET on 32-bit or without TDP". This
module does that reasoning, patch by patch through a revision:

- it keeps what the hunks so far show about each acquisition: where an acquire API's result is
  stored (`fault->pfn = __kvm_follow_pfn(&foll)`), and in which function, under which visible
  condition, the get flag is put into its flags (`if (...) foll.flags |= FOLL_GET;`);
- a release removed by a patch (and not put back in the same function) of a value the hunks
  show being acquired, while the flag is still passed in some configuration the releasing
  function can run in (spec `[assume]`), is a `leak` from that patch on;
- a flag dropped (or made conditional) in a function where the spec requires it
  (`[[get_required]]`) in a configuration the remaining condition leaves out is `get-required`.

API names, flags, fields and configurations all come from the spec data; nothing here knows a
kernel function. Findings carry `evidence = "hunks"` and the hunks they rest on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.analyses.findings import EVIDENCE_HUNKS, Finding, HunkEvidence, TraceStep
from reviewtool.analyses.spec.condition import (
    TRUE,
    Cond,
    conjoin,
    disjoin,
    given_world,
    negate,
    parse_condition,
    satisfiable,
)
from reviewtool.analyses.spec.model import ApiRow, Spec, SpecSet, call_arguments, load_specs
from reviewtool.analyses.spec.rules import severity_of
from reviewtool.diff import function_images, parse_patch_diff
from reviewtool.diff.model import Hunk, is_c_path

_TAB = 8
_IF_RE = re.compile(r"^\s*(?:\}\s*)?(else\s+)?if\s*\(")
_ELSE_RE = re.compile(r"^\s*(?:\}\s*)?else\b(?!\s+if)")
_RETURN_RE = re.compile(r"^\s*return\b")


def _indent(text: str) -> int:
    width = 0
    for char in text:
        if char == "\t":
            width += _TAB - width % _TAB
        elif char == " ":
            width += 1
        else:
            break
    return width


def _code(text: str) -> str:
    """The line without its comment (a cheap cut: enough to read flags and calls)."""
    return re.sub(r"/\*.*?\*/", " ", text.split("//")[0])


def _is_code(text: str) -> bool:
    stripped = _code(text).strip()
    return bool(stripped) and not stripped.startswith(("*", "/*", "#"))


def _call_args(text: str, name: str) -> list[list[str]]:
    """The argument texts of every call of `name` that closes on this line (a call that goes
    on past it does not show all its arguments)."""
    return [
        [a for a in args if a] if any(args) else []
        for args, closed in call_arguments(text, name)
        if closed
    ]


def _norm(expr: str) -> str:
    """An lvalue as a key: no spaces, no `&`, no outer parentheses."""
    expr = "".join(expr.split()).lstrip("&")
    while expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1]
    return expr


@dataclass
class _Line:
    """A line of one function as a patch's hunk shows it."""

    kind: str  # " ", "-" or "+"
    text: str
    number: int  # new line number (old number for a removed line)


@dataclass
class _Shown:
    """One function as one hunk shows it: its lines and the hunk they come from."""

    path: str
    function: str
    lines: list[_Line]
    evidence: HunkEvidence

    def new_side(self) -> list[_Line]:
        return [line for line in self.lines if line.kind != "-"]


@dataclass
class _GetFact:
    """The get flag put into an acquisition's flags, as the hunks show it."""

    path: str
    function: str
    line: int
    text: str
    cond: Cond
    seen_whole: bool  # the enclosing statements up to the function body are all visible
    evidence: HunkEvidence


@dataclass
class _Acquisition:
    """An acquire call whose result the hunks show being stored."""

    path: str
    function: str
    line: int
    target: str
    row: ApiRow
    text: str
    evidence: HunkEvidence


@dataclass
class _Removed:
    """A release a patch removed and did not put back in the same function."""

    path: str
    function: str
    line: int  # where the exit now is (a return after it), else where it was
    text: str
    target: str
    row: ApiRow
    patch_index: int
    evidence: HunkEvidence
    reported: Finding | None = None


@dataclass
class _State:
    """What the hunks of the revision have shown so far."""

    facts: dict[tuple[str, str], dict[str, _GetFact]] = field(default_factory=dict)
    dropped: dict[tuple[str, str], list[_GetFact]] = field(default_factory=dict)
    acquisitions: dict[str, _Acquisition] = field(default_factory=dict)
    removed: list[_Removed] = field(default_factory=list)
    required: dict[tuple[str, str], Finding] = field(default_factory=dict)


def _shown(path: str, hunk: Hunk, index: int, images: list) -> list[_Shown]:
    """The hunk cut into the functions it touches (kernel style tells where one ends)."""
    evidence = HunkEvidence(
        None,
        path,
        hunk.header or f"@@ -{hunk.old_start} +{hunk.new_start} @@",
        "\n".join(line.kind + line.text for line in hunk.lines),
    )
    out = []
    for image in images:
        if image.hunk_index != index or not image.function:
            continue
        old_end = image.old_start + max(0, image.old_text.count("\n") - 1)
        new_end = image.new_start + max(0, image.new_text.count("\n") - 1)
        lines: list[_Line] = []
        for line in hunk.lines:
            if line.kind == "-":
                if image.old_text and image.old_start <= (line.old_line or 0) <= old_end:
                    lines.append(_Line("-", line.text, line.old_line or 0))
            elif image.new_text and image.new_start <= (line.new_line or 0) <= new_end:
                lines.append(_Line(line.kind, line.text, line.new_line or 0))
        if lines:
            out.append(_Shown(path, image.function, lines, evidence))
    return out


def _statement_head(lines: list[_Line], at: int) -> tuple[str, int]:
    """The text of the statement head starting at `lines[at]`, joined until its parentheses
    close (a condition may run over several lines), and the index after it."""
    text, depth, j = "", 0, at
    while j < len(lines):
        part = _code(lines[j].text)
        text += " " + part.strip()
        depth += part.count("(") - part.count(")")
        j += 1
        if depth <= 0:
            break
    return text.strip(), j


def _if_condition(head: str) -> str | None:
    """`if (a || b) {` -> `a || b`."""
    match = _IF_RE.match(head)
    if not match:
        return None
    start = match.end()
    depth = 1
    for j in range(start, len(head)):
        depth += {"(": 1, ")": -1}.get(head[j], 0)
        if depth == 0:
            return head[start:j]
    return None


def _enclosing(lines: list[_Line], at: int) -> tuple[Cond, bool]:
    """The condition under which `lines[at]` runs, read from the visible lines above it by
    kernel indentation; and whether the walk reached the function body (nothing hidden)."""
    conds: list[Cond] = []
    level = _indent(lines[at].text)
    j = at - 1
    # Kernel style: a function's body is indented one tab; a statement there runs unguarded.
    while j >= 0 and level > _TAB:
        text = lines[j].text
        if not _is_code(text) or _indent(text) >= level:
            j -= 1
            continue
        head_at = j
        # A head over several lines starts where its indentation does.
        while (
            head_at > 0
            and _is_code(lines[head_at].text)
            and not re.match(
                r"^\s*(?:\}\s*)?(?:else\b|if\b|for\b|while\b|switch\b|do\b|[\w\s*]+\(|\.|struct\b)",
                lines[head_at].text,
            )
        ):
            head_at -= 1
        head, _ = _statement_head(lines, head_at)
        level = _indent(lines[head_at].text)
        if _ELSE_RE.match(head):
            # `} else {`: the negation of the `if` at the same level above it.
            k = head_at - 1
            while k >= 0 and not (_indent(lines[k].text) == level and _IF_RE.match(lines[k].text)):
                k -= 1
            if k < 0:
                return conjoin([*conds, Cond("atom", "?")]), False
            cond = _if_condition(_statement_head(lines, k)[0])
            conds.append(negate(parse_condition(cond)) if cond else Cond("atom", "?"))
            j = k - 1
            continue
        cond = _if_condition(head)
        if cond is not None:
            conds.append(parse_condition(cond))
        elif re.match(r"^\s*(for|while|switch|do)\b", head):
            conds.append(Cond("atom", head.strip().rstrip("{").strip()))
        j = head_at - 1
    return conjoin(conds), level <= _TAB


def _flag_re(row: ApiRow) -> re.Pattern[str] | None:
    if not row.flags_field:
        return None
    field_ = re.escape(row.flags_field)
    flag = re.escape(row.get_flag)
    # `.flags = FOLL_GET | ...` (an initializer or an assignment) or `foll.flags |= FOLL_GET`;
    # never `&= ~FOLL_GET`.
    return re.compile(rf"(?:^|[.>])\s*{field_}\s*\|?=\s*[^;~]*(?<![\w~]){flag}\b")


def _facts_in(
    shown: _Shown, rows: list[ApiRow], lines: list[_Line]
) -> list[tuple[_Line, _GetFact]]:
    """The get-flag statements among `lines` (one side of a function), with conditions."""
    out = []
    patterns = [p for p in (_flag_re(row) for row in rows) if p is not None]
    for at, line in enumerate(lines):
        code = _code(line.text)
        if any(p.search(code) for p in patterns):
            cond, whole = _enclosing(lines, at)
            fact = _GetFact(
                shown.path,
                shown.function,
                line.number,
                _statement(code),
                cond,
                whole,
                shown.evidence,
            )
            out.append((line, fact))
    return out


def _fact_key(fact: _GetFact) -> str:
    """Which flag statement a fact is, across versions of its text: the assignment's target
    and operator, and its condition (`.flags =` stays the same statement when other flags
    join it)."""
    target = fact.text.split("=", 1)[0].strip()
    return f"{target}= if {fact.cond}"


def _holder(path: str, function: str, target: str) -> str:
    """Where a reference is held: a field (`fault->pfn`) is the same across the functions
    that pass the struct along; a plain variable belongs to its function."""
    if "->" in target or "." in target:
        return target
    return f"{path}:{function}:{target}"


def _statement(code: str) -> str:
    """A line of code as a trace shows it: spaces collapsed, no trailing `;` or `,`."""
    return " ".join(code.split()).rstrip(";,").rstrip()


def _acquisitions_in(shown: _Shown, rows: list[ApiRow]) -> list[_Acquisition]:
    out = []
    for line in shown.new_side():
        code = _code(line.text)
        for row in rows:
            for args in _call_args(code, row.name):
                if not row.matches_call(len(args)):
                    continue
                if row.result == "arg" and row.result_arg is not None:
                    if row.result_arg >= len(args):
                        continue
                    target = _norm(args[row.result_arg])
                else:
                    match = re.match(rf"^\s*([^=;]+?)\s*=\s*{re.escape(row.name)}\s*\(", code)
                    if not match:
                        continue
                    target = _norm(match.group(1).split()[-1])
                out.append(
                    _Acquisition(
                        shown.path,
                        shown.function,
                        line.number,
                        target,
                        row,
                        _statement(code),
                        shown.evidence,
                    )
                )
    return out


def _releases(lines: list[_Line], rows: list[ApiRow]) -> list[tuple[_Line, ApiRow, str]]:
    out = []
    for line in lines:
        code = _code(line.text)
        for row in rows:
            for args in _call_args(code, row.name):
                if row.matches_call(len(args)) and row.arg < len(args):
                    out.append((line, row, _norm(args[row.arg])))
    return out


def _exit_after(shown: _Shown, removed: _Line) -> int:
    """The line of the first `return` after a removed line, in the new text; else where the
    removed line was."""
    position = shown.lines.index(removed)
    for line in shown.lines[position + 1 :]:
        if line.kind != "-" and _RETURN_RE.match(line.text):
            return line.number
    following = [line.number for line in shown.lines[position + 1 :] if line.kind != "-"]
    return following[0] if following else removed.number


class _Reasoner:
    """Walks the patches of one revision in order, keeping what the hunks have shown."""

    def __init__(self, spec: Spec, label: str) -> None:
        self.spec = spec
        self.label = label
        self.state = _State()
        self.acquire_rows = spec.rows_with("acquire")
        self.release_rows = spec.rows_with("release")
        self.flag_rows = [row for row in self.acquire_rows if row.get != "always"]

    # -- reading one patch ----------------------------------------------------------------

    def read_patch(self, index: int, diff_text: str) -> list[Finding]:
        """Take one patch's hunks into the state; the findings that patch introduces or fixes."""
        patch = parse_patch_diff(diff_text, lenient=True)  # a damaged hunk: skipped, and said
        images = function_images(diff_text)
        state = self.state
        removed_now: list[_Removed] = []
        touched: set[tuple[str, str]] = set()
        for file_diff in patch.files:
            if file_diff.binary or not is_c_path(file_diff.path):
                continue
            mine = [i for i in images if i.path == file_diff.path]
            for number, hunk in enumerate(file_diff.hunks):
                for shown in _shown(file_diff.path, hunk, number, mine):
                    shown.evidence = HunkEvidence(
                        index,
                        shown.evidence.file,
                        shown.evidence.header,
                        shown.evidence.text,
                    )
                    key = (shown.path, shown.function)
                    touched.add(key)
                    removed_now += self._read_function(index, shown)
        state.removed += removed_now
        return self._judge(index, touched)

    def _read_function(self, index: int, shown: _Shown) -> list[_Removed]:
        state = self.state
        key = (shown.path, shown.function)
        new_side = shown.new_side()
        old_side = [line for line in shown.lines if line.kind != "+"]
        facts = state.facts.setdefault(key, {})
        new_facts = [fact for _, fact in _facts_in(shown, self.flag_rows, new_side)]
        new_keys = {_fact_key(fact) for fact in new_facts}
        for line, fact in _facts_in(shown, self.flag_rows, old_side):
            if line.kind == "-" and _fact_key(fact) not in new_keys:
                facts.pop(_fact_key(fact), None)
                state.dropped.setdefault(key, []).append(fact)
        for fact in new_facts:
            facts[_fact_key(fact)] = fact
        for acquisition in _acquisitions_in(shown, self.acquire_rows):
            state.acquisitions[_holder(shown.path, shown.function, acquisition.target)] = (
                acquisition
            )
        added = {target for line, _, target in _releases(new_side, self.release_rows)}
        added_now = {
            target for line, _, target in _releases(new_side, self.release_rows) if line.kind == "+"
        }
        # A release put back in the function (moved, made conditional) ends an earlier removal.
        state.removed = [
            r for r in state.removed if not ((r.path, r.function) == key and r.target in added_now)
        ]
        out = []
        for line, row, target in _releases(
            [ln for ln in shown.lines if ln.kind == "-"], self.release_rows
        ):
            if target in added:
                continue  # moved within the function, or still released on this side
            out.append(
                _Removed(
                    shown.path,
                    shown.function,
                    _exit_after(shown, line),
                    _statement(_code(line.text)),
                    target,
                    row,
                    index,
                    shown.evidence,
                )
            )
        return out

    # -- judging after a patch ----------------------------------------------------------------

    def _get_condition(self, acquisition: _Acquisition) -> tuple[Cond, list[_GetFact]] | None:
        """When the acquisition passes the get flag, as the hunks show it; None when the
        hunks show nothing about its flags (the analysis then says nothing)."""
        if acquisition.row.get == "always":
            return TRUE, []
        facts = list(self.state.facts.get((acquisition.path, acquisition.function), {}).values())
        if not facts:
            return None
        parts = [fact.cond if fact.seen_whole else Cond("atom", "?") for fact in facts]
        return disjoin(parts), facts

    def _judge(self, index: int, touched: set[tuple[str, str]]) -> list[Finding]:
        out: list[Finding] = []
        for removed in self.state.removed:
            finding = self._leak(removed, index)
            if finding is not None and removed.reported is None:
                removed.reported = finding
                out.append(finding)
            elif finding is None and removed.reported is not None:
                out.append(self._fixed(removed.reported, index))
                removed.reported = None
        out += self._get_required(index, touched)
        return out

    def _leak(self, removed: _Removed, index: int) -> Finding | None:
        acquisition = self.state.acquisitions.get(
            _holder(removed.path, removed.function, removed.target)
        )
        if acquisition is None:
            return None
        known = self._get_condition(acquisition)
        if known is None:
            return None
        cond, facts = known
        given = given_world(self.spec.assume.get(removed.function, ()))
        # A `?` atom (a condition the hunks do not show) may be true: it keeps the leak.
        if cond != TRUE and not satisfiable(cond, given):
            return None
        config = ""
        if cond != TRUE:
            config = f"{acquisition.row.get_flag} passed ({_say(cond, self.spec)})"
        flag = acquisition.row.get_flag
        trace = [
            _step(
                removed.path,
                acquisition.path,
                acquisition.line,
                f"{acquisition.text} takes a reference when {flag} is passed"
                if acquisition.row.get != "always"
                else f"{acquisition.text} takes a reference",
            )
        ]
        for fact in facts:
            when = "" if fact.cond == TRUE else f" when {_say(fact.cond, self.spec)}"
            trace.append(
                _step(removed.path, fact.path, fact.line, f"{fact.text}: {flag} passed{when}")
            )
        trace.append(
            _step(
                removed.path,
                removed.path,
                removed.line,
                f"patch {removed.patch_index} removes {removed.text}; this exit no longer "
                "releases the reference",
            )
        )
        hunks = _unique([removed.evidence, acquisition.evidence, *(f.evidence for f in facts)])
        where = "always" if cond == TRUE else f"when {_say(cond, self.spec)}"
        message = (
            f"{removed.text} removed while {removed.target} still holds a reference "
            f"({flag} passed {where} in {acquisition.function}): the reference leaks "
            "(from hunks)"
            if acquisition.row.get != "always"
            else f"{removed.text} removed while {removed.target} still holds the reference "
            f"{acquisition.row.name}() took: the reference leaks (from hunks)"
        )
        return Finding(
            rule="leak",
            severity=severity_of("leak"),
            file=removed.path,
            line=removed.line,
            function=removed.function,
            message=message,
            version=self.label,
            config=config,
            trace=trace,
            status="introduced",
            patch_index=index,
            evidence=EVIDENCE_HUNKS,
            hunks=hunks,
        )

    def _get_required(self, index: int, touched: set[tuple[str, str]]) -> list[Finding]:
        """Rule 9 from hunks: the flag now passed in fewer configurations than the spec
        requires, in a function whose flags the hunks show (a dropped or a present flag)."""
        out: list[Finding] = []
        for key in sorted(touched):
            previous = self.state.required.get(key)
            finding = self._required_now(index, key)
            if finding is not None and previous is None:
                self.state.required[key] = finding
                out.append(finding)
            elif finding is None and previous is not None:
                out.append(self._fixed(previous, index))
                del self.state.required[key]
        return out

    def _required_now(self, index: int, key: tuple[str, str]) -> Finding | None:
        path, function = key
        facts = list(self.state.facts.get(key, {}).values())
        if not facts and key not in self.state.dropped:
            return None  # the hunks never showed this function's flags
        if any(not fact.seen_whole for fact in facts):
            return None  # a condition the hunks do not show may pass it after all
        acquisitions = [
            a
            for a in self.state.acquisitions.values()
            if (a.path, a.function) == key and a.row.get != "always"
        ]
        if not acquisitions:
            return None
        omitted = negate(disjoin([f.cond for f in facts])) if facts else TRUE
        given = given_world(self.spec.assume.get(function, ()))
        for rule in self.spec.get_required:
            if not rule.applies(path, function):
                continue
            if "false" in rule.needs:
                needs: Cond = Cond("atom", "false")
                world = {**given, "false": False}
            else:
                needs = conjoin([parse_condition(need) for need in rule.needs])
                world = given
            if satisfiable(conjoin([omitted, negate(needs)]), world):
                return self._required_finding(index, acquisitions[0], facts, rule, omitted)
        return None

    def _required_finding(self, index, acquisition, facts, rule, omitted: Cond) -> Finding:
        flag = acquisition.row.get_flag
        when = "in any configuration" if omitted == TRUE else f"when {_say(omitted, self.spec)}"
        dropped = self.state.dropped.get((acquisition.path, acquisition.function), [])
        trace = [
            _step(acquisition.path, fact.path, fact.line, f"patch drops {fact.text}")
            for fact in dropped
        ]
        trace += [
            _step(
                acquisition.path,
                fact.path,
                fact.line,
                f"{fact.text}: {flag} passed only when {_say(fact.cond, self.spec)}",
            )
            for fact in facts
        ]
        trace.append(
            _step(
                acquisition.path,
                acquisition.path,
                acquisition.line,
                f"{acquisition.text}: {flag} not passed {when}",
            )
        )
        return Finding(
            rule="get-required",
            severity=severity_of("get-required"),
            file=acquisition.path,
            line=acquisition.line,
            function=acquisition.function,
            message=(
                f"{flag} not passed {when}, although the mapping cannot record a refcounted "
                f"page there ({rule.source or 'spec [[get_required]]'}) (from hunks)"
            ),
            version=self.label,
            trace=trace,
            status="introduced",
            patch_index=index,
            evidence=EVIDENCE_HUNKS,
            hunks=_unique([acquisition.evidence, *(f.evidence for f in [*dropped, *facts])]),
        )

    def _fixed(self, finding: Finding, index: int) -> Finding:
        return Finding(
            rule=finding.rule,
            severity=finding.severity,
            file=finding.file,
            line=finding.line,
            function=finding.function,
            message=finding.message,
            version=self.label,
            config=finding.config,
            trace=list(finding.trace),
            status="fixed",
            patch_index=index,
            evidence=EVIDENCE_HUNKS,
            hunks=list(finding.hunks),
        )


def _say(cond: Cond, spec: Spec) -> str:
    text = cond.render(spec.config_names)
    return text.replace("?", "a condition the hunks do not show")


def _step(path: str, where: str, line: int, event: str) -> TraceStep:
    """A trace step; one in another file names it and carries line 0 (Finding.trace_lines)."""
    if where == path:
        return TraceStep(line, event)
    return TraceStep(0, f"{where}:{line}: {event}")


def _unique(items: list[HunkEvidence]) -> list[HunkEvidence]:
    out: list[HunkEvidence] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def findings_from_hunks(revision, spec: Spec | SpecSet | None = None) -> list[Finding]:  # noqa: ANN001
    """Findings of one revision reasoned over its patches' deltas alone (no tree), each marked
    `evidence = "hunks"`, per patch with status introduced (or fixed by a later patch)."""
    patches = sorted(revision.patches, key=lambda p: p.index)
    if not patches:
        return []
    if isinstance(spec, Spec):
        generation = spec
    else:
        specs = spec if isinstance(spec, SpecSet) else _default_specs()
        generation = specs.detect("\n".join(p.diff for p in patches))
    reasoner = _Reasoner(generation, revision.label)
    out: list[Finding] = []
    for patch in patches:
        if patch.diff:
            out += reasoner.read_patch(patch.index, patch.diff)
    return out


_SPECS: SpecSet | None = None


def _default_specs() -> SpecSet:
    global _SPECS
    if _SPECS is None:
        _SPECS = load_specs()
    return _SPECS


__all__ = ["findings_from_hunks"]
