"""The checker over a revision of a series: per patch, the functions it changes, before/after.

With a repository the patches are applied on the base in a private temporary index and whole files
are checked; without one, the function images the hunks show are checked (whole when the hunk
shows the whole function, partial findings otherwise).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from reviewtool.analyses.findings import (
    NOT_CHECKED_BINARY,
    NOT_CHECKED_HUNKS_ONLY,
    NOT_CHECKED_UNREADABLE,
    Finding,
    NotChecked,
)
from reviewtool.analyses.spec.check import CheckResult, check_source
from reviewtool.analyses.spec.from_hunks import findings_from_hunks
from reviewtool.analyses.spec.model import Spec, SpecSet, companions_of
from reviewtool.analyses.status import compare_findings
from reviewtool.cparse import parse_c
from reviewtool.diff import FunctionImage, diff_problems, function_images
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.errors import UsageError

_COMMENT_TAIL_RE = re.compile(r"^\s*\*(?!\w)")


def _companions(path: str) -> list[str]:
    return companions_of(path)


def _changed_functions(images: list[FunctionImage], path: str) -> set[str]:
    return {i.function for i in images if i.path == path and i.function and i.changed}


def _changed_lines(images: list[FunctionImage], path: str) -> tuple[set[int], set[int]]:
    """Lines of `path` a patch removes (old numbers) and adds or removes at (new numbers)."""
    old: set[int] = set()
    new: set[int] = set()
    for image in images:
        if image.path != path:
            continue
        old.update(image.removed_lines)
        new.update(image.added_lines)
        if image.removed_lines and not image.added_lines:
            new.add(image.new_start)  # where the removed lines stood, as the new text reads
    return old, new


def _changed_in_tree(images, path: str, before: str | None, after: str | None) -> set[str]:
    """The functions a patch changes in `path`, read from the texts around its lines: a
    hunk's `@@` context names the function above the first line only, and none at all
    after a label or a nested definition, where a change would then go unchecked."""
    from reviewtool.analyses.spec.selection import functions_at  # noqa: PLC0415

    old, new = _changed_lines(images, path)
    found = set(_changed_functions(images, path))
    if before and old:
        found |= functions_at(before, old)
    if after and new:
        found |= functions_at(after, new)
    return found


def _tag(findings: list, label: str, index: int) -> list:
    """Set the version and patch of findings (or NotChecked entries) of one patch."""
    for finding in findings:
        finding.version = label
        finding.patch_index = index
    return findings


@dataclass
class RevisionCheck:
    """The checker's answer on one revision: findings, functions checked whole, and every
    changed function or file it could not check, with the reason."""

    findings: list[Finding] = field(default_factory=list)
    checked: list[tuple[int, str, str]] = field(default_factory=list)  # (patch, file, function)
    not_checked: list[NotChecked] = field(default_factory=list)

    def absorb(self, result: CheckResult, path: str, label: str, index: int) -> None:
        """Take the per-function verdicts of one check_source() run on `path`."""
        self.checked += [(index, path, name) for name in result.checked]
        self.not_checked += _tag([replace(n) for n in result.not_checked], label, index)

    def settle(self) -> None:
        """One entry per function and reason, from the last patch that touched the function;
        none for a function a later patch let the checker see whole."""
        last_whole = {(path, name): index for index, path, name in self.checked}
        latest: dict[tuple[str, str, str], NotChecked] = {}
        for item in sorted(self.not_checked, key=lambda n: n.patch_index or 0):
            if last_whole.get((item.file, item.function), -1) > (item.patch_index or 0):
                continue
            latest.pop(item.key(), None)
            latest[item.key()] = item
        self.not_checked = list(latest.values())


def _binary_files(patch) -> list[str]:
    from reviewtool.diff import parse_patch_diff  # noqa: PLC0415

    try:
        return [f.path for f in parse_patch_diff(patch.diff).files if f.binary]
    except Exception:  # noqa: BLE001 - a diff unidiff cannot read has no binary part we know of
        return []


def _not_checked_binary(revision, out: RevisionCheck) -> None:
    for patch in revision.patches:
        for path in _binary_files(patch):
            out.not_checked.append(
                NotChecked(
                    path,
                    "",
                    NOT_CHECKED_BINARY,
                    "binary file: no text to check",
                    revision.label,
                    patch.index,
                )
            )


def _not_checked_unreadable(revision, out: RevisionCheck) -> None:
    """A hunk the diff reader could not read is skipped by every analysis; say so per file."""
    for patch in revision.patches:
        for problem in diff_problems(patch.diff) if patch.diff else []:
            path, _, why = problem.partition(": ")
            out.not_checked.append(
                NotChecked(
                    path,
                    "",
                    NOT_CHECKED_UNREADABLE,
                    f"a hunk could not be read and was skipped: {why}",
                    revision.label,
                    patch.index,
                )
            )


def _check_with_tree(revision, repo: str, base: str, spec) -> RevisionCheck:
    from reviewtool.diff.tree import apply_series  # noqa: PLC0415 - needs git only with --repo

    patches = sorted(revision.patches, key=lambda p: p.index)
    extra = sorted({c for p in patches for f in p.files for c in _companions(f)})
    applied, final = apply_series(repo, base, [p.diff for p in patches], extra)
    out = RevisionCheck()
    # The C files the series touches, as they stand before and after each patch: what their
    # functions do to a page is summarised for callers in the other touched files.
    now: dict[str, str] = {}
    for state in reversed(applied):
        for path, files in state.files.items():
            if path.endswith(C_SUFFIXES) and files.before is not None:
                now[path] = files.before
    for patch, state in zip(patches, applied, strict=False):
        before_texts = dict(now)
        for path, files in state.files.items():
            if path.endswith(C_SUFFIXES):
                now[path] = files.after or ""
        summaries_before = _summaries(before_texts, final, spec)
        summaries_after = _summaries(now, final, spec)
        images = function_images(patch.diff)
        for path, files in state.files.items():
            if not path.endswith(C_SUFFIXES):
                continue
            changed = _changed_in_tree(images, path, files.before, files.after)
            if not changed:
                continue
            before, after = [], []
            if files.before:
                context = _side_context(state, final, path, "before")
                old = _check_side(path, files.before, changed, spec, context, summaries_before)
                before = old.findings
            if files.after:
                context = _side_context(state, final, path, "after")
                result = _check_side(path, files.after, changed, spec, context, summaries_after)
                after = result.findings
                out.absorb(result, path, revision.label, patch.index)
            out.findings += _tag(compare_findings(before, after), revision.label, patch.index)
    return out


def _side_context(state, final: dict, path: str, side: str) -> dict[str, str]:
    """The companions of `path` as they stand on one side (`before`/`after`) of a patch."""
    return {
        c: (getattr(state.files[c], side) if c in state.files else final.get(c)) or ""
        for c in _companions(path)
    }


def _check_side(path, text, changed, spec, context, summaries) -> CheckResult:
    """The changed functions of one side of a patch, checked with its companions (and, for
    the parked-field rule, all of them read whole)."""
    return check_source(
        path,
        text,
        changed,
        spec,
        context=context,
        summaries=summaries,
        whole_texts=(text, *context.values()),
    )


def _summaries(texts: dict[str, str], final: dict, spec):
    """Summaries of the functions of the touched C files (with their companions) that the
    other touched files call; None when there is only one file."""
    from reviewtool.analyses.spec.summaries import summarise_texts  # noqa: PLC0415 - --repo

    present = {path: text for path, text in texts.items() if text}
    if len(present) < 2:
        return None
    given = {
        path: (text, {c: _companion_text(c, texts, final) for c in _companions(path)})
        for path, text in present.items()
    }
    return summarise_texts(given, spec).rows or None


def _companion_text(path: str, texts: dict[str, str], final: dict) -> str:
    """A companion's text as the series leaves it at this point (or at its end)."""
    return texts.get(path) or final.get(path) or ""


