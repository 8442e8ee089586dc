"""The two kinds of work a scan hands out: read one partition, review one group.

Both are plain functions of picklable values, so the same code runs inline, in a process pool
or on a Dask worker. Neither raises for bad mail: a message that cannot be read is returned as
rejected, a group whose review fails is returned with its error, so one bad series never
stops a scan.
"""

from __future__ import annotations

import json
import re
import traceback
from dataclasses import dataclass, field
from datetime import datetime
from hashlib import sha1

from reviewtool.ingest import assemble_raw
from reviewtool.mail.parse import parse_mail
from reviewtool.series import Collection
from reviewtool.series.summary import MessageSummary, summarize
from reviewtool.sources import RawMessage
from reviewtool.sources.spans import (
    PLACE_BLOB,
    PLACE_MBOX,
    Partition,
    Place,
    last_commit,
    read_back,
    read_partition,
)

# File names of per-series outputs: a readable slug of the title and a stable hash.
SLUG_RE = re.compile(r"[^a-z0-9]+")
SLUG_CHARS = 48


@dataclass
class ReadResult:
    """What one partition held: message summaries with their places, rejects, new cursor."""

    partition: Partition
    messages: list[tuple[MessageSummary, Place]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    cursor: str = ""  # mbox: the byte where reading stopped; public-inbox: the last commit
    error: str | None = None


def read_one(part: Partition) -> ReadResult:
    """Decode every message of one partition into index summaries."""
    result = ReadResult(part)
    stop = part.start
    try:
        for placed in read_partition(part):
            where = placed.place.describe()
            if placed.place.kind == PLACE_MBOX:
                stop = max(stop, placed.place.offset + placed.place.length)
            if placed.error:
                result.rejected.append((where, placed.error))
                continue
            try:
                mail = parse_mail(placed.data, where)
            except Exception as exc:  # noqa: BLE001 - mail is untrusted; one message never stops a scan
                result.rejected.append((where, f"could not decode: {type(exc).__name__}: {exc}"))
                continue
            result.messages.append((summarize(mail), placed.place))
        if part.kind == PLACE_MBOX:
            result.cursor = str(stop)
        elif part.kind == PLACE_BLOB:
            result.cursor = last_commit(part)
    except Exception as exc:  # noqa: BLE001 - a broken partition is recorded, the scan goes on
        result.error = f"{type(exc).__name__}: {exc}"
    return result


@dataclass(frozen=True)
class ReviewTask:
    """One group of the index to review: the places of its messages, in index order."""

    group_id: int
    places: tuple[tuple[Place, bytes | None], ...]
    sources: tuple[str, ...]
    generated: str  # ISO time of the scan: every output of one scan carries the same
    html: bool = False


@dataclass
class SeriesOutcome:
    """One reviewed series: its index entry and its rendered outputs."""

    name: str  # file stem under series/
    entry: dict
    json_text: str
    html_text: str | None = None


@dataclass
class ReviewResult:
    """What reviewing one group gave: a series outcome each, or the error that stopped it."""

    group_id: int
    first_message: str
    outcomes: list[SeriesOutcome] = field(default_factory=list)
    error: str | None = None


def review_one(task: ReviewTask) -> ReviewResult:
    """Read a group's messages back from their places and review each series they hold."""
    first = ""
    try:
        raws = []
        for place, data in task.places:
            raws.append(
                RawMessage(data if data is not None else read_back(place), place.describe())
            )
        collection = assemble_raw(raws)
        first = _first_message(collection, task)
        result = ReviewResult(task.group_id, first)
        for series in collection.series:
            if not any(r.patches for r in series.revisions):
                continue  # a thread of replies to something outside the archive
            result.outcomes.append(_review_series(series, collection, task))
        return result
    except Exception as exc:  # noqa: BLE001 - one series' failure is recorded, never the scan's
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ReviewResult(task.group_id, first or first_place(task), error=detail)


def _first_message(collection: Collection, task: ReviewTask) -> str:
    for series in collection.series:
        for revision in series.revisions:
            if revision.cover is not None:
                return revision.cover.message_id
            if revision.patches:
                return revision.patches[0].message_id
    return first_place(task)


def first_place(task: ReviewTask) -> str:
    """Where a group's first message lives: names a group whose review failed early."""
    return task.places[0][0].describe() if task.places else f"group {task.group_id}"


def _review_series(series, collection: Collection, task: ReviewTask) -> SeriesOutcome:
    from reviewtool.render.jsonout import render_json
    from reviewtool.review import build_review

    one = Collection(series=[series], accounting=collection.accounting, notes=collection.notes)
    review = build_review(one, sources=list(task.sources))
    review.generated = datetime.fromisoformat(task.generated)
    json_text = render_json(review)
    html_text = None
    if task.html:
        from reviewtool.render.html import render_html

        html_text = render_html(review)
    anchor = _anchor(series)
    name = f"{_slug(series.title)}-{sha1(anchor.encode()).hexdigest()[:10]}"
    entry = index_entry(json.loads(json_text), name, anchor, task.html)
    return SeriesOutcome(name, entry, json_text, html_text)


def _anchor(series) -> str:
    """The Message-ID that names a series: its first revision's cover or first patch."""
    first = series.revisions[0]
    if first.cover is not None:
        return first.cover.message_id
    return first.patches[0].message_id if first.patches else series.title


def _slug(title: str) -> str:
    return SLUG_RE.sub("-", title.lower()).strip("-")[:SLUG_CHARS].strip("-") or "series"


def index_entry(document: dict, name: str, anchor: str, html: bool) -> dict:
    """One row of the scan index from a series' review JSON (the same contract `report` writes)."""
    series = document["series"][0]
    review = document["reviews"][0] if document["reviews"] else {}
    by_version = {entry["label"]: entry for entry in review.get("findings", [])}
    versions = []
    for revision in series["revisions"]:
        label = revision["label"]
        found = by_version.get(label)
        findings = None
        if found is not None and found["available"]:
            statuses = [f.get("status", "") for f in found["findings"]]
            findings = {
                "introduced": sum(1 for s in statuses if s in ("introduced", "")),
                "persisting": sum(1 for s in statuses if s == "persisting"),
                "fixed": len(found["fixed"]),
            }
        versions.append(
            {
                # One version representation everywhere: integer version, point, label.
                "version": revision["version"],
                "point": revision["point"],
                "label": label,
                "patches": len(revision["patches"]),
                "total": revision["total"],
                "date": (revision["patches"] or [{}])[0].get("date"),
                "findings": findings,
                # Changed functions the checker could not judge whole: a 0 above is not
                # "clean" while this is above 0 (without --repo the checker reads hunks).
                "not_checked": len(found.get("not_checked", [])) if found else None,
                "unavailable": None if found is None or found["available"] else found["reason"],
                "review_replies": sum(p.get("replies", 0) for p in revision["patches"]),
            }
        )
    latest = review.get("latest")
    comments = review.get("review_comments")
    return {
        "name": name,
        "message_id": anchor,
        "title": series["title"],
        "change_id": series.get("change_id"),
        "versions": versions,
        "latest": latest,
        "unreviewed_patches": review.get("unreviewed", []),
        # Review comments on a version that the next one did not answer (None: not followed).
        "open_review_comments": None if comments is None else sum(1 for c in comments if c["open"]),
        "json": f"series/{name}.json",
        "html": f"series/{name}.html" if html else None,
        "error": None,
    }
