"""NumPy functions on dual numbers (``__array_function__``), and ``matmul``.

Each implementation computes the function on the values and the matching
linear map on the tangents.  A tangent may carry a leading batch axis, so
axis arguments are shifted by one for it.  Values and tangents are handled
with NumPy functions, never array methods, so nested dual numbers dispatch
again one level down.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import (
    batch_shape,
    make,
    register_function,
    register_ufunc,
    zero_tangent,
)
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.rules import UfuncRule

_MATRIX = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.0]])
_VECTOR = np.array([0.7, -1.2, 2.5])
_CUBE = np.arange(24.0).reshape(2, 3, 4) / 7 - 1


def _reject(name: str, **unsupported: Any) -> None:
    given = [key for key, value in unsupported.items() if value is not None]
    if given:
        raise TypeError(f"dualdiff does not support the arguments {given} of numpy.{name}")


def _normalize_axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(normalize_axis(a, ndim) for a in axes)


def normalize_axis(axis: int, ndim: int) -> int:
    """A non-negative axis index, or NumPy's ``AxisError``."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(axis, ndim)
    return axis % ndim


def _live(*operands: Any) -> tuple[int, tuple[int, ...]]:
    """The newest tag among the operands and its batch shape."""
    newest = max((x for x in operands if type(x) is Dual), key=lambda x: x.tag)
    return newest.tag, batch_shape(newest)


def _split(x: Any, tag: int, batch: tuple[int, ...]) -> tuple[Any, Any]:
    """Value and tangent of ``x`` as seen by ``tag`` (older duals are constants)."""
    if type(x) is Dual and x.tag == tag:
        return x.value, x.tangent
    return x, zero_tangent(x, batch)


# --- reductions --------------------------------------------------------------------------------