def _hunk_function(text: str, start: int, function: str) -> str:
    """A hunk's part of a function, wrapped into a definition when the header is not in it.

    The padding line before the text carries the made-up header, so lines keep their numbers.
    """
    if any(f.name == function for f in parse_c(text).functions()):
        return text
    lines = text.split("\n")
    header = f"static int {function}(void) {{"
    if start >= 2:
        lines[start - 2] = header
    else:
        lines[0] = f"{header} {lines[0]}"
    return "\n".join(lines) + "\n}\n"


@dataclass
class _Visible:
    """What a patch's hunks show of one function on one side, hunks merged at their lines."""

    path: str
    function: str
    lines: dict[int, str] = field(default_factory=dict)
    complete: bool = False
    _padded: str | None = field(default=None, repr=False, compare=False)

    def add(self, text: str, start: int, complete: bool) -> None:
        self._padded = None
        lines = text.split("\n")
        # A hunk may begin or end inside a comment; half a comment turns the rest into junk.
        head = 0
        while head < len(lines) and _COMMENT_TAIL_RE.match(lines[head]):
            head += 1
        tail = len(lines)
        opened = max((i for i, line in enumerate(lines) if "/*" in line), default=-1)
        if opened >= head and "*/" not in "\n".join(lines[opened:]).split("/*", 1)[-1]:
            tail = opened
        for offset in range(head, tail):
            self.lines[start + offset] = lines[offset]
        self.complete = self.complete or complete

    @property
    def start(self) -> int:
        return min(self.lines)

    def padded(self) -> str:
        """The visible lines at their real line numbers, blank lines between hunks.

        Built once per function from its runs of lines (it is asked for again as context of
        every other changed function): the padding is made by string repetition, not a
        Python loop over thousands of blank line numbers.
        """
        if self._padded is None:
            parts = []
            previous = 1
            for number in sorted(self.lines):
                parts.append("\n" * (number - previous))
                parts.append(self.lines[number])
                previous = number
            self._padded = "".join(parts)
        return self._padded


