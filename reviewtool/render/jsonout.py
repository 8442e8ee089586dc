"""The JSON format: the Review model as `Review.to_json()` gives it."""

from __future__ import annotations

import json

from reviewtool.review import Review


def render_json(review: Review, indent: int | None = 2) -> str:
    """The review as a JSON document (UTF-8 text, one trailing newline)."""
    return json.dumps(review.to_json(), indent=indent, ensure_ascii=False, default=str) + "\n"
