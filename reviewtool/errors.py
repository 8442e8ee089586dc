"""Typed errors raised by library code; only the front ends turn them into exit codes."""


class ReviewtoolError(Exception):
    """Base of every error reviewtool raises on purpose."""


class InputError(ReviewtoolError):
    """Input that cannot be read: a missing path, an unknown format, a broken archive."""


class UsageError(ReviewtoolError):
    """A request that makes no sense: an unknown series, a version that is not there."""


class AnalysisError(ReviewtoolError):
    """An analysis could not run on the input it was given."""
