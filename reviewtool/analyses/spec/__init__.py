"""The FOLL_GET checker: spec model as data, reference simulator, path walker, findings.

check_source(path, text, functions=None, spec=None) -> CheckResult(findings, notes)
check_functions(path, text, lines, names, spec, context) -> (functions, CheckResult)
check_revision(revision, repo=None, base=None, spec=None) -> list[Finding]
check_revision_result(...) -> RevisionCheck(findings, checked, not_checked)
findings_from_hunks(revision, spec=None) -> list[Finding]   (no tree: the delta of each patch)
compare_findings(old, new) -> list[Finding]   (analyses.status: introduced / fixed / persisting)
load_specs(["my-api.toml"]) -> SpecSet        (built-in generations plus --spec files)

The names are imported on first use: the pre-push hook needs the checker, not the readers of
mail revisions and hunks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewtool.lazy import lazy_exports

if TYPE_CHECKING:
    from reviewtool.analyses.spec.check import CheckResult, check_functions, check_source
    from reviewtool.analyses.spec.from_hunks import findings_from_hunks
    from reviewtool.analyses.spec.model import ApiRow, Spec, SpecSet, load_specs
    from reviewtool.analyses.spec.revision import (
        RevisionCheck,
        check_revision,
        check_revision_result,
        check_series,
    )
    from reviewtool.analyses.spec.rules import RULE_NAMES, RULES
    from reviewtool.analyses.spec.simulator import Simulator, SpecViolation, Violation

    # A finding's status across versions has one engine, analyses/status.py; re-exported here.
    from reviewtool.analyses.status import compare_findings, compare_versions

_HOME = {
    "CheckResult": "reviewtool.analyses.spec.check",
    "check_functions": "reviewtool.analyses.spec.check",
    "check_source": "reviewtool.analyses.spec.check",
    "findings_from_hunks": "reviewtool.analyses.spec.from_hunks",
    "ApiRow": "reviewtool.analyses.spec.model",
    "Spec": "reviewtool.analyses.spec.model",
    "SpecSet": "reviewtool.analyses.spec.model",
    "load_specs": "reviewtool.analyses.spec.model",
    "RevisionCheck": "reviewtool.analyses.spec.revision",
    "check_revision": "reviewtool.analyses.spec.revision",
    "check_revision_result": "reviewtool.analyses.spec.revision",
    "check_series": "reviewtool.analyses.spec.revision",
    "RULES": "reviewtool.analyses.spec.rules",
    "RULE_NAMES": "reviewtool.analyses.spec.rules",
    "Simulator": "reviewtool.analyses.spec.simulator",
    "SpecViolation": "reviewtool.analyses.spec.simulator",
    "Violation": "reviewtool.analyses.spec.simulator",
    "compare_findings": "reviewtool.analyses.status",
    "compare_versions": "reviewtool.analyses.status",
}

__all__ = [
    "ApiRow",
    "CheckResult",
    "RULES",
    "RULE_NAMES",
    "RevisionCheck",
    "Simulator",
    "Spec",
    "SpecSet",
    "SpecViolation",
    "Violation",
    "check_functions",
    "check_revision",
    "check_revision_result",
    "check_series",
    "check_source",
    "compare_findings",
    "compare_versions",
    "findings_from_hunks",
    "load_specs",
]


__getattr__ = lazy_exports(__name__, _HOME, globals())
