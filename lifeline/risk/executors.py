"""One executor abstraction for every scenario fan-out: in-process, process pool or Dask.

``get_executor(kind, cluster)`` returns an :class:`Executor` with a ``map(fn, items)`` that returns
results in input order (like :meth:`concurrent.futures.Executor.map`) and can show a progress bar.
``kind`` is ``"inprocess"`` (default, no pickling), ``"processes"`` (a
:class:`concurrent.futures.ProcessPoolExecutor`) or ``"dask"`` (a ``distributed.Client``: on the
scheduler at ``cluster`` such as ``tcp://10.0.0.5:8786``, or on a new LocalCluster when ``cluster``
is ``None``). Giving ``cluster`` implies ``"dask"``.

Functions passed to ``map`` must be importable module-level functions and items picklable, so the
same call works on every back end. Example::

    with get_executor("dask", "tcp://127.0.0.1:8786") as ex:
        results = ex.map(simulate_chunk, chunks, progress="scenarios")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

from lifeline.errors import ConfigError

Kind = Literal["inprocess", "processes", "dask"]
KINDS: tuple[str, ...] = ("inprocess", "processes", "dask")


class Executor:
    """Base class: ``map`` in input order, ``close`` on exit. Use as a context manager."""

    kind: str = "inprocess"
    workers: int = 1

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], progress: str | None = None
    ) -> list[Any]:
        """Apply ``fn`` to every item; results in input order. ``progress`` labels a progress bar."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (no-op for the in-process executor)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> str:
        """A short description, e.g. ``processes(2)``."""
        return f"{self.kind}({self.workers})"


class InProcessExecutor(Executor):
    """Runs everything in the calling process (no pickling; easiest to debug)."""

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], progress: str | None = None
    ) -> list[Any]:
        """Apply ``fn`` to every item in turn."""
        items = list(items)
        if progress:
            from lifeline.progress import track

            return [fn(x) for x in track(items, progress)]
        return [fn(x) for x in items]


def _collect(
    futures: list[Any], as_completed: Callable[[Any], Iterable[Any]], progress: str | None
) -> list[Any]:
    index = {id(f): i for i, f in enumerate(futures)}
    out: list[Any] = [None] * len(futures)
    if progress:
        from lifeline.progress import make_progress

        with make_progress() as bar:
            task = bar.add_task(progress, total=len(futures))
            for f in as_completed(futures):
                out[index[id(f)]] = f.result()
                bar.advance(task)
    else:
        for f in as_completed(futures):
            out[index[id(f)]] = f.result()
    return out


class ProcessExecutor(Executor):
    """A :class:`concurrent.futures.ProcessPoolExecutor` with ``workers`` processes."""

    kind = "processes"

    def __init__(self, workers: int | None = None) -> None:
        import os
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or max(1, (os.cpu_count() or 2))
        self._pool = ProcessPoolExecutor(max_workers=self.workers)

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], progress: str | None = None
    ) -> list[Any]:
        """Submit every item to the pool; gather in input order."""
        from concurrent.futures import as_completed

        futures = [self._pool.submit(fn, x) for x in items]
        return _collect(futures, as_completed, progress)

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor(Executor):
    """A ``distributed.Client`` on an existing scheduler address or on a new LocalCluster.

    ``processes=False`` starts the LocalCluster's workers as threads in this process (fast start,
    used by the tests); EPANET runs in its own library handle per task, so threads are safe.
    """

    kind = "dask"

    def __init__(
        self, cluster: str | None = None, workers: int | None = None, processes: bool = True
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - dask is a declared dependency
            raise ConfigError("the dask executor needs dask[distributed] installed") from exc
        self._cluster: Any = None
        if cluster:
            if not cluster.startswith(
                ("tcp://", "tls://", "inproc://", "ucx://", "ws://", "wss://")
            ):
                raise ConfigError(
                    f"not a Dask scheduler address: {cluster!r} (expected tcp://HOST:PORT)",
                    "--cluster",
                )
            try:
                self._client = Client(cluster, timeout=10)
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler: {exc}", cluster) from exc
        else:
            self._cluster = LocalCluster(
                n_workers=workers or 2,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        self.workers = len(self._client.scheduler_info().get("workers", {})) or (workers or 1)
        self.address = str(self._client.scheduler.address)

    @property
    def client(self) -> Any:
        """The underlying ``distributed.Client``."""
        return self._client

    def map(
        self, fn: Callable[[Any], Any], items: Iterable[Any], progress: str | None = None
    ) -> list[Any]:
        """Submit every item to the cluster (pure=False: always run); gather in input order."""
        from distributed import as_completed

        futures = [self._client.submit(fn, x, pure=False) for x in items]
        return _collect(futures, as_completed, progress)

    def close(self) -> None:
        """Close the client, and the LocalCluster if this executor started it."""
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def get_executor(
    kind: str = "inprocess",
    cluster: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> Executor:
    """Return an executor of ``kind`` (``inprocess``, ``processes``, ``dask``).

    ``cluster`` (``tcp://HOST:PORT``) selects a running Dask scheduler and implies ``dask``;
    ``workers`` sizes the process pool or the LocalCluster; ``processes=False`` makes a
    LocalCluster use threads. Raises ConfigError on an unknown kind or an unreachable scheduler.
    """
    if cluster:
        kind = "dask"
    if kind not in KINDS:
        raise ConfigError(
            f"unknown executor {kind!r}; choose one of {', '.join(KINDS)}", "--executor"
        )
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(cluster, workers, processes=processes)
    return InProcessExecutor()


def chunked(items: list[Any], n_chunks: int) -> list[list[Any]]:
    """Split ``items`` into at most ``n_chunks`` contiguous, nearly equal, non-empty chunks."""
    n_chunks = max(1, min(n_chunks, len(items)))
    size, extra = divmod(len(items), n_chunks)
    out, start = [], 0
    for i in range(n_chunks):
        stop = start + size + (1 if i < extra else 0)
        out.append(items[start:stop])
        start = stop
    return [c for c in out if c]
