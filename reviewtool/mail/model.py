"""The decoded-message model: plain dataclasses, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from reviewtool.errors import InputError

# The texts a large input drops once a message is summarised (has_diff, files, patch_id
# stay) and reads back from the source on first use: memory holds headers, not bodies.
RELEASABLE_TEXTS = ("body", "commit_message", "diff")


@dataclass(frozen=True, slots=True)  # slots: one per message, an archive holds millions
class SubjectPrefix:
    """What the bracketed prefix of a subject says about a message's place in a series."""

    version: int = 1
    point: int | None = None  # [PATCH v5.1 10/12]: a partial reroll of v5
    index: int | None = None
    total: int | None = None
    flags: frozenset[str] = frozenset()  # RFC, RESEND
    tags: tuple[str, ...] = ()  # net-next, kvm-x86, ...
    version_explicit: bool = False
    counters_explicit: bool = False
    reply: bool = False  # Re:/Aw:/Fwd: in front
    forward: bool = False
    patch: bool = False  # a [PATCH ...]-style group was present
    title: str = ""

    @property
    def label(self) -> str:
        """The version as a maintainer writes it: v8, v5.1."""
        return f"v{self.version}" + (f".{self.point}" if self.point is not None else "")


@dataclass(frozen=True, slots=True)
class Trailer:
    """A `Name: value` line, with the message it came from."""

    name: str
    value: str
    message_id: str = ""

    @property
    def email(self) -> str:
        """The address inside the value, lower-cased, or '' when there is none."""
        start, end = self.value.rfind("<"), self.value.rfind(">")
        if 0 <= start < end:
            return self.value[start + 1 : end].strip().lower()
        return ""


@dataclass
class Mail:
    """One decoded message, with where it was read from."""

    message_id: str
    subject: str
    prefix: SubjectPrefix
    author_name: str
    author_email: str
    date: datetime | None
    in_reply_to: str | None
    references: list[str]
    body: str
    commit_message: str
    diff: str
    trailers: list[Trailer]
    location: str
    list_ids: list[str] = field(default_factory=list)
    list_changes: int = 0  # headers a list added: fewer means closer to what the author sent
    in_body_from: str | None = None
    base_commit: str | None = None
    change_id: str | None = None
    prerequisite_patch_ids: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    x_mailer: str = ""
    # Decodes the message again from its location (one function the ingest layer shares by
    # every message: it joins the source's read-back and the decoder, which both sit apart
    # from this model); None when this one cannot be re-read.
    reread: Callable[[str], Mail] | None = field(default=None, repr=False, compare=False)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: a released text is read back once, here.
        if name in RELEASABLE_TEXTS and self.__dict__.get("reread") is not None:
            self._read_back()
            return self.__dict__[name]
        raise AttributeError(name)

    def release_text(self) -> bool:
        """Drop body, commit message and diff after summarising them; False (and kept) when
        the message cannot be read back from its source."""
        if self.reread is None or "body" not in self.__dict__:
            return False
        _ = self.has_diff, self.files, self.patch_id  # summarised before the text goes
        for name in RELEASABLE_TEXTS:
            self.__dict__.pop(name, None)
        return True

    @property
    def text_released(self) -> bool:
        """True while the texts are dropped (they come back on first use)."""
        return "body" not in self.__dict__

    def _read_back(self) -> None:
        again = self.reread(self.location)
        if again.message_id != self.message_id.split("#", 1)[0]:
            raise InputError(f"{self.location}: the message there changed since it was read")
        for name in RELEASABLE_TEXTS:
            self.__dict__[name] = getattr(again, name)

    @cached_property
    def files(self) -> tuple[str, ...]:
        """Paths the diff touches (the `b/` side), in order, each once."""
        from reviewtool.mail.patterns import DIFF_GIT_RE

        seen: dict[str, None] = {}
        for match in DIFF_GIT_RE.finditer(self.diff):
            seen.setdefault(match.group("b"), None)
        return tuple(seen)

    @cached_property
    def patch_id(self) -> str | None:
        """`git patch-id --stable` of the diff, or None when there is no diff."""
        from reviewtool.mail.patchid import patch_id

        return patch_id(self.diff) if self.diff else None

    @property
    def author(self) -> str:
        """`Name <email>` as in a trailer."""
        if self.author_name and self.author_email:
            return f"{self.author_name} <{self.author_email}>"
        return self.author_name or self.author_email

    @property
    def title(self) -> str:
        """The subject without prefixes."""
        return self.prefix.title

    @cached_property
    def has_diff(self) -> bool:
        """True when the message carries a patch."""
        return bool(self.diff)

    @property
    def parent_ids(self) -> list[str]:
        """Message-IDs this message answers, nearest first."""
        ids = list(reversed(self.references))
        if self.in_reply_to and self.in_reply_to not in ids[:1]:
            ids.insert(0, self.in_reply_to)
        return ids
