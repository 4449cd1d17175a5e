"""The scipy.special rows: registered, enumerated by tests/test_rules.py, and exact.

tests/test_rules.py checks every row of the table -- these included -- with the reference
checker (scalars, arrays, batched tangents, each operand live, float32).  Here each row is
compared with sympy's exact first and second derivatives of its twin, evaluated by mpmath
at 30 digits: the first order tests the partials, the second order the partials' own
derivatives through nested dual numbers.
"""

import numpy as np
import pytest
import sympy as sp

import dualdiff
from dualdiff.dispatch import RULES
from dualdiff.rules import differentiable_arguments
from dualdiff.special import SPECIAL_RULES, SYMPY_TWINS, polygamma, ufunc_of
from dualdiff.testing import check_jvp

sc = pytest.importorskip("scipy.special")

REQUESTED = [
    "erf", "erfc", "erfinv", "erfcinv", "expit", "logit", "log_expit", "ndtr", "log_ndtr",
    "ndtri", "gamma", "gammaln", "loggamma", "digamma", "psi", "xlogy", "xlog1py", "i0", "i1",
    "i0e", "i1e", "j0", "j1", "y0", "y1", "entr", "rel_entr", "kl_div", "beta", "betaln",
    "erfcx", "expm1", "gammainc", "gammaincc", "jv", "iv", "kv", "betainc",
]
# Python functions over ufuncs: their rows are the ufuncs' (scipy.special._ufuncs).
WRAPPED = {"zeta": "_zeta", "lambertw": "_lambertw"}


def name(rule):
    return rule.ufunc.__name__


def test_every_requested_function_has_a_rule():
    missing = [n for n in REQUESTED if ufunc_of(getattr(sc, n)) not in RULES]  # SCIPY_ARRAY_API
    missing += [n for n in WRAPPED.values() if getattr(sc._ufuncs, n) not in RULES]
    assert not missing
    assert ufunc_of(sc.psi) is ufunc_of(sc.digamma)


def test_every_row_is_in_the_table_and_has_a_twin():
    for rule in SPECIAL_RULES:
        assert RULES[rule.ufunc] is rule, name(rule)  # so tests/test_rules.py enumerates it
        assert rule.domain, name(rule)
        assert rule.ufunc in SYMPY_TWINS, name(rule)
        assert len(rule.partials) == rule.ufunc.nin


DIGITS = 250  # log_ndtr(-30) meets 2 - erfc(21.2), which cancels to about 1e-197


def evaluate(expr, at):
    return complex(expr.evalf(DIGITS, subs=at)).real


def exact(rule, point, order):
    """sympy's derivatives of the twin at ``point`` in the differentiable arguments."""
    symbols = sp.symbols(f"x0:{rule.ufunc.nin}", real=True)
    live = [symbols[i] for i in differentiable_arguments(rule)]
    expr = SYMPY_TWINS[rule.ufunc](sp, *symbols)
    at = {s: sp.Float(float(v), DIGITS) for s, v in zip(symbols, point, strict=True)}
    if order == 1:
        return np.array([evaluate(sp.diff(expr, s), at) for s in live])
    return np.array([[evaluate(sp.diff(expr, s, t), at) for t in live] for s in live])


def points(rule):
    return [p if isinstance(p, tuple) else (p,) for p in rule.domain]


def of_live(rule, point):
    """The rule's ufunc as a function of a vector of its differentiable arguments (the real
    part for a complex output, lambertw's), the other arguments fixed at ``point``; and
    that vector."""
    live = differentiable_arguments(rule)

    def f(v):
        args = [v[live.index(i)] if i in live else point[i] for i in range(rule.ufunc.nin)]
        return np.real(rule.ufunc(*args))

    return f, np.array([float(point[i]) for i in live])


@pytest.mark.parametrize("rule", SPECIAL_RULES, ids=name)
def test_first_derivatives_match_sympy(rule):
    for point in points(rule):
        expected = exact(rule, point, 1)
        f, at = of_live(rule, point)
        gradient = dualdiff.gradient(f, at)
        np.testing.assert_allclose(gradient, expected, rtol=1e-9, atol=1e-13,
                                   err_msg=f"{name(rule)} at {point}")


@pytest.mark.parametrize("rule", SPECIAL_RULES, ids=name)
def test_second_derivatives_match_sympy(rule):
    for point in points(rule):
        expected = exact(rule, point, 2)
        f, at = of_live(rule, point)
        hessian = dualdiff.hessian(f, at)
        np.testing.assert_allclose(hessian, expected, rtol=1e-8, atol=1e-12,
                                   err_msg=f"{name(rule)} at {point}")


def test_not_differentiable_arguments_raise_when_live():
    # registering jv with 0.0 for the order claimed d/dv jv == 0 (it is 0.455 at (1, 3.1))
    with pytest.raises(TypeError, match=r"scipy\.special\.jv is not differentiable in its first"):
        dualdiff.derivative(lambda v: sc.jv(v, 3.1), 1.0)
    with pytest.raises(TypeError, match=r"scipy\.special\.betainc .* its second argument"):
        dualdiff.derivative(lambda b: sc.betainc(2.0, b, 0.3), 1.0)
    with pytest.raises(TypeError, match=r"scipy\.special\.zeta .* its first argument"):
        dualdiff.derivative(lambda s: sc.zeta(s, 2.0), 3.0)
    # an older derivative's dual number is a constant to the newer one: no error
    outer = dualdiff.derivative(
        lambda v: dualdiff.derivative(lambda x: sc.jv(v.value, x) * v, 3.1), 1.0)
    assert outer == pytest.approx((sc.jv(0.0, 3.1) - sc.jv(2.0, 3.1)) / 2)


def test_lambertw_real_branch():
    value, slope = dualdiff.value_and_derivative(sc.lambertw, 1.0)
    w = sc.lambertw(1.0)
    assert value == w and slope == pytest.approx(w / (1.0 * (1 + w)))
    assert dualdiff.derivative(sc.lambertw, 0.0) == 1.0


def test_python_floats_stay_python_floats():
    value, slope = dualdiff.value_and_derivative(sc.erf, 0.3)
    assert type(value) is float and type(slope) is float
    assert slope == pytest.approx(2 / np.sqrt(np.pi) * np.exp(-0.09), rel=1e-15)


def test_polygamma_takes_duals_and_keeps_float32():
    x = np.array([0.5, 2.0], dtype=np.float32)
    assert polygamma(1, x).dtype == np.float32
    check_jvp(lambda v: polygamma(2, v), (np.array([0.5, 2.0, 7.0]),), (np.ones(3),))


def test_softplus_goes_through_logaddexp():
    softplus = getattr(sc, "softplus", None)
    if softplus is None:  # not in this SciPy: nothing to check
        assert not hasattr(sc, "softplus")
        return
    check_jvp(softplus, (np.array([-30.0, -1.0, 0.0, 2.5, 40.0]),), (np.ones(5),))
    assert dualdiff.derivative(softplus, 0.0) == pytest.approx(0.5)


def test_nan_safe_covers_special_rules():
    # entr has slope +inf at 0; a zero tangent there gives 0 only in NaN-safe mode.
    f = lambda x: sc.entr(x * 0.0)  # noqa: E731
    assert np.isnan(dualdiff.derivative(f, 1.0))
    with dualdiff.nan_safe():
        assert dualdiff.derivative(f, 1.0) == 0.0
