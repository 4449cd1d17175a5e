"""Shape manipulation: the tangent is reshaped, transposed, moved like the value.

Every function here is linear (reshapes, flips, rolls, tiles, padding,
diagonals and triangles, real and imaginary parts, casts), so the tangent
goes through the same function as the value; where a tangent carries a
leading batch axis, axis arguments are shifted by one for it
(:func:`tangent_axes`).  The ``*_like`` constructors return Duals of their
argument's tag and batch with zero tangents (their values do not depend on
the argument's), so "allocate like x, then fill" works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dispatch import batch_shape, make, register_function, zero_tangent
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import CUBE, MATRIX, VECTOR, normalize_axes, normalize_axis, reject


def tangent_axes(axes: Any, a: Dual) -> tuple[int, ...]:
    """``axes`` of ``a``'s value as axes of its tangent: non-negative, past the batch axis.

    ``None`` means all axes.
    """
    shift = len(batch_shape(a))
    return tuple(i + shift for i in normalize_axes(axes, a.ndim))


def _like_value(a: Dual, value: Any) -> Dual:
    """``a``'s tangent reshaped to the new value's shape (for squeezes and new axes)."""
    return make(value, np.reshape(a.tangent, batch_shape(a) + np.shape(strip(value))), a.tag)


def float_dtype(dtype: Any, name: str) -> Any:
    """``dtype`` if it is ``None`` or a float or complex kind, else a ``TypeError``."""
    if dtype is not None and np.dtype(dtype).kind not in "fc":
        raise TypeError(
            f"numpy.{name} with dtype={np.dtype(dtype)} would truncate the tangent of a Dual "
            "(only float and complex dtypes carry derivatives); pass a float or complex dtype, "
            f"or call numpy.{name} on the plain .value if no derivative is wanted"
        )
    return dtype


def _layout(a: Dual) -> np.ndarray:
    """The plain array under every dual layer of ``a``'s value: whose memory layout counts."""
    return np.asarray(strip(a.value))


def memory_order(array: np.ndarray) -> tuple[int, ...]:
    """The axes of ``array`` from the slowest to the fastest in memory: NumPy's ``order='K'``.

    NumPy's iterator sorts the axes by decreasing absolute stride, starting from C order, and
    a zero stride (a broadcast axis, or an axis of length one) compares with nothing, so it
    keeps its C-order place.  A negative stride counts by its size: ``'K'`` reads a reversed
    axis in index order.

    Examples
    --------
    >>> import numpy as np
    >>> memory_order(np.ones((2, 3, 4)).transpose(2, 0, 1))
    (1, 2, 0)
    """
    strides = [0 if n == 1 else abs(s) for n, s in zip(array.shape, array.strides, strict=True)]
    order = list(range(array.ndim))[::-1]  # the fastest axis first, as NumPy sorts them
    for i in range(1, len(order)):
        axis, place = order[i], i
        for j in range(i - 1, -1, -1):
            mine, theirs = strides[axis], strides[order[j]]
            if mine and theirs:
                if theirs <= mine:
                    break
                place = j
        order.insert(place, order.pop(i))
    return tuple(order[::-1])


def _index_order(a: Dual, order: str) -> str:
    """``'C'`` or ``'F'``: ``order='A'`` resolved from the value's layout (never the tangent's).

    ``'A'`` means Fortran order for a Fortran-contiguous value, else C order; the tangent,
    whatever its own layout, is read in the same order, so each element keeps its tangent.
    """
    if order not in ("A", "a"):
        return order
    layout = _layout(a)
    return "F" if layout.flags.f_contiguous and not layout.flags.c_contiguous else "C"


