"""The map of a whole series: each revision in tree or hunk mode, point revisions applied."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reviewtool.analyses.migration.declarations import old_prototype, static_definitions
from reviewtool.analyses.migration.detect import _diffs, detect_candidates
from reviewtool.analyses.migration.hunk_mode import _map_from_hunks
from reviewtool.analyses.migration.model import Candidate, MigrationMap, RevisionMigration
from reviewtool.analyses.migration.tree_mode import _map_from_tree, _tree_states
from reviewtool.diff.tree import BaseNotFoundError, PatchApplyError
from reviewtool.errors import UsageError
from reviewtool.series.model import Revision
from reviewtool.series.reroll import applied_revision, parent_revision


def map_revision(
    revision: Revision,
    old: str,
    new: str,
    repo: str | Path | None = None,
    base: str | None = None,
    shadowed: dict[str, set[str]] | None = None,
    known_params: tuple[str, ...] = (),
) -> RevisionMigration:
    """The migration map of one revision: from whole files when a tree is at hand, else hunks.

    shadowed maps an API name to the paths known to define a static function of that name
    (see static_definitions); the hunks of this revision are searched when it is not given.
    known_params names the old API's parameters when this revision's hunks do not show its
    prototype (see old_prototype).
    """
    diffs = _diffs(revision)
    # A hunk that does not hold together is skipped by the readers; the map says so.
    notes = [
        f"{revision.label} patch {index}: skipped {problem}"
        for index, parsed, _ in diffs
        for problem in parsed.problems
    ]
    rev = base or revision.base_commit
    if repo is not None and rev:
        try:
            states = _tree_states(repo, rev, diffs, (old, new))
            result = _map_from_tree(revision, old, new, states, known_params)
            result.notes[:0] = notes
            return result
        except PatchApplyError as exc:
            notes.append(f"{revision.label}: {exc}; falling back to the hunks")
        except BaseNotFoundError as exc:
            notes.append(f"{revision.label}: {exc}; falling back to the hunks")
    elif repo is not None:
        notes.append(
            f"{revision.label}: no base-commit in the mail and no --base; using the hunks only"
        )
    result = _map_from_hunks(revision, old, new, diffs, shadowed, known_params)
    result.notes[:0] = notes
    return result


def effective_revision(
    revision: Revision, revisions: Sequence[Revision]
) -> tuple[Revision, str | None]:
    """A point revision (v7.1) stands for its version with some patches rerolled.

    It carries only the rerolled patches; mapped alone it would show one file of the series.
    The patches it does not replace come from the full revision of the same version.
    """
    if revision.point is None:
        return revision, None
    full = parent_revision(revisions, revision)
    if full is None:
        return revision, None
    rerolled = {patch.index for patch in revision.patches}
    kept = sorted(p.index for p in full.patches if p.index not in rerolled)
    note = (
        f"{revision.label} rerolls patch(es) {', '.join(map(str, sorted(rerolled)))} of "
        f"{full.label}: mapped with {full.label}'s other patches ({', '.join(map(str, kept))})"
    )
    stand_in = applied_revision(full, revision)
    return stand_in, note


def build_map(
    revisions: Sequence[Revision],
    old: str | None = None,
    new: str | None = None,
    repo: str | Path | None = None,
    base: str | None = None,
) -> MigrationMap:
    """The map across revisions; without old/new, the best detected candidate is used."""
    if (old is None) != (new is None):
        raise UsageError("give both --old and --new, or neither to detect them")
    candidates: list[Candidate] = []
    if old is None or new is None:
        candidates = detect_candidates(revisions)
        usable = [c for c in candidates if c.new is not None]
        if not usable:
            raise UsageError("no replaced API found in the patches; name it with --old and --new")
        old, new = usable[0].old, usable[0].new
    assert old is not None and new is not None
    result = MigrationMap(old, new, candidates=candidates)
    shadowed = {name: static_definitions(revisions, name) for name in (old, new)}
    params = old_prototype(revisions, old)
    for revision in revisions:
        effective, note = effective_revision(revision, revisions)
        mapped = map_revision(effective, old, new, repo, base, shadowed, params)
        if note:
            mapped.notes.insert(0, note)
        result.revisions.append(mapped)
    return result
