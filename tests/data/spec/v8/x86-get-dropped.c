// path: arch/x86/kvm/mmu/mmu.c
/*
 * Mutations that drop FOLL_GET where the SPTE cannot record a refcounted page: only the TDP
 * check is kept (32-bit TDP loses the reference), or FOLL_GET is dropped everywhere.
 */

static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = FOLL_WRITE,
		.guarded_by_mmu_notifier = true,
	};

	foll.flags |= tdp_enabled ? 0 : FOLL_GET;
	// ruleid: get-required
	fault->pfn = __kvm_follow_pfn(&foll);
	fault->is_refcounted_page = foll.is_refcounted_page;
	fault->got_reference = !!(foll.flags & FOLL_GET);
	return RET_PF_CONTINUE;
}

static int kvm_faultin_pfn_private_example(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = FOLL_WRITE,
		.guarded_by_mmu_notifier = true,
	};

	// ruleid: get-required
	fault->pfn = __kvm_follow_pfn(&foll);
	fault->is_refcounted_page = foll.is_refcounted_page;
	fault->got_reference = false;
	return RET_PF_CONTINUE;
}

static int kvm_faultin_pfn_checked(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = FOLL_WRITE,
		.guarded_by_mmu_notifier = true,
	};

	if (!tdp_enabled || !IS_ENABLED(CONFIG_X86_64))
		foll.flags |= FOLL_GET;
	// ok: get-required
	fault->pfn = __kvm_follow_pfn(&foll);
	fault->is_refcounted_page = foll.is_refcounted_page;
	fault->got_reference = !!(foll.flags & FOLL_GET);
	return RET_PF_CONTINUE;
}
