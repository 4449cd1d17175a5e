"""Linear algebra: ``numpy.linalg``, differentiated by the standard matrix identities.

Every function works on stacks of matrices wherever NumPy does: the matrix
axes are the last two, and a batch of tangents adds one more leading axis,
which matrix products and ``einsum`` broadcast over.  Rules are written with
NumPy functions on values and tangents, so nested dual numbers (higher
derivatives) go through the same rules one level down.  Functions whose
value NumPy computes by a fixed sequence of differentiable steps
(``matrix_power``, ``tensorsolve``, ``cond``) repeat those steps on dual
numbers instead of having a rule.

The conventions -- which triangle ``eigh`` and ``cholesky`` read, repeated
eigenvalues and singular values, kinks of norms, rank deficiency -- are
listed under "Linear algebra" in ``docs/conventions.md``.  The
decompositions other than ``eigvals`` differentiate real matrices only and
raise ``TypeError`` for complex ones.

Examples
--------
>>> import numpy as np
>>> from dualdiff import derivative
>>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
>>> round(derivative(lambda t: np.linalg.det(a + t * np.eye(2)), 0.0), 12)  # tr(adj(a))
5.0
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function, zero_tangent
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import live, normalize_axes, normalize_axis, reject
from dualdiff.functions.products import fit, is_live, lift

GENERAL = np.array([[2.0, -1.0, 0.5], [0.4, 1.5, -0.3], [-0.7, 0.2, 1.1]])
SPD = np.array([[1.3, 0.2, -0.1], [0.2, 1.1, 0.3], [-0.1, 0.3, 0.9]])
STACK = np.array([[[1.2, 0.3], [-0.4, 0.9]], [[0.8, -0.5], [0.6, 1.4]],
                  [[1.5, 0.1], [0.2, -1.1]]])
SPD_STACK = np.array([[[1.4, 0.3], [0.3, 0.8]], [[0.9, -0.2], [-0.2, 1.2]]])
TALL = np.array([[1.0, 0.3, -0.5], [0.2, -1.1, 0.4], [0.7, 0.5, 0.9], [-0.3, 0.8, 0.1]])
WIDE = TALL.T[:2]
REAL_SPECTRUM = np.array([[2.0, 0.3, -0.1], [0.1, 1.0, 0.4], [0.05, -0.2, -0.5]])
REAL_STACK = np.array([[[1.5, 0.4], [0.1, -0.7]], [[0.3, 1.0], [0.8, 0.2]]])
RHS = np.array([0.5, -1.2, 0.8])


# --- helpers --------------------------------------------------------------------------------------


def _unpack(a: Dual, name: str, *, real: bool = False) -> tuple[Any, Any, int, tuple[int, ...]]:
    """Value, tangent, tag and batch of the one array argument of ``numpy.linalg.<name>``."""
    if real and np.iscomplexobj(strip(a.value)):
        raise TypeError(f"dualdiff differentiates numpy.linalg.{name} of real arrays only")
    return a.value, a.tangent, a.tag, batch_shape(a)


def _square(a: Any, name: str) -> int:
    shape = np.shape(strip(a))
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise np.linalg.LinAlgError(f"numpy.linalg.{name} needs square matrices, got {shape}")
    return shape[-1]


def _mt(x: Any) -> Any:
    """Transpose the matrices of a stack (a batch axis in front is left alone)."""
    return np.moveaxis(x, -1, -2)


def _diagonal(x: Any) -> Any:
    return np.einsum("...ii->...i", x)


def _trace(x: Any) -> Any:
    return np.einsum("...ii->...", x)


def _eps(x: Any) -> float:
    dtype = np.result_type(strip(x))
    return float(np.finfo(dtype).eps) if dtype.kind in "fc" else float(np.finfo(float).eps)


def _triangle(n: int, dtype: Any, *, lower: bool, strict: bool) -> np.ndarray:
    ones = np.ones((n, n), dtype=dtype)
    k = -1 if strict else 0
    return np.tril(ones, k) if lower else np.triu(ones, -k)


def _symmetrized(tangent: Any, n: int, dtype: Any, *, lower: bool) -> Any:
    """The symmetric matrix NumPy sees when it reads only one triangle (``eigh``, ``cholesky``)."""
    whole = _triangle(n, dtype, lower=lower, strict=False)
    strict = _triangle(n, dtype, lower=lower, strict=True)
    return tangent * whole + _mt(tangent * strict)


def _inverse_gaps(gaps: Any, degenerate: np.ndarray) -> Any:
    """``1 / gaps``, and 0 where the gap is degenerate (the pseudo-inverse of the gaps)."""
    safe = np.where(degenerate, 1.0, gaps)
    return np.where(degenerate, 0.0, 1.0 / safe)


def _clusters(w: Any, positive: Any = None) -> np.ndarray:
    """``same[..., i, j]``: eigenvalues (or singular values) ``i`` and ``j`` are one cluster.

    Two values closer than ``sqrt(eps) * max|w|`` count as equal, and a
    cluster is everything linked by such pairs.  Eigenvalues that are equal
    in exact arithmetic come out of LAPACK a few ``n * eps * max|w|`` apart;
    an eigenvector tangent has a factor ``1 / gap``, so below ``sqrt(eps)``
    rounding would be amplified past ``sqrt(eps)``, and above it every
    tangent is accurate to about ``sqrt(eps)``.  Only ``positive`` values
    (singular values above the rank tolerance) join clusters, if given.
    """
    plain = strip(w)
    gaps = np.abs(plain[..., None, :] - plain[..., :, None])
    largest = np.max(np.abs(plain), axis=-1, keepdims=True, initial=0.0)
    same = gaps <= np.sqrt(_eps(w)) * largest[..., None]
    if positive is not None:
        n = np.shape(plain)[-1]
        same = (same & positive[..., None, :] & positive[..., :, None]) | np.eye(n, dtype=bool)
    while True:  # the transitive closure: a chain of close pairs is one cluster
        linked = same.astype(np.int64)
        grown = (linked @ linked) > 0
        if np.array_equal(grown, same):
            return same
        same = grown


def _vector_gaps(gaps: Any, same: np.ndarray, unresolved: Any = None) -> Any:
    """``1 / gaps`` off the diagonal, 0 on it, NaN for two vectors of one cluster.

    An eigenvector (singular vector) of a repeated value is not unique, so it
    has no derivative; NaN in the gap spreads through the whole column of
    the tangent, and through anything built from it, rather than a finite
    tangent that is silently wrong.  ``unresolved`` marks further columns
    (zero singular values) that are NaN for the same reason.
    """
    off_diagonal = ~np.eye(np.shape(same)[-1], dtype=bool)
    undefined = same & off_diagonal
    if unresolved is not None:
        undefined = undefined | (unresolved[..., None, :] & off_diagonal)
    return np.where(undefined, np.nan, _inverse_gaps(gaps, same | undefined))


def _cluster_slopes(diagonal: Any, projected: Any, same: np.ndarray, *,
                    singular: bool = False) -> Any:
    """Eigenvalue (singular value) tangents with each cluster's slopes made exact.

    ``diagonal`` is ``diag(P)`` of the projected tangent ``P = V^T dA V``
    (``U^T dA V``); for a cluster ``c`` of equal values the sorted values of
    ``A + t dA`` move, for ``t > 0``, as the sorted eigenvalues of ``P[c, c]``
    (of its symmetric part, largest first, for ``singular`` values): those
    replace the diagonal there.  They are the one-sided slopes, and are
    positively homogeneous but not linear in ``dA``; the cluster's sum is
    still ``trace(P[c, c])``.
    """
    plain_same = np.asarray(same)
    n = plain_same.shape[-1]
    if not np.any(np.sum(plain_same, axis=-1) > 1):
        return diagonal
    stack = plain_same.shape[:-2]
    for where in np.ndindex(*stack):
        seen = np.zeros(n, dtype=bool)
        for i in range(n):
            members = np.flatnonzero(plain_same[(*where, i)])
            if seen[i] or members.size < 2:
                continue
            seen[members] = True
            block = projected[(Ellipsis, *where, members[:, None], members[None, :])]
            if singular:
                block = (block + _mt(block)) / 2
            slopes = np.linalg.eigvalsh(block)
            if singular:
                slopes = slopes[..., ::-1]
            old = diagonal[(Ellipsis, *where, members)]
            dtype = np.result_type(strip(old))  # float32 stays float32
            scatter = np.zeros((members.size, n), dtype=dtype)
            scatter[np.arange(members.size), members] = 1.0
            change = (slopes - old) @ scatter
            full = np.shape(strip(change))[:-1] + (1,) * len(stack) + (n,)
            mask = np.zeros((*stack, 1), dtype=dtype)
            mask[where] = 1.0
            diagonal = diagonal + mask * np.reshape(change, full)
    return diagonal


def _cutoff(values: Any, size: int) -> Any:
    """NumPy's rank tolerance: ``size * eps * max|value|`` per matrix (keeps the last axis)."""
    plain = np.abs(strip(values))
    largest = np.max(plain, axis=-1, keepdims=True, initial=0.0)
    return size * _eps(values) * largest


