# The C snippets below are kernel code: tab indentation with " *" comment lines.
# ruff: noqa: E101
"""The git history of the example: upstream commits and every version of the series.

Each commit is a list of exact text replacements on the tree in `tree/` (the base, as
kvm/next looked when v1 was sent).  Replacements are exact so that a change in the base
shows up as a build error here, not as a silently different patch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DAVID = ("David Stevens", "stevensd@chromium.org")
SEAN = ("Sean Christopherson", "seanjc@google.com")
NICK = ("Nicholas Piggin", "npiggin@gmail.com")
PAOLO = ("Paolo Bonzini", "pbonzini@redhat.com")
MARC = ("Marc Zyngier", "maz@kernel.org")
OLIVER = ("Oliver Upton", "oliver.upton@linux.dev")
MPE = ("Michael Ellerman", "mpe@ellerman.id.au")
PETERX = ("Peter Xu", "peterx@redhat.com")


def cont(prefix: str) -> str:
    """Kernel-style continuation indent (tabs, then spaces) aligned after `prefix`."""
    width = len(prefix.expandtabs(8))
    return "\t" * (width // 8) + " " * (width % 8)


def ident(person: tuple[str, str]) -> str:
    """`Name <email>` as in a trailer."""
    return f"{person[0]} <{person[1]}>"


@dataclass(frozen=True)
class Edit:
    """Replace the one occurrence of `old` in `path` with `new`."""

    path: str
    old: str
    new: str


@dataclass
class Commit:
    """One commit: message, author, date and the edits it makes."""

    subject: str
    body: str
    edits: list[Edit]
    date: str = ""
    author: tuple[str, str] = DAVID
    trailers: list[str] = field(default_factory=list)  # before the Signed-off-by lines
    committed: str = ""  # committer date when it differs from the author date
    committer: tuple[str, str] = DAVID

    def message(self) -> str:
        """The full commit message, trailers last as git expects them."""
        trailers = list(self.trailers)
        trailers.append(f"Signed-off-by: {ident(self.author)}")
        # Whoever passes the patch on signs it too: David in the series, Paolo upstream.
        if self.author != self.committer:
            trailers.append(f"Signed-off-by: {ident(self.committer)}")
        return f"{self.subject}\n\n{self.body.strip()}\n\n" + "\n".join(trailers) + "\n"


# --------------------------------------------------------------------------------------
# Upstream: kvm/next moving under the series.  Each touches only lines the series never
# edits, so every version's patches apply to every base as they would have.
# --------------------------------------------------------------------------------------

NICK_FIX_SUBJECT = "KVM: do not allow mapping valid but non-refcounted pages"
NICK_FIX_BODY = """
When follow_pte() finds a pfn in a VM_IO or VM_PFNMAP mapping that has a
struct page, KVM takes a reference on it so that the caller can drop one
later.  That is only sound when the page is actually refcounted: the tail
pages of a non-compound higher order allocation have a refcount of zero,
and get_page() on them resurrects a freed page.

Only take the reference when the refcount is already elevated, and fail
the fault otherwise.
"""


def nick_fix() -> list[Edit]:
    """Nicholas Piggin's follow_pte refcount fix (carried in v2, upstream from v3 on)."""
    path = "virt/kvm/kvm_main.c"
    return [
        Edit(
            path,
            "static int hva_to_pfn_remapped(struct vm_area_struct *vma,",
            """static int kvm_try_get_pfn(kvm_pfn_t pfn)
{
	struct page *page = kvm_pfn_to_refcounted_page(pfn);

	if (!page)
		return 1;

	return get_page_unless_zero(page);
}

static int hva_to_pfn_remapped(struct vm_area_struct *vma,""",
        ),
        Edit(
            path,
            """	 * here as well.
	 */
	kvm_get_pfn(pfn);

out:
	pte_unmap_unlock(ptep, ptl);
	*p_pfn = pfn;
	return 0;
}""",
            """	 * here as well, but only on pages whose refcount is live: get_page()
	 * on a tail page of a non-compound allocation would corrupt it.
	 */
	if (!kvm_try_get_pfn(pfn))
		r = -EFAULT;

out:
	pte_unmap_unlock(ptep, ptl);
	*p_pfn = pfn;
	return r;
}""",
        ),
    ]


def upstream() -> list[tuple[str, Commit]]:
    """kvm/next snapshots after the base, as (tag, commit); each version names its base."""
    commits = _upstream()
    for _, commit in commits:
        commit.committer = PAOLO
    return commits


def _upstream() -> list[tuple[str, Commit]]:
    return [
        (
            "kvm-next-20210630",
            Commit(
                "KVM: x86/mmu: Explain why noncoherent DMA caps the mapping level",
                "The comment says what the check does but not why a huge page would\n"
                "be wrong; spell out the memtype problem.",
                [
                    Edit(
                        "arch/x86/kvm/mmu/mmu.c",
                        "\t * 4K pages only so that one mapping never mixes memtypes.\n",
                        "\t * 4K pages only so that one mapping never mixes memtypes: a huge\n"
                        "\t * page could span ranges with different MTRR types.\n",
                    )
                ],
                date="2021-06-30 11:02:44 -0400",
                author=PAOLO,
            ),
        ),
        (
            "kvm-next-20210820",
            Commit(
                NICK_FIX_SUBJECT,
                NICK_FIX_BODY,
                nick_fix(),
                date="2021-06-24 11:57:36 +0900",
                author=NICK,
                committed="2021-08-20 05:43:12 -0400",
                trailers=[f"Reviewed-by: {ident(SEAN)}"],
            ),
        ),
        (
            "kvm-next-20210927",
            Commit(
                "KVM: arm64: Say which abort handler owns the srcu read lock",
                "Make it obvious that user_mem_abort() runs under kvm->srcu.",
                [
                    Edit(
                        "arch/arm64/kvm/mmu.c",
                        " * Either MMIO to emulate, or a stage-2 mapping to create.\n",
                        " * Either MMIO to emulate, or a stage-2 mapping to create.\n"
                        " * user_mem_abort() runs under kvm->srcu, taken here.\n",
                    )
                ],
                date="2021-09-27 09:14:03 +0100",
                author=MARC,
            ),
        ),
        (
            "kvm-next-20211126",
            Commit(
                "KVM: PPC: Book3S HV: Note the locking of kvmppc_create_pte()",
                "The invalidation check is only meaningful under kvm->mmu_lock; say so.",
                [
                    Edit(
                        "arch/powerpc/kvm/book3s_64_mmu_radix.c",
                        "\t/* Retry if the notifier ran since mmu_seq was read */\n"
                        "\tspin_lock(&kvm->mmu_lock);\n",
                        "\t/*\n"
                        "\t * Retry if the notifier ran since mmu_seq was read; the check\n"
                        "\t * is only meaningful with kvm->mmu_lock held.\n"
                        "\t */\n"
                        "\tspin_lock(&kvm->mmu_lock);\n",
                    )
                ],
                date="2021-11-26 15:40:12 +1100",
                author=MPE,
            ),
        ),
        (
            "kvm-next-20230327",
            Commit(
                "KVM: x86/mmu: Only mark the dirty log for 4K SPTEs in one place",
                "Comment the early return so the next reader doesn't wonder where huge\n"
                "pages get logged.",
                [
                    Edit(
                        "arch/x86/kvm/mmu/tdp_mmu.c",
                        "\tif (level > PG_LEVEL_4K)\n\t\treturn;\n",
                        "\t/* Huge pages are split before dirty logging can see them. */\n"
                        "\tif (level > PG_LEVEL_4K)\n\t\treturn;\n",
                    )
                ],
                date="2023-03-27 16:21:50 -0700",
                author=SEAN,
            ),
        ),
        (
            "kvm-next-20230822",
            Commit(
                "KVM: x86/mmu: Document why a hwpoisoned pfn retries the fault",
                "The signal is what the guest sees; the retry just lets it be delivered.",
                [
                    Edit(
                        "arch/x86/kvm/mmu/mmu.c",
                        "\tif (fault->pfn == KVM_PFN_ERR_HWPOISON) {\n",
                        "\t/* The SIGBUS is what userspace sees; retry so it gets delivered. */\n"
                        "\tif (fault->pfn == KVM_PFN_ERR_HWPOISON) {\n",
                    )
                ],
                date="2023-08-22 10:05:31 -0700",
                author=SEAN,
            ),
        ),
    ]


# The base each version was sent against: the tag of its base commit ("base" is the root).
VERSION_BASE = {
    "1": "base",
    "2": "kvm-next-20210630",
    "3": "kvm-next-20210820",
    "4": "kvm-next-20210927",
    "5": "kvm-next-20211126",
    "6": "kvm-next-20230327",
    "7": "kvm-next-20230327",
    "7.1": "kvm-next-20230327",
    "8": "kvm-next-20230822",
}


# --------------------------------------------------------------------------------------
# v1 .. v6: a page out-parameter next to the pfn.
# --------------------------------------------------------------------------------------

