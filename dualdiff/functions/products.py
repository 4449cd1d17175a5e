"""Products: ``matmul`` and its kin (ufuncs with their own rules), dot products, ``einsum``.

Every function here is bilinear over the reals (``vdot`` and ``correlate``
conjugate one operand, which is still real-linear), so its tangent is the
product rule ``f(da, b) + f(a, db)``: the same function applied with one
operand replaced by its tangent.  A batched tangent carries its directions
on a leading axis, which each implementation threads through explicitly
(``einsum`` gives it a subscript of its own).  ``outer``, ``kron`` and
``polyval`` are built from differentiable primitives, so they need no rule.

Examples
--------
>>> import numpy as np
>>> from dualdiff import jvp
>>> jvp(lambda v: np.einsum("i,i->", v, v), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
(5.0, 2.0)
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function, register_ufunc
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
)
from dualdiff.functions.shape import float_dtype
from dualdiff.rules import UfuncRule

SQUARE = np.array([[2.0, -1.0, 0.5], [0.4, 1.5, -0.3], [-0.7, 0.2, 1.1]])
SHORT = np.array([0.9, -0.4])
SIGNAL = np.array([0.5, -1.0, 2.0, 0.3, -0.8])


# --- shared helpers ------------------------------------------------------------------------------


def is_live(x: Any, tag: int) -> bool:
    """Whether ``x`` is a dual number of ``tag`` (not a constant to it)."""
    return type(x) is Dual and x.tag == tag


def lift(tangent: Any, value_ndim: int, target_ndim: int, batch: tuple[int, ...]) -> Any:
    """A batched tangent with size-1 axes after the batch axis, to broadcast to ``target_ndim``.

    Broadcasting aligns trailing axes, so a batch axis in front of a value
    with fewer axes than the other operand would meet one of its axes; the
    inserted axes keep it in front of all of them.
    """
    if not batch or value_ndim >= target_ndim:
        return tangent
    shape = np.shape(strip(tangent))
    return np.reshape(tangent, shape[:1] + (1,) * (target_ndim - value_ndim) + shape[1:])


def fit(tangent: Any, value: Any, batch: tuple[int, ...]) -> Any:
    """The tangent broadcast to the value's shape behind the batch axis."""
    shape = batch + np.shape(strip(value))
    if np.shape(strip(tangent)) != shape:
        tangent = np.broadcast_to(tangent, shape)
    return tangent


Term = Callable[[Any, Any, tuple[int, ...]], Any]


def bilinear(a: Any, b: Any, value: Callable[[Any, Any], Any], term_a: Term,
             term_b: Term) -> Dual:
    """The product rule for ``value(a, b)``, bilinear over the reals.

    ``term_a(da, b, batch)`` and ``term_b(a, db, batch)`` apply the function
    with one operand replaced by its tangent; only live operands contribute.
    """
    tag, batch = live(a, b)
    a_live, b_live = is_live(a, tag), is_live(b, tag)
    a_value = a.value if a_live else a
    b_value = b.value if b_live else b
    out = value(a_value, b_value)
    tangent = term_a(a.tangent, b_value, batch) if a_live else None
    if b_live:
        term = term_b(a_value, b.tangent, batch)
        tangent = term if tangent is None else tangent + term
    return make(out, fit(tangent, out, batch), tag)


def per_direction(function: Callable[[Any], Any], tangent: Any, batch: tuple[int, ...]) -> Any:
    """``function`` of one direction, stacked over a batch (for functions without stacking)."""
    if not batch:
        return function(tangent)
    if batch[0] == 0:
        one = function(np.zeros(np.shape(strip(tangent))[1:], np.result_type(strip(tangent))))
        return np.zeros(batch + np.shape(one), np.result_type(one))
    return np.stack([function(tangent[i]) for i in range(batch[0])])


def _ndim(x: Any) -> int:
    return np.ndim(strip(x))