def _adjugate(a: Any) -> Any:
    """The adjugate (transposed cofactors) from minors: defined for singular matrices too."""
    n = _square(a, "det")
    if n == 1:
        return np.ones_like(strip(a))
    keep = np.array([[j for j in range(n) if j != i] for i in range(n)])
    minors = a[..., keep[:, None, :, None], keep[None, :, None, :]]
    signs = (-1.0) ** np.add.outer(np.arange(n), np.arange(n))
    return _mt(signs.astype(np.result_type(strip(a))) * np.linalg.det(minors))


def _svd_parts(a: Any) -> tuple[Any, Any, Any]:
    """``U, s, V`` of the reduced SVD (``V``, not ``Vh``)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u, s, _mt(vh)


def _singular_value_tangents(u: Any, s: Any, v: Any, tangent: Any) -> Any:
    """``diag(U^T dA V)`` (a cluster's block's eigenvalues), 0 for zero singular values (a kink)."""
    projected = _mt(u) @ tangent @ v
    shape = np.shape(strip(u))
    positive = strip(s) > _cutoff(s, max(shape[-2], np.shape(strip(v))[-2]))
    ds = _cluster_slopes(_diagonal(projected), projected, _clusters(s, positive), singular=True)
    return np.where(positive, ds, 0.0)


# --- inverses and solves --------------------------------------------------------------------------


@register_function(np.linalg.inv, examples=((GENERAL,), (STACK,)))
def inv(a: Dual) -> Dual:
    """Inverse: ``d(A^-1) = -A^-1 dA A^-1``."""
    value, tangent, tag, _ = _unpack(a, "inv")
    x = np.linalg.inv(value)
    return make(x, -(x @ tangent @ x), tag)


@register_function(
    np.linalg.solve,
    examples=((GENERAL, RHS), (GENERAL, TALL[:3, :2]), (STACK, STACK[0]), (STACK, RHS[:2]),
              (GENERAL, TALL.T[None, :, :3] * np.ones((2, 1, 1)))),
)
def solve(a: Any, b: Any) -> Dual:
    """Solution of ``A X = B``: ``dX = A^-1 (dB - dA X)``; ``b`` is a vector only when 1-D."""
    tag, batch = live(a, b)
    a_value = a.value if is_live(a, tag) else a
    b_value = b.value if is_live(b, tag) else b
    x = np.linalg.solve(a_value, b_value)
    vector = np.ndim(strip(b_value)) == 1
    x_matrix = x[..., None] if vector else x
    out_ndim = np.ndim(strip(x_matrix))
    rhs = None
    if is_live(b, tag):
        db = b.tangent[..., None] if vector else b.tangent
        rhs = lift(db, 2 if vector else np.ndim(strip(b_value)), out_ndim, batch)
    if is_live(a, tag):
        term = -(lift(a.tangent, np.ndim(strip(a_value)), out_ndim, batch) @ x_matrix)
        rhs = term if rhs is None else rhs + term
    dx = np.linalg.solve(a_value, rhs)
    return make(x, fit(dx[..., 0] if vector else dx, x, batch), tag)


@register_function(
    np.linalg.pinv,
    examples=((TALL,), (WIDE,), (GENERAL,), (STACK,)),
)
def pinv(a: Dual, rcond: Any = None, hermitian: bool = False, **kwargs: Any) -> Dual:
    """Pseudo-inverse, by the formula for a locally constant rank (Golub and Pereyra).

    ``dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P``.
    """
    value, tangent, tag, _ = _unpack(a, "pinv", real=True)
    if hermitian:
        raise TypeError("dualdiff does not support the argument hermitian=True of "
                        "numpy.linalg.pinv (it reads one triangle); pass hermitian=False")
    p = np.linalg.pinv(value, rcond, **kwargs)
    dt, pt = _mt(tangent), _mt(p)
    ppt, ptp = p @ pt, pt @ p
    dp = -(p @ tangent @ p) + ppt @ (dt - (dt @ value) @ p) + (dt @ ptp - p @ (value @ (dt @ ptp)))
    return make(p, dp, tag)


@register_function(
    np.linalg.lstsq,
    examples=((TALL, np.array([0.3, -0.2, 1.1, 0.5])), (TALL, TALL[:, :2] ** 2), (WIDE, SPD[:2]),
              ((TALL[:, :2], TALL[:, 2]), {"rcond": None})),
)
def lstsq(a: Any, b: Any, rcond: Any = None) -> tuple[Any, Any, int, Any]:
    """Least squares; ``x``, the residuals and the singular values are differentiable.

    ``dx = dP b + P db`` with the pseudo-inverse's derivative (rank taken as
    locally constant); the residuals' tangent is ``2 r . (db - dA x)``.
    """
    tag, batch = live(a, b)
    a_value = a.value if is_live(a, tag) else a
    b_value = b.value if is_live(b, tag) else b
    if np.iscomplexobj(strip(a_value)) or np.iscomplexobj(strip(b_value)):
        raise TypeError("dualdiff differentiates numpy.linalg.lstsq of real arrays only")
    x, residuals, rank, sv = np.linalg.lstsq(a_value, b_value, rcond)
    m, n = np.shape(strip(a_value))
    cut = _eps(a_value) * max(m, n) if rcond is None or rcond < 0 else rcond
    p = np.linalg.pinv(a_value, rtol=cut)
    vector = np.ndim(strip(b_value)) == 1
    x_matrix = x[..., None] if vector else x
    r = (b_value[..., None] if vector else b_value) - a_value @ x_matrix
    change = None  # d(b - A x) at fixed x
    if is_live(b, tag):
        change = b.tangent[..., None] if vector else b.tangent
    dx = None
    if is_live(a, tag):
        da = a.tangent
        dat, pt = _mt(da), _mt(p)
        term = -(da @ x_matrix)
        change = term if change is None else change + term
        y = pt @ x_matrix
        dx = p @ (pt @ (dat @ r)) + dat @ y - p @ (a_value @ (dat @ y))
        sv = make(sv, _singular_value_tangents(*_svd_parts(a_value), da), tag)
    dx = p @ change if dx is None else dx + p @ change
    x = make(x, fit(dx[..., 0] if vector else dx, x, batch), tag)
    if np.size(strip(residuals)):
        residuals = make(residuals, fit(2 * np.sum(r * change, axis=-2), residuals, batch), tag)
    else:
        residuals = make(residuals, zero_tangent(residuals, batch), tag)
    return x, residuals, rank, sv


@register_function(np.linalg.tensorsolve, examples=(
    (GENERAL, RHS), (np.kron(STACK[0], GENERAL).reshape(6, 2, 3), TALL[:3, :2].T.ravel()),
    ((np.kron(STACK[2], STACK[1]).reshape(2, 2, 2, 2), SPD_STACK[0]), {"axes": (0,)}),
))
def tensorsolve(a: Any, b: Any, axes: Any = None) -> Dual:
    """Solve ``tensordot(a, x, x.ndim) = b`` by NumPy's reshape and ``solve``, on dual numbers."""
    a_ndim = np.ndim(strip(a))
    if axes is not None:
        order = list(range(a_ndim))
        for k in axes:
            order.remove(k)
            order.insert(a_ndim, k)
        a = np.transpose(a, order)
    old_shape = np.shape(strip(a))[-(a_ndim - np.ndim(strip(b))):]
    size = int(np.prod(old_shape))
    if np.size(strip(a)) != size * size:
        np.linalg.tensorsolve(strip(a), strip(b))  # NumPy's own error
    x = np.linalg.solve(np.reshape(a, (size, size)), np.ravel(b))
    return np.reshape(x, old_shape)


