"""Decompression: from the compressed product ``B = J @ seeds`` back to the sparse ``J``.

With a valid column colouring, row ``i`` of the compressed column for colour
``c`` holds exactly one entry of ``J``: ``J[i, j] = B[c, i]`` for the column
``j`` of row ``i`` whose colour is ``c`` (direct recovery, no solve).  The CSR
data of ``J`` is therefore one gather from the flattened ``B``; the gather's
index array is computed once (:class:`Decompression`) and reused for every
evaluation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.sparse.coloring import _scipy_sparse, csr_pattern


def seeds(colors: np.ndarray, ncolors: int, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """One direction per colour, laid out like ``x``: ``seeds[c]`` is 1 on colour ``c``'s columns.

    Examples
    --------
    >>> seeds(np.array([0, 1, 0]), 2, (3,), float)
    array([[1., 0., 1.],
           [0., 1., 0.]])
    """
    out = np.zeros((ncolors, colors.size), dtype=dtype)
    if ncolors:  # an empty pattern needs no direction at all
        out[colors, np.arange(colors.size)] = 1
    return out.reshape((ncolors, *shape))


class Decompression:
    """The gather that turns compressed columns ``(ncolors, m)`` into the CSR data of ``J``.

    Parameters
    ----------
    pattern : sparse array
        The Jacobian's pattern, of shape ``(m, n)`` (made canonical: sorted, bool).
    colors : ndarray
        A valid colouring of its ``n`` columns.
    ncolors : int, optional
        How many compressed columns there are (default: the largest colour plus one).

    Examples
    --------
    >>> import numpy as np
    >>> pattern = np.array([[1, 1, 0], [0, 1, 1]])
    >>> d = Decompression(pattern, np.array([0, 1, 0]))
    >>> compressed = np.array([[10.0, 30.0], [20.0, 40.0]])   # J @ seeds, colours by rows
    >>> d(compressed).toarray()
    array([[10., 20.,  0.],
           [ 0., 40., 30.]])
    """

    def __init__(self, pattern: Any, colors: np.ndarray, ncolors: int | None = None) -> None:
        p = csr_pattern(pattern)
        self.shape: tuple[int, int] = p.shape
        m = p.shape[0]
        rows = np.repeat(np.arange(m, dtype=np.intp), np.diff(p.indptr))
        self.gather = np.asarray(colors, dtype=np.intp)[p.indices] * m + rows
        self.indices = p.indices.copy()  # own copies: the pattern may be the caller's array
        self.indptr = p.indptr.copy()
        # Compressed entries no pattern entry takes: nonzero there means f's Jacobian has an
        # entry outside the pattern (kept only while it costs no more than the gather).
        if ncolors is None:
            ncolors = int(np.max(colors, initial=-1)) + 1
        unused = np.ones(ncolors * m, dtype=bool)
        unused[self.gather] = False
        self.unused = np.flatnonzero(unused) if unused.size <= 4 * (p.nnz + m) else None
        for array in (self.gather, self.indices, self.indptr):  # shared by every result
            array.flags.writeable = False

    def __call__(self, compressed: np.ndarray) -> Any:
        """The sparse Jacobian from the compressed columns (colour axis first)."""
        flat = np.asarray(compressed).reshape(-1)
        if self.unused is not None and self.unused.size and np.any(flat[self.unused]):
            where = self.unused[np.flatnonzero(flat[self.unused])[0]]
            raise ValueError(
                f"f's Jacobian has a nonzero outside the sparsity pattern in row "
                f"{where % self.shape[0]}; give a pattern holding every entry that may be "
                "nonzero, or sparsity='auto' (a missing entry would corrupt the others)"
            )
        data = flat[self.gather]
        result = _scipy_sparse().csr_array(self.shape, dtype=data.dtype)
        # Set the parts directly: the structure was checked once, when this was built.  The
        # data is the caller's; the index arrays are shared by every result, read-only, so an
        # in-place change of the structure raises instead of corrupting the next result.
        result.data, result.indices, result.indptr = data, self.indices, self.indptr
        result.has_sorted_indices = True
        result.has_canonical_format = True
        return result
