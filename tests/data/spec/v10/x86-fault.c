// path: arch/x86/kvm/mmu/mmu.c
/*
 * v10 style x86 fault path: kfp.refcounted_page is non-NULL for refcounted pages, and a
 * reference is held only when FOLL_GET was passed.
 */

static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn kfp = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = fault->write ? FOLL_WRITE : 0,
		.try_map_writable = true,
		.guarded_by_mmu_notifier = true,
	};

	if (!tdp_enabled || !IS_ENABLED(CONFIG_X86_64))
		kfp.flags |= FOLL_GET;

	fault->pfn = kvm_follow_pfn(&kfp);
	fault->refcounted_page = kfp.refcounted_page;
	fault->need_put = !!(kfp.flags & FOLL_GET);
	fault->map_writable = kfp.writable;
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

/* Correct: put only what was got, mark only refcounted pages, under the lock. */
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
	r = direct_map(vcpu, fault);
	if (fault->refcounted_page)
		// ok: mark-not-refcounted, mark-after-unlock
		kvm_set_page_accessed(fault->refcounted_page);
out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	if (fault->need_put)
		// ok: release-without-reference
		kvm_release_page_clean(fault->refcounted_page);
	// ok: leak
	return r;
}

/* Mutation: the release is no longer conditional on FOLL_GET. */
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
	// ruleid: release-without-reference
	kvm_release_page_clean(fault->refcounted_page);
	return r;
}

/* Mutation: the `if (fault->refcounted_page)` guard around the mark was dropped. */
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
	r = FNAME(fetch)(vcpu, fault, &walker);
	// ruleid: mark-not-refcounted
	kvm_set_page_dirty(fault->refcounted_page);
out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	if (fault->need_put)
		kvm_release_page_clean(fault->refcounted_page);
	return r;
}