MAIN = "virt/kvm/kvm_main.c"
HOST = "include/linux/kvm_host.h"
KVM_MM = "virt/kvm/kvm_mm.h"
PFNCACHE = "virt/kvm/pfncache.c"
X86_MMU = "arch/x86/kvm/mmu/mmu.c"
X86_INTERNAL = "arch/x86/kvm/mmu/mmu_internal.h"
X86_TMPL = "arch/x86/kvm/mmu/paging_tmpl.h"
X86_TDP = "arch/x86/kvm/mmu/tdp_mmu.c"
X86_SPTE_C = "arch/x86/kvm/mmu/spte.c"
X86_SPTE_H = "arch/x86/kvm/mmu/spte.h"
ARM64 = "arch/arm64/kvm/mmu.c"
PPC_HV = "arch/powerpc/kvm/book3s_64_mmu_hv.c"
PPC_RADIX = "arch/powerpc/kvm/book3s_64_mmu_radix.c"
PPC_NESTED = "arch/powerpc/kvm/book3s_hv_nested.c"
PPC_H = "arch/powerpc/include/asm/kvm_book3s.h"

X86_CALL_1 = """	fault->pfn = __gfn_to_pfn_memslot(slot, fault->gfn, false, false, &async,
					  fault->write, &fault->map_writable,
					  &fault->hva);"""
X86_CALL_2 = """	fault->pfn = __gfn_to_pfn_memslot(slot, fault->gfn, false, true, NULL,
					  fault->write, &fault->map_writable,
					  &fault->hva);"""
X86_EXIT_DIRECT = """	write_unlock(&vcpu->kvm->mmu_lock);
	kvm_release_pfn_clean(fault->pfn);
	return r;"""
X86_EXIT_TDP = """	read_unlock(&vcpu->kvm->mmu_lock);
	kvm_release_pfn_clean(fault->pfn);
	return r;"""

REMOVE_WARNINGS_BODY = """
The WARN in mmu_spte_clear_track_bits() assumes that every page KVM maps
has a live refcount.  Once KVM can map pages that are not refcounted at
all, such as the tail pages of a non-compound higher order allocation,
the assumption no longer holds and the warning fires on a perfectly
valid zap.  Drop it.
"""


def remove_warnings() -> list[Edit]:
    """The WARN on a zero page count in the SPTE zap path goes."""
    return [
        Edit(
            X86_MMU,
            """	 * SPTE before the primary MMU frees the page, and a refcounted page
	 * still has a live refcount when its SPTE goes away.
	 */
	page = kvm_pfn_to_refcounted_page(pfn);
	WARN_ON_ONCE(page && !page_count(page));
""",
            """	 * SPTE before the primary MMU frees the page.
	 */
""",
        ),
        Edit(
            X86_MMU,
            "\tkvm_pfn_t pfn;\n\tstruct page *page;\n\tu64 old_spte",
            "\tkvm_pfn_t pfn;\n\tu64 old_spte",
        ),
    ]


def v1_commits() -> list[Commit]:
    """v1: the existing gfn_to_pfn entry point grows a page out-parameter."""
    mmu_callers = [
        Edit(X86_MMU, X86_CALL_1, X86_CALL_1[:-2] + ",\n\t\t\t\t\t  NULL);"),
        Edit(X86_MMU, X86_CALL_2, X86_CALL_2[:-2] + ",\n\t\t\t\t\t  NULL);"),
    ]
    first = Commit(
        "KVM: mmu: also return page from gfn_to_pfn",
        """
Return the struct page of the pfn, when KVM holds a reference on it,
through a new out-parameter of __gfn_to_pfn_memslot().  Callers that
pass a page pointer must release the page instead of the pfn, which lets
the follow-up patches stop assuming that every pfn is backed by a
refcounted page.

All callers pass NULL for now, so there is no functional change.
""",
        [
            Edit(
                HOST,
                "\t\t\t       bool write_fault, bool *writable, hva_t *hva);",
                "\t\t\t       bool write_fault, bool *writable, hva_t *hva,\n"
                "\t\t\t       struct page **page);",
            ),
            Edit(
                MAIN,
                """			       bool write_fault, bool *writable, hva_t *hva)
{
	unsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);
""",
                """			       bool write_fault, bool *writable, hva_t *hva,
			       struct page **page)
{
	unsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);
	kvm_pfn_t pfn;
""",
            ),
            Edit(
                MAIN,
                """	return hva_to_pfn(addr, atomic, interruptible, async, write_fault,
			  writable);
}""",
                """	pfn = hva_to_pfn(addr, atomic, interruptible, async, write_fault,
			 writable);

	/* Only refcounted pages are handed out; for the rest *page is NULL. */
	if (page) {
		*page = NULL;
		if (!is_error_noslot_pfn(pfn))
			*page = kvm_pfn_to_refcounted_page(pfn);
	}
	return pfn;
}""",
            ),
            Edit(
                MAIN,
                "NULL, write_fault, writable, NULL);",
                "NULL, write_fault, writable, NULL, NULL);",
            ),
            Edit(
                MAIN,
                "false, false, NULL, true,\n\t\t\t\t    NULL, NULL);",
                "false, false, NULL, true,\n\t\t\t\t    NULL, NULL, NULL);",
            ),
            Edit(
                MAIN,
                "true, false, NULL, true,\n\t\t\t\t    NULL, NULL);",
                "true, false, NULL, true,\n\t\t\t\t    NULL, NULL, NULL);",
            ),
            *mmu_callers,
            Edit(ARM64, "write_fault, &writable, NULL);", "write_fault, &writable, NULL, NULL);"),
            Edit(PPC_HV, "writing, &write_ok, NULL);", "writing, &write_ok, NULL, NULL);"),
            Edit(PPC_RADIX, "writing, upgrade_p, NULL);", "writing, upgrade_p, NULL, NULL);"),
        ],
    )
    x86 = Commit(
        "KVM: x86/mmu: use page returned by gfn_to_pfn",
        """
Ask __gfn_to_pfn_memslot() for the page in the x86 fault path and release
that page, not the pfn, when the fault is done.  A pfn without a
refcounted page is then never touched through a struct page.
""",
        [
            Edit(
                X86_INTERNAL,
                "\tbool map_writable;\n",
                "\tbool map_writable;\n\tstruct page *page;\n",
            ),
            Edit(
                X86_MMU,
                "&fault->hva,\n\t\t\t\t\t  NULL);\n\tif (!async)",
                "&fault->hva,\n\t\t\t\t\t  &fault->page);\n\tif (!async)",
            ),
            Edit(
                X86_MMU,
                "&fault->hva,\n\t\t\t\t\t  NULL);\n\treturn",
                "&fault->hva,\n\t\t\t\t\t  &fault->page);\n\treturn",
            ),
            *_x86_exits("\tif (fault->page)\n\t\tkvm_release_page_clean(fault->page);\n"),
        ],
    )
    arm64 = Commit(
        "KVM: arm64/mmu: use page returned by gfn_to_pfn",
        """
Ask __gfn_to_pfn_memslot() for the page in user_mem_abort() and only mark
and release it when there is one.
""",
        [
            Edit(
                ARM64,
                "\tkvm_pfn_t pfn;\n\tbool logging_active",
                "\tkvm_pfn_t pfn;\n\tstruct page *page;\n\tbool logging_active",
            ),
            Edit(
                ARM64,
                "write_fault, &writable, NULL, NULL);",
                "write_fault, &writable, NULL, &page);",
            ),
            *_arm64_release("\tif (page)\n\t\tkvm_release_page_clean(page);\n"),
        ],
    )
    warn = Commit(
        "KVM: mmu: remove over-aggressive warnings", REMOVE_WARNINGS_BODY, remove_warnings()
    )
    return [first, x86, arm64, warn]


def _x86_exits(release: str) -> list[Edit]:
    """Replace the release on the three x86 fault exits with `release`."""
    return [
        Edit(
            X86_MMU,
            X86_EXIT_DIRECT,
            "\twrite_unlock(&vcpu->kvm->mmu_lock);\n" + release + "\treturn r;",
        ),
        Edit(
            X86_MMU,
            X86_EXIT_TDP,
            "\tread_unlock(&vcpu->kvm->mmu_lock);\n" + release + "\treturn r;",
        ),
        Edit(
            X86_TMPL,
            X86_EXIT_DIRECT,
            "\twrite_unlock(&vcpu->kvm->mmu_lock);\n" + release + "\treturn r;",
        ),
    ]


def _arm64_release(release: str) -> list[Edit]:
    """user_mem_abort(): dirty-mark and release only a page KVM holds."""
    return [
        Edit(
            ARM64,
            "\tif (writable && !ret) {\n\t\tkvm_set_pfn_dirty(pfn);",
            "\tif (writable && !ret) {\n\t\tif (page)\n\t\t\tkvm_set_pfn_dirty(pfn);",
        ),
        Edit(
            ARM64,
            "\tread_unlock(&kvm->mmu_lock);\n\tkvm_set_pfn_accessed(pfn);\n\tkvm_release_pfn_clean(pfn);\n",
            "\tread_unlock(&kvm->mmu_lock);\n" + release,
        ),
    ]


