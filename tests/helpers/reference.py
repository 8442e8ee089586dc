"""Facts about the reference series (../shared/KVM-FACTS.md) that several tests use."""

from __future__ import annotations

# v8 of "KVM: allow mapping non-refcounted pages": its patch titles, in order.
V8_TITLES = [
    "KVM: Assert that a page's refcount is elevated when marking accessed/dirty",
    "KVM: mmu: Introduce __kvm_follow_pfn function",
    "KVM: mmu: Make __kvm_follow_pfn not imply FOLL_GET",
    "KVM: x86/mmu: Migrate to __kvm_follow_pfn",
    "KVM: x86/mmu: Don't pass FOLL_GET to __kvm_follow_pfn",
    "KVM: arm64: Migrate to __kvm_follow_pfn",
    "KVM: PPC: Migrate to __kvm_follow_pfn",
    "KVM: mmu: remove __gfn_to_pfn_memslot",
]
