"""The ``linalg`` extension: ``numpy.linalg``'s functions, differentiated by their registrations.

Examples
--------
>>> import numpy as np
>>> from dualdiff import Dual
>>> a = Dual(np.array([[2.0, 0.0], [0.0, 4.0]]), np.eye(2))
>>> print(f"{det(a):.9f}")  # d det = det * trace(a^-1 da) = 8 * (1/2 + 1/4)
8.000000000 + 6.000000000ε
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.array_api.manipulation import matmul, matrix_transpose, tensordot, vecdot

Array = Any


def cholesky(x: Array, /, *, upper: bool = False) -> Array:
    """``numpy.linalg.cholesky``."""
    return np.linalg.cholesky(x, upper=upper)


def cross(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """``numpy.linalg.cross`` of 3-vectors along ``axis``."""
    return np.cross(x1, x2, axis=axis)


def det(x: Array, /) -> Array:
    """``numpy.linalg.det``."""
    return np.linalg.det(x)


def diagonal(x: Array, /, *, offset: int = 0) -> Array:
    """The diagonal of the last two axes (``numpy.linalg.diagonal``)."""
    return np.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def eigh(x: Array, /) -> Any:
    """``numpy.linalg.eigh`` (distinct eigenvalues: a tie has no unique slope)."""
    return np.linalg.eigh(x)


def eigvalsh(x: Array, /) -> Array:
    """``numpy.linalg.eigvalsh``."""
    return np.linalg.eigvalsh(x)


def inv(x: Array, /) -> Array:
    """``numpy.linalg.inv``."""
    return np.linalg.inv(x)


def matrix_norm(x: Array, /, *, keepdims: bool = False, ord: Any = "fro") -> Array:
    """``numpy.linalg.matrix_norm``."""
    return np.linalg.matrix_norm(x, keepdims=keepdims, ord=ord)


def matrix_power(x: Array, n: int, /) -> Array:
    """``numpy.linalg.matrix_power``."""
    return np.linalg.matrix_power(x, n)


def matrix_rank(x: Array, /, *, rtol: Any = None) -> Array:
    """The rank of the values (plain), ``numpy.linalg.matrix_rank``."""
    return np.asarray(np.linalg.matrix_rank(x, rtol=rtol))


def outer(x1: Array, x2: Array, /) -> Array:
    """``numpy.outer``."""
    return np.outer(x1, x2)


def pinv(x: Array, /, *, rtol: Any = None) -> Array:
    """``numpy.linalg.pinv``."""
    return np.linalg.pinv(x, rtol=rtol)


def qr(x: Array, /, *, mode: str = "reduced") -> Any:
    """``numpy.linalg.qr``."""
    return np.linalg.qr(x, mode=mode)


def slogdet(x: Array, /) -> Any:
    """``numpy.linalg.slogdet``: the sign and the log of the absolute determinant."""
    return np.linalg.slogdet(x)


def solve(x1: Array, x2: Array, /) -> Array:
    """``numpy.linalg.solve``."""
    return np.linalg.solve(x1, x2)


def svd(x: Array, /, *, full_matrices: bool = True) -> Any:
    """``numpy.linalg.svd``."""
    return np.linalg.svd(x, full_matrices=full_matrices)


def svdvals(x: Array, /) -> Array:
    """``numpy.linalg.svdvals``."""
    return np.linalg.svdvals(x)


def trace(x: Array, /, *, offset: int = 0, dtype: Any = None) -> Array:
    """The trace of the last two axes (``numpy.linalg.trace``)."""
    return np.trace(x, offset=offset, axis1=-2, axis2=-1, dtype=dtype)


def vector_norm(x: Array, /, *, axis: Any = None, keepdims: bool = False, ord: Any = 2
                ) -> Array:
    """``numpy.linalg.vector_norm``."""
    return np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)


__all__ = [
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "matmul", "matrix_norm",
    "matrix_power", "matrix_rank", "matrix_transpose", "outer", "pinv", "qr", "slogdet", "solve",
    "svd", "svdvals", "tensordot", "trace", "vecdot", "vector_norm",
]