@register_function(np.linalg.tensorinv, examples=(
    (np.kron(STACK[0], GENERAL).reshape(2, 3, 2, 3),),
    ((np.kron(STACK[0], STACK[1]).reshape(4, 2, 2),), {"ind": 1}),
))
def tensorinv(a: Any, ind: int = 2) -> Dual:
    """The inverse of a tensor under ``tensordot``: NumPy's reshape and ``inv``, on duals."""
    shape = np.shape(strip(a))
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    rows = int(np.prod(shape[:ind]))
    inverse = np.linalg.inv(np.reshape(a, (rows, -1)))
    return np.reshape(inverse, shape[ind:] + shape[:ind])


@register_function(np.linalg.matrix_power, examples=(
    (GENERAL, 3), (GENERAL, 5), (STACK, -2), (STACK, 1), (GENERAL, 0), (STACK, -1), (GENERAL, 2),
))
def matrix_power(a: Dual, n: int) -> Dual:
    """``a`` to an integer power: NumPy's repeated squaring on dual numbers (``inv`` if n < 0)."""
    n = operator.index(n)
    size = _square(a, "matrix_power")
    if n == 0:
        plain = strip(a)
        eye = np.broadcast_to(np.eye(size, dtype=np.result_type(plain)), np.shape(plain)).copy()
        return make(eye, zero_tangent(eye, batch_shape(a)), a.tag)
    if n < 0:
        a, n = np.linalg.inv(a), -n
    if n <= 3:
        result = a
        for _ in range(n - 1):
            result = np.matmul(result, a)
        return result
    power: Any = None
    result = None
    while n > 0:
        power = a if power is None else np.matmul(power, power)
        n, bit = divmod(n, 2)
        if bit:
            result = power if result is None else np.matmul(result, power)
    return result


