"""The scan index on disk: `index.json` and a small `index.html` table, written atomically.

Text from mail (titles, reasons) enters the table through `render.safe_html.text_html`, the
report's one sanitiser: escaped, with bidi controls and ESC shown, never obeyed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from reviewtool.errors import InputError
from reviewtool.render.safe_html import text_html

INDEX_JSON = "index.json"
INDEX_HTML = "index.html"


def write_text(path: Path, text: str) -> None:
    """Write a file whole (temporary file, then rename); never replace a non-regular file."""
    try:
        if path.exists() and not path.is_file():
            raise InputError(f"{path}: exists and is not a regular file; not replaced")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        # "replace": a lone surrogate from a mangled mail must not cost a whole output.
        tmp.write_bytes(text.encode("utf-8", "replace"))
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def index_document(
    entries: list[dict],
    counts: dict[str, int],
    rejected: list[tuple[str, str]],
    options: Any,
    generated: str,
) -> dict:
    """The scan index: options, what the series index holds, one entry per series."""
    return {
        "tool": "reviewtool scan",
        "generated": generated,
        "archives": [os.fspath(a) for a in options.archives],
        "touching": list(options.touching),
        "since": options.since,
        "messages": counts,
        "rejected": [{"source": where, "reason": reason} for where, reason in rejected],
        "series": entries,
    }


def write_index(
    out: Path,
    entries: list[dict],
    counts: dict[str, int],
    rejected: list[tuple[str, str]],
    options: Any,
    generated: str,
) -> None:
    """Write index.json and index.html under `out`."""
    document = index_document(entries, counts, rejected, options, generated)
    write_text(out / INDEX_JSON, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    write_text(out / INDEX_HTML, render_index_html(document))


def _findings_cell(version: dict) -> str:
    found = version.get("findings")
    if found is None:
        reason = version.get("unavailable") or "not checked"
        return f'<span class="nc" title="{text_html(reason)}">not checked</span>'
    text = str(found["introduced"])
    if version.get("not_checked"):
        text += f' <span class="nc">({version["not_checked"]} functions not checked whole)</span>'
    return text


def render_index_html(document: dict) -> str:
    """A small self-contained table: series, versions, findings introduced per version."""
    rows = []
    for entry in document["series"]:
        if entry.get("error"):
            rows.append(
                f"<tr class=err><td>{text_html(entry.get('message_id') or '')}</td>"
                f"<td colspan=3>failed: {text_html(entry['error'])}</td></tr>"
            )
            continue
        versions = " ".join(text_html(v["label"]) for v in entry["versions"])
        introduced = " ".join(
            f"{text_html(v['label'])}:&nbsp;{_findings_cell(v)}" for v in entry["versions"]
        )
        link = text_html(entry["html"] or entry["json"])
        comments = entry.get("open_review_comments")
        comments_text = "n/a" if comments is None else str(comments)
        rows.append(
            f'<tr><td><a href="{link}">{text_html(entry["title"])}</a></td><td>{versions}</td>'
            f"<td>{introduced}</td><td>{comments_text}</td></tr>"
        )
    counts = document["messages"]
    summary = ", ".join(f"{text_html(str(k))} {v}" for k, v in sorted(counts.items()))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=utf-8><title>reviewtool scan</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top}"
        ".err{background:#fee}.nc{color:#888}</style></head><body>"
        f"<h1>reviewtool scan</h1><p>{text_html(document['generated'])}: {summary}</p>"
        "<table><tr><th>series</th><th>versions</th><th>findings introduced per version</th>"
        "<th>open review comments</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )
