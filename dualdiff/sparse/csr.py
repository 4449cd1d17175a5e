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


def index_dtype(*sizes: int) -> type:
    """int32 while every index and count fits (as SciPy chooses), else int64."""
    return np.int32 if max(sizes, default=0) < 2**31 - 1 else np.int64


_TEMPLATE: dict[str, Any] = {}
"""The attributes of a SciPy-built boolean ``csr_array`` (see :func:`_assemble`)."""


def _assemble(data: np.ndarray, indices: np.ndarray, indptr: np.ndarray,
              shape: tuple[int, int]) -> Any:
    """A ``csr_array`` of checked parts without SciPy's constructor (~20 us of checks a call).

    The attributes are copied from one array SciPy built itself, with its
    shape, data, indices and pointers replaced: the object is what the
    constructor would have made.  If this SciPy keeps its shape elsewhere the
    constructor is used.
    """
    sparse = scipy_sparse()
    if not _TEMPLATE:
        _TEMPLATE.update(_template(sparse))
    if _TEMPLATE["_shape"] is None:
        return sparse.csr_array((data, indices, indptr), shape=shape, copy=False)
    result = sparse.csr_array.__new__(sparse.csr_array)
    vars(result).update(_TEMPLATE)
    result._shape = (int(shape[0]), int(shape[1]))  # SciPy's attribute: see the docstring
    result.data, result.indices, result.indptr = data, indices, indptr
    return result


def _template(sparse: Any) -> dict[str, Any]:
    """The attributes to copy, if this SciPy keeps nothing else that depends on the parts."""
    parts = ("data", "indices", "indptr", "_shape")
    one = vars(sparse.csr_array((np.ones(1, bool), np.zeros(1, np.int32),
                                 np.array([0, 1], np.int32)), shape=(1, 1)))
    other = vars(sparse.csr_array((np.ones(3, bool), np.array([0, 2, 1], np.int32),
                                   np.array([0, 2, 3], np.int32)), shape=(2, 3)))
    same = set(one) == set(other) and all(
        type(one[k]) is type(other[k]) and one[k] == other[k] for k in one if k not in parts)
    return dict(one) if same and "_shape" in one else {"_shape": None}


