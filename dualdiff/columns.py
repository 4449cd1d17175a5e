"""Building a Jacobian from columns: the swappable strategy behind ``jacobian``.

Forward mode gives one Jacobian column per seeded direction.  Columns are
pushed through ``f`` in chunks, each chunk as one batch of tangents (one
leading axis), so NumPy vectorises across the chunk; ``chunk_size=1`` is the
classic column-by-column loop with unbatched tangents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dual import Dual
from dualdiff.tags import new_tag, running

SEED_BUDGET = 2**22
"""Most tangent elements seeded at once by default (32 MiB of float64)."""


def default_chunk_size(n: int) -> int:
    """Columns per chunk: all of them while the seeds stay within :data:`SEED_BUDGET`.

    Examples
    --------
    >>> default_chunk_size(10), default_chunk_size(10**4)
    (10, 419)
    """
    return max(1, min(n, SEED_BUDGET // max(n, 1)))


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
    shape = np.shape(x.value if type(x) is Dual else x)
    n = int(np.prod(shape))
    if chunk_size is None:
        chunk_size = default_chunk_size(n) if executor is None else _parallel().default_chunk_size(
            executor, n)
    if not isinstance(chunk_size, int | np.integer) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    single = chunk_size == 1 or n == 1
    spans = [(start, min(n, start + chunk_size)) for start in range(0, max(n, 1), chunk_size)]
    if executor is None:
        results = [column_block(f, x, start, stop, single=single, extract=extract)
                   for start, stop in spans]
    else:
        results = _parallel().map_blocks(executor, f, x, spans, single=single, extract=extract)
    value = results[-1][0]
    blocks = [tangent for _, tangent in results]
    columns = blocks[0] if len(blocks) == 1 else np.concatenate(blocks, axis=0)
    out_shape = np.shape(_plain(value))
    jacobian = np.reshape(np.moveaxis(columns, 0, -1), out_shape + shape)
    if not out_shape and not shape:  # scalar to scalar: a number, as derivative() gives
        jacobian = jacobian[()]
        jacobian = jacobian.item() if type(jacobian) in (np.float64, np.complex128) else jacobian
    return value, jacobian


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
    plain = _plain(x)
    if tag is None:
        tag = new_tag()
    seeds, batch = _seeds(x, np.shape(plain), np.result_type(plain), start, stop, single=single)
    with running(tag, *memory.tags_in(x)), memory.lazy_guard():
        out = f(memory.make(memory.owned(x), seeds, tag))  # a fresh copy of the point
    if isinstance(out, tuple | list):
        raise TypeError(
            "jacobian needs f to return one array, not a tuple or list; "
            "stack the outputs (np.stack) or use jvp for several outputs"
        )
    value, tangent = extract(out, tag, batch)
    if not batch:  # one unbatched column: give it the batch axis the others have
        tangent = np.reshape(tangent, (1, *np.shape(_plain(tangent))))
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
    seeds = memory.zeros_like_layout(plain, lead, dtype)
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
