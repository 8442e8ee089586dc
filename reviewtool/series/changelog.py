"""Cover-letter changelogs -> ChangelogStep list ("v7 -> v8:", "Changes in v8:", "v2:", ...)."""

from __future__ import annotations

import re

from reviewtool.series.model import ChangelogStep, Revision
from reviewtool.textlines import git_lines

# `v7 -> v8:`, `Changes v4 -> v5:`, `v1..v2`, `v2 to v3:`
ARROW_HEADER_RE = re.compile(
    r"^\s*(?:changes\s+|changelog\s+)?v(?P<a>\d+)\s*(?:->|-->|=>|→|\.\.|to)\s*v?(?P<b>\d+)\s*:?\s*$",
    re.I,
)
# `Changes from v7:`, `Changes since v7:`, `Since v1:` (what changed in the version after vA)
SINCE_HEADER_RE = re.compile(
    r"^\s*(?:changes\s+|changelog\s+)?(?:from|since|vs\.?|relative to)\s+v(?P<a>\d+)\b[^:]*:?\s*$",
    re.I,
)
# `Changes in v8:`, `Changes for v8:`, `Changelog v8:`
IN_HEADER_RE = re.compile(
    r"^\s*(?:changes|changelog)\s+(?:in\s+|for\s+)?v(?P<b>\d+)\s*:?\s*$", re.I
)
# `v2:` alone, or `V4: addressed review feedback` with its one item on the same line.
BARE_HEADER_RE = re.compile(r"^\s*v(?P<b>\d+)\s*:\s*(?P<rest>.*)$", re.I)
BULLET_RE = re.compile(r"^(?P<indent>\s*)(?:[-*+•o]|\d+[.)])\s+(?P<text>\S.*)$")
LINK_ITEM_RE = re.compile(r"^v\d+\s*:\s*(?P<url>https?://\S+)\s*$", re.I)
URL_ONLY_RE = re.compile(r"^https?://\S+$")


def parse_changelog(text: str, version: int | None = None) -> list[ChangelogStep]:
    """Every changelog step of a cover letter (or patch notes), in the order written."""
    steps: list[ChangelogStep] = []
    current: ChangelogStep | None = None
    item_indent = -1
    blank = False
    for raw in git_lines(text):
        line = raw.rstrip()
        header = _header(line, version)
        if header is not None:
            step, inline = header
            current = step
            steps.append(step)
            if inline:
                _add_item(step, inline)
            item_indent, blank = -1, False
            continue
        if current is None:
            continue
        if not line.strip():
            blank = True
            continue
        if URL_ONLY_RE.match(line.strip()) and not blank:
            current.links.append(line.strip())
            continue
        bullet = BULLET_RE.match(line)
        indent = len(line) - len(line.lstrip())
        if bullet:
            _add_item(current, bullet.group("text"))
            item_indent = len(bullet.group("indent"))
            blank = False
            continue
        if current.items and not blank and indent > max(item_indent, 0):
            current.items[-1] = f"{current.items[-1]} {line.strip()}"
            continue
        if not blank and item_indent < 0 and indent == 0 and not line.endswith(":"):
            # Items written as plain lines right under the header.
            _add_item(current, line.strip())
            continue
        current = None  # anything else ends the step
    return [s for s in steps if s.items or s.links]


def _add_item(step: ChangelogStep, text: str) -> None:
    text = text.strip()
    link = LINK_ITEM_RE.match(text)
    if link or URL_ONLY_RE.match(text):
        step.links.append(link.group("url") if link else text)
        return
    step.items.append(text)


def _header(line: str, version: int | None) -> tuple[ChangelogStep, str] | None:
    if BULLET_RE.match(line) and not line.lstrip().lower().startswith(("v", "changes")):
        return None
    match = ARROW_HEADER_RE.match(line)
    if match:
        return ChangelogStep(int(match.group("a")), int(match.group("b")), []), ""
    match = SINCE_HEADER_RE.match(line)
    if match:
        start = int(match.group("a"))
        return ChangelogStep(start, start + 1, []), ""
    match = IN_HEADER_RE.match(line)
    if match:
        end = int(match.group("b"))
        return ChangelogStep(end - 1 if end > 1 else None, end, []), ""
    match = BARE_HEADER_RE.match(line)
    if match and line[: len(line) - len(line.lstrip())] == "":
        end = int(match.group("b"))
        if version is not None and end > version:
            return None
        rest = match.group("rest").strip()
        if rest and URL_ONLY_RE.match(rest):
            return None  # `v4: https://...` on its own is a link, not a step
        return ChangelogStep(end - 1 if end > 1 else None, end, []), rest
    return None


def _version_key(text: str | int | None) -> str:
    return str(text if text is not None else "").strip().lower().lstrip("v")


def changelog_step(old: Revision, new: Revision) -> ChangelogStep | None:
    """The step of `new`'s changelog (its own, else its cover's) that describes old -> new.

    The one rule for every reader (the review, the changelog check): a step into `new` written
    from `old` (or from no version) first; else the first step into `new`, since a cover letter
    often describes the jump from the version it was sent after, whatever the reader compares.
    A point revision (v7.1) has its own step or none: v7's "v6 -> v7" is not about it.
    """
    steps = list(getattr(new, "changelog", None) or [])
    if not steps and new.cover is not None:
        steps = list(new.cover.changelog)
    to_key, from_key = _version_key(new.label), _version_key(old.label)
    to_plain = to_key if new.point is not None else _version_key(new.version)
    candidates = [step for step in steps if _version_key(step.to_version) in (to_key, to_plain)]
    for step in candidates:
        if step.from_version is None or _version_key(step.from_version) == from_key:
            return step
    return candidates[0] if candidates else None
