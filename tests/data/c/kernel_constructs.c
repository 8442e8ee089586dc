// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel idioms that trip a plain C grammar. Braces in comments { do not count.
 */
#include <linux/kvm_host.h>
#include <linux/list.h>

#define FNAME(name) paging64_##name

static bool __read_mostly allow_unsafe_mappings;
module_param(allow_unsafe_mappings, bool, 0444);

// expect-function: kvm_is_zone_device_page
static __always_inline bool kvm_is_zone_device_page(struct page *page)
{
	return unlikely(is_zone_device_page(page));
}

// expect-function: kvm_copy_to_user
static noinline int __must_check kvm_copy_to_user(void __user *to, const void *from,
						   unsigned long len)
{
	// expect-call: copy_to_user 3
	if (copy_to_user(to, from, len))
		return -EFAULT;
	return 0;
}

// expect-function: kvm_arch_init_early
int __init kvm_arch_init_early(void __iomem *base, struct kvm_vcpu __rcu **slot)
{
	struct kvm_vcpu *vcpu;
	struct kvm_memslots *slots;

	list_for_each_entry(vcpu, &vcpu_list, blocked_vcpu_list) {
		// expect-call: kvm_vcpu_kick 1
		kvm_vcpu_kick(vcpu);
	}

	for_each_set_bit(i, &mask, BITS_PER_LONG)
		// expect-call: kvm_flush_one 2
		kvm_flush_one(base, i);

	scoped_guard(mutex, &kvm_lock) {
		// expect-call: rcu_assign_pointer 2
		rcu_assign_pointer(*slot, NULL);
	}
	// expect-call: container_of 3
	vcpu = container_of(base, struct kvm_vcpu, arch);
	// expect-call: min_t 3
	return min_t(unsigned long, PAGE_SIZE, 4096);
}

// expect-function: FNAME(page_fault)
static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

#ifdef CONFIG_X86_64
	if (fault->is_tdp) {
#else
	if (fault->is_private) {
#endif
		// expect-call: kvm_mmu_unprotect 2
		kvm_mmu_unprotect(vcpu, fault->gfn);
	}

	// expect-call: FNAME(walk_addr) 3
	r = FNAME(walk_addr)(&walker, vcpu, fault->addr);
	if (unlikely(!r))
		return RET_PF_RETRY;

	// expect-call: FNAME(fetch) 3
	return FNAME(fetch)(vcpu, fault, &walker);
}

// expect-function: __kvm_faultin_pfn
static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	bool async;

	// expect-call: __gfn_to_pfn_memslot 8
	fault->pfn = __gfn_to_pfn_memslot(fault->slot, fault->gfn, false, false, &async,
					  fault->write, &fault->map_writable,
					  &fault->hva);
	if (!async)
		return RET_PF_CONTINUE;

	trace_kvm_try_async_get_page(fault->addr, fault->gfn);
	// expect-call: __gfn_to_pfn_memslot 8
	fault->pfn = __gfn_to_pfn_memslot(fault->slot, fault->gfn, false, true, NULL,
					  fault->write, &fault->map_writable,
					  &fault->hva);
	return RET_PF_CONTINUE;
}
EXPORT_SYMBOL_GPL(kvm_arch_init_early);
