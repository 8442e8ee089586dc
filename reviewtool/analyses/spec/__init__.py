"""The FOLL_GET checker: spec model as data, reference simulator, path walker, findings.

check_source(path, text, functions=None, spec=None) -> CheckResult(findings, notes)
check_revision(revision, repo=None, base=None, spec=None) -> list[Finding]
check_revision_result(...) -> RevisionCheck(findings, checked, not_checked)
findings_from_hunks(revision, spec=None) -> list[Finding]   (no tree: the delta of each patch)
compare_findings(old, new) -> list[Finding]   (analyses.status: introduced / fixed / persisting)
load_specs(["my-api.toml"]) -> SpecSet        (built-in generations plus --spec files)
"""

from reviewtool.analyses.spec.check import CheckResult, check_source
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

__all__ = [
    "RULES",
    "RULE_NAMES",
    "ApiRow",
    "CheckResult",
    "RevisionCheck",
    "Simulator",
    "Spec",
    "SpecSet",
    "SpecViolation",
    "Violation",
    "check_revision",
    "check_revision_result",
    "check_series",
    "check_source",
    "compare_findings",
    "compare_versions",
    "findings_from_hunks",
    "load_specs",
]
