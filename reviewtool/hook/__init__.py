"""The git pre-push hook: the same analyses on the commits a developer is about to push.

`install`/`uninstall` manage the hook script; `run_hook` checks a push (git's pre-push input)
and returns a `HookResult`; `format_result` renders it; `analyse_commit` is the per-commit
analysis with the repository as the tree.

The names are imported on first use: the hook runs on every push, and `hook run` must not pay
for the installer's or the analyser's imports before it knows it needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reviewtool.lazy import lazy_exports

if TYPE_CHECKING:
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
    from reviewtool.hook.waivers import (
        WAIVERS_FILE,
        Waiver,
        WaiverError,
        load_waivers,
        parse_waivers,
    )

_HOME = {
    "TreeAnalyser": ".analyse",
    "analyse_commit": ".analyse",
    "KEPT_NAME": ".install",
    "HookInstallError": ".install",
    "InstallResult": ".install",
    "hook_script": ".install",
    "hooks_dir": ".install",
    "install": ".install",
    "uninstall": ".install",
    "PushRange": ".prepush",
    "RefUpdate": ".prepush",
    "parse_prepush": ".prepush",
    "push_ranges": ".prepush",
    "format_result": ".report",
    "HookFinding": ".run",
    "HookResult": ".run",
    "run_hook": ".run",
    "WAIVERS_FILE": ".waivers",
    "Waiver": ".waivers",
    "WaiverError": ".waivers",
    "load_waivers": ".waivers",
    "parse_waivers": ".waivers",
}

__all__ = [
    "HookFinding",
    "HookInstallError",
    "HookResult",
    "InstallResult",
    "KEPT_NAME",
    "PushRange",
    "RefUpdate",
    "TreeAnalyser",
    "WAIVERS_FILE",
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


__getattr__ = lazy_exports(__name__, _HOME, globals())
