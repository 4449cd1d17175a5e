"""Jacobian columns on the parallel engines users already run.

``jacobian(f, x, executor=...)`` (and ``gradient``, ``hessian``, their
``value_and_`` forms) pushes each chunk of seeded columns through ``f`` as one
task of an executor.  Accepted executors:

* a :class:`concurrent.futures.Executor`: ``ThreadPoolExecutor``,
  ``ProcessPoolExecutor``, loky's executors;
* a ``dask.distributed.Client``, or the executor of its ``get_executor()``;
* any map-like callable ``map(func, iterable)`` returning the results in order
  (scipy's ``workers`` convention): ``multiprocessing.Pool().map`` works.

The sparse and prepared Jacobians and Hessians (``sparsity=``,
:func:`dualdiff.sparse_jacobian`, :func:`dualdiff.sparse_hessian`) run their
blocks of colours through the same machinery (:func:`map_tasks` with a
:class:`Block` that builds its colours' seeds on the worker).

The contract:

* **Same answer.**  The blocks are the serial path's blocks, computed by the same
  code (:func:`dualdiff.columns.column_block`), and put together in seed order,
  so the Jacobian is the serial one bit for bit.  The point travels with its
  memory layout, and the caller's ``np.errstate`` and :func:`dualdiff.nan_safe`
  setting apply on the workers.
* **f is serialised once per call** with cloudpickle (lambdas and closures from
  notebooks work), and so is the point.  Tasks carry only a key: a process
  pool's workers read the pickles from a file written once per call, a Dask
  cluster gets them by ``scatter`` (so each worker receives them once), and
  each worker keeps the last few unpickled ``f`` by a hash of their bytes, so a
  large array captured by ``f`` is neither re-sent nor re-loaded per task.
  A ``ThreadPoolExecutor`` (and Dask's in-process workers) use the objects
  themselves.
* **Errors name their block.**  An exception raised by ``f`` on a worker
  reaches the caller as the same exception type and message, with the
  worker's traceback as its cause and a note naming the seed block (the
  Jacobian columns) and the worker; if it cannot be re-created there,
  :class:`WorkerError` carries the text.
* **Tags stay apart.**  The caller draws every block's tag and sends it along;
  a worker in another process first moves its tag counter past it, so the
  derivative calls nested in ``f`` there are newer than the block (no
  perturbation confusion).  The caller then skips :data:`TAG_WINDOW` tags, so
  the tags drawn on workers during the call are never drawn by the caller.
  Nothing tagged on a worker comes back: a result holds the caller's tags only.

Examples
--------
>>> import numpy as np
>>> from concurrent.futures import ThreadPoolExecutor
>>> import dualdiff as dd
>>> f = lambda x: np.sin(x) * np.sum(x**2)
>>> x = np.linspace(0.0, 1.0, 6)
>>> with ThreadPoolExecutor(2) as pool:
...     J = dd.jacobian(f, x, executor=pool)
>>> np.array_equal(J, dd.jacobian(f, x))
True
"""

from __future__ import annotations

import collections
import concurrent.futures
import hashlib
import math
import os
import pickle
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dualdiff import columns, tags
from dualdiff.dispatch import SETTINGS
from dualdiff.dual import Dual

TAG_WINDOW = 2**32
"""Tags the caller skips after a distributed call: room for the tags its workers draw."""

CACHE_SIZE = 4
"""Unpickled functions (and points) each worker process keeps, by the hash of their bytes."""

_INSTALL = "pip install 'dualdiff[parallel]'"


class WorkerError(RuntimeError):
    """An exception raised by ``f`` on a worker that could not be re-created in the caller.

    Its message names the seed block and the worker; its cause holds the
    worker's traceback.
    """


