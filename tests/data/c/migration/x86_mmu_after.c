// SPDX-License-Identifier: GPL-2.0-only
/*
 * A cut-down x86 MMU fault path before the migration, written for the reviewtool tests.
 * The static __kvm_faultin_pfn below is x86's own; it is not the generic API of that name.
 */
#include <linux/kvm_host.h>
#include "mmu_internal.h"

static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_memory_slot *slot = fault->slot;
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = fault->gfn,
		.flags = FOLL_GET | (fault->write ? FOLL_WRITE : 0),
		.try_map_writable = true,
		.guarded_by_mmu_notifier = true,
	};

	if (!kvm_is_visible_memslot(slot)) {
		fault->slot = NULL;
		fault->pfn = KVM_PFN_NOSLOT;
		fault->map_writable = false;
		return RET_PF_CONTINUE;
	}

	foll.flags |= FOLL_NOWAIT;
	fault->pfn = __kvm_follow_pfn(&foll);
	if (fault->pfn != KVM_PFN_ERR_NEEDS_IO)
		goto success;

	if (!fault->prefetch && kvm_can_do_async_pf(vcpu)) {
		trace_kvm_try_async_get_page(fault->addr, fault->gfn);
		if (kvm_find_async_pf_gfn(vcpu, fault->gfn)) {
			kvm_make_request(KVM_REQ_APF_HALT, vcpu);
			return RET_PF_RETRY;
		} else if (kvm_arch_setup_async_pf(vcpu, fault->addr, fault->gfn)) {
			return RET_PF_RETRY;
		}
	}

	/*
	 * Wait for the page: __gfn_to_pfn_memslot may sleep here, unlike the first
	 * attempt above.
	 */
	foll.flags |= FOLL_INTERRUPTIBLE;
	foll.flags &= ~FOLL_NOWAIT;
	fault->pfn = __kvm_follow_pfn(&foll);
success:
	fault->hva = foll.hva;
	fault->map_writable = foll.writable;
	return RET_PF_CONTINUE;
}

static int kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			   unsigned int access)
{
	int ret;

	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	smp_rmb();

	ret = __kvm_faultin_pfn(vcpu, fault);
	if (ret != RET_PF_CONTINUE)
		return ret;

	if (unlikely(is_error_pfn(fault->pfn)))
		return kvm_handle_error_pfn(vcpu, fault);

	return RET_PF_CONTINUE;
}
