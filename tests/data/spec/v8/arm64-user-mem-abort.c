// path: arch/arm64/kvm/mmu.c
/*
 * v8 6/8 style: arm64 user_mem_abort() on __kvm_follow_pfn(). Stage-2 tables cannot record
 * "refcounted", so FOLL_GET is always passed and the reference dropped on every path.
 */

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			  struct kvm_memory_slot *memslot, unsigned long hva,
			  unsigned long fault_status)
{
	int ret = 0;
	bool write_fault, writable;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_pgtable *pgt;
	kvm_pfn_t pfn;
	enum kvm_pgtable_prot prot = KVM_PGTABLE_PROT_R;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.flags = FOLL_GET | FOLL_HWPOISON,
	};

	write_fault = kvm_is_write_fault(vcpu);
	foll.gfn = fault_ipa >> PAGE_SHIFT;
	if (write_fault)
		foll.flags |= FOLL_WRITE;

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	mmap_read_unlock(current->mm);

	// ok: get-required, no-get-unguarded
	pfn = __kvm_follow_pfn(&foll);
	if (pfn == KVM_PFN_ERR_HWPOISON) {
		kvm_send_hwpoison_signal(hva, vma_shift);
		return 0;
	}
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	writable = foll.writable;

	read_lock(&kvm->mmu_lock);
	pgt = vcpu->arch.hw_mmu->pgt;
	if (mmu_invalidate_retry(kvm, mmu_seq))
		goto out_unlock;

	if (writable)
		prot |= KVM_PGTABLE_PROT_W;

	ret = kvm_pgtable_stage2_map(pgt, fault_ipa, vma_pagesize, __pfn_to_phys(pfn),
				     prot, memcache, KVM_PGTABLE_WALK_SHARED);
	if (writable && !ret) {
		// ok: mark-not-refcounted
		kvm_set_pfn_dirty(pfn);
		mark_page_dirty_in_slot(kvm, memslot, foll.gfn);
	}

out_unlock:
	read_unlock(&kvm->mmu_lock);
	kvm_release_pfn_clean(pfn);
	// ok: leak
	return ret != -EAGAIN ? ret : 0;
}

/* Mutation: FOLL_GET dropped on arm64, and the release with it. */
static int user_mem_abort_noget(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				struct kvm_memory_slot *memslot)
{
	int ret = 0;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_WRITE,
		.guarded_by_mmu_notifier = true,
	};

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	// ruleid: get-required
	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	read_lock(&kvm->mmu_lock);
	if (!mmu_invalidate_retry(kvm, mmu_seq))
		ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
					     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
					     NULL, KVM_PGTABLE_WALK_SHARED);
	read_unlock(&kvm->mmu_lock);
	return ret;
}

/* Mutation: the release became a mark-dirty (the reference is never dropped). */
static int user_mem_abort_markdirty(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				    struct kvm_memory_slot *memslot)
{
	int ret = 0;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	read_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
				     NULL, KVM_PGTABLE_WALK_SHARED);
out_unlock:
	read_unlock(&kvm->mmu_lock);
	if (foll.is_refcounted_page)
		kvm_set_pfn_dirty(pfn);
	// ruleid: leak
	return ret;
}

/* Mutation: the release moved before the retry check, then the retry path releases again. */
static int user_mem_abort_retry(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				struct kvm_memory_slot *memslot)
{
	int ret = 0;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	read_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		read_unlock(&kvm->mmu_lock);
		kvm_release_pfn_clean(pfn);
		ret = -EAGAIN;
		goto out;
	}
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
				     NULL, KVM_PGTABLE_WALK_SHARED);
	read_unlock(&kvm->mmu_lock);
out:
	// ruleid: double-release
	kvm_release_pfn_clean(pfn);
	return ret;
}