def _visible(images: list[FunctionImage], side: str) -> dict[tuple[str, str], _Visible]:
    out: dict[tuple[str, str], _Visible] = {}
    for image in images:
        text = getattr(image, f"{side}_text")
        if not image.function or not text.strip():
            continue
        seen = out.setdefault((image.path, image.function), _Visible(image.path, image.function))
        complete = getattr(image, f"{side}_complete") or image.complete
        seen.add(text, getattr(image, f"{side}_start"), complete)
    return out


# A `@@` section that is a label (`out_unlock:`): git names the nearest line that starts with a
# letter, and inside a function body that is a label, so the hunk is in a function it does not
# name. A changed statement only a function body can hold says the same.
_LABEL_SECTION_RE = re.compile(r"^\s*[A-Za-z_]\w*:\s*(?:/[*/].*)?$")
_BODY_STATEMENT_RE = re.compile(
    r"^\s+(?:return\b|goto\s|break;|continue;|(?:if|while|for|switch)\s*\()"
)


def _unnamed_function_change(image: FunctionImage) -> bool:
    """True when a hunk changes lines inside a function whose name it does not show."""
    if image.function or not (image.removed_lines or image.added_lines):
        return False
    if _LABEL_SECTION_RE.match(image.section):
        return True
    changed = image.old_text.split("\n") + image.new_text.split("\n")
    return any(_BODY_STATEMENT_RE.match(line) for line in changed)


def _unnamed_not_checked(image: FunctionImage, label: str, index: int) -> NotChecked:
    lines = image.added_lines or image.removed_lines
    side = "new" if image.added_lines else "old"
    where = f"{min(lines)}-{max(lines)}" if len(lines) > 1 else str(lines[0])
    named = f" (its @@ line names {image.section.strip()!r})" if image.section.strip() else ""
    return NotChecked(
        image.path,
        "",
        NOT_CHECKED_HUNKS_ONLY,
        f"no tree, and the hunk changing {side} line(s) {where} does not show which function "
        f"they belong to{named}; --repo reads the whole function",
        label,
        index,
    )


