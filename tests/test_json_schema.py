"""Issue 15.4: every `--json` document validates against the schema `reviewtool schema NAME`
prints (shipped in the package), carries schema_version, and names versions one way."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator

from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, msgid, reply, set_header


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args], capture_output=True, text=True, timeout=600
    )


def validate(name: str, document: dict) -> None:
    done = cli("schema", name)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    Draft202012Validator.check_schema(schema)
    errors = sorted(Draft202012Validator(schema).iter_errors(document), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    assert document["schema_version"] == 2


@pytest.fixture(scope="module")
def mail_dir(tmp_path_factory):
    """Two versions made with git format-patch, a point revision, a review reply."""
    root = tmp_path_factory.mktemp("schema")
    repo = init_repo(root / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    v1 = make_posting(repo, base, 1, root / "mail" / "v1", count=3)
    make_posting(repo, base, 2, root / "mail" / "v2", count=3, tweak="_v2", changed=(2,))
    point = v1[2].read_text().replace("[PATCH 2/3]", "[PATCH v1.1 2/3]")
    point = set_header(point, "Message-Id", "<v1.1-2@chromium.org>")
    point = set_header(point, "In-Reply-To", f"<{msgid(v1[2])}>")
    (root / "mail" / "v1" / "point.patch").write_text(point.replace("int more2;", "int more2b;"))
    (root / "mail" / "v1" / "review.eml").write_text(
        reply(
            v1[1],
            "Sean Christopherson <seanjc@google.com>",
            "Reviewed-by: Sean Christopherson <seanjc@google.com>",
        )
    )
    return root / "mail"


def test_series_json_follows_its_schema(mail_dir):
    done = cli("series", str(mail_dir), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate("series", document)
    labels = [r["label"] for r in document["series"][0]["revisions"]]
    assert labels == ["v1", "v1.1", "v2"]
    assert [r["point"] for r in document["series"][0]["revisions"]] == [None, 1, None]


def test_diff_json_follows_its_schema(mail_dir):
    done = cli("diff", str(mail_dir), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate("diff", document)
    steps = [(c["from"]["label"], c["to"]["label"]) for c in document["comparisons"]]
    assert steps == [("v1", "v1.1"), ("v1.1", "v2")]
    assert document["comparisons"][0]["to"] == {"version": 1, "point": 1, "label": "v1.1"}


def test_check_json_follows_its_schema(example_build):
    mbox, _ = example_build
    done = cli("check", str(mbox), "--json")
    assert done.returncode in (0, 1, 3), done.stderr
    document = json.loads(done.stdout)
    validate("check", document)
    entries = document["findings"] + document["not_checked"]
    assert entries, "without a tree the example's hunks are listed as not checked"
    assert all(isinstance(e["version"], int) for e in entries if e["label"])


def test_migrate_json_follows_its_schema(example_build):
    mbox, _ = example_build
    done = cli("migrate", str(mbox), "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    validate("migrate", document)
    assert all(isinstance(r["version"], int) for r in document["revisions"])


def test_report_json_follows_its_schema(mail_dir, tmp_path):
    out = tmp_path / "report.json"
    done = cli("report", str(mail_dir), "--format", "json", "-o", str(out), "--fail-on", "none")
    assert done.returncode in (0, 3), done.stderr
    validate("report", json.loads(out.read_text()))


def test_unknown_schema_is_exit_2():
    done = cli("schema", "nonsense")
    assert done.returncode == 2 and "Traceback" not in done.stderr


# Keys that name a version anywhere in a document: never a bare "v8" string (issue 15.4).
VERSION_KEYS = {"version", "latest", "judged", "previous", "from", "to", "next_version"}
LABEL = re.compile(r"^v\d+(\.\d+)?$")


def _bare_labels(node, path=""):
    """(path, value) of every version key holding a label string instead of a version."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in VERSION_KEYS and isinstance(value, str) and LABEL.match(value):
                yield f"{path}/{key}", value
            yield from _bare_labels(value, f"{path}/{key}")
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield from _bare_labels(value, f"{path}[{position}]")


def test_report_json_on_the_example_with_a_tree_follows_its_schema(example_build, tmp_path):
    mbox, repo = example_build
    out = tmp_path / "report.json"
    done = cli(
        "report", str(mbox), "--repo", str(repo), "--format", "json", "-o", str(out),
        "--fail-on", "none",
    )  # fmt: skip
    assert done.returncode in (0, 3), done.stderr
    document = json.loads(out.read_text())
    validate("report", document)
    assert list(_bare_labels(document)) == []
    (review,) = document["reviews"]
    assert review["latest"] == {"version": 8, "point": None, "label": "v8"}
    assert [f["label"] for f in review["findings"]][-2:] == ["v7.1", "v8"]
    assert review["verdict"]["judged"]["label"] == "v8"
    assert review["verdict"]["previous"] == {"version": 7, "point": 1, "label": "v7.1"}
    introduced = review["verdict"]["findings_introduced"]["items"]
    assert introduced and all(f["version"] == 8 for f in introduced)
    followed = [c for c in review["review_comments"] if c["next_version"]]
    assert followed and all(isinstance(c["next_version"]["version"], int) for c in followed)
    notes = {n["scope"]: n["versions"] for n in review["analyses"]}
    assert [v["label"] for v in notes["v7 -> v7.1"]] == ["v7", "v7.1"]


def test_no_json_document_names_a_version_by_a_bare_label(mail_dir, example_build):
    mbox, _ = example_build
    for args in (
        ("series", str(mail_dir), "--json"),
        ("diff", str(mail_dir), "--json"),
        ("diff", str(mbox), "--json"),
        ("migrate", str(mbox), "--json"),
        ("check", str(mbox), "--json"),
    ):
        done = cli(*args)
        assert done.returncode in (0, 1, 3), done.stderr
        assert list(_bare_labels(json.loads(done.stdout))) == [], args


def test_report_json_on_real_list_mail_follows_its_schema(corpus_dir, tmp_path):
    out = tmp_path / "report.json"
    done = cli("report", str(corpus_dir), "--format", "json", "-o", str(out), "--fail-on", "none")
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text())
    validate("report", document)
    assert list(_bare_labels(document)) == []
    assert len(document["reviews"]) == 2
