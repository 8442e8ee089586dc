// path: virt/kvm/kvm_main.c
/*
 * Generic helpers of kvm_main.c before the series: wrappers hand the reference to their
 * caller; users of a pfn drop it before returning.
 */

kvm_pfn_t gfn_to_pfn_prot(struct kvm *kvm, gfn_t gfn, bool write_fault,
			  bool *writable)
{
	// ok: leak
	return __gfn_to_pfn_memslot(gfn_to_memslot(kvm, gfn), gfn, false, false,
				    NULL, write_fault, writable, NULL);
}

int kvm_vcpu_map(struct kvm_vcpu *vcpu, gfn_t gfn, struct kvm_host_map *map)
{
	kvm_pfn_t pfn;
	void *hva = NULL;
	struct page *page = KVM_UNMAPPED_PAGE;

	if (!map)
		return -EINVAL;

	pfn = gfn_to_pfn(vcpu->kvm, gfn);
	if (is_error_noslot_pfn(pfn))
		return -EINVAL;

	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		hva = kmap(page);
	} else {
		hva = memremap(pfn_to_hpa(pfn), PAGE_SIZE, MEMREMAP_WB);
	}

	/* kmap() never fails: only the memremap() path, which holds no reference, gets here. */
	if (!hva)
		// ok: leak
		return -EFAULT;

	map->page = page;
	map->hva = hva;
	map->pfn = pfn;
	map->gfn = gfn;

	// ok: leak
	return 0;
}

/* Reads one byte of guest memory through the pfn and drops the reference. */
static int kvm_peek_guest_byte(struct kvm *kvm, gfn_t gfn, u8 *out)
{
	kvm_pfn_t pfn;
	struct page *page;

	pfn = gfn_to_pfn(kvm, gfn);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	page = kvm_pfn_to_refcounted_page(pfn);
	if (!page) {
		kvm_release_pfn_clean(pfn);
		return -EOPNOTSUPP;
	}
	*out = *(u8 *)page_address(page);
	// ok: release-without-reference
	kvm_release_page_clean(page);
	// ok: leak
	return 0;
}

/* Mutation: releases through the struct page on the error-pfn path. */
static int kvm_touch_guest_page(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn;

	pfn = gfn_to_pfn(kvm, gfn);
	if (is_error_noslot_pfn(pfn)) {
		// ruleid: release-without-reference
		kvm_release_page_clean(pfn_to_page(pfn));
		return -EFAULT;
	}
	kvm_set_pfn_accessed(pfn);
	kvm_release_pfn_clean(pfn);
	return 0;
}

/* Mutation: marks the page dirty after dropping the reference. */
static void kvm_dirty_guest_page(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn = gfn_to_pfn(kvm, gfn);

	if (is_error_noslot_pfn(pfn))
		return;
	kvm_release_pfn_clean(pfn);
	// ruleid: use-after-release, mark-not-refcounted
	kvm_set_page_dirty(pfn_to_page(pfn));
}
