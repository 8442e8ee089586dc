"""One sanitiser for text from mail in HTML and text output (issue 16.6).

Two halves: (1) every mail-controlled field (subject, From name, path, trailer, changelog line,
diff line, review comment) carries bidi controls (U+202E, U+2066..U+2069, U+200E, U+200F) and
an ESC sequence, and every output (HTML report, `report --format text`, `series`, `diff`, the
bot's reply) shows each of them as a visible stand-in wherever the field appears, never raw;
(2) the package builds no HTML by hand except from `render.safe_html.text_html` and constant
markup, so a new renderer cannot slip past the sanitiser unnoticed.
"""

from __future__ import annotations

import ast
import email
import re
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from markupsafe import escape

from reviewtool.cli import main
from reviewtool.textlines import stand_in
from tests.helpers.mail import BASE_DATE, message

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reviewtool"
TEMPLATES = ROOT / "templates"

# Reorder the line (RLO, isolates, marks) and clear the screen.
HOSTILE = "\u202e\u2066\u2067\u2068\u2069\u200e\u200f\x1b[2J"
RAW = set("\u202e\u2066\u2067\u2068\u2069\u200e\u200f\x1b")
SHOWN = "".join(stand_in(c) for c in HOSTILE[:7]) + stand_in("\x1b") + "[2J"
# Each field ends with its own word right after the hostile characters, so every place the
# field is printed can be found, and what precedes the word checked.
FIELDS = ("TITLE", "AUTHOR", "PATH", "TRAILER", "CHANGELOG", "DIFFLINE", "COMMENT")
AUTHOR = (f"Mal{HOSTILE}AUTHOR", "mal@example.org")
REVIEWER = (f"Eve{HOSTILE}TRAILER", "eve@example.org")
PATH = f"virt/kvm/evil{HOSTILE}PATH.c"


def _diff(version: int) -> str:
    body = [
        "static int demo_count(struct kvm *kvm)",
        "{",
        f"\tint pages = {version}; /* {HOSTILE}DIFFLINE */",
        "\treturn pages;",
        "}",
    ]
    return (
        f"diff --git a/{PATH} b/{PATH}\nindex 1111111..2222222 100644\n"
        f"--- a/{PATH}\n+++ b/{PATH}\n@@ -1,2 +1,{len(body) + 2} @@\n"
        " #include <linux/kvm_host.h>\n \n" + "".join(f"+{line}\n" for line in body)
    )


def _hostile_mails() -> list[bytes]:
    """v1 and v2 of a one-patch series with a cover, and a review of v1 with a comment and a
    Reviewed-by: every field a sender controls carries HOSTILE."""
    mails = []
    for version in (1, 2):
        date = BASE_DATE + timedelta(days=version)
        prefix = "PATCH" if version == 1 else "PATCH v2"
        cover_id, patch_id = f"cover-{version}@example.org", f"patch-{version}@example.org"
        changelog = (
            f"v1 -> v2:\n - Fix the count {HOSTILE}CHANGELOG in demo_count()\n\n"
            if version == 2
            else ""
        )
        cover = f"Count the pages.\n\n{changelog}Mal (1):\n  count pages\n\n-- \n2.42.0\n"
        subject = f"KVM: count {HOSTILE}TITLE pages"
        mails.append(message(f"[{prefix} 0/1] {subject}", cover, cover_id, date, AUTHOR))
        body = (
            f"Count the pages.\n\nSigned-off-by: {AUTHOR[0]} <{AUTHOR[1]}>\n---\n"
            + _diff(version)
            + "-- \n2.42.0\n"
        )
        sent = date + timedelta(seconds=1)
        mails.append(
            message(f"[{prefix} 1/1] {subject}", body, patch_id, sent, AUTHOR, cover_id, [cover_id])
        )
        if version == 1:
            reply = (
                f"On Thu, Mal wrote:\n> +\tint pages = 1; /* {HOSTILE}DIFFLINE */\n\n"
                f"Please name the constant {HOSTILE}COMMENT.\n\n"
                f"Reviewed-by: {REVIEWER[0]} <{REVIEWER[1]}>\n"
            )
            mails.append(
                message(
                    f"Re: [{prefix} 1/1] {subject}",
                    reply,
                    "review-1@example.org",
                    date + timedelta(hours=1),
                    REVIEWER,
                    patch_id,
                    [cover_id, patch_id],
                )
            )
    return mails


