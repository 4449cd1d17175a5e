"""Building a Jacobian from columns: the swappable strategy behind ``jacobian``.

Forward mode gives one Jacobian column per seeded direction.  Columns are
pushed through ``f`` in chunks, each chunk as one batch of tangents (one
leading axis), so NumPy vectorises across the chunk; ``chunk_size=1`` is the
classic column-by-column loop with unbatched tangents.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dual import Dual
from dualdiff.tags import new_tag, running

SEED_BUDGET = 2**22
"""Most tangent elements seeded at once by default (32 MiB of float64)."""

CACHE_BUDGET = 2**15
"""Tangent elements per chunk (256 KiB of float64) the default aims for while passes are few."""

MOST_PASSES = 8
"""Most forward passes the default takes to keep its chunks within :data:`CACHE_BUDGET`."""


def default_chunk_size(n: int) -> int:
    """Columns per chunk: few passes of cache-sized chunks, within :data:`SEED_BUDGET`.

    Two costs pull apart.  Every pass runs ``f``'s primal again (for a dense
    ``F`` that is an O(n^2) matrix-vector product per pass), so fewer, larger
    chunks save time.  But each operation of ``f`` makes a fresh ``chunk x n``
    tangent: while those stay small (:data:`CACHE_BUDGET`) they stay in the
    cache and the allocator hands the same blocks back, whereas megabyte-sized
    ones are fresh pages each time (page faults, cache misses).  So the
    default takes all ``n`` columns at once while ``n * n`` fits the cache
    budget, and otherwise splits them into as many passes as the budget asks,
    at most :data:`MOST_PASSES`; :data:`SEED_BUDGET` bounds the memory at
    large ``n``.  Measured on ``tanh(A @ x) + x * sum(x**2)`` (2-core EPYC,
    one BLAS thread; ``benchmarks/run.py``): all columns at once costs 1.9x
    the time of 8 passes at n = 500 (4.1 n^2 of memory against 1.7 n^2), and
    8 passes beat both 4 and 16 at n = 2000.

    Examples
    --------
    >>> default_chunk_size(10), default_chunk_size(500), default_chunk_size(2000)
    (10, 63, 250)
    >>> default_chunk_size(10**4)  # the seed budget
    419
    """
    if n <= 1:
        return 1
    passes = min(MOST_PASSES, -(-n * n // CACHE_BUDGET))
    return max(1, min(-(-n // passes), SEED_BUDGET // n))


def default_hessian_chunk_size(n: int) -> int:
    """Outer directions per chunk of a Hessian: second-order tangents within :data:`SEED_BUDGET`.

    A Hessian is the Jacobian of a gradient: each outer chunk of ``c``
    directions pushes the inner gradient's :func:`default_chunk_size` ``(n)``
    directions, so every second-order tangent holds ``c * inner * n``
    elements.  Keeping that within the budget bounds memory by O(n^2 c), like
    a Jacobian's, instead of the O(n^3) of both levels at full batch.

    Examples
    --------
    >>> default_hessian_chunk_size(10), default_hessian_chunk_size(1000)
    (10, 33)
    """
    inner = default_chunk_size(n)
    return max(1, min(n, SEED_BUDGET // max(n * inner, 1)))


def jacobian_columns(
    f: Callable[[Any], Any],
    x: Any,
    *,
    chunk_size: int | None,
    extract: Callable[[Any, int, tuple[int, ...]], tuple[Any, Any]],
    executor: Any = None,
) -> tuple[Any, Any]:
    """Return ``f(x)`` and the Jacobian ``f(x).shape + x.shape``, chunk by chunk.

    Parameters
    ----------
    f : callable
        One array in, one array (or number) out.
    x : float, ndarray or Dual
        The point (already promoted).
    chunk_size : int or None
        Columns per forward pass; ``None`` picks :func:`default_chunk_size`
        (or, with an executor, :func:`dualdiff.parallel.default_chunk_size`).
    extract : callable
        Splits ``f``'s output into value and tangent for a tag.
    executor : optional
        Where the blocks run (:mod:`dualdiff.parallel`); ``None``: here, one by one.

    Returns
    -------
    value, jacobian
    """
    shape = x.shape if type(x) is np.ndarray else np.shape(x.value if type(x) is Dual else x)
    n = math.prod(shape)
    if chunk_size is None:
        chunk_size = default_chunk_size(n) if executor is None else _parallel().default_chunk_size(
            executor, n)
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    single = chunk_size == 1 or n == 1
    if executor is None and chunk_size >= n:  # one pass: its tangent is the Jacobian's columns
        value, columns = column_block(f, x, 0, n, single=single, extract=extract)
    else:
        columns = _chunked(f, x, n, chunk_size, single, extract, executor)
        value, columns = columns
    out_shape = np.shape(_plain(value))
    jacobian = _columns_last(columns, out_shape + shape)
    if not out_shape and not shape:  # scalar to scalar: a number, as derivative() gives
        jacobian = jacobian[()]
        jacobian = jacobian.item() if type(jacobian) in (np.float64, np.complex128) else jacobian
    return value, jacobian


def _chunked(f: Callable[[Any], Any], x: Any, n: int, chunk_size: int, single: bool,
             extract: Callable[[Any, int, tuple[int, ...]], tuple[Any, Any]],
             executor: Any) -> tuple[Any, Any]:
    """``f(x)`` and the Jacobian's columns (batch axis first), chunk by chunk."""
    spans = [(start, min(n, start + chunk_size)) for start in range(0, max(n, 1), chunk_size)]
    value, found = None, _Columns(n)
    if executor is None:  # each chunk's columns go into the Jacobian as they come
        for start, stop in spans:
            value, tangent = column_block(f, x, start, stop, single=single, extract=extract)
            found.add(tangent, start, stop)
    else:
        results = _parallel().map_blocks(executor, f, x, spans, single=single, extract=extract)
        value = results[-1][0]
        for (start, stop), (_, tangent) in zip(spans, results, strict=True):
            found.add(tangent, start, stop)
    return value, found.columns()


