"""A cover letter's "vA -> vB" changelog checked against what the range-diff really shows.

Each item gets a verdict with evidence (the new patch and the interdiff hunk):
- confirmed: the changed lines bear it out - the identifiers it names appear in them, a
  rename shows the old name gone and the new one present, "rebase" shows rebase hunks, a
  move ("X before releasing mmu_lock") shows X crossing the unlock;
- not-found: nothing in the changed lines matches;
- vague: the item names nothing checkable ("Add comments and apply formatting
  suggestions"); it is matched to the hunks it plausibly covers, if any.
Changed patches that no item covers are listed as undocumented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from reviewtool.analyses.rangediff import Comparison, InterdiffHunk, PatchPair
from reviewtool.series.changelog import changelog_step
from reviewtool.series.model import ChangelogStep, Revision

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
# Verbs that say a lock is let go, and the code tokens that do it.
_RELEASE_WORDS = ("releas", "drop", "unlock", "leav", "exit")
_ACQUIRE_WORDS = ("tak", "acquir", "grab", "lock")
# Architecture names as changelogs spell them -> the arch/ directory they live in.
AREAS = {
    "x86": "x86",
    "arm64": "arm64",
    "aarch64": "arm64",
    "arm": "arm",
    "ppc": "powerpc",
    "powerpc": "powerpc",
    "riscv": "riscv",
    "s390": "s390",
    "mips": "mips",
    "loongarch": "loongarch",
}
# Words too common in changelogs to say what changed.
STOPWORDS = frozenset(
    """a an the and or but of on in into to too for with without when while is are was be been
    being by as at it its it's this that these those from up down out now still also just only
    some more most less all any each every other new old instead than then so such not no
    set sets add adds added adding use uses used using make makes made fix fixes fixed keep keeps
    keeping pass passes passing call calls called handle handles handling apply applied move
    moved moves change changes changed update updates updated rework reworked refactor
    refactored factor factored clean cleanup cleanups cleaned minor misc various small
    improve improved better patch patches series commit commits code function functions helper
    helpers comment comments formatting format style suggestions suggestion review feedback
    false true page pages bit bits case cases path paths way ones one two does do did done
    mark marks marked marking before after release releases releasing released drop drops
    dropped dropping alive support supports extend extends replace replaces replaced flexible
    non api rename renamed rather via per both either need needs needed allow allows avoid
    etc again there their them they we our you your which what where why how should would
    could can may might must first last also address addressed addresses addressing reviews
    reviewed reviewer reviewers comments nits nit feedbacks tweak tweaks tweaked please refer
    individual detailed details""".split()
)
# `Reviewed-by: ...` and friends: collecting them is not a change to document.
TRAILER_LINE_RE = re.compile(r"^[A-Z][A-Za-z0-9-]*-by:\s|^(Link|Fixes|Cc|Closes):\s")
# Comment-only and whitespace-only hunks are what vague items usually mean.
_COMMENT_WORDS = ("comment", "document", "doc", "kerneldoc", "typo", "spelling", "wording")
_FORMAT_WORDS = ("format", "style", "whitespace", "indent", "checkpatch", "cosmetic", "nit")
# A few spellings of the same idea in KVM changelogs and code.
SYNONYMS = {
    "huge": ("huge", "level", "2m", "1g", "pmd", "pud"),
    "sptes": ("spte",),
    "spte": ("spte",),
    "accessed": ("accessed", "access", "young"),
    "access": ("accessed", "access", "young"),
    "dirty": ("dirty",),
    "refcounted": ("refcount",),
    "refcount": ("refcount",),
}


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
        verb = "release" if any(w in where.lower() for w in _RELEASE_WORDS) else ""
        if not verb and any(w in where.lower() for w in _ACQUIRE_WORDS):
            verb = "acquire"
        what_words = identifiers_in(move.group("what")) or _words(move.group("what"), set())
        if anchor_ids and what_words:
            claim.move = (what_words, anchor_ids, verb, move.group("dir").lower())
    if not claim.rebase:
        claim.words = [w for w in _words(flat, lowered | parts) if w not in ("rebase",)]
    return claim


# ---------------------------------------------------------------------------------------------
# What the comparison offers as evidence


@dataclass
class _Unit:
    """One hunk a verdict can point at, with the code it changes."""

    to_index: int | None
    hunk_index: int
    hunk: InterdiffHunk
    from_index: int | None = None
    title: str = ""
    whole_patch: bool = False  # an added or dropped patch: all of it is new or gone
    author: str = ""

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.to_index, self.hunk_index, self.from_index)

    def code(self) -> list[str]:
        """The patch lines (without markers) that changed between the versions."""
        return [inner[1:] for _, inner in self.hunk.code_lines()]

    def code_tokens(self) -> set[str]:
        """Names in the changed code, with the function the hunk is in (where it changed)."""
        tokens = {t for line in self.code() for t in _line_tokens(line)}
        tokens.update(_CODE_TOKEN_RE.findall(self.hunk.function))
        if self.whole_patch:
            tokens |= self.all_tokens()
        return tokens

    def all_tokens(self) -> set[str]:
        """Tokens of every line of the hunk and its function: where the change happens."""
        tokens = {t for line in self.hunk.lines for t in _line_tokens(line[2:])}
        tokens.update(_CODE_TOKEN_RE.findall(self.hunk.function))
        return tokens

    def in_area(self, areas: list[str]) -> bool:
        if not areas:
            return True
        title = self.title.lower()
        for area in areas:
            if self.hunk.file.startswith(f"arch/{area}/"):
                return True
            spelled = [k for k, v in AREAS.items() if v == area]
            if any(re.search(rf"\b{re.escape(s)}\b", title) for s in spelled):
                return True
        return False


def _units(comparison: Comparison, include_rebase: bool = False) -> list[_Unit]:
    units = []
    for pair in comparison.pairs:
        for k, hunk in enumerate(pair.interdiff):
            if include_rebase or not hunk.rebase:
                units.append(_Unit(pair.to_index, k, hunk, pair.from_index, pair.title_to))
    for patch in comparison.added:
        for k, hunk in enumerate(patch.content):
            units.append(_Unit(patch.index, k, hunk, None, patch.title, True, patch.author))
    for patch in comparison.dropped:
        for k, hunk in enumerate(patch.content):
            units.append(_Unit(None, k, hunk, patch.index, patch.title, True, patch.author))
    return units


def _line_tokens(line: str) -> set[str]:
    tokens = set(_CODE_TOKEN_RE.findall(line))
    tokens.update(f"{a}->{b}" for a, b in _MEMBER_RE.findall(line))
    return tokens


def _author_name(author: str) -> str:
    """`Nicholas Piggin <npiggin@gmail.com>` -> `nicholas piggin`."""
    return author.split("<", 1)[0].strip().strip('"').lower()


def _word_hits(word: str, tokens: set[str]) -> bool:
    """True when a changelog word names one of the tokens (is_refcounted_page for refcounted)."""
    forms = SYNONYMS.get(word, (word.rstrip("s") if len(word) > 4 else word,))
    low = [t.lower() for t in tokens]
    return any(form in token for form in forms for token in low)


def _ident_hits(ident: str, tokens: set[str]) -> bool:
    """True when a named identifier is a token, or the stem of one ("kvm_fixup" calls are
    kvm_fixup_pfn(), kvm_fixup_hva())."""
    if ident in tokens:
        return True
    if "->" in ident:
        return ident.replace(".", "->") in tokens
    low = ident.lower()
    return any(t.lower() == low or t.lower().startswith(low + "_") for t in tokens)


# ---------------------------------------------------------------------------------------------
# Verdicts


def verify_changelog(comparison: Comparison, step: ChangelogStep) -> list[Verdict]:
    """A verdict with evidence for each item of a changelog step, against the comparison."""
    return [verify_item(comparison, item) for item in step.items]


def verify_item(comparison: Comparison, item: str) -> Verdict:
    """The verdict for one changelog item."""
    claim = parse_item(item)
    if claim.rebase:
        return _verify_rebase(comparison, claim)
    by_author = _verify_by_author(comparison, claim)
    if by_author is not None:
        return by_author
    about_mail = _verify_trailers(comparison, claim) or _verify_cover(comparison, claim)
    about_mail = about_mail or _verify_messages(comparison, claim)
    if about_mail is not None:
        return about_mail
    if claim.rename:
        return _verify_rename(comparison, claim)
    if claim.move:
        return _verify_move(comparison, claim)
    if claim.dropped_patch and comparison.dropped and not claim.identifiers:
        evidence = [Evidence(None, None, p.index) for p in comparison.dropped]
        return Verdict(claim.text, CONFIRMED, evidence, "patches were dropped")
    if not claim.checkable:
        return _verify_vague(comparison, claim)
    if claim.identifiers:
        return _verify_identifiers(comparison, claim)
    return _verify_words(comparison, claim)


def _verify_by_author(comparison: Comparison, claim: Claim) -> Verdict | None:
    """ "Carry Nicholas Piggin's fix" / "drop Jane's patch": an added or dropped patch whose
    author the item names."""
    low = claim.text.lower()
    evidence = [
        Evidence(p.index, 0 if p.content else None)
        for p in comparison.added
        if _author_name(p.author) and _author_name(p.author) in low
    ]
    evidence += [
        Evidence(None, None, p.index)
        for p in comparison.dropped
        if _author_name(p.author) and _author_name(p.author) in low
    ]
    if not evidence:
        return None
    return Verdict(claim.text, CONFIRMED, evidence, "a patch by the named author came or went")


# "Add Rick's Reviewed-by tags", "removed Maxim's Reviewed-by tag from patch #3".
_TRAILER_CLAIM_RE = re.compile(
    r"\b(?:reviewed-by|acked-by|tested-by|suggested-by|reported-by|co-developed-by|"
    r"(?:review|ack|test)\s+tags?|tags?|trailers?|r-b|a-b|t-b)\b",
    re.I,
)
_TRAILER_NAME_RE = re.compile(r"\b([a-z]+-by)\b", re.I)
_REMOVED_RE = re.compile(r"\b(?:remove[sd]?|drop(?:ped|s)?|strip(?:ped)?)\b", re.I)
_ADDED_RE = re.compile(
    r"\b(?:add(?:ed|s)?|collect(?:ed|s)?|pick(?:ed)?\s+up|carr(?:y|ied))\b", re.I
)
_POSSESSIVE_RE = re.compile(r"\b([A-Z][a-z]+)'s\b")
_COVER_CLAIM_RE = re.compile(r"\bcover(?:\s+letter)?\b", re.I)
_MESSAGE_CLAIM_RE = re.compile(
    r"\b(?:changelogs?|commit\s+(?:messages?|logs?|descriptions?)|descriptions?|wording)\b", re.I
)
_QUOTED_RE = re.compile(r'"([^"]{2,60})"')


def _trailer_set(patch) -> set[tuple[str, str]]:
    return {(t.name.lower(), t.value.lower()) for t in patch.trailers}


def _verify_trailers(comparison: Comparison, claim: Claim) -> Verdict | None:
    """Claims about tags: compare each paired patch's trailers in the two versions."""
    if comparison.old is None or comparison.new is None:
        return None
    if (
        not _TRAILER_CLAIM_RE.search(claim.text)
        or claim.identifiers
        and not _TRAILER_NAME_RE.search(claim.text)
    ):
        return None
    names = {n.lower() for n in _TRAILER_NAME_RE.findall(claim.text)}
    people = {p.lower() for p in _POSSESSIVE_RE.findall(claim.text)}
    wants_removed = bool(_REMOVED_RE.search(claim.text))
    wants_added = bool(_ADDED_RE.search(claim.text)) or not wants_removed
    added, removed = [], []
    # A patch reworked past pairing ("changed so much") still sits at its old place.
    dropped = {p.index for p in comparison.dropped}
    couples = [(pair.from_index, pair.to_index) for pair in comparison.pairs]
    couples += [(p.index, p.index) for p in comparison.added if p.index in dropped]
    for from_index, to_index in couples:
        old_patch = comparison.old.patch(from_index)
        new_patch = comparison.new.patch(to_index)
        if old_patch is None or new_patch is None:
            continue
        before, after = _trailer_set(old_patch), _trailer_set(new_patch)

        def fits(trailer: tuple[str, str]) -> bool:
            name, value = trailer
            if names and name not in names:
                return False
            if not names and not name.endswith("-by") or name == "signed-off-by":
                return False
            return not people or any(person in value for person in people)

        if any(fits(t) for t in after - before):
            added.append(Evidence(to_index, None))
        if any(fits(t) for t in before - after):
            removed.append(Evidence(to_index, None))
    missing = []
    if wants_added and not added:
        missing.append("no patch gained such a tag")
    if wants_removed and not removed:
        missing.append("no patch lost such a tag")
    evidence = (added if wants_added else []) + (removed if wants_removed else [])
    if missing:
        return Verdict(claim.text, NOT_FOUND, evidence, "; ".join(missing))
    return Verdict(claim.text, CONFIRMED, evidence, "trailers changed on the patches named")


