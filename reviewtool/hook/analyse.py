"""The analyses the hook runs on a commit, with the repository itself as the tree.

Whole functions before and after each commit come from blobs (`commit.tree / path`), never from
a checkout: the hook must not touch the work tree, the index or any ref. Only functions the
commit changes are checked (the enclosing functions of its changed lines).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reviewtool.cparse.scan import Span

from reviewtool.analyses.findings import Finding, NotChecked
from reviewtool.diff.model import is_c_path
from reviewtool.errors import AnalysisError
from reviewtool.hook.changes import CommitPatch, FileChange, commit_patches
from reviewtool.hook.gitio import read_blob, rev_parse

# Bytes that are not UTF-8 in a C file (a Latin-1 author name in a comment) must not stop the
# check; replacing them keeps every line where it was.
_DECODE_ERRORS = "replace"


@dataclass
class CheckOutcome:
    """What checking some functions of one file version gave."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Changed functions the checker could not check whole (unparsed lines, work bound).
    not_checked: list[NotChecked] = field(default_factory=list)


@dataclass(frozen=True)
class Selection:
    """The text handed to the checker and the functions in it to check."""

    text: str
    functions: frozenset[str]
    reduced: bool


class TreeAnalyser:
    """Reads files from commits and runs the checker on chosen functions, caching both.

    One instance lives for one hook run: blobs, scans and results are cached by commit and
    path, so a base version shared by several pushed refs is read and checked once.
    """

    def __init__(self, repo: Any, spec_files: Iterable[Path] = (), reduce: bool = True):
        self.repo = repo
        self.spec_files = tuple(spec_files)
        self.reduce = reduce
        self._texts: dict[tuple[str, str], str | None] = {}
        self._spans: dict[tuple[str, str], list[Span] | None] = {}
        self._selections: dict[tuple, Selection] = {}
        self._checked: dict[tuple, CheckOutcome] = {}
        self._generations: dict[tuple[str, str], object] = {}
        self._spec = None
        self._spec_loaded = False

    def text(self, commit: str | None, path: str) -> str | None:
        """The file `path` as of `commit`, or None when it does not exist there."""
        if commit is None:
            return None
        key = (commit, path)
        if key not in self._texts:
            # One `commit:path` request to git's cat-file process, instead of walking the
            # commit's trees object by object (a round trip per directory level).
            found = read_blob(self.repo, f"{commit}:{path}")
            if found is None or found[0] != "blob":
                self._texts[key] = None  # no such file in that commit
            else:
                self._texts[key] = found[1].decode("utf-8", _DECODE_ERRORS)
        return self._texts[key]

    def select(
        self, commit: str, path: str, lines: Iterable[int] = (), names: Iterable[str] = ()
    ) -> Selection | None:
        """What to check for the functions enclosing `lines` plus those called `names`."""
        text = self.text(commit, path)
        if text is None:
            return None
        lines, names = frozenset(lines), frozenset(names)
        key = (commit, path, lines, names)
        if key not in self._selections:
            chosen = self._reduced(commit, path, text, lines, names) if self.reduce else None
            self._selections[key] = chosen or _whole(text, lines, names)
        return self._selections[key]

    def changed_functions(self, patch: CommitPatch, change: FileChange) -> set[str]:
        """The functions of the commit's version of the file that the change touches."""
        selection = self._change_selection(patch, change)
        return set(selection.functions) if selection else set()

    def check_change(self, patch: CommitPatch, change: FileChange) -> tuple[set[str], CheckOutcome]:
        """The functions a change touches and the checker's findings in them."""
        selection = self._change_selection(patch, change)
        if selection is None or not selection.functions:
            return set(), CheckOutcome()
        return set(selection.functions), self._check(patch.sha, change.path, selection)

    def check(self, commit: str | None, path: str, functions: set[str]) -> CheckOutcome:
        """Run the checker on `functions` of `path` as of `commit`."""
        if commit is None or not functions:
            return CheckOutcome()
        selection = self.select(commit, path, names=functions)
        if selection is None:
            return CheckOutcome()
        wanted = Selection(selection.text, selection.functions & frozenset(functions), False)
        return self._check(commit, path, wanted)

    def spec(self):  # noqa: ANN201 - the checker's spec type; imported lazily
        """The checker's spec set with the project's extra spec files, loaded once."""
        if not self._spec_loaded:
            self._spec = load_spec(self.spec_files)
            self._spec_loaded = True
        return self._spec

    def _change_selection(self, patch: CommitPatch, change: FileChange) -> Selection | None:
        names: set[str] = set()
        if change.removed_lines and change.new_path and patch.parent:
            # A deletion that took out lines of a function: check what is left of it.
            before = self.select(patch.parent, change.old_path or change.path, change.removed_lines)
            names = set(before.functions) if before else set()
        return self.select(patch.sha, change.path, change.new_lines, names)

    def _reduced(
        self, commit: str, path: str, text: str, lines: frozenset[int], names: frozenset[str]
    ) -> Selection | None:
        """The selection with unneeded bodies blanked, or None when that is not safe."""
        # Imported here: the cparse package brings tree-sitter, which a non-C push never needs.
        from reviewtool.cparse.scan import reduce_text, scan_functions, with_callees

        key = (commit, path)
        if key not in self._spans:
            self._spans[key] = scan_functions(text)
        spans = self._spans[key]
        if spans is None:
            return None
        seeds = {span for span in spans if span.name in names} | _spans_at(spans, lines)
        keep = with_callees(text, spans, seeds)
        reduced = reduce_text(text, spans, keep, max(lines, default=0))
        from reviewtool.cparse import parse_c

        parsed = parse_c(reduced)
        named = {function.name for function in parsed.functions() if function.name in names}
        if any(name in text for name in names - named):
            return None  # a wanted function the scan named differently (FNAME(...) and such)
        found = _enclosing(parsed, lines) | named
        for seed in seeds:
            function = parsed.enclosing_function(seed.end)
            if function is not None:
                found.add(function.name)
        # A function the scan did not see has callees it could not follow: use the whole file.
        for function in parsed.functions():
            if function.name in found and not any(
                span.start <= function.start_line and function.end_line <= span.end for span in keep
            ):
                return None
        return Selection(reduced, frozenset(found), True)

    def _check(self, commit: str, path: str, selection: Selection) -> CheckOutcome:
        key = (commit, path, selection.functions, hash(selection.text))
        if key not in self._checked:
            result = check_source(
                path,
                selection.text,
                functions=set(selection.functions),
                spec=self._generation(commit, path),
            )
            self._checked[key] = CheckOutcome(
                list(result.findings),
                list(result.notes),
                list(getattr(result, "not_checked", [])),
            )
        return self._checked[key]

    def _generation(self, commit: str, path: str):  # noqa: ANN202
        # The API generation is read from the whole file, so blanking bodies cannot change it.
        key = (commit, path)
        if key not in self._generations:
            spec = self.spec()
            text = self.text(commit, path) or ""
            self._generations[key] = detect_generation(spec, text)
        return self._generations[key]


