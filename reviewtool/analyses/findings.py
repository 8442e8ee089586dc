"""The Finding model that every check produces and every door reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Severities from least to most serious; `--fail-on` compares by this order.
SEVERITIES = ("info", "warning", "error")

# Status of a finding across two versions of a series.
STATUSES = ("introduced", "fixed", "persisting")


@dataclass(frozen=True)
class TraceStep:
    """One event on the path that leads to a finding."""

    line: int
    event: str


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


def severity_at_least(severity: str, threshold: str) -> bool:
    """True when `severity` is as serious as `threshold` or more."""
    return SEVERITIES.index(severity) >= SEVERITIES.index(threshold)
