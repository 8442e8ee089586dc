"""A mail's diff -> the lines git range-diff compares (its `## file ##` rewrite of `git log -p`)."""

from __future__ import annotations

from reviewtool.diff.model import read_diff


def normalise_diff(diff: str) -> list[str]:
    """The lines git range-diff compares for one patch, built from the patch's mail diff.

    git range-diff reads `git log -p` and rewrites it: each file starts with a blank line and
    ` ## path ##` (with `(new)`, `(deleted)`, `old => new`, mode changes), hunk headers lose
    their line numbers and become `@@ path: function`, and index lines go. The mail carries
    the same diff with a/ b/ prefixes, so the same rewrite gives the same lines. The one diff
    reader (`diff.model.read_diff`) ends each hunk where its counts say, so a signature (`-- `
    then the git version) or a trailing mailing-list footer never becomes part of the diff.
    """
    out: list[str] = []
    for file_diff in read_diff(diff, lenient=True).files:
        if not file_diff.header or not file_diff.header[0].startswith("diff --git "):
            continue  # range-diff reads git's own output, which always has this header
        old_name = file_diff.old_path or file_diff.path
        new_name = file_diff.new_path or file_diff.path
        if out:
            out.append("")
        if file_diff.old_path is None:
            title = f"{new_name} (new)"
        elif file_diff.new_path is None:
            title = f"{old_name} (deleted)"
        elif file_diff.renamed and old_name != new_name:
            title = f"{old_name} => {new_name}"
        else:
            title = new_name
        old_mode, new_mode = file_diff.old_mode, file_diff.new_mode
        if old_mode and new_mode and old_mode != new_mode:
            title += f" (mode change {old_mode} => {new_mode})"
        out.append(f" ## {title} ##")
        out.extend(" " + line for line in file_diff.header if line.startswith(_BINARY_HEADERS))
        for hunk in file_diff.hunks:
            function = hunk.header.split("@@", 2)[2]
            out.append(f"@@ {file_diff.path}:{function}" if function else "@@")
            if not hunk.markers:
                out.extend([line.kind + line.text for line in hunk.lines])
                continue
            for index, line in enumerate(hunk.lines):
                out.append(line.kind + line.text)
                if index in hunk.markers:
                    out.append(" " + hunk.markers[index])
    return out


_BINARY_HEADERS = ("Binary files ", "GIT binary patch")


def diff_size(lines: list[str]) -> int:
    """The size git gives a patch for the creation cost: its diff lines, separators excluded."""
    return sum(1 for line in lines if line)
