"""`reviewtool check DIR`: every C file under a directory, checked in parallel processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reviewtool.cli.check_walk import c_files_under, check_files, is_c_tree

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "c"
KERNEL = ROOT.parent / "shared" / "kernel" / "linux-6.12"


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "linux"
    for name in ("kernel_constructs.c", "broken_function.c", "statement_cutting.c"):
        target = tree / ("virt/kvm" if "kernel" in name else "arch/x86/kvm") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / name, target)
    (tree / ".git").mkdir()
    (tree / ".git" / "ignored.c").write_text("int x;\n")
    (tree / "README").write_text("not C\n")
    return tree


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", "check", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


def test_directory_is_walked_for_c_files_only(tmp_path) -> None:
    tree = _tree(tmp_path)
    names = [Path(p).relative_to(tree).as_posix() for p in c_files_under(tree)]
    assert names == [
        "arch/x86/kvm/broken_function.c",
        "arch/x86/kvm/statement_cutting.c",
        "virt/kvm/kernel_constructs.c",
    ]
    assert is_c_tree(tree)


def test_mail_directories_are_not_c_trees(tmp_path) -> None:
    maildir = tmp_path / "maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "cur" / "x.c").write_text("int x;\n")
    patches = tmp_path / "patches"
    patches.mkdir()
    (patches / "0001-x.patch").write_text("From x\n")
    (patches / "x.c").write_text("int x;\n")
    assert not is_c_tree(maildir)
    assert not is_c_tree(patches)


def test_check_dir_reports_what_checking_each_file_reports(tmp_path) -> None:
    tree = _tree(tmp_path)
    whole = _run(str(tree))
    files = _run(*c_files_under(tree))
    assert whole.returncode == files.returncode
    assert json.loads(whole.stdout) == json.loads(files.stdout)
    assert "\r" not in whole.stderr  # no progress bar when stderr is not a terminal
    assert json.loads(whole.stdout)["checked"] > 0


def test_parallel_results_equal_serial_ones_on_the_real_kernel() -> None:
    if not KERNEL.is_dir():
        pytest.skip(f"real kernel files not found at {KERNEL} (they live beside the repo in CI)")
    names = c_files_under(KERNEL / "arch" / "mips") + c_files_under(KERNEL / "arch" / "riscv")
    serial = check_files(names, [], workers=1)
    parallel = check_files(names, [], workers=2)
    assert [name for name, _result in parallel] == names
    for (_name, one), (_same, other) in zip(serial, parallel, strict=True):
        assert [f.to_json() for f in one.findings] == [f.to_json() for f in other.findings]
        assert one.checked == other.checked
    found = [f for _name, result in parallel for f in result.findings]
    assert any(f.file.endswith("arch/mips/kvm/mmu.c") for f in found)
