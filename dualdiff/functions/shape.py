"""Shape manipulation: the tangent is reshaped, transposed, moved like the value."""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import CUBE, MATRIX, VECTOR, normalize_axes


@register_function(np.reshape, examples=(((MATRIX, (3, 2)), {}), ((CUBE, (4, -1)), {})))
def reshape(a: Dual, shape: Any = None, order: str = "C", **kwargs: Any) -> Dual:
    """Reshape value and tangent alike."""
    shape = kwargs.pop("newshape", shape)
    value = np.reshape(a.value, shape, order=order)
    batch = batch_shape(a)
    return make(value, np.reshape(a.tangent, batch + value.shape, order=order), a.tag)


@register_function(np.ravel, examples=((MATRIX,), (CUBE,)))
def ravel(a: Dual, order: str = "C") -> Dual:
    """Flatten to one dimension."""
    return reshape(a, (-1,), order=order)


@register_function(np.transpose, examples=((MATRIX,), ((CUBE, (1, 2, 0)), {})))
def transpose(a: Dual, axes: Any = None) -> Dual:
    """Permute axes; a batch axis stays first."""
    value = np.transpose(a.value, axes)
    order = tuple(range(a.ndim))[::-1] if axes is None else normalize_axes(tuple(axes), a.ndim)
    if batch_shape(a):
        order = (0, *(i + 1 for i in order))
    return make(value, np.transpose(a.tangent, order), a.tag)


@register_function(np.moveaxis, examples=(((CUBE, 0, -1), {}), ((MATRIX, 1, 0), {})))
def moveaxis(a: Dual, source: Any, destination: Any) -> Dual:
    """Move axes to new positions; a batch axis stays first."""
    value = np.moveaxis(a.value, source, destination)
    source = normalize_axes(source if isinstance(source, tuple) else (source,), a.ndim)
    destination = normalize_axes(
        destination if isinstance(destination, tuple) else (destination,), a.ndim
    )
    shift = len(batch_shape(a))
    tangent = np.moveaxis(
        a.tangent, tuple(i + shift for i in source), tuple(i + shift for i in destination)
    )
    return make(value, tangent, a.tag)


@register_function(np.broadcast_to, examples=(((VECTOR, (2, 3)), {}), ((2.0, (3,)), {})))
def broadcast_to(array: Dual, shape: Any, subok: bool = False) -> Dual:
    """Broadcast value and tangent to ``shape``; the batch axis stays first."""
    value = np.broadcast_to(array.value, shape)
    batch = batch_shape(array)
    tangent = array.tangent
    if batch:
        core = np.shape(strip(array.value))
        tangent = np.reshape(tangent, batch + (1,) * (value.ndim - len(core)) + core)
    return make(value, np.broadcast_to(tangent, batch + value.shape), array.tag)


@register_function(np.shape, examples=((MATRIX,),))
def shape(a: Dual) -> tuple[int, ...]:
    """The value's shape (plain)."""
    return a.shape


@register_function(np.ndim, examples=((MATRIX,),))
def ndim(a: Dual) -> int:
    """The value's number of dimensions (plain)."""
    return a.ndim