def pattern(indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> Any:
    """A boolean CSR array from sorted ``indices`` and ``indptr`` (no copy, no check)."""
    dtype = index_dtype(int(indptr[-1]) if len(indptr) else 0, *shape)
    indices = indices.astype(dtype, copy=False)
    indptr = indptr.astype(dtype, copy=False)
    if len(indptr) != shape[0] + 1 or (len(indptr) and int(indptr[-1]) != len(indices)):
        raise ValueError(f"a pattern of {shape[0]} rows needs {shape[0] + 1} row pointers "
                         f"ending at {len(indices)}, got {len(indptr)}")
    result = _assemble(np.ones(len(indices), dtype=bool), indices, indptr, shape)
    result.has_sorted_indices = True
    return result


def empty(rows: int, columns: int) -> Any:
    """A pattern with no nonzeros."""
    return pattern(np.zeros(0, dtype=np.int32), np.zeros(rows + 1, dtype=np.int32),
                   (rows, columns))


def identity(n: int) -> Any:
    """The pattern of the identity: element ``i`` depends on input ``i``."""
    dtype = index_dtype(n + 1)
    return pattern(np.arange(n, dtype=dtype), np.arange(n + 1, dtype=dtype), (n, n))


def full_row(columns: np.ndarray, n: int) -> Any:
    """One row holding the sorted, distinct ``columns``."""
    columns = np.asarray(columns, dtype=index_dtype(n))
    return pattern(columns, np.array([0, len(columns)]), (1, n))


def _as_range(rows: np.ndarray | range) -> range | None:
    """``rows`` as a range when they are consecutive (``None`` otherwise)."""
    if isinstance(rows, range):
        return rows
    m = len(rows)
    if m and rows[0] >= 0 and rows[-1] - rows[0] == m - 1 and (
            m < 3 or (np.diff(rows) == 1).all()):
        return range(int(rows[0]), int(rows[0]) + m)
    return None


def rows_between(p: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of ``p`` (views of its arrays, no gather)."""
    indptr = p.indptr[start:stop + 1]
    first = indptr[0]
    return pattern(p.indices[first:indptr[-1]], indptr - first, (stop - start, p.shape[1]))


def gather(p: Any, rows: np.ndarray | range) -> Any:
    """Rows ``rows`` of ``p`` (``-1``: an empty row, for a constant element).

    Examples
    --------
    >>> g = gather(identity(3), np.array([2, -1, 0, 0]))
    >>> g.toarray().astype(int).tolist()
    [[0, 0, 1], [0, 0, 0], [1, 0, 0], [1, 0, 0]]
    """
    if not isinstance(rows, range):
        rows = np.ravel(rows)
    consecutive = _as_range(rows)
    if consecutive is not None:
        if consecutive.start == 0 and len(consecutive) == p.shape[0]:
            return p
        return rows_between(p, consecutive.start, consecutive.stop)
    m = len(rows)
    indptr = p.indptr
    if m and rows.min() < 0:
        valid = rows >= 0
        safe = np.where(valid, rows, 0)
        starts = indptr[safe]
        counts = np.where(valid, indptr[safe + 1] - starts, 0)
    else:
        starts = indptr[rows]
        counts = indptr[rows + 1] - starts
    total = int(counts.sum(dtype=np.int64))
    dtype = index_dtype(total, *p.shape)
    new_indptr = np.zeros(m + 1, dtype=dtype)
    np.cumsum(counts, out=new_indptr[1:])
    if total == 0:
        return empty(m, p.shape[1])
    if total == m and (counts == 1).all():  # one entry per row: the starts themselves
        return pattern(p.indices[starts], new_indptr, (m, p.shape[1]))
    positions = np.repeat(starts - new_indptr[:-1].astype(starts.dtype, copy=False), counts)
    positions += np.arange(total, dtype=positions.dtype)
    return pattern(p.indices[positions], new_indptr, (m, p.shape[1]))


def vstack(patterns: list[Any]) -> Any:
    """The rows of several patterns (of one column count), one after another."""
    if len(patterns) == 1:
        return patterns[0]
    total = sum(int(p.indptr[-1]) for p in patterns)
    rows = sum(p.shape[0] for p in patterns)
    dtype = index_dtype(total, rows, patterns[0].shape[1])
    indices = np.concatenate([p.indices for p in patterns]).astype(dtype, copy=False)
    pointers, offset = [np.zeros(1, dtype=dtype)], 0
    for p in patterns:
        pointers.append(p.indptr[1:].astype(dtype) + offset)
        offset += int(p.indptr[-1])
    return pattern(indices, np.concatenate(pointers), (rows, patterns[0].shape[1]))


def splice(p: Any, start: int, q: Any) -> Any:
    """``p`` with its rows ``start:start + q.shape[0]`` replaced by the rows of ``q``."""
    stop = start + q.shape[0]
    before, after = int(p.indptr[start]), int(p.indptr[stop])
    total = before + q.nnz + int(p.indptr[-1]) - after
    dtype = index_dtype(total, *p.shape)
    indices = np.concatenate([p.indices[:before], q.indices, p.indices[after:]])
    indptr = np.concatenate([p.indptr[:start + 1].astype(dtype),
                             q.indptr[1:].astype(dtype) + before,
                             p.indptr[stop + 1:].astype(dtype) + (before + q.nnz - after)])
    return pattern(indices, indptr, p.shape)


def union(a: Any, b: Any) -> Any:
    """Row-wise union of two patterns of one shape."""
    if a.nnz == 0:
        return b
    if b.nnz == 0 or a is b:
        return a
    m = a.shape[0]
    if a.nnz == m and b.nnz == m and _one_per_row(a) and _one_per_row(b):
        return _merge_singles(a.indices, b.indices, a.shape)
    both = a + b  # SciPy's linear merge: canonical rows in, canonical rows out
    both.has_sorted_indices = True
    return both


def _one_per_row(p: Any) -> bool:
    return bool((p.indptr[1:] - p.indptr[:-1] == 1).all())


def _merge_singles(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> Any:
    """The union of two patterns of one entry a row (``x[1:] * x[:-1]``), in a few passes.

    Examples
    --------
    >>> union(identity(3), gather(identity(3), np.array([1, 1, 0]))).toarray().astype(int).tolist()
    [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    """
    low, high = np.minimum(a, b), np.maximum(a, b)
    two = low != high
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(two + 1, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=low.dtype)
    starts = indptr[:-1]
    indices[starts] = low
    indices[starts[two] + 1] = high[two]
    return pattern(indices, indptr, shape)


def canonical(p: Any) -> Any:
    """``p`` as a boolean pattern with sorted indices, no explicit zeros, int64 indices."""
    p = p.tocsr() if p.format != "csr" else p
    if p.dtype != bool:
        p = p.astype(bool)
    p.eliminate_zeros()
    if not p.has_sorted_indices:
        p.sort_indices()
    return pattern(p.indices, p.indptr, p.shape)


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
    return canonical(pattern(np.asarray(groups), np.asarray(rows), (len(rows) - 1, columns)))


def gram(p: Any, q: Any | None = None) -> Any:
    """The symmetric pattern of ``p.T @ q + q.T @ p`` (``p.T @ p`` when ``q`` is None)."""
    left = p.T.astype(np.float64)
    if q is None:
        return canonical(left @ p.astype(np.float64))
    cross = canonical(left @ q.astype(np.float64))
    return union(cross, canonical(cross.T))


PAIR_LIMIT = 2**22
"""Most pairs :func:`pair_codes` lists before leaving a row product to :func:`gram`."""


def pair_codes(p: Any, q: Any | None = None) -> np.ndarray | None:
    """The pairs of :func:`gram`, unsorted and possibly repeated, as codes ``i * n + j``.

    Row ``k`` contributes every ``(i, j)`` with ``i`` in ``p``'s row ``k`` and
    ``j`` in ``q``'s (``p``'s again when ``q`` is None), in one vectorised
    pass with no SciPy construction: for the few-entry rows of elementwise
    steps this is several times cheaper than the sparse product.  Returns
    ``None`` when the rows would list more than :data:`PAIR_LIMIT` pairs (wide
    rows repeat pairs that the product merges).  :func:`pairs_pattern` turns
    the codes into the symmetric pattern.

    Examples
    --------
    >>> p = pattern(np.array([0, 1, 2]), np.array([0, 2, 3]), (2, 3))
    >>> pairs_pattern([pair_codes(p)], 3).toarray().astype(int).tolist()
    [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    """
    n = p.shape[1]
    m = p.shape[0]
    if p.nnz == m and (q is None or q.nnz == m) and _one_per_row(p) and (
            q is None or _one_per_row(q)):  # x * y, x ** 2 of elements: one pair a row
        left_index = p.indices.astype(np.int64)
        return left_index * (n + 1) if q is None else left_index * n + q.indices
    q = p if q is None else q
    left = np.diff(p.indptr).astype(np.int64)
    right = np.diff(q.indptr).astype(np.int64)
    per_row = left * right
    total = int(per_row.sum())
    if total > PAIR_LIMIT:
        return None
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.cumsum(per_row) - per_row  # where each row's pairs begin
    within = np.arange(total, dtype=np.int64) - np.repeat(start, per_row)
    width = np.repeat(right, per_row)
    a = p.indices[np.repeat(p.indptr[:-1].astype(np.int64), per_row) + within // width]
    b = q.indices[np.repeat(q.indptr[:-1].astype(np.int64), per_row) + within % width]
    return a.astype(np.int64) * n + b


def pairs_pattern(recorded: list[Any], n: int) -> Any:
    """The symmetric ``(n, n)`` pattern of recorded pair codes and ``(n, n)`` patterns."""
    parts = []
    for item in recorded:
        if isinstance(item, np.ndarray):
            parts.append(item)
        else:
            rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(item.indptr))
            parts.append(rows * n + item.indices)
    if not parts:
        return empty(n, n)
    codes = np.concatenate(parts)
    codes = np.unique(np.concatenate([codes, (codes % n) * n + codes // n]))
    rows, columns = np.divmod(codes, n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    dtype = index_dtype(codes.size, n)
    return pattern(columns.astype(dtype), indptr.astype(dtype), (n, n))
