// path: arch/arm64/kvm/mmu.c
/*
 * arm64 user_mem_abort() before the series, and mutations of it. The reference taken by
 * __gfn_to_pfn_memslot() is dropped after mmu_lock; pages are marked dirty under the lock.
 */

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			  struct kvm_memory_slot *memslot, unsigned long hva,
			  unsigned long fault_status)
{
	int ret = 0;
	bool write_fault, writable, force_pte = false;
	bool exec_fault;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_pgtable *pgt;
	gfn_t gfn;
	kvm_pfn_t pfn;
	bool logging_active = memslot_is_logging(memslot);
	enum kvm_pgtable_prot prot = KVM_PGTABLE_PROT_R;

	write_fault = kvm_is_write_fault(vcpu);
	exec_fault = kvm_vcpu_trap_is_exec_fault(vcpu);

	ret = kvm_mmu_topup_memory_cache(memcache, kvm_mmu_cache_min_pages(kvm));
	if (ret)
		return ret;

	mmap_read_lock(current->mm);
	gfn = fault_ipa >> PAGE_SHIFT;
	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	mmap_read_unlock(current->mm);

	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   write_fault, &writable, NULL);
	if (pfn == KVM_PFN_ERR_HWPOISON) {
		kvm_send_hwpoison_signal(hva, vma_shift);
		// ok: leak
		return 0;
	}
	if (is_error_noslot_pfn(pfn))
		// ok: leak
		return -EFAULT;

	if (kvm_is_device_pfn(pfn)) {
		device = true;
	} else if (logging_active && !write_fault) {
		writable = false;
	}

	/* Seeded: this early exit forgets the reference. */
	if (exec_fault && device)
		// ruleid: leak
		return -ENOEXEC;

	read_lock(&kvm->mmu_lock);
	pgt = vcpu->arch.hw_mmu->pgt;
	if (mmu_invalidate_retry(kvm, mmu_seq))
		goto out_unlock;

	if (writable)
		prot |= KVM_PGTABLE_PROT_W;

	ret = kvm_pgtable_stage2_map(pgt, fault_ipa, vma_pagesize,
				     __pfn_to_phys(pfn), prot,
				     memcache, KVM_PGTABLE_WALK_HANDLE_FAULT |
					       KVM_PGTABLE_WALK_SHARED);

	if (writable && !ret) {
		kvm_set_pfn_dirty(pfn);
		mark_page_dirty_in_slot(kvm, memslot, gfn);
	}

out_unlock:
	read_unlock(&kvm->mmu_lock);
	kvm_set_pfn_accessed(pfn);
	kvm_release_pfn_clean(pfn);
	return ret != -EAGAIN ? ret : 0;
}
