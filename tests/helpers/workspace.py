"""The pre-push hook's workspace: a work repository with the hook installed and a bare remote.

Built on the one git helper (`tests.helpers.git`); used by the hook's push tests and by the
text-safety tests of every door.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers.git import git_env, run_git


class Workspace:
    """A work repository with the hook installed and a bare remote `origin`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.remote = root / "remote.git"
        self.work = root / "work"
        # An empty home of its own (no user configuration reaches the hook) and the clock's
        # dates, as a user's commits have.
        self.env = git_env(("Test Author", "author@example.org"), date=None, home=root)
        self.git("init", "-q", "--bare", "-b", "main", str(self.remote), cwd=root)
        self.git("init", "-q", "-b", "main", str(self.work), cwd=root)
        self.git("remote", "add", "origin", str(self.remote))
        self.commit({"README": "Demo tree for the pre-push hook.\n"}, "Initial commit")
        self.git("push", "-q", "origin", "main")
        done = self.reviewtool("hook", "install")
        assert done.returncode == 0, done.stderr

    def git(self, *args: str, cwd: Path | None = None, check: bool = True, stdin: str = "") -> str:
        """Run git in the work repository (or `cwd`); its output, stripped."""
        done = run_git(cwd or self.work, *args, env=self.env, stdin=stdin, check=check)
        return done.stdout.strip()

    def reviewtool(self, *args: str, stdin: str = "", env: dict | None = None):
        return subprocess.run(
            [sys.executable, "-m", "reviewtool", *args],
            cwd=self.work,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
        )

    def write(self, name: str, text: str) -> None:
        path = self.work / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def commit(self, files: dict[str, str], message: str) -> str:
        for name, text in files.items():
            self.write(name, text)
            self.git("add", name)
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def push(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`git push origin ARGS`, the hook running; its result whatever it is."""
        return run_git(self.work, "push", "origin", *args, env=self.env, check=False)

    def remote_has(self, ref: str) -> bool:
        return bool(self.remote_sha(ref))

    def remote_sha(self, ref: str) -> str:
        out = self.git("ls-remote", str(self.remote), ref)
        return out.split()[0] if out else ""
