"""Entry points of the FOLL_GET checker: a C source, a revision of a series, two versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.analyses.spec.model import Spec, SpecSet, load_specs
from reviewtool.analyses.spec.rules import severity_of
from reviewtool.analyses.spec.walker import RawFinding, Walker
from reviewtool.cparse import parse_c

# Findings from a function seen only in part cannot tell an exit path from the end of the hunk.
PARTIAL_SKIPS = frozenset({"leak"})


@dataclass
class CheckResult:
    """Findings of one check, and notes on what could not be fully checked."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    generation: str = ""


_DEFAULT_SPECS: SpecSet | None = None


def _spec_for(text: str, spec: Spec | SpecSet | None) -> Spec:
    global _DEFAULT_SPECS
    if isinstance(spec, Spec):
        return spec
    if spec is None:
        if _DEFAULT_SPECS is None:
            _DEFAULT_SPECS = load_specs()
        spec = _DEFAULT_SPECS
    return spec.detect(text)


def _merge_configs(raw: list[RawFinding]) -> list[RawFinding]:
    """One finding per rule and line: a rule broken in every configuration has no config."""
    by_place: dict[tuple, list[RawFinding]] = {}
    for item in raw:
        by_place.setdefault((item.rule, item.function, item.line), []).append(item)
    merged = []
    for items in by_place.values():
        configs = {item.config for item in items}
        first = min(items, key=lambda item: len(item.trace))
        if "" in configs or (
            any(c.startswith("FOLL_GET passed") for c in configs)
            and any(c.startswith("FOLL_GET not passed") for c in configs)
        ):
            first = RawFinding(first.rule, first.function, first.line, first.message, "", first.trace)
        else:
            first = min(items, key=lambda item: (item.config, len(item.trace)))
        merged.append(first)
    return merged


def _finding(path: str, item: RawFinding, partial: bool) -> Finding:
    return Finding(
        rule=item.rule,
        severity=severity_of(item.rule),
        file=path,
        line=item.line,
        function=item.function,
        message=item.message,
        config=item.config,
        trace=[TraceStep(line, event) for line, event in item.trace],
        partial=partial,
    )


def check_source(
    path: str,
    text: str,
    functions: set[str] | None = None,
    spec: Spec | SpecSet | None = None,
    partial: bool = False,
) -> CheckResult:
    """Check every function of a C text (or only `functions`); `partial` marks hunk-only text."""
    generation = _spec_for(text, spec)
    parsed = parse_c(text)
    walker = Walker(parsed, generation, path, functions)
    result = CheckResult(generation=generation.name)
    for fdef in parsed.functions():
        if fdef.kind != "function" or fdef.recovered:
            continue
        if functions is not None and fdef.name not in functions:
            continue
        if not walker.check_function(fdef):
            result.notes.append(
                f"{path}: {fdef.name}: not fully explored (work bound reached); "
                "findings cover the paths walked"
            )
    for region in parsed.errors:
        if functions is None or region.function in functions:
            result.notes.append(f"{path}: {region.describe()}")
    raw = _merge_configs(list(walker.findings.values()))
    if partial:
        raw = [item for item in raw if item.rule not in PARTIAL_SKIPS]
    result.findings = sorted(
        (_finding(path, item, partial) for item in raw),
        key=lambda f: (f.file, f.line, f.rule, f.config),
    )
    return result


def compare_findings(old: list[Finding], new: list[Finding]) -> list[Finding]:
    """Mark each finding introduced (only new), persisting (both) or fixed (only old)."""
    old_keys = {finding.key() for finding in old}
    new_keys = {finding.key() for finding in new}
    out = []
    for finding in new:
        finding.status = "persisting" if finding.key() in old_keys else "introduced"
        out.append(finding)
    seen: set[tuple] = set()
    for finding in old:
        if finding.key() not in new_keys and finding.key() not in seen:
            seen.add(finding.key())
            fixed = Finding(**{**finding.__dict__, "trace": list(finding.trace)})
            fixed.status = "fixed"
            out.append(fixed)
    return out
