// path: arch/powerpc/kvm/book3s_64_mmu_radix.c
/*
 * 6.13 style PPC radix fault path on kvm_faultin_pfn(..., &page), and a mutation that
 * releases twice when the notifier asks for a retry.
 */

int kvmppc_book3s_instantiate_page(struct kvm_vcpu *vcpu,
				   unsigned long gpa,
				   struct kvm_memory_slot *memslot,
				   bool writing,
				   pte_t *inserted_pte, unsigned int *levelp)
{
	struct kvm *kvm = vcpu->kvm;
	struct page *page;
	unsigned long mmu_seq;
	unsigned long gfn = gpa >> PAGE_SHIFT;
	bool upgrade_write = false;
	pte_t pte;
	unsigned int level = 0;
	int ret;
	kvm_pfn_t pfn;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = kvm_faultin_pfn(vcpu, gfn, writing, &upgrade_write, &page);
	if (is_error_noslot_pfn(pfn))
		// ok: leak
		return -EFAULT;

	spin_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvmppc_create_pte(kvm, kvm->arch.pgtable, pte, gpa, level,
				mmu_seq, kvm->arch.lpid, NULL, NULL);
	if (inserted_pte)
		*inserted_pte = pte;
	if (levelp)
		*levelp = level;

out_unlock:
	// ok: double-release, release-dirty-unlocked
	kvm_release_faultin_page(kvm, page, false, !!(pte_val(pte) & _PAGE_WRITE));
	spin_unlock(&kvm->mmu_lock);
	// ok: leak
	return ret;
}

/* Mutation: the retry path releases, then falls through to the common release. */
int kvmppc_book3s_instantiate_page_retry(struct kvm_vcpu *vcpu, unsigned long gpa,
					 struct kvm_memory_slot *memslot, bool writing)
{
	struct kvm *kvm = vcpu->kvm;
	struct page *page;
	unsigned long mmu_seq;
	bool upgrade_write = false;
	pte_t pte;
	int ret = 0;
	kvm_pfn_t pfn;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = kvm_faultin_pfn(vcpu, gpa >> PAGE_SHIFT, writing, &upgrade_write, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	spin_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		kvm_release_faultin_page(kvm, page, true, false);
		ret = -EAGAIN;
		goto out_unlock;
	}
	ret = kvmppc_create_pte(kvm, kvm->arch.pgtable, pte, gpa, 0,
				mmu_seq, kvm->arch.lpid, NULL, NULL);
out_unlock:
	// ruleid: double-release
	kvm_release_faultin_page(kvm, page, false, writing);
	spin_unlock(&kvm->mmu_lock);
	return ret;
}

/* The nested path leaves page references to kvmppc_book3s_instantiate_page(). */
static long int __kvmhv_nested_page_fault(struct kvm_vcpu *vcpu,
					  struct kvm_nested_guest *gp)
{
	struct kvm_memory_slot *memslot;
	unsigned long gpa = 0;
	long int ret;
	pte_t pte;
	unsigned int level;

	memslot = gfn_to_memslot(vcpu->kvm, gpa >> PAGE_SHIFT);
	if (!memslot)
		return -EINVAL;
	ret = kvmppc_book3s_instantiate_page(vcpu, gpa, memslot, true, &pte, &level);
	if (ret == -EAGAIN)
		return RESUME_GUEST;
	else if (ret)
		return ret;
	// ok: leak
	return RESUME_GUEST;
}
