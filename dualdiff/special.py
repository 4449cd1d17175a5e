"""Derivative rules for ``scipy.special``: its functions are ufuncs, so they share the table.

Importing :mod:`dualdiff` registers these rows when SciPy is installed (and
does nothing otherwise).  Each row is built like those of
:mod:`dualdiff.rules`: a partial per input, written with functions that also
accept dual numbers (so second derivatives nest), and a test domain.  There
are no ``math`` kernels: the ufunc itself evaluates, on Python floats too.

The sympy twins sit in a column of their own, :data:`SYMPY_TWINS`, rather
than in the rows: ``sympy.lambdify`` turns ``erf`` or ``besselj`` into names
NumPy does not have, so :func:`dualdiff.testing.check_sympy` cannot run them;
the tests compare with ``sympy.diff`` evaluated by mpmath instead.

``scipy.special.softplus`` is not a ufunc but ``np.logaddexp(0, x)``, which
dualdiff already differentiates; ``polygamma`` is a Python function, so the
slope of ``digamma`` uses :func:`polygamma` below.  ``zeta(x, q)`` and
``lambertw(z, k, tol)`` are Python functions over the ufuncs ``_zeta`` and
``_lambertw``, whose rows these are.  Arguments with no closed-form slope in
SciPy's functions (Bessel orders, the shapes of ``gammainc`` and ``betainc``,
zeta's ``x``, lambertw's branch ``k``) are :data:`~dualdiff.rules.NOT_DIFFERENTIABLE`.
``lambertw`` returns complex values, and so complex tangents; take ``.real`` on
the real branch ``k = 0``.

Many partials are written in a form other than the textbook one, each with its
reason: ``exp(-x**2)`` with ``x**2`` carried exactly, inverse functions' slopes
without ``exp(ans**2)``, ``expit(x) expit(-x)`` rather than ``ans (1 - ans)``, and
so on; ``tests/test_accuracy.py`` holds every one to a few ulps at extreme
arguments (or lists it, with its reason).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_ufunc
from dualdiff.dual import Dual
from dualdiff.elementary import exp, log, power, sign, sqrt, strip
from dualdiff.rules import (
    NOT_DIFFERENTIABLE,
    POSITIVE,
    SECOND_ORDER,
    UfuncRule,
    binary,
    unary,
)

try:
    import scipy.special as sc
except ImportError:  # pragma: no cover - SciPy is an optional dependency
    sc = None

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
SQRT_2PI = math.sqrt(2 * math.pi)
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
INV_SQRT2 = 1 / math.sqrt(2)
ND = NOT_DIFFERENTIABLE


def polygamma(n: int, x: Any) -> Any:
    """``scipy.special.polygamma(n, x)`` that also takes dual numbers (its slope is order n + 1).

    SciPy's ``polygamma`` is a Python function, not a ufunc, so it cannot see
    a dual number; this one recurses into the value and the tangent.  The
    result keeps ``x``'s float type (SciPy computes it in float64).
    """
    if type(x) is Dual:
        return make(polygamma(n, x.value), polygamma(n + 1, x.value) * x.tangent, x.tag)
    result = sc.polygamma(n, x)
    dtype = np.result_type(x, np.float16)
    if isinstance(x, np.ndarray | np.generic) and dtype != result.dtype:
        result = result.astype(dtype)
    return result.item() if type(x) is float else result


def _where(condition: Any, if_true: Any, if_false: Any) -> Any:
    """Select elementwise; a plain ``if`` on scalars."""
    if isinstance(condition, bool | np.bool_):
        return if_true if condition else if_false
    return np.where(condition, if_true, if_false)


I1_SERIES = (1 / 2, 1 / 16, 1 / 384)
J1_SERIES = (1 / 2, -1 / 16, 1 / 384)


def _over_x(numerator: Any, x: Any, series: tuple[float, float, float], scale: Any = 1.0) -> Any:
    # numerator / x for numerator = i1(x) or j1(x) (times scale): near 0, where the quotient
    # and its own slopes cancel, its Taylor series c0 + c1 x**2 + c2 x**4 (error < 1e-22).
    small = np.abs(strip(x)) < 1e-3
    if isinstance(small, bool | np.bool_) and not small:
        return numerator / x
    t = _where(small, x, 0.0)
    x2 = t * t
    near_zero = scale * (series[0] + x2 * (series[1] + x2 * series[2]))
    if isinstance(small, bool | np.bool_):
        return near_zero
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, near_zero, numerator / x)


def _ratio(x: Any, y: Any) -> Any:
    # x / y, but 0 where x == y == 0: xlogy(0, y) == 0 for every y, so it is flat in y there
    # (x / y would be 0 / 0).  Elsewhere plain x / y, whose slope in x is 1 / y.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where((x == 0) & (y == 0), 0 * x, x / y)


# --- accurate forms ---------------------------------------------------------------------------
# A slope exp(-x**2) loses |x**2| * eps to the rounding of x * x (250 ulps at x = 26), and
# exp(ans**2) of an inverse function is as sensitive to the rounding of ans.  The forms below
# carry x**2 exactly, or replace exp(ans**2) by a ratio of slowly varying functions.

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting of a double into two 26-bit halves


def _exp_minus_square(x: Any, scale: float = 1.0) -> Any:
    """``exp(-scale * x**2)`` with ``x**2`` carried exactly (``scale`` a power of two)."""
    small = abs(strip(x)) < 40.0  # beyond, exp(-x**2 / 2) < 1e-347: 0
    if isinstance(small, bool | np.bool_) and not small:
        return 0.0  # and no overflow of x * x
    t = _where(small, x, 0.0)
    c = _SPLIT * t
    high = c - (c - t)
    low = t - high
    square = t * t
    error = ((high * high - square) + 2 * high * low) + low * low  # t*t + error == t**2
    accurate = exp(-scale * square) * (1 - scale * error)
    return _where(small, accurate, 0.0)


def _log_ndtr_dx(x: Any, ans: Any) -> Any:
    # pdf / cdf.  For x < 0 it is sqrt(2/pi) / erfcx(-x / sqrt 2): exp(-x**2 / 2 - ans)
    # cancels (250 ulps at x = -30) and the cdf underflows below x = -38.
    negative = strip(x) < 0
    left = lambda t: SQRT_2_OVER_PI / sc.erfcx(-t * INV_SQRT2)  # noqa: E731
    right = lambda t: INV_SQRT_2PI * _exp_minus_square(t, 0.5) / sc.ndtr(t)  # noqa: E731
    if isinstance(negative, bool | np.bool_):
        return left(x) if negative else right(x)
    return np.where(negative, left(np.where(negative, x, -1.0)), right(np.where(negative, 1.0, x)))


def _inverse_slope(ans: Any, tail: Any, scale: float) -> Any:
    # The slope of an inverse of an erfc-like function at y = ans is proportional to
    # exp(scale y**2).  For |y| >= 1 that is erfcx(|y| sqrt(scale)) / tail, tail =
    # erfc(|y| sqrt(scale)), which is exact in x (x, 1 - x or 2 - x): no exponential of the
    # rounded ans, whose error it would multiply by 2 scale y**2.  For |y| < 1 the exponential
    # is as accurate, and smooth where |y| is not (so second derivatives stay right).
    # Where ans is infinite (an endpoint) the slope is infinite.
    plain = abs(strip(ans))
    near = plain < 1
    if isinstance(near, bool | np.bool_):
        if near:
            return exp(scale * ans * ans)
        return sc.erfcx(abs(ans) * math.sqrt(scale)) / tail if plain != math.inf else math.inf
    centre = _where(near, ans, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        far = _where(plain == math.inf, math.inf, sc.erfcx(abs(ans) * math.sqrt(scale)) / tail)
    return _where(near, exp(scale * centre * centre), far)


def _erfinv_dx(x: Any, ans: Any) -> Any:
    # sqrt(pi)/2 exp(ans**2), with erfc(|ans|) == 1 - |x|
    return SQRT_PI_OVER_2 * _inverse_slope(ans, 1 - abs(x), 1.0)


def _erfcinv_dx(x: Any, ans: Any) -> Any:
    # -sqrt(pi)/2 exp(ans**2), with erfc(|ans|) == x below 1 and 2 - x above (both exact)
    return -SQRT_PI_OVER_2 * _inverse_slope(ans, _where(strip(x) <= 1, x, 2 - x), 1.0)


def _ndtri_dx(x: Any, ans: Any) -> Any:
    # sqrt(2 pi) exp(ans**2 / 2), with erfc(|ans| / sqrt 2) == 2 min(x, 1 - x)
    return SQRT_2PI * _inverse_slope(ans, 2 * _where(strip(x) <= 0.5, x, 1 - x), 0.5)


def _erfcx_dx(x: Any, ans: Any) -> Any:
    # 2x erfcx(x) - 2/sqrt(pi) cancels as 2 x**2 ulps for large x; there the Laplace continued
    # fraction sqrt(pi) erfcx(x) = 1 / (x + t), t = (1/2) / (x + 1 / (x + (3/2) / (x + ...)))
    # gives it as -2/sqrt(pi) t / (x + t), a sum of positive terms.
    plain = strip(x)
    far = plain > 1.0
    if isinstance(far, bool | np.bool_) and not far:
        return 2 * x * ans - TWO_OVER_SQRT_PI
    t = _where(far, x, 3.0)
    terms = 80 if np.all(np.where(far, plain, 3.0) >= 2) else 320  # 1e-16 from x = 2 (or 1)
    tail = 0.0 * t
    for k in range(terms, 0, -1):
        tail = (k / 2) / (t + tail)
    fraction = -TWO_OVER_SQRT_PI * tail / (t + tail)
    return _where(far, fraction, 2 * x * ans - TWO_OVER_SQRT_PI)


def _asymptotic_coefficients(order: int, terms: int) -> tuple[float, ...]:
    # e^-x I_order(x) ~ (2 pi x)**-1/2 sum_k c_k x**-k, c_k = (-1)**k prod_j (4 n**2 - (2j-1)**2)
    # / (k! 8**k): Hankel's expansion.
    coefficients, c = [], 1.0
    for k in range(terms):
        coefficients.append(c)
        c *= -(4 * order**2 - (2 * k + 1) ** 2) / ((k + 1) * 8)
    return tuple(coefficients)


_I_TERMS = 48  # the expansion's smallest term near k = 2x is below 1e-17 from x = 20
_I1_MINUS_I0 = tuple(
    a - b
    for a, b in zip(_asymptotic_coefficients(1, _I_TERMS), _asymptotic_coefficients(0, _I_TERMS),
                    strict=True)
)[1:]  # the k = 0 terms (both 1) cancel exactly
# in powers of u = 20 / x <= 1, the coefficients are small (those of 1 / x reach 1e60, which
# float32 cannot hold)
_I1_MINUS_I0_SCALED = tuple(c / 20.0 ** (k + 1) for k, c in enumerate(_I1_MINUS_I0))


def _i1e_minus_i0e(x: Any) -> Any:
    """``i1e(x) - i0e(x)`` for ``x >= 20``, from Hankel's expansion: no cancellation."""
    u = 20 / x
    total = 0.0 * u
    for c in reversed(_I1_MINUS_I0_SCALED):
        total = (total + c) * u
    return total / (SQRT_2PI * sqrt(x))  # not sqrt(2 pi x): it overflows at 1e308