def _columns_last(columns: Any, shape: tuple[int, ...]) -> Any:
    """The columns (batch axis first) as the Jacobian: the batch axis moved last, reshaped.

    A view where NumPy can make one (``np.moveaxis`` and ``np.reshape``, spelled
    out: a transpose of the axes costs less than ``moveaxis``'s checks).
    """
    if type(columns) is not np.ndarray:  # nested Duals: their own rules
        return np.reshape(np.moveaxis(columns, 0, -1), shape)
    ndim = columns.ndim
    moved = columns.T if ndim == 2 else columns.transpose((*range(1, ndim), 0))
    return moved if moved.shape == shape else moved.reshape(shape)


class _Columns:
    """The Jacobian's columns as the chunks deliver them (each with its batch axis first).

    Plain arrays are written into one preallocated array as they come, so one
    Jacobian is in memory, not the chunks and their concatenation; a single
    chunk is kept as it is (no copy), and chunks of nested Duals are
    concatenated at the end.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.blocks: list[Any] = []
        self.filled: np.ndarray | None = None

    def add(self, tangent: Any, start: int, stop: int) -> None:
        plain = type(tangent) is np.ndarray
        if self.filled is None and not self.blocks and plain and stop < self.n:
            self.filled = np.empty((self.n, *tangent.shape[1:]), dtype=tangent.dtype)
        if self.filled is not None and plain:
            self.filled = _fill(self.filled, tangent, start, stop)
            return
        if self.filled is not None:  # a chunk of another kind (nested Duals): keep blocks
            self.blocks, self.filled = [self.filled[:start]], None
        self.blocks.append(tangent)

    def columns(self) -> Any:
        """Every column delivered, batch axis first, in one array."""
        if self.filled is not None:
            return self.filled
        blocks = self.blocks
        return blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)


def _fill(filled: np.ndarray, tangent: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Write a chunk's columns (``tangent``: batch axis first) into the columns being filled.

    A chunk of a wider dtype (complex after real) widens the array first, as
    ``np.concatenate`` would.
    """
    if tangent.shape[1:] != filled.shape[1:]:
        raise ValueError(
            f"f returned shape {tangent.shape[1:]} for one chunk of Jacobian columns and "
            f"{filled.shape[1:]} for another; f must return one shape for every input"
        )
    dtype = np.result_type(filled, tangent)
    if dtype != filled.dtype:
        filled = filled.astype(dtype)
    filled[start:stop] = tangent  # the columns, one after another: contiguous writes
    return filled


