"""The bundled example: v7 -> v8 changelog items get the verdicts a careful reader gives.

examples/README.md says which item the code does not bear out ("Mark the arm64 and PPC
faults as guarded by the mmu notifier": 6/8 and 7/8 only gained trailers) and where every
other item shows in the code.
"""

from __future__ import annotations

import pytest
from conftest import EXAMPLE

from reviewtool.analyses.changelog_check import CONFIRMED, NOT_FOUND, VAGUE, compare
from reviewtool.analyses.rangediff import (
    STATUS_CODE_CHANGED,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
)
from reviewtool.ingest import load

MBOX = EXAMPLE / "mbox"


@pytest.fixture(scope="module")
def v7_v8():
    if not (MBOX / "v7.mbox").exists() or not (MBOX / "v8.mbox").exists():
        pytest.skip("the bundled example's mbox files are not built")
    collection = load([str(MBOX / "v7.mbox"), str(MBOX / "v8.mbox")])
    series = next(s for s in collection.series if s.revision("v7") and s.revision("v8"))
    return compare(series.revision("v7"), series.revision("v8"))


def _verdict(comparison, start: str):
    return next(v for v in comparison.changelog if v.item.startswith(start))


def test_every_v8_patch_pairs_with_its_v7_self(v7_v8):
    assert [(p.from_index, p.to_index) for p in v7_v8.pairs] == [(k, k) for k in range(1, 9)]
    assert not v7_v8.added and not v7_v8.dropped
    status = {p.to_index: p.status for p in v7_v8.pairs}
    assert status[1] == STATUS_IDENTICAL
    assert {status[k] for k in (3, 4, 5)} == {STATUS_CODE_CHANGED}
    # arm64 and PPC only gained trailers.
    assert status[6] == status[7] == STATUS_MESSAGE_ONLY


def test_mmu_subjects_are_reported_as_subject_changes(v7_v8):
    changed = sorted(p.to_index for p in v7_v8.pairs if p.subject_changed)
    assert changed == [2, 3, 8]
    assert all(": mmu: " in p.title_to for p in v7_v8.pairs if p.subject_changed)


def test_access_bits_move_is_confirmed_on_the_x86_exits(v7_v8):
    verdict = _verdict(v7_v8, "Mark the page accessed before mmu_lock")
    assert verdict.verdict == CONFIRMED
    files = {v7_v8.hunks_of(e.to_index)[e.hunk].file for e in verdict.evidence}
    assert files == {"arch/x86/kvm/mmu/mmu.c", "arch/x86/kvm/mmu/paging_tmpl.h"}


def test_foll_get_on_32bit_and_helper_items_point_at_their_patches(v7_v8):
    foll_get = _verdict(v7_v8, "Keep passing FOLL_GET")
    assert foll_get.verdict == CONFIRMED
    assert {e.to_index for e in foll_get.evidence} == {5}
    helper = _verdict(v7_v8, "Factor the FOLL_GET handling")
    assert helper.verdict == CONFIRMED
    assert {e.to_index for e in helper.evidence} == {3}


def test_huge_page_refcounted_bit_is_confirmed_in_make_spte(v7_v8):
    verdict = _verdict(v7_v8, "Set the refcounted bit on huge page")
    assert verdict.verdict == CONFIRMED
    hunks = [v7_v8.hunks_of(e.to_index)[e.hunk] for e in verdict.evidence]
    assert any("make_spte" in hunk.function for hunk in hunks)


def test_the_false_arm64_and_ppc_claim_is_not_found(v7_v8):
    verdict = _verdict(v7_v8, "Mark the arm64 and PPC faults")
    assert verdict.verdict == NOT_FOUND
    assert verdict.evidence == []
    others = [v for v in v7_v8.changelog if v is not verdict]
    assert NOT_FOUND not in {v.verdict for v in others}


def test_comments_item_is_vague_and_rebase_is_confirmed(v7_v8):
    assert _verdict(v7_v8, "Add comments").verdict == VAGUE
    assert _verdict(v7_v8, "Rebase on kvm/next").verdict == CONFIRMED


def test_undocumented_foll_interruptible_fix_in_4_8_is_listed(v7_v8):
    entries = {e.to_index: e.summary for e in v7_v8.undocumented}
    assert 4 in entries and "arch/x86/kvm/mmu/mmu.c" in entries[4]
    assert 5 not in entries  # every change in 5/8 is in the changelog
