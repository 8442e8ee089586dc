"""The series model as JSON: the stable `reviewtool series --json` document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from reviewtool.schemas import SCHEMA_VERSION, version_fields
from reviewtool.series.model import (
    Accounting,
    ChangelogStep,
    IgnoredTrailer,
    Patch,
    Revision,
    Series,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from typing import Any

    from reviewtool.series.assemble import Collection


def to_json(collection: Collection) -> dict[str, Any]:
    """The whole collection: series with revisions and patches, and the accounting."""
    return {
        "schema_version": SCHEMA_VERSION,
        "series": [series_json(s) for s in collection.series],
        "accounting": accounting_json(collection.accounting),
        "notes": list(collection.notes),
    }


def iter_json_text(collection: Collection) -> Iterator[str]:
    """`to_json` as indented JSON text, one series at a time: an archive's document is never
    held whole in memory (same document as json.dumps(to_json(collection), indent=2))."""
    import json  # noqa: PLC0415 - only `series --json` writes it: other commands never load it

    def dumped(value: Any, indent: str) -> str:
        text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        return text.replace("\n", "\n" + indent)

    yield f'{{\n  "schema_version": {SCHEMA_VERSION},\n  "series": ['
    for number, series in enumerate(collection.series):
        yield ("," if number else "") + "\n    " + dumped(series_json(series), "    ")
    yield ("\n  ]" if collection.series else "]") + ",\n"
    yield f'  "accounting": {dumped(accounting_json(collection.accounting), "  ")},\n'
    yield f'  "notes": {dumped(list(collection.notes), "  ")}\n}}\n'


def series_json(series: Series) -> dict[str, Any]:
    """One series."""
    return {
        "title": series.title,
        "change_id": series.change_id,
        "linked_by": series.linked_by,
        "revisions": [revision_json(r) for r in series.revisions],
    }


def revision_json(revision: Revision) -> dict[str, Any]:
    """One revision."""
    cover = None
    if revision.cover is not None:
        mail = revision.cover.mail
        cover = {
            "message_id": mail.message_id,
            "subject": mail.subject,
            "date": _date(mail.date),
            "author": mail.author,
            "changelog": changelog_json(revision.cover.changelog),
            "base_commit": mail.base_commit,
        }
    return {
        "version": revision.version,
        "point": revision.point,
        "label": revision.label,
        "partial": revision.partial,
        "flags": sorted(revision.flags),
        "cover": cover,
        "changelog": changelog_json(revision.changelog),
        "base_commit": revision.base_commit,
        "total": revision.total,
        "patches": [patch_json(p) for p in revision.patches],
        "missing": list(revision.missing),
        "missing_ranges": [list(run) for run in revision.missing_ranges],
        "duplicates": list(revision.duplicates),
        "replaces": list(revision.replaces),
        "stitched": revision.stitched,
        "cover_trailers": [_trailer(t) for t in revision.cover_trailers],
        "ignored_cover_trailers": [_ignored(i) for i in revision.ignored_cover_trailers],
        "notes": list(revision.notes),
    }


def changelog_json(steps: list[ChangelogStep]) -> list[dict[str, Any]]:
    """Changelog steps as `{"from", "to", "items"}`."""
    return [{"from": s.from_version, "to": s.to_version, "items": list(s.items)} for s in steps]


def patch_json(patch: Patch) -> dict[str, Any]:
    """One patch."""
    return {
        "index": patch.index,
        "total": patch.total,
        "title": patch.title,
        "subject": patch.mail.subject,
        "message_id": patch.message_id,
        "author": patch.author,
        "date": _date(patch.date),
        "files": patch.files,
        "trailers": [{"name": t.name, "value": t.value} for t in patch.trailers],
        "review_trailers": [_trailer(t) for t in patch.review_trailers],
        "replies": patch.replies,
        "ignored_trailers": [_ignored(i) for i in patch.ignored_trailers],
        "patch_id": patch.patch_id,
        "unchanged_from": version_fields(patch.unchanged_from) if patch.unchanged_from else None,
        "carried_over_changed": [_trailer(t) for t in patch.carried_over_changed],
        "warnings": list(patch.mail.warnings),
    }


def accounting_json(accounting: Accounting) -> dict[str, Any]:
    """read = cover + patch + reply + other + len(rejected)."""
    return {
        "read": accounting.read,
        "cover": accounting.cover,
        "patch": accounting.patch,
        "reply": accounting.reply,
        "other": accounting.other,
        "rejected": [{"source": r.source, "reason": r.reason} for r in accounting.rejected],
    }


def _trailer(trailer) -> dict[str, str]:
    return {"name": trailer.name, "value": trailer.value, "message_id": trailer.message_id}


def _ignored(ignored: IgnoredTrailer) -> dict[str, str]:
    return {**_trailer(ignored.trailer), "sender": ignored.sender}


def _date(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
