"""Sort each new message: cover, patch, reply, other, the bot's own, or unreadable.

Covers and patches get a revision key: the thread root, the version label and the patch
count. git send-email threads every patch of a revision under the same root (the cover, or
the message given with --in-reply-to), so the key is stable whatever order the mails come in,
and a v2 sent in reply to v1's cover still gets a key of its own through its label.
"""

from __future__ import annotations

import hashlib
import re

from reviewtool.bot.state import SeenMessage
from reviewtool.mail import Mail, parse_mail
from reviewtool.mail.subject import is_patch_prefix
from reviewtool.series.assemble import normalise_title
from reviewtool.series.classify import message_kind

# Header the bot puts on every reply, so its own mail coming back through the list is known.
BOT_HEADER = "X-Reviewtool-Bot"
_BOT_HEADER_RE = re.compile(rb"^" + BOT_HEADER.encode() + rb":", re.I | re.M)
_HEADER_END_RE = re.compile(rb"\r?\n\r?\n")


def classify(
    data: bytes, location: str, received: float, own_address: str = ""
) -> tuple[SeenMessage, Mail | None]:
    """Decode and sort one message; unreadable mail becomes a `rejected` row, never an error."""
    try:
        mail = parse_mail(data, location)
    except Exception as exc:  # noqa: BLE001 - list mail is untrusted; one bad message never stops the bot
        digest = hashlib.sha1(data).hexdigest()[:16]
        row = SeenMessage(
            message_id=f"rejected-{digest}@reviewtool.invalid",
            kind="rejected",
            received=received,
            location=f"{location}: {exc}",
        )
        return row, None
    kind = kind_of(mail, data, own_address)
    key = revision_key(mail) if kind in ("cover", "patch") else None
    prefix = mail.prefix
    idx = prefix.index if kind == "patch" and prefix.index else (1 if kind == "patch" else None)
    total = prefix.total if prefix.total else (1 if kind == "patch" else None)
    row = SeenMessage(
        message_id=mail.message_id,
        kind=kind,
        revision_key=key,
        idx=idx if kind == "patch" else 0 if kind == "cover" else None,
        total=total,
        author=mail.author_email or None,
        title=normalise_title(mail.title) if kind in ("cover", "patch") else None,
        received=received,
        sent=mail.date.timestamp() if mail.date is not None else None,
        location=location,
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


def revision_key(mail: Mail) -> str:
    """`<root>|<label>|<total>`: which revision a cover or patch belongs to."""
    prefix = mail.prefix
    total = prefix.total or 1
    label = prefix.label
    if mail.references:
        root = mail.references[0]
    elif mail.in_reply_to:
        root = mail.in_reply_to
    elif prefix.index == 0 or total == 1:
        root = mail.message_id
    else:
        # Sent without threading: a group of its own for now; the runner joins it to the
        # author's cover or to the other stray patches of the same posting.
        root = f"unthreaded:{mail.author_email}:{mail.message_id}"
    return f"{root}|{label}|{total}"
