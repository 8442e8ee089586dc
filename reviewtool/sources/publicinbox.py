"""public-inbox v2 reader: each commit of an epoch repository adds one message, file `m`.

Read with plain git processes (`rev-list`, then one `cat-file --batch` for every message), so a
damaged epoch is read as far as it can be: a message whose object is missing or corrupt is
rejected with git's reason, a history git cannot walk (a truncated pack) falls back to every
commit object still readable, and either way the pieces are marked `damaged`, so that no door
reports "read 0, ok" on a broken archive.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

from reviewtool.sources.limits import READ_CHUNK_BYTES, max_message_bytes, too_big
from reviewtool.sources.raw import RawMessage

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    import subprocess

# v2 inboxes keep their epochs as git/0.git, git/1.git, ...
EPOCH_NAME_RE = re.compile(r"^(\d+)\.git$")
MESSAGE_BLOB = "m"
DELETION_BLOB = "d"  # public-inbox's record of a removed message: nothing to read
_COMMITTER_RE = re.compile(rb"^committer .* (\d+) [+-]\d{4}$", re.M)
# How long one git process may take on an epoch before it counts as hung.
GIT_TIMEOUT_SECONDS = 600


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
    for epoch in epoch_repos(path):
        for _, raw in read_epoch(epoch, since if epoch == path else None):
            yield raw


def read_epoch(epoch: str, since: str | None = None) -> Iterator[tuple[str | None, RawMessage]]:
    """(commit, message) for every commit of one epoch after `since`, oldest first.

    A piece that is not one commit's message (the epoch's history cannot be walked, so every
    readable commit is read instead) comes with commit None: a reader that resumes from a
    commit must not move past this walk. A `since` that is no longer in the epoch (the inbox
    was purged and rewritten) reads the whole epoch again, which is not damage.
    """
    yield from _iter_epoch(epoch, since, max_message_bytes())


def read_commits(epoch: str, commits: list[str]) -> Iterator[tuple[str | None, RawMessage]]:
    """(commit, message) for the named commits only: messages that could not be read before
    are tried again, so a repaired archive loses nothing."""
    yield from _messages(epoch, commits, max_message_bytes())


def _git(epoch: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    import subprocess  # noqa: PLC0415 - only when an inbox is read

    return subprocess.run(
        ["git", "--git-dir", _git_dir(epoch), *args],
        input=stdin,
        capture_output=True,
        timeout=GIT_TIMEOUT_SECONDS,
    )


def _git_dir(epoch: str) -> str:
    dot_git = os.path.join(epoch, ".git")
    return dot_git if os.path.isdir(dot_git) else epoch


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", "replace").strip()
    return text.splitlines()[0] if text else "git failed"


def _iter_epoch(
    epoch: str, since: str | None, limit: int
) -> Iterator[tuple[str | None, RawMessage]]:
    if _git(epoch, "rev-parse", "--verify", "-q", "HEAD").returncode != 0:
        if _object_count(epoch) == 0:
            return  # a new, empty epoch: nothing written yet
        yield None, RawMessage(b"", epoch, error="epoch has no readable HEAD", damaged=True)
        commits = _readable_commits(epoch)
    else:
        if since and not _is_commit(epoch, since):
            since = None  # purged and rewritten: read it all again; seen Message-IDs drop
        listing = _git(epoch, "rev-list", "--reverse", f"{since}..HEAD" if since else "HEAD")
        if listing.returncode == 0:
            commits = listing.stdout.decode().split()
        else:
            yield (
                None,
                RawMessage(
                    b"",
                    epoch,
                    error=f"history cannot be walked ({_first_line(listing.stderr)}); "
                    "every commit still readable is read",
                    damaged=True,
                ),
            )
            commits = _readable_commits(epoch)
    yield from _messages(epoch, commits, limit)


def _is_commit(epoch: str, name: str) -> bool:
    """True when the epoch still has an object `name` (a walk from it may still fail)."""
    return _git(epoch, "cat-file", "-t", name).returncode == 0


def _object_count(epoch: str) -> int:
    out = _git(epoch, "count-objects", "-v")
    numbers = re.findall(rb"^(?:count|in-pack): (\d+)$", out.stdout, re.M)
    return sum(int(n) for n in numbers)


def _readable_commits(epoch: str) -> list[str]:
    """Every commit object git can still list and read, oldest first (by committer date)."""
    listing = _git(
        epoch, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)"
    )
    shas = [
        line.split()[0] for line in listing.stdout.decode().splitlines() if line.endswith(" commit")
    ]
    dated = []
    for sha, data, _ in _batch(epoch, shas, limit=1 << 20):
        match = _COMMITTER_RE.search(data) if data is not None else None
        if match:
            dated.append((int(match.group(1)), sha))
    return [sha for _, sha in sorted(dated)]


def _batch(
    epoch: str, names: list[str], limit: int
) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, data or None, why not) for each object name, through `git cat-file --batch`;
    a git that dies on a corrupt object is restarted after it, so one bad object costs one
    message."""
    import subprocess  # noqa: PLC0415 - only when an inbox is read

    pending = list(names)
    while pending:
        process = subprocess.Popen(
            ["git", "--git-dir", _git_dir(epoch), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.write("".join(n + "\n" for n in pending).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        done = 0
        for name in pending:
            header = process.stdout.readline()
            if not header:
                break  # git died on this object
            done += 1
            fields = header.split()
            if len(fields) != 3:
                yield name, None, header.decode("utf-8", "replace").strip()
                continue
            size = int(fields[2])
            if size > limit:
                _skip(process.stdout, size + 1)
                yield name, None, too_big(size, limit)
                continue
            data = process.stdout.read(size)
            process.stdout.read(1)  # the newline after the object
            yield name, data, None
        stderr = process.stderr.read() if process.stderr is not None else b""
        process.wait()
        if done < len(pending):
            yield pending[done], None, f"git cannot read it: {_first_line(stderr)}"
            done += 1
        pending = pending[done:]


def _skip(stream, size: int) -> None:  # noqa: ANN001 - a binary pipe
    while size > 0:
        size -= len(stream.read(min(size, READ_CHUNK_BYTES))) or size


def _messages(
    epoch: str, commits: list[str], limit: int
) -> Iterator[tuple[str | None, RawMessage]]:
    names = [f"{sha}:{MESSAGE_BLOB}" for sha in commits]
    missing: list[str] = []
    for name, data, why in _batch(epoch, names, limit):
        sha = name.split(":", 1)[0]
        location = f"{epoch}@{sha[:12]}"
        if data is not None:
            yield sha, RawMessage(data, location)
        elif why is not None and why.endswith(" missing"):
            missing.append(sha)  # a deletion commit, or a tree that lost its message
        else:
            why = f"cannot read the message: {why}"
            yield sha, RawMessage(b"", location, error=why, damaged=True)
    if not missing:
        return
    # public-inbox records a removed message as a commit with `d` instead of `m`.
    for name, data, _ in _batch(epoch, [f"{sha}:{DELETION_BLOB}" for sha in missing], limit):
        if data is None:
            sha = name.split(":", 1)[0]
            yield (
                sha,
                RawMessage(
                    b"",
                    f"{epoch}@{sha[:12]}",
                    error="commit has no message (its tree is missing or damaged)",
                    damaged=True,
                ),
            )
