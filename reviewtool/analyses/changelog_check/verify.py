"""The verifiers: each kind of claim checked against the range-diff, with evidence."""

from __future__ import annotations

import re

from reviewtool.analyses.changelog_check.claims import (
    _CODE_TOKEN_RE,
    CONFIRMED,
    MAX_EVIDENCE,
    NOT_FOUND,
    TRAILER_LINE_RE,
    VAGUE,
    Claim,
    Evidence,
    Verdict,
    parse_item,
)
from reviewtool.analyses.changelog_check.moves import _verify_move
from reviewtool.analyses.changelog_check.units import (
    _author_name,
    _ident_hits,
    _is_comment,
    _Unit,
    _units,
    _word_hits,
)
from reviewtool.analyses.changelog_check.vocabulary import COMMENT_WORDS, FORMAT_WORDS
from reviewtool.analyses.rangediff import Comparison, InterdiffHunk
from reviewtool.series.model import ChangelogStep


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
    about_comment = any(w in claim.text.lower() for w in COMMENT_WORDS)
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
    if any(w in low for w in COMMENT_WORDS):
        chosen += [u for u in units if _comment_only(u)]
    if any(w in low for w in FORMAT_WORDS):
        chosen += [u for u in units if _whitespace_only(u) and u not in chosen]
    reason = (
        f"names nothing checkable; {len(chosen)} comment or formatting hunks fit"
        if chosen
        else "names nothing checkable"
    )
    return Verdict(claim.text, VAGUE, [u.evidence for u in chosen[:MAX_EVIDENCE]], reason)


def _comment_only(unit: _Unit) -> bool:
    """True when the hunk's change brings in comment lines (possibly beside other code)."""
    added = [inner[1:] for outer, inner in unit.hunk.code_lines() if outer == "+"]
    return any(line.strip() and _is_comment(line) for line in added)


def _whitespace_only(unit: _Unit) -> bool:
    removed = sorted("".join(inner[1:].split()) for o, inner in unit.hunk.code_lines() if o == "-")
    added = sorted("".join(inner[1:].split()) for o, inner in unit.hunk.code_lines() if o == "+")
    return bool(removed or added) and removed == added
