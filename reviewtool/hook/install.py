"""Install and remove the pre-push hook, in whatever directory git reads hooks from.

The hooks directory comes from `git rev-parse --git-path hooks`, which honours
`core.hooksPath` and linked worktrees. A pre-push hook reviewtool did not write is never
overwritten silently: with `--force` it is kept as `pre-push.local-before-reviewtool` and the
new hook runs it first, with the same arguments and input; uninstalling puts it back.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from reviewtool.errors import InputError, UsageError

HOOK_NAME = "pre-push"
KEPT_NAME = "pre-push.local-before-reviewtool"
# The line that tells a hook reviewtool wrote from anybody else's.
MARKER = "# reviewtool-managed-hook: pre-push"

_SCRIPT = """#!/bin/sh
{marker}
# Written by `reviewtool hook install`; `reviewtool hook uninstall` removes it.
# It checks the commits being pushed for page-reference bugs; bypass once with
# `git push --no-verify`.
input=$(cat)
feed() {{
	if [ -n "$input" ]; then printf '%s\\n' "$input"; fi
}}
kept="$(dirname "$0")/{kept}"
if [ -x "$kept" ]; then
	feed | "$kept" "$@" || exit $?
fi
# Nothing to send: no Python at all. A line sends nothing when it is blank, a deletion (an
# all-zero local sha), a ref already at the remote's value, or a tip whose commits (merges
# aside) every remote already has, as `hook run` counts them; when git cannot tell (a remote
# sha unknown here), Python decides.
sends=no
while read -r _lref lsha _rref rsha; do
	case "$lsha" in
	""|*[!0]*) ;;
	*) continue ;;
	esac
	[ -n "$lsha" ] && [ "$lsha" != "$rsha" ] || continue
	case "$lsha$rsha" in
	*[!0-9a-f]*) sends=yes; break ;;  # not object ids: `hook run` says what is wrong
	esac
	case "$rsha" in
	*[!0]*) old=$rsha ;;
	*) old= ;;
	esac
	if new=$(git rev-list --no-merges --max-count=1 "$lsha" --not $old --remotes 2>/dev/null) &&
		[ -z "$new" ]; then
		continue
	fi
	sends=yes
	break
done <<EOF_INPUT
$input
EOF_INPUT
[ "$sends" = yes ] || exit 0
python={python}
if [ -x "$python" ]; then
	feed | "$python" -m reviewtool hook run "$@"
	exit $?
elif command -v reviewtool >/dev/null 2>&1; then
	feed | reviewtool hook run "$@"
	exit $?
fi
echo "reviewtool: not found (was it uninstalled?); pre-push check skipped" >&2
exit 0
"""


class HookInstallError(UsageError):
    """The hook cannot be installed or removed as asked."""


@dataclass(frozen=True)
class InstallResult:
    """What install or uninstall did."""

    hook: Path
    action: str  # "installed", "updated", "removed", "absent"
    kept: Path | None = None  # the user's own hook, kept and chained (or restored)


def hooks_dir(repo_dir: Path | str) -> Path:
    """The directory git runs hooks from for the repository at `repo_dir`."""
    import git  # noqa: PLC0415 - only for install/uninstall, never on the push path

    try:
        repo = git.Repo(repo_dir, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as exc:
        raise InputError(f"{repo_dir} is not inside a git repository") from exc
    # --git-path answers relative to where git ran, which for GitPython is the top directory.
    top = Path(repo.working_tree_dir or repo.git_dir)
    return (top / repo.git.rev_parse("--git-path", "hooks")).resolve()


def hook_script(python: str | None = None) -> str:
    """The text of the pre-push hook that runs reviewtool with `python`."""
    return _SCRIPT.format(
        marker=MARKER, kept=KEPT_NAME, python=shlex.quote(python or sys.executable)
    )


def is_ours(path: Path) -> bool:
    """True when the file at `path` is a hook reviewtool wrote."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return MARKER.encode() in head


def install(repo_dir: Path | str, force: bool = False) -> InstallResult:
    """Write the pre-push hook; keep and chain a foreign one only when `force` is set."""
    directory = hooks_dir(repo_dir)
    directory.mkdir(parents=True, exist_ok=True)
    hook, kept = directory / HOOK_NAME, directory / KEPT_NAME
    action = "installed"
    if hook.exists() or hook.is_symlink():
        if is_ours(hook):
            action = "updated"
        elif not force:
            raise HookInstallError(
                f"{hook} exists and was not written by reviewtool; rerun with --force to "
                f"keep it (as {KEPT_NAME}, run first) and add reviewtool after it"
            )
        elif kept.exists() or kept.is_symlink():
            raise HookInstallError(
                f"both {hook} and {kept} exist; reviewtool will not overwrite either - "
                "merge them by hand, then rerun"
            )
        else:
            # os.replace moves a symlink itself, so a hook shared through a link keeps working.
            os.replace(hook, kept)
    _write_executable(hook, hook_script())
    return InstallResult(hook, action, kept if kept.exists() else None)


def uninstall(repo_dir: Path | str) -> InstallResult:
    """Remove reviewtool's pre-push hook and put back the hook it kept, if any."""
    directory = hooks_dir(repo_dir)
    hook, kept = directory / HOOK_NAME, directory / KEPT_NAME
    if not (hook.exists() or hook.is_symlink()):
        return InstallResult(hook, "absent")
    if not is_ours(hook):
        raise HookInstallError(f"{hook} was not written by reviewtool; leaving it alone")
    hook.unlink()
    if kept.exists() or kept.is_symlink():
        os.replace(kept, hook)
        return InstallResult(hook, "removed", hook)
    return InstallResult(hook, "removed")


def _write_executable(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".reviewtool-tmp")
    tmp.write_text(text, encoding="utf-8")
    mode = tmp.stat().st_mode
    tmp.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(tmp, path)
