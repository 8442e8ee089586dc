"""Applying a series in a temporary worktree: whole files, and the user's repo left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.diff.tree import (
    BaseNotFoundError,
    PatchApplyError,
    Worktree,
    apply_series,
)
from tests.helpers.git import git as _git


def _snapshot(repo: Path) -> dict[str, str]:
    """Everything of the user's repo that applying a series must leave as it was."""
    return {
        "status": _git(repo, "status", "--porcelain", "--untracked-files=all"),
        "head": _git(repo, "rev-parse", "HEAD"),
        "refs": _git(repo, "for-each-ref"),
        "worktrees": _git(repo, "worktree", "list", "--porcelain"),
        "index": _git(repo, "ls-files", "-s"),
        "stash": _git(repo, "stash", "list"),
    }


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, list[str]]:
    """A repo with a base commit and two later commits turned into diffs, then reset."""
    repo = tmp_path / "user"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    src = repo / "virt" / "kvm" / "main.c"
    src.parent.mkdir(parents=True)
    src.write_text("int a(void)\n{\n\treturn old_api(1);\n}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD").strip()
    src.write_text("int a(void)\n{\n\treturn new_api(1);\n}\n")
    _git(repo, "commit", "-qam", "one")
    (repo / "arch" / "x86").mkdir(parents=True)
    (repo / "arch" / "x86" / "mmu.c").write_text("int b(void)\n{\n\treturn new_api(2);\n}\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "two")
    diffs = [_git(repo, "show", "--format=", rev) for rev in ("HEAD~1", "HEAD")]
    # The user's own state: an unrelated branch, local edits, a staged file, an untracked one.
    _git(repo, "branch", "topic", base)
    src.write_text("/* work in progress */\n")
    (repo / "staged.txt").write_text("staged\n")
    _git(repo, "add", "staged.txt")
    (repo / "untracked.txt").write_text("mine\n")
    return repo, base, diffs


def test_apply_series_gives_whole_files_before_and_after_each_patch(repo) -> None:
    path, base, diffs = repo
    applied, final = apply_series(path, base, diffs)
    assert [a.index for a in applied] == [1, 2]
    first = applied[0].files["virt/kvm/main.c"]
    assert "old_api" in first.before and "new_api" in first.after
    second = applied[1].files["arch/x86/mmu.c"]
    assert second.before is None and "new_api(2)" in second.after
    assert set(final) == {"virt/kvm/main.c", "arch/x86/mmu.c"}


def test_apply_series_leaves_the_users_repo_untouched(repo) -> None:
    path, base, diffs = repo
    before = _snapshot(path)
    worktree_text = (path / "virt/kvm/main.c").read_text()
    apply_series(path, base, diffs)
    with pytest.raises(PatchApplyError):
        apply_series(path, base, [diffs[1], diffs[1]])
    assert _snapshot(path) == before
    assert (path / "virt/kvm/main.c").read_text() == worktree_text
    assert not (path / ".git" / "worktrees").exists() or not any(
        (path / ".git" / "worktrees").iterdir()
    )


def test_patch_that_does_not_apply_raises_with_the_patches_that_did(repo) -> None:
    path, base, diffs = repo
    with pytest.raises(PatchApplyError) as caught:
        apply_series(path, base, [diffs[1], diffs[1]])
    assert caught.value.index == 2
    assert [a.index for a in caught.value.applied] == [1]
    assert "does not apply" in str(caught.value)


def test_unknown_base_is_a_typed_error(repo) -> None:
    path, _base, diffs = repo
    with pytest.raises(BaseNotFoundError):
        apply_series(path, "0123456789abcdef0123456789abcdef01234567", diffs)


def test_worktree_grep_finds_whole_words_after_the_series(repo) -> None:
    path, base, diffs = repo
    with Worktree(path, base) as tree:
        assert [hit[0] for hit in tree.grep("old_api")] == ["virt/kvm/main.c"]
        for index, diff in enumerate(diffs, start=1):
            tree.apply(diff, index)
        assert tree.grep("old_api") == []
        assert sorted(hit[0] for hit in tree.grep("new_api")) == [
            "arch/x86/mmu.c",
            "virt/kvm/main.c",
        ]
        assert tree.read("no/such/file.c") is None
