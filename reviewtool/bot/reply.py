"""Build the reply message: headers that thread it under the series, recipients per policy.

The Message-ID is derived from the revision key alone, so the reply to one revision always has
the same ID: a copy sent again after a crash is recognisable as the same message by the list
archive, by mail clients and by the bot itself when it comes back through the list.
"""

from __future__ import annotations

import email.utils
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.policy import SMTP

from reviewtool import __version__
from reviewtool.bot.config import BotConfig
from reviewtool.bot.ingest import BOT_HEADER
from reviewtool.mail import Mail
from reviewtool.textlines import visible_text

# Long threads grow long References headers; keep the root and the nearest ancestors.
MAX_REFERENCES = 20
_RE_PREFIX = re.compile(r"^\s*re\s*:", re.I)
_MSGID_RE = re.compile(r"<([^<>\s]+)>")


@dataclass(frozen=True)
class OutgoingReply:
    """A finished reply: its Message-ID, envelope and bytes."""

    message_id: str
    sender: str
    recipients: list[str]
    data: bytes


def reply_message_id(revision_key: str, from_addr: str) -> str:
    """The stable Message-ID (without brackets) of the reply to one revision."""
    domain = address_of(from_addr).rpartition("@")[2] or "reviewtool.invalid"
    digest = hashlib.sha256(revision_key.encode("utf-8")).hexdigest()[:24]
    return f"reviewtool-{digest}@{domain}"


def address_of(text: str) -> str:
    """The bare address of `Name <addr>` (lower-cased)."""
    return email.utils.parseaddr(text)[1].lower()


def reply_subject(subject: str) -> str:
    """`Re: <subject>`, without stacking a second Re:, control and bidi characters of the
    sender's subject shown as stand-ins (a reply must not carry them to every reader)."""
    subject = " ".join(visible_text(subject).split())
    return subject if _RE_PREFIX.match(subject) else f"Re: {subject}"


def recipients_for(config: BotConfig, target: Mail, target_data: bytes) -> tuple[str, list[str]]:
    """(To, Cc list) per the config's policy: the author, and none, the lists, or all Cc'd."""
    to = email.utils.formataddr((target.author_name, target.author_email))
    headers = BytesHeaderParser(policy=SMTP).parsebytes(target_data)
    listed: list[tuple[str, str]] = []
    for name in ("to", "cc"):
        for value in headers.get_all(name) or []:
            listed.extend(email.utils.getaddresses([str(value)]))
    list_ids = {_list_id(v) for v in target.list_ids}
    own = address_of(config.from_addr)
    cc: list[str] = []
    seen = {target.author_email.lower(), own}
    for display, addr in listed:
        addr_l = addr.lower()
        if not addr_l or "@" not in addr_l or addr_l in seen:
            continue
        if config.cc == "none":
            continue
        if config.cc == "lists" and not _is_list(addr_l, config.lists, list_ids):
            continue
        seen.add(addr_l)
        cc.append(email.utils.formataddr((display, addr)))
    for extra in config.extra_cc:
        if address_of(extra) not in seen:
            seen.add(address_of(extra))
            cc.append(extra)
    return to, cc


def _list_id(value: str) -> str:
    match = re.search(r"<([^<>]+)>", value)
    return (match.group(1) if match else value).strip().lower()


def _is_list(addr: str, lists: tuple[str, ...], list_ids: set[str]) -> bool:
    """A list address: configured (`kvm@vger.kernel.org` or `@vger.kernel.org`) or the one a
    List-Id names (`<kvm.vger.kernel.org>` is kvm@vger.kernel.org)."""
    for pattern in lists:
        if addr == pattern or (pattern.startswith("@") and addr.endswith(pattern)):
            return True
    return addr.replace("@", ".", 1) in list_ids


def build_reply(
    config: BotConfig,
    revision_key: str,
    target: Mail,
    target_data: bytes,
    body: str,
    subject: str | None = None,
    now: datetime | None = None,
) -> OutgoingReply:
    """The reply to `target` (cover or first patch) carrying `body`."""
    now = now or datetime.now(UTC)
    message_id = reply_message_id(revision_key, config.from_addr)
    to, cc = recipients_for(config, target, target_data)
    references = [*target.references, target.message_id]
    if len(references) > MAX_REFERENCES:
        references = references[:1] + references[-(MAX_REFERENCES - 1) :]
    msg = EmailMessage(policy=SMTP)
    msg["From"] = config.from_addr
    msg["To"] = to
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = reply_subject(subject or target.subject)
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    msg["In-Reply-To"] = f"<{target.message_id}>"
    msg["References"] = " ".join(f"<{ref}>" for ref in references)
    # RFC 3834: an automatic reply; well-behaved autoresponders then stay quiet.
    msg["Auto-Submitted"] = "auto-generated"
    msg[BOT_HEADER] = f"reviewtool {__version__}"
    # A reply body is a text door like any other: a title or name from mail quoted in it shows
    # its controls (ESC, U+202E) as stand-ins, whichever text (report, short, fallback) it is.
    body = visible_text(body)
    ascii_only = body.isascii()
    msg.set_content(
        body, charset="us-ascii" if ascii_only else "utf-8", cte="7bit" if ascii_only else "8bit"
    )
    recipients = [address_of(to)] + [address_of(c) for c in cc]
    return OutgoingReply(
        message_id=message_id,
        sender=address_of(config.from_addr),
        recipients=[r for r in dict.fromkeys(recipients) if r],
        data=msg.as_bytes(),
    )