def _verify_cover(comparison: Comparison, claim: Claim) -> Verdict | None:
    """Claims about the cover letter: the cover changed, and quoted words are in the new one."""
    if not _COVER_CLAIM_RE.search(claim.text) or claim.identifiers:
        return None
    old_cover = comparison.old.cover if comparison.old is not None else None
    new_cover = comparison.new.cover if comparison.new is not None else None
    if new_cover is None:
        return None
    quoted = _QUOTED_RE.findall(claim.text)
    body = new_cover.mail.body
    absent = [q for q in quoted if q.lower() not in body.lower()]
    changed = old_cover is None or old_cover.mail.body != body
    if absent or not changed:
        reason = f"the new cover lacks {absent}" if absent else "the cover letter did not change"
        return Verdict(claim.text, NOT_FOUND, [], reason)
    return Verdict(claim.text, CONFIRMED, [Evidence(0, None)], "the cover letter changed")


def _verify_messages(comparison: Comparison, claim: Claim) -> Verdict | None:
    """Claims about commit messages ("Reworked all changelogs"): reworded pairs."""
    if not _MESSAGE_CLAIM_RE.search(claim.text) or claim.identifiers:
        return None
    reworded = [
        Evidence(pair.to_index, None)
        for pair in comparison.pairs
        if any(
            line[:1] in "+-" and line[1:].strip() and not TRAILER_LINE_RE.match(line[1:])
            for line in pair.message_diff
        )
    ]
    if not reworded:
        return Verdict(claim.text, NOT_FOUND, [], "no commit message was reworded")
    return Verdict(claim.text, CONFIRMED, reworded, f"{len(reworded)} commit message(s) reworded")


