"""What the mail says: how each version was sent, the cover letters, and the review replies.

All prose here is written for this example; facts (names, dates, what changed when) follow
the public record of the series as summarised in KVM-FACTS.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from history import DAVID, MARC, MPE, OLIVER, PAOLO, PETERX, SEAN, ident

TITLE = "KVM: allow mapping non-refcounted pages"

# git-send-email identity: the gmail relay rewrites From to the chromium.org account.
SENDER = "David Stevens <stevensd@chromium.org>"
ORIGINAL_FROM = "David Stevens <stevensd@google.com>"
MSGID_DOMAIN = "stevensd@google.com"

KVM_LIST = "kvm@vger.kernel.org"
LKML = "linux-kernel@vger.kernel.org"
PPC_LIST = "linuxppc-dev@lists.ozlabs.org"
ARM_LIST = "linux-arm-kernel@lists.infradead.org"
KVMARM_LIST = "kvmarm@lists.linux.dev"

CC_2021 = [
    ident(MARC),
    "James Morse <james.morse@arm.com>",
    "Alexandru Elisei <alexandru.elisei@arm.com>",
    "Suzuki K Poulose <suzuki.poulose@arm.com>",
    ident(PAOLO),
    "Vitaly Kuznetsov <vkuznets@redhat.com>",
    "Wanpeng Li <wanpengli@tencent.com>",
    "Jim Mattson <jmattson@google.com>",
    "Joerg Roedel <joro@8bytes.org>",
    "Will Deacon <will@kernel.org>",
    ARM_LIST,
    "kvmarm@lists.cs.columbia.edu",
    LKML,
    KVM_LIST,
]

CC_2023 = [
    ident(MARC),
    ident(MPE),
    ident(PETERX),
    ident(OLIVER),
    ident(PAOLO),
    "Yu Zhang <yu.c.zhang@linux.intel.com>",
    "Isaku Yamahata <isaku.yamahata@gmail.com>",
    "Zhi Wang <zhi.wang.linux@gmail.com>",
    "Nicholas Piggin <npiggin@gmail.com>",
    ARM_LIST,
    KVMARM_LIST,
    LKML,
    PPC_LIST,
    KVM_LIST,
]


@dataclass
class Sending:
    """How one version went out: git-send-email's clock, pid and version string."""

    label: str
    date: str  # RFC 2822 date of the cover (or the first message)
    utc_stamp: str  # %Y%m%d%H%M%S in UTC, as git-send-email puts in Message-IDs
    pid: int
    git_version: str
    commit_date: str  # author/committer date of the version's first commit
    to: list[str] = field(default_factory=lambda: [ident(SEAN)])
    cc: list[str] = field(default_factory=lambda: list(CC_2023))


