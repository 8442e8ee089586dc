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
kernel function. Findings carry `evidence = "hunks"` and the hunks they rest on. Reading the
hunks is `hunk_view` (lines, conditions) and `hunk_facts` (flags, acquisitions, releases);
this module keeps the reasoning and the findings.
"""

from __future__ import annotations

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
from reviewtool.analyses.spec.from_hunks_added import AddedAcquisitions
from reviewtool.analyses.spec.hunk_facts import (
    Acquisition,
    GetFact,
    HunkState,
    RemovedRelease,
    acquisitions_in,
    fact_key,
    get_facts_in,
    holder,
    releases_in,
)
from reviewtool.analyses.spec.hunk_view import (
    ShownFunction,
    code_of,
    exit_after,
    functions_shown,
    statement_text,
)
from reviewtool.analyses.spec.model import Spec, SpecSet, load_specs
from reviewtool.analyses.spec.rules import severity_of
from reviewtool.diff import function_images, parse_patch_diff
from reviewtool.diff.model import is_c_path


class _Reasoner:
    """Walks the patches of one revision in order, keeping what the hunks have shown."""

    def __init__(self, spec: Spec, label: str) -> None:
        self.spec = spec
        self.label = label
        self.state = HunkState()
        self.acquire_rows = spec.rows_with("acquire")
        self.release_rows = spec.rows_with("release")
        self.flag_rows = [row for row in self.acquire_rows if row.get != "always"]

    # -- reading one patch ----------------------------------------------------------------

    def read_patch(self, index: int, diff_text: str) -> list[Finding]:
        """Take one patch's hunks into the state; the findings that patch introduces or fixes."""
        patch = parse_patch_diff(diff_text, lenient=True)  # a damaged hunk: skipped, and said
        images = function_images(diff_text)
        state = self.state
        removed_now: list[RemovedRelease] = []
        touched: set[tuple[str, str]] = set()
        for file_diff in patch.files:
            if file_diff.binary or not is_c_path(file_diff.path):
                continue
            mine = [i for i in images if i.path == file_diff.path]
            for number, hunk in enumerate(file_diff.hunks):
                for shown in functions_shown(file_diff.path, hunk, number, mine):
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

    def _read_function(self, index: int, shown: ShownFunction) -> list[RemovedRelease]:
        state = self.state
        key = (shown.path, shown.function)
        new_side = shown.new_side()
        old_side = [line for line in shown.lines if line.kind != "+"]
        facts = state.facts.setdefault(key, {})
        new_facts = [fact for _, fact in get_facts_in(shown, self.flag_rows, new_side)]
        new_keys = {fact_key(fact) for fact in new_facts}
        for line, fact in get_facts_in(shown, self.flag_rows, old_side):
            if line.kind == "-" and fact_key(fact) not in new_keys:
                facts.pop(fact_key(fact), None)
                state.dropped.setdefault(key, []).append(fact)
        for fact in new_facts:
            facts[fact_key(fact)] = fact
        for acquisition in acquisitions_in(shown, self.acquire_rows):
            state.acquisitions[holder(shown.path, shown.function, acquisition.target)] = acquisition
        added = {target for line, _, target in releases_in(new_side, self.release_rows)}
        added_now = {
            target
            for line, _, target in releases_in(new_side, self.release_rows)
            if line.kind == "+"
        }
        # A release put back in the function (moved, made conditional) ends an earlier removal.
        state.removed = [
            r for r in state.removed if not ((r.path, r.function) == key and r.target in added_now)
        ]
        out = []
        for line, row, target in releases_in(
            [ln for ln in shown.lines if ln.kind == "-"], self.release_rows
        ):
            if target in added:
                continue  # moved within the function, or still released on this side
            out.append(
                RemovedRelease(
                    shown.path,
                    shown.function,
                    exit_after(shown, line),
                    statement_text(code_of(line.text)),
                    target,
                    row,
                    index,
                    shown.evidence,
                )
            )
        return out

    # -- judging after a patch ----------------------------------------------------------------

    def _get_condition(self, acquisition: Acquisition) -> tuple[Cond, list[GetFact]] | None:
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

    def _leak(self, removed: RemovedRelease, index: int) -> Finding | None:
        acquisition = self.state.acquisitions.get(
            holder(removed.path, removed.function, removed.target)
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
    added = AddedAcquisitions(generation, revision.label)
    out: list[Finding] = []
    for patch in patches:
        if patch.diff:
            out += reasoner.read_patch(patch.index, patch.diff)
            out += added.read_patch(
                patch.index,
                parse_patch_diff(patch.diff, lenient=True),
                function_images(patch.diff),
            )
    return out


_SPECS: SpecSet | None = None


def _default_specs() -> SpecSet:
    global _SPECS
    if _SPECS is None:
        _SPECS = load_specs()
    return _SPECS


__all__ = ["findings_from_hunks"]
