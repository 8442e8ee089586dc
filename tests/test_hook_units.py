"""The hook's parts on their own: pre-push input, commit ranges, patches, waivers, output."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import git
import pytest

from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.hook.changes import CommitPatch, commit_patches
from reviewtool.hook.prepush import (
    PushInputError,
    RefUpdate,
    parse_prepush,
    push_ranges,
    updates_for_range,
)
from reviewtool.hook.report import format_result
from reviewtool.hook.run import NEW, OLD, HookFinding, HookResult
from reviewtool.hook.waivers import WaiverError, find_waiver, parse_waivers
from tests.helpers.git import git as git_output
from tests.helpers.git import git_env

ZERO = "0" * 40
A = "a" * 40
B = "b" * 40


def run_git(cwd: Path, *args: str) -> str:
    env = git_env(("Test Author", "author@example.org"), date=None, home=cwd.parent)
    return git_output(cwd, *args, env=env).strip()


def commit_file(repo: Path, name: str, text: str, message: str) -> str:
    path = repo / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    run_git(repo, "add", name)
    run_git(repo, "commit", "-q", "-m", message)
    return run_git(repo, "rev-parse", "HEAD")


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A work repository with one pushed commit on main and a bare remote `origin`."""
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    run_git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    run_git(tmp_path, "init", "-q", "-b", "main", str(work))
    commit_file(work, "README", "demo tree\n", "Initial commit")
    run_git(work, "remote", "add", "origin", str(remote))
    run_git(work, "push", "-q", "origin", "main")
    return work


# --- pre-push input ---------------------------------------------------------------------------


def test_prepush_lines_parse_into_updates() -> None:
    text = (
        f"refs/heads/topic {A} refs/heads/topic {ZERO}\n"
        "\n"
        f"refs/heads/old {ZERO} refs/heads/old {B}\n"
    )
    new, deletion = parse_prepush(text)
    assert new == RefUpdate("refs/heads/topic", A, "refs/heads/topic", ZERO)
    assert new.is_new and not new.is_delete
    assert deletion.is_delete and not deletion.is_new


def test_prepush_accepts_sha256_object_names() -> None:
    sha = "c" * 64
    (update,) = parse_prepush(f"refs/heads/x {sha} refs/heads/x {'0' * 64}\n")
    assert update.is_new and update.local_sha == sha


@pytest.mark.parametrize(
    "line",
    ["refs/heads/x abc refs/heads/x def", f"refs/heads/x {A} refs/heads/x", "just words here now"],
)
def test_malformed_prepush_line_is_a_typed_error(line: str) -> None:
    with pytest.raises(PushInputError, match="line 1"):
        parse_prepush(line + "\n")


# --- commit ranges ----------------------------------------------------------------------------


def test_new_branch_pushes_only_commits_no_remote_has(clone: Path) -> None:
    run_git(clone, "checkout", "-q", "-b", "topic")
    first = commit_file(clone, "a.txt", "1\n", "First")
    second = commit_file(clone, "a.txt", "2\n", "Second")
    repo = git.Repo(clone)
    (pushed,) = push_ranges(repo, [RefUpdate("refs/heads/topic", second, "refs/heads/topic", ZERO)])
    assert pushed.commits == [first, second]
    assert pushed.base == run_git(clone, "rev-parse", "origin/main")


def test_update_pushes_commits_after_the_remote_tip(clone: Path) -> None:
    old_tip = run_git(clone, "rev-parse", "HEAD")
    one = commit_file(clone, "a.txt", "1\n", "One")
    two = commit_file(clone, "a.txt", "2\n", "Two")
    repo = git.Repo(clone)
    (pushed,) = push_ranges(repo, [RefUpdate("refs/heads/main", two, "refs/heads/main", old_tip)])
    assert pushed.commits == [one, two]
    assert pushed.base == old_tip


def test_rebased_branch_does_not_push_upstream_commits_again(clone: Path) -> None:
    run_git(clone, "checkout", "-q", "-b", "topic")
    mine = commit_file(clone, "mine.txt", "x\n", "Mine")
    run_git(clone, "push", "-q", "--no-verify", "origin", "topic")
    run_git(clone, "checkout", "-q", "main")
    upstream = commit_file(clone, "up.txt", "u\n", "Upstream work")
    run_git(clone, "push", "-q", "--no-verify", "origin", "main")
    run_git(clone, "checkout", "-q", "topic")
    run_git(clone, "rebase", "-q", "main")
    rebased = run_git(clone, "rev-parse", "HEAD")
    repo = git.Repo(clone)
    update = RefUpdate("refs/heads/topic", rebased, "refs/heads/topic", mine)
    (pushed,) = push_ranges(repo, [update])
    assert pushed.commits == [rebased]
    assert pushed.base == upstream