@register_function(np.linalg.multi_dot, examples=(
    (([RHS, GENERAL, TALL.T, TALL[:, 0]],), {}), (([WIDE, TALL, GENERAL],), {}),
    (([GENERAL, RHS],), {}),
))
def multi_dot(arrays: Any, *, out: Any = None) -> Dual:
    """A chain of matrix products; the tangent sums ``A1 .. dAi .. An`` over the live factors."""
    reject("linalg.multi_dot", out=out)
    arrays = list(arrays)
    tag, batch = live(*arrays)
    values = [x.value if is_live(x, tag) else x for x in arrays]
    value = np.linalg.multi_dot(values)
    first_vector, last_vector = np.ndim(strip(values[0])) == 1, np.ndim(strip(values[-1])) == 1
    matrices = list(values)
    if first_vector:
        matrices[0] = np.reshape(values[0], (1, -1))
    if last_vector:
        matrices[-1] = np.reshape(values[-1], (-1, 1))
    prefix: list[Any] = [None]
    for m in matrices[:-1]:
        prefix.append(m if prefix[-1] is None else prefix[-1] @ m)
    suffix: list[Any] = [None]
    for m in matrices[:0:-1]:
        suffix.append(m if suffix[-1] is None else m @ suffix[-1])
    suffix.reverse()
    tangent = None
    last = len(arrays) - 1
    for i, x in enumerate(arrays):
        if not is_live(x, tag):
            continue
        term = x.tangent
        if i == 0 and first_vector:
            term = term[..., None, :]
        if i == last and last_vector:
            term = term[..., None]
        if prefix[i] is not None:
            term = prefix[i] @ term
        if suffix[i] is not None:
            term = term @ suffix[i]
        tangent = term if tangent is None else tangent + term
    if last_vector:
        tangent = tangent[..., 0]
    if first_vector:
        tangent = tangent[..., 0, :] if not last_vector else tangent[..., 0]
    return make(value, fit(tangent, value, batch), tag)


# --- determinants ---------------------------------------------------------------------------------


def _det_change(value: Any, tangent: Any, det: Any) -> Any:
    """``tr(adj(A) dA)``: ``det * tr(A^-1 dA)`` for invertible A, the adjugate otherwise."""
    if np.all(strip(det) != 0):
        return det * _trace(np.linalg.solve(value, tangent))
    return np.einsum("...ij,...ji->...", _adjugate(value), tangent)


@register_function(
    np.linalg.det,
    examples=((GENERAL,), (STACK,), (np.array([[1.0, 2.0], [0.5, 1.0]]),), (TALL[:1, :1],)),
)
def det(a: Dual) -> Dual:
    """Determinant: ``d det(A) = tr(adj(A) dA)``, that is ``det(A) tr(A^-1 dA)`` if invertible."""
    value, tangent, tag, _ = _unpack(a, "det")
    d = np.linalg.det(value)
    return make(d, _det_change(value, tangent, d), tag)