@register_function(
    np.reshape,
    examples=(((MATRIX, (3, 2)), {}), ((CUBE, (4, -1)), {}), ((CUBE, (6, 4)), {"order": "F"}),
              ((MATRIX, (3, 2)), {"copy": True})),
)
def reshape(a: Dual, shape: Any = None, order: str = "C", *, copy: bool | None = None,
            **kwargs: Any) -> Dual:
    """Reshape value and tangent alike (``order='A'`` follows the value's layout)."""
    shape = kwargs.pop("newshape", shape)
    if kwargs:
        raise TypeError(f"numpy.reshape got unexpected keyword arguments {sorted(kwargs)}")
    order = _index_order(a, order)
    value = np.reshape(a.value, shape, order=order, copy=copy)
    batch = batch_shape(a)
    tangent = np.reshape(a.tangent, batch + np.shape(strip(value)), order=order,
                         copy=True if copy else None)
    return make(value, tangent, a.tag)


@register_function(
    np.ravel,
    examples=((MATRIX,), (CUBE,), ((CUBE,), {"order": "K"}), ((MATRIX,), {"order": "A"}),
              ((CUBE,), {"order": "F"}), ((2.5,), {"order": "K"}), ((MATRIX.T,), {"order": "K"}),
              ((MATRIX[:, ::-1],), {"order": "K"}), ((np.asfortranarray(CUBE),), {"order": "A"})),
)
def ravel(a: Dual, order: str = "C") -> Dual:
    """Flatten to one dimension: a view exactly when NumPy's ``ravel`` of the value is one.

    ``order='A'`` and ``'K'`` are decided by the value's memory layout and
    applied alike to the tangents (which are laid out as the value is), so
    each element keeps its tangent.
    """
    if order in ("K", "k"):
        axes = memory_order(_layout(a))
        if axes != tuple(range(len(axes))):
            a = transpose(a, axes)
        order = "C"
    order = _index_order(a, order)
    value = np.ravel(a.value, order=order)
    tangent = np.reshape(a.tangent, (*batch_shape(a), -1), order=order)
    return make(value, tangent, a.tag)  # a copied value gets its own tangent (memory.settle)


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
    tangent = np.moveaxis(a.tangent, tangent_axes(source, a), tangent_axes(destination, a))
    return make(value, tangent, a.tag)


@register_function(
    np.swapaxes, examples=(((CUBE, 0, 2), {}), ((MATRIX, -1, 0), {}), ((CUBE, 1, -2), {}))
)
def swapaxes(a: Dual, axis1: int, axis2: int) -> Dual:
    """Interchange two axes; a batch axis stays first."""
    value = np.swapaxes(a.value, axis1, axis2)
    return make(value, np.swapaxes(a.tangent, *tangent_axes((axis1, axis2), a)), a.tag)


@register_function(
    np.squeeze,
    examples=((CUBE[:, :1],), ((CUBE[:1, :, :1],), {"axis": -1}), ((MATRIX[:1],), {"axis": 0})),
)
def squeeze(a: Dual, axis: Any = None) -> Dual:
    """Remove axes of length one."""
    return _like_value(a, np.squeeze(a.value, axis=axis))


@register_function(
    np.expand_dims,
    examples=(((VECTOR, 0), {}), ((MATRIX, -1), {}), ((MATRIX, (0, 3)), {}), ((2.5, 0), {})),
)
def expand_dims(a: Dual, axis: Any) -> Dual:
    """Insert axes of length one."""
    return _like_value(a, np.expand_dims(a.value, axis))


def _at_least(promote: Any, arys: tuple[Any, ...]) -> Any:
    results = tuple(_like_value(a, promote(a.value)) if type(a) is Dual else promote(a)
                    for a in arys)
    return results[0] if len(results) == 1 else results


@register_function(np.atleast_1d, examples=((2.5,), (MATRIX,), (2.5, VECTOR)))
def atleast_1d(*arys: Any) -> Any:
    """View inputs as arrays of at least one dimension (several inputs give a tuple)."""
    return _at_least(np.atleast_1d, arys)


