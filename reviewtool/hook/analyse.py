"""The hook's file source: C files read from commits, handed to the checker's one driver.

Whole functions before and after each commit come from blobs (`commit:path`), never from a
checkout: the hook must not touch the work tree, the index or any ref. Which functions a
change touches, what text the checker needs for them and which API generation the file uses
are the checker's business (`analyses.spec.check.check_functions`); this module only reads
texts and remembers answers for the length of one hook run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewtool.analyses.findings import Finding, NotChecked
from reviewtool.diff.model import is_c_path
from reviewtool.errors import AnalysisError
from reviewtool.hook.changes import CommitPatch, FileChange, commit_patches
from reviewtool.hook.gitio import GitRepo, read_blob, read_blobs, rev_parse

# Checking ahead in parallel pays for its fork and its own git process only with this many
# changed files to check, spread over at least two files.
MIN_PARALLEL_CHANGES = 4
MAX_WORKERS = 8

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


class TreeAnalyser:
    """Reads files from commits and hands them to the checker, caching both.

    One instance lives for one hook run: blobs and results are kept by commit and path, so a
    base version shared by several pushed refs is read and checked once.
    """

    def __init__(self, repo: Any, spec_files: Iterable[Path] = ()):
        self.repo = repo
        self.spec_files = tuple(spec_files)
        self._texts: dict[tuple[str, str], str | None] = {}
        self._checked: dict[tuple, tuple[frozenset[str], CheckOutcome]] = {}
        # check_change answers computed ahead by `prepare`, by (commit, path).
        self._prepared: dict[tuple[str, str], tuple[set[str], CheckOutcome]] = {}
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
            self._keep(key, read_blob(self.repo, f"{commit}:{path}"))
        return self._texts[key]

    def _keep(self, key: tuple[str, str], found: tuple[str, bytes] | None) -> None:
        if found is None or found[0] != "blob":
            self._texts[key] = None  # no such file in that commit
        else:
            self._texts[key] = found[1].decode("utf-8", _DECODE_ERRORS)

    def prefetch(self, changes: list[tuple[CommitPatch, FileChange]]) -> None:
        """Read every text checking `changes` needs in one exchange with git: the file at the
        commit, its companions there, and its parent's version when lines were removed."""
        from reviewtool.analyses.spec.model import companions_of

        wanted: list[tuple[str, str]] = []
        for patch, change in changes:
            wanted += [(patch.sha, path) for path in (change.path, *companions_of(change.path))]
            if change.removed_lines and change.new_path and patch.parent:
                wanted.append((patch.parent, change.old_path or change.path))
        missing = [key for key in dict.fromkeys(wanted) if key not in self._texts]
        found = read_blobs(self.repo, [f"{commit}:{path}" for commit, path in missing])
        for key, item in zip(missing, found, strict=True):
            self._keep(key, item)

    def check_change(self, patch: CommitPatch, change: FileChange) -> tuple[set[str], CheckOutcome]:
        """The functions a change touches and the checker's findings in them."""
        ready = self._prepared.pop((patch.sha, change.path), None)
        if ready is not None:
            return ready
        functions, outcome = self._run(patch.sha, change.path, *self._wanted(patch, change))
        return set(functions), outcome

    def check(self, commit: str | None, path: str, functions: set[str]) -> CheckOutcome:
        """Run the checker on `functions` of `path` as of `commit`."""
        if commit is None or not functions:
            return CheckOutcome()
        return self._run(commit, path, frozenset(), frozenset(functions))[1]

    def prepare(self, changes: list[tuple[CommitPatch, FileChange]]) -> None:
        """Check `changes` ahead, spread over processes, when there are several files and
        cores: the files of a push are checked independently of each other, and their checks
        are most of the hook's time. Answers come back through `check_change`; a worker that
        fails leaves its changes to be checked here, in order, as without it."""
        self.prefetch(changes)
        paths = {change.path for _, change in changes}
        workers = min(os.cpu_count() or 1, MAX_WORKERS, len(changes))
        if workers < 2 or len(paths) < 2 or len(changes) < MIN_PARALLEL_CHANGES:
            return
        if not hasattr(os, "fork"):
            return
        if not isinstance(self.repo, GitRepo):
            return  # GitPython's own cat-file process cannot be shared with a forked worker
        # Each file's commits stay together and in order (a commit's text is the next one's
        # parent), cut into equal shares: by file alone, three files on two cores leave
        # one process twice the work of the other.
        ordered = sorted(changes, key=lambda item: item[1].path)
        try:
            self.spec()  # read once, before the fork: every worker shares it
            # The first change here, before the fork: what a check imports and builds on
            # first use (the parser, the scan, the spec's tables) is then built once.
            first, ordered = ordered[0], ordered[1:]
            self._prepared[(first[0].sha, first[1].path)] = self.check_change(*first)
        except Exception:  # noqa: BLE001 - checked in order later, where the error is reported
            return
        share = -(-(len(ordered) + 1) // workers)  # the parent's share counts its first change
        starts = range(share - 1, len(ordered), share)
        groups = [ordered[: share - 1], *(ordered[start : start + share] for start in starts)]
        import pickle  # noqa: PLC0415 - only when files are checked in parallel

        children = [self._fork(group) for group in groups[1:] if group]
        try:
            for patch, change in groups[0]:
                self._prepared[(patch.sha, change.path)] = self.check_change(patch, change)
        except Exception:  # noqa: BLE001,S110 - raised again, in order, by the run's own loop
            pass
        for pid, fd in children:
            with os.fdopen(fd, "rb") as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            try:
                self._prepared.update(pickle.loads(data))
            except Exception:  # noqa: BLE001,S110 - the worker failed: these are checked in order
                pass

    def _fork(self, group: list[tuple[CommitPatch, FileChange]]) -> tuple[int, int]:
        """A worker process checking `group`; its pid and the pipe its answers come through."""
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid:
            os.close(write_end)
            return pid, read_end
        os.close(read_end)
        data = b""
        try:
            import pickle  # noqa: PLC0415 - imported by the parent already: a dict lookup

            self.repo.detach()  # its own cat-file process: the parent's pipe stays the parent's
            answers = {(p.sha, c.path): self.check_change(p, c) for p, c in group}
            data = pickle.dumps(answers)
        except BaseException:  # noqa: BLE001,S110 - nothing sent: the parent checks these itself
            pass
        finally:
            try:
                _write_all(write_end, data)
            finally:
                os._exit(0)

    def warm_up(self) -> None:
        """Import the checker and read the spec now (while git works for the hook)."""
        from reviewtool.analyses.spec.check import check_functions  # noqa: F401
        from reviewtool.cparse.scan import scan_functions  # noqa: F401

        self.spec()

    def spec(self):  # noqa: ANN201 - the checker's spec type; imported lazily
        """The checker's spec set with the project's extra spec files, loaded once."""
        if not self._spec_loaded:
            self._spec = load_spec(self.spec_files)
            self._spec_loaded = True
        return self._spec

    def _wanted(self, patch: CommitPatch, change: FileChange) -> tuple[frozenset, frozenset]:
        """The changed lines of the commit's version, and the names of functions a deletion
        took lines out of (looked up in the parent: check what is left of them)."""
        names: frozenset[str] = frozenset()
        if change.removed_lines and change.new_path and patch.parent:
            before = self.text(patch.parent, change.old_path or change.path)
            if before is not None:
                from reviewtool.analyses.spec.selection import functions_at

                names = functions_at(before, change.removed_lines)
        return frozenset(change.new_lines), names

    def _run(
        self,
        commit: str,
        path: str,
        lines: frozenset[int],
        names: frozenset[str],
    ) -> tuple[frozenset[str], CheckOutcome]:
        text = self.text(commit, path)
        if text is None:
            return frozenset(), CheckOutcome()
        key = (commit, path, lines, names)
        if key in self._checked:
            return self._checked[key]
        # Imported here: the checker brings tree-sitter, which a non-C push never needs.
        from reviewtool.analyses.spec.check import check_functions
        from reviewtool.analyses.spec.model import companions_of

        context = {}
        for companion in companions_of(path):
            other = self.text(commit, companion)
            if other is not None:
                context[companion] = other
        functions, result = check_functions(path, text, lines, names, self.spec(), context)
        outcome = CheckOutcome(list(result.findings), list(result.notes), list(result.not_checked))
        self._checked[key] = (functions, outcome)
        return functions, outcome


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


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


def load_spec(extra_files: tuple[Path, ...]):  # noqa: ANN201
    """The bundled spec set plus `extra_files` (the bundled set alone from the spec cache)."""
    from reviewtool.analyses.spec.spec_cache import load_specs_cached

    return load_specs_cached(extra_files)
