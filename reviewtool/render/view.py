"""What every renderer derives from a Review the same way: diffstats, code excerpts, dates.

Kept apart from the formats so the HTML, the terminal text and the bot's mail never disagree
on a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.diff.model import read_diff
from reviewtool.render.names import person_name  # noqa: F401 - re-exported
from reviewtool.review import AnalysisNote
from reviewtool.series.model import Patch, Revision

# Lines of code shown around a finding when its trace does not say how much to show.
EXCERPT_BEFORE = 6
EXCERPT_AFTER = 4
# An excerpt never grows past this many lines, however long the trace.
EXCERPT_MAX_LINES = 40


@dataclass
class FileStat:
    """Lines added and removed in one file of a patch."""

    path: str
    added: int = 0
    removed: int = 0

    @property
    def changed(self) -> int:
        return self.added + self.removed


@dataclass
class DiffStat:
    """The diffstat of a patch: per file and in total."""

    files: list[FileStat] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(f.added for f in self.files)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.files)

    def summary(self) -> str:
        """`3 files changed, 10 insertions(+), 2 deletions(-)` as git prints it."""
        n = len(self.files)
        parts = [f"{n} file{'s' if n != 1 else ''} changed"]
        if self.added:
            parts.append(f"{self.added} insertion{'s' if self.added != 1 else ''}(+)")
        if self.removed:
            parts.append(f"{self.removed} deletion{'s' if self.removed != 1 else ''}(-)")
        return ", ".join(parts)


def diffstat(diff: str) -> DiffStat:
    """Count added and removed lines per file of a unified diff, as `git apply` counts them."""
    stat = DiffStat()
    for diff_file in read_diff(diff, lenient=True).files:
        lines = [line for hunk in diff_file.hunks for line in hunk.lines]
        stat.files.append(
            FileStat(
                diff_file.path,
                added=sum(1 for line in lines if line.kind == "+"),
                removed=sum(1 for line in lines if line.kind == "-"),
            )
        )
    return stat


@dataclass
class DiffRow:
    """One row of a diff as shown: a line of `diff.model` (read there, never here) or a header."""

    kind: str  # file, meta, hunk, add, del, ctx
    text: str  # the line without its +/-/space marker (whole line for file/meta/hunk)
    old_no: int | None = None
    new_no: int | None = None


@dataclass
class DiffFile:
    """One file of a patch: its path and its lines."""

    path: str
    lines: list[DiffRow] = field(default_factory=list)


_ROW_KINDS = {"+": "add", "-": "del", " ": "ctx"}


def parse_diff(diff: str) -> list[DiffFile]:
    """A unified diff as rows to show: files and classified lines with line numbers.

    Read by the one diff reader (`diff.model.read_diff`), so a row is added or removed exactly
    when `git apply` adds or removes it.
    """
    files: list[DiffFile] = []
    for diff_file in read_diff(diff, lenient=True).files:
        current = DiffFile(diff_file.path)
        files.append(current)
        for number, line in enumerate(diff_file.header):
            kind = "file" if number == 0 and line.startswith("diff --git ") else "meta"
            current.lines.append(DiffRow(kind, line))
        for hunk in diff_file.hunks:
            current.lines.append(DiffRow("hunk", hunk.header))
            for index, line in enumerate(hunk.lines):
                current.lines.append(
                    DiffRow(_ROW_KINDS[line.kind], line.text, line.old_line, line.new_line)
                )
                if index in hunk.markers:
                    current.lines.append(DiffRow("meta", hunk.markers[index]))
            current.lines.extend(DiffRow("meta", line) for line in hunk.trailing)
    return files


@dataclass
class Excerpt:
    """Lines of a revision's code around a finding, as its patches show them."""

    path: str
    patch_index: int | None
    lines: list[DiffRow]
    focus: int  # the finding's line
    trace_lines: frozenset[int] = frozenset()


def _same_path(a: str, b: str) -> bool:
    a, b = a.removeprefix("b/").lstrip("./"), b.removeprefix("b/").lstrip("./")
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def excerpt_for(
    finding: Finding, revision: Revision | None, source: str | None = None
) -> Excerpt | None:
    """The post-image lines around a finding: from the hunk of the revision that shows them
    (it shows what the patch removed too), else from `source`, the whole file after the
    finding's patch when the review had a tree."""
    hunk = _excerpt_from_hunks(finding, revision) if revision is not None else None
    if hunk is not None or source is None:
        return hunk
    return _excerpt_from_source(finding, revision, source)


