"""`reviewtool check DIR`: find the C files of a directory and check them in parallel processes.

Scheduling only: a first pass summarises, in the same worker processes, what each file's
functions do to a page reference as callers in other files see it (analyses/spec/summaries.py,
cached between runs); the second pass runs the same `check_source` the single-file path runs,
with those summaries. Results come back in path order whatever order the workers finish in,
so the output of a parallel run is the output of a serial one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from reviewtool.analyses.spec import check_source, load_specs
from reviewtool.analyses.spec.check import CheckResult
from reviewtool.analyses.spec.model import companions_beside
from reviewtool.analyses.spec.summaries import (
    Summaries,
    SummarySet,
    called_names,
    summarise_cached,
    summarise_files,
)
from reviewtool.analyses.spec.summary_cache import (
    SummaryCache,
    default_cache_dir,
    spec_fingerprint,
)
from reviewtool.diff.patterns import C_SUFFIXES
from reviewtool.errors import InputError

# Files whose presence at the top of a directory says it holds mail, not C.
MAIL_SUFFIXES = (".patch", ".eml", ".mbox", ".mbx", ".diff", ".gz")
# Directories that never hold the code under review.
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__"})

_WORKER_SPECS = None
_WORKER_CACHE: SummaryCache | None = None


def is_c_tree(directory: str | Path) -> bool:
    """True for a directory of C sources (a kernel checkout, a subsystem), not of mail.

    A Maildir (cur/, new/) or a directory with mail or patch files at its top is mail.
    """
    root = Path(directory)
    if (root / "cur").is_dir() or (root / "new").is_dir():
        return False
    try:
        top = list(root.iterdir())
    except OSError:
        return False
    if any(entry.is_file() and entry.name.endswith(MAIL_SUFFIXES) for entry in top):
        return False
    return bool(c_files_under(root, limit=1))


def c_files_under(directory: str | Path, limit: int | None = None) -> list[str]:
    """Every .c/.h regular file under directory (symlinks and VCS dirs skipped), sorted."""
    found: list[str] = []
    for current, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = os.path.join(current, name)
            if name.endswith(C_SUFFIXES) and not os.path.islink(path) and os.path.isfile(path):
                found.append(path)
                if limit is not None and len(found) >= limit:
                    return found
    return sorted(found)


def companion_texts(name: str) -> dict[str, str]:
    """The files that #include this one, found beside it (paging_tmpl.h -> mmu.c)."""
    return {
        str(companion): companion.read_text(encoding="utf-8", errors="replace")
        for companion in companions_beside(name)
    }


def _read(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {name}: {exc.strerror}") from exc


def check_file(name: str, specs, summaries: Summaries | None = None) -> CheckResult:
    """check_source() over one C file, with the files that include it as context and the
    summaries of functions other files define."""
    text = _read(name)
    context = companion_texts(name)
    return check_source(
        name,
        text,
        None,
        specs,
        context=context,
        summaries=summaries,
        whole_texts=(text, *context.values()),
    )


def summarise_file(
    name: str, specs, known: Summaries | None, wanted: set[str], cache: SummaryCache | None
) -> list:
    """Summary rows of one C file's functions that other files call."""
    if not wanted:
        return []
    return summarise_cached(name, _read(name), companion_texts(name), specs, known, cache, wanted)


def _init_worker(spec_files: list[str], cache: SummaryCache | None) -> None:
    global _WORKER_SPECS, _WORKER_CACHE  # noqa: PLW0603 - loaded once per worker process
    _WORKER_SPECS = load_specs(spec_files)
    _WORKER_CACHE = cache


def _check_in_worker(name: str, summaries: Summaries | None) -> CheckResult:
    return check_file(name, _WORKER_SPECS, summaries)


def _summarise_in_worker(task: tuple[str, Summaries | None, set[str]]) -> list:
    name, known, wanted = task
    return summarise_file(name, _WORKER_SPECS, known, wanted, _WORKER_CACHE)


def _calls_of(names: list[str]) -> dict[str, set[str]]:
    """Names each file (with its companions) calls: which files a summary can matter to."""
    found = {}
    for name in names:
        texts = [_read(name), *companion_texts(name).values()]
        found[name] = called_names("\n".join(texts))
    return found


def check_files(
    names: list[str],
    spec_files: list[str],
    progress: Callable[..., None] | None = None,
    workers: int | None = None,
    use_summaries: bool = True,
    cache_dir: Path | None = None,
) -> list[tuple[str, CheckResult]]:
    """(name, result) for each file, in the order given; files spread over processes.

    Functions are summarised first (cached in `cache_dir`, default_cache_dir() when None;
    pass use_summaries=False to check each file with the spec rows only). The biggest files
    start first, so one large file does not finish alone at the end.
    """
    workers = min(workers or os.cpu_count() or 1, len(names))
    results: dict[str, CheckResult] = {}
    cache = None
    if use_summaries:
        cache = SummaryCache(cache_dir or default_cache_dir(), spec_fingerprint(spec_files))
    calls = _calls_of(names) if use_summaries and len(names) > 1 else {}
    table = SummarySet()
    if workers <= 1:
        specs = load_specs(spec_files)
        if calls:
            table = summarise_files(
                names,
                lambda batch: [summarise_file(n, specs, k, w, cache) for n, k, w in batch],
                calls,
            )
        for done, name in enumerate(names, start=1):
            results[name] = check_file(name, specs, table.rows or None)
            if progress:
                progress(done, len(names), name)
        return [(name, results[name]) for name in names]
    by_size = sorted(names, key=lambda n: -_size(n))
    with ProcessPoolExecutor(
        workers, initializer=_init_worker, initargs=(spec_files, cache)
    ) as pool:
        if calls:
            table = summarise_files(
                by_size, lambda batch: list(pool.map(_summarise_in_worker, batch)), calls
            )
        rows = table.rows or None
        futures = {pool.submit(_check_in_worker, name, rows): name for name in by_size}
        for done, future in enumerate(as_completed(futures), start=1):
            name = futures[future]
            results[name] = future.result()
            if progress:
                progress(done, len(names), name)
    return [(name, results[name]) for name in names]


def _size(name: str) -> int:
    try:
        return os.path.getsize(name)
    except OSError:
        return 0
