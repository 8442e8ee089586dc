"""The tests' one git helper: real repositories in temporary directories, real `git`.

Every run gets `git_env()`: the process's environment without the GIT_* variables a caller
(a hook running the tests) may have set, a fixed identity, fixed dates (so commits, patch-ids
and mail come out the same on every run) and no user or system configuration.
`format_patch` writes `git format-patch` mail whose Message-ID stamps are fixed as well.
`PublicInbox` grows a public-inbox v2 archive message by message. Builders of particular
repositories (the range-diff's `GitSeries`, the hook's `Workspace`, the kernel tree of
`kernelrepo`) are made of these functions.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

AUTHOR = ("David Stevens", "stevensd@chromium.org")
BASE_DATE = "2023-08-24T18:04:00+10:00"
# git stamps each Message-ID with the wall clock (`<commit>.<seconds>.git.<committer>`).
_STAMP_RE = re.compile(r"\.\d{9,11}\.git\.")
# The fixed stamp of version 1; each later version a day on, so versions never share one.
STAMP_BASE = 1692864000


def git_env(
    identity: tuple[str, str] = AUTHOR,
    date: str | None = BASE_DATE,
    home: Path | None = None,
) -> dict[str, str]:
    """The environment of a test's git run: `identity` as author and committer, both dates
    `date` (None: the clock), and no user configuration (`home` for one of its own)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT_"))}
    env.update(
        GIT_AUTHOR_NAME=identity[0],
        GIT_AUTHOR_EMAIL=identity[1],
        GIT_COMMITTER_NAME=identity[0],
        GIT_COMMITTER_EMAIL=identity[1],
        GIT_CONFIG_NOSYSTEM="1",
    )
    if home is None:
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
    else:
        env["HOME"] = str(home)
    if date is not None:
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
    return env


def run_git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` (with `git_env()` unless `env` is given); with `check`, a failure
    raises with git's own message."""
    return _run(repo, args, env, stdin, check, text=True)


def _run(repo: Path, args, env, stdin, check: bool, text: bool) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env=dict(env) if env is not None else git_env(),
        input=stdin,
        capture_output=True,
        text=text,
    )
    if check and done.returncode:
        said = done.stderr if text else repr(done.stderr)
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}): {said}")
    return done


def git(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> str:
    """Run git in `repo` and return its standard output."""
    return run_git(repo, *args, env=env, stdin=stdin).stdout


def git_bytes(
    repo: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> bytes:
    """Run git in `repo` on bytes (objects, mail as it was sent); its standard output."""
    return _run(repo, args, env, stdin, check=True, text=False).stdout


def author_git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo` as one author on one fixed date, with the repository's parent as
    HOME (no user configuration): what a contributor's series is made with."""
    env = git_env(("A U Thor", "author@example.org"), "2024-09-02T10:00:00+00:00", repo.parent)
    return git(repo, *args, env=env)


def replace_once(path: Path, old: str, new: str) -> None:
    """Edit a file where `old` occurs exactly once (a test's edit must not land elsewhere)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def init_repo(path: Path) -> Path:
    """A new repository with one base commit holding virt/kvm/kvm_main.c."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    write(path, "virt/kvm/kvm_main.c", BASE_KVM_MAIN)
    commit(path, "KVM: base tree")
    return path


def write(repo: Path, rel: str, text: str) -> None:
    """Write a file in the work tree."""
    target = repo / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def commit(repo: Path, message: str, date: str = BASE_DATE) -> str:
    """Commit everything; return the new commit id."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, env=git_env(date=date))
    return git(repo, "rev-parse", "HEAD").strip()


def format_patch(
    repo: Path,
    base: str,
    out: Path,
    version: int,
    *extra: str,
    tip: str = "HEAD",
    subject_prefix: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[Path]:
    """`git format-patch --cover-letter --thread --base=<base>` of base..tip into out, as
    version `version` (`-vN`, or `subject_prefix` when given); the files, cover first.

    Every Message-ID stamp this run made is replaced by the version's fixed one wherever the
    headers name it (Message-Id, In-Reply-To, References): a second that ticks between the
    cover and a patch leaves no reference to a stamp no message carries, and two versions
    made in the same second never share a cover Message-ID."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["format-patch", "-q", "--cover-letter", "--thread", f"--base={base}", "-o", str(out)]
    if subject_prefix is not None:
        args.append(f"--subject-prefix={subject_prefix}")
    elif version > 1:
        args.append(f"-v{version}")
    git(repo, *args, *extra, f"{base}..{tip}", env=env)
    files = sorted(out.glob("*.patch"))
    stamp = f".{STAMP_BASE + version * 86400}.git."
    texts = {path: path.read_text() for path in files}
    # Only this run's stamps: a reference to another posting (`--in-reply-to`) keeps its own.
    ours = {
        found.group(0)
        for text in texts.values()
        for header in re.findall(r"^Message-Id: <[^>]*>", text, re.M | re.I)
        for found in [_STAMP_RE.search(header)]
        if found
    }
    for path, text in texts.items():
        head, sep, body = text.partition("\n\n")
        for own in ours:
            head = head.replace(own, stamp)
        path.write_text(head + sep + body)
    return files


