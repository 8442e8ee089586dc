// SPDX-License-Identifier: GPL-2.0-only
/*
 * A cut-down generic KVM memory file after the follow_pfn migration: the three callers
 * of the old API now build a struct kvm_follow_pfn, written for the reviewtool tests.
 */
#include <linux/kvm_host.h>
#include <linux/mm.h>

static bool hva_to_pfn_fast(unsigned long addr, bool write_fault, bool *writable,
			    kvm_pfn_t *pfn)
{
	struct page *page[1];

	if (!(write_fault || writable))
		return false;

	if (get_user_page_fast_only(addr, FOLL_WRITE, page)) {
		*pfn = page_to_pfn(page[0]);
		if (writable)
			*writable = true;
		return true;
	}

	return false;
}

kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll)
{
	foll->hva = __gfn_to_hva_many(foll->slot, foll->gfn, NULL,
				      foll->flags & FOLL_WRITE);

	if (foll->hva == KVM_HVA_ERR_RO_BAD)
		return KVM_PFN_ERR_RO_FAULT;

	if (kvm_is_error_hva(foll->hva))
		return KVM_PFN_NOSLOT;

	/* Do not map writable pfn in the readonly memslot. */
	if (memslot_is_readonly(foll->slot))
		foll->try_map_writable = false;

	return hva_to_pfn(foll);
}
EXPORT_SYMBOL_GPL(__kvm_follow_pfn);

kvm_pfn_t gfn_to_pfn_prot(struct kvm *kvm, gfn_t gfn, bool write_fault,
		      bool *writable)
{
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = gfn_to_memslot(kvm, gfn),
		.gfn = gfn,
		.flags = FOLL_GET | (write_fault ? FOLL_WRITE : 0),
		.try_map_writable = !!writable,
	};

	kvm_debug_trace_lookup(kvm, gfn);
	pfn = __kvm_follow_pfn(&foll);
	if (writable)
		*writable = foll.writable;
	return pfn;
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_prot);

kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	kvm_debug_trace_slot(slot, gfn);
	return __kvm_follow_pfn(&foll);
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_memslot);

kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
		.atomic = true,
	};

	kvm_debug_trace_slot(slot, gfn);
	return __kvm_follow_pfn(&foll);
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_memslot_atomic);