def _i0e_dx(x: Any, ans: Any) -> Any:
    # i1e - sign(x) i0e cancels to |x| ulps for large |x| (0 from 1e20, true 2e-31); there
    # it is sign(x) (i1e - i0e)(|x|), summed from Hankel's expansion.
    far = abs(strip(x)) >= 20
    if isinstance(far, bool | np.bool_) and not far:
        return sc.i1e(x) - sign(x) * ans
    a = abs(_where(far, x, 20.0))
    return _where(far, sign(x) * _i1e_minus_i0e(a), sc.i1e(x) - sign(x) * ans)


def _i1e_dx(x: Any, ans: Any) -> Any:
    # i0e - sign(x) i1e - i1e / x, even in x; for |x| >= 20, -(i1e - i0e)(|x|) - i1e(|x|)/|x|.
    far = abs(strip(x)) >= 20
    near = lambda t: (sc.i0e(t) - sign(t) * ans  # noqa: E731
                      - _over_x(ans, t, I1_SERIES, exp(-abs(t))))
    if isinstance(far, bool | np.bool_) and not far:
        return near(x)
    a = abs(_where(far, x, 20.0))
    return _where(far, -_i1e_minus_i0e(a) - sc.i1e(a) / a, near(x))


def _j0_dx(x: Any, ans: Any) -> Any:
    # -j1(x); below 1e-150 it is -x/2 (to 1e-300 relative): SciPy's j1 loses 50 ulps there.
    tiny = abs(strip(x)) < 1e-150
    if isinstance(tiny, bool | np.bool_):
        return -0.5 * x if tiny else -sc.j1(x)
    return _where(tiny, -0.5 * x, -sc.j1(x))


