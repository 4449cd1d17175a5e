"""Sorting: ``sort`` and ``partition`` move each tangent with its value.

The permutation is computed once, on the plain values (under every dual
layer), and applied to value and tangent alike, so nested dual numbers and a
batch of tangents all follow the same order.  At ties the order is NumPy's
stable ``argsort`` (first occurrence first); see ``docs/conventions.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import MATRIX, VECTOR, normalize_axis, reject
from dualdiff.functions.reductions import SCATTERED


def permute(a: Dual, order: np.ndarray, axis: int) -> Dual:
    """``take_along_axis(a, order, axis)`` for value and tangent (a batch axis stays first)."""
    index = list(np.indices(order.shape, sparse=True))
    index[axis] = order
    batch = (slice(None),) * len(batch_shape(a))
    return make(a.value[tuple(index)], a.tangent[(*batch, *index)], a.tag)


def _flat_or(a: Dual, axis: Any) -> tuple[Dual, int]:
    """``a`` and a non-negative axis; ``axis=None`` flattens ``a`` first, as NumPy does."""
    if axis is None:
        return np.ravel(a), 0
    return a, normalize_axis(axis, a.ndim)


@register_function(
    np.sort,
    examples=(
        (VECTOR,), ((MATRIX,), {"axis": 0}), (SCATTERED,), ((SCATTERED,), {"axis": None}),
        ((SCATTERED,), {"axis": -2, "kind": "stable"}),
    ),
)
def sort(
    a: Dual, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None
) -> Dual:
    """Sort along an axis; each tangent follows its value (stable order at ties, any ``kind``)."""
    reject("sort", order=order)
    a, axis = _flat_or(a, axis)
    return permute(a, np.argsort(strip(a.value), axis=axis, kind="stable"), axis)


@register_function(
    np.partition,
    examples=(
        ((VECTOR, 1), {}), ((MATRIX, 1), {"axis": 0}), ((SCATTERED, (0, 2)), {"axis": -1}),
        ((SCATTERED, 7), {"axis": None}),
    ),
)
def partition(
    a: Dual, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None
) -> Dual:
    """Partition as ``numpy.partition`` (the same arrangement); each tangent follows its value."""
    reject("partition", order=order)
    a, axis = _flat_or(a, axis)
    plain = np.asarray(strip(a.value))
    target = np.partition(plain, kth, axis=axis, kind=kind)
    # NumPy's arrangement of the other elements is its own; recover the permutation that
    # produces exactly it by matching ranks (the r-th smallest of target is the r-th of plain).
    order_of_plain = np.argsort(plain, axis=axis, kind="stable")
    order_of_target = np.argsort(target, axis=axis, kind="stable")
    permutation = np.empty_like(order_of_plain)
    np.put_along_axis(permutation, order_of_target, order_of_plain, axis=axis)
    return permute(a, permutation, axis)


# --- plain results: indices computed on the values -------------------------------------------


@register_function(
    np.argsort, examples=((VECTOR,), ((MATRIX,), {"axis": 0}), ((SCATTERED,), {"axis": None}))
)
def argsort(
    a: Dual, axis: Any = -1, kind: Any = None, order: Any = None, *, stable: Any = None
) -> np.ndarray:
    """Indices that sort the values (plain)."""
    return np.argsort(strip(a), axis=axis, kind=kind, order=order, stable=stable)


@register_function(
    np.argpartition, examples=(((VECTOR, 1), {}), ((SCATTERED, (1, 3)), {"axis": -1}))
)
def argpartition(
    a: Dual, kth: Any, axis: Any = -1, kind: str = "introselect", order: Any = None
) -> np.ndarray:
    """Indices that partition the values (plain)."""
    return np.argpartition(strip(a), kth, axis=axis, kind=kind, order=order)
