"""Reductions and statistics: sums, products, extremes, moments, quantiles, differences.

Linear reductions (``sum``, ``cumsum``, ``gradient``) apply themselves to the
tangent, with axes shifted past a batch axis.  ``prod``, ``cumprod`` and the
extremes build their tangents from the values; the rest are compositions of
these, so nested dual numbers and batches need no code of their own.
Conventions at ties and zeros are in ``docs/conventions.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dispatch import batch_shape, make, register_function, zero_tangent
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import (
    CUBE,
    MATRIX,
    VECTOR,
    normalize_axes,
    normalize_axis,
    reject,
)
from dualdiff.functions.shape import float_dtype

SCATTERED = (np.arange(24.0) * 7 % 24).reshape(2, 3, 4) / 5 - 2
"""Distinct values 0.2 apart in no particular order (one of them 0): test input."""
ZEROS = np.array([[0.5, 0.0, -1.5, 2.0], [0.0, 1.25, 0.0, -0.8], [1.1, -0.7, 0.9, 1.3]])
"""Rows with one, two and no zeros: test input for products."""
WEIGHTS = np.array([[0.2, 1.5, 0.7, 1.1], [0.9, 0.4, 1.3, 0.6]])
"""Positive weights of shape ``(2, 4)``: test input for ``average``."""

_NO_VALUE = object()


def _shifted(axes: tuple[int, ...], a: Dual) -> tuple[int, ...]:
    """``axes`` of ``a``'s value as axes of its tangent."""
    shift = len(batch_shape(a))
    return tuple(i + shift for i in axes)


def _plain(x: Any) -> np.ndarray:
    """The plain values under every dual layer, as an array (a Dask array stays one: lazy)."""
    plain = strip(x)
    return plain if memory.is_lazy(plain) else np.asarray(plain)


def _count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    return int(np.prod([shape[i] for i in axes]))


def cast(a: Any, dtype: Any, name: str) -> Any:
    """``a`` (value and tangent) cast to a float or complex ``dtype``; integer kinds raise.

    A reduction with ``dtype=`` computes in that dtype, as NumPy casts its
    input first; an integer or boolean dtype would truncate the tangent, so
    it raises ``TypeError`` naming ``numpy.<name>`` and the remedy.
    """
    float_dtype(dtype, name)
    return a if dtype is None else np.astype(a, dtype)


def _along(axis: int, index: Any) -> tuple[Any, ...]:
    """An index applying ``index`` to ``axis`` only."""
    return (slice(None),) * axis + (index,)


def _array(x: Any) -> Any:
    """Dual numbers as they are; anything else as an array (NumPy's ``asanyarray``)."""
    return x if type(x) is Dual else np.asarray(x)


# --- sums and means --------------------------------------------------------------------------


