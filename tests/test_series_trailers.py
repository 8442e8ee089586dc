"""Issue 15.3 and 15.6 on `git format-patch` mail and replies written as clients write them:
b4's trailer rules, and unchanged patches told by `git patch-id --stable`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reviewtool.ingest import load
from reviewtool.mail.parse import parse_mail
from reviewtool.series.patchid import patch_id
from tests.helpers.git import git, init_repo
from tests.helpers.mail import make_posting, reply


@pytest.fixture
def posting(tmp_path):
    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    files = make_posting(repo, base, 2, tmp_path / "v2", count=3)
    return tmp_path / "v2", files


def review(posting, name: str, sender: str, line: str, **kw) -> None:
    folder, files = posting
    (folder / f"{name}.eml").write_text(reply(files[1], sender, f"Looks right.\n\n{line}\n", **kw))


def trailers_of_patch_1(folder: Path, sloppy: bool = False):
    patch = load([str(folder)], sloppy_trailers=sloppy).series[0].revisions[0].patch(1)
    return patch


def test_trailer_from_the_sender_is_applied(posting):
    review(
        posting,
        "r",
        "Sean Christopherson <seanjc@google.com>",
        "Reviewed-by: Sean Christopherson <seanjc@google.com>",
    )
    patch = trailers_of_patch_1(posting[0])
    assert [t.email for t in patch.review_trailers] == ["seanjc@google.com"]
    assert patch.ignored_trailers == []


def test_trailer_with_another_address_is_reported_not_applied_unless_sloppy(posting):
    review(
        posting,
        "r",
        "Maxim Levitsky <mlevitsk@redhat.com>",
        "Reviewed-by: Maxim Levitsky <maximlevitsky@gmail.com>",
    )
    patch = trailers_of_patch_1(posting[0])
    assert patch.review_trailers == []
    assert [(i.trailer.email, i.sender) for i in patch.ignored_trailers] == [
        ("maximlevitsky@gmail.com", "Maxim Levitsky <mlevitsk@redhat.com>")
    ]
    sloppy = trailers_of_patch_1(posting[0], sloppy=True)
    assert [t.email for t in sloppy.review_trailers] == ["maximlevitsky@gmail.com"]


def test_cli_sloppy_trailers_switch(posting):
    import json
    import sys

    review(
        posting,
        "r",
        "Maxim Levitsky <mlevitsk@redhat.com>",
        "Acked-by: Maxim Levitsky <maximlevitsky@gmail.com>",
    )

    def run(*extra):
        done = subprocess.run(
            [sys.executable, "-m", "reviewtool", "series", str(posting[0]), "--json", *extra],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout)["series"][0]["revisions"][0]["patches"][0]

    strict, sloppy = run(), run("--sloppy-trailers")
    assert strict["review_trailers"] == [] and len(strict["ignored_trailers"]) == 1
    assert strict["ignored_trailers"][0]["sender"] == "Maxim Levitsky <mlevitsk@redhat.com>"
    assert [t["value"] for t in sloppy["review_trailers"]] == [
        "Maxim Levitsky <maximlevitsky@gmail.com>"
    ]


def test_follow_up_without_re_threaded_under_the_patch_counts(posting):
    folder, files = posting
    subject = "[PATCH v2 1/3] KVM: mmu: step 1 of the change"  # the client dropped `Re:`
    text = reply(
        files[1],
        "Paolo Bonzini <pbonzini@redhat.com>",
        "Queued, thanks.\n\nAcked-by: Paolo Bonzini <pbonzini@redhat.com>",
        subject=subject,
    )
    (folder / "ack.eml").write_text(text)
    collection = load([str(folder)])
    patch = collection.series[0].revisions[0].patch(1)
    assert [t.email for t in patch.review_trailers] == ["pbonzini@redhat.com"]
    assert patch.replies == 1
    assert collection.accounting.reply == 1


@pytest.mark.parametrize(
    "line",
    [
        # Outlook: the address repeated as a mailto link inside the brackets.
        "Reviewed-by: Kai Huang <kai.huang@intel.com<mailto:kai.huang@intel.com>>",
        # Outlook's quoted-header style.
        "Reviewed-by: Kai Huang [mailto:kai.huang@intel.com]",
        # A rich-text client's leftovers after conversion to plain text.
        "Reviewed-by: Kai Huang &lt;kai.huang@intel.com&gt;",
        'Reviewed-by: Kai Huang <a href="mailto:kai.huang@intel.com">kai.huang@intel.com</a>',
        # The old comment form: address first, name in parentheses.
        "Reviewed-by: kai.huang@intel.com (Kai Huang)",
    ],
)
def test_client_junk_around_the_address_is_cleaned(posting, line):
    review(posting, "r", "Kai Huang <kai.huang@intel.com>", line)
    patch = trailers_of_patch_1(posting[0])
    assert [t.value for t in patch.review_trailers] == ["Kai Huang <kai.huang@intel.com>"]
    assert patch.ignored_trailers == []


def test_quoted_trailers_are_not_the_replier_s(posting):
    folder, files = posting
    text = reply(
        files[1],
        "Sean Christopherson <seanjc@google.com>",
        "> Reviewed-by: Someone Else <else@example.org>\n\nNo, this is wrong.",
    )
    (folder / "nak.eml").write_text(text)
    patch = trailers_of_patch_1(folder)
    assert patch.review_trailers == [] and patch.ignored_trailers == []


def test_patch_id_equals_git_patch_id_stable(tmp_path):
    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    # Several files, a new file, a deletion, whitespace changes and no newline at the end.
    (repo / "virt/kvm/kvm_main.c").write_text(
        (repo / "virt/kvm/kvm_main.c").read_text().replace("\treturn", "\t  return") + "int x;"
    )
    (repo / "arch/x86/kvm").mkdir(parents=True)
    (repo / "arch/x86/kvm/new.c").write_text("static int a;\n\nint b(void)\n{\n\treturn a;\n}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "KVM: several files\n\nSigned-off-by: A <a@b.org>")
    (repo / "arch/x86/kvm/new.c").unlink()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "KVM: delete\n\nSigned-off-by: A <a@b.org>")
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "-o", str(out), f"{base}..HEAD")
    for path in sorted(out.glob("*.patch")):
        expected = (
            subprocess.run(
                ["git", "patch-id", "--stable"],
                input=path.read_bytes(),
                capture_output=True,
                check=True,
            )
            .stdout.split()[0]
            .decode()
        )
        mail = parse_mail(path.read_bytes(), str(path))
        assert patch_id(mail.diff) == expected, path.name


def test_patch_id_keeps_the_spaces_git_does_not_call_whitespace(tmp_path):
    """git squeezes only space, tab, CR and LF: a form feed, a vertical tab, a no-break space
    or a Unicode line separator in a line stays in the hash, so the ids must still agree."""
    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    path = repo / "virt/kvm/kvm_main.c"
    text = path.read_text(encoding="utf-8")
    for name, odd in (("ff", "\f"), ("vt", "\v"), ("nbsp", "\u00a0"), ("ls", "\u2028")):
        text = text.replace("\treturn", f"\treturn{odd}", 1) + f"/* {name}:{odd}x\r */\n"
        path.write_bytes(text.encode("utf-8"))
        git(repo, "commit", "-q", "-a", "-m", f"KVM: {name}\n\nSigned-off-by: A <a@b.org>")
    out = tmp_path / "out"
    git(repo, "format-patch", "-q", "-o", str(out), f"{base}..HEAD")
    patches = sorted(out.glob("*.patch"))
    assert len(patches) == 4
    for patch in patches:
        expected = subprocess.run(
            ["git", "patch-id", "--stable"],
            input=patch.read_bytes(),
            capture_output=True,
            check=True,
        ).stdout.split()[0]
        mail = parse_mail(patch.read_bytes(), str(patch))
        assert patch_id(mail.diff) == expected.decode(), patch.name


def test_patch_id_equals_git_on_every_corpus_patch():
    """Real list mail (quoted-printable, base64, CRLF, signatures): the id of each decoded
    diff is the one `git patch-id --stable` gives the same diff."""
    corpus = Path(__file__).resolve().parents[1] / "../shared/corpus"
    if not corpus.is_dir():
        pytest.skip(f"the real mail corpus is not at {corpus}")
    diffs = [parse_mail(p.read_bytes(), str(p)).diff for p in sorted(corpus.rglob("*.eml"))]
    diffs = [d for d in diffs if d]
    assert len(diffs) >= 10
    for diff in diffs:
        out = subprocess.run(
            ["git", "patch-id", "--stable"],
            input=diff.encode("utf-8", "surrogateescape"),
            capture_output=True,
            check=True,
        ).stdout.split()
        assert patch_id(diff) == out[0].decode()


def test_unchanged_patches_are_marked_and_carried_trailers_on_changed_code_flagged(tmp_path):
    repo = init_repo(tmp_path / "repo")
    base = git(repo, "rev-parse", "HEAD").strip()
    make_posting(repo, base, 1, tmp_path / "v1", count=3)
    v2 = make_posting(repo, base, 2, tmp_path / "v2", count=3, tweak="_fixed", changed=(2,))
    # v1 was reviewed; the author carried Sean's Reviewed-by into all of v2's patches, but
    # patch 2's code changed in v2.
    v1_files = sorted((tmp_path / "v1").glob("*.patch"))
    for i in (1, 2, 3):
        (tmp_path / "v1" / f"review-{i}.eml").write_text(
            reply(
                v1_files[i],
                "Sean Christopherson <seanjc@google.com>",
                "Reviewed-by: Sean Christopherson <seanjc@google.com>",
            )
        )
    for path in v2[1:]:
        path.write_text(
            path.read_text().replace(
                "Signed-off-by: David Stevens <stevensd@chromium.org>\n",
                "Reviewed-by: Sean Christopherson <seanjc@google.com>\n"
                "Signed-off-by: David Stevens <stevensd@chromium.org>\n",
            )
        )
    series = load([str(tmp_path / "v1"), str(tmp_path / "v2")]).series
    assert len(series) == 1
    newer = series[0].revision("v2")
    assert [p.unchanged_from for p in newer.patches] == ["v1", None, "v1"]
    assert [len(p.carried_over_changed) for p in newer.patches] == [0, 1, 0]
    assert newer.patch(2).carried_over_changed[0].email == "seanjc@google.com"