@register_function(np.atleast_2d, examples=((2.5,), (VECTOR,), (VECTOR, CUBE)))
def atleast_2d(*arys: Any) -> Any:
    """View inputs as arrays of at least two dimensions (several inputs give a tuple)."""
    return _at_least(np.atleast_2d, arys)


@register_function(np.atleast_3d, examples=((2.5,), (VECTOR,), (MATRIX, VECTOR)))
def atleast_3d(*arys: Any) -> Any:
    """View inputs as arrays of at least three dimensions (several inputs give a tuple)."""
    return _at_least(np.atleast_3d, arys)


@register_function(np.broadcast_to, examples=(((VECTOR, (2, 3)), {}), ((2.0, (3,)), {})))
def broadcast_to(array: Dual, shape: Any, subok: bool = False) -> Dual:
    """Broadcast value and tangent to ``shape`` (read-only views); the batch axis stays first."""
    value = np.broadcast_to(array.value, shape)
    batch = batch_shape(array)
    tangent = array.tangent
    if batch:
        core = np.shape(strip(array.value))
        tangent = np.reshape(tangent, batch + (1,) * (value.ndim - len(core)) + core)
    return make(value, np.broadcast_to(tangent, batch + value.shape), array.tag)


@register_function(
    np.broadcast_arrays, examples=((VECTOR, MATRIX), (MATRIX[:, :1], VECTOR, 2.0))
)
def broadcast_arrays(*args: Any, subok: bool = False) -> tuple[Any, ...]:
    """Broadcast all arguments to their common shape; plain arrays stay plain.

    An argument that already has that shape is returned itself, as NumPy does.
    """
    shape = np.broadcast_shapes(*(np.shape(strip(x)) for x in args))
    return tuple(x if np.shape(strip(x)) == shape and isinstance(strip(x), np.ndarray)
                 else np.broadcast_to(x, shape) for x in args)


