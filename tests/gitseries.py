"""Build real patch series with git: commits in a temporary repository, `git format-patch` out.

Tests use this instead of hand-written patch mail so the shapes are exactly git's.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

AUTHOR = ("David Stevens", "stevensd@chromium.org")
BASE_DATE = "2023-08-24T18:04:00+10:00"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in repo and return its stdout."""
    full_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": AUTHOR[0],
        "GIT_AUTHOR_EMAIL": AUTHOR[1],
        "GIT_COMMITTER_NAME": AUTHOR[0],
        "GIT_COMMITTER_EMAIL": AUTHOR[1],
        "GIT_AUTHOR_DATE": BASE_DATE,
        "GIT_COMMITTER_DATE": BASE_DATE,
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        **(env or {}),
    }
    done = subprocess.run(
        ["git", *args], cwd=repo, env=full_env, capture_output=True, text=True, check=True
    )
    return done.stdout


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
    git(
        repo,
        "commit",
        "-q",
        "-m",
        message,
        env={"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date},
    )
    return git(repo, "rev-parse", "HEAD").strip()


def format_patch(repo: Path, base: str, out: Path, version: int, *extra: str) -> list[Path]:
    """`git format-patch --cover-letter --thread -v N --base=<base>` into out; the files."""
    out.mkdir(parents=True, exist_ok=True)
    args = ["format-patch", "-q", "--cover-letter", "--thread", f"--base={base}", "-o", str(out)]
    if version > 1:
        args.append(f"-v{version}")
    git(repo, *args, *extra, f"{base}..HEAD")
    files = sorted(out.glob("*.patch"))
    # git stamps Message-IDs with the wall clock; two versions made in one second would
    # share a cover Message-ID, which real postings never do.
    # Every stamp this run made is rewritten wherever the headers name it (Message-Id,
    # In-Reply-To, References): a second that ticks between the cover and a patch must not
    # leave a reference to a stamp no message carries any more.
    stamp = f".{1692864000 + version * 86400}.git."
    texts = {path: path.read_text() for path in files}
    ours = {
        found.group(1)
        for text in texts.values()
        for found in [re.search(r"^Message-Id: <[^>]*?(\.\d{9,11}\.git\.)", text, re.M | re.I)]
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