def _jv_dx(v: Any, x: Any, ans: Any) -> Any:
    # (jv(v-1, x) - jv(v+1, x)) / 2; for |x| < 1e-3, (v/x) jv(v, x) - jv(v+1, x), which does
    # not cancel there; below 1e-150, the leading term of the series (SciPy's jv is 0 at
    # subnormal x for orders 1 and -1): -x/2 for v == 0, else (x/2)**(n-1) / (2 gamma(n)) for
    # n = |v|, times (-1)**n for a negative integer v (J_-n == (-1)**n J_n).
    plain_x = abs(strip(x))
    small = plain_x < 1e-3
    if isinstance(small, bool | np.bool_) and not small:
        return (sc.jv(v - 1, x) - sc.jv(v + 1, x)) / 2
    with np.errstate(all="ignore"):
        plain_v = strip(v)
        negative_integer = (plain_v < 0) & (plain_v == np.round(plain_v))
        n = _where(negative_integer, -v, v)
        parity = _where(negative_integer & (np.round(plain_v) % 2 == 1), -1.0, 1.0)
        gamma_n = sc.gamma(_where(plain_v == 0, 1.0, n))
        leading = _where(plain_v == 0, -0.5 * x, parity * power(x / 2, n - 1) / (2 * gamma_n))
        near = _where(plain_x < 1e-150, leading, (v / x) * ans - sc.jv(v + 1, x))
    if isinstance(small, bool | np.bool_):
        return near
    return _where(small, near, (sc.jv(v - 1, x) - sc.jv(v + 1, x)) / 2)


