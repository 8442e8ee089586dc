"""`check --repo` finds the functions a patch changes from the texts around its lines, not from
the hunk's `@@` context: after a label (`out_unlock:`) git's hunk header names the label, and a
change there once mapped to no function, so `check --repo` printed an all-clear over a leak.
A temporary git repository whose base commit is the real 6.12 files, and one patch of ours."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import kernelrepo

ARM64 = "arch/arm64/kvm/mmu.c"
# A realistic mistake below a label: the release at the end of the arm64 stage-2 fault
# handler deleted (its hunk starts after `out_unlock:`).
SERIES = [
    (
        "KVM: arm64: Leave the page to the dirty-tracking path after a stage-2 fault",
        ARM64,
        "\tkvm_release_pfn_clean(pfn);\n\treturn ret != -EAGAIN ? ret : 0;\n",
        "\treturn ret != -EAGAIN ? ret : 0;\n",
    ),
]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> kernelrepo.KernelRepo:
    return kernelrepo.build_or_skip(tmp_path_factory, fillers=20, series=SERIES)


def test_a_change_below_a_label_is_checked_in_its_function(kernel, tmp_path) -> None:
    mail = "".join(p.read_text(encoding="utf-8") for p in sorted(Path(kernel.mail).iterdir()))
    assert "@@ out_unlock:" in mail  # the hunk header names the label, not the function
    run = kernelrepo.run_reviewtool(
        tmp_path, "check", "--repo", str(kernel.path), "--json", str(kernel.mail)
    )
    assert run.returncode == 1, (run.stdout, run.stderr)
    document = json.loads(run.stdout)
    introduced = {
        (f["file"], f["function"], f["rule"], f["patch_index"])
        for f in document["findings"]
        if f["status"] == "introduced"
    }
    assert (ARM64, "user_mem_abort", "leak", 1) in introduced


def test_without_a_tree_the_change_below_a_label_is_said_not_checked(kernel, tmp_path) -> None:
    run = kernelrepo.run_reviewtool(tmp_path, "check", "--json", str(kernel.mail))
    # Exit 3: nothing flagged, but changed code was not checked whole - never a clean 0.
    assert run.returncode == 3, (run.stdout, run.stderr)
    document = json.loads(run.stdout)
    unnamed = [n for n in document["not_checked"] if n["file"] == ARM64]
    assert unnamed and all(n["reason"] == "hunks-only" for n in unnamed)
    assert any("out_unlock:" in n["detail"] for n in unnamed)
