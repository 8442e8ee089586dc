"""Abstract values the path walker keeps for variables and struct fields.

Plain tuples, so that a path's whole state hashes and identical paths merge:
  ("?",)                  unknown
  ("c", n)                an integer constant
  ("pfn", pid)            the pfn of faulted-in page `pid`
  ("page", pid, kinds)    its struct page, non-NULL when the page's kind is in `kinds`
  ("refc", pid, kinds)    an "is refcounted" answer, true when the kind is in `kinds`
  ("err", pid)            an error predicate applied to page `pid`
  ("errpfn",)             a KVM_PFN_ERR_* constant
  ("flags", names)        a set of FOLL_* flags
  ("notflags", names)     ~(FOLL_* flags)
  ("retry",)              the answer of an mmu-notifier retry check
  ("zero",)               a struct initialised with `{ ... }`: unnamed fields are zero
  ("alias", frame, path)  a pointer parameter standing for a caller's location
  ("addr", pid)           an address inside page `pid` (page_to_virt()): whoever keeps it
                          keeps the page, so handing it on hands the reference on
"""

from __future__ import annotations

UNKNOWN: tuple = ("?",)
ZERO_STRUCT: tuple = ("zero",)
RETRY: tuple = ("retry",)
ERROR_PFN: tuple = ("errpfn",)


def const(number: int) -> tuple:
    """An integer constant."""
    return ("c", number)


def flags(names: frozenset[str]) -> tuple:
    """A set of FOLL_* flags."""
    return ("flags", frozenset(names))


def holds_reference_to(value: tuple) -> set[int]:
    """Pages whose reference this value can be used to drop (a pfn or struct page)."""
    if value[0] in ("pfn", "page", "addr"):
        return {value[1]}
    return set()
