"""Joining and selecting: stack, concatenate, where, copy."""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import MATRIX, VECTOR, live, normalize_axis, reject, split


def _join(name: str, arrays: Any, axis: int, join: Any) -> Dual:
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"numpy.{name} needs at least one array")
    tag, batch = live(*arrays)
    values, tangents = zip(*(split(x, tag, batch) for x in arrays), strict=True)
    value = join(values, axis=axis)
    if batch:
        tangents = tuple(
            np.reshape(t, batch + np.shape(strip(v))) if np.ndim(strip(t)) == np.ndim(strip(v))
            else t
            for t, v in zip(tangents, values, strict=True)
        )
        out_axis = normalize_axis(axis, np.ndim(strip(value)))
        tangent_axis = out_axis + 1
    else:
        tangent_axis = axis
    return make(value, join(tangents, axis=tangent_axis), tag)


@register_function(
    np.stack, examples=((([VECTOR, 2 * VECTOR],), {}), (([MATRIX, MATRIX],), {"axis": -1}))
)
def stack(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Dual:
    """Stack along a new axis; plain arrays and older duals enter with zero tangent."""
    reject("stack", out=out)
    return _join("stack", arrays, axis, np.stack)


@register_function(
    np.concatenate,
    examples=((([VECTOR, VECTOR],), {}), (([MATRIX, MATRIX],), {"axis": 1})),
)
def concatenate(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Dual:
    """Join along an existing axis; plain arrays and older duals enter with zero tangent."""
    reject("concatenate", out=out)
    return _join("concatenate", arrays, axis, np.concatenate)


@register_function(
    np.where, examples=(((VECTOR > 0, VECTOR, -VECTOR), {}), ((MATRIX > 0, MATRIX, 0.0), {}))
)
def where(condition: Any, x: Any = None, y: Any = None) -> Dual:
    """Select from ``x`` where ``condition`` holds, else from ``y``; tangents follow."""
    if x is None or y is None:
        raise TypeError("numpy.where with one argument returns indices; pass condition.value")
    condition = strip(condition)
    tag, batch = live(x, y)
    (x_value, x_tangent), (y_value, y_tangent) = split(x, tag, batch), split(y, tag, batch)
    value = np.where(condition, x_value, y_value)
    out_ndim = np.ndim(strip(value))
    if batch:
        condition = np.reshape(condition, (1,) * (out_ndim + 1 - np.ndim(condition))
                               + np.shape(condition))
        x_tangent, y_tangent = (
            np.reshape(t, batch + (1,) * (out_ndim - np.ndim(strip(v))) + np.shape(strip(v)))
            for t, v in ((x_tangent, x_value), (y_tangent, y_value))
        )
    tangent = np.where(condition, x_tangent, y_tangent)
    tangent = np.broadcast_to(tangent, batch + np.shape(strip(value)))
    return make(value, tangent, tag)


@register_function(np.copy, examples=((MATRIX,),))
def copy(a: Dual, order: str = "K", subok: bool = False) -> Dual:
    """An independent copy of value and tangent."""
    return make(np.copy(a.value, order=order), np.copy(a.tangent, order=order), a.tag)
