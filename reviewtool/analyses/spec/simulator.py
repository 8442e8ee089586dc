"""The reference simulator: an executable model of page references, mmu_lock and the notifier.

Each operation updates the model and returns the violations it commits, the moment it commits
them; with `strict=True` the first violation raises `SpecViolation` instead. The path walker
drives one simulator per path; property tests drive it with random operation sequences.
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewtool.analyses.spec.model import ERROR, HELD, NOT_REFCOUNTED, PAGE_KINDS, UNHELD
from reviewtool.errors import AnalysisError


@dataclass(frozen=True)
class Violation:
    """One broken rule: its stable name and what happened."""

    rule: str
    message: str
    page: int | None = None


class SpecViolation(AnalysisError):
    """Raised by a strict simulator at the first broken rule."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(f"{violation.rule}: {violation.message}")
        self.violation = violation


@dataclass
class Page:
    """One faulted-in pfn and what has happened to its reference."""

    kind: str
    refs: int
    was_held: bool
    snapshot_before: bool  # the notifier sequence was read before this fault-in
    line: int = 0  # where the fault-in happened, for messages
    struct_page: bool = True  # a not-refcounted pfn may have no struct page at all (PFNMAP)
    # Faulted in with mmu_lock held, and the lock not dropped since: no invalidation can
    # have come in between (the atomic prefetch paths).
    under_lock: bool = False


