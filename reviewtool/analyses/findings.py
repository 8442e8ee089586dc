"""The Finding model that every check produces and every door reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Severities from least to most serious; `--fail-on` compares by this order.
SEVERITIES = ("info", "warning", "error")

# Status of a finding across two versions of a series.
STATUSES = ("introduced", "fixed", "persisting")

# Where a finding's evidence comes from: whole functions of a tree, or a patch's hunks alone.
EVIDENCE_TREE = "tree"
EVIDENCE_HUNKS = "hunks"

# Why a function or file was not checked (DESIGN.md, `NotChecked`).
NOT_CHECKED_HUNKS_ONLY = "hunks-only"  # no tree: the patch shows only part of the function
NOT_CHECKED_UNPARSED = "unparsed"  # tree-sitter could not parse lines of the function
NOT_CHECKED_BOUND = "bound"  # the walker's work bound cut the exploration short
NOT_CHECKED_BINARY = "binary"  # a binary file: no text to read
NOT_CHECKED_ERROR = "error"  # the walker could not follow the function (internal error)
NOT_CHECKED_UNREADABLE = "unreadable"  # a hunk of the patch does not hold together: skipped
NOT_CHECKED_REASONS = (
    NOT_CHECKED_HUNKS_ONLY,
    NOT_CHECKED_UNPARSED,
    NOT_CHECKED_BOUND,
    NOT_CHECKED_BINARY,
    NOT_CHECKED_ERROR,
    NOT_CHECKED_UNREADABLE,
)


@dataclass(frozen=True)
class TraceStep:
    """One event on the path that leads to a finding."""

    line: int
    event: str


@dataclass(frozen=True)
class HunkEvidence:
    """One hunk a finding rests on: which patch, which file, its `@@` header and its lines."""

    patch_index: int | None
    file: str
    header: str
    text: str


@dataclass
class Finding:
    """One rule broken at one place, on one path, in one configuration."""

    rule: str
    severity: str
    file: str
    line: int
    function: str
    message: str
    version: str = ""
    config: str = ""
    trace: list[TraceStep] = field(default_factory=list)
    partial: bool = False
    status: str = ""
    patch_index: int | None = None
    # "tree" (whole functions), "hunks" (reasoned over a patch's hunks, no tree), "" unknown
    evidence: str = ""
    # With hunk evidence: the hunks the finding rests on, as the patches show them.
    hunks: list[HunkEvidence] = field(default_factory=list)

    def key(self) -> tuple[str, str, str, str]:
        """Identity across versions: the same rule in the same function of the same file."""
        return (self.rule, self.file, self.function, self.config)

    def to_json(self) -> dict:
        """The stable JSON shape (DESIGN.md contract)."""
        data = asdict(self)
        data["trace"] = [{"line": step.line, "event": step.event} for step in self.trace]
        return data

    def compiler_line(self) -> str:
        """`file:line: severity: rule: message`, as compilers and Coccinelle print."""
        return f"{self.file}:{self.line}: {self.severity}: {self.rule}: {self.message}"

    def trace_lines(self, indent: str = "    ") -> list[str]:
        """The trace under the compiler line: `file:line: event`, one step a line."""
        # line 0: the step happened in another file, which the event itself names
        return [
            f"{indent}{self.file}:{step.line}: {step.event}"
            if step.line
            else f"{indent}{step.event}"
            for step in self.trace
        ]


@dataclass
class NotChecked:
    """A function or file the checker could not check (or not fully), and why."""

    file: str
    function: str  # "" when the whole file was not checked
    reason: str  # one of NOT_CHECKED_REASONS
    detail: str = ""  # what a reader needs: which lines, what bound, what to do about it
    version: str = ""
    patch_index: int | None = None

    def key(self) -> tuple[str, str, str]:
        """One entry per function (or file) and reason."""
        return (self.file, self.function, self.reason)

    def to_json(self) -> dict:
        """The JSON shape: `{file, function, reason, detail, version, patch_index}`."""
        return asdict(self)

    def text(self) -> str:
        """`file: function: not checked (reason): detail`, one line for a terminal or a mail."""
        where = f"{self.file}: {self.function}" if self.function else self.file
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}: not checked ({self.reason}){detail}"


def severity_at_least(severity: str, threshold: str) -> bool:
    """True when `severity` is as serious as `threshold` or more."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
