"""Common functions composed of operations dualdiff already differentiates.

Each implementation calls NumPy functions on its (possibly dual) arguments, so
the registered implementations of those do the differentiating: batches of
tangents and nested dual numbers need no code here.  Where an element's place
in the result is computed (``insert``, ``delete``, ``choose``), NumPy itself
computes it on integer labels and the elements are gathered with ``take``.
NaN entries of the ``nan*`` functions are replaced by constants, so they
contribute nothing to a tangent.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import (
    CUBE,
    MATRIX,
    VECTOR,
    live,
    normalize_axes,
    normalize_axis,
    reject,
    split,
)
from dualdiff.functions.reductions import cast
from dualdiff.functions.shape import float_dtype

SQUARE = np.array([[1.0, -0.5, 2.0], [0.3, 1.5, -1.2], [0.8, 0.1, 0.6]])
"""A 3x3 matrix: test input."""
SAMPLES = np.array([[0.2, 1.4, -0.3, 2.2, 0.9], [1.1, -0.6, 0.4, 1.8, -1.3],
                    [0.5, 0.7, 2.1, -0.2, 0.3]])
"""Three variables observed five times, correlated but not collinear: test input."""
POSITIVE = np.array([[0.5, 2.0, 1.5], [3.0, 0.25, 1.2]])
"""Positive entries (for ``geomspace``): test input."""
_DIAGONAL_TARGET = np.zeros((3, 3))
"""Written in place by the ``fill_diagonal`` examples (idempotently)."""

_NO_VALUE = object()


def _array(x: Any) -> Any:
    """Dual numbers as they are; anything else as an array."""
    return x if type(x) is Dual else np.asarray(x)


def _plain(x: Any) -> np.ndarray:
    """The plain values under every dual layer, as an array."""
    return np.asarray(strip(x))


def _labels(shape: tuple[int, ...], start: int = 0) -> np.ndarray:
    """Integer labels ``start, start + 1, ...`` in an array of ``shape``."""
    return np.arange(start, start + int(np.prod(shape)), dtype=np.intp).reshape(shape)


# --- inserting and deleting ----------------------------------------------------------------------


@register_function(
    np.append,
    examples=(((VECTOR, MATRIX), {}), ((MATRIX, MATRIX[:1]), {"axis": 0}),
              ((VECTOR, 2.5), {})),
)
def append(arr: Any, values: Any, axis: Any = None) -> Any:
    """Values appended at the end (of the flattened arrays when ``axis`` is ``None``)."""
    arr, values = _array(arr), _array(values)
    if axis is None:
        return np.concatenate([np.ravel(arr), np.ravel(values)])
    return np.concatenate([arr, values], axis=axis)


@register_function(
    np.delete,
    examples=(((VECTOR, 1), {}), ((MATRIX, [0, 2]), {"axis": 1}),
              ((CUBE, slice(0, 3, 2)), {"axis": -1}), ((MATRIX, [True, False]), {"axis": 0}),
              ((MATRIX, 4), {})),
)
def delete(arr: Any, obj: Any, axis: Any = None) -> Any:
    """Sub-arrays removed along an axis; NumPy decides which, on integer labels."""
    if type(obj) is Dual:
        raise TypeError("numpy.delete: obj must be plain indices, not a Dual")
    arr = _array(arr)
    kept = np.delete(_labels(np.shape(arr)), obj, axis=axis)
    return np.take(np.ravel(arr), kept)


@register_function(
    np.insert,
    examples=(((VECTOR, 1, 2.5), {}), ((MATRIX, 1, VECTOR), {"axis": 0}),
              ((MATRIX, [0, 2], np.array([[0.4], [-0.9]])), {"axis": 1}),
              ((MATRIX, 3, np.array([0.1, 0.2])), {})),
)
def insert(arr: Any, obj: Any, values: Any, axis: Any = None) -> Any:
    """Values inserted before the given indices; ``arr`` and ``values`` may be dual.

    NumPy inserts integer labels of ``values`` (of the same shape, so broadcast
    alike) among the labels of ``arr``; the result gathers by those labels.
    """
    if type(obj) is Dual:
        raise TypeError("numpy.insert: obj must be plain indices, not a Dual")
    arr, values = _array(arr), _array(values)
    shape = np.shape(arr)
    count = int(np.prod(shape))
    labels = np.insert(_labels(shape), obj, _labels(np.shape(values), count), axis=axis)
    return np.take(np.concatenate([np.ravel(arr), np.ravel(values)]), labels)


# --- evenly spaced numbers -----------------------------------------------------------------------


@register_function(
    np.linspace,
    examples=(((0.5, 2.0), {"num": 5}), ((VECTOR, 2 * VECTOR + 1), {"num": 4, "axis": 1}),
              ((0.2, 1.7), {"num": 6, "endpoint": False}),
              ((-1.0, 3.0), {"num": 5, "retstep": True}), ((1.5, VECTOR), {"num": 1})),
)
def linspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, retstep: bool = False,
    dtype: Any = None, axis: int = 0, *, device: Any = None,
) -> Any:
    """Evenly spaced numbers from ``start`` to ``stop`` (both may be dual), as NumPy computes them.

    ``retstep`` returns the step too, differentiable like the samples.
    """
    if device not in (None, "cpu"):
        raise TypeError(f"dualdiff does not support the argument device={device!r} of "
                        "numpy.linspace")
    float_dtype(dtype, "linspace")
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    start, stop = _array(start), _array(stop)
    div = num - 1 if endpoint else num
    kind = np.result_type(strip(start), strip(stop), float(num))
    delta = stop - start
    ramp = np.arange(0, num, dtype=kind).reshape((-1,) + (1,) * np.ndim(delta))
    if div > 0:
        step = delta / div
        samples = ramp / div * delta if np.any(_plain(step) == 0) else ramp * step
    else:
        step = delta * np.nan
        samples = ramp * delta
    samples = samples + start
    if endpoint and num > 1:
        last = np.reshape(np.broadcast_to(stop, np.shape(samples)[1:]),
                          (1, *np.shape(samples)[1:]))
        samples = np.concatenate([samples[:-1], last], axis=0)
    if axis != 0:
        samples = np.moveaxis(samples, 0, axis)
    if dtype is not None:
        samples = np.astype(samples, dtype)
    return (samples, step) if retstep else samples


@register_function(
    np.logspace,
    examples=(((0.5, 2.0), {"num": 4}), ((VECTOR, VECTOR + 1), {"num": 3, "axis": -1}),
              ((0.1, 1.3), {"num": 5, "base": 2.5, "endpoint": False}),
              ((-0.5, 0.8), {"num": 3, "base": np.array([2.0, 3.5])})),
)
def logspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, base: Any = 10.0,
    dtype: Any = None, axis: int = 0,
) -> Any:
    """``base ** linspace(start, stop)``; start, stop and base may all be dual."""
    float_dtype(dtype, "logspace")
    if not isinstance(base, float | int) and np.ndim(base):  # an array base sets the axes too
        start, stop, base = _array(start), _array(stop), _array(base)
        ndim = np.broadcast(_plain(start), _plain(stop), _plain(base)).ndim
        start, stop, base = (
            np.reshape(x, (1,) * (ndim - np.ndim(x)) + np.shape(x)) for x in (start, stop, base)
        )
        base = np.expand_dims(base, axis=axis)
    result = base ** np.linspace(start, stop, num=num, endpoint=endpoint, axis=axis)
    return result if dtype is None else np.astype(result, dtype)


@register_function(
    np.geomspace,
    examples=(((0.5, 8.0), {"num": 5}), ((-2.0, -0.1), {"num": 4, "endpoint": False}),
              ((POSITIVE[0], POSITIVE[1]), {"num": 3, "axis": 1})),
)
def geomspace(
    start: Any, stop: Any, num: int = 50, endpoint: bool = True, dtype: Any = None,
    axis: int = 0,
) -> Any:
    """Numbers evenly spaced on a log scale, ends exact, as NumPy computes them (real only)."""
    float_dtype(dtype, "geomspace")
    start, stop = _array(start) * 1.0, _array(stop) * 1.0
    plain_start, plain_stop = _plain(start), _plain(stop)
    if np.iscomplexobj(plain_start) or np.iscomplexobj(plain_stop):
        raise TypeError("dualdiff differentiates numpy.geomspace of real numbers only")
    if np.any(plain_start == 0) or np.any(plain_stop == 0):
        raise ValueError("Geometric sequence cannot include zero")
    kind = np.result_type(plain_start, plain_stop, float(num), np.zeros((), dtype))
    if _plain(start).dtype != kind:
        start, stop = np.astype(start, kind), np.astype(stop, kind)
    elif _plain(stop).dtype != kind:
        stop = np.astype(stop, kind)
    sign = np.sign(plain_start).astype(kind)
    start, stop = start / sign, stop / sign
    result = np.logspace(np.log10(start), np.log10(stop), num=num, endpoint=endpoint,
                         base=10.0, dtype=kind)
    shape = np.shape(result)[1:]

    def edge(x: Any) -> Any:
        return np.reshape(np.broadcast_to(x, shape), (1, *shape))

    if num > 0:
        parts = [edge(start), result[1:]]
        if num > 1 and endpoint:
            parts = [edge(start), result[1:-1], edge(stop)]
        result = np.concatenate(parts, axis=0)
    result = result * sign
    if axis != 0:
        result = np.moveaxis(result, 0, axis)
    return result if dtype is None else np.astype(result, dtype)


# --- covariance and correlation ------------------------------------------------------------------


def _observations(x: Any, rowvar: bool, kind: Any) -> Any:
    """``x`` as a 2-D array of variables in rows, of dtype ``kind``."""
    x = _array(x)
    if np.ndim(x) > 2:
        raise ValueError("m has more than 2 dimensions")
    x = np.atleast_2d(x)
    if _plain(x).dtype != kind:
        x = np.astype(x, kind)
    if not rowvar and np.shape(x)[0] != 1:
        x = np.transpose(x)
    return x


@register_function(
    np.cov,
    examples=((SAMPLES,), ((SAMPLES.T,), {"rowvar": False}), ((SAMPLES[0], SAMPLES[1]), {}),
              ((SAMPLES,), {"bias": True}), ((SAMPLES,), {"ddof": 2}), ((VECTOR,), {})),
)
def cov(
    m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
    fweights: Any = None, aweights: Any = None, *, dtype: Any = None,
) -> Any:
    """Covariance matrix: centred products averaged over ``n - ddof`` observations."""
    reject("cov", fweights=fweights, aweights=aweights)
    float_dtype(dtype, "cov")
    kind = np.result_type(strip(m), np.float64) if dtype is None else np.dtype(dtype)
    if y is not None:
        kind = np.result_type(kind, strip(y)) if dtype is None else kind
    x = _observations(m, rowvar, kind)
    if y is not None:
        x = np.concatenate([x, _observations(y, rowvar, kind)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    centered = x - np.mean(x, axis=1)[:, None]
    factor = np.shape(x)[1] - ddof
    if factor <= 0:  # as NumPy: warn, and divide by 0 (an inf or nan covariance)
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=4)
        factor = 0
    other = np.transpose(centered)
    if np.iscomplexobj(_plain(other)):
        other = np.conjugate(other)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.true_divide(1, factor).astype(kind)  # NumPy scales in place: kind stays
    return np.squeeze(np.dot(centered, other) * scale)


@register_function(
    np.corrcoef,
    examples=((SAMPLES,), ((SAMPLES.T,), {"rowvar": False}), ((SAMPLES[0], SAMPLES[2]), {})),
)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Correlation coefficients: the covariance over the products of standard deviations."""
    float_dtype(dtype, "corrcoef")
    c = np.cov(x, y, rowvar, dtype=dtype)
    if np.ndim(c) == 0:
        return c / c
    deviation = np.sqrt(np.real(np.diag(c)))
    c = c / deviation[:, None]
    c = c / deviation[None, :]
    if np.iscomplexobj(_plain(c)):
        return np.clip(np.real(c), -1, 1) + 1j * np.imag(c)
    return np.clip(c, -1, 1)


