"""`b4 review` check protocol: one RFC 822 message in, a JSON array of results out.

b4 runs a per-patch check command with one patch on stdin and a per-series command with the
cover letter on stdin, from the top of the repository; each prints a JSON array of
`{"tool", "status": "pass"|"warn"|"fail", "summary", "url", "details"}` (tool and status
required, the rest optional; `[]` means nothing to report). A patch gets the same analyses
as `reviewtool report`; a cover letter gets the checks that need only the cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reviewtool.errors import InputError
from reviewtool.mail import Mail, parse_mail
from reviewtool.mail.signoff import signoff_problems

TOOL = "reviewtool"
# The status of a finding's severity in b4's three-colour matrix.
STATUS_OF_SEVERITY = {"error": "fail", "warning": "warn", "info": "pass"}
STATUS_ORDER = ("pass", "warn", "fail")
# Details are shown in a scrolling pane; a few dozen findings are all anyone reads there.
MAX_DETAIL_FINDINGS = 50


def check_message(
    data: bytes, repo: str | Path | None = None, report_url: str | None = None
) -> list[dict[str, Any]]:
    """The b4 check results for one message (a patch or a cover letter)."""
    try:
        mail = parse_mail(data, "<stdin>")
    except InputError as exc:
        return [_result("fail", f"not a mail message: {exc}", "", report_url)]
    prefix = mail.prefix
    if prefix.reply or prefix.forward:
        return []
    if prefix.counters_explicit and prefix.index == 0:
        return [_check_cover(mail, report_url)]
    if mail.has_diff:
        return [_check_patch(mail, repo, report_url)]
    return []


def _result(status: str, summary: str, details: str, url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"tool": TOOL, "status": status, "summary": summary}
    if url:
        out["url"] = url
    out["details"] = details
    return out


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=STATUS_ORDER.index, default="pass")


def _check_cover(mail: Mail, report_url: str | None) -> dict[str, Any]:
    """Checks a cover letter alone supports: changelog for a reroll, base-commit."""
    from reviewtool.series.changelog import parse_changelog

    notes: list[tuple[str, str]] = []
    version = mail.prefix.version
    if version > 1:
        steps = parse_changelog(mail.body, version)
        if not steps:
            notes.append(
                (
                    "warn",
                    f"v{version} cover letter has no changelog (no 'v{version - 1}"
                    f" -> v{version}:' section)",
                )
            )
        elif not any(str(step.to_version).lstrip("vV") == str(version) for step in steps):
            notes.append(("warn", f"changelog does not describe v{version - 1} -> v{version}"))
    if not mail.base_commit:
        notes.append(("warn", "no base-commit: reviewers cannot tell which tree it applies to"))
    if not notes:
        return _result("pass", "cover letter: changelog and base-commit present", "", report_url)
    status = _worst([s for s, _ in notes])
    details = "\n".join(text for _, text in notes)
    return _result(
        status, notes[0][1] if len(notes) == 1 else f"{len(notes)} problems", details, report_url
    )


def _check_patch(mail: Mail, repo: str | Path | None, report_url: str | None) -> dict[str, Any]:
    """The review's findings on one patch."""
    from reviewtool.review import ANALYSIS_SPEC, review_series
    from reviewtool.series.assemble import assemble

    collection = assemble([mail])
    if not mail.base_commit:
        repo = None  # nothing to apply it on: check the functions its hunks show
    findings = []
    notes: list[str] = []
    not_checked = []
    for series in collection.series:
        review = review_series(series, repo=str(repo) if repo else None, analyses={ANALYSIS_SPEC})
        findings.extend(review.latest_findings())
        notes.extend(f"{n.analysis} not run: {n.reason}" for n in review.unavailable())
        if review.findings:
            not_checked.extend(review.findings[-1].not_checked)
    form = signoff_problems(mail)
    unchecked = [item.text() for item in not_checked]
    if not findings:
        # Silence from a checker that never ran, or that saw only part of the code, is not a
        # pass: b4 shows "warn" and the details say what was not checked and why.
        status = "warn" if form or notes or unchecked else "pass"
        if form:
            summary = form[0]
        elif notes:
            summary = f"not checked: {notes[0]}"
        elif unchecked:
            summary = _not_checked_summary(not_checked)
        else:
            summary = "no findings"
        return _result(status, summary, "\n".join(form + notes + unchecked), report_url)
    status = _worst(
        [STATUS_OF_SEVERITY.get(f.severity, "warn") for f in findings]
        + (["warn"] if form or unchecked else [])
    )
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    summary = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}: " + ", ".join(
        f"{n} {sev}" for sev, n in sorted(counts.items(), key=lambda kv: kv[0])
    )
    lines: list[str] = []
    for finding in findings[:MAX_DETAIL_FINDINGS]:
        lines.append(finding.compiler_line())
        lines.extend(finding.trace_lines())
    if len(findings) > MAX_DETAIL_FINDINGS:
        lines.append(f"... and {len(findings) - MAX_DETAIL_FINDINGS} more")
    if unchecked:
        summary += f"; {_not_checked_summary(not_checked)}"
    return _result(status, summary, "\n".join(lines + form + notes + unchecked), report_url)


def _not_checked_summary(items: list) -> str:
    """`3 changed functions not checked (hunks-only)`: what a pass would have hidden."""
    functions = {(item.file, item.function) for item in items}
    reasons = ", ".join(sorted({item.reason for item in items}))
    noun = "changed function" if len(functions) == 1 else "changed functions"
    return f"{len(functions)} {noun} not checked ({reasons})"
