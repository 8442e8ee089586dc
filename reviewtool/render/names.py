"""How people are named in text and HTML output (no imports: `reviewtool diff` needs it)."""

from __future__ import annotations


def person_name(value: str) -> str:
    """`David Stevens` from `David Stevens <stevensd@chromium.org>`."""
    text = value.strip()
    start = text.rfind("<")
    if start < 0 or not text.endswith(">"):
        return text.strip('"').strip()
    name = text[:start].strip().strip('"').strip()
    return name or text[start + 1 : -1].strip()
