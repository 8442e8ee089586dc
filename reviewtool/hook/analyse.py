"""The analyses the hook runs on a commit, with the repository itself as the tree.

Whole functions before and after each commit come from blobs (`commit.tree / path`), never from
a checkout: the hook must not touch the work tree, the index or any ref. Only functions the
commit changes are checked (the enclosing functions of its changed lines).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import git

from reviewtool.analyses.findings import Finding
from reviewtool.errors import AnalysisError
from reviewtool.hook.changes import CommitPatch, FileChange, commit_patches, is_c_path

# Bytes that are not UTF-8 in a C file (a Latin-1 author name in a comment) must not stop the
# check; replacing them keeps every line where it was.
_DECODE_ERRORS = "replace"


@dataclass
class CheckOutcome:
    """What checking some functions of one file version gave."""

    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class TreeAnalyser:
    """Reads files from commits and runs the checker on chosen functions, caching both.

    One instance lives for one hook run: blobs and results are cached by (commit, path), so a
    base version shared by several pushed refs is read and checked once.
    """

    def __init__(self, repo: git.Repo, spec_files: Iterable[Path] = ()) -> None:
        self.repo = repo
        self.spec_files = tuple(spec_files)
        self._texts: dict[tuple[str, str], str | None] = {}
        self._checked: dict[tuple[str, str, frozenset[str]], CheckOutcome] = {}
        self._spec = None
        self._spec_loaded = False

    def text(self, commit: str | None, path: str) -> str | None:
        """The file `path` as of `commit`, or None when it does not exist there."""
        if commit is None:
            return None
        key = (commit, path)
        if key not in self._texts:
            try:
                blob = self.repo.commit(commit).tree / path
            except KeyError:
                self._texts[key] = None
            else:
                data = blob.data_stream.read() if blob.type == "blob" else None
                self._texts[key] = None if data is None else data.decode("utf-8", _DECODE_ERRORS)
        return self._texts[key]

    def functions_at(self, commit: str | None, path: str, lines: Iterable[int]) -> set[str]:
        """Names of the functions enclosing `lines` in `path` as of `commit`."""
        text = self.text(commit, path)
        if text is None:
            return set()
        from reviewtool.cparse import parse_c

        parsed = parse_c(text)
        names = set()
        for line in lines:
            function = parsed.enclosing_function(line)
            if function is not None:
                names.add(function.name)
        return names

    def defined_at(self, commit: str | None, path: str) -> set[str]:
        """Names of every function defined in `path` as of `commit`."""
        text = self.text(commit, path)
        if text is None:
            return set()
        from reviewtool.cparse import parse_c

        return {function.name for function in parse_c(text).functions()}

    def changed_functions(self, patch: CommitPatch, change: FileChange) -> set[str]:
        """The functions of the commit's version of the file that the change touches."""
        names = self.functions_at(patch.sha, change.path, sorted(change.new_lines))
        if change.removed_lines and change.new_path:
            # A deletion that took out lines of a function: check what is left of it.
            before = self.functions_at(
                patch.parent, change.old_path or change.path, sorted(change.removed_lines)
            )
            names |= before & self.defined_at(patch.sha, change.path)
        return names

    def check(self, commit: str | None, path: str, functions: set[str]) -> CheckOutcome:
        """Run the checker on `functions` of `path` as of `commit`."""
        text = self.text(commit, path)
        if text is None or not functions or commit is None:
            return CheckOutcome()
        key = (commit, path, frozenset(functions))
        if key not in self._checked:
            self._checked[key] = self._run_checker(path, text, functions)
        return self._checked[key]

    def _run_checker(self, path: str, text: str, functions: set[str]) -> CheckOutcome:
        result = check_source(path, text, functions=set(functions), spec=self.spec())
        return CheckOutcome(list(result.findings), list(result.notes))

    def spec(self):  # noqa: ANN201 - the checker's spec type; imported lazily
        """The checker's spec with the project's extra spec files, loaded once."""
        if not self._spec_loaded:
            self._spec = load_spec(self.spec_files)
            self._spec_loaded = True
        return self._spec


def analyse_commit(
    repo: git.Repo,
    commit: str,
    *,
    analyser: TreeAnalyser | None = None,
    patch: CommitPatch | None = None,
    wants_path=None,  # noqa: ANN001 - Callable[[str], bool], the config's path filter
) -> list[Finding]:
    """Findings in the functions `commit` changes, checked in the commit's own tree."""
    analyser = analyser or TreeAnalyser(repo)
    if patch is None:
        patch = commit_patches(repo, [commit])[commit]
    findings: list[Finding] = []
    for change in patch.files:
        if change.new_path is None or not is_c_path(change.path):
            continue  # a deleted file has no function left to check
        if wants_path is not None and not wants_path(change.path):
            continue
        functions = analyser.changed_functions(patch, change)
        findings.extend(analyser.check(patch.sha, change.path, functions).findings)
    return findings


def check_source(path: str, text: str, functions=None, spec=None):  # noqa: ANN001, ANN201
    """The FOLL_GET checker (reviewtool.analyses.spec); a typed error while it is missing."""
    try:
        from reviewtool.analyses.spec.check import check_source as checker
    except ImportError as exc:
        raise AnalysisError(f"the FOLL_GET checker is not available: {exc}") from exc
    return checker(path, text, functions=functions, spec=spec)


def load_spec(extra_files: tuple[Path, ...]):  # noqa: ANN201
    """The bundled spec plus `extra_files`; None (the checker's default) when there are none."""
    if not extra_files:
        return None
    try:
        from reviewtool.analyses.spec.model import load_specs
    except ImportError as exc:
        raise AnalysisError(f"the spec loader is not available: {exc}") from exc
    return load_specs([str(path) for path in extra_files])
