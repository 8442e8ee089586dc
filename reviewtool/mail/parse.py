"""Decode one message's bytes into a Mail.

Headers are split by hand and decoded with `email.policy` (utf8=True) only where they carry
RFC 2047 words; bodies go through the `email` package only when MIME or a transfer encoding
needs it. Plain 8bit patch mail (most of a list archive) is decoded straight from bytes,
which is what makes ingest several times faster than parsing every message with `email`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import cache

from reviewtool.errors import InputError
from reviewtool.mail.model import Mail
from reviewtool.mail.patterns import (
    BASE_COMMIT_RE,
    CHANGE_ID_RE,
    DIFF_START_RE,
    IN_BODY_FROM_RE,
    PREREQ_PATCH_ID_RE,
    SCISSORS_RE,
)
from reviewtool.mail.subject import parse_subject
from reviewtool.mail.trailers import commit_trailers, reply_trailers
from reviewtool.textlines import signature_offset


@cache
def _policy():
    """email.policy with utf8=True, imported on first use: plain patch mail never needs it,
    and its header registry is a good part of a short command's start-up."""
    from email.policy import EmailPolicy  # noqa: PLC0415 - see above

    return EmailPolicy(utf8=True)


# Headers a mailing list adds on its way through; the copy with fewest is closest to the sender.
LIST_HEADERS = frozenset(
    {
        "list-id",
        "list-archive",
        "list-help",
        "list-post",
        "list-subscribe",
        "list-unsubscribe",
        "list-owner",
        "archived-at",
        "x-mailing-list",
        "mailing-list",
        "precedence",
        "x-loop",
        "sender",
        "errors-to",
        "x-beenthere",
        "x-mailman-version",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "authentication-results",
        "received",
    }
)
MSGID_RE = re.compile(r"<([^<>\s]+)>")
# `Name <addr>` or `"Name, Jr." <addr>` or a bare address: the From shapes list mail carries.
SIMPLE_ADDRESS_RE = re.compile(
    r'^\s*(?:"(?P<qname>[^"\\]*)"|(?P<name>[^"<>,;:()\\]*?))\s*<(?P<addr>[^<>\s@]+@[^<>\s@]+)>\s*$'
)
# Bytes that were not UTF-8 come through surrogateescape as these code points.
SURROGATE_RE = re.compile("[\udc80-\udcff]")
SENDER_NEEDS_MIME = ("multipart/", "message/")
# The Date shape git and every common mail client write (`Thu, 24 Aug 2023 10:00:00 +0000`,
# a zone comment allowed after it), read without `email.utils`: importing that module loads
# socket, random and calendar, which costs a short command more than reading all its dates.
# Any other shape (zone names, two-digit years, no seconds) goes to `email.utils`.
DATE_RE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s*)?(?P<day>\d{1,2}) (?P<month>[A-Z][a-z]{2}) "
    r"(?P<year>[1-9]\d{3}) (?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2}) "
    r"(?P<sign>[+-])(?P<zone_hours>\d{2})(?P<zone_minutes>\d{2})(?: \([^()]*\))?"
)
MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


