"""Score the checker against C files annotated semgrep-style (`// ruleid: leak`, `// ok: leak`).

An annotation applies to the next line that is not itself a comment. `// path: ...` on the
first line names the kernel file the code stands for.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from reviewtool.analyses.findings import Finding
from reviewtool.analyses.spec.check import check_source
from reviewtool.cparse import parse_c

_ANNOTATION_RE = re.compile(r"^\s*//\s*(ruleid|ok)\s*:\s*([\w,\s-]+?)\s*$")
_PATH_RE = re.compile(r"^\s*//\s*path\s*:\s*(\S+)")
_COMMENT_RE = re.compile(r"^\s*(//|/\*|\*)")


@dataclass
class Expectations:
    """What one annotated file expects: (line, rule) pairs that must and must not be flagged."""

    path: str
    must: set[tuple[int, str]] = field(default_factory=set)
    must_not: set[tuple[int, str]] = field(default_factory=set)


def read_expectations(text: str, default_path: str) -> Expectations:
    """The annotations of one C file."""
    lines = text.splitlines()
    found = _PATH_RE.match(lines[0]) if lines else None
    expect = Expectations(found.group(1) if found else default_path)
    pending: list[tuple[str, str]] = []
    for number, line in enumerate(lines, start=1):
        match = _ANNOTATION_RE.match(line)
        if match:
            for rule in re.split(r"[,\s]+", match.group(2).strip()):
                pending.append((match.group(1), rule))
            continue
        if pending and line.strip() and not _COMMENT_RE.match(line):
            for kind, rule in pending:
                (expect.must if kind == "ruleid" else expect.must_not).add((number, rule))
            pending = []
    return expect


@dataclass
class Score:
    """Per-rule counts: true positives, misses, false positives, ok-lines respected."""

    tp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    tn: Counter = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_positives: list[str] = field(default_factory=list)
    cases: int = 0

    def add(self, name: str, expect: Expectations, findings: list[Finding]) -> None:
        """Count one file's findings against its annotations."""
        flagged = {(f.line, f.rule) for f in findings}
        for line, rule in sorted(expect.must):
            if (line, rule) in flagged:
                self.tp[rule] += 1
            else:
                self.fn[rule] += 1
                self.misses.append(f"{name}:{line}: missed {rule}")
        for finding in findings:
            if (finding.line, finding.rule) not in expect.must:
                self.fp[finding.rule] += 1
                self.false_positives.append(
                    f"{name}:{finding.line}: {finding.rule}: {finding.message}"
                )
        for line, rule in expect.must_not:
            if (line, rule) not in flagged:
                self.tn[rule] += 1

    def rules(self) -> list[str]:
        """Every rule that appears in any count."""
        return sorted(set(self.tp) | set(self.fn) | set(self.fp) | set(self.tn))

    def recall(self, rule: str | None = None) -> float:
        """Share of expected findings found (1.0 when nothing was expected)."""
        tp = self.tp[rule] if rule else sum(self.tp.values())
        fn = self.fn[rule] if rule else sum(self.fn.values())
        return tp / (tp + fn) if tp + fn else 1.0

    def fp_rate(self, rule: str | None = None) -> float:
        """Share of findings that no annotation asked for (0.0 when there were none)."""
        tp = self.tp[rule] if rule else sum(self.tp.values())
        fp = self.fp[rule] if rule else sum(self.fp.values())
        return fp / (tp + fp) if tp + fp else 0.0


def score_corpus(root: Path) -> Score:
    """Run the checker over every `.c` file under `root` and score it."""
    score = Score()
    for path in sorted(root.rglob("*.c")):
        text = path.read_text(encoding="utf-8")
        expect = read_expectations(text, str(path))
        result = check_source(expect.path, text)
        score.cases += sum(1 for line in text.splitlines() if re.match(r"^\w.*\)\s*$", line))
        score.add(str(path.relative_to(root)), expect, result.findings)
    return score


@dataclass
class MutationScore:
    """Seeded-by-machine mutants: how many the checker noticed, per mutation operator."""

    made: Counter = field(default_factory=Counter)
    killed: Counter = field(default_factory=Counter)
    survivors: list[str] = field(default_factory=list)


_CALL_LINE_RE = re.compile(r"^(\s*)(\w+)\((.*)\);\s*$")


def _release_rows() -> dict:
    from reviewtool.analyses.spec.model import load_specs  # noqa: PLC0415 - benchmark only

    rows = {}
    for generation in load_specs().generations:
        for row in generation.rows_with("release"):
            rows.setdefault(row.name, row)
    return rows


def _dirty_marks() -> dict[str, str]:
    """The first mark-dirty API of the spec data per argument kind (pfn / page)."""
    from reviewtool.analyses.spec.model import load_specs  # noqa: PLC0415 - benchmark only

    found: dict[str, str] = {}
    for generation in load_specs().generations:
        for row in generation.rows_with("mark"):
            if row.dirty:
                found.setdefault(row.takes, row.name)
    return found


def _mutants(line: str, rows: dict, marks: dict[str, str]) -> list[tuple[str, str]]:
    """(operator, mutated line) for one line holding a single release call."""
    match = _CALL_LINE_RE.match(line)
    if not match or match.group(2) not in rows:
        return []
    indent, name, args = match.groups()
    row = rows[name]
    parts = [a.strip() for a in args.split(",")]
    if row.arg >= len(parts) or "(" in args:
        return []
    mark = marks[row.takes]
    return [
        ("delete a release", f"{indent};"),
        ("release -> mark dirty", f"{indent}{mark}({parts[row.arg]});"),
    ]


def mutation_score(root: Path) -> MutationScore:
    """Delete each release of the corpus's correct functions, or turn it into a mark-dirty, and
    count the mutants for which the checker reports something new (some mutants are
    equivalent: a release that is a no-op on every path reaching it)."""
    rows = _release_rows()
    marks = _dirty_marks()
    score = MutationScore()
    for path in sorted(root.rglob("*.c")):
        text = path.read_text(encoding="utf-8")
        expect = read_expectations(text, str(path))
        before = {(f.rule, f.line) for f in check_source(expect.path, text).findings}
        # Only correct functions: in a seeded one a new bug can hide behind the seeded one.
        seeded = [
            f for f in parse_c(text).functions() if any(f.contains(line) for line, _ in expect.must)
        ]
        lines = text.split("\n")
        for number, line in enumerate(lines):
            if any(f.contains(number + 1) for f in seeded):
                continue
            for operator, mutated in _mutants(line, rows, marks):
                score.made[operator] += 1
                changed = "\n".join([*lines[:number], mutated, *lines[number + 1 :]])
                after = {(f.rule, f.line) for f in check_source(expect.path, changed).findings}
                if after - before:
                    score.killed[operator] += 1
                else:
                    rel = path.relative_to(root)
                    score.survivors.append(f"{rel}:{number + 1}: {operator}: {line.strip()}")
    return score