@register_function(np.linalg.slogdet, examples=((GENERAL,), (STACK,), (-SPD,)))
def slogdet(a: Dual) -> Any:
    """Sign (plain) and ``log|det|`` with tangent ``tr(A^-1 dA)``; real matrices only."""
    value, tangent, tag, _ = _unpack(a, "slogdet", real=True)
    result = np.linalg.slogdet(value)
    sign, logabsdet = result
    if np.all(strip(sign) != 0):
        change = _trace(np.linalg.solve(value, tangent))
    else:  # log|det| is -inf; its slope tr(adj(A) dA) / det(A) is infinite (or nan)
        d = np.linalg.det(value)
        with np.errstate(divide="ignore", invalid="ignore"):
            change = _det_change(value, tangent, d) / d
    return type(result)(strip(sign), make(logabsdet, change, tag))


# --- norms ----------------------------------------------------------------------------------------


def _constant_order(name: str, order: Any) -> None:
    if type(order) is Dual:
        raise TypeError(f"the order of numpy.linalg.{name} must be a number, not a Dual")


def _vector_norm_weights(x: Any, order: Any, norm: Any, axes: tuple[int, ...]) -> Any:
    """``g`` with ``d||x|| = sum(g * dx)`` over ``axes``; ``norm`` has ``keepdims=True``."""
    plain, plain_norm = strip(x), strip(norm)
    dtype = np.result_type(plain)
    if order in (None, 2, "fro"):
        return x / np.where(plain_norm == 0, 1.0, norm)  # x is 0 wherever the norm is
    if order == 0:
        return np.zeros_like(plain)
    if order == 1:
        return np.sign(plain)
    if order in (np.inf, -np.inf):  # ties share the slope, as np.maximum's
        chosen = np.abs(plain) == plain_norm
        count = np.sum(chosen, axis=axes, keepdims=True)
        return (np.sign(plain) * chosen / np.maximum(count, 1)).astype(dtype)
    # |x|**(p - 1) has a kink or a pole at 0: slope 0 there, as abs.  For p < 0 one zero entry
    # makes the norm 0, and near it the norm is about |x_i| (the others' slopes vanish like
    # |x_i|**(1 - p)): a kink of the whole norm, so every slope is 0 where the norm is 0.
    zero = (plain == 0) | (plain_norm == 0)
    scaled = np.abs(np.where(zero, 1.0, x)) ** (order - 1) * np.sign(plain)
    denominator = np.where(plain_norm == 0, 1.0, norm) ** (order - 1)
    return np.where(zero, 0.0, scaled) / denominator


def _matrix_norm_change(x: Any, dx: Any, order: Any, axes: tuple[int, int], ndim: int) -> Any:
    """Tangent of a matrix norm over ``axes``, with the matrix axes reduced (no keepdims)."""
    rows, cols = axes
    back = (rows - ndim, cols - ndim)  # counted from the end, valid with a batch axis in front
    if order in (1, -1, np.inf, -np.inf):
        plain = strip(x)
        inner_axis, outer_axis = (rows, cols) if order in (1, -1) else (cols, rows)
        sums = np.sum(np.abs(plain), axis=inner_axis, keepdims=True)
        best = (np.max if order > 0 else np.min)(sums, axis=outer_axis, keepdims=True)
        chosen = sums == best
        share = chosen / np.sum(chosen, axis=outer_axis, keepdims=True)
        weights = (np.sign(plain) * share).astype(np.result_type(plain))
        return np.sum(weights * dx, axis=back)
    u, s, v = _svd_parts(np.moveaxis(x, axes, (-2, -1)))
    ds = _singular_value_tangents(u, s, v, np.moveaxis(dx, back, (-2, -1)))
    if order == "nuc":
        return np.sum(ds, axis=-1)
    return ds[..., 0] if order == 2 else ds[..., -1]


