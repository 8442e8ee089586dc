"""Mutated REAL pushes through the hook's commit reader (issue 16, done-means; 16.2).

A temporary git repository's base commit holds real Linux 6.12 files (`../shared/kernel`);
hypothesis then writes commits on top whose subjects, bodies and file contents are mutated
with what a hostile pusher would use: control characters, U+2028/U+2029, forged record
markers, `\\f+++ b/README.txt` inside a C comment, diff-looking lines, CRs, and NUL bytes
(which make git call the file binary). Properties, against git's own count of each commit:
the reader (`hook.changes.commit_patches`) yields exactly the commits pushed, and for each one
exactly the C files and per-file added/deleted line counts `git show --numstat` reports, with
a file git calls binary ("-\\t-") marked binary, which the hook reports as "not checked:
binary" (the last test pushes one through the installed hook).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.hook.changes import C_PATHSPECS, commit_patches
from reviewtool.hook.gitio import GitRepo

# Slow (real git repositories, many git processes): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT.parent / "shared" / "kernel" / "linux-6.12"
# Real files of three sizes and both kinds (a header, two sources), plus a non-C file the
# reader must leave out.
BASE_FILES = ("virt/kvm/kvm_mm.h", "virt/kvm/pfncache.c", "virt/kvm/kvm_main.c")
README = "README.txt"
# Examples per property: each builds commits and runs git a dozen times.
EXAMPLES = 30

# What a hostile commit carries in a line: every git and diff separator but `\n`, and lines
# that look like the reader's own structure.
HOSTILE_PIECES = [
    "\f",
    "\v",
    "\r",
    "\x1c",
    "\x1d",
    "\x1e",
    "\x85",
    "\u2028",
    "\u2029",
    "\x1b[2J",
    "\u202e",
    "\f+++ b/README.txt",
    "+++ b/README.txt",
    "--- a/virt/kvm/kvm_main.c",
    "diff --git a/README.txt b/README.txt",
    "@@ -1,1 +1,1 @@",
    "\\ No newline at end of file",
    "-- ",
    "reviewtool-commit 0123456789abcdef0123456789abcdef01234567",
    "\x00",
]
PIECE = st.sampled_from(HOSTILE_PIECES)
WORDS = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
LINE = st.lists(st.one_of(PIECE, WORDS), max_size=4).map("".join)
# A commit message has no NUL: git refuses one itself ("a NUL byte in commit log message").
MESSAGE_LINE = LINE.map(lambda text: text.replace("\x00", ""))


@st.composite
def edits(draw):
    """One file edit: which file, where, how many lines to drop, which lines to put there."""
    return (
        draw(st.sampled_from((*BASE_FILES, README, "virt/kvm/new file \u00e9.c"))),
        draw(st.floats(0, 1)),
        draw(st.integers(0, 6)),
        draw(st.lists(LINE, max_size=5)),
        draw(st.booleans()),  # end the file without a newline
    )


COMMIT = st.tuples(
    MESSAGE_LINE,  # subject
    st.lists(MESSAGE_LINE, max_size=3),  # body
    st.lists(edits(), min_size=0, max_size=3),
)


class PushRepo:
    """A work repository whose base commit is the real 6.12 files; commits are written with
    plumbing into a private index, so each example starts from the same base."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        self.env.update(
            HOME=str(root),
            GIT_CONFIG_NOSYSTEM="1",
            GIT_AUTHOR_NAME="Pusher",
            GIT_AUTHOR_EMAIL="pusher@example.org",
            GIT_COMMITTER_NAME="Pusher",
            GIT_COMMITTER_EMAIL="pusher@example.org",
            GIT_INDEX_FILE=str(root / "fuzz-index"),
        )
        self.git("init", "-q", "-b", "main")
        for name in BASE_FILES:
            self._stage(name, (KERNEL / name).read_bytes())
        self._stage(README, b"Demo tree.\n")
        self.base = self._commit(self.git("write-tree").decode().strip(), None, "Base: 6.12\n")

    def git(self, *args: str, data: bytes | None = None) -> bytes:
        done = subprocess.run(
            ["git", "-C", str(self.root), *args],
            input=data,
            capture_output=True,
            env=self.env,
            check=False,
        )
        if done.returncode:
            raise AssertionError(f"git {args[0]}: {done.stderr.decode(errors='replace')}")
        return done.stdout

    def _stage(self, path: str, data: bytes) -> None:
        blob = self.git("hash-object", "-w", "--stdin", data=data).decode().strip()
        self.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")

    def _commit(self, tree: str, parent: str | None, message: str) -> str:
        parents = ["-p", parent] if parent else []
        out = self.git("commit-tree", tree, *parents, "-F", "-", data=message.encode())
        return out.decode().strip()

    def content(self, commit: str, path: str) -> bytes | None:
        done = subprocess.run(
            ["git", "-C", str(self.root), "cat-file", "blob", f"{commit}:{path}"],
            capture_output=True,
            env=self.env,
        )
        return done.stdout if done.returncode == 0 else None

    def push_commits(self, commits) -> list[str]:
        """Write the drawn commits on top of the base; their ids, oldest first."""
        self.git("read-tree", self.base)
        parent = self.base
        made = []
        for subject, body, file_edits in commits:
            for path, where, drop, lines, no_newline in file_edits:
                old = self.content(parent, path) or b""
                self._stage(path, _edited(old, where, drop, lines, no_newline))
            tree = self.git("write-tree").decode().strip()
            message = subject + "\n\n" + "\n".join(body) + "\n"
            parent = self._commit(tree, parent, message)
            made.append(parent)
        return made

    def numstat(self, commit: str) -> dict[str, tuple[int, int, bool]]:
        """path -> (added, deleted, binary) of the C files `git show --numstat` lists."""
        out = self.git(
            "show", "--numstat", "-z", "-M", "--format=", commit, "--", *C_PATHSPECS
        ).decode("utf-8", "surrogateescape")
        fields = out.split("\0")
        stats: dict[str, tuple[int, int, bool]] = {}
        i = 0
        while i < len(fields) and fields[i].strip("\n"):
            added, deleted, path = fields[i].lstrip("\n").split("\t", 2)
            if path == "":  # a rename: old and new names follow as their own fields
                path = fields[i + 2]
                i += 2
            i += 1
            binary = added == "-"
            stats[path] = (0 if binary else int(added), 0 if binary else int(deleted), binary)
        return stats