def _expit_dx(x: Any, ans: Any) -> Any:
    # expit(x) expit(-x): ans * (1 - ans) cancels as ans -> 1 (0 at x = 40, true 4.2e-18).
    return ans * sc.expit(-x)


def _lambertw_dz(z: Any, k: Any, tol: Any, ans: Any) -> Any:
    # W' = W / (z (1 + W)) = exp(-W) / (1 + W), since z / W = exp(W).  The exponential form
    # near z == 0 (no 0 / 0, no quotient of subnormals); the quotient for |W| >= 1, where
    # exp(-W) would carry W's rounding times |W|.
    near = abs(strip(ans)) < 1
    if isinstance(near, bool | np.bool_):
        return exp(-ans) / (1 + ans) if near else (ans / z) / (1 + ans)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        centre = _where(near, ans, 0.0)
        return _where(near, exp(-centre) / (1 + centre), (ans / z) / (1 + ans))


def _log_ratio(x: Any, y: Any) -> Any:
    # log(x / y), but log(x) - log(y) where x / y leaves the normal range (rounds or overflows)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        ratio = x / y
        plain = abs(strip(ratio))
        normal = (plain >= 2.2250738585072014e-308) & (plain <= 1.7976931348623157e308)
        if isinstance(normal, bool | np.bool_):
            return log(ratio) if normal else log(x) - log(y)
        return _where(normal, log(_where(normal, ratio, 1.0)), log(x) - log(y))