@register_function(
    np.meshgrid,
    examples=((VECTOR, MATRIX[0, :2]), ((VECTOR, MATRIX[0, :2]), {"indexing": "ij"}),
              ((VECTOR, MATRIX[0, :2], VECTOR[:1]), {"sparse": True}),
              ((VECTOR, MATRIX), {"copy": False}), ((VECTOR,), {"indexing": "ij"}),
              ((VECTOR, MATRIX[0, :2], VECTOR), {"sparse": True, "indexing": "ij", "copy": False})),
)
def meshgrid(*xi: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> Any:
    """Coordinate grids, as NumPy builds them: each input reshaped along its own axis.

    Dense grids are broadcast (``copy=False``: read-only broadcast views, value and
    tangent, where NumPy's are views that warn when written); plain inputs give plain
    grids.  Inputs of any shape are flattened first, as in NumPy.
    """
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    ndim = len(xi)
    ones = (1,) * ndim
    grids = [np.reshape(x, (*ones[:i], -1, *ones[i + 1:])) for i, x in enumerate(xi)]
    if indexing == "xy" and ndim > 1:
        grids[0] = np.reshape(grids[0], (1, -1, *ones[2:]))
        grids[1] = np.reshape(grids[1], (-1, 1, *ones[2:]))
    if not sparse:
        grids = list(np.broadcast_arrays(*grids))
    if copy:
        grids = [np.copy(x) for x in grids]
    return tuple(grids)


@register_function(
    np.tile,
    examples=(((VECTOR, 2), {}), ((MATRIX, (2, 1, 2)), {}), ((CUBE, (2, 1)), {}), ((2.5, 3), {})),
)
def tile(A: Dual, reps: Any) -> Dual:  # noqa: N803 - NumPy's name
    """Repeat the whole array; the tangent is tiled alike, never along its batch axis."""
    value = np.tile(A.value, reps)
    reps = tuple(reps) if np.iterable(reps) else (reps,)
    ndim, core = max(A.ndim, len(reps)), A.shape
    batch = batch_shape(A)
    tangent = np.reshape(A.tangent, batch + (1,) * (ndim - len(core)) + core)
    reps = (1,) * (len(batch) + ndim - len(reps)) + reps
    return make(value, np.tile(tangent, reps), A.tag)


def flat_or_along(a: Dual, axis: Any) -> tuple[Any, int]:
    """``a``'s tangent and the tangent axis for a function along ``axis`` of the value.

    ``axis=None`` means the flattened array, as in NumPy: the tangent is
    flattened too (past its batch axis).
    """
    batch = batch_shape(a)
    if axis is None:
        return np.reshape(a.tangent, (*batch, -1)), len(batch)
    return a.tangent, normalize_axis(axis, a.ndim) + len(batch)


@register_function(
    np.repeat,
    examples=(((VECTOR, 2), {}), ((MATRIX, [1, 0, 2]), {"axis": -1}), ((CUBE, 2), {"axis": 0}),
              ((MATRIX, 3), {})),
)
def repeat(a: Dual, repeats: Any, axis: Any = None) -> Dual:
    """Repeat each element; ``axis=None`` repeats the flattened array."""
    value = np.repeat(a.value, repeats, axis=axis)
    tangent, tangent_axis = flat_or_along(a, axis)
    return make(value, np.repeat(tangent, repeats, axis=tangent_axis), a.tag)


@register_function(
    np.flip,
    examples=((MATRIX,), ((CUBE,), {"axis": -1}), ((CUBE,), {"axis": (0, 2)}), (VECTOR,)),
)
def flip(m: Dual, axis: Any = None) -> Dual:
    """Reverse the order of elements along axes (all of them by default)."""
    value = np.flip(m.value, axis=axis)
    return make(value, np.flip(m.tangent, axis=tangent_axes(axis, m)), m.tag)


@register_function(np.fliplr, examples=((MATRIX,), (CUBE,)))
def fliplr(m: Dual) -> Dual:
    """Reverse the order of columns (axis 1)."""
    return make(np.fliplr(m.value), np.flip(m.tangent, axis=tangent_axes(1, m)), m.tag)


@register_function(np.flipud, examples=((MATRIX,), (VECTOR,)))
def flipud(m: Dual) -> Dual:
    """Reverse the order of rows (axis 0)."""
    return make(np.flipud(m.value), np.flip(m.tangent, axis=tangent_axes(0, m)), m.tag)


@register_function(
    np.roll,
    examples=(((VECTOR, 1), {}), ((MATRIX, -1), {"axis": 1}), ((CUBE, (1, 2)), {"axis": (0, -1)}),
              ((MATRIX, 2), {})),
)
def roll(a: Dual, shift: Any, axis: Any = None) -> Dual:
    """Roll elements along axes; ``axis=None`` rolls the flattened array."""
    value = np.roll(a.value, shift, axis=axis)
    if axis is None:
        tangent, tangent_axis = flat_or_along(a, None)
        tangent = np.roll(tangent, shift, axis=tangent_axis)
        return make(value, np.reshape(tangent, np.shape(strip(a.tangent))), a.tag)
    return make(value, np.roll(a.tangent, shift, axis=tangent_axes(axis, a)), a.tag)


@register_function(
    np.rot90,
    examples=((MATRIX,), ((MATRIX, 3), {}), ((CUBE, 1), {"axes": (2, 0)}),
              ((CUBE, -1), {"axes": (-1, 1)})),
)
def rot90(m: Dual, k: int = 1, axes: Any = (0, 1)) -> Dual:
    """Rotate by 90 degrees in the plane of ``axes``."""
    value = np.rot90(m.value, k, axes=axes)
    return make(value, np.rot90(m.tangent, k, axes=tangent_axes(tuple(axes), m)), m.tag)


# --- padding -----------------------------------------------------------------------------------

_LINEAR_PAD_MODES = frozenset({"constant", "edge", "linear_ramp", "mean", "reflect", "symmetric",
                               "wrap", "empty"})


def _contains_dual(x: Any) -> bool:
    if isinstance(x, list | tuple):
        return any(_contains_dual(item) for item in x)
    return type(x) is Dual


def _pairs(width: Any, ndim: int, batch: tuple[int, ...], fill: int) -> Any:
    """NumPy's per-axis ``(before, after)`` pairs, with a pair for the batch axis.

    A 0-d array without a batch has no axes to pad: ``0``, which ``np.pad`` takes for it.
    """
    pairs = np.broadcast_to(np.asarray(width), (ndim, 2)).tolist()
    return [[fill, fill]] * len(batch) + pairs or 0


@register_function(
    np.pad,
    examples=(
        ((VECTOR, 2), {}),
        ((MATRIX, ((1, 0), (2, 1))), {"constant_values": 3}),
        ((MATRIX, 1), {"mode": "edge"}),
        ((MATRIX, (1, 2)), {"mode": "reflect"}),
        ((VECTOR, 2), {"mode": "reflect", "reflect_type": "odd"}),
        ((CUBE, 1), {"mode": "wrap"}),
        ((MATRIX, 2), {"mode": "symmetric"}),
        ((VECTOR, (2, 1)), {"mode": "linear_ramp", "end_values": (1, -2)}),
        ((MATRIX, 1), {"mode": "mean", "stat_length": 2}),
        ((VECTOR, 1), {"constant_values": ((4, 2),)}),
    ),
)
def pad(array: Dual, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Dual:
    """Pad an array; the tangent is padded by the same linear rule.

    Constant fills (``constant_values``, ``end_values``) are constants, so the
    tangent is padded with zeros there, except for a scalar dual
    ``constant_values``, whose tangent fills the padding.  ``mode='empty'``
    leaves the padding undefined; its tangent is zero.  The selecting modes
    ``'maximum'``, ``'minimum'``, ``'median'`` and callables are refused.
    """
    if not isinstance(mode, str) or mode not in _LINEAR_PAD_MODES:
        raise TypeError(
            f"dualdiff does not differentiate numpy.pad with mode={mode!r}; the linear modes "
            f"{sorted(_LINEAR_PAD_MODES)} are supported"
        )
    fill = kwargs.get("constant_values", 0)
    if type(fill) is Dual and mode == "constant":
        if fill.ndim:
            raise TypeError("numpy.pad: a dual constant_values must be a scalar")
        plain = np.pad(array, pad_width, mode="constant")
        padding = np.pad(np.zeros(array.shape, dtype=bool), pad_width, constant_values=True)
        return np.where(padding, fill, plain)
    for key, given in kwargs.items():
        if _contains_dual(given):
            raise TypeError(f"numpy.pad: a dual {key} is not supported (only a scalar "
                            "constant_values may be a Dual)")
    value = np.pad(array.value, pad_width, mode=mode, **kwargs)
    batch = batch_shape(array)
    tangent_kwargs = dict(kwargs)
    if mode in ("constant", "empty"):
        mode, tangent_kwargs = "constant", {}
    if mode == "linear_ramp":
        tangent_kwargs["end_values"] = 0
    if "stat_length" in kwargs and kwargs["stat_length"] is not None:
        tangent_kwargs["stat_length"] = _pairs(kwargs["stat_length"], array.ndim, batch, 1)
    widths = _pairs(pad_width, array.ndim, batch, 0)
    return make(value, np.pad(array.tangent, widths, mode=mode, **tangent_kwargs), array.tag)


# --- real and imaginary parts ------------------------------------------------------------------


@register_function(np.real, examples=((MATRIX,), (VECTOR,)))
def real(val: Dual) -> Dual:
    """The real part; linear over the reals, so the tangent's real part."""
    return make(np.real(val.value), np.real(val.tangent), val.tag)


@register_function(np.imag, examples=((MATRIX,), (VECTOR,)))
def imag(val: Dual) -> Dual:
    """The imaginary part; linear over the reals, so the tangent's imaginary part."""
    return make(np.imag(val.value), np.imag(val.tangent), val.tag)


# --- constants shaped like their argument --------------------------------------------------------


def _device(device: Any) -> dict[str, Any]:
    return {} if device is None else {"device": device}


def _like(a: Any, plain: np.ndarray) -> Any:
    """``plain`` as a Dual with zero tangents in ``a``'s structure (tags, batches), if ``a`` is one.

    So "allocate like x, then fill" works: Duals like ``x`` can be written
    into the result.  An integer or boolean ``dtype`` gives the plain array.
    """
    if type(a) is not Dual or plain.dtype.kind not in "fc":
        return plain
    return memory.zeros_like(a, plain)


@register_function(np.zeros_like, examples=((MATRIX,), ((VECTOR,), {"shape": (2, 2)})))
def zeros_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
               *, device: Any = None) -> Any:
    """Zeros of the value's shape and dtype: a Dual of ``a``'s tag and batch, zero tangent."""
    return _like(a, np.zeros_like(strip(a), dtype, order, subok, shape, **_device(device)))


@register_function(np.ones_like, examples=((MATRIX,), ((VECTOR,), {"dtype": np.float32})))
def ones_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
              *, device: Any = None) -> Any:
    """Ones of the value's shape and dtype: a Dual of ``a``'s tag and batch, zero tangent."""
    return _like(a, np.ones_like(strip(a), dtype, order, subok, shape, **_device(device)))


