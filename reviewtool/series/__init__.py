"""Series layer: thread, group versions v1..vN, covers, changelogs, trailers, accounting."""

from reviewtool.series.assemble import Collection, assemble, normalise_title
from reviewtool.series.model import (
    Accounting,
    ChangelogStep,
    Cover,
    Patch,
    Rejected,
    Revision,
    Series,
)
from reviewtool.series.select import (
    Selected,
    select_for_versions,
    select_revisions,
    select_series,
    select_with_versions,
    version_bounds,
)
from reviewtool.series.serialize import to_json

__all__ = [
    "Accounting",
    "ChangelogStep",
    "Collection",
    "Cover",
    "Patch",
    "Rejected",
    "Revision",
    "Selected",
    "Series",
    "assemble",
    "normalise_title",
    "select_for_versions",
    "select_revisions",
    "select_series",
    "select_with_versions",
    "to_json",
    "version_bounds",
]
