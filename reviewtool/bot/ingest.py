"""Sort each new message: cover, patch, reply, other, the bot's own, or unreadable.

What the bot keeps of a message is its series-index summary (headers, trailers, diff
summary); covers and patches keep their bytes too, since a review reads them later and a
Maildir file may be gone by then. Which revision a cover or patch belongs to is the series
index's and the assembler's business (see `bot.state`), not this module's.
"""

from __future__ import annotations

import hashlib
import re

from reviewtool.bot.state import Ingested
from reviewtool.mail import Mail, parse_mail
from reviewtool.mail.subject import is_patch_prefix
from reviewtool.series.classify import message_kind
from reviewtool.series.summary import summarize

# Header the bot puts on every reply, so its own mail coming back through the list is known.
BOT_HEADER = "X-Reviewtool-Bot"
_BOT_HEADER_RE = re.compile(rb"^" + BOT_HEADER.encode() + rb":", re.I | re.M)
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def classify(
    data: bytes, location: str, received: float, own_address: str = ""
) -> tuple[Ingested, Mail | None]:
    """Decode and sort one message; unreadable mail becomes a `rejected` row, never an error."""
    try:
        mail = parse_mail(data, location)
    except Exception as exc:  # noqa: BLE001 - list mail is untrusted; one bad message never stops the bot
        digest = hashlib.sha1(data).hexdigest()[:16]
        row = Ingested(
            kind="rejected",
            location=f"{location} (sha1 {digest})",
            received=received,
            reason=str(exc),
        )
        return row, None
    kind = kind_of(mail, data, own_address)
    row = Ingested(
        kind=kind,
        location=location,
        received=received,
        summary=summarize(mail),
        # Only what a review needs later is kept: covers and patches.
        data=data if kind in ("cover", "patch") else None,
    )
    return row, mail


def kind_of(mail: Mail, data: bytes, own_address: str = "") -> str:
    """cover, patch, reply, other or own."""
    head = _HEADER_END_RE.split(data, 1)[0]
    if _BOT_HEADER_RE.search(head):
        return "own"
    if own_address and mail.author_email == own_address.lower():
        return "own"
    kind = message_kind(mail)
    prefix = mail.prefix
    if kind == "other" and prefix.forward:
        return "reply"
    if kind == "cover" and not prefix.counters_explicit:
        return "other"  # a bot reviews numbered postings; the assembler may still see a cover
    if kind == "other" and is_patch_prefix(prefix) and (prefix.index or 0) >= 1:
        return "patch"  # a numbered patch whose diff did not survive: still a member
    return kind