@register_function(
    np.sum,
    examples=(
        (MATRIX,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"axis": (0, 2), "keepdims": True}),
        ((MATRIX,), {"axis": -1, "where": MATRIX > 0}), ((CUBE,), {"axis": 1, "initial": 2}),
    ),
)
def sum_(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Sum over axes; the tangent is summed over the same axes (``initial`` may be dual)."""
    if (axis is None and dtype is None and out is None and initial is None and where is None
            and type(a) is Dual and type(a.value) is np.ndarray
            and type(a.tangent) is np.ndarray):  # the common case: NumPy's own reductions
        value, tangent = a.value, a.tangent
        axes = tuple(range(value.ndim))
        shifted = axes if tangent.ndim == value.ndim else tuple(range(1, tangent.ndim))
        return make(np.add.reduce(value, axis=axes, keepdims=keepdims),
                    np.add.reduce(tangent, axis=shifted, keepdims=keepdims), a.tag)
    reject("sum", out=out)
    a = cast(a, dtype, "sum")
    if type(initial) is Dual:
        return sum_(a, axis, keepdims=keepdims, where=where) + initial
    axes = normalize_axes(axis, a.ndim)
    options: dict[str, Any] = {"keepdims": keepdims}
    if where is not None:
        options["where"] = strip(where)
    start = {} if initial is None else {"initial": initial}
    value = np.sum(a.value, axis=axes, **options, **start)
    return make(value, np.sum(a.tangent, axis=_shifted(axes, a), **options), a.tag)


@register_function(
    np.mean,
    examples=(
        (MATRIX,), ((MATRIX,), {"axis": 1}), ((CUBE,), {"axis": (1, 2)}),
        ((SCATTERED,), {"axis": -1, "keepdims": True, "where": SCATTERED < 1}),
    ),
)
def mean(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    where: Any = None,
) -> Dual:
    """Mean over axes: the sum divided by the number of elements summed."""
    reject("mean", out=out)
    a = cast(a, dtype, "mean")
    axes = normalize_axes(axis, a.ndim)
    total = sum_(a, axis=axes, keepdims=keepdims, where=where)
    if where is None:
        return total / _count(a.shape, axes)
    count = np.sum(np.broadcast_to(strip(where), a.shape), axis=axes, keepdims=keepdims)
    return total / count.astype(_plain(total).dtype)


@register_function(
    np.average,
    examples=(
        (MATRIX,), ((MATRIX,), {"axis": 1, "weights": np.array([0.2, 1.5, 0.7])}),
        ((CUBE,), {"axis": (0, 2), "weights": WEIGHTS}),
        ((CUBE,), {"axis": (2, 0), "weights": WEIGHTS.T, "keepdims": True}),
        ((MATRIX,), {"weights": MATRIX**2 + 0.5}), ((SCATTERED,), {"axis": -1}),
    ),
)
def average(
    a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
    keepdims: bool = False,
) -> Any:
    """Weighted mean; the weights may be dual numbers too (``returned`` gives their sum)."""
    a = _array(a)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    if weights is None:
        avg = np.mean(a, axis=axes, keepdims=keepdims)
        scale = _count(shape, axes)
    else:
        weights = _array(weights)
        if np.shape(weights) != shape:
            weights = _weights_along(weights, shape, axis, axes)
        scale = np.sum(weights, axis=axes, keepdims=keepdims)
        if np.any(_plain(scale) == 0):
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        avg = np.sum(a * weights, axis=axes, keepdims=keepdims) / scale
    if not returned:
        return avg
    if type(scale) is not Dual:
        return avg, np.full(np.shape(avg), scale, dtype=_plain(avg).dtype)
    return avg, np.copy(np.broadcast_to(scale, np.shape(avg)))


def _weights_along(
    weights: Any, shape: tuple[int, ...], axis: Any, axes: tuple[int, ...]
) -> Any:
    """Weights given along ``axis`` only, reshaped to broadcast against the data."""
    if axis is None:
        raise TypeError("Axis must be specified when shapes of a and weights differ.")
    if np.shape(weights) != tuple(shape[i] for i in axes):
        raise ValueError(
            "Shape of weights must be consistent with shape of a along specified axis."
        )
    if len(axes) > 1:
        weights = np.transpose(weights, tuple(np.argsort(axes)))
    return np.reshape(weights, tuple(n if i in axes else 1 for i, n in enumerate(shape)))


@register_function(
    np.cumsum, examples=((MATRIX,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"axis": -1}))
)
def cumsum(a: Dual, axis: Any = None, dtype: Any = None, out: Any = None) -> Dual:
    """Cumulative sum; the tangent is summed cumulatively too."""
    reject("cumsum", out=out)
    a = cast(a, dtype, "cumsum")
    if axis is None:
        a, axis = np.ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    value = np.cumsum(a.value, axis=axis)
    return make(value, np.cumsum(a.tangent, axis=_shifted((axis,), a)[0]), a.tag)


# --- products: exact at zeros ------------------------------------------------------------------


@register_function(
    np.prod,
    examples=(
        (VECTOR,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"axis": (0, 2), "keepdims": True}),
        ((ZEROS,), {"axis": -1}), ((ZEROS,), {}),
    ),
)
def prod(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Product over axes; each tangent is weighted by the product of the *other* factors.

    The products of the others come from cumulative products from both sides, with no
    division, so zeros in the input are exact (to every order of nesting).
    """
    reject("prod", out=out, initial=initial, where=where)
    a = cast(a, dtype, "prod")
    axes = normalize_axes(axis, a.ndim)
    value = np.prod(a.value, axis=axes, keepdims=keepdims)
    others = _products_of_others(a.value, axes)
    tangent = np.sum(others * a.tangent, axis=_shifted(axes, a), keepdims=keepdims)
    return make(value, tangent, a.tag)


def _products_of_others(x: Any, axes: tuple[int, ...]) -> Any:
    """For each element, the product of the others in its slice over ``axes`` (no division)."""
    shape = np.shape(x)
    plain = _plain(x)
    if not axes:
        return np.ones(shape, dtype=plain.dtype)
    if _count(shape, axes) == 0:
        return np.zeros(shape, dtype=plain.dtype)
    kept = len(shape) - len(axes)
    last = tuple(range(kept, len(shape)))
    moved = np.moveaxis(x, axes, last)
    flat = np.reshape(moved, (*np.shape(moved)[:kept], _count(shape, axes)))  # no -1: 0-size
    ones = np.ones((*np.shape(flat)[:-1], 1), dtype=plain.dtype)
    before = np.concatenate([ones, np.cumprod(flat[..., :-1], axis=-1)], axis=-1)
    after = np.concatenate([np.cumprod(flat[..., :0:-1], axis=-1)[..., ::-1], ones], axis=-1)
    return np.moveaxis(np.reshape(before * after, np.shape(moved)), last, axes)


@register_function(
    np.cumprod,
    examples=(
        (VECTOR,), ((ZEROS,), {"axis": -1}), ((ZEROS,), {"axis": 0}), ((CUBE,), {"axis": 1}),
        (ZEROS,),
    ),
)
def cumprod(a: Dual, axis: Any = None, dtype: Any = None, out: Any = None) -> Dual:
    """Cumulative product; the tangent comes from a scan of dual products, exact at zeros."""
    reject("cumprod", out=out)
    a = cast(a, dtype, "cumprod")
    if axis is None:
        a, axis = np.ravel(a), 0
    axis = normalize_axis(axis, a.ndim)
    return make(np.cumprod(a.value, axis=axis), _scan_products(a, axis).tangent, a.tag)


def _scan_products(a: Dual, axis: int) -> Dual:
    """Running products along ``axis`` by doubling steps (Hillis-Steele), in dual arithmetic.

    Only multiplications, so the tangent is exact wherever the factors are zero; about
    ``log2(n)`` array steps.
    """
    n = a.shape[axis]
    step = 1
    while step < n:
        head = a[_along(axis, slice(None, step))]
        tail = a[_along(axis, slice(step, None))] * a[_along(axis, slice(None, n - step))]
        a = np.concatenate([head, tail], axis=axis)
        step *= 2
    return a


# --- extremes: the tangent of the selected element, shared evenly at ties ----------------------


def _extreme(pick: Callable[..., Any], a: Dual, axis: Any, keepdims: bool, nan_wins: bool) -> Dual:
    """``pick`` (max, min, nanmax, nanmin) with the mean tangent of the elements selected.

    ``nan_wins``: a NaN result selects the NaNs (max, min); otherwise NaNs are never
    selected and an all-NaN slice has a zero tangent (nanmax, nanmin).
    """
    axes = normalize_axes(axis, a.ndim)
    value = pick(a.value, axis=axes, keepdims=keepdims)
    plain, best = _plain(a.value), _plain(value)
    if not keepdims:
        best = np.expand_dims(best, axes)
    chosen = plain == best
    if nan_wins:
        chosen |= np.isnan(plain) & np.isnan(best)
    count = np.maximum(np.sum(chosen, axis=axes, keepdims=keepdims), 1).astype(plain.dtype)
    zero = np.zeros((), plain.dtype)
    total = np.sum(np.where(chosen, a.tangent, zero), axis=_shifted(axes, a), keepdims=keepdims)
    return make(value, total / count, a.tag)


_EXTREME_EXAMPLES = (
    (VECTOR,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"axis": (0, -1), "keepdims": True}),
    ((SCATTERED,), {"axis": -2}),
)


