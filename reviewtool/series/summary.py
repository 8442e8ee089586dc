"""What the series index keeps of a message: headers, trailers and a diff summary, no body.

A whole archive does not fit in memory as decoded mail; these summaries do (a few hundred
bytes each), and they are enough to thread, to group versions and to answer "which series
touch this function or file". The body is read back from the message's place when a review
needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewtool.mail.model import Mail
from reviewtool.mail.patterns import DIFF_GIT_RE
from reviewtool.series.assemble import normalise_title
from reviewtool.series.classify import message_kind

# `@@ -1,2 +1,3 @@ static int name(...)`: the function git names after a hunk header.
HUNK_FUNCTION_RE = re.compile(r"^@@ [^@]* @@.*?\b([A-Za-z_]\w*)\s*\(", re.M)
# Added and removed lines (not the `+++ b/x` / `--- a/x` file headers).
ADDED_LINE_RE = re.compile(r"^\+(?!\+\+)(.*)$", re.M)
REMOVED_LINE_RE = re.compile(r"^-(?!--)(.*)$", re.M)
# A call or a definition on a changed line: `name(`.
CALL_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
# Words that look like calls but are C syntax.
C_KEYWORDS = frozenset(
    {"if", "for", "while", "switch", "return", "sizeof", "typeof", "do", "else", "case"}
)
# Names kept per message: a tree-wide rename touches thousands of call sites, and the index
# row must stay small; the files list still says what such a patch touches.
MAX_NAMES_PER_MESSAGE = 512


@dataclass(frozen=True)
class MessageSummary:
    """One message as the series index keeps it."""

    message_id: str
    kind: str  # cover, patch, reply, other
    subject: str
    title: str  # normalised: lower case, subsystem prefixes dropped
    version: int
    point: int | None
    index: int | None
    total: int | None
    author_email: str
    author: str
    sent: float | None  # the Date header as a POSIX timestamp
    parents: tuple[str, ...]  # Message-IDs it answers, nearest first
    change_id: str | None
    base_commit: str | None
    trailers: tuple[tuple[str, str], ...]
    files: tuple[str, ...]
    names: tuple[str, ...]  # functions whose hunks it changes, and calls on changed lines
    added: int
    removed: int
    list_changes: int


def summarize(mail: Mail) -> MessageSummary:
    """The index's view of one decoded message."""
    files, names, added, removed = diff_summary(mail.diff)
    return MessageSummary(
        message_id=mail.message_id,
        kind=message_kind(mail),
        subject=mail.subject,
        title=normalise_title(mail.title),
        version=mail.prefix.version,
        point=mail.prefix.point,
        index=mail.prefix.index,
        total=mail.prefix.total,
        author_email=mail.author_email,
        author=mail.in_body_from or mail.author,
        sent=mail.date.timestamp() if mail.date is not None else None,
        parents=tuple(mail.parent_ids),
        change_id=mail.change_id,
        base_commit=mail.base_commit,
        trailers=tuple((t.name, t.value) for t in mail.trailers),
        files=files,
        names=names,
        added=added,
        removed=removed,
        list_changes=mail.list_changes,
    )


def diff_summary(diff: str) -> tuple[tuple[str, ...], tuple[str, ...], int, int]:
    """Files, touched names, added and removed line counts of a patch's diff."""
    if not diff:
        return (), (), 0, 0
    files = dict.fromkeys(m.group("b") for m in DIFF_GIT_RE.finditer(diff))
    names: dict[str, None] = {}
    for match in HUNK_FUNCTION_RE.finditer(diff):
        names.setdefault(match.group(1), None)
    # Whole-text regular expressions: a Python loop over every line of every patch was most
    # of the indexing time.
    added_lines = ADDED_LINE_RE.findall(diff)
    removed_lines = REMOVED_LINE_RE.findall(diff)
    for match in CALL_RE.finditer("\n".join(added_lines + removed_lines)):
        names.setdefault(match.group(1), None)
    added, removed = len(added_lines), len(removed_lines)
    kept = [n for n in names if n not in C_KEYWORDS][:MAX_NAMES_PER_MESSAGE]
    return tuple(files), tuple(kept), added, removed
