"""Review comments of version N followed into version N+1.

A reviewer answers a patch by quoting the lines they mean and writing under them. For each
such point this finds the quoted patch lines, the reviewer's own text, and what version N+1
did there: `changed` (the quoted lines, or the code right around them, differ in the matching
patch of N+1), `unchanged` (the same code: the point is open unless the thread settled it),
`patch-dropped` (N+1 has no patch paired with this one), `unclear` (no code quoted, or the
quoted lines cannot be found), or `pending` (N is the newest version: nothing to compare yet).
The patch author's own answers in the thread ("will fix", "done in v5", disagreement) are kept
beside it, because a maintainer trusts the thread and the code together, not either alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reviewtool.analyses.rangediff import Comparison, PatchPair, diff_ops
from reviewtool.mail.model import Mail
from reviewtool.schemas import version_fields
from reviewtool.series.model import Patch, Revision

VERDICT_CHANGED = "changed"
VERDICT_UNCHANGED = "unchanged"
VERDICT_DROPPED = "patch-dropped"
VERDICT_UNCLEAR = "unclear"
VERDICT_PENDING = "pending"
VERDICTS = (VERDICT_CHANGED, VERDICT_UNCHANGED, VERDICT_DROPPED, VERDICT_UNCLEAR, VERDICT_PENDING)

# Lines of the old patch either side of the quoted ones that count as "the code right around".
NEAR_LINES = 3
# Own text kept per comment, in lines (the rest is in the mail, one click away).
TEXT_LINES = 12
# What a patch author's answer says about a point, tried in this order, on the answer's text.
STANCES = (
    (
        "disagrees",
        re.compile(
            r"\b(I disagree|disagree|I don't think so|I do not think|not convinced|"
            r"I'd rather (not|keep)|prefer to keep|that's intentional|this is intentional|"
            r"on purpose)\b",
            re.I,
        ),
    ),
    (
        "will-fix",
        re.compile(
            r"\b(will (fix|do|change|update|drop|remove|add|rename|rework|address)|"
            r"I'll (fix|do|change|update|drop|remove|add|rename|rework)|"
            r"(fixed|done|changed|addressed|updated) in (the )?(next|v\d+)|"
            r"good (catch|point)|agreed|makes sense|you're right|yes,? (will|I'll))\b",
            re.I,
        ),
    ),
)
# An attribution line ("On Tue, Dec 19, 2023, Isaku Yamahata wrote:").
_ATTRIBUTION_RE = re.compile(r"^(On |Le |Am |El )?.{0,200}(wrote|writes|a écrit|schrieb)\s*:\s*$")
_ATTRIBUTION_START_RE = re.compile(r"^(On|Le|Am|El) \S")
# A sign-off that ends what the reviewer wrote ("Best regards,", "Thanks,", "Cheers").
_SIGNOFF_RE = re.compile(
    r"^\s*(best regards|kind regards|regards|thanks|thank you|thx|cheers|br)[,.!]?\s*$", re.I
)
_TRAILER_RE = re.compile(r"^[A-Z][A-Za-z0-9-]*-by:\s")
_QUOTE_RE = re.compile(r"^>( ?)(.*)$")
_NESTED_QUOTE_RE = re.compile(r"^>\s*>")


@dataclass
class ThreadAnswer:
    """A reply in a review thread by the patch's author, and what it says about the point."""

    message_id: str
    author: str
    date: datetime | None
    stance: str  # will-fix, disagrees, or answered
    text: str

    def to_json(self) -> dict[str, object]:
        """{message_id, author, date, stance, text}."""
        return {
            "message_id": self.message_id,
            "author": self.author,
            "date": self.date.isoformat() if self.date else None,
            "stance": self.stance,
            "text": self.text,
        }


