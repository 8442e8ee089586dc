"""What kind of message a mail is, from the mail alone: cover, patch, reply or other.

The series assembler adds thread context on top (a diff-less root whose children are patches
is a cover); the bot, which sees mail one at a time, uses this as it is.
"""

from __future__ import annotations

from reviewtool.mail.model import Mail
from reviewtool.mail.patterns import DIFFSTAT_SUMMARY_RE
from reviewtool.mail.subject import is_patch_prefix

KINDS = ("cover", "patch", "reply", "other")


def message_kind(mail: Mail) -> str:
    """cover, patch, reply or other; a reply carrying its own diff is still a reply."""
    prefix = mail.prefix
    if prefix.forward:
        return "other"
    if prefix.reply:
        return "reply"
    if prefix.index == 0 and is_patch_prefix(prefix):
        return "cover"
    if mail.has_diff:
        return "patch"
    if is_patch_prefix(prefix) and DIFFSTAT_SUMMARY_RE.search(mail.body):
        return "cover"  # a cover letter sent without `0/N`, recognised by its diffstat
    return "other"
