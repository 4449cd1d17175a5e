"""Selecting elements: where, clip, take, select, piecewise, interp and friends.

A selection passes each chosen element's tangent along with its value; the
choice itself (conditions, indices, comparisons) is made on plain values and
has no derivative.  Indices must be plain: a Dual used as an index raises
``TypeError``.  Conventions at ties are in ``docs/conventions.md``
("Selection").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dispatch import batch_shape, make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import (
    CUBE,
    MATRIX,
    VECTOR,
    as_array,
    live,
    normalize_axis,
    reject,
    split,
)
from dualdiff.functions.shape import astype, flat_or_along

KNOTS = np.array([-1.0, 0.0, 0.5, 2.0])
HEIGHTS = np.array([1.0, -0.5, 2.0, 0.3])
POINTS = np.array([-1.5, -0.3, 0.2, 1.1, 1.9, 2.5])
ORDER = np.array([[2, 0, 1], [1, 1, 0]])


def _plain_index(indices: Any, name: str) -> Any:
    if type(indices) is Dual:
        raise TypeError(
            f"a Dual cannot be the indices of numpy.{name}; index with integers or .value"
        )
    return indices


def _operand(x: Any) -> Any:
    """Lists and tuples as arrays; numbers, arrays, duals and ``None`` as they are."""
    return np.asarray(x) if isinstance(x, list | tuple) else x


def _duals(*operands: Any) -> list[Dual]:
    return [x for x in operands if type(x) is Dual]


def _with_dtype(tangent: Any, dtype: np.dtype) -> Any:
    """``tangent`` cast to the value's dtype (zero tangents of plain integers promote)."""
    if type(tangent) is Dual:
        return tangent if tangent.dtype == dtype else astype(tangent, dtype, copy=False)
    return tangent if np.result_type(tangent) == dtype else np.asarray(tangent, dtype=dtype)


# --- where -------------------------------------------------------------------------------------


@register_function(
    np.where,
    examples=(((VECTOR > 0, VECTOR, -VECTOR), {}), ((MATRIX > 0, MATRIX, 0.0), {}),
              ((MATRIX > 0, VECTOR, MATRIX[:1]), {})),
)
def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """Select from ``x`` where ``condition`` holds, else from ``y``; tangents follow.

    With ``condition`` alone, the plain indices where its value is nonzero.
    """
    condition = strip(condition)
    if x is None and y is None:
        return np.where(condition)
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    if not _duals(x, y):
        return np.where(condition, x, y)
    x, y = _operand(x), _operand(y)
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
    tangent = _with_dtype(np.where(condition, x_tangent, y_tangent), np.result_type(strip(value)))
    tangent = np.broadcast_to(tangent, batch + np.shape(strip(value)))
    return make(value, tangent, tag)


# --- clip --------------------------------------------------------------------------------------


@register_function(
    np.clip,
    examples=(
        ((VECTOR, -1.0, 1.0), {}),
        ((MATRIX, -0.8, None), {}),
        ((MATRIX, None, VECTOR), {}),
        ((CUBE, MATRIX[:, :1, None], 0.9), {}),
        ((VECTOR, 1.0, -1.0), {}),
    ),
)
def clip(a: Any, a_min: Any = None, a_max: Any = None, out: Any = None, *, min: Any = None,
         max: Any = None, **kwargs: Any) -> Dual:
    """Limit values to ``[a_min, a_max]``.

    The tangent is ``a``'s where ``a_min <= a <= a_max`` (bounds included),
    the bound's where a bound was applied (a Dual bound passes its tangent).
    """
    reject("clip", out=out, **kwargs)
    if (a_min is not None and min is not None) or (a_max is not None and max is not None):
        raise TypeError("numpy.clip: pass a_min/a_max or min/max, not both")
    a = _operand(a)
    low = _operand(a_min if a_min is not None else min)
    high = _operand(a_max if a_max is not None else max)
    if low is None and high is None:
        return np.copy(a)
    tag, batch = live(a, low, high)
    value = np.clip(*(None if x is None else split(x, tag, batch)[0] for x in (a, low, high)))
    result = a
    if low is not None:
        result = np.where(strip(a) < strip(low), low, result)
    if high is not None:
        result = np.where(strip(result) > strip(high), high, result)
    return make(value, split(result, tag, batch)[1], tag)


# --- taking and putting by index ---------------------------------------------------------------