@register_function(np.linalg.norm, examples=(
    # (float orders such as inf would be differentiated as inputs here: see tests/test_linalg.py)
    (RHS,), ((RHS, 1), {}), ((RHS, 3), {}), ((RHS, -3), {}), ((RHS, 0), {}), (TALL,),
    ((TALL, "fro"), {}), ((TALL, "nuc"), {}), ((TALL, 2), {}), ((TALL, -2), {}), ((TALL, 1), {}),
    ((TALL, -1), {}), ((STACK, None, 1), {}),
    ((STACK,), {"ord": 2, "axis": (2, 0), "keepdims": True}), ((STACK,), {"axis": (0, 2)}),
    ((STACK, 4, 0, True), {}),
))
def norm(x: Dual, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Dual:
    """Vector and matrix norms; slope 0 at kinks (a zero vector, a zero singular value)."""
    value, tangent, tag, batch = _unpack(x, "norm", real=True)
    _constant_order("norm", ord)
    out = np.linalg.norm(value, ord, axis, keepdims)  # NumPy's errors for bad orders and axes
    ndim = np.ndim(strip(value))
    axes = normalize_axes(axis, ndim)
    back = tuple(i - ndim for i in axes)
    if ord in (None, "fro") or len(axes) == 1:
        norm_kept = np.linalg.norm(value, ord, axis, keepdims=True)
        weights = _vector_norm_weights(value, ord, norm_kept, axes)
        change = np.sum(weights * tangent, axis=back, keepdims=keepdims)
    else:
        change = _matrix_norm_change(value, tangent, ord, axes, ndim)
    return make(out, np.reshape(change, batch + np.shape(strip(out))), tag)


@register_function(np.linalg.vector_norm, examples=(
    (RHS,), ((STACK,), {"axis": (0, 2), "ord": 3}), ((TALL,), {"ord": 1, "keepdims": True}),
    ((TALL,), {"axis": 0, "ord": -2}),
))
def vector_norm(x: Dual, *, axis: Any = None, keepdims: bool = False, ord: Any = 2) -> Dual:
    """The array API's vector norm: any axes taken together as one vector."""
    value, tangent, tag, batch = _unpack(x, "vector_norm", real=True)
    _constant_order("vector_norm", ord)
    out = np.linalg.vector_norm(value, axis=axis, keepdims=keepdims, ord=ord)
    ndim = np.ndim(strip(value))
    axes = normalize_axes(axis, ndim)
    norm_kept = np.linalg.vector_norm(value, axis=axis, keepdims=True, ord=ord)
    weights = _vector_norm_weights(value, ord, norm_kept, axes)
    change = np.sum(weights * tangent, axis=tuple(i - ndim for i in axes), keepdims=keepdims)
    return make(out, np.reshape(change, batch + np.shape(strip(out))), tag)


@register_function(np.linalg.matrix_norm, examples=(
    (STACK,), ((TALL,), {"ord": "nuc"}), ((STACK,), {"ord": -1, "keepdims": True}),
))
def matrix_norm(x: Dual, *, keepdims: bool = False, ord: Any = "fro") -> Dual:
    """The array API's matrix norm over the last two axes."""
    return norm(x, ord, (-2, -1), keepdims)


@register_function(np.linalg.cond, examples=((GENERAL,), ((STACK, -2), {}), ((GENERAL, "fro"), {}),
                                             ((STACK, 1), {})))
def cond(x: Dual, p: Any = None) -> Dual:
    """Condition number, by NumPy's steps on dual numbers (singular values, or two norms)."""
    if p in (None, 2, -2):
        s = np.linalg.svdvals(x)
        return s[..., -1] / s[..., 0] if p == -2 else s[..., 0] / s[..., -1]
    return np.linalg.norm(x, p, (-2, -1)) * np.linalg.norm(np.linalg.inv(x), p, (-2, -1))


@register_function(np.linalg.matrix_rank, examples=((TALL,), (GENERAL,)))
def matrix_rank(a: Dual, tol: Any = None, hermitian: bool = False, **kwargs: Any) -> Any:
    """The rank (plain): an integer, constant between jumps."""
    return np.linalg.matrix_rank(strip(a), tol, hermitian, **kwargs)


# --- decompositions -------------------------------------------------------------------------------


@register_function(np.linalg.cholesky, examples=((SPD,), (SPD_STACK,), ((SPD,), {"upper": True})))
def cholesky(a: Dual, /, *, upper: bool = False) -> Dual:
    """Cholesky factor: ``dL = L Phi(L^-1 dA L^-T)``, Phi = lower triangle with half diagonal.

    NumPy reads one triangle of ``a`` (the lower, or the upper with
    ``upper=True``), so the tangent is symmetrized from that triangle.
    """
    value, tangent, tag, _ = _unpack(a, "cholesky", real=True)
    factor = np.linalg.cholesky(value, upper=upper)
    lower = _mt(factor) if upper else factor
    n = _square(value, "cholesky")
    dtype = np.result_type(strip(value))
    ds = _symmetrized(tangent, n, dtype, lower=not upper)
    middle = np.linalg.solve(lower, _mt(np.linalg.solve(lower, ds)))  # L^-1 dA L^-T
    phi = np.tril(np.ones((n, n), dtype=dtype)) - 0.5 * np.eye(n, dtype=dtype)
    dl = lower @ (middle * phi)
    return make(factor, _mt(dl) if upper else dl, tag)


def _qr_tall(q: Any, r: Any, da: Any) -> tuple[Any, Any]:
    """Tangents of the reduced QR of a matrix with at least as many rows as columns."""
    rt = _mt(r)
    c = _mt(np.linalg.solve(rt, _mt(_mt(q) @ da)))  # Q^T dA R^-1
    n = np.shape(strip(r))[-1]
    below = c * np.tril(np.ones((n, n), dtype=np.result_type(strip(r))), -1)
    omega = below - _mt(below)  # Q^T dQ: antisymmetric
    dr = (c - omega) @ r
    dq = q @ omega + _mt(np.linalg.solve(rt, _mt(da))) - q @ c
    return dq, dr


@register_function(np.linalg.qr, examples=(
    (TALL,), (GENERAL,), (WIDE,), (STACK,), ((TALL, "r"), {}), ((WIDE,), {"mode": "complete"}),
))
def qr(a: Dual, mode: str = "reduced") -> Any:
    """QR factorization (modes reduced, r, and complete when it equals reduced); real only.

    With ``Q^T dA R^-1 = C``: ``Q^T dQ`` is the antisymmetric part made of C's
    strict lower triangle, ``dR = (C - Q^T dQ) R``.  A wide matrix is
    factored by its leading square block.
    """
    value, tangent, tag, _ = _unpack(a, "qr", real=True)
    m, n = np.shape(strip(value))[-2:]
    if mode not in ("reduced", "r", "complete") or (mode == "complete" and m > n):
        raise TypeError(f"dualdiff does not support mode={mode!r} of numpy.linalg.qr for this "
                        "shape (complete Q of a tall matrix is not unique); use mode='reduced'")
    result = np.linalg.qr(value, "reduced" if mode == "r" else mode)
    q, r = result
    if m >= n:
        dq, dr = _qr_tall(q, r, tangent)
    else:
        dq, dr_square = _qr_tall(q, r[..., :m], tangent[..., :m])
        dr_rest = _mt(q) @ (tangent[..., m:] - dq @ r[..., m:])
        dr = np.concatenate([dr_square, dr_rest], axis=-1)
    if mode == "r":
        return make(r, dr, tag)
    return type(result)(make(q, dq, tag), make(r, dr, tag))


def _eigh_change(value: Any, tangent: Any, vectors: Any, uplo: str) -> Any:
    """``V^T dA V``, with ``dA`` symmetrized from the triangle NumPy reads."""
    lower = uplo.upper() == "L"
    ds = _symmetrized(tangent, _square(value, "eigh"), np.result_type(strip(value)), lower=lower)
    return _mt(vectors) @ ds @ vectors


@register_function(np.linalg.eigh, examples=((SPD,), (SPD_STACK,), ((GENERAL,), {"UPLO": "U"}),
                                             (GENERAL,)))
def eigh(a: Dual, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    """Symmetric eigendecomposition: ``dw = diag(V^T dA V)``, ``dV = V (F o V^T dA V)``.

    ``F[i, j] = 1 / (w[j] - w[i])``.  At a cluster of (numerically) equal
    eigenvalues the eigenvalues' tangents are the sorted eigenvalues of the
    cluster's block of ``V^T dA V`` and the cluster's eigenvectors have NaN
    tangents (they are not unique): see docs/conventions.md.
    """
    value, tangent, tag, _ = _unpack(a, "eigh", real=True)
    result = np.linalg.eigh(value, UPLO)
    w, v = result
    projected = _eigh_change(value, tangent, v, UPLO)
    same = _clusters(w)
    gaps = _vector_gaps(w[..., None, :] - w[..., :, None], same)
    return type(result)(make(w, _cluster_slopes(_diagonal(projected), projected, same), tag),
                        make(v, v @ (gaps * projected), tag))


@register_function(np.linalg.eigvalsh, examples=((SPD,), (SPD_STACK,), ((GENERAL,), {"UPLO": "U"})))
def eigvalsh(a: Dual, UPLO: str = "L") -> Dual:  # noqa: N803 - NumPy's name
    """Symmetric eigenvalues: ``dw = diag(V^T dA V)``, a cluster's as in ``eigh``."""
    value, tangent, tag, _ = _unpack(a, "eigvalsh", real=True)
    w = np.linalg.eigvalsh(value, UPLO)
    _, v = np.linalg.eigh(value, UPLO)
    projected = _eigh_change(value, tangent, v, UPLO)
    return make(w, _cluster_slopes(_diagonal(projected), projected, _clusters(w)), tag)


def _eigensystem(a: Any) -> tuple[Any, Any]:
    """Eigenvalues and eigenvectors of a diagonalizable matrix, differentiated at every level.

    ``dw = diag(W^-1 dA W)`` and ``dW = W (F o W^-1 dA W)`` with the inverse
    gaps ``F``.  The eigenvectors' tangent keeps ``diag(W^-1 dW) = 0`` rather
    than NumPy's normalization, which the eigenvalues do not depend on; so
    this recurses into nested duals itself instead of calling ``eig``.
    """
    if type(a) is not Dual:
        return np.linalg.eig(a)
    w, vectors = _eigensystem(a.value)
    projected = np.linalg.solve(vectors, a.tangent @ vectors)
    gaps = _vector_gaps(w[..., None, :] - w[..., :, None], _clusters(w))
    return make(w, _diagonal(projected), a.tag), make(vectors, vectors @ (gaps * projected), a.tag)


@register_function(np.linalg.eigvals, examples=((GENERAL,), (REAL_SPECTRUM,), (STACK,)))
def eigvals(a: Dual) -> Dual:
    """Eigenvalues of a diagonalizable matrix: ``dw = diag(W^-1 dA W)`` (complex allowed)."""
    return _eigensystem(a)[0]


@register_function(np.linalg.eig, examples=((REAL_SPECTRUM,), (REAL_STACK,)))
def eig(a: Dual) -> Any:
    """Eigenvalues and unit eigenvectors of a real matrix with a real spectrum.

    ``dW = W (F o W^-1 dA W)``, then each column's component along itself is
    removed so it stays a unit vector; complex eigenvectors raise
    ``TypeError`` (their phase convention is not differentiated).
    """
    value, tangent, tag, _ = _unpack(a, "eig", real=True)
    result = np.linalg.eig(value)
    w, vectors = result
    if np.iscomplexobj(strip(w)):
        raise TypeError("dualdiff differentiates numpy.linalg.eig only for real eigenvalues; "
                        "use numpy.linalg.eigvals for complex ones")
    projected = np.linalg.solve(vectors, tangent @ vectors)
    gaps = _vector_gaps(w[..., None, :] - w[..., :, None], _clusters(w))
    dv = vectors @ (gaps * projected)
    dv = dv - vectors * np.sum(vectors * dv, axis=-2, keepdims=True)
    return type(result)(make(w, _diagonal(projected), tag), make(vectors, dv, tag))


@register_function(np.linalg.svd, examples=(
    ((TALL,), {"full_matrices": False}), ((WIDE,), {"full_matrices": False}), (GENERAL,),
    ((STACK,), {"compute_uv": False}), ((TALL,), {"compute_uv": False}),
))
def svd(a: Dual, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """Singular value decomposition (reduced, or full when square); real matrices only.

    With ``dP = U^T dA V`` and ``F[i, j] = 1 / (s[j]**2 - s[i]**2)``:
    ``ds = diag(dP)``, ``dU = U (F o (dP S + S dP^T)) + (I - U U^T) dA V S^-1``,
    and ``dV`` alike.  Repeated and zero singular values: as ``eigh``
    (docs/conventions.md); their singular vectors' tangents are NaN.
    """
    value, tangent, tag, _ = _unpack(a, "svd", real=True)
    if hermitian:
        raise TypeError("dualdiff does not support the argument hermitian=True of "
                        "numpy.linalg.svd; pass hermitian=False")
    if not compute_uv:
        return svdvals(a)
    m, n = np.shape(strip(value))[-2:]
    if full_matrices and m != n:
        raise TypeError("dualdiff differentiates numpy.linalg.svd of a non-square matrix only "
                        "with full_matrices=False: the extra singular vectors are not unique")
    result = np.linalg.svd(value, full_matrices=full_matrices)
    u, s, vh = result
    v = _mt(vh)
    dp = _mt(u) @ tangent @ v
    cutoff = _cutoff(s, max(m, n))
    plain = strip(s)
    positive = plain > cutoff
    same = _clusters(s, positive)
    f = _vector_gaps(s[..., None, :] ** 2 - s[..., :, None] ** 2, same, ~positive)
    row, column = s[..., None, :], s[..., :, None]
    dpt = _mt(dp)
    s_inverse = np.where(positive, 1.0 / np.where(positive, s, 1.0), np.nan)[..., None, :]
    du = u @ (f * (dp * row + column * dpt)) + (tangent @ v - u @ dp) * s_inverse
    dv = v @ (f * (column * dp + dpt * row)) + (_mt(tangent) @ u - v @ dpt) * s_inverse
    ds = np.where(positive, _cluster_slopes(_diagonal(dp), dp, same, singular=True), 0.0)
    return type(result)(make(u, du, tag), make(s, ds, tag), make(vh, _mt(dv), tag))


@register_function(np.linalg.svdvals, examples=((TALL,), (WIDE,), (STACK,)))
def svdvals(x: Dual, /) -> Dual:
    """Singular values: ``ds = diag(U^T dA V)``; slope 0 for a zero singular value (a kink)."""
    value, tangent, tag, _ = _unpack(x, "svdvals", real=True)
    s = np.linalg.svdvals(value)
    return make(s, _singular_value_tangents(*_svd_parts(value), tangent), tag)


# --- the array API's spellings --------------------------------------------------------------------


@register_function(np.linalg.matmul, examples=((GENERAL, RHS), (STACK, STACK)))
def linalg_matmul(x1: Any, x2: Any, /) -> Dual:
    """``numpy.matmul``."""
    return np.matmul(x1, x2)


@register_function(np.linalg.outer, examples=((RHS, RHS[:2]),))
def linalg_outer(x1: Any, x2: Any, /) -> Dual:
    """``numpy.outer`` of two vectors."""
    if np.ndim(strip(x1)) != 1 or np.ndim(strip(x2)) != 1:
        np.linalg.outer(strip(x1), strip(x2))  # NumPy's own error
    return np.outer(x1, x2)


@register_function(np.linalg.tensordot, examples=(((TALL, TALL), {"axes": 2}),
                                                  ((GENERAL, RHS), {"axes": 1})))
def linalg_tensordot(x1: Any, x2: Any, /, *, axes: Any = 2) -> Dual:
    """``numpy.tensordot``."""
    return np.tensordot(x1, x2, axes=axes)


@register_function(np.linalg.cross, examples=((RHS, GENERAL), ((GENERAL, TALL[:3]), {"axis": 0})))
def linalg_cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Dual:
    """``numpy.cross`` of 3-vectors."""
    if np.shape(strip(x1))[axis] != 3 or np.shape(strip(x2))[axis] != 3:
        np.linalg.cross(strip(x1), strip(x2), axis=axis)  # NumPy's own error
    return np.cross(x1, x2, axis=axis)


@register_function(np.linalg.vecdot, examples=((RHS, GENERAL), ((GENERAL, TALL[:3]), {"axis": 0})))
def linalg_vecdot(x1: Any, x2: Any, /, *, axis: int = -1) -> Dual:
    """``numpy.vecdot`` along ``axis`` of each operand (a gufunc's ``axis=``), as NumPy."""
    x1, x2 = (np.moveaxis(x, normalize_axis(axis, np.ndim(strip(x))), -1) for x in (x1, x2))
    return np.vecdot(x1, x2)


@register_function(np.linalg.matrix_transpose, examples=((STACK,), (TALL,)))
def matrix_transpose(x: Any, /) -> Dual:
    """Transpose the last two axes."""
    if np.ndim(strip(x)) < 2:
        np.linalg.matrix_transpose(strip(x))  # NumPy's own error
    return _mt(x)
