"""Range-diff of two revisions from mail alone: pairing, interdiff, rebase noise, splits.

Pairing follows `git range-diff` (range-diff.c) step by step so that both tools agree:
each patch's diff is normalised the way git normalises `git log -p` output (index lines,
line numbers and a/ b/ prefixes dropped, `## file ##` headers), identical diffs pair first,
the cost of pairing two patches is the size of the unified diff (3 lines of context) between
their normalised diffs, leaving a patch unpaired costs its size times the creation factor,
and the assignment is solved optimally. The diff of diffs is computed by a port of the
parts of git's xdiff that decide its size (Myers' middle snake, record cleanup, group
compaction), because a different minimal diff has a different amount of context and could
tip a close pairing the other way.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix

from reviewtool.diff.model import read_diff
from reviewtool.errors import AnalysisError
from reviewtool.series.model import Patch, Revision

# git range-diff's default --creation-factor (RANGE_DIFF_CREATION_FACTOR_DEFAULT, percent).
DEFAULT_CREATION_FACTOR = 0.6
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
# git's COST_MAX: the cost of a pair that must never be chosen (range-diff.c).
GIT_COST_MAX = 1 << 16
# Price every pair exactly (as git does) up to this many; past it, pairs a cheap bound proves
# hopeless keep the bound, which changes no optimum and saves most of the time.
EXACT_PAIR_LIMIT = 2500
# Split/squash: a piece counts when this share of its changed lines came from the whole...
REGROUP_PIECE_SHARE = 0.5
# ...and the pieces together cover this share of the whole...
REGROUP_COVER_SHARE = 0.6
# ...and each piece brings at least this many changed lines.
REGROUP_MIN_LINES = 1

STATUS_IDENTICAL = "identical"
STATUS_MESSAGE_ONLY = "message-only"
STATUS_CODE_CHANGED = "code-changed"

# Lines of a changed line that carry nothing to review: blank lines and lone braces.
_TRIVIAL_RE = re.compile(r"^[\s{}();]*$")


# ---------------------------------------------------------------------------------------------
# Normalisation: a mail's diff -> the lines git range-diff compares


def normalise_diff(diff: str) -> list[str]:
    """The lines git range-diff compares for one patch, built from the patch's mail diff.

    git range-diff reads `git log -p` and rewrites it: each file starts with a blank line and
    ` ## path ##` (with `(new)`, `(deleted)`, `old => new`, mode changes), hunk headers lose
    their line numbers and become `@@ path: function`, and index lines go. The mail carries
    the same diff with a/ b/ prefixes, so the same rewrite gives the same lines. The one diff
    reader (`diff.model.read_diff`) ends each hunk where its counts say, so a signature (`-- `
    then the git version) or a trailing mailing-list footer never becomes part of the diff.
    """
    out: list[str] = []
    for file_diff in read_diff(diff, lenient=True).files:
        if not file_diff.header or not file_diff.header[0].startswith("diff --git "):
            continue  # range-diff reads git's own output, which always has this header
        old_name = file_diff.old_path or file_diff.path
        new_name = file_diff.new_path or file_diff.path
        if out:
            out.append("")
        if file_diff.old_path is None:
            title = f"{new_name} (new)"
        elif file_diff.new_path is None:
            title = f"{old_name} (deleted)"
        elif file_diff.renamed and old_name != new_name:
            title = f"{old_name} => {new_name}"
        else:
            title = new_name
        old_mode, new_mode = file_diff.old_mode, file_diff.new_mode
        if old_mode and new_mode and old_mode != new_mode:
            title += f" (mode change {old_mode} => {new_mode})"
        out.append(f" ## {title} ##")
        out.extend(" " + line for line in file_diff.header if line.startswith(_BINARY_HEADERS))
        for hunk in file_diff.hunks:
            function = hunk.header.split("@@", 2)[2]
            out.append(f"@@ {file_diff.path}:{function}" if function else "@@")
            for index, line in enumerate(hunk.lines):
                out.append(line.kind + line.text)
                if index in hunk.markers:
                    out.append(" " + hunk.markers[index])
    return out


_BINARY_HEADERS = ("Binary files ", "GIT binary patch")


def diff_size(lines: list[str]) -> int:
    """The size git gives a patch for the creation cost: its diff lines, separators excluded."""
    return sum(1 for line in lines if line)


# ---------------------------------------------------------------------------------------------
# A port of the parts of git's xdiff that decide the shape of a diff


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


def diff_ops(a: list, b: list) -> list[list[tuple[str, int, int]]]:
    """Hunks of a unified diff of a and b (3 lines of context), as git would emit them.

    Each hunk is a list of (tag, index_a, index_b) with tag ' ', '-' or '+'; the index of
    the side a tag does not use is -1.
    """
    ids: dict = {}
    ia = [ids.setdefault(x, len(ids)) for x in a]
    ib = [ids.setdefault(x, len(ids)) for x in b]
    rchg1, rchg2 = changed_lines(ia, ib)
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
    rchg1, rchg2 = changed_lines(a, b)
    n1, n2 = len(a), len(b)
    total = 0
    for hunk in _group_hunks(_changes(rchg1, rchg2)):
        first, last = hunk[0], hunk[-1]
        end1, end2 = last[0] + last[2], last[1] + last[3]
        total += 1 + min(CONTEXT_LINES, first[1]) + (end2 - first[1]) + (end1 - first[0])
        # The unchanged lines between atoms were counted on both sides; count them once.
        total -= sum(h[0] - (p[0] + p[2]) for p, h in zip(hunk, hunk[1:], strict=False))
        total += min(CONTEXT_LINES, n1 - end1, n2 - end2)
    return total


# ---------------------------------------------------------------------------------------------
# The result model


@dataclass
class InterdiffHunk:
    """One hunk of the diff between two versions of a patch (or of an added/dropped patch).

    Each line is an outer marker (' ', '-', '+': old version, new version) followed by the
    patch line it marks, itself starting with the patch's own marker.
    """

    file: str
    function: str
    lines: list[str]
    rebase: bool = False

    def changed(self) -> list[tuple[str, str]]:
        """(outer marker, patch line) of every line that differs between the versions."""
        return [(line[0], line[1:]) for line in self.lines if line[:1] in "-+"]

    def code_lines(self) -> list[tuple[str, str]]:
        """Changed lines that are code the patch adds or removes (not context, not headers)."""
        return [(o, inner) for o, inner in self.changed() if inner[:1] in "-+"]

    def to_json(self) -> dict:
        """{file, function, rebase, lines}."""
        return {
            "file": self.file,
            "function": self.function,
            "rebase": self.rebase,
            "lines": list(self.lines),
        }


@dataclass
class PatchPair:
    """Two versions of one patch that the assignment paired."""

    from_index: int
    to_index: int
    status: str
    title_from: str
    title_to: str
    subject_changed: bool = False
    moved: bool = False
    rebase_only: bool = False
    interdiff: list[InterdiffHunk] = field(default_factory=list)
    message_diff: list[str] = field(default_factory=list)
    cost: int = 0
    # The two normalised patch diffs, for checks that need more than the interdiff.
    old_lines: list[str] = field(default_factory=list, repr=False)
    new_lines: list[str] = field(default_factory=list, repr=False)

    @property
    def real_hunks(self) -> list[InterdiffHunk]:
        """Interdiff hunks that change code, not only context or offsets."""
        return [hunk for hunk in self.interdiff if not hunk.rebase]

    def to_json(self) -> dict:
        """The pair as the issue's JSON shape gives it, plus subject_changed/moved/message_diff."""
        return {
            "from_index": self.from_index,
            "to_index": self.to_index,
            "status": self.status,
            "title_from": self.title_from,
            "title_to": self.title_to,
            "subject_changed": self.subject_changed,
            "moved": self.moved,
            "rebase_only": self.rebase_only,
            "interdiff": [hunk.to_json() for hunk in self.interdiff],
            "message_diff": list(self.message_diff),
        }


