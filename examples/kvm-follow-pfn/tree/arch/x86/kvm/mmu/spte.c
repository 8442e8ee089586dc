// SPDX-License-Identifier: GPL-2.0-only
/*
 * Building shadow/TDP page table entries (SPTEs).
 */

#include <linux/kvm_host.h>
#include "mmu.h"
#include "mmu_internal.h"
#include "spte.h"

u64 shadow_host_writable_mask;
u64 shadow_mmu_writable_mask;
u64 shadow_accessed_mask;
u64 shadow_dirty_mask;
u64 shadow_present_mask;

bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
	       const struct kvm_memory_slot *slot,
	       unsigned int pte_access, gfn_t gfn, kvm_pfn_t pfn,
	       u64 old_spte, bool prefetch, bool can_unsync,
	       bool host_writable, u64 *new_spte)
{
	int level = sp->role.level;
	u64 spte = SPTE_MMU_PRESENT_MASK;
	bool wrprot = false;

	WARN_ON_ONCE(!pte_access && !shadow_present_mask);

	if (!prefetch)
		spte |= shadow_accessed_mask;

	if (level > PG_LEVEL_4K)
		spte |= PT_PAGE_SIZE_MASK;

	if (host_writable)
		spte |= shadow_host_writable_mask;
	else
		pte_access &= ~ACC_WRITE_MASK;

	spte |= (u64)pfn << PAGE_SHIFT;

	if (pte_access & ACC_WRITE_MASK) {
		spte |= PT_WRITABLE_MASK | shadow_mmu_writable_mask;

		/*
		 * Write-protect the page if the gfn is shadowed by the guest's
		 * own page tables; the write will be emulated.
		 */
		if (mmu_try_to_unsync_pages(vcpu->kvm, slot, gfn, can_unsync, prefetch)) {
			wrprot = true;
			pte_access &= ~ACC_WRITE_MASK;
			spte &= ~(PT_WRITABLE_MASK | shadow_mmu_writable_mask);
		}
	}

	if (pte_access & ACC_WRITE_MASK)
		spte |= shadow_dirty_mask;

	if ((spte & PT_WRITABLE_MASK) && kvm_slot_dirty_track_enabled(slot))
		mark_page_dirty_in_slot(vcpu->kvm, slot, gfn);

	*new_spte = spte;
	return wrprot;
}