def _verify_rebase(comparison: Comparison, claim: Claim) -> Verdict:
    """Rebase items; "rebase ..., drop it from the series" also needs a dropped patch."""
    verdict = _verify_plain_rebase(comparison, claim)
    if re.search(r"\bdrop", claim.text, re.I) and verdict.verdict == CONFIRMED:
        if not comparison.dropped:
            return Verdict(claim.text, NOT_FOUND, verdict.evidence, "no patch was dropped")
        dropped = [Evidence(None, None, p.index) for p in comparison.dropped]
        verdict.evidence = dropped + verdict.evidence
        verdict.reason += f"; {len(dropped)} patch(es) dropped"
    return verdict


def _verify_plain_rebase(comparison: Comparison, claim: Claim) -> Verdict:
    rebase_units = [u for u in _units(comparison, include_rebase=True) if u.hunk.rebase]
    evidence = [u.evidence for u in rebase_units[:MAX_EVIDENCE]]
    if rebase_units:
        return Verdict(
            claim.text,
            CONFIRMED,
            evidence,
            f"{len(rebase_units)} interdiff hunks differ only in context or offset",
        )
    if comparison.from_base and comparison.to_base and comparison.from_base != comparison.to_base:
        return Verdict(claim.text, CONFIRMED, [], "the base-commit changed")
    return Verdict(claim.text, NOT_FOUND, [], "no hunk differs in context or offset only")