def _extreme_with(
    name: str, ufunc: np.ufunc, a: Dual, axis: Any, keepdims: bool, initial: Any, where: Any,
    nan_wins: bool,
) -> Dual:
    """``initial=`` or ``where=``: the ufunc's reduce, whose ties count the initial too.

    NumPy computes ``np.max`` as ``np.maximum.reduce`` (``np.nanmax`` as
    ``np.fmax.reduce``); ``initial`` is a constant, and where it is the
    extremum it takes its share of a tie (a zero tangent), as in
    ``ufunc.reduce`` (docs/conventions.md).
    """
    if type(initial) is Dual:
        raise TypeError(f"dualdiff does not differentiate initial= of numpy.{name} (NumPy takes "
                        f"a scalar constant); apply numpy.{ufunc.__name__} to the result instead")
    options: dict[str, Any] = {"axis": normalize_axes(axis, a.ndim), "keepdims": keepdims}
    if initial is not _NO_VALUE:
        options["initial"] = initial
    if where is not _NO_VALUE:
        options["where"] = strip(where)
    result = ufunc.reduce(a, **options)
    missing = np.isnan(_plain(result))
    if nan_wins or not np.any(missing):
        return result
    # an all-NaN slice of nanmax/nanmin: NaN with a zero tangent, as without initial=/where=
    return np.where(missing, np.asarray(np.nan, _plain(result).dtype), result)


