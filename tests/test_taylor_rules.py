"""Every row of the rule table in Taylor mode, table-driven (a new row is tested here).

Each row is checked at the points of its own test domain: against sympy's Taylor
coefficients to order 10 (rows with a sympy twin), against nested ``dd.derivative`` to
order 4 (every row: the first-order rules are proved elsewhere), and a few against
mpmath at extreme arguments, where cancellation or overflow would show.
"""

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import sympy as sp

import dualdiff as dd
from dualdiff.dispatch import RULES
from dualdiff.rules import NOT_DIFFERENTIABLE, UFUNC_RULES
from dualdiff.taylor.recurrences import BINARY, UNARY

ELEMENTWISE = [rule for rule in RULES.values() if rule.jvp is None]
NUMPY_ROWS = [RULES[row.ufunc] for row in UFUNC_RULES if RULES[row.ufunc].sympy is not None]
ORDER = 10
DIRECTION = 0.5  # the second argument of a binary row moves at half the speed


def name(rule):
    return rule.ufunc.__name__


def _points(rule, count=3):
    points = rule.domain
    step = max(1, len(points) // count)
    return [p if isinstance(p, tuple) else (p,) for p in points[::step]]


def _live(rule):
    return [i for i, p in enumerate(rule.partials) if p is not NOT_DIFFERENTIABLE]


def _curve(rule, point):
    """``t -> rule.ufunc(point + t direction)`` as a function of one scalar."""
    live = _live(rule)

    def curve(t):
        args = [point[i] + (1.0 if i == live[0] else DIRECTION) * t if i in live else point[i]
                for i in range(len(point))]
        return rule.ufunc(*args)

    return curve


def _sympy_twin(rule, *symbols):
    twin = rule.sympy
    return getattr(sp, twin)(*symbols) if isinstance(twin, str) else twin(sp, *symbols)


def _close(actual, expected, rtol, what):
    expected = np.asarray(expected, dtype=complex)
    scale = np.maximum.accumulate(np.abs(expected))  # the sizes met on the way to order k
    error = np.abs(np.asarray(actual, dtype=complex) - expected)
    bad = error > rtol * (np.abs(expected) + 1e-3 * scale) + 1e-300
    assert not np.any(bad), f"{what}: {actual} vs {expected}"


def test_every_row_has_a_sympy_twin_or_a_reason():
    # a new row without a sympy twin must say here why its Taylor test is the nested one
    no_twin = {row.ufunc for row in UFUNC_RULES if RULES[row.ufunc].sympy is None}
    assert no_twin <= {np.spacing, np.nextafter}  # one-ulp steps: no symbolic form


def test_dedicated_recurrences_are_rows_of_the_table():
    for ufunc in [*UNARY, *BINARY]:
        assert ufunc in RULES, ufunc


@pytest.mark.parametrize("rule", NUMPY_ROWS, ids=name)
def test_row_matches_its_sympy_twin_series_to_order_10(rule):
    # the twin's Taylor coefficients in 50 digits: sympy's expression, lambdified to mpmath
    # (symbolic tenth derivatives of tanh or x**y take seconds each; these take ms)
    symbols = sp.symbols(f"x0:{rule.ufunc.nin}", real=True)
    twin = sp.lambdify(symbols, _sympy_twin(rule, *symbols), modules="mpmath")
    live = _live(rule)
    for point in _points(rule, 2):
        speeds = [1 if i == live[0] else 0.5 if i in live else 0 for i in range(len(point))]
        with mpmath.workdps(50):
            start = [mpmath.mpf(p) for p in point]
            def moved(t, start=start, speeds=speeds):
                return twin(*(p + v * t for p, v in zip(start, speeds, strict=True)))

            series = mpmath.taylor(moved, 0, ORDER)
            expected = [float(mpmath.re(c)) for c in series]
        actual = dd.taylor(_curve(rule, point), 0.0, 1.0, order=ORDER)
        _close(actual, expected, 1e-8, f"numpy.{name(rule)} at {point}")


NO_TAYLOR_RULE = {"gamma", "gammaln", "loggamma", "psi", "beta", "betaln"}
"""Rows whose partial (digamma, polygamma of SciPy) cannot be evaluated on Jets: they raise."""


@pytest.mark.parametrize("rule", ELEMENTWISE, ids=name)
def test_row_matches_nested_derivatives_to_order_4(rule):
    def nested(f, k):
        return f if k == 0 else nested(lambda t: dd.derivative(f, t), k - 1)

    for point in _points(rule, 2):
        curve = _curve(rule, point)
        if name(rule) in NO_TAYLOR_RULE:
            with pytest.raises(TypeError, match=f"{name(rule)} has no Taylor rule"):  # named
                dd.derivatives(curve, 0.0, order=4)
            continue
        expected = [nested(curve, k)(0.0) for k in range(5)]
        actual = dd.derivatives(curve, 0.0, order=4)
        _close(actual, expected, 1e-9, f"{name(rule)} at {point}")


EXTREME = [  # (ufunc, mpmath twin, x, the length over which the function changes)
    (np.exp, mpmath.exp, 700.0, 1.0),
    (np.exp, mpmath.exp, -700.0, 1.0),
    (np.log, mpmath.log, 1e-30, 1e-30),  # a_8 = -1e240 (at 1e-300 it overflows)
    (np.log, mpmath.log, 1e300, 1e300),
    (np.sqrt, mpmath.sqrt, 1e-300, 1e-300),
    (np.tanh, mpmath.tanh, 20.0, 1.0),
    (np.tanh, mpmath.tanh, -30.0, 1.0),
    (np.arctan, mpmath.atan, 1e8, 1e8),
    (np.sin, mpmath.sin, 1e5, 1.0),
    (np.arcsinh, mpmath.asinh, 1e150, 1e150),
    (np.arctanh, mpmath.atanh, 1 - 2**-30, 2**-30),
    (np.arcsin, mpmath.asin, -1 + 2**-30, 2**-30),
    (sc.erf, mpmath.erf, 6.0, 1.0),
    (sc.erfc, mpmath.erfc, 20.0, 1.0),
    (np.expm1, mpmath.expm1, -1e-10, 1.0),
    (np.log1p, mpmath.log1p, -1 + 2**-40, 2**-40),
]


@pytest.mark.parametrize(("ufunc", "reference", "x", "scale"), EXTREME,
                         ids=[f"{u.__name__}({x})" for u, _, x, _ in EXTREME])
def test_extreme_arguments_match_mpmath(ufunc, reference, x, scale):
    # mpmath differentiates s -> f(x + scale s) / f(x) numerically in 80 digits (a function
    # of size 1 changing over a length 1): a_k = f(x) b_k / scale**k
    with mpmath.workdps(80):
        x_, h = mpmath.mpf(x), mpmath.mpf(scale)
        size = reference(x_)
        series = mpmath.taylor(lambda s: reference(x_ + h * s) / size, 0, 8)
        expected = [float(mpmath.re(c * size / h**k)) for k, c in enumerate(series)]
    with np.errstate(under="ignore"):
        actual = dd.taylor(ufunc, x, 1.0, order=8)
    for k, (a, e) in enumerate(zip(actual, expected, strict=True)):
        assert a == e or abs(a - e) <= 1e-9 * abs(e) + 1e-300, (k, a, e)


def test_normalised_coefficients_do_not_overflow():
    # 1/(1 - t) and log(1 + t): a_k = 1 and (-1)**(k+1) / k, while k! overflows from 171
    np.testing.assert_array_equal(dd.taylor(lambda t: 1 / (1 - t), 0.0, 1.0, order=300), 1.0)
    k = np.arange(1, 301)
    np.testing.assert_allclose(dd.taylor(np.log1p, 0.0, 1.0, order=300)[1:],
                               (-1.0) ** (k + 1) / k, rtol=1e-13)