class WorkerTraceback(Exception):  # noqa: N818 - it is a traceback, shown as a cause
    """The traceback of an exception on a worker, as text (the cause of the re-raised one)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f"\n\"\"\"\n{self.text}\"\"\""


# --- what the workers run ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """One seed block, as sent to a worker (small: the function and point travel by key)."""

    index: int
    start: int
    stop: int
    tag: int
    want_value: bool
    f_key: str
    x_key: str
    pid: int
    nan_safe: bool
    errstate: tuple[tuple[str, str], ...]
    running: tuple[int, ...]


@dataclass(frozen=True)
class _Done:
    value: Any
    tangent: Any
    seconds: float


@dataclass(frozen=True)
class _Failure:
    type_name: str
    message: str
    traceback: str
    exception: bytes | None
    worker: str
    local: BaseException | None = None  # the exception itself, when raised in the caller's process

    @classmethod
    def of(cls, error: BaseException, *, local: bool = False) -> _Failure:
        text, worker = traceback.format_exc(), f"pid {os.getpid()} on {socket.gethostname()}"
        if local:
            return cls(type(error).__qualname__, str(error), text, None, worker, error)
        try:
            pickled = _cloudpickle().dumps(error)
            pickle.loads(pickled)
        except Exception:
            pickled = None
        return cls(type(error).__qualname__, str(error), text, pickled, worker)


@dataclass(frozen=True)
class _Point:
    """An array point with its memory order: C-contiguous data and the axes to restore."""

    data: np.ndarray
    axes: tuple[int, ...]

    def restore(self) -> np.ndarray:
        return np.transpose(self.data, self.axes)


def _pack_point(x: Any) -> Any:
    if not isinstance(x, np.ndarray) or x.ndim < 2 or x.flags.c_contiguous:
        return x
    order = tuple(sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis])))
    return _Point(np.ascontiguousarray(np.transpose(x, order)), tuple(np.argsort(order).tolist()))


_LOCAL: dict[str, Any] = {}
"""Objects of the calls running in this process, by key (tasks run here use them as they are)."""

_CACHE: collections.OrderedDict[str, Any] = collections.OrderedDict()
"""Objects unpickled by this worker process, by key, most recent last."""

_CACHE_LOCK = threading.Lock()


def _load(key: str, source: Any) -> Any:
    """The object of ``key``: the caller's own, a cached one, or unpickled from ``source``."""
    if key in _LOCAL:
        return _LOCAL[key]
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    item = pickle.loads(data)
    if isinstance(item, _Point):
        item = item.restore()
    with _CACHE_LOCK:
        _CACHE[key] = item
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return item


def run_task(args: tuple[_Task, Any, Any]) -> _Done | _Failure:
    """Compute one seed block on a worker (the function every engine runs).

    ``args`` is the task and where its function and point come from (pickled
    bytes, or a file holding them).  Exceptions are returned, with their
    traceback, for the caller to raise in seed order.
    """
    task, f_source, x_source = args
    started = time.perf_counter()
    tags.guard_threads()  # a worker may run several blocks at once on threads
    try:
        block = _load(task.f_key, f_source)
        x = _load(task.x_key, x_source)
        elsewhere = task.pid != os.getpid()
        if elsewhere:  # another process: the caller's tags and settings
            tags.draw_above(task.tag)
            SETTINGS.nan_safe = task.nan_safe
        with np.errstate(**dict(task.errstate)), tags.running(*task.running * elsewhere):
            value, tangent = block(x, task.start, task.stop, task.tag)
    except Exception as error:
        return _Failure.of(error, local=task.pid == os.getpid())
    return _Done(value if task.want_value else None, tangent, time.perf_counter() - started)


# --- the engines -------------------------------------------------------------------------------


def _cloudpickle() -> Any:
    try:
        import cloudpickle  # noqa: PLC0415 - an optional dependency
    except ImportError as error:
        raise ImportError(
            f"sending f to process workers needs cloudpickle: {_INSTALL}"
        ) from error
    return cloudpickle


