"""The derivative table: one row per NumPy ufunc.

A row gives the *partial derivatives of the primitive alone* -- never the
chain rule, which :mod:`dualdiff.dispatch` applies in one place.  Each
partial is either a number (a constant partial: ``1.0`` for ``add``) or a
function of the inputs and the output ``ans`` (so ``exp`` reuses its own
value).  Partials are written with the generic functions of
:mod:`dualdiff.elementary`, so the same row serves Python floats, arrays and
nested dual numbers.  Beside each rule sit its test domain (points where the
tests check it) and its sympy twin (used only by the tests and the CLI's
``--check``).

The conventions at non-differentiable points are chosen here and listed in
``docs/conventions.md``; every special case carries a one-line *why*.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from dualdiff.elementary import (
    REAL_KERNELS,
    conj,
    cos,
    cosh,
    exp,
    exp2,
    hypot,
    ldexp,
    log,
    power,
    rint,
    sign,
    sin,
    sinh,
    sqrt,
    strip,
)


class NotDifferentiable:
    """The type of :data:`NOT_DIFFERENTIABLE` (one instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = NotDifferentiable()
"""The partial of an argument the primitive is *not differentiable* in (a Bessel order, an
integer exponent): a dual number of the current derivative there raises ``TypeError``; a
constant is fine.  Not ``0.0``, which claims the primitive is flat in it."""

Partial = float | Callable[..., Any] | NotDifferentiable
ZERO = 0.0
"""The partial of an argument the primitive is flat in (piecewise constant: ``floor``)."""


@dataclass(frozen=True)
class UfuncRule:
    """How one ufunc differentiates.

    Attributes
    ----------
    ufunc : numpy.ufunc
        The primitive.
    partials : tuple
        One partial derivative per input: a constant number, or a function
        ``partial(*inputs, ans)``.
    domain : tuple
        Test points inside the domain: floats (unary) or tuples (binary).
    sympy : str or callable or None
        The sympy twin: a sympy function name, or ``f(sympy_module, *args)``.
    jvp : callable or None
        For primitives that are not elementwise (``matmul``): a function
        ``jvp(*inputs)`` returning the output dual number directly.
    fused : callable or None
        For a binary row whose partials cost more NumPy passes than needed:
        ``fused(x, y, ans, tx, ty)`` returns the whole tangent (a fresh array)
        for float arrays of one shape, ``tx`` or ``ty`` ``None`` where that
        operand is a constant.  Only the array chain rule uses it; the
        partials stay the row's definition (scalars, tests, patterns).
    """

    ufunc: np.ufunc
    partials: tuple[Partial, ...]
    domain: tuple[Any, ...]
    sympy: str | Callable[..., Any] | None = None
    jvp: Callable[..., Any] | None = field(default=None, compare=False)
    fused: Callable[..., Any] | None = field(default=None, compare=False)


def _where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """Select elementwise; a plain ``if`` on scalars (no NumPy call)."""
    if isinstance(condition, bool | np.bool_):
        return if_true if condition else if_false
    return np.where(condition, if_true, if_false)


def _is_scalar(x: Any) -> bool:
    return type(x) in (float, int, complex) or getattr(x, "ndim", 0) == 0


def _power_dx(x: Any, y: Any, ans: Any) -> Any:
    # y * x**(y - 1), taken as 0 where y == 0: x**0 is flat even at x == 0 (not 0 * inf).
    # Where x**y is a normal number it is y * (x**y / x): y - 1 rounds for |y| < 1/2 (an
    # error of |log x| ulps), and x**(y - 1) overflows for tiny y where the slope does not.
    live_y = hasattr(y, "tangent")  # a perturbed exponent: its partial still moves with y
    if _is_scalar(y) and _is_scalar(x):
        if y == 0 and not live_y:
            return x * 0.0 if hasattr(x, "tangent") else 0.0
        if y == 2 and not live_y:  # x**2 is common: exact, and no NumPy call
            return 2.0 * x
        with np.errstate(all="ignore"):  # silent, as on arrays (where every form is computed)
            if strip(x) != 0 and _NORMAL <= abs(strip(ans)) <= _HUGE:
                return (y * ans) / x if abs(strip(y)) <= 1 else y * (ans / x)
            return y * power(x, y - 1)
    if _is_scalar(y) and y == 2 and not live_y:  # arrays squared: exact, as for scalars
        return 2.0 * x
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        plain_ans, plain_x = abs(strip(ans)), strip(x)
        ratio = (plain_x != 0) & (plain_ans >= _NORMAL) & (plain_ans <= _HUGE)
        quotient = _where(abs(strip(y)) <= 1, (y * ans) / x, y * (ans / x))
        general = _where(ratio, quotient, y * power(x, y - 1))
        exact = general if live_y else _where(y == 2, 2.0 * x, general)  # x**2 exact, as scalars
        return exact if live_y else _where(y == 0, 0.0, exact)


_NORMAL = 2.2250738585072014e-308
_HUGE = 1.7976931348623157e308


def _power_dy(x: Any, y: Any, ans: Any) -> Any:
    # x**y * log(x), taken as 0 where x == 0: the limit as x -> 0+ (log(0) is -inf).  Where
    # x**y underflowed to 0 for x > 0, the slope may not have: exp(y log x + log|log x|).
    if _is_scalar(ans) and _is_scalar(x):
        if ans != 0:
            with np.errstate(all="ignore"):  # silent, as on arrays
                return ans * log(x)
        if not 0 < x < math.inf:
            return ans * 0.0 if hasattr(ans, "tangent") else 0.0  # not 0 * -0.0, as on arrays
        with np.errstate(all="ignore"):
            log_x = log(x)
            return sign(log_x) * exp(y * log_x + log(abs(log_x)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        log_x = log(x)
        underflowed = (strip(ans) == 0) & (strip(x) > 0) & (strip(x) < math.inf)
        tiny = sign(log_x) * exp(y * log_x + log(abs(log_x)))
        return _where(strip(ans) == 0, _where(underflowed, tiny, 0.0), ans * log_x)


def _divide_tangent(x: Any, y: Any, ans: Any, tx: Any, ty: Any) -> Any:
    # The partials' numbers bit for bit (the scalar path's): (1/y) tx + ((-ans)/y) ty, written
    # (1/y) tx - (ans/y) ty (negation is exact), the first product into its fresh quotient,
    # the second block by block (_accumulate): five passes and one temporary, not six and three.
    term = None
    if tx is not None:
        term = _into(1 / y, tx, np.multiply)
    if ty is None:
        return term
    if term is not None and _accumulate(term, np.subtract, _quotient_times, ans, y, ty):
        return term
    other = _into(ans / y, ty, np.multiply)
    if term is None:
        return np.negative(other, out=other) if type(other) is np.ndarray else -other
    return _into(term, other, np.subtract)


def _quotient_times(out: np.ndarray, a: np.ndarray, y: np.ndarray, t: np.ndarray) -> None:
    np.divide(a, y, out=out)
    np.multiply(out, t, out=out)


def _into(a: Any, b: Any, op: np.ufunc) -> Any:
    # op(a, b), written into a where a is an array of the result's shape and dtype (the
    # callers' a is always a fresh temporary)
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.shape == b.shape
            and a.dtype == b.dtype):
        return op(a, b, out=a)
    return op(a, b)


def _multiply_tangent(x: Any, y: Any, ans: Any, tx: Any, ty: Any) -> Any:
    # y tx + x ty, the partials' numbers; for arrays the second product is added block by
    # block (_accumulate), so the sum never holds two full-size temporaries.
    if tx is None:
        return x * ty
    term = y * tx
    if ty is None or _accumulate(term, np.add, _times, x, ty):
        return term
    other = x * ty
    if (type(term) is np.ndarray and type(other) is np.ndarray and other.shape == term.shape
            and other.dtype == term.dtype):
        return np.add(term, other, out=term)
    return term + other


def _times(out: np.ndarray, a: np.ndarray, t: np.ndarray) -> None:
    np.multiply(a, t, out=out)


def _accumulate(term: Any, op: np.ufunc, compute: Callable[..., None], *arrays: Any) -> bool:
    """``term = op(term, g)`` with ``g = compute(*arrays)``, a block at a time, if it can.

    Each block of ``g`` is computed into one small scratch array (``compute(out, *blocks)``),
    so no full-size temporary is made; elementwise, so the numbers are those of the whole
    arrays.  Only for C-contiguous arrays of ``term``'s shape and dtype larger than a block;
    returns whether it did it.
    """
    if not (type(term) is np.ndarray and term.size > _BLOCK and term.flags.c_contiguous
            and all(_flat_like(a, term) for a in arrays)):
        return False
    flat, flats = term.reshape(-1), [a.reshape(-1) for a in arrays]
    scratch = np.empty(_BLOCK, dtype=term.dtype)
    for start in range(0, flat.size, _BLOCK):
        block = flat[start:start + _BLOCK]
        part = scratch[:block.size]
        compute(part, *(a[start:start + _BLOCK] for a in flats))
        op(block, part, out=block)
    return True


_BLOCK = 1 << 15


def _flat_like(a: Any, like: np.ndarray) -> bool:
    return (type(a) is np.ndarray and a.shape == like.shape and a.dtype == like.dtype
            and a.flags.c_contiguous)


def _divide_or_zero(numerator: Any, denominator: Any) -> Any:
    # numerator / denominator, 0 where the denominator is 0 (hypot at the origin,
    # like abs at 0: the smallest subgradient).
    if _is_scalar(denominator):
        return 0.0 * numerator if denominator == 0 else numerator / denominator
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where(denominator == 0, 0.0, numerator / denominator)


def _quotient(x: Any, y: Any, ans: Any) -> Any:
    # -q for x == q y + ans (remainder, fmod), q an integer.  Not floor(x / y): x / y rounds
    # (-30 / 0.3 is -100.0, and remainder(-30, 0.3) is -30 + 101 * 0.3).  (x - ans) / y is
    # within an ulp of the integer q, so rint recovers it.
    return -rint((x - ans) / y)


def _hypot_share(x: Any, y: Any, ans: Any) -> Any:
    # x / hypot(x, y), 0 at the origin; where the hypotenuse is subnormal (it has lost bits)
    # both legs are scaled by 2**600 first (exact).
    plain = abs(strip(ans))
    tiny = (plain < 1e-290) & (plain > 0)  # (never in float32, which 2**600 would overflow)
    if not np.any(tiny):
        return _divide_or_zero(x, ans)
    scaled_x, scaled_y = _where(tiny, x, 0.0) * 2.0**600, _where(tiny, y, 0.0) * 2.0**600
    scaled = _divide_or_zero(scaled_x, hypot(scaled_x, scaled_y))
    return scaled if isinstance(tiny, bool | np.bool_) else _where(tiny, scaled, _divide_or_zero(x, ans))


def _share_of_first(first_wins: Any, tie: Any) -> Any:
    # maximum/minimum: the selected argument gets the whole slope; a tie splits it evenly.
    return _where(first_wins, 1.0, _where(tie, 0.5, 0.0))


def _max_dx(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first(x > y, x == y)


def _max_dy(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first(y > x, x == y)


def _min_dx(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first(x < y, x == y)


def _min_dy(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first(y < x, x == y)


def _fmax_dx(x: Any, y: Any, ans: Any) -> Any:
    # fmax ignores a NaN argument, so the other one is selected whole.
    return _share_of_first((x > y) | np.isnan(y), (x == y))


def _fmax_dy(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first((y > x) | np.isnan(x), (x == y))


def _fmin_dx(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first((x < y) | np.isnan(y), (x == y))


def _fmin_dy(x: Any, y: Any, ans: Any) -> Any:
    return _share_of_first((y < x) | np.isnan(x), (x == y))


# --- accurate forms: no cancellation, no overflow in an intermediate -------------------------


def _piecewise(condition: Any, x: Any, when_true: Callable[[Any], Any],
               when_false: Callable[[Any], Any], safe: float) -> Any:
    """``when_true(x)`` where ``condition`` holds, else ``when_false(x)``.

    Each form is evaluated only where it is chosen (on arrays, elsewhere at the harmless
    point ``safe``), so a form's overflow where it is not used raises no warning.
    """
    if isinstance(condition, bool | np.bool_):
        return when_true(x) if condition else when_false(x)
    return np.where(condition, when_true(np.where(condition, x, safe)),
                    when_false(np.where(condition, safe, x)))


def _one_minus_square(x: Any) -> Any:
    # 1 - x**2 as (1 - x)(1 + x): exact factors near |x| == 1, where 1 - x*x cancels.
    return (1 - x) * (1 + x)


def _arctan_dx(x: Any, ans: Any) -> Any:
    # 1 / (1 + x**2), written (1/x) / (x + 1/x) for |x| > 1: x*x overflows at 1e155.
    big = abs(strip(x)) > 1
    return _piecewise(big, x, lambda t: (1 / t) / (t + 1 / t), lambda t: 1 / (1 + t * t), 0.5)


_exp_float = REAL_KERNELS[np.exp]  # exp of a Python float, NumPy's value as a float


def _tanh_dx(x: Any, ans: Any) -> Any:
    # sech**2 as 1 - t*t where it is at least 1/4 (|x| < 1.1: within 3 ulps of mpmath; its
    # error grows as 1 / (1 - |t|): 6 ulps at 1.5, 15 at 2, and it is 0 at x = 20, true
    # 1.7e-17), else 4e / (1 + e)**2 with e = exp(-2|x|), which neither cancels nor
    # overflows.  Smooth at 0, so nested (higher) derivatives there are right.
    if type(x) is float:  # the same numbers as below, without the array and complex checks
        near = 1 - ans * ans
        if not near < 0.25:  # (NaN stays NaN, as on arrays)
            return near
        a = abs(x)
        e = _exp_float(-2 * (400.0 if a > 400 else a))
        return 4 * e / ((1 + e) * (1 + e))
    if type(x) is np.ndarray and x.ndim and x.dtype.kind == "f":  # (a 0-d array's ans is a scalar)
        return _sech_squared(x, ans)
    if _is_complex(x):
        return 1 - ans * ans  # holomorphic for complex z
    near = 1 - ans * ans
    far = strip(near) < 0.25
    if isinstance(far, bool | np.bool_) and not far:
        return near
    a = abs(x)
    e = exp(-2 * _where(strip(a) > 400, 400.0, a))  # beyond 400, 0 (and -2|x| overflows)
    return _where(far, 4 * e / ((1 + e) * (1 + e)), near)


def _sech_squared(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    # _tanh_dx of a real array in the fewest passes, the same numbers: the exponential is
    # taken only at the elements that need it (sech**2 decreases in |x|, so the near form
    # itself picks them).
    result = np.multiply(t, t)
    np.subtract(1, result, out=result)
    far = result < 0.25
    if np.count_nonzero(far):  # (a C call: far.any() goes through Python)
        a = np.abs(x[far])
        np.minimum(a, 400.0, out=a)  # beyond 400, 0 (and -2|x| overflows)
        a *= -2
        e = np.exp(a, out=a)
        square = 1 + e
        square *= square
        e *= 4
        e /= square
        result[far] = e
    return result


def _arcsinh_dx(x: Any, ans: Any) -> Any:
    # 1 / sqrt(x**2 + 1) as 1 / hypot(x, 1): x * x overflows at 1e155 (slope 0, true 1e-155).
    return 1 / sqrt(x * x + 1) if _is_complex(x) else 1 / hypot(x, 1.0)


def _is_complex(x: Any) -> bool:
    plain = strip(x)
    return type(plain) is complex or np.iscomplexobj(plain)


def _two_difference(x: Any, y: Any) -> tuple[Any, Any]:
    # d = x - y rounded, and its rounding error e (d + e == x - y exactly; Knuth's TwoSum).
    d = x - y
    z = d - x
    return d, (x - (d - z)) - (y + z)


def _logistic_pair(x: Any, y: Any, base_exp: Callable[[Any], Any], log_base: float) -> Any:
    # (1 / (1 + b**(y - x)), the share of x in log_b(b**x + b**y)), written with
    # e = b**-|x - y| <= 1 so that nothing overflows; the rounding error of x - y enters
    # to first order, since the small share b**-|x - y| is as sensitive to it as its exponent.
    d, error = _two_difference(x, y)
    e = base_exp(-abs(d)) * (1 - sign(d) * error * log_base)
    big = 1 / (1 + e)
    return _where(strip(d) >= 0, big, e * big)


def _logaddexp_dx(x: Any, y: Any, ans: Any) -> Any:
    return _logistic_pair(x, y, exp, 1.0)


def _logaddexp_dy(x: Any, y: Any, ans: Any) -> Any:
    return _logistic_pair(y, x, exp, 1.0)


def _logaddexp2_dx(x: Any, y: Any, ans: Any) -> Any:
    return _logistic_pair(x, y, exp2, LN2)


def _logaddexp2_dy(x: Any, y: Any, ans: Any) -> Any:
    return _logistic_pair(y, x, exp2, LN2)


def _heaviside_dh(x: Any, h: Any, ans: Any) -> Any:
    # heaviside(x, h) is h where x == 0: slope 1 in h there, 0 elsewhere.
    return _where(strip(x) == 0, 1.0, 0.0)


def _arctan2_dy(y: Any, x: Any, ans: Any) -> Any:
    # x / (x**2 + y**2) as (x / r) / r with r = hypot(y, x): the squares over- and underflow.
    r = hypot(y, x)
    return (x / r) / r


def _arctan2_dx(y: Any, x: Any, ans: Any) -> Any:
    r = hypot(y, x)
    return -(y / r) / r


LN2 = math.log(2.0)
LN10 = math.log(10.0)
INV_LN2 = 1 / LN2
INV_LN10 = 1 / LN10
DEGREE = math.pi / 180.0

# Test domains: several points inside each domain, negative, tiny and large.
REAL = (-7.5, -1.3, -1e-6, 2e-7, 0.8, 3.1, 60.0)
NONZERO = (-7.5, -1.3, -1e-3, 2e-3, 0.8, 3.1, 60.0)
NON_INTEGER = (-7.3, -1.3, -0.2, 0.2, 0.8, 3.1, 60.4)
POSITIVE = (1e-6, 0.02, 1.0, 7.3, 1e6)
ABOVE_MINUS_ONE = (-0.9, -1e-7, 0.3, 2.0, 1e5)
OPEN_UNIT = (-0.97, -0.4, -1e-7, 3e-8, 0.5, 0.9)
ABOVE_ONE = (1.0001, 1.5, 7.0, 1e5)
PAIRS = ((-2.5, 0.7), (1.3, -0.4), (1e-6, 3.0), (4.0, 4.5), (60.0, -0.01), (-3.0, -2.0))
POSITIVE_BASE = ((0.5, 2.5), (2.0, -1.3), (7.0, 0.3), (1e-3, 2.0), (3.0, 3.0), (1.5, -0.5))
RATIOS = ((7.3, 2.1), (-7.3, 2.1), (5.5, -1.7), (0.3, 0.7), (-0.9, -0.4))


def differentiable_arguments(rule: UfuncRule) -> tuple[int, ...]:
    """The positions of the arguments a row differentiates (all but ``NOT_DIFFERENTIABLE``).

    Examples
    --------
    >>> differentiable_arguments(INTEGER_ARGUMENTS[0])  # ldexp(x, e): x only
    (0,)
    """
    return tuple(i for i, p in enumerate(rule.partials) if p is not NOT_DIFFERENTIABLE)


def unary(
    ufunc: np.ufunc, partial: Partial, domain: Sequence[float], sympy: Any = None
) -> UfuncRule:
    """Build the row of a one-argument ufunc."""
    return UfuncRule(ufunc, (partial,), tuple(domain), sympy)


def binary(
    ufunc: np.ufunc,
    partials: tuple[Partial, Partial],
    domain: Sequence[tuple[float, float]],
    sympy: Any = None,
) -> UfuncRule:
    """Build the row of a two-argument ufunc."""
    return UfuncRule(ufunc, tuple(partials), tuple(domain), sympy)


# fmt: off
UFUNC_RULES: tuple[UfuncRule, ...] = (
    # --- linear -------------------------------------------------------------------------------
    unary(np.negative,   -1.0,                                        REAL,      lambda sp, x: -x),
    unary(np.positive,   1.0,                                         REAL,      lambda sp, x: x),
    unary(np.deg2rad,    DEGREE,                                      REAL,      lambda sp, x: x * sp.pi / 180),
    unary(np.radians,    DEGREE,                                      REAL,      lambda sp, x: x * sp.pi / 180),
    unary(np.rad2deg,    1 / DEGREE,                                  REAL,      lambda sp, x: x * 180 / sp.pi),
    unary(np.degrees,    1 / DEGREE,                                  REAL,      lambda sp, x: x * 180 / sp.pi),
    unary(np.conjugate,  1.0,                                         REAL,      "conjugate"),  # complex: NON_HOLOMORPHIC
    binary(np.add,       (1.0, 1.0),                                  PAIRS,     lambda sp, x, y: x + y),
    binary(np.subtract,  (1.0, -1.0),                                 PAIRS,     lambda sp, x, y: x - y),
    # --- products and quotients ---------------------------------------------------------------
    replace(binary(np.multiply, (lambda x, y, ans: y, lambda x, y, ans: x), PAIRS, lambda sp, x, y: x * y),
            fused=_multiply_tangent),  # arrays: y tx + x ty without a second full temporary
    replace(binary(np.true_divide, (lambda x, y, ans: 1 / y,
                                    lambda x, y, ans: -ans / y),       PAIRS,     lambda sp, x, y: x / y),
            fused=_divide_tangent),  # arrays: five passes, not six
    unary(np.square,     lambda x, ans: 2 * x,                        REAL,      lambda sp, x: x**2),
    unary(np.reciprocal, lambda x, ans: -ans * ans,                   NONZERO,   lambda sp, x: 1 / x),
    binary(np.power,     (_power_dx, _power_dy),                      POSITIVE_BASE, lambda sp, x, y: x**y),
    binary(np.float_power, (_power_dx, _power_dy),                    POSITIVE_BASE, lambda sp, x, y: x**y),
    # --- exponentials and logarithms ----------------------------------------------------------
    unary(np.exp,        lambda x, ans: ans,                          REAL,      "exp"),
    unary(np.exp2,       lambda x, ans: ans * LN2,                    REAL,      lambda sp, x: 2**x),
    unary(np.expm1,      lambda x, ans: exp(x),                       REAL,      lambda sp, x: sp.exp(x) - 1),  # not ans + 1: it cancels for x < 0
    unary(np.log,        lambda x, ans: 1 / x,                        POSITIVE,  "log"),
    unary(np.log2,       lambda x, ans: INV_LN2 / x,                  POSITIVE,  lambda sp, x: sp.log(x, 2)),  # x * LN2 overflows
    unary(np.log10,      lambda x, ans: INV_LN10 / x,                 POSITIVE,  lambda sp, x: sp.log(x, 10)),
    unary(np.log1p,      lambda x, ans: 1 / (1 + x),                  ABOVE_MINUS_ONE, lambda sp, x: sp.log(1 + x)),
    binary(np.logaddexp, (_logaddexp_dx, _logaddexp_dy),              PAIRS,     lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y))),
    binary(np.logaddexp2, (_logaddexp2_dx, _logaddexp2_dy),           PAIRS,     lambda sp, x, y: sp.log(2**x + 2**y, 2)),
    # --- roots: the slope at 0 is +inf (see conventions) ---------------------------------------
    unary(np.sqrt,       lambda x, ans: 0.5 / ans,                    POSITIVE,  "sqrt"),
    unary(np.cbrt,       lambda x, ans: 1 / (3 * ans * ans),          NONZERO,   lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3)),
    # --- trigonometric ------------------------------------------------------------------------
    unary(np.sin,        lambda x, ans: cos(x),                       REAL,      "sin"),
    unary(np.cos,        lambda x, ans: -sin(x),                      REAL,      "cos"),
    unary(np.tan,        lambda x, ans: 1 + ans * ans,                REAL,      "tan"),
    unary(np.arcsin,     lambda x, ans: 1 / sqrt(_one_minus_square(x)),  OPEN_UNIT, "asin"),
    unary(np.arccos,     lambda x, ans: -1 / sqrt(_one_minus_square(x)), OPEN_UNIT, "acos"),
    unary(np.arctan,     _arctan_dx,                                  REAL,      "atan"),
    binary(np.arctan2,   (_arctan2_dy, _arctan2_dx),                  PAIRS,     "atan2"),
    binary(np.hypot,     (_hypot_share,
                          lambda x, y, ans: _hypot_share(y, x, ans)), PAIRS,     lambda sp, x, y: sp.sqrt(x**2 + y**2)),
    # --- hyperbolic ---------------------------------------------------------------------------
    unary(np.sinh,       lambda x, ans: cosh(x),                      REAL,      "sinh"),
    unary(np.cosh,       lambda x, ans: sinh(x),                      REAL,      "cosh"),
    unary(np.tanh,       _tanh_dx,                                    REAL,      "tanh"),
    unary(np.arcsinh,    _arcsinh_dx,                                 REAL,      "asinh"),
    unary(np.arccosh,    lambda x, ans: 1 / (sqrt(x - 1) * sqrt(x + 1)), ABOVE_ONE, "acosh"),
    unary(np.arctanh,    lambda x, ans: 1 / _one_minus_square(x),     OPEN_UNIT, "atanh"),
    # --- kinks: abs/max/min take the smallest subgradient (see conventions) ---------------------
    unary(np.absolute,   lambda x, ans: sign(x),                      NONZERO,   "Abs"),
    unary(np.fabs,       lambda x, ans: sign(x),                      NONZERO,   "Abs"),
    binary(np.maximum,   (_max_dx, _max_dy),                          PAIRS,     "Max"),
    binary(np.minimum,   (_min_dx, _min_dy),                          PAIRS,     "Min"),
    binary(np.fmax,      (_fmax_dx, _fmax_dy),                        PAIRS,     "Max"),
    binary(np.fmin,      (_fmin_dx, _fmin_dy),                        PAIRS,     "Min"),
    binary(np.copysign,  (lambda x, y, ans: sign(x) * sign(ans), ZERO), RATIOS,  lambda sp, x, y: sp.Abs(x) * sp.sign(y)),
    binary(np.remainder, (1.0, _quotient),                            RATIOS,    "Mod"),
    binary(np.fmod,      (1.0, _quotient),                            RATIOS,    lambda sp, x, y: x - y * sp.sign(x / y) * sp.floor(sp.Abs(x / y))),
    # --- piecewise constant: zero slope everywhere, jumps included ------------------------------
    unary(np.sign,       ZERO,                                        NONZERO,   "sign"),
    unary(np.floor,      ZERO,                                        NON_INTEGER, "floor"),
    unary(np.ceil,       ZERO,                                        NON_INTEGER, "ceiling"),
    unary(np.trunc,      ZERO,                                        NON_INTEGER, lambda sp, x: sp.sign(x) * sp.floor(sp.Abs(x))),
    unary(np.rint,       ZERO,                                        NON_INTEGER, lambda sp, x: sp.floor(x + sp.Rational(1, 2))),
    binary(np.floor_divide, (ZERO, ZERO),                             RATIOS,    lambda sp, x, y: sp.floor(x / y)),
    binary(np.heaviside, (ZERO, _heaviside_dh),                       RATIOS,    lambda sp, x, y: sp.Heaviside(x, y)),
    unary(np.spacing,    ZERO,                                        NON_INTEGER),  # jumps at powers of 2
    # --- one step to the next float: x moves, the direction y only picks the side ------------
    binary(np.nextafter, (1.0, ZERO),                                 PAIRS),
)
# fmt: on

COMPOSED: dict[np.ufunc, tuple[tuple[np.ufunc, ...], tuple[Any, ...]]] = {
    np.divmod: ((np.floor_divide, np.remainder), RATIOS),
}
"""Ufuncs with several outputs, each output another ufunc of the same inputs (and a test domain)."""

PLAIN_VALUED: tuple[np.ufunc, ...] = (
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.isnan, np.isinf, np.isfinite, np.signbit,
    np.logical_and, np.logical_or, np.logical_xor, np.logical_not,
)  # fmt: skip
"""Ufuncs whose output is not differentiable data (booleans): they act on the values."""

INTEGER_ARGUMENTS: tuple[UfuncRule, ...] = (
    # ldexp(x, e) = x * 2**e: the exponent is an integer, not differentiable; the row lives
    # outside UFUNC_RULES, whose tests treat every argument as a float.
    binary(np.ldexp, (lambda x, e, ans: ldexp(1.0, e), NOT_DIFFERENTIABLE), ((0.7, 3), (-2.5, -2), (1e-3, 10), (60.0, 0))),
)
"""Rows of ufuncs with an integer argument besides the differentiable float one."""

MULTI_OUTPUT: dict[np.ufunc, tuple[tuple[Partial | None, ...], tuple[Any, ...]]] = {
    # (fractional part, integral part) = (x - trunc(x), trunc(x)): slopes 1 and 0.
    np.modf:  ((1.0, ZERO), NON_INTEGER),
    # (mantissa, exponent) with x = mantissa * 2**exponent: the mantissa's slope is
    # 2**-exponent; the exponent is an integer, returned plain (None).
    np.frexp: ((lambda x, outputs: ldexp(1.0, -outputs[1]), None), NON_INTEGER),
}  # fmt: skip
"""One-argument ufuncs with several outputs: one partial per output (``partial(x, outputs)``)."""


def _abs_jvp(z: Any, dz: Any, ans: Any) -> Any:
    # d|z| = Re(conj(z) dz) / |z|, and 0 at z == 0 like abs at a real 0.
    return _divide_or_zero(np.real(conj(z) * dz), ans)


def _sign_jvp(z: Any, dz: Any, ans: Any) -> Any:
    # sign(z) = s = z / |z| turns with the angle: ds = i s Im(conj(s) dz) / |z|; 0 at z == 0.
    return _divide_or_zero(1j * ans * np.imag(conj(ans) * dz), np.absolute(z))


NON_HOLOMORPHIC: dict[np.ufunc, Callable[[Any, Any, Any], Any]] = {
    np.absolute:  _abs_jvp,
    np.conjugate: lambda z, dz, ans: conj(dz),
    np.sign:      _sign_jvp,
}  # fmt: skip
"""Ufuncs that are not holomorphic on complex values: ``jvp(z, dz, ans)`` gives the output
tangent directly, since it is real-linear in ``dz`` but no complex number times ``dz``."""

INTEGER_ONLY: tuple[np.ufunc, ...] = tuple(
    ufunc for ufunc in (
        np.bitwise_and, np.bitwise_or, np.bitwise_xor, np.invert, np.left_shift, np.right_shift,
        np.gcd, np.lcm, getattr(np, "bitwise_count", None),
    ) if ufunc is not None
)  # fmt: skip
"""Ufuncs defined for integers only: a dual number holds floats, so they raise ``TypeError``."""

# --- sparsity patterns (dualdiff.sparse): what a row says about structure -------------------

SELECTING: frozenset[np.ufunc] = frozenset({
    np.maximum, np.minimum, np.fmax, np.fmin, np.heaviside, np.remainder, np.fmod,
})
"""Ufuncs whose partials are piecewise constant and vanish on open sets (max/min select an
argument, a tie gives 1/2 to both; remainder's quotient is 0 while |x| < |y|): a sparsity
pattern keeps an argument where its partial at the point is nonzero, the branch taken there."""

PIECEWISE_LINEAR: frozenset[np.ufunc] = SELECTING | {np.absolute, np.fabs, np.copysign}
"""Ufuncs that are linear between kinks (their partials are piecewise constant): no
second-order interaction in a Hessian pattern."""

SECOND_ORDER: dict[np.ufunc, tuple[tuple[int, int], ...]] = {
    np.multiply:    ((0, 1),),          # x * y: only the cross term
    np.true_divide: ((0, 1), (1, 1)),   # x / y: linear in x
    np.ldexp:       (),                 # x * 2**e: linear in x
}  # fmt: skip
"""The argument pairs with a nonzero second partial, where not all pairs are (Hessian patterns)."""
