"""The review's one JSON document: each part of the model as its `to_json` gives it, and each
series' verdict, which is made from the model and so is joined to it here, above both."""

from __future__ import annotations

from reviewtool.review.model import Review, SeriesReview, migration_json
from reviewtool.review.verdict import series_verdict
from reviewtool.schemas import version_fields
from reviewtool.series import Collection, to_json


def series_review_json(sr: SeriesReview) -> dict[str, object]:
    """One series' analyses and verdict (the series model itself is listed apart)."""
    latest = sr.latest
    return {
        "series": sr.index,
        "title": sr.series.title,
        "latest": version_fields(latest.label) if latest else None,
        "latest_patches_read": len(latest.patches) if latest else 0,
        "unreviewed": [patch.index for patch in sr.unreviewed_patches()],
        "comparisons": [comparison.to_json() for comparison in sr.comparisons],
        "migration": migration_json(sr.migration) if sr.migration is not None else None,
        "findings": [entry.to_json() for entry in sr.findings],
        "review_comments": [comment.to_json() for comment in sr.review_comments],
        "verdict": series_verdict(sr).to_json(),
        "analyses": [note.to_json() for note in sr.notes],
    }


def review_json(review: Review) -> dict[str, object]:
    """The JSON format; `series` and `accounting` exactly as `reviewtool series --json`."""
    collection = review.collection or Collection(list(review.all_series), review.accounting)
    series_doc = to_json(collection)
    return {
        "schema_version": series_doc["schema_version"],
        "tool": {"name": "reviewtool", "version": review.tool_version},
        "generated": review.generated.isoformat(timespec="seconds"),
        "sources": list(review.sources),
        "repo": review.repo,
        "archive_url": review.archive_url,
        "series": series_doc["series"],
        "accounting": series_doc["accounting"],
        "reviews": [series_review_json(sr) for sr in review.series_reviews],
        "analyses": [note.to_json() for note in review.notes],
    }
