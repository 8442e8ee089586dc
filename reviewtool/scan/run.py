"""`scan`: index archives into the series index, review the series found, write the index.

Three steps, each bounded: (1) partitions of each archive are read (here, in processes or on
Dask workers) into message summaries that the driver adds to the SQLite series index; (2)
the index picks the groups to review (only those touching given names, sent since a date,
changed since they were last reviewed); (3) each group is reviewed by the same core as
`report` and its outputs are written as they come back. Only the index and a few results in
flight are ever held; a re-run reads only what the archives gained.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from reviewtool.errors import InputError
from reviewtool.scan.executors import make_executor
from reviewtool.scan.output import write_index, write_text
from reviewtool.scan.results import ScanResults
from reviewtool.scan.work import ReviewResult, ReviewTask, first_place, read_one, review_one
from reviewtool.series.index import SeriesIndex
from reviewtool.sources import spans

INDEX_FILE = "index.sqlite"
SERIES_DIR = "series"

Progress = Callable[..., None]


@dataclass
class ScanOptions:
    """What `reviewtool scan` was asked to do."""

    archives: Sequence[str]
    out: Path
    touching: Sequence[str] = ()
    since: float | None = None
    jobs: int = 1
    scheduler: str | None = None
    html: bool = False
    partition_bytes: int = spans.MBOX_PARTITION_BYTES


@dataclass
class ScanSummary:
    """What a scan did: messages read and added, series reviewed and failed."""

    read: int = 0
    added: int = 0
    copies: int = 0
    rejected: int = 0
    groups: int = 0
    reviewed: int = 0
    reused: int = 0
    series: int = 0
    failed: int = 0
    notes: list[str] = field(default_factory=list)


def scan(options: ScanOptions, progress: Progress | None = None) -> ScanSummary:
    """Run a whole scan; returns its summary (the index files are written under `out`)."""
    out = options.out
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a directory")
    index = SeriesIndex(out / INDEX_FILE)
    results = ScanResults(index.db)
    executor = make_executor(options.jobs, options.scheduler)
    summary = ScanSummary()
    tick = progress or (lambda *a, **k: None)
    try:
        generation = index.begin_generation()
        _read(options, index, executor, summary, tick)
        groups = index.groups(touching=options.touching, since=options.since)
        summary.groups = len(groups)
        generated = datetime.now(UTC).isoformat(timespec="seconds")
        todo = []
        for group in groups:
            if results.fresh(group.group_id, group.changed, options.html):
                summary.reused += 1
            else:
                todo.append(group.group_id)
        tasks = _tasks(index, todo, options, generated)
        done = 0
        for task, result, error in executor.map(review_one, tasks):
            done += 1
            tick(done, total=len(todo), what="reviewing")
            if result is None:  # the worker itself was lost: the group is recorded as failed
                result = ReviewResult(task.group_id, first_place(task))
            _store(result, error, out, results, generation, summary)
        entries = results.entries([g.group_id for g in groups])
        summary.series = sum(1 for e in entries if e.get("error") is None)
        summary.failed = sum(1 for e in entries if e.get("error") is not None)
        write_index(out, entries, index.counts(), index.rejected(), options, generated)
    finally:
        executor.close()
        index.close()
    return summary


def _read(options, index: SeriesIndex, executor, summary: ScanSummary, tick: Progress) -> None:
    cursors = index.cursors()
    partitions = []
    for path in options.archives:
        partitions.extend(spans.plan(path, cursors, options.partition_bytes))
    for number, (part, result, error) in enumerate(executor.map(read_one, partitions), 1):
        tick(number, total=len(partitions), what="reading")
        if error or result is None or result.error:
            reason = error or (result.error if result else "no result")
            index.reject(part.describe(), f"partition not read: {reason}")
            summary.rejected += 1
            summary.notes.append(f"{part.describe()}: {reason}")
            continue
        with index.transaction():
            for summary_row, place in result.messages:
                summary.read += 1
                if index.add(summary_row, place):
                    summary.added += 1
                else:
                    summary.copies += 1
            for where, reason in result.rejected:
                summary.read += 1
                summary.rejected += 1
                index.reject(where, reason)
            # The cursor moves with the messages it passes: one transaction.
            if result.cursor and _last_of_source(part, partitions):
                index.set_cursor(part.source, result.cursor)


def _last_of_source(part: spans.Partition, partitions: list[spans.Partition]) -> bool:
    """Only the last partition of a source moves its cursor (earlier ones end mid-file)."""
    later = [p for p in partitions if p.source == part.source]
    return later[-1] is part


def _tasks(
    index: SeriesIndex, group_ids: list[int], options: ScanOptions, generated: str
) -> Iterator[ReviewTask]:
    sources = tuple(os.fspath(p) for p in options.archives)
    for group_id in group_ids:
        members = index.members(group_id)
        yield ReviewTask(
            group_id,
            tuple((m.place, m.data) for m in members),
            sources,
            generated,
            options.html,
        )


def _store(
    result: ReviewResult,
    error: str | None,
    out: Path,
    results: ScanResults,
    generation: int,
    summary: ScanSummary,
) -> None:
    if error or result.error:
        entry = {
            "name": None,
            "message_id": result.first_message,
            "title": None,
            "versions": [],
            "error": error or result.error,
        }
        results.save(result.group_id, generation, [entry], html=False)
        return
    entries = []
    for outcome in result.outcomes:
        write_text(out / SERIES_DIR / f"{outcome.name}.json", outcome.json_text)
        if outcome.html_text is not None:
            write_text(out / SERIES_DIR / f"{outcome.name}.html", outcome.html_text)
        entries.append(outcome.entry)
    summary.reviewed += 1
    results.save(result.group_id, generation, entries, html=any(e.get("html") for e in entries))


def read_index(out: Path) -> dict:
    """The scan index JSON written by an earlier scan."""
    with open(out / "index.json", encoding="utf-8") as fh:
        return json.load(fh)
