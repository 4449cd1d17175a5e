"""Taylor coefficients of the ufuncs: recurrences derived from the rule table.

Every row of :mod:`dualdiff.rules` (and :mod:`dualdiff.special`) gives ``y' = f'(x) x'``.
Written on series, with ``g = f'(x)`` evaluated *on the Jet itself* (the partial is
an expression of NumPy functions, which dispatch to Jets), this is

    k y_k = sum_{j=1..k} j x_j g_{k-j},

so any row whose partial is expressible on Jets has Taylor coefficients of every order
without a new rule (:func:`generic_unary`, :func:`generic_binary`).  A partial that
reads ``ans`` (``exp``: ``g = y``) is evaluated once per order, one coefficient at a
time, since ``g_{k-1}`` needs ``y_{k-1}``; one that reads only ``x`` is evaluated once.

That generic route costs more than it must, so the main functions have dedicated
O(K²) recurrences in :data:`UNARY` and :data:`BINARY` (``exp``, ``log``, ``sqrt``,
powers, ``sin``/``cos``, ``tan``/``tanh``, ``sinh``/``cosh``, inverse trigonometric and
hyperbolic functions, ``erf``, products, quotients, squares): each is the derivative
recurrence of an ODE the function satisfies (``y' = y x'`` for ``exp``, ``x y' = x'``
for ``log``...).  Values ``a_0`` are always NumPy's own (the rule's evaluator), and
where the first-order row writes its partial accurately (``tanh``'s
``1 - tanh**2`` cancels at 20) the recurrence takes ``g_0`` from that row.

Kinks follow ``docs/conventions.md`` at every order: the partial at the value (``abs``:
``sign(x)``, a tie of ``maximum``: ``1/2``) multiplies every coefficient, which is the
Taylor series of the locally linear branch the convention picks.  With
:func:`dualdiff.nan_safe` on, a zero direction gives zero coefficients even through
an infinite partial.
"""

from __future__ import annotations

import math
import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import dispatch
from dualdiff.dual import Dual
from dualdiff.rules import (
    COMPOSED,
    INTEGER_ONLY,
    MULTI_OUTPUT,
    NON_HOLOMORPHIC,
    NOT_DIFFERENTIABLE,
    UfuncRule,
)
from dualdiff.tags import new_tag
from dualdiff.taylor.jet import Jet, _plain, make_jet, ndim_of

Terms = list[Any]
SCALAR_ERRORS = (ArithmeticError, ValueError)


# --- sums of products ------------------------------------------------------------------------


def sum_products(xs: list[Any], ys: list[Any]) -> Any:
    """``sum(x * y for x, y in zip(xs, ys))``; large arrays accumulate in place, in one buffer."""
    if not xs:
        return 0.0
    acc = xs[0] * ys[0]
    kind = type(acc)
    if kind is float or kind is complex:  # Python numbers: the C loop of sum and map
        return sum(map(operator.mul, xs, ys))
    buffer = np.empty_like(acc) if kind is np.ndarray and acc.size >= _IN_PLACE else None
    for x, y in zip(xs[1:], ys[1:], strict=True):
        if buffer is not None:
            try:
                np.multiply(x, y, out=buffer)
            except (ValueError, TypeError):  # another shape or dtype: the general sum
                acc = acc + x * y
                buffer = None
                continue
            acc += buffer
        else:
            acc = acc + x * y
    return acc


_IN_PLACE = 4096
"""Arrays from this size accumulate products in place (allocations cost more than they save
below it)."""


def cauchy(a: Terms, b: Terms, order: int) -> Terms:
    """The coefficients of the product of two series: ``c_k = sum_j a_j b_{k-j}``."""
    return [sum_products(a[: k + 1], b[k::-1]) for k in range(order + 1)]