def test_deletion_pushes_nothing(clone: Path) -> None:
    repo = git.Repo(clone)
    tip = run_git(clone, "rev-parse", "HEAD")
    (pushed,) = push_ranges(repo, [RefUpdate("(delete)", ZERO, "refs/heads/gone", tip)])
    assert pushed.commits == [] and pushed.base is None


def test_merge_commits_are_not_checked_but_their_sides_are(clone: Path) -> None:
    base = run_git(clone, "rev-parse", "HEAD")
    run_git(clone, "checkout", "-q", "-b", "side")
    side = commit_file(clone, "side.txt", "s\n", "Side")
    run_git(clone, "checkout", "-q", "main")
    ours = commit_file(clone, "ours.txt", "o\n", "Ours")
    run_git(clone, "merge", "-q", "--no-edit", "side")
    merge = run_git(clone, "rev-parse", "HEAD")
    repo = git.Repo(clone)
    (pushed,) = push_ranges(repo, [RefUpdate("refs/heads/main", merge, "refs/heads/main", base)])
    assert set(pushed.commits) == {side, ours}
    assert merge not in pushed.commits


def test_annotated_tag_push_checks_the_tagged_commits(clone: Path) -> None:
    tip = commit_file(clone, "a.txt", "1\n", "Tagged")
    run_git(clone, "tag", "-a", "-m", "release", "v1")
    tag_sha = run_git(clone, "rev-parse", "v1")
    assert tag_sha != tip
    repo = git.Repo(clone)
    (pushed,) = push_ranges(repo, [RefUpdate("refs/tags/v1", tag_sha, "refs/tags/v1", ZERO)])
    assert pushed.commits == [tip]


def test_range_from_refs_builds_one_update(clone: Path) -> None:
    base = run_git(clone, "rev-parse", "HEAD")
    tip = commit_file(clone, "a.txt", "1\n", "One")
    (update,) = updates_for_range(git.Repo(clone), base, "HEAD")
    assert (update.local_sha, update.remote_sha) == (tip, base)
    (new,) = updates_for_range(git.Repo(clone), None, "HEAD")
    assert new.is_new


# --- patches ----------------------------------------------------------------------------------


def test_patches_give_changed_lines_of_c_files_only(clone: Path) -> None:
    lines = [f"int v{n};\n" for n in range(1, 11)]
    first = commit_file(clone, "virt/kvm/demo.c", "".join(lines), "Add demo")
    lines[3] = "int v4_changed;\n"
    del lines[7]
    (clone / "notes.txt").write_text("not C\n")
    run_git(clone, "add", "notes.txt")
    second = commit_file(clone, "virt/kvm/demo.c", "".join(lines), "Change demo")
    patches = commit_patches(git.Repo(clone), [first, second])
    (added,) = patches[first].files
    assert added.old_path is None and added.new_path == "virt/kvm/demo.c"
    assert added.new_lines == set(range(1, 11))
    (changed,) = patches[second].files  # notes.txt is not C
    assert patches[second].subject == "Change demo"
    assert patches[second].parent == first
    assert 4 in changed.new_lines and changed.removed_lines == {8}
    assert 7 in changed.new_lines  # the line before the pure deletion


def test_patches_follow_renames_and_keep_commits_without_c(clone: Path) -> None:
    commit_file(clone, "old.c", "int x;\nint y;\n", "Add old.c")
    run_git(clone, "mv", "old.c", "new.c")
    run_git(clone, "commit", "-q", "-m", "Rename")
    renamed = run_git(clone, "rev-parse", "HEAD")
    text_only = commit_file(clone, "doc.txt", "words\n", "Docs")
    patches = commit_patches(git.Repo(clone), [renamed, text_only])
    (rename,) = patches[renamed].files
    assert (rename.old_path, rename.new_path) == ("old.c", "new.c")
    assert patches[text_only].files == []


# --- waivers ----------------------------------------------------------------------------------


