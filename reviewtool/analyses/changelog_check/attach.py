"""The range-diff with the new cover letter's changelog step checked against it."""

from __future__ import annotations

from reviewtool.analyses.rangediff import DEFAULT_CREATION_FACTOR, Comparison
from reviewtool.analyses.rangediff import compare as rangediff_compare
from reviewtool.series.changelog import changelog_step
from reviewtool.series.model import Revision


def attach_changelog(comparison: Comparison, old: Revision, new: Revision) -> None:
    """Fill comparison.changelog and .undocumented from the new cover's changelog step."""
    step = changelog_step(old, new)
    if step is None:
        return
    # The verifiers, their vocabulary and their patterns load only for a cover letter that
    # has a changelog step: a short `reviewtool diff` of a series without one never needs them.
    from reviewtool.analyses.changelog_check.undocumented import (  # noqa: PLC0415 - see above
        undocumented_changes,
    )
    from reviewtool.analyses.changelog_check.verify import (  # noqa: PLC0415 - see above
        verify_changelog,
    )

    comparison.changelog = verify_changelog(comparison, step)
    comparison.undocumented = undocumented_changes(comparison, comparison.changelog)


def compare(
    old: Revision, new: Revision, creation_factor: float = DEFAULT_CREATION_FACTOR
) -> Comparison:
    """The range-diff of two revisions with the new cover letter's changelog step checked
    against it (Comparison.changelog, .undocumented): what every door shows a reader."""
    comparison = rangediff_compare(old, new, creation_factor)
    attach_changelog(comparison, old, new)
    return comparison
