// path: virt/kvm/pfncache.c
/*
 * A pfn cache refresh in the shape of hva_to_pfn_retry(): a pfn faulted in during a previous
 * pass of the loop is dropped before retrying; the pfn that survives the loop belongs to the
 * cache, and the stale one is dropped when the cache is refreshed.
 */

static kvm_pfn_t hva_to_pfn_retry(struct gfn_to_pfn_cache *gpc)
{
	unsigned long mmu_seq;
	kvm_pfn_t new_pfn = KVM_PFN_ERR_FAULT;
	void *new_khva = NULL;
	struct kvm_follow_pfn foll = {
		.slot = gpc->memslot,
		.gfn = gpa_to_gfn(gpc->gpa),
		.flags = FOLL_GET | FOLL_WRITE,
	};

	do {
		mmu_seq = gpc->kvm->mmu_invalidate_seq;
		smp_rmb();

		write_unlock_irq(&gpc->lock);

		if (new_pfn != KVM_PFN_ERR_FAULT) {
			// ok: double-release, release-without-reference
			kvm_release_pfn_clean(new_pfn);
			new_pfn = KVM_PFN_ERR_FAULT;
		}

		new_pfn = __kvm_follow_pfn(&foll);
		if (is_error_noslot_pfn(new_pfn))
			// ok: leak
			goto out_error;

		new_khva = gpc_map(new_pfn);
		if (!new_khva) {
			// ok: release-without-reference
			kvm_release_pfn_clean(new_pfn);
			goto out_error;
		}

		write_lock_irq(&gpc->lock);
	} while (mmu_notifier_retry_cache(gpc->kvm, mmu_seq));

	gpc->valid = true;
	gpc->pfn = new_pfn;
	gpc->khva = new_khva;
	// ok: leak
	return new_pfn;

out_error:
	write_lock_irq(&gpc->lock);
	return KVM_PFN_ERR_FAULT;
}

/* Mutation: the map failure path forgets the pfn it just took. */
static kvm_pfn_t hva_to_pfn_retry_nomap(struct gfn_to_pfn_cache *gpc)
{
	kvm_pfn_t new_pfn;
	void *new_khva;
	struct kvm_follow_pfn foll = {
		.slot = gpc->memslot,
		.gfn = gpa_to_gfn(gpc->gpa),
		.flags = FOLL_GET | FOLL_WRITE,
	};

	new_pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(new_pfn))
		return KVM_PFN_ERR_FAULT;

	new_khva = gpc_map(new_pfn);
	if (!new_khva)
		// ruleid: leak
		return KVM_PFN_ERR_FAULT;

	gpc->pfn = new_pfn;
	gpc->khva = new_khva;
	return new_pfn;
}

/* Refreshing drops the pfn the cache held before. */
int kvm_gpc_refresh_example(struct gfn_to_pfn_cache *gpc)
{
	kvm_pfn_t old_pfn = gpc->pfn;
	kvm_pfn_t new_pfn;

	new_pfn = hva_to_pfn_retry(gpc);
	if (is_error_noslot_pfn(new_pfn))
		return -EFAULT;
	if (old_pfn != new_pfn)
		gpc_release_pfn_and_khva(gpc->kvm, old_pfn, NULL);
	// ok: leak
	return 0;
}