class Simulator:
    """Pages, references, mmu_lock depth, the notifier snapshot and the retry check."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        self.pages: dict[int, Page] = {}
        self.next_pid = 0  # ids stay unique when forgotten pages leave `pages`
        self.lock_depth = 0
        self.lock_seen = False  # mmu_lock was taken on this path: a fault path
        self.snapshot_taken = False
        self.retry_ok = False

    # -- bookkeeping -------------------------------------------------------------------------

    def copy(self) -> Simulator:
        """An independent copy, for a path that forks."""
        clone = Simulator.__new__(Simulator)
        clone.__dict__.update(self.__dict__)
        clone.pages = {
            pid: Page(
                p.kind, p.refs, p.was_held, p.snapshot_before, p.line, p.struct_page, p.under_lock
            )
            for pid, p in self.pages.items()
        }
        return clone

    def key(self) -> tuple:
        """A hashable summary of the whole state (for merging identical paths)."""
        pages = tuple((pid, *self.page_key(pid)) for pid in sorted(self.pages))
        return (pages, *self.lock_key())

    def page_key(self, pid: int) -> tuple:
        """What is known of page `pid`, without its id."""
        p = self.pages[pid]
        return (p.kind, p.refs, p.was_held, p.snapshot_before, p.struct_page, p.under_lock, p.line)

    def lock_key(self) -> tuple:
        """What is known of mmu_lock and the notifier."""
        return (self.lock_depth, self.lock_seen, self.snapshot_taken, self.retry_ok)

    def forget(self, pids: set[int]) -> None:
        """Drop pages nothing can reach any more (no variable holds them, and no reference
        is kept or it went where the walker stops following), so that paths merge."""
        for pid in pids:
            self.pages.pop(pid, None)

    def _report(self, found: list[Violation]) -> list[Violation]:
        if found and self.strict:
            raise SpecViolation(found[0])
        return found

    @property
    def locked(self) -> bool:
        """True while mmu_lock is held."""
        return self.lock_depth > 0

    def holds(self, pid: int) -> bool:
        """True while a reference to page `pid` is held."""
        return self.pages[pid].refs > 0

    # -- operations --------------------------------------------------------------------------

    def acquire(
        self,
        kind: str,
        with_get: bool = True,
        guarded: bool = True,
        get_required: bool = False,
        line: int = 0,
        struct_page: bool = True,
    ) -> tuple[int, list[Violation]]:
        """Fault in a pfn that turns out to be `kind`; returns its id and the violations."""
        if kind not in PAGE_KINDS:
            raise ValueError(f"unknown page kind {kind!r}")
        self.next_pid += 1
        pid = self.next_pid
        held = kind == HELD
        self.pages[pid] = Page(
            kind, 1 if held else 0, held, self.snapshot_taken, line, struct_page, self.locked
        )
        found = []
        if not with_get and not guarded:
            found.append(
                Violation(
                    "no-get-unguarded",
                    "pfn followed without FOLL_GET and not guarded by the mmu notifier",
                    pid,
                )
            )
        if not with_get and get_required:
            found.append(
                Violation(
                    "get-required",
                    "FOLL_GET not passed although the SPTE cannot record a refcounted page",
                    pid,
                )
            )
        return pid, self._report(found)

    def get_page(self, pid: int) -> list[Violation]:
        """Take an extra reference (get_page())."""
        page = self.pages[pid]
        if page.kind in (ERROR, NOT_REFCOUNTED):
            return self._report(
                [
                    Violation(
                        "release-without-reference", "get_page() on a page with no refcount", pid
                    )
                ]
            )
        page.refs += 1
        page.was_held = True
        return []

    def release(
        self,
        pid: int,
        dirty: bool = False,
        unused: bool = False,
        null_page: bool = False,
        null_safe: bool = True,
        noop_kinds: tuple[str, ...] = (),
        needs_lock_when_dirty: bool = False,
    ) -> list[Violation]:
        """Drop a reference to page `pid` (through a pfn or struct page helper)."""
        page = self.pages[pid]
        if null_page:
            if null_safe:
                return []
            return self._report(
                [Violation("release-without-reference", "put_page() on a NULL page", pid)]
            )
        if page.kind in noop_kinds:
            return []
        if page.kind == ERROR:
            return self._report(
                [Violation("release-without-reference", "release of an error pfn", pid)]
            )
        if page.refs == 0:
            if page.was_held:
                return self._report(
                    [Violation("double-release", "reference released a second time", pid)]
                )
            why = "followed without FOLL_GET" if page.kind == UNHELD else "not refcounted"
            return self._report(
                [Violation("release-without-reference", f"release of a page {why}", pid)]
            )
        page.refs -= 1
        # Rule 6 is about fault paths, which take mmu_lock to install the mapping.
        if dirty and not unused and needs_lock_when_dirty and self.lock_seen and not self.locked:
            return self._report(
                [
                    Violation(
                        "release-dirty-unlocked", "released dirty after mmu_lock was dropped", pid
                    )
                ]
            )
        return []

    def mark(
        self,
        pid: int,
        null_page: bool = False,
        noop_kinds: tuple[str, ...] = (),
        via_pfn: bool = False,
        dirty: bool = False,
    ) -> list[Violation]:
        """Mark page `pid` accessed or dirty (through its pfn or its struct page). No rule
        depends on `dirty`; subclasses that record what a path did read it (summaries.py)."""
        page = self.pages[pid]
        if via_pfn and page.kind == NOT_REFCOUNTED and not page.struct_page:
            return []  # the pfn helpers skip pfns without a struct page
        if null_page:
            return self._report(
                [
                    Violation(
                        "mark-not-refcounted", "marking through a NULL (not refcounted) page", pid
                    )
                ]
            )
        if page.kind in noop_kinds:
            return []
        if page.kind in (ERROR, NOT_REFCOUNTED):
            return self._report(
                [Violation("mark-not-refcounted", "marking a page that is not refcounted", pid)]
            )
        if page.refs == 0 and page.was_held:
            return self._report(
                [
                    Violation(
                        "use-after-release", "marking a page after its reference was released", pid
                    )
                ]
            )
        if page.refs == 0 and not self.locked:
            return self._report(
                [
                    Violation(
                        "mark-after-unlock",
                        "marking a page held without a reference outside mmu_lock",
                        pid,
                    )
                ]
            )
        return []

    def lock(self) -> list[Violation]:
        """Take mmu_lock."""
        self.lock_depth += 1
        self.lock_seen = True
        return []

    def unlock(self) -> list[Violation]:
        """Drop mmu_lock; a retry check done under it no longer counts."""
        if self.lock_depth > 0:
            self.lock_depth -= 1
        if self.lock_depth == 0:
            self.retry_ok = False
            for page in self.pages.values():
                page.under_lock = False
        return []

    def snapshot(self) -> list[Violation]:
        """Read the mmu-notifier sequence (mmu_invalidate_seq)."""
        self.snapshot_taken = True
        return []

    def retry_check(self, stale: bool) -> list[Violation]:
        """The notifier retry check returned `stale`; passing it counts only under mmu_lock."""
        late = self.snapshot_taken and any(not p.snapshot_before for p in self.pages.values())
        self.retry_ok = (not stale) and self.locked and not late
        return []

    def install(self) -> list[Violation]:
        """Install a mapping of the faulted-in page."""
        if self.locked and self.retry_ok:
            return []
        if self.locked and self.pages and all(p.under_lock for p in self.pages.values()):
            return []  # every page came in under the lock still held
        if not self.locked:
            why = "without mmu_lock held"
        elif self.snapshot_taken and any(not p.snapshot_before for p in self.pages.values()):
            why = "with a notifier snapshot taken after the fault-in"
        else:
            why = "before the mmu-notifier retry check passed"
        return self._report([Violation("install-before-retry-check", f"mapping installed {why}")])

    def exit(self, escaped: frozenset[int] = frozenset()) -> list[Violation]:
        """Leave the consumer: every held reference not handed on is a leak."""
        found = [
            Violation("leak", "page reference is not released on this path", pid)
            for pid, page in sorted(self.pages.items())
            if page.refs > 0 and pid not in escaped
        ]
        return self._report(found)