@dataclass
class ReviewComment:
    """One point of a review reply on version N, and what N+1 did about it."""

    message_id: str
    author: str
    date: datetime | None
    version: str
    patch_index: int | None  # None: a reply to the cover letter
    quoted: list[str]
    text: str
    verdict: str
    evidence: str
    next_version: str | None = None
    next_patch_index: int | None = None
    answers: list[ThreadAnswer] = field(default_factory=list)

    @property
    def stance(self) -> str:
        """What the patch author said last about the point, or '' when they did not answer."""
        return self.answers[-1].stance if self.answers else ""

    @property
    def open(self) -> bool:
        """True while the point waits on the author: the code did not move (or there is no
        later version yet) and the author did not argue it away."""
        if self.patch_index is None:
            return False  # a reply to the cover letter: listed, but no code to hold open
        if self.verdict == VERDICT_PENDING:
            return True
        return self.verdict == VERDICT_UNCHANGED and self.stance != "disagrees"

    def to_json(self) -> dict[str, object]:
        """{message_id, author, version, point, label, patch_index, quoted, text, verdict, ...};
        versions as the one JSON contract gives them (integer version, point, label)."""
        return {
            "message_id": self.message_id,
            "author": self.author,
            "date": self.date.isoformat() if self.date else None,
            **version_fields(self.version),
            "patch_index": self.patch_index,
            "quoted": list(self.quoted),
            "text": self.text,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "next_version": version_fields(self.next_version) if self.next_version else None,
            "next_patch_index": self.next_patch_index,
            "open": self.open,
            "thread": [answer.to_json() for answer in self.answers],
        }


@dataclass
class _Point:
    """One quoted block and the reviewer's text under it."""

    quoted: list[str]
    text: list[str]


def _lines(body: str) -> list[str]:
    """A reply's lines with attributions removed, also those a mail client wrapped over two
    lines ("On Mon, 29 Nov 2021 03:56:10 +0000," then "David <d@x.org> wrote:")."""
    lines = body.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    for line in lines:
        if _ATTRIBUTION_RE.match(line):
            if out and _ATTRIBUTION_START_RE.match(out[-1]) and not out[-1].rstrip().endswith(":"):
                out.pop()
            continue
        out.append(line)
    return out


def own_text(body: str) -> list[str]:
    """The lines a reply's author wrote: no quotes, attribution, trailers or signature."""
    out: list[str] = []
    for line in _lines(body):
        if line.rstrip() == "--" or _SIGNOFF_RE.match(line):
            break
        if line.startswith(">") or _ATTRIBUTION_RE.match(line) or _TRAILER_RE.match(line):
            continue
        out.append(line.rstrip())
    return _trim(out)


def split_points(body: str) -> list[_Point]:
    """The reply cut into quoted blocks, each with the reviewer's text that follows it."""
    points: list[_Point] = []
    quoted: list[str] = []
    text: list[str] = []
    for line in _lines(body):
        if line.rstrip() == "--" or _SIGNOFF_RE.match(line):
            break
        if _NESTED_QUOTE_RE.match(line):
            continue  # a quote of an earlier reply, not of the patch
        quote = _QUOTE_RE.match(line)
        if quote:
            if _trim(text):
                points.append(_Point(quoted, _trim(text)))
                quoted, text = [], []
            elif text:
                text = []
            quoted.append(quote.group(2) if quote.group(1) else quote.group(2))
            continue
        if _ATTRIBUTION_RE.match(line) or _TRAILER_RE.match(line):
            continue
        text.append(line.rstrip())
    if _trim(text):
        points.append(_Point(quoted, _trim(text)))
    return points


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _key(line: str) -> str:
    """A diff line compared across versions: its marker and its words (mail may turn tabs
    into spaces or rewrap indentation)."""
    return line[:1] + " ".join(line[1:].split())


def code_lines(quoted: Sequence[str], patch: Patch) -> list[str]:
    """The quoted lines that are lines of the patch's diff (+, - or context), in order."""
    diff_keys = {_key(line) for line in patch.diff.split("\n") if line[:1] in "+- "}
    out = []
    for line in quoted:
        if line.startswith(("diff --git", "index ", "--- ", "+++ ", "@@")):
            continue
        if line[:1] in "+- " and _key(line) in diff_keys and line[1:].strip():
            out.append(line)
    return out


def _same_person(a: str, b: str) -> bool:
    def address(text: str) -> str:
        match = re.search(r"<([^>]+)>", text)
        return (match.group(1) if match else text).strip().lower()

    return address(a) == address(b)