def fill_cover(path: Path, title: str, body: str) -> None:
    """Replace git's `*** SUBJECT HERE ***` / `*** BLURB HERE ***` placeholders."""
    text = path.read_text()
    text = text.replace("*** SUBJECT HERE ***", title).replace("*** BLURB HERE ***", body)
    path.write_text(text)


# -- a public-inbox v2 inbox that grows message by message -------------------------------


class PublicInbox:
    """`<dir>/git/0.git`, one commit per message, the message as blob `m`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.epoch = path / "git" / "0.git"
        self.epoch.mkdir(parents=True)
        self._git("init", "-q", "--bare", "-b", "master", str(self.epoch), cwd=path)
        self.head: str | None = None

    @classmethod
    def reopen(cls, path: Path) -> PublicInbox:
        """The inbox already at `path`, to grow it further (as the archive grows upstream)."""
        inbox = cls.__new__(cls)
        inbox.path, inbox.epoch = path, path / "git" / "0.git"
        inbox.head = inbox._git("rev-parse", "refs/heads/master")
        return inbox

    def _git(self, *args: str, cwd: Path | None = None, data: bytes | None = None) -> str:
        env = git_env(("public-inbox", "public-inbox@example.org"), date=None)
        return git_bytes(cwd or self.epoch, *args, env=env, stdin=data).decode().strip()

    def add(self, data: bytes) -> str:
        """Commit one message; returns the commit id."""
        blob = self._git("hash-object", "-w", "--stdin", data=data)
        tree = self._git("mktree", data=f"100644 blob {blob}\tm\n".encode())
        parent = ["-p", self.head] if self.head else []
        subject = BytesParser(policy=default_policy).parsebytes(data, headersonly=True)["subject"]
        commit = self._git("commit-tree", tree, *parent, "-m", str(subject or "(no subject)"))
        self._git("update-ref", "refs/heads/master", commit)
        self.head = commit
        return commit

    def delete(self) -> str:
        """A deletion commit (`d` instead of `m`), as public-inbox writes for a purge."""
        blob = self._git("hash-object", "-w", "--stdin", data=b"removed\n")
        tree = self._git("mktree", data=f"100644 blob {blob}\td\n".encode())
        commit = self._git("commit-tree", tree, "-p", self.head or "", "-m", "d")
        self._git("update-ref", "refs/heads/master", commit)
        self.head = commit
        return commit


def public_inbox(messages: list[bytes], path: Path, delete_last: bool = False) -> Path:
    """A public-inbox v2 inbox at `path` holding `messages`, one commit each; with
    `delete_last`, a purge commit (`d` instead of `m`) after them."""
    inbox = PublicInbox(path)
    for data in messages:
        inbox.add(data)
    if delete_last:
        inbox.delete()
    return path


BASE_KVM_MAIN = """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/kvm_host.h>

kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
\treturn __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, true,
\t\t\t\t    NULL, NULL);
}

kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
\treturn __gfn_to_pfn_memslot(slot, gfn, true, false, NULL, true,
\t\t\t\t    NULL, NULL);
}

void kvm_release_pfn_clean(kvm_pfn_t pfn)
{
\tif (!is_error_noslot_pfn(pfn) && pfn_valid(pfn))
\t\tput_page(pfn_to_page(pfn));
}
"""
