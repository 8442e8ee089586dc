"""Changelog items read as claims: what an item names in code, and the verdict types."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.analyses.changelog_check.vocabulary import (
    ACQUIRE_WORDS,
    AREAS,
    RELEASE_WORDS,
    STOPWORDS,
)

CONFIRMED = "confirmed"
NOT_FOUND = "not-found"
VAGUE = "vague"

# Evidence lists stop here; the first hunks already show the reader where to look.
MAX_EVIDENCE = 6
# Words shorter than this are not matched against code (too many accidental hits).
MIN_WORD_LENGTH = 3

# `name`, FOO_BAR, snake_case, func() - what an item names in code.
_BACKTICK_RE = re.compile(r"`([^`]+)`")
_CALL_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\(\)")
_SNAKE_RE = re.compile(r"(?<![\w/.-])!?(_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)\b")
_CAPS_RE = re.compile(r"\b([A-Z][A-Z0-9]{2,}(?:_[A-Z0-9]+)+)\b")
_CODE_TOKEN_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# fault->page, foll.flags: a field of a struct, named with its variable.
_MEMBER_RE = re.compile(r"\b([A-Za-z_]\w*)\s*(?:->|\.)\s*([A-Za-z_]\w*)\b(?!\()")
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_RENAME_RE = re.compile(
    r"\brenam\w*\s+`?([A-Za-z_][\w]*)`?(?:\(\))?\s+(?:to|into|as|->)\s+`?([A-Za-z_][\w]*)",
    re.I,
)
_REBASE_RE = re.compile(r"\brebas\w*", re.I)
_MOVE_RE = re.compile(
    r"^(?P<what>.+?)\s+(?P<dir>before|after|ahead of|prior to)\s+(?P<where>.+)$", re.I
)
_DROP_RE = re.compile(r"\b(drop|dropped|remove|removed)\b.*\bpatch(es)?\b", re.I)
_NEW_PATCH_RE = re.compile(r"\b(add|added|new|include|included)\b.*\bpatch(es)?\b", re.I)
# Where a move's anchor clause stops: "..., while the notifier keeps it alive" is a reason.
_CLAUSE_END_RE = re.compile(r",|;|\bwhile\b|\bso that\b|\bbecause\b|\bsince\b|\bas\b", re.I)

# `Reviewed-by: ...` and friends: collecting them is not a change to document.
TRAILER_LINE_RE = re.compile(r"^[A-Z][A-Za-z0-9-]*-by:\s|^(Link|Fixes|Cc|Closes):\s")


@dataclass
class Evidence:
    """A place in the comparison: the new patch (None for a dropped one) and hunk."""

    to_index: int | None
    hunk: int | None
    from_index: int | None = None

    def to_json(self) -> dict:
        """{to_index, hunk} (a dropped patch adds from_index)."""
        data: dict = {"to_index": self.to_index, "hunk": self.hunk}
        if self.to_index is None and self.from_index is not None:
            data["from_index"] = self.from_index
        return data


@dataclass
class Verdict:
    """One changelog item, what the code says about it, and where."""

    item: str
    verdict: str
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict:
        """{item, verdict, evidence: [{to_index, hunk}]}."""
        return {
            "item": self.item,
            "verdict": self.verdict,
            "evidence": [e.to_json() for e in self.evidence],
        }


@dataclass
class Undocumented:
    """A changed patch no changelog item covers."""

    to_index: int | None
    summary: str
    from_index: int | None = None

    def to_json(self) -> dict:
        """{to_index, summary}."""
        return {"to_index": self.to_index, "summary": self.summary}


@dataclass
class Claim:
    """What an item says, in checkable parts."""

    text: str
    identifiers: list[str] = field(default_factory=list)
    words: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    rename: tuple[str, str] | None = None
    rebase: bool = False
    move: tuple[list[str], list[str], str, str] | None = None  # what, anchor ids, verb, dir
    dropped_patch: bool = False
    new_patch: bool = False

    @property
    def checkable(self) -> bool:
        """True when the item names something the code can confirm or refute."""
        return bool(
            self.identifiers
            or self.words
            or self.areas
            or self.rename
            or self.rebase
            or self.move
            or self.dropped_patch
            or self.new_patch
        )


def identifiers_in(text: str) -> list[str]:
    """Code names an item mentions: `quoted`, func(), snake_case, FOO_BAR; in order, once."""
    found: dict[str, None] = {}
    for match in _BACKTICK_RE.finditer(text):
        for token in _CODE_TOKEN_RE.findall(match.group(1)):
            if "_" in token or token != token.lower() or len(match.group(1).split()) == 1:
                found.setdefault(token, None)
    for match in _MEMBER_RE.finditer(text):
        found.setdefault(f"{match.group(1)}->{match.group(2)}", None)
    for regex in (_CALL_RE, _SNAKE_RE, _CAPS_RE):
        for match in regex.finditer(text):
            found.setdefault(match.group(1), None)
    return list(found)


def _words(text: str, skip: set[str]) -> list[str]:
    """Content words of an item: not stopwords, not areas, not already identifiers."""
    out: dict[str, None] = {}
    for word in _WORD_RE.findall(_BACKTICK_RE.sub(" ", text)):
        low = word.lower()
        if len(low) < MIN_WORD_LENGTH or low in STOPWORDS or low in AREAS or low in skip:
            continue
        if low.isdigit() or re.fullmatch(r"v\d+", low) or low in ("kvm", "next", "bit"):
            continue
        out.setdefault(low, None)
    return list(out)


def parse_item(text: str) -> Claim:
    """Split a changelog item into the parts that can be checked against code."""
    flat = " ".join(text.split())
    claim = Claim(text=flat)
    claim.identifiers = identifiers_in(flat)
    lowered = {i.lower() for i in claim.identifiers}
    parts = set()
    for ident in claim.identifiers:
        parts.update(p.lower() for p in ident.split("_"))
    claim.areas = list(
        dict.fromkeys(
            AREAS[w.lower()]
            for w in re.findall(r"[A-Za-z0-9]+", flat)
            if w.lower() in AREAS and not re.search(rf"{w}[/_]", flat)
        )
    )
    rename = _RENAME_RE.search(flat)
    if rename:
        claim.rename = (rename.group(1), rename.group(2))
    claim.rebase = bool(_REBASE_RE.search(flat))
    claim.dropped_patch = bool(_DROP_RE.search(flat))
    claim.new_patch = bool(_NEW_PATCH_RE.search(flat)) and not claim.dropped_patch
    move = _MOVE_RE.match(flat.rstrip("."))
    if move:
        where = _CLAUSE_END_RE.split(move.group("where"), maxsplit=1)[0]
        anchor_ids = identifiers_in(where)
        verb = "release" if any(w in where.lower() for w in RELEASE_WORDS) else ""
        if not verb and any(w in where.lower() for w in ACQUIRE_WORDS):
            verb = "acquire"
        what_words = identifiers_in(move.group("what")) or _words(move.group("what"), set())
        if anchor_ids and what_words:
            claim.move = (what_words, anchor_ids, verb, move.group("dir").lower())
    if not claim.rebase:
        claim.words = [w for w in _words(flat, lowered | parts) if w not in ("rebase",)]
    return claim