def _edited(old: bytes, where: float, drop: int, lines: list[str], no_newline: bool) -> bytes:
    """`old` with `drop` lines replaced by `lines` at a place `where` (0..1) down the file."""
    rows = old.split(b"\n")
    if rows and rows[-1] == b"":
        rows.pop()
    at = int(where * len(rows))
    rows[at : at + drop] = [line.encode("utf-8") for line in lines]
    data = b"\n".join(rows)
    return data if no_newline or not rows else data + b"\n"


@pytest.fixture(scope="module")
def push_repo(tmp_path_factory) -> PushRepo:
    if not KERNEL.is_dir():
        pytest.skip(f"real 6.12 files not found at {KERNEL} (they live beside the repo in CI)")
    return PushRepo(tmp_path_factory.mktemp("pushes"))


def _lines_changed(stats: dict[str, tuple[int, int, bool]]) -> dict[str, tuple[int, int, bool]]:
    """Leave out files with no line added or removed and not binary (a new empty file, a mode
    change): numstat lists them as 0/0, the reader passes them by, as there is nothing in
    them to check."""
    return {path: stat for path, stat in stats.items() if stat != (0, 0, False)}


def _reader_view(patch) -> dict[str, tuple[int, int, bool]]:
    return _lines_changed(
        {change.path: (change.added, change.deleted, change.binary) for change in patch.files}
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(commits=st.lists(COMMIT, min_size=1, max_size=3))
def test_the_reader_sees_each_pushed_commit_as_git_counts_it(push_repo: PushRepo, commits):
    shas = push_repo.push_commits(commits)
    repo = GitRepo(push_repo.root)
    try:
        patches = commit_patches(repo, shas)
    finally:
        repo.close()
    assert sorted(patches) == sorted(shas)  # every commit pushed, none invented
    for sha in shas:
        seen = _reader_view(patches[sha])
        assert seen == _lines_changed(push_repo.numstat(sha)), sha
        if patches[sha].files:  # a commit without C changes prints no record to read
            assert patches[sha].parent == push_repo.git("rev-parse", f"{sha}^").decode().strip()


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (0.0, (0, 0, True)),  # in the first 8000 bytes: git calls the file binary
        (0.5, (1, 1, False)),  # past them: git prints the line, NUL and all, as text
    ],
    ids=["early-nul-binary", "late-nul-text"],
)
def test_a_nul_in_a_real_file_is_read_as_git_reads_it(push_repo: PushRepo, where, expected):
    # The fixed cases behind the property. The late NUL made the reader refuse the whole push
    # ("git log gave 5 NUL-separated fields"), which the hook's default on_error = "warn" let
    # through unchecked.
    (sha,) = push_repo.push_commits(
        [("KVM: tidy a comment", [], [("virt/kvm/kvm_main.c", where, 1, ["/* a\x00b */"], False)])]
    )
    repo = GitRepo(push_repo.root)
    try:
        (change,) = commit_patches(repo, [sha])[sha].files
    finally:
        repo.close()
    assert push_repo.numstat(sha) == {"virt/kvm/kvm_main.c": expected}
    assert change.path == "virt/kvm/kvm_main.c"
    assert (change.added, change.deleted, change.binary) == expected


