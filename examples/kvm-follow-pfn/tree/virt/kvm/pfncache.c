// SPDX-License-Identifier: GPL-2.0-only
/*
 * gfn_to_pfn_cache: a kernel mapping of one guest page that the mmu
 * notifier invalidates, so that KVM can access guest memory directly.
 */

#include <linux/kvm_host.h>
#include <linux/kvm.h>
#include <linux/highmem.h>
#include <linux/module.h>
#include <linux/errno.h>

#include "kvm_mm.h"

struct gfn_to_pfn_cache {
	u64 generation;
	gpa_t gpa;
	unsigned long uhva;
	struct kvm_memory_slot *memslot;
	struct kvm *kvm;
	rwlock_t lock;
	void *khva;
	kvm_pfn_t pfn;
	bool active;
	bool valid;
};

static void gpc_unmap_khva(kvm_pfn_t pfn, void *khva)
{
	/* Drop the kernel mapping of a pfn this cache mapped earlier. */
	if (!is_error_noslot_pfn(pfn) && khva) {
		if (pfn_valid(pfn))
			kunmap(pfn_to_page(pfn));
	}
}

static inline bool mmu_notifier_retry_cache(struct kvm *kvm, unsigned long mmu_seq)
{
	/*
	 * An invalidation that is in progress, or that ran since mmu_seq was
	 * read, may have zapped the pfn we just got: try again.
	 */
	if (kvm->mmu_invalidate_in_progress)
		return true;

	smp_rmb();
	return kvm->mmu_invalidate_seq != mmu_seq;
}

static kvm_pfn_t hva_to_pfn_retry(struct gfn_to_pfn_cache *gpc)
{
	/* The offset into the page may change along with the page. */
	void *old_khva = gpc->khva - offset_in_page(gpc->khva);
	kvm_pfn_t new_pfn = KVM_PFN_ERR_FAULT;
	void *new_khva = NULL;
	unsigned long mmu_seq;

	lockdep_assert_held(&gpc->lock);

	gpc->valid = false;

	do {
		mmu_seq = gpc->kvm->mmu_invalidate_seq;
		smp_rmb();

		write_unlock_irq(&gpc->lock);

		/*
		 * The previous pfn is unmapped and released outside the lock:
		 * only the last iteration's pfn is kept.
		 */
		if (new_khva != old_khva)
			gpc_unmap_khva(new_pfn, new_khva);

		kvm_release_pfn_clean(new_pfn);

		cond_resched();

		/* The cache is always mapped for writing. */
		new_pfn = hva_to_pfn(gpc->uhva, false, false, NULL, true, NULL);
		if (is_error_noslot_pfn(new_pfn))
			goto out_error;

		new_khva = kmap(pfn_to_page(new_pfn));
		if (!new_khva) {
			kvm_release_pfn_clean(new_pfn);
			goto out_error;
		}

		write_lock_irq(&gpc->lock);

		WARN_ON_ONCE(gpc->valid);
	} while (mmu_notifier_retry_cache(gpc->kvm, mmu_seq));

	gpc->valid = true;
	gpc->pfn = new_pfn;
	gpc->khva = new_khva + offset_in_page(gpc->uhva);

	/*
	 * The cache keeps no reference: the mmu notifier invalidates it
	 * before the page can go away.
	 */
	kvm_release_pfn_clean(new_pfn);

	return 0;

out_error:
	write_lock_irq(&gpc->lock);

	return -EFAULT;
}