# --- matmul and the other matrix-product ufuncs --------------------------------------------------


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
    a_ndim = a.ndim if type(a) is np.ndarray else np.ndim(strip(a))
    b_ndim = b.ndim if type(b) is np.ndarray else np.ndim(strip(b))
    if batch and (a_ndim, b_ndim) in ((2, 1), (1, 2)):
        return make(ans, _batched_matrix_vector(x, y, a, b, a_ndim, ans), tag)
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


def _batched_matrix_vector(x: Dual | None, y: Dual | None, a: Any, b: Any, a_ndim: int,
                           ans: Any) -> Any:
    """Matrix-vector tangents for a batch of k directions as two matrix products.

    A batch of vector tangents is a (k, n) matrix, so ``A @ t_i`` for every i is
    ``T @ A.T``: one matrix product instead of k matrix-vector products.
    """
    tangent = None
    if x is not None:  # x's tangent: (k, m, n) @ b, or (k, n) @ (n, p)
        tangent = np.matmul(x.tangent, b) if a_ndim == 2 else rows_product(x.tangent, b, ans)
    if y is not None:  # y's tangent: (k, n) @ a.T, or a @ (k, n, p)
        term = rows_product(y.tangent, a.T if type(a) is np.ndarray else np.swapaxes(a, -1, -2),
                            ans) if a_ndim == 2 else (
            np.matmul(a, y.tangent))
        tangent = term if tangent is None else tangent + term
    return tangent