def parse_mail(data: bytes, location: str) -> Mail:
    """Decode one RFC 822 message; raise InputError when the bytes hold no mail."""
    if data.startswith(b"From ") and b"\n" in data:
        data = data.split(b"\n", 1)[1]  # a stray mbox separator on a single-file message
    data = data.lstrip(b"\r\n")
    header_bytes, body_bytes = split_at_blank_line(data)
    headers = _split_headers(header_bytes)
    names = {name for name, _ in headers}
    if not names & {"subject", "from", "message-id", "date"}:
        raise InputError("no mail headers (Subject, From, Message-ID, Date) found")
    warnings: list[str] = []

    firsts: dict[str, str] = {}
    for key, value in headers:
        firsts.setdefault(key, value)

    def first(name: str) -> str:
        value = firsts.get(name)
        return _decode_header(value) if value else ""

    message_id = _first_msgid(first("message-id"))
    if not message_id:
        import hashlib  # noqa: PLC0415 - rare, and OpenSSL is slow to load

        digest = hashlib.sha1(data).hexdigest()[:16]
        message_id = f"{digest}@reviewtool.invalid"
        warnings.append("no Message-ID: made one from the message's hash")
    subject = " ".join(first("subject").split())
    author_name, author_email = _parse_address(first("from"))
    date = _parse_date(first("date"), warnings)
    in_reply_to = _first_msgid(first("in-reply-to")) or None
    references = MSGID_RE.findall(first("references"))
    content_type = first("content-type").lower()
    encoding = first("content-transfer-encoding").strip().lower()

    if content_type.startswith(SENDER_NEEDS_MIME):
        body, attachments = _mime_body(data, warnings)
    elif encoding in ("quoted-printable", "base64"):
        body = _decode_bytes(
            _transfer_decode(body_bytes, encoding), _charset(content_type), warnings
        )
        attachments = []
    else:
        body = _decode_bytes(body_bytes, _charset(content_type), warnings)
        attachments = []
    if "format=flowed" in content_type.replace(" ", ""):
        warnings.append("format=flowed: the mail client may have re-wrapped lines of the patch")
    body = body.replace("\r\n", "\n")

    prefix = parse_subject(subject)
    commit_message, diff = split_patch(body)
    if not diff:
        for attachment in attachments:
            _, diff = split_patch(attachment)
            if diff:
                warnings.append("patch sent as an attachment")
                break

    in_body_from = None
    match = IN_BODY_FROM_RE.match(commit_message)
    if match and diff:
        in_body_from = match.group("from")
        commit_message = commit_message[match.end() :].lstrip("\n")
    if prefix.reply:
        trailers = reply_trailers(body, message_id)
    else:
        trailers, trailer_warnings = commit_trailers(commit_message, message_id)
        warnings.extend(trailer_warnings)

    # A substring test before each multi-line pattern: `^` under re.M is tried at every
    # position of the body, which made these three a third of the time spent per message.
    base = BASE_COMMIT_RE.search(body) if "base-commit:" in body else None
    change = CHANGE_ID_RE.search(body) if "change-id:" in body else None
    prerequisites = PREREQ_PATCH_ID_RE.findall(body) if "prerequisite-patch-id:" in body else []
    list_ids = [_decode_header(v).strip() for k, v in headers if k == "list-id"]
    return Mail(
        message_id=message_id,
        subject=subject,
        prefix=prefix,
        author_name=author_name,
        author_email=author_email.lower(),
        date=date,
        in_reply_to=in_reply_to,
        references=references,
        body=body,
        commit_message=commit_message,
        diff=diff,
        trailers=trailers,
        location=location,
        list_ids=list_ids,
        list_changes=sum(1 for k, _ in headers if k in LIST_HEADERS),
        in_body_from=in_body_from,
        base_commit=base.group("sha") if base else None,
        change_id=change.group("id") if change else None,
        prerequisite_patch_ids=prerequisites,
        warnings=warnings,
        x_mailer=first("x-mailer"),
    )


def split_at_blank_line(data: bytes) -> tuple[bytes, bytes]:
    """(headers, body): the bytes before and after the first blank line (LF or CRLF, mixed
    as `\\r?\\n\\r?\\n` matches it), or (data, b"") when there is none. The first newline
    and the next are found at C speed; a pattern search costs ten times more per message."""
    start = 0
    while True:
        i = data.find(b"\n", start)
        if i < 0:
            return data, b""
        j = i + 1
        if data[j : j + 1] == b"\r":
            j += 1
        if data[j : j + 1] == b"\n":
            begin = i - 1 if i > 0 and data[i - 1 : i] == b"\r" else i
            return data[:begin], data[j + 1 :]
        start = i + 1


def split_patch(body: str) -> tuple[str, str]:
    """Split a body into (commit message, diff); diff is '' when the body carries none."""
    match = DIFF_START_RE.search(body)
    if not match:
        return body.rstrip("\n"), ""
    head, diff = body[: match.start()], body[match.start() :]
    scissors = SCISSORS_RE.search(head)
    message = head[: scissors.start()] if scissors else head
    signature = signature_offset(diff)
    if signature is not None:
        diff = diff[:signature]
    return message.rstrip("\n"), diff.rstrip("\n") + "\n"


def notes_of(body: str) -> str:
    """What a patch carries between `---` and the diff: per-patch changelog and diffstat."""
    match = DIFF_START_RE.search(body)
    head = body[: match.start()] if match else body
    scissors = SCISSORS_RE.search(head)
    return head[scissors.end() :] if scissors else ""


