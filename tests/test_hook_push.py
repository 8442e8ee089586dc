"""The installed pre-push hook under real `git push` to a bare remote.

The C is kernel-style stage-2 fault handling in the v8 `__kvm_follow_pfn` generation: the
clean version releases the reference on every path out of `user_mem_abort`; the leaking one
returns early on an exec fault after `__kvm_follow_pfn(FOLL_GET)` without
`kvm_release_pfn_clean()`.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.workspace import Workspace

# Slow (subprocesses, real git or corpus): `pytest -m "not slow"` leaves these out.
pytestmark = pytest.mark.slow

MMU_C = "arch/arm64/kvm/mmu.c"

CLEAN = """\
// SPDX-License-Identifier: GPL-2.0-only
/*
 * Stage-2 fault handling, cut down to what the pre-push hook's tests need.
 */

#include <linux/kvm_host.h>
#include <asm/kvm_pgtable.h>

static bool fault_is_exec(unsigned long esr)
{
	return (esr & ESR_ELx_FSC_TYPE) == ESR_ELx_FSC_PERM && !(esr & ESR_ELx_WNR);
}

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				struct kvm_memory_slot *memslot, unsigned long esr)
{
	struct kvm *kvm = vcpu->kvm;
	bool write_fault = esr & ESR_ELx_WNR;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | (write_fault ? FOLL_WRITE : 0),
		.try_map_writable = true,
	};
	unsigned long mmu_seq;
	kvm_pfn_t pfn;
	int ret;

	/* Take the notifier sequence before looking the pfn up. */
	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
/*EXTRA*/
	write_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvm_pgtable_stage2_map(kvm->arch.mmu.pgt, fault_ipa, PAGE_SIZE,
					__pfn_to_phys(pfn), foll.writable);
out_unlock:
	write_unlock(&kvm->mmu_lock);
	kvm_release_pfn_clean(pfn);
	return ret != -EAGAIN ? ret : 0;
}
"""

LEAK_LINES = """\
	/* Instruction fetches from device memory cannot be mapped. */
	if (fault_is_exec(esr) && !pfn_is_map_memory(pfn))
		// ruleid: leak
		return -ENOEXEC;
"""

LEAKING = CLEAN.replace("/*EXTRA*/\n", LEAK_LINES)
CLEAN = CLEAN.replace("/*EXTRA*/\n", "")
LEAK_LINE = LEAKING.splitlines().index("\t\treturn -ENOEXEC;") + 1


def touch_fault_handler(text: str, note: str) -> str:
    """The same code with a changed comment inside user_mem_abort: touched, not fixed."""
    return text.replace(
        "/* Take the notifier sequence before looking the pfn up. */",
        f"/* Take the notifier sequence before looking the pfn up ({note}). */",
    )


def verdict(stderr: str) -> str:
    """The hook's last line (git prints its own lines after it)."""
    return [line for line in stderr.splitlines() if line.startswith("reviewtool: ")][-1]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def test_push_introducing_a_leak_is_refused_with_the_finding(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "exec-fault")
    bad = ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("exec-fault")
    assert done.returncode != 0
    assert not ws.remote_has("refs/heads/exec-fault")
    lines = done.stderr.splitlines()
    finding = next(line for line in lines if line.startswith(f"{MMU_C}:{LEAK_LINE}: error: leak: "))
    # The trace sits under the finding, indented, pointing into the same file.
    assert lines[lines.index(finding) + 1].startswith(f"    {MMU_C}:")
    assert any(f"introduced by {bad[:12]}" in line for line in lines)
    last = verdict(done.stderr)
    assert last.startswith("reviewtool: push refused")
    assert "git push --no-verify" in last and "leak function:user_mem_abort" in last


def test_clean_push_goes_through(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.commit({MMU_C: touch_fault_handler(CLEAN, "v8")}, "KVM: arm64: Explain the snapshot")
    done = ws.push("main")
    assert done.returncode == 0, done.stderr
    assert ws.remote_has("refs/heads/main")
    assert "2 touching C in scope" in done.stderr
    assert "reviewtool: ok: no new findings at or above 'error'" in done.stderr
    assert ": leak: " not in done.stderr


def test_leak_older_than_the_push_is_listed_as_old_and_does_not_block(ws: Workspace) -> None:
    base = ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "comments")
    ws.commit({MMU_C: touch_fault_handler(LEAKING, "v9")}, "KVM: arm64: Reword a comment")
    done = ws.push("comments")
    assert done.returncode == 0, done.stderr
    assert ws.remote_has("refs/heads/comments")
    lines = done.stderr.splitlines()
    header = lines.index("old findings (already at the base of the push; not blocking):")
    finding = next(
        i for i, line in enumerate(lines) if f"{MMU_C}:{LEAK_LINE}: error: leak:" in line
    )
    assert finding > header
    assert any(f"already at base {base[:12]}" in line for line in lines)
    assert "1 old" in verdict(done.stderr) and verdict(done.stderr).startswith("reviewtool: ok:")