@pytest.fixture(scope="module")
def hostile_mbox(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "hostile.mbox"
    with open(path, "wb") as fh:
        for data in _hostile_mails():
            fh.write(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + data + b"\n")
    return path


def _fields_shown(output: str, shown: str) -> set[str]:
    """The fields that appear in `output`; fails where one appears without its stand-ins."""
    assert not RAW & set(output), sorted(RAW & set(output))
    found = set()
    for field in FIELDS:
        for match in re.finditer(field, output):
            before = output[max(0, match.start() - len(shown)) : match.start()]
            assert before == shown, f"{field} printed as ...{before!r}{field}"
            found.add(field)
    return found


def test_every_mail_field_shows_its_controls_in_the_html_report(hostile_mbox, tmp_path):
    out = tmp_path / "r.html"
    assert main(["report", str(hostile_mbox), "-o", str(out), "--fail-on", "none"]) == 0
    page = out.read_text(encoding="utf-8")
    assert _fields_shown(page, str(escape(SHOWN))) == set(FIELDS)


def test_every_mail_field_shows_its_controls_in_the_text_doors(hostile_mbox, tmp_path, capsys):
    found: set[str] = set()
    for args in (["report", "--format", "text", "--fail-on", "none"], ["series"], ["diff"]):
        assert main([args[0], str(hostile_mbox), *args[1:]]) == 0
        printed = capsys.readouterr()
        found |= _fields_shown(printed.out, SHOWN)
        assert not RAW & set(printed.err)
    assert found == set(FIELDS)


def test_the_bots_reply_shows_the_controls_of_the_fields_it_quotes(hostile_mbox, tmp_path):
    config = tmp_path / "bot.toml"
    config.write_text("[bot]\nsettle_seconds = 0\nmax_age_days = 0\n")
    replies = tmp_path / "replies"
    args = ["bot", "--source", str(hostile_mbox), "--once", "--dry-run", "--quiet"]
    args += ["--dry-run-dir", str(replies), "--state", str(tmp_path / "s.sqlite")]
    assert main([*args, "--config", str(config), "--from", "bot <bot@example.org>"]) == 0
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in sorted(replies.glob("*.eml"))
    ]
    bodies = [message.get_content() for message in messages]
    assert len(bodies) == 2  # v1 and v2
    shown = set().union(*(_fields_shown(body, SHOWN) for body in bodies))
    assert "TITLE" in shown
    # The reply's Subject repeats the sender's: its controls are shown, not sent on.
    subjects = [str(message["Subject"]) for message in messages]
    assert all(not RAW & set(subject) for subject in subjects), subjects
    assert all("<U+202E>" in subject for subject in subjects), subjects


# -- no HTML built by hand around the sanitiser ---------------------------------------------

# Markup(...) whose argument is not text from mail, each audited: (module, function) -> why.
AUDITED_MARKUP = {
    ("render/code.py", "highlight_lines"): "Pygments' escaped output of visible() text",
    ("render/html.py", "_page"): "the package's own CSS files",
}


def _calls(tree: ast.AST, name: str):
    """(enclosing function name, call) for each call of `name` in a module."""
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(func):
            if not isinstance(node, ast.Call):
                continue
            target = node.func
            if isinstance(target, ast.Attribute):  # `html.escape(...)`, not `re.escape(...)`
                owner = getattr(target.value, "id", None)
                called = target.attr if owner in ("html", "markupsafe") else None
            else:
                called = getattr(target, "id", None)
            if called == name:
                yield func.name, node


def test_html_is_built_by_hand_only_from_the_sanitiser_and_constant_markup() -> None:
    unaudited = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = str(path.relative_to(PACKAGE))
        if rel == "render/safe_html.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function, call in _calls(tree, "Markup"):
            constant = all(isinstance(arg, ast.Constant) for arg in call.args)
            if not constant and (rel, function) not in AUDITED_MARKUP:
                unaudited.append(f"{rel}:{call.lineno} Markup(...) in {function}()")
        for function, call in _calls(tree, "escape"):
            # markupsafe's escape leaves bidi controls as they are: text_html is the one door.
            unaudited.append(f"{rel}:{call.lineno} escape(...) in {function}(): use text_html")
    assert not unaudited, unaudited
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe\b|autoescape\s+false|Markup", text), template.name
