"""Subject-prefix parsing: `[RFC PATCH net-next v2 3/8] title` -> SubjectPrefix.

Takes the union of what b4 and Patchwork each get right, plus point revisions (`v5.1`)
and comma-separated prefixes (`[PATCH v6,19/24]`), which neither handles.
"""

from __future__ import annotations

import re

from reviewtool.mail.model import SubjectPrefix
from reviewtool.mail.patterns import FORWARD_PREFIX_RE, REPLY_PREFIX_RE

# Words that make a bracket group a patch prefix rather than a list tag like `[kvm]`.
PATCH_WORDS = frozenset({"PATCH", "RFC", "RESEND", "PATCHSET", "PULL", "GIT"})
FLAG_WORDS = frozenset({"RFC", "RESEND"})
VERSION_TOKEN_RE = re.compile(r"^(?:PATCH|RFC)?[-_]?v(?P<v>\d+)(?:\.(?P<p>\d+))?$", re.I)
COUNTER_TOKEN_RE = re.compile(r"^(?P<i>\d+)/(?P<n>\d+)$")
# `[PATCH] title (v2)` or `title [v2]`: a version stated after the title.
TRAILING_VERSION_RE = re.compile(r"\s*[(\[]\s*v(?P<v>\d+)(?:\.(?P<p>\d+))?\s*[)\]]\s*$", re.I)
# Counters written in words: `[PATCH 1 of 3]`.
OF_COUNTER_RE = re.compile(r"\b(?P<i>\d+)\s+of\s+(?P<n>\d+)\b", re.I)
TOKEN_SPLIT_RE = re.compile(r"[\s,]+")


def parse_subject(subject: str) -> SubjectPrefix:
    """Parse a decoded Subject header into its prefix fields and bare title."""
    text = " ".join(subject.split())
    reply = forward = False
    while True:
        match = REPLY_PREFIX_RE.match(text)
        if match:
            reply = True
            text = text[match.end() :]
            continue
        match = FORWARD_PREFIX_RE.match(text)
        if match:
            forward = True
            text = text[match.end() :]
            continue
        break

    groups: list[str] = []
    while text.startswith("["):
        end = _closing_bracket(text)
        if end < 0:
            break
        groups.append(text[1:end])
        text = text[end + 1 :].lstrip()
        # `Re:` can follow a list tag: `[kvm] Re: [PATCH ...]`
        match = REPLY_PREFIX_RE.match(text)
        if match:
            reply = True
            text = text[match.end() :]

    version = 1
    point: int | None = None
    index = total = None
    flags: set[str] = set()
    tags: list[str] = []
    version_explicit = counters_explicit = False
    patch = False

    for group in groups:
        flat = group.replace("[", " ").replace("]", " ")
        tokens = [t for t in TOKEN_SPLIT_RE.split(flat) if t]
        # `1 of 3` needs an "of": most groups are settled without the search.
        of_match = OF_COUNTER_RE.search(flat) if "of" in flat.lower() else None
        is_patch_group = of_match is not None or any(
            t.upper() in PATCH_WORDS or VERSION_TOKEN_RE.match(t) or COUNTER_TOKEN_RE.match(t)
            for t in tokens
        )
        if not is_patch_group:
            tags.extend(tokens)
            continue
        patch = True
        if of_match:
            index, total = int(of_match.group("i")), int(of_match.group("n"))
            counters_explicit = True
            flat = flat[: of_match.start()] + " " + flat[of_match.end() :]
            tokens = [t for t in TOKEN_SPLIT_RE.split(flat) if t]
        for token in tokens:
            upper = token.upper()
            if upper in FLAG_WORDS:
                flags.add(upper)
                continue
            if upper in PATCH_WORDS:
                continue
            match = VERSION_TOKEN_RE.match(token)
            if match and (match.group("v") is not None):
                version = int(match.group("v"))
                point = int(match.group("p")) if match.group("p") is not None else None
                version_explicit = True
                if upper.startswith("RFC"):
                    flags.add("RFC")
                continue
            match = COUNTER_TOKEN_RE.match(token)
            if match:
                index, total = int(match.group("i")), int(match.group("n"))
                counters_explicit = True
                continue
            tags.append(token)

    if not version_explicit:
        match = TRAILING_VERSION_RE.search(text)
        if match:
            version = int(match.group("v"))
            point = int(match.group("p")) if match.group("p") is not None else None
            version_explicit = True
            text = text[: match.start()]

    return SubjectPrefix(
        version=version,
        point=point,
        index=index,
        total=total,
        flags=frozenset(flags),
        tags=tuple(tags),
        version_explicit=version_explicit,
        counters_explicit=counters_explicit,
        reply=reply,
        forward=forward,
        patch=patch,
        title=text.strip(),
    )


def _closing_bracket(text: str) -> int:
    """Index of the bracket closing text[0], honouring nesting; -1 when unbalanced."""
    end = text.find("]")
    if end < 0:
        return -1
    if "[" not in text[1:end]:
        return end  # nothing nested: the first closing bracket (found at C speed)
    depth = 0
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return i
    return -1


def is_patch_prefix(prefix: SubjectPrefix) -> bool:
    """True when the subject carried a patch prefix (counters, a version, or PATCH itself)."""
    return prefix.patch or prefix.counters_explicit or prefix.version_explicit
