"""The JSON format: the Review model as `review.document.review_json` gives it."""

from __future__ import annotations

import json

from reviewtool.review import Review
from reviewtool.review.document import review_json


def render_json(review: Review, indent: int | None = 2) -> str:
    """The review as a JSON document (UTF-8 text, one trailing newline)."""
    return json.dumps(review_json(review), indent=indent, ensure_ascii=False, default=str) + "\n"
