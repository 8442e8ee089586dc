"""Claims that code moved ("X before releasing mmu_lock"): does X cross the anchor?"""

from __future__ import annotations

from reviewtool.analyses.changelog_check.claims import (
    _CODE_TOKEN_RE,
    CONFIRMED,
    MAX_EVIDENCE,
    NOT_FOUND,
    Claim,
    Evidence,
    Verdict,
)
from reviewtool.analyses.changelog_check.units import _ident_hits, _is_comment, _word_hits
from reviewtool.analyses.rangediff import Comparison


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