def _excerpt_from_source(finding: Finding, revision: Revision | None, source: str) -> Excerpt:
    text = source.split("\n")
    trace = frozenset(step.line for step in finding.trace)
    lo, hi = finding.line - EXCERPT_BEFORE, finding.line + EXCERPT_AFTER
    # Trace steps close above the finding belong in view; ones in a caller far away do not.
    near = [n for n in trace if finding.line - EXCERPT_MAX_LINES // 2 <= n <= finding.line]
    lo = min([lo, *(n - 1 for n in near)])
    lo, hi = max(lo, 1), min(hi, len(text))
    added = _added_lines(finding, revision)
    lines = [
        DiffRow("add" if number in added else "ctx", text[number - 1], None, number)
        for number in range(lo, hi + 1)
    ]
    return Excerpt(finding.file, finding.patch_index, lines, finding.line, trace)


def _added_lines(finding: Finding, revision: Revision | None) -> set[int]:
    """Lines the finding's patch added to its file, numbered as in the file after it."""
    if revision is None or finding.patch_index is None:
        return set()
    patch = revision.patch(finding.patch_index)
    if patch is None:
        return set()
    return {
        line.new_no
        for diff_file in parse_diff(patch.diff)
        if _same_path(diff_file.path, finding.file)
        for line in diff_file.lines
        if line.kind == "add" and line.new_no is not None
    }


def _excerpt_from_hunks(finding: Finding, revision: Revision) -> Excerpt | None:
    patches: list[Patch] = list(revision.patches)
    if finding.patch_index is not None:
        # The finding's own patch first: a later patch may show the same lines renumbered.
        patches.sort(key=lambda p: (p.index != finding.patch_index, -p.index))
    else:
        patches.reverse()  # the last patch that touches a line shows it as the revision ends
    trace = frozenset(step.line for step in finding.trace)
    for patch in patches:
        for diff_file in parse_diff(patch.diff):
            if not _same_path(diff_file.path, finding.file):
                continue
            hunk = _hunk_holding(diff_file.lines, finding.line)
            if hunk is None:
                continue
            lines = _window(hunk, finding.line, trace)
            return Excerpt(diff_file.path, patch.index, lines, finding.line, trace)
    return None


def _hunk_holding(lines: list[DiffRow], line_no: int) -> list[DiffRow] | None:
    hunk: list[DiffRow] = []
    for line in lines + [DiffRow("hunk", "")]:
        if line.kind in ("hunk", "file"):
            if any(item.new_no == line_no for item in hunk):
                return hunk
            hunk = []
        elif line.kind in ("add", "del", "ctx"):
            hunk.append(line)
    return None


def _window(hunk: list[DiffRow], focus: int, trace: frozenset[int]) -> list[DiffRow]:
    """The lines from the first traced line (or a few before the focus) to a few after it."""
    numbers = [line.new_no for line in hunk if line.new_no is not None]
    lo = focus - EXCERPT_BEFORE
    hi = focus + EXCERPT_AFTER
    in_hunk = [n for n in trace if numbers and numbers[0] <= n <= numbers[-1]]
    if in_hunk:
        lo = min(lo, min(in_hunk) - 1)
        hi = max(hi, max(in_hunk) + 1)
    if hi - lo + 1 > EXCERPT_MAX_LINES:
        lo = max(lo, focus - EXCERPT_MAX_LINES // 2)
        hi = lo + EXCERPT_MAX_LINES - 1
    out: list[DiffRow] = []
    last_new = None
    for line in hunk:
        number = line.new_no if line.new_no is not None else last_new
        if line.new_no is not None:
            last_new = line.new_no
        if number is not None and lo <= number <= hi:
            out.append(line)
        elif number is None and lo <= numbers[0]:
            out.append(line)  # removed lines before the first numbered one
    return out


def fmt_date(value: datetime | None) -> str:
    """`2023-08-24 09:41` in the mail's own zone, or '' when unknown."""
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def fmt_day(value: datetime | None) -> str:
    """`2023-08-24`, or '' when unknown."""
    return value.strftime("%Y-%m-%d") if value else ""


def version_sort_key(label: str) -> tuple[int, int]:
    """`v5.1` -> (5, 1): order labels as versions, not strings."""
    text = label.lower().lstrip("v")
    major, _, minor = text.partition(".")
    try:
        return (int(major), int(minor or 0))
    except ValueError:
        return (0, 0)


@dataclass
class NoteGroup:
    """Notes of one analysis that failed for the same reason, with every scope it hit."""

    analysis: str
    reason: str
    scopes: list[str]

    @property
    def scope(self) -> str:
        return ", ".join(s for s in self.scopes if s) or "series"


def group_notes(notes: Iterable[AnalysisNote]) -> list[NoteGroup]:
    """Fold notes that repeat one reason over several versions into one line each."""
    groups: dict[tuple[str, str], NoteGroup] = {}
    for note in notes:
        key = (note.analysis, note.reason)
        group = groups.setdefault(key, NoteGroup(note.analysis, note.reason, []))
        group.scopes.append(note.scope)
    return list(groups.values())


def step_text(step: TraceStep) -> str:
    """`284: event`, or the event alone when the step has no line in the finding's file (the
    checker then names the place in the event)."""
    return f"{step.line}: {step.event}" if step.line else step.event


class MailLinks:
    """Links to messages in a web archive: `https://lore.kernel.org/all/{msgid}/` by default;
    a pattern without `{msgid}` gets the Message-ID and a slash appended; "" makes no links."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern.strip()

    def url(self, message_id: str) -> str:
        """The archive URL of one message, or '' when no archive is configured."""
        if not self.pattern or not message_id:
            return ""
        # A Message-ID may hold '/', '#', '?' or '%': each must stay part of the path.
        quoted = quote(message_id.strip("<>"), safe="@!$&'()*+,;=:-._~")
        if "{msgid}" in self.pattern:
            return self.pattern.replace("{msgid}", quoted)
        return self.pattern.rstrip("/") + "/" + quoted + "/"


def patch_count_text(revision: Revision) -> str:
    """`8 patches`, `3 of 8 patches`, `84 patches, none in the input`, `cover letter only`."""
    read = len(revision.patches)
    total = revision.total
    if total and read == 0:
        return f"{total} patch{'es' if total != 1 else ''}, none in the input"
    if total and read != total:
        return f"{read} of {total} patches"
    if read == 0:
        return "cover letter only"
    return f"{read} patch{'es' if read != 1 else ''}"
