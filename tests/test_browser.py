"""The report in a real browser: headless Chromium renders it, logs nothing, runs no script.

Skipped, with the reason, where no Chromium is installed (Debian: `apt-get install chromium`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest

from reviewtool.ingest import load
from reviewtool.mail.model import Trailer
from reviewtool.render.html import render_html
from reviewtool.review import build_review
from reviewtool.series.model import ChangelogStep, Cover, Patch, Revision, Series
from tests.helpers.mail import make_mail
from tests.helpers.review_support import make_review, make_series, mbox_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="headless Chromium not installed (Debian package `chromium`)"
    ),
]
# Chromium is slow to start on a loaded CI machine; a hung browser must not hang the suite.
BROWSER_TIMEOUT_S = 90
WINDOW = "1280,2000"
# An injected script would set these; the tests look for them in the rendered DOM.
PWNED_TITLE = "PWNED-BY-MAIL"
PWNED_ATTR = "data-pwned"
INJECTIONS = (
    f"<script>document.title='{PWNED_TITLE}'</script>",
    f"<img src=x onerror=\"document.body.setAttribute('{PWNED_ATTR}','1')\">",
    f"<svg/onload=\"document.title='{PWNED_TITLE}'\">",
    "</style><b class=injected>bold</b>",
    f'"><iframe srcdoc="<script>parent.document.title=\'{PWNED_TITLE}\'</script>">',
)


@dataclass
class BrowserRun:
    dom: str
    console: list[str]
    stderr: str


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
    )


def open_in_browser(html_file: Path, tmp_path: Path) -> BrowserRun:
    """Load the file in headless Chromium; return the DOM after load and the console lines."""
    proc = _chromium(
        html_file.as_uri(), tmp_path / "profile", "--enable-logging=stderr", "--v=0", "--dump-dom"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return BrowserRun(dom=proc.stdout, console=console, stderr=proc.stderr)


def screenshot(html_file: Path, out: Path, tmp_path: Path) -> Path:
    """A PNG of the top of the page at a laptop's width."""
    proc = _chromium(html_file.as_uri(), tmp_path / "profile-shot", f"--screenshot={out}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_report_renders_in_chromium_without_console_messages(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_html(make_review()), encoding="utf-8")
    run = open_in_browser(report, tmp_path)
    assert run.console == []  # no errors, no CSP violations, no blocked fetches
    doc = lxml.html.fromstring(run.dom)
    assert doc.findtext(".//title").startswith("KVM: allow mapping non-refcounted pages")
    for section in (
        "verdict",
        "comparisons",
        "findings",
        "comments",
        "revisions",
        "migration",
        "overview",
    ):
        assert doc.xpath(f"//section[@id='s1-{section}']")
    shot = screenshot(report, tmp_path / "report.png", tmp_path)
    assert _png_size(shot) == (1280, 2000)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few KB


def _injected_series() -> Series:
    """A series whose every mail-borne field carries markup or a script."""
    series = make_series()
    evil = " ".join(INJECTIONS)
    revisions: list[Revision] = []
    for revision in series.revisions:
        cover = make_mail(
            f"KVM: mmu: {INJECTIONS[0]} map pages",
            version=revision.version,
            index=0,
            total=len(revision.patches),
            body=f"Cover text {evil}\n",
            when=revision.date,
            message_id=f"cover-{revision.version}@evil.example.org",
        )
        patches = []
        for patch in revision.patches:
            diff = patch.diff.replace(
                "arch/x86/kvm/mmu/mmu.c", "arch/x86/kvm/<svg/onload=alert(1)>.c"
            ).replace("\tr = direct_map(vcpu, fault);", f"\tr = direct_map(vcpu, fault); // {evil}")
            mail = make_mail(
                f"{patch.title} {INJECTIONS[patch.index % len(INJECTIONS)]}",
                version=revision.version,
                index=patch.index,
                total=patch.total,
                diff=diff,
                body=f"Body {evil}\n",
                when=revision.date + timedelta(minutes=patch.index),
                trailers=[
                    Trailer("Reviewed-by", f"Eve {INJECTIONS[0]} <evil@example.org>"),
                    Trailer("Link", f"https://example.org/{INJECTIONS[1]}"),
                ],
                message_id=f"p{revision.version}-{patch.index}@evil.example.org",
            )
            acked = Trailer("Acked-by", f"Mallory {INJECTIONS[2]} <m@example.org>", "")
            patches.append(Patch(patch.index, patch.total, mail, review_trailers=[acked]))
        changelog = [
            ChangelogStep(s.from_version, s.to_version, [evil]) for s in revision.cover.changelog
        ]
        revisions.append(
            Revision(
                version=revision.version,
                cover=Cover(cover, changelog=changelog),
                total=revision.total,
                patches=patches,
            )
        )
    return Series(title=f"KVM: mmu: {INJECTIONS[0]} map pages", revisions=revisions)


def test_injected_markup_in_mail_runs_no_script_and_shows_literally(tmp_path: Path) -> None:
    mbox = tmp_path / "evil.mbox"
    mbox.write_text(mbox_text(_injected_series()), encoding="utf-8")
    collection = load([str(mbox)])
    assert collection.series, "the mail layer must read the injected mails as a series"
    review = build_review(collection, sources=[str(mbox)])
    report = tmp_path / "evil.html"
    report.write_text(render_html(review), encoding="utf-8")

    run = open_in_browser(report, tmp_path)
    doc = lxml.html.fromstring(run.dom)
    title = doc.findtext(".//title")
    # An injected script would have set the title to exactly PWNED_TITLE.
    assert title == f"KVM: mmu: {INJECTIONS[0]} map pages - reviewtool report"
    assert doc.xpath("//body")[0].get(PWNED_ATTR) is None
    assert not doc.xpath("//script | //iframe | //img | //*[local-name()='svg' and @onload]")
    assert not doc.xpath("//*[@class='injected']")
    assert not [e for e in doc.iter() if any(a.startswith("on") for a in e.attrib)]
    text = doc.text_content()
    for injection in INJECTIONS[:3]:
        assert injection in text
    assert "arch/x86/kvm/<svg/onload=alert(1)>.c" in text
    assert f"Reviewed: Eve {INJECTIONS[0]}" in text  # a trailer from the patch
    assert f"Acked: Mallory {INJECTIONS[2]}" in text  # a trailer from a reply
    assert run.console == []  # not even a blocked script: nothing reached the parser as code
    screenshot(report, tmp_path / "evil.png", tmp_path)


def test_report_from_model_built_directly_with_injections_is_inert(tmp_path: Path) -> None:
    # The same check without the mail layer, so a change there cannot hide a renderer bug.
    review = make_review(_injected_series())
    report = tmp_path / "direct.html"
    report.write_text(render_html(review), encoding="utf-8")
    run = open_in_browser(report, tmp_path)
    doc = lxml.html.fromstring(run.dom)
    assert doc.findtext(".//title") != PWNED_TITLE
    assert doc.xpath("//body")[0].get(PWNED_ATTR) is None
    assert not doc.xpath("//script | //iframe | //img")
    assert run.console == []


def test_report_prints_to_a_pdf_of_several_pages(tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_html(make_review()), encoding="utf-8")
    pdf = tmp_path / "report.pdf"
    proc = _chromium(
        report.as_uri(), tmp_path / "profile-pdf", f"--print-to-pdf={pdf}", "--no-pdf-header-footer"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 2  # every section printed, not just the first screen