def _power_series_density(x: Any, a: Any, scale: Any, fallback: Any) -> Any:
    # x**(a - 1) * scale as a power (exact to an ulp), not exp((a - 1) log x + ...), whose
    # exponent's rounding error (|(a - 1) log x| * eps) would be the slope's relative error.
    # For a < 1/2, x**a / x: a - 1 rounds there.  Where that form over- or underflows
    # (huge x or a), ``fallback()``, the exponential form.  ``scale(term)`` completes it.
    with np.errstate(all="ignore"):
        small_a = strip(a) < 0.5
        term = _where(small_a, power(x, a) / x, power(x, _where(small_a, 1.0, a) - 1))
        factored = scale(term)
        plain = abs(strip(factored))
        usable = (plain >= 2.2250738585072014e-308) & (plain <= 1.7976931348623157e308)
    if isinstance(usable, bool | np.bool_):
        return factored if usable else fallback()
    return _where(usable, factored, fallback())


def _gammainc_dx(a: Any, x: Any, ans: Any) -> Any:
    # x**(a - 1) exp(-x) / gamma(a), with exp(-x) as two factors exp(-x/2): one would be
    # subnormal (and have lost bits) from x = 708
    half = exp(-x / 2)
    return _power_series_density(
        x, a, lambda term: term * half / sc.gamma(a) * half,
        lambda: exp(sc.xlogy(a - 1, x) - x - sc.gammaln(a)))


def _betainc_dx(a: Any, b: Any, x: Any, ans: Any) -> Any:
    # x**(a - 1) (1 - x)**(b - 1) / beta(a, b)
    return _power_series_density(
        x, a, lambda term: term * power(1 - x, b - 1) / sc.beta(a, b),
        lambda: exp(sc.xlogy(a - 1, x) + sc.xlog1py(b - 1, -x) - sc.betaln(a, b)))


# Test domains: points well inside each function's domain.
WIDE = (-2.5, -0.3, 1e-6, 0.7, 3.0)
TAILS = (-40.0, -2.5, 0.0, 0.7, 3.0, 40.0)
NORMAL = (-30.0, -5.0, -1.3, 0.0, 0.7, 4.0, 10.0)
OPEN_UNIT = (-0.97, -0.4, -1e-7, 3e-8, 0.5, 0.9)
UNIT = (1e-6, 0.02, 0.3, 0.5, 0.9, 0.999)
HALF_TO_TWO = (0.03, 0.5, 1.0, 1.6, 1.97)
GAMMA = (-2.5, -0.3, 0.2, 1.0, 3.7, 12.0)
BESSEL = (-7.5, -1.3, -1e-6, 2e-7, 0.8, 3.1, 20.0)
BESSEL_Y = (0.02, 0.8, 3.1, 7.3, 40.0)
POSITIVE_PAIRS = ((0.5, 2.5), (2.0, 1.3), (7.0, 0.3), (1e-3, 2.0), (3.0, 3.0), (1.5, 0.5))
XLOGY = ((0.7, 2.5), (-1.3, 0.4), (2.0, 1e-3), (0.0, 2.0), (5.0, 60.0))
XLOG1PY = ((0.7, 2.5), (-1.3, -0.6), (2.0, 1e-3), (0.0, 2.0), (5.0, 60.0))
ORDER_AND_X = ((0.0, 0.7), (1.0, 3.1), (2.5, 0.4), (-0.5, 1.9), (3.0, 12.0))
SHAPE_AND_X = ((0.5, 0.3), (1.0, 2.0), (2.5, 0.7), (7.0, 5.5), (30.0, 28.0))
ZETA = ((2.0, 1.0), (3.5, 0.4), (1.5, 2.5), (6.0, 12.0))
BETAINC = ((0.5, 2.5, 0.3), (2.0, 1.0, 0.7), (3.0, 4.0, 0.01), (1.0, 1.0, 0.5), (7.5, 0.8, 0.9))
LAMBERTW = ((-0.3, 0, 1e-8), (1e-3, 0, 1e-8), (0.4, 0, 1e-8), (2.5, 0, 1e-8), (80.0, 0, 1e-8))
ERFCX = (-3.0, -0.4, 0.0, 0.7, 1.9, 2.5, 9.0, 200.0)