def early_commits(version: int) -> list[Commit]:
    """v2..v6: a separate gfn_to_pfn_page (v6: gfn_to_pfn_noref) family."""
    name = "noref" if version >= 6 else "page"
    commits: list[Commit] = []
    if version == 2:
        commits.append(
            Commit(
                NICK_FIX_SUBJECT,
                NICK_FIX_BODY,
                nick_fix(),
                author=NICK,
                trailers=[],
            )
        )
    if version >= 4:
        ensure_comment = """/*
 * The legacy gfn_to_pfn family promises a reference on every pfn backed by
 * a refcounted page, and its callers put the pfn when they are done.  The
 * new family hands out remapped pfns without one, so take it here: a pfn
 * that cannot be pinned (its refcount is already zero) is an error for the
 * legacy callers, as the follow_pte fix made it.
 */"""
    else:
        ensure_comment = """/*
 * The legacy gfn_to_pfn family promises a reference on every pfn backed by
 * a refcounted page; take the one the new family didn't.
 */"""
    release_decl = ""
    release_def = ""
    if version >= 6:
        release_decl = "void kvm_release_pfn_noref_clean(kvm_pfn_t pfn, struct page *page);\n"
        release_def = f"""
/*
 * Release a pfn/page pair from the gfn_to_pfn_{name} family: only a page
 * comes with a reference, a bare pfn has nothing to drop.
 */
void kvm_release_pfn_noref_clean(kvm_pfn_t pfn, struct page *page)
{{
	if (!page || is_error_noslot_pfn(pfn))
		return;

	kvm_release_page_clean(page);
}}
EXPORT_SYMBOL_GPL(kvm_release_pfn_noref_clean);
"""
    fn = f"__gfn_to_pfn_{name}_memslot"
    pad = cont(f"kvm_pfn_t {fn}(")
    call = cont(f"\tpfn = {fn}(")
    ret = cont(f"\treturn {fn}(")
    intro = Commit(
        f"KVM: mmu: introduce new gfn_to_pfn_{name} functions",
        f"""
Introduce {fn}() and friends.  They return the pfn together
with the struct page KVM holds a reference on, or NULL when it holds
none, which is the case for pfns found through follow_pte() in VM_IO and
VM_PFNMAP mappings.  Such pfns may be backed by pages that are not
refcounted at all, e.g. the tail pages of the non-compound higher order
allocations that amdgpu makes for the buffers that virtio-gpu maps into
the guest as blob resources.

The existing gfn_to_pfn functions become wrappers that keep their
promise of a reference on every refcounted page, so callers can move
over one at a time.
""",
        [
            Edit(
                HOST,
                "\t\t\t       bool write_fault, bool *writable, hva_t *hva);\n",
                "\t\t\t       bool write_fault, bool *writable, hva_t *hva);\n"
                f"kvm_pfn_t {fn}(const struct kvm_memory_slot *slot,\n"
                f"{pad}gfn_t gfn, bool atomic, bool interruptible,\n"
                f"{pad}bool *async, bool write_fault,\n"
                f"{pad}bool *writable, hva_t *hva,\n"
                f"{pad}struct page **page);\n"
                f"kvm_pfn_t gfn_to_pfn_{name}_memslot(const struct kvm_memory_slot *slot,\n"
                f"\t\t\t\t   gfn_t gfn, struct page **page);\n"
                f"kvm_pfn_t gfn_to_pfn_{name}(struct kvm *kvm, gfn_t gfn, struct page **page);\n",
            ),
            Edit(
                HOST,
                "void kvm_set_pfn_accessed(kvm_pfn_t pfn);\n",
                "void kvm_set_pfn_accessed(kvm_pfn_t pfn);\n" + release_decl,
            ),
            Edit(
                MAIN,
                """	/*
	 * Callers release whatever pfn they get back, so take a reference
	 * here as well, but only on pages whose refcount is live: get_page()
	 * on a tail page of a non-compound allocation would corrupt it.
	 */
	if (!kvm_try_get_pfn(pfn))
		r = -EFAULT;
""",
                """	/*
	 * No reference is taken: the page may not be refcounted at all, and
	 * the caller is told so by getting a NULL page back.
	 */
""",
            ),
            Edit(
                MAIN,
                """kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic, bool interruptible,
		     bool *async, bool write_fault, bool *writable)
{""",
                f"""static kvm_pfn_t hva_to_pfn_{name}(unsigned long addr, bool atomic,
				 bool interruptible, bool *async,
				 bool write_fault, bool *writable,
				 struct page **page)
{{""",
            ),
            Edit(
                MAIN,
                "\tif (hva_to_pfn_fast(addr, write_fault, writable, &pfn))\n\t\treturn pfn;\n",
                "\t*page = NULL;\n\n\tif (hva_to_pfn_fast(addr, write_fault, writable, &pfn)) {\n"
                "\t\t*page = pfn_to_page(pfn);\n\t\treturn pfn;\n\t}\n",
            ),
            Edit(
                MAIN,
                "\tif (npages == 1)\n\t\treturn pfn;\n",
                "\tif (npages == 1) {\n\t\t*page = pfn_to_page(pfn);\n\t\treturn pfn;\n\t}\n",
            ),
            Edit(
                MAIN,
                """exit:
	mmap_read_unlock(current->mm);
	return pfn;
}
""",
                f"""exit:
	mmap_read_unlock(current->mm);
	return pfn;
}}

{ensure_comment}
static kvm_pfn_t ensure_pfn_ref(struct page *page, kvm_pfn_t pfn)
{{
	if (page || is_error_noslot_pfn(pfn))
		return pfn;

	if (!kvm_try_get_pfn(pfn))
		return KVM_PFN_ERR_FAULT;
	return pfn;
}}

kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic, bool interruptible,
		     bool *async, bool write_fault, bool *writable)
{{
	struct page *page;
	kvm_pfn_t pfn;

	pfn = hva_to_pfn_{name}(addr, atomic, interruptible, async, write_fault,
			      writable, &page);
	return ensure_pfn_ref(page, pfn);
}}
""",
            ),
            Edit(
                MAIN,
                """kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva)
{
	unsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);

	if (hva)""",
                f"""kvm_pfn_t {fn}(const struct kvm_memory_slot *slot,
{pad}gfn_t gfn, bool atomic, bool interruptible,
{pad}bool *async, bool write_fault,
{pad}bool *writable, hva_t *hva,
{pad}struct page **page)
{{
	unsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);

	*page = NULL;
	if (hva)""",
            ),
            Edit(
                MAIN,
                """	return hva_to_pfn(addr, atomic, interruptible, async, write_fault,
			  writable);
}
EXPORT_SYMBOL_GPL(__gfn_to_pfn_memslot);
""",
                f"""	return hva_to_pfn_{name}(addr, atomic, interruptible, async,
			       write_fault, writable, page);
}}
EXPORT_SYMBOL_GPL({fn});

kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva)
{{
	struct page *page;
	kvm_pfn_t pfn;

	pfn = {fn}(slot, gfn, atomic, interruptible, async,
{call}write_fault, writable, hva, &page);
	return ensure_pfn_ref(page, pfn);
}}
EXPORT_SYMBOL_GPL(__gfn_to_pfn_memslot);
""",
            ),
            Edit(
                MAIN,
                "EXPORT_SYMBOL_GPL(gfn_to_pfn);\n",
                f"""EXPORT_SYMBOL_GPL(gfn_to_pfn);

kvm_pfn_t gfn_to_pfn_{name}_memslot(const struct kvm_memory_slot *slot,
				   gfn_t gfn, struct page **page)
{{
	return {fn}(slot, gfn, false, false, NULL, true,
{ret}NULL, NULL, page);
}}
EXPORT_SYMBOL_GPL(gfn_to_pfn_{name}_memslot);

kvm_pfn_t gfn_to_pfn_{name}(struct kvm *kvm, gfn_t gfn, struct page **page)
{{
	return gfn_to_pfn_{name}_memslot(gfn_to_memslot(kvm, gfn), gfn, page);
}}
EXPORT_SYMBOL_GPL(gfn_to_pfn_{name});
""",
            ),
            Edit(
                MAIN,
                "EXPORT_SYMBOL_GPL(kvm_release_pfn_clean);\n",
                "EXPORT_SYMBOL_GPL(kvm_release_pfn_clean);\n" + release_def,
            ),
        ],
    )
    commits.append(intro)

    if version >= 6:
        x86_release = "\tkvm_release_pfn_noref_clean(fault->pfn, fault->page);\n"
        arm64_release = "\tkvm_release_pfn_noref_clean(pfn, page);\n"
    else:
        x86_release = "\tif (fault->page)\n\t\tkvm_release_page_clean(fault->page);\n"
        arm64_release = "\tif (page)\n\t\tkvm_release_page_clean(page);\n"
    call_pad = cont(f"\tfault->pfn = {fn}(")
    x86_edits = [
        Edit(
            X86_INTERNAL, "\tbool map_writable;\n", "\tbool map_writable;\n\tstruct page *page;\n"
        ),
        Edit(
            X86_MMU,
            X86_CALL_1,
            f"""	fault->pfn = {fn}(slot, fault->gfn, false, false,
{call_pad}&async, fault->write,
{call_pad}&fault->map_writable,
{call_pad}&fault->hva, &fault->page);""",
        ),
        Edit(
            X86_MMU,
            X86_CALL_2,
            f"""	fault->pfn = {fn}(slot, fault->gfn, false, true,
{call_pad}NULL, fault->write,
{call_pad}&fault->map_writable,
{call_pad}&fault->hva, &fault->page);""",
        ),
        *_x86_exits(x86_release),
    ]
    if version >= 6:
        x86_edits.append(
            Edit(
                X86_MMU,
                "\t\t\tfault->map_writable = false;\n\t\t\treturn RET_PF_CONTINUE;",
                "\t\t\tfault->map_writable = false;\n\t\t\tfault->page = NULL;\n"
                "\t\t\treturn RET_PF_CONTINUE;",
            )
        )
    commits.append(
        Commit(
            f"KVM: x86/mmu: use gfn_to_pfn_{name}",
            f"""
Move the x86 fault path to {fn}() and keep the page it
returns in struct kvm_page_fault.  The fault path then releases the page,
when there is one, instead of the pfn, so pfns that are not backed by a
refcounted page can be mapped into the guest.
""",
            x86_edits,
        )
    )
    arm_pad = cont(f"\tpfn = {fn}(")
    commits.append(
        Commit(
            f"KVM: arm64/mmu: use gfn_to_pfn_{name}",
            f"""
Move user_mem_abort() to {fn}() and only mark and
release the page when KVM holds a reference on one.
""",
            [
                Edit(
                    ARM64,
                    "\tkvm_pfn_t pfn;\n\tbool logging_active",
                    "\tkvm_pfn_t pfn;\n\tstruct page *page;\n\tbool logging_active",
                ),
                Edit(
                    ARM64,
                    """	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   write_fault, &writable, NULL);""",
                    f"""	pfn = {fn}(memslot, gfn, false, false, NULL,
{arm_pad}write_fault, &writable, NULL, &page);""",
                ),
                Edit(
                    ARM64,
                    "__gfn_to_pfn_memslot() found is stale",
                    f"{fn}() found is stale",
                ),
                *_arm64_release(arm64_release),
            ],
            trailers=[f"Acked-by: {ident(MARC)}"] if version >= 6 else [],
        )
    )
    commits.append(
        Commit("KVM: mmu: remove over-aggressive warnings", REMOVE_WARNINGS_BODY, remove_warnings())
    )
    return commits


