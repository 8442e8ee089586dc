"""Signed-off-by on a patch mail (mail.signoff): the check b4-check reports, reachable by
every door."""

from __future__ import annotations

from reviewtool.mail import parse_mail
from reviewtool.mail.signoff import signoff_problems

PATCH = """\
From: {sender}
To: kvm@vger.kernel.org
Subject: [PATCH] KVM: x86: Drop a stale comment
Date: Thu, 24 Aug 2023 08:04:08 +0000
Message-ID: <20230824080408.1-1@example.org>

{in_body}The comment described the old retry loop.

{trailers}---
 arch/x86/kvm/mmu/mmu.c | 1 -
 1 file changed, 1 deletion(-)

diff --git a/arch/x86/kvm/mmu/mmu.c b/arch/x86/kvm/mmu/mmu.c
--- a/arch/x86/kvm/mmu/mmu.c
+++ b/arch/x86/kvm/mmu/mmu.c
@@ -10,3 +10,2 @@ static int fast_page_fault(struct kvm_vcpu *vcpu)
 {{
-\t/* retry until the spte is stable */
 \treturn 0;
"""


def _mail(sender: str, trailers: str, in_body: str = ""):
    text = PATCH.format(sender=sender, trailers=trailers, in_body=in_body)
    return parse_mail(text.encode(), "test.eml")


def test_author_signed_off_is_no_problem_whatever_the_case_of_the_address() -> None:
    mail = _mail(
        "David Stevens <stevensd@chromium.org>",
        "Signed-off-by: David Stevens <StevensD@Chromium.org>\n",
    )
    assert signoff_problems(mail) == []


def test_missing_signoff_is_named() -> None:
    mail = _mail("David Stevens <stevensd@chromium.org>", "Reviewed-by: A <a@example.org>\n")
    assert signoff_problems(mail) == ["no Signed-off-by"]


def test_signoff_only_from_someone_else_is_named_with_the_author() -> None:
    mail = _mail(
        "David Stevens <stevensd@chromium.org>",
        "Signed-off-by: Sean Christopherson <seanjc@google.com>\n",
    )
    (problem,) = signoff_problems(mail)
    assert "from the author" in problem and "stevensd@chromium.org" in problem


def test_in_body_from_is_the_author_who_must_sign_off() -> None:
    mail = _mail(
        "Sean Christopherson <seanjc@google.com>",
        "Signed-off-by: Sean Christopherson <seanjc@google.com>\n",
        in_body="From: David Stevens <stevensd@chromium.org>\n\n",
    )
    (problem,) = signoff_problems(mail)
    assert "stevensd@chromium.org" in problem
