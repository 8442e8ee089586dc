"""A cover letter's "vA -> vB" changelog checked against what the range-diff really shows.

Each item gets a verdict with evidence (the new patch and the interdiff hunk):
- confirmed: the changed lines bear it out - the identifiers it names appear in them, a
  rename shows the old name gone and the new one present, "rebase" shows rebase hunks, a
  move ("X before releasing mmu_lock") shows X crossing the unlock;
- not-found: nothing in the changed lines matches;
- vague: the item names nothing checkable ("Add comments and apply formatting
  suggestions"); it is matched to the hunks it plausibly covers, if any.
Changed patches that no item covers are listed as undocumented.

Modules, one job each: `claims` (an item read as a claim; verdict types), `vocabulary` (the
words, from vocabulary.toml), `units` (the changed hunks a claim is checked against),
`verify` (the verifiers), `moves` (claims that code moved), `undocumented` (what no item
covers), `attach` (`compare`, the range-diff with its changelog checked).

The names below load their module on first use (PEP 562): `reviewtool diff` on a series whose
cover letter has no changelog step never loads the verifiers.
"""

from __future__ import annotations

from reviewtool.lazy import lazy_exports

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time

if TYPE_CHECKING:
    from reviewtool.analyses.changelog_check.attach import attach_changelog, compare
    from reviewtool.analyses.changelog_check.claims import (
        CONFIRMED,
        NOT_FOUND,
        VAGUE,
        Claim,
        Evidence,
        Undocumented,
        Verdict,
        identifiers_in,
        parse_item,
    )
    from reviewtool.analyses.changelog_check.undocumented import undocumented_changes
    from reviewtool.analyses.changelog_check.verify import verify_changelog, verify_item
    from reviewtool.series.changelog import changelog_step

# Where each exported name lives.
_MODULES = {
    "reviewtool.analyses.changelog_check.attach": ("attach_changelog", "compare"),
    "reviewtool.analyses.changelog_check.claims": (
        "CONFIRMED",
        "NOT_FOUND",
        "VAGUE",
        "Claim",
        "Evidence",
        "Undocumented",
        "Verdict",
        "identifiers_in",
        "parse_item",
    ),
    "reviewtool.analyses.changelog_check.undocumented": ("undocumented_changes",),
    "reviewtool.analyses.changelog_check.verify": ("verify_changelog", "verify_item"),
    "reviewtool.series.changelog": ("changelog_step",),
}
_HOMES = {name: module for module, names in _MODULES.items() for name in names}

__all__ = [
    "CONFIRMED",
    "NOT_FOUND",
    "VAGUE",
    "Claim",
    "Evidence",
    "Undocumented",
    "Verdict",
    "attach_changelog",
    "changelog_step",
    "compare",
    "identifiers_in",
    "parse_item",
    "undocumented_changes",
    "verify_changelog",
    "verify_item",
]


__getattr__ = lazy_exports(__name__, _HOMES, globals())