def _check_images(revision, spec) -> RevisionCheck:
    out = RevisionCheck()
    for patch in sorted(revision.patches, key=lambda p: p.index):
        images = [i for i in function_images(patch.diff) if i.path.endswith(C_SUFFIXES)]
        for image in images:
            if _unnamed_function_change(image):
                out.not_checked.append(_unnamed_not_checked(image, revision.label, patch.index))
        changed = {(i.path, i.function) for i in images if i.function and i.changed}
        sides = {side: _visible(images, side) for side in ("old", "new")}
        for key in sorted(changed):
            found = []
            for side in ("old", "new"):
                seen = sides[side].get(key)
                if seen is None or not seen.lines:
                    found.append([])
                    continue
                text = seen.padded()
                if not seen.complete:
                    text = _hunk_function(text, seen.start, seen.function)
                context = {
                    f"{other.path} ({other.function})": other.padded()
                    for other_key, other in sides[side].items()
                    if other_key != key and other.lines
                }
                result = check_source(
                    seen.path,
                    text,
                    {seen.function},
                    spec,
                    partial=not seen.complete,
                    context=context,
                )
                found.append(result.findings)
                if side == "new":
                    _judge_image(out, result, seen, revision.label, patch.index)
            out.findings += _tag(compare_findings(found[0], found[1]), revision.label, patch.index)
    return out


def _judge_image(out: RevisionCheck, result: CheckResult, seen: _Visible, label, index) -> None:
    """What the check of a function's new image covered: whole, or the hunks' part only."""
    if seen.complete:
        out.absorb(result, seen.path, label, index)
        return
    first, last = min(seen.lines), max(seen.lines)
    out.not_checked.append(
        NotChecked(
            seen.path,
            seen.function,
            NOT_CHECKED_HUNKS_ONLY,
            f"no tree, the patch shows lines {first}-{last} only; leaks judged only from "
            "hunks (--repo checks it whole)",
            label,
            index,
        )
    )
    # Unparsed lines of a fragment are not news: "hunks only" already says it was not whole.


def check_revision_result(
    revision,
    repo: str | None = None,
    base: str | None = None,
    spec: Spec | SpecSet | None = None,
) -> RevisionCheck:
    """check_revision() with what it covered: the functions checked whole and every changed
    function or file it could not check (no tree, unparsed lines, bound, binary), per patch."""
    if repo:
        base = base or revision.base_commit
        if not base:
            raise UsageError(
                f"{revision.label}: no base commit in the mail; pass --base REV to use --repo"
            )
        out = _check_with_tree(revision, repo, base, spec)
    else:
        out = _check_images(revision, spec)
        out.findings = with_hunk_findings(out.findings, findings_from_hunks(revision, spec))
    _not_checked_binary(revision, out)
    _not_checked_unreadable(revision, out)
    out.settle()
    return out


def with_hunk_findings(found: list[Finding], from_hunks: list[Finding]) -> list[Finding]:
    """The walker's findings plus those reasoned over the hunks, one per patch and identity:
    where the walker saw the same thing in the same patch, its finding stands."""
    seen = {(f.patch_index, f.status, *f.key()) for f in found}
    return found + [f for f in from_hunks if (f.patch_index, f.status, *f.key()) not in seen]


def check_revision(
    revision,
    repo: str | None = None,
    base: str | None = None,
    spec: Spec | SpecSet | None = None,
) -> list[Finding]:
    """Findings in the functions each patch of `revision` changes, marked introduced/fixed/
    persisting against the same functions before that patch."""
    return check_revision_result(revision, repo, base, spec).findings


def check_series(
    revisions: list,
    repo: str | None = None,
    base: str | None = None,
    spec: Spec | SpecSet | None = None,
) -> dict[str, list[Finding]]:
    """check_revision() for each revision of a series, keyed by revision label (per-patch
    status: which patch of that version introduced or fixed each finding)."""
    return {r.label: check_revision(r, repo, base, spec) for r in revisions}
