"""Reductions and statistics: sums, means, and their tangents."""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function
from dualdiff.dual import Dual
from dualdiff.functions._common import CUBE, MATRIX, normalize_axes, reject


@register_function(
    np.sum,
    examples=(
        (MATRIX,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"axis": (0, 2), "keepdims": True}),
    ),
)
def sum_(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Sum over axes; the tangent is summed over the same axes."""
    reject("sum", out=out, initial=initial, where=where)
    axes = normalize_axes(axis, a.ndim)
    value = np.sum(a.value, axis=axes, dtype=dtype, keepdims=keepdims)
    shift = len(batch_shape(a))
    tangent = np.sum(a.tangent, axis=tuple(i + shift for i in axes), dtype=dtype, keepdims=keepdims)
    return make(value, tangent, a.tag)


@register_function(
    np.mean, examples=((MATRIX,), ((MATRIX,), {"axis": 1}), ((CUBE,), {"axis": (1, 2)}))
)
def mean(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    where: Any = None,
) -> Dual:
    """Mean over axes: the sum divided by the number of elements summed."""
    reject("mean", out=out, where=where)
    axes = normalize_axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    return sum_(a, axis=axes, dtype=dtype, keepdims=keepdims) / count
