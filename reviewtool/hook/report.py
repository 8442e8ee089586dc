"""The hook's terminal output: compiler-style finding lines, traces, and a verdict line.

Each finding prints as `file:line: severity: rule: message` (what editors and CI log parsers
already understand), its trace indented under it, then where it came from. The last line
always says what happens to the push, and when the push is refused, how to bypass it and how
to waive the finding.
"""

from __future__ import annotations

from reviewtool.hook.run import NEW, OLD, WAIVED, HookFinding, HookResult
from reviewtool.hook.waivers import WAIVERS_FILE, waiver_line_for
from reviewtool.render.terminal import terminal_safe

PREFIX = "reviewtool"
INDENT = "    "
BYPASS = "git push --no-verify"


def format_result(result: HookResult) -> str:
    """The whole text the hook prints for one run (ends with a newline)."""
    lines: list[str] = []
    for waiver in result.expired_waivers:
        lines.append(
            f"{PREFIX}: warning: {waiver.location()}: waiver '{waiver.spelling()}' expired on "
            f"{waiver.expires.isoformat() if waiver.expires else '?'}; it no longer applies"
        )
    if result.error is not None:
        lines.append(_error_line(result))
        return terminal_safe("\n".join(lines) + "\n")
    lines.append(_summary_line(result))
    groups = (
        (NEW, "new findings in the pushed commits:"),
        (OLD, "old findings (already at the base of the push; not blocking):"),
        (WAIVED, f"waived findings (see {WAIVERS_FILE}):"),
    )
    for status, title in groups:
        items = [item for item in result.findings if item.status == status]
        if items:
            lines.append(title)
            for item in items:
                lines.extend(format_finding(item, result.fail_on))
    for pushed in result.ranges:
        if pushed.truncated:
            lines.append(
                f"{PREFIX}: note: {pushed.update.describe()} sends more than "
                f"{len(pushed.commits)} commits; only the newest {len(pushed.commits)} were checked"
            )
    for item in result.not_checked:
        lines.append(f"{PREFIX}: {item.text()}")
    for note in result.notes:
        if not any(item.detail and item.detail in note for item in result.not_checked):
            lines.append(f"{PREFIX}: note: {note}")
    lines.append(_verdict_line(result))
    # Subjects, paths and messages come from commits: shown, never obeyed by the terminal.
    return terminal_safe("\n".join(lines) + "\n")


def format_finding(item: HookFinding, fail_on: str) -> list[str]:
    """The compiler line of one finding, its trace, and where it comes from."""
    finding = item.finding
    out = [finding.compiler_line(), *finding.trace_lines(INDENT)]
    where = f"in {finding.function}()" if finding.function else "at file scope"
    if finding.config:
        where += f" [{finding.config}]"
    if item.status == OLD:
        origin = f"already at base {item.base[:12] if item.base else '?'}"
    else:
        origin = f"introduced by {item.commit.short()}"
    out.append(f"{INDENT}{where}, {origin}, pushing {item.ref}")
    if item.fixed_by is not None and item.status == NEW:
        out.append(
            f"{INDENT}fixed again by {item.fixed_by.short()}, but the commits in between "
            "still carry it (each commit must stand on its own for bisection)"
        )
    if item.waiver is not None:
        out.append(f"{INDENT}waived by {item.waiver.location()}: {item.waiver.reason}")
    return out


def _summary_line(result: HookResult) -> str:
    refs = len(result.ranges)
    text = (
        f"{PREFIX}: checked {_count(result.commits, 'commit')} in {_count(refs, 'ref')}"
        f"{' to ' + result.remote if result.remote else ''}"
    )
    if result.commits:
        text += (
            f" ({result.c_commits} touching C in scope, "
            f"{_count(result.functions_checked, 'function')} checked)"
        )
    return text


def _verdict_line(result: HookResult) -> str:
    blocking = result.blocking
    if blocking:
        example = waiver_line_for(blocking[0].finding)
        return (
            f"{PREFIX}: push refused: {_count(len(blocking), 'new finding')} at or above "
            f"'{result.fail_on}'. Bypass once with `{BYPASS}`; to accept a finding, add a "
            f"line such as `{example}` to {WAIVERS_FILE}."
        )
    new = sum(1 for item in result.findings if item.status == NEW)
    old = sum(1 for item in result.findings if item.status == OLD)
    waived = sum(1 for item in result.findings if item.status == WAIVED)
    extras = [
        text
        for count, text in (
            (new, f"{_count(new, 'new finding')} below '{result.fail_on}'"),
            (old, f"{old} old"),
            (waived, f"{waived} waived"),
        )
        if count
    ]
    tail = f" ({', '.join(extras)})" if extras else ""
    if result.not_checked:
        # Not blocking (the hook must not stop work for the checker's own limits), but not
        # an all-clear either: say what the "ok" does not cover.
        return (
            f"{PREFIX}: ok: no new findings at or above '{result.fail_on}'{tail} in what was "
            f"checked; {_count(len(result.not_checked), 'changed function')} not checked "
            "(listed above)"
        )
    return f"{PREFIX}: ok: no new findings at or above '{result.fail_on}'{tail}"


def _error_line(result: HookResult) -> str:
    if result.on_error == "block":
        return (
            f"{PREFIX}: error: the check could not run: {result.error}. Push refused "
            f'(on_error = "block"). Fix the cause, or bypass once with `{BYPASS}`.'
        )
    return (
        f"{PREFIX}: warning: the check could not run: {result.error}. Letting the push "
        f'through (on_error = "warn"; set on_error = "block" to refuse instead).'
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
