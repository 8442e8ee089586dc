"""Blobs asked of git's cat-file process in batches give what asking one by one gives: the
hook reads every text of a push in one exchange instead of a round trip per file."""

from __future__ import annotations

import pytest

import reviewtool.hook.gitio as gitio
from reviewtool.hook.gitio import GitRepo
from tests.helpers.git import git_env, run_git


@pytest.fixture
def repo(tmp_path):
    env = git_env(("Test Author", "author@example.org"), date=None, home=tmp_path)
    work = tmp_path / "work"
    run_git(tmp_path, "init", "-q", "-b", "main", str(work), env=env)
    # Bigger than a pipe: git must be read while the batch's other names wait in the pipe.
    big = "".join(f"int line_{n};\n" for n in range(20000))
    (work / "big.c").write_text(big)
    (work / "dir").mkdir()
    (work / "dir" / "small.h").write_text("#define SMALL 1\n")
    run_git(work, "add", ".", env=env)
    run_git(work, "commit", "-q", "-m", "files", env=env)
    (work / "dir" / "small.h").write_text("#define SMALL 2\n")
    run_git(work, "commit", "-q", "-am", "change", env=env)
    return work


def test_batches_give_what_one_by_one_gives(repo, monkeypatch: pytest.MonkeyPatch) -> None:
    specs = [
        f"{rev}:{path}"
        for rev in ("HEAD", "HEAD~1")
        for path in ("big.c", "dir/small.h", "dir", "missing.c", "big.c")
    ] + ["no-such-rev:big.c", "HEAD:name\nwith newline"]
    alone = GitRepo(repo)
    try:
        expected = [alone.blob(spec) for spec in specs]
    finally:
        alone.close()
    assert expected[0][0] == "blob" and len(expected[0][1]) > 65536
    assert expected[2][0] == "tree" and expected[3] is None and expected[-1] is None
    for budget in (1, 40, 8192):
        monkeypatch.setattr(gitio, "_BATCH_BYTES", budget)
        batched = GitRepo(repo)
        try:
            assert batched.blobs(specs) == expected, budget
            # The process stays usable for single questions afterwards.
            assert batched.blob("HEAD:dir/small.h") == expected[1]
        finally:
            batched.close()