# --------------------------------------------------------------------------------------
# v7, v7.1 and v8: __kvm_follow_pfn(struct kvm_follow_pfn *foll).
# --------------------------------------------------------------------------------------


def sean_assert() -> Commit:
    """1/8, by Sean: WARN when marking a page whose refcount has dropped to zero."""
    return Commit(
        "KVM: Assert that a page's refcount is elevated when marking accessed/dirty",
        """
Warn when KVM marks a page accessed or dirty while its refcount is zero.
KVM doesn't pin the pages it maps into a guest; the mmu notifier tells
it when the primary MMU takes a page away.  Touching the page's flags
after that point changes a page nobody holds any more, possibly one that
was already reused.  A zero refcount is a cheap sign of that bug, e.g.
of a release forgotten on some error path.
""",
        [
            Edit(
                MAIN,
                """static bool kvm_is_ad_tracked_page(struct page *page)
{
	/*""",
                """static bool kvm_is_ad_tracked_page(struct page *page)
{
	/*
	 * Something must hold a reference while the page is marked: a zero
	 * count means KVM is touching a page the primary MMU already freed,
	 * e.g. because KVM forgot to put it on an error or fault path.
	 */
	WARN_ON_ONCE(!page_count(page));

	/*""",
            )
        ],
        author=SEAN,
    )


FOLLOW_STRUCT_V7 = """
struct kvm_follow_pfn {
	const struct kvm_memory_slot *slot;
	gfn_t gfn;
	unsigned int flags;
	bool atomic;
	/* Try to create a writable mapping even for a read fault */
	bool try_map_writable;

	/* Outputs of __kvm_follow_pfn */
	hva_t hva;
	bool writable;
};

kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll);
"""


