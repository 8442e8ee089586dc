// path: arch/arm64/kvm/mmu.c
/*
 * 6.13 style arm64 user_mem_abort(): the page comes back through &page and is released with
 * kvm_release_faultin_page() before kvm_fault_unlock().
 */

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			  struct kvm_s2_trans *nested,
			  struct kvm_memory_slot *memslot, unsigned long hva,
			  bool fault_is_perm)
{
	int ret = 0;
	bool write_fault, writable;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_pgtable *pgt;
	struct page *page;
	kvm_pfn_t pfn;
	gfn_t gfn;
	enum kvm_pgtable_prot prot = KVM_PGTABLE_PROT_R;

	write_fault = kvm_is_write_fault(vcpu);
	gfn = ipa >> PAGE_SHIFT;

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	mmap_read_unlock(current->mm);

	pfn = __kvm_faultin_pfn(memslot, gfn, write_fault ? FOLL_WRITE : 0,
				&writable, &page);
	if (pfn == KVM_PFN_ERR_HWPOISON) {
		kvm_send_hwpoison_signal(hva, vma_shift);
		// ok: leak
		return 0;
	}
	if (is_error_noslot_pfn(pfn))
		// ok: leak
		return -EFAULT;

	if (exec_fault && device)
		// ruleid: leak
		return -ENOEXEC;

	kvm_fault_lock(kvm);
	pgt = vcpu->arch.hw_mmu->pgt;
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}

	if (writable)
		prot |= KVM_PGTABLE_PROT_W;

	// ok: install-before-retry-check
	ret = KVM_PGT_FN(kvm_pgtable_stage2_map)(pgt, fault_ipa, vma_pagesize,
						 __pfn_to_phys(pfn), prot,
						 memcache, flags);

out_unlock:
	// ok: release-dirty-unlocked, double-release
	kvm_release_faultin_page(kvm, page, !!ret, writable);
	kvm_fault_unlock(kvm);

	if (writable && !ret)
		mark_page_dirty_in_slot(kvm, memslot, gfn);

	// ok: leak
	return ret != -EAGAIN ? ret : 0;
}

/* Mutation (as in the v12 arm64 patch): a dirty mark where the dirty release belongs. */
static int user_mem_abort_v12(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			      struct kvm_memory_slot *memslot)
{
	int ret = 0;
	bool writable;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	struct page *page;
	kvm_pfn_t pfn;

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	pfn = __kvm_faultin_pfn(memslot, fault_ipa >> PAGE_SHIFT, FOLL_WRITE,
				&writable, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	kvm_fault_lock(kvm);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
				     NULL, 0);
out_unlock:
	if (page && writable)
		kvm_set_page_dirty(page);
	kvm_fault_unlock(kvm);
	// ruleid: leak
	return ret != -EAGAIN ? ret : 0;
}

/* Mutation: the hwpoison path drops a page that is NULL for error pfns. */
static int user_mem_abort_hwpoison(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				   struct kvm_memory_slot *memslot, unsigned long hva)
{
	bool writable;
	struct kvm *kvm = vcpu->kvm;
	struct page *page;
	kvm_pfn_t pfn;
	int ret = 0;

	pfn = __kvm_faultin_pfn(memslot, fault_ipa >> PAGE_SHIFT, 0, &writable, &page);
	if (pfn == KVM_PFN_ERR_HWPOISON) {
		kvm_send_hwpoison_signal(hva, PAGE_SHIFT);
		// ruleid: release-without-reference
		put_page(page);
		return 0;
	}
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	kvm_fault_lock(kvm);
	kvm_release_faultin_page(kvm, page, true, false);
	kvm_fault_unlock(kvm);
	return ret;
}

/* Mutation: installs without taking the notifier retry check at all. */
static int user_mem_abort_nocheck(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				  struct kvm_memory_slot *memslot)
{
	bool writable;
	struct kvm *kvm = vcpu->kvm;
	struct page *page;
	kvm_pfn_t pfn;
	int ret;

	pfn = __kvm_faultin_pfn(memslot, fault_ipa >> PAGE_SHIFT, FOLL_WRITE, &writable, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	kvm_fault_lock(kvm);
	// ruleid: install-before-retry-check
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW, NULL, 0);
	kvm_release_faultin_page(kvm, page, !!ret, writable);
	kvm_fault_unlock(kvm);
	return ret;
}
