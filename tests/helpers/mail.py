"""The tests' one mail builder: messages as git send-email or a mail client put them on the wire.

`message` writes one mail (headers in the order the sender writes them); `posting` a revision
of a series as send-email mails it, `review_reply` and `reply` a reviewer's answer, and
`make_posting` a revision made with real `git format-patch` (the one git helper,
`tests.helpers.git`). `set_header` and `msgid` edit and read what they made. `make_mail` makes
the decoded message the mail layer hands over, for tests that start from the model.
"""

from __future__ import annotations

import email.utils
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

from reviewtool.mail.model import Mail, SubjectPrefix, Trailer
from tests.helpers.git import commit, fill_cover, format_patch, git, write
from tests.helpers.reference import V8_TITLES

AUTHOR = ("David Stevens", "stevensd@chromium.org")
LIST_ADDR = "kvm@vger.kernel.org"
CC = ["Sean Christopherson <seanjc@google.com>", "linux-kernel@vger.kernel.org"]
BASE_DATE = datetime(2023, 8, 24, 8, 4, tzinfo=UTC)
START = datetime(2023, 7, 4, 9, 30, tzinfo=UTC)  # the report fixtures' first posting
SEND_EMAIL = "git-send-email 2.42.0.rc1.204.g551eb34607-goog"
LIST_ID = "<kvm.vger.kernel.org>"


def _diff(index: int, title: str) -> str:
    """A small, well-formed diff; its content differs per patch so patch-ids differ."""
    name = f"helper_{index}"
    return (
        "diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c\n"
        "index 1a2b3c4d5e6f..6f5e4d3c2b1a 100644\n"
        "--- a/virt/kvm/kvm_main.c\n"
        "+++ b/virt/kvm/kvm_main.c\n"
        f"@@ -{100 + index * 10},6 +{100 + index * 10},11 @@ "
        "static bool kvm_is_ad_tracked_page(struct page *page)\n"
        " \treturn !PageReserved(page);\n"
        " }\n"
        " \n"
        f"+/* {title[:50]} */\n"
        f"+static inline int {name}(void)\n"
        "+{\n"
        f"+\treturn {index};\n"
        "+}\n"
        " static void kvm_set_page_dirty(struct page *page)\n"
        " {\n"
        " \tif (kvm_is_ad_tracked_page(page))\n"
    )


# A function whose early return keeps the page reference __gfn_to_pfn_memslot() took (the
# legacy API always returns with a reference held): the checker must flag the leak.
LEAKY_FUNCTION = """\
static int kvm_demo_map_gfn(struct kvm_vcpu *vcpu, struct kvm_memory_slot *slot, gfn_t gfn)
{
\tbool writable;
\tkvm_pfn_t pfn;

\tpfn = __gfn_to_pfn_memslot(slot, gfn, false, false, NULL, true, &writable, NULL);
\tif (is_error_noslot_pfn(pfn))
\t\treturn -EFAULT;

\tif (!writable)
\t\treturn -EPERM;

\tkvm_release_pfn_clean(pfn);
\treturn 0;
}
"""


def _leaky_diff(index: int, title: str) -> str:
    """A diff adding LEAKY_FUNCTION whole, so the hunk alone shows the function."""
    added = ["", *LEAKY_FUNCTION.splitlines()]
    start = 300 + index
    return (
        "diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c\n"
        "index 2b3c4d5e6f70..706f5e4d3c2b 100644\n"
        "--- a/arch/x86/kvm/mmu/mmu.c\n"
        "+++ b/arch/x86/kvm/mmu/mmu.c\n"
        f"@@ -{start},3 +{start},{3 + len(added)} @@ static void kvm_mmu_demo_prepare(void)\n"
        " {\n"
        " }\n" + "".join(f"+{line}\n" for line in added) + " \n"
    )


@dataclass
class Posting:
    """One revision of a series as mailed: the cover (when any) and the patches, as bytes."""

    label: str
    cover_id: str | None
    mails: list[bytes] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def first_id(self) -> str:
        return self.cover_id or self.ids[0]


def message(
    subject: str,
    body: str,
    msgid: str,
    date: datetime,
    author: tuple[str, str] | str = AUTHOR,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    extra: dict[str, str] | None = None,
    *,
    cc: Sequence[str] = CC,
    mailer: str | None = SEND_EMAIL,
    transfer_encoding: str | None = "8bit",
    list_id: str | None = LIST_ID,
) -> bytes:
    """One mail as git send-email (or a mail client, for replies) would put it on the wire:
    the headers in the order they write them; `author` as a (name, address) pair or a From
    line written as is; a header given None or nothing is left out, as a client leaves it."""
    sender = author if isinstance(author, str) else email.utils.formataddr(author)
    headers = [("From", sender), ("To", LIST_ADDR)]
    if cc:
        headers.append(("Cc", ", ".join(cc)))
    headers += [
        ("Subject", subject),
        ("Date", email.utils.format_datetime(date)),
        ("Message-ID", f"<{msgid}>"),
    ]
    if in_reply_to:
        headers.append(("In-Reply-To", f"<{in_reply_to}>"))
        headers.append(("References", " ".join(f"<{r}>" for r in references or [in_reply_to])))
    if mailer:
        headers.append(("X-Mailer", mailer))
    headers += [("MIME-Version", "1.0"), ("Content-Type", "text/plain; charset=UTF-8")]
    if transfer_encoding:
        headers.append(("Content-Transfer-Encoding", transfer_encoding))
    if list_id:
        headers.append(("List-Id", list_id))
    headers += list((extra or {}).items())
    head = "".join(f"{k}: {v}\n" for k, v in headers)
    return (head + "\n" + body).encode("utf-8")