def introduce_follow(version: int) -> Commit:
    """2/8: the struct-based entry point; __gfn_to_pfn_memslot becomes a wrapper."""
    subject = (
        "KVM: mmu: Introduce __kvm_follow_pfn function"
        if version >= 8
        else ("KVM: Introduce __kvm_follow_pfn function")
    )
    edits = [
        Edit(
            HOST,
            "#define KVM_PFN_ERR_SIGPENDING\t(KVM_PFN_ERR_MASK + 3)\n",
            "#define KVM_PFN_ERR_SIGPENDING\t(KVM_PFN_ERR_MASK + 3)\n"
            "#define KVM_PFN_ERR_NEEDS_IO\t(KVM_PFN_ERR_MASK + 4)\n",
        ),
        Edit(
            HOST,
            "\t\t\t       bool write_fault, bool *writable, hva_t *hva);\n",
            "\t\t\t       bool write_fault, bool *writable, hva_t *hva);\n" + FOLLOW_STRUCT_V7,
        ),
        Edit(
            KVM_MM,
            "kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic, bool interruptible,\n"
            "\t\t     bool *async, bool write_fault, bool *writable);\n",
            "kvm_pfn_t hva_to_pfn(struct kvm_follow_pfn *foll);\n",
        ),
        Edit(
            PFNCACHE,
            "\tunsigned long mmu_seq;\n\n\tlockdep_assert_held(&gpc->lock);\n",
            "\tunsigned long mmu_seq;\n\tstruct kvm_follow_pfn foll = {\n"
            "\t\t.flags = FOLL_WRITE,\n\t};\n\n\tlockdep_assert_held(&gpc->lock);\n",
        ),
        Edit(
            PFNCACHE,
            "\t\tnew_pfn = hva_to_pfn(gpc->uhva, false, false, NULL, true, NULL);\n",
            "\t\tfoll.hva = gpc->uhva;\n\t\tnew_pfn = hva_to_pfn(&foll);\n",
        ),
        # The fast path.
        Edit(
            MAIN,
            """static bool hva_to_pfn_fast(unsigned long addr, bool write_fault,
			    bool *writable, kvm_pfn_t *pfn)
{
	struct page *page[1];

	if (!(write_fault || writable))
		return false;

	if (get_user_page_fast_only(addr, FOLL_WRITE, page)) {
		*pfn = page_to_pfn(page[0]);

		if (writable)
			*writable = true;
		return true;
	}""",
            """static bool hva_to_pfn_fast(struct kvm_follow_pfn *foll, kvm_pfn_t *pfn)
{
	struct page *page[1];

	if (!((foll->flags & FOLL_WRITE) || foll->try_map_writable))
		return false;

	if (get_user_page_fast_only(foll->hva, FOLL_WRITE, page)) {
		*pfn = page_to_pfn(page[0]);
		foll->writable = true;
		return true;
	}""",
        ),
        # The slow path.
        Edit(
            MAIN,
            """static int hva_to_pfn_slow(unsigned long addr, bool *async, bool write_fault,
			   bool interruptible, bool *writable, kvm_pfn_t *pfn)
{
	unsigned int flags = FOLL_HWPOISON;
	struct page *page;
	int npages;

	might_sleep();

	if (writable)
		*writable = write_fault;

	if (write_fault)
		flags |= FOLL_WRITE;
	if (async)
		flags |= FOLL_NOWAIT;
	if (interruptible)
		flags |= FOLL_INTERRUPTIBLE;

	npages = get_user_pages_unlocked(addr, 1, &page, flags);
	if (npages != 1)
		return npages;

	if (unlikely(!write_fault) && writable) {
		struct page *wpage;

		if (get_user_page_fast_only(addr, FOLL_WRITE, &wpage)) {
			*writable = true;""",
            """static int hva_to_pfn_slow(struct kvm_follow_pfn *foll, kvm_pfn_t *pfn)
{
	unsigned int flags = FOLL_HWPOISON | foll->flags;
	struct page *page;
	int npages;

	might_sleep();

	npages = get_user_pages_unlocked(foll->hva, 1, &page, flags);
	if (npages != 1)
		return npages;

	foll->writable = foll->flags & FOLL_WRITE;

	if (!(foll->flags & FOLL_WRITE) && foll->try_map_writable) {
		struct page *wpage;

		if (get_user_page_fast_only(foll->hva, FOLL_WRITE, &wpage)) {
			foll->writable = true;""",
        ),
        # follow_pte.
        Edit(
            MAIN,
            """static int hva_to_pfn_remapped(struct vm_area_struct *vma,
			       unsigned long addr, bool write_fault,
			       bool *writable, kvm_pfn_t *p_pfn)
{
	kvm_pfn_t pfn;
	pte_t *ptep;
	spinlock_t *ptl;
	int r;

	r = follow_pte(vma->vm_mm, addr, &ptep, &ptl);""",
            """static int hva_to_pfn_remapped(struct vm_area_struct *vma,
			       struct kvm_follow_pfn *foll, kvm_pfn_t *p_pfn)
{
	bool write_fault = foll->flags & FOLL_WRITE;
	kvm_pfn_t pfn;
	pte_t *ptep;
	spinlock_t *ptl;
	int r;

	r = follow_pte(vma->vm_mm, foll->hva, &ptep, &ptl);""",
        ),
        Edit(
            MAIN,
            """		r = fixup_user_fault(current->mm, addr,""",
            """		r = fixup_user_fault(current->mm, foll->hva,""",
        ),
        Edit(
            MAIN,
            """		r = follow_pte(vma->vm_mm, addr, &ptep, &ptl);
		if (r)
			return r;""",
            """		r = follow_pte(vma->vm_mm, foll->hva, &ptep, &ptl);
		if (r)
			return r;""",
        ),
        Edit(
            MAIN,
            "\tif (writable)\n\t\t*writable = pte_write(*ptep);\n\tpfn = pte_pfn(*ptep);\n",
            "\tfoll->writable = pte_write(*ptep);\n\tpfn = pte_pfn(*ptep);\n",
        ),
        # hva_to_pfn itself.
        Edit(
            MAIN,
            """ * Resolve a host virtual address to a pfn, taking a reference on its page.
 * @addr: the host virtual address backing the guest page
 * @atomic: only try the lockless fast path, never sleep
 * @interruptible: let a non-fatal signal interrupt the lookup
 * @async: if set, don't wait for IO; report through *@async that IO is needed
 * @write_fault: the guest wants to write
 * @writable: if set, map writable when possible and say so through it
 *
 * A writable page is returned for write faults, and for read faults when
 * @writable is set and the host allows it.
 */
kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic, bool interruptible,
		     bool *async, bool write_fault, bool *writable)
{
	struct vm_area_struct *vma;
	kvm_pfn_t pfn;
	int npages, r;

	/* An atomic lookup can't wait for IO, so async makes no sense with it. */
	BUG_ON(atomic && async);

	if (hva_to_pfn_fast(addr, write_fault, writable, &pfn))
		return pfn;

	if (atomic)
		return KVM_PFN_ERR_FAULT;

	npages = hva_to_pfn_slow(addr, async, write_fault, interruptible,
				 writable, &pfn);""",
            """ * Resolve foll->hva to a pfn.
 * @foll: the host virtual address in foll->hva, and how to get the page:
 *        FOLL_WRITE for a writable page, FOLL_NOWAIT to return
 *        KVM_PFN_ERR_NEEDS_IO instead of waiting for IO, FOLL_INTERRUPTIBLE
 *        to give up on non-fatal signals; foll->atomic to never sleep.
 *
 * A writable page is mapped when FOLL_WRITE is set, or when
 * foll->try_map_writable is set and that is possible; foll->writable
 * tells the caller which.
 */
kvm_pfn_t hva_to_pfn(struct kvm_follow_pfn *foll)
{
	struct vm_area_struct *vma;
	kvm_pfn_t pfn;
	int npages, r;

	/* An atomic lookup can't wait for IO, so async makes no sense with it. */
	BUG_ON(foll->atomic && (foll->flags & FOLL_NOWAIT));

	if (hva_to_pfn_fast(foll, &pfn))
		return pfn;

	if (foll->atomic)
		return KVM_PFN_ERR_FAULT;

	npages = hva_to_pfn_slow(foll, &pfn);""",
        ),
        Edit(
            MAIN,
            """	vma = vma_lookup(current->mm, addr);

	if (vma == NULL)
		pfn = KVM_PFN_ERR_FAULT;
	else if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
		r = hva_to_pfn_remapped(vma, addr, write_fault, writable, &pfn);""",
            """	vma = vma_lookup(current->mm, foll->hva);

	if (vma == NULL)
		pfn = KVM_PFN_ERR_FAULT;
	else if (vma->vm_flags & (VM_IO | VM_PFNMAP)) {
		r = hva_to_pfn_remapped(vma, foll, &pfn);""",
        ),
        Edit(
            MAIN,
            """	} else {
		if (async && vma_is_valid(vma, write_fault))
			*async = true;
		pfn = KVM_PFN_ERR_FAULT;
	}""",
            """	} else {
		if ((foll->flags & FOLL_NOWAIT) &&
		    vma_is_valid(vma, foll->flags & FOLL_WRITE))
			pfn = KVM_PFN_ERR_NEEDS_IO;
		else
			pfn = KVM_PFN_ERR_FAULT;
	}""",
        ),
        # The new entry point, and the old one on top of it.
        Edit(
            MAIN,
            """kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva)
{
	unsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);

	if (hva)
		*hva = addr;

	if (addr == KVM_HVA_ERR_RO_BAD) {
		if (writable)
			*writable = false;
		return KVM_PFN_ERR_RO_FAULT;
	}

	if (kvm_is_error_hva(addr)) {
		if (writable)
			*writable = false;
		return KVM_PFN_NOSLOT;
	}

	/* A readonly memslot is never mapped writable. */
	if (writable && memslot_is_readonly(slot)) {
		*writable = false;
		writable = NULL;
	}

	return hva_to_pfn(addr, atomic, interruptible, async, write_fault,
			  writable);
}
EXPORT_SYMBOL_GPL(__gfn_to_pfn_memslot);
""",
            """kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll)
{
	foll->writable = false;
	foll->hva = __gfn_to_hva_many(foll->slot, foll->gfn, NULL,
				      foll->flags & FOLL_WRITE);

	if (foll->hva == KVM_HVA_ERR_RO_BAD)
		return KVM_PFN_ERR_RO_FAULT;

	if (kvm_is_error_hva(foll->hva))
		return KVM_PFN_NOSLOT;

	/* A readonly memslot is never mapped writable. */
	if (memslot_is_readonly(foll->slot))
		foll->try_map_writable = false;

	return hva_to_pfn(foll);
}
EXPORT_SYMBOL_GPL(__kvm_follow_pfn);

kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva)
{
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = 0,
		.atomic = atomic,
		.try_map_writable = !!writable,
	};

	if (write_fault)
		foll.flags |= FOLL_WRITE;
	if (async)
		foll.flags |= FOLL_NOWAIT;
	if (interruptible)
		foll.flags |= FOLL_INTERRUPTIBLE;

	pfn = __kvm_follow_pfn(&foll);
	if (pfn == KVM_PFN_ERR_NEEDS_IO) {
		*async = true;
		pfn = KVM_PFN_ERR_FAULT;
	}
	if (hva)
		*hva = foll.hva;
	if (writable)
		*writable = foll.writable;
	return pfn;
}
EXPORT_SYMBOL_GPL(__gfn_to_pfn_memslot);
""",
        ),
    ]
    return Commit(
        subject,
        """
Add __kvm_follow_pfn() to replace __gfn_to_pfn_memslot().  Instead of
eight positional arguments it takes a struct kvm_follow_pfn: the memslot
and gfn as inputs, FOLL_ flags for what used to be the write_fault,
interruptible and async booleans, and fields for the writable and hva
results.  FOLL_NOWAIT stands in for async: when the page needs IO, the
new error pfn KVM_PFN_ERR_NEEDS_IO says so.

For now __gfn_to_pfn_memslot() wraps the new function, so its callers
see no difference.
""",
        edits,
    )


