"""Series assembly: mails -> threads -> revisions -> series, with every message accounted for."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from reviewtool.mail.model import Mail
from reviewtool.mail.parse import notes_of
from reviewtool.mail.subject import is_patch_prefix
from reviewtool.series.changelog import parse_changelog
from reviewtool.series.classify import message_kind
from reviewtool.series.model import Accounting, Cover, Patch, Rejected, Revision, Series

# Unthreaded patches of one revision are sent within minutes; a day covers slow
# git-send-email runs through a throttled SMTP relay without joining two postings.
# The one window for every reader (the assembler here, the bot's shared index).
STITCH_SECONDS = 86400.0
# Share of patch titles two revisions must have in common to be versions of one series.
TITLE_OVERLAP_TO_LINK = 0.5
# `KVM: x86/mmu: ` style subsystem prefixes; v8 of the reference series added `mmu:`.
SUBSYSTEM_PREFIX_RE = re.compile(r"^(?:[A-Za-z0-9_.,/+ -]{1,40}?:\s+)+")


@dataclass
class Collection:
    """Everything read from the inputs: the series found and the accounting of every message."""

    series: list[Series]
    accounting: Accounting
    notes: list[str] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    orphan_replies: list[Mail] = field(default_factory=list)


def assemble(mails: Iterable[Mail], accounting: Accounting | None = None) -> Collection:
    """Thread, classify and group decoded mails into series."""
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
    return _Assembler(by_id, order, accounting).run()


def _same_message(a: Mail, b: Mail) -> bool:
    """Copies of one message from two lists: same subject and same diff."""
    return a.subject == b.subject and a.diff == b.diff


def normalise_title(title: str) -> str:
    """Lower-case, subsystem prefixes dropped: `KVM: X86: Foo` ~ `KVM: x86/mmu: foo`."""
    text = " ".join(title.lower().split()).rstrip(".")
    stripped = SUBSYSTEM_PREFIX_RE.sub("", text)
    return stripped or text


class _Assembler:
    def __init__(self, by_id: dict[str, Mail], order: list[str], accounting: Accounting):
        self.by_id = by_id
        self.order = order
        self.accounting = accounting
        self.kind: dict[str, str] = {}
        self.notes: list[str] = []

    def run(self) -> Collection:
        for msgid in self.order:
            self.kind[msgid] = self._classify(self.by_id[msgid])
        for kind in self.kind.values():
            setattr(self.accounting, kind, getattr(self.accounting, kind) + 1)
        revisions = self._revisions()
        orphans = self._attach_replies(revisions)
        series = self._link(revisions)
        return Collection(series, self.accounting, self.notes, orphan_replies=orphans)

    # -- classification -------------------------------------------------------------
    def _classify(self, mail: Mail) -> str:
        kind = message_kind(mail)
        if kind != "other" or mail.prefix.forward:
            return kind
        if is_patch_prefix(mail.prefix) and self._has_patch_children(mail):
            return "cover"  # a diff-less thread root whose children are patches
        if mail.in_reply_to and mail.in_reply_to in self.by_id:
            return "reply"
        return "other"

    def _has_patch_children(self, mail: Mail) -> bool:
        for other in self.by_id.values():
            if other.in_reply_to == mail.message_id and other.diff and not other.prefix.reply:
                return True
        return False

    # -- revisions -------------------------------------------------------------------
    def _same_revision(self, a: Mail, b: Mail) -> bool:
        pa, pb = a.prefix, b.prefix
        if pa.version != pb.version or pa.point != pb.point:
            return False
        return pa.total is None or pb.total is None or pa.total == pb.total

    def _anchor(self, msgid: str, memo: dict[str, str | None]) -> str | None:
        """The cover (or first patch) a patch hangs under in its thread, or None when unthreaded."""
        if msgid in memo:
            return memo[msgid]
        memo[msgid] = None  # guards against reference loops in broken threading
        mail = self.by_id[msgid]
        result: str | None = None
        for parent_id in mail.parent_ids:
            parent = self.by_id.get(parent_id)
            if parent is None or self.kind.get(parent_id) not in ("cover", "patch"):
                continue
            if not self._same_revision(parent, mail):
                break  # a new version sent inside an older one's thread starts its own revision
            if self.kind[parent_id] == "cover":
                result = parent_id
            else:
                result = self._anchor(parent_id, memo) or parent_id
            break
        memo[msgid] = result
        return result

    def _revisions(self) -> list[Revision]:
        memo: dict[str, str | None] = {}
        groups: dict[str, list[str]] = defaultdict(list)
        unthreaded: list[str] = []
        for msgid in self.order:
            kind = self.kind[msgid]
            if kind == "cover":
                groups[msgid].insert(0, msgid)
            elif kind == "patch":
                anchor = self._anchor(msgid, memo)
                if anchor is None:
                    unthreaded.append(msgid)
                else:
                    groups[anchor].append(msgid)
        revisions = {key: self._build(members) for key, members in groups.items()}
        for msgid in unthreaded:
            self._place_unthreaded(msgid, groups, revisions)
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

    def _place_unthreaded(
        self, msgid: str, groups: dict[str, list[str]], revisions: dict[str, Revision]
    ) -> None:
        mail = self.by_id[msgid]
        index = mail.prefix.index if mail.prefix.index is not None else 1
        for key, revision in revisions.items():
            head = self.by_id[groups[key][0]]
            members = [self.by_id[m] for m in groups[key]]
            if (
                self._same_revision(head, mail)
                and head.author_email == mail.author_email
                and revision.patch(index) is None
                and any(_within_window(m, mail) for m in members)
                and (mail.prefix.total or 1) > 1
            ):
                self._add(revision, mail)
                groups[key].append(msgid)
                revision.stitched = True
                revision.notes.append(
                    f"patch {index}/{mail.prefix.total} <{msgid}> arrived unthreaded; "
                    "joined by author, version, counters and time"
                )
                return
        groups[msgid].append(msgid)
        revisions[msgid] = self._build([msgid])

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
        for msgid in self.order:
            if self.kind[msgid] != "reply":
                continue
            mail = self.by_id[msgid]
            target = self._reply_target(msgid, patch_at, cover_at, memo)
            if target in patch_at:
                _, patch = patch_at[target]
                patch.replies += 1
                patch.review_trailers.extend(mail.trailers)
            elif target in cover_at:
                revision = cover_at[target]
                revision.cover_trailers.extend(mail.trailers)
                for patch in revision.patches:
                    patch.review_trailers.extend(mail.trailers)
            else:
                orphans.append(mail)
        if orphans:
            self.notes.append(f"{len(orphans)} repl(y/ies) to messages not in the input")
        return orphans

    def _reply_target(self, msgid: str, patch_at, cover_at, memo) -> str | None:
        """The patch or cover a reply is about, through any replies in between."""
        if msgid in memo:
            return memo[msgid]
        memo[msgid] = None  # guards against loops
        result = None
        for parent_id in self.by_id[msgid].parent_ids:
            if parent_id in patch_at or parent_id in cover_at:
                result = parent_id
                break
            if self.kind.get(parent_id) == "reply":
                result = self._reply_target(parent_id, patch_at, cover_at, memo)
                if result:
                    break
        memo[msgid] = result
        return result

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
        for members in by_title.values():
            for a_pos, i in enumerate(members):
                for j in members[a_pos + 1 :]:
                    if find(i) != find(j) and _related(revisions[i], revisions[j]):
                        union(i, j, "title")
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


def _related(a: Revision, b: Revision) -> bool:
    """Versions of one series: same cover title or most patch titles, and a shared author."""
    if a.version == b.version and a.point == b.point:
        return False  # two postings of one version are two series unless thread/change-id link them
    if not _authors(a) & _authors(b):
        return False
    ta, tb = _titles(a), _titles(b)
    covers_a = {t for t in ta if t.startswith("cover:")}
    covers_b = {t for t in tb if t.startswith("cover:")}
    if covers_a and covers_a == covers_b:
        return True
    pa, pb = ta - covers_a, tb - covers_b
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
