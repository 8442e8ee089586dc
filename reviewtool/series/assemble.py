"""Series assembly: mails -> threads -> revisions -> series, with every message accounted for."""

from __future__ import annotations

import math
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from reviewtool.mail.model import Mail, Trailer
from reviewtool.mail.parse import notes_of
from reviewtool.mail.subject import is_patch_prefix
from reviewtool.mail.trailers import reply_trailers
from reviewtool.series.changelog import parse_changelog
from reviewtool.series.classify import message_kind
from reviewtool.series.model import (
    REVIEW_TRAILER_NAMES,
    Accounting,
    Cover,
    IgnoredTrailer,
    Patch,
    Rejected,
    Revision,
    Series,
)
from reviewtool.series.reroll import applied_revisions

# Unthreaded patches of one revision are sent within minutes; a day covers slow
# git-send-email runs through a throttled SMTP relay without joining two postings.
# The one window for every reader (the assembler here, the bot's shared index).
STITCH_SECONDS = 86400.0
# Share of patch titles two revisions must have in common to be versions of one series.
TITLE_OVERLAP_TO_LINK = 0.5
# `KVM: x86/mmu: ` style subsystem prefixes; v8 of the reference series added `mmu:`.
SUBSYSTEM_PREFIX_RE = re.compile(r"^(?:[A-Za-z0-9_.,/+ -]{1,40}?:\s+)+")
# Counters a mail may claim: git format-patch pads to four digits for the largest tree-wide
# series; `[PATCH 1/99999999999]` is an attack on memory, not a series.
MAX_SERIES_LENGTH = 9999
# A title shared by many unrelated postings ("fix typo") is compared with at most this many
# earlier series of the same title, so linking stays linear in the number of revisions.
TITLE_BUCKET_COMPARISONS = 64


@dataclass
class Collection:
    """Everything read from the inputs: the series found and the accounting of every message."""

    series: list[Series]
    accounting: Accounting
    notes: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    orphan_replies: list[Mail] = field(default_factory=list)
    # "location: why" for each piece a damaged source could not give (a truncated pack, a
    # broken gzip stream): the doors must not report such a run as a clean one.
    damaged: list[str] = field(default_factory=list)


def assemble(
    mails: Iterable[Mail], accounting: Accounting | None = None, *, sloppy_trailers: bool = False
) -> Collection:
    """Thread, classify and group decoded mails into series.

    Follow-up trailers whose address is not the follow-up's sender are reported, not
    applied, as b4 does; `sloppy_trailers` applies them (b4's --sloppy-trailers)."""
    if accounting is None:
        accounting = Accounting()
        counted = False
    else:
        counted = True
    by_id: dict[str, Mail] = {}
    order: list[str] = []
    for mail in mails:
        if not counted:
            accounting.read += 1
        problem = counter_problem(mail)
        if problem:
            accounting.rejected.append(Rejected(mail.location, problem))
            continue
        kept = by_id.get(mail.message_id)
        if kept is not None and not _same_message(kept, mail):
            # Two different messages under one Message-ID (a client bug): keep both.
            mail.warnings.append(f"Message-ID <{mail.message_id}> also names another message")
            mail.message_id = f"{mail.message_id}#{len(order)}"
            kept = None
        if kept is None:
            by_id[mail.message_id] = mail
            order.append(mail.message_id)
            continue
        # The same message through another list: keep the copy lists changed least.
        loser, winner = (kept, mail) if mail.list_changes < kept.list_changes else (mail, kept)
        by_id[mail.message_id] = winner
        accounting.rejected.append(
            Rejected(
                loser.location,
                f"another copy of <{mail.message_id}> (kept the one at {winner.location})",
            )
        )
    return _Assembler(by_id, order, accounting, sloppy_trailers).run()


