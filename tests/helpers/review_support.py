"""Builders for the report tests: a small three-version KVM series as model objects.

The report tests need series shaped like the reference one (a cover with a changelog, patches
with C diffs, review trailers from replies) before and apart from the mail reader, so these
builders make the model objects directly. The prose and code are written for these tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from reviewtool.analyses.changelog_check import Evidence, Verdict
from reviewtool.analyses.findings import Finding, TraceStep
from reviewtool.analyses.migration import (
    ArgumentMapping,
    FileMigration,
    MigrationMap,
    RevisionMigration,
    Site,
)
from reviewtool.analyses.rangediff import (
    STATUS_CODE_CHANGED,
    STATUS_IDENTICAL,
    STATUS_MESSAGE_ONLY,
    Comparison,
    InterdiffHunk,
    PatchPair,
    UnpairedPatch,
    content_hunks,
    normalise_diff,
)
from reviewtool.mail.model import Trailer
from reviewtool.review import Review, RevisionFindings, SeriesReview, VersionComparison
from reviewtool.series.model import Accounting, ChangelogStep, Cover, Patch, Revision, Series
from tests.helpers.mail import START, make_mail

REVIEWER = "Sean Christopherson <seanjc@google.com>"
ACKER = "Paolo Bonzini <pbonzini@redhat.com>"

FOLLOW_PFN_DIFF = """\
diff --git a/virt/kvm/kvm_main.c b/virt/kvm/kvm_main.c
index 1b2c3d4..5e6f7a8 100644
--- a/virt/kvm/kvm_main.c
+++ b/virt/kvm/kvm_main.c
@@ -2480,14 +2480,17 @@ static kvm_pfn_t hva_to_pfn(unsigned long addr, bool atomic,
 \treturn pfn;
 }
\x20
-kvm_pfn_t __gfn_to_pfn_memslot(const struct kvm_memory_slot *slot, gfn_t gfn,
-\t\t\t       bool atomic, bool interruptible, bool *async,
-\t\t\t       bool write_fault, bool *writable, hva_t *hva)
+kvm_pfn_t __kvm_follow_pfn(struct kvm_follow_pfn *foll)
 {
-\tunsigned long addr = __gfn_to_hva_many(slot, gfn, NULL, write_fault);
+\tunsigned long addr;
+
+\taddr = __gfn_to_hva_many(foll->slot, foll->gfn, NULL,
+\t\t\t\t foll->flags & FOLL_WRITE);
+\tfoll->hva = addr;
\x20
 \t/* Do not map writable pfn in the readonly memslot. */
 \tif (kvm_is_error_hva(addr))
 \t\treturn KVM_PFN_NOSLOT;
-\treturn hva_to_pfn(addr, atomic, interruptible, async, write_fault, writable);
+\treturn hva_to_pfn(addr, foll);
 }
+EXPORT_SYMBOL_GPL(__kvm_follow_pfn);
"""

X86_DIFF_V1 = """\
diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c
index 2233445..6677889 100644
--- a/arch/x86/kvm/mmu/mmu.c
+++ b/arch/x86/kvm/mmu/mmu.c
@@ -4330,8 +4330,12 @@ static int __kvm_faultin_pfn(struct kvm_vcpu *vcpu, struct\
 kvm_page_fault *fault)
 {
 \tstruct kvm_memory_slot *slot = fault->slot;
+\tstruct kvm_follow_pfn foll = {
+\t\t.slot = slot,
+\t\t.gfn = fault->gfn,
+\t\t.flags = FOLL_GET | (fault->write ? FOLL_WRITE : 0),
+\t};
\x20
-\tfault->pfn = __gfn_to_pfn_memslot(slot, fault->gfn, false, false, &async,
-\t\t\t\t\t  fault->write, &fault->map_writable,
-\t\t\t\t\t  &fault->hva);
+\tfault->pfn = __kvm_follow_pfn(&foll);
+\tfault->map_writable = foll.writable;
 \tif (!async)
 \t\treturn RET_PF_CONTINUE;
"""

X86_DIFF_V2 = X86_DIFF_V1.replace(
    "+		.flags = FOLL_GET | (fault->write ? FOLL_WRITE : 0),\n",
    "+		.flags = fault->write ? FOLL_WRITE : 0,\n",
)

RELEASE_DIFF = """\
diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c
index 6677889..8899aab 100644
--- a/arch/x86/kvm/mmu/mmu.c
+++ b/arch/x86/kvm/mmu/mmu.c
@@ -4520,8 +4520,7 @@ static int direct_page_fault(struct kvm_vcpu *vcpu, struct\
 kvm_page_fault *fault)
 \tr = direct_map(vcpu, fault);
\x20
 out_unlock:
 \twrite_unlock(&vcpu->kvm->mmu_lock);
-\tkvm_release_pfn_clean(fault->pfn);
 \treturn r;
 }
