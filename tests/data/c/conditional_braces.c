// SPDX-License-Identifier: GPL-2.0-only
/* Conditionals that split argument lists and braces, nested, written for the cparse tests. */
#include <linux/kvm_host.h>

// expect-function: kvmppc_map_one
static int kvmppc_map_one(struct kvm *kvm, unsigned long gpa)
{
	int ret;

	// expect-call: kvmppc_create_pte 4
	ret = kvmppc_create_pte(kvm, gpa,
#ifdef CONFIG_PPC_64K_PAGES
				PAGE_SHIFT_64K,
#else
				PAGE_SHIFT,
#endif
				0);
#ifdef CONFIG_KVM_BOOK3S_HV
	if (kvm_is_radix(kvm)) {
# ifdef CONFIG_PPC_RADIX_MMU
		if (radix_enabled()) {
# else
		if (early_radix_enabled()) {
# endif
			// expect-call: kvmppc_radix_flush 2
			kvmppc_radix_flush(kvm, gpa);
		}
#endif
#ifdef CONFIG_KVM_BOOK3S_HV
	}
#endif
	hlist_for_each_entry_rcu(sp, head, hash_link)
		// expect-call: kvmppc_unmap_one 1
		kvmppc_unmap_one(sp);
	return ret;
}

// expect-function: kvmppc_after
void kvmppc_after(void)
{
	// expect-call: kvmppc_flush_all 0
	kvmppc_flush_all();
}
