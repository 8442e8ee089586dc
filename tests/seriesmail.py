"""Series made with `git format-patch` in a temporary repository, plus hand-written replies.

Used by the tests of issue 15 (resent patches, ambiguous selections, trailers, patch-ids).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid
from pathlib import Path

from tests.helpers.git import commit, fill_cover, format_patch, git, write

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
    refs = " ".join(f"<{r}>" for r in (*extra_refs, parent))
    when = when or datetime(2023, 9, 1, 12, 0, tzinfo=UTC)
    return (
        f"From: {sender}\n"
        f"To: kvm@vger.kernel.org\n"
        f"Subject: {subject if subject is not None else 'Re: ' + subj}\n"
        f"Date: {format_datetime(when)}\n"
        f"Message-ID: {msg_id and f'<{msg_id}>' or make_msgid(domain='example.org')}\n"
        f"In-Reply-To: <{parent}>\n"
        f"References: {refs}\n"
        "MIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=UTF-8\n"
        "\n"
        f"On Thu, Aug 24, 2023 someone wrote:\n{quoted}\n\n{text}\n"
    )
