"""Code as the report shows it: diffs and interdiffs split into rows, C highlighted by Pygments.

Pygments escapes what it highlights and every other line goes through markupsafe's escape, so
the rows' `html` values are safe to mark as such; nothing from mail reaches the page unescaped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import CLexer

from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.render.safe_html import text_html
from reviewtool.render.view import DiffRow, parse_diff
from reviewtool.textlines import visible

if TYPE_CHECKING:
    from reviewtool.analyses.rangediff import InterdiffHunk

# Pygments style for code; its rules are scoped under `.code` so they cannot touch the page.
PYGMENTS_STYLE = "default"


@lru_cache(maxsize=1)
def pygments_css() -> str:
    """The stylesheet of the highlighting, scoped under `.code`."""
    return HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".code")


def highlight_lines(texts: list[str], path: str) -> list[Markup]:
    """Each text highlighted as code of `path`'s language, one Markup per input line."""
    if not texts:
        return []
    texts = [visible(text) for text in texts]  # a form feed or U+2028 must show, not act
    lexer = CLexer(stripnl=False, ensurenl=False) if path.endswith(C_SUFFIXES) else None
    if lexer is None:
        return [text_html(t) for t in texts]
    source = "\n".join(texts) + "\n"
    out = highlight(source, lexer, HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE))
    lines = out.split("\n")
    if len(lines) < len(texts):  # the lexer merged lines: fall back to plain, never misalign
        return [text_html(t) for t in texts]
    # Pygments escaped what it highlighted, and its input had its controls made visible.
    return [Markup(line) for line in lines[: len(texts)]]


def diff_rows(diff: str) -> list[dict[str, Any]]:
    """Files of a diff, each a list of rows (kind, numbers, highlighted text)."""
    files = []
    for diff_file in parse_diff(diff):
        code = [line for line in diff_file.lines if line.kind in ("add", "del", "ctx")]
        highlighted = iter(highlight_lines([line.text for line in code], diff_file.path))
        rows = []
        for line in diff_file.lines:
            if line.kind in ("add", "del", "ctx"):
                rows.append(code_row(line, next(highlighted)))
            elif line.kind != "file":
                rows.append(code_row(line, text_html(visible(line.text))))
        files.append({"path": diff_file.path, "rows": rows})
    return files


def code_row(line: DiffRow, html: Markup) -> dict[str, Any]:
    marker = {"add": "+", "del": "-", "ctx": " "}.get(line.kind, "")
    return {
        "kind": line.kind,
        "old": line.old_no if line.old_no is not None else "",
        "new": line.new_no if line.new_no is not None else "",
        "marker": marker,
        "html": html,
    }


# Range-diff lines by (outer, inner) marker: what the line says about the new version.
# `++` the new version adds it (as the old did not); `+-` the new version now removes it;
# `-+` the old version added it and the new one no longer does; `--` the old version removed
# it and the new one keeps it. Colour follows what happens in the new version's code.
RANGEDIFF_KINDS = {
    ("+", "+"): "rd-add",
    ("+", "-"): "rd-del",
    ("-", "+"): "rd-unadd",
    ("-", "-"): "rd-undel",
}


def rangediff_rows(hunk: InterdiffHunk) -> list[dict[str, Any]]:
    """The lines of one range-diff hunk (outer marker, then the patch's own marker), each with
    a class saying what the new version does to that line; the hunk's own header line is
    left to the caller, which numbers it."""
    rows: list[dict[str, Any]] = []
    for line in hunk.lines:
        outer, inner = line[:1], line[1:2]
        body = line[1:]
        if body.startswith(("@@", " ## ")):
            # The patch's own hunk or file header inside the hunk: context, not a second title.
            kind = "meta" if outer == " " else ("rd-add" if outer == "+" else "rd-unadd")
        elif outer == " ":
            kind = "ctx"
        else:
            kind = RANGEDIFF_KINDS.get(
                (outer, inner), "rd-ctx-add" if outer == "+" else "rd-ctx-del"
            )
        rows.append({"kind": kind, "text": visible(line)})
    return rows


def plain_rows(hunk: InterdiffHunk) -> list[dict[str, Any]]:
    """One hunk as a plain interdiff: the code after the old patch against the code after the
    new one. A line is in a patch's result when its own marker is ' ' or '+', so those lines
    keep the outer marker and the lines only a patch removes drop out."""
    rows: list[dict[str, Any]] = []
    for line in hunk.lines:
        outer, body = line[:1], line[1:]
        if body.startswith(" ## ") and outer != "-":
            # A file boundary inside the hunk: say which file the next lines are in.
            rows.append({"kind": "meta", "text": visible(body.strip())})
            continue
        if body.startswith(("@@", " ## ")) or body[:1] not in (" ", "+"):
            continue
        text = body[1:]
        kind = {"+": "add", "-": "del"}.get(outer, "ctx")
        marker = {"add": "+", "del": "-"}.get(kind, " ")
        rows.append({"kind": kind, "text": visible(marker + text)})
    return rows


def marked_row(line: str) -> dict[str, Any]:
    """A line of a plain diff (a commit message diff): add, del or ctx by its marker."""
    kind = {"+": "add", "-": "del"}.get(line[:1], "ctx")
    return {"kind": kind, "text": visible(line)}