def column_block(
    f: Callable[[Any], Any],
    x: Any,
    start: int,
    stop: int,
    *,
    single: bool,
    extract: Callable[[Any, int, tuple[int, ...]], tuple[Any, Any]],
    tag: int | None = None,
) -> tuple[Any, Any]:
    """``f(x)`` and the Jacobian columns ``start`` to ``stop`` (batch axis first): one pass.

    ``tag`` is the pass's tag (drawn here when ``None``); a worker running the
    block for another process is given the caller's (:mod:`dualdiff.parallel`).
    """
    if tag is None:
        tag = new_tag()
    if type(x) is np.ndarray:  # the common case, without the general look-ups
        seeds, batch = _seeds(x, x.shape, x.dtype, start, stop, single=single)
        point, tags = memory.make(x.copy(order="K"), seeds, tag), (tag,)
    else:
        plain = _plain(x)
        seeds, batch = _seeds(x, np.shape(plain), np.result_type(plain), start, stop,
                              single=single)
        point, tags = memory.make(memory.owned(x), seeds, tag), (tag, *memory.tags_in(x))
    with running(*tags), memory.lazy_guard():
        out = f(point)  # a fresh copy of the point
    del point
    if isinstance(out, tuple | list):
        raise TypeError(
            "jacobian needs f to return one array, not a tuple or list; "
            "stack the outputs (np.stack) or use jvp for several outputs"
        )
    value, tangent = extract(out, tag, batch)
    if not batch:  # one unbatched column: give it the batch axis the others have
        tangent = np.reshape(tangent, (1, *np.shape(_plain(tangent))))
    if type(tangent) is np.ndarray and tangent.base is not None and np.may_share_memory(
            tangent, seeds):
        tangent = tangent.copy()  # a view of the seeds (f(x) = x[0]) must not keep them
    return value, tangent


def _parallel() -> Any:
    from dualdiff import parallel  # noqa: PLC0415 - only calls given an executor need it

    return parallel


def _seeds(x: Any, shape: tuple[int, ...], dtype: np.dtype, start: int, stop: int, *,
           single: bool) -> tuple[Any, tuple[int, ...]]:
    """Unit directions ``start`` to ``stop`` (C order of ``x``), laid out like ``x``'s value.

    One direction (``single``) is an unbatched tangent; several are a batch.
    The layout follows the point's, so a reshape inside ``f`` is a view of the
    tangents exactly when it is one of the value.
    """
    plain = _plain(x)
    if not shape:
        return (dtype.type(1.0), ()) if single else (np.ones(1, dtype=dtype), (1,))
    if stop == start:  # an empty input: a batch of no directions
        return np.zeros((0, *shape), dtype=dtype), (0,)
    lead = () if single else (stop - start,)
    if len(shape) == 1 and not single and type(plain) is np.ndarray:
        seeds = np.zeros((stop - start, shape[0]), dtype=dtype)  # (k, n): one layout only
        seeds.reshape(-1)[start:start + (stop - start) * (shape[0] + 1):shape[0] + 1] = 1.0
        return seeds, lead  # entry (i, start + i) is a stride of the flat array
    seeds = memory.zeros_like_layout(plain, lead, dtype)
    if len(shape) == 1 and not single:  # (k, n), C order: entry (i, start + i) is a stride
        seeds.reshape(-1)[start:start + (stop - start) * (shape[0] + 1):shape[0] + 1] = 1.0
        return seeds, lead
    cells = np.unravel_index(np.arange(start, stop), shape)
    if single:
        seeds[tuple(c[0] for c in cells)] = 1.0
    else:
        seeds[(np.arange(stop - start), *cells)] = 1.0
    return seeds, lead


def _plain(x: Any) -> Any:
    while type(x) is Dual:
        x = x.value
    return x
