"""The Developer's Certificate of Origin on one patch mail: is there a Signed-off-by, and is
one of them the author's?

The kernel's rule (Documentation/process/submitting-patches.rst): every patch carries a
Signed-off-by from its author, where the author is the in-body `From:` when the mail has one
(a patch sent on someone else's behalf), else the mail's sender. Any door may ask: b4-check
reports it today; the report and the bot can show the same words.
"""

from __future__ import annotations

from reviewtool.mail.model import Mail


def signoff_problems(mail: Mail) -> list[str]:
    """What is wrong with the patch's sign-offs (empty when the author signed it off)."""
    author = (mail.in_body_from or mail.author).lower()
    signoffs = [t for t in mail.trailers if t.name.lower() == "signed-off-by"]
    if not signoffs:
        return ["no Signed-off-by"]
    if not any(t.email and t.email.lower() in author for t in signoffs):
        return [f"no Signed-off-by from the author ({mail.in_body_from or mail.author})"]
    return []