def _stance(text: str) -> str:
    for name, pattern in STANCES:
        if pattern.search(text):
            return name
    return "answered"


def _answers(comment_id: str, author: str, replies: Sequence[Mail]) -> list[ThreadAnswer]:
    """The patch author's replies below a review mail in its thread, oldest first."""
    below: set[str] = {comment_id}
    out: list[ThreadAnswer] = []
    for mail in sorted(replies, key=lambda m: (m.date is None, m.date or datetime.min)):
        if not set(mail.parent_ids) & below:
            continue
        below.add(mail.message_id)
        if _same_person(mail.author, author):
            text = "\n".join(own_text(mail.body)[:TEXT_LINES])
            out.append(ThreadAnswer(mail.message_id, mail.author, mail.date, _stance(text), text))
    return out


def _judge(
    code: list[str], patch: Patch, comparison: Comparison | None, next_label: str | None
) -> tuple[str, str, int | None]:
    """(verdict, evidence, index in N+1) for quoted code lines of one patch."""
    if next_label is None:
        return VERDICT_PENDING, "no later version in the input yet", None
    if comparison is None:
        return VERDICT_UNCLEAR, f"the range-diff to {next_label} did not run", None
    pair = next((p for p in comparison.pairs if p.from_index == patch.index), None)
    if pair is None:
        return _judge_unpaired(code, patch, comparison, next_label)
    if not code:
        return VERDICT_UNCLEAR, "the reply quotes no code of the patch", pair.to_index
    where = f"{next_label} patch {pair.to_index}"
    if pair.status == "identical" or not pair.interdiff:
        return VERDICT_UNCHANGED, f"{where} has the same code", pair.to_index
    touched = _touched_near(code, pair)
    if touched is None:
        return VERDICT_UNCLEAR, "the quoted lines are not found in the patch as read", pair.to_index
    if touched:
        return (
            VERDICT_CHANGED,
            f"{where} changed these lines or the code around them",
            (pair.to_index),
        )
    return VERDICT_UNCHANGED, f"{where} has the quoted lines as they were", pair.to_index


def _judge_unpaired(
    code: list[str], patch: Patch, comparison: Comparison, next_label: str
) -> tuple[str, str, int | None]:
    """The range-diff did not pair the patch. When N+1 has a new patch in its place (same
    position, or the same title), it was rewritten beyond pairing: the quoted lines are
    looked for in it. Otherwise the patch is gone."""
    new = comparison.new
    stand_in = next(
        (
            added
            for added in comparison.added
            if added.index == patch.index or added.title == patch.title
        ),
        None,
    )
    replacement = new.patch(stand_in.index) if new is not None and stand_in is not None else None
    if replacement is None:
        return VERDICT_DROPPED, f"{next_label} has no patch paired with this one", None
    where = f"{next_label} patch {replacement.index}"
    if not code:
        return (
            VERDICT_UNCLEAR,
            (f"the reply quotes no code; {where} rewrites this patch"),
            replacement.index,
        )
    new_keys = {_key(line) for line in replacement.diff.split("\n") if line[:1] in "+- "}
    kept = sum(1 for line in code if _key(line) in new_keys)
    if kept == len(code):
        return (
            VERDICT_UNCHANGED,
            (f"{where} rewrites this patch but keeps the quoted lines"),
            replacement.index,
        )
    return (
        VERDICT_CHANGED,
        (
            f"{where} rewrites this patch; {len(code) - kept} of the {len(code)} quoted lines "
            "are gone from it"
        ),
        replacement.index,
    )


def _touched_near(code: list[str], pair: PatchPair) -> bool | None:
    """Whether the interdiff changes a quoted line or one within NEAR_LINES of them; None
    when the quoted lines cannot be placed in the old patch."""
    old = pair.old_lines
    keys = [_key(line) for line in old]
    wanted = [_key(line) for line in code]
    positions = [i for i, key in enumerate(keys) if key in set(wanted)]
    if not positions:
        return None
    # The quoted lines as a run: the longest stretch of hits without big gaps.
    lo, hi = min(positions), max(positions)
    changed: set[int] = set()
    inserted_at: set[int] = set()
    for ops in diff_ops(old, pair.new_lines):
        last_old = -1
        for tag, i, _ in ops:
            if tag == "-":
                changed.add(i)
                last_old = i
            elif tag == "+":
                inserted_at.add(last_old + 1)
            else:
                last_old = i
    return any(lo - NEAR_LINES <= i <= hi + NEAR_LINES for i in changed | inserted_at)