@dataclass
class UnpairedPatch:
    """A patch present on one side only, with its content (git shows just a bare `<` / `>`)."""

    index: int
    title: str
    content: list[InterdiffHunk] = field(default_factory=list)
    size: int = 0
    author: str = ""

    def to_json(self) -> dict:
        """{index, title, author, size, content}."""
        return {
            "index": self.index,
            "title": self.title,
            "author": self.author,
            "size": self.size,
            "content": [hunk.to_json() for hunk in self.content],
        }


@dataclass
class Regrouping:
    """Patches split or squashed between versions: from_indices became to_indices."""

    kind: str  # "split" or "squash"
    from_indices: list[int]
    to_indices: list[int]
    coverage: float

    def to_json(self) -> dict:
        """{kind, from, to, coverage}."""
        return {
            "kind": self.kind,
            "from": list(self.from_indices),
            "to": list(self.to_indices),
            "coverage": round(self.coverage, 2),
        }


@dataclass
class Comparison:
    """The range-diff of two revisions: pairs, added, dropped, regroupings, changelog verdicts."""

    from_label: str
    to_label: str
    pairs: list[PatchPair] = field(default_factory=list)
    added: list[UnpairedPatch] = field(default_factory=list)
    dropped: list[UnpairedPatch] = field(default_factory=list)
    splits: list[Regrouping] = field(default_factory=list)
    squashes: list[Regrouping] = field(default_factory=list)
    changelog: list = field(default_factory=list)  # changelog_check.Verdict
    undocumented: list = field(default_factory=list)  # changelog_check.Undocumented
    creation_factor: float = DEFAULT_CREATION_FACTOR
    from_base: str | None = None
    to_base: str | None = None
    # The revisions compared: changelog claims about trailers and cover letters read them.
    old: Revision | None = field(default=None, repr=False, compare=False)
    new: Revision | None = field(default=None, repr=False, compare=False)

    @property
    def hunk_count(self) -> int:
        """Interdiff hunks over every pair."""
        return sum(len(pair.interdiff) for pair in self.pairs)

    @property
    def rebase_hunk_count(self) -> int:
        """Interdiff hunks that differ only in context or offset."""
        return sum(1 for pair in self.pairs for hunk in pair.interdiff if hunk.rebase)

    @property
    def rebase_share(self) -> float:
        """Share of the interdiff hunks that are rebase noise (0.0 when nothing changed)."""
        total = self.hunk_count
        return self.rebase_hunk_count / total if total else 0.0

    def pair_to(self, to_index: int) -> PatchPair | None:
        """The pair whose new patch is at to_index, or None."""
        return next((pair for pair in self.pairs if pair.to_index == to_index), None)

    def hunks_of(self, to_index: int) -> list[InterdiffHunk]:
        """The hunks evidence can point at for a new patch: its interdiff, or its content."""
        pair = self.pair_to(to_index)
        if pair is not None:
            return pair.interdiff
        added = next((p for p in self.added if p.index == to_index), None)
        return added.content if added else []

    def to_json(self) -> dict:
        """The issue's JSON shape, plus splits, squashes and the rebase share."""
        return {
            "from": self.from_label,
            "to": self.to_label,
            "pairs": [pair.to_json() for pair in self.pairs],
            "added": [patch.to_json() for patch in self.added],
            "dropped": [patch.to_json() for patch in self.dropped],
            "changelog": [verdict.to_json() for verdict in self.changelog],
            "undocumented": [entry.to_json() for entry in self.undocumented],
            "splits": [regroup.to_json() for regroup in self.splits],
            "squashes": [regroup.to_json() for regroup in self.squashes],
            "rebase_share": round(self.rebase_share, 3),
            "rebase_hunks": self.rebase_hunk_count,
            "interdiff_hunks": self.hunk_count,
        }


