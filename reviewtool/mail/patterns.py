"""Every regular expression the mail layer uses, in one place (as unidiff keeps its own)."""

import re

# `diff --git a/x b/y` starts one file of a patch.
DIFF_GIT_RE = re.compile(r"^diff --git a/(?P<a>\S+) b/(?P<b>\S+)$", re.M)
# A diff begins at `diff --git`, or at a bare `--- a/x` / `+++ b/x` pair (quilt, plain diff -u).
DIFF_START_RE = re.compile(r"^(diff --git |Index: |--- (?:a/)?\S+.*\n\+\+\+ )", re.M)
# The `---` line git format-patch puts between commit message and diffstat.
SCISSORS_RE = re.compile(r"^---\s*$", re.M)
# `Name-With-Dashes: value` trailer; name is letters, digits and dashes.
TRAILER_RE = re.compile(
    r"^(?P<name>[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*):[ \t]+(?P<value>\S.*?)\s*$"
)
EMAIL_IN_VALUE_RE = re.compile(r"<?[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>?")
FIXES_VALUE_RE = re.compile(r"^[0-9a-f]{8,40}\b", re.I)
# Trailers that carry a person (need a name and an address).
PERSON_TRAILERS = frozenset(
    {
        "Signed-off-by",
        "Reviewed-by",
        "Acked-by",
        "Tested-by",
        "Reported-by",
        "Suggested-by",
        "Co-developed-by",
        "Cc",
        "Reported-and-tested-by",
        "Requested-by",
        "Debugged-by",
        "Originally-by",
    }
)
# Trailers that carry a link or an id rather than a person.
OTHER_TRAILERS = frozenset({"Fixes", "Link", "Closes", "Message-ID", "Message-Id", "Change-Id"})

BASE_COMMIT_RE = re.compile(r"^base-commit:\s*(?P<sha>[0-9a-f]{7,40})\s*$", re.M)
CHANGE_ID_RE = re.compile(r"^change-id:\s*(?P<id>\S+)\s*$", re.M)
PREREQ_PATCH_ID_RE = re.compile(r"^prerequisite-patch-id:\s*(?P<id>[0-9a-f]{7,40})\s*$", re.M)
# In-body `From: Name <addr>` as the first line of a patch body: the real author.
IN_BODY_FROM_RE = re.compile(r"\A\s*From:\s*(?P<from>.+?)\s*$", re.M)
# A diffstat summary line: ` 3 files changed, 10 insertions(+), 2 deletions(-)`.
DIFFSTAT_SUMMARY_RE = re.compile(
    r"^\s*\d+ files? changed(?:, \d+ insertions?\(\+\))?(?:, \d+ deletions?\(-\))?", re.M
)
# Reply prefixes in the languages and clients kernel mail really carries.
REPLY_PREFIX_RE = re.compile(r"^\s*(?:(?:re|aw|sv|antw|odp|r|vs|ynt)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
FORWARD_PREFIX_RE = re.compile(r"^\s*(?:(?:fwd?|wg|tr|rv)\s*:\s*)+", re.I)
# List tags such as `[kvm]` or `[linux-next:master]` that some lists add before the prefix.
