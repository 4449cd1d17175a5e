"""Taylor mode: the verbs, batches of directions, linear functions, linear algebra, nesting.

The rule table's rows are checked one by one in ``test_taylor_rules.py``; here the
pieces around them: a batch equals the directions one by one, mixed partials agree
with sympy, the Laplacian with the Hessian's trace, linear and linear-algebra
functions with nested first-order derivatives, and tags keep nested calls apart.
"""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.taylor.jet import Jet

X = sp.Symbol("x", real=True)


def foundation(xp):
    def f(x):
        return (xp.sin(x) * xp.exp(-(x**2) / 3) + xp.log(1 + x**2) / (1 + xp.cos(x) ** 2)
                + xp.sqrt(x + 2) * xp.tanh(x))

    return f


def nested(f, k):
    return f if k == 0 else nested(lambda t: dd.derivative(f, t), k - 1)


def along(f, x, v):
    return lambda t: f(x + t * v)


def test_foundation_to_order_10_agrees_with_sympy():
    terms = [foundation(sp)(X)]
    for _ in range(10):
        terms.append(sp.diff(terms[-1], X))
    expected = [term.evalf(40, subs={X: sp.Rational(7, 10)}) for term in terms]
    assert dd.derivative(foundation(np), 0.7, order=10) == pytest.approx(
        float(expected[10]), rel=1e-12)
    everything = dd.derivatives(foundation(np), 0.7, order=10)
    np.testing.assert_allclose(everything, np.array(expected, dtype=float), rtol=1e-12)


def test_order_one_is_the_first_order_derivative():
    assert dd.derivative(np.sin, 0.3, order=1) == dd.derivative(np.sin, 0.3)
    assert dd.derivative(np.sin, 0.3, order=0) == np.sin(0.3)


@settings(max_examples=15)
@given(st.floats(-2.0, 2.0), st.floats(-2.0, 2.0))
def test_array_function_matches_nested_derivatives_to_order_4(a, b):
    x = np.array([a, b, 0.3])
    v = np.array([1.0, -0.5, 2.0])

    def f(z):
        w = np.concatenate([np.sin(z), z[:2] ** 2])
        return np.sum(np.tanh(w) * np.exp(-z[::-1][:1])) + np.fft.fft(z * z).real[1]

    actual = dd.taylor(f, x, v, order=4)
    expected = [nested(along(f, x, v), k)(0.0) / math.factorial(k) for k in range(5)]
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


def test_a_batch_of_directions_equals_the_directions_one_by_one(rng):
    a = rng.standard_normal((3, 3))

    def f(z):
        return np.stack([np.sum(np.exp(a @ z) * z), np.arctan(z[0] * z[1]) / (2 + z[2] ** 2)])

    x = rng.standard_normal(3)
    directions = rng.standard_normal((4, 3))
    batched = dd.taylor(f, x, directions, order=5)
    assert batched.shape == (6, 4, 2)
    for i, v in enumerate(directions):
        np.testing.assert_allclose(batched[:, i], dd.taylor(f, x, v, order=5), rtol=1e-13,
                                   atol=1e-15)


def test_a_batch_through_a_product_of_two_jets(rng):
    x, directions = rng.standard_normal(3), rng.standard_normal((2, 3))
    batched = dd.taylor(lambda z: np.sin(z) @ np.cos(z), x, directions, order=4)
    for i, v in enumerate(directions):
        np.testing.assert_allclose(batched[:, i], dd.taylor(lambda z: np.sin(z) @ np.cos(z),
                                                             x, v, order=4), rtol=1e-13)


