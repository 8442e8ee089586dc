"""Pick a series or revisions by what a user types: an index, part of a title, a change-id."""

from __future__ import annotations

from dataclasses import dataclass

from reviewtool.errors import UsageError
from reviewtool.series.model import Revision, Series
from reviewtool.series.reroll import applied_revisions, parent_revision

# Candidates an ambiguity error names before "and N more".
MAX_LISTED = 8


def select_series(series: list[Series], selector: str | None) -> list[Series]:
    """Series matching a 1-based index, a change-id or a title substring; all when None."""
    if not selector:
        return list(series)
    if selector.isdigit():
        number = int(selector)
        if 1 <= number <= len(series):
            return [series[number - 1]]
        raise UsageError(f"--series {selector}: there are {len(series)} series (1..{len(series)})")
    wanted = selector.lower()
    found = [s for s in series if s.change_id == selector or wanted in s.title.lower()]
    if not found:
        titles = "; ".join(s.title for s in series[:5]) or "none"
        raise UsageError(f"--series {selector!r} matches no series (found: {titles})")
    return found


def select_for_versions(
    all_series: list[Series], selector: str | None, versions: list[str | None]
) -> list[Series]:
    """The series the selector picks that have every version asked for (`7`, `v7.1`).

    With versions asked, exactly one series must have them all: none or several is a
    UsageError that lists the candidates, each with the `--series N` that picks it."""
    chosen = select_series(all_series, selector)
    wanted = list(dict.fromkeys(str(v) for v in versions if v))
    if not wanted:
        return chosen
    position = {id(s): n for n, s in enumerate(all_series, 1)}

    def listed(group: list[Series]) -> str:
        shown = [
            f"--series {position[id(s)]} {s.title!r} ({', '.join(r.label for r in s.revisions)})"
            for s in group[:MAX_LISTED]
        ]
        more = f"; and {len(group) - MAX_LISTED} more" if len(group) > MAX_LISTED else ""
        return "; ".join(shown) + more

    asked = " and ".join(f"v{v.lower().lstrip('v')}" for v in wanted)
    having = [s for s in chosen if all(s.revision(v) is not None for v in wanted)]
    if not having:
        raise UsageError(f"no version {asked} in any series: {listed(chosen)}")
    if len(having) > 1:
        raise UsageError(
            f"{len(having)} series have {asked}; choose one with --series: {listed(having)}"
        )
    return having


def select_revisions(series: Series, start: str | None, end: str | None) -> list[Revision]:
    """The revisions from `start` to `end` (labels like 7, v7, v5.1), both inclusive."""
    revisions = series.revisions
    lo, hi = 0, len(revisions) - 1
    for label, is_start in ((start, True), (end, False)):
        if label is None:
            continue
        revision = series.revision(label)
        if revision is None:
            have = ", ".join(r.label for r in revisions)
            raise UsageError(f"{series.title!r} has no revision {label} (has {have})")
        position = revisions.index(revision)
        if is_start:
            lo = position
        else:
            hi = position
    if lo > hi:
        raise UsageError(f"--from {start} comes after --to {end}")
    return revisions[lo : hi + 1]


@dataclass
class Selected:
    """One series chosen by `--series` and the versions asked for (`--from/--to/--version`)."""

    number: int  # 1-based position in the input: the `--series N` that picks it
    series: Series  # every revision read
    revisions: list[Revision]  # the revisions asked for, as posted, oldest first

    @property
    def whole(self) -> bool:
        """True when no version bound cut the series."""
        return len(self.revisions) == len(self.series.revisions)

    @property
    def cut(self) -> Series:
        """The series with only the revisions asked for (the whole series when uncut)."""
        if self.whole:
            return self.series
        return Series(
            title=self.series.title,
            change_id=self.series.change_id,
            revisions=list(self.revisions),
            linked_by=self.series.linked_by,
        )

    @property
    def context(self) -> list[Revision]:
        """The revisions asked for, preceded by the one a leading point revision rerolls:
        what a reader that applies point revisions itself needs (v7.1 alone is not v7.1)."""
        first = self.revisions[0] if self.revisions else None
        if first is None or first.point is None:
            return list(self.revisions)
        parent = parent_revision(self.series.revisions, first)
        return ([parent] if parent is not None else []) + list(self.revisions)

    def applied(self) -> list[Revision]:
        """The revisions asked for that carry patches, point revisions applied over their
        parent even when the parent is outside the range."""
        full = [r for r in self.series.revisions if r.patches]
        by_id = dict(zip(map(id, full), applied_revisions(full), strict=True))
        return [by_id[id(r)] for r in self.revisions if r.patches]


def version_bounds(
    version: str | None, start: str | None, end: str | None
) -> tuple[str | None, str | None]:
    """`--version N` is `--from N --to N`; it cannot be combined with either."""
    if version and (start or end):
        raise UsageError("give --version, or --from/--to, not both")
    return (version, version) if version else (start, end)


def select_with_versions(
    all_series: list[Series], selector: str | None, start: str | None, end: str | None
) -> list[Selected]:
    """The series the selector picks that have the versions asked for, each cut to the
    range `start`..`end` (either open). The choice is `select_for_versions`' (exit 2 with
    every candidate's `--series N` when several series have the versions)."""
    chosen = select_for_versions(all_series, selector, [start, end])
    position = {id(s): n for n, s in enumerate(all_series, 1)}
    if not start and not end:
        return [Selected(position[id(s)], s, list(s.revisions)) for s in chosen]
    return [Selected(position[id(s)], s, select_revisions(s, start, end)) for s in chosen]
