"""The report as a person reads it, in headless Chromium at 1400 px and as a PDF: the verdict is
on the first screen, no element is wider than its container, every internal link lands.

The page itself runs no script (its CSP forbids it); to measure it, the test loads a copy with a
measuring script appended and the CSP meta removed, and reads the script's answer back from the
DOM Chromium dumps. Screenshots and PDFs are written to REVIEWTOOL_SHOTS (a directory) when set,
so a person can look at what the assertions looked at. Skipped where Chromium is not installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import lxml.html
import pytest

from reviewtool.ingest import load
from reviewtool.render.html import render_html
from reviewtool.review import build_review
from tests.helpers.review_support import make_review

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="headless Chromium not installed (Debian package `chromium`)"
    ),
]
BROWSER_TIMEOUT_S = 120
# A laptop screen, and the A4 page the PDF prints on (210 mm less 2 x 12 mm margins, at 96 dpi).
SCREEN = (1400, 900)
A4_PRINT_WIDTH = 703
EXAMPLE_MBOX = Path(__file__).resolve().parents[1] / "examples/kvm-follow-pfn/mbox"
LORE = "https://lore.kernel.org/all/{msgid}/"

# Opens every folded part (so folded content is measured too), then reports: where the verdict
# block and its parts sit, each element wider than its container (outside a scroll box), and
# each internal link whose target is missing.
MEASURE = """
<script>
window.addEventListener('load', () => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const out = {height: window.innerHeight, width: window.innerWidth, overflow: [], broken: []};
  const verdict = document.querySelector('[data-section=all-verdicts]') ||
                  document.querySelector('[data-section=verdict]');
  out.verdict_top = verdict ? verdict.getBoundingClientRect().top : null;
  out.parts = {};
  for (const p of document.querySelectorAll('[data-section=verdict] [data-part]')) {
    if (!(p.dataset.part in out.parts)) out.parts[p.dataset.part] = p.getBoundingClientRect().top;
  }
  const scrolls = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const parent = el.parentElement;
    if (!parent || el.id === 'measure') continue;
    const r = el.getBoundingClientRect(), pr = parent.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > pr.right + 1 && !scrolls(el)) {
      out.overflow.push({tag: el.tagName, cls: el.className && el.className.baseVal === undefined
        ? el.className : '', id: el.id, over: Math.round(r.right - pr.right),
        text: (el.textContent || '').trim().slice(0, 60)});
    }
  }
  const page = document.documentElement;
  out.page_overflow = page.scrollWidth - page.clientWidth;
  for (const a of document.querySelectorAll('a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    if (!document.getElementById(id)) out.broken.push(id);
  }
  const pre = document.createElement('pre');
  pre.id = 'measure';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def _chromium(url: str, profile: Path, width: int, height: int, *extra: str) -> str:
    proc = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT_S,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def measure(page: str, tmp_path: Path, width: int, height: int, print_css: bool = False) -> dict:
    """Load a measuring copy of the page at width x height; print_css lays it out as printed."""
    copy = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page, count=1)
    if print_css:
        copy = copy.replace("@media print", "@media all")
    copy = copy.replace("</body>", MEASURE + "</body>")
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"measure-{width}.html"
    path.write_text(copy, encoding="utf-8")
    dom = _chromium(path.as_uri(), tmp_path / f"profile-{width}", width, height, "--dump-dom")
    found = lxml.html.fromstring(dom).xpath("//pre[@id='measure']")
    assert found, "the measuring script did not run"
    return json.loads(found[0].text_content())


def shoot(page: str, tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A screenshot of the first screen at 1400 px and the whole page as a PDF."""
    shots = Path(os.environ.get("REVIEWTOOL_SHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    html = tmp_path / f"{name}.html"
    html.write_text(page, encoding="utf-8")
    png, pdf = shots / f"{name}-1400.png", shots / f"{name}.pdf"
    _chromium(html.as_uri(), tmp_path / f"shot-{name}", *SCREEN, f"--screenshot={png}")
    _chromium(
        html.as_uri(),
        tmp_path / f"pdf-{name}",
        *SCREEN,
        f"--print-to-pdf={pdf}",
        "--no-pdf-header-footer",
    )
    return png, pdf


def _assert_read_as_a_person_would(page: str, tmp_path: Path, name: str) -> dict:
    tmp_path = tmp_path / name
    screen = measure(page, tmp_path, *SCREEN)
    # The verdict starts on the first screen, and its four statements are all on it.
    assert screen["verdict_top"] is not None and screen["verdict_top"] < SCREEN[1] / 2
    assert screen["overflow"] == [], screen["overflow"][:5]
    assert screen["page_overflow"] <= 0
    assert screen["broken"] == []
    printed = measure(page, tmp_path / "print", A4_PRINT_WIDTH, 1000, print_css=True)
    assert printed["overflow"] == [], printed["overflow"][:5]
    assert printed["page_overflow"] <= 0
    png, pdf = shoot(page, tmp_path, name)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width == SCREEN[0]
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert len(re.findall(rb"/Type\s*/Page\b", pdf.read_bytes())) >= 1
    return screen


@pytest.fixture(scope="module")
def measured_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("layout")


def test_test_series_report_reads_verdict_first_and_fits(measured_dir: Path) -> None:
    review = make_review()
    review.archive_url = LORE
    screen = _assert_read_as_a_person_would(render_html(review), measured_dir, "test-series")
    for part in ("findings", "changelog", "comments", "unreviewed"):
        assert screen["parts"][part] < SCREEN[1], part


def test_bundled_example_report_reads_verdict_first_and_fits(measured_dir: Path) -> None:
    if not EXAMPLE_MBOX.exists():
        pytest.skip(f"bundled example not built: {EXAMPLE_MBOX}")
    review = build_review(load([str(EXAMPLE_MBOX)]), sources=[str(EXAMPLE_MBOX)])
    review.archive_url = LORE
    screen = _assert_read_as_a_person_would(render_html(review), measured_dir, "example")
    for part in ("findings", "changelog", "comments", "unreviewed"):
        assert screen["parts"][part] < SCREEN[1], part


def test_real_mail_report_reads_verdict_first_and_fits(measured_dir: Path, corpus_dir) -> None:
    review = build_review(load([str(corpus_dir)]), sources=[str(corpus_dir)])
    review.archive_url = LORE
    screen = _assert_read_as_a_person_would(render_html(review), measured_dir, "corpus")
    # Two series: the table of both verdicts opens the page.
    assert screen["verdict_top"] < SCREEN[1] / 3