SENDINGS = {
    "1": Sending(
        "1",
        "Tue, 22 Jun 2021 17:57:31 +0900",
        "20210622085731",
        1398527,
        "2.32.0.288.g62a8d224e6-goog",
        "2021-06-21 14:05:00 +0900",
        to=[ident(PAOLO)],
        cc=CC_2021,
    ),
    "2": Sending(
        "2",
        "Thu, 1 Jul 2021 16:02:12 +0900",
        "20210701070212",
        2915840,
        "2.32.0.93.g670b81a890-goog",
        "2021-06-30 18:40:00 +0900",
        to=[ident(PAOLO)],
        cc=CC_2021,
    ),
    "3": Sending(
        "3",
        "Wed, 25 Aug 2021 16:43:05 +0900",
        "20210825074305",
        2716339,
        "2.33.0.rc2.250.ged5fa647cd-goog",
        "2021-08-24 19:12:00 +0900",
        to=[ident(PAOLO)],
        cc=CC_2021,
    ),
    "4": Sending(
        "4",
        "Wed, 29 Sep 2021 10:32:56 +0900",
        "20210929013256",
        3962010,
        "2.33.0.685.g46640cef36-goog",
        "2021-09-28 17:30:00 +0900",
        to=[ident(PAOLO)],
        cc=CC_2021,
    ),
    "5": Sending(
        "5",
        "Mon, 29 Nov 2021 12:50:39 +0900",
        "20211129035039",
        1200327,
        "2.34.0.rc2.393.gf8c9666880-goog",
        "2021-11-26 18:02:00 +0900",
        to=[ident(PAOLO)],
        cc=CC_2021,
    ),
    "6": Sending(
        "6",
        "Thu, 30 Mar 2023 17:58:00 +0900",
        "20230330085802",
        2289281,
        "2.40.0.348.gf938b09366-goog",
        "2023-03-29 15:20:00 +0900",
    ),
    "7": Sending(
        "7",
        "Tue, 4 Jul 2023 17:50:47 +0900",
        "20230704085048",
        1040893,
        "2.41.0.255.g8b1d071c50-goog",
        "2023-07-03 16:45:00 +0900",
    ),
    "7.1": Sending(
        "7.1",
        "Tue, 11 Jul 2023 14:26:37 +0900",
        "20230711052637",
        3411102,
        "2.41.0.255.g8b1d071c50-goog",
        "2023-07-11 13:58:00 +0900",
    ),
    "8": Sending(
        "8",
        "Thu, 24 Aug 2023 17:04:01 +0900",
        "20230824080408",
        2933970,
        "2.42.0.rc1.204.g551eb34607-goog",
        "2023-08-23 16:10:00 +0900",
    ),
}

# v5 3/4 went out on its own a few minutes after the rest (a failed send, redone by hand),
# so it has no In-Reply-To/References.
UNTHREADED = ("5", 3)
UNTHREADED_SENDING = ("Mon, 29 Nov 2021 12:56:10 +0900", "20211129035610", 1201544)

# v7 7/8 went out quoted-printable, and a copy reached the archive through linux-kernel.
QP_PATCH = ("7", 7)

# v7.1 replaces v7 4/8 only; it was sent in reply to v7 4/8.
POINT_REVISION = ("7.1", 4, 8)


INTRO_V1 = """\
KVM can't map VM_IO or VM_PFNMAP memory into a guest when the struct
pages behind it aren't refcounted, as with the tail pages of a
non-compound higher order allocation: taking a reference on such a page
corrupts it.

virtio-gpu needs exactly that for blob resources, where the host's
graphics buffers show up in the guest as the device's "vram".  amdgpu
allocates those buffers as non-compound higher order pages, so blob
resources don't work on amdgpu hosts.

This version makes __gfn_to_pfn_memslot also return the struct page it
holds a reference on, and converts the x86 and arm64 MMUs to release
that page instead of the pfn.
"""

INTRO_PAGE = """\
KVM can't map VM_IO or VM_PFNMAP memory into a guest when the struct
pages behind it aren't refcounted, as with the tail pages of a
non-compound higher order allocation: taking a reference on such a page
corrupts it.

virtio-gpu needs exactly that for blob resources, where the host's
graphics buffers show up in the guest as the device's "vram".  amdgpu
allocates those buffers as non-compound higher order pages, so blob
resources don't work on amdgpu hosts.

The series adds a gfn_to_pfn_{name} family of functions that return the
struct page along with the pfn, or NULL when KVM holds no reference, and
moves the x86 and arm64 MMUs to it.  The old gfn_to_pfn functions keep
their behavior, so other callers are unaffected.
"""