def follow_refcount(version: int) -> Commit:
    """3/8: without FOLL_GET, __kvm_follow_pfn drops the reference it took."""
    subject = (
        "KVM: mmu: Make __kvm_follow_pfn not imply FOLL_GET"
        if version >= 8
        else ("KVM: Make __kvm_follow_pfn not imply FOLL_GET")
    )
    struct_fields = [
        Edit(
            HOST,
            "\t/* Try to create a writable mapping even for a read fault */\n"
            "\tbool try_map_writable;\n",
            "\t/* Try to create a writable mapping even for a read fault */\n"
            "\tbool try_map_writable;\n"
            + (
                "\t/*\n"
                "\t * The caller's use of the pfn is protected by the mmu notifier, so\n"
                "\t * __kvm_follow_pfn may return it without holding a reference.\n"
                "\t */\n"
                if version >= 8
                else ""
            )
            + "\tbool guarded_by_mmu_notifier;\n",
        ),
        Edit(
            HOST,
            "\thva_t hva;\n\tbool writable;\n};\n",
            "\thva_t hva;\n\tbool writable;\n"
            + (
                "\t/*\n"
                "\t * True if the pfn's struct page has a usable refcount.  With\n"
                "\t * FOLL_GET, a reference is held exactly when this is set.\n"
                "\t */\n"
                if version >= 8
                else "\t/* True if the returned pfn is for a page with a valid refcount. */\n"
            )
            + "\tbool is_refcounted_page;\n};\n",
        ),
        Edit(PFNCACHE, "\t\t.flags = FOLL_WRITE,\n", "\t\t.flags = FOLL_GET | FOLL_WRITE,\n"),
        Edit(
            MAIN,
            "\t\t.flags = 0,\n\t\t.atomic = atomic,",
            "\t\t.flags = FOLL_GET,\n\t\t.atomic = atomic,",
        ),
    ]
    entry = Edit(
        MAIN,
        """kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll)
{
	foll->writable = false;
""",
        """kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll)
{
	/* Without a reference, only the mmu notifier keeps the page alive. */
	if (WARN_ON_ONCE(!(foll->flags & FOLL_GET) && !foll->guarded_by_mmu_notifier))
		return KVM_PFN_ERR_FAULT;

	foll->writable = false;
	foll->is_refcounted_page = false;
""",
    )
    gup_flags = Edit(
        MAIN,
        "\tunsigned int flags = FOLL_HWPOISON | foll->flags;\n",
        "\t/* gup always takes a reference; the caller may not keep it */\n"
        "\tunsigned int flags = FOLL_HWPOISON | FOLL_GET | foll->flags;\n",
    )
    if version >= 8:
        helper = Edit(
            MAIN,
            "/*\n * The fast path only pins writable pages",
            """/*
 * Account for a reference gup took on a refcounted page: FOLL_GET callers
 * keep it, everyone else is guarded by the mmu notifier and drops it now.
 */
static kvm_pfn_t kvm_follow_refcounted_pfn(struct kvm_follow_pfn *foll,
					   struct page *page)
{
	kvm_pfn_t pfn = page_to_pfn(page);

	foll->is_refcounted_page = true;

	if (likely(!(foll->flags & FOLL_GET)))
		put_page(page);

	return pfn;
}

/*
 * The fast path only pins writable pages""",
        )
        fast = Edit(
            MAIN,
            "\t\t*pfn = page_to_pfn(page[0]);\n\t\tfoll->writable = true;\n",
            "\t\t*pfn = kvm_follow_refcounted_pfn(foll, page[0]);\n\t\tfoll->writable = true;\n",
        )
        slow = Edit(
            MAIN,
            "\t*pfn = page_to_pfn(page);\n\treturn npages;\n",
            "\t*pfn = kvm_follow_refcounted_pfn(foll, page);\n\treturn npages;\n",
        )
        remapped = Edit(
            MAIN,
            """	/*
	 * Callers release whatever pfn they get back, so take a reference
	 * here as well, but only on pages whose refcount is live: get_page()
	 * on a tail page of a non-compound allocation would corrupt it.
	 */
	if (!kvm_try_get_pfn(pfn))
		r = -EFAULT;
""",
            """	/*
	 * A pfn without a struct page, e.g. device memory, has no refcount to
	 * take.  A struct page with a zero refcount, e.g. a tail page of a
	 * non-compound higher order allocation, can't be pinned: only callers
	 * guarded by the mmu notifier may map it.
	 */
	page = kvm_pfn_to_refcounted_page(pfn);
	if (!page)
		goto out;

	if (get_page_unless_zero(page))
		pfn = kvm_follow_refcounted_pfn(foll, page);
	else if (foll->flags & FOLL_GET)
		r = -EFAULT;
""",
        )
    else:
        helper = None
        fast = Edit(
            MAIN,
            "\t\t*pfn = page_to_pfn(page[0]);\n\t\tfoll->writable = true;\n",
            "\t\t*pfn = page_to_pfn(page[0]);\n\t\tfoll->writable = true;\n"
            "\t\tfoll->is_refcounted_page = true;\n"
            "\t\tif (!(foll->flags & FOLL_GET))\n\t\t\tput_page(page[0]);\n",
        )
        slow = Edit(
            MAIN,
            "\t*pfn = page_to_pfn(page);\n\treturn npages;\n",
            "\t*pfn = page_to_pfn(page);\n\tfoll->is_refcounted_page = true;\n"
            "\tif (!(foll->flags & FOLL_GET))\n\t\tput_page(page);\n\treturn npages;\n",
        )
        remapped = Edit(
            MAIN,
            """	/*
	 * Callers release whatever pfn they get back, so take a reference
	 * here as well, but only on pages whose refcount is live: get_page()
	 * on a tail page of a non-compound allocation would corrupt it.
	 */
	if (!kvm_try_get_pfn(pfn))
		r = -EFAULT;
""",
            """	page = kvm_pfn_to_refcounted_page(pfn);
	if (page) {
		if (get_page_unless_zero(page)) {
			foll->is_refcounted_page = true;
			if (!(foll->flags & FOLL_GET))
				put_page(page);
		} else if (foll->flags & FOLL_GET) {
			r = -EFAULT;
		}
	}
""",
        )
    remapped_decl = Edit(
        MAIN,
        "\tbool write_fault = foll->flags & FOLL_WRITE;\n\tkvm_pfn_t pfn;\n",
        "\tbool write_fault = foll->flags & FOLL_WRITE;\n\tstruct page *page;\n\tkvm_pfn_t pfn;\n",
    )
    unused = Edit(
        MAIN,
        """static int kvm_try_get_pfn(kvm_pfn_t pfn)
{
	struct page *page = kvm_pfn_to_refcounted_page(pfn);

	if (!page)
		return 1;

	return get_page_unless_zero(page);
}

""",
        "",
    )
    edits = [*struct_fields, entry, gup_flags, fast, slow, unused, remapped_decl, remapped]
    if helper is not None:
        edits.insert(0, helper)
    return Commit(
        subject,
        """
Turn FOLL_GET into a real flag of __kvm_follow_pfn(): without it, the
reference gup took is dropped before the function returns.  KVM can then
map pages whose refcount it must leave alone, such as the tail pages of
non-compound higher order allocations, provided nothing uses the pfn
after the mmu notifier invalidated it.  Callers declare that with
guarded_by_mmu_notifier; __kvm_follow_pfn() keeps the reference for
anyone who doesn't.

The new is_refcounted_page output says whether the page has a usable
refcount.  With FOLL_GET, a reference is held exactly when it is set;
without FOLL_GET, none is ever held.

Every caller still passes FOLL_GET, so behavior is unchanged.
""",
        edits,
    )


def x86_migrate(version: int, point: bool = False) -> Commit:
    """4/8: the x86 fault path calls __kvm_follow_pfn; v7's first cut sets FOLL_INTERRUPTIBLE
    on both lookups, which v7.1 and v8 fix."""
    interruptible_everywhere = version == 7 and not point
    first_flags = "FOLL_GET | FOLL_INTERRUPTIBLE" if interruptible_everywhere else "FOLL_GET"
    second = (
        "\tfoll.flags &= ~FOLL_NOWAIT;\n"
        if interruptible_everywhere
        else "\tfoll.flags |= FOLL_INTERRUPTIBLE;\n\tfoll.flags &= ~FOLL_NOWAIT;\n"
    )
    edits = [
        Edit(
            X86_MMU,
            """	struct kvm_memory_slot *slot = fault->slot;
	bool async;
""",
            f"""	struct kvm_memory_slot *slot = fault->slot;
	struct kvm_follow_pfn foll = {{
		.slot = slot,
		.gfn = fault->gfn,
		.flags = {first_flags},
		.try_map_writable = true,
	}};
""",
        ),
        Edit(
            X86_MMU,
            """	async = false;
"""
            + X86_CALL_1
            + """
	if (!async)
		return RET_PF_CONTINUE; /* the page was resident */
""",
            """	if (fault->write)
		foll.flags |= FOLL_WRITE;

	foll.flags |= FOLL_NOWAIT;
	fault->pfn = __kvm_follow_pfn(&foll);
	if (fault->pfn != KVM_PFN_ERR_NEEDS_IO)
		goto success;
""",
        ),
        Edit(
            X86_MMU,
            X86_CALL_2 + "\n\treturn RET_PF_CONTINUE;\n",
            second
            + """	fault->pfn = __kvm_follow_pfn(&foll);

success:
	fault->hva = foll.hva;
	fault->map_writable = foll.writable;
	return RET_PF_CONTINUE;
""",
        ),
    ]
    body = """
Migrate the x86 fault path, __kvm_faultin_pfn, from __gfn_to_pfn_memslot
to __kvm_follow_pfn.  The first lookup passes FOLL_NOWAIT and learns that
the page needs IO from KVM_PFN_ERR_NEEDS_IO instead of the async flag;
the second one may sleep and is interruptible, as before.  FOLL_GET is
still passed, so there is no functional change.
"""
    trailers = [f"Reviewed-by: {ident(SEAN)}"] if version >= 8 else []
    return Commit("KVM: x86/mmu: Migrate to __kvm_follow_pfn", body, edits, trailers=trailers)


