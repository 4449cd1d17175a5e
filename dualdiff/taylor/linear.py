"""NumPy functions on Jets: linear ones act coefficient by coefficient, through the Dual rules.

A linear function ``L`` maps the series ``a_0 + a_1 t + ...`` to ``L(a_0) + L(a_1) t + ...``.
Its Dual implementation already applies ``L`` to every tangent of a batch (that is
what a first-order rule of a linear function is), so a Jet of order ``K`` goes through
as one ``Dual`` whose batch of tangents is its ``K`` coefficients (times its own batch
of directions): no new rules, and every keyword, axis and layout the Dual
implementation supports.  Functions that are linear once the values have decided a
selection (``max``, ``sort``, ``where``, ``clip``, ``median``) go the same way: the
selection the first-order convention makes holds at every order.

Bilinear functions (``matmul``, ``dot``, ``einsum``, ``tensordot``, ...) with one live
operand are linear; with two, the coefficients are the Cauchy product
``c_k = sum_j B(a_j, b_{k-j})``.  ``inv``, ``solve``, ``det``, ``cholesky`` and
``eigh``/``eigvalsh`` (distinct eigenvalues) have their own recurrences.  Any other
function raises ``TypeError`` naming it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dispatch import RULES
from dualdiff.dual import Dual
from dualdiff.memory import make
from dualdiff.tags import new_tag
from dualdiff.taylor.jet import Jet, _plain, full_term, make_jet
from dualdiff.taylor.recurrences import exp_series, sum_products

LINEAR_UFUNCS: frozenset[np.ufunc] = frozenset(
    rule.ufunc for rule in RULES.values()
    if rule.jvp is None and all(type(p) is float for p in rule.partials)
)
"""Ufuncs whose row has constant partials only: linear (``add``, ``negative``, ``deg2rad``)."""


def _functions(module: Any, *names: str) -> list[Callable[..., Any]]:
    return [getattr(module, name) for name in names if hasattr(module, name)]


LINEAR: frozenset[Callable[..., Any]] = frozenset([
    # shapes, views and copies
    *_functions(np, "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze",
                "expand_dims", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_to",
                "broadcast_arrays", "flip", "fliplr", "flipud", "rot90", "roll", "repeat",
                "tile", "pad", "diag", "diagonal", "diagflat", "trace", "tril", "triu",
                "real", "imag", "astype", "copy", "matrix_transpose", "zeros_like",
                "ones_like", "empty_like", "full_like", "meshgrid", "shape", "ndim", "size"),
    # joining and splitting
    *_functions(np, "concatenate", "stack", "vstack", "hstack", "dstack", "column_stack",
                "block", "split", "array_split", "hsplit", "vsplit", "dsplit", "append",
                "delete", "insert"),
    # linear reductions and differences
    *_functions(np, "sum", "nansum", "mean", "nanmean", "average", "cumsum", "nancumsum",
                "cumulative_sum", "diff", "ediff1d", "gradient", "trapezoid", "linspace"),
    # selections: linear once the values have chosen (the conventions hold at every order)
    *_functions(np, "take", "take_along_axis", "compress", "extract", "where", "select",
                "choose", "clip", "max", "min", "amax", "amin", "nanmax", "nanmin", "ptp",
                "sort", "partition", "median", "nanmedian", "percentile", "quantile",
                "nanpercentile", "nanquantile", "round", "around", "fix", "real_if_close",
                "nan_to_num"),
    # plain answers about the values
    *_functions(np, "argmax", "argmin", "nanargmax", "nanargmin", "argsort", "argpartition",
                "argwhere", "nonzero", "flatnonzero", "all", "any", "allclose", "isclose",
                "array_equal", "array_equiv", "count_nonzero", "searchsorted", "isreal",
                "iscomplex", "isrealobj", "iscomplexobj", "isneginf", "isposinf", "lexsort",
                "digitize", "isin"),
    # Fourier transforms
    *_functions(np.fft, "fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft",
                "rfft2", "irfft2", "rfftn", "irfftn", "hfft", "ihfft", "fftshift",
                "ifftshift"),
    *_functions(np.linalg, "matrix_transpose", "diagonal", "trace"),
])
"""NumPy functions that act on every Taylor coefficient alike (through their Dual rules)."""

BILINEAR: frozenset[Callable[..., Any]] = frozenset([
    np.matmul, *_functions(np, "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron",
                           "cross", "convolve", "correlate", "vecdot"),
    *_functions(np.linalg, "multi_dot", "outer", "cross", "tensordot", "vecdot", "matmul"),
])
"""Functions linear in each operand: linear with one live operand, a Cauchy product with two."""


# --- Jets as Duals -------------------------------------------------------------------------------


def _walk(x: Any, visit: Callable[[Jet], Any]) -> Any:
    if type(x) is Jet:
        return visit(x)
    if isinstance(x, list | tuple) and not hasattr(x, "_fields"):
        return type(x)(_walk(item, visit) for item in x)
    return x


def _jets(x: Any) -> list[Jet]:
    found: list[Jet] = []
    _walk(x, found.append)
    return found


def _live_of(args: tuple[Any, ...], kwargs: dict) -> tuple[int, int, tuple[int, ...]]:
    jets = _jets(list(args) + list(kwargs.values()))
    tag = max(j.tag for j in jets)
    live = [j for j in jets if j.tag == tag]
    batches = {j.batch for j in live} - {()}
    if len(batches) > 1:
        raise ValueError(f"Jets of one Taylor call carry different batches {batches}")
    for x in list(args) + list(kwargs.values()):
        if type(x) is Dual and x.tag > tag:
            raise TypeError(
                "a Dual of a derivative call made inside a Taylor call met that call's Jet; "
                "nest the other way round (a Taylor call inside a derivative call)"
            )
    return tag, min(j.order for j in live), batches.pop() if batches else ()


def _as_dual(jet: Jet, order: int, batch: tuple[int, ...], tag: int) -> Dual:
    value = jet.terms[0]
    shape = jet.shape
    dtype = np.result_type(*(_plain(a) for a in jet.terms[: order + 1]))
    higher = [full_term(a, batch + shape, dtype) for a in jet.terms[1: order + 1]]
    tangent = np.stack(higher)
    tangent = np.reshape(tangent, (order * math.prod(batch), *shape))
    return make(value, tangent, tag)


def _from_dual(x: Any, tag: int, live_tag: int, order: int, batch: tuple[int, ...]) -> Any:
    if type(x) is Dual and x.tag == tag:
        shape = np.shape(_plain(x.value))
        higher = np.reshape(x.tangent, (order, *batch, *shape))
        return make_jet([x.value, *(higher[k] for k in range(order))], live_tag)
    if isinstance(x, list | tuple):
        items = [_from_dual(item, tag, live_tag, order, batch) for item in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    return x


def through_duals(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """``func`` of Jets, linear in them: one Dual call with the coefficients as a batch."""
    live_tag, order, batch = _live_of(args, kwargs)
    if order == 0:
        def value(j: Jet) -> Any:
            return j.terms[0] if j.tag == live_tag else j

        out = func(*_walk(args, value), **{k: _walk(v, value) for k, v in kwargs.items()})
        return _walk_out(out, live_tag)
    tag = new_tag()

    def convert(j: Jet) -> Any:
        return _as_dual(j, order, batch, tag) if j.tag == live_tag else j

    out = func(*_walk(args, convert), **{k: _walk(v, convert) for k, v in kwargs.items()})
    return _from_dual(out, tag, live_tag, order, batch)


def _walk_out(out: Any, tag: int) -> Any:
    """A result of order 0: numbers and arrays become Jets of order 0 of ``tag``."""
    if isinstance(out, list | tuple):
        items = [_walk_out(item, tag) for item in out]
        return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)
    if isinstance(out, np.ndarray) and out.dtype.kind in "fc":
        return make_jet([out], tag)
    if type(out) in (float, complex) or isinstance(out, np.floating | np.complexfloating):
        return make_jet([out], tag)
    return out


# --- bilinear products ---------------------------------------------------------------------------


def bilinear(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """``func`` of Jets, bilinear: linear in one live operand, a Cauchy product of two."""
    live_tag, order, batch = _live_of(args, kwargs)
    flat = list(args[0]) if func is getattr(np.linalg, "multi_dot", None) else list(args)
    positions = [i for i, a in enumerate(flat) if type(a) is Jet and a.tag == live_tag]
    if len(positions) <= 1:
        return through_duals(func, args, kwargs)
    if len(positions) > 2:
        raise TypeError(
            f"numpy.{func.__name__} of more than two Jets has no Taylor rule; multiply them "
            "two at a time"
        )
    i, j = positions
    a, b = flat[i], flat[j]

    def call(x: Any, y: Any) -> Any:
        items = list(flat)
        items[i], items[j] = x, y
        if func is getattr(np.linalg, "multi_dot", None):
            return func(items, **kwargs)
        return func(*items, **kwargs)

    def terms_of(jet: Jet, member: int | None) -> list[Any]:
        dtype = np.result_type(*(_plain(t) for t in jet.terms))
        out = [jet.terms[0]]
        for t in jet.terms[1: order + 1]:
            full = full_term(t, batch + jet.shape, dtype) if batch else full_term(
                t, jet.shape, dtype)
            out.append(full[member] if member is not None else full)
        return out

    def product(member: int | None) -> list[Any]:
        x, y = terms_of(a, member), terms_of(b, member)
        return [_sum([call(x[m], y[k - m]) for m in range(k + 1)]) for k in range(order + 1)]

    if not batch:
        return make_jet(product(None), live_tag)
    members = [product(m) for m in range(batch[0])]
    terms = [members[0][0]] + [np.stack([p[k] for p in members]) for k in range(1, order + 1)]
    return make_jet(terms, live_tag)


def _sum(items: list[Any]) -> Any:
    total = items[0]
    for item in items[1:]:
        total = total + item
    return total


# --- linear algebra ------------------------------------------------------------------------------


def _matrix_terms(jet: Jet, order: int, batch: tuple[int, ...], name: str) -> list[Any]:
    if jet.ndim != 2 or isinstance(jet.terms[0], Dual | Jet):
        raise TypeError(f"Taylor mode differentiates numpy.linalg.{name} of one plain matrix "
                        f"(shape (n, n)), not shape {jet.shape} or nested")
    dtype = np.result_type(*(_plain(t) for t in jet.terms))
    return [jet.terms[0]] + [full_term(t, batch + jet.shape, dtype)
                             for t in jet.terms[1: order + 1]]


def _inv(a: Any) -> Any:
    if type(a) is not Jet:
        return np.linalg.inv(a)
    tag, order, batch = _live_of((a,), {})
    terms = _matrix_terms(a, order, batch, "inv")
    y = [np.linalg.inv(terms[0])]
    for k in range(1, order + 1):
        y.append(-y[0] @ _sum([terms[j] @ y[k - j] for j in range(1, k + 1)]))
    return make_jet(y, tag)


def _solve(a: Any, b: Any) -> Any:
    tag, order, batch = _live_of((a, b), {})
    a_terms = _matrix_terms(a, order, batch, "solve") if type(a) is Jet else None
    a0 = a_terms[0] if a_terms else a
    if type(b) is Jet and b.tag == tag:
        dtype = np.result_type(*(_plain(t) for t in b.terms))
        b_terms = [b.terms[0]] + [full_term(t, batch + b.shape, dtype)
                                  for t in b.terms[1: order + 1]]
        vector = b.ndim == 1
    else:
        b_terms = [b] + [0.0] * order
        vector = np.ndim(b) == 1

    def apply(m: Any, x: Any) -> Any:  # m @ x for a vector x with a leading batch axis
        return np.matmul(m, x[..., None])[..., 0] if vector else m @ x

    def solve0(rhs: Any) -> Any:
        if vector and np.ndim(rhs) == 2:
            return np.linalg.solve(a0, rhs.T).T
        if not vector and np.ndim(rhs) == 3:
            return np.linalg.solve(a0[None], rhs)
        return np.linalg.solve(a0, rhs)

    x = [np.linalg.solve(a0, b_terms[0])]
    for k in range(1, order + 1):
        rhs = b_terms[k]
        if a_terms:
            rhs = rhs - _sum([apply(a_terms[j], x[k - j]) for j in range(1, k + 1)])
        if np.ndim(rhs) == 0:  # a constant right-hand side with no coefficient yet
            rhs = np.zeros_like(x[0])
        x.append(solve0(rhs))
    return make_jet(x, tag)


def _det(a: Any) -> Any:
    tag, order, batch = _live_of((a,), {})
    terms = _matrix_terms(a, order, batch, "det")
    d0 = np.linalg.det(terms[0])
    inverse = np.linalg.inv(terms[0])
    m = [np.eye(a.shape[0])] + [inverse @ t for t in terms[1:]]  # A0^-1 A(t) = I + N(t)
    w = [np.eye(a.shape[0])]  # W = M^-1, to order K - 1
    for k in range(1, order):
        w.append(-_sum([m[j] @ w[k - j] for j in range(1, k + 1)]))
    # s = tr log M: k s_k = sum_{j<k} tr(W_j (k - j) M_{k-j}); det = d0 exp(s)
    s = [0.0] + [sum_products([np.trace(w[j] @ m[k - j], axis1=-2, axis2=-1) * (k - j)
                               for j in range(k)], [1.0] * k) / k for k in range(1, order + 1)]
    return make_jet(exp_series(s, d0, order), tag)


def _real_matrix(a: Any, name: str) -> tuple[int, int, tuple[int, ...], list[Any]]:
    tag, order, batch = _live_of((a,), {})
    terms = _matrix_terms(a, order, batch, name)
    if any(np.iscomplexobj(t) for t in terms):
        raise TypeError(f"Taylor mode differentiates numpy.linalg.{name} of real matrices only")
    return tag, order, batch, terms


def _mT(m: Any) -> Any:  # noqa: N802 - NumPy's name
    return np.swapaxes(m, -1, -2)


def _cholesky(a: Any, upper: bool = False) -> Any:
    # A = L L^T: L_0 L_k^T + L_k L_0^T = S_k = A_k - sum_{0<j<k} L_j L_{k-j}^T, solved by
    # L_k = L_0 Phi(L_0^-1 S_k L_0^-T), Phi = lower triangle with half the diagonal
    tag, order, _, terms = _real_matrix(a, "cholesky")
    if upper:
        raise TypeError("Taylor mode differentiates numpy.linalg.cholesky(a) (lower) only")
    low = [np.linalg.cholesky(terms[0])]
    inverse = np.linalg.inv(low[0])
    for k in range(1, order + 1):
        rest = terms[k] - _sum([low[j] @ _mT(low[k - j]) for j in range(1, k)]) if k > 1 \
            else terms[k]
        p = inverse @ rest @ inverse.T
        phi = np.tril(p) - 0.5 * (np.eye(p.shape[-1]) * p)
        low.append(low[0] @ phi)
    return make_jet(low, tag)


def _eigh_series(a: Any, name: str) -> tuple[int, list[Any], list[Any]]:
    # V_0^T A(t) V_0 Q(t) = Q(t) W(t) with Q(0) = I orthogonal, W diagonal; order k:
    # R_k = sum_{j>=1} B_j Q_{k-j} - sum_{0<j<k} Q_j W_{k-j}; W_k = diag(R_k),
    # (Q_k)_ij = R_ij / (w_j - w_i) off the diagonal, diag(Q_k) from Q^T Q = I.
    # Distinct eigenvalues: at a tie the coefficients are not finite.
    tag, order, _, terms = _real_matrix(a, name)
    w0, v0 = np.linalg.eigh(terms[0])
    n = w0.size
    b = [np.diag(w0)] + [v0.T @ t @ v0 for t in terms[1:]]
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = w0[None, :] - w0[:, None]
        gap[np.arange(n), np.arange(n)] = np.inf
        q, w = [np.eye(n)], [w0]
        for k in range(1, order + 1):
            r = _sum([b[j] @ q[k - j] for j in range(1, k + 1)])
            if k > 1:
                r = r - _sum([q[j] * w[k - j][..., None, :] for j in range(1, k)])
            w.append(np.diagonal(r, axis1=-2, axis2=-1).copy())
            qk = r / gap
            if k > 1:
                sym = _sum([_mT(q[j]) @ q[k - j] for j in range(1, k)])
                qk = qk - 0.5 * np.eye(n) * sym
            q.append(qk)
    return tag, w, [v0 @ qk for qk in q]


def _eigh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    tag, w, v = _eigh_series(a, "eigh")
    return type(np.linalg.eigh(np.eye(1)))(make_jet(w, tag), make_jet(v, tag))


def _eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's name
    tag, w, _ = _eigh_series(a, "eigvalsh")
    return make_jet(w, tag)


SPECIAL: dict[Callable[..., Any], Callable[..., Any]] = {
    np.linalg.inv: _inv,
    np.linalg.solve: _solve,
    np.linalg.det: _det,
    np.linalg.cholesky: _cholesky,
    np.linalg.eigh: _eigh,
    np.linalg.eigvalsh: _eigvalsh,
}
"""Functions with their own Taylor recurrences."""


def call_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """``Jet.__array_function__``."""
    special = SPECIAL.get(func)
    if special is not None:
        return special(*args, **kwargs)
    if func in BILINEAR:
        return bilinear(func, args, kwargs)
    if func in LINEAR:
        return through_duals(func, args, kwargs)
    name = getattr(func, "__module__", "numpy") + "." + getattr(func, "__name__", str(func))
    raise TypeError(
        f"{name.replace('numpy.linalg._linalg', 'numpy.linalg')} has no Taylor rule: "
        "dualdiff's Taylor mode differentiates ufuncs, linear functions and "
        "inv/solve/det/cholesky/eigh; write it with those"
    )
