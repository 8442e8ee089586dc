"""The series model (Series -> Revision -> Patch): plain dataclasses, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reviewtool.mail.model import Mail, Trailer

# Trailers that say a person looked at the patch and vouches for it.
REVIEW_TRAILER_NAMES = ("Reviewed-by", "Acked-by", "Tested-by")
# Of those, the ones that count as "someone reviewed this patch" (a test report does not).
REVIEWED_TRAILERS = ("Reviewed-by", "Acked-by")


@dataclass
class ChangelogStep:
    """One "vA -> vB" block of a cover letter: its from and to versions and its items."""

    from_version: int | None
    to_version: int
    items: list[str]
    links: list[str] = field(default_factory=list)  # `v4: https://lore...` lines


@dataclass(frozen=True)
class IgnoredTrailer:
    """A follow-up trailer not applied (b4's rule): its address is not the sender's."""

    trailer: Trailer
    sender: str  # the follow-up's From, `Name <addr>`


@dataclass
class Patch:
    """One mail that carries a diff, at its place in a revision."""

    index: int
    total: int | None
    mail: Mail
    review_trailers: list[Trailer] = field(default_factory=list)
    replies: int = 0
    # The replies themselves (in the thread below this patch, any depth), oldest first as read:
    # the report lists them and the follow-up analysis reads their quotes and answers.
    reply_mails: list[Mail] = field(default_factory=list, repr=False, compare=False)
    ignored_trailers: list[IgnoredTrailer] = field(default_factory=list)
    # The label of the previous version whose patch has the same `git patch-id --stable`.
    unchanged_from: str | None = None
    # Review trailers the author carried into this patch although its code changed since
    # the previous version (b4 keeps trailers only while the patch-id holds).
    carried_over_changed: list[Trailer] = field(default_factory=list)

    @property
    def patch_id(self) -> str | None:
        """`git patch-id --stable` of the diff, or None when there is no diff."""
        return self.mail.patch_id

    @property
    def title(self) -> str:
        """The subject without prefixes."""
        return self.mail.title

    @property
    def message_id(self) -> str:
        return self.mail.message_id

    @property
    def author(self) -> str:
        """The patch author: the in-body From when there is one, else the sender."""
        return self.mail.in_body_from or self.mail.author

    @property
    def date(self) -> datetime | None:
        return self.mail.date

    @property
    def trailers(self) -> list[Trailer]:
        return self.mail.trailers

    @property
    def diff(self) -> str:
        return self.mail.diff

    @property
    def commit_message(self) -> str:
        return self.mail.commit_message

    @property
    def files(self) -> list[str]:
        """Paths the diff touches, in order, each once."""
        return list(self.mail.files)

    def reviewed_by(self) -> list[Trailer]:
        """Review, ack and test trailers from the patch itself and from replies, deduplicated."""
        out: dict[tuple[str, str], Trailer] = {}
        for trailer in [*self.trailers, *self.review_trailers]:
            if trailer.name in REVIEW_TRAILER_NAMES:
                out.setdefault((trailer.name, trailer.email or trailer.value), trailer)
        return list(out.values())


def reviewers(patch: Patch) -> list[str]:
    """People who gave a Reviewed-by or Acked-by on a patch, in the order they did."""
    names: list[str] = []
    for trailer in patch.reviewed_by():
        if trailer.name in REVIEWED_TRAILERS and trailer.value not in names:
            names.append(trailer.value)
    return names


@dataclass
class Cover:
    """A revision's cover letter (0/N) or its stand-in: a diff-less thread root."""

    mail: Mail
    changelog: list[ChangelogStep] = field(default_factory=list)
    # Replies in the thread below the cover letter, any depth.
    reply_mails: list[Mail] = field(default_factory=list, repr=False, compare=False)

    @property
    def message_id(self) -> str:
        return self.mail.message_id

    @property
    def subject(self) -> str:
        return self.mail.subject

    @property
    def base_commit(self) -> str | None:
        return self.mail.base_commit


@dataclass
class Revision:
    """One version of a series: its cover, its patches 1..N, what is missing or doubled."""

    version: int
    point: int | None = None
    cover: Cover | None = None
    total: int | None = None
    patches: list[Patch] = field(default_factory=list)
    missing: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    stitched: bool = False  # patches arrived unthreaded and were joined by author/time
    cover_trailers: list[Trailer] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    flags: frozenset[str] = frozenset()
    replaces: list[int] = field(default_factory=list)  # point revision: indices it rerolls
    changelog: list[ChangelogStep] = field(default_factory=list)  # the cover's, or patch 1's notes
    ignored_cover_trailers: list[IgnoredTrailer] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"v{self.version}" + (f".{self.point}" if self.point is not None else "")

    @property
    def partial(self) -> bool:
        """True when patches are missing or this is a point revision of a few patches."""
        return bool(self.missing) or self.point is not None

    @property
    def title(self) -> str:
        if self.cover is not None:
            return self.cover.mail.title
        return self.patches[0].title if self.patches else ""

    @property
    def author(self) -> str:
        mail = self.cover.mail if self.cover else (self.patches[0].mail if self.patches else None)
        return mail.author if mail else ""

    @property
    def date(self) -> datetime | None:
        mails = [self.cover.mail] if self.cover else []
        mails += [p.mail for p in self.patches]
        dates = [m.date for m in mails if m.date is not None]
        return min(dates) if dates else None

    @property
    def base_commit(self) -> str | None:
        if self.cover and self.cover.base_commit:
            return self.cover.base_commit
        for patch in reversed(self.patches):
            if patch.mail.base_commit:
                return patch.mail.base_commit
        return None

    @property
    def missing_ranges(self) -> list[tuple[int, int]]:
        """The missing indices as (first, last) runs: `2-5, 9` stays short for any total."""
        return index_ranges(self.missing)

    def patch(self, index: int) -> Patch | None:
        """The patch at 1-based index, or None."""
        for patch in self.patches:
            if patch.index == index:
                return patch
        return None


def index_ranges(indices: list[int]) -> list[tuple[int, int]]:
    """Sorted runs of consecutive indices: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for index in sorted(set(indices)):
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    return runs


def format_ranges(runs: list[tuple[int, int]]) -> str:
    """(1, 3), (7, 7) -> `1-3, 7`."""
    return ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs)


@dataclass
class Series:
    """Every revision of one piece of work."""

    title: str
    change_id: str | None = None
    revisions: list[Revision] = field(default_factory=list)
    linked_by: str = "title"  # change-id, thread, or title

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]

    def revision(self, label: str | int) -> Revision | None:
        """Find a revision by `8`, `v8`, `v5.1`."""
        text = str(label).lower().lstrip("v")
        for revision in self.revisions:
            if revision.label.lstrip("v") == text:
                return revision
        return None


@dataclass(frozen=True)
class Rejected:
    """A message that could not be read, and why."""

    source: str
    reason: str


@dataclass
class Accounting:
    """Where every message read went: read = cover + patch + reply + other + rejected."""

    read: int = 0
    cover: int = 0
    patch: int = 0
    reply: int = 0
    other: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def summary(self) -> str:
        """`read 5: 1 cover, 3 patch, 1 reply, 0 other, 0 rejected` (one line)."""
        return (
            f"read {self.read}: {self.cover} cover, {self.patch} patch, {self.reply} reply, "
            f"{self.other} other, {len(self.rejected)} rejected"
        )

    def messages(self) -> int:
        """Messages that decoded (every bucket but rejected)."""
        return self.cover + self.patch + self.reply + self.other

    def balanced(self) -> bool:
        """True when the buckets add up to what was read."""
        placed = self.cover + self.patch + self.reply + self.other
        return placed + len(self.rejected) == self.read
