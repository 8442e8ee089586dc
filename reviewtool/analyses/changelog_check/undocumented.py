"""Changed patches no changelog item covers."""

from __future__ import annotations

from reviewtool.analyses.changelog_check.claims import TRAILER_LINE_RE, Undocumented, Verdict
from reviewtool.analyses.rangediff import Comparison, InterdiffHunk, PatchPair


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
