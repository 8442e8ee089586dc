"""Changelog claims checked against the range-diff (placeholder while written)."""


def attach_changelog(comparison, old, new) -> None:
    """Fill comparison.changelog and .undocumented from the new cover's changelog step."""
