"""Abstract values the path walker keeps for variables and struct fields.

Small frozen dataclasses, so that a path's whole state hashes and identical paths merge. A
value naming a page (`pid`) refers to the simulator's page of that id on the same path.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Value:
    """Any abstract value (the base class; never made itself)."""


@dataclass(frozen=True, slots=True)
class Unknown(Value):
    """A value the walker does not know."""


@dataclass(frozen=True, slots=True)
class Const(Value):
    """An integer constant (NULL, false and errno values included)."""

    number: int


@dataclass(frozen=True, slots=True)
class Pfn(Value):
    """The pfn of faulted-in page `pid`."""

    pid: int


@dataclass(frozen=True, slots=True)
class Page(Value):
    """The struct page of page `pid`: non-NULL when the page's kind is in `kinds`."""

    pid: int
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Refcounted(Value):
    """An "is refcounted" answer about page `pid`: true when its kind is in `kinds`."""

    pid: int
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Addr(Value):
    """An address inside page `pid` (page_to_virt()): whoever keeps it keeps the page, so
    handing it on hands the reference on."""

    pid: int


@dataclass(frozen=True, slots=True)
class ErrorPfn(Value):
    """An error pfn constant of the spec's `[values]` (KVM_PFN_ERR_*)."""


@dataclass(frozen=True, slots=True)
class Flags(Value):
    """A set of get/follow flags (the spec's `[values]` flag names)."""

    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class NotFlags(Value):
    """The complement of a flag set: `~(FOLL_WRITE | ...)`."""

    names: frozenset[str]


@dataclass(frozen=True, slots=True)
class Retry(Value):
    """The answer of an mmu-notifier retry check."""


@dataclass(frozen=True, slots=True)
class ZeroStruct(Value):
    """A struct initialised with `{ ... }`: the fields it does not name are zero."""


@dataclass(frozen=True, slots=True)
class Alias(Value):
    """A pointer parameter standing for a caller's location (`frame`, dotted `path`)."""

    frame: int
    path: str


@dataclass(frozen=True, slots=True)
class Sym(Value):
    """A value nobody on the path wrote, named after where it comes from: a location
    (`depth:path`) or a call site (`ret:byte`), so that copies answer a test alike."""

    name: str


UNKNOWN = Unknown()
ZERO_STRUCT = ZeroStruct()
RETRY = Retry()
ERROR_PFN = ErrorPfn()
NULL = Const(0)
# Values that hold a page reference: whoever keeps one can still drop the reference.
REFERENCE_HOLDERS = (Pfn, Page, Addr)
# Values a release or a predicate takes a page from.
PAGE_VALUES = (Pfn, Page)


def flags(names: frozenset[str] | set[str]) -> Flags:
    """A set of flags."""
    return Flags(frozenset(names))


def holds_reference_to(value: Value) -> set[int]:
    """Pages whose reference this value can be used to drop (a pfn, struct page, address)."""
    if isinstance(value, REFERENCE_HOLDERS):
        return {value.pid}
    return set()


def renumbered(value: Value, order: dict[int, int]) -> Value:
    """`value` with the page it names renumbered by `order` (pid -> new pid)."""
    pid = getattr(value, "pid", None)
    if pid is None or pid not in order:
        return value
    return replace(value, pid=order[pid])