def _rows(m: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``m[cols]``: a fresh, C-ordered array.

    ``A @ x`` meets ``A.T``, whose rows are columns of ``A``: gathered one by one they
    read one element per cache line.  Where the columns are consecutive (a chunk of
    seeds makes them so), the block of ``A`` is transposed in tiles that fit in the
    cache instead (about 1.6 times faster at n = 6000).
    """
    first, k = int(cols[0]), cols.size
    if (m.flags.c_contiguous or not m.T.flags.c_contiguous or int(cols[-1]) - first != k - 1
            or not np.array_equal(cols, np.arange(first, first + k))):
        return m[cols]
    source = m.T[:, first:first + k]  # rows of A: (p, k), each a contiguous piece
    if m.shape[1] <= _TILE:  # one tile: a plain transposed copy
        return source.T.copy()
    out = np.empty((k, m.shape[1]), dtype=m.dtype)
    for start in range(0, m.shape[1], _TILE):
        out[:, start:start + _TILE] = source[start:start + _TILE].T
    return out


_TILE = 128


def _unit_rows(t: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Where each row of ``t`` (k, n) has exactly one nonzero: its column, and its value.

    The values are ``None`` when every one is 1 (nothing to scale), and both are
    ``None`` when some row has no nonzero or more than one: ``k`` nonzeros in
    all, and one at each row's first nonzero, is exactly one per row.
    """
    if np.count_nonzero(t[0]) != 1 or np.count_nonzero(t[-1]) != 1:  # cheap first
        return None, None
    nonzero = t != 0
    k = t.shape[0]
    if np.count_nonzero(nonzero) != k:
        return None, None
    rows = np.arange(k)
    cols = nonzero.argmax(axis=1)  # each row's first nonzero (a row of none: column 0)
    scales = t[rows, cols]
    if not scales.all():  # a row without a nonzero
        return None, None
    return cols, None if bool((scales == 1.0).all()) else scales


GATHER_MIN_WORK = 2**16
"""Smallest ``k * n * p`` for which :func:`rows_product` looks for unit rows (a matrix product
of less work costs less than the checks)."""


def rows_product(t: Any, m: Any, value: Any = None) -> Any:
    """``t @ m`` for a batch of vector tangents ``t`` (k, n) and a matrix ``m`` (n, p).

    Where every row of ``t`` has exactly one nonzero entry -- the seeds of a
    Jacobian are unit vectors, and stay so through scalings and copies -- the
    product is a gather of rows of ``m``, each scaled by its entry: O(k p),
    not the O(k n p) of a matrix product.  The structure is read from the
    numbers themselves each time, so it can never be stale: a seed written
    to, viewed or scaled is judged by what it holds now, and nothing keeps a
    seed alive.  Both operands must be real floating-point arrays and ``m``
    finite (a matrix product makes ``0 * inf`` NaN, which the gather would
    not); the result then equals the matrix product's entry for entry (up to
    the sign of a zero).  Anything else, and products too small to repay the
    checks, is NumPy's ``matmul``.

    ``value``, if given, is the primal product ``v @ m`` (or ``m.T @ v``) of
    some vector ``v`` with ``m``: an inf or NaN in ``m`` makes the entries of
    that product it enters inf or NaN (``inf * 0`` is NaN), so a finite
    ``value`` proves ``m`` finite without reading all of ``m`` again.

    Examples
    --------
    >>> t = np.zeros((64, 64))
    >>> t[np.arange(64), np.arange(64)[::-1]] = 2.0  # scaled unit rows
    >>> m = np.arange(64.0 * 16).reshape(64, 16)
    >>> bool(np.array_equal(rows_product(t, m), t @ m))
    True
    """
    if (type(t) is np.ndarray and type(m) is np.ndarray and t.ndim == 2 and m.ndim == 2
            and t.dtype.kind == "f" and m.dtype.kind == "f"
            and t.size * m.shape[1] >= GATHER_MIN_WORK):
        cols, scales = _unit_rows(t)
        if cols is not None:
            with np.errstate(over="ignore", invalid="ignore"):  # silent: a test only
                # a finite sum of m means every entry is finite (an inf or nan would make it
                # inf or nan)
                finite = bool(np.isfinite(np.add.reduce(m if value is None else value,
                                                        axis=None)))
            if finite:
                gathered = _rows(m, cols)
                if gathered.dtype != t.dtype:
                    gathered = gathered.astype(np.result_type(t, m), copy=False)
                if scales is not None:
                    np.multiply(gathered, scales[:, None], out=gathered)
                return gathered
    return np.matmul(t, m)


register_ufunc(
    UfuncRule(
        np.matmul,
        partials=(),
        domain=((MATRIX, VECTOR), (VECTOR, VECTOR), (CUBE.transpose(0, 2, 1), MATRIX.T),
                (VECTOR, CUBE)),
        sympy=None,
        jvp=_matmul_jvp,
    )
)


def _stacked_product_jvp(ufunc: np.ufunc, core_a: int, core_b: int) -> Callable[..., Dual]:
    """The rule of a gufunc bilinear over the reals with core dimensions ``core_a``, ``core_b``.

    Its loop dimensions broadcast like elementwise operands, so each tangent
    is lifted to the common number of loop dimensions before the product.
    """

    def jvp(x: Dual | None, y: Dual | None, a: Any, b: Any, tag: int) -> Dual:
        ans = ufunc(a, b)
        batch = batch_shape(x if x is not None else y)
        a_ndim, b_ndim = _ndim(a), _ndim(b)
        loop = max(a_ndim - core_a, b_ndim - core_b)
        tangent = None
        if x is not None:
            tangent = ufunc(lift(x.tangent, a_ndim, loop + core_a, batch), b)
        if y is not None:
            term = ufunc(a, lift(y.tangent, b_ndim, loop + core_b, batch))
            tangent = term if tangent is None else tangent + term
        return make(ans, fit(tangent, ans, batch), tag)

    return jvp


register_ufunc(UfuncRule(
    np.vecdot, partials=(), domain=((VECTOR, VECTOR), (MATRIX, VECTOR), (VECTOR, CUBE[..., :3])),
    jvp=_stacked_product_jvp(np.vecdot, 1, 1),
))
register_ufunc(UfuncRule(
    np.matvec, partials=(), domain=((MATRIX, VECTOR), (CUBE, CUBE[0, :2]), (SQUARE, MATRIX)),
    jvp=_stacked_product_jvp(np.matvec, 2, 1),
))
register_ufunc(UfuncRule(
    np.vecmat, partials=(), domain=((SHORT, MATRIX), (CUBE[:, 0, :3], SQUARE), (MATRIX, SQUARE)),
    jvp=_stacked_product_jvp(np.vecmat, 1, 2),
))


# --- dot products ---------------------------------------------------------------------------------


def _contract(a: Any, b: Any, axes_a: tuple[int, ...], axes_b: tuple[int, ...],
              value: Callable[[Any, Any], Any]) -> Dual:
    """A contraction of ``axes_a`` of ``a`` with ``axes_b`` of ``b`` (``tensordot``'s layout)."""
    free_a = _ndim(a) - len(axes_a)

    def term_a(da: Any, b_value: Any, batch: tuple[int, ...]) -> Any:
        shifted = tuple(i + len(batch) for i in axes_a)
        return np.tensordot(da, b_value, axes=(shifted, axes_b))

    def term_b(a_value: Any, db: Any, batch: tuple[int, ...]) -> Any:
        shifted = tuple(i + len(batch) for i in axes_b)
        term = np.tensordot(a_value, db, axes=(axes_a, shifted))
        return np.moveaxis(term, free_a, 0) if batch else term

    return bilinear(a, b, value, term_a, term_b)


@register_function(
    np.tensordot,
    examples=((CUBE, CUBE.transpose(1, 2, 0)),
              ((CUBE, CUBE.transpose(2, 1, 0)), {"axes": ([0, 2], [2, 0])}),
              ((MATRIX, VECTOR), {"axes": 0}), ((MATRIX, CUBE[0]), {"axes": ([1], [0])}),
              ((CUBE, CUBE[0].T), {"axes": 1})),
)
def tensordot(a: Any, b: Any, axes: Any = 2) -> Dual:
    """Sum of products over the given axes; negative counts and axes as NumPy."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if isinstance(axes, int | np.integer):  # the last ``axes`` of a with the first of b
        axes_a: Any = tuple(range(-int(axes), 0))
        axes_b: Any = tuple(range(int(axes)))
    else:
        axes_a, axes_b = axes
    axes_a, axes_b = normalize_axes(axes_a, a_ndim), normalize_axes(axes_b, b_ndim)
    return _contract(a, b, axes_a, axes_b, lambda x, y: np.tensordot(x, y, axes=axes))


@register_function(
    np.dot,
    examples=((MATRIX, VECTOR), (VECTOR, VECTOR), (2.5, MATRIX), (CUBE, CUBE[0].T),
              (VECTOR, CUBE[1]), (CUBE, CUBE.transpose(1, 2, 0))),
)
def dot(a: Any, b: Any, out: Any = None) -> Dual:
    """``numpy.dot`` of any dimensions: the last axis of ``a`` with the second-to-last of ``b``."""
    reject("dot", out=out)
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return np.multiply(a, b)
    return _contract(a, b, (a_ndim - 1,), (max(b_ndim - 2, 0),), np.dot)


@register_function(np.inner, examples=((VECTOR, VECTOR), (MATRIX, CUBE[..., :3]), (1.5, MATRIX)))
def inner(a: Any, b: Any) -> Dual:
    """Sum of products over the last axes of ``a`` and ``b``."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return np.multiply(a, b)
    return _contract(a, b, (a_ndim - 1,), (b_ndim - 1,), np.inner)


@register_function(np.vdot, examples=((VECTOR, VECTOR), (MATRIX, MATRIX[::-1])))
def vdot(a: Any, b: Any) -> Dual:
    """Dot product of the flattened operands, conjugating the first (as ``vecdot``)."""

    def flat(t: Any, batch: tuple[int, ...]) -> Any:
        return np.reshape(t, (*batch, -1))

    return bilinear(
        a, b, np.vdot,
        lambda da, b_value, batch: np.vecdot(flat(da, batch), np.ravel(b_value)),
        lambda a_value, db, batch: np.vecdot(np.ravel(a_value), flat(db, batch)),
    )


@register_function(np.outer, examples=((VECTOR, SHORT), (MATRIX, VECTOR)))
def outer(a: Any, b: Any, out: Any = None) -> Dual:
    """Products of every element of ``a`` with every element of ``b`` (both flattened)."""
    reject("outer", out=out)
    return np.multiply(np.reshape(np.ravel(a), (-1, 1)), np.reshape(np.ravel(b), (1, -1)))


@register_function(np.kron, examples=((MATRIX, SQUARE[:2, :2]), (VECTOR, MATRIX), (SHORT, 2.0)))
def kron(a: Any, b: Any) -> Dual:
    """Kronecker product: blocks ``a[i, j] * b``, built from a broadcast product."""
    a_shape, b_shape = np.shape(strip(a)), np.shape(strip(b))
    ndim = max(len(a_shape), len(b_shape))
    a_shape = (1,) * (ndim - len(a_shape)) + a_shape
    b_shape = (1,) * (ndim - len(b_shape)) + b_shape
    spread_a = np.reshape(a, tuple(n for size in a_shape for n in (size, 1)))
    spread_b = np.reshape(b, tuple(n for size in b_shape for n in (1, size)))
    shape = tuple(m * n for m, n in zip(a_shape, b_shape, strict=True))
    return np.reshape(np.multiply(spread_a, spread_b), shape)


@register_function(
    np.cross,
    examples=((VECTOR, VECTOR[::-1]), (MATRIX, VECTOR), ((CUBE[:, :, :3], SQUARE),
              {"axisa": -1, "axisb": 0, "axisc": 0}), ((CUBE[:, :, 1:], CUBE[0, :, :3]),
                                                      {"axis": 1})),
)
def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Dual:
    """Cross product of 3-vectors (2-vectors as NumPy), broadcast over the other axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a_shape, b_shape = np.shape(strip(a)), np.shape(strip(b))
    a_ndim, b_ndim = len(a_shape), len(b_shape)
    # Axes counted from the end stay valid when a batch axis is put in front.
    axisa = normalize_axis(axisa, a_ndim) - a_ndim
    axisb = normalize_axis(axisb, b_ndim) - b_ndim
    target = max(a_ndim, b_ndim)
    if a_shape[axisa] == 2 and b_shape[axisb] == 2:
        axisc = -1  # the output has no vector axis
    else:
        axisc = normalize_axis(axisc, target) - target
    options = {"axisa": axisa, "axisb": axisb, "axisc": axisc}
    return bilinear(
        a, b, lambda x, y: np.cross(x, y, **options),
        lambda da, b_value, batch: np.cross(lift(da, a_ndim, target, batch), b_value, **options),
        lambda a_value, db, batch: np.cross(a_value, lift(db, b_ndim, target, batch), **options),
    )


def _sliding(function: Callable[..., Any], a: Any, v: Any, mode: str) -> Dual:
    """``convolve``/``correlate``: 1-D only, so a batch of directions is taken one by one."""
    return bilinear(
        a, v, lambda x, y: function(x, y, mode),
        lambda da, v_value, batch: per_direction(lambda t: function(t, v_value, mode), da, batch),
        lambda a_value, dv, batch: per_direction(lambda t: function(a_value, t, mode), dv, batch),
    )


@register_function(
    np.convolve,
    examples=((SIGNAL, VECTOR), ((SIGNAL, VECTOR), {"mode": "same"}), ((SHORT, SIGNAL, "valid"),
                                                                        {})),
)
def convolve(a: Any, v: Any, mode: str = "full") -> Dual:
    """Discrete linear convolution of two 1-D sequences."""
    return _sliding(np.convolve, a, v, mode)


@register_function(
    np.correlate,
    examples=((SIGNAL, VECTOR), ((SIGNAL, VECTOR), {"mode": "full"}), ((SHORT, SIGNAL, "same"),
                                                                        {})),
)
def correlate(a: Any, v: Any, mode: str = "valid") -> Dual:
    """Cross-correlation of two 1-D sequences (the second conjugated, as NumPy)."""
    return _sliding(np.correlate, a, v, mode)


@register_function(np.polyval, examples=((VECTOR, 0.8), (SIGNAL, MATRIX), (SHORT, VECTOR)))
def polyval(p: Any, x: Any) -> Dual:
    """A polynomial by Horner's rule, as NumPy evaluates it; ``p`` and ``x`` may both be dual."""
    if isinstance(p, np.poly1d) or isinstance(x, np.poly1d):
        raise TypeError("dualdiff does not differentiate numpy.polyval of numpy.poly1d objects")
    if type(p) is not Dual:
        p = np.asarray(p)
    if type(x) is not Dual:
        x = np.asanyarray(x)
    y: Any = np.zeros_like(strip(x))
    for i in range(len(p)):
        y = y * x + p[i]
    return y


# Points and noisy samples of a quadratic: test input for polyfit.
_FIT_X = np.array([-1.0, -0.4, 0.1, 0.7, 1.3, 2.0])
_FIT_Y = np.array([1.9, 0.75, 0.3, 0.9, 2.4, 5.1])


@register_function(
    np.vander,
    examples=((VECTOR,), ((VECTOR, 4), {}), ((SIGNAL,), {"increasing": True}),
              ((VECTOR, 1), {}), ((VECTOR, 0), {}), ((np.array([0.0, 1.5, -2.0]),), {})),
)
def vander(x: Any, N: int | None = None, increasing: bool = False) -> Any:  # noqa: N803
    """The Vandermonde matrix, as NumPy builds it: cumulative products of ``x`` (exact at 0)."""
    x = x if type(x) is Dual else np.asarray(x)
    if np.ndim(x) != 1:
        raise ValueError("x must be a one-dimensional array or sequence.")
    count = len(x) if N is None else int(N)
    column = np.reshape(x, (-1, 1))
    ones = np.ones((len(x), min(count, 1)), dtype=np.result_type(strip(x), int))
    powers = np.cumprod(np.broadcast_to(column, (len(x), max(count - 1, 0))), axis=1)
    matrix = np.concatenate([ones, powers], axis=1)
    return matrix if increasing else matrix[:, ::-1]


def _check_fit(x: Any, y: Any, deg: int) -> None:
    """NumPy's checks of ``polyfit``'s arguments, with its messages."""
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if np.ndim(x) != 1:
        raise TypeError("expected 1D vector for x")
    if np.size(x) == 0:
        raise TypeError("expected non-empty vector for x")
    if np.ndim(y) < 1 or np.ndim(y) > 2:
        raise TypeError("expected 1D or 2D array for y")
    if np.shape(x)[0] != np.shape(y)[0]:
        raise TypeError("expected x and y to have same length")


@register_function(
    np.polyfit,
    examples=(((_FIT_X, _FIT_Y, 2), {}), ((_FIT_X, np.stack([_FIT_Y, _FIT_X**3]).T, 1), {}),
              ((_FIT_X, _FIT_Y, 2), {"w": np.linspace(0.5, 1.5, 6)}),
              ((_FIT_X, _FIT_Y, 1), {"full": True}), ((_FIT_X, _FIT_Y, 2), {"cov": True}),
              ((_FIT_X, _FIT_Y, 1), {"cov": "unscaled"})),
)
def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None,
            cov: Any = False) -> Any:
    """Least-squares polynomial fit, NumPy's algorithm with dual-aware steps.

    The scaled Vandermonde system goes through :func:`numpy.linalg.lstsq`, whose derivative
    holds at full rank (see ``docs/conventions.md``), so ``x``, ``y`` and ``w`` may all be
    dual numbers.  ``rank`` (``full=True``) is plain; ``RankWarning`` is NumPy's.
    """
    order = int(deg) + 1
    x = (x if type(x) is Dual else np.asarray(x)) + 0.0
    y = (y if type(y) is Dual else np.asarray(y)) + 0.0
    _check_fit(x, y, deg)
    if rcond is None:
        rcond = len(x) * np.finfo(np.result_type(strip(x))).eps
    lhs, rhs = np.vander(x, order), y
    if w is not None:
        w = (w if type(w) is Dual else np.asarray(w)) + 0.0
        if np.ndim(w) != 1:
            raise TypeError("expected a 1-d array for weights")
        if np.shape(w)[0] != np.shape(y)[0]:
            raise TypeError("expected w and y to have the same length")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if np.ndim(rhs) == 1 else w[:, None])
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    lhs = lhs / scale
    c, residuals, rank, s = np.linalg.lstsq(lhs, rhs, rcond)
    c = (c.T / scale).T
    if rank != order and not full:
        # stack: polyfit, call_function, Dual.__array_function__, the caller of np.polyfit
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning,
                      stacklevel=4)
    if full:
        return c, residuals, rank, s, rcond
    if not cov:
        return c
    base = np.linalg.inv(np.dot(lhs.T, lhs)) / np.outer(scale, scale)
    if cov == "unscaled":
        factor: Any = 1.0
    else:
        if len(x) <= order:
            raise ValueError("the number of data points must exceed order to scale the "
                             "covariance matrix")
        factor = residuals / (len(x) - order)
    return c, (base * factor if np.ndim(y) == 1 else base[:, :, None] * factor)


