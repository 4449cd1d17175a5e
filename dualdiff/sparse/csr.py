"""Boolean CSR kernels for sparsity patterns: gather, stack, union, products.

A *pattern* is a boolean ``scipy.sparse.csr_array`` of shape ``(m, n)``:
row ``i`` holds the input indices element ``i`` (C order) of an array
depends on.  The kernels here are vectorised NumPy over ``indptr`` and
``indices`` (no Python loop per row), so a pattern costs a few passes over its
nonzeros.  Rows keep sorted column indices (SciPy's canonical format), which
SciPy's union (``+`` on boolean arrays, a linear merge) expects.

SciPy is imported lazily, by :func:`scipy_sparse`, so that ``import dualdiff``
does not need it; without it every sparsity function raises an
``ImportError`` that names the ``dualdiff[sparse]`` extra.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INSTALL = "pip install 'dualdiff[sparse]'"
"""The command that installs what sparse patterns need (SciPy)."""


def scipy_sparse() -> Any:
    """Return ``scipy.sparse``, or raise ``ImportError`` naming the ``sparse`` extra.

    Examples
    --------
    >>> scipy_sparse().csr_array((2, 2)).shape
    (2, 2)
    """
    try:
        import scipy.sparse  # noqa: PLC0415 - an optional dependency, imported when needed
    except ImportError as error:  # pragma: no cover - exercised only without SciPy
        raise ImportError(
            f"sparsity patterns are scipy.sparse arrays and need SciPy: {INSTALL}"
        ) from error
    return scipy.sparse


def pattern(indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> Any:
    """A boolean CSR array from sorted ``indices`` and ``indptr`` (no copy, no check)."""
    sparse = scipy_sparse()
    data = np.ones(len(indices), dtype=bool)
    result = sparse.csr_array((data, indices, indptr), shape=shape, copy=False)
    result.has_sorted_indices = True
    return result


def empty(rows: int, columns: int) -> Any:
    """A pattern with no nonzeros."""
    return pattern(np.zeros(0, dtype=np.int64), np.zeros(rows + 1, dtype=np.int64),
                   (rows, columns))


def identity(n: int) -> Any:
    """The pattern of the identity: element ``i`` depends on input ``i``."""
    return pattern(np.arange(n, dtype=np.int64), np.arange(n + 1, dtype=np.int64), (n, n))


def full_row(columns: np.ndarray, n: int) -> Any:
    """One row holding the sorted, distinct ``columns``."""
    columns = np.asarray(columns, dtype=np.int64)
    return pattern(columns, np.array([0, len(columns)], dtype=np.int64), (1, n))


def gather(p: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of ``p`` (``-1``: an empty row, for a constant element).

    Examples
    --------
    >>> g = gather(identity(3), np.array([2, -1, 0, 0]))
    >>> g.toarray().astype(int).tolist()
    [[0, 0, 1], [0, 0, 0], [1, 0, 0], [1, 0, 0]]
    """
    rows = np.asarray(rows, dtype=np.int64).ravel()
    indptr = p.indptr.astype(np.int64, copy=False)
    if len(rows) == p.shape[0] and rows.size and rows[0] == 0 and np.array_equal(
            rows, np.arange(len(rows))):
        return p
    valid = rows >= 0
    safe = np.where(valid, rows, 0)
    counts = np.where(valid, indptr[1:][safe] - indptr[:-1][safe], 0)
    new_indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_indptr[1:])
    total = int(new_indptr[-1])
    if total == 0:
        return empty(len(rows), p.shape[1])
    offsets = np.repeat(indptr[:-1][safe] - new_indptr[:-1], counts)
    positions = offsets + np.arange(total, dtype=np.int64)
    return pattern(p.indices[positions].astype(np.int64, copy=False), new_indptr,
                   (len(rows), p.shape[1]))


def vstack(patterns: list[Any]) -> Any:
    """The rows of several patterns (of one column count), one after another."""
    if len(patterns) == 1:
        return patterns[0]
    indices = np.concatenate([p.indices.astype(np.int64, copy=False) for p in patterns])
    pointers, offset = [np.zeros(1, dtype=np.int64)], 0
    for p in patterns:
        pointers.append(p.indptr[1:].astype(np.int64) + offset)
        offset += int(p.indptr[-1])
    rows = sum(p.shape[0] for p in patterns)
    return pattern(indices, np.concatenate(pointers), (rows, patterns[0].shape[1]))


def union(a: Any, b: Any) -> Any:
    """Row-wise union of two patterns of one shape."""
    if a.nnz == 0:
        return b
    if b.nnz == 0 or a is b:
        return a
    return canonical(a + b)


def canonical(p: Any) -> Any:
    """``p`` as a boolean pattern with sorted indices, no explicit zeros, int64 indices."""
    p = p.tocsr() if p.format != "csr" else p
    if p.dtype != bool:
        p = p.astype(bool)
    p.eliminate_zeros()
    if not p.has_sorted_indices:
        p.sort_indices()
    return pattern(p.indices.astype(np.int64, copy=False), p.indptr.astype(np.int64, copy=False),
                   p.shape)


def product(selection: Any, p: Any) -> Any:
    """The pattern of ``selection @ p``: row ``i`` unions the rows of ``p`` it selects.

    ``selection`` is any sparse or dense array whose nonzeros say which rows of
    ``p`` each output row combines.  The product is taken in float64 (positive
    counts, which neither cancel nor round to zero), then made boolean.
    """
    sparse = scipy_sparse()
    if not sparse.issparse(selection):
        selection = sparse.csr_array(np.asarray(selection) != 0)
    left = selection.astype(np.float64)
    left.data = np.abs(left.data)  # counts only: the nonzeros, never a cancellation
    left.eliminate_zeros()
    right = p.astype(np.float64)
    return canonical(left @ right)


def selection_matrix(rows: np.ndarray, groups: np.ndarray, columns: int) -> Any:
    """The pattern whose row ``r`` holds ``groups[indptr...]``: ``rows`` is the indptr."""
    return canonical(pattern(np.asarray(groups, dtype=np.int64), rows,
                             (len(rows) - 1, columns)))


def gram(p: Any, q: Any | None = None) -> Any:
    """The symmetric pattern of ``p.T @ q + q.T @ p`` (``p.T @ p`` when ``q`` is None)."""
    left = p.T.astype(np.float64)
    if q is None:
        return canonical(left @ p.astype(np.float64))
    cross = canonical(left @ q.astype(np.float64))
    return union(cross, canonical(cross.T))
