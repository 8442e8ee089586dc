"""`reviewtool hook install|uninstall`: where the hook goes, and what becomes of one there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtool.hook.install import (
    KEPT_NAME,
    HookInstallError,
    hook_script,
    hooks_dir,
    install,
    is_ours,
    uninstall,
)
from tests.helpers.git import git_env as helper_git_env

FOREIGN_HOOK = """#!/bin/sh
# the team's own pre-push hook: records what git gave it, refuses when told to
cat > "$(git rev-parse --git-dir)/foreign-hook-input"
echo "$1 $2" > "$(git rev-parse --git-dir)/foreign-hook-args"
if [ -e "$(git rev-parse --git-dir)/foreign-hook-refuse" ]; then
	echo "foreign hook: refused" >&2
	exit 1
fi
exit 0
"""


def git_env(home: Path) -> dict[str, str]:
    return helper_git_env(("Test Author", "author@example.org"), date=None, home=home)


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, env=git_env(cwd.parent), capture_output=True, text=True, check=check
    )


def reviewtool(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(cwd, sys.executable, "-m", "reviewtool", *args, check=False)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    remote, work = tmp_path / "remote.git", tmp_path / "work"
    run(tmp_path, "git", "init", "-q", "--bare", "-b", "main", str(remote))
    run(tmp_path, "git", "init", "-q", "-b", "main", str(work))
    (work / "README").write_text("demo\n")
    run(work, "git", "add", "README")
    run(work, "git", "commit", "-q", "-m", "Initial commit")
    run(work, "git", "remote", "add", "origin", str(remote))
    return work


def add_foreign_hook(work: Path) -> Path:
    hook = work / ".git" / "hooks" / "pre-push"
    hook.write_text(FOREIGN_HOOK)
    hook.chmod(0o755)
    return hook


def test_install_writes_an_executable_hook_git_runs(work: Path) -> None:
    done = reviewtool(work, "hook", "install")
    assert done.returncode == 0, done.stderr
    hook = work / ".git" / "hooks" / "pre-push"
    assert is_ours(hook) and os.access(hook, os.X_OK)
    assert f"installed {hook}" in done.stdout
    push = run(work, "git", "push", "origin", "main")
    assert "reviewtool: checked 1 commit in 1 ref to origin" in push.stderr


def test_install_again_updates_its_own_hook(work: Path) -> None:
    install(work)
    result = install(work)
    assert result.action == "updated" and result.kept is None


def test_install_refuses_a_foreign_hook_without_force(work: Path) -> None:
    hook = add_foreign_hook(work)
    done = reviewtool(work, "hook", "install")
    assert done.returncode == 2
    assert "was not written by reviewtool" in done.stderr and "--force" in done.stderr
    assert "Traceback" not in done.stderr
    assert hook.read_text() == FOREIGN_HOOK


def test_forced_install_keeps_the_foreign_hook_running_first(work: Path) -> None:
    add_foreign_hook(work)
    result = install(work, force=True)
    kept = work / ".git" / "hooks" / KEPT_NAME
    assert result.kept == kept and kept.read_text() == FOREIGN_HOOK
    push = run(work, "git", "push", "origin", "main")
    assert push.returncode == 0, push.stderr
    head = run(work, "git", "rev-parse", "HEAD").stdout.strip()
    # The kept hook saw git's own input and arguments, and reviewtool ran after it.
    assert (work / ".git" / "foreign-hook-input").read_text() == (
        f"refs/heads/main {head} refs/heads/main {'0' * 40}\n"
    )
    assert (work / ".git" / "foreign-hook-args").read_text().split()[0] == "origin"
    assert "reviewtool: checked 1 commit" in push.stderr


def test_refusal_of_the_kept_hook_refuses_the_push(work: Path) -> None:
    add_foreign_hook(work)
    install(work, force=True)
    (work / ".git" / "foreign-hook-refuse").touch()
    push = run(work, "git", "push", "origin", "main", check=False)
    assert push.returncode != 0
    assert "foreign hook: refused" in push.stderr
    assert "reviewtool: checked" not in push.stderr


def test_uninstall_restores_the_kept_hook(work: Path) -> None:
    add_foreign_hook(work)
    install(work, force=True)
    result = uninstall(work)
    hook = work / ".git" / "hooks" / "pre-push"
    assert result.action == "removed" and result.kept == hook
    assert hook.read_text() == FOREIGN_HOOK
    assert not (work / ".git" / "hooks" / KEPT_NAME).exists()


def test_uninstall_removes_its_hook_and_leaves_foreign_ones(work: Path) -> None:
    install(work)
    assert uninstall(work).action == "removed"
    assert not (work / ".git" / "hooks" / "pre-push").exists()
    assert uninstall(work).action == "absent"
    add_foreign_hook(work)
    with pytest.raises(HookInstallError, match="not written by reviewtool"):
        uninstall(work)
    assert (work / ".git" / "hooks" / "pre-push").read_text() == FOREIGN_HOOK


def test_forced_install_will_not_overwrite_an_earlier_kept_hook(work: Path) -> None:
    add_foreign_hook(work)
    (work / ".git" / "hooks" / KEPT_NAME).write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(HookInstallError, match="merge them by hand"):
        install(work, force=True)
    assert (work / ".git" / "hooks" / "pre-push").read_text() == FOREIGN_HOOK


def test_install_respects_core_hooks_path(work: Path) -> None:
    run(work, "git", "config", "core.hooksPath", "tools/githooks")
    assert hooks_dir(work) == work / "tools" / "githooks"
    done = reviewtool(work, "hook", "install", "--repo", str(work))
    assert done.returncode == 0, done.stderr
    assert is_ours(work / "tools" / "githooks" / "pre-push")
    assert not (work / ".git" / "hooks" / "pre-push").exists()
    push = run(work, "git", "push", "origin", "main")
    assert "reviewtool: checked 1 commit" in push.stderr


def test_install_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    done = reviewtool(tmp_path, "hook", "install", "--repo", str(tmp_path))
    assert done.returncode == 2
    assert "is not inside a git repository" in done.stderr
    assert "Traceback" not in done.stderr


def test_pre_commit_manifest_runs_the_hook_at_the_pre_push_stage() -> None:
    yaml = pytest.importorskip("yaml")
    from reviewtool.cli import build_parser

    manifest = Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml"
    (hook,) = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    assert hook["stages"] == ["pre-push"]
    assert hook["pass_filenames"] is False and hook["always_run"] is True
    program, *argv = hook["entry"].split()
    assert program == "reviewtool"
    args = build_parser().parse_args(argv)
    assert args.func.__name__ == "run_hook_cmd"


# -- no Python start when there is nothing to push (issue 12.7) -----------------------------


def _script_with_recording_python(tmp_path: Path) -> tuple[Path, Path]:
    """The hook script with a stand-in interpreter that records that it was started."""
    record = tmp_path / "python-started"
    fake = tmp_path / "fake-python"
    fake.write_text(f"#!/bin/sh\ncat >/dev/null\necho started >> {record}\nexit 0\n")
    fake.chmod(0o755)
    script = tmp_path / "pre-push"
    script.write_text(hook_script(python=str(fake)))
    script.chmod(0o755)
    return script, record


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "\n",
        f"(delete) {'0' * 40} refs/heads/gone {'a' * 40}\n",
        f"(delete) {'0' * 64} refs/heads/gone {'a' * 64}\n",
        f"refs/heads/main {'b' * 40} refs/heads/main {'b' * 40}\n",
    ],
    ids=["empty", "blank-line", "deletion", "deletion-sha256", "already-at-remote"],
)
def test_nothing_to_push_starts_no_python(tmp_path: Path, stdin: str) -> None:
    script, record = _script_with_recording_python(tmp_path)
    done = subprocess.run([str(script), "origin", "url"], input=stdin, text=True, timeout=30)
    assert done.returncode == 0 and not record.exists()


def test_a_push_that_sends_commits_starts_python(tmp_path: Path) -> None:
    script, record = _script_with_recording_python(tmp_path)
    lines = (
        f"(delete) {'0' * 40} refs/heads/gone {'a' * 40}\n"
        f"refs/heads/main {'1' * 40} refs/heads/main {'0' * 40}\n"
    )
    done = subprocess.run([str(script), "origin", "url"], input=lines, text=True, timeout=30)
    assert done.returncode == 0 and record.read_text() == "started\n"


def test_the_push_path_does_not_import_gitpython() -> None:
    # GitPython costs more to import than the hook's own code; the push path runs git itself
    # (hook/gitio.py). Install and uninstall may still use GitPython.
    probe = "import sys, reviewtool.cli.hook_cmd, reviewtool.hook.run, reviewtool.hook.report; "
    probe += "print(sorted(m for m in sys.modules if m == 'git' or m.startswith('git.')))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