def _register_extreme(pick: Callable[..., Any], ufunc: np.ufunc, nan_wins: bool) -> None:
    name = pick.__name__

    def extreme(
        a: Dual, axis: Any = None, out: Any = None, keepdims: bool = False,
        initial: Any = _NO_VALUE, where: Any = _NO_VALUE,
    ) -> Dual:
        reject(name, out=out)
        if initial is _NO_VALUE and where is _NO_VALUE:
            return _extreme(pick, a, axis, keepdims, nan_wins)
        return _extreme_with(name, ufunc, a, axis, keepdims, initial, where, nan_wins)

    extreme.__name__ = extreme.__qualname__ = name
    extreme.__doc__ = (
        f"``numpy.{name}``: the tangent of the selected element; tied elements share it evenly "
        f"(``initial=`` and ``where=`` as numpy.{ufunc.__name__}.reduce)."
    )
    register_function(pick, examples=_EXTREME_EXAMPLES)(extreme)


for _pick, _ufunc in ((np.max, np.maximum), (np.amax, np.maximum), (np.min, np.minimum),
                      (np.amin, np.minimum)):
    _register_extreme(_pick, _ufunc, nan_wins=True)


@register_function(
    np.ptp, examples=((MATRIX,), ((CUBE,), {"axis": (0, 1), "keepdims": True}),
                      ((SCATTERED,), {"axis": -1}))
)
def ptp(a: Dual, axis: Any = None, out: Any = None, keepdims: bool = False) -> Dual:
    """Range of values: ``max - min``."""
    reject("ptp", out=out)
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


# --- NaN-ignoring variants: NaN entries have zero tangent ----------------------------------------

# The examples are free of NaN: with a NaN input the reference checker's step is NaN and its
# central difference checks nothing.  The NaN behaviour is tested in tests/test_reductions.py.
_NAN_EXAMPLES = (
    (MATRIX,), ((SCATTERED,), {"axis": 1}), ((CUBE,), {"axis": (0, -1), "keepdims": True}),
)


def _nan_to(a: Dual, fill: float) -> Dual:
    """``a`` with its NaN entries replaced by the constant ``fill`` (of ``a``'s dtype)."""
    plain = _plain(a)
    return np.where(np.isnan(plain), np.asarray(fill, plain.dtype), a)


