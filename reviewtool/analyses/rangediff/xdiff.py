"""A port of the parts of git's xdiff that decide the shape of a diff (xdiff/xdiffi.c,
xprepare.c): Myers' middle snake, multi-match record cleanup and group compaction.

A different minimal diff has a different amount of context, which changes range-diff's costs
and could tip a close pairing the other way; so the diff of diffs is computed as git does.
"""

from __future__ import annotations

from collections import Counter

# Lines of context in the diff of diffs, as range-diff's diffsize() uses.
CONTEXT_LINES = 3

# Changes closer than this many unchanged lines share one hunk (xdiff: 2 * ctxlen).
HUNK_MERGE_GAP = 2 * CONTEXT_LINES

# xdiff: a line seen this often (capped) in the other file may be discarded before Myers.
XDL_MAX_EQLIMIT = 1024

# xdiff: how far xdl_clean_mmatch looks around a multi-match line.
XDL_SIMSCAN_WINDOW = 100

# xdiff: keep a multi-match line unless the run around it is mostly unmatched lines.
XDL_KPDIS_RUN = 4


def _bogosqrt(n: int) -> int:
    """xdiff's rough square root: the next power of two of about sqrt(n)."""
    i = 1
    while n > 0:
        i <<= 1
        n >>= 2
    return i


def _clean_mmatch(dis: list[int], i: int, s: int, e: int) -> bool:
    """True when multi-match line i sits in a run of mostly unmatched lines (discard it)."""
    s = max(s, i - XDL_SIMSCAN_WINDOW)
    e = min(e, i + XDL_SIMSCAN_WINDOW)
    rdis0, rpdis0 = 0, 1
    r = 1
    while i - r >= s:
        value = dis[i - r]
        if value == 0:
            rdis0 += 1
        elif value == 2:
            rpdis0 += 1
        else:
            break
        r += 1
    if rdis0 == 0:
        return False
    rdis1, rpdis1 = 0, 1
    r = 1
    while i + r <= e:
        value = dis[i + r]
        if value == 0:
            rdis1 += 1
        elif value == 2:
            rpdis1 += 1
        else:
            break
        r += 1
    if rdis1 == 0:
        return False
    rdis1 += rdis0
    rpdis1 += rpdis0
    return rpdis1 * XDL_KPDIS_RUN < rpdis1 + rdis1


def _middle_snake(
    ha1: list[int],
    off1: int,
    lim1: int,
    ha2: list[int],
    off2: int,
    lim2: int,
    kvdf: list[int],
    kvdb: list[int],
    base: int,
) -> tuple[int, int]:
    """Where an optimal path crosses the middle of the box (Myers' middle snake, as xdiff)."""
    dmin, dmax = off1 - lim2, lim1 - off2
    fmid, bmid = off1 - off2, lim1 - lim2
    odd = (fmid - bmid) & 1
    fmin = fmax = fmid
    bmin = bmax = bmid
    kvdf[base + fmid] = off1
    kvdb[base + bmid] = lim1
    line_max = 1 << 62  # beyond any line number, as XDL_LINE_MAX
    while True:
        if fmin > dmin:
            fmin -= 1
            kvdf[base + fmin - 1] = -1
        else:
            fmin += 1
        if fmax < dmax:
            fmax += 1
            kvdf[base + fmax + 1] = -1
        else:
            fmax -= 1
        for d in range(fmax, fmin - 1, -2):
            lo, hi = kvdf[base + d - 1], kvdf[base + d + 1]
            i1 = lo + 1 if lo >= hi else hi
            i2 = i1 - d
            while i1 < lim1 and i2 < lim2 and ha1[i1] == ha2[i2]:
                i1 += 1
                i2 += 1
            kvdf[base + d] = i1
            if odd and bmin <= d <= bmax and kvdb[base + d] <= i1:
                return i1, i2
        if bmin > dmin:
            bmin -= 1
            kvdb[base + bmin - 1] = line_max
        else:
            bmin += 1
        if bmax < dmax:
            bmax += 1
            kvdb[base + bmax + 1] = line_max
        else:
            bmax -= 1
        for d in range(bmax, bmin - 1, -2):
            lo, hi = kvdb[base + d - 1], kvdb[base + d + 1]
            i1 = lo if lo < hi else hi - 1
            i2 = i1 - d
            while i1 > off1 and i2 > off2 and ha1[i1 - 1] == ha2[i2 - 1]:
                i1 -= 1
                i2 -= 1
            kvdb[base + d] = i1
            if not odd and fmin <= d <= fmax and i1 <= kvdf[base + d]:
                return i1, i2


