"""Code as the report shows it: diffs and interdiffs split into rows, C highlighted by Pygments.

Pygments escapes what it highlights and every other line goes through markupsafe's escape, so
the rows' `html` values are safe to mark as such; nothing from mail reaches the page unescaped.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from markupsafe import Markup, escape
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import CLexer

from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.render.view import DiffRow, parse_diff
from reviewtool.textlines import git_lines, visible

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
        return [Markup(escape(t)) for t in texts]
    source = "\n".join(texts) + "\n"
    out = highlight(source, lexer, HtmlFormatter(nowrap=True, style=PYGMENTS_STYLE))
    lines = out.split("\n")
    if len(lines) < len(texts):  # the lexer merged lines: fall back to plain, never misalign
        return [Markup(escape(t)) for t in texts]
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
                rows.append(code_row(line, Markup(escape(visible(line.text)))))
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


def interdiff_rows(value: Any) -> list[dict[str, Any]]:
    """Rows of an interdiff: hunk dicts (`{file, function, rebase, lines}`) or plain text.

    Each line of a diff of diffs carries two markers: the outer one says what changed between
    the versions, the inner one what the patch itself does; both get their own colour.
    """
    rows: list[dict[str, Any]] = []
    if isinstance(value, list) and all(isinstance(h, dict) and "lines" in h for h in value):
        for hunk in value:
            where = " ".join(str(x) for x in (hunk.get("file"), hunk.get("function")) if x)
            rows.append(
                {
                    "kind": "hunk",
                    "inner": "",
                    "text": f"@@ {where}"
                    + ("   (rebase: context or offset only)" if hunk.get("rebase") else ""),
                }
            )
            rows.extend(marked_row(str(line)) for line in hunk.get("lines") or [])
        return rows
    return [marked_row(line) for line in git_lines(interdiff_text(value))]


def marked_row(line: str) -> dict[str, Any]:
    outer = line[:1]
    if line.startswith(("@@", "##")):
        kind = "hunk"
    elif line.startswith(("diff --git", "+++ ", "--- ", "index ")):
        kind = "meta"
    elif outer == "+":
        kind = "add"
    elif outer == "-":
        kind = "del"
    else:
        kind = "ctx"
    inner = line[1:2] if kind in ("add", "del", "ctx") else ""
    return {
        "kind": kind,
        "inner": {"+": "in-add", "-": "in-del"}.get(inner, ""),
        "text": visible(line),
    }


def interdiff_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for hunk in value:
            if isinstance(hunk, dict):
                parts.append(str(hunk.get("text") or hunk.get("diff") or hunk.get("hunk") or ""))
            else:
                parts.append(str(hunk))
        return "\n".join(p.rstrip("\n") for p in parts if p)
    if isinstance(value, dict):
        return str(value.get("text") or value.get("diff") or "")
    return str(value)
