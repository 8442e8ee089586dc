"""A fault handler (a spec `[consumers]` entry) is checked on its own exits even where it is a
static function only its callers call: walked inside a caller, its leaks are left to its own
check, so skipping that check lost them. Shown on the real 6.12 x86 MMU, in a temporary copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewtool.analyses.spec.check import check_source

KERNEL = Path(__file__).resolve().parents[1] / "../shared/kernel/linux-6.12"
MMU = "arch/x86/kvm/mmu/mmu.c"

pytestmark = pytest.mark.skipif(
    not (KERNEL / MMU).is_file(), reason="../shared/kernel/linux-6.12 is not here"
)


def _without_release(text: str, function: str, release: str) -> str:
    start = text.index(f"static int {function}(")
    at = text.index(release, start)
    return text[:at] + text[at + len(release) :]


def test_a_release_deleted_from_a_static_fault_handler_is_a_leak_in_it() -> None:
    text = (KERNEL / MMU).read_text(encoding="utf-8", errors="replace")
    assert [f for f in check_source(MMU, text).findings if f.function == "direct_page_fault"] == []
    broken = _without_release(text, "direct_page_fault", "\tkvm_release_pfn_clean(orig_pfn);\n")
    leaks = [(f.function, f.rule) for f in check_source(MMU, broken).findings if f.rule == "leak"]
    assert leaks == [("direct_page_fault", "leak")]
    # Asked for alone (a patch touching only it), the same leak, once.
    alone = check_source(MMU, broken, {"direct_page_fault"})
    assert [(f.function, f.rule) for f in alone.findings] == [("direct_page_fault", "leak")]
