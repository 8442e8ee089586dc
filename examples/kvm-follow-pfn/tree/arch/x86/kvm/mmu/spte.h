/* SPDX-License-Identifier: GPL-2.0-only */

#ifndef KVM_X86_MMU_SPTE_H
#define KVM_X86_MMU_SPTE_H

#include "mmu_internal.h"

/*
 * Set in SPTEs that map memory, whether or not the hardware sees them as
 * present; MMIO SPTEs don't have it.
 */
#define SPTE_MMU_PRESENT_MASK		BIT_ULL(11)

/* Where TDP SPTEs keep their accessed/dirty tracking mode. */
#define SPTE_TDP_AD_SHIFT		52
#define SPTE_TDP_AD_MASK		(3ULL << SPTE_TDP_AD_SHIFT)

#define SPTE_BASE_ADDR_MASK		(((1ULL << 52) - 1) & ~(u64)(PAGE_SIZE-1))

#define ACC_EXEC_MASK    1
#define ACC_WRITE_MASK   PT_WRITABLE_MASK
#define ACC_USER_MASK    PT_USER_MASK
#define ACC_ALL          (ACC_EXEC_MASK | ACC_WRITE_MASK | ACC_USER_MASK)

extern u64 shadow_host_writable_mask;
extern u64 shadow_mmu_writable_mask;
extern u64 shadow_accessed_mask;
extern u64 shadow_dirty_mask;
extern u64 shadow_present_mask;

static inline bool is_shadow_present_pte(u64 pte)
{
	return !!(pte & SPTE_MMU_PRESENT_MASK);
}

static inline bool is_large_pte(u64 pte)
{
	return pte & PT_PAGE_SIZE_MASK;
}

static inline bool is_last_spte(u64 pte, int level)
{
	return (level == PG_LEVEL_4K) || is_large_pte(pte);
}

static inline bool is_accessed_spte(u64 spte)
{
	return spte & shadow_accessed_mask;
}

static inline bool is_dirty_spte(u64 spte)
{
	return spte & shadow_dirty_mask;
}

static inline kvm_pfn_t spte_to_pfn(u64 pte)
{
	return (pte & SPTE_BASE_ADDR_MASK) >> PAGE_SHIFT;
}

bool make_spte(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp,
	       const struct kvm_memory_slot *slot,
	       unsigned int pte_access, gfn_t gfn, kvm_pfn_t pfn,
	       u64 old_spte, bool prefetch, bool can_unsync,
	       bool host_writable, u64 *new_spte);

#endif
