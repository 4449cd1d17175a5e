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
dualdiff already differentiates; ``polygamma`` and ``zeta`` are Python
functions, so the slope of ``digamma`` uses :func:`polygamma` below.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_ufunc
from dualdiff.dual import Dual
from dualdiff.elementary import exp, log, sign, strip
from dualdiff.rules import POSITIVE, UfuncRule, binary, unary

try:
    import scipy.special as sc
except ImportError:  # pragma: no cover - SciPy is an optional dependency
    sc = None

TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
SQRT_2PI = math.sqrt(2 * math.pi)


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
    x2 = x * x
    near_zero = scale * (series[0] + x2 * (series[1] + x2 * series[2]))
    small = np.abs(strip(x)) < 1e-3
    if isinstance(small, bool | np.bool_):
        return near_zero if small else numerator / x
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(small, near_zero, numerator / x)


def _ratio(x: Any, y: Any) -> Any:
    # x / y, but 0 where x == y == 0: xlogy(0, y) == 0 for every y, so it is flat in y there
    # (x / y would be 0 / 0).  Elsewhere plain x / y, whose slope in x is 1 / y.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where((x == 0) & (y == 0), 0 * x, x / y)


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


def _rules() -> tuple[UfuncRule, ...]:
    if sc is None:  # pragma: no cover
        return ()
    digamma = sc.digamma
    # fmt: off
    return (
        # --- error function and the normal distribution ----------------------------------
        unary(sc.erf,       lambda x, ans: TWO_OVER_SQRT_PI * exp(-x * x),      WIDE),
        unary(sc.erfc,      lambda x, ans: -TWO_OVER_SQRT_PI * exp(-x * x),     (*WIDE, 9.0)),
        unary(sc.erfinv,    lambda x, ans: SQRT_PI_OVER_2 * exp(ans * ans),      OPEN_UNIT),
        unary(sc.erfcinv,   lambda x, ans: -SQRT_PI_OVER_2 * exp(ans * ans),     HALF_TO_TWO),
        unary(sc.ndtr,      lambda x, ans: INV_SQRT_2PI * exp(-x * x / 2),       NORMAL[1:-1]),
        unary(sc.log_ndtr,  lambda x, ans: INV_SQRT_2PI * exp(-x * x / 2 - ans), NORMAL),
        unary(sc.ndtri,     lambda x, ans: SQRT_2PI * exp(ans * ans / 2),        UNIT),
        # --- logistic ---------------------------------------------------------------------
        unary(sc.expit,     lambda x, ans: ans * (1 - ans),                      TAILS),
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
        # --- x log y and entropies: flat in y where x == 0 --------------------------------
        binary(sc.xlogy,    (lambda x, y, ans: log(y),
                             lambda x, y, ans: _ratio(x, y)),                    XLOGY),
        binary(sc.xlog1py,  (lambda x, y, ans: np.log1p(y),
                             lambda x, y, ans: _ratio(x, 1 + y)),                XLOG1PY),
        unary(sc.entr,      lambda x, ans: -log(x) - 1,                          POSITIVE),
        binary(sc.rel_entr, (lambda x, y, ans: log(x / y) + 1,
                             lambda x, y, ans: -x / y),                          POSITIVE_PAIRS),
        binary(sc.kl_div,   (lambda x, y, ans: log(x / y),
                             lambda x, y, ans: 1 - x / y),                       POSITIVE_PAIRS),
        # --- Bessel functions: the slopes of order 1 have the limit 1/2 at 0 --------------
        unary(sc.i0,        lambda x, ans: sc.i1(x),                             BESSEL),
        unary(sc.i1,        lambda x, ans: sc.i0(x) - _over_x(ans, x, I1_SERIES),  BESSEL),
        unary(sc.i0e,       lambda x, ans: sc.i1e(x) - sign(x) * ans,            BESSEL),
        unary(sc.i1e,       lambda x, ans: sc.i0e(x) - sign(x) * ans
                                           - _over_x(ans, x, I1_SERIES, exp(-np.abs(x))),
                                                                                 BESSEL),
        unary(sc.j0,        lambda x, ans: -sc.j1(x),                            BESSEL),
        unary(sc.j1,        lambda x, ans: sc.j0(x) - _over_x(ans, x, J1_SERIES),  BESSEL),
        unary(sc.y0,        lambda x, ans: -sc.y1(x),                            BESSEL_Y),
        unary(sc.y1,        lambda x, ans: sc.y0(x) - ans / x,                   BESSEL_Y),
    )
    # fmt: on


SPECIAL_RULES: tuple[UfuncRule, ...] = _rules()
"""The rows registered for ``scipy.special`` (empty without SciPy)."""

for _rule in SPECIAL_RULES:
    register_ufunc(_rule)


def _twins() -> dict[Any, Any]:
    if sc is None:  # pragma: no cover
        return {}
    # fmt: off
    return {
        sc.erf:       lambda sp, x: sp.erf(x),
        sc.erfc:      lambda sp, x: sp.erfc(x),
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
