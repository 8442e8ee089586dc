"""`reviewtool hook run`: check the commits of a push and decide whether it may go.

Only findings that the pushed commits introduce block (the way the kernel test robot splits
new warnings from old ones): a finding of the same rule in the same function at the base (the
parent of the first pushed commit) is listed as old. Internal errors follow `on_error`.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field, replace
from pathlib import Path

from reviewtool.analyses.findings import Finding, NotChecked, severity_at_least
from reviewtool.analyses.status import PERSISTING, compare_findings, pair_findings
from reviewtool.config import DEFAULT_FAIL_ON, Config, load_config, on_error_hint
from reviewtool.diff.model import is_c_path
from reviewtool.errors import ReviewtoolError
from reviewtool.hook.changes import CommitPatch, changed_c_paths, start_commit_patches
from reviewtool.hook.gitio import GitRepo
from reviewtool.hook.prepush import (
    PushRange,
    RefUpdate,
    parse_prepush,
    push_ranges,
    updates_for_range,
)
from reviewtool.hook.waivers import Waiver, find_waiver, load_waivers

EXIT_PASS = 0
EXIT_BLOCK = 1
# An internal error with on_error = "block": the usage/input-error code of every command.
EXIT_ERROR_BLOCK = 2

NEW, OLD, WAIVED = "new", "old", "waived"


@dataclass
class HookFinding:
    """A finding in a pushed commit, and what the hook makes of it."""

    finding: Finding
    commit: CommitPatch
    ref: str
    status: str = NEW
    base: str | None = None
    waiver: Waiver | None = None
    # A later pushed commit whose version of the function no longer has the finding.
    fixed_by: CommitPatch | None = None


@dataclass
class HookResult:
    """Everything one run found; the CLI prints it and returns `exit_code()`."""

    remote: str | None = None
    ranges: list[PushRange] = field(default_factory=list)
    commits: int = 0
    c_commits: int = 0
    functions_checked: int = 0
    findings: list[HookFinding] = field(default_factory=list)
    expired_waivers: list[Waiver] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Changed functions of the pushed commits the checker could not check whole, and why.
    not_checked: list[NotChecked] = field(default_factory=list)
    fail_on: str = DEFAULT_FAIL_ON
    on_error: str = "warn"
    error: str | None = None

    @property
    def blocking(self) -> list[HookFinding]:
        """New, unwaived findings at or above `fail_on`: the ones that refuse the push."""
        return [
            item
            for item in self.findings
            if item.status == NEW and severity_at_least(item.finding.severity, self.fail_on)
        ]

    def exit_code(self) -> int:
        """0 to let the push go, non-zero to refuse it."""
        if self.error is not None:
            return EXIT_ERROR_BLOCK if self.on_error == "block" else EXIT_PASS
        return EXIT_BLOCK if self.blocking else EXIT_PASS


def run_hook(
    repo_dir: Path | str,
    stdin_text: str,
    remote: str | None = None,
    today: dt.date | None = None,
    from_ref: str | None = None,
    to_ref: str | None = None,
) -> HookResult:
    """Check what a push sends; errors end up in `result.error`, never raised.

    The hook is the last thing between a developer and a push: a bug in reviewtool must not
    be able to stop work unless the project asked for that with `on_error = "block"`.
    With `to_ref`, the push is `from_ref..to_ref` instead of git's input in `stdin_text`.
    """
    result = HookResult(remote=remote)
    root = Path(repo_dir)
    repo: GitRepo | None = None
    try:
        repo = GitRepo.discover(root)
        root = repo.root
        config = load_config(root)
        result.fail_on, result.on_error = config.fail_on, config.on_error
        waivers = load_waivers(root)
        if to_ref:
            updates = updates_for_range(repo, from_ref, to_ref)
        else:
            updates = parse_prepush(stdin_text)
        _check_push(repo, config, updates, result)
        _apply_waivers(result, waivers, today or dt.date.today())
    except ReviewtoolError as exc:
        result.error = str(exc)
        result.on_error = _on_error_after_failure(result, root)
    except Exception as exc:  # noqa: BLE001 - on_error decides what a reviewtool bug does
        result.error = f"internal error: {type(exc).__name__}: {exc}"
        result.on_error = _on_error_after_failure(result, root)
    finally:
        if repo is not None:
            repo.close()
    return result


def _on_error_after_failure(result: HookResult, root: Path) -> str:
    # If the config itself failed to load, result.on_error still holds the default.
    if result.on_error == "block":
        return "block"
    return on_error_hint(root)


def _check_push(
    repo: GitRepo, config: Config, updates: list[RefUpdate], result: HookResult
) -> None:
    result.ranges = push_ranges(repo, updates)
    shas = list(dict.fromkeys(sha for pushed in result.ranges for sha in pushed.commits))
    result.commits = len(shas)
    pending = start_commit_patches(repo, shas)
    # While git computes the diffs, load the checker if the push changes a C file at all.
    analyser = _early_analyser(repo, config, shas)
    patches = pending()
    in_scope = {
        sha: [
            change
            for change in patches[sha].files
            if change.new_path is not None
            and is_c_path(change.path)
            and config.wants_path(change.path)
        ]
        for sha in shas
    }
    result.c_commits = sum(1 for sha in shas if in_scope[sha])
    if not result.c_commits:
        return  # nothing for the C analyses: do not even load the parser

    if analyser is None:
        from reviewtool.hook.analyse import TreeAnalyser

        analyser = TreeAnalyser(repo, config.spec_files)
    pushed_shas = dict.fromkeys(sha for pushed in result.ranges for sha in pushed.commits)
    analyser.prepare(
        [(patches[sha], c) for sha in pushed_shas for c in in_scope[sha] if not c.binary]
    )
    done: set[str] = set()
    for pushed in result.ranges:
        ref = pushed.update.describe()
        found = _check_range(analyser, pushed, patches, in_scope, done, ref, result)
        _mark_old(analyser, pushed, patches, found)
        result.findings.extend(found)


def _early_analyser(repo: GitRepo, config: Config, shas: list[str]):  # noqa: ANN202
    """The analyser, its checker imported and its spec read, when the commits change a C file
    the config wants; None otherwise (a push without C must not load the parser)."""
    try:
        names = changed_c_paths(repo, shas)
    except ReviewtoolError:
        return None  # the diff's own reading says what is wrong
    if not any(is_c_path(name) and config.wants_path(name) for name in names):
        return None
    from reviewtool.hook.analyse import TreeAnalyser

    analyser = TreeAnalyser(repo, config.spec_files)
    try:
        analyser.warm_up()
    except Exception:  # noqa: BLE001,S110 - raised again where the check needs it, in order
        pass
    return analyser


def _check_range(
    analyser,  # noqa: ANN001 - TreeAnalyser, imported lazily
    pushed: PushRange,
    patches: dict[str, CommitPatch],
    in_scope: dict,
    done: set[str],
    ref: str,
    result: HookResult,
) -> list[HookFinding]:
    """Findings of the commits of one range, each reported at the first commit that has it.

    Each commit's findings in the functions it changes are paired with those still open
    there by the status engine (`analyses.status`): a new one is reported at this commit, an
    open one no longer found is marked fixed by it."""
    found: list[HookFinding] = []
    open_items: dict[str, list[HookFinding]] = {}  # reported and not fixed since, per path
    for sha in pushed.commits:
        if sha in done:
            continue
        done.add(sha)
        patch = patches[sha]
        for change in in_scope[sha]:
            if change.binary:
                found.append(HookFinding(binary_finding(change.path), patch, ref))
                continue
            functions, outcome = analyser.check_change(patch, change)
            result.functions_checked += len(functions)
            result.notes.extend(note for note in outcome.notes if note not in result.notes)
            seen = {item.key() for item in result.not_checked}
            for item in outcome.not_checked:
                if item.key() not in seen:
                    result.not_checked.append(item)
                    seen.add(item.key())
            still_open = open_items.setdefault(change.path, [])
            # Only the functions checked again here can say whether a finding is still there.
            rechecked = [item for item in still_open if item.finding.function in functions]
            same = functools.partial(_identity, path=change.path)
            twins, gone = pair_findings(
                [item.finding for item in rechecked], outcome.findings, old_key=same, new_key=same
            )
            for finding, twin in zip(outcome.findings, twins, strict=True):
                if twin is None:
                    item = HookFinding(finding, patch, ref)
                    still_open.append(item)
                    found.append(item)
            gone_ids = {id(finding) for finding in gone}
            for item in rechecked:
                if id(item.finding) in gone_ids:
                    item.fixed_by = item.fixed_by or patch
                    still_open.remove(item)
    return found


# Rule of the finding for a C file the hook could not read (see binary_finding).
NOT_CHECKED_RULE = "not-checked"


def binary_finding(path: str) -> Finding:
    """A C file git calls binary: its changed lines cannot be read from the patch, so it was
    not checked. An error, not silence: a NUL byte must not be a way past the hook (a
    deliberate binary file is waived like any finding: `not-checked file:PATH reason`)."""
    return Finding(
        rule=NOT_CHECKED_RULE,
        severity="error",
        file=path,
        line=0,
        function="",
        message="not checked: binary (git calls this C file binary: a NUL byte or a -diff "
        "attribute), so none of its changes could be read",
    )


def _mark_old(
    analyser,  # noqa: ANN001
    pushed: PushRange,
    patches: dict[str, CommitPatch],
    found: list[HookFinding],
) -> None:
    """Mark findings already there at the range's base: the status engine of the review
    (`analyses.status`) decides, with paths mapped across the push's renames."""
    if pushed.base is None or not found:
        return
    renamed = _rename_map(pushed, patches)
    wanted: dict[str, set[str]] = {}
    for item in found:
        if item.finding.rule == NOT_CHECKED_RULE:
            continue  # nothing to look up at the base: the file was never read
        base_path = renamed.get(item.finding.file, item.finding.file)
        wanted.setdefault(base_path, set()).add(item.finding.function)
    at_base: list[Finding] = []
    base_paths: dict[int, str] = {}
    for base_path, functions in wanted.items():
        for finding in analyser.check(pushed.base, base_path, functions).findings:
            base_paths[id(finding)] = base_path
            at_base.append(finding)
    pushed_findings = [replace(item.finding) for item in found]  # the engine marks its input
    marked = compare_findings(
        at_base,
        pushed_findings,
        old_key=lambda f: _identity(f, base_paths[id(f)]),
        new_key=lambda f: _identity(f, renamed.get(f.file, f.file)),
    )
    for item, finding in zip(found, marked[: len(found)], strict=True):
        if finding.status == PERSISTING:
            item.status, item.base = OLD, pushed.base


def _rename_map(pushed: PushRange, patches: dict[str, CommitPatch]) -> dict[str, str]:
    """Path after the pushed commits -> path at the base, for files the push renamed."""
    to_base: dict[str, str] = {}
    for sha in pushed.commits:
        for change in patches[sha].files:
            if change.old_path and change.new_path and change.old_path != change.new_path:
                to_base[change.new_path] = to_base.get(change.old_path, change.old_path)
    return to_base


def _identity(finding: Finding, path: str) -> tuple:
    # Finding.key() without trusting the checker to echo the path back unchanged.
    return (finding.rule, path, finding.function, finding.config)


def _apply_waivers(result: HookResult, waivers: list[Waiver], today: dt.date) -> None:
    result.expired_waivers = [waiver for waiver in waivers if waiver.expired(today)]
    for item in result.findings:
        waiver = find_waiver(item.finding, waivers, today)
        if waiver is not None:
            item.status, item.waiver = WAIVED, waiver