def follow_comments(
    revisions: Sequence[Revision],
    comparisons: Mapping[tuple[str, str], Comparison | None],
) -> list[ReviewComment]:
    """Every review point on every revision, judged against the next revision with patches."""
    with_patches = [r for r in revisions if r.patches]
    next_of = {
        r.label: (with_patches[k + 1].label if k + 1 < len(with_patches) else None)
        for k, r in enumerate(with_patches)
    }
    out: list[ReviewComment] = []
    for revision in with_patches:
        next_label = next_of[revision.label]
        comparison = comparisons.get((revision.label, next_label)) if next_label else None
        for patch in revision.patches:
            out.extend(_patch_comments(revision, patch, comparison, next_label))
        if revision.cover is not None:
            out.extend(_cover_comments(revision, next_label))
    return out


def _patch_comments(
    revision: Revision, patch: Patch, comparison: Comparison | None, next_label: str | None
) -> list[ReviewComment]:
    out: list[ReviewComment] = []
    replies = list(patch.reply_mails)
    for mail in replies:
        if _same_person(mail.author, patch.author) or not _replies_to(mail, patch.message_id):
            continue  # the author's own answers are thread, not review
        answers = _answers(mail.message_id, patch.author, replies)
        for point in split_points(mail.body):
            code = code_lines(point.quoted, patch)
            if not code and not _mostly_text(point.text):
                continue
            verdict, evidence, to_index = _judge(code, patch, comparison, next_label)
            if verdict == VERDICT_UNCLEAR and not code and _quotes_message(point.quoted, patch):
                evidence = "the reply quotes the commit message, not code"
            out.append(
                ReviewComment(
                    message_id=mail.message_id,
                    author=mail.author,
                    date=mail.date,
                    version=revision.label,
                    patch_index=patch.index,
                    quoted=code or point.quoted[-6:],
                    text="\n".join(point.text[:TEXT_LINES]),
                    verdict=verdict,
                    evidence=evidence,
                    next_version=next_label,
                    next_patch_index=to_index,
                    answers=answers,
                )
            )
    return out


def _quotes_message(quoted: Sequence[str], patch: Patch) -> bool:
    """True when quoted lines are lines of the patch's commit message."""
    message = {" ".join(line.split()) for line in patch.commit_message.split("\n") if line.strip()}
    return any(" ".join(line.split()) in message for line in quoted if line.strip())


def _replies_to(mail: Mail, message_id: str) -> bool:
    """A direct reply to the patch (a reply to a reply is thread, judged with its parent)."""
    return bool(mail.parent_ids) and mail.parent_ids[0] == message_id


def _mostly_text(text: list[str]) -> bool:
    """True when the reviewer wrote something beyond a greeting or a thank-you."""
    words = " ".join(text).split()
    return len(words) >= 4


def _cover_comments(revision: Revision, next_label: str | None) -> list[ReviewComment]:
    cover = revision.cover
    if cover is None:
        return []
    out = []
    author = cover.mail.author
    for mail in cover.reply_mails:
        if _same_person(mail.author, author) or not _replies_to(mail, cover.message_id):
            continue
        text = own_text(mail.body)
        if not _mostly_text(text):
            continue
        out.append(
            ReviewComment(
                message_id=mail.message_id,
                author=mail.author,
                date=mail.date,
                version=revision.label,
                patch_index=None,
                quoted=[],
                text="\n".join(text[:TEXT_LINES]),
                verdict=VERDICT_PENDING if next_label is None else VERDICT_UNCLEAR,
                evidence="a reply to the cover letter: no code to follow"
                if next_label
                else "no later version in the input yet",
                next_version=next_label,
                answers=_answers(mail.message_id, author, cover.reply_mails),
            )
        )
    return out