def _verify_rename(comparison: Comparison, claim: Claim) -> Verdict:
    old_name, new_name = claim.rename or ("", "")
    old_tokens: set[str] = set()
    new_tokens: set[str] = set()
    for pair in comparison.pairs:
        old_tokens |= _post_image_tokens(pair.old_lines)
        new_tokens |= _post_image_tokens(pair.new_lines)
    for patch in comparison.added:
        new_tokens |= {t for h in patch.content for t in _tokens_of_post(h)}
    units = [u for u in _units(comparison) if new_name in u.code_tokens()]
    gone = old_name in old_tokens and old_name not in new_tokens
    if gone and new_name in new_tokens:
        return Verdict(
            claim.text,
            CONFIRMED,
            [u.evidence for u in units[:MAX_EVIDENCE]],
            f"{old_name} is gone and {new_name} is present",
        )
    reason = (
        f"{old_name} is still used" if old_name in new_tokens else f"{new_name} does not appear"
    )
    return Verdict(claim.text, NOT_FOUND, [u.evidence for u in units[:MAX_EVIDENCE]], reason)


def _post_image_tokens(lines: list[str]) -> set[str]:
    return {
        t
        for line in lines
        if line[:1] in " +" and not line.startswith(" ## ")
        for t in _CODE_TOKEN_RE.findall(line[1:])
    }


