// path: virt/kvm/kvm_main.c
/*
 * 6.13 style generic helpers: kvm_vcpu_map() keeps the refcounted page in the map, and a
 * helper that drops its local page on every path.
 */

int __kvm_vcpu_map(struct kvm_vcpu *vcpu, gfn_t gfn, struct kvm_host_map *map,
		   bool writable)
{
	bool map_writable;

	map->gfn = gfn;
	map->pfn = __kvm_faultin_pfn(kvm_vcpu_gfn_to_memslot(vcpu, gfn), gfn,
				     writable ? FOLL_WRITE : 0, &map_writable,
				     &map->pinned_page);
	if (is_error_noslot_pfn(map->pfn))
		return -EFAULT;

	if (map->pinned_page)
		map->hva = kmap(map->pinned_page);
	else
		map->hva = memremap(pfn_to_hpa(map->pfn), PAGE_SIZE, MEMREMAP_WB);

	// ok: leak
	return map->hva ? 0 : -EFAULT;
}

static int kvm_peek_page_example(struct kvm_vcpu *vcpu, gfn_t gfn, u8 *out)
{
	struct page *page;
	bool writable;
	kvm_pfn_t pfn;

	pfn = __kvm_faultin_pfn(kvm_vcpu_gfn_to_memslot(vcpu, gfn), gfn, 0,
				&writable, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	if (!page)
		// ok: leak
		return -EOPNOTSUPP;
	*out = *(u8 *)page_address(page);
	// ok: release-without-reference
	kvm_release_page_unused(page);
	return 0;
}

/* Mutation: the early return for pages without a struct page forgets the release. */
static int kvm_poke_page_example(struct kvm_vcpu *vcpu, gfn_t gfn, u8 val)
{
	struct page *page;
	bool writable;
	kvm_pfn_t pfn;
	void *va;

	pfn = __kvm_faultin_pfn(kvm_vcpu_gfn_to_memslot(vcpu, gfn), gfn, FOLL_WRITE,
				&writable, &page);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	va = page ? kmap(page) : NULL;
	if (!va || !writable)
		// ruleid: leak
		return -EFAULT;
	*(u8 *)va = val;
	kunmap(page);
	kvm_release_page_dirty(page);
	return 0;
}
