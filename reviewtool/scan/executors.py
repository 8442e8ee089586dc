"""Where scan work runs: in this process, in a pool of processes, or on a Dask cluster.

Each executor maps a function over items and yields `(item, result, error)` in the order of
the items, with at most `window` items in flight, so results stream back and memory holds a
few of them whatever the archive's size. `error` is set when the work could not even run
(a worker process died, a cluster lost a task); the work functions themselves return their
failures as data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from reviewtool.errors import UsageError

# Tasks in flight per worker: enough to keep each busy while the driver stores results.
IN_FLIGHT_PER_WORKER = 2
# How long to wait for a Dask scheduler to answer before saying it cannot be reached.
DASK_CONNECT_SECONDS = 20

Outcome = tuple[Any, Any, str | None]


class InlineExecutor:
    """Runs each item here and now: `--jobs 1`."""

    workers = 1

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        """Results in item order."""
        for item in items:
            yield item, fn(item), None

    def close(self) -> None:
        """Nothing to release."""


class _Windowed:
    """Ordered map with a bounded number of submitted, unfinished items."""

    workers = 1

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        raise NotImplementedError

    def _result(self, future: Any) -> Any:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Outcome]:
        """Results in item order, at most `workers * IN_FLIGHT_PER_WORKER` in flight."""
        window = max(1, self.workers * IN_FLIGHT_PER_WORKER)
        pending: deque[tuple[Any, Any]] = deque()
        for item in items:
            pending.append((item, self._submit(fn, item)))
            if len(pending) >= window:
                yield self._finish(*pending.popleft())
        while pending:
            yield self._finish(*pending.popleft())

    def _finish(self, item: Any, future: Any) -> Outcome:
        try:
            return item, self._result(future), None
        except Exception as exc:  # noqa: BLE001 - a lost worker costs one item, not the scan
            return item, None, f"worker failed: {type(exc).__name__}: {exc}"


class ProcessExecutor(_Windowed):
    """A pool of worker processes on this machine: `--jobs N`."""

    def __init__(self, jobs: int) -> None:
        self.workers = jobs
        # Workers forked after the review core is imported share it instead of each paying
        # for the import (tree-sitter, SciPy, the templates) again.
        import reviewtool.render.html  # noqa: F401
        import reviewtool.render.jsonout  # noqa: F401
        import reviewtool.review  # noqa: F401

        self.pool = ProcessPoolExecutor(max_workers=jobs)

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Future:
        return self.pool.submit(fn, item)

    def _result(self, future: Future) -> Any:
        return future.result()

    def close(self) -> None:
        """Stop the worker processes."""
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(_Windowed):
    """A `dask.distributed` cluster: `--scheduler tcp://HOST:PORT`."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'reviewtool[scale]'") from None
        try:
            self.client = Client(address, timeout=DASK_CONNECT_SECONDS, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise UsageError(f"--scheduler {address}: cannot reach the scheduler: {exc}") from None
        self.workers = max(1, sum(self.client.nthreads().values()))

    def _submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        # pure=False: two partitions with equal descriptions are still two pieces of work.
        return self.client.submit(fn, item, pure=False)

    def _result(self, future: Any) -> Any:
        try:
            return future.result()
        finally:
            future.release()

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self.client.close()


def make_executor(jobs: int, scheduler: str | None) -> InlineExecutor | _Windowed:
    """The executor the options ask for."""
    if scheduler:
        return DaskExecutor(scheduler)
    if jobs <= 1:
        return InlineExecutor()
    return ProcessExecutor(jobs)
