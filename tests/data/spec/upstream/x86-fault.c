// path: arch/x86/kvm/mmu/mmu.c
/*
 * 6.13 style x86 fault path: __kvm_faultin_pfn() reports the reference through
 * fault->refcounted_page, and kvm_mmu_finish_page_fault() drops it under mmu_lock.
 */

static void kvm_mmu_finish_page_fault(struct kvm_vcpu *vcpu,
				      struct kvm_page_fault *fault, int r)
{
	kvm_release_faultin_page(vcpu->kvm, fault->refcounted_page,
				 r == RET_PF_RETRY, fault->map_writable);
}

static int __kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu,
				 struct kvm_page_fault *fault)
{
	unsigned int foll = fault->write ? FOLL_WRITE : 0;

	foll |= FOLL_NOWAIT;
	fault->pfn = __kvm_faultin_pfn(fault->slot, fault->gfn, foll,
				       &fault->map_writable, &fault->refcounted_page);
	return RET_PF_CONTINUE;
}

static int kvm_mmu_faultin_pfn(struct kvm_vcpu *vcpu,
			       struct kvm_page_fault *fault, unsigned int access)
{
	int ret;

	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	smp_rmb();

	ret = __kvm_mmu_faultin_pfn(vcpu, fault);
	if (ret != RET_PF_CONTINUE)
		return ret;

	if (unlikely(is_error_pfn(fault->pfn)))
		return kvm_handle_error_pfn(vcpu, fault);

	if (mmu_invalidate_retry_gfn_unsafe(vcpu->kvm, fault->mmu_seq, fault->gfn)) {
		// ok: release-dirty-unlocked
		kvm_mmu_finish_page_fault(vcpu, fault, RET_PF_RETRY);
		return RET_PF_RETRY;
	}
	return RET_PF_CONTINUE;
}

static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_mmu_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		// ok: leak
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
	kvm_mmu_finish_page_fault(vcpu, fault, r);
	write_unlock(&vcpu->kvm->mmu_lock);
	// ok: leak
	return r;
}

/* Mutation: the release moved below the unlock. */
static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_mmu_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = kvm_tdp_mmu_map(vcpu, fault);

out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: release-dirty-unlocked
	kvm_release_faultin_page(vcpu->kvm, fault->refcounted_page,
				 r == RET_PF_RETRY, fault->map_writable);
	return r;
}

/* Mutation: the release was deleted from the exit path. */
static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	r = kvm_mmu_faultin_pfn(vcpu, fault, walker.pte_access);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = FNAME(fetch)(vcpu, fault, &walker);

out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: leak
	return r;
}
