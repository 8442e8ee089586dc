// path: arch/x86/kvm/mmu/mmu.c
/*
 * Seeded mutations of the legacy x86 fault path: a deleted release, a double release on the
 * retry path, and a mapping installed before the notifier retry check.
 */

static int kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
			   unsigned int access)
{
	fault->mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	smp_rmb();

	fault->pfn = __gfn_to_pfn_memslot(fault->slot, fault->gfn, false, true, NULL,
					  fault->write, &fault->map_writable,
					  &fault->hva);
	if (unlikely(is_error_pfn(fault->pfn)))
		return kvm_handle_error_pfn(vcpu, fault);

	return RET_PF_CONTINUE;
}

/* Mutation: the release at out_unlock was deleted. */
static int direct_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		// ok: leak
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault))
		goto out_unlock;

	r = direct_map(vcpu, fault);

out_unlock:
	write_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: leak
	return r;
}

/* Mutation: the stale path releases, then falls into out_unlock which releases again. */
static int kvm_tdp_mmu_page_fault(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	read_lock(&vcpu->kvm->mmu_lock);

	if (is_page_fault_stale(vcpu, fault)) {
		kvm_release_pfn_clean(fault->pfn);
		goto out_unlock;
	}

	r = kvm_tdp_mmu_map(vcpu, fault);

out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	// ruleid: double-release
	kvm_release_pfn_clean(fault->pfn);
	return r;
}

/* Mutation: the mapping is built before the staleness check. */
static int FNAME(page_fault)(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct guest_walker walker;
	int r;

	r = kvm_faultin_pfn(vcpu, fault, walker.pte_access);
	if (r != RET_PF_CONTINUE)
		return r;

	r = RET_PF_RETRY;
	write_lock(&vcpu->kvm->mmu_lock);

	// ruleid: install-before-retry-check
	r = FNAME(fetch)(vcpu, fault, &walker);
	if (is_page_fault_stale(vcpu, fault))
		r = RET_PF_RETRY;

	write_unlock(&vcpu->kvm->mmu_lock);
	kvm_release_pfn_clean(fault->pfn);
	// ok: leak
	return r;
}

/* Mutation: the retry check runs after mmu_lock was dropped. */
static int kvm_arch_async_page_ready_example(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	int r;

	r = kvm_faultin_pfn(vcpu, fault, ACC_ALL);
	if (r != RET_PF_CONTINUE)
		return r;

	write_lock(&vcpu->kvm->mmu_lock);
	write_unlock(&vcpu->kvm->mmu_lock);
	if (is_page_fault_stale(vcpu, fault)) {
		r = RET_PF_RETRY;
		goto out;
	}
	// ruleid: install-before-retry-check
	r = direct_map(vcpu, fault);
out:
	kvm_release_pfn_clean(fault->pfn);
	return r;
}