@register_function(np.empty_like, examples=(((MATRIX,), {"shape": (0, 3)}),))
def empty_like(a: Any, dtype: Any = None, order: str = "K", subok: bool = True, shape: Any = None,
               *, device: Any = None) -> Any:
    """A Dual of the value's shape, ``a``'s tag and batch; its contents are arbitrary (zeros)."""
    return _like(a, np.zeros_like(strip(a), dtype, order, subok, shape, **_device(device)))


@register_function(
    np.full_like,
    examples=(((MATRIX, 2), {}), ((VECTOR, -1), {"shape": (2, 3)}), ((CUBE, 7), {"shape": (2,)})),
)
def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None, *, device: Any = None) -> Any:
    """An array of the value's shape and dtype filled with ``fill_value``.

    A Dual of ``a``'s tag and batch when ``a`` is one (the fill is written
    into it); a fill that is a Dual of a newer derivative than ``a`` gives a
    Dual of the fill's.
    """
    plain = np.full_like(strip(a), strip(fill_value), dtype, order, subok, shape,
                         **_device(device))
    if type(fill_value) is not Dual:
        return _like(a, plain)
    float_dtype(plain.dtype, "full_like")
    if type(a) is Dual and fill_value.tag <= a.tag:
        result = memory.zeros_like(a, plain)
        result[...] = fill_value
        return result
    return astype(np.broadcast_to(fill_value, plain.shape), plain.dtype)


