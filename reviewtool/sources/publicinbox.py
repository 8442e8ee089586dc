"""public-inbox v2 reader: each commit of an epoch repository adds one message, file `m`."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from reviewtool.sources.raw import RawMessage

# v2 inboxes keep their epochs as git/0.git, git/1.git, ...
EPOCH_NAME_RE = re.compile(r"^(\d+)\.git$")
MESSAGE_BLOB = "m"


def is_git_repo(path: str) -> bool:
    """A bare repository (HEAD + objects/) or a work tree with .git."""
    if os.path.isdir(os.path.join(path, ".git")):
        return True
    return os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(
        os.path.join(path, "objects")
    )


def epoch_repos(path: str) -> list[str]:
    """The epoch repositories of a v2 inbox directory, oldest first, or [path] for one epoch."""
    git_dir = os.path.join(path, "git")
    if os.path.isdir(git_dir):
        epochs = []
        for name in os.listdir(git_dir):
            match = EPOCH_NAME_RE.match(name)
            if match:
                epochs.append((int(match.group(1)), os.path.join(git_dir, name)))
        return [p for _, p in sorted(epochs)]
    return [path]


def is_public_inbox(path: str) -> bool:
    """A v2 inbox directory (git/N.git) or one epoch repository."""
    return bool(
        os.path.isdir(path) and (os.path.isdir(os.path.join(path, "git")) or is_git_repo(path))
    )


def iter_public_inbox(path: str, since: str | None = None) -> Iterator[RawMessage]:
    """Yield the message of every commit, oldest first; `since` skips commits up to that one."""
    import git  # GitPython; imported here so mail-only use never pays for it

    for epoch in epoch_repos(path):
        repo = git.Repo(epoch)
        try:
            if not repo.head.is_valid():
                continue
            rev = f"{since}..HEAD" if since and epoch == path else "HEAD"
            for commit in repo.iter_commits(rev, reverse=True):
                yield from _commit_message(commit, epoch)
        finally:
            repo.close()


def _commit_message(commit, epoch: str) -> Iterator[RawMessage]:
    location = f"{epoch}@{commit.hexsha[:12]}"
    try:
        blob = commit.tree[MESSAGE_BLOB]
    except KeyError:
        return  # a deletion commit (public-inbox writes `d`): no message to read
    try:
        yield RawMessage(blob.data_stream.read(), location)
    except Exception as exc:  # noqa: BLE001 - a broken object must not stop the archive
        yield RawMessage(b"", location, error=f"cannot read git object: {exc}")
