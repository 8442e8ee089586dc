"""The git pre-push hook: the same analyses on the commits a developer is about to push.

`install`/`uninstall` manage the hook script; `run_hook` checks a push (git's pre-push input)
and returns a `HookResult`; `format_result` renders it; `analyse_commit` is the per-commit
analysis with the repository as the tree.
"""

from reviewtool.hook.analyse import TreeAnalyser, analyse_commit
from reviewtool.hook.install import (
    KEPT_NAME,
    HookInstallError,
    InstallResult,
    hook_script,
    hooks_dir,
    install,
    uninstall,
)
from reviewtool.hook.prepush import PushRange, RefUpdate, parse_prepush, push_ranges
from reviewtool.hook.report import format_result
from reviewtool.hook.run import HookFinding, HookResult, run_hook
from reviewtool.hook.waivers import WAIVERS_FILE, Waiver, WaiverError, load_waivers, parse_waivers

__all__ = [
    "KEPT_NAME",
    "WAIVERS_FILE",
    "HookFinding",
    "HookInstallError",
    "HookResult",
    "InstallResult",
    "PushRange",
    "RefUpdate",
    "TreeAnalyser",
    "Waiver",
    "WaiverError",
    "analyse_commit",
    "format_result",
    "hook_script",
    "hooks_dir",
    "install",
    "load_waivers",
    "parse_prepush",
    "parse_waivers",
    "push_ranges",
    "run_hook",
    "uninstall",
]
