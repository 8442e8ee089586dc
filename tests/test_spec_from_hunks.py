"""From mail alone: the delta of a patch against what the series' hunks show about the
acquisition (reviewtool.analyses.spec.from_hunks).

The reference case is the bundled example's v8: 5/8 removes the release from the x86 fault
exits while the same patch still passes FOLL_GET on 32-bit or without TDP. A reviewer saw it
on the list without a tree; so must the checker. Then real mail (`../shared/corpus`, no
page-reference code: nothing to say) and a realistic mistake mailed with `git format-patch`
from a temporary repository whose base is real Linux 6.12 files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewtool.analyses.findings import EVIDENCE_HUNKS
from reviewtool.analyses.spec import findings_from_hunks
from reviewtool.analyses.spec.condition import given_world, parse_condition, satisfiable
from reviewtool.cli import main
from reviewtool.ingest import load
from reviewtool.series.reroll import applied_revisions
from tests.helpers.git import author_git, replace_once

ROOT = Path(__file__).resolve().parent.parent
MBOX = ROOT / "examples" / "kvm-follow-pfn" / "mbox"
KERNEL = ROOT.parent / "shared" / "kernel" / "linux-6.12"
CONFIG = "FOLL_GET passed (32-bit or !tdp_enabled)"
MMU_C = "arch/x86/kvm/mmu/mmu.c"
PAGING_TMPL = "arch/x86/kvm/mmu/paging_tmpl.h"


def _revisions(*paths: Path) -> dict:
    collection = load([str(p) for p in paths])
    out = {}
    for series in collection.series:
        for revision in applied_revisions([r for r in series.revisions if r.patches]):
            out[revision.label] = revision
    return out


@pytest.fixture(scope="module")
def example() -> dict:
    return _revisions(MBOX)


# -- the bundled example ---------------------------------------------------------------------


def test_v8_leak_found_without_a_tree_as_introduced_by_5_of_8(example):
    found = findings_from_hunks(example["v8"])
    leaks = {(f.file, f.function): f for f in found if f.rule == "leak"}
    assert set(leaks) == {(MMU_C, "direct_page_fault"), (PAGING_TMPL, "FNAME(page_fault)")}
    for finding in leaks.values():
        assert finding.config == CONFIG
        assert (finding.patch_index, finding.status, finding.version) == (5, "introduced", "v8")
        assert finding.evidence == EVIDENCE_HUNKS
        assert "from hunks" in finding.message
        assert {h.patch_index for h in finding.hunks} == {5}
        # The hunk that passes FOLL_GET is part of the evidence, with the flag in it.
        assert any("FOLL_GET" in h.text and h.file == MMU_C for h in finding.hunks)


def test_tdp_mmu_exit_is_left_alone_its_configuration_never_passes_foll_get(example):
    # kvm_tdp_mmu_page_fault runs only 64-bit with TDP ([assume]): FOLL_GET is never passed.
    found = findings_from_hunks(example["v8"])
    assert "kvm_tdp_mmu_page_fault" not in {f.function for f in found}


def test_v7_drops_foll_get_everywhere_which_rule_9_forbids(example):
    found = findings_from_hunks(example["v7"])
    assert [(f.rule, f.file, f.function, f.patch_index) for f in found] == [
        ("get-required", MMU_C, "__kvm_faultin_pfn", 5)
    ]
    assert not [f for f in found if f.rule == "leak"], "no FOLL_GET, so the removal is right"


def test_versions_without_a_release_removed_have_nothing_from_hunks(example):
    for label in ("v1", "v2", "v3", "v4", "v5", "v6"):
        assert findings_from_hunks(example[label]) == [], label


def test_hunk_findings_carry_the_identity_the_tree_gives(example, example_build):
    """Without a tree and with one, v8's leaks are the same findings (rule, file, function,
    configuration), so a report read either way agrees and versions compare."""
    _, repo = example_build
    from reviewtool.analyses.spec import check_revision

    tree = check_revision(example["v8"], repo=str(repo))
    tree_keys = {f.key() for f in tree if f.rule == "leak" and f.status != "fixed"}
    hunk_keys = {f.key() for f in findings_from_hunks(example["v8"]) if f.rule == "leak"}
    assert hunk_keys == tree_keys


def test_check_and_report_show_the_v8_leak_with_no_repo(tmp_path, capsys):
    assert main(["check", str(MBOX / "v8.mbox"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    leaks = [f for f in data["findings"] if f["rule"] == "leak"]
    assert {(f["function"], f["config"], f["patch_index"]) for f in leaks} == {
        ("direct_page_fault", CONFIG, 5),
        ("FNAME(page_fault)", CONFIG, 5),
    }
    assert all(f["evidence"] == "hunks" and f["hunks"] for f in leaks)

    out = tmp_path / "r.json"
    main(["report", str(MBOX), "--format", "json", "-o", str(out), "--fail-on", "none"])
    review = json.loads(out.read_text())["reviews"][0]
    v8 = next(entry for entry in review["findings"] if entry["label"] == "v8")
    introduced = {
        (f["function"], f["patch_index"]) for f in v8["findings"] if f["status"] == "introduced"
    }
    assert introduced == {("direct_page_fault", 5), ("FNAME(page_fault)", 5)}


# -- conditions ------------------------------------------------------------------------------


def test_condition_reads_as_the_spec_names_it_and_meets_the_configuration():
    cond = parse_condition("!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled")
    names = {"!IS_ENABLED(CONFIG_X86_64)": "32-bit"}
    assert cond.render(names) == "32-bit or !tdp_enabled"
    assert parse_condition("!(a && b)").render({}) == "!a or !b"
    tdp_64 = given_world(["tdp_enabled", "IS_ENABLED(CONFIG_X86_64)"])
    assert not satisfiable(cond, tdp_64)
    assert satisfiable(cond, given_world(["!tdp_enabled"]))
    assert parse_condition("a != b").atoms() == ["a != b"]


# -- real mail -------------------------------------------------------------------------------


def test_real_list_series_without_page_references_give_nothing(corpus_dir):
    revisions = _revisions(*sorted(p for p in corpus_dir.iterdir() if p.is_dir()))
    assert revisions, "the corpus holds series"
    for label, revision in revisions.items():
        assert findings_from_hunks(revision) == [], label


# -- a realistic mistake on real kernel files, mailed with git format-patch -------------------


ACQUIRE = "\tpfn = gfn_to_pfn_memslot_atomic(slot, gfn);\n"
OPEN_CODED = "\tpfn = __gfn_to_pfn_memslot(slot, gfn, true, false, NULL, true, NULL, NULL);\n"
INSTALL = "\tmmu_set_spte(vcpu, slot, spte, pte_access, gfn, pfn, NULL);\n"
RELEASE = INSTALL + "\tkvm_release_pfn_clean(pfn);\n"


@pytest.fixture
def kernel_repo(tmp_path: Path) -> Path:
    if not (KERNEL / PAGING_TMPL).is_file():
        pytest.skip(f"real Linux 6.12 files not found at {KERNEL} (they live beside the repo)")
    repo = tmp_path / "linux"
    (repo / PAGING_TMPL).parent.mkdir(parents=True)
    (repo / PAGING_TMPL).write_bytes((KERNEL / PAGING_TMPL).read_bytes())
    author_git(repo, "init", "-q", "-b", "master")
    author_git(repo, "add", ".")
    author_git(repo, "commit", "-q", "-m", "Linux 6.12 (the files this test needs)")
    return repo


def _mail(repo: Path, out: Path) -> Path:
    author_git(repo, "format-patch", "-q", "--cover-letter", "--thread", "-o", str(out), "master")
    return out


def test_release_deleted_after_an_open_coded_fault_in_is_found_from_the_mail(
    kernel_repo: Path, tmp_path: Path
):
    author_git(kernel_repo, "checkout", "-q", "-b", "prefetch")
    replace_once(kernel_repo / PAGING_TMPL, ACQUIRE, OPEN_CODED)
    author_git(
        kernel_repo, "commit", "-q", "-am", "KVM: x86/mmu: Open-code the atomic prefetch lookup"
    )
    replace_once(kernel_repo / PAGING_TMPL, RELEASE, INSTALL)
    author_git(
        kernel_repo, "commit", "-q", "-am", "KVM: x86/mmu: Let the SPTE keep the prefetched page"
    )
    mails = _mail(kernel_repo, tmp_path / "mail")
    revision = next(iter(_revisions(mails).values()))
    found = findings_from_hunks(revision)
    assert [(f.rule, f.file, f.function, f.patch_index, f.config) for f in found] == [
        ("leak", PAGING_TMPL, "FNAME(prefetch_gpte)", 2, "")
    ]
    # The exit that lost its release: `return true;` right after where it was.
    text = (kernel_repo / PAGING_TMPL).read_text(encoding="utf-8").splitlines()
    assert text[found[0].line - 1].strip() == "return true;"


def test_release_kept_in_another_form_is_not_a_leak(kernel_repo: Path, tmp_path: Path):
    author_git(kernel_repo, "checkout", "-q", "-b", "dirty")
    replace_once(kernel_repo / PAGING_TMPL, ACQUIRE, OPEN_CODED)
    replace_once(
        kernel_repo / PAGING_TMPL,
        "\tkvm_release_pfn_clean(pfn);\n\treturn true;",
        "\tkvm_release_pfn_dirty(pfn);\n\treturn true;",
    )
    author_git(
        kernel_repo, "commit", "-q", "-am", "KVM: x86/mmu: Prefetch writable and release dirty"
    )
    mails = _mail(kernel_repo, tmp_path / "mail")
    revision = next(iter(_revisions(mails).values()))
    assert findings_from_hunks(revision) == []