@register_function(
    np.sum,
    examples=(
        (_MATRIX,), ((_MATRIX,), {"axis": 0}), ((_CUBE,), {"axis": (0, 2), "keepdims": True}),
    ),
)
def sum_(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Sum over axes; the tangent is summed over the same axes."""
    _reject("sum", out=out, initial=initial, where=where)
    axes = _normalize_axes(axis, a.ndim)
    value = np.sum(a.value, axis=axes, dtype=dtype, keepdims=keepdims)
    shift = len(batch_shape(a))
    tangent = np.sum(a.tangent, axis=tuple(i + shift for i in axes), dtype=dtype, keepdims=keepdims)
    return make(value, tangent, a.tag)


@register_function(
    np.mean, examples=((_MATRIX,), ((_MATRIX,), {"axis": 1}), ((_CUBE,), {"axis": (1, 2)}))
)
def mean(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    where: Any = None,
) -> Dual:
    """Mean over axes: the sum divided by the number of elements summed."""
    _reject("mean", out=out, where=where)
    axes = _normalize_axes(axis, a.ndim)
    count = int(np.prod([a.shape[i] for i in axes]))
    return sum_(a, axis=axes, dtype=dtype, keepdims=keepdims) / count


# --- products ----------------------------------------------------------------------------------


def _as_matrix_tangent(tangent: Any, vector_axis: int, value_ndim: int, out_ndim: int,
                       batch: tuple[int, ...]) -> Any:
    """A matmul operand's tangent with 1-D operands made matrices and batch axes aligned."""
    shape = np.shape(strip(tangent))
    if value_ndim == 1:
        shape = (*shape[:-1], 1, shape[-1]) if vector_axis == -2 else (*shape, 1)
    if batch:
        core = shape[1:]
        shape = (*batch, *(1,) * (out_ndim - len(core)), *core)
    return np.reshape(tangent, shape)


def _matmul_jvp(x: Dual | None, y: Dual | None, a: Any, b: Any, tag: int) -> Dual:
    ans = np.matmul(a, b)
    batch = batch_shape(x if x is not None else y)
    a_ndim, b_ndim = np.ndim(strip(a)), np.ndim(strip(b))
    a2 = a if a_ndim > 1 else np.reshape(a, (1, -1))
    b2 = b if b_ndim > 1 else np.reshape(b, (-1, 1))
    out_ndim = max(a_ndim, b_ndim, 2)
    tangent = None
    if x is not None:
        tangent = np.matmul(_as_matrix_tangent(x.tangent, -2, a_ndim, out_ndim, batch), b2)
    if y is not None:
        term = np.matmul(a2, _as_matrix_tangent(y.tangent, -1, b_ndim, out_ndim, batch))
        tangent = term if tangent is None else tangent + term
    if b_ndim == 1:
        tangent = tangent[..., 0]
    if a_ndim == 1:
        tangent = tangent[..., 0] if b_ndim == 1 else tangent[..., 0, :]
    return make(ans, tangent, tag)


register_ufunc(
    UfuncRule(
        np.matmul,
        partials=(),
        domain=((_MATRIX, _VECTOR), (_VECTOR, _VECTOR), (_CUBE.transpose(0, 2, 1), _MATRIX.T),
                (_VECTOR, _CUBE)),
        sympy=None,
        jvp=_matmul_jvp,
    )
)


@register_function(np.dot, examples=((_MATRIX, _VECTOR), (_VECTOR, _VECTOR), (2.5, _MATRIX)))
def dot(a: Any, b: Any, out: Any = None) -> Dual:
    """``numpy.dot`` for scalars, vectors and matrices (``matmul`` or a product)."""
    _reject("dot", out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError(
            "dualdiff differentiates numpy.dot of operands with at most 2 dimensions; "
            "use np.matmul or np.tensordot for stacks"
        )
    return np.matmul(a, b)


# --- shape -------------------------------------------------------------------------------------


@register_function(np.reshape, examples=(((_MATRIX, (3, 2)), {}), ((_CUBE, (4, -1)), {})))
def reshape(a: Dual, shape: Any = None, order: str = "C", **kwargs: Any) -> Dual:
    """Reshape value and tangent alike."""
    shape = kwargs.pop("newshape", shape)
    value = np.reshape(a.value, shape, order=order)
    batch = batch_shape(a)
    return make(value, np.reshape(a.tangent, batch + value.shape, order=order), a.tag)


@register_function(np.ravel, examples=((_MATRIX,), (_CUBE,)))
def ravel(a: Dual, order: str = "C") -> Dual:
    """Flatten to one dimension."""
    return reshape(a, (-1,), order=order)


@register_function(np.transpose, examples=((_MATRIX,), ((_CUBE, (1, 2, 0)), {})))
def transpose(a: Dual, axes: Any = None) -> Dual:
    """Permute axes; a batch axis stays first."""
    value = np.transpose(a.value, axes)
    order = tuple(range(a.ndim))[::-1] if axes is None else _normalize_axes(tuple(axes), a.ndim)
    if batch_shape(a):
        order = (0, *(i + 1 for i in order))
    return make(value, np.transpose(a.tangent, order), a.tag)


@register_function(np.moveaxis, examples=(((_CUBE, 0, -1), {}), ((_MATRIX, 1, 0), {})))
def moveaxis(a: Dual, source: Any, destination: Any) -> Dual:
    """Move axes to new positions; a batch axis stays first."""
    value = np.moveaxis(a.value, source, destination)
    source = _normalize_axes(source if isinstance(source, tuple) else (source,), a.ndim)
    destination = _normalize_axes(
        destination if isinstance(destination, tuple) else (destination,), a.ndim
    )
    shift = len(batch_shape(a))
    tangent = np.moveaxis(
        a.tangent, tuple(i + shift for i in source), tuple(i + shift for i in destination)
    )
    return make(value, tangent, a.tag)


@register_function(np.broadcast_to, examples=(((_VECTOR, (2, 3)), {}), ((2.0, (3,)), {})))
def broadcast_to(array: Dual, shape: Any, subok: bool = False) -> Dual:
    """Broadcast value and tangent to ``shape``; the batch axis stays first."""
    value = np.broadcast_to(array.value, shape)
    batch = batch_shape(array)
    tangent = array.tangent
    if batch:
        core = np.shape(strip(array.value))
        tangent = np.reshape(tangent, batch + (1,) * (value.ndim - len(core)) + core)
    return make(value, np.broadcast_to(tangent, batch + value.shape), array.tag)


@register_function(np.shape, examples=((_MATRIX,),))
def shape(a: Dual) -> tuple[int, ...]:
    """The value's shape (plain)."""
    return a.shape


@register_function(np.ndim, examples=((_MATRIX,),))
def ndim(a: Dual) -> int:
    """The value's number of dimensions (plain)."""
    return a.ndim


# --- joining and selecting ---------------------------------------------------------------------


def _join(name: str, arrays: Any, axis: int, join: Any) -> Dual:
    arrays = list(arrays)
    if not arrays:
        raise ValueError(f"numpy.{name} needs at least one array")
    tag, batch = _live(*arrays)
    values, tangents = zip(*(_split(x, tag, batch) for x in arrays), strict=True)
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
    np.stack, examples=((([_VECTOR, 2 * _VECTOR],), {}), (([_MATRIX, _MATRIX],), {"axis": -1}))
)
def stack(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Dual:
    """Stack along a new axis; plain arrays and older duals enter with zero tangent."""
    _reject("stack", out=out)
    return _join("stack", arrays, axis, np.stack)


@register_function(
    np.concatenate,
    examples=((([_VECTOR, _VECTOR],), {}), (([_MATRIX, _MATRIX],), {"axis": 1})),
)
def concatenate(arrays: Any, axis: int = 0, out: Any = None, **kwargs: Any) -> Dual:
    """Join along an existing axis; plain arrays and older duals enter with zero tangent."""
    _reject("concatenate", out=out)
    return _join("concatenate", arrays, axis, np.concatenate)


@register_function(
    np.where, examples=(((_VECTOR > 0, _VECTOR, -_VECTOR), {}), ((_MATRIX > 0, _MATRIX, 0.0), {}))
)
def where(condition: Any, x: Any = None, y: Any = None) -> Dual:
    """Select from ``x`` where ``condition`` holds, else from ``y``; tangents follow."""
    if x is None or y is None:
        raise TypeError("numpy.where with one argument returns indices; pass condition.value")
    condition = strip(condition)
    tag, batch = _live(x, y)
    (x_value, x_tangent), (y_value, y_tangent) = _split(x, tag, batch), _split(y, tag, batch)
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


@register_function(np.copy, examples=((_MATRIX,),))
def copy(a: Dual, order: str = "K", subok: bool = False) -> Dual:
    """An independent copy of value and tangent."""
    return make(np.copy(a.value, order=order), np.copy(a.tangent, order=order), a.tag)
