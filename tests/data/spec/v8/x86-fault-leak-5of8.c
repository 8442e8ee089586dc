// path: arch/x86/kvm/mmu/mmu.c
/*
 * v8-style x86 fault path, seeded as in v8 5/8: FOLL_GET is still passed where the SPTE cannot record
 * a refcounted page (32-bit or shadow paging), but the releases were removed from the exit
 * paths, so those configurations leak.
 */

static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = fault->write ? FOLL_WRITE : 0,
		.try_map_writable = true,
		.guarded_by_mmu_notifier = true,
		.allow_non_refcounted_struct_page = shadow_refcounted_mask,
	};

	/* The SPTE can only record "refcounted" with 64-bit TDP paging. */
	// ok: get-required
	foll.flags |= (tdp_enabled && IS_ENABLED(CONFIG_X86_64)) ? 0 : FOLL_GET;

	fault->pfn = __kvm_follow_pfn(&foll);
	fault->is_refcounted_page = foll.is_refcounted_page;
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

static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = make_mmu_pages_available(vcpu);
	if (r)
		goto out_unlock;

	r = direct_map(vcpu, fault);

out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: leak
	return r;
}

static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = kvm_tdp_mmu_map(vcpu, fault);

out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	/* Look-alike: the TDP MMU only runs with 64-bit TDP, where FOLL_GET is never passed. */
	// ok: leak
	return r;
}

static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	r = kvm_faultin_pfn(vcpu, fault, walker.pte_access);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = make_mmu_pages_available(vcpu);
	if (r)
		goto out_unlock;
	r = FNAME(fetch)(vcpu, fault, &walker);

out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: leak
	return r;
}