def _dask_client(executor: Any) -> tuple[Any, dict[str, Any]] | None:
    """``(client, submit keywords)`` when ``executor`` is Dask's, else ``None``."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    if isinstance(executor, distributed.Client):
        return executor, {}
    from distributed.cfexecutor import ClientExecutor  # noqa: PLC0415 - dask is loaded

    if isinstance(executor, ClientExecutor):
        return executor._client, dict(executor._kwargs)
    return None


def worker_count(executor: Any) -> int:
    """How many tasks ``executor`` runs at once (the CPU count when it does not say).

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(3) as pool:
    ...     worker_count(pool)
    3
    """
    dask = _dask_client(executor)
    if dask is not None:
        return max(1, sum(dask[0].nthreads().values()))
    count = getattr(executor, "_max_workers", None)  # concurrent.futures and loky
    if count is None:  # a bound map method of multiprocessing's Pool
        count = getattr(getattr(executor, "__self__", None), "_processes", None)
    return max(1, int(count or os.cpu_count() or 1))


def default_chunk_size(executor: Any, n: int) -> int:
    """Columns per task: the ``n`` columns split evenly over the workers.

    Never more than the serial default (:func:`dualdiff.columns.default_chunk_size`),
    which bounds the memory of one block's seeds.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     default_chunk_size(pool, 64), default_chunk_size(pool, 5)
    (32, 3)
    """
    return max(1, min(columns.default_chunk_size(n), math.ceil(n / worker_count(executor))))


def _kind(executor: Any) -> str:
    if _dask_client(executor) is not None:
        return "dask"
    if isinstance(executor, concurrent.futures.ThreadPoolExecutor):
        return "threads"
    if isinstance(executor, concurrent.futures.Executor):
        return "futures"
    if callable(executor):
        return "map"
    raise TypeError(
        f"executor must be a concurrent.futures.Executor, a dask.distributed Client (or its "
        f"get_executor()), or a map-like callable such as multiprocessing.Pool().map; got "
        f"{type(executor).__name__}"
    )


class Block(Protocol):
    """What one task computes: ``block(x, start, stop, tag) -> (value, tangent block)``.

    The block object is what is pickled once per call (it holds ``f``); a task
    carries only its span.  :meth:`describe` names a span in error messages.
    :class:`ColumnBlock` (dense columns) and the colour blocks of
    :mod:`dualdiff.sparse` are the blocks there are.
    """

    def __call__(self, x: Any, start: int, stop: int, tag: int) -> tuple[Any, Any]:
        """``f(x)`` and the tangent block of the span ``start:stop`` (batch axis first)."""
        ...

    def describe(self, start: int, stop: int, total: int) -> str:
        """The span in words, for error messages (``total``: the end of the last span)."""
        ...


class ColumnBlock:
    """Jacobian columns ``start:stop`` of ``f`` (unit seeds): :func:`columns.column_block`."""

    def __init__(self, f: Callable[[Any], Any], extract: Callable[..., tuple[Any, Any]],
                 single: bool) -> None:
        self.f, self.extract, self.single = f, extract, single

    def __call__(self, x: Any, start: int, stop: int, tag: int) -> tuple[Any, Any]:  # noqa: D102
        return columns.column_block(self.f, x, start, stop, single=self.single,
                                    extract=self.extract, tag=tag)

    def describe(self, start: int, stop: int, total: int) -> str:  # noqa: D102
        span = f"column {start}" if stop - start == 1 else f"columns {start} to {stop - 1}"
        return f"Jacobian {span}, of {total}"


def map_blocks(
    executor: Any,
    f: Callable[[Any], Any],
    x: Any,
    spans: Sequence[tuple[int, int]],
    *,
    single: bool,
    extract: Callable[[Any, int, tuple[int, ...]], tuple[Any, Any]],
) -> list[tuple[Any, Any]]:
    """``(value, tangent block)`` of every span of Jacobian columns, in order, run by ``executor``.

    Only the last block's value is brought back (the serial path keeps the
    last one); the others are ``None``.
    """
    return map_tasks(executor, ColumnBlock(f, extract, single), x, spans)


def map_tasks(
    executor: Any,
    block: Block,
    x: Any,
    spans: Sequence[tuple[int, int]],
) -> list[tuple[Any, Any]]:
    """``block(x, start, stop, tag)`` of every span, in order, each one task of ``executor``.

    ``block`` (holding ``f``) and ``x`` are serialised once; a task carries its
    span and tag.  Only the last span's value is brought back; the others are
    ``None``.
    """
    kind = _kind(executor)
    tags.guard_threads()  # blocks may run on threads of this process
    block_tags = [tags.new_tag() for _ in spans]
    tags.draw_above(block_tags[-1] + TAG_WINDOW)  # the workers' tags: never drawn here
    errstate = tuple(sorted(np.geterr().items()))
    caller_running = tuple(tags.running_now())  # f may hold Duals of enclosing calls
    pid = os.getpid()

    def task(i: int, f_key: str, x_key: str) -> _Task:
        start, stop = spans[i]
        return _Task(i, start, stop, block_tags[i], i == len(spans) - 1, f_key, x_key,
                     pid, SETTINGS.nan_safe, errstate, caller_running)

    if kind == "threads":
        key = f"local-{id(block)}-{block_tags[0]}"
        _LOCAL[key] = block
        _LOCAL[key + "-x"] = x
        try:
            futures = [executor.submit(run_task, (task(i, key, key + "-x"), None, None))
                       for i in range(len(spans))]
            return _collect(futures, spans, block)
        finally:
            del _LOCAL[key], _LOCAL[key + "-x"]

    cloudpickle = _cloudpickle()
    f_bytes = cloudpickle.dumps(block)
    x_bytes = cloudpickle.dumps(_pack_point(x))
    f_key, x_key = _key(f_bytes), _key(x_bytes)
    _LOCAL[f_key], _LOCAL[x_key] = block, x  # tasks run in this process use them
    folder = None
    try:
        if kind == "dask":
            client, keywords = _dask_client(executor)  # type: ignore[misc]
            f_future = client.scatter(f_bytes, hash=False)
            x_future = client.scatter(x_bytes, hash=False)
            futures = [client.submit(run_task, (task(i, f_key, x_key), f_future, x_future),
                                     **{"pure": False, **keywords})
                       for i in range(len(spans))]
            return _collect(futures, spans, block)
        folder = Path(tempfile.mkdtemp(prefix="dualdiff-"))
        f_path, x_path = folder / f"{f_key}.pkl", folder / f"{x_key}.pkl"
        f_path.write_bytes(f_bytes)
        x_path.write_bytes(x_bytes)
        work = [(task(i, f_key, x_key), str(f_path), str(x_path)) for i in range(len(spans))]
        if kind == "futures":
            return _collect([executor.submit(run_task, item) for item in work], spans, block)
        return _finish(list(executor(run_task, work)), spans, block)
    finally:
        _LOCAL.pop(f_key, None)
        _LOCAL.pop(x_key, None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _key(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _collect(futures: list[Any], spans: Sequence[tuple[int, int]],
             block: Block) -> list[tuple[Any, Any]]:
    """The futures' results in seed order; the first failure cancels the rest and is raised."""
    results = []
    try:
        for i, future in enumerate(futures):
            try:
                results.append(future.result())
            except Exception as error:  # the engine failed (a worker died): name the block
                _note(error, _where(i, spans, block, "worker"))
                raise
            if isinstance(results[-1], _Failure):
                break
    finally:
        if len(results) < len(futures):  # a failure: the later blocks are not needed
            for future in futures[len(results):]:
                future.cancel()
    return _finish(results, spans, block)


