"""`reviewtool check` as text: compiler-style findings with their traces, then coverage."""

from __future__ import annotations

from reviewtool.analyses.findings import Finding, NotChecked


def format_finding(finding: Finding) -> str:
    """The compiler line of one finding, the function, and its trace (ends with a newline)."""
    where = f" [{finding.version} {finding.patch_index}]" if finding.version else ""
    status = f" ({finding.status})" if finding.status else ""
    config = f" [{finding.config}]" if finding.config else ""
    partial = " [partial: function not fully visible]" if finding.partial else ""
    lines = [f"{finding.compiler_line()}{config}{status}{where}{partial}"]
    lines.append(f"    in {finding.function}():")
    lines += finding.trace_lines()
    for hunk in finding.hunks:  # a finding from hunks names the hunks it rests on
        patch = f"patch {hunk.patch_index}: " if hunk.patch_index else ""
        lines.append(f"    evidence: {patch}{hunk.file} {hunk.header}")
    return "\n".join(lines) + "\n"


def reasons(items: list[NotChecked]) -> str:
    """`hunks only 3, no tree 1`: how many functions were not checked, by reason."""
    counts: dict[str, int] = {}
    for item in items:
        counts[item.reason] = counts.get(item.reason, 0) + 1
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items()))


def format_coverage(
    checked: int,
    not_checked: list[NotChecked],
    summarised: list[tuple[str, int, list[NotChecked]]],
) -> str:
    """Every function not checked (latest revision), then one line of what was covered."""
    out: list[str] = []
    for item in not_checked:
        where = f" [{item.version} {item.patch_index}]" if item.version else ""
        out.append(f"{item.text()}{where}")
    for label, count, items in summarised:
        out.append(
            f"{label}: {count} function(s) checked whole, {len(items)} not checked "
            f"({reasons(items)}); --json lists them"
        )
    everything = not_checked + [i for _, _, items in summarised for i in items]
    if not everything:
        out.append(f"checked {checked} function(s) whole; nothing left unchecked")
        return "\n".join(out) + "\n"
    verdict = (
        "NOTHING was checked whole: silence here is not an all-clear"
        if not checked
        else "what was found covers what was checked; this is not an all-clear for the rest"
    )
    out.append(
        f"checked {checked} function(s) whole; {len(everything)} not checked "
        f"({reasons(everything)}): {verdict}"
    )
    return "\n".join(out) + "\n"
