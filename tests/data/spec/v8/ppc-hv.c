// path: arch/powerpc/kvm/book3s_64_mmu_hv.c
/*
 * v8 7/8 style: the PPC HV fault path on __kvm_follow_pfn(). The struct page is used only
 * when foll.is_refcounted_page says it is refcounted.
 */

int kvmppc_book3s_hv_page_fault(struct kvm_vcpu *vcpu,
				unsigned long ea, unsigned long dsisr)
{
	struct kvm *kvm = vcpu->kvm;
	unsigned long hpte[3], r;
	unsigned long mmu_seq;
	struct kvm_memory_slot *memslot;
	struct page *page = NULL;
	long ret;
	bool writing;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.flags = FOLL_GET,
	};

	writing = (dsisr & DSISR_ISSTORE) != 0;
	foll.slot = memslot;
	foll.gfn = gpa >> PAGE_SHIFT;
	if (writing)
		foll.flags |= FOLL_WRITE;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (foll.is_refcounted_page)
		page = pfn_to_page(pfn);

	ret = RESUME_GUEST;
	arch_spin_lock(&kvm->mmu_lock.rlock.raw_lock);
	if (mmu_invalidate_retry(vcpu->kvm, mmu_seq)) {
		arch_spin_unlock(&kvm->mmu_lock.rlock.raw_lock);
		goto out_put;
	}
	kvmppc_add_revmap_chain(kvm, rev, rmap, index, 0);
	arch_spin_unlock(&kvm->mmu_lock.rlock.raw_lock);

 out_put:
	if (page) {
		if (!ret && writing)
			set_page_dirty_lock(page);
		// ok: release-without-reference
		put_page(page);
	} else {
		// ok: release-without-reference
		kvm_release_pfn_clean(pfn);
	}
	// ok: leak
	return ret;
}

/* Mutation: the struct page is taken for every pfn and put unconditionally. */
int kvmppc_book3s_hv_page_fault_any_page(struct kvm_vcpu *vcpu, unsigned long gpa,
					 struct kvm_memory_slot *memslot)
{
	struct kvm *kvm = vcpu->kvm;
	unsigned long mmu_seq;
	struct page *page;
	long ret = RESUME_GUEST;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.gfn = gpa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	mmu_seq = kvm->mmu_invalidate_seq;
	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	page = pfn_to_page(pfn);

	arch_spin_lock(&kvm->mmu_lock.rlock.raw_lock);
	if (!mmu_invalidate_retry(vcpu->kvm, mmu_seq))
		kvmppc_add_revmap_chain(kvm, rev, rmap, index, 0);
	arch_spin_unlock(&kvm->mmu_lock.rlock.raw_lock);
	// ruleid: mark-not-refcounted
	set_page_dirty_lock(page);
	// ruleid: release-without-reference
	put_page(page);
	return ret;
}
