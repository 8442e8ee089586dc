// path: arch/arm64/kvm/mmu.c
/*
 * v10 style arm64 user_mem_abort() with FOLL_GET, and a mutation that moves the dirty
 * release below the unlock.
 */

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			  struct kvm_memory_slot *memslot, unsigned long hva)
{
	int ret = 0;
	bool writable;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn kfp = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
		.try_map_writable = true,
	};

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	mmap_read_unlock(current->mm);

	// ok: get-required
	pfn = kvm_follow_pfn(&kfp);
	if (is_error_noslot_pfn(pfn))
		// ok: leak
		return -EFAULT;
	writable = kfp.writable;

	read_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
				     NULL, KVM_PGTABLE_WALK_SHARED);
	if (writable && !ret)
		// ok: release-dirty-unlocked
		kvm_release_pfn_dirty(pfn);
	else
		kvm_release_pfn_clean(pfn);
	read_unlock(&kvm->mmu_lock);
	// ok: leak
	return ret;

out_unlock:
	read_unlock(&kvm->mmu_lock);
	kvm_release_pfn_clean(pfn);
	return ret;
}

/* Mutation: the dirty release moved across the unlock. */
static int user_mem_abort_late_dirty(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
				     struct kvm_memory_slot *memslot)
{
	int ret = 0;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn kfp = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	pfn = kvm_follow_pfn(&kfp);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	read_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		read_unlock(&kvm->mmu_lock);
		kvm_release_pfn_clean(pfn);
		return -EAGAIN;
	}
	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
				     NULL, KVM_PGTABLE_WALK_SHARED);
	read_unlock(&kvm->mmu_lock);
	// ruleid: release-dirty-unlocked
	kvm_release_pfn_dirty(pfn);
	return ret;
}

/* Mutation: the snapshot of mmu_invalidate_seq is read after the fault-in. */
static int user_mem_abort_late_snapshot(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
					struct kvm_memory_slot *memslot)
{
	int ret = 0;
	unsigned long mmu_seq;
	struct kvm *kvm = vcpu->kvm;
	kvm_pfn_t pfn;
	struct kvm_follow_pfn kfp = {
		.slot = memslot,
		.gfn = fault_ipa >> PAGE_SHIFT,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	pfn = kvm_follow_pfn(&kfp);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	mmu_seq = vcpu->kvm->mmu_invalidate_seq;

	read_lock(&kvm->mmu_lock);
	ret = -EAGAIN;
	if (!mmu_invalidate_retry(kvm, mmu_seq))
		// ruleid: install-before-retry-check
		ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
					     __pfn_to_phys(pfn), KVM_PGTABLE_PROT_RW,
					     NULL, KVM_PGTABLE_WALK_SHARED);
	read_unlock(&kvm->mmu_lock);
	kvm_release_pfn_clean(pfn);
	return ret;
}