@register_function(np.nansum, examples=_NAN_EXAMPLES)
def nansum(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Sum treating NaN as zero."""
    reject("nansum", out=out)
    a = cast(a, dtype, "nansum")
    return sum_(_nan_to(a, 0.0), axis, keepdims=keepdims, initial=initial, where=where)


@register_function(np.nanprod, examples=(*_NAN_EXAMPLES, ((ZEROS,), {"axis": 1})))
def nanprod(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    initial: Any = None, where: Any = None,
) -> Dual:
    """Product treating NaN as one."""
    reject("nanprod", out=out)
    a = cast(a, dtype, "nanprod")
    return prod(_nan_to(a, 1.0), axis, keepdims=keepdims, initial=initial, where=where)


@register_function(np.nanmean, examples=_NAN_EXAMPLES)
def nanmean(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
    *, where: Any = None,
) -> Dual:
    """Mean of the non-NaN entries (NaN where there are none, as NumPy)."""
    reject("nanmean", out=out, where=where)
    a = cast(a, dtype, "nanmean")
    axes = normalize_axes(axis, a.ndim)
    present = ~np.isnan(_plain(a))
    count = np.sum(present, axis=axes, keepdims=keepdims).astype(_plain(a).dtype)
    total = sum_(_nan_to(a, 0.0), axis=axes, keepdims=keepdims)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / count


for _pick, _ufunc in ((np.nanmax, np.fmax), (np.nanmin, np.fmin)):
    _register_extreme(_pick, _ufunc, nan_wins=False)


# --- moments ---------------------------------------------------------------------------------


def _ddof(name: str, ddof: Any, correction: Any) -> Any:
    if correction is _NO_VALUE:
        return ddof
    if ddof != 0:
        raise ValueError(f"numpy.{name}: ddof and correction can't be provided simultaneously.")
    return correction


def _variance(name: str, a: Dual, axis: Any, ddof: Any, keepdims: bool) -> Dual:
    if np.iscomplexobj(_plain(a)):
        raise TypeError(f"dualdiff does not differentiate numpy.{name} of complex values")
    axes = normalize_axes(axis, a.ndim)
    centered = a - np.mean(a, axis=axes, keepdims=True)
    divisor = _count(a.shape, axes) - ddof
    return np.sum(centered * centered, axis=axes, keepdims=keepdims) / max(divisor, 0)


_MOMENT_EXAMPLES = (
    (MATRIX,), ((MATRIX,), {"axis": 0, "ddof": 1}),
    ((CUBE,), {"axis": (0, 2), "keepdims": True}), ((SCATTERED,), {"axis": -1, "correction": 1}),
)


@register_function(np.var, examples=_MOMENT_EXAMPLES)
def var(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
    keepdims: bool = False, *, where: Any = None, mean: Any = None, correction: Any = _NO_VALUE,
) -> Dual:
    """Variance: the mean squared deviation, divided by ``n - ddof``."""
    reject("var", out=out, where=where, mean=mean)
    return _variance("var", cast(a, dtype, "var"), axis, _ddof("var", ddof, correction), keepdims)


@register_function(np.std, examples=_MOMENT_EXAMPLES)
def std(
    a: Dual, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
    keepdims: bool = False, *, where: Any = None, mean: Any = None, correction: Any = _NO_VALUE,
) -> Dual:
    """Standard deviation: the square root of :func:`var` (slope ``inf`` where it is 0)."""
    reject("std", out=out, where=where, mean=mean)
    a = cast(a, dtype, "std")
    return np.sqrt(_variance("std", a, axis, _ddof("std", ddof, correction), keepdims))


# --- order statistics: linear interpolation between sorted values ------------------------------


def _quantile(name: str, a: Any, q: Any, axis: Any, keepdims: bool) -> Any:
    """The ``method='linear'`` quantiles ``q`` (in ``[0, 1]``) of ``a`` over ``axis``.

    Sorts (so each tangent follows its value), then interpolates between the neighbours
    of the virtual index ``q * (n - 1)``; a dual ``q`` gets the slope of that line.
    """
    a = _array(a)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    q = np.asarray(q) if isinstance(q, list | tuple) else q
    q_plain = _plain(q)
    if np.any((q_plain < 0) | (q_plain > 1)):
        raise ValueError(f"numpy.{name}: quantiles must be in the range [0, 1] (percentiles "
                         "in [0, 100])")
    dtype = np.result_type(strip(a), strip(q))
    ordered, kept = _sorted_slices(a, axes)
    n = np.shape(ordered)[-1]
    low = np.clip(np.floor(q_plain * (n - 1)), 0, n - 1).astype(np.intp)
    high = np.minimum(low + 1, n - 1)
    fraction = q * (n - 1) - low.astype(dtype)
    if type(fraction) is not Dual:
        fraction = np.asarray(fraction, dtype=dtype)
    below, above = ordered[..., low], ordered[..., high]
    difference = above - below
    # NumPy's lerp: from the nearer neighbour, so values round exactly as NumPy's do
    upper = _plain(fraction) >= 0.5
    result = np.where(upper, above - difference * (1 - fraction), below + difference * fraction)
    has_nan = np.isnan(_plain(ordered)[..., -1])
    if np.any(has_nan):  # NaN, as NumPy, with a zero tangent
        has_nan = np.reshape(has_nan, has_nan.shape + (1,) * q_plain.ndim)
        result = np.where(has_nan, np.asarray(np.nan, dtype=dtype), result)
    q_axes = tuple(range(len(kept), len(kept) + q_plain.ndim))
    result = np.moveaxis(result, q_axes, tuple(range(q_plain.ndim)))
    if keepdims:
        full = tuple(1 if i in axes else n_i for i, n_i in enumerate(shape))
        result = np.reshape(result, q_plain.shape + full)
    return result


def _sorted_slices(a: Any, axes: tuple[int, ...]) -> tuple[Any, tuple[int, ...]]:
    """``a`` with ``axes`` flattened into one last axis and sorted along it; the kept axes."""
    shape = np.shape(a)
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    moved = np.moveaxis(a, axes, tuple(range(len(kept), len(shape))))
    flat = np.reshape(moved, (*(shape[i] for i in kept), _count(shape, axes)))  # no -1: 0-size
    return np.sort(flat, axis=-1), kept


def _linear_only(name: str, method: str, **unsupported: Any) -> None:
    reject(name, **unsupported)
    if method != "linear":
        raise TypeError(
            f"dualdiff differentiates numpy.{name} with method='linear' only, not "
            f"method={method!r}"
        )


@register_function(
    np.quantile,
    examples=(
        ((SCATTERED, 0.11), {}), ((MATRIX, np.array([0.15, 0.8])), {"axis": 1}),
        ((SCATTERED, 0.35), {"axis": (0, -1), "keepdims": True}),
        ((VECTOR, 0.75), {"method": "linear"}),
    ),
)
def quantile(
    a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """Quantiles by linear interpolation (``method='linear'`` only); ``q`` may be dual."""
    _linear_only("quantile", method, out=out, weights=weights, interpolation=interpolation)
    return _quantile("quantile", a, q, axis, keepdims)


@register_function(
    np.percentile,
    examples=(
        ((SCATTERED, 40.0), {}), ((MATRIX, np.array([20.0, 90.0])), {"axis": -1}),
        ((CUBE, 45.0), {"axis": (0, 1), "keepdims": True}),
    ),
)
def percentile(
    a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    method: str = "linear", keepdims: bool = False, *, weights: Any = None,
    interpolation: Any = None,
) -> Any:
    """Percentiles: :func:`quantile` of ``q / 100``."""
    _linear_only("percentile", method, out=out, weights=weights, interpolation=interpolation)
    q = q / 100 if isinstance(q, Dual | float | int) else np.true_divide(q, 100)
    return _quantile("percentile", a, q, axis, keepdims)


@register_function(
    np.median,
    examples=(
        (VECTOR,), ((MATRIX,), {"axis": 0}), ((SCATTERED,), {"axis": (0, 2), "keepdims": True}),
        ((SCATTERED,), {"axis": -1}),
    ),
)
def median(
    a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
    keepdims: bool = False,
) -> Any:
    """Median: the middle value, or the mean of the middle two, as NumPy computes it.

    A slice holding NaN gives NaN with a zero tangent; an empty slice NaN, as NumPy.
    """
    reject("median", out=out)
    a = _array(a)
    shape = np.shape(a)
    axes = normalize_axes(axis, len(shape))
    if _count(shape, axes) == 0:
        # NumPy's NaN (and its RuntimeWarning): a constant, which no entry moves
        return _constant(a, np.median(_plain(a), axis=axis, keepdims=keepdims))
    ordered, _ = _sorted_slices(a, axes)
    n = np.shape(ordered)[-1]
    middle = ordered[..., [(n - 1) // 2, n // 2]] if n else ordered
    result = np.mean(middle, axis=-1)
    has_nan = np.isnan(_plain(ordered)[..., -1]) if n else np.zeros(np.shape(result), bool)
    if np.any(has_nan):
        result = np.where(has_nan, np.asarray(np.nan, dtype=_plain(result).dtype), result)
    if keepdims:
        result = np.reshape(result, tuple(1 if i in axes else n_i for i, n_i in enumerate(shape)))
    return result


def _constant(like: Any, value: Any) -> Any:
    """``value`` as a dual number with ``like``'s layers (and batches), every tangent zero."""
    if type(like) is not Dual:
        return value
    inner = _constant(like.value, value)
    return make(inner, zero_tangent(inner, batch_shape(like)), like.tag)


# --- differences and integrals ----------------------------------------------------------------


@register_function(
    np.diff,
    examples=(
        (VECTOR,), ((MATRIX,), {"axis": 0}), ((CUBE,), {"n": 2, "axis": -1}),
        ((MATRIX,), {"prepend": 0.5, "append": np.array([[1.0], [2.0]])}),
    ),
)
def diff(
    a: Any, n: int = 1, axis: int = -1, prepend: Any = _NO_VALUE, append: Any = _NO_VALUE
) -> Any:
    """``n``-th differences along an axis (``prepend``/``append`` may be dual)."""
    a = _array(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n!r}")
    if n == 0:
        return a
    shape = np.shape(a)
    if not shape:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis(axis, len(shape))
    edge = tuple(1 if i == axis else size for i, size in enumerate(shape))
    parts = [a]
    if prepend is not _NO_VALUE:
        parts.insert(0, _array(prepend) if np.ndim(prepend) else np.broadcast_to(prepend, edge))
    if append is not _NO_VALUE:
        parts.append(_array(append) if np.ndim(append) else np.broadcast_to(append, edge))
    if len(parts) > 1:
        a = np.concatenate(parts, axis=axis)
    for _ in range(n):
        a = a[_along(axis, slice(1, None))] - a[_along(axis, slice(None, -1))]
    return a


@register_function(
    np.trapezoid,
    examples=(
        (VECTOR,), ((MATRIX,), {"dx": 0.5}), ((MATRIX,), {"x": np.array([0.0, 0.4, 1.1])}),
        ((CUBE,), {"x": np.cumsum(CUBE + 2, axis=1), "axis": 1}),
    ),
)
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """Trapezoidal rule; ``y``, ``x`` and ``dx`` may all be dual."""
    y = _array(y)
    ndim = np.ndim(y)
    axis = normalize_axis(axis, ndim)
    if x is None:
        step = dx
    elif np.ndim(x) == 1:
        step = np.reshape(np.diff(_array(x)), tuple(-1 if i == axis else 1 for i in range(ndim)))
    else:
        step = np.diff(_array(x), axis=axis)
    upper, lower = y[_along(axis, slice(1, None))], y[_along(axis, slice(None, -1))]
    return np.sum(step * (upper + lower) / 2.0, axis=axis)


@register_function(
    np.gradient,
    examples=(
        (VECTOR,), ((VECTOR,), {"edge_order": 2}), ((MATRIX, 2), {"axis": -1}),
        ((SCATTERED[0], np.array([0, 2, 3, 7])), {"axis": 1, "edge_order": 2}),
        ((CUBE,), {"axis": 0}),
    ),
)
def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Finite-difference gradient, linear in ``f``; the spacings must be plain."""
    if type(f) is not Dual or any(type(v) is Dual for v in varargs):
        raise TypeError(
            "dualdiff differentiates numpy.gradient with respect to f only; pass the spacing "
            "(varargs) as plain numbers or arrays"
        )
    axes = normalize_axes(axis, f.ndim)
    value = np.gradient(f.value, *varargs, axis=axes, edge_order=edge_order)
    tangent = np.gradient(f.tangent, *varargs, axis=_shifted(axes, f), edge_order=edge_order)
    if isinstance(value, tuple | list):
        return type(value)(make(v, t, f.tag) for v, t in zip(value, tangent, strict=True))
    return make(value, tangent, f.tag)


# --- plain results: indices computed on the values ---------------------------------------------


def _register_index(find: Callable[..., Any], examples: tuple[Any, ...]) -> None:
    name = find.__name__

    def index(a: Dual, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        reject(name, out=out)
        return find(strip(a), axis=axis, keepdims=keepdims)

    index.__name__ = index.__qualname__ = name
    index.__doc__ = f"``numpy.{name}`` of the values (plain integers)."
    register_function(find, examples=examples)(index)


_INDEX_EXAMPLES = (
    (MATRIX,), ((MATRIX,), {"axis": 0}), ((SCATTERED,), {"axis": -1, "keepdims": True}),
)
for _find in (np.argmax, np.argmin, np.nanargmax, np.nanargmin):
    _register_index(_find, _INDEX_EXAMPLES)


@register_function(np.nonzero, examples=((ZEROS,), (VECTOR,)))
def nonzero(a: Dual) -> tuple[np.ndarray, ...]:
    """Indices of the nonzero values (plain)."""
    return np.nonzero(strip(a))


@register_function(np.flatnonzero, examples=((ZEROS,),))
def flatnonzero(a: Dual) -> np.ndarray:
    """Flat indices of the nonzero values (plain)."""
    return np.flatnonzero(strip(a))


@register_function(np.argwhere, examples=((ZEROS,), (CUBE,)))
def argwhere(a: Dual) -> np.ndarray:
    """Indices of the nonzero values, one row each (plain)."""
    return np.argwhere(strip(a))
