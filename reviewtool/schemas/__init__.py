"""The JSON contract: one JSON Schema per `--json` document, shipped in the package.

Every document carries `"schema_version"`; every reference to a version is the integer
version, the point number (v7.1 -> 1, else null) and the label (`"v7.1"`), side by side.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

SCHEMA_VERSION = 2
DOCUMENTS = ("series", "diff", "migrate", "check", "report")
LABEL_RE = re.compile(r"^v(?P<version>\d+)(?:\.(?P<point>\d+))?$")


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema of one document (`series`, `diff`, `migrate`, `check`, `report`)."""
    if name not in DOCUMENTS:
        raise KeyError(name)
    import json  # noqa: PLC0415 - as resources
    from importlib import resources  # noqa: PLC0415 - only here: `diff` and `series` start faster

    text = resources.files(__package__).joinpath(f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


def version_fields(label: str | None) -> dict[str, Any]:
    """`"v7.1"` -> `{"version": 7, "point": 1, "label": "v7.1"}`; no label -> nulls and ""."""
    match = LABEL_RE.match(label or "")
    if not match:
        return {"version": None, "point": None, "label": label or ""}
    point = match.group("point")
    return {
        "version": int(match.group("version")),
        "point": int(point) if point is not None else None,
        "label": label,
    }


def with_version_fields(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of a JSON object whose `"version"` label becomes version, point and label."""
    return {**item, **version_fields(item.get("version"))}