# ---------------------------------------------------------------------------------------------
# Pairing


@dataclass
class _Side:
    """One revision's patches prepared for pairing."""

    patches: list[Patch]
    lines: list[list[str]]
    ids: list[list[int]]
    sizes: list[int]
    keys: list[str]


def _prepare(revision: Revision, intern: dict[str, int]) -> _Side:
    patches = sorted(revision.patches, key=lambda p: p.index)
    lines = [normalise_diff(p.diff) for p in patches]
    ids = [[intern.setdefault(line, len(intern)) for line in patch] for patch in lines]
    return _Side(
        patches=patches,
        lines=lines,
        ids=ids,
        sizes=[diff_size(patch) for patch in lines],
        keys=["\n".join(patch) for patch in lines],
    )


def _exact_matches(old: _Side, new: _Side) -> dict[int, int]:
    """Old position -> new position for identical diffs.

    git keeps the old patches in a hash map that returns the latest added of equal entries,
    so among duplicates the last old patch is taken first; do the same.
    """
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(old.keys):
        by_key.setdefault(key, []).append(i)
    out: dict[int, int] = {}
    for j, key in enumerate(new.keys):
        candidates = by_key.get(key)
        if candidates:
            out[candidates.pop()] = j
    return out


# Column space for (line, k-th occurrence); later occurrences are left out, which only
# weakens (never breaks) the lower bound.
_MAX_OCCURRENCE = 64


