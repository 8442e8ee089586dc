"""One sanitiser for every text door (issue 16.6): terminal escapes and bidi controls from mail,
paths and commits are shown, never obeyed, in series, diff, migrate, check, report --format
text, the hook, and (bidi) the HTML report."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from markupsafe import Markup, escape

from reviewtool.render.safe_html import visible_html
from reviewtool.render.terminal import Painter
from reviewtool.textlines import visible_text
from tests.helpers.mail import posting

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

# Retitle the terminal, clear the screen, a C1 CSI, and a right-to-left override.
EVIL = "KVM: x86: \x1b]0;owned\x07retitle \x1b[2Jclear \x9b31m safe\u202egnp.exe"
LIVE = ("\x1b", "\x07", "\x9b", "\u202e")
SHOWN = ("\u241b]0;owned\u2407retitle", "\u241b[2Jclear", "<U+009B>31m", "safe<U+202E>gnp.exe")


@pytest.fixture(scope="module")
def evil_mbox(tmp_path_factory) -> Path:
    """Two versions of a series whose title carries terminal escapes and a bidi override."""
    path = tmp_path_factory.mktemp("evil") / "evil.mbox"
    with open(path, "wb") as fh:
        for version in (1, 2):
            for data in posting(version, 2, title=EVIL, leak_in=2).mails:
                fh.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + data + b"\n")
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=300
    )


def _assert_shown_not_obeyed(text: str) -> None:
    for char in LIVE:
        assert char not in text, f"{char!r} reached the terminal"
    assert any(shown in text for shown in SHOWN), text[:2000]


@pytest.mark.parametrize(
    "args",
    [
        ("series",),
        ("diff",),
        ("report", "--format", "text", "--fail-on", "none"),
        ("migrate", "--old", "gfn_to_pfn_memslot", "--new", "__kvm_follow_pfn"),
    ],
    ids=["series", "diff", "report-text", "migrate"],
)
def test_mail_doors_show_escapes_and_bidi_from_a_subject(evil_mbox: Path, args) -> None:
    done = _run(*args[:1], str(evil_mbox), *args[1:])
    assert done.returncode in (0, 1), done.stderr
    _assert_shown_not_obeyed(done.stdout)
    for char in LIVE:
        assert char not in done.stderr


def test_check_shows_a_hostile_file_name(tmp_path: Path) -> None:
    from test_hook_push import LEAKING

    name = tmp_path / "mmu\x1b[2J\u202e.c"
    name.write_text(LEAKING)
    done = _run("check", str(name))
    assert done.returncode == 1, done.stderr
    assert "mmu\u241b[2J<U+202E>.c:" in done.stdout
    for char in LIVE:
        assert char not in done.stdout + done.stderr


def test_hook_shows_a_hostile_subject_and_path(tmp_path: Path) -> None:
    from test_hook_push import CLEAN, LEAKING

    from tests.helpers.workspace import Workspace

    ws = Workspace(tmp_path)
    path = "arch/arm64/kvm/mmu\u202e.c"
    ws.commit({path: CLEAN}, "KVM: arm64: base")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "evil")
    ws.commit({path: LEAKING}, "KVM: arm64: \x1b]0;owned\x07 exec faults")
    done = ws.push("evil")
    assert done.returncode != 0
    hook_lines = done.stderr  # git's own lines around the hook's carry no mail text
    assert "mmu<U+202E>.c:" in hook_lines and "\u241b]0;owned\u2407" in hook_lines
    for char in LIVE:
        assert char not in hook_lines


def test_html_report_shows_bidi_controls(evil_mbox: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    done = _run("report", str(evil_mbox), "-o", str(out), "--fail-on", "none")
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "\u202e" not in html
    assert "safe&lt;U+202E&gt;gnp.exe" in html


# -- the helpers themselves -----------------------------------------------------------------


def test_visible_html_keeps_markup_and_escapes_the_stand_in() -> None:
    marked = Markup("<b>") + escape("a\u2066b<") + Markup("</b>")
    shown = visible_html(marked)
    assert isinstance(shown, Markup)
    assert str(shown) == "<b>a&lt;U+2066&gt;b&lt;</b>"
    assert visible_html("x\u200fy") == "x<U+200F>y"  # a str stays a str: jinja escapes it
    assert visible_html(3) == 3
    assert visible_html(Markup("<i>plain</i>")) == Markup("<i>plain</i>")


def test_painter_colours_only_its_own_marks() -> None:
    paint = Painter(True)
    # A mail that spells out the painter's own kind of mark cannot guess its token.
    forged = "{0123456789abcdef:red}\x1b[31m"
    text = paint.finish(paint("title", "bold") + " " + forged)
    assert text.startswith("\x1b[1mtitle\x1b[0m ")
    assert text.endswith("{0123456789abcdef:red}\u241b[31m")
    assert visible_text("a\tb\nc\rd") == "a\tb\nc\u240dd"
