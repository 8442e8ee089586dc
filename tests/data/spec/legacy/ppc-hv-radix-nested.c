// path: arch/powerpc/kvm/book3s_64_mmu_radix.c
/*
 * PPC radix and nested fault paths before the series. The struct page is looked up only for
 * pfns that have one, and put_page() is guarded by `if (page)`.
 */

int kvmppc_book3s_instantiate_page(struct kvm_vcpu *vcpu,
				   unsigned long gpa,
				   struct kvm_memory_slot *memslot,
				   bool writing, bool kvm_ro,
				   pte_t *inserted_pte, unsigned int *levelp)
{
	struct kvm *kvm = vcpu->kvm;
	struct page *page = NULL;
	unsigned long mmu_seq;
	unsigned long hva, gfn = gpa >> PAGE_SHIFT;
	bool upgrade_write = false;
	bool *upgrade_p = &upgrade_write;
	pte_t pte, *ptep;
	unsigned int shift, level;
	int ret;
	kvm_pfn_t pfn;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	hva = gfn_to_hva_memslot(memslot, gfn);
	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   writing, upgrade_p, NULL);
	if (is_error_noslot_pfn(pfn))
		// ok: leak
		return -EFAULT;
	page = NULL;
	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		if (PageReserved(page))
			page = NULL;
	}

	spin_lock(&kvm->mmu_lock);
	if (mmu_invalidate_retry(kvm, mmu_seq)) {
		ret = -EAGAIN;
		goto out_unlock;
	}

	pte = __pte(pte_val(pte) | _PAGE_EXEC | _PAGE_ACCESSED);
	// ok: install-before-retry-check
	ret = kvmppc_create_pte(kvm, kvm->arch.pgtable, pte, gpa, level,
				mmu_seq, kvm->arch.lpid, NULL, NULL);
	if (inserted_pte)
		*inserted_pte = pte;
	if (levelp)
		*levelp = level;

out_unlock:
	spin_unlock(&kvm->mmu_lock);
	if (page) {
		if (!ret && (pte_val(pte) & _PAGE_WRITE))
			set_page_dirty_lock(page);
		// ok: release-without-reference
		put_page(page);
	}
	// ok: leak
	return ret;
}

/* Mutation: the `if (page)` guard around put_page() was dropped. */
int kvmppc_book3s_instantiate_page_unguarded(struct kvm_vcpu *vcpu, unsigned long gpa,
					     struct kvm_memory_slot *memslot, bool writing)
{
	struct kvm *kvm = vcpu->kvm;
	struct page *page = NULL;
	unsigned long mmu_seq;
	unsigned long gfn = gpa >> PAGE_SHIFT;
	bool upgrade_write = false;
	pte_t pte;
	int ret;
	kvm_pfn_t pfn;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   writing, &upgrade_write, NULL);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		if (PageReserved(page))
			page = NULL;
	}

	spin_lock(&kvm->mmu_lock);
	ret = -EAGAIN;
	if (!mmu_invalidate_retry(kvm, mmu_seq))
		ret = kvmppc_create_pte(kvm, kvm->arch.pgtable, pte, gpa, 0,
					mmu_seq, kvm->arch.lpid, NULL, NULL);
	spin_unlock(&kvm->mmu_lock);
	// ruleid: release-without-reference
	put_page(page);
	return ret;
}

/* Mutation: an extra get_page() that nobody drops. */
int kvmppc_book3s_instantiate_page_extra_get(struct kvm_vcpu *vcpu, unsigned long gpa,
					     struct kvm_memory_slot *memslot, bool writing)
{
	struct kvm *kvm = vcpu->kvm;
	struct page *page = NULL;
	unsigned long mmu_seq;
	unsigned long gfn = gpa >> PAGE_SHIFT;
	bool upgrade_write = false;
	pte_t pte;
	int ret;
	kvm_pfn_t pfn;

	mmu_seq = kvm->mmu_invalidate_seq;
	smp_rmb();

	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   writing, &upgrade_write, NULL);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		get_page(page);
	}

	spin_lock(&kvm->mmu_lock);
	ret = -EAGAIN;
	if (!mmu_invalidate_retry(kvm, mmu_seq))
		ret = kvmppc_create_pte(kvm, kvm->arch.pgtable, pte, gpa, 0,
					mmu_seq, kvm->arch.lpid, NULL, NULL);
	spin_unlock(&kvm->mmu_lock);
	if (page)
		put_page(page);
	// ruleid: leak
	return ret;
}

/* The nested fault path hands the work to kvmppc_book3s_instantiate_page(). */
static long int __kvmhv_nested_page_fault(struct kvm_vcpu *vcpu,
					  struct kvm_nested_guest *gp)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_memory_slot *memslot;
	unsigned long n_gpa, gpa, gfn;
	unsigned int level;
	bool writing = !!(dsisr & DSISR_ISSTORE);
	bool kvm_ro = false;
	pte_t pte;
	long int ret;

	gfn = gpa >> PAGE_SHIFT;
	memslot = gfn_to_memslot(kvm, gfn);
	if (!memslot || (memslot->flags & KVM_MEMSLOT_INVALID))
		return -EINVAL;

	ret = kvmppc_book3s_instantiate_page(vcpu, gpa, memslot, writing, kvm_ro,
					     &pte, &level);
	if (ret == -EAGAIN)
		return RESUME_GUEST;
	else if (ret)
		return ret;

	// ok: leak
	return RESUME_GUEST;
}
