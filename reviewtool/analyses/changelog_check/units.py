"""The units of change a claim is checked against: each changed hunk of each patch pair."""

from __future__ import annotations

import re
from dataclasses import dataclass

from reviewtool.analyses.changelog_check.claims import _CODE_TOKEN_RE, _MEMBER_RE, Evidence
from reviewtool.analyses.changelog_check.vocabulary import AREAS, SYNONYMS
from reviewtool.analyses.rangediff import Comparison, InterdiffHunk


@dataclass
class _Unit:
    """One hunk a verdict can point at, with the code it changes."""

    to_index: int | None
    hunk_index: int
    hunk: InterdiffHunk
    from_index: int | None = None
    title: str = ""
    whole_patch: bool = False  # an added or dropped patch: all of it is new or gone
    author: str = ""

    @property
    def evidence(self) -> Evidence:
        return Evidence(self.to_index, self.hunk_index, self.from_index)

    def code(self) -> list[str]:
        """The patch lines (without markers) that changed between the versions."""
        return [inner[1:] for _, inner in self.hunk.code_lines()]

    def code_tokens(self) -> set[str]:
        """Names in the changed code, with the function the hunk is in (where it changed)."""
        tokens = {t for line in self.code() for t in _line_tokens(line)}
        tokens.update(_CODE_TOKEN_RE.findall(self.hunk.function))
        if self.whole_patch:
            tokens |= self.all_tokens()
        return tokens

    def all_tokens(self) -> set[str]:
        """Tokens of every line of the hunk and its function: where the change happens."""
        tokens = {t for line in self.hunk.lines for t in _line_tokens(line[2:])}
        tokens.update(_CODE_TOKEN_RE.findall(self.hunk.function))
        return tokens

    def in_area(self, areas: list[str]) -> bool:
        if not areas:
            return True
        title = self.title.lower()
        for area in areas:
            if self.hunk.file.startswith(f"arch/{area}/"):
                return True
            spelled = [k for k, v in AREAS.items() if v == area]
            if any(re.search(rf"\b{re.escape(s)}\b", title) for s in spelled):
                return True
        return False


def _units(comparison: Comparison, include_rebase: bool = False) -> list[_Unit]:
    units = []
    for pair in comparison.pairs:
        for k, hunk in enumerate(pair.interdiff):
            if include_rebase or not hunk.rebase:
                units.append(_Unit(pair.to_index, k, hunk, pair.from_index, pair.title_to))
    for patch in comparison.added:
        for k, hunk in enumerate(patch.content):
            units.append(_Unit(patch.index, k, hunk, None, patch.title, True, patch.author))
    for patch in comparison.dropped:
        for k, hunk in enumerate(patch.content):
            units.append(_Unit(None, k, hunk, patch.index, patch.title, True, patch.author))
    return units


def _line_tokens(line: str) -> set[str]:
    tokens = set(_CODE_TOKEN_RE.findall(line))
    tokens.update(f"{a}->{b}" for a, b in _MEMBER_RE.findall(line))
    return tokens


def _author_name(author: str) -> str:
    """`Nicholas Piggin <npiggin@gmail.com>` -> `nicholas piggin`."""
    return author.split("<", 1)[0].strip().strip('"').lower()


def _word_hits(word: str, tokens: set[str]) -> bool:
    """True when a changelog word names one of the tokens (is_refcounted_page for refcounted)."""
    forms = SYNONYMS.get(word, (word.rstrip("s") if len(word) > 4 else word,))
    low = [t.lower() for t in tokens]
    return any(form in token for form in forms for token in low)


def _ident_hits(ident: str, tokens: set[str]) -> bool:
    """True when a named identifier is a token, or the stem of one ("kvm_fixup" calls are
    kvm_fixup_pfn(), kvm_fixup_hva())."""
    if ident in tokens:
        return True
    if "->" in ident:
        return ident.replace(".", "->") in tokens
    low = ident.lower()
    return any(t.lower() == low or t.lower().startswith(low + "_") for t in tokens)


def _is_comment(line: str) -> bool:
    text = line.strip()
    return text == "" or text.startswith(("/*", "*", "//", "*/"))
