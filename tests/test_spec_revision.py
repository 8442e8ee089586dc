"""check_revision and `reviewtool check` on real patches made with git format-patch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool.analyses.spec import check_revision
from reviewtool.cli import main
from reviewtool.ingest import load
from tests.helpers.git import git, git_env

CORPUS = Path(__file__).parent / "data" / "spec"
MMU = "arch/x86/kvm/mmu/mmu.c"
RELEASE = "\tkvm_release_pfn_clean(fault->pfn);\n"


def _git(repo: Path, *args: str) -> str:
    return git(
        repo, *args, env=git_env(("Ada Reviewer", "ada@example.org"), "2023-08-24T10:00:00+00:00")
    )


@pytest.fixture
def leak_patch(tmp_path: Path) -> tuple[Path, Path, str]:
    """A kernel-like repo and a v8 patch that drops the release from direct_page_fault()."""
    repo = tmp_path / "linux"
    (repo / "arch/x86/kvm/mmu").mkdir(parents=True)
    base_text = (CORPUS / "legacy" / "x86-fault-ok.c").read_text(encoding="utf-8")
    (repo / MMU).write_text(base_text, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "KVM: x86/mmu: base")
    base = _git(repo, "rev-parse", "HEAD").strip()
    start = base_text.index("static int direct_page_fault")
    cut = base_text.index(RELEASE, start)
    (repo / MMU).write_text(base_text[:cut] + base_text[cut + len(RELEASE) :], encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "KVM: x86/mmu: Don't release the pfn in direct_page_fault")
    out = tmp_path / "mail"
    _git(
        repo,
        "format-patch",
        "-q",
        "-1",
        "--subject-prefix=PATCH v8",
        f"--base={base}",
        "-o",
        str(out),
    )
    return repo, next(out.glob("*.patch")), base


def _revision(patch_file: Path):
    collection = load([str(patch_file)])
    assert collection.series, collection.notes
    return collection.series[0].revisions[0]


def test_patch_that_drops_a_release_introduces_a_leak_with_the_tree(leak_patch):
    repo, patch_file, base = leak_patch
    findings = check_revision(_revision(patch_file), repo=str(repo), base=base)
    leaks = [f for f in findings if f.rule == "leak"]
    assert len(leaks) == 1
    leak = leaks[0]
    assert (leak.function, leak.status, leak.version, leak.patch_index) == (
        "direct_page_fault",
        "introduced",
        "v8",
        1,
    )
    assert not leak.partial
    assert any("__gfn_to_pfn_memslot" in step.event for step in leak.trace)


def test_base_commit_from_the_mail_is_used_when_base_is_not_given(leak_patch):
    repo, patch_file, _ = leak_patch
    findings = check_revision(_revision(patch_file), repo=str(repo))
    assert [(f.rule, f.status) for f in findings] == [("leak", "introduced")]


def _arm64_patch(tmp_path: Path, edit, *format_args: str) -> Path:
    """A patch on the arm64 corpus file made by `edit(text) -> text`."""
    repo = tmp_path / "arm"
    (repo / "arch/arm64/kvm").mkdir(parents=True)
    path = repo / "arch/arm64/kvm/mmu.c"
    text = (CORPUS / "legacy" / "arm64-user-mem-abort.c").read_text(encoding="utf-8")
    path.write_text(text, encoding="utf-8")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "base")
    path.write_text(edit(text), encoding="utf-8")
    _git(repo, "commit", "-q", "-am", "KVM: arm64: change user_mem_abort")
    out = tmp_path / "arm-mail"
    _git(
        repo, "format-patch", "-q", "-1", "--subject-prefix=PATCH v8", "-o", str(out), *format_args
    )
    return next(out.glob("*.patch"))


def test_hunk_showing_the_whole_function_is_checked_whole(tmp_path):
    patch = _arm64_patch(
        tmp_path, lambda t: t.replace("\tkvm_release_pfn_clean(pfn);\n", ""), "-U200"
    )
    findings = check_revision(_revision(patch))
    by_status = {(f.status, f.line) for f in findings if f.rule == "leak"}
    text = (CORPUS / "legacy" / "arm64-user-mem-abort.c").read_text(encoding="utf-8")
    enoexec = text.splitlines().index("\t\treturn -ENOEXEC;") + 1
    assert ("persisting", enoexec) in by_status  # the seeded leak of the corpus file
    assert any(status == "introduced" for status, _ in by_status)
    assert not any(f.partial for f in findings)


def test_hunk_showing_part_of_a_function_gives_partial_findings(tmp_path):
    call_end = "write_fault, &writable, NULL);\n"
    added = call_end + "\tif (!writable)\n\t\treturn -EPERM;\n"
    patch = _arm64_patch(tmp_path, lambda t: t.replace(call_end, added))
    findings = check_revision(_revision(patch))
    leaks = [f for f in findings if f.rule == "leak"]
    assert leaks and all(f.partial and f.status == "introduced" for f in leaks)
    assert {f.function for f in leaks} == {"user_mem_abort"}


def test_reverting_patch_marks_the_leak_fixed(leak_patch, tmp_path):
    repo, _, _ = leak_patch
    _git(repo, "revert", "--no-edit", "HEAD")
    out = tmp_path / "fix"
    _git(repo, "format-patch", "-q", "-1", "--subject-prefix=PATCH v9", "-o", str(out))
    base = _git(repo, "rev-parse", "HEAD~1").strip()
    findings = check_revision(_revision(next(out.glob("*.patch"))), repo=str(repo), base=base)
    assert [(f.rule, f.status, f.version) for f in findings] == [("leak", "fixed", "v9")]


def test_check_command_on_mail_with_repo_fails_on_the_leak(leak_patch, capsys):
    repo, patch_file, base = leak_patch
    code = main(["check", str(patch_file), "--repo", str(repo), "--base", base, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    [finding] = data["findings"]
    assert set(finding) >= {
        "rule",
        "severity",
        "file",
        "line",
        "function",
        "version",
        "config",
        "message",
        "trace",
        "partial",
    }
    assert (finding["file"], finding["rule"], finding["status"]) == (MMU, "leak", "introduced")
    assert finding["trace"] and {"line", "event"} == set(finding["trace"][0])


def test_check_command_without_base_commit_explains_how_to_fix(tmp_path, capsys):
    repo = tmp_path / "r"
    repo.mkdir()
    patch = tmp_path / "p.patch"
    patch.write_text(
        "From: Ada Reviewer <ada@example.org>\n"
        "Subject: [PATCH] KVM: x86: touch mmu\n"
        "Message-Id: <1@example.org>\n"
        "Date: Thu, 24 Aug 2023 10:00:00 +0000\n\n"
        "Body.\n\n---\n"
        f"diff --git a/{MMU} b/{MMU}\n--- a/{MMU}\n+++ b/{MMU}\n"
        "@@ -1,2 +1,2 @@ static int f(void)\n-\treturn 0;\n+\treturn 1;\n }\n",
        encoding="utf-8",
    )
    code = main(["check", str(patch), "--repo", str(repo)])
    assert code == 2
    assert "--base" in capsys.readouterr().err