@pytest.mark.parametrize("alpha", [(2, 1, 0), (1, 1, 1), (0, 3, 1), (2, 0, 2), (4, 0, 0)])
def test_mixed_partials_agree_with_sympy(alpha):
    symbols = sp.symbols("x0:3", real=True)

    def f(z, xp=np):
        return xp.exp(z[0] * z[1]) * xp.sin(z[2] + z[0]) + z[1] ** 3 * z[2] ** 2

    point = np.array([0.4, -0.7, 1.1])
    expr = f(symbols, sp)
    for s, n in zip(symbols, alpha, strict=True):
        expr = sp.diff(expr, s, n)
    expected = float(expr.subs(dict(zip(symbols, point, strict=True))))
    assert dd.mixed_partial(f, point, alpha) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_laplacian_is_the_trace_of_the_hessian(rng):
    def f(z):
        return np.sum(np.sin(z) * np.roll(z, 1)) + np.log(1 + z @ z)

    x = rng.standard_normal(5)
    assert dd.laplacian(f, x) == pytest.approx(np.trace(dd.hessian(f, x)), rel=1e-12)
    grid = rng.standard_normal((2, 3))
    assert dd.laplacian(lambda z: np.sum(z**4), grid) == pytest.approx(np.sum(12 * grid**2))


