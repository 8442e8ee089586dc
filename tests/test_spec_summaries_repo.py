"""`check --repo` with callee summaries among the files a series touches: a temporary git
repository whose base commit is the real 6.12 files, and a series of our own on top in which
one touched file's caller forgets to release a page another touched file's helper returns."""

from __future__ import annotations

import json

import pytest

from tests.helpers import kernelrepo

HOST64 = "arch/powerpc/kvm/book3s_64_mmu_host.c"
SERIES = [
    (
        "KVM: PPC: Book3S: Say who releases the pfn kvmppc_gpa_to_pfn() returns",
        "arch/powerpc/kvm/book3s.c",
        "kvm_pfn_t kvmppc_gpa_to_pfn(",
        "/* The caller releases the returned pfn. */\nkvm_pfn_t kvmppc_gpa_to_pfn(",
    ),
    (
        # The realistic leak: a new early exit that skips the release at out_unlock.
        "KVM: PPC: Book3S 64: Refuse to map a guest PTE that may not be read",
        HOST64,
        "\thpaddr = pfn << PAGE_SHIFT;\n",
        "\thpaddr = pfn << PAGE_SHIFT;\n\tif (!orig_pte->may_read) {\n"
        "\t\tr = -EPERM;\n\t\tgoto out;\n\t}\n",
    ),
]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory) -> kernelrepo.KernelRepo:
    return kernelrepo.build_or_skip(tmp_path_factory, fillers=50, series=SERIES)


def test_a_leak_after_another_touched_files_acquisition_is_found(kernel, tmp_path) -> None:
    run = kernelrepo.run_reviewtool(
        tmp_path, "check", "--repo", str(kernel.path), "--json", str(kernel.mail)
    )
    assert run.returncode == 1, (run.stdout, run.stderr)
    findings = json.loads(run.stdout)["findings"]
    introduced = [
        (f["file"], f["function"], f["rule"], f["patch_index"])
        for f in findings
        if f["status"] == "introduced"
    ]
    assert introduced == [(HOST64, "kvmppc_mmu_map_page", "leak", 2)]
