"""Trailers: the `Name: value` block of a commit message, and the ones reviewers give in replies."""

from __future__ import annotations

import re

from reviewtool.mail.model import Trailer
from reviewtool.mail.patterns import (
    EMAIL_IN_VALUE_RE,
    FIXES_VALUE_RE,
    OTHER_TRAILERS,
    PERSON_TRAILERS,
    TRAILER_RE,
)
from reviewtool.textlines import git_lines

# Trailers a reviewer gives in a reply that count for the patch.
REPLY_TRAILER_NAMES = frozenset(
    {"Reviewed-by", "Acked-by", "Tested-by", "Reported-by", "Suggested-by", "Nacked-by"}
)


# What mail clients wrap around an address, cleaned as b4 cleans it before comparing:
# Outlook's `addr<mailto:addr>` and `[mailto:addr]`, HTML tags left by a rich-text editor.
MAILTO_AFTER_ADDRESS_RE = re.compile(
    r"(?P<addr>[^\s<>\[\]]+@[^\s<>\[\]]+)\s*<mailto:(?P=addr)>", re.I
)
MAILTO_RE = re.compile(r"[<\[]mailto:(?P<addr>[^\s<>\[\]]+@[^\s<>\[\]]+)[>\]]", re.I)
HTML_TAG_RE = re.compile(r"</?(?:a|br|span|div|p|b|i|u|font|em|strong)(?:\s[^<>]*)?/?>", re.I)
# `addr (Name)`: the old RFC 822 comment form some clients still write.
ADDRESS_THEN_NAME_RE = re.compile(
    r"^<?(?P<addr>[^\s<>()@]+@[^\s<>()]+?)>?\s*\((?P<name>[^()]+)\)\s*(?P<rest>.*)$"
)
BARE_ADDRESS_RE = re.compile(r"(?<![<\w.+-])(?P<addr>[\w.+-]+@[\w-]+(?:\.[\w-]+)+)(?![>\w])")


def clean_person(value: str) -> str:
    """A person trailer's value as `Name <addr>`: mailto and HTML junk removed, `addr (Name)`
    turned round; anything after the address (`# Xen bits`) kept."""
    text = value
    if "&" in text:
        import html  # noqa: PLC0415 - only for an escaped value; its entity table is large

        text = html.unescape(text)
    if "<" in text:
        text = HTML_TAG_RE.sub("", text)
    if "mailto:" in text.lower():
        text = MAILTO_AFTER_ADDRESS_RE.sub(lambda m: m.group("addr"), text)
        text = MAILTO_RE.sub(lambda m: f"<{m.group('addr')}>", text)
    text = " ".join(text.split())
    match = ADDRESS_THEN_NAME_RE.match(text)
    if match:
        rest = f" {match.group('rest')}" if match.group("rest") else ""
        return f"{match.group('name').strip()} <{match.group('addr')}>{rest}"
    if "<" not in text:
        # `Name addr` after a client dropped the brackets: put them back.
        text = BARE_ADDRESS_RE.sub(lambda m: f"<{m.group('addr')}>", text, count=1)
    text = re.sub(r"<\s+", "<", re.sub(r"\s+>", ">", text))
    return text


def canonical_name(name: str) -> str:
    """`reviewed-BY` -> `Reviewed-by`: trailer names compare case-insensitively."""
    parts = name.split("-")
    return "-".join([parts[0].capitalize(), *(p.lower() for p in parts[1:])])


def check_trailer(name: str, value: str) -> str | None:
    """Why a trailer is malformed, or None when it is well formed."""
    if name in PERSON_TRAILERS:
        if not EMAIL_IN_VALUE_RE.search(value):
            return f"{name} without an email address: {value!r}"
        name_part = value.split("<", 1)[0].strip() if "<" in value else ""
        if "<" in value and not name_part:
            return f"{name} without a name: {value!r}"
    if name == "Fixes" and not FIXES_VALUE_RE.match(value):
        return f"Fixes without a commit id: {value!r}"
    return None


def parse_trailer_line(line: str, message_id: str = "") -> Trailer | None:
    """A Trailer when the line is one of the kinds we know, else None."""
    match = TRAILER_RE.match(line)
    if not match:
        return None
    name = canonical_name(match.group("name"))
    if (
        name not in PERSON_TRAILERS
        and name not in OTHER_TRAILERS
        and name not in REPLY_TRAILER_NAMES
    ):
        # Unknown `Foo-by:` lines that carry an address are trailers too (git's rule).
        if not (name.endswith("-by") and EMAIL_IN_VALUE_RE.search(match.group("value"))):
            return None
    value = match.group("value").strip()
    if name in PERSON_TRAILERS or name in REPLY_TRAILER_NAMES or name.endswith("-by"):
        value = clean_person(value)
    return Trailer(name, value, message_id)


def commit_trailers(message: str, message_id: str = "") -> tuple[list[Trailer], list[str]]:
    """The trailer block at the end of a commit message, and warnings for malformed ones."""
    paragraphs = [p for p in message.strip("\n").split("\n\n") if p.strip()]
    if not paragraphs:
        return [], []
    block = git_lines(paragraphs[-1])
    trailers: list[Trailer] = []
    warnings: list[str] = []
    others = 0
    for line in block:
        stripped = line.strip()
        if not stripped or stripped.startswith("[") or stripped.startswith("(cherry picked"):
            # `[sean: reworded]` notes sit inside trailer blocks in real kernel commits.
            continue
        trailer = parse_trailer_line(stripped, message_id)
        if trailer is None:
            others += 1
            continue
        trailers.append(trailer)
    # git counts a paragraph as trailers when at least a quarter of its lines are trailers.
    if not trailers or len(trailers) * 4 < len(trailers) + others:
        return [], []
    good = []
    for trailer in trailers:
        problem = check_trailer(trailer.name, trailer.value)
        if problem:
            warnings.append(f"malformed trailer: {problem}")
        else:
            good.append(trailer)
    return good, warnings


def reply_trailers(body: str, message_id: str = "") -> list[Trailer]:
    """Review trailers a reply gives in its own (unquoted) text."""
    out: list[Trailer] = []
    for line in git_lines(body):
        if line.lstrip().startswith(">"):
            continue
        trailer = parse_trailer_line(line.strip(), message_id)
        if (
            trailer
            and trailer.name in REPLY_TRAILER_NAMES
            and not check_trailer(trailer.name, trailer.value)
        ):
            out.append(trailer)
    return out