def detect_generation(spec, text: str):  # noqa: ANN001, ANN201 - SpecSet -> Spec
    """`spec.detect(text)`, skipping generations whose markers cannot be in the text.

    Scanning three 5,000-line files per commit for every generation's markers was a fifth of
    the hook's time; a marker's literal core missing from the text settles it at `in` speed,
    and the checker's own `detects` still decides the rest.
    """
    generations = getattr(spec, "generations", None)
    if not generations or not all(hasattr(g, "detects") for g in generations):
        return spec.detect(text) if hasattr(spec, "detect") else spec
    for generation in generations:
        markers = getattr(generation, "markers", ())
        if markers and _may_match(markers, text) and generation.detects(text):
            return generation
    return generations[-1]


def _may_match(markers: tuple[str, ...], text: str) -> bool:
    for marker in markers:
        core = _literal_core(marker)
        if core is None or core in text:
            return True
    return False


@functools.lru_cache(maxsize=64)
def _literal_core(pattern: str) -> str | None:
    """A string every match of `pattern` contains, when one is easy to read off."""
    if pattern.startswith("call:"):  # `call:NAME/ARITY`: a call of NAME
        return pattern[5:].partition("/")[0] or None
    plain = pattern.replace(r"\b", "")
    plain = re.sub(r"\\([.*+?()\[\]{}|^$\\])", r"\1", plain)
    stripped = re.sub(r"\\[.*+?()\[\]{}|^$\\]", "", pattern.replace(r"\b", ""))
    if re.search(r"[.*+?()\[\]{}|^$\\]", stripped):
        return None
    return plain or None


def _whole(text: str, lines: frozenset[int], names: frozenset[str]) -> Selection:
    from reviewtool.cparse import parse_c

    parsed = parse_c(text)
    found = _enclosing(parsed, lines) | {
        function.name for function in parsed.functions() if function.name in names
    }
    return Selection(text, frozenset(found), False)


def _enclosing(parsed, lines: Iterable[int]) -> set[str]:  # noqa: ANN001 - ParsedSource
    names = set()
    for line in sorted(lines):
        function = parsed.enclosing_function(line)
        if function is not None:
            names.add(function.name)
    return names


def _spans_at(spans: list[Span], lines: Iterable[int]) -> set[Span]:
    starts = [span.start for span in spans]
    hit = set()
    for line in lines:
        index = bisect.bisect_right(starts, line) - 1
        if index >= 0 and spans[index].contains(line):
            hit.add(spans[index])
    return hit


def analyse_commit(
    repo: Any,
    commit: Any,
    *,
    analyser: TreeAnalyser | None = None,
    patch: CommitPatch | None = None,
    wants_path=None,  # noqa: ANN001 - Callable[[str], bool], the config's path filter
) -> list[Finding]:
    """Findings in the functions `commit` changes, checked in the commit's own tree."""
    analyser = analyser or TreeAnalyser(repo)
    rev = commit if isinstance(commit, str) else commit.hexsha  # a GitPython Commit too
    sha = rev_parse(repo, f"{rev}^{{commit}}")
    if sha is None:
        raise AnalysisError(f"{rev!r} names no commit in this repository")
    if patch is None:
        patch = commit_patches(repo, [sha])[sha]
    findings: list[Finding] = []
    for change in patch.files:
        if change.new_path is None or not is_c_path(change.path):
            continue  # a deleted file has no function left to check
        if wants_path is not None and not wants_path(change.path):
            continue
        findings.extend(analyser.check_change(patch, change)[1].findings)
    return findings


def check_source(path: str, text: str, functions=None, spec=None):  # noqa: ANN001, ANN201
    """The FOLL_GET checker (reviewtool.analyses.spec); a typed error while it is missing."""
    try:
        from reviewtool.analyses.spec.check import check_source as checker
    except ImportError as exc:
        raise AnalysisError(f"the FOLL_GET checker is not available: {exc}") from exc
    return checker(path, text, functions=functions, spec=spec)


def load_spec(extra_files: tuple[Path, ...]):  # noqa: ANN201
    """The bundled spec set plus `extra_files`."""
    try:
        from reviewtool.analyses.spec.model import load_specs
    except ImportError as exc:
        raise AnalysisError(f"the spec loader is not available: {exc}") from exc
    return load_specs([str(path) for path in extra_files])
