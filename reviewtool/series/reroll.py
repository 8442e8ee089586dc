"""Point revisions (`[PATCH v7.1 4/8]`): a reroll of a few patches stands for its version
with those patches replaced, because that is the series a maintainer would apply.

Every analysis that meets a point revision reads it through these functions, so that the
comparison, the migration map and the checker agree on what v7.1 is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reviewtool.series.model import Revision


def parent_revision(revisions: Sequence[Revision], point: Revision) -> Revision | None:
    """The revision a point revision rerolls: the latest full revision of its version sent
    before it, else the revision just before it (a v7.1 whose v7 was never seen rerolls what
    the reader last had), else None. The one rule for every reader of point revisions."""
    position = next((k for k, r in enumerate(revisions) if r is point), len(revisions))
    before = list(revisions[:position])
    same = [r for r in before if r.version == point.version and r.point is None]
    if same:
        return same[-1]
    return before[-1] if before else None


def applied_revision(parent: Revision, point: Revision) -> Revision:
    """The parent with the point revision's patches in place of the ones they reroll."""
    replaced = {patch.index: patch for patch in point.patches}
    patches = [replaced.pop(patch.index, patch) for patch in parent.patches]
    patches += sorted(replaced.values(), key=lambda p: p.index)  # beyond the parent's end
    return Revision(
        version=point.version,
        point=point.point,
        cover=point.cover or parent.cover,
        total=parent.total,
        patches=patches,
        missing=[i for i in parent.missing if i not in {p.index for p in patches}],
        flags=point.flags,
        replaces=sorted(p.index for p in point.patches),
        changelog=list(point.changelog),
        notes=[
            f"{point.label} rerolls {', '.join(str(p.index) for p in point.patches)} "
            f"of {parent.label}"
        ],
    )


def applied_revisions(revisions: Sequence[Revision]) -> list[Revision]:
    """Every revision as applied: point revisions expanded over the revision they reroll
    (the latest full one of their version, else the one before them)."""
    out: list[Revision] = []
    for revision in revisions:
        if revision.point is None:
            out.append(revision)
            continue
        parent = parent_revision(out, revision)
        out.append(revision if parent is None else applied_revision(parent, revision))
    return out


def rerolled_part(parent: Revision, point: Revision) -> Revision:
    """The parent's patches that a point revision rerolls, as a revision of their own."""
    indices = set(point.replaces) or {p.index for p in point.patches}
    return replace(parent, patches=[p for p in parent.patches if p.index in indices])