def finding(rule: str = "leak", function: str = "user_mem_abort", file: str = "a/b.c") -> Finding:
    return Finding(rule, "error", file, 10, function, "reference not released")


def test_waivers_parse_rule_scope_expiry_and_reason() -> None:
    text = (
        "# accepted findings\n"
        "leak  function:user_mem_abort  2026-03-01  fixed by the next series  # owner: A\n"
        "*     file:arch/powerpc/**     PPC is not ours\n"
    )
    first, second = parse_waivers(text)
    assert (first.rule, first.scope_kind, first.scope) == ("leak", "function", "user_mem_abort")
    assert first.expires == dt.date(2026, 3, 1)
    assert first.reason == "fixed by the next series"
    assert (second.rule, second.scope_kind, second.expires) == ("*", "file", None)
    assert second.line == 3


def test_waiver_covers_by_function_or_file_glob() -> None:
    by_function, by_file = parse_waivers(
        "leak function:user_mem_abort because\n* file:arch/powerpc/** because\n"
    )
    assert by_function.covers(finding())
    assert not by_function.covers(finding(rule="double-release"))
    assert not by_function.covers(finding(function="other"))
    assert by_file.covers(finding(rule="double-release", file="arch/powerpc/kvm/x.c"))
    assert not by_file.covers(finding(file="arch/x86/kvm/x.c"))


def test_expired_waiver_no_longer_applies_after_its_day() -> None:
    waivers = parse_waivers("leak function:user_mem_abort 2026-01-31 until the fix lands\n")
    assert find_waiver(finding(), waivers, dt.date(2026, 1, 31)) is waivers[0]
    assert find_waiver(finding(), waivers, dt.date(2026, 2, 1)) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("leak function:x", "expected 'RULE SCOPE"),
        ("leak fn:x reason", "must be 'function:NAME'"),
        ("leak function:x 2026-02-30 reason", "not a valid date"),
        ("leak function:x 2026-01-01", "needs a reason"),
        ("Leak! function:x reason", "not a rule name"),
    ],
)
def test_bad_waiver_line_is_a_typed_error_with_its_line(line: str, message: str) -> None:
    with pytest.raises(WaiverError) as info:
        parse_waivers(f"# header\n{line}\n", "W")
    assert "W:2" in str(info.value) and message in str(info.value)


# --- output -----------------------------------------------------------------------------------


def test_output_prints_compiler_line_trace_and_bypass_line() -> None:
    leak = Finding(
        "leak",
        "error",
        "arch/arm64/kvm/mmu.c",
        40,
        "user_mem_abort",
        "reference from __kvm_follow_pfn() not released on this path",
        trace=[TraceStep(30, "__kvm_follow_pfn() takes a reference"), TraceStep(40, "return")],
    )
    old = Finding("leak", "warning", "virt/kvm/x.c", 5, "f", "old one")
    commit = CommitPatch("1" * 40, "2" * 40, "KVM: arm64: Return early on exec faults")
    result = HookResult(
        remote="origin",
        commits=1,
        c_commits=1,
        functions_checked=1,
        findings=[
            HookFinding(leak, commit, "topic", NEW),
            HookFinding(old, commit, "topic", OLD, base="3" * 40),
        ],
    )
    lines = format_result(result).splitlines()
    at = lines.index(leak.compiler_line())
    assert lines[at + 1] == "    arch/arm64/kvm/mmu.c:30: __kvm_follow_pfn() takes a reference"
    assert lines[at + 2] == "    arch/arm64/kvm/mmu.c:40: return"
    assert "introduced by 111111111111" in lines[at + 3]
    assert old.compiler_line() in lines
    assert lines.index(old.compiler_line()) > lines.index(
        "old findings (already at the base of the push; not blocking):"
    )
    assert "git push --no-verify" in lines[-1]
    assert "leak function:user_mem_abort <reason>" in lines[-1]
    assert result.exit_code() == 1


def test_a_huge_push_checks_only_the_newest_commits(clone: Path) -> None:
    shas = [commit_file(clone, "a.txt", f"{n}\n", f"Step {n}") for n in range(5)]
    repo = git.Repo(clone)
    update = RefUpdate("refs/heads/main", shas[-1], "refs/heads/main", ZERO)
    (pushed,) = push_ranges(repo, [update], limit=3)
    assert pushed.truncated
    assert pushed.commits == shas[-3:]
    assert pushed.base == shas[-4]
