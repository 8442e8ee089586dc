"""`reviewtool diff PATH... [--series SEL] [--from A --to B] [--json]`: range-diff from mail.

By default every consecutive pair of full revisions of every series is compared; a point
revision (v7.1) is compared with the patches of its parent that it replaces.
"""

from __future__ import annotations

import argparse
import sys

from reviewtool.analyses.followup import ReviewComment, follow_comments
from reviewtool.analyses.rangediff import (
    DEFAULT_CREATION_FACTOR,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    Comparison,
    InterdiffHunk,
    compare,
)
from reviewtool.cli.common import add_paths_argument, load_collection, print_json, use_colour
from reviewtool.errors import UsageError
from reviewtool.render.text import review_comment_lines
from reviewtool.series import Revision, Series, select_series
from reviewtool.series.reroll import applied_revisions, parent_revision, rerolled_part
from reviewtool.textlines import visible

# Lines of an added or dropped patch shown before "... N more lines".
UNPAIRED_PREVIEW_LINES = 40

_COLOURS = {
    "red": "\033[31m",
    "green": "\033[32m",
    "yellow": "\033[33m",
    "cyan": "\033[36m",
    "bold": "\033[1m",
    "dim": "\033[2m",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add the `diff` subcommand."""
    parser = sub.add_parser(
        "diff",
        help="range-diff versions of a series from mail, and check the changelog",
        description=(
            "Pair the patches of two versions as git range-diff does, show what changed "
            "(rebase noise apart), and check the cover letter's changelog against it."
        ),
    )
    add_paths_argument(parser)
    parser.add_argument("--series", metavar="SEL", help="series by 1-based index or title")
    parser.add_argument("--from", dest="from_version", metavar="A", help="older version (v7)")
    parser.add_argument("--to", dest="to_version", metavar="B", help="newer version (v8)")
    parser.add_argument(
        "--creation-factor",
        type=float,
        default=DEFAULT_CREATION_FACTOR,
        metavar="F",
        help="cost of leaving a patch unpaired, as a share of its size (default 0.6; "
        "git's --creation-factor=60)",
    )
    parser.add_argument("--json", action="store_true", help="print the comparisons as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compare the chosen revisions and print the result; 0 on success."""
    factor = args.creation_factor
    if factor > 1.0:
        factor = factor / 100  # accept git's percent spelling too
    if factor < 0:
        raise UsageError("--creation-factor must not be negative")
    collection = load_collection(
        args.paths, sloppy_trailers=getattr(args, "sloppy_trailers", False)
    )
    chosen = select_series(collection.series, args.series)
    work: list[tuple[Series, Revision, Revision]] = []
    for series in chosen:
        work.extend((series, a, b) for a, b in revision_pairs(series, args))
    if not work:
        raise UsageError(
            "nothing to compare: no series has two versions in the input "
            f"({len(collection.series)} series found)"
        )
    results = [(series, compare(old, new, factor)) for series, old, new in work]
    comments = [_comments_followed(comparison) for _, comparison in results]
    if args.json:
        print_json(
            [
                {
                    "series": s.title,
                    **c.to_json(),
                    "review_comments": [x.to_json() for x in found],
                }
                for (s, c), found in zip(results, comments, strict=True)
            ]
        )
    else:
        colour = use_colour(sys.stdout)
        for (series, comparison), found in zip(results, comments, strict=True):
            text = format_comparison(series.title, comparison, colour)
            if found:
                lines = [f"  review comments on {comparison.from_label}:"]
                lines += review_comment_lines(found, indent="    ")
                text = text.rstrip("\n") + "\n" + "\n".join(lines) + "\n\n"
            sys.stdout.write(text)
    return 0


def _comments_followed(comparison: Comparison) -> list[ReviewComment]:
    """Review comments on the old version, followed into the new one (analyses/followup)."""
    if comparison.old is None or comparison.new is None:
        return []
    pair = {(comparison.from_label, comparison.to_label): comparison}
    found = follow_comments([comparison.old, comparison.new], pair)
    return [c for c in found if c.version == comparison.from_label]


def revision_pairs(series: Series, args: argparse.Namespace) -> list[tuple[Revision, Revision]]:
    """The (old, new) revisions to compare for one series: the asked pair, or every
    consecutive pair (v7 -> v7.1 -> v8), a point revision read as applied over its parent."""
    wanted_from, wanted_to = args.from_version, args.to_version
    if wanted_from or wanted_to:
        return [_explicit_pair(series, wanted_from, wanted_to)]
    applied = applied_revisions(series.revisions)
    pairs: list[tuple[Revision, Revision]] = []
    for position in range(1, len(series.revisions)):
        old, new = applied[position - 1], applied[position]
        point = series.revisions[position]
        if point.point is not None and old.version == point.version:
            # v7 -> v7.1: only the patches the point revision rerolls.
            parent = parent_revision(series.revisions, point) or series.revisions[position - 1]
            pairs.append((rerolled_part(parent, point), point))
        else:
            pairs.append((old, new))
    return pairs


def _explicit_pair(series: Series, start: str | None, end: str | None) -> tuple[Revision, Revision]:
    revisions = series.revisions
    have = ", ".join(r.label for r in revisions)
    old = series.revision(start) if start else None
    new = series.revision(end) if end else None
    if start and old is None:
        raise UsageError(f"{series.title!r} has no version {start} (has {have})")
    if end and new is None:
        raise UsageError(f"{series.title!r} has no version {end} (has {have})")
    if old is None and new is not None:
        position = revisions.index(new)
        if position == 0:
            raise UsageError(f"{new.label} is the first version of {series.title!r}")
        old = revisions[position - 1]
    if new is None and old is not None:
        position = revisions.index(old)
        if position == len(revisions) - 1:
            raise UsageError(f"{old.label} is the last version of {series.title!r}")
        new = revisions[position + 1]
    assert old is not None and new is not None
    if old is new:
        raise UsageError(f"--from and --to name the same version ({old.label})")
    if new.point is not None and old.version == new.version and old.point is None:
        return rerolled_part(old, new), new
    # A point revision stands for its version with the rerolled patches in place (v7.1 -> v8
    # compares all of v7 as amended, not the one patch v7.1 carried).
    applied = dict(zip(map(id, revisions), applied_revisions(revisions), strict=True))
    return applied[id(old)], applied[id(new)]


# ---------------------------------------------------------------------------------------------
# Text output


def format_comparison(title: str, comparison: Comparison, colour: bool = False) -> str:
    """The human-readable range-diff: pairs with their real hunks, rebase summary, changelog."""

    def paint(text: str, *names: str) -> str:
        if not colour:
            return text
        return "".join(_COLOURS[n] for n in names) + text + "\033[0m"

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
    out.append("")
    return "\n".join(out) + "\n"


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