def _tokens_of_post(hunk: InterdiffHunk) -> set[str]:
    return {t for line in hunk.lines if line[1:2] in " +" for t in _CODE_TOKEN_RE.findall(line[2:])}


def _verify_identifiers(comparison: Comparison, claim: Claim) -> Verdict:
    units = [u for u in _units(comparison) if u.in_area(claim.areas)]
    # "the ensure_pfn_ref comment": the comment changed, the name sits next to it.
    about_comment = any(w in claim.text.lower() for w in _COMMENT_WORDS)
    hits: dict[str, list[_Unit]] = {}
    for ident in claim.identifiers:
        hits[ident] = [
            u
            for u in units
            if _ident_hits(ident, u.code_tokens())
            or (about_comment and _comment_only(u) and _ident_hits(ident, u.all_tokens()))
        ]
    missing = [i for i, found in hits.items() if not found]
    evidence = [u.evidence for u in _best_cover(claim.identifiers, hits)[:MAX_EVIDENCE]]
    where = f" in {', '.join(claim.areas)} code" if claim.areas else ""
    if not missing:
        return Verdict(
            claim.text,
            CONFIRMED,
            evidence,
            f"{', '.join(claim.identifiers)} appear in the changed lines{where}",
        )
    return Verdict(
        claim.text,
        NOT_FOUND,
        evidence,
        f"{', '.join(missing)} not in any changed line{where}",
    )


def _best_cover(identifiers: list[str], hits: dict[str, list[_Unit]]) -> list[_Unit]:
    """The hunks that name the most of the identifiers, then enough others to name them all.

    A common name (FOLL_GET) appears in many hunks; the hunks that also carry the item's
    other names are the ones it is about, and the rest stay free to show up as undocumented.
    """
    units = list({id(u): u for found in hits.values() for u in found}.values())
    if not units:
        return []
    score = {id(u): sum(u in hits[i] for i in identifiers) for u in units}
    best = max(score.values())
    chosen = [u for u in units if score[id(u)] == best]
    named = {i for i in identifiers if any(u in hits[i] for u in chosen)}
    for ident in identifiers:
        if ident not in named and hits[ident]:
            chosen.append(hits[ident][0])
            named.add(ident)
    return chosen