def _finish(results: list[Any], spans: Sequence[tuple[int, int]],
            block: Block) -> list[tuple[Any, Any]]:
    out = []
    for i, result in enumerate(results):
        if isinstance(result, _Failure):
            _raise(result, i, spans, block)
        out.append((result.value, result.tangent))
    return out


def _where(i: int, spans: Sequence[tuple[int, int]], block: Block, worker: str) -> str:
    start, stop = spans[i]
    return (f"seed block {i + 1} of {len(spans)} ({block.describe(start, stop, spans[-1][1])}) "
            f"on the {worker}")


def _note(error: BaseException, text: str) -> None:
    if hasattr(error, "add_note"):
        error.add_note(f"dualdiff.parallel: raised for {text}")


def _raise(failure: _Failure, i: int, spans: Sequence[tuple[int, int]], block: Block) -> None:
    where = _where(i, spans, block, f"worker ({failure.worker})")
    cause = WorkerTraceback(failure.traceback)
    error = failure.local
    if error is None and failure.exception is not None:
        try:
            error = pickle.loads(failure.exception)
        except Exception:
            error = None
    if error is None or not hasattr(error, "add_note"):
        raise WorkerError(f"f raised {failure.type_name}: {failure.message} -- in {where}; "
                          "the worker's traceback is above") from cause
    error.add_note(f"dualdiff.parallel: raised by f in {where}; the worker's traceback is "
                   "the cause above")
    raise error from cause


# --- the Hessian -------------------------------------------------------------------------------


class _ValueAndGradient:
    """``y -> [f(y), *gradient(f, y).ravel()]``: the value travels back with the gradient."""

    def __init__(self, f: Callable[[Any], Any]) -> None:
        self.f = f

    def __call__(self, y: Any) -> Any:
        from dualdiff.api import value_and_gradient  # noqa: PLC0415 - api imports this module

        value, grad = value_and_gradient(self.f, y)
        return np.concatenate([np.reshape(value, (1,)), np.reshape(grad, (-1,))])


def value_and_hessian(f: Callable[[Any], Any], x: Any, *, chunk_size: int | None,
                      executor: Any) -> tuple[Any, Any]:
    """``f(x)`` and the Hessian, the outer Jacobian's columns run by ``executor``.

    The serial :func:`dualdiff.value_and_hessian` keeps the value from inside
    its gradient; a worker cannot hand it back that way, so here the gradient
    function returns the value as one more output.  The numbers are the same.

    Examples
    --------
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> import dualdiff as dd
    >>> with ThreadPoolExecutor(2) as pool:
    ...     dd.value_and_hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 3.0]), executor=pool)
    (3.0, array([[6., 2.],
           [2., 0.]]))
    """
    from dualdiff.api import _plain_scalar, value_and_jacobian  # noqa: PLC0415

    shape = np.shape(x.value if type(x) is Dual else x)
    out, jac = value_and_jacobian(_ValueAndGradient(f), x, chunk_size=chunk_size,
                                  executor=executor)
    hess = np.reshape(jac[1:], shape + shape).copy()
    if not shape:
        hess = _plain_scalar(hess[()])
    value = out[0]
    return _plain_scalar(value.value if type(value) is Dual else value), hess
