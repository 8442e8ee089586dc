// SPDX-License-Identifier: GPL-2.0-only
/*
 * Constructs of real KVM files that tree-sitter cannot read as written: conditionals that cut
 * through a statement or an initializer, GNU case ranges, declaring macros, file-scope macro
 * invocations, macros inside asm templates, attribute macros, comments in macro bodies,
 * named variadic macro parameters and offsetof() of a member path. Written for these tests.
 */
#include <linux/kvm_host.h>

static DEFINE_PER_CPU(struct kvm_vcpu *, demo_running_vcpu);
static DECLARE_BITMAP(demo_vpid_bitmap, 64);

struct demo_page_header {
	unsigned long flags;
	DECLARE_BITMAP(unsync_children, 512);
};

static const u32 demo_msrs[] = {
	MSR_IA32_SYSENTER_CS,
#ifdef CONFIG_X86_64
	MSR_CSTAR, MSR_LSTAR,
#endif
	MSR_IA32_TSC,
};

static struct demo_field demo_fields[] = {
#define DEMO_FIELD(x, y) { x, offsetof(struct demo_regs, y) },
#include "demo_fields.h"
};

#define demo_warn(fmt...) \
	pr_warn_ratelimited(fmt)

#define BUILD_DEMO_HELPER(name)					\
static void demo_##name(struct kvm *kvm)				\
{									\
	demo_touch(kvm);						\
}									\
/* the write side follows */						\
static void demo_##name##_write(struct kvm *kvm)			\
{									\
	demo_touch(kvm);						\
}
BUILD_DEMO_HELPER(read)
BUILD_DEMO_HELPER(flush)

// expect-function: demo_map
int demo_map(struct kvm_vcpu *vcpu, gpa_t gpa, struct kvm_host_map *map)
{
	struct page *page = NULL;
	void *hva = NULL;
	kvm_pfn_t pfn;

	// expect-call: gfn_to_pfn 2
	pfn = gfn_to_pfn(vcpu->kvm, gpa_to_gfn(gpa));
	if (is_error_noslot_pfn(pfn))
		return -EINVAL;

	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		hva = kmap(page);
#ifdef CONFIG_HAS_IOMEM
	} else {
		// expect-call: memremap 3
		hva = memremap(pfn_to_hpa(pfn), PAGE_SIZE, MEMREMAP_WB);
#endif
	}

	if (!hva)
		return -EFAULT;
	map->page = page;
	map->hva = hva;
	return 0;
}

// expect-function: demo_unmap
void demo_unmap(struct kvm_vcpu *vcpu, struct kvm_host_map *map, bool dirty)
{
	if (map->page)
		kunmap(map->page);
#ifdef CONFIG_HAS_IOMEM
	else
		// expect-call: memunmap 1
		memunmap(map->hva);
#endif
	if (dirty)
		kvm_vcpu_mark_page_dirty(vcpu, map->gfn);
	// expect-call: kvm_release_pfn 2
	kvm_release_pfn(map->pfn, dirty);
}

// expect-function: demo_get_msr
static int demo_get_msr(struct kvm_vcpu *vcpu, u32 msr, u64 *data)
{
	switch (msr) {
	case MSR_IA32_MC0_CTL ... MSR_IA32_MCx_CTL(KVM_MAX_MCE_BANKS) - 1:
		return demo_get_mce(vcpu, msr, data);
	case DEMO_REG(regs[0]) ...
	     DEMO_REG(regs[30]):
		*data = 0;
		break;
#ifdef CONFIG_KVM_HYPERV
	case HV_X64_MSR_GUEST_OS_ID ... HV_X64_MSR_SINT15:
		return demo_hv_get_msr(vcpu, msr, data);
#endif
	case DEMO_DIRTY_RING:
#ifdef CONFIG_HAVE_KVM_DIRTY_RING_TSO
		return 1;
#else
		return 0;
#endif
	default:
		// expect-call: demo_pmu_get_msr 3
		return demo_pmu_get_msr(vcpu, msr, data);
	}
	return 0;
}

// expect-function: demo_create
static int demo_create(struct kvm_vcpu *vcpu)
{
	int err;

	err = demo_alloc(vcpu);
	if (err)
		goto free_vcpu;
	// expect-call: demo_offsets 1
	BUILD_BUG_ON(demo_offsets(offsetof(struct demo_shared, arch.wc_sec_hi) != 0x924));
	vcpu->arch.flags &=
#ifdef CONFIG_X86_64
		DEMO_LONG_MODE |
#endif
		DEMO_FLAGS;
	if (vcpu->arch.flags & 1)
#ifdef CONFIG_X86_64
		vcpu->arch.flags = 0;
#else
		vcpu->arch.flags = 1;
#endif
	return 0;
free_vcpu:
#ifdef CONFIG_DEMO_SHADOW
	kfree(vcpu->arch.shadow);
free_shadow:
#endif
	kfree(vcpu);
	return err;
}

// expect-function: demo_vmxoff
static __no_kcsan int demo_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		  _ASM_EXTABLE(1b, %l[fault])
		  ::: "cc", "memory" : fault);
	// expect-call: demo_after_vmxoff 0
	demo_after_vmxoff();
	return 0;
fault:
	return -EIO;
}

// expect-function: demo_target
u32 __attribute_const__ demo_target(void)
{
	// expect-call: read_cpuid_id 0
	return read_cpuid_id();
}

module_init(demo_init)
module_exit(demo_exit)
