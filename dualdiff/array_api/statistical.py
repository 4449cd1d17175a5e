"""Statistical, searching, sorting, set and utility functions, through NumPy's own.

Reductions of Duals (``sum``, ``mean``, ``std``, ``max``, ...) take their
derivatives from dualdiff's registered implementations of the NumPy
functions; searching and sorting functions return plain integer indices;
``all``, ``any``, ``count_nonzero`` and ``nonzero`` act on values.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

Array = Any


def _axis(axis: Any) -> Any:
    return tuple(axis) if isinstance(axis, list) else axis


def sum(x: Array, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Array:
    """``numpy.sum``.

    Examples
    --------
    >>> from dualdiff import Dual
    >>> print(sum(Dual(np.array([1.0, 2.0]), np.array([1.0, 1.0]))))
    3.0 + 2.0ε
    """
    return np.sum(x, axis=_axis(axis), dtype=dtype, keepdims=keepdims)


def prod(x: Array, /, *, axis: Any = None, dtype: Any = None, keepdims: bool = False) -> Array:
    """``numpy.prod``."""
    return np.prod(x, axis=_axis(axis), dtype=dtype, keepdims=keepdims)


def mean(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """``numpy.mean``."""
    return np.mean(x, axis=_axis(axis), keepdims=keepdims)


def std(x: Array, /, *, axis: Any = None, correction: float = 0.0, keepdims: bool = False
        ) -> Array:
    """``numpy.std`` with ``correction`` degrees of freedom removed."""
    return np.std(x, axis=_axis(axis), correction=correction, keepdims=keepdims)


def var(x: Array, /, *, axis: Any = None, correction: float = 0.0, keepdims: bool = False
        ) -> Array:
    """``numpy.var`` with ``correction`` degrees of freedom removed."""
    return np.var(x, axis=_axis(axis), correction=correction, keepdims=keepdims)


def max(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """``numpy.max`` (a tie's slope follows dualdiff's convention, docs/conventions.md)."""
    return np.max(x, axis=_axis(axis), keepdims=keepdims)


def min(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """``numpy.min``."""
    return np.min(x, axis=_axis(axis), keepdims=keepdims)


def cumulative_sum(x: Array, /, *, axis: int | None = None, dtype: Any = None,
                   include_initial: bool = False) -> Array:
    """``numpy.cumulative_sum``."""
    return np.cumulative_sum(x, axis=axis, dtype=dtype, include_initial=include_initial)


def cumulative_prod(x: Array, /, *, axis: int | None = None, dtype: Any = None,
                    include_initial: bool = False) -> Array:
    """``numpy.cumulative_prod``."""
    return np.cumulative_prod(x, axis=axis, dtype=dtype, include_initial=include_initial)


# --- searching -------------------------------------------------------------------------------


def argmax(x: Array, /, *, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the largest value (plain), ``numpy.argmax``."""
    return np.asarray(np.argmax(x, axis=axis, keepdims=keepdims))


def argmin(x: Array, /, *, axis: int | None = None, keepdims: bool = False) -> Array:
    """Index of the smallest value (plain), ``numpy.argmin``."""
    return np.asarray(np.argmin(x, axis=axis, keepdims=keepdims))


def count_nonzero(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """How many values are nonzero (plain), ``numpy.count_nonzero``."""
    return np.asarray(np.count_nonzero(x, axis=_axis(axis), keepdims=keepdims))


def nonzero(x: Array, /) -> tuple[Array, ...]:
    """Indices of the nonzero values (plain), ``numpy.nonzero``."""
    if np.ndim(x) == 0:
        raise ValueError("nonzero of a 0-d array is not defined by the standard; use "
                         "expand_dims first")
    return np.nonzero(x)


def searchsorted(x1: Array, x2: Array, /, *, side: str = "left", sorter: Any = None) -> Array:
    """Where ``x2``'s values go in the sorted values of ``x1`` (plain), ``numpy.searchsorted``."""
    return np.asarray(np.searchsorted(x1, x2, side=side, sorter=sorter))


def where(condition: Array, x1: Any, x2: Any, /) -> Array:
    """``x1`` where ``condition`` holds, else ``x2`` (``numpy.where``)."""
    return np.where(condition, x1, x2)


# --- sorting ---------------------------------------------------------------------------------


def sort(x: Array, /, *, axis: int = -1, descending: bool = False, stable: bool = True) -> Array:
    """``numpy.sort``; descending order keeps equal values in their order, as the standard says."""
    if not descending:
        return np.sort(x, axis=axis, stable=stable)
    return np.flip(np.sort(np.flip(x, axis=axis), axis=axis, stable=stable), axis=axis)


def argsort(x: Array, /, *, axis: int = -1, descending: bool = False, stable: bool = True
            ) -> Array:
    """Indices that sort the values (plain), ``numpy.argsort``."""
    if not descending:
        return np.argsort(x, axis=axis, stable=stable)
    n = np.shape(x)[axis] if np.ndim(x) else 1
    flipped = np.argsort(np.flip(x, axis=axis), axis=axis, stable=stable)
    return n - 1 - np.flip(flipped, axis=axis)


# --- sets: values are compared; Duals would need one tangent per distinct value ---------------


class UniqueAll(NamedTuple):
    """The result of :func:`unique_all`."""

    values: Array
    indices: Array
    inverse_indices: Array
    counts: Array


class UniqueCounts(NamedTuple):
    """The result of :func:`unique_counts`."""

    values: Array
    counts: Array


class UniqueInverse(NamedTuple):
    """The result of :func:`unique_inverse`."""

    values: Array
    inverse_indices: Array


def unique_all(x: Array, /) -> UniqueAll:
    """``numpy.unique_all`` (plain arrays; a Dual raises dualdiff's ``TypeError``)."""
    return UniqueAll(*np.unique_all(x))


def unique_counts(x: Array, /) -> UniqueCounts:
    """``numpy.unique_counts`` (plain arrays; a Dual raises dualdiff's ``TypeError``)."""
    return UniqueCounts(*np.unique_counts(x))


def unique_inverse(x: Array, /) -> UniqueInverse:
    """``numpy.unique_inverse`` (plain arrays; a Dual raises dualdiff's ``TypeError``)."""
    return UniqueInverse(*np.unique_inverse(x))


def unique_values(x: Array, /) -> Array:
    """``numpy.unique_values`` (plain arrays; a Dual raises dualdiff's ``TypeError``)."""
    return np.unique_values(x)


# --- utility ---------------------------------------------------------------------------------


def all(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """Whether every value is nonzero (plain), ``numpy.all``."""
    return np.asarray(np.all(x, axis=_axis(axis), keepdims=keepdims))


def any(x: Array, /, *, axis: Any = None, keepdims: bool = False) -> Array:
    """Whether some value is nonzero (plain), ``numpy.any``."""
    return np.asarray(np.any(x, axis=_axis(axis), keepdims=keepdims))


def diff(x: Array, /, *, axis: int = -1, n: int = 1, prepend: Any = None, append: Any = None
         ) -> Array:
    """``numpy.diff``."""
    extra = {k: v for k, v in (("prepend", prepend), ("append", append)) if v is not None}
    return np.diff(x, n=n, axis=axis, **extra)


__all__ = [
    "all", "any", "argmax", "argmin", "argsort", "count_nonzero", "cumulative_prod",
    "cumulative_sum", "diff", "max", "mean", "min", "nonzero", "prod", "searchsorted", "sort",
    "std", "sum", "unique_all", "unique_counts", "unique_inverse", "unique_values", "var",
    "where",
]