def _rules() -> tuple[UfuncRule, ...]:
    if sc is None:  # pragma: no cover
        return ()
    digamma = sc.digamma
    # fmt: off
    return (
        # --- error function and the normal distribution ----------------------------------
        unary(sc.erf,       lambda x, ans: TWO_OVER_SQRT_PI * _exp_minus_square(x),  WIDE),
        unary(sc.erfc,      lambda x, ans: -TWO_OVER_SQRT_PI * _exp_minus_square(x), (*WIDE, 9.0)),
        unary(sc.erfcx,     _erfcx_dx,                                           ERFCX),
        unary(sc.erfinv,    _erfinv_dx,                                          OPEN_UNIT),
        unary(sc.erfcinv,   _erfcinv_dx,                                         HALF_TO_TWO),
        unary(sc.ndtr,      lambda x, ans: INV_SQRT_2PI * _exp_minus_square(x, 0.5), NORMAL[1:-1]),
        unary(sc.log_ndtr,  _log_ndtr_dx,                                        NORMAL),
        unary(sc.ndtri,     _ndtri_dx,                                           UNIT),
        # --- exponential and logistic -----------------------------------------------------
        unary(sc.expm1,     lambda x, ans: exp(x),                               WIDE),  # not ans+1
        unary(sc.expit,     _expit_dx,                                           TAILS),
        unary(sc.logit,     lambda x, ans: 1 / (x * (1 - x)),                    UNIT),
        unary(sc.log_expit, lambda x, ans: sc.expit(-x),                         TAILS),
        # --- gamma and beta functions -----------------------------------------------------
        unary(sc.gamma,     lambda x, ans: ans * digamma(x),                     GAMMA),
        unary(sc.gammaln,   lambda x, ans: digamma(x),                           GAMMA),  # log|Γ|
        unary(sc.loggamma,  lambda x, ans: digamma(x),                           GAMMA[2:]),
        unary(sc.digamma,   lambda x, ans: polygamma(1, x),                      GAMMA),  # also psi
        binary(sc.beta,     (lambda a, b, ans: ans * (digamma(a) - digamma(a + b)),
                             lambda a, b, ans: ans * (digamma(b) - digamma(a + b))),
                                                                                 POSITIVE_PAIRS),
        binary(sc.betaln,   (lambda a, b, ans: digamma(a) - digamma(a + b),
                             lambda a, b, ans: digamma(b) - digamma(a + b)),     POSITIVE_PAIRS),
        # --- incomplete gamma and beta: in x only (the shapes have no closed-form slope) ---
        binary(sc.gammainc,  (ND, _gammainc_dx),                                 SHAPE_AND_X),
        binary(sc.gammaincc, (ND, lambda a, x, ans: -_gammainc_dx(a, x, ans)),   SHAPE_AND_X),
        UfuncRule(sc.betainc, (ND, ND, _betainc_dx),                             BETAINC),
        # --- Hurwitz zeta(x, q): in q only (d/dx has no closed form) ----------------------
        binary(sc._ufuncs._zeta, (ND, lambda x, q, ans: -x * sc.zeta(x + 1, q)),  ZETA),
        # --- Lambert W (complex output; z real or complex, branch k and tolerance fixed) --
        UfuncRule(sc._ufuncs._lambertw, (_lambertw_dz, ND, ND),                  LAMBERTW),
        # --- x log y and entropies: flat in y where x == 0 --------------------------------
        binary(sc.xlogy,    (lambda x, y, ans: log(y),
                             lambda x, y, ans: _ratio(x, y)),                    XLOGY),
        binary(sc.xlog1py,  (lambda x, y, ans: np.log1p(y),
                             lambda x, y, ans: _ratio(x, 1 + y)),                XLOG1PY),
        unary(sc.entr,      lambda x, ans: -log(x) - 1,                          POSITIVE),
        binary(sc.rel_entr, (lambda x, y, ans: _log_ratio(x, y) + 1,
                             lambda x, y, ans: -x / y),                          POSITIVE_PAIRS),
        binary(sc.kl_div,   (lambda x, y, ans: _log_ratio(x, y),
                             lambda x, y, ans: 1 - x / y),                       POSITIVE_PAIRS),
        # --- Bessel functions: the slopes of order 1 have the limit 1/2 at 0 --------------
        unary(sc.i0,        lambda x, ans: sc.i1(x),                             BESSEL),
        unary(sc.i1,        lambda x, ans: sc.i0(x) - _over_x(ans, x, I1_SERIES),  BESSEL),
        unary(sc.i0e,       _i0e_dx,                                             BESSEL),
        unary(sc.i1e,       _i1e_dx,                                             BESSEL),
        unary(sc.j0,        _j0_dx,                                              BESSEL),
        unary(sc.j1,        lambda x, ans: sc.j0(x) - _over_x(ans, x, J1_SERIES),  BESSEL),
        unary(sc.y0,        lambda x, ans: -sc.y1(x),                            BESSEL_Y),
        unary(sc.y1,        lambda x, ans: sc.y0(x) - ans / x,                   BESSEL_Y),
        # --- Bessel functions of any order v, in x (the order is not differentiable) ------
        binary(sc.jv,       (ND, _jv_dx),                                        ORDER_AND_X),
        binary(sc.iv,       (ND, lambda v, x, ans: (sc.iv(v - 1, x) + sc.iv(v + 1, x)) / 2),
                                                                                 ORDER_AND_X),
        binary(sc.kv,       (ND, lambda v, x, ans: -(sc.kve(v - 1, x) + sc.kve(v + 1, x))
                                                   / 2 * exp(-x)),               ORDER_AND_X),
        # scaled forms: ive = iv exp(-|x|), kve = kv exp(x); kv's slope is written with kve,
        # since SciPy's kv underflows early (kv(1.5, 700) is 0, true 4.7e-306)
        binary(sc.ive,      (ND, lambda v, x, ans: (sc.ive(v - 1, x) + sc.ive(v + 1, x)) / 2
                                                   - sign(x) * ans),             ORDER_AND_X),
        binary(sc.kve,      (ND, lambda v, x, ans: ans - (sc.kve(v - 1, x) + sc.kve(v + 1, x))
                                                   / 2),                         ORDER_AND_X),
    )
    # fmt: on