def _pushed_real_file(tmp_path: Path):
    """A hook workspace whose remote holds the real 6.12 pfncache.c: (workspace, path, text)."""
    from tests.helpers.workspace import Workspace

    if not KERNEL.is_dir():
        pytest.skip(f"real 6.12 files not found at {KERNEL} (they live beside the repo in CI)")
    ws = Workspace(tmp_path)
    name = "virt/kvm/pfncache.c"
    real = (KERNEL / name).read_text(encoding="utf-8")
    ws.commit({name: real}, "KVM: import pfncache.c")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    return ws, name, real


def test_the_installed_hook_says_not_checked_binary_for_a_real_file(tmp_path: Path):
    ws, name, real = _pushed_real_file(tmp_path)
    ws.git("checkout", "-q", "-b", "nul")
    ws.commit({name: real.replace("*/", "*/\0", 1)}, "KVM: pfncache: \u2028reviewtool-commit x")
    done = ws.push("nul")
    assert done.returncode != 0, done.stderr
    assert f"{name}:0: error: not-checked: not checked: binary" in done.stderr


def test_a_late_nul_in_a_real_file_does_not_let_the_push_through_unchecked(tmp_path: Path):
    ws, name, real = _pushed_real_file(tmp_path)
    ws.git("checkout", "-q", "-b", "late-nul")
    at = real.index("*/", 9000)  # past the first 8000 bytes, where git looks for a NUL
    ws.commit({name: real[:at] + "\0" + real[at:]}, "KVM: pfncache: tidy a comment")
    done = ws.push("late-nul")
    assert "refusing to guess" not in done.stderr and "internal error" not in done.stderr
    assert "not checked: binary" not in done.stderr  # git reads it as text, and so does the hook
    assert done.returncode == 0, done.stderr


def test_a_late_nul_cannot_smuggle_a_leak_past_the_hook(tmp_path: Path):
    # Before: the NUL made the commit reader refuse the push's records, and the default
    # on_error = "warn" let the leak through unchecked.
    from test_hook_push import CLEAN, LEAKING, MMU_C

    from tests.helpers.workspace import Workspace

    padding = "/*\n" + " * padding\n" * 900 + " */\n"  # pushes the NUL past 8000 bytes
    ws = Workspace(tmp_path)
    ws.commit({MMU_C: padding + CLEAN}, "KVM: arm64: base")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "smuggle")
    late = padding + LEAKING.replace("cut down to what", "cut down\0 to what")
    assert late.index("\0") > 8000
    ws.commit({MMU_C: late}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("smuggle")
    assert done.returncode != 0, done.stderr
    assert f"{MMU_C}:" in done.stderr and ": error: leak: " in done.stderr
