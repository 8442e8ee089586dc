"""The hook loads the checker while git computes the push's diffs, only when the push changes
a C file its config wants: what a push reports must not depend on that early start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reviewtool.hook.changes import changed_c_paths, commit_patches
from reviewtool.hook.gitio import GitRepo
from tests.helpers.workspace import Workspace
from tests.test_hook_push import CLEAN, LEAKING, MMU_C

pytestmark = pytest.mark.slow

PROBE = (
    "import sys; import reviewtool.hook.run as run; from reviewtool.hook.run import run_hook; "
    "early = []; real = run._early_analyser; "
    "run._early_analyser = lambda *a: early.append(real(*a)) or early[-1]; "
    "r = run_hook('.', sys.stdin.read(), 'origin'); "
    "print(r.error, r.c_commits, r.exit_code(), early[0] is not None, "
    "'reviewtool.cparse' in sys.modules, "
    "sorted((f.finding.rule, f.finding.line) for f in r.findings))"
)


@pytest.fixture
def ws(tmp_path) -> Workspace:
    return Workspace(tmp_path)


def probe(ws: Workspace, base: str) -> list[str]:
    stdin = f"refs/heads/main {ws.git('rev-parse', 'HEAD')} refs/heads/main {base}\n"
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ws.work,
        env=ws.env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split(maxsplit=5)


def test_c_file_out_of_scope_loads_no_checker(ws: Workspace) -> None:
    ws.write(".reviewtool.toml", 'include = ["virt/kvm/**"]\n')
    base = ws.commit({".reviewtool.toml": 'include = ["virt/kvm/**"]\n'}, "Config")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Outside the configured paths")
    assert probe(ws, base) == ["None", "0", "0", "False", "False", "[]"]


def test_c_push_loaded_early_reports_what_the_push_holds(ws: Workspace) -> None:
    base = ws.git("rev-parse", "HEAD")
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Fault handler")
    ws.commit({MMU_C: LEAKING}, "KVM: arm64: Refuse exec faults on device memory")
    error, c_commits, code, early, parser, findings = probe(ws, base)
    assert (error, c_commits, code, early, parser) == ("None", "2", "1", "True", "True")
    assert "'leak'" in findings


def test_broken_spec_with_c_change_is_reported_as_without_early_load(ws: Workspace) -> None:
    # The early load swallows the spec error; the check raises it again, where it always did.
    config = 'spec = ["broken-spec.toml"]\non_error = "block"\n'
    ws.commit({"broken-spec.toml": "[[api]\nname = \n", ".reviewtool.toml": config}, "Config")
    ws.git("push", "-q", "--no-verify", "origin", "main")
    base = ws.git("rev-parse", "HEAD")
    ws.commit({MMU_C: CLEAN}, "KVM: arm64: Fault handler")
    stdin = f"refs/heads/main {ws.git('rev-parse', 'HEAD')} refs/heads/main {base}\n"
    done = ws.reviewtool("hook", "run", "origin", "url", stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert "broken-spec.toml" in done.stderr and "not valid TOML" in done.stderr


def test_changed_c_paths_lists_what_the_patches_change(ws: Workspace) -> None:
    first = ws.commit({MMU_C: CLEAN, "Documentation/kvm.rst": "notes\n"}, "Two files")
    ws.git("mv", MMU_C, "arch/arm64/kvm/stage2.c")
    ws.git("commit", "-q", "-m", "Rename")
    second = ws.git("rev-parse", "HEAD")
    repo = GitRepo(ws.work)
    names = changed_c_paths(repo, [first, second])
    patches = commit_patches(repo, [first, second])
    touched = {
        path
        for patch in patches.values()
        for change in patch.files
        for path in (change.old_path, change.new_path)
        if path
    }
    assert names == touched == {MMU_C, "arch/arm64/kvm/stage2.c"}