def _multiset_matrix(ids: list[list[int]], width: int) -> csr_matrix:
    """Rows of 0/1 over (line, occurrence) so that a dot product is a multiset intersection."""
    rows, cols = [], []
    for row, patch in enumerate(ids):
        seen: Counter[int] = Counter()
        for line in patch:
            seen[line] += 1
            if seen[line] <= _MAX_OCCURRENCE:
                rows.append(row)
                cols.append((seen[line] - 1) * width + line)
    data = np.ones(len(rows), dtype=np.int32)
    return csr_matrix((data, (rows, cols)), shape=(len(ids), width * _MAX_OCCURRENCE))


def _git_cost_matrix(
    old: _Side, new: _Side, matched: dict[int, int], factor: int, exact_limit: int
) -> tuple[np.ndarray, dict[tuple[int, int], int]]:
    """git's square cost matrix, indexed [new or dummy, old or dummy] like git's COST(col, row).

    Exactly matched patches cost 0 with each other and GIT_COST_MAX with everything else;
    leaving a patch unpaired costs its size times the factor; dummy meets dummy at 0.
    Pair costs are exact, except that when there are more than exact_limit pairs to price,
    a pair that a lower bound proves hopeless (dearer than leaving both unpaired, so never
    chosen) keeps that bound instead of its exact size.
    """
    na, nb = len(old.ids), len(new.ids)
    n = na + nb
    matrix = np.zeros((n, n), dtype=np.int64)
    rows = [i for i in range(na) if i not in matched]
    taken = set(matched.values())
    cols = [j for j in range(nb) if j not in taken]
    create_old = [old.sizes[i] * factor // 100 for i in range(na)]
    create_new = [new.sizes[j] * factor // 100 for j in range(nb)]
    matrix[:nb, :na] = GIT_COST_MAX
    for i, j in matched.items():
        matrix[j, i] = 0
    for i in range(na):
        matrix[nb:, i] = GIT_COST_MAX if i in matched else create_old[i]
    for j in range(nb):
        matrix[j, na:] = GIT_COST_MAX if j in taken else create_new[j]
    costs: dict[tuple[int, int], int] = {}
    if rows and cols:
        bounds = None
        if len(rows) * len(cols) > exact_limit:
            width = 1 + max((max(p, default=0) for p in old.ids + new.ids), default=0)
            a = _multiset_matrix([old.ids[i] for i in rows], width)
            b = _multiset_matrix([new.ids[j] for j in cols], width)
            bounds = (a @ b.T).toarray()
        for r, i in enumerate(rows):
            for c, j in enumerate(cols):
                if bounds is not None:
                    bound = len(old.ids[i]) + len(new.ids[j]) - 2 * int(bounds[r, c])
                    if bound > create_old[i] + create_new[j]:
                        matrix[j, i] = bound
                        continue
                costs[(i, j)] = matrix[j, i] = diff_cost(old.ids[i], new.ids[j])
    return matrix, costs


def _git_assignment(matrix: np.ndarray) -> list[int]:
    """Column -> row of a minimum assignment, choosing among equal ones as git does.

    git's range-diff solves with a Jonker-Volgenant solver (linear-assignment.c) whose
    tie-breaking follows its scan order; equal totals are common (a patch split in two
    costs the same paired with either half), so to pair as git pairs we follow the same
    steps: column reduction, reduction transfer, two rounds of augmenting row reduction,
    then shortest augmenting paths. matrix[row, column].
    """
    n = matrix.shape[0]
    if n < 2:
        return [0] * n
    cost = matrix.tolist()
    column2row = [-1] * n
    row2column = [-1] * n
    v = [0] * n
    first_min = matrix.argmin(axis=0).tolist()
    for j in range(n - 1, -1, -1):
        i1 = first_min[j]
        v[j] = cost[i1][j]
        if row2column[i1] == -1:
            row2column[i1] = j
            column2row[j] = i1
        else:
            if row2column[i1] >= 0:
                row2column[i1] = -2 - row2column[i1]
            column2row[j] = -1
    free_row = [0] * n
    free_count = 0
    for i in range(n):
        j1 = row2column[i]
        if j1 == -1:
            free_row[free_count] = i
            free_count += 1
        elif j1 < -1:
            row2column[i] = -2 - j1
        else:
            row = cost[i]
            other = 1 if j1 == 0 else 0
            low = row[other] - v[other]
            for j in range(1, n):
                if j != j1 and low > row[j] - v[j]:
                    low = row[j] - v[j]
            v[j1] -= low
    if free_count == 0:
        return column2row
    for _phase in range(2):
        k = 0
        saved = free_count
        free_count = 0
        while k < saved:
            i = free_row[k]
            k += 1
            row = cost[i]
            j1, u1 = 0, row[0] - v[0]
            j2, u2 = -1, None
            for j in range(1, n):
                c = row[j] - v[j]
                if u2 is None or u2 > c:
                    if u1 < c:
                        u2, j2 = c, j
                    else:
                        u2, u1, j2, j1 = u1, c, j1, j
            if j2 < 0:
                j2, u2 = j1, u1
            i0 = column2row[j1]
            if u1 < u2:
                v[j1] -= u2 - u1
            elif i0 >= 0:
                j1 = j2
                i0 = column2row[j1]
            if i0 >= 0:
                if u1 < u2:
                    k -= 1
                    free_row[k] = i0
                else:
                    free_row[free_count] = i0
                    free_count += 1
            row2column[i] = j1
            column2row[j1] = i
    d = [0] * n
    pred = [0] * n
    col = [0] * n
    for f in range(free_count):
        i1 = free_row[f]
        low = up = 0
        row = cost[i1]
        for j in range(n):
            d[j] = row[j] - v[j]
            pred[j] = i1
            col[j] = j
        j = -1
        found = False
        while not found:
            last = low
            least = d[col[up]]
            up += 1
            for k in range(up, n):
                j = col[k]
                c = d[j]
                if c <= least:
                    if c < least:
                        up = low
                        least = c
                    col[k] = col[up]
                    col[up] = j
                    up += 1
            # git jumps to the update here with j still the last column scanned; keep that.
            if any(column2row[col[k]] == -1 for k in range(low, up)):
                break
            while True:
                j1 = col[low]
                low += 1
                i = column2row[j1]
                u1 = cost[i][j1] - v[j1] - least
                row_i = cost[i]
                for k in range(up, n):
                    j = col[k]
                    c = row_i[j] - v[j] - u1
                    if c < d[j]:
                        d[j] = c
                        pred[j] = i
                        if c == least:
                            if column2row[j] == -1:
                                found = True
                                break
                            col[k] = col[up]
                            col[up] = j
                            up += 1
                if found or low == up:
                    break
        for k in range(last):
            j1 = col[k]
            v[j1] += d[j1] - least
        while True:
            if j < 0:
                raise AnalysisError("assignment solver lost its way")
            i = pred[j]
            column2row[j] = i
            j, row2column[i] = row2column[i], j
            if i == i1:
                break
    return column2row


def pair_patches(
    old: Revision, new: Revision, creation_factor: float = DEFAULT_CREATION_FACTOR
) -> list[tuple[int | None, int | None]]:
    """(old index, new index) of every patch, None on the side it is missing, as git pairs them."""
    return [
        (
            old_side.patches[i].index if i is not None else None,
            new_side.patches[j].index if j is not None else None,
        )
        for i, j, old_side, new_side in _assign(old, new, creation_factor)[0]
    ]


def _solve(matrix: np.ndarray, na: int, nb: int) -> dict[int, int]:
    """Old position -> new position of an optimal pairing; git's choice among optimal ones.

    SciPy's solver gives the optimum. git's solver (followed step by step, dummy columns
    and all) picks one of the optimal pairings by its scan order; take that one when its
    pairs are consistent and cost the optimum (git's own result leaves some dummy columns
    unset, so only the real ones are read, as git reads them), else SciPy's.
    """
    rows, cols = linear_sum_assignment(matrix)
    best = int(matrix[rows, cols].sum())
    scipy_pairs = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if c < na and r < nb}
    try:
        column2row = _git_assignment(matrix)
    except AnalysisError:
        return scipy_pairs
    git_pairs = {i: column2row[i] for i in range(na) if 0 <= column2row[i] < nb}
    if len(set(git_pairs.values())) != len(git_pairs):
        return scipy_pairs
    total = sum(int(matrix[j, i]) for i, j in git_pairs.items())
    total += sum(int(matrix[nb, i]) for i in range(na) if i not in git_pairs)
    paired = set(git_pairs.values())
    total += sum(int(matrix[j, na]) for j in range(nb) if j not in paired)
    return git_pairs if total == best else scipy_pairs


def _assign(old: Revision, new: Revision, creation_factor: float):
    """Positions paired by exact match then optimal assignment; also the prepared sides."""
    if creation_factor < 0:
        raise AnalysisError(f"creation factor must not be negative (got {creation_factor})")
    factor = int(round(creation_factor * 100))
    intern: dict[str, int] = {}
    old_side, new_side = _prepare(old, intern), _prepare(new, intern)
    matched = _exact_matches(old_side, new_side)
    na, nb = len(old_side.ids), len(new_side.ids)
    pairing: dict[int, int] = {}
    costs: dict[tuple[int, int], int] = {}
    if na + nb > 1:
        matrix, costs = _git_cost_matrix(old_side, new_side, matched, factor, EXACT_PAIR_LIMIT)
        pairing = _solve(matrix, na, nb)
    for i, j in matched.items():
        costs[(i, j)] = 0
    out: list = []
    paired_new = set(pairing.values())
    for i in range(na):
        out.append((i, pairing.get(i), old_side, new_side))
    for j in range(nb):
        if j not in paired_new:
            out.append((None, j, old_side, new_side))
    return out, old_side, new_side, costs


# ---------------------------------------------------------------------------------------------
# Interdiff, classification, regrouping


_HEADER_PREFIX = " ## "


def _context_of(lines: list[str], index: int) -> tuple[str, str]:
    """(file, function) in force at a line of a normalised diff."""
    function = ""
    for k in range(min(index, len(lines) - 1), -1, -1):
        line = lines[k]
        if line.startswith("@@") and not function:
            function = line.split(":", 1)[1].strip() if ":" in line else ""
        if line.startswith(_HEADER_PREFIX):
            title = line[len(_HEADER_PREFIX) : -3] if line.endswith(" ##") else line[4:]
            path = re.sub(r" \((new|deleted|mode change [^)]*)\)", "", title)
            return path.split(" => ")[-1], function
    return "", function


def _is_rebase_line(inner: str) -> bool:
    """A changed line of the interdiff that is only context or a hunk header of the patch."""
    if inner == "" or inner.startswith("@@"):
        return True
    return inner[:1] == " " and not inner.startswith(" ## ")


def _reordered(text: list[str]) -> bool:
    """True when a context line leaves and comes back in one hunk: it moved across the
    patch's own changes (an unlock now after the call it used to precede), which is a change
    of the patch, not of its surroundings."""
    gone = {line[2:].strip() for line in text if line[:2] == "- " and line[2:].strip()}
    came = {line[2:].strip() for line in text if line[:2] == "+ " and line[2:].strip()}
    return bool(gone & came)


def interdiff(old_lines: list[str], new_lines: list[str]) -> list[InterdiffHunk]:
    """The diff of two normalised patch diffs, hunk by hunk, each flagged rebase or not."""
    hunks = []
    for ops in diff_ops(old_lines, new_lines):
        text = []
        first_change = None
        for tag, i, j in ops:
            inner = old_lines[i] if tag in " -" else new_lines[j]
            text.append(tag + inner)
            if first_change is None and tag != " ":
                first_change = (tag, i, j)
        assert first_change is not None
        tag, i, j = first_change
        where = _context_of(old_lines, i) if tag == "-" else _context_of(new_lines, j)
        changed = [line[1:] for line in text if line[0] != " "]
        hunks.append(
            InterdiffHunk(
                file=where[0],
                function=where[1],
                lines=text,
                rebase=all(_is_rebase_line(inner) for inner in changed) and not _reordered(text),
            )
        )
    return hunks


def content_hunks(lines: list[str], marker: str) -> list[InterdiffHunk]:
    """A whole patch as hunks (one per patch hunk), each line under one outer marker."""
    hunks: list[InterdiffHunk] = []
    current: InterdiffHunk | None = None
    for k, line in enumerate(lines):
        if line.startswith(_HEADER_PREFIX) or line.startswith("@@"):
            if line.startswith("@@") or current is None or current.lines:
                file, function = _context_of(lines, k)
                current = InterdiffHunk(file=file, function=function, lines=[])
                hunks.append(current)
            current.lines.append(marker + line)
        elif line and current is not None:
            current.lines.append(marker + line)
    return [hunk for hunk in hunks if any(line[1:2] in "-+" for line in hunk.lines)] or hunks


def _message_lines(patch: Patch) -> list[str]:
    return [line.rstrip() for line in patch.commit_message.strip("\n").split("\n")]


def _moved(pairs: list[tuple[int, int]]) -> set[int]:
    """New positions of pairs outside a longest increasing run: the patches that moved."""
    ordered = sorted(pairs)
    tails: list[int] = []
    tails_at: list[int] = []
    parent = [-1] * len(ordered)
    for k, (_, j) in enumerate(ordered):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] < j:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(tails):
            tails.append(j)
            tails_at.append(k)
        else:
            tails[lo] = j
            tails_at[lo] = k
        parent[k] = tails_at[lo - 1] if lo else -1
    keep = set()
    k = tails_at[-1] if tails_at else -1
    while k >= 0:
        keep.add(ordered[k][1])
        k = parent[k]
    return {j for _, j in ordered if j not in keep}