# --- casting -----------------------------------------------------------------------------------


def _cast(x: Any, dtype: np.dtype, copy: bool) -> Any:
    if type(x) is Dual:
        return astype(x, dtype, copy=copy)
    cast = np.array(x, dtype=dtype) if copy else np.asarray(x, dtype=dtype)
    if cast.ndim:
        return cast
    return cast.item() if dtype in (np.float64, np.complex128) else cast[()]


def astype(x: Dual, dtype: Any, /, *, copy: bool = True, device: Any = None) -> Dual:
    """Cast value and tangent to a float or complex ``dtype``; other kinds raise ``TypeError``."""
    if device not in (None, "cpu"):
        raise TypeError(f"dualdiff does not support the argument device={device!r} of numpy.astype")
    dtype = np.dtype(float_dtype(dtype, "astype"))
    return make(_cast(x.value, dtype, copy), _cast(x.tangent, dtype, copy), x.tag)


if hasattr(np, "astype"):  # NumPy >= 2.1
    register_function(
        np.astype, examples=(((MATRIX, np.float64), {}), ((VECTOR, "f8"), {"copy": False}))
    )(astype)


# --- diagonals and triangles -------------------------------------------------------------------


@register_function(np.diagonal, examples=((MATRIX,), ((MATRIX, 1), {}),
                                          ((CUBE, -1), {"axis1": 2, "axis2": 0})))