def _verify_words(comparison: Comparison, claim: Claim) -> Verdict:
    """Items naming no identifier but domain words ("refcounted bit on huge page SPTEs")."""
    units = [u for u in _units(comparison) if u.in_area(claim.areas)]
    words = claim.words
    where = f" in {', '.join(claim.areas)} code" if claim.areas else ""
    if not words:
        # Only an area: any real change there bears it out.
        if units:
            return Verdict(
                claim.text,
                CONFIRMED,
                [u.evidence for u in units[:MAX_EVIDENCE]],
                f"code changed{where}",
            )
        return Verdict(claim.text, NOT_FOUND, [], f"no code changed{where}")
    needed = max(1, (len(words) + 1) // 2)
    scored = []
    for unit in units:
        code = unit.code_tokens()
        if not any(_word_hits(w, code) for w in words):
            continue
        around = unit.all_tokens()
        score = sum(_word_hits(w, around) for w in words)
        if score >= needed:
            scored.append((score, unit))
    scored.sort(key=lambda pair: -pair[0])
    if scored:
        best = scored[0][0]
        return Verdict(
            claim.text,
            CONFIRMED,
            [u.evidence for score, u in scored if score == best][:MAX_EVIDENCE],
            f"changed lines{where} about {', '.join(words)}",
        )
    return Verdict(claim.text, NOT_FOUND, [], f"no changed line{where} about {', '.join(words)}")


def _verify_vague(comparison: Comparison, claim: Claim) -> Verdict:
    """Vague items point at the hunks they plausibly mean: comment-only, whitespace-only."""
    low = claim.text.lower()
    units = _units(comparison)
    chosen = []
    if any(w in low for w in _COMMENT_WORDS):
        chosen += [u for u in units if _comment_only(u)]
    if any(w in low for w in _FORMAT_WORDS):
        chosen += [u for u in units if _whitespace_only(u) and u not in chosen]
    reason = (
        f"names nothing checkable; {len(chosen)} comment or formatting hunks fit"
        if chosen
        else "names nothing checkable"
    )
    return Verdict(claim.text, VAGUE, [u.evidence for u in chosen[:MAX_EVIDENCE]], reason)


def _is_comment(line: str) -> bool:
    text = line.strip()
    return text == "" or text.startswith(("/*", "*", "//", "*/"))


def _comment_only(unit: _Unit) -> bool:
    """True when the hunk's change brings in comment lines (possibly beside other code)."""
    added = [inner[1:] for outer, inner in unit.hunk.code_lines() if outer == "+"]
    return any(line.strip() and _is_comment(line) for line in added)


def _whitespace_only(unit: _Unit) -> bool:
    removed = sorted("".join(inner[1:].split()) for o, inner in unit.hunk.code_lines() if o == "-")
    added = sorted("".join(inner[1:].split()) for o, inner in unit.hunk.code_lines() if o == "+")
    return bool(removed or added) and removed == added


# ---------------------------------------------------------------------------------------------
# Moves: "X before releasing mmu_lock"


def _anchor_match(line: str, anchor_ids: list[str], verb: str) -> bool:
    tokens = set(_CODE_TOKEN_RE.findall(line))
    if not any(_ident_hits(a, tokens) for a in anchor_ids):
        return False
    lowered = line.lower()
    if verb == "release":
        return "unlock" in lowered or "release" in lowered
    if verb == "acquire":
        return "lock" in lowered and "unlock" not in lowered
    return True


def _subject_match(line: str, what: list[str]) -> bool:
    if _is_comment(line):
        return False
    tokens = set(_CODE_TOKEN_RE.findall(line))
    return any(_ident_hits(w, tokens) or _word_hits(w.lower(), tokens) for w in what)


def _relations(lines: list[str], what: list[str], anchors: list[str], verb: str) -> dict:
    """(file, line text) -> how many times that line sits before / after an anchor line.

    Per patch hunk, on the post-image (context and added lines): a subject line counts as
    "before" when the nearest anchor in its hunk follows it.
    """
    counts: dict[tuple[str, str, str], int] = {}
    file = ""
    hunk: list[str] = []

    def flush() -> None:
        anchor_at = [k for k, text in enumerate(hunk) if _anchor_match(text, anchors, verb)]
        if not anchor_at:
            return
        for k, text in enumerate(hunk):
            if not _subject_match(text, what):
                continue
            nearest = min(anchor_at, key=lambda a: abs(a - k))
            side = "before" if nearest > k else "after"
            key = (file, " ".join(text.split()), side)
            counts[key] = counts.get(key, 0) + 1

    for line in lines:
        if line.startswith(" ## "):
            flush()
            hunk = []
            file = line[4:].rsplit(" ##", 1)[0]
        elif line.startswith("@@"):
            flush()
            hunk = []
        elif line[:1] in " +" and line:
            hunk.append(line[1:])
    flush()
    return counts


def _verify_move(comparison: Comparison, claim: Claim) -> Verdict:
    what, anchors, verb, direction = claim.move or ([], [], "", "")
    side = "after" if direction == "after" else "before"
    evidence: list[Evidence] = []
    for pair in comparison.pairs:
        if not pair.real_hunks:
            continue
        old = _relations(pair.old_lines, what, anchors, verb)
        new = _relations(pair.new_lines, what, anchors, verb)
        gained = {
            (file, text)
            for (file, text, where), count in new.items()
            if where == side and count > old.get((file, text, where), 0)
        }
        if not gained:
            continue
        texts = {text for _, text in gained}
        for k, hunk in enumerate(pair.interdiff):
            if hunk.rebase:
                continue
            present = {" ".join(line[2:].split()) for line in hunk.lines}
            moved = [inner[1:] for _, inner in hunk.changed()]
            # The call may be what moved, or the unlock around it (context in the patch).
            if present & texts and any(
                " ".join(line.split()) in texts or _anchor_match(line, anchors, verb)
                for line in moved
            ):
                evidence.append(Evidence(pair.to_index, k))
    if evidence:
        return Verdict(
            claim.text,
            CONFIRMED,
            evidence[:MAX_EVIDENCE],
            f"{'/'.join(what)} now {side} the {verb or 'use of'} {'/'.join(anchors)}",
        )
    return Verdict(claim.text, NOT_FOUND, [], f"nothing moved {side} {'/'.join(anchors)}")


# ---------------------------------------------------------------------------------------------
# Undocumented changes and wiring


def undocumented_changes(comparison: Comparison, verdicts: list[Verdict]) -> list[Undocumented]:
    """Changed patches (real code change, added, dropped) that no item's evidence covers."""
    covered_new = {e.to_index for v in verdicts for e in v.evidence if e.to_index is not None}
    covered_old = {e.from_index for v in verdicts for e in v.evidence if e.to_index is None}
    out = []
    # Subject and wording changes are documented only by an item that talks about them.
    words_said = " ".join(v.item.lower() for v in verdicts)
    subjects_said = any(w in words_said for w in ("subject", "prefix", "title"))
    wording_said = any(w in words_said for w in ("commit message", "changelog", "reword"))
    for pair in comparison.pairs:
        covered = pair.to_index in covered_new
        parts = []
        if pair.real_hunks and not covered:
            parts.append(_summary(pair, pair.real_hunks))
        if pair.subject_changed and not subjects_said:
            parts.append(f"subject changed from {pair.title_from!r}")
        reworded = [
            line
            for line in pair.message_diff
            if line[:1] in "-+" and line[1:].strip() and not TRAILER_LINE_RE.match(line[1:])
        ]
        if reworded and not wording_said and not covered:
            parts.append(f"commit message reworded ({len(reworded)} lines)")
        if parts:
            out.append(Undocumented(pair.to_index, "; ".join(parts), pair.from_index))
    for patch in comparison.added:
        if patch.index not in covered_new:
            out.append(Undocumented(patch.index, f"new patch: {patch.title}"))
    for patch in comparison.dropped:
        if patch.index not in covered_old:
            out.append(
                Undocumented(None, f"dropped patch {patch.index}: {patch.title}", patch.index)
            )
    return out


def _summary(pair: PatchPair, real: list[InterdiffHunk]) -> str:
    places: dict[str, None] = {}
    for hunk in real:
        place = hunk.file + (f" ({hunk.function})" if hunk.function else "")
        places.setdefault(place, None)
    added = sum(1 for h in real for o, _ in h.code_lines() if o == "+")
    removed = sum(1 for h in real for o, _ in h.code_lines() if o == "-")
    shown = ", ".join(list(places)[:3]) + (", ..." if len(places) > 3 else "")
    return (
        f"{len(real)} changed hunk{'s' if len(real) != 1 else ''} in {shown}: "
        f"{added} line{'s' if added != 1 else ''} new, {removed} gone"
    )


def attach_changelog(comparison: Comparison, old: Revision, new: Revision) -> None:
    """Fill comparison.changelog and .undocumented from the new cover's changelog step."""
    step = changelog_step(old, new)
    if step is None:
        return
    comparison.changelog = verify_changelog(comparison, step)
    comparison.undocumented = undocumented_changes(comparison, comparison.changelog)
