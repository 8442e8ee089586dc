"""`--repo` on a real kernel tree: whole-file findings, only touched files read, nothing written.

The repository's base commit is the real Linux 6.12 KVM files plus filler standing for the rest
of a tree; a three-patch series of our own sits on top, the third one a realistic leak. A run
of `check --repo` (whole, or killed at random points) must leave every byte of the repository
(work tree, index, refs, config, objects, worktree list) as it was.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reviewtool.diff.tree import SCRATCH_PREFIX, Scratch, apply_series, clean_leftovers
from tests.helpers import kernelrepo

ROOT = Path(__file__).resolve().parents[1]
KILLS = 4


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> kernelrepo.KernelRepo:
    if not kernelrepo.kernel_available():
        pytest.skip(f"real kernel files not found at {kernelrepo.KERNEL} (beside the repo in CI)")
    return kernelrepo.build(tmp_path_factory.mktemp("kernel"), fillers=600)


def _check(kernel: kernelrepo.KernelRepo, tmpdir: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "reviewtool", "check", "--repo", str(kernel.path)]
    return subprocess.Popen(
        [*command, *extra, str(kernel.mail)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_check_repo_finds_the_leak_the_series_introduces(kernel, tmp_path) -> None:
    before = kernelrepo.snapshot(kernel.path)
    run = _check(kernel, tmp_path, "--json")
    out, err = run.communicate(timeout=300)
    assert run.returncode == 1, (out, err)
    findings = json.loads(out)["findings"]
    introduced = [
        f
        for f in findings
        if f["status"] == "introduced"
        and f["file"] == kernelrepo.LEAK_FILE
        and f["function"] == kernelrepo.LEAK_FUNCTION
    ]
    assert [f["rule"] for f in introduced] == ["leak"]
    assert introduced[0]["patch_index"] == 3
    assert kernelrepo.snapshot(kernel.path) == before
    assert list(tmp_path.glob(f"{SCRATCH_PREFIX}*")) == []


def test_only_the_touched_files_are_read_into_the_scratch_index(kernel) -> None:
    diffs = [p.read_text() for p in sorted(kernel.mail.glob("*.patch"))[1:]]
    with Scratch(kernel.path, kernel.base) as tree:
        for index, diff in enumerate(diffs, start=1):
            tree.apply(diff, index)
        loaded = tree.loaded_paths()
        assert tree.read(kernelrepo.LEAK_FILE).count("kvm_release_pfn_clean(hfn)") == 0
        assert tree.read("drivers/filler7/f7.c").startswith("// SPDX")
    assert loaded == sorted(path for _subject, path, _old, _new in kernelrepo.SERIES)
    assert kernel.files > 600


def test_scratch_grep_sees_the_base_and_the_applied_patches(kernel) -> None:
    diffs = [p.read_text() for p in sorted(kernel.mail.glob("*.patch"))[1:]]
    with Scratch(kernel.path, kernel.base) as tree:
        before = {path for path, _line, _text in tree.grep("kvm_release_pfn_clean")}
        for index, diff in enumerate(diffs, start=1):
            tree.apply(diff, index)
        after = tree.grep("kvm_release_pfn_clean")
    assert kernelrepo.LEAK_FILE in before
    riscv = [line for path, line, _text in after if path == kernelrepo.LEAK_FILE]
    assert riscv == []  # the only call there is the one the third patch removes
    assert {path for path, _line, _text in after} == before - {kernelrepo.LEAK_FILE}


def test_apply_series_reads_a_deleted_file_as_gone(kernel) -> None:
    diff = (
        "diff --git a/drivers/filler3/f3.c b/drivers/filler3/f3.c\n"
        "deleted file mode 100644\n"
        "--- a/drivers/filler3/f3.c\n+++ /dev/null\n@@ -1,5 +0,0 @@\n"
        "-// SPDX-License-Identifier: GPL-2.0\n-int filler_3(void)\n-{\n-\treturn 3;\n-}\n"
    )
    applied, final = apply_series(kernel.path, kernel.base, [diff])
    assert applied[0].files["drivers/filler3/f3.c"].before.startswith("// SPDX")
    assert final == {"drivers/filler3/f3.c": None}


def test_killed_check_repo_leaves_the_repository_byte_identical(kernel, tmp_path) -> None:
    """SIGKILL and SIGTERM at random points of `check --repo`: the repo never changes, and
    the next run removes the scratch directories the killed runs left (and only those)."""
    before = kernelrepo.snapshot(kernel.path)
    foreign = tmp_path / f"{SCRATCH_PREFIX}otherhost.1-x"
    foreign.mkdir()  # made on another host sharing the directory: never ours to judge
    start = time.monotonic()
    _check(kernel, tmp_path).communicate(timeout=300)
    duration = time.monotonic() - start
    chooser = random.Random(1216)
    for attempt in range(KILLS):
        run = _check(kernel, tmp_path)
        if attempt % 2:
            time.sleep(chooser.uniform(0.05, duration))  # anywhere in the run
        else:  # while the scratch index is open, where a kill could leave something behind
            while run.poll() is None and not any(tmp_path.glob(f"{SCRATCH_PREFIX}*.{run.pid}-*")):
                time.sleep(0.002)
            time.sleep(chooser.uniform(0, 0.05))
        run.send_signal(chooser.choice([signal.SIGKILL, signal.SIGTERM]))
        run.communicate(timeout=60)
        assert kernelrepo.snapshot(kernel.path) == before
    clean_leftovers(tmp_path)
    assert list(tmp_path.glob(f"{SCRATCH_PREFIX}*")) == [foreign]
    assert kernelrepo.snapshot(kernel.path) == before