INTRO_FOLLOW = """\
KVM can't map VM_IO or VM_PFNMAP memory into a guest when the struct
pages behind it aren't refcounted, as with the tail pages of a
non-compound higher order allocation: taking a reference on such a page
corrupts it.

virtio-gpu needs exactly that for blob resources, where the host's
graphics buffers show up in the guest as the device's "vram".  amdgpu
allocates those buffers as non-compound higher order pages, so blob
resources don't work on amdgpu hosts.

The series first replaces __gfn_to_pfn_memslot with __kvm_follow_pfn,
whose arguments live in a struct and whose booleans become FOLL_ flags.
That part is a pure refactoring, apart from one PPC change explained in
its patch.  __kvm_follow_pfn takes a reference like its predecessor at
first; then FOLL_GET becomes optional for callers that the mmu notifier
protects.

Only x86 drops FOLL_GET here.  arm64 and PPC could follow later; other
users such as pfncache are harder to convert and are left alone.
"""

# Changelog steps, newest first; each version's cover carries every step up to it.
# The v7 -> v8 item about arm64 and PPC is the one the code does not bear out.
CHANGELOG = [
    (
        "8",
        """\
v7 -> v8:
 - Mark the page accessed before mmu_lock is dropped, while the mmu
   notifier still keeps it alive.
 - Keep passing FOLL_GET on 32-bit x86 and when tdp_enabled is false.
 - Factor the FOLL_GET handling into a kvm_follow_refcounted_pfn helper.
 - Set the refcounted bit on huge page SPTEs too.
 - Mark the arm64 and PPC faults as guarded by the mmu notifier.
 - Add comments and apply formatting suggestions.
 - Rebase on kvm/next.""",
    ),
    (
        "7",
        """\
v6 -> v7:
 - Replace __gfn_to_pfn_memslot with __kvm_follow_pfn, which takes a
   struct, and teach that API about non-refcounted pages instead of
   adding a parallel gfn_to_pfn family.""",
    ),
    (
        "6",
        """\
v5 -> v6:
 - Rebase on kvm/next.
 - Rename gfn_to_pfn_page to gfn_to_pfn_noref.
 - Initialize fault->page on the early return of __kvm_faultin_pfn.
 - Add kvm_release_pfn_noref_clean to release a pfn/page pair.""",
    ),
    (
        "5",
        """\
v4 -> v5:
 - Rebase on kvm/next.""",
    ),
    (
        "4",
        """\
v3 -> v4:
 - Rebase on kvm/next.
 - Explain in the ensure_pfn_ref comment why legacy callers still need
   a reference.""",
    ),
    (
        "3",
        """\
v2 -> v3:
 - Rebase on kvm/next, which now carries Nicholas Piggin's follow_pte
   refcount fix; drop it from the series.""",
    ),
    (
        "2",
        """\
v1 -> v2:
 - Add new gfn_to_pfn_page functions instead of changing what the
   existing gfn_to_pfn functions do, so that callers can move over one
   at a time.
 - Carry Nicholas Piggin's fix that stops follow_pte users from taking
   a reference on a page whose refcount is zero.
 - Rebase on kvm/next.""",
    ),
]


def cover_blurb(label: str) -> str:
    """The cover text above git's shortlog: introduction, then the changelog."""
    version = int(float(label))
    if version == 1:
        intro = INTRO_V1
    elif version <= 6:
        intro = INTRO_PAGE.replace("{name}", "noref" if version >= 6 else "page")
    else:
        intro = INTRO_FOLLOW
    steps = [text for to, text in CHANGELOG if int(to) <= version]
    text = intro
    if steps:
        text += "\n" + "\n".join(steps) + "\n"
    return text


@dataclass
class Reply:
    """A review reply: who, when, to which message, and the body (quotes built in build)."""

    key: str
    author: tuple[str, str]
    date: str
    message_id: str
    parent: str  # ("v8", 5) style key resolved by the builder, or another reply's key
    body: str
    quotes: dict[str, tuple[str, str]] = field(default_factory=dict)


