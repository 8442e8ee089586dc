"""The diff a reader is shown is the diff git applies: lines are cut on `\\n` only.

`str.splitlines()` also breaks on form feeds, vertical tabs, lone carriage returns, U+2028 and
more; a patch line `+a();\\f-b();` is one added line to `git apply`, never an added `a()` and
a removed `b()`. These tests hand the same bytes to `git apply --numstat` and to reviewtool.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewtool.diff.model import parse_patch_diff
from reviewtool.mail.parse import parse_mail
from reviewtool.render.code import diff_rows
from reviewtool.render.view import diffstat, parse_diff
from reviewtool.textlines import git_lines, visible

# Characters `str.splitlines()` takes for line ends and git does not, and other controls.
TRICKY = "\f\v\r\x1c\x1d\x1e\x85\u2028\u2029\x00\x1b\t "
BACKDOOR = "+\tfoo();\f-\tbackdoor();"


def _patch(body: list[str], old: int, new: int) -> str:
    return (
        "diff --git a/f.c b/f.c\n"
        "index 1111111..2222222 100644\n"
        "--- a/f.c\n"
        "+++ b/f.c\n"
        f"@@ -1,{old} +1,{new} @@ int f(void)\n" + "".join(line + "\n" for line in body)
    )


def _mail(patch: str) -> bytes:
    text = (
        "From: A U Thor <author@example.org>\n"
        "Subject: [PATCH] f: change\n"
        "Message-ID: <shown@example.org>\n"
        "Date: Tue, 5 Sep 2023 10:00:00 +0000\n"
        "Content-Type: text/plain; charset=utf-8\n"
        "\n"
        "Change f.\n\nSigned-off-by: A U Thor <author@example.org>\n---\n" + patch + "-- \n2.41.0\n"
    )
    return text.encode("utf-8")


def _git_numstat(patch: str, tmp_path: Path) -> tuple[int, int]:
    """What `git apply --numstat` counts for the patch: (added, removed)."""
    path = tmp_path / "p.diff"
    path.write_bytes(patch.encode("utf-8"))
    out = subprocess.run(
        ["git", "apply", "--numstat", str(path)],
        capture_output=True,
        check=True,
        cwd=tmp_path,
        timeout=30,
    ).stdout.decode()
    added, removed, _ = out.split("\t", 2)
    return int(added), int(removed)


def _shown(patch: str) -> tuple[int, int]:
    """What the report marks added and removed, through the mail reader and every renderer."""
    mail = parse_mail(_mail(patch), "shown.eml")
    stat = diffstat(mail.diff)
    rows = [line for f in parse_diff(mail.diff) for line in f.lines]
    html_rows = [row for f in diff_rows(mail.diff) for row in f["rows"]]
    model = parse_patch_diff(mail.diff)
    counted = {
        "diffstat": (stat.added, stat.removed),
        "rows": (
            sum(1 for r in rows if r.kind == "add"),
            sum(1 for r in rows if r.kind == "del"),
        ),
        "html": (
            sum(1 for r in html_rows if r["kind"] == "add"),
            sum(1 for r in html_rows if r["kind"] == "del"),
        ),
        "model": (
            sum(len(f.added_lines()) for f in model.files),
            sum(len(f.removed_lines()) for f in model.files),
        ),
    }
    assert len(set(counted.values())) == 1, counted
    return counted["diffstat"]


def test_a_form_feed_does_not_turn_an_added_line_into_a_removed_one(tmp_path: Path) -> None:
    patch = _patch([" int a;", BACKDOOR, " int b;"], 2, 3)
    assert _git_numstat(patch, tmp_path) == (1, 0)
    assert _shown(patch) == (1, 0)
    rows = [r for f in diff_rows(parse_mail(_mail(patch), "m").diff) for r in f["rows"]]
    (row,) = [r for r in rows if r["kind"] != "meta" and r["kind"] != "hunk"][1:2]
    assert row["kind"] == "add"
    assert "backdoor" in str(row["html"]) and "\f" not in str(row["html"])
    assert "\u240c" in str(row["html"])  # the form feed is shown, as its control picture


def test_git_lines_cut_on_newline_only() -> None:
    assert git_lines("a\fb\u2028c\rd\n\ne\n") == ["a\fb\u2028c\rd", "", "e"]
    assert git_lines("") == []
    assert visible("a\fb\x1b[2Jc\u2028") == "a\u240cb\u241b[2Jc<U+2028>"


@st.composite
def hunk_bodies(draw):
    texts = st.text(
        alphabet=st.one_of(st.sampled_from(TRICKY), st.sampled_from("abc+- @\\;(){}")),
        max_size=12,
    )
    body = draw(
        st.lists(st.tuples(st.sampled_from(" -+"), texts), min_size=1, max_size=12).filter(
            lambda lines: any(kind != " " for kind, _ in lines)
        )
    )
    lines = [kind + text for kind, text in body]
    old = sum(1 for kind, _ in body if kind != "+")
    new = sum(1 for kind, _ in body if kind != "-")
    return lines, old, new


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(hunk_bodies())
def test_lines_shown_added_and_removed_are_what_git_apply_counts(tmp_path: Path, case) -> None:
    lines, old, new = case
    patch = _patch(lines, old, new)
    assert _shown(patch) == _git_numstat(patch, tmp_path)


def test_a_removed_dash_line_is_not_taken_for_a_signature(tmp_path: Path) -> None:
    # Removing a line that holds `-` gives the diff line `--`, which looks like a signature
    # separator; git apply goes by the hunk's counts, and so must the reader.
    patch = _patch([" a", "--", "+b"], 2, 2)
    assert _git_numstat(patch, tmp_path) == (1, 1)
    assert _shown(patch) == (1, 1)
    assert _shown(_patch(["--"], 1, 0)) == (0, 1)


def test_a_removed_space_line_is_not_taken_for_the_mail_signature(tmp_path: Path) -> None:
    # Removing a line that holds one space gives `-- `, the signature separator itself; only
    # outside a hunk's counted lines is it the signature.
    patch = _patch([" a", "-- ", "+b"], 2, 2)
    assert _git_numstat(patch, tmp_path) == (1, 1)
    assert _shown(patch) == (1, 1)
