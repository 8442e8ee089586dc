/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __KVM_X86_MMU_INTERNAL_H
#define __KVM_X86_MMU_INTERNAL_H

#include <linux/types.h>
#include <linux/kvm_host.h>
#include <asm/kvm_host.h>

/* Return values of the page fault handlers. */
enum {
	RET_PF_CONTINUE = 0,
	RET_PF_RETRY,
	RET_PF_EMULATE,
	RET_PF_INVALID,
	RET_PF_FIXED,
	RET_PF_SPURIOUS,
};

struct kvm_page_fault {
	/* As reported by hardware.  */
	const gpa_t addr;
	const u32 error_code;
	const bool prefetch;

	/* Decoded from error_code.  */
	const bool exec;
	const bool write;
	const bool present;
	const bool rsvd;
	const bool user;

	/* From the MMU's configuration.  */
	const bool is_tdp;
	const bool nx_huge_page_workaround_enabled;

	/*
	 * Set when the NX huge page workaround forbids a huge mapping.
	 */
	bool huge_page_disallowed;

	/*
	 * Largest mapping level this fault may use.
	 */
	u8 max_level;

	/*
	 * Level allowed by max_level and by the host's own mapping.
	 */
	u8 req_level;

	/*
	 * Level that will be mapped.
	 */
	u8 goal_level;

	/* The gfn, from addr or from the guest page table walk.  */
	gfn_t gfn;

	/* NULL when no memslot covers gfn. */
	struct kvm_memory_slot *slot;

	/* Filled in by kvm_faultin_pfn().  */
	unsigned long mmu_seq;
	kvm_pfn_t pfn;
	hva_t hva;
	bool map_writable;

	/*
	 * The write hits a guest page table used to translate this very
	 * access.
	 */
	bool write_fault_to_shadow_pgtable;
};

int kvm_tdp_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);
int kvm_mmu_max_mapping_level(struct kvm *kvm,
			      const struct kvm_memory_slot *slot, gfn_t gfn,
			      int max_level);
void kvm_mmu_hugepage_adjust(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault);

#endif /* __KVM_X86_MMU_INTERNAL_H */
