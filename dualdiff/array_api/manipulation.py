"""Manipulation and indexing functions: NumPy's, on values and tangents alike.

They are linear, so dualdiff's implementations move each tangent as the
value moves (views stay views, as :mod:`dualdiff.memory` says).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.array_api.creation import asarray

Array = Any


def broadcast_arrays(*arrays: Array) -> list[Array]:
    """``numpy.broadcast_arrays``, as a list."""
    return list(np.broadcast_arrays(*arrays))


def broadcast_to(x: Array, /, shape: tuple[int, ...]) -> Array:
    """``numpy.broadcast_to`` (a read-only view)."""
    return np.broadcast_to(x, shape)


def concat(arrays: Any, /, *, axis: int | None = 0) -> Array:
    """``numpy.concatenate`` (``axis=None``: of the flattened arrays)."""
    return np.concatenate(list(arrays), axis=axis)


def expand_dims(x: Array, /, axis: int = 0) -> Array:
    """``numpy.expand_dims``."""
    return np.expand_dims(x, axis)


def flip(x: Array, /, *, axis: Any = None) -> Array:
    """``numpy.flip``."""
    return np.flip(x, axis=tuple(axis) if isinstance(axis, list) else axis)


def moveaxis(x: Array, source: Any, destination: Any, /) -> Array:
    """``numpy.moveaxis``."""
    return np.moveaxis(x, source, destination)


def permute_dims(x: Array, /, axes: tuple[int, ...]) -> Array:
    """``numpy.transpose`` with ``axes``."""
    return np.transpose(x, axes)


def repeat(x: Array, repeats: Any, /, *, axis: int | None = None) -> Array:
    """``numpy.repeat`` (``repeats`` an integer or an integer array)."""
    return np.repeat(x, repeats, axis=axis)


def reshape(x: Array, /, shape: tuple[int, ...], *, copy: bool | None = None) -> Array:
    """``numpy.reshape``; ``copy=False`` raises ``ValueError`` where a view is impossible."""
    return np.reshape(x, shape, copy=copy)


def roll(x: Array, /, shift: Any, *, axis: Any = None) -> Array:
    """``numpy.roll``."""
    return np.roll(x, shift, axis=axis)


def squeeze(x: Array, /, axis: Any) -> Array:
    """``numpy.squeeze`` of the given axes."""
    return np.squeeze(x, axis=axis)


def stack(arrays: Any, /, *, axis: int = 0) -> Array:
    """``numpy.stack`` (arrays of different derivatives nest, as in dualdiff)."""
    return np.stack(list(arrays), axis=axis)


def tile(x: Array, repetitions: tuple[int, ...], /) -> Array:
    """``numpy.tile``."""
    return np.tile(x, repetitions)


def unstack(x: Array, /, *, axis: int = 0) -> tuple[Array, ...]:
    """The slices along ``axis``, as a tuple of views (``x[..., i, ...]``)."""
    moved = np.moveaxis(x, axis, 0)
    return tuple(moved[i] for i in range(np.shape(moved)[0]))


def take(x: Array, indices: Array, /, *, axis: int | None = None) -> Array:
    """``numpy.take`` of integer ``indices``."""
    return np.take(x, indices, axis=axis)


def take_along_axis(x: Array, indices: Array, /, *, axis: int = -1) -> Array:
    """``numpy.take_along_axis``."""
    return np.take_along_axis(x, indices, axis=axis)


def matmul(x1: Array, x2: Array, /) -> Array:
    """``numpy.matmul``."""
    return np.matmul(x1, x2)


def matrix_transpose(x: Array, /) -> Array:
    """``numpy.matrix_transpose``: the last two axes swapped."""
    return np.matrix_transpose(x)


def tensordot(x1: Array, x2: Array, /, *, axes: Any = 2) -> Array:
    """``numpy.tensordot``."""
    return np.tensordot(x1, x2, axes=axes)


def vecdot(x1: Array, x2: Array, /, *, axis: int = -1) -> Array:
    """``numpy.vecdot``: conjugate of ``x1`` times ``x2``, summed along ``axis``.

    ``axis`` (of the broadcast shape) is moved last first, since dualdiff's
    ``vecdot`` contracts the last axis.
    """
    if axis == -1:
        return np.vecdot(x1, x2)
    ndim = max(np.ndim(x1), np.ndim(x2))
    x1, x2 = (np.moveaxis(np.reshape(x, (1,) * (ndim - np.ndim(x)) + np.shape(x)), axis, -1)
              for x in (x1, x2))
    return np.vecdot(x1, x2)


__all__ = [
    "asarray", "broadcast_arrays", "broadcast_to", "concat", "expand_dims", "flip", "matmul",
    "matrix_transpose", "moveaxis", "permute_dims", "repeat", "reshape", "roll", "squeeze",
    "stack", "take", "take_along_axis", "tensordot", "tile", "unstack", "vecdot",
]