\x20
"""


def make_revision(
    version: int,
    patches: list[tuple[str, str]],
    *,
    when: datetime,
    changelog: list[ChangelogStep] | None = None,
    reviewed: dict[int, list[Trailer]] | None = None,
) -> Revision:
    """A revision with a cover letter and patches 1..N."""
    total = len(patches)
    cover_mail = make_mail(
        "KVM: allow mapping non-refcounted pages",
        version=version,
        index=0,
        total=total,
        body="Map pages that are not refcounted, for virtio-gpu blob resources.\n",
        when=when,
    )
    revision = Revision(
        version=version,
        cover=Cover(cover_mail, changelog=list(changelog or [])),
        total=total,
    )
    for number, (title, diff) in enumerate(patches, start=1):
        mail = make_mail(
            title,
            version=version,
            index=number,
            total=total,
            diff=diff,
            body=f"{title}.\n",
            when=when + timedelta(minutes=number),
        )
        revision.patches.append(
            Patch(
                index=number,
                total=total,
                mail=mail,
                review_trailers=list((reviewed or {}).get(number, [])),
                replies=len((reviewed or {}).get(number, [])),
            )
        )
    return revision


def make_series() -> Series:
    """Three versions of a small follow-pfn series; the last one drops the release in 3/3."""
    v1 = make_revision(
        1,
        [
            ("KVM: Introduce __kvm_follow_pfn function", FOLLOW_PFN_DIFF),
            ("KVM: x86/mmu: Migrate to __kvm_follow_pfn", X86_DIFF_V1),
        ],
        when=START,
    )
    v2 = make_revision(
        2,
        [
            ("KVM: mmu: Introduce __kvm_follow_pfn function", FOLLOW_PFN_DIFF),
            ("KVM: x86/mmu: Migrate to __kvm_follow_pfn", X86_DIFF_V2),
        ],
        when=START + timedelta(days=20),
        changelog=[ChangelogStep("v1", "v2", ["Drop FOLL_GET from the x86 fault path"])],
        reviewed={1: [Trailer("Reviewed-by", REVIEWER, "r1@google.com")]},
    )
    v3 = make_revision(
        3,
        [
            ("KVM: mmu: Introduce __kvm_follow_pfn function", FOLLOW_PFN_DIFF),
            ("KVM: x86/mmu: Migrate to __kvm_follow_pfn", X86_DIFF_V2),
            ("KVM: x86/mmu: Don't release pfns that were not followed with FOLL_GET", RELEASE_DIFF),
        ],
        when=START + timedelta(days=51),
        changelog=[
            ChangelogStep("v2", "v3", ["Add patch 3 to stop releasing pages", "Rebase"]),
            ChangelogStep("v1", "v2", ["Drop FOLL_GET from the x86 fault path"]),
        ],
        reviewed={
            1: [
                Trailer("Reviewed-by", REVIEWER, "r2@google.com"),
                Trailer("Acked-by", ACKER, "r3@redhat.com"),
            ]
        },
    )
    return Series(title="KVM: allow mapping non-refcounted pages", revisions=[v1, v2, v3])


def leak_finding(version: str = "v3") -> Finding:
    """The shape of the real v8 5/8 bug: the release removed from a path that still holds it."""
    return Finding(
        rule="leak",
        severity="error",
        file="arch/x86/kvm/mmu/mmu.c",
        line=4523,
        function="direct_page_fault",
        message="reference from __kvm_follow_pfn() is not released on the out_unlock path",
        version=version,
        config="FOLL_GET (32-bit or !tdp_enabled)",
        trace=[
            TraceStep(4520, "fault->pfn holds a page reference (FOLL_GET)"),
            TraceStep(4522, "goto out_unlock"),
            TraceStep(4523, "return without releasing fault->pfn"),
        ],
        patch_index=3,
    )


def make_review(series: Series | None = None) -> Review:
    """A review of the three-version series with every analysis result filled in by hand."""
    series = series or make_series()
    v1, v2, v3 = series.revisions
    review = SeriesReview(index=1, series=series)
    interdiff = InterdiffHunk(
        file="arch/x86/kvm/mmu/mmu.c",
        function="__kvm_faultin_pfn",
        lines=[
            "-+\t\t.flags = FOLL_GET | (fault->write ? FOLL_WRITE : 0),",
            "++\t\t.flags = fault->write ? FOLL_WRITE : 0,",
        ],
    )
    first = Comparison(
        "v1",
        "v2",
        pairs=[
            PatchPair(
                1,
                1,
                STATUS_MESSAGE_ONLY,
                "KVM: Introduce __kvm_follow_pfn function",
                "KVM: mmu: Introduce __kvm_follow_pfn function",
            ),
            PatchPair(
                2,
                2,
                STATUS_CODE_CHANGED,
                "KVM: x86/mmu: Migrate to __kvm_follow_pfn",
                "KVM: x86/mmu: Migrate to __kvm_follow_pfn",
                interdiff=[interdiff],
            ),
        ],
    )
    second = Comparison(
        "v2",
        "v3",
        pairs=[
            PatchPair(i, i, STATUS_IDENTICAL, p.title, p.title)
            for i, p in enumerate(v2.patches, start=1)
        ],
        added=[
            UnpairedPatch(3, v3.patches[2].title, content_hunks(normalise_diff(RELEASE_DIFF), "+"))
        ],
    )
    review.comparisons = [
        VersionComparison(
            "v1",
            "v2",
            comparison=first,
            changelog_step=v2.cover.changelog[0],
            verdicts=[
                Verdict("Drop FOLL_GET from the x86 fault path", "confirmed", [Evidence(2, 0)])
            ],
        ),
        VersionComparison(
            "v2",
            "v3",
            comparison=second,
            changelog_step=v3.cover.changelog[0],
            verdicts=[
                Verdict("Add patch 3 to stop releasing pages", "confirmed", [Evidence(3, None)]),
                Verdict("Rebase", "not-found"),
            ],
        ),
    ]
    migration = MigrationMap("__gfn_to_pfn_memslot", "__kvm_follow_pfn")
    for rev in (v1, v2, v3):
        migration.revisions.append(
            RevisionMigration(
                rev.label,
                files=[
                    FileMigration(
                        "virt/kvm/kvm_main.c",
                        "virt",
                        "migrated",
                        old_removed=[Site("gfn_to_pfn_prot", 2650)],
                        new_added=[Site("gfn_to_pfn_prot", 2652)],
                    ),
                    FileMigration(
                        "arch/x86/kvm/mmu/mmu.c",
                        "x86",
                        "migrated",
                        old_removed=[Site("__kvm_faultin_pfn", 4335)],
                        new_added=[Site("__kvm_faultin_pfn", 4338)],
                    ),
                    FileMigration(
                        "arch/arm64/kvm/mmu.c",
                        "arm64",
                        "untouched",
                        old_remaining=[Site("user_mem_abort", 1480)],
                    ),
                ],
                argument_map=[ArgumentMapping("write_fault", "FOLL_WRITE in .flags", "mmu.c")],
            )
        )
    review.migration = migration
    fixed_earlier = leak_finding("v2")
    fixed_earlier.rule = "double-release"
    fixed_earlier.status = "fixed"
    review.findings = [
        RevisionFindings("v1"),
        RevisionFindings("v2"),
        RevisionFindings("v3", findings=[_introduced(leak_finding("v3"))]),
    ]
    review.notes = []
    accounting = Accounting(read=12, cover=3, patch=7, reply=2)
    return Review(
        series_reviews=[review],
        accounting=accounting,
        all_series=[series],
        sources=["examples/test.mbox"],
    )


def _introduced(finding: Finding) -> Finding:
    finding.status = "introduced"
    return finding


def _quoted_name(name: str) -> str:
    """An RFC 5322 quoted display name (backslash before quotes and backslashes)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mbox_text(series: Series) -> str:
    """The series as git send-email would have put it in an mbox: cover, then patches
    threaded under it, each a real RFC 822 message."""
    from email.utils import format_datetime

    out: list[str] = []
    for revision in series.revisions:
        cover = revision.cover.mail if revision.cover else None
        mails = ([cover] if cover else []) + [p.mail for p in revision.patches]
        for mail in mails:
            headers = [
                f"From {mail.author_email} Mon Sep 17 00:00:00 2001",
                f"From: {mail.author_name} <{mail.author_email}>",
                "To: kvm@vger.kernel.org",
                f"Subject: {mail.subject}",
                f"Date: {format_datetime(mail.date)}",
                f"Message-ID: <{mail.message_id}>",
                "MIME-Version: 1.0",
                "Content-Type: text/plain; charset=UTF-8",
                "Content-Transfer-Encoding: 8bit",
            ]
            if cover is not None and mail is not cover:
                headers += [
                    f"In-Reply-To: <{cover.message_id}>",
                    f"References: <{cover.message_id}>",
                ]
            body = mail.body.rstrip("\n") + "\n"
            if cover is not None and mail is cover:
                body += _changelog_text(revision)
            body += "\n" + "\n".join(f"{t.name}: {t.value}" for t in mail.trailers) + "\n"
            if mail.diff:
                body += "---\n" + mail.diff
            out.append("\n".join(headers) + "\n\n" + _from_quote(body) + "\n")
        for patch in revision.patches:
            for n, trailer in enumerate(patch.review_trailers):
                name, addr = trailer.value.rsplit(" <", 1)
                out.append(
                    "\n".join(
                        [
                            f"From {addr.rstrip('>')} Mon Sep 17 00:00:00 2001",
                            # The display name quoted as a client would: the reply's From
                            # address must be the trailer's (b4's rule, issue 15.3).
                            f"From: {_quoted_name(name)} <{addr}",
                            "To: kvm@vger.kernel.org",
                            f"Subject: Re: {patch.mail.subject}",
                            f"Date: {format_datetime(patch.mail.date + timedelta(hours=n + 2))}",
                            f"Message-ID: <{trailer.message_id or f're{n}-{patch.message_id}'}>",
                            f"In-Reply-To: <{patch.message_id}>",
                            f"References: <{cover.message_id if cover else ''}> "
                            f"<{patch.message_id}>",
                            "Content-Type: text/plain; charset=UTF-8",
                        ]
                    )
                    + f"\n\nOn {patch.mail.date:%a, %b %d, %Y}, {patch.mail.author_name} wrote:\n"
                    f"> {patch.title}\n\nLooks right to me.\n\n{trailer.name}: {trailer.value}\n\n"
                )
    return "".join(out)


def _changelog_text(revision: Revision) -> str:
    steps = revision.cover.changelog if revision.cover else []
    lines = []
    for step in steps:
        lines.append(f"\n{step.from_version} -> {step.to_version}:")
        lines.extend(f" - {item}" for item in step.items)
    return "\n".join(lines) + ("\n" if lines else "")


def _from_quote(body: str) -> str:
    return "\n".join(
        (">" + line) if line.startswith("From ") else line for line in body.split("\n")
    )