def test_branch_deletion_pushes_nothing_and_passes(ws: Workspace) -> None:
    ws.git("push", "-q", "--no-verify", "origin", "main:doomed")
    done = ws.push(":doomed")
    assert done.returncode == 0, done.stderr
    assert not ws.remote_has("refs/heads/doomed")
    # Nothing is sent, so the hook script returns before starting Python at all (12.7); the
    # old "checked 0 commits" line came from a Python start this push did not need.
    assert "reviewtool" not in done.stderr
    # The same push through `hook run` itself still says what it checked.
    sha = "0" * 40
    line = f"(delete) {sha} refs/heads/doomed {ws.git('rev-parse', 'main')}\n"
    run = ws.reviewtool("hook", "run", "origin", "url", stdin=line)
    assert run.returncode == 0 and "checked 0 commits in 1 ref to origin" in run.stderr


def test_a_new_branch_of_commits_the_remote_has_starts_no_python(ws: Workspace) -> None:
    # Every commit of the tip is already on a remote: the script's own `git rev-list` says
    # nothing is sent, as `hook run` would ("checked 0 commits"), without starting Python.
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    done = ws.push("main:copy")
    assert done.returncode == 0, done.stderr
    assert ws.remote_has("refs/heads/copy")
    assert "reviewtool" not in done.stderr
    # A new commit on top is sent, and checked.
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Release the page on exec faults")
    done = ws.push("main:copy2")
    assert "reviewtool: checked 1 commit in 1 ref to origin" in done.stderr, done.stderr


def test_several_refs_at_once_block_on_the_one_that_leaks(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "docs")
    ws.commit({MMU_C: touch_fault_handler(CLEAN, "docs")}, "KVM: arm64: Reword a comment")
    ws.git("checkout", "-q", "-b", "exec-fault", "main")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("docs", "exec-fault")
    assert done.returncode != 0
    assert "checked 2 commits in 2 refs" in done.stderr
    assert "pushing exec-fault" in done.stderr and "pushing docs" not in done.stderr
    assert not ws.remote_has("refs/heads/docs")  # git refuses the whole push

    ws.git("checkout", "-q", "docs")
    ws.git("branch", "-q", "-f", "exec-fault", "main")
    done = ws.push("docs", "exec-fault")
    assert done.returncode == 0, done.stderr
    assert ws.remote_has("refs/heads/docs") and ws.remote_has("refs/heads/exec-fault")


def test_waiver_lets_the_finding_through_and_lists_it(ws: Workspace) -> None:
    ws.write(
        ".reviewtool-waivers",
        "# rule  scope  [expires]  reason\n"
        "leak  function:user_mem_abort  2999-12-31  device exec faults are fixed in part 2\n",
    )
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("main")
    assert done.returncode == 0, done.stderr
    assert "waived findings (see .reviewtool-waivers):" in done.stderr
    assert "waived by .reviewtool-waivers:2: device exec faults are fixed in part 2" in done.stderr
    assert "1 waived" in verdict(done.stderr)


def test_expired_waiver_warns_and_no_longer_applies(ws: Workspace) -> None:
    ws.write(".reviewtool-waivers", "leak function:user_mem_abort 2020-01-31 temporary\n")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("main")
    assert done.returncode != 0
    assert "waiver 'leak function:user_mem_abort 2020-01-31' expired on 2020-01-31" in done.stderr


