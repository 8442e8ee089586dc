"""A temporary kernel repository: base commit = the real 6.12 files, a series of our own on top.

Used by the `--repo` tests and benchmarks. The real files are read from ../shared/kernel (never
copied into the project); filler files stand for the rest of a big tree. The base commit is
written with `git fast-import`, so 80,000 files take seconds, not minutes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.git import commit, fill_cover, format_patch, git, git_env

KERNEL = Path(__file__).resolve().parents[2].parent / "shared" / "kernel" / "linux-6.12"
FILLER_DIRS = 100
BASE_DATE = 1732000000  # 2024-11-19, seconds since the epoch

# The series: (subject, path, old text, new text). The third patch is the realistic leak: the
# release at the shared exit of the RISC-V fault handler goes, its callers never take it over.
SERIES = [
    (
        "KVM: Document what write_fault asks of __gfn_to_pfn_memslot",
        "virt/kvm/kvm_main.c",
        "kvm_pfn_t __gfn_to_pfn_memslot(",
        "/* write_fault: the caller intends to write the page. */\nkvm_pfn_t __gfn_to_pfn_memslot(",
    ),
    (
        "KVM: x86/mmu: Name the TDP MMU fault result",
        "arch/x86/kvm/mmu/tdp_mmu.c",
        "int kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)\n{\n",
        "int kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)\n{\n"
        "\t/* RET_PF_* from here on. */\n",
    ),
    (
        "KVM: riscv: Leave the page reference to the fault path's caller",
        "arch/riscv/kvm/mmu.c",
        "\tkvm_set_pfn_accessed(hfn);\n\tkvm_release_pfn_clean(hfn);\n",
        "\tkvm_set_pfn_accessed(hfn);\n",
    ),
]
LEAK_FILE = "arch/riscv/kvm/mmu.c"
LEAK_FUNCTION = "kvm_riscv_gstage_map"


@dataclass
class KernelRepo:
    """The repository, its base commit, and the series mail (one .patch file per patch)."""

    path: Path
    base: str
    mail: Path
    files: int


def kernel_available() -> bool:
    """True when ../shared/kernel/linux-6.12 is there."""
    return KERNEL.is_dir()


def real_c_files() -> list[Path]:
    """The real 6.12 .c and .h files, sorted; none where ../shared is absent (a test over them
    then has no cases, and `require_kernel_files` says why)."""
    if not KERNEL.is_dir():
        return []
    return sorted(p for p in KERNEL.rglob("*") if p.suffix in (".c", ".h"))


def require_kernel_files() -> None:
    """Skip, saying why, where the real files are absent; else insist they are all there."""
    if not KERNEL.is_dir():
        pytest.skip(f"real kernel files not found at {KERNEL} (beside the repo in CI)")
    assert len(real_c_files()) >= 30


def _fast_import_stream(fillers: int) -> bytes:
    chunks: list[bytes] = []
    paths = []
    for source in sorted(KERNEL.rglob("*")):
        if source.is_file():
            paths.append((source.relative_to(KERNEL).as_posix(), source.read_bytes()))
    for number in range(fillers):
        text = f"// SPDX-License-Identifier: GPL-2.0\nint filler_{number}(void)\n{{\n"
        text += f"\treturn {number};\n}}\n"
        paths.append((f"drivers/filler{number % FILLER_DIRS}/f{number}.c", text.encode()))
    message = b"Linux 6.12 (the KVM files, and filler for the rest of a tree)\n"
    chunks.append(b"commit refs/heads/main\n")
    chunks.append(f"committer Linus <torvalds@example.org> {BASE_DATE} +0000\n".encode())
    chunks.append(b"data %d\n%s\n" % (len(message), message))
    for path, data in paths:
        chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(data), data))
    return b"".join(chunks)


def build(
    root: Path, fillers: int = 2000, worktree: bool = True, series: list | None = None
) -> KernelRepo:
    """The repository at root/linux and the series mail at root/mail.

    `series`: the (subject, path, old text, new text) patches to make, SERIES by default.
    With worktree the base is checked out and the user has work of their own in progress (an
    edit, a staged file, a second worktree), which a `--repo` run must leave exactly as it is.
    """
    repo = root / "linux"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    subprocess.run(
        ["git", "fast-import", "--quiet"],
        cwd=repo,
        input=_fast_import_stream(fillers),
        env=git_env(),
        check=True,
        capture_output=True,
    )
    base = git(repo, "rev-parse", "main").strip()
    git(repo, "checkout", "-q", "-f", "main") if worktree else git(repo, "reset", "-q", "main")
    git(repo, "checkout", "-q", "-b", "series")
    for subject, path, old, new in SERIES if series is None else series:
        target = repo / path
        text = target.read_text() if worktree else git(repo, "show", f"HEAD:{path}")
        if old not in text:
            raise ValueError(f"{path} no longer holds the text the series edits")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(old, new, 1))
        git(repo, "add", path)
        git(
            repo,
            "commit",
            "-q",
            "-m",
            f"{subject}\n\nSigned-off-by: David Stevens <stevensd@chromium.org>",
        )
    mail = root / "mail"
    files = format_patch(repo, base, mail, 2)  # Message-ID stamps fixed there
    fill_cover(files[0], "KVM: page reference housekeeping", "Three small patches.")
    git(repo, "checkout", "-q", "-f", "main") if worktree else git(repo, "reset", "-q", "main")
    git(repo, "branch", "-q", "-D", "series")
    if worktree:
        # The user's own state that a run must not disturb.
        git(repo, "worktree", "add", "-q", str(root / "linux-topic"), "-b", "topic", base)
        (repo / "virt/kvm/kvm_main.c").write_text("/* local edit in progress */\n")
        (repo / "staged.txt").write_text("staged\n")
        git(repo, "add", "staged.txt")
        (repo / "untracked.txt").write_text("mine\n")
    count = len(git(repo, "ls-tree", "-r", "--name-only", base).splitlines())
    return KernelRepo(repo, base, mail, count)


def snapshot(repo: Path) -> dict[str, bytes]:
    """Every file under the repository (work tree and .git, objects included), byte for byte."""
    out = {}
    for path in sorted(repo.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(repo).as_posix()] = path.read_bytes()
    out["<worktree list>"] = git(repo, "worktree", "list", "--porcelain").encode()
    return out


__all__ = ["KernelRepo", "build", "commit", "kernel_available", "snapshot"]


def build_or_skip(tmp_path_factory, fillers: int, series: list) -> KernelRepo:
    """build() for a module-scoped fixture; the test skips, saying why, without ../shared."""
    import pytest  # noqa: PLC0415 - only the tests' fixtures need it

    if not kernel_available():
        pytest.skip(f"real kernel files not found at {KERNEL} (beside the repo in CI)")
    return build(tmp_path_factory.mktemp("kernel"), fillers=fillers, series=series)


def run_reviewtool(scratch: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m reviewtool ARGS` as a user runs it, its temporary files under `scratch`."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "TMPDIR": str(scratch), "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-m", "reviewtool", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