def counter_problem(mail: Mail) -> str | None:
    """Why a mail's `i/N` counters cannot be a real series position, or None when they can."""
    prefix = mail.prefix
    for name, value in (("total", prefix.total), ("index", prefix.index)):
        if value is not None and value > MAX_SERIES_LENGTH:
            return (
                f"patch counter {prefix.index}/{prefix.total}: {name} above "
                f"{MAX_SERIES_LENGTH}, the most a series can hold"
            )
    return None


def _same_message(a: Mail, b: Mail) -> bool:
    """Copies of one message from two lists: same subject and same diff."""
    return a.subject == b.subject and a.patch_id == b.patch_id and a.diff == b.diff


@lru_cache(maxsize=8192)  # linking and marking ask for each title three times or more
def normalise_title(title: str) -> str:
    """Lower-case, subsystem prefixes dropped: `KVM: X86: Foo` ~ `KVM: x86/mmu: foo`."""
    text = " ".join(title.lower().split()).rstrip(".")
    stripped = SUBSYSTEM_PREFIX_RE.sub("", text)
    return stripped or text


class _Assembler:
    def __init__(
        self,
        by_id: dict[str, Mail],
        order: list[str],
        accounting: Accounting,
        sloppy_trailers: bool = False,
    ):
        self.sloppy_trailers = sloppy_trailers
        self.by_id = by_id
        self.order = order
        self.accounting = accounting
        self.kind: dict[str, str] = {}
        self.notes: list[str] = []
        self.position = {msgid: n for n, msgid in enumerate(order)}
        # Message-IDs that a non-reply patch answers directly: built once, so telling a
        # diff-less thread root from a lone message is a lookup, not a scan of every mail.
        self.patch_parents: set[str] = {
            mail.in_reply_to
            for mail in by_id.values()
            if mail.in_reply_to and mail.has_diff and not mail.prefix.reply
        }

    def order_of(self, msgid: str) -> int:
        """Where a message came in the input."""
        return self.position[msgid]

    def run(self) -> Collection:
        for msgid in self.order:
            self.kind[msgid] = self._classify(self.by_id[msgid])
        for kind in self.kind.values():
            setattr(self.accounting, kind, getattr(self.accounting, kind) + 1)
        revisions = self._revisions()
        orphans = self._attach_replies(revisions)
        series = self._link(revisions)
        for one in series:
            mark_unchanged(one)
        return Collection(series, self.accounting, self.notes, orphan_replies=orphans)

    # -- classification -------------------------------------------------------------
    def _classify(self, mail: Mail) -> str:
        kind = message_kind(mail)
        if kind != "other" or mail.prefix.forward:
            return kind
        if is_patch_prefix(mail.prefix) and mail.message_id in self.patch_parents:
            return "cover"  # a diff-less thread root whose children are patches
        if mail.in_reply_to and mail.in_reply_to in self.by_id:
            return "reply"
        return "other"

    # -- revisions -------------------------------------------------------------------
    def _same_revision(self, a: Mail, b: Mail) -> bool:
        pa, pb = a.prefix, b.prefix
        if pa.version != pb.version or pa.point != pb.point:
            return False
        return pa.total is None or pb.total is None or pa.total == pb.total

    def _anchor(self, msgid: str, memo: dict[str, str | None]) -> str | None:
        """The cover (or first patch) a patch hangs under in its thread, or None when unthreaded.

        Walks up the thread with a loop, not recursion: `git send-email --chain-reply-to`
        threads patch N under patch N-1, and a 9999-patch chain must not exhaust the stack."""
        chain: list[tuple[str, str]] = []  # (patch, the patch it answers), awaiting an anchor
        current = msgid
        while True:
            if current in memo:
                result = memo[current]
                break
            memo[current] = None  # guards against reference loops in broken threading
            done, found = self._anchor_step(current)
            if done:
                result = memo[current] = found
                break
            assert found is not None
            chain.append((current, found))
            current = found
        for child, parent_id in reversed(chain):
            result = result or parent_id
            memo[child] = result
        return memo[msgid]

    def _anchor_step(self, msgid: str) -> tuple[bool, str | None]:
        """(True, anchor) when the thread settles it here; (False, parent) to go on up."""
        mail = self.by_id[msgid]
        for parent_id in mail.parent_ids:
            parent = self.by_id.get(parent_id)
            if parent is None or self.kind.get(parent_id) not in ("cover", "patch"):
                continue
            if not self._same_revision(parent, mail):
                return True, None  # a new version inside an older one's thread starts its own
            if self.kind[parent_id] == "cover":
                return True, parent_id
            return False, parent_id
        return True, None

    def _revisions(self) -> list[Revision]:
        memo: dict[str, str | None] = {}
        groups: dict[str, list[str]] = defaultdict(list)
        unthreaded: list[str] = []
        # Patches whose cover never reached the input still answer the same Message-ID:
        # that shared parent groups them exactly, before any guessing by author and time.
        absent_parent: dict[tuple, str] = {}
        for msgid in self.order:
            kind = self.kind[msgid]
            if kind == "cover":
                groups[msgid].insert(0, msgid)
            elif kind == "patch":
                anchor = self._anchor(msgid, memo)
                if anchor is None:
                    mail = self.by_id[msgid]
                    parent_id = mail.in_reply_to
                    if parent_id and parent_id not in self.by_id:
                        key = (parent_id, *_revision_key(mail))
                        anchor = absent_parent.setdefault(key, msgid)
                if anchor is None:
                    unthreaded.append(msgid)
                else:
                    groups[anchor].append(msgid)
        revisions = {key: self._build(members) for key, members in groups.items()}
        placer = _Placer(self, groups, revisions)
        loners = [msgid for msgid in unthreaded if not placer.stitch(msgid)]
        # A patch resent alone answers someone's message, or nothing in the input.
        placer.attach_resent(sorted({*absent_parent.values(), *loners}, key=self.order_of))
        for revision in revisions.values():
            self._finish(revision)
        return list(revisions.values())

    def _build(self, members: list[str]) -> Revision:
        first = self.by_id[members[0]]
        revision = Revision(version=first.prefix.version, point=first.prefix.point)
        revision.flags = first.prefix.flags
        for msgid in members:
            self._add(revision, self.by_id[msgid])
        return revision

    def _add(self, revision: Revision, mail: Mail) -> None:
        if self.kind[mail.message_id] == "cover":
            if revision.cover is None:
                revision.cover = Cover(mail, parse_changelog(mail.body, mail.prefix.version))
            return
        index = mail.prefix.index if mail.prefix.index is not None else 1
        total = mail.prefix.total if mail.prefix.total is not None else 1
        revision.patches.append(Patch(index=index, total=total, mail=mail))

    def _finish(self, revision: Revision) -> None:
        revision.patches.sort(key=lambda p: (p.index, p.date is None, p.date))
        kept: list[Patch] = []
        for patch in revision.patches:
            if kept and kept[-1].index == patch.index:
                if patch.index not in revision.duplicates:
                    revision.duplicates.append(patch.index)
                revision.notes.append(
                    f"patch {patch.index} sent twice: kept <{kept[-1].message_id}>, "
                    f"not <{patch.message_id}>"
                )
                continue
            kept.append(patch)
        revision.patches = kept
        totals = [p.total for p in kept if p.total]
        if revision.cover and revision.cover.mail.prefix.total:
            revision.total = revision.cover.mail.prefix.total
        elif totals:
            revision.total = max(totals)
        else:
            revision.total = len(kept)
        present = {p.index for p in kept}
        if revision.point is not None:
            revision.replaces = sorted(present)
        else:
            # total is bounded by MAX_SERIES_LENGTH (counter_problem), so this list is too.
            revision.missing = [i for i in range(1, (revision.total or 0) + 1) if i not in present]
        if revision.cover is not None:
            revision.changelog = revision.cover.changelog
        elif kept:
            # A cover-less posting keeps its changelog below the `---` of patch 1.
            notes = notes_of(kept[0].mail.body)
            revision.changelog = parse_changelog(notes, revision.version) if notes else []

    # -- replies ----------------------------------------------------------------------
    def _attach_replies(self, revisions: list[Revision]) -> list[Mail]:
        patch_at: dict[str, tuple[Revision, Patch]] = {}
        cover_at: dict[str, Revision] = {}
        for revision in revisions:
            if revision.cover:
                cover_at[revision.cover.message_id] = revision
            for patch in revision.patches:
                patch_at[patch.message_id] = (revision, patch)
        orphans: list[Mail] = []
        memo: dict[str, str | None] = {}
        ignored_count = 0
        for msgid in self.order:
            if self.kind[msgid] != "reply":
                continue
            mail = self.by_id[msgid]
            target = self._reply_target(msgid, patch_at, cover_at, memo)
            if target not in patch_at and target not in cover_at:
                orphans.append(mail)
                continue
            # A follow-up threaded under the patch counts even without `Re:` (b4 reads the
            # thread, not the subject); its trailers are read as a reply's, quotes skipped.
            given = mail.trailers if mail.prefix.reply else reply_trailers(mail.body, msgid)
            applied = [t for t in given if self.sloppy_trailers or _sent_by_owner(t, mail)]
            ignored = [IgnoredTrailer(t, mail.author) for t in given if t not in applied]
            ignored_count += len(ignored)
            if target in patch_at:
                _, patch = patch_at[target]
                patch.replies += 1
                patch.reply_mails.append(mail)
                patch.review_trailers.extend(applied)
                patch.ignored_trailers.extend(ignored)
            else:
                revision = cover_at[target]
                if revision.cover is not None:
                    revision.cover.reply_mails.append(mail)
                revision.cover_trailers.extend(applied)
                revision.ignored_cover_trailers.extend(ignored)
                for patch in revision.patches:
                    patch.review_trailers.extend(applied)
        if ignored_count:
            self.notes.append(
                f"{ignored_count} follow-up trailer(s) not applied: the address in the trailer "
                "is not the sender's (b4's rule; --sloppy-trailers applies them)"
            )
        if orphans:
            self.notes.append(f"{len(orphans)} repl(y/ies) to messages not in the input")
        return orphans

    def _reply_target(self, msgid: str, patch_at, cover_at, memo) -> str | None:
        """The patch or cover a reply is about, through any replies in between.

        A depth-first walk with an explicit stack (a reply thread can be thousands deep)."""
        if msgid in memo:
            return memo[msgid]
        memo[msgid] = None  # guards against loops
        stack: list[tuple[str, int]] = [(msgid, 0)]  # (reply, next parent to try)
        while stack:
            node, position = stack[-1]
            parents = self.by_id[node].parent_ids
            found: str | None = None
            deeper = False
            while position < len(parents):
                parent_id = parents[position]
                position += 1
                if parent_id in patch_at or parent_id in cover_at:
                    found = parent_id
                    break
                if self.kind.get(parent_id) != "reply":
                    continue
                if parent_id in memo:
                    if memo[parent_id]:
                        found = memo[parent_id]
                        break
                    continue
                memo[parent_id] = None
                stack[-1] = (node, position)
                stack.append((parent_id, 0))
                deeper = True
                break
            if deeper:
                continue
            stack.pop()
            memo[node] = found
            if found:
                # Every reply waiting on this one is about the same patch.
                for waiting, _ in stack:
                    memo[waiting] = found
                break
        return memo[msgid]

    # -- series ------------------------------------------------------------------------
    def _link(self, revisions: list[Revision]) -> list[Series]:
        parent = list(range(len(revisions)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(i: int, j: int, how: str) -> None:
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[rj] = ri
                link_kind[ri] = _stronger(link_kind.get(ri, "title"), how)

        link_kind: dict[int, str] = {}
        owner: dict[str, int] = {}
        for i, revision in enumerate(revisions):
            for mail in _mails(revision):
                owner[mail.message_id] = i
        by_change: dict[str, int] = {}
        by_title: dict[str, list[int]] = defaultdict(list)
        for i, revision in enumerate(revisions):
            change_id = _change_id(revision)
            if change_id:
                if change_id in by_change:
                    union(by_change[change_id], i, "change-id")
                else:
                    by_change[change_id] = i
            head = _mails(revision)[0]
            for parent_id in head.parent_ids:
                j = owner.get(parent_id)
                if j is not None and j != i:
                    union(j, i, "thread")
                    break
            for title in _titles(revision):
                by_title[title].append(i)
        facts = [_LinkFacts(r) for r in revisions]
        for members in by_title.values():
            for a_pos, i in enumerate(members):
                # Compare with the nearest earlier postings of this title only: a generic title
                # ("fix typo") shared by thousands of unrelated patches must not cost n^2.
                for j in members[max(0, a_pos - TITLE_BUCKET_COMPARISONS) : a_pos]:
                    if find(i) != find(j) and _related(facts[j], facts[i]):
                        union(j, i, "title")
        groups: dict[int, list[Revision]] = defaultdict(list)
        for i, revision in enumerate(revisions):
            groups[find(i)].append(revision)
        out: list[Series] = []
        for root, members in groups.items():
            members.sort(key=lambda r: (r.version, r.point or 0, r.date is None, r.date))
            latest = [r for r in members if r.point is None] or members
            change_ids = [c for c in (_change_id(r) for r in members) if c]
            series = Series(
                title=latest[-1].title,
                change_id=change_ids[-1] if change_ids else None,
                revisions=members,
                linked_by=link_kind.get(root, "title") if len(members) > 1 else "single",
            )
            out.append(series)
        out.sort(key=lambda s: (s.revisions[0].date is None, s.revisions[0].date, s.title))
        return out


def _revision_key(mail: Mail) -> tuple:
    """What every patch of one posting shares: author address, version, point, total."""
    prefix = mail.prefix
    return (mail.author_email, prefix.version, prefix.point, prefix.total)


def _day(mail: Mail) -> int | None:
    return mail.date.toordinal() if mail.date is not None else None


class _Placer:
    """Places patches that came without their thread, through indexes (no scan of revisions).

    Revisions are indexed by (author, version, point) and by the days their mails were sent,
    so a patch meets only the revisions it could join: those with a mail sent within
    STITCH_SECONDS, i.e. on its day or the days that window reaches.
    """

    def __init__(
        self, owner: _Assembler, groups: dict[str, list[str]], revisions: dict[str, Revision]
    ):
        self.owner = owner
        self.groups = groups
        self.revisions = revisions
        self.sequence: dict[str, int] = {}
        self.by_day: dict[tuple, list[str]] = defaultdict(list)
        self.by_key: dict[tuple, list[str]] = defaultdict(list)
        for key in revisions:
            self._register(key, groups[key])

    def _register(self, key: str, members: list[str]) -> None:
        self.sequence.setdefault(key, len(self.sequence))
        head = self.owner.by_id[self.groups[key][0]]
        author, version, point, _ = _revision_key(head)
        bucket = self.by_key[(author, version, point)]
        if not bucket or bucket[-1] != key:
            bucket.append(key)
        for msgid in members:
            day_key = (author, version, point, _day(self.owner.by_id[msgid]))
            listed = self.by_day[day_key]
            if not listed or listed[-1] != key:
                listed.append(key)

    def _nearby(self, mail: Mail) -> list[str]:
        author, version, point, _ = _revision_key(mail)
        day = _day(mail)
        if day is None:
            found = list(self.by_key.get((author, version, point), ()))
        else:
            found = []
            span = math.ceil(STITCH_SECONDS / 86400)  # days a partner's mail can be away
            for when in (*range(day - span, day + span + 1), None):
                found.extend(self.by_day.get((author, version, point, when), ()))
        return sorted(set(found), key=self.sequence.__getitem__)

    def stitch(self, msgid: str) -> bool:
        """Join an unthreaded patch to a revision posted around it; False when it starts one."""
        owner = self.owner
        mail = owner.by_id[msgid]
        index = mail.prefix.index if mail.prefix.index is not None else 1
        if (mail.prefix.total or 1) > 1:
            for key in self._nearby(mail):
                revision = self.revisions[key]
                head = owner.by_id[self.groups[key][0]]
                members = [owner.by_id[m] for m in self.groups[key]]
                if (
                    owner._same_revision(head, mail)
                    and revision.patch(index) is None
                    and any(_within_window(m, mail) for m in members)
                ):
                    owner._add(revision, mail)
                    self.groups[key].append(msgid)
                    self._register(key, [msgid])
                    revision.stitched = True
                    revision.notes.append(
                        f"patch {index}/{mail.prefix.total} <{msgid}> arrived unthreaded; "
                        "joined by author, version, counters and time"
                    )
                    return True
        self.groups[msgid].append(msgid)
        self.revisions[msgid] = owner._build([msgid])
        self._register(msgid, [msgid])
        return False

    def attach_resent(self, loners: list[str]) -> None:
        """A patch resent alone (later, outside the thread) fills the gap it was sent for."""
        owner = self.owner
        for msgid in loners:
            revision = self.revisions.get(msgid)
            if revision is None or revision.cover is not None or len(revision.patches) != 1:
                continue
            mail = owner.by_id[msgid]
            prefix = mail.prefix
            if prefix.total is None or prefix.index is None or prefix.total < 2:
                continue
            author, version, point, _ = _revision_key(mail)
            candidates = [
                key
                for key in self.by_key.get((author, version, point), ())
                if key != msgid and key in self.revisions and self._fits(key, mail)
            ]
            where = f"patch {prefix.index}/{prefix.total} <{msgid}>"
            if len(candidates) > 1:
                heads = ", ".join(f"<{self.groups[k][0]}>" for k in candidates)
                note = (
                    f"{where} could fill the missing {prefix.index} of {len(candidates)} "
                    f"revisions ({heads}); attached to neither"
                )
                revision.notes.append(note)
                owner.notes.append(note)
                continue
            if not candidates:
                continue
            key = candidates[0]
            target = self.revisions[key]
            del self.revisions[msgid]
            del self.groups[msgid]
            owner._add(target, mail)
            self.groups[key].append(msgid)
            self._register(key, [msgid])
            sent = mail.date.strftime("%Y-%m-%d") if mail.date else "an unknown date"
            target.notes.append(
                f"{where} came later ({sent}) outside the revision's thread; attached as the "
                "missing patch: same author, version and total, title and files consistent"
            )

    def _fits(self, key: str, mail: Mail) -> bool:
        """Could this revision take the resent patch: the index free, title and files alike."""
        revision = self.revisions[key]
        head = self.owner.by_id[self.groups[key][0]]
        total = head.prefix.total or max((p.total or 0 for p in revision.patches), default=0)
        index = mail.prefix.index or 1
        if total != mail.prefix.total or revision.patch(index) is not None:
            return False
        return _title_consistent(mail, revision) and _files_consistent(mail, revision)


def _subsystem(title: str) -> str:
    match = SUBSYSTEM_PREFIX_RE.match(" ".join(title.lower().split()))
    return match.group(0).strip() if match else ""


def _title_consistent(mail: Mail, revision: Revision) -> bool:
    """The resent title carries a subsystem prefix the revision's other patches carry."""
    own = _subsystem(mail.title)
    return any(_subsystem(p.title) == own for p in revision.patches)


def _files_consistent(mail: Mail, revision: Revision) -> bool:
    """The resent patch touches a file, or a directory, the revision's other patches touch."""
    own = set(Patch(index=0, total=None, mail=mail).files)
    theirs = {path for patch in revision.patches for path in patch.files}
    if own & theirs:
        return True
    return bool({os.path.dirname(p) for p in own} & {os.path.dirname(p) for p in theirs})


def _sent_by_owner(trailer: Trailer, mail: Mail) -> bool:
    """b4's check: the trailer's address is the follow-up's From address."""
    return bool(trailer.email) and trailer.email == mail.author_email.lower()


def mark_unchanged(series: Series) -> None:
    """Mark each patch that is the same change as in the version before (same stable
    patch-id), and flag review trailers carried over a patch whose code changed."""
    applied = applied_revisions(series.revisions)
    for older, newer in zip(applied, applied[1:], strict=False):
        if newer.point is not None and older.version == newer.version:
            older = next(
                (r for r in applied if r.version == newer.version and r.point is None), older
            )
        by_id = {p.patch_id: p for p in older.patches if p.patch_id}
        by_title = {normalise_title(p.title): p for p in older.patches}
        for patch in series_patches(series, newer):
            if patch.patch_id and patch.patch_id in by_id:
                patch.unchanged_from = older.label
                continue
            before = by_title.get(normalise_title(patch.title))
            if before is None:
                continue
            earlier = {(t.name, t.email) for t in [*before.trailers, *before.review_trailers]}
            patch.carried_over_changed = [
                t
                for t in patch.trailers
                if t.name in REVIEW_TRAILER_NAMES and (t.name, t.email) in earlier
            ]


def series_patches(series: Series, applied: Revision) -> list[Patch]:
    """The patches of a revision as posted (a point revision's own patches, not its parent's)."""
    for revision in series.revisions:
        if revision.version == applied.version and revision.point == applied.point:
            return revision.patches
    return applied.patches


def _stronger(a: str, b: str) -> str:
    rank = {"title": 0, "thread": 1, "change-id": 2}
    return a if rank.get(a, 0) >= rank.get(b, 0) else b


def _mails(revision: Revision) -> list[Mail]:
    mails = [revision.cover.mail] if revision.cover else []
    return mails + [p.mail for p in revision.patches]


def _change_id(revision: Revision) -> str | None:
    for mail in _mails(revision):
        if mail.change_id:
            return mail.change_id
    return None


def _titles(revision: Revision) -> set[str]:
    titles = {normalise_title(p.title) for p in revision.patches}
    if revision.cover:
        titles.add("cover:" + normalise_title(revision.cover.mail.title))
    return titles


def _authors(revision: Revision) -> set[str]:
    out: set[str] = set()
    for mail in _mails(revision):
        out.add(mail.author_email)
        if mail.in_body_from:
            out.add(mail.in_body_from.rsplit("<", 1)[-1].rstrip(">").strip().lower())
    return {a for a in out if a}


class _LinkFacts:
    """What linking compares of a revision, computed once."""

    __slots__ = ("version", "point", "authors", "covers", "patch_titles")

    def __init__(self, revision: Revision):
        self.version = revision.version
        self.point = revision.point
        self.authors = _authors(revision)
        titles = _titles(revision)
        self.covers = {t for t in titles if t.startswith("cover:")}
        self.patch_titles = titles - self.covers


def _related(a: _LinkFacts, b: _LinkFacts) -> bool:
    """Versions of one series: same cover title or most patch titles, and a shared author."""
    if a.version == b.version and a.point == b.point:
        return False  # two postings of one version are two series unless thread/change-id link them
    if not a.authors & b.authors:
        return False
    if a.covers and a.covers == b.covers:
        return True
    pa, pb = a.patch_titles, b.patch_titles
    if not pa or not pb:
        return False
    return len(pa & pb) >= TITLE_OVERLAP_TO_LINK * min(len(pa), len(pb))


def _within_window(a: Mail, b: Mail) -> bool:
    if a.date is None or b.date is None:
        return True
    try:
        return abs(a.date - b.date) <= timedelta(seconds=STITCH_SECONDS)
    except TypeError:  # naive vs aware datetimes from odd Date headers
        return True
