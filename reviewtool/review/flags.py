"""What a patch's history says about its review: the same change as in the version before
(b4's `git patch-id --stable` rule, so its trailers carry over), or review trailers the author
carried into a patch whose code changed. One list of flags that every renderer shows."""

from __future__ import annotations

from dataclasses import dataclass

from reviewtool.series.model import REVIEWED_TRAILERS, Patch, reviewers

UNCHANGED = "unchanged"
CARRIED_OVER_CHANGED = "carried-over-changed"


@dataclass(frozen=True)
class PatchFlag:
    """One statement about a patch across versions, as plain text (renderers escape it)."""

    kind: str  # UNCHANGED or CARRIED_OVER_CHANGED
    text: str  # the short statement: `unchanged since v7`
    detail: str  # what it rests on, for a tooltip or a second line


def patch_flags(patch: Patch) -> list[PatchFlag]:
    """The flags of one patch: unchanged since version N, and each review trailer carried
    over although the code changed ("Reviewed-by carried over a changed patch")."""
    flags: list[PatchFlag] = []
    if patch.unchanged_from:
        flags.append(
            PatchFlag(
                UNCHANGED,
                f"unchanged since {patch.unchanged_from}",
                f"same git patch-id --stable as in {patch.unchanged_from}: "
                "its review trailers carry over",
            )
        )
    for trailer in patch.carried_over_changed:
        flags.append(
            PatchFlag(
                CARRIED_OVER_CHANGED,
                f"{trailer.name} carried over a changed patch",
                f"{trailer.name}: {trailer.value} was given on the previous version; "
                "this patch's code changed since",
            )
        )
    return flags


def fresh_reviewers(patch: Patch) -> list[str]:
    """People whose Reviewed-by or Acked-by is about this patch's code: given in a reply to it,
    or in its own trailers unless carried over from the previous version although the code
    changed since (such a review was of other code)."""
    names: list[str] = []
    own = [t for t in patch.trailers if t not in patch.carried_over_changed]
    for trailer in [*own, *patch.review_trailers]:
        if trailer.name in REVIEWED_TRAILERS and trailer.value not in names:
            names.append(trailer.value)
    return names


def stale_review(patch: Patch) -> bool:
    """True when the patch has a Reviewed-by or Acked-by, but every one of them was carried
    over a changed patch: nobody vouched for the code as it is now."""
    return bool(reviewers(patch)) and not fresh_reviewers(patch)