@register_function(
    np.take,
    examples=(((VECTOR, [2, 0, 2]), {}), ((MATRIX, ORDER), {"axis": 1}),
              ((CUBE, 1), {"axis": -2}), ((MATRIX, [5, -1]), {"mode": "wrap"})),
)
def take(a: Dual, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Dual:
    """Elements at ``indices`` along ``axis`` (``None``: of the flattened array)."""
    reject("take", out=out)
    _plain_index(indices, "take")
    value = np.take(a.value, indices, axis=axis, mode=mode)
    tangent, tangent_axis = flat_or_along(a, axis)
    return make(value, np.take(tangent, indices, axis=tangent_axis, mode=mode), a.tag)


@register_function(
    np.take_along_axis,
    examples=(((MATRIX, ORDER), {"axis": 1}), ((MATRIX, ORDER[:, :1]), {"axis": -1}),
              ((MATRIX.T, ORDER.T), {"axis": 0}), ((VECTOR, np.array([2, 1])), {"axis": None})),
)
def take_along_axis(arr: Any, indices: Any, axis: Any = -1) -> Any:
    """Elements at ``indices`` along ``axis``, as from ``argsort``; the tangent alike."""
    indices = np.asarray(_plain_index(indices, "take_along_axis"))
    value = np.take_along_axis(as_array(arr.value), indices, axis=axis)
    tangent, tangent_axis = flat_or_along(arr, axis)
    indices = np.reshape(indices, (1,) * len(batch_shape(arr)) + indices.shape)
    return make(value, np.take_along_axis(tangent, indices, axis=tangent_axis), arr.tag)


# The example writes into this array in place; it already holds the values written.
_PUT_TARGET = np.array([[1.0, -2.0, 0.25], [0.3, 4.0, -1.0]])


@register_function(
    np.put_along_axis,
    examples=(((_PUT_TARGET, ORDER[:, :1], np.array([[0.25], [4.0]]), 1), {}),),
)
def put_along_axis(arr: Any, indices: Any, values: Any, axis: Any) -> None:
    """Write ``values`` at ``indices`` along ``axis`` of the Dual array ``arr``, in place."""
    if type(arr) is not Dual:
        raise TypeError(
            "numpy.put_along_axis cannot write dual numbers into a plain array: their tangents "
            "would be dropped.  Write into a Dual array of the same derivative instead, e.g. "
            "out = x * 0 or np.copy(x) for a dual x"
        )
    indices = np.asarray(_plain_index(indices, "put_along_axis"))
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        arr[np.unravel_index(indices, arr.shape)] = values
        return
    axis = normalize_axis(axis, arr.ndim)
    if indices.ndim != arr.ndim:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    shape = arr.shape
    index = tuple(
        indices if d == axis
        else np.reshape(np.arange(n), (1,) * d + (n,) + (1,) * (len(shape) - d - 1))
        for d, n in enumerate(shape)
    )
    arr[index] = values


@register_function(
    np.compress,
    examples=((([True, False, True], VECTOR), {}), (([False, True], MATRIX), {"axis": 0}),
              (([True, False, True, True], MATRIX), {}), ((VECTOR > 0, MATRIX), {"axis": -1})),
)
def compress(condition: Any, a: Any, axis: Any = None, out: Any = None) -> Any:
    """Slices of ``a`` where ``condition`` (a plain truth value) holds."""
    reject("compress", out=out)
    condition = strip(condition)
    if type(a) is not Dual:
        return np.compress(condition, a, axis=axis)
    value = np.compress(condition, a.value, axis=axis)
    tangent, tangent_axis = flat_or_along(a, axis)
    return make(value, np.compress(condition, tangent, axis=tangent_axis), a.tag)


@register_function(np.extract, examples=((MATRIX > 0, MATRIX), ([1, 0, 1], VECTOR)))
def extract(condition: Any, arr: Any) -> Any:
    """The elements of ``arr`` (flattened) where ``condition`` (flattened) is nonzero."""
    indices = np.nonzero(np.ravel(strip(condition)))[0]
    return np.take(np.ravel(arr), indices)


# --- choosing among several arrays -----------------------------------------------------------


@register_function(
    np.select,
    examples=(
        (([VECTOR < 0, VECTOR > 2], [VECTOR, -VECTOR]), {}),
        (([MATRIX > 0], [MATRIX]), {"default": 2}),
        (([MATRIX < 0, MATRIX < 1], [VECTOR, MATRIX]), {"default": np.arange(3)}),
    ),
)
def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """From the first choice whose condition holds, else ``default``; tangents follow."""
    conditions = [strip(c) for c in condlist]
    expected = np.select(conditions, [strip(c) for c in choicelist], strip(default))
    result = default
    for condition, choice in zip(conditions[::-1], list(choicelist)[::-1], strict=True):
        result = np.where(condition, choice, result)
    if type(result) is not Dual:
        return expected
    result = np.broadcast_to(result, expected.shape)
    return astype(result, expected.dtype) if result.dtype != expected.dtype else np.copy(result)


@register_function(
    np.piecewise,
    examples=(
        ((VECTOR, [VECTOR < 0, VECTOR >= 0], [np.sin, np.square]), {}),
        ((MATRIX, [MATRIX < 0], [np.exp, np.negative]), {}),
        ((VECTOR, [VECTOR > 1], [2, np.cos]), {}),
        ((0.7, [True], [np.tanh]), {}),
    ),
)
def piecewise(x: Any, condlist: Any, funclist: Any, *args: Any, **kw: Any) -> Any:
    """Each function on the elements of ``x`` where its condition holds (else 0).

    Functions may return dual numbers (the pieces' tangents are kept);
    constants in ``funclist`` have zero tangent.  Later conditions win, as in
    NumPy.
    """
    shape = np.shape(x)
    if not shape:  # a scalar: work on one element
        x = np.reshape(x, (1,))
    if np.isscalar(condlist) or (not isinstance(condlist[0], list | np.ndarray) and shape):
        condlist = [condlist]
    conditions = np.asarray(condlist, dtype=bool)
    conditions = np.reshape(conditions, (len(conditions), *x.shape))
    if len(conditions) == len(funclist) - 1:
        otherwise = ~np.any(conditions, axis=0, keepdims=True)
        conditions = np.concatenate([conditions, otherwise], axis=0)
    elif len(conditions) != len(funclist):
        raise ValueError(
            f"with {len(conditions)} condition(s), either {len(conditions)} or "
            f"{len(conditions) + 1} functions are expected"
        )
    pieces = []
    for condition, func in zip(conditions, funclist, strict=True):
        if not callable(func):
            pieces.append((condition, func))
        elif condition.any():
            pieces.append((condition, func(x[condition], *args, **kw)))
    tag, _ = live(x, *(piece for _, piece in pieces))
    template = next(p for p in (x, *(piece for _, piece in pieces))
                    if type(p) is Dual and p.tag == tag)
    result = memory.zeros_like(template, np.zeros(x.shape, dtype=x.dtype))
    for condition, piece in pieces:
        result[condition] = piece
    return np.reshape(result, shape) if not shape else result


# --- interpolation -----------------------------------------------------------------------------


@register_function(
    np.interp,
    examples=(
        ((POINTS, KNOTS, HEIGHTS), {}),
        ((0.7, KNOTS, HEIGHTS), {}),
        ((POINTS, KNOTS, HEIGHTS), {"left": 5, "right": -1}),
        ((POINTS, KNOTS, HEIGHTS), {"period": 5}),
        ((MATRIX * 0.3, KNOTS[1:], HEIGHTS[1:]), {}),
    ),
)
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Dual:
    """Piecewise-linear interpolation; differentiable in ``x``, ``xp``, ``fp``, ``left``, ``right``.

    The slope in ``x`` is that of the segment holding ``x``: at an interior
    knot the segment to its right, at the last knot the last segment; outside
    the knots ``left``/``right`` are constants (slope 0).
    """
    operands = tuple(_operand(v) for v in (x, xp, fp, left, right, period))
    x, xp, fp, left, right, period = operands
    tag, batch = live(*operands)
    value = np.interp(*(None if v is None else split(v, tag, batch)[0] for v in operands))
    line = _interpolant(x, xp, fp, left, right, period)
    tangent = _with_dtype(split(line, tag, batch)[1], np.result_type(strip(value)))
    return make(value, tangent, tag)


def _interpolant(x: Any, xp: Any, fp: Any, left: Any, right: Any, period: Any) -> Any:
    """``interp`` written with dual-aware operations, so every operand's tangent flows."""
    if period is not None:
        if strip(period) == 0:
            raise ValueError("period must be a non-zero value")
        period = np.abs(period)
        left = right = None
        x, xp = x % period, xp % period
        order = np.argsort(strip(xp))
        xp, fp = np.take(xp, order), np.take(fp, order)
        xp = np.concatenate((xp[-1:] - period, xp, xp[:1] + period))
        fp = np.concatenate((fp[-1:], fp, fp[:1]))
    knots, at = strip(xp), strip(x)
    if len(knots) == 1:
        return np.where(np.ones(np.shape(at), dtype=bool), fp[0], 0.0)
    segment = np.clip(np.searchsorted(knots, at, side="right") - 1, 0, len(knots) - 2)
    x0, x1 = np.take(xp, segment), np.take(xp, segment + 1)
    f0, f1 = np.take(fp, segment), np.take(fp, segment + 1)
    line = f0 + (x - x0) * ((f1 - f0) / (x1 - x0))
    line = np.where(at > knots[-1], fp[-1] if right is None else right, line)
    return np.where(at < knots[0], fp[0] if left is None else left, line)
