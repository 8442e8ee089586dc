"""The checker's rules: stable names, severities, and where each rule comes from.

One row per rule, in the order of the reference-count rules of KVM-FACTS.md. The `why` and
`source` texts are what a reviewer reads when a finding needs explaining.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One rule: its stable name, severity, what it catches and why that is a bug."""

    name: str
    severity: str
    fact: int  # the rule's number in KVM-FACTS.md
    what: str
    why: str
    source: str


RULES: dict[str, Rule] = {
    rule.name: rule
    for rule in (
        Rule(
            "leak",
            "error",
            1,
            "A path out of a fault handler keeps a page reference it took.",
            "The page can never be freed; a guest can pin host memory at will.",
            "v8 5/8 review: releases dropped from the x86 exit paths while FOLL_GET is still "
            "passed on 32-bit or without TDP; v12 arm64 dirty-mark in place of a dirty release.",
        ),
        Rule(
            "double-release",
            "error",
            2,
            "A reference is dropped twice.",
            "The second put frees a page someone else still uses.",
            "KVM-FACTS rule 2.",
        ),
        Rule(
            "use-after-release",
            "error",
            2,
            "A page is marked accessed or dirty after its reference was dropped.",
            "The page may already be freed and reused.",
            "KVM-FACTS rule 2.",
        ),
        Rule(
            "release-without-reference",
            "error",
            3,
            "A reference that was never taken is dropped (no FOLL_GET, not refcounted, an error "
            "pfn, or a NULL page given to put_page()).",
            "Dropping a reference nobody took underflows the refcount of a page KVM does not own.",
            "KVM-FACTS rule 3; v8 3/8 made __kvm_follow_pfn not imply FOLL_GET.",
        ),
        Rule(
            "mark-not-refcounted",
            "error",
            4,
            "A page that is not refcounted is marked accessed or dirty through its struct page.",
            "Tail pages of non-compound allocations have no usable refcount; v8 1/8 WARNs.",
            "v8 1/8: KVM: Assert that a page's refcount is elevated when marking accessed/dirty.",
        ),
        Rule(
            "mark-after-unlock",
            "warning",
            5,
            "A page held without a reference is marked accessed or dirty outside mmu_lock.",
            "Without mmu_lock the notifier may already have unmapped and freed the page.",
            "v8 changelog: Set access bits before releasing mmu_lock.",
        ),
        Rule(
            "release-dirty-unlocked",
            "warning",
            6,
            "A reference is released dirty outside mmu_lock while the page was used.",
            "The dirty bit must be set while the mapping is known to be live.",
            "6.13 kvm_release_faultin_page(): lockdep asserts mmu_lock unless unused.",
        ),
        Rule(
            "install-before-retry-check",
            "error",
            7,
            "A mapping is installed before the mmu-notifier retry check passed under mmu_lock.",
            "An invalidation between fault-in and install leaves the guest mapping a stale page.",
            "KVM-FACTS rule 7 (mmu_invalidate_seq snapshot before the fault-in).",
        ),
        Rule(
            "no-get-unguarded",
            "error",
            8,
            "A pfn is followed without FOLL_GET outside the protection of the mmu notifier.",
            "Nothing keeps the page alive once the follow returns.",
            "v8 2/8: guarded_by_mmu_notifier in struct kvm_follow_pfn.",
        ),
        Rule(
            "get-required",
            "error",
            9,
            "FOLL_GET is dropped where the SPTE cannot record that the page is refcounted.",
            "Without the refcounted bit the zap path cannot tell which pages to release.",
            "v8 5/8 review: 32-bit x86 and shadow paging (!tdp_enabled) still need FOLL_GET.",
        ),
    )
}

RULE_NAMES = tuple(RULES)


def severity_of(rule: str) -> str:
    """The severity a rule's findings carry."""
    return RULES[rule].severity
