// path: virt/kvm/kvm_main.c
/*
 * v8 2/8 and 3/8 style generic helpers: the gfn_to_pfn*() wrappers build a kvm_follow_pfn
 * with FOLL_GET and hand the reference to their caller.
 */

kvm_pfn_t gfn_to_pfn_prot(struct kvm *kvm, gfn_t gfn, bool write_fault,
			  bool *writable)
{
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = gfn_to_memslot(kvm, gfn),
		.gfn = gfn,
		.flags = FOLL_GET,
		.try_map_writable = !!writable,
	};

	if (write_fault)
		foll.flags |= FOLL_WRITE;

	// ok: no-get-unguarded
	pfn = __kvm_follow_pfn(&foll);
	if (!is_error_noslot_pfn(pfn) && writable)
		*writable = foll.writable;
	// ok: leak
	return pfn;
}

kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE | FOLL_NOWAIT,
		.atomic = true,
	};
	// ok: leak
	return __kvm_follow_pfn(&foll);
}

/* Mutation: FOLL_GET dropped from a wrapper whose callers are not notifier-guarded. */
kvm_pfn_t gfn_to_pfn_noref(struct kvm *kvm, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = gfn_to_memslot(kvm, gfn),
		.gfn = gfn,
		.flags = FOLL_WRITE,
	};
	// ruleid: no-get-unguarded
	return __kvm_follow_pfn(&foll);
}

/* Maps a guest page for the host, keeping the reference in the map until unmap. */
int kvm_vcpu_map(struct kvm_vcpu *vcpu, gfn_t gfn, struct kvm_host_map *map)
{
	kvm_pfn_t pfn;
	struct page *page = NULL;
	void *hva;
	struct kvm_follow_pfn foll = {
		.slot = kvm_vcpu_gfn_to_memslot(vcpu, gfn),
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EINVAL;

	if (foll.is_refcounted_page) {
		page = pfn_to_page(pfn);
		hva = kmap(page);
	} else {
		hva = memremap(pfn_to_hpa(pfn), PAGE_SIZE, MEMREMAP_WB);
		if (!hva) {
			// ok: release-without-reference
			kvm_release_pfn_clean(pfn);
			return -EFAULT;
		}
	}

	map->page = page;
	map->hva = hva;
	map->pfn = pfn;
	map->gfn = gfn;
	// ok: leak
	return 0;
}

/* Mutation: marks dirty through a struct page that a PFNMAP pfn does not have. */
static void kvm_mark_gfn_dirty_example(struct kvm *kvm, gfn_t gfn)
{
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = gfn_to_memslot(kvm, gfn),
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return;
	// ruleid: mark-not-refcounted
	kvm_set_page_dirty(pfn_to_page(pfn));
	kvm_release_pfn_clean(pfn);
}
