// SPDX-License-Identifier: GPL-2.0-only
/* A cut-down arm64 stage-2 fault handler, written for the reviewtool tests. */
#include <linux/kvm_host.h>
#include <asm/kvm_pgtable.h>

static int user_mem_abort(struct kvm_vcpu *vcpu, phys_addr_t fault_ipa,
			  struct kvm_memory_slot *memslot, unsigned long hva,
			  bool fault_is_perm)
{
	bool write_fault, writable = false;
	unsigned long mmu_seq;
	gfn_t gfn = fault_ipa >> PAGE_SHIFT;
	kvm_pfn_t pfn;
	int ret = 0;

	write_fault = kvm_is_write_fault(vcpu);
	mmu_seq = vcpu->kvm->mmu_invalidate_seq;
	mmap_read_unlock(current->mm);

	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   write_fault, &writable, NULL);
	if (pfn == KVM_PFN_ERR_HWPOISON) {
		kvm_send_hwpoison_signal(hva, PAGE_SHIFT);
		return 0;
	}
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;

	read_lock(&vcpu->kvm->mmu_lock);
	if (mmu_invalidate_retry(vcpu->kvm, mmu_seq))
		goto out_unlock;

	ret = kvm_pgtable_stage2_map(vcpu->arch.hw_mmu->pgt, fault_ipa, PAGE_SIZE,
				     __pfn_to_phys(pfn), writable ? KVM_PGTABLE_PROT_W : 0,
				     NULL, 0);
	if (writable && !ret)
		kvm_set_pfn_dirty(pfn);

out_unlock:
	read_unlock(&vcpu->kvm->mmu_lock);
	kvm_release_pfn_clean(pfn);
	return ret != -EAGAIN ? ret : 0;
}