def test_linear_algebra_matches_nested_derivatives():
    a = np.array([[4.0, 1.0, 0.5], [0.3, 3.0, -1.0], [0.2, 0.1, 5.0]])
    spd = (a + a.T) / 2
    b = np.array([1.0, -2.0, 0.5])
    x, v = np.array([0.3, -0.2, 0.7]), np.array([1.0, 0.5, -1.0])
    functions = [
        lambda z: np.linalg.inv(a + np.outer(z, z))[0, 1],
        lambda z: np.linalg.solve(a + np.diag(np.sin(z)), b * z)[2],
        lambda z: np.linalg.solve(a, np.exp(z))[1],
        lambda z: np.linalg.det(a + np.outer(z, np.cos(z))),
        lambda z: np.linalg.cholesky(spd + np.outer(z, z))[2, 1],
        lambda z: np.linalg.eigvalsh(spd + np.outer(np.sin(z), np.sin(z)))[0],
        lambda z: np.linalg.eigh(spd + np.diag(z)).eigenvalues[2],
        lambda z: np.linalg.eigh(spd + np.diag(z)).eigenvectors[1, 2],
    ]
    directions = np.stack([v, np.ones(3)])
    for f in functions:
        expected = [nested(along(f, x, v), k)(0.0) / math.factorial(k) for k in range(4)]
        np.testing.assert_allclose(dd.taylor(f, x, v, order=3), expected, rtol=1e-10,
                                   atol=1e-13)
        batched = dd.taylor(f, x, directions, order=3)  # a batch: the same, direction by one
        np.testing.assert_allclose(batched[:, 0], expected, rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(batched[:, 1], dd.taylor(f, x, directions[1], order=3),
                                   rtol=1e-12, atol=1e-14)


def test_a_taylor_call_inside_a_derivative_call():
    # d/dx of the second coefficient of y -> sin(x y) at y = 1: d/dx (-x**2 sin(x) / 2)
    def second(x):
        return dd.taylor(lambda y: np.sin(x * y), 1.0, 1.0, order=3)[2]

    expected = sp.diff(-(X**2) * sp.sin(X) / 2, X).subs(X, 0.5)
    assert dd.derivative(second, 0.5) == pytest.approx(float(expected), rel=1e-14)
    assert dd.derivative(lambda x: dd.derivative(lambda y: x * y**3, 1.0, order=2), 2.0) == 6.0


def test_nested_taylor_calls_do_not_confuse_their_perturbations():
    # the inner call's coefficient of x y**2 along y is x; the outer expands it in x
    inner = dd.taylor(lambda x: dd.taylor(lambda y: x * y * y, 1.0, 1.0, order=2)[2], 2.0, 1.0,
                      order=2)
    np.testing.assert_array_equal(inner, [2.0, 1.0, 0.0])
    outer = dd.taylor(lambda x: dd.taylor(lambda y: x + y, 1.0, 1.0, order=1)[1], 2.0, 1.0,
                      order=1)
    np.testing.assert_array_equal(outer, [1.0, 0.0])


def test_a_derivative_call_inside_a_taylor_call_says_how_to_nest():
    with pytest.raises(TypeError, match="nests the other way round"):
        dd.taylor(lambda y: dd.derivative(lambda x: x * y, 1.0), 1.0, 1.0, order=2)


def test_functions_without_a_taylor_rule_raise_naming_them():
    x, v = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    with pytest.raises(TypeError, match=r"numpy\.prod has no Taylor rule"):
        dd.taylor(np.prod, x, v, order=2)
    with pytest.raises(TypeError, match="cumprod has no Taylor rule"):
        dd.taylor(np.cumprod, x, v, order=2)
    with pytest.raises(TypeError, match="a Jet cannot become a plain NumPy array"):
        dd.taylor(np.asarray, x, v, order=2)
    with pytest.raises(TypeError, match="float"):
        dd.taylor(math.sin, 1.0, 1.0, order=2)
    with pytest.raises(ValueError, match="non-negative integer"):
        dd.derivative(np.sin, 1.0, order=-1)
    with pytest.raises(ValueError, match="direction v has shape"):
        dd.taylor(np.sin, x, np.ones(3), order=2)


def test_kinks_follow_the_conventions_at_every_order():
    np.testing.assert_array_equal(dd.taylor(np.abs, 0.0, 1.0, order=3), [0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(dd.taylor(lambda t: np.maximum(t, 0.0), 0.0, 1.0, order=3),
                                  [0.0, 0.5, 0.0, 0.0])
    np.testing.assert_array_equal(dd.taylor(np.floor, 1.5, 1.0, order=2), [1.0, 0.0, 0.0])
    # sqrt at 0: slope +inf, and a zero direction gives nan, or 0 when NaN-safe
    with np.errstate(all="ignore"):
        assert dd.taylor(np.sqrt, 0.0, 1.0, order=1)[1] == math.inf
        plain = dd.taylor(lambda z: np.sqrt(z[0]) + z[1], np.array([0.0, 1.0]),
                          np.array([0.0, 1.0]), order=2)
        with dd.nan_safe():
            safe = dd.taylor(lambda z: np.sqrt(z[0]) + z[1], np.array([0.0, 1.0]),
                             np.array([0.0, 1.0]), order=2)
    assert np.isnan(plain[1])
    np.testing.assert_array_equal(safe, [1.0, 1.0, 0.0])


def test_the_jet_type():
    t = Jet(0.0, [1.0, 0.0])  # t to order 2
    assert np.exp(t) > 0.5  # comparisons compare values
    assert Jet(np.zeros(2), np.ones((3, 4, 2))).batch == (4,)
    with pytest.raises(ValueError, match="coefficients of shape"):
        Jet(np.zeros(2), np.ones((3, 5)))
    with pytest.raises(TypeError, match="item assignment"):
        t[0] = 1.0
    assert str(np.sin(t)) == "0.0 + 1.0t + 0.0t²"
    np.testing.assert_array_equal(np.cos(t).coefficients, [1.0, 0.0, -0.5])


@pytest.mark.parametrize("f", [
    lambda t: np.ldexp(t, 3), lambda t: np.modf(t)[0], lambda t: np.modf(t)[1],
    lambda t: np.frexp(t)[0], lambda t: np.divmod(t, 0.3)[1], lambda t: np.divmod(t, 0.3)[0],
], ids=["ldexp", "modf-fraction", "modf-integral", "frexp", "divmod-remainder", "divmod-q"])
def test_rows_outside_the_ufunc_table_match_nested_derivatives(f):
    # INTEGER_ARGUMENTS, MULTI_OUTPUT and COMPOSED rows of dualdiff.rules
    point = 1.37
    expected = [nested(lambda t: f(np.sin(t + point)), k)(0.0) for k in range(4)]
    np.testing.assert_allclose(dd.derivatives(lambda t: f(np.sin(t + point)), 0.0, order=3),
                               expected, rtol=1e-12, atol=1e-15)