def _compare_records(
    ha1: list[int], ha2: list[int], changed1: list[int], changed2: list[int]
) -> None:
    """Mark the lines of two reduced files that an optimal edit script changes."""
    n1, n2 = len(ha1), len(ha2)
    size = n1 + n2 + 3
    kvdf = [0] * size
    kvdb = [0] * size
    base = n2 + 1
    stack = [(0, n1, 0, n2)]
    while stack:
        off1, lim1, off2, lim2 = stack.pop()
        while off1 < lim1 and off2 < lim2 and ha1[off1] == ha2[off2]:
            off1 += 1
            off2 += 1
        while off1 < lim1 and off2 < lim2 and ha1[lim1 - 1] == ha2[lim2 - 1]:
            lim1 -= 1
            lim2 -= 1
        if off1 == lim1:
            changed2.extend(range(off2, lim2))
        elif off2 == lim2:
            changed1.extend(range(off1, lim1))
        else:
            s1, s2 = _middle_snake(ha1, off1, lim1, ha2, off2, lim2, kvdf, kvdb, base)
            stack.append((s1, lim1, s2, lim2))
            stack.append((off1, s1, off2, s2))


def _compact(recs: list[int], rchg: list[int], other: list[int]) -> None:
    """Slide groups of changed lines down as far as they go, then back up to meet a change in
    the other file (xdiff's xdl_change_compact without the indent heuristic).

    rchg and other carry a zero sentinel at both ends: line k is at k + 1.
    """
    n, no = len(recs), len(other) - 2

    def first_group(flags: list[int]) -> list[int]:
        end = 0
        while flags[end + 1]:
            end += 1
        return [0, end]

    def next_group(flags: list[int], g: list[int], count: int) -> bool:
        if g[1] == count:
            return False
        g[0] = g[1] + 1
        g[1] = g[0]
        while flags[g[1] + 1]:
            g[1] += 1
        return True

    def previous_group(flags: list[int], g: list[int]) -> bool:
        if g[0] == 0:
            return False
        g[1] = g[0] - 1
        g[0] = g[1]
        while flags[g[0]]:
            g[0] -= 1
        return True

    def slide_up(g: list[int]) -> bool:
        if g[0] > 0 and recs[g[0] - 1] == recs[g[1] - 1]:
            g[0] -= 1
            rchg[g[0] + 1] = 1
            g[1] -= 1
            rchg[g[1] + 1] = 0
            while rchg[g[0]]:
                g[0] -= 1
            return True
        return False

    def slide_down(g: list[int]) -> bool:
        if g[1] < n and recs[g[0]] == recs[g[1]]:
            rchg[g[0] + 1] = 0
            g[0] += 1
            rchg[g[1] + 1] = 1
            g[1] += 1
            while rchg[g[1] + 1]:
                g[1] += 1
            return True
        return False

    g = first_group(rchg)
    go = first_group(other)
    while True:
        if g[1] != g[0]:
            while True:
                size = g[1] - g[0]
                end_matching_other = -1
                while slide_up(g):
                    previous_group(other, go)
                earliest_end = g[1]
                if go[1] > go[0]:
                    end_matching_other = g[1]
                while slide_down(g):
                    next_group(other, go, no)
                    if go[1] > go[0]:
                        end_matching_other = g[1]
                if size == g[1] - g[0]:
                    break
            if g[1] != earliest_end and end_matching_other != -1:
                while go[1] == go[0]:
                    slide_up(g)
                    previous_group(other, go)
        if not next_group(rchg, g, n):
            break
        next_group(other, go, no)


def changed_lines(a: list[int], b: list[int]) -> tuple[list[int], list[int]]:
    """Changed-line flags of a and b (zero sentinel at each end), as git's xdiff sets them."""
    n1, n2 = len(a), len(b)
    rchg1 = [0] * (n1 + 2)
    rchg2 = [0] * (n2 + 2)
    limit = min(n1, n2)
    start = 0
    while start < limit and a[start] == b[start]:
        start += 1
    tail = 0
    while tail < limit - start and a[n1 - 1 - tail] == b[n2 - 1 - tail]:
        tail += 1
    end1, end2 = n1 - tail - 1, n2 - tail - 1
    if start > end1 and start > end2:
        return rchg1, rchg2
    count1, count2 = Counter(a), Counter(b)
    reduced: list[tuple[list[int], list[int]]] = []
    for recs, end, others, rchg, n in ((a, end1, count2, rchg1, n1), (b, end2, count1, rchg2, n2)):
        mlim = min(_bogosqrt(n), XDL_MAX_EQLIMIT)
        dis = [0] * (n + 1)
        for i in range(start, end + 1):
            matches = others.get(recs[i], 0)
            dis[i] = 0 if matches == 0 else (2 if matches >= mlim else 1)
        ha: list[int] = []
        rindex: list[int] = []
        for i in range(start, end + 1):
            if dis[i] == 1 or (dis[i] == 2 and not _clean_mmatch(dis, i, start, end)):
                rindex.append(i)
                ha.append(recs[i])
            else:
                rchg[i + 1] = 1
        reduced.append((ha, rindex))
    (ha1, rindex1), (ha2, rindex2) = reduced
    changed1: list[int] = []
    changed2: list[int] = []
    _compare_records(ha1, ha2, changed1, changed2)
    for k in changed1:
        rchg1[rindex1[k] + 1] = 1
    for k in changed2:
        rchg2[rindex2[k] + 1] = 1
    _compact(a, rchg1, rchg2)
    _compact(b, rchg2, rchg1)
    return rchg1, rchg2


