"""A finding's status across versions: introduced, persisting or fixed. The one engine.

The review (version after version), the checker (a patch's pre- and post-image), the
per-version comparison and the pre-push hook (the push against its base) all ask the same
question, "is this the same finding as one before?", and answer it here.

Two findings are the same when they have the same identity (`Finding.key()`: rule, file,
function, configuration; a caller may map paths, as the hook does for renames); where a
function holds several of one rule, the ones reached along the same path pair first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import replace

from reviewtool.analyses.findings import Finding

INTRODUCED = "introduced"
PERSISTING = "persisting"
FIXED = "fixed"

_DIGITS_RE = re.compile(r"\d+")

Identity = Callable[[Finding], tuple]


def _key(finding: Finding) -> tuple:
    return finding.key()


def signature(finding: Finding) -> tuple[str, ...]:
    """The path a finding was reached by, without line numbers (they shift between versions)."""
    return tuple(_DIGITS_RE.sub("", step.event) for step in finding.trace)


def pair_findings(
    old: list[Finding],
    new: list[Finding],
    *,
    old_key: Identity = _key,
    new_key: Identity = _key,
) -> tuple[list[Finding | None], list[Finding]]:
    """For each of `new`, the finding of `old` it is the same finding as (None: introduced);
    and the old findings no new one pairs with (fixed), in order. Nothing is changed."""
    old_groups: dict[tuple, list[Finding]] = {}
    for finding in old:
        old_groups.setdefault(old_key(finding), []).append(finding)
    new_signatures: dict[tuple, set[tuple[str, ...]]] = {}
    for finding in new:
        new_signatures.setdefault(new_key(finding), set()).add(signature(finding))
    twins: list[Finding | None] = []
    for finding in new:
        key = new_key(finding)
        group = old_groups.get(key, [])
        mine = signature(finding)
        twin = next((o for o in group if signature(o) == mine), None)
        if twin is None and group:
            # No old finding on the same path: pair with any old one of this identity unless
            # another new finding of it still waits for its own same-path twin.
            if not any(signature(o) in new_signatures[key] for o in group):
                twin = group[0]
        if twin is not None:
            group.remove(twin)
        twins.append(twin)
    return twins, [finding for group in old_groups.values() for finding in group]


def compare_findings(
    old: list[Finding],
    new: list[Finding],
    *,
    old_key: Identity = _key,
    new_key: Identity = _key,
) -> list[Finding]:
    """Mark each finding introduced (only new), persisting (both) or fixed (only old).

    `new` is marked in place and returned first, followed by copies of the old findings no new
    one pairs with, marked fixed. `old_key`/`new_key` give each side's identity (default
    `Finding.key()`).
    """
    twins, unpaired = pair_findings(old, new, old_key=old_key, new_key=new_key)
    for finding, twin in zip(new, twins, strict=True):
        finding.status = INTRODUCED if twin is None else PERSISTING
    fixed = [replace(finding, trace=list(finding.trace), status=FIXED) for finding in unpaired]
    return [*new, *fixed]


def fixed_since(old: list[Finding], new: list[Finding]) -> list[Finding]:
    """Mark `new` introduced or persisting against `old`; return copies of the old ones fixed."""
    return [f for f in compare_findings(old, new) if f.status == FIXED]


def compare_versions(by_version: dict[str, list[Finding]]) -> dict[str, list[Finding]]:
    """Status of each version's findings against the version before it (in dict order): what
    the whole of vN introduces, fixes or keeps compared with vN-1. The first version's
    findings count as introduced."""
    out: dict[str, list[Finding]] = {}
    previous: list[Finding] = []
    for label, findings in by_version.items():
        present = [replace(f, trace=list(f.trace)) for f in findings if f.status != FIXED]
        out[label] = compare_findings(previous, present)
        for finding in out[label]:
            if finding.status == FIXED:
                finding.version = label
        previous = [f for f in out[label] if f.status != FIXED]
    return out


def persisting(old: Iterable[Finding], new: list[Finding], **keys: Identity) -> list[Finding]:
    """The findings of `new` that were already there in `old` (marked in place)."""
    marked = compare_findings(list(old), new, **keys)
    return [f for f in marked[: len(new)] if f.status == PERSISTING]