def square_series(a: Terms, order: int) -> Terms:
    """``cauchy(a, a)`` with each cross product computed once."""
    out = []
    for k in range(order + 1):
        half = (k + 1) // 2
        s = 2.0 * sum_products(a[:half], a[k:k - half:-1]) if half else 0.0
        out.append(s + a[k // 2] * a[k // 2] if k % 2 == 0 else s)
    return out


def scaled_x(x: Terms, order: int) -> Terms:
    """``[0, 1 x_1, 2 x_2, ..., K x_K]``: the series of ``t x'(t)``."""
    return [0.0] + [j * x[j] for j in range(1, order + 1)]


def integrate_product(x: Terms, g: Terms, y0: Any, order: int) -> Terms:
    """``y`` with ``y' = g x'`` and ``y(0) = y0``, ``g`` known to order ``K - 1``."""
    jx = scaled_x(x, order)
    return [y0] + [sum_products(jx[1:k + 1], g[k - 1::-1]) / k for k in range(1, order + 1)]


def integrate_ratio(x: Terms, u: Terms, y0: Any, order: int) -> Terms:
    """``y`` with ``u y' = x'``: ``y_k = (x_k - (1/k) sum_{j<k} j y_j u_{k-j}) / u_0``."""
    y, jy = [y0], [0.0]
    for k in range(1, order + 1):
        rest = sum_products(jy[1:k], u[k - 1:0:-1]) / k if k > 1 else 0.0
        y.append((x[k] - rest) / u[0])
        jy.append(k * y[k])
    return y


def quotient(a: Terms, b: Terms, q0: Any, order: int) -> Terms:
    """``q = a / b``: ``q_k = (a_k - sum_{j=1..k} b_j q_{k-j}) / b_0``."""
    q = [q0]
    for k in range(1, order + 1):
        q.append((a[k] - sum_products(b[1:k + 1], q[k - 1::-1])) / b[0])
    return q


def sqrt_series(x: Terms, y0: Any, order: int) -> Terms:
    """``y = sqrt(x)``: ``y_k = (x_k - sum_{j=1..k-1} y_j y_{k-j}) / (2 y_0)``."""
    y = [y0]
    twice = 2 * y0
    for k in range(1, order + 1):
        y.append((x[k] - sum_products(y[1:k], y[k - 1:0:-1])) / twice)
    return y


def exp_series(x: Terms, y0: Any, order: int, scale: float = 1.0) -> Terms:
    """``y = exp(scale x)``: ``k y_k = scale sum_j j x_j y_{k-j}``."""
    jx = scaled_x(x, order)
    if scale != 1.0:
        jx = [scale * a for a in jx]
    y = [y0]
    for k in range(1, order + 1):
        y.append(sum_products(jx[1:k + 1], y[k - 1::-1]) / k)
    return y


def power_series(x: Terms, p: Any, y0: Any, order: int) -> Terms:
    """``y = x**p`` for a constant ``p``, from ``x y' = p x' y``.

    ``y_k = sum_{j=1..k} ((p + 1) j - k) x_j y_{k-j} / (k x_0)``; non-negative integer
    powers multiply instead (exact, and defined at ``x_0 == 0``).
    """
    if _small_integer(p):
        n = int(_plain(p))
        if n >= 0:
            result, base = [1.0] + [0.0] * order, list(x[: order + 1])
            while n:
                if n & 1:
                    result = cauchy(result, base, order)
                n >>= 1
                if n:
                    base = square_series(base, order)
            result[0] = y0
            return result
    y = [y0]
    for k in range(1, order + 1):
        weights = [((p + 1) * j - k) * x[j] for j in range(1, k + 1)]
        y.append(sum_products(weights, y[k - 1::-1]) / (k * x[0]))
    return y


def _small_integer(p: Any) -> bool:
    plain = _plain(p)
    return np.ndim(plain) == 0 and not isinstance(p, Dual | Jet) and np.isreal(plain) \
        and float(np.real(plain)).is_integer() and abs(plain) <= 64


def _pad(terms: Terms, order: int) -> Terms:
    return list(terms[: order + 1]) + [0.0] * (order + 1 - len(terms))


def _plus(terms: Terms, c: Any) -> Terms:
    return [terms[0] + c, *terms[1:]]


def _minus(terms: Terms) -> Terms:
    return [-a for a in terms]


# --- the dedicated recurrences ---------------------------------------------------------------


def _value(ufunc: np.ufunc, *values: Any) -> Any:
    """NumPy's value of ``ufunc`` (through the rule's evaluator, as Dual computes it)."""
    evaluate = dispatch.EVALUATE.get(ufunc, ufunc)
    if all(type(v) in (float, complex) for v in values):
        try:
            return evaluate(*values)
        except SCALAR_ERRORS:
            wide = [np.complex128(v) if type(v) is complex else np.float64(v) for v in values]
            return ufunc(*wide)
    return evaluate(*values)


def _slope0(ufunc: np.ufunc, x0: Any, y0: Any) -> Any:
    """The first-order row's partial at the value (its accurate form)."""
    partial = dispatch.RULES[ufunc].partials[0]
    return partial if type(partial) is float else partial(x0, y0)


def _sin(x: Terms, order: int, want_sin: bool) -> Terms:
    s, c = [_value(np.sin, x[0])], [_value(np.cos, x[0])]
    jx = scaled_x(x, order)
    for k in range(1, order + 1):
        s_k = sum_products(jx[1:k + 1], c[k - 1::-1]) / k
        c_k = -sum_products(jx[1:k + 1], s[k - 1::-1]) / k
        s.append(s_k)
        c.append(c_k)
    return s if want_sin else c


def _sinh(x: Terms, order: int, want_sinh: bool) -> Terms:
    s, c = [_value(np.sinh, x[0])], [_value(np.cosh, x[0])]
    jx = scaled_x(x, order)
    for k in range(1, order + 1):
        s_k = sum_products(jx[1:k + 1], c[k - 1::-1]) / k
        c_k = sum_products(jx[1:k + 1], s[k - 1::-1]) / k
        s.append(s_k)
        c.append(c_k)
    return s if want_sinh else c


def _tan_like(x: Terms, y0: Any, w0: Any, sign: float, order: int) -> Terms:
    """``y' = (1 + sign y**2) x'`` (``tan``: +1, ``tanh``: -1), ``w = 1 + sign y**2``."""
    y, w = [y0], [w0]
    jx = scaled_x(x, order)
    for k in range(1, order + 1):
        y.append(sum_products(jx[1:k + 1], w[k - 1::-1]) / k)
        w.append(sign * sum_products(y[: k + 1], y[k::-1]))
    return y


def _u_sqrt(v: Terms, u0: Any, order: int) -> Terms:
    return sqrt_series(v, u0, order)


def _one_minus_square_series(x: Terms, order: int) -> Terms:
    # (1 - x)(1 + x): exact factors near |x| == 1, as the first-order row
    return cauchy(_plus(_minus(x), 1.0), _plus(x, 1.0), order)


def _arcsin(x: Terms, y0: Any, order: int, sign: float) -> Terms:
    v = _one_minus_square_series(x, order - 1)
    u = _u_sqrt(v, _value(np.sqrt, v[0]), order - 1)
    return integrate_ratio([sign * a for a in x], u, y0, order)


def _arccosh(x: Terms, y0: Any, order: int) -> Terms:
    v = cauchy(_plus(x, -1.0), _plus(x, 1.0), order - 1)
    u = _u_sqrt(v, _value(np.sqrt, x[0] - 1) * _value(np.sqrt, x[0] + 1), order - 1)
    return integrate_ratio(x, u, y0, order)


def _arcsinh(x: Terms, y0: Any, order: int) -> Terms:
    v = _plus(square_series(x, order - 1), 1.0)
    u0 = 1 / _slope0(np.arcsinh, x[0], y0)  # hypot(x, 1): x * x overflows
    return integrate_ratio(x, sqrt_series(v, u0, order - 1), y0, order)


def _unary_recurrences() -> dict[np.ufunc, Callable[[Terms, Any, int], Terms]]:
    ln2, ln10 = math.log(2.0), math.log(10.0)

    def log_series(x: Terms, y0: Any, order: int, scale: float = 1.0) -> Terms:
        y = integrate_ratio(x, x, 0.0, order)
        return [y0] + [scale * a for a in y[1:]]

    table: dict[np.ufunc, Callable[[Terms, Any, int], Terms]] = {
        np.exp: exp_series,
        np.exp2: lambda x, y0, order: exp_series(x, y0, order, ln2),
        np.expm1: _expm1,
        np.log: log_series,
        np.log2: lambda x, y0, order: log_series(x, y0, order, 1 / ln2),
        np.log10: lambda x, y0, order: log_series(x, y0, order, 1 / ln10),
        np.log1p: lambda x, y0, order: integrate_ratio(x, _plus(x, 1.0), y0, order),
        np.sqrt: sqrt_series,
        np.cbrt: lambda x, y0, order: power_series(x, 1 / 3, y0, order),
        np.square: lambda x, y0, order: [y0, *square_series(x, order)[1:]],
        np.reciprocal: lambda x, y0, order: quotient([1.0] + [0.0] * order, x, y0, order),
        np.sin: lambda x, y0, order: [y0, *_sin(x, order, True)[1:]],
        np.cos: lambda x, y0, order: [y0, *_sin(x, order, False)[1:]],
        np.tan: lambda x, y0, order: _tan_like(x, y0, 1 + y0 * y0, 1.0, order),
        np.sinh: lambda x, y0, order: [y0, *_sinh(x, order, True)[1:]],
        np.cosh: lambda x, y0, order: [y0, *_sinh(x, order, False)[1:]],
        np.tanh: lambda x, y0, order: _tan_like(x, y0, _slope0(np.tanh, x[0], y0), -1.0, order),
        np.arctan: lambda x, y0, order: integrate_ratio(x, _plus(square_series(x, order - 1), 1.0),
                                                     y0, order),
        np.arcsin: lambda x, y0, order: _arcsin(x, y0, order, 1.0),
        np.arccos: lambda x, y0, order: _arcsin(x, y0, order, -1.0),
        np.arcsinh: _arcsinh,
        np.arccosh: _arccosh,
        np.arctanh: lambda x, y0, order: integrate_ratio(x, _one_minus_square_series(x, order - 1),
                                                      y0, order),
    }
    try:
        import scipy.special as sc  # noqa: PLC0415 - optional, as in dualdiff.special
    except ImportError:  # pragma: no cover - without SciPy there are no rows of it to extend
        return table

    def erf_like(sign: float) -> Callable[[Terms, Any, int], Terms]:
        def erf(x: Terms, y0: Any, order: int) -> Terms:
            # y' = sign 2/sqrt(pi) exp(-x**2) x', g_0 from erf's row (accurate in the tails)
            g = exp_series(_minus(square_series(x, order - 1)), _slope0(sc.erf, x[0], y0),
                           order - 1)
            return integrate_product(x, [sign * a for a in g], y0, order)

        return erf

    table[sc.erf] = erf_like(1.0)
    table[sc.erfc] = erf_like(-1.0)
    table[sc.expm1] = table[np.expm1]
    return table


def _expm1(x: Terms, y0: Any, order: int) -> Terms:
    # y' = exp(x) x' = (y + 1) x', with exp(x) = y + 1 written exp(x0) at order 0
    w, y = [_value(np.exp, x[0])], [y0]
    jx = scaled_x(x, order)
    for k in range(1, order + 1):
        y.append(sum_products(jx[1:k + 1], w[k - 1::-1]) / k)
        w.append(y[k])
    return y


UNARY: dict[np.ufunc, Callable[[Terms, Any, int], Terms]] = _unary_recurrences()
"""ufunc -> ``recurrence(x_terms, y0, order)``: the dedicated O(K²) recurrences."""


def _multiply(x: Terms | None, y: Terms | None, xv: Any, yv: Any, z0: Any, order: int) -> Terms:
    if x is None:
        return [z0] + [xv * b for b in y[1:]]
    if y is None:
        return [z0] + [a * yv for a in x[1:]]
    return [z0, *cauchy(x, y, order)[1:]]


def _divide(x: Terms | None, y: Terms | None, xv: Any, yv: Any, z0: Any, order: int) -> Terms:
    if y is None:
        return [z0] + [a / yv for a in x[1:]]
    numerator = x if x is not None else [xv] + [0.0] * order
    return quotient(numerator, y, z0, order)


def _constant_power(x: Terms, p: Any, z0: Any, order: int) -> Terms:
    if _small_integer(p) and int(_plain(p)) < 0:  # 1 / x**n: defined wherever x != 0
        inverse = power_series(x, -p, _value(np.power, x[0], -p), order)
        return quotient([1.0] + [0.0] * order, inverse, z0, order)
    if np.ndim(_plain(p)) == 0 and _plain(p) == 0:
        return [z0] + [0.0 * a for a in x[1:]]  # x**0 is flat, even at 0 (conventions)
    return power_series(x, p, z0, order)


def _power(x: Terms | None, y: Terms | None, xv: Any, yv: Any, z0: Any, order: int) -> Terms:
    if y is None:
        return _constant_power(x, yv, z0, order)
    # a live exponent: z = exp(y log x), with z_0 NumPy's x**y
    log_x = np.log(xv) if x is None else None
    if x is None:
        exponent = [a * log_x for a in y]
    else:
        log_terms = integrate_ratio(x, x, _value(np.log, x[0]), order)
        exponent = cauchy(log_terms, y, order)
    return exp_series(exponent, z0, order)


BINARY: dict[np.ufunc, Callable[..., Terms]] = {
    np.multiply: _multiply,
    np.true_divide: _divide,
    np.power: _power,
    np.float_power: _power,
}
"""ufunc -> ``recurrence(x_terms, y_terms, x_value, y_value, z0, order)``; a constant operand's
terms are ``None`` (its value is passed)."""


# --- the generic route from the first-order row ----------------------------------------------


_USES_ANS: dict[Any, bool] = {}


def _uses_ans(rule: UfuncRule, index: int) -> bool:
    """Whether the row's partial reads ``ans`` beyond its value (probed once on a Jet)."""
    partial = rule.partials[index]
    known = _USES_ANS.get(partial)
    if known is not None:
        return known
    point = rule.domain[0] if rule.domain else 0.5
    point = point if isinstance(point, tuple) else (point,)
    tag = new_tag()
    try:
        with np.errstate(all="ignore"):
            args = [make_jet((float(p), 1.0, 0.0), tag) for p in point]
            y0 = _value(rule.ufunc, *map(float, point))
            first = partial(*args, make_jet((y0, 0.0, 0.0), tag))
            second = partial(*args, make_jet((y0, 1.0, 0.5), tag))
        a, b = _terms_of(first, 2), _terms_of(second, 2)
        uses = not all(np.array_equal(_plain(p), _plain(q), equal_nan=True)
                       for p, q in zip(a, b, strict=True))
    except Exception:  # a partial that cannot be probed is treated as reading ans
        uses = True
    _USES_ANS[partial] = uses
    return uses


def _terms_of(g: Any, order: int) -> Terms:
    """A partial's value as a series to ``order`` (a plain value is a constant)."""
    if type(g) is Jet:
        return _pad(list(g.terms), order)
    return [g] + [0.0] * order


def _evaluate_partial(rule: UfuncRule, partial: Callable[..., Any], *args: Any) -> Any:
    """The row's partial on Jets; one it cannot evaluate there has no Taylor rule."""
    try:
        return partial(*args)
    except TypeError as error:
        if "has no Taylor rule" in str(error):
            raise TypeError(f"{_qualified(rule.ufunc)} has no Taylor rule, since {error}") \
                from error
        raise TypeError(
            f"{_qualified(rule.ufunc)} has no Taylor rule: its first-order partial cannot be "
            f"evaluated on Jets ({error})"
        ) from error


def _qualified(ufunc: np.ufunc) -> str:
    module = "scipy.special" if type(ufunc) is np.ufunc and not hasattr(np, ufunc.__name__) \
        else "numpy"
    return f"{module}.{ufunc.__name__}"


def generic_unary(rule: UfuncRule, x: Terms, y0: Any, tag: int, order: int) -> Terms:
    """``y`` with ``y' = f'(x) x'``, ``f'`` the row's partial evaluated on Jets."""
    partial = rule.partials[0]
    if type(partial) is float:
        return [y0] + [partial * a for a in x[1:]]
    if order == 0:
        return [y0]
    if not _uses_ans(rule, 0):
        g = _terms_of(_evaluate_partial(rule, partial, make_jet(x[:order], tag),
                                        make_jet((y0,), tag)), order - 1)
        return integrate_product(x, g, y0, order)
    y = [y0]
    jx = scaled_x(x, order)
    for k in range(1, order + 1):
        g = _terms_of(_evaluate_partial(rule, partial, make_jet(x[:k], tag),
                                        make_jet(y[:k], tag)), k - 1)
        y.append(sum_products(jx[1:k + 1], g[k - 1::-1]) / k)
    return y


def generic_binary(rule: UfuncRule, args: list[Terms | None], values: list[Any], z0: Any,
                   tag: int, order: int) -> Terms:
    """``z`` with ``z' = f_x x' + f_y y'``, the partials evaluated on Jets."""
    live = [i for i in range(len(args)) if args[i] is not None]
    for i in live:
        if rule.partials[i] is NOT_DIFFERENTIABLE:
            raise TypeError(
                f"numpy.{rule.ufunc.__name__} is not differentiable in argument {i}; pass a "
                "constant there"
            )
    if order == 0:
        return [z0]
    if all(type(rule.partials[i]) is float for i in live):
        out = [z0]
        for k in range(1, order + 1):
            out.append(sum(rule.partials[i] * args[i][k] for i in live))
        return out
    reads_ans = any(type(rule.partials[i]) is not float and _uses_ans(rule, i) for i in live)
    scaled = {i: scaled_x(args[i], order) for i in live}

    def slopes(k: int, z: Terms) -> dict[int, Terms]:
        inputs = [make_jet(args[i][:k], tag) if args[i] is not None else values[i]
                  for i in range(len(args))]
        ans = make_jet(z[:k], tag)
        out = {}
        for i in live:
            p = rule.partials[i]
            out[i] = [p] + [0.0] * (k - 1) if type(p) is float else _terms_of(
                _evaluate_partial(rule, p, *inputs, ans), k - 1)
        return out

    z = [z0]
    g = None if reads_ans else slopes(order, z)
    for k in range(1, order + 1):
        if reads_ans:
            g = slopes(k, z)
        z.append(sum(sum_products(scaled[i][1:k + 1], g[i][k - 1::-1]) for i in live) / k)
    return z


# --- the entry point: Jet.__array_ufunc__ ------------------------------------------------------


def _linear() -> Any:
    """:mod:`dualdiff.taylor.linear` (which imports this module)."""
    return sys.modules["dualdiff.taylor.linear"]


def _live(inputs: tuple[Any, ...]) -> tuple[int, int]:
    """The live tag (the newest Jet's) and the order every live Jet is known to."""
    jets = [x for x in inputs if type(x) is Jet]
    tag = max(j.tag for j in jets)
    for x in inputs:
        if type(x) is Dual and x.tag > tag:
            raise TypeError(
                "a Dual of a derivative call made inside a Taylor call met that call's Jet; "
                "dualdiff nests the other way round (a Taylor call inside a derivative call), "
                "or take higher orders from the Taylor call itself"
            )
    order = min(j.order for j in jets if j.tag == tag)
    return tag, order


def _lifted(jet: Jet, ndim: int, order: int) -> Terms:
    """A live Jet's terms to ``order``, batch coefficients given ``ndim`` value axes."""
    terms = list(jet.terms[: order + 1])
    missing = ndim - jet.ndim
    if missing <= 0:
        return terms
    batch = jet.batch
    if batch:
        lift = batch + (1,) * missing + jet.shape
        terms[1:] = [np.reshape(a, lift) if np.ndim(_plain(a)) > jet.ndim else a
                     for a in terms[1:]]
    return terms


def call_ufunc(  # noqa: PLR0911 - one dispatch by kind of ufunc
    ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict
) -> Any:
    """``Jet.__array_ufunc__``: Taylor coefficients of a ufunc call."""
    if not kwargs and method == "__call__" and not dispatch.SETTINGS.nan_safe:
        fast = _scalar_fast_path(ufunc, inputs)
        if fast is not None:
            return fast
    for x in inputs:
        if not (type(x) in (Jet, Dual, float, int, complex, bool, np.ndarray)
                or isinstance(x, np.generic | list | tuple)):
            return NotImplemented
    name = f"numpy.{ufunc.__name__}"
    if method != "__call__" or kwargs:
        if ufunc in _linear().LINEAR_UFUNCS and not kwargs.get("out"):
            return _linear().through_duals(lambda *a: getattr(ufunc, method)(*a, **kwargs),
                                           inputs, {})
        raise TypeError(
            f"dualdiff's Taylor mode does not support {name}.{method} or keyword arguments "
            f"({sorted(kwargs)}) on Jets; call {name}(...) plainly"
        )
    tag, order = _live(inputs)
    values = [x.terms[0] if type(x) is Jet and x.tag == tag else x for x in inputs]
    if ufunc in dispatch.PLAIN:
        return ufunc(*values)
    if ufunc in INTEGER_ONLY:
        raise TypeError(f"{name} is defined for integers only, and a Jet holds floats")
    ndim = max(ndim_of(v) for v in values)
    args = [_lifted(x, ndim, order) if type(x) is Jet and x.tag == tag else None
            for x in inputs]
    with_nan_safe = dispatch.SETTINGS.nan_safe
    row = dispatch.RULES.get(ufunc)
    if row is not None and row.jvp is not None:  # matmul and its kin: bilinear, not elementwise
        return _linear().bilinear(ufunc, inputs, {})
    if ufunc in MULTI_OUTPUT or ufunc in COMPOSED:
        return _multi_output(ufunc, args, values, tag, order)
    if ufunc in NON_HOLOMORPHIC and _is_complex(values[0]):
        return _non_holomorphic(ufunc, inputs[0])
    terms = _series(ufunc, args, values, tag, order, name)
    if with_nan_safe:
        terms = _nan_safe(terms, [a for a in args if a is not None])
    return make_jet(terms, tag)


def _floats(terms: tuple[Any, ...]) -> bool:
    return all(type(t) is float for t in terms)


def _scalar_fast_path(ufunc: np.ufunc, inputs: tuple[Any, ...]) -> Jet | None:
    """Jets of Python floats through a dedicated recurrence, without the general checks.

    The same recurrences as the general path, so the same coefficients; ``None`` hands
    the call to the general path (arrays, nesting, constants of other types, NaN-safe
    mode, or a Python float that would divide by zero).
    """
    if len(inputs) == 1:
        recurrence = UNARY.get(ufunc)
        x = inputs[0]
        if recurrence is None or not _floats(x.terms) or len(x.terms) < 2:
            return None
        try:
            return make_jet(recurrence(list(x.terms), _value(ufunc, x.terms[0]),
                                       len(x.terms) - 1), x.tag)
        except ZeroDivisionError:
            return None
    if len(inputs) != 2 or ufunc not in _FAST_BINARY:
        return None
    return _fast_binary(ufunc, *inputs)


def _fast_binary(ufunc: np.ufunc, a: Any, b: Any) -> Jet | None:
    jet_a, jet_b = type(a) is Jet, type(b) is Jet
    if jet_a and jet_b:
        if a.tag != b.tag or len(a.terms) != len(b.terms) or not (
                _floats(a.terms) and _floats(b.terms)):
            return None
        x, y, xv, yv, tag = list(a.terms), list(b.terms), a.terms[0], b.terms[0], a.tag
    elif jet_a and type(b) is float and _floats(a.terms):
        x, y, xv, yv, tag = list(a.terms), None, a.terms[0], b, a.tag
    elif jet_b and type(a) is float and _floats(b.terms):
        x, y, xv, yv, tag = None, list(b.terms), a, b.terms[0], b.tag
    else:
        return None
    order = len(x or y) - 1
    try:
        z0 = _value(ufunc, xv, yv)
        if ufunc is np.add or ufunc is np.subtract:
            sign = 1.0 if ufunc is np.add else -1.0
            x = x or [xv] + [0.0] * order
            y = y or [yv] + [0.0] * order
            return make_jet([z0] + [p + sign * q for p, q in zip(x[1:], y[1:], strict=True)],
                            tag)
        return make_jet(BINARY[ufunc](x, y, xv, yv, z0, order), tag)
    except ZeroDivisionError:
        return None


_FAST_BINARY = frozenset({np.add, np.subtract, np.multiply, np.true_divide})


def _series(ufunc: np.ufunc, args: list[Terms | None], values: list[Any], tag: int,
            order: int, name: str) -> Terms:
    rule = dispatch.RULES.get(ufunc) or dispatch.INTEGER_ARGUMENT_RULES.get(ufunc)
    if rule is None:
        raise TypeError(
            f"{name} has no Taylor rule (it has no row in dualdiff's rule table); "
            "register one with dualdiff.register_ufunc"
        )
    z0 = _value(ufunc, *values)
    try:
        return _dedicated_or_generic(ufunc, rule, args, values, z0, tag, order)
    except ZeroDivisionError:  # Python floats raise where NumPy returns inf: redo in NumPy
        wide = [None if a is None else [_widen(t) for t in a] for a in args]
        return _dedicated_or_generic(ufunc, rule, wide, [_widen(v) for v in values],
                                     _widen(z0), tag, order)


def _widen(x: Any) -> Any:
    if type(x) is float:
        return np.float64(x)
    return np.complex128(x) if type(x) is complex else x


def _dedicated_or_generic(
    ufunc: np.ufunc, rule: UfuncRule, args: list[Terms | None],
                          values: list[Any], z0: Any, tag: int, order: int) -> Terms:
    if len(args) == 1:
        if rule.partials[0] is NOT_DIFFERENTIABLE:
            raise TypeError(f"numpy.{ufunc.__name__} is not differentiable")
        recurrence = UNARY.get(ufunc)
        if recurrence is not None and dispatch.RULES.get(ufunc) is rule and order > 0:
            return recurrence(args[0], z0, order)
        return generic_unary(rule, args[0], z0, tag, order)
    recurrence = BINARY.get(ufunc)
    if recurrence is not None and dispatch.RULES.get(ufunc) is rule and len(args) == 2:
        return recurrence(args[0], args[1], values[0], values[1], z0, order)
    if ufunc in (np.add, np.subtract) and len(args) == 2:
        sign = 1.0 if ufunc is np.add else -1.0
        x = args[0] or [values[0]] + [0.0] * order
        y = args[1] or [values[1]] + [0.0] * order
        return [z0] + [x[k] + sign * y[k] for k in range(1, order + 1)]
    return generic_binary(rule, args, values, z0, tag, order)


def _is_complex(x: Any) -> bool:
    return np.iscomplexobj(_plain(x))


def _non_holomorphic(ufunc: np.ufunc, z: Jet) -> Any:
    """``conj``, ``abs`` and ``sign`` of complex Jets: through the real and imaginary parts."""
    if ufunc is np.conjugate:
        return make_jet([np.conjugate(a) for a in z.terms], z.tag)
    modulus = np.hypot(np.real(z), np.imag(z))
    if ufunc is np.absolute:
        return modulus
    return np.where(_plain(modulus.value) == 0, 0.0 * z, z / np.where(
        _plain(modulus.value) == 0, 1.0, modulus))


def _multi_output(ufunc: np.ufunc, args: list[Terms | None], values: list[Any], tag: int,
                  order: int) -> tuple[Any, ...]:
    if ufunc in COMPOSED:
        parts, _ = COMPOSED[ufunc]
        inputs = [make_jet(a, tag) if a is not None else v
                  for a, v in zip(args, values, strict=True)]
        return tuple(part(*inputs) for part in parts)
    (x,) = args
    outputs = ufunc(values[0])
    if ufunc is np.modf:  # (x - trunc(x), trunc(x)): slopes 1 and 0
        return make_jet([outputs[0], *x[1:]], tag), make_jet([outputs[1]] + [0.0] * order, tag)
    if ufunc is np.frexp:  # mantissa = x * 2**-exponent; the exponent is a plain integer
        scale = np.ldexp(1.0, -outputs[1])
        return make_jet([outputs[0]] + [a * scale for a in x[1:]], tag), outputs[1]
    raise TypeError(f"numpy.{ufunc.__name__} has no Taylor rule")


def _nan_safe(terms: Terms, inputs: list[Terms]) -> Terms:
    """Zero coefficients where every input's direction is zero (``0 * inf == 0``)."""
    flat = [a for terms_in in inputs for a in terms_in[1:]]
    if not flat:
        return terms
    still = np.logical_and.reduce([np.asarray(_plain(a)) == 0 for a in flat]) \
        if len(flat) > 1 else np.asarray(_plain(flat[0])) == 0
    if not np.any(still):
        return terms
    out = [terms[0]]
    for a in terms[1:]:
        plain = _plain(a)
        if isinstance(a, Dual | Jet) or not np.any(np.isnan(plain)):
            out.append(a)
            continue
        fixed = np.where(still & np.isnan(plain), 0.0, plain)
        out.append(fixed[()] if np.ndim(fixed) == 0 and type(a) is not np.ndarray else fixed)
    return out