def diagonal(a: Dual, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Dual:
    """The diagonal over two axes (a read-only view, as NumPy's); appended as the last axis."""
    value = np.diagonal(a.value, offset, axis1, axis2)
    tangent = np.diagonal(a.tangent, offset, *tangent_axes((axis1, axis2), a))
    return make(value, tangent, a.tag)


@register_function(np.trace, examples=((MATRIX,), ((MATRIX, -1), {}),
                                       ((CUBE, 1), {"axis1": -1, "axis2": 1})))
def trace(a: Dual, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
          out: Any = None) -> Dual:
    """The sum along a diagonal."""
    reject("trace", out=out)
    float_dtype(dtype, "trace")
    value = np.trace(a.value, offset, axis1, axis2, dtype)
    tangent = np.trace(a.tangent, offset, *tangent_axes((axis1, axis2), a), dtype)
    return make(value, tangent, a.tag)


@register_function(np.diag, examples=((VECTOR,), ((VECTOR, 1), {}), ((VECTOR, -2), {}),
                                      (MATRIX,), ((MATRIX, -1), {})))
def diag(v: Dual, k: int = 0) -> Dual:
    """The diagonal of a matrix, or a matrix with a vector on its diagonal."""
    value = np.diag(v.value, k)
    batch = batch_shape(v)
    if v.ndim == 2:
        return make(value, np.diagonal(v.tangent, k, *tangent_axes((0, 1), v)), v.tag)
    if not batch:
        return make(value, np.diag(v.tangent, k), v.tag)
    if not v.shape[0]:  # an empty vector: nothing to gather, the matrix is all zeros
        return make(value, zero_tangent(value, batch), v.tag)
    # A batch of vectors: gather each entry's source element, then zero the off-diagonal.
    size = len(value)
    rows, cols = np.indices((size, size))
    source = np.minimum(rows, cols)
    gathered = np.take(v.tangent, np.minimum(source, v.shape[0] - 1), axis=1)
    return make(value, np.where(cols - rows == k, gathered, 0.0), v.tag)


def _triangle(keep: Any, m: Dual, k: int) -> Dual:
    value = keep(m.value, k)
    tangent = m.tangent
    batch = batch_shape(m)
    if batch and m.ndim < 2:  # NumPy makes a vector a square matrix first
        tangent = np.broadcast_to(np.reshape(tangent, (*batch, 1, -1)), batch + value.shape)
    return make(value, keep(tangent, k), m.tag)


@register_function(np.tril, examples=((MATRIX,), ((MATRIX, 1), {}), ((CUBE, -1), {}), (VECTOR,)))
def tril(m: Dual, k: int = 0) -> Dual:
    """The lower triangle (of the last two axes); the rest is zero."""
    return _triangle(np.tril, m, k)


@register_function(np.triu, examples=((MATRIX,), ((MATRIX, -1), {}), ((CUBE, 1), {}), (VECTOR,)))
def triu(m: Dual, k: int = 0) -> Dual:
    """The upper triangle (of the last two axes); the rest is zero."""
    return _triangle(np.triu, m, k)


# --- plain answers -----------------------------------------------------------------------------


@register_function(np.shape, examples=((MATRIX,),))
def shape(a: Dual) -> tuple[int, ...]:
    """The value's shape (plain)."""
    return a.shape


@register_function(np.ndim, examples=((MATRIX,),))
def ndim(a: Dual) -> int:
    """The value's number of dimensions (plain)."""
    return a.ndim