def test_non_c_change_returns_without_parsing_anything(ws: Workspace) -> None:
    # A broken spec file would fail any C analysis: passing proves none was attempted.
    ws.write(".reviewtool.toml", 'spec = ["broken-spec.toml"]\non_error = "block"\n')
    ws.write("broken-spec.toml", "[[api]\nname = \n")
    ws.commit({"Documentation/virt/kvm/locking.rst": "mmu_lock rules\n"}, "Docs: locking")
    stdin = f"refs/heads/main {ws.git('rev-parse', 'HEAD')} refs/heads/main {'0' * 40}\n"
    probe = (
        "import sys; from reviewtool.hook.run import run_hook; "
        "r = run_hook('.', sys.stdin.read(), 'origin'); "
        "print(r.error, r.commits, r.c_commits, r.exit_code(), "
        "'reviewtool.cparse' in sys.modules, 'tree_sitter' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ws.work,
        env=ws.env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    assert done.stdout.split() == ["None", "1", "0", "0", "False", "False"], done.stderr
    pushed = ws.push("main")
    assert pushed.returncode == 0, pushed.stderr
    assert "0 touching C in scope" in pushed.stderr


@pytest.mark.parametrize("on_error", ["warn", "block"])
def test_broken_spec_file_follows_on_error(ws: Workspace, on_error: str) -> None:
    ws.write(".reviewtool.toml", f'spec = ["broken-spec.toml"]\non_error = "{on_error}"\n')
    ws.write("broken-spec.toml", "[[api]\nname = \n")
    tip = ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    done = ws.push("main")
    assert "Traceback" not in done.stderr
    assert "the check could not run" in done.stderr
    if on_error == "warn":
        assert done.returncode == 0, done.stderr
        assert "Letting the push through" in done.stderr
        assert ws.remote_sha("refs/heads/main") == tip
    else:
        assert done.returncode != 0
        assert "Push refused" in done.stderr and "git push --no-verify" in done.stderr
        assert ws.remote_sha("refs/heads/main") != tip


@pytest.mark.parametrize("on_error", ["warn", "block"])
def test_broken_config_follows_the_on_error_it_can_still_read(ws: Workspace, on_error: str) -> None:
    ws.write(".reviewtool.toml", f'fail_on = "catastrophic"\non_error = "{on_error}"\n')
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    done = ws.push("main")
    assert "fail_on = 'catastrophic'" in done.stderr
    assert (done.returncode == 0) is (on_error == "warn"), done.stderr


def test_unreadable_config_warns_and_lets_the_push_through(ws: Workspace) -> None:
    ws.write(".reviewtool.toml", 'on_error = "block"\nfail_on = \n')
    ws.commit({"notes.txt": "x\n"}, "Notes")
    done = ws.push("main")
    assert done.returncode == 0
    assert "not valid TOML" in done.stderr and "Letting the push through" in done.stderr


def test_hook_never_changes_work_tree_index_or_refs(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    tip = ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    ws.write("scratch.c", "int unfinished_work;\n")  # untracked, must stay as it is

    def snapshot() -> tuple:
        index = (ws.work / ".git" / "index").read_bytes()
        return (
            ws.git("for-each-ref"),
            ws.git("rev-parse", "HEAD"),
            hashlib.sha256(index).hexdigest(),
            ws.git("status", "--porcelain", "--untracked-files=all"),
            (ws.work / MMU_C).read_text(),
        )

    before = snapshot()
    done = ws.reviewtool(
        "hook", "run", "origin", str(ws.remote), stdin=f"HEAD {tip} refs/heads/main {'0' * 40}\n"
    )
    assert done.returncode == 1, done.stderr
    assert snapshot() == before


def test_pre_commit_framework_range_is_checked(ws: Workspace) -> None:
    base = ws.git("rev-parse", "HEAD")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    env = {
        "PRE_COMMIT_FROM_REF": base,
        "PRE_COMMIT_TO_REF": ws.git("rev-parse", "HEAD"),
        "PRE_COMMIT_REMOTE_NAME": "origin",
    }
    done = ws.reviewtool("hook", "run", env=env)
    assert done.returncode == 1, done.stderr
    assert f"{MMU_C}:{LEAK_LINE}: error: leak:" in done.stderr


def test_malformed_hook_input_is_reported_not_a_traceback(ws: Workspace) -> None:
    done = ws.reviewtool("hook", "run", "origin", stdin="refs/heads/main nonsense\n")
    assert done.returncode == 0
    assert "pre-push input line 1" in done.stderr and "Traceback" not in done.stderr


def test_deleting_the_release_line_alone_is_caught(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    without_release = CLEAN.replace("\tkvm_release_pfn_clean(pfn);\n", "")
    ws.commit({MMU_C: without_release}, "KVM: arm64: Drop a release")
    done = ws.push("main")
    assert done.returncode != 0
    assert f"{MMU_C}:" in done.stderr and ": error: leak: " in done.stderr
    assert "in user_mem_abort()" in done.stderr


def test_leak_fixed_later_in_the_same_push_still_blocks_and_says_so(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    fixed = LEAKING.replace(
        "\t\t// ruleid: leak\n\t\treturn -ENOEXEC;\n",
        "\t{\n\t\tkvm_release_pfn_clean(pfn);\n\t\treturn -ENOEXEC;\n\t}\n",
    ).replace("!pfn_is_map_memory(pfn))\n\t{", "!pfn_is_map_memory(pfn)) {")
    fix = ws.commit({MMU_C: fixed}, "KVM: arm64: Release the page on exec faults")
    done = ws.push("main")
    assert done.returncode != 0
    assert f"fixed again by {fix[:12]}" in done.stderr


def test_skipped_paths_are_not_checked(ws: Workspace) -> None:
    ws.write(".reviewtool.toml", 'skip = ["arch/arm64/**"]\n')
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("main")
    assert done.returncode == 0, done.stderr
    assert "0 touching C in scope" in done.stderr


def test_analyse_commit_checks_only_the_functions_a_commit_changes(ws: Workspace) -> None:
    import git

    from reviewtool.hook.analyse import analyse_commit

    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    repo = git.Repo(ws.work)
    (leak,) = analyse_commit(repo, "HEAD")
    assert (leak.rule, leak.file, leak.line, leak.function) == (
        "leak",
        MMU_C,
        LEAK_LINE,
        "user_mem_abort",
    )
    # A later commit that only touches the helper does not report the handler's leak.
    helper = LEAKING.replace("ESR_ELx_FSC_PERM &&", "ESR_ELx_FSC_PERM &&\n\t       ")
    ws.commit({MMU_C: helper}, "KVM: arm64: Wrap a long line")
    assert analyse_commit(repo, repo.head.commit) == []


# -- commit data cannot steer the hook (issue 16.2) -----------------------------------------


def test_a_forged_record_marker_in_the_subject_does_not_hide_a_leak(ws: Workspace) -> None:
    clean = ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "forged")
    # The subject ends with what the old reader took for the start of the next commit,
    # naming the clean commit: the leak's diff would have been filed under that one.
    forged = f"KVM: arm64: Refuse exec faults\u2028reviewtool-commit {clean} {clean}"
    ws.commit({MMU_C: LEAKING}, forged)
    done = ws.push("forged")
    assert done.returncode != 0, done.stderr
    assert f"{MMU_C}:{LEAK_LINE}: error: leak: " in done.stderr
    assert not ws.remote_has("refs/heads/forged")


def test_a_diff_header_inside_a_c_comment_does_not_hide_a_leak(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "comment")
    # A form feed then a `+++` header: one line to git, two to a splitlines() reader, which
    # then filed the rest of the diff under README.txt and checked no function at all.
    sneaky = LEAKING.replace(
        "\t/* Instruction fetches", "\t/* \f+++ b/README.txt */\n\t/* Instruction fetches"
    )
    ws.commit({MMU_C: sneaky}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("comment")
    assert done.returncode != 0, done.stderr
    assert ": error: leak: " in done.stderr and "0 functions checked" not in done.stderr


def test_a_c_file_git_calls_binary_is_not_checked_and_says_so(ws: Workspace) -> None:
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults through __kvm_follow_pfn")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.git("checkout", "-q", "-b", "binary")
    # One NUL byte in a comment: git calls the file binary and prints none of its lines.
    with_nul = LEAKING.replace("cut down to what", "cut down\0 to what")
    ws.commit({MMU_C: with_nul}, "KVM: arm64: Refuse exec faults on device memory")
    done = ws.push("binary")
    assert done.returncode != 0, done.stderr
    assert f"{MMU_C}:0: error: not-checked: not checked: binary" in done.stderr
    assert not ws.remote_has("refs/heads/binary")


def test_a_binary_c_file_can_be_waived_like_any_finding(ws: Workspace) -> None:
    ws.git("checkout", "-q", "-b", "blob")
    ws.commit({"drivers/fw/blob.c": "unsigned char fw[] = {0};\0\x01\n"}, "Add firmware blob")
    ws.commit(
        {".reviewtool-waivers": "not-checked file:drivers/fw/blob.c firmware, not code\n"},
        "Waive the firmware blob",
    )
    done = ws.push("blob")
    assert done.returncode == 0, done.stderr
    assert "not checked: binary" in done.stderr


def test_commit_records_name_real_object_ids(ws: Workspace) -> None:
    import git as gitpython

    from reviewtool.errors import InputError
    from reviewtool.hook.changes import commit_patches, parse_log

    sha = ws.commit({MMU_C: CLEAN}, "KVM: arm64: Map stage-2 faults")
    repo = gitpython.Repo(ws.work)
    (patch,) = commit_patches(repo, [sha]).values()
    assert patch.sha == sha and patch.subject == "KVM: arm64: Map stage-2 faults"
    assert [c.path for c in patch.files] == [MMU_C]
    # A stream whose record does not name the commit asked for is refused, not half-read.
    with pytest.raises(InputError, match="not one of the commits"):
        parse_log(f"\0{'f' * 40}\0\0subject\0\n", [sha])
    with pytest.raises(InputError, match="whole commit records"):
        parse_log("reviewtool-commit " + sha + "\nsubject\n", [sha])


# -- a header compiled as part of another file is checked with it ---------------------------

TMPL_H = "arch/x86/kvm/mmu/paging_tmpl.h"
TMPL_MMU_C = """\
// SPDX-License-Identifier: GPL-2.0-only
#include "paging_tmpl.h"

static kvm_pfn_t demo_faultin(struct kvm_memory_slot *slot, gfn_t gfn, bool write)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | (write ? FOLL_WRITE : 0),
	};

	return __kvm_follow_pfn(&foll);
}
"""
TMPL_CLEAN = """\
static int FNAME(demo_fault)(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
	kvm_pfn_t pfn;

	pfn = demo_faultin(slot, gfn, true);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	kvm_release_pfn_clean(pfn);
	return 0;
}
"""
TMPL_LEAKING = TMPL_CLEAN.replace(
    "\tkvm_release_pfn_clean(pfn);\n",
    "\tif (gfn > 10)\n\t\treturn -EAGAIN;\n\tkvm_release_pfn_clean(pfn);\n",
)


def test_a_header_is_checked_with_the_file_that_compiles_it(ws: Workspace) -> None:
    # The reference is taken in mmu.c's helper: only read with mmu.c (its [companions] entry)
    # does the header's early return leak it.
    ws.commit({"arch/x86/kvm/mmu/mmu.c": TMPL_MMU_C, TMPL_H: TMPL_CLEAN}, "KVM: x86: Demo fault")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.commit({TMPL_H: TMPL_LEAKING}, "KVM: x86: Retry demo faults on high gfns")
    done = ws.push("main")
    assert done.returncode != 0, done.stderr
    assert f"{TMPL_H}:9: error: leak: " in done.stderr
    assert "leak function:FNAME(demo_fault)" in verdict(done.stderr)


# -- files checked in parallel give what one process gives ---------------------------------

OTHER_C = "arch/arm64/kvm/other_mmu.c"


def test_files_checked_in_parallel_report_as_one_process_does(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reviewtool.hook.analyse as analyse
    from reviewtool.hook.run import run_hook

    ws.commit({MMU_C: CLEAN, OTHER_C: CLEAN}, "KVM: arm64: Two fault handlers")
    base = ws.git("rev-parse", "HEAD")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    first = ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    second = ws.commit({OTHER_C: LEAKING}, "KVM: arm64: The same in the other handler")
    helper = LEAKING.replace("ESR_ELx_FSC_PERM &&", "ESR_ELx_FSC_PERM &&\n\t       ")
    ws.commit({MMU_C: helper, OTHER_C: helper}, "KVM: arm64: Wrap a long line")
    line = f"refs/heads/main {ws.git('rev-parse', 'HEAD')} refs/heads/main {base}\n"

    def findings() -> list[tuple]:
        result = run_hook(ws.work, line, "origin")
        assert result.error is None, result.error
        return [
            (item.finding.file, item.finding.line, item.finding.rule, item.commit.sha, item.status)
            for item in result.findings
        ]

    monkeypatch.setattr(analyse.os, "cpu_count", lambda: 4)  # fork workers even on one core
    forks = []
    real_fork = analyse.os.fork
    monkeypatch.setattr(analyse.os, "fork", lambda: forks.append(1) or real_fork())
    parallel = findings()
    assert forks, "the push's two files were not spread over processes"
    monkeypatch.setattr(analyse, "MIN_PARALLEL_CHANGES", 10**6)
    forks.clear()
    alone = findings()
    assert not forks
    assert parallel == alone
    assert sorted((file, sha) for file, _, rule, sha, _ in parallel if rule == "leak") == sorted(
        [(MMU_C, first), (OTHER_C, second)]
    )
