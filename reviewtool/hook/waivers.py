"""Waivers: `.reviewtool-waivers`, one accepted finding per line, each with its reason.

Format (whitespace separates the fields; `#` starts a comment; blank lines are ignored):

    RULE  SCOPE  [EXPIRES]  REASON...

    leak  function:__kvm_faultin_pfn  2026-12-31  32-bit exit path, fixed by the next series
    release-without-reference  file:arch/powerpc/kvm/*  PPC code is not ours to change
    *     file:virt/kvm/kvm_main.c    generic helpers are reviewed upstream

- RULE is a finding rule (`leak`, `double-release`, ...) or `*` for every rule.
- SCOPE is `function:NAME` (that function in any file) or `file:GLOB` (a path or glob, as
  in the config's include/skip).
- EXPIRES is optional, `YYYY-MM-DD`: from the day after, the waiver no longer applies and the
  hook warns that it expired, so an accepted risk is looked at again.
- REASON is required: a waiver nobody can explain later is not a waiver.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from reviewtool.analyses.findings import Finding
from reviewtool.config import path_matches
from reviewtool.errors import InputError

WAIVERS_FILE = ".reviewtool-waivers"
ANY_RULE = "*"
SCOPE_KINDS = ("function", "file")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RULE = re.compile(r"[a-z0-9][a-z0-9-]*|\*")


class WaiverError(InputError):
    """A waivers file with a line that cannot be read."""


@dataclass(frozen=True)
class Waiver:
    """One line of the waivers file."""

    rule: str
    scope_kind: str
    scope: str
    reason: str
    expires: dt.date | None
    file: str
    line: int

    def location(self) -> str:
        """`file:line` of the waiver, for messages."""
        return f"{self.file}:{self.line}"

    def expired(self, today: dt.date) -> bool:
        """True once the expiry day has passed (the waiver holds through its last day)."""
        return self.expires is not None and today > self.expires

    def covers(self, finding: Finding) -> bool:
        """True when this waiver names the finding's rule and its function or file."""
        if self.rule not in (ANY_RULE, finding.rule):
            return False
        if self.scope_kind == "function":
            return finding.function == self.scope
        return path_matches(finding.file, self.scope)

    def spelling(self) -> str:
        """The waiver as it would be written in the file, without the reason."""
        expires = f" {self.expires.isoformat()}" if self.expires else ""
        return f"{self.rule} {self.scope_kind}:{self.scope}{expires}"


def parse_waivers(text: str, file: str = WAIVERS_FILE) -> list[Waiver]:
    """Parse the text of a waivers file; raises WaiverError naming the bad line."""
    waivers = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            waivers.append(_parse_line(line, file, number))
    return waivers


def load_waivers(root: Path) -> list[Waiver]:
    """The waivers of the project at `root`; none when the file is absent."""
    path = Path(root) / WAIVERS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(f"{path}: cannot read: {exc}") from exc
    return parse_waivers(text, WAIVERS_FILE)


def find_waiver(finding: Finding, waivers: list[Waiver], today: dt.date) -> Waiver | None:
    """The first waiver in force that covers `finding`, or None."""
    for waiver in waivers:
        if not waiver.expired(today) and waiver.covers(finding):
            return waiver
    return None


def waiver_line_for(finding: Finding) -> str:
    """A ready-to-edit waiver line for `finding`, shown in the hook's last line."""
    scope = f"function:{finding.function}" if finding.function else f"file:{finding.file}"
    return f"{finding.rule} {scope} <reason>"


def _parse_line(line: str, file: str, number: int) -> Waiver:
    where = f"{file}:{number}"
    fields = line.split(None, 3)
    if len(fields) < 3:
        raise WaiverError(f"{where}: expected 'RULE SCOPE [YYYY-MM-DD] REASON', got {line!r}")
    rule, scope_text = fields[0], fields[1]
    if not _RULE.fullmatch(rule):
        raise WaiverError(f"{where}: {rule!r} is not a rule name (or '*')")
    kind, sep, scope = scope_text.partition(":")
    if not sep or kind not in SCOPE_KINDS or not scope:
        raise WaiverError(
            f"{where}: scope {scope_text!r} must be 'function:NAME' or 'file:PATH-OR-GLOB'"
        )
    expires = None
    rest = fields[2:]
    if _DATE.fullmatch(rest[0]):
        try:
            expires = dt.date.fromisoformat(rest[0])
        except ValueError as exc:
            raise WaiverError(f"{where}: {rest[0]!r} is not a valid date") from exc
        rest = rest[1:]
    reason = " ".join(rest).strip()
    if not reason:
        raise WaiverError(f"{where}: a waiver needs a reason after the scope")
    return Waiver(rule, kind, scope, reason, expires, file, number)