# --- einsum --------------------------------------------------------------------------------------

_LABELS = string.ascii_uppercase + string.ascii_lowercase  # in increasing code order, as NumPy's


def _sublist(labels: Any) -> str:
    """Subscripts from einsum's interleaved form: integers 0..51 and ``Ellipsis``."""
    return "".join("..." if label is Ellipsis else _LABELS[int(label)] for label in labels)


def _einsum_spec(operands: tuple[Any, ...]) -> tuple[list[str], str, list[Any]]:
    """The input subscripts, the explicit output subscripts and the arrays of an einsum call."""
    if isinstance(operands[0], str):
        subscripts, arrays = operands[0].replace(" ", ""), list(operands[1:])
    else:
        count = len(operands) // 2
        arrays = [operands[2 * i] for i in range(count)]
        subscripts = ",".join(_sublist(operands[2 * i + 1]) for i in range(count))
        if len(operands) % 2:
            subscripts += "->" + _sublist(operands[-1])
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:  # implicit output: the labels used once, in order, after any broadcast axes
        inputs = subscripts
        labels = inputs.replace("...", "").replace(",", "")
        once = sorted(label for label in set(labels) if labels.count(label) == 1)
        output = ("..." if "..." in inputs else "") + "".join(once)
    return inputs.split(","), output, arrays


