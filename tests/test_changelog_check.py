"""Changelog items checked against the range-diff of two real versions of a series."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.changelog_check import (
    CONFIRMED,
    NOT_FOUND,
    VAGUE,
    compare,
    parse_item,
    verify_changelog,
)
from reviewtool.cli import main
from reviewtool.series.model import ChangelogStep
from tests.helpers.rangediff_support import Edit, GitSeries, PatchSpec, load_revision

FAULT_C = """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/kvm_host.h>

static int fault_handle_error(struct kvm_vcpu *vcpu, kvm_pfn_t pfn)
{
\tif (is_error_noslot_pfn(pfn))
\t\treturn -EFAULT;
\treturn 0;
}

static int direct_fault(struct kvm_vcpu *vcpu, gfn_t gfn)
{
\tkvm_pfn_t pfn;
\tint r;

\tpfn = gfn_to_pfn(vcpu->kvm, gfn);
\tr = fault_handle_error(vcpu, pfn);
\tif (r)
\t\treturn r;

\twrite_lock(&vcpu->kvm->mmu_lock);
\tr = map_pfn(vcpu, gfn, pfn);
\twrite_unlock(&vcpu->kvm->mmu_lock);
\treturn r;
}

static int other_fault(struct kvm_vcpu *vcpu, gfn_t gfn)
{
\treturn direct_fault(vcpu, gfn);
}
"""
PATH = "arch/x86/kvm/mmu/fault.c"


def _tree() -> dict[str, list[str]]:
    return {PATH: FAULT_C.rstrip("\n").split("\n")}


# Parts of each patch that stay the same between versions: real patches are more than
# the few lines a reroll touches, and that is what lets the two versions pair.
STABLE_1 = Edit(
    PATH,
    "\treturn direct_fault(vcpu, gfn);",
    "replace",
    (
        "\tint r;",
        "",
        "\tif (!kvm_vcpu_has_fault_ctx(vcpu))",
        "\t\treturn -EINVAL;",
        "\tr = direct_fault(vcpu, gfn);",
        "\ttrace_kvm_other_fault(vcpu, gfn, r);",
        "\treturn r;",
    ),
)
STABLE_2 = Edit(
    PATH,
    "#include <linux/kvm_host.h>",
    "after",
    (
        "",
        "/* Error pfns carry no reference; callers return early on them. */",
        "static int kvm_fault_error_code(kvm_pfn_t pfn, kvm_pfn_t wanted);",
        "#define FAULT_RETRY_LIMIT\t8",
    ),
)


def _v1() -> list[PatchSpec]:
    mark_after_unlock = Edit(
        PATH,
        "\twrite_unlock(&vcpu->kvm->mmu_lock);",
        "replace",
        (
            "\twrite_unlock(&vcpu->kvm->mmu_lock);",
            "\tif (page_is_refcounted)",
            "\t\tkvm_set_pfn_accessed(pfn);",
        ),
    )
    return [
        PatchSpec(
            "KVM: x86/mmu: Mark pages accessed on fault exit",
            "Mark the page accessed once the fault is handled.",
            (mark_after_unlock, STABLE_1),
        ),
        PatchSpec(
            "KVM: x86/mmu: Add a helper for error pfns",
            "Give the error path a name.",
            (
                Edit(
                    PATH,
                    "\t\treturn -EFAULT;",
                    "replace",
                    ("\t\treturn fault_error_code(pfn);",),
                ),
                STABLE_2,
            ),
        ),
    ]


def _v2() -> list[PatchSpec]:
    mark_before_unlock = Edit(
        PATH,
        "\twrite_unlock(&vcpu->kvm->mmu_lock);",
        "replace",
        (
            "\t/* Without a reference only mmu_lock keeps the page alive. */",
            "\tif (page_is_refcounted)",
            "\t\tkvm_set_pfn_accessed(pfn);",
            "\twrite_unlock(&vcpu->kvm->mmu_lock);",
        ),
    )
    return [
        PatchSpec(
            "KVM: x86/mmu: Mark pages accessed on fault exit",
            "Mark the page accessed while mmu_lock still protects it.",
            (mark_before_unlock, STABLE_1),
        ),
        PatchSpec(
            "KVM: x86/mmu: Add a helper for error pfns",
            "Give the error path a name.",
            (
                Edit(
                    PATH,
                    "\t\treturn -EFAULT;",
                    "replace",
                    ("\t\treturn kvm_fault_error_code(pfn, KVM_PFN_ERR_NEEDS_IO);",),
                ),
                Edit(PATH, "\tkvm_pfn_t pfn;", "after", ("\tbool writable = false;",)),
                STABLE_2,
            ),
        ),
    ]


CHANGELOG = """\
v1 -> v2:
 - Set access bits before releasing mmu_lock.
 - Rename fault_error_code to kvm_fault_error_code.
 - Return KVM_PFN_ERR_NEEDS_IO from the error helper.
 - Mark the arm64 faults as guarded by the mmu notifier.
 - Take mmu_lock for read in other_fault().
 - Add comments and apply formatting suggestions.
