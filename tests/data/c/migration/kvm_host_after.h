/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef __KVM_HOST_H
#define __KVM_HOST_H

struct kvm_memory_slot;

// expect-declaration: gfn_to_pfn_memslot
kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn);
// expect-declaration: __gfn_to_pfn_memslot
kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva);
struct kvm_follow_pfn {
	const struct kvm_memory_slot *slot;
	gfn_t gfn;
	unsigned int flags;
	bool atomic;
	bool try_map_writable;
	bool guarded_by_mmu_notifier;
	hva_t hva;
	bool writable;
};

kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll);

// expect-declaration: kvm_vcpu_map
int __must_check kvm_vcpu_map(struct kvm_vcpu *vcpu, gpa_t gpa, struct kvm_host_map *map);
// expect-declaration: kvm_read_guest_user
int kvm_read_guest_user(void __user *dst, unsigned long len);

#endif