def x86_no_foll_get(version: int) -> Commit:
    """5/8: x86 stops passing FOLL_GET; v8 keeps it on 32-bit / !tdp_enabled and, like the
    real series, still drops the release on every exit (the leak review found)."""
    v8 = version >= 8
    if v8:
        exit_mark = (
            "\t/*\n"
            "\t * Without a reference the page is only pinned by mmu_lock (the\n"
            "\t * notifier can't zap it while we hold it), so mark it now.\n"
            "\t */\n"
            "\tif (fault->is_refcounted_page)\n\t\tkvm_set_pfn_accessed(fault->pfn);\n"
        )

        def exit_of(unlock: str) -> str:
            return exit_mark + f"\t{unlock}(&vcpu->kvm->mmu_lock);\n\treturn r;"
    else:

        def exit_of(unlock: str) -> str:
            return (
                f"\t{unlock}(&vcpu->kvm->mmu_lock);\n"
                "\tif (fault->is_refcounted_page)\n\t\tkvm_set_pfn_accessed(fault->pfn);\n"
                "\treturn r;"
            )

    foll_get = (
        """
	/*
	 * The SPTE can only record that a page is refcounted on 64-bit hosts
	 * with TDP; elsewhere keep holding a reference, as before.
	 */
	if (!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled)
		foll.flags |= FOLL_GET;
"""
        if v8
        else ""
    )
    # v7 4/8 (not v7.1) set FOLL_INTERRUPTIBLE up front; v7 5/8 was written on top of that.
    old_flags = "FOLL_GET" if v8 else "FOLL_GET | FOLL_INTERRUPTIBLE"
    new_flags = "" if v8 else "\t\t.flags = FOLL_INTERRUPTIBLE,\n"
    refcounted_set = (
        "\tif (is_refcounted)\n" if v8 else "\tif (level == PG_LEVEL_4K && is_refcounted)\n"
    )
    edits = [
        Edit(
            X86_INTERNAL,
            "\tbool map_writable;\n",
            "\tbool map_writable;\n\tbool is_refcounted_page;\n",
        ),
        Edit(
            X86_MMU,
            f"\t\t.flags = {old_flags},\n\t\t.try_map_writable = true,\n\t}};\n",
            new_flags
            + "\t\t.try_map_writable = true,\n\t\t.guarded_by_mmu_notifier = true,\n\t};\n",
        ),
        Edit(
            X86_MMU,
            "\tif (fault->write)\n\t\tfoll.flags |= FOLL_WRITE;\n",
            "\tif (fault->write)\n\t\tfoll.flags |= FOLL_WRITE;\n" + foll_get,
        ),
        Edit(
            X86_MMU,
            "\tfault->map_writable = foll.writable;\n\treturn RET_PF_CONTINUE;\n",
            "\tfault->map_writable = foll.writable;\n"
            "\tfault->is_refcounted_page = foll.is_refcounted_page;\n\treturn RET_PF_CONTINUE;\n",
        ),
        Edit(
            X86_MMU,
            "\t\t\tfault->map_writable = false;\n\t\t\treturn RET_PF_CONTINUE;",
            "\t\t\tfault->map_writable = false;\n\t\t\tfault->is_refcounted_page = false;\n"
            "\t\t\treturn RET_PF_CONTINUE;",
        ),
        # Zapping an SPTE: only refcounted pages are marked through their struct page.
        Edit(
            X86_MMU,
            "\tWARN_ON_ONCE(page && !page_count(page));\n\n"
            "\tif (is_accessed_spte(old_spte))\n\t\tkvm_set_pfn_accessed(pfn);\n\n"
            "\tif (is_dirty_spte(old_spte))\n\t\tkvm_set_pfn_dirty(pfn);\n",
            "\tWARN_ON_ONCE(is_refcounted_page_spte(old_spte) && page && !page_count(page));\n\n"
            "\tif (is_refcounted_page_spte(old_spte) && is_accessed_spte(old_spte))\n"
            "\t\tkvm_set_pfn_accessed(pfn);\n\n"
            "\tif (is_refcounted_page_spte(old_spte) && is_dirty_spte(old_spte))\n"
            "\t\tkvm_set_pfn_dirty(pfn);\n",
        ),
        Edit(
            X86_MMU,
            "\twrprot = make_spte(vcpu, sp, slot, pte_access, gfn, pfn, *sptep, prefetch,\n"
            "\t\t\t   true, host_writable, &spte);\n",
            "\twrprot = make_spte(vcpu, sp, slot, pte_access, gfn, pfn, *sptep, prefetch,\n"
            "\t\t\t   true, host_writable, !fault || fault->is_refcounted_page,\n"
            "\t\t\t   &spte);\n",
        ),
        Edit(X86_MMU, X86_EXIT_DIRECT, exit_of("write_unlock")),
        Edit(X86_MMU, X86_EXIT_TDP, exit_of("read_unlock")),
        Edit(X86_TMPL, X86_EXIT_DIRECT, exit_of("write_unlock")),
        Edit(
            X86_TDP,
            "\t     spte_to_pfn(old_spte) != spte_to_pfn(new_spte)))\n"
            "\t\tkvm_set_pfn_accessed(spte_to_pfn(old_spte));\n",
            "\t     spte_to_pfn(old_spte) != spte_to_pfn(new_spte)) &&\n"
            "\t    is_refcounted_page_spte(old_spte))\n"
            "\t\tkvm_set_pfn_accessed(spte_to_pfn(old_spte));\n",
        ),
        Edit(
            X86_TDP,
            "\t\t\t\t   fault->map_writable, &new_spte);\n",
            "\t\t\t\t   fault->map_writable, fault->is_refcounted_page,\n\t\t\t\t   &new_spte);\n",
        ),
        Edit(
            X86_SPTE_H,
            "#define SPTE_BASE_ADDR_MASK",
            "/*\n"
            " * Set when the SPTE maps a page whose refcount KVM may look at, i.e.\n"
            " * one that can be marked accessed/dirty through its struct page.\n"
            " */\n"
            "#define SPTE_MMU_PAGE_REFCOUNTED\tBIT_ULL(59)\n\n"
            "#define SPTE_BASE_ADDR_MASK",
        ),
        Edit(
            X86_SPTE_H,
            "static inline kvm_pfn_t spte_to_pfn(u64 pte)",
            "static inline bool is_refcounted_page_spte(u64 spte)\n{\n"
            "\treturn spte & SPTE_MMU_PAGE_REFCOUNTED;\n}\n\n"
            "static inline kvm_pfn_t spte_to_pfn(u64 pte)",
        ),
        Edit(
            X86_SPTE_H,
            "\t       bool host_writable, u64 *new_spte);\n",
            "\t       bool host_writable, bool is_refcounted, u64 *new_spte);\n",
        ),
        Edit(
            X86_SPTE_C,
            "\t       bool host_writable, u64 *new_spte)\n",
            "\t       bool host_writable, bool is_refcounted, u64 *new_spte)\n",
        ),
        Edit(
            X86_SPTE_C,
            "\tif (level > PG_LEVEL_4K)\n\t\tspte |= PT_PAGE_SIZE_MASK;\n",
            "\tif (level > PG_LEVEL_4K)\n\t\tspte |= PT_PAGE_SIZE_MASK;\n\n"
            + refcounted_set
            + "\t\tspte |= SPTE_MMU_PAGE_REFCOUNTED;\n",
        ),
    ]
    body = """
The x86 fault path doesn't need a reference on the page it maps: it
checks mmu_invalidate_retry under mmu_lock before installing an SPTE, so
every use of the pfn is covered by the mmu notifier.  Drop FOLL_GET
there, which lets x86 map pages that aren't refcounted at all.

With no reference left to put, the fault exits no longer call
kvm_release_pfn_clean().  A new SPTE bit records whether the
mapped page is refcounted, so that zapping an SPTE only marks a page
accessed or dirty through its struct page when it has one.
"""
    if v8:
        body += """
The SPTE bit doesn't exist on 32-bit hosts, and shadow paging doesn't go
through the TDP code that sets it, so keep passing FOLL_GET there.
"""
    return Commit("KVM: x86/mmu: Don't pass FOLL_GET to __kvm_follow_pfn", body, edits)


def arm64_migrate(version: int) -> Commit:
    """6/8: user_mem_abort keeps FOLL_GET; nothing else changes."""
    trailers = [f"Reviewed-by: {ident(OLIVER)}"] if version >= 8 else []
    return Commit(
        "KVM: arm64: Migrate to __kvm_follow_pfn",
        """
Migrate user_mem_abort from __gfn_to_pfn_memslot to __kvm_follow_pfn.
It keeps passing FOLL_GET and releasing the page, so there is no
functional change.
""",
        [
            Edit(
                ARM64,
                "\tstruct kvm_pgtable *pgt;\n\n\twrite_fault = kvm_is_write_fault(vcpu);",
                "\tstruct kvm_pgtable *pgt;\n\tstruct kvm_follow_pfn foll = {\n"
                "\t\t.slot = memslot,\n\t\t.flags = FOLL_GET,\n"
                "\t\t.try_map_writable = true,\n\t};\n\n"
                "\twrite_fault = kvm_is_write_fault(vcpu);",
            ),
            Edit(
                ARM64,
                "__gfn_to_pfn_memslot() found is stale",
                "__kvm_follow_pfn() found is stale",
            ),
            Edit(
                ARM64,
                """	pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
				   write_fault, &writable, NULL);
""",
                """	foll.gfn = gfn;
	if (write_fault)
		foll.flags |= FOLL_WRITE;

	pfn = __kvm_follow_pfn(&foll);
	writable = foll.writable;
""",
            ),
        ],
        trailers=trailers,
    )