def _change_bag(lines: list[str]) -> Counter[str]:
    """The code lines a patch adds or removes, whitespace-insensitive, trivial ones left out."""
    bag: Counter[str] = Counter()
    for line in lines:
        if line[:1] in "-+" and not _TRIVIAL_RE.match(line[1:]):
            bag[line[0] + " ".join(line[1:].split())] += 1
    return bag


def _regroupings(
    pairs: list[tuple[int, int]],
    dropped: list[int],
    added: list[int],
    old_bags: list[Counter[str]],
    new_bags: list[Counter[str]],
    old_index: list[int],
    new_index: list[int],
) -> tuple[list[Regrouping], list[Regrouping]]:
    """Splits (one old patch's changes spread over new patches) and squashes (the reverse).

    A split shows as one old patch paired with one new patch plus a new patch that is
    "added" but whose lines came from the old one; so only unpaired patches may join.
    """
    partner_new = dict(pairs)
    partner_old = {j: i for i, j in pairs}

    def find(wholes, pieces, whole_bags, piece_bags, partner, loose):
        found = []
        for w in wholes:
            whole = whole_bags[w]
            total = sum(whole.values())
            if total == 0:
                continue
            members = []
            for p in pieces:
                if p != partner.get(w) and p not in loose:
                    continue
                piece = piece_bags[p]
                size = sum(piece.values())
                common = sum((whole & piece).values())
                if size and common >= REGROUP_MIN_LINES and common / size >= REGROUP_PIECE_SHARE:
                    members.append(p)
            if len(members) < 2 or not any(p in loose for p in members):
                continue
            covered = whole & sum((piece_bags[p] for p in members), Counter())
            coverage = sum(covered.values()) / total
            if coverage >= REGROUP_COVER_SHARE:
                found.append((w, sorted(members), coverage))
        return found

    n_old, n_new = len(old_bags), len(new_bags)
    splits = [
        Regrouping("split", [old_index[w]], [new_index[p] for p in members], cov)
        for w, members, cov in find(
            range(n_old), range(n_new), old_bags, new_bags, partner_new, set(added)
        )
    ]
    squashes = [
        Regrouping("squash", [old_index[p] for p in members], [new_index[w]], cov)
        for w, members, cov in find(
            range(n_new), range(n_old), new_bags, old_bags, partner_old, set(dropped)
        )
    ]
    return splits, squashes