SPECIAL_RULES: tuple[UfuncRule, ...] = _rules()
"""The rows registered for ``scipy.special`` (empty without SciPy)."""

for _rule in SPECIAL_RULES:
    register_ufunc(_rule)

if sc is not None:  # x log y is linear in x: no (x, x) term in a Hessian pattern
    SECOND_ORDER.update({sc.xlogy: ((0, 1), (1, 1)), sc.xlog1py: ((0, 1), (1, 1))})


def _twins() -> dict[Any, Any]:
    if sc is None:  # pragma: no cover
        return {}
    # fmt: off
    return {
        sc.erf:       lambda sp, x: sp.erf(x),
        sc.erfc:      lambda sp, x: sp.erfc(x),
        sc.erfcx:     lambda sp, x: sp.exp(x**2) * sp.erfc(x),
        sc.expm1:     lambda sp, x: sp.exp(x) - 1,
        sc.gammainc:  lambda sp, a, x: sp.lowergamma(a, x) / sp.gamma(a),
        sc.gammaincc: lambda sp, a, x: sp.uppergamma(a, x) / sp.gamma(a),
        sc.betainc:   lambda sp, a, b, x: sp.betainc_regularized(a, b, 0, x),
        sc._ufuncs._zeta: lambda sp, x, q: sp.zeta(x, q),
        sc._ufuncs._lambertw: lambda sp, z, k, tol: sp.LambertW(z),
        sc.jv:        lambda sp, v, x: sp.besselj(v, x),
        sc.iv:        lambda sp, v, x: sp.besseli(v, x),
        sc.kv:        lambda sp, v, x: sp.besselk(v, x),
        sc.ive:       lambda sp, v, x: sp.besseli(v, x) * sp.exp(-sp.Abs(x)),
        sc.kve:       lambda sp, v, x: sp.besselk(v, x) * sp.exp(x),
        sc.erfinv:    lambda sp, x: sp.erfinv(x),
        sc.erfcinv:   lambda sp, x: sp.erfinv(1 - x),  # mpmath has no erfcinv
        sc.ndtr:      lambda sp, x: (1 + sp.erf(x / sp.sqrt(2))) / 2,
        sc.log_ndtr:  lambda sp, x: sp.log(sp.erfc(-x / sp.sqrt(2)) / 2),
        sc.ndtri:     lambda sp, x: sp.sqrt(2) * sp.erfinv(2 * x - 1),
        sc.expit:     lambda sp, x: 1 / (1 + sp.exp(-x)),
        sc.logit:     lambda sp, x: sp.log(x / (1 - x)),
        sc.log_expit: lambda sp, x: -sp.log(1 + sp.exp(-x)),
        sc.gamma:     lambda sp, x: sp.gamma(x),
        sc.gammaln:   lambda sp, x: sp.log(sp.gamma(x) ** 2) / 2,  # log|gamma| for real x
        sc.loggamma:  lambda sp, x: sp.loggamma(x),
        sc.digamma:   lambda sp, x: sp.digamma(x),
        sc.beta:      lambda sp, a, b: sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b),
        sc.betaln:    lambda sp, a, b: sp.log(sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b)),
        sc.xlogy:     lambda sp, x, y: x * sp.log(y),
        sc.xlog1py:   lambda sp, x, y: x * sp.log(1 + y),
        sc.entr:      lambda sp, x: -x * sp.log(x),
        sc.rel_entr:  lambda sp, x, y: x * sp.log(x / y),
        sc.kl_div:    lambda sp, x, y: x * sp.log(x / y) - x + y,
        sc.i0:        lambda sp, x: sp.besseli(0, x),
        sc.i1:        lambda sp, x: sp.besseli(1, x),
        sc.i0e:       lambda sp, x: sp.exp(-sp.Abs(x)) * sp.besseli(0, x),
        sc.i1e:       lambda sp, x: sp.exp(-sp.Abs(x)) * sp.besseli(1, x),
        sc.j0:        lambda sp, x: sp.besselj(0, x),
        sc.j1:        lambda sp, x: sp.besselj(1, x),
        sc.y0:        lambda sp, x: sp.bessely(0, x),
        sc.y1:        lambda sp, x: sp.bessely(1, x),
    }
    # fmt: on


SYMPY_TWINS: dict[Any, Any] = _twins()
"""ufunc -> its sympy twin ``f(sympy_module, *symbols)``, for the tests."""
