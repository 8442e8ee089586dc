"""`reviewtool series` as text: one block per series, one line per revision and patch."""

from __future__ import annotations

from reviewtool.render.terminal import Painter
from reviewtool.series import Collection
from reviewtool.series.model import format_ranges


def format_table(collection: Collection, colour: bool = False) -> str:
    """The human-readable listing: one block per series, one line per revision and patch."""

    paint = Painter(colour)

    def bold(text: str) -> str:
        return paint(text, "bold")

    def dim(text: str) -> str:
        return paint(text, "dim")

    lines: list[str] = []
    for number, series in enumerate(collection.series, 1):
        lines.append(bold(f"[{number}] {series.title}"))
        if series.change_id:
            lines.append(f"    change-id: {series.change_id}")
        for revision in series.revisions:
            date = revision.date.strftime("%Y-%m-%d") if revision.date else "????-??-??"
            count = f"{len(revision.patches)}/{revision.total}"
            flags = " ".join(sorted(revision.flags))
            head = f"  {revision.label:<6} {date}  {count:>7} patches  {revision.author}"
            if flags:
                head += f"  [{flags}]"
            lines.append(head)
            if revision.missing:
                lines.append(f"         missing: {format_ranges(revision.missing_ranges)}")
            if revision.duplicates:
                lines.append(f"         sent twice: {', '.join(map(str, revision.duplicates))}")
            if revision.replaces:
                lines.append(f"         point revision replacing: {revision.replaces}")
            for step in revision.changelog[:1]:
                lines.append(
                    dim(
                        f"         changelog v{step.from_version} -> v{step.to_version}: "
                        f"{len(step.items)} item(s)"
                    )
                )
            for patch in revision.patches:
                reviewed = patch.reviewed_by()
                tags = f"  ({', '.join(sorted({t.name for t in reviewed}))})" if reviewed else ""
                same = dim(f"  [= {patch.unchanged_from}]") if patch.unchanged_from else ""
                lines.append(f"    {patch.index:>3}/{patch.total} {patch.title}{dim(tags)}{same}")
                for trailer in patch.carried_over_changed:
                    lines.append(
                        f"         ! {trailer.name} carried over a changed patch: {trailer.value}"
                    )
                for ignored in patch.ignored_trailers:
                    lines.append(
                        dim(
                            f"         not applied: {ignored.trailer.name}: "
                            f"{ignored.trailer.value} (sent by {ignored.sender})"
                        )
                    )
            for note in revision.notes:
                lines.append(dim(f"         note: {note}"))
        lines.append("")
    acc = collection.accounting
    lines.append(acc.summary())
    for rejected in acc.rejected[:20]:
        lines.append(dim(f"  rejected {rejected.source}: {rejected.reason}"))
    if len(acc.rejected) > 20:
        lines.append(dim(f"  ... and {len(acc.rejected) - 20} more rejected"))
    for note in collection.notes:
        lines.append(dim(f"note: {note}"))
    return paint.finish("\n".join(lines) + "\n")