# Quote markers: {quote:NAME} in a body is replaced by the lines of the parent's text from
# the first line containing START through the first later line containing END, with "> ".
REPLIES = [
    Reply(
        "v2-3-sean",
        SEAN,
        "Fri, 2 Jul 2021 09:41:17 -0700",
        "<YN9CXWhqk0Fi5kJB@google.com>",
        "v2/3",
        """\
On Thu, Jul 01, 2021, David Stevens wrote:
{quote:exit}

Please don't open code this in three places.  A helper that takes the
pfn and the page would keep the callers honest about which of the two
they are releasing, and there will be more callers once PPC moves over.
""",
        {"exit": ("out_unlock:", "return r;")},
    ),
    Reply(
        "v5-3-marc",
        MARC,
        "Wed, 01 Dec 2021 10:12:44 +0000",
        "<87wnkrwp9f.wl-maz@kernel.org>",
        "v5/3",
        """\
On Mon, 29 Nov 2021 03:56:10 +0000,
David Stevens <stevensd@chromium.org> wrote:
{quote:release}

Only marking the page dirty when we hold a reference is what I'd expect
here, and the rest is mechanical.

Acked-by: Marc Zyngier <maz@kernel.org>

	M.

{sigdash}
Without deviation from the norm, progress is not possible.
""",
        {"release": ("if (writable && !ret) {", "kvm_release_page_clean(page);")},
    ),
    Reply(
        "v6-0-sean",
        SEAN,
        "Tue, 4 Apr 2023 13:20:56 -0700",
        "<ZCyHGL0fPtcrxCOn@google.com>",
        "v6/0",
        """\
On Thu, Mar 30, 2023, David Stevens wrote:
{quote:family}

I'd rather not grow a second family next to __gfn_to_pfn_memslot().  It
already takes six booleans and pointers; put the inputs and outputs in a
struct, turn the booleans into FOLL_ flags, and let FOLL_GET say whether
the caller wants a reference.  Then converting a caller is one patch per
architecture, and the old function can go at the end.
""",
        {"family": ("The series adds a gfn_to_pfn_noref family", "moves the x86 and arm64")},
    ),
    Reply(
        "v7-4-sean",
        SEAN,
        "Wed, 5 Jul 2023 10:03:12 -0700",
        "<ZKWiYBhmCTi8cDvl@google.com>",
        "v7/4",
        """\
On Tue, Jul 04, 2023, David Stevens wrote:
{quote:flags}

The first lookup was not interruptible before this patch: it passed
interruptible=false to __gfn_to_pfn_memslot().  Only the retry after the
async #PF attempt allowed gup to bail on a pending signal.  Please keep
the conversion 1:1 and set FOLL_INTERRUPTIBLE right before the second
__kvm_follow_pfn() call.
""",
        {"flags": ("struct kvm_follow_pfn foll = {", "};")},
    ),
    Reply(
        "v7-5-sean",
        SEAN,
        "Wed, 5 Jul 2023 10:49:30 -0700",
        "<ZKWtOj3lRrMm8wS4@google.com>",
        "v7/5",
        """\
On Tue, Jul 04, 2023, David Stevens wrote:
{quote:exit}

Without a reference, nothing keeps the page alive once mmu_lock is
dropped: the notifier can zap the SPTE and the page can be freed before
kvm_set_pfn_accessed() runs.  Mark it before unlocking.

And the refcounted bit only exists in 64-bit SPTEs that the TDP code
builds.  On 32-bit hosts and with shadow paging KVM can't tell later
whether the page was refcounted, so keep FOLL_GET there.
""",
        {"exit": ("out_unlock:", "return r;")},
    ),
    Reply(
        "v7-6-oliver",
        OLIVER,
        "Wed, 5 Jul 2023 18:21:03 +0000",
        "<ZKWy3zr6mB9x1Wg2@linux.dev>",
        "v7/6",
        """\
On Tue, Jul 04, 2023 at 05:50:53PM +0900, David Stevens wrote:
{quote:call}

arm64 keeps FOLL_GET and releases the page on every path, as before.

Reviewed-by: Oliver Upton <oliver.upton@linux.dev>

{sigdash}
Thanks,
Oliver
""",
        {"call": ("foll.gfn = gfn;", "writable = foll.writable;")},
    ),
    Reply(
        "v7-7-mpe",
        MPE,
        "Fri, 07 Jul 2023 14:09:51 +1000",
        "<87lefsql74.fsf@mail.lhotse>",
        "v7/7",
        """\
David Stevens <stevensd@chromium.org> writes:
{quote:hv}

The fast lookup was only there to get a writable page for read faults,
which try_map_writable now does for us.  Booted a radix and a hash guest
with this applied, no problems seen.

Acked-by: Michael Ellerman <mpe@ellerman.id.au> (powerpc)

cheers
""",
        {"hv": ("foll.slot = memslot;", "write_ok = foll.writable;")},
    ),
    Reply(
        "v7.1-4-sean",
        SEAN,
        "Wed, 12 Jul 2023 08:30:45 -0700",
        "<ZK7H9Q0ic8Zy1Xv7@google.com>",
        "v7.1/4",
        """\
On Tue, Jul 11, 2023, David Stevens wrote:
{quote:second}

That matches the old calls.

Reviewed-by: Sean Christopherson <seanjc@google.com>
""",
        {"second": ("foll.flags |= FOLL_INTERRUPTIBLE;", "fault->pfn = __kvm_follow_pfn(&foll);")},
    ),
    Reply(
        "v8-0-peterx",
        PETERX,
        "Tue, 29 Aug 2023 11:37:02 -0400",
        "<ZO4Q7sSMEJmVQd0S@x1n>",
        "v8/0",
        """\
On Thu, Aug 24, 2023 at 05:04:01PM +0900, David Stevens wrote:
{quote:intro}

The gup side of this looks right to me: FOLL_GET only decides whether
KVM keeps the reference gup took, and callers that drop it have to be
covered by the mmu notifier.  For the whole series:

Acked-by: Peter Xu <peterx@redhat.com>

{sigdash}
Peter Xu
""",
        {"intro": ("The series first replaces", "protects.")},
    ),
    Reply(
        "v8-5-sean",
        SEAN,
        "Tue, 5 Sep 2023 09:58:21 -0700",
        "<ZPdeYc5EtFwV4qpi@google.com>",
        "v8/5",
        """\
On Thu, Aug 24, 2023, David Stevens wrote:
{quote:foll_get}

So on 32-bit hosts and with shadow paging __kvm_follow_pfn() still takes
a reference...

{quote:exit}

...but this patch deletes the only put on the way out.  direct_page_fault()
and FNAME(page_fault) now leak a reference on every fault when
!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled, including the retry path
when is_page_fault_stale() fires.  The TDP MMU is fine only because it
never gets FOLL_GET.

Either release the page on those exits when fault->is_refcounted_page
and FOLL_GET was passed, or give the caller a way to know it holds a
reference (return the page?) so the exit paths can't get this wrong.
""",
        {
            "foll_get": ("if (!IS_ENABLED(CONFIG_X86_64) || !tdp_enabled)", "FOLL_GET;"),
            "exit": ("out_unlock:", "return r;"),
        },
    ),
    Reply(
        "v8-5-david",
        DAVID,
        "Wed, 6 Sep 2023 11:22:40 +0900",
        "<CAD=HUj6S0U1p2jRk3-6Ks6uZYJ2q1f2TgXb8JqXWg1u9oHgW=Q@mail.gmail.com>",
        "v8-5-sean",
        """\
On Wed, Sep 6, 2023 at 1:58 AM Sean Christopherson <seanjc@google.com> wrote:
> ...but this patch deletes the only put on the way out.

Right, I lost the release when I brought FOLL_GET back for those
configurations.  I'll make the caller get the page back explicitly in
the next version, so a held reference can't go unnoticed.
""",
    ),
]
