"""Findings of each revision: the checker run per revision, folded and marked across versions."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace

from reviewtool.analyses.findings import Finding, NotChecked
from reviewtool.analyses.spec.revision import RevisionCheck
from reviewtool.analyses.status import fixed_since
from reviewtool.errors import ReviewtoolError
from reviewtool.review.model import FindingKey, RevisionFindings
from reviewtool.series.model import Revision

# The checker's entry point: a RevisionCheck (findings and what it covered), or a plain list of
# findings from a checker that says nothing of coverage (then nothing counts as checked whole).
CheckFn = Callable[..., RevisionCheck | list[Finding]]


def as_check(result: RevisionCheck | list[Finding] | None) -> RevisionCheck:
    """The checker's answer as a RevisionCheck, whatever form the entry point gave."""
    if isinstance(result, RevisionCheck):
        return result
    return RevisionCheck(findings=list(result or []))


def revision_findings(
    revision: Revision, result: RevisionCheck, previous: list[Finding] | None
) -> RevisionFindings:
    """One revision's findings from the checker's per-patch result, marked against the last
    revision that could be checked (or against the base tree for the first one)."""
    label = revision.label
    found, fixed_from_base, in_base = net_findings(result.findings)
    for finding in found + fixed_from_base:
        finding.version = finding.version or label
    entry = RevisionFindings(
        label,
        findings=found,
        in_base=in_base,
        checked=list(result.checked),
        not_checked=latest_not_checked(result.not_checked),
    )
    if previous is not None:
        entry.fixed = fixed_since(previous, found)
    else:
        for finding in found:
            finding.status = "persisting" if finding.key() in in_base else "introduced"
        entry.fixed = fixed_from_base
    return entry


def latest_not_checked(items: list[NotChecked]) -> list[NotChecked]:
    """One entry per function and reason: the one of the last patch that touched it."""
    latest: dict[tuple[str, str, str], NotChecked] = {}
    for item in sorted(items, key=lambda n: n.patch_index or 0):
        latest.pop(item.key(), None)
        latest[item.key()] = item
    return sorted(latest.values(), key=lambda n: (n.patch_index or 0, n.file, n.function))


def check_by_patch(
    check: CheckFn, revision: Revision, cache: dict[str, RevisionCheck]
) -> RevisionCheck:
    """check() one patch at a time, reusing the findings of a patch whose diff an earlier
    version already carried.

    Without a tree the checker sees only what each patch's hunks show, so a patch's findings
    depend on its diff alone; most patches of v(N+1) repeat v(N)'s diff unchanged, and
    checking them once is what keeps a v1..v8 report within its time budget.
    """
    out = RevisionCheck()
    for patch in revision.patches:
        key = hashlib.sha1(patch.diff.encode("utf-8", "replace")).hexdigest()
        if key not in cache:
            alone = Revision(
                version=revision.version,
                point=revision.point,
                total=revision.total,
                patches=[patch],
            )
            cache[key] = as_check(check(alone))
        alone_result = cache[key]
        for finding in alone_result.findings:
            out.findings.append(
                replace(
                    finding,
                    trace=list(finding.trace),
                    version=revision.label,
                    patch_index=patch.index,
                )
            )
        out.checked += [(patch.index, path, name) for _, path, name in alone_result.checked]
        out.not_checked += [
            replace(item, version=revision.label, patch_index=patch.index)
            for item in alone_result.not_checked
        ]
    return out


def net_findings(
    per_patch: list[Finding],
) -> tuple[list[Finding], list[Finding], set[FindingKey]]:
    """What a revision holds once all its patches are applied.

    The checker reports per patch (status against the code before that patch): a leak that
    patch 4 introduces and patch 5 still shows is one finding, and one that patch 6 fixes is
    gone. Returns the findings present after the last patch (the latest sighting of each, so
    its patch shows its lines), those fixed of what the base already had, and the keys of
    findings already in the base (not the series' doing).
    """
    present: dict[FindingKey, Finding] = {}
    fixed: dict[FindingKey, Finding] = {}
    introduced: set[FindingKey] = set()
    seen_before: set[FindingKey] = set()
    ordered = sorted(per_patch, key=lambda f: f.patch_index or 0)
    for finding in ordered:
        key = finding.key()
        if finding.status == "fixed":
            present.pop(key, None)
            if key not in introduced:
                fixed[key] = finding
            continue
        if finding.status in ("introduced", ""):  # no status: judged on the revision as a whole
            introduced.add(key)
        elif key not in introduced:
            seen_before.add(key)  # "persisting" on first sight: it was there before the series
        fixed.pop(key, None)
        present[key] = finding
    in_base = {key for key in seen_before if key not in introduced}
    return list(present.values()), list(fixed.values()), in_base


def file_sources(
    repo: str, revision: Revision, findings: list[Finding]
) -> dict[tuple[int, str], str]:
    """The text of each file a finding points into, as the finding's patch left it.

    With a tree the checker reads whole files, so a finding may sit on a line no hunk shows;
    the report still wants to show the code there. A revision that does not apply (the
    checker has said so already) gets no sources and its excerpts fall back to the hunks.
    """
    from reviewtool.diff.tree import apply_series  # git is needed only with a tree

    patches = sorted(revision.patches, key=lambda p: p.index)
    wanted = {(f.patch_index or 0, f.file) for f in findings}
    try:
        applied, final = apply_series(
            repo, revision.base_commit or "", [p.diff for p in patches], {f for _, f in wanted}
        )
    except ReviewtoolError:
        return {}
    out: dict[tuple[int, str], str] = {}
    for index, path in wanted:
        text = final.get(path)
        touched = [s for s in applied if path in s.files]
        before = [s for s in touched if s.index <= index] if index else touched
        if before:
            text = before[-1].files[path].after
        elif touched:  # first touched after the finding's patch: it was as in the base
            text = touched[0].files[path].before
        if text is not None:
            out[(index, path)] = text
    return out