# --- NaN-ignoring functions ----------------------------------------------------------------------

# Free of NaN: the reference checker's step through a NaN checks nothing.  The NaN handling is
# tested in tests/test_compositions.py.
_NAN_EXAMPLES = (
    (MATRIX,), ((SAMPLES,), {"axis": 1}), ((CUBE,), {"axis": (0, -1), "keepdims": True}),
)


def _nan_to(a: Any, fill: float) -> Any:
    """``a`` with its NaN entries replaced by the constant ``fill`` (zero tangent there)."""
    plain = _plain(a)
    return np.where(np.isnan(plain), np.asarray(fill, plain.dtype), a)


@register_function(
    np.nan_to_num,
    examples=((MATRIX,), ((VECTOR,), {"nan": 2, "posinf": 9}), ((2.5,), {})),
)
def nan_to_num(
    x: Any, copy: bool = True, nan: float = 0.0, posinf: Any = None, neginf: Any = None
) -> Any:
    """NaN and infinities replaced (by constants: zero tangent there; in place if not ``copy``)."""
    plain = _plain(x)
    if np.iscomplexobj(plain):
        parts = (nan_to_num(np.real(x), True, nan, posinf, neginf),
                 nan_to_num(np.imag(x), True, nan, posinf, neginf))
        result = parts[0] + 1j * parts[1]
    else:
        largest = np.finfo(plain.dtype).max if plain.dtype.kind == "f" else None
        result = x
        for mask, fill in ((np.isnan(plain), nan),
                           (np.isposinf(plain), largest if posinf is None else posinf),
                           (np.isneginf(plain), -largest if neginf is None else neginf)):
            if np.any(mask):
                constant = fill if type(fill) is Dual else np.asarray(fill, plain.dtype)
                result = np.where(mask, constant, result)
    if copy or np.ndim(plain) == 0 or type(x) is not Dual:
        return np.copy(result) if result is x else result
    x[...] = result
    return x