def posting(
    version: int,
    n: int,
    *,
    tag: str = "kvm",
    title: str = "KVM: allow mapping non-refcounted pages",
    cover: bool = True,
    date: datetime = BASE_DATE,
    author: tuple[str, str] = AUTHOR,
    in_reply_to: str | None = None,
    leak_in: int | None = None,
) -> Posting:
    """A revision of `n` patches (with a cover letter unless `cover` is False); patch
    `leak_in` adds a function that leaks a page reference."""
    stamp = date.strftime("%Y%m%d%H%M%S")
    domain = author[1].split("@")[1]
    label = f"v{version}" if version > 1 else ""
    pre = "PATCH" + (f" {label}" if label else "")
    out = Posting(label=f"v{version}", cover_id=None)
    root_refs = [in_reply_to] if in_reply_to else []
    cover_id = f"{stamp}.{tag}.0-{version}@{domain}" if (cover and n > 1) else None
    if cover_id:
        shortlog = "\n".join(f"  {V8_TITLES[i % len(V8_TITLES)]}" for i in range(n))
        changelog = ""
        if version > 1:
            changelog = (
                f"v{version - 1} -> v{version}:\n"
                " - Take the reference only where the caller asked for one.\n"
                " - Rebase on the kvm next branch.\n\n"
            )
        body = (
            "This series lets KVM map pages that are not reference counted, such\n"
            "as the tail pages amdgpu hands out for virtio-gpu blob resources.\n\n"
            f"{changelog}"
            f"{author[0]} ({n}):\n{shortlog}\n\n"
            " virt/kvm/kvm_main.c | 40 ++++++++++++++++++++++++++++++++++++++++\n"
            f" 1 file changed, 40 insertions(+)\n\n"
            "base-commit: 0f2ab4ce07f1a1b0e6f27a2a8c6e0fd0d1d7c1c2\n"
            "-- \n2.42.0.rc1.204.g551eb34607-goog\n"
        )
        subject = f"[{pre} 0/{n}] {title}"
        out.mails.append(
            message(subject, body, cover_id, date, author, in_reply_to, root_refs or None)
        )
        out.cover_id = cover_id
    for i in range(1, n + 1):
        msgid = f"{stamp}.{tag}.{i}-{version}@{domain}"
        patch_title = V8_TITLES[(i - 1) % len(V8_TITLES)]
        counter = f" {i}/{n}" if n > 1 else ""
        subject = f"[{pre}{counter}] {patch_title}"
        body = (
            f"Rework this step of the {title[5:25]} work so that the reference\n"
            "taken on the page is explicit and owned by the caller.\n\n"
            f"Signed-off-by: {author[0]} <{author[1]}>\n"
            "---\n"
            " virt/kvm/kvm_main.c | 5 +++++\n"
            " 1 file changed, 5 insertions(+)\n\n"
            + (_leaky_diff if i == leak_in else _diff)(i, patch_title)
            + "-- \n2.42.0.rc1.204.g551eb34607-goog\n"
        )
        parent = cover_id or in_reply_to
        refs = root_refs + ([cover_id] if cover_id else [])
        out.mails.append(
            message(
                subject,
                body,
                msgid,
                date + timedelta(seconds=i),
                author,
                parent,
                refs or None,
            )
        )
        out.ids.append(msgid)
    return out


def review_reply(to: Posting, index: int, who: tuple[str, str], date: datetime) -> bytes:
    """A reviewer's reply to one patch: quoted text, a comment and a Reviewed-by."""
    target = to.ids[index - 1]
    refs = ([to.cover_id] if to.cover_id else []) + [target]
    body = (
        "On Thu, Aug 24, 2023, David Stevens wrote:\n"
        "> Rework this step so that the reference\n"
        "> taken on the page is explicit and owned by the caller.\n\n"
        "Looks right to me.\n\n"
        f"Reviewed-by: {who[0]} <{who[1]}>\n"
    )
    subject = f"Re: [PATCH {to.label} {index}/{len(to.ids)}] {V8_TITLES[index - 1]}"
    return message(
        subject, body, f"reply-{index}-{to.label}@{who[1].split('@')[1]}", date, who, target, refs
    )


# -- revisions made with git format-patch, and replies to them ------------------------------

AREAS = ("virt/kvm/kvm_main.c", "arch/x86/kvm/mmu/mmu.c", "virt/kvm/pfncache.c")


