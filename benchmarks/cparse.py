"""Parse and query speed of the C layer on a generated ~300 KB kernel-style file.

Run: python benchmarks/cparse.py [--size KB] [--repeat N]
Prints MB/s for a cold parse (sanitise + tree-sitter + query index), for the queries the
analyses run (functions, calls of a few names, enclosing function of many lines), and for a
cached parse (content hash lookup).
"""

from __future__ import annotations

import argparse
import statistics
import time

from reviewtool.cparse import cache_clear, parse_c
from reviewtool.cparse.parse import ParsedSource

TARGET_KB = 300
REPEAT = 5
QUERY_NAMES = ("__gfn_to_pfn_memslot", "kvm_release_pfn_clean", "FNAME(fetch)", "spin_lock")
ENCLOSING_STEP = 7  # ask for the enclosing function of every 7th line

FUNCTION = """
static __always_inline int __must_check kvm_fault_{n}(struct kvm_vcpu *vcpu,
						struct kvm_page_fault *fault, void __user *uaddr)
{{
	struct kvm_mmu_page *sp;
	bool async = false;
	int ret = RET_PF_RETRY;

	list_for_each_entry(sp, &vcpu->kvm->arch.active_mmu_pages, link) {{
		if (unlikely(sp->role.invalid))
			continue;
		kvm_mmu_zap_one_{n}(vcpu->kvm, sp);
	}}

#ifdef CONFIG_X86_64
	if (fault->is_tdp) {{
#else
	if (fault->is_private) {{
#endif
		fault->pfn = __gfn_to_pfn_memslot(fault->slot, fault->gfn, false, false, &async,
						fault->write, &fault->map_writable, &fault->hva);
	}}
	spin_lock(&vcpu->kvm->mmu_lock);
	for_each_set_bit(i, &mask, BITS_PER_LONG)
		ret = FNAME(fetch)(vcpu, fault, container_of(uaddr, struct guest_walker, uaddr));
	spin_unlock(&vcpu->kvm->mmu_lock);
	kvm_release_pfn_clean(fault->pfn);
	return min_t(unsigned long, ret, {n});
}}
EXPORT_SYMBOL_GPL(kvm_fault_{n});
"""


def generate(kilobytes: int, salt: int = 0) -> str:
    """A kernel-style C file of about the given size; salt makes its content unique."""
    parts = [f"// SPDX-License-Identifier: GPL-2.0-only\n/* generated {salt} */\n"]
    parts.append("#include <linux/kvm_host.h>\n")
    size = sum(len(p) for p in parts)
    n = 0
    while size < kilobytes * 1024:
        block = FUNCTION.format(n=n)
        parts.append(block)
        size += len(block)
        n += 1
    return "".join(parts)


def _query(parsed: ParsedSource) -> int:
    found = len(parsed.functions()) + len(parsed.errors)
    for name in QUERY_NAMES:
        found += len(parsed.calls(name))
    lines = parsed.text.count("\n")
    for line in range(1, lines, ENCLOSING_STEP):
        found += parsed.enclosing_function(line) is not None
    return found


def main() -> None:
    """Time cold parses, queries and cached parses; print the figures."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--size", type=int, default=TARGET_KB, help="file size in KB")
    options.add_argument("--repeat", type=int, default=REPEAT, help="runs per figure")
    args = options.parse_args()

    texts = [generate(args.size, salt) for salt in range(args.repeat)]
    megabytes = len(texts[0].encode()) / 1e6
    cache_clear()
    cold, query, cached = [], [], []
    for text in texts:
        start = time.perf_counter()
        parsed = parse_c(text)
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = _query(parsed)
        query.append(time.perf_counter() - start)
        start = time.perf_counter()
        again = parse_c(text)
        cached.append(time.perf_counter() - start)
        assert again is parsed and found > 0 and not parsed.errors
    functions = len(parse_c(texts[0]).functions())
    print(
        f"file: {megabytes * 1000:.0f} KB, {texts[0].count(chr(10))} lines, {functions} functions"
    )
    for label, times in (("cold parse", cold), ("first queries", query), ("cached parse", cached)):
        median = statistics.median(times)
        print(f"{label:<14} {median * 1000:9.2f} ms  {megabytes / median:10.1f} MB/s")
    both = statistics.median(c + q for c, q in zip(cold, query, strict=True))
    print(f"{'parse+query':<14} {both * 1000:9.2f} ms  {megabytes / both:10.1f} MB/s")


if __name__ == "__main__":
    main()
