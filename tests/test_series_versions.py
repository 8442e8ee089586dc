"""Issue 15.2 in `migrate`, `check` and `report`: the version arguments (`--from/--to`,
`--version`) choose the series that has those versions, and cut it to that range; when
several series have them, exit 2 lists each with its `--series` selector. The mail is made
with `git format-patch` in a temporary repository, a point revision by hand as authors send it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, msgid, set_header


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=300
    )


def _posting(repo: Path, base: str, version: int, out: Path, name: str, prefix: str, **kw):
    return make_posting(
        repo, base, version, out, count=2, prefix=prefix, stem=name, title=f"{prefix}: {name}", **kw
    )


@pytest.fixture(scope="module")
def mail(tmp_path_factory) -> Path:
    """`KVM: mmu: alpha` v1, v2 and `mm: gup: beta` v7, v7.1 (rerolls 2/2), v8."""
    root = tmp_path_factory.mktemp("versions")
    repo = init_repo(root / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    _posting(repo, base, 1, root / "mail" / "alpha1", "alpha", "KVM: mmu")
    _posting(repo, base, 2, root / "mail" / "alpha2", "alpha", "KVM: mmu", tweak="_a", changed=(1,))
    v7 = _posting(repo, base, 7, root / "mail" / "beta7", "beta", "mm: gup")
    _posting(repo, base, 8, root / "mail" / "beta8", "beta", "mm: gup", tweak="_b", changed=(2,))
    point = v7[2].read_text().replace("[PATCH v7 2/2]", "[PATCH v7.1 2/2]")
    point = set_header(point, "Message-Id", "<v7.1-2@chromium.org>")
    point = set_header(point, "In-Reply-To", f"<{msgid(v7[2])}>")
    (root / "mail" / "beta7" / "point.patch").write_text(point.replace("int more2;", "int more2b;"))
    return root / "mail"


@pytest.fixture(scope="module")
def ambiguous(tmp_path_factory) -> Path:
    """Two series that both have v1 and v2."""
    root = tmp_path_factory.mktemp("ambiguous")
    repo = init_repo(root / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    for name, prefix in (("alpha", "KVM: mmu"), ("beta", "mm: gup")):
        _posting(repo, base, 1, root / "mail" / f"{name}1", name, prefix)
        _posting(repo, base, 2, root / "mail" / f"{name}2", name, prefix, tweak="_x", changed=(1,))
    return root / "mail"


def _series_number(mail: Path, title: str) -> int:
    done = cli("series", str(mail), "--json")
    assert done.returncode == 0, done.stderr
    titles = [s["title"] for s in json.loads(done.stdout)["series"]]
    return titles.index(title) + 1


def _report(mail: Path, tmp_path: Path, *args: str) -> dict:
    out = tmp_path / "report.json"
    done = cli("report", str(mail), "--format", "json", "-o", str(out), "--fail-on", "none", *args)
    assert done.returncode in (0, 3), done.stderr
    return json.loads(out.read_text())


def test_report_reviews_the_series_that_has_the_versions_cut_to_the_range(mail, tmp_path):
    document = _report(mail, tmp_path, "--from", "7.1", "--to", "8")
    (review,) = document["reviews"]
    assert review["title"] == "mm: gup: beta"
    assert review["series"] == _series_number(mail, "mm: gup: beta")
    assert [r["label"] for r in review["findings"]] == ["v7.1", "v8"]
    steps = [(c["from"]["label"], c["to"]["label"]) for c in review["comparisons"]]
    assert steps == [("v7.1", "v8")]
    # v7.1 is read as v7 amended (both patches), although v7 is outside the range.
    pair = review["comparisons"][0]
    assert len(pair["pairs"]) == 2 and not pair["added"] and not pair["dropped"]
    # The series model itself is listed whole, as `reviewtool series --json` gives it.
    assert len(document["series"]) == 2


def test_report_version_alone_and_open_ranges(mail, tmp_path):
    only = _report(mail, tmp_path, "--version", "8")["reviews"][0]
    assert [r["label"] for r in only["findings"]] == ["v8"] and only["comparisons"] == []
    to_2 = _report(mail, tmp_path, "--to", "2")["reviews"]
    assert [r["title"] for r in to_2] == ["KVM: mmu: alpha"]
    assert [r["label"] for r in to_2[0]["findings"]] == ["v1", "v2"]
    everything = _report(mail, tmp_path)["reviews"]
    assert len(everything) == 2


def test_check_checks_only_the_versions_asked_for(example_build):
    mbox, _ = example_build

    def labels(*args: str) -> set[str]:
        done = cli("check", str(mbox), "--json", *args)
        assert done.returncode in (0, 1, 3), done.stderr
        document = json.loads(done.stdout)
        return {entry["label"] for entry in document["findings"] + document["not_checked"]}

    everything = labels()
    assert {"v7", "v7.1", "v8"} < everything
    assert labels("--version", "8") == {"v8"}
    assert labels("--from", "7.1", "--to", "8") == {"v7.1", "v8"}
    assert labels("--to", "2") == everything & {"v1", "v2"}


def test_migrate_maps_the_range_and_shows_only_it(mail):
    done = cli("migrate", str(mail), "--from", "7.1", "--old", "more1", "--new", "more2", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert [r["label"] for r in document["revisions"]] == ["v7.1", "v8"]
    assert [(r["version"], r["point"]) for r in document["revisions"]] == [(7, 1), (8, None)]


@pytest.mark.parametrize(
    "command",
    [
        ("report", "--format", "json", "-o", "-", "--from", "1", "--to", "2"),
        ("check", "--version", "1"),
        ("migrate", "--to", "2", "--old", "more1", "--new", "more2"),
    ],
)
def test_versions_two_series_have_list_each_with_its_selector(ambiguous, command):
    name, *args = command
    done = cli(name, str(ambiguous), *args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "2 series have" in done.stderr
    assert "--series 1 " in done.stderr and "--series 2 " in done.stderr
    assert "'KVM: mmu: alpha'" in done.stderr and "'mm: gup: beta'" in done.stderr
    picked = cli(name, str(ambiguous), *args, "--series", "2")
    assert picked.returncode in (0, 3), picked.stderr


def test_version_and_range_together_is_a_usage_error(mail):
    done = cli("check", str(mail), "--version", "8", "--from", "7")
    assert done.returncode == 2 and "--version, or --from/--to" in done.stderr
    missing = cli("report", str(mail), "--version", "5", "-o", "-", "--format", "text")
    assert missing.returncode == 2 and "no version v5 in any series" in missing.stderr


def test_a_series_reviewed_in_part_is_not_listed_as_not_reviewed(mail):
    done = cli("report", str(mail), "--from", "7.1", "--to", "8", "--format", "text", "-o", "-")
    assert done.returncode in (0, 3), done.stderr
    others = done.stdout[done.stdout.index("Other series in the input") :]
    others = others[: others.index("Messages read")]
    assert "KVM: mmu: alpha" in others and "mm: gup: beta" not in others
    html = cli("report", str(mail), "--from", "7.1", "--to", "8", "-o", "-")
    assert html.returncode in (0, 3), html.stderr
    page = html.stdout[html.stdout.index("Other series in the input") :]
    assert "KVM: mmu: alpha" in page and "mm: gup: beta" not in page


def test_versions_with_c_files_only_is_a_usage_error(tmp_path):
    source = tmp_path / "mmu.c"
    source.write_text("int f(void) { return 0; }\n")
    done = cli("check", str(source), "--version", "8")
    assert done.returncode == 2 and "series read from mail" in done.stderr


def test_real_list_mail_two_series_with_v3_and_v4(corpus_dir, tmp_path):
    """../shared/corpus holds two real series that both have v3 and v4, one of them a v5."""
    both = cli("report", str(corpus_dir), "--from", "3", "--to", "4", "-o", "-", "--format", "text")
    assert both.returncode == 2 and both.stderr.count("\n") == 1, both.stderr
    assert "2 series have v3 and v4" in both.stderr
    assert "--series 1 'KVM: x86: tracepoint updates' (v3, v4)" in both.stderr
    assert "--series 2 'KVM: x86: Make bus clock frequency" in both.stderr
    check = cli("check", str(corpus_dir), "--from", "3", "--to", "4", "--series", "1", "--json")
    assert check.returncode in (0, 1, 3), check.stderr
    document = json.loads(check.stdout)
    assert {e["label"] for e in document["findings"] + document["not_checked"]} <= {"v3", "v4"}
    (review,) = _report(corpus_dir, tmp_path, "--from", "4", "--to", "5")["reviews"]
    assert review["title"].startswith("KVM: x86: Make bus clock frequency")
    assert [(c["from"]["version"], c["to"]["version"]) for c in review["comparisons"]] == [(4, 5)]
