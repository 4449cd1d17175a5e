"""Shared pieces of the NumPy function implementations.

Each implementation computes the function on the values and the matching
linear map on the tangents.  A tangent may carry a leading batch axis, so
axis arguments are shifted by one for it.  Values and tangents are handled
with NumPy functions, never array methods, so nested dual numbers dispatch
again one level down.  The example arrays here are test inputs shared by the
registrations (``register_function(..., examples=...)``).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, zero_tangent
from dualdiff.dual import Dual

MATRIX = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.0]])
VECTOR = np.array([0.7, -1.2, 2.5])
CUBE = np.arange(24.0).reshape(2, 3, 4) / 7 - 1


def reject(name: str, **unsupported: Any) -> None:
    """Raise ``TypeError`` naming the arguments of ``numpy.<name>`` that were given."""
    given = [key for key, value in unsupported.items() if value is not None]
    if given:
        raise TypeError(f"dualdiff does not support the arguments {given} of numpy.{name}")


def normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Non-negative axes; ``None`` means all of them."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    return tuple(normalize_axis(a, ndim) for a in axes)


def normalize_axis(axis: int, ndim: int) -> int:
    """A non-negative axis index, or NumPy's ``AxisError`` (``TypeError`` for a non-integer)."""
    axis = operator.index(axis)  # NumPy's TypeError for a tuple or a float
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def as_array(value: Any) -> Any:
    """A value as NumPy functions see an array: a 0-d Dual's Python number as a 0-d array."""
    return np.asarray(value) if type(value) in (float, complex) else value


def live(*operands: Any) -> tuple[int, tuple[int, ...]]:
    """The newest tag among the operands and its batch shape."""
    newest = max((x for x in operands if type(x) is Dual), key=lambda x: x.tag)
    return newest.tag, batch_shape(newest)


def split(x: Any, tag: int, batch: tuple[int, ...]) -> tuple[Any, Any]:
    """Value and tangent of ``x`` as seen by ``tag`` (older duals are constants)."""
    if type(x) is Dual and x.tag == tag:
        return x.value, x.tangent
    return x, zero_tangent(x, batch)
