// SPDX-License-Identifier: GPL-2.0-only
#include <linux/kvm_host.h>

// expect-function: gfn_to_pfn_memslot
kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	// expect-call: __gfn_to_pfn_memslot 8
	return __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, true,
				    NULL, NULL);
}

// expect-function: user_mem_abort
static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa)
{
	int ret = 0;

	/* A macro that expands to a case label list no grammar can guess. */
	switch (vma_shift) {
	// expect-error
	KVM_PGTABLE_CASES(PUD_SHIFT) : ] :
		break;
	}
	// expect-call: __gfn_to_pfn_memslot 8
	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   write_fault, &writable, NULL);
	return ret;
}

// expect-function: gfn_to_pfn_memslot_atomic
kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	// expect-call: __gfn_to_pfn_memslot 8
	return __gfn_to_pfn_memslot(slot, gfn, true, false, NULL, true,
				    NULL, NULL);
}