def _nan_moments(
    name: str, a: Any, axis: Any, ddof: Any, keepdims: bool, correction: Any
) -> Any:
    """Variance of the non-NaN entries over ``axis``, divided by ``count - ddof``."""
    if correction is not _NO_VALUE:
        if ddof != 0:
            raise ValueError(f"numpy.{name}: ddof and correction can't be provided "
                             "simultaneously.")
        ddof = correction
    a = _array(a)
    plain = _plain(a)
    if np.iscomplexobj(plain):
        raise TypeError(f"dualdiff does not differentiate numpy.{name} of complex values")
    axes = normalize_axes(axis, plain.ndim)
    present = ~np.isnan(plain)
    count = np.sum(present, axis=axes, keepdims=True)
    filled = _nan_to(a, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        average = np.sum(filled, axis=axes, keepdims=True) / count.astype(plain.dtype)
        centered = np.where(present, filled - average, np.zeros((), plain.dtype))
        total = np.sum(centered * centered, axis=axes, keepdims=keepdims)
        dof = count - ddof
        if not keepdims:
            dof = np.squeeze(dof, axis=axes)
        bad = dof <= 0
        result = total / np.where(bad, 1, dof).astype(plain.dtype)
    if np.any(bad):  # too few entries: NaN, as NumPy, with a zero tangent
        result = np.where(bad, np.asarray(np.nan, plain.dtype), result)
    return result


@register_function(
    np.nanvar,
    examples=(*_NAN_EXAMPLES, ((SAMPLES,), {"axis": 0, "ddof": 1}),
              ((SAMPLES,), {"correction": 1})),
)
def nanvar(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
    keepdims: bool = False, *, where: Any = None, mean: Any = None,
    correction: Any = _NO_VALUE,
) -> Any:
    """Variance of the non-NaN entries (NaN where there are too few, as NumPy)."""
    reject("nanvar", out=out, where=where, mean=mean)
    a = cast(_array(a), dtype, "nanvar")
    return _nan_moments("nanvar", a, axis, ddof, keepdims, correction)


@register_function(np.nanstd, examples=(*_NAN_EXAMPLES, ((SAMPLES,), {"axis": -1, "ddof": 1})))
def nanstd(
    a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
    keepdims: bool = False, *, where: Any = None, mean: Any = None,
    correction: Any = _NO_VALUE,
) -> Any:
    """Standard deviation of the non-NaN entries: the square root of :func:`nanvar`."""
    reject("nanstd", out=out, where=where, mean=mean)
    a = cast(_array(a), dtype, "nanstd")
    variance = _nan_moments("nanstd", a, axis, ddof, keepdims, correction)
    missing = np.isnan(_plain(variance))
    if not np.any(missing):
        return np.sqrt(variance)
    with np.errstate(invalid="ignore"):  # the NaN of too few entries keeps a zero tangent
        root = np.sqrt(variance)
        return np.where(missing, np.asarray(np.nan, _plain(root).dtype), root)


def _nan_order_statistic(
    name: str, statistic: Callable[[Any], Any], a: Any, q_shape: tuple[int, ...], axis: Any,
    keepdims: bool,
) -> Any:
    """``statistic`` of the non-NaN entries of each slice over ``axis``, as NumPy lays it out.

    Each slice is reduced on its own (as NumPy does, slice by slice); an all-NaN slice
    gives NaN with a zero tangent.
    """
    a = _array(a)
    if np.size(a) == 0:  # NumPy answers with nanmean for empty input, whatever q is
        return np.nanmean(a, axis, keepdims=keepdims)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    moved = np.moveaxis(a, axes, tuple(range(len(kept), len(shape))))
    kept_shape = tuple(shape[i] for i in kept)
    count = int(np.prod([shape[i] for i in axes]))
    rows = np.reshape(moved, (*kept_shape, count))  # no -1: it is ambiguous for 0-size arrays
    present = ~np.isnan(_plain(rows))
    results = []
    for index in np.ndindex(*kept_shape):
        row, mask = rows[index], present[index]
        if np.any(mask):
            results.append(statistic(row[mask]))
        else:  # NaN with a zero tangent (np.sum(row) only carries the dual type)
            nan = np.asarray(np.nan, _plain(row).dtype)
            results.append(np.where(np.ones(q_shape, bool), nan, np.sum(row)))
    result = np.reshape(np.stack(results, axis=-1), (*q_shape, *kept_shape))
    if keepdims:
        full = tuple(1 if i in axes else n for i, n in enumerate(shape))
        result = np.reshape(result, q_shape + full)
    return result


def _linear_only(name: str, method: str, **unsupported: Any) -> None:
    reject(name, **unsupported)
    if method != "linear":
        raise TypeError(f"dualdiff differentiates numpy.{name} with method='linear' only, not "
                        f"method={method!r}")


_NAN_ORDER_EXAMPLES = (
    (VECTOR,), ((SAMPLES,), {"axis": 1}), ((CUBE,), {"axis": (0, 2), "keepdims": True}),
    ((MATRIX,), {"axis": 0}),
)


@register_function(np.nanmedian, examples=_NAN_ORDER_EXAMPLES)
def nanmedian(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    keepdims: bool = False,
) -> Any:
    """Median of the non-NaN entries."""
    reject("nanmedian", out=out)
    return _nan_order_statistic("nanmedian", np.median, a, (), axis, keepdims)


@register_function(
    np.nanquantile,
    examples=(((SAMPLES, 0.3), {}), ((SAMPLES, np.array([0.1, 0.55])), {"axis": 1}),
              ((CUBE, 0.35), {"axis": (0, -1), "keepdims": True})),
)
def nanquantile(
    a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """Quantiles of the non-NaN entries (``method='linear'`` only); ``q`` may be dual."""
    _linear_only("nanquantile", method, out=out, weights=weights, interpolation=interpolation)
    q = _array(q) if isinstance(q, list | tuple) else q
    return _nan_order_statistic(
        "nanquantile", lambda row: np.quantile(row, q), a, np.shape(q), axis, keepdims
    )


@register_function(
    np.nanpercentile,
    examples=(((SAMPLES, 40.0), {}), ((MATRIX, np.array([20.0, 90.0])), {"axis": -1}),
              ((CUBE, 45.0), {"axis": (0, 1), "keepdims": True})),
)
def nanpercentile(
    a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """Percentiles of the non-NaN entries: :func:`nanquantile` of ``q / 100``."""
    _linear_only("nanpercentile", method, out=out, weights=weights, interpolation=interpolation)
    q = _array(q) if isinstance(q, list | tuple) else q
    return _nan_order_statistic(
        "nanpercentile", lambda row: np.percentile(row, q), a, np.shape(q), axis, keepdims
    )


@register_function(np.nancumsum, examples=((MATRIX,), ((MATRIX,), {"axis": 0}),
                                           ((CUBE,), {"axis": -1})))
def nancumsum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative sum treating NaN as zero."""
    reject("nancumsum", out=out)
    return np.cumsum(_nan_to(cast(_array(a), dtype, "nancumsum"), 0.0), axis=axis)


@register_function(np.nancumprod, examples=((MATRIX,), ((MATRIX,), {"axis": 1}),
                                            ((CUBE,), {"axis": 0})))
def nancumprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
    """Cumulative product treating NaN as one."""
    reject("nancumprod", out=out)
    return np.cumprod(_nan_to(cast(_array(a), dtype, "nancumprod"), 1.0), axis=axis)


# --- array-API cumulative functions --------------------------------------------------------------


def _cumulative(
    name: str, scan: Callable[..., Any], identity: float, x: Any, axis: Any, dtype: Any,
    out: Any, include_initial: bool,
) -> Any:
    reject(name, out=out)
    float_dtype(dtype, name)
    x = _array(x)
    ndim = np.ndim(x)
    if axis is None:
        if ndim > 1:
            raise ValueError(f"numpy.{name}: axis must be specified for arrays of more than "
                             "one dimension")
        axis = 0
    if ndim == 0:
        x, ndim = np.reshape(x, (1,)), 1
    axis = normalize_axis(axis, ndim)
    if dtype is not None:
        x = np.astype(x, dtype)
    result = scan(x, axis=axis)
    if not include_initial:
        return result
    shape = list(np.shape(result))
    shape[axis] = 1
    first = np.full(shape, identity, dtype=_plain(result).dtype)
    return np.concatenate([first, result], axis=axis)


@register_function(
    np.cumulative_sum,
    examples=((VECTOR,), ((MATRIX,), {"axis": 1, "include_initial": True}),
              ((CUBE,), {"axis": 0})),
)
def cumulative_sum(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
    include_initial: bool = False,
) -> Any:
    """Cumulative sum (``include_initial``: starting with 0)."""
    return _cumulative("cumulative_sum", np.cumsum, 0.0, x, axis, dtype, out, include_initial)


@register_function(
    np.cumulative_prod,
    examples=((VECTOR,), ((MATRIX,), {"axis": 0, "include_initial": True}),
              ((CUBE,), {"axis": -1})),
)
def cumulative_prod(
    x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
    include_initial: bool = False,
) -> Any:
    """Cumulative product (``include_initial``: starting with 1)."""
    return _cumulative("cumulative_prod", np.cumprod, 1.0, x, axis, dtype, out, include_initial)


# --- diagonals and differences -------------------------------------------------------------------


@register_function(np.diagflat, examples=((VECTOR,), ((MATRIX, 1), {}), ((MATRIX,), {"k": -2})))
def diagflat(v: Any, k: int = 0) -> Any:
    """A matrix with the flattened input on its ``k``-th diagonal."""
    return np.diag(np.ravel(_array(v)), k)


@register_function(
    np.ediff1d,
    examples=((VECTOR,), ((MATRIX,), {"to_end": 2.5}),
              ((MATRIX,), {"to_begin": np.array([0.1, -0.3]), "to_end": VECTOR})),
)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """Differences of the flattened array, with ``to_begin`` and ``to_end`` (may be dual)."""
    flat = np.ravel(_array(ary))
    parts = [flat[1:] - flat[:-1]]
    if to_begin is not None:
        parts.insert(0, np.ravel(_array(to_begin)))
    if to_end is not None:
        parts.append(np.ravel(_array(to_end)))
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


@register_function(
    np.fill_diagonal,
    examples=(((_DIAGONAL_TARGET, 2.5), {}), ((_DIAGONAL_TARGET, VECTOR), {})),
)
def fill_diagonal(a: Dual, val: Any, wrap: bool = False) -> None:
    """Write ``val`` (cycled, may be dual) on the main diagonal of the dual ``a``, in place."""
    shape = a.shape
    if len(shape) < 2:
        raise ValueError("array must be at least 2-d")
    if len(shape) == 2:
        step = shape[1] + 1
        end = None if wrap else shape[1] * shape[1]
    else:
        if len(set(shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        step = 1 + int(np.sum(np.cumprod(shape[:-1])))
        end = None
    flat = np.arange(a.size)[:end:step]
    values = np.ravel(_array(val))
    if np.size(strip(values)) != flat.size:
        values = np.take(values, np.arange(flat.size) % np.size(strip(values)))
    a[np.unravel_index(flat, shape)] = values


# --- choosing and applying -----------------------------------------------------------------------


@register_function(
    np.choose,
    examples=(((np.array([0, 2, 1]), [VECTOR, 2 * VECTOR, VECTOR**2]), {}),
              ((np.array([[1], [0]]), [MATRIX, VECTOR]), {}),
              ((np.array([0, 3, 1]), [VECTOR, -VECTOR]), {"mode": "wrap"})),
)
def choose(a: Any, choices: Any, out: Any = None, mode: str = "raise") -> Any:
    """Each element from the choice its index names; NumPy applies ``mode`` to the indices."""
    reject("choose", out=out)
    if type(a) is Dual:
        raise TypeError("numpy.choose: the index array must be plain, not a Dual")
    choices = [_array(c) for c in choices]
    index = np.choose(a, np.arange(len(choices)), mode=mode)
    shape = np.broadcast_shapes(np.shape(index), *(np.shape(c) for c in choices))
    stacked = np.stack([np.broadcast_to(c, shape) for c in choices], axis=0)
    index = np.broadcast_to(index, shape)[None]
    return np.take_along_axis(stacked, index, axis=0)[0]


def _norm(x: Any) -> Any:
    return np.sqrt(np.sum(x * x))


@register_function(
    np.apply_along_axis,
    examples=(((_norm, 0, MATRIX), {}), ((np.cumsum, -1, CUBE), {}),
              ((np.outer, 1, MATRIX, np.arange(3)), {})),
)
def apply_along_axis(func1d: Callable[..., Any], axis: int, arr: Any, *args: Any,
                     **kwargs: Any) -> Any:
    """``func1d`` called on each 1-D slice along ``axis`` (with duals), results stacked."""
    arr = _array(arr)
    shape = np.shape(arr)
    axis = normalize_axis(axis, len(shape))
    moved = np.moveaxis(arr, axis, -1)
    outer = shape[:axis] + shape[axis + 1:]
    if 0 in outer:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    results = [_array(func1d(moved[index], *args, **kwargs)) for index in np.ndindex(*outer)]
    inner = np.shape(results[0])
    stacked = np.reshape(np.stack(results), outer + inner)
    result_axes = tuple(range(len(outer), len(outer) + len(inner)))
    return np.moveaxis(stacked, result_axes, tuple(range(axis, axis + len(inner))))


@register_function(
    np.apply_over_axes,
    examples=(((np.sum, CUBE, [0, 2]), {}), ((np.mean, MATRIX, 1), {}),
              ((np.cumsum, CUBE, (-1,)), {})),
)
def apply_over_axes(func: Callable[..., Any], a: Any, axes: Any) -> Any:
    """``func(a, axis)`` repeatedly over ``axes``, keeping the dimensions."""
    value = _array(a)
    ndim = np.ndim(value)
    for axis in np.atleast_1d(axes):
        result = func(value, normalize_axis(axis, ndim))
        if np.ndim(result) != ndim:
            result = np.expand_dims(result, int(axis) % ndim)
            if np.ndim(result) != ndim:
                raise ValueError("function is not returning an array of the correct shape")
        value = result
    return value


# --- special function ----------------------------------------------------------------------------


@register_function(np.i0, examples=((VECTOR,), (MATRIX,), ((1.5,), {})))
def i0(x: Any) -> Any:
    """Modified Bessel function of order 0; slope ``scipy.special.i1`` (needs SciPy)."""
    try:
        from scipy import special  # noqa: PLC0415 - SciPy is optional
    except ImportError:  # pragma: no cover - SciPy is installed in the test environment
        raise TypeError("dualdiff differentiates numpy.i0 with SciPy's i1; install scipy") from None
    if type(x) is not Dual:
        return np.i0(x)
    return make(np.i0(x.value), special.i1(x.value) * x.tangent, x.tag)


# Taylor coefficients of g(y) / y, g(y) = d/dy (sin(y) / y): (-1)**k 2k / (2k + 1)!, k = 1..9.
# Below |y| = 1 the series is exact to rounding (the next term is under 1e-18); above it the
# quotient (y cos y - sin y) / y**2 has no cancellation.
_SINC_SLOPE_SERIES = tuple((-1) ** k * 2 * k / math.factorial(2 * k + 1) for k in range(1, 10))
_SINC_POINTS = np.array([0.0, 1e-4, -2e-5, 0.3, -0.31, 0.33, 1.0, -2.5])
"""Zero, points near it, both sides of the switch at ``pi * x == 1``, and integers."""


def _sinc_slope(x: Any) -> Any:
    """``d sinc / dx``, written with dual-aware operations (so it nests): 0 at ``x == 0``."""
    y = np.pi * x
    small = np.abs(strip(y)) < 1
    u = y * y
    series: Any = _SINC_SLOPE_SERIES[-1]
    for coefficient in _SINC_SLOPE_SERIES[-2::-1]:
        series = series * u + coefficient
    safe = np.where(small, 1.0, y)  # no division by zero in the branch not taken
    quotient = (safe * np.cos(safe) - np.sin(safe)) / (safe * safe)
    return np.pi * np.where(small, y * series, quotient)


@register_function(np.sinc, examples=((_SINC_POINTS,), (MATRIX,), ((0.0,), {}), ((0.4,), {})))
def sinc(x: Any) -> Any:
    """``sin(pi x) / (pi x)``: NumPy's value (1 at 0), and a slope exact at and near 0.

    The slope ``(cos(pi x) - sinc(x)) / x`` cancels near 0, so there a Taylor series
    gives it (0 at 0; the second derivative there is ``-pi**2 / 3``).
    """
    if type(x) is not Dual:
        return np.sinc(x)
    value = np.sinc(x.value)
    slope = _sinc_slope(x.value)
    tangent = slope * x.tangent
    if type(x.value) is float:  # a Python float stays one, as elsewhere
        value, tangent = float(value), (tangent.item() if np.ndim(tangent) == 0 else tangent)
    return make(value, tangent, x.tag)


@register_function(
    np.unwrap,
    examples=((np.array([0.1, 3.5, 6.6, 0.2, -3.0, 2.9]),), ((CUBE * 4,), {"axis": 1}),
              ((np.array([0.0, 0.7, 1.4, 0.3]),), {"period": 1}),
              ((np.array([0.0, 2.0, 4.5, 1.0]),), {"discont": 4.0})),
)
def unwrap(p: Any, discont: Any = None, axis: int = -1, *, period: Any = 2 * math.pi) -> Any:
    """Unwrap by adding multiples of ``period``: NumPy's value, slope 1 in ``p``.

    The multiples ``k`` added are piecewise constant in ``p`` (at a jump, the side NumPy's
    value takes), so the tangent is ``dp + k * dperiod``; ``discont`` only chooses, so its
    slope is 0.
    """
    if discont is not None:
        discont = strip(discont)
    if type(p) is not Dual and type(period) is not Dual:
        return np.unwrap(p, discont, axis, period=period)
    p = _array(p)
    tag, batch = live(p, period)
    p_value, period_value = split(p, tag, batch)[0], split(period, tag, batch)[0]
    value = np.unwrap(p_value, discont, axis, period=period_value)
    plain = _plain(value)
    with np.errstate(divide="ignore", invalid="ignore"):
        multiples = np.round((plain - _plain(p_value)) / _plain(period_value))
    moved = p + multiples.astype(plain.dtype) * period
    return make(value, split(moved, tag, batch)[1], tag)


# --- array-API names for the last two axes -------------------------------------------------------


@register_function(np.matrix_transpose, examples=((MATRIX,), (CUBE,)))
def matrix_transpose(x: Any, /) -> Any:
    """Transpose of the last two axes."""
    return np.linalg.matrix_transpose(x)


@register_function(np.linalg.diagonal, examples=((SQUARE,), ((CUBE,), {"offset": 1})))
def linalg_diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """Diagonals of the matrices in the last two axes."""
    return np.diagonal(x, offset, axis1=-2, axis2=-1)


@register_function(np.linalg.trace, examples=((SQUARE,), ((CUBE,), {"offset": -1})))
def linalg_trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """Traces of the matrices in the last two axes."""
    float_dtype(dtype, "linalg.trace")
    return np.trace(x, offset, axis1=-2, axis2=-1, dtype=dtype)
