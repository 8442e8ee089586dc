// path: arch/x86/kvm/mmu/mmu.c
/*
 * Accessed/dirty marking on the v8 x86 exit paths. A page followed without FOLL_GET is only
 * safe to mark while mmu_lock is held, and only when it is refcounted at all.
 */

static int kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm_follow_pfn foll = {
		.slot = fault->slot,
		.gfn = fault->gfn,
		.flags = fault->write ? FOLL_WRITE : 0,
		.guarded_by_mmu_notifier = true,
		.allow_non_refcounted_struct_page = true,
	};

	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	smp_rmb();
	if (!tdp_enabled || !IS_ENABLED(CONFIG_X86_64))
		foll.flags |= FOLL_GET;
	fault->pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(fault->pfn))
		return -EFAULT;
	fault->is_refcounted_page = foll.is_refcounted_page;
	fault->got_reference = !!(foll.flags & FOLL_GET);
	return RET_PF_CONTINUE;
}

static void kvm_mmu_finish_fault(struct kvm_page_fault *fault)
{
	if (fault->got_reference)
		kvm_release_pfn_clean(fault->pfn);
}

/* Correct: marking is gated on is_refcounted_page and done under mmu_lock. */
static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = direct_map(vcpu, fault);
	if (fault->is_refcounted_page)
		// ok: mark-not-refcounted, mark-after-unlock
		kvm_set_pfn_accessed(fault->pfn);
out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	kvm_mmu_finish_fault(fault);
	// ok: leak
	return r;
}

/* Mutation: the is_refcounted_page gate was dropped. */
static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = kvm_tdp_mmu_map(vcpu, fault);
	// ruleid: mark-not-refcounted
	kvm_set_pfn_accessed(fault->pfn);
out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	kvm_mmu_finish_fault(fault);
	return r;
}

/* Mutation: the mark moved below the unlock. */
static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	r = kvm_faultin_pfn(vcpu, fault);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;
	r = FNAME(fetch)(vcpu, fault, &walker);
out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	if (fault->is_refcounted_page)
		// ruleid: mark-after-unlock
		kvm_set_pfn_accessed(fault->pfn);
	kvm_mmu_finish_fault(fault);
	return r;
}
