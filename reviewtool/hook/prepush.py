"""git's pre-push input, and the commits each pushed ref would send.

git runs the hook as `pre-push REMOTE URL` with one line per ref on stdin:
`<local ref> <local sha> <remote ref> <remote sha>`; an all-zero sha means "no such object":
a zero remote sha is a new branch, a zero local sha a deletion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from reviewtool.errors import InputError
from reviewtool.hook.gitio import git_output, object_type, rev_parse

ZERO_SHA = "0" * 40
# A first push of a whole tree to an empty remote would send its entire history; the hook
# checks the newest commits only, and says so.
MAX_COMMITS = 200
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class PushInputError(InputError):
    """A pre-push input line that is not `<local ref> <local sha> <remote ref> <remote sha>`."""


@dataclass(frozen=True)
class RefUpdate:
    """One line of git's pre-push input."""

    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str

    @property
    def is_delete(self) -> bool:
        """The push deletes the remote ref: nothing is sent."""
        return _is_zero(self.local_sha)

    @property
    def is_new(self) -> bool:
        """The remote has no such ref yet."""
        return _is_zero(self.remote_sha)

    def describe(self) -> str:
        """`local -> remote` for messages."""
        local = self.local_ref.removeprefix("refs/heads/")
        remote = self.remote_ref.removeprefix("refs/heads/")
        return local if local == remote else f"{local} -> {remote}"


@dataclass
class PushRange:
    """The commits one ref update sends, oldest first, and the base they build on."""

    update: RefUpdate
    commits: list[str] = field(default_factory=list)
    # Parent of the oldest pushed commit: what "already there" means for this ref.
    base: str | None = None
    # More commits than MAX_COMMITS: only the newest ones are in `commits`.
    truncated: bool = False


def parse_prepush(text: str) -> list[RefUpdate]:
    """Parse the whole of the hook's stdin; blank lines are ignored."""
    updates = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4 or not (_SHA.fullmatch(fields[1]) and _SHA.fullmatch(fields[3])):
            raise PushInputError(
                f"pre-push input line {number}: expected "
                f"'<local ref> <local sha> <remote ref> <remote sha>', got {line!r}"
            )
        updates.append(RefUpdate(*fields))
    return updates


def updates_for_range(repo: Any, from_ref: str | None, to_ref: str) -> list[RefUpdate]:
    """One update pushing `to_ref` onto `from_ref` (or onto nothing: a new branch).

    For runners that give a range instead of git's input, as the pre-commit framework does
    with PRE_COMMIT_FROM_REF / PRE_COMMIT_TO_REF, and for a developer running the check by hand.
    """
    to_sha = _resolve(repo, to_ref)
    from_sha = _resolve(repo, from_ref) if from_ref and not _is_zero(from_ref) else ZERO_SHA
    return [RefUpdate(to_ref, to_sha, to_ref, from_sha)]


def push_ranges(repo: Any, updates: list[RefUpdate], limit: int = MAX_COMMITS) -> list[PushRange]:
    """The commits each update sends, without merges, oldest first.

    "Sent" means not reachable from the remote's old value of the ref nor from any
    remote-tracking ref: a branch rebased onto a newer upstream pushes only the developer's
    own commits, and a new branch pushes what no remote has seen (`--not --remotes`).
    """
    ranges = []
    for update in updates:
        pushed = PushRange(update)
        ranges.append(pushed)
        if update.is_delete:
            continue
        tip = _peel_to_commit(repo, update.local_sha)
        if tip is None:
            continue  # a tag of a tree or blob: no commits, nothing to check
        exclude = ["--remotes"]
        if not update.is_new and _has_commit(repo, update.remote_sha):
            exclude.insert(0, update.remote_sha)
        # git applies --max-count before --reverse: these are the newest commits, oldest first,
        # each line `sha parents...` (the oldest one's first parent is the base).
        out = git_output(
            repo,
            "rev-list",
            "--reverse",
            "--topo-order",
            "--no-merges",
            "--parents",
            f"--max-count={limit + 1}",
            tip,
            "--not",
            *exclude,
        )
        listed = [line.split() for line in out.splitlines() if line.strip()]
        if len(listed) > limit:
            listed, pushed.truncated = listed[1:], True
        pushed.commits = [ids[0] for ids in listed]
        if listed:
            pushed.base = listed[0][1] if len(listed[0]) > 1 else None
    return ranges


def _resolve(repo: Any, rev: str) -> str:
    sha = rev_parse(repo, rev)
    if sha is None:
        raise PushInputError(f"{rev!r} does not name an object in this repository")
    return sha


def _is_zero(sha: str) -> bool:
    return set(sha) == {"0"}


def _peel_to_commit(repo: Any, sha: str) -> str | None:
    if object_type(repo, sha) is None:
        raise PushInputError(f"pushed object {sha} is not in this repository")
    # A tag of a tree or blob peels to no commit: nothing to check.
    return rev_parse(repo, f"{sha}^{{commit}}")


def _has_commit(repo: Any, sha: str) -> bool:
    # After a fetch-less force push the remote's old tip may be unknown here.
    return object_type(repo, sha) == "commit"