def _changes(rchg1: list[int], rchg2: list[int]) -> list[tuple[int, int, int, int]]:
    """(i1, i2, chg1, chg2) change atoms from the changed-line flags, in order."""
    n1, n2 = len(rchg1) - 2, len(rchg2) - 2
    out = []
    i1 = i2 = 0
    while i1 < n1 or i2 < n2:
        if (i1 < n1 and rchg1[i1 + 1]) or (i2 < n2 and rchg2[i2 + 1]):
            s1, s2 = i1, i2
            while i1 < n1 and rchg1[i1 + 1]:
                i1 += 1
            while i2 < n2 and rchg2[i2 + 1]:
                i2 += 1
            out.append((s1, s2, i1 - s1, i2 - s2))
        else:
            i1 += 1
            i2 += 1
    return out


def _group_hunks(
    changes: list[tuple[int, int, int, int]],
) -> list[list[tuple[int, int, int, int]]]:
    """Change atoms grouped into hunks the way xdiff's xdl_get_hunk groups them."""
    hunks: list[list[tuple[int, int, int, int]]] = []
    for change in changes:
        if hunks:
            last = hunks[-1][-1]
            if change[0] - (last[0] + last[2]) <= HUNK_MERGE_GAP:
                hunks[-1].append(change)
                continue
        hunks.append([change])
    return hunks


Flags = tuple[list[int], list[int]]


def diff_ops(a: list, b: list, changed: Flags | None = None) -> list[list[tuple[str, int, int]]]:
    """Hunks of a unified diff of a and b (3 lines of context), as git would emit them.

    Each hunk is a list of (tag, index_a, index_b) with tag ' ', '-' or '+'; the index of
    the side a tag does not use is -1. `changed`, when given, is what `changed_lines` gave
    for lists equal where a and b are equal (the pairing's, for a pair it priced): it
    depends on nothing but which lines are equal, so it is not computed twice.
    """
    if changed is None:
        ids: dict = {}
        ia = [ids.setdefault(x, len(ids)) for x in a]
        ib = [ids.setdefault(x, len(ids)) for x in b]
        changed = changed_lines(ia, ib)
    rchg1, rchg2 = changed
    n1, n2 = len(a), len(b)
    out = []
    for hunk in _group_hunks(_changes(rchg1, rchg2)):
        first = hunk[0]
        ops: list[tuple[str, int, int]] = []
        pre = min(CONTEXT_LINES, first[1])
        for k in range(pre, 0, -1):
            ops.append((" ", first[0] - k, first[1] - k))
        s1, s2 = first[0], first[1]
        for i1, i2, chg1, chg2 in hunk:
            while s1 < i1 and s2 < i2:
                ops.append((" ", s1, s2))
                s1 += 1
                s2 += 1
            ops.extend(("-", k, -1) for k in range(i1, i1 + chg1))
            ops.extend(("+", -1, k) for k in range(i2, i2 + chg2))
            s1, s2 = i1 + chg1, i2 + chg2
        post = min(CONTEXT_LINES, n1 - s1, n2 - s2)
        ops.extend((" ", s1 + k, s2 + k) for k in range(post))
        out.append(ops)
    return out


def diff_cost(a: list[int], b: list[int]) -> int:
    """git range-diff's diffsize(): hunk headers plus lines of the unified diff of a and b."""
    return flags_cost(changed_lines(a, b))


def flags_cost(changed: Flags) -> int:
    """`diff_cost` from the changed-line flags `changed_lines` gave."""
    rchg1, rchg2 = changed
    n1, n2 = len(rchg1) - 2, len(rchg2) - 2
    total = 0
    for hunk in _group_hunks(_changes(rchg1, rchg2)):
        first, last = hunk[0], hunk[-1]
        end1, end2 = last[0] + last[2], last[1] + last[3]
        total += 1 + min(CONTEXT_LINES, first[1]) + (end2 - first[1]) + (end1 - first[0])
        # The unchanged lines between atoms were counted on both sides; count them once.
        total -= sum(h[0] - (p[0] + p[2]) for p, h in zip(hunk, hunk[1:], strict=False))
        total += min(CONTEXT_LINES, n1 - end1, n2 - end2)
    return total