def compare(
    old: Revision, new: Revision, creation_factor: float = DEFAULT_CREATION_FACTOR
) -> Comparison:
    """Range-diff two revisions from their mail: pairs with interdiffs, added, dropped, regroupings.

    When the new revision's cover letter has a changelog step for this pair of versions,
    its items are checked against the result (Comparison.changelog, .undocumented).
    """
    assignment, old_side, new_side, costs = _assign(old, new, creation_factor)
    result = Comparison(
        from_label=old.label,
        to_label=new.label,
        creation_factor=creation_factor,
        from_base=old.base_commit,
        to_base=new.base_commit,
        old=old,
        new=new,
    )
    pair_positions = [(i, j) for i, j, _, _ in assignment if i is not None and j is not None]
    moved = _moved(pair_positions)
    for i, j, _, _ in assignment:
        if i is not None and j is not None:
            result.pairs.append(_make_pair(old_side, new_side, i, j, j in moved, costs))
        elif i is not None:
            result.dropped.append(_unpaired(old_side, i, "-"))
        else:
            result.added.append(_unpaired(new_side, j, "+"))
    result.pairs.sort(key=lambda pair: pair.to_index)
    result.added.sort(key=lambda patch: patch.index)
    result.dropped.sort(key=lambda patch: patch.index)
    result.splits, result.squashes = _regroupings(
        pair_positions,
        [i for i, j, _, _ in assignment if j is None],
        [j for i, j, _, _ in assignment if i is None],
        [_change_bag(lines) for lines in old_side.lines],
        [_change_bag(lines) for lines in new_side.lines],
        [p.index for p in old_side.patches],
        [p.index for p in new_side.patches],
    )
    from reviewtool.analyses.changelog_check import attach_changelog

    attach_changelog(result, old, new)
    return result