def _split_headers(block: bytes) -> list[tuple[str, str]]:
    """(lower-case name, raw value) pairs, continuation lines unfolded."""
    out: list[tuple[str, str]] = []
    # One decode for the block: no UTF-8 sequence holds a newline byte, so decoding the whole
    # and cutting it gives what cutting and decoding each line gives.
    for line in block.decode("utf-8", "surrogateescape").split("\n"):
        line = line.rstrip("\r")
        if line[:1] in (" ", "\t") and out:
            name, value = out[-1]
            out[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep and name and " " not in name:
            out.append((name.strip().lower(), value.strip()))
    return out


def _decode_header(value: str) -> str:
    if "=?" in value:
        try:
            return str(_policy().header_factory("subject", value))
        except Exception:  # noqa: BLE001 - a broken encoded word must not lose the header
            return value
    if SURROGATE_RE.search(value):
        raw = value.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "replace")
    return value


def _parse_address(value: str) -> tuple[str, str]:
    """(name, address) of a From header; the common shapes without the slow general parser."""
    match = SIMPLE_ADDRESS_RE.match(value)
    if match:
        name = match.group("qname") if match.group("qname") is not None else match.group("name")
        return name.strip(), match.group("addr")
    from email.utils import parseaddr  # noqa: PLC0415 - rare shapes only, see DATE_RE

    return parseaddr(value)


def _transfer_decode(body: bytes, encoding: str) -> bytes:
    """Undo quoted-printable or base64 on a single-part body."""
    # Imported here: format-patch mail is 8bit, and most of a short command's input with it.
    import binascii  # noqa: PLC0415 - see above
    import quopri  # noqa: PLC0415 - see above

    try:
        if encoding == "base64":
            return binascii.a2b_base64(body)
        return quopri.decodestring(body)
    except (binascii.Error, ValueError):
        return body


def _first_msgid(value: str) -> str:
    match = MSGID_RE.search(value)
    if match:
        return match.group(1)
    return value.strip().strip("<>")


def _parse_date(value: str, warnings: list[str]) -> datetime | None:
    if not value:
        return None
    try:
        parsed = _read_date(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        warnings.append(f"unreadable Date header: {value!r}")
        return None
    if parsed.tzinfo is None:
        # `-0000` and zone-less dates come back naive; every date compares as UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _read_date(value: str) -> datetime:
    """`email.utils.parsedate_to_datetime(value)`, with the common shape read directly."""
    match = DATE_RE.fullmatch(value.strip())
    month = MONTHS.get(match.group("month")) if match else None
    if match is None or month is None:
        from email.utils import parsedate_to_datetime  # noqa: PLC0415 - see DATE_RE

        return parsedate_to_datetime(value)
    day, _, year, hour, minute, second, sign, zone_hours, zone_minutes = match.groups()
    fields = (int(year), month, int(day), int(hour), int(minute), int(second))
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    if sign == "-":
        if not offset:
            # RFC 5322's -0000: the zone is unknown; email.utils returns a naive datetime.
            return datetime(*fields)
        offset = -offset
    return datetime(*fields, tzinfo=_zone(offset))


@cache
def _zone(offset: int) -> timezone:
    """The fixed zone `offset` seconds from UTC (a series' mail shares one or two)."""
    return timezone(timedelta(seconds=offset))


def _charset(content_type: str) -> str:
    match = re.search(r'charset\s*=\s*"?([\w.:-]+)', content_type)
    return match.group(1) if match else "utf-8"


def _decode_bytes(data: bytes, charset: str, warnings: list[str]) -> str:
    try:
        return data.decode(charset)
    except LookupError:
        warnings.append(f"unknown charset {charset!r}: decoded as UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        warnings.append(f"bytes that are not {charset}: replaced")
        return data.decode("utf-8", "replace")


def _mime_body(data: bytes, warnings: list[str]) -> tuple[str, list[str]]:
    """The first inline text/plain part, and the text of every other text part."""
    from email import message_from_bytes  # noqa: PLC0415 - as _policy()
    from email.message import EmailMessage  # noqa: PLC0415 - as _policy()

    message = message_from_bytes(data, policy=_policy())
    assert isinstance(message, EmailMessage)
    texts: list[str] = []
    attachments: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if not ctype.startswith("text/") and ctype not in ("application/x-patch",):
            continue
        if ctype == "text/html":
            continue
        payload = part.get_payload(decode=True) or b""
        text = _decode_bytes(payload, part.get_content_charset() or "utf-8", warnings)
        if part.get_content_disposition() == "attachment" or (texts and ctype != "text/plain"):
            attachments.append(text.replace("\r\n", "\n"))
        elif not texts:
            texts.append(text)
        else:
            attachments.append(text.replace("\r\n", "\n"))
    return (texts[0] if texts else ""), attachments
