"""`reviewtool diff` as text: the range-diff with real hunks, rebase summary and changelog."""

from __future__ import annotations

from reviewtool.analyses.rangediff import (
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    Comparison,
    InterdiffHunk,
)
from reviewtool.render.names import person_name
from reviewtool.render.terminal import Painter
from reviewtool.textlines import visible

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at run time
if TYPE_CHECKING:
    from reviewtool.analyses.followup import ReviewComment

# Lines of an added or dropped patch shown before "... N more lines".
UNPAIRED_PREVIEW_LINES = 40


def format_comparison(
    title: str,
    comparison: Comparison,
    colour: bool = False,
    comments: list[ReviewComment] | None = None,
) -> str:
    """The human-readable range-diff: pairs with their real hunks, rebase summary, changelog,
    and the review comments on the older version with what the newer did about them."""

    paint = Painter(colour)

    out: list[str] = [paint(f"{title}: {comparison.from_label} -> {comparison.to_label}", "bold")]
    rows = []
    for pair in comparison.pairs:
        rows.append((pair.to_index, pair.from_index, "pair", pair))
    for patch in comparison.added:
        rows.append((patch.index, 0, "added", patch))
    for patch in comparison.dropped:
        rows.append((10**6 + patch.index, patch.index, "dropped", patch))
    rows.sort(key=lambda row: (row[0], row[1]))
    for _, _, kind, item in rows:
        if kind == "pair":
            out.extend(_format_pair(item, paint))
        elif kind == "added":
            out.append(paint(f"  {'-':>3}  > {item.index:<3} {item.title}", "green"))
            out.append(f"            added: {item.size} lines of diff")
            out.extend(_preview(item.content, paint))
        else:
            out.append(paint(f"  {item.index:>3}  < {'-':<3} {item.title}", "red"))
            out.append(f"            dropped: {item.size} lines of diff")
            out.extend(_preview(item.content, paint))
    for regroup in comparison.splits + comparison.squashes:
        frm = ", ".join(map(str, regroup.from_indices))
        to = ", ".join(map(str, regroup.to_indices))
        out.append(f"  {regroup.kind}: {frm} -> {to} ({regroup.coverage:.0%} of the lines)")
    total, rebase = comparison.hunk_count, comparison.rebase_hunk_count
    if total:
        out.append(
            f"  rebase: {rebase} of {total} interdiff hunks ({comparison.rebase_share:.0%}) "
            "differ only in context or offset"
        )
    if comparison.changelog:
        out.append(paint("  changelog:", "bold"))
        for verdict in comparison.changelog:
            tone = {"confirmed": "green", "not-found": "red", "vague": "yellow"}[verdict.verdict]
            out.append(f"    {paint(f'{verdict.verdict:<10}', tone)} {verdict.item}")
            where = _evidence_text(comparison, verdict.evidence)
            detail = "; ".join(part for part in (verdict.reason, where) if part)
            if detail:
                out.append(paint(f"               {detail}", "dim"))
    if comparison.undocumented:
        out.append(paint("  undocumented changes:", "bold"))
        for entry in comparison.undocumented:
            where = f"{entry.to_index}" if entry.to_index is not None else "-"
            out.append(f"    {where:>3}: {entry.summary}")
    if comments:
        out.append(f"  review comments on {comparison.from_label}:")
        out += review_comment_lines(comments, indent="    ")
    out.append("")
    return paint.finish("\n".join(out) + "\n")


def _format_pair(pair, paint) -> list[str]:
    sign = "=" if pair.status == STATUS_IDENTICAL else "!"
    head = f"  {pair.from_index:>3}  {sign} {pair.to_index:<3} {pair.title_to}"
    notes = []
    if pair.status == STATUS_IDENTICAL:
        notes.append("identical")
    elif pair.status == STATUS_MESSAGE_ONLY:
        notes.append("commit message only")
    else:
        real = len(pair.real_hunks)
        rebase = len(pair.interdiff) - real
        notes.append("rebase only" if pair.rebase_only else f"code changed: {real} hunk(s)")
        if rebase and not pair.rebase_only:
            notes.append(f"{rebase} rebase hunk(s)")
    if pair.moved:
        notes.append(f"moved from {pair.from_index}")
    lines = [paint(head, "bold") + paint(f"   [{', '.join(notes)}]", "dim")]
    if pair.subject_changed:
        lines.append(f"            subject was: {pair.title_from}")
    for line in map(visible, pair.message_diff):
        if line[:1] in "-+":
            lines.append(paint(f"            msg {line}", "red" if line[0] == "-" else "green"))
    for k, hunk in enumerate(pair.interdiff):
        where = f"{hunk.file}" + (f": {hunk.function}" if hunk.function else "")
        if hunk.rebase:
            lines.append(paint(f"        [{k}] rebase  {where}", "dim"))
            continue
        lines.append(paint(f"        [{k}] {where}", "cyan"))
        for line in map(visible, hunk.lines):
            tone = {"-": "red", "+": "green"}.get(line[:1])
            lines.append("          " + (paint(line, tone) if tone else line))
    return lines


def _preview(content: list[InterdiffHunk], paint) -> list[str]:
    lines = []
    shown = 0
    total = sum(len(h.lines) for h in content)
    for hunk in content:
        for line in hunk.lines:
            if shown >= UNPAIRED_PREVIEW_LINES:
                lines.append(f"            ... {total - shown} more lines")
                return lines
            inner = visible(line[1:])
            tone = {"-": "red", "+": "green"}.get(inner[:1])
            lines.append("            " + (paint(inner, tone) if tone else inner))
            shown += 1
    return lines


def _evidence_text(comparison: Comparison, evidence) -> str:
    parts = []
    for item in evidence:
        if item.to_index is None:
            parts.append(f"dropped patch {item.from_index}")
            continue
        hunks = comparison.hunks_of(item.to_index)
        if item.hunk is not None and 0 <= item.hunk < len(hunks):
            hunk = hunks[item.hunk]
            where = hunk.function or hunk.file
            parts.append(f"patch {item.to_index} hunk [{item.hunk}] ({where})")
        else:
            parts.append(f"patch {item.to_index}")
    return ", ".join(parts)


def review_comment_lines(comments: list[ReviewComment], indent: str = "  ") -> list[str]:
    """Review points of one version and what the next did with each, as plain lines (the
    `reviewtool diff` listing): verdict, where, who, their first line, the evidence."""
    out: list[str] = []
    for comment in comments:
        where = f"patch {comment.patch_index}" if comment.patch_index else "cover"
        first = comment.text.strip().split("\n")[0]
        stance = f" (author: {comment.stance})" if comment.stance else ""
        out.append(
            f"{indent}[{comment.verdict}] {comment.version} {where}, "
            f"{person_name(comment.author)}: {first}{stance}"
        )
        out.append(f"{indent}    {comment.evidence} <{comment.message_id}>")
    return out