def _make_pair(
    old_side: _Side, new_side: _Side, i: int, j: int, moved: bool, costs: dict
) -> PatchPair:
    old_patch, new_patch = old_side.patches[i], new_side.patches[j]
    same_code = old_side.keys[i] == new_side.keys[j]
    old_message, new_message = _message_lines(old_patch), _message_lines(new_patch)
    subject_changed = old_patch.title != new_patch.title
    hunks = [] if same_code else interdiff(old_side.lines[i], new_side.lines[j])
    if not same_code:
        status = STATUS_CODE_CHANGED
    elif old_message != new_message or subject_changed:
        status = STATUS_MESSAGE_ONLY
    else:
        status = STATUS_IDENTICAL
    message_diff = []
    if old_message != new_message:
        for ops in diff_ops(old_message, new_message):
            message_diff.extend(
                tag + (old_message[a] if tag in " -" else new_message[b]) for tag, a, b in ops
            )
    return PatchPair(
        from_index=old_patch.index,
        to_index=new_patch.index,
        status=status,
        title_from=old_patch.title,
        title_to=new_patch.title,
        subject_changed=subject_changed,
        moved=moved,
        rebase_only=bool(hunks) and all(hunk.rebase for hunk in hunks),
        interdiff=hunks,
        message_diff=message_diff,
        cost=costs.get((i, j), 0),
        old_lines=old_side.lines[i],
        new_lines=new_side.lines[j],
    )


def _unpaired(side: _Side, k: int, marker: str) -> UnpairedPatch:
    patch = side.patches[k]
    return UnpairedPatch(
        index=patch.index,
        title=patch.title,
        content=content_hunks(side.lines[k], marker),
        size=side.sizes[k],
        author=patch.author,
    )