"""


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[Path, object, object]:
    root = tmp_path_factory.mktemp("changelog")
    repo = GitSeries.create(root / "repo")
    base = repo.commit_base(_tree(), "base")
    repo.commit_series("v1", base, _tree(), _v1())
    repo.commit_series("v2", base, _tree(), _v2())
    repo.format_patch("v1", 1, root / "mail" / "v1", cover="The first version.")
    repo.format_patch("v2", 2, root / "mail" / "v2", cover="The second.\n\n" + CHANGELOG)
    old = load_revision(root / "mail" / "v1")
    new = load_revision(root / "mail" / "v2")
    return root / "mail", old, new


def _step() -> ChangelogStep:
    items = [line[3:] for line in CHANGELOG.splitlines() if line.startswith(" - ")]
    return ChangelogStep(from_version=1, to_version=2, items=items)


def _verdicts(versions) -> dict[str, object]:
    _, old, new = versions
    comparison = compare(old, new)
    return {v.item: v for v in verify_changelog(comparison, _step())}


def test_move_across_unlock_is_confirmed_with_the_hunk(versions):
    verdict = _verdicts(versions)["Set access bits before releasing mmu_lock."]
    assert verdict.verdict == CONFIRMED
    assert [(e.to_index, e.hunk) for e in verdict.evidence] == [(1, 0)]


def test_rename_is_confirmed_when_old_name_gone_and_new_present(versions):
    verdict = _verdicts(versions)["Rename fault_error_code to kvm_fault_error_code."]
    assert verdict.verdict == CONFIRMED
    assert verdict.evidence and verdict.evidence[0].to_index == 2


def test_identifier_in_changed_lines_is_confirmed(versions):
    verdict = _verdicts(versions)["Return KVM_PFN_ERR_NEEDS_IO from the error helper."]
    assert verdict.verdict == CONFIRMED


def test_claim_about_code_the_series_never_changed_is_not_found(versions):
    verdicts = _verdicts(versions)
    assert verdicts["Mark the arm64 faults as guarded by the mmu notifier."].verdict == NOT_FOUND
    assert verdicts["Take mmu_lock for read in other_fault()."].verdict == NOT_FOUND


def test_item_naming_nothing_is_vague_and_points_at_comment_hunks(versions):
    verdict = _verdicts(versions)["Add comments and apply formatting suggestions."]
    assert verdict.verdict == VAGUE
    assert [e.to_index for e in verdict.evidence] == [1]


def test_undocumented_change_is_listed(versions):
    _, old, new = versions
    comparison = compare(old, new)
    # compare() found the cover's changelog itself.
    assert [v.verdict for v in comparison.changelog] == [
        CONFIRMED,
        CONFIRMED,
        CONFIRMED,
        NOT_FOUND,
        NOT_FOUND,
        VAGUE,
    ]
    # 2/2's new `writable` local is in no item; the changelog covers the rest of 2/2 though,
    # so nothing is undocumented at patch level...
    assert comparison.undocumented == []
    # ...until the item that covers 2/2 is taken away.
    step = _step()
    step.items = [item for item in step.items if "KVM_PFN_ERR" not in item and "Rename" not in item]
    from reviewtool.analyses.changelog_check import undocumented_changes

    verdicts = verify_changelog(comparison, step)
    entries = undocumented_changes(comparison, verdicts)
    assert [e.to_index for e in entries] == [2]
    assert "arch/x86/kvm/mmu/fault.c" in entries[0].summary


def test_changelog_json_has_the_issue_shape(versions):
    _, old, new = versions
    data = compare(old, new).to_json()
    first = data["changelog"][0]
    assert set(first) == {"item", "verdict", "evidence"}
    assert set(first["evidence"][0]) == {"to_index", "hunk"}


@pytest.mark.parametrize(
    ("item", "identifiers", "areas"),
    [
        ("Pass FOLL_GET on 32-bit x86 or !tdp_enabled.", ["FOLL_GET", "tdp_enabled"], ["x86"]),
        ("Refactor, add kvm_follow_refcounted_pfn helper.", ["kvm_follow_refcounted_pfn"], []),
        ("Call `put_page` once and drop gfn_to_pfn() users", ["put_page", "gfn_to_pfn"], []),
        ("Replace __gfn_to_pfn_memslot everywhere", ["__gfn_to_pfn_memslot"], []),
        ("Initialize fault->page on early return", ["fault->page"], []),
        ("Mark the arm64 and PPC faults", [], ["arm64", "powerpc"]),
    ],
)
def test_items_name_identifiers_and_areas(item, identifiers, areas):
    claim = parse_item(item)
    assert claim.identifiers == identifiers
    assert claim.areas == areas


def test_item_shapes_rename_rebase_move_and_vague():
    assert parse_item("rename gfn_to_pfn_page to gfn_to_pfn_noref").rename == (
        "gfn_to_pfn_page",
        "gfn_to_pfn_noref",
    )
    assert parse_item("rebase on kvm next branch.").rebase
    move = parse_item("Set access bits before releasing mmu_lock.").move
    assert move == (["access"], ["mmu_lock"], "release", "before")
    assert not parse_item("Add comments and apply formatting suggestions.").checkable


def test_cli_diff_prints_verdicts_without_colour_off_a_terminal(versions, capsys):
    mail, _, _ = versions
    assert main(["diff", str(mail)]) == 0
    out = capsys.readouterr().out
    assert "\033[" not in out
    assert "v1 -> v2" in out
    assert "not-found  Mark the arm64 faults as guarded by the mmu notifier." in out


def test_cli_diff_json_lists_one_comparison_per_pair(versions, capsys):
    import json

    mail, _, _ = versions
    assert main(["diff", str(mail), "--json", "--from", "v1", "--to", "v2"]) == 0
    data = json.loads(capsys.readouterr().out)["comparisons"]
    assert [(c["from"]["label"], c["to"]["label"]) for c in data] == [("v1", "v2")]
    assert {"pairs", "added", "dropped", "changelog", "undocumented"} <= set(data[0])


def test_cli_diff_unknown_version_is_a_usage_error(versions, capsys):
    mail, _, _ = versions
    assert main(["diff", str(mail), "--from", "v5"]) == 2
    assert "no version v5" in capsys.readouterr().err


def test_every_exported_name_is_its_modules_object() -> None:
    """The package loads its modules on first use; each name must still be the real one."""
    import importlib

    import reviewtool.analyses.changelog_check as package

    assert sorted(package.__all__) == sorted(package._HOMES)
    for name in package.__all__:
        home = importlib.import_module(package._HOMES[name])
        assert getattr(package, name) is getattr(home, name)