@register_function(
    np.einsum,
    examples=(
        (("ij,j->i", MATRIX, VECTOR), {}), (("ij,jk", MATRIX, SQUARE), {}),
        (("ii->i", SQUARE), {}), (("ii", SQUARE), {}), (("...j,j...->...", CUBE, CUBE[0].T), {}),
        (("i,i,i->", VECTOR, VECTOR, VECTOR), {}), (("ijk->kji", CUBE), {}),
        (("ba,b...->a...", MATRIX, CUBE), {"optimize": True}),
        ((MATRIX, [0, 1], VECTOR, [1]), {}), ((CUBE, [Ellipsis, 2], SHORT, [0], [Ellipsis, 0]), {}),
    ),
)
def einsum(*operands: Any, out: Any = None, **kwargs: Any) -> Dual:
    """Einstein summation; each term of the product rule puts one operand's tangent in its place.

    A batch of directions gets a subscript of its own, leading that operand
    and the output.
    """
    reject("einsum", out=out)
    float_dtype(kwargs.get("dtype"), "einsum")  # an integer dtype would truncate the tangent
    inputs, output, arrays = _einsum_spec(operands)
    tag, batch = live(*arrays)
    values = [x.value if is_live(x, tag) else x for x in arrays]
    value = np.einsum(f"{','.join(inputs)}->{output}", *values, **kwargs)
    used = set("".join(inputs))
    label = next(c for c in _LABELS if c not in used) if batch else ""
    tangent = None
    for i, x in enumerate(arrays):
        if is_live(x, tag):
            subscripts = [label + s if j == i else s for j, s in enumerate(inputs)]
            term = np.einsum(f"{','.join(subscripts)}->{label}{output}",
                             *values[:i], x.tangent, *values[i + 1:], **kwargs)
            tangent = term if tangent is None else tangent + term
    return make(value, fit(tangent, value, batch), tag)


@register_function(np.einsum_path, examples=((("ij,jk,k->i", MATRIX, SQUARE, VECTOR), {}),))
def einsum_path(*operands: Any, **kwargs: Any) -> Any:
    """The contraction order (plain): it depends on shapes only."""
    return np.einsum_path(*(strip(x) for x in operands), **kwargs)