def make_posting(
    repo: Path,
    base: str,
    version: int,
    out: Path,
    count: int = 6,
    tweak: str = "",
    changed: tuple[int, ...] = (),
    title: str = "KVM: allow mapping non-refcounted pages",
    body: str = "Follow pages without taking references.\n",
    prefix: str = "KVM: mmu",
    extra: tuple[str, ...] = (),
    stem: str = "step",
) -> list[Path]:
    """`count` commits on a branch from base, formatted as version `version` with a cover.

    Patches listed in `changed` carry `tweak` in their code; the rest are byte-identical
    from one version to the next (same code, so the same patch-id)."""
    git(repo, "checkout", "-q", "-B", f"{out.name}-v{version}", base)
    for i in range(1, count + 1):
        code_tweak = tweak if i in changed else ""
        # Enough unchanged lines that a one-line change pairs the patch with its successor.
        common = "".join(
            f"static int step{i}_helper{k}(void) {{ return {k}; }}\n" for k in range(12)
        )
        write(repo, f"virt/kvm/step{i}.c", f"{common}int step{i}{code_tweak};\nint more{i};\n")
        commit(
            repo,
            f"{prefix}: {stem} {i} of the change\n\nWhy step {i}.\n\n"
            f"Signed-off-by: David Stevens <stevensd@chromium.org>\n",
            date=f"2023-0{min(version, 9)}-0{min(i, 9)}T10:00:00+00:00",
        )
    files = format_patch(repo, base, out, version, *extra)
    for path in files:  # two postings of one version must not share Message-IDs
        path.write_text(path.read_text().replace(".git.", f".git.{out.name}."))
    fill_cover(files[0], title, body)
    return files


def msgid(path: Path) -> str:
    """The Message-Id of a formatted patch."""
    return re.search(r"^Message-Id: <([^>]+)>", path.read_text(), re.M | re.I).group(1)


def set_header(text: str, name: str, value: str | None) -> str:
    """Replace (or drop, value None; or add) one header of a message."""
    head, sep, body = text.partition("\n\n")
    pattern = re.compile(rf"^{name}: .*\n(?:[ \t].*\n)*", re.M | re.I)
    head += "\n"
    if pattern.search(head):
        head = pattern.sub("" if value is None else f"{name}: {value}\n", head, count=1)
    elif value is not None:
        head += f"{name}: {value}\n"
    return head.rstrip("\n") + sep + body


def reply(
    to: Path | str,
    sender: str,
    text: str,
    subject: str | None = None,
    when: datetime | None = None,
    extra_refs: tuple[str, ...] = (),
    msg_id: str | None = None,
) -> str:
    """A reply as a mail client writes it: quoted original, the reviewer's text below."""
    if isinstance(to, Path):
        original = to.read_text()
        parent = msgid(to)
        subj = re.search(r"^Subject: (.*(?:\n[ \t].*)*)", original, re.M).group(1)
        subj = " ".join(subj.split())
        quoted = "\n".join("> " + line for line in original.partition("\n\n")[2].splitlines()[:6])
    else:
        parent, subj, quoted = to, "[PATCH] something", "> something"
    data = message(
        subject if subject is not None else "Re: " + subj,
        f"On Thu, Aug 24, 2023 someone wrote:\n{quoted}\n\n{text}\n",
        msg_id or make_msgid(domain="example.org")[1:-1],
        when or datetime(2023, 9, 1, 12, 0, tzinfo=UTC),
        sender,
        parent,
        [*extra_refs, parent],
        cc=(),
        mailer=None,
        transfer_encoding=None,
        list_id=None,
    )
    return data.decode("utf-8")


# -- decoded messages, as the mail layer hands them to the series -------------------------


def make_mail(
    subject_title: str,
    *,
    version: int,
    index: int | None,
    total: int | None,
    diff: str = "",
    body: str = "",
    when: datetime = START,
    trailers: list[Trailer] | None = None,
    author: tuple[str, str] = AUTHOR,
    message_id: str | None = None,
) -> Mail:
    """One decoded message as the mail layer would hand it over, made as a model object, not
    parsed from text: the report and injection tests set fields (markup in trailers, a body
    apart from its diff) exactly, where the parser would normalise them."""
    counter = f" {index}/{total}" if index is not None else ""
    subject = f"[PATCH v{version}{counter}] {subject_title}"
    # A digest, not hash(): str hashes change from one process to the next.
    stamp = zlib.crc32(subject_title.encode("utf-8")) % 10**8
    mid = message_id or f"v{version}-{index}-{stamp}@chromium.org"
    signed = [Trailer("Signed-off-by", f"{author[0]} <{author[1]}>", mid)]
    return Mail(
        message_id=mid,
        subject=subject,
        prefix=SubjectPrefix(
            version=version,
            index=index,
            total=total,
            version_explicit=True,
            counters_explicit=index is not None,
            title=subject_title,
        ),
        author_name=author[0],
        author_email=author[1],
        date=when,
        in_reply_to=None,
        references=[],
        body=body,
        commit_message=body,
        diff=diff,
        trailers=signed + list(trailers or []),
        location=f"test.mbox:{mid}",
    )
