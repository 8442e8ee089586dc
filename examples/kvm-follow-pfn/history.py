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

    def message(self) -> str:
        """The full commit message, trailers last as git expects them."""
        trailers = list(self.trailers)
        trailers.append(f"Signed-off-by: {ident(self.author)}")
        if self.author != DAVID:
            trailers.append(f"Signed-off-by: {ident(DAVID)}")
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
                        "\t * across the entire mapping.\n",
                        "\t * across the entire mapping; a huge page could otherwise span\n"
                        "\t * ranges with different MTRR types.\n",
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
                        " * missing second stage translation table entry.\n",
                        " * missing second stage translation table entry.  user_mem_abort()\n"
                        " * runs under kvm->srcu, taken here.\n",
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
                        "\t/* Check if we might have been invalidated; let the guest retry if so */\n"
                        "\tspin_lock(&kvm->mmu_lock);\n",
                        "\t/*\n"
                        "\t * Check if we might have been invalidated; let the guest retry if so.\n"
                        "\t * The check is only meaningful with kvm->mmu_lock held.\n"
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