def ppc_migrate(version: int) -> Commit:
    """7/8: HV and radix fault paths; the open-coded fast lookups go."""
    trailers = [f"Acked-by: {ident(MPE)}"] if version >= 8 else []
    return Commit(
        "KVM: PPC: Migrate to __kvm_follow_pfn",
        """
Migrate the HV and radix fault paths from __gfn_to_pfn_memslot to
__kvm_follow_pfn, with FOLL_GET.  Both open-coded a
get_user_page_fast_only() lookup before calling into KVM, to map read
faults writable when the host page allows it.  __kvm_follow_pfn does
that lookup itself when try_map_writable is set, so drop the duplicate.

This is the one behavior change of the series: a page that the fast
lookup could not pin writable used to be looked up a second time through
the slow path; it now goes to the slow path directly.  The readonly
memslot check moves into __kvm_follow_pfn, so kvmppc_book3s_instantiate_page
loses its kvm_ro argument.
""",
        [
            Edit(PPC_H, "\t\t\t\tbool writing, bool kvm_ro,\n", "\t\t\t\tbool writing,\n"),
            Edit(
                PPC_HV,
                "\tpte_t pte, *ptep;\n\n\tif (kvm_is_radix(kvm))",
                "\tpte_t pte, *ptep;\n\tstruct kvm_follow_pfn foll = {\n"
                "\t\t.try_map_writable = true,\n\t};\n\n\tif (kvm_is_radix(kvm))",
            ),
            Edit(
                PPC_HV,
                """	/*
	 * Try the lockless lookup first and ask for a writable page, since
	 * the common case is that the page is writable.
	 */
	if (get_user_page_fast_only(hva, FOLL_WRITE, &page)) {
		write_ok = true;
	} else {
		/* Fall back to KVM's generic lookup */
		pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
					   writing, &write_ok, NULL);
		if (is_error_noslot_pfn(pfn))
			return -EFAULT;
		page = NULL;
		if (pfn_valid(pfn)) {
			page = pfn_to_page(pfn);
			if (PageReserved(page))
				page = NULL;
		}
	}
""",
                """	foll.slot = memslot;
	foll.gfn = gfn;
	foll.flags = FOLL_GET;
	if (writing)
		foll.flags |= FOLL_WRITE;

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	write_ok = foll.writable;
	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		if (PageReserved(page))
			page = NULL;
	}
""",
            ),
            Edit(
                PPC_RADIX,
                """				   bool writing, bool kvm_ro,
				   pte_t *inserted_pte, unsigned int *levelp)
{""",
                """				   bool writing,
				   pte_t *inserted_pte, unsigned int *levelp)
{""",
            ),
            Edit(
                PPC_RADIX,
                "\tbool upgrade_write = false;\n\tbool *upgrade_p = &upgrade_write;\n",
                "\tbool upgrade_write = false;\n\tkvm_pfn_t pfn;\n"
                "\tstruct kvm_follow_pfn foll = {\n\t\t.slot = memslot,\n\t\t.gfn = gfn,\n"
                "\t\t.flags = FOLL_GET,\n\t\t.try_map_writable = true,\n\t};\n",
            ),
            Edit(
                PPC_RADIX,
                """	/*
	 * Try the lockless lookup first and ask for a writable page, since
	 * the common case is that the page is writable.
	 */
	hva = gfn_to_hva_memslot(memslot, gfn);
	if (!kvm_ro && get_user_page_fast_only(hva, FOLL_WRITE, &page)) {
		upgrade_write = true;
	} else {
		unsigned long pfn;

		/* Fall back to KVM's generic lookup */
		pfn = __gfn_to_pfn_memslot(memslot, gfn, false, false, NULL,
					   writing, upgrade_p, NULL);
		if (is_error_noslot_pfn(pfn))
			return -EFAULT;
		page = NULL;
		if (pfn_valid(pfn)) {
			page = pfn_to_page(pfn);
			if (PageReserved(page))
				page = NULL;
		}
	}
""",
                """	if (writing)
		foll.flags |= FOLL_WRITE;

	pfn = __kvm_follow_pfn(&foll);
	if (is_error_noslot_pfn(pfn))
		return -EFAULT;
	hva = foll.hva;
	upgrade_write = foll.writable;
	if (pfn_valid(pfn)) {
		page = pfn_to_page(pfn);
		if (PageReserved(page))
			page = NULL;
	}
""",
            ),
            Edit(
                PPC_RADIX,
                "\tbool writing = !!(dsisr & DSISR_ISSTORE);\n\tbool kvm_ro = false;\n",
                "\tbool writing = !!(dsisr & DSISR_ISSTORE);\n",
            ),
            Edit(
                PPC_RADIX,
                "\t\t\treturn RESUME_GUEST;\n\t\t}\n\t\tkvm_ro = true;\n\t}\n",
                "\t\t\treturn RESUME_GUEST;\n\t\t}\n\t}\n",
            ),
            Edit(
                PPC_RADIX,
                "\tret = kvmppc_book3s_instantiate_page(vcpu, gpa, memslot, writing,\n"
                "\t\t\t\t\t     kvm_ro, NULL, NULL);\n",
                "\tret = kvmppc_book3s_instantiate_page(vcpu, gpa, memslot, writing,\n"
                "\t\t\t\t\t     NULL, NULL);\n",
            ),
            Edit(
                PPC_NESTED,
                "\tbool writing = !!(dsisr & DSISR_ISSTORE);\n\tbool kvm_ro = false;\n",
                "\tbool writing = !!(dsisr & DSISR_ISSTORE);\n",
            ),
            Edit(
                PPC_NESTED,
                "\t\t\treturn RESUME_GUEST;\n\t\t}\n\t\tkvm_ro = true;\n\t}\n",
                "\t\t\treturn RESUME_GUEST;\n\t\t}\n\t}\n",
            ),
            Edit(
                PPC_NESTED,
                "\t\t\t\t\twriting, kvm_ro, &pte, &level);\n",
                "\t\t\t\t\twriting, &pte, &level);\n",
            ),
        ],
        trailers=trailers,
    )


def remove_old_api(version: int) -> Commit:
    """8/8: the last three callers move over and __gfn_to_pfn_memslot goes."""
    subject = (
        "KVM: mmu: remove __gfn_to_pfn_memslot"
        if version >= 8
        else "KVM: remove __gfn_to_pfn_memslot"
    )
    return Commit(
        subject,
        """
With x86, arm64 and PPC converted, only the generic gfn_to_pfn helpers
still call __gfn_to_pfn_memslot().  Convert them and remove it.
""",
        [
            Edit(
                HOST,
                """kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva);
""",
                "",
            ),
            Edit(
                MAIN,
                """kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
			       bool atomic, bool interruptible, bool *async,
			       bool write_fault, bool *writable, hva_t *hva)
{
	kvm_pfn_t pfn;
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET,
		.atomic = atomic,
		.try_map_writable = !!writable,
	};

	if (write_fault)
		foll.flags |= FOLL_WRITE;
	if (async)
		foll.flags |= FOLL_NOWAIT;
	if (interruptible)
		foll.flags |= FOLL_INTERRUPTIBLE;

	pfn = __kvm_follow_pfn(&foll);
	if (pfn == KVM_PFN_ERR_NEEDS_IO) {
		*async = true;
		pfn = KVM_PFN_ERR_FAULT;
	}
	if (hva)
		*hva = foll.hva;
	if (writable)
		*writable = foll.writable;
	return pfn;
}
EXPORT_SYMBOL_GPL(__gfn_to_pfn_memslot);

kvm_pfn_t gfn_to_pfn_prot(struct kvm *kvm, gfn_t gfn, bool write_fault,
			  bool *writable)
{
	return __gfn_to_pfn_memslot(gfn_to_memslot(kvm, gfn), gfn, false, false,
				    NULL, write_fault, writable, NULL);
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_prot);

kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	return __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, true,
				    NULL, NULL);
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_memslot);

kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	return __gfn_to_pfn_memslot(slot, gfn, true, false, NULL, true,
				    NULL, NULL);
}
""",
                """kvm_pfn_t gfn_to_pfn_prot(struct kvm *kvm, gfn_t gfn, bool write_fault,
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

	pfn = __kvm_follow_pfn(&foll);
	if (writable)
		*writable = foll.writable;
	return pfn;
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_prot);

kvm_pfn_t gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
	};

	return __kvm_follow_pfn(&foll);
}
EXPORT_SYMBOL_GPL(gfn_to_pfn_memslot);

kvm_pfn_t gfn_to_pfn_memslot_atomic(const struct kvm_memory_slot *slot, gfn_t gfn)
{
	struct kvm_follow_pfn foll = {
		.slot = slot,
		.gfn = gfn,
		.flags = FOLL_GET | FOLL_WRITE,
		.atomic = true,
	};

	return __kvm_follow_pfn(&foll);
}
""",
            ),
        ],
    )


def follow_commits(version: int) -> list[Commit]:
    """v7 / v8: eight patches, Sean's first."""
    return [
        sean_assert(),
        introduce_follow(version),
        follow_refcount(version),
        x86_migrate(version),
        x86_no_foll_get(version),
        arm64_migrate(version),
        ppc_migrate(version),
        remove_old_api(version),
    ]


def v7_1_commits() -> list[Commit]:
    """v7.1: v7's first three patches, then the rerolled 4/8 that replaces v7 4/8."""
    return [sean_assert(), introduce_follow(7), follow_refcount(7), x86_migrate(7, point=True)]


def version_commits(label: str) -> list[Commit]:
    """Every commit of one version, in order."""
    if label == "1":
        return v1_commits()
    if label == "7.1":
        return v7_1_commits()
    version = int(label)
    if version <= 6:
        return early_commits(version)
    return follow_commits(version)
