"""Each convention of docs/conventions.md, tested once."""

import math
import warnings

import numpy as np
import pytest

from dualdiff import Dual, derivative, jvp, value_and_derivative


def slope(f, x):
    return derivative(f, x)


def test_comparisons_compare_values_and_return_plain_bools():
    a, b = Dual(1.0, 5.0), Dual(1.0, -2.0)
    assert (a == b) is True and (a != b) is False
    assert (a < 2.0) is True and (a >= b) is True
    result = Dual(np.array([1.0, 3.0]), np.ones(2)) > 2.0
    assert type(result) is np.ndarray and result.dtype == bool
    with pytest.raises(TypeError, match="unhashable"):
        hash(a)


def test_branches_follow_the_value():
    def relu(x):
        return x if x > 0 else 0.0 * x

    assert slope(relu, 2.0) == 1.0
    assert slope(relu, -2.0) == 0.0


def test_python_scalars_follow_numpy_semantics():
    # values, warnings and errors are those of NumPy on float64 (tests/test_fast_path.py
    # checks every operator and fast ufunc at random points)
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        value, tangent = value_and_derivative(lambda x: 1 / x, 0.0)
    assert value == math.inf and tangent == -math.inf
    with pytest.warns(RuntimeWarning, match="invalid value"):
        value, tangent = value_and_derivative(np.log, -1.0)
    assert math.isnan(value) and tangent == -1.0  # the formula 1/x, as in JAX
    with pytest.warns(RuntimeWarning, match="invalid value"):
        assert math.isnan((Dual(-math.inf, 1.0) ** 0.5).value)  # np.power: nan, math.pow: inf
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        Dual(1e200, 1.0) * 1e200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="ignore"):
            assert value_and_derivative(np.log, 0.0) == (-math.inf, math.inf)


def test_integers_promoted_and_float32_kept():
    assert type(derivative(lambda x: x * x, 3)) is float
    out, tangent = jvp(np.sin, (np.float32(0.5),), (np.float32(1.0),))
    assert out.dtype == np.float32 and tangent.dtype == np.float32


def test_abs_and_sign_at_zero():
    assert slope(np.abs, 0.0) == 0.0
    assert slope(abs, 0.0) == 0.0
    assert slope(np.fabs, 0.0) == 0.0
    assert slope(np.sign, 0.0) == 0.0


@pytest.mark.parametrize("f", [np.floor, np.ceil, np.trunc, np.rint])
def test_piecewise_constant_functions_have_zero_slope_even_at_jumps(f):
    for x in (-1.0, 0.0, 0.5, 2.0, 2.3):
        assert slope(f, x) == 0.0
    assert slope(lambda x: x // 1.0, 2.0) == 0.0
    assert slope(lambda x: np.heaviside(x, 0.5), 0.0) == 0.0


def test_python_rounding_returns_plain_numbers():
    d = Dual(2.7, 1.0)
    assert round(d) == 3 and type(round(d)) is int
    assert (math.floor(d), math.ceil(d), math.trunc(Dual(-2.7, 1.0))) == (2, 3, -2)
    assert round(d, 0) == 3.0
    assert int(d) == 2 and int(Dual(-2.7, 1.0)) == -2 and type(int(d)) is int


def test_a_dual_is_never_an_index():
    with pytest.raises(TypeError, match="index"):
        range(Dual(3.0, 1.0))


def test_the_round_method_keeps_a_dual_with_zero_tangent():
    rounded = Dual(np.array([1.26, 2.71]), np.ones(2)).round(1)
    assert type(rounded) is Dual
    np.testing.assert_array_equal(rounded.value, [1.3, 2.7])
    np.testing.assert_array_equal(rounded.tangent, 0.0)


@pytest.mark.parametrize("f", [np.maximum, np.minimum, np.fmax, np.fmin])
def test_ties_split_the_slope(f):
    assert slope(lambda x: f(x, 1.0), 1.0) == 0.5
    assert slope(lambda x: f(1.0, x), 1.0) == 0.5
    assert slope(lambda x: f(x, x), 1.0) == 1.0


@pytest.mark.parametrize("f", [np.fmax, np.fmin])
def test_fmax_fmin_ignore_nan(f):
    assert slope(lambda x: f(x, math.nan), 2.0) == 1.0
    assert slope(lambda x: f(math.nan, x), 2.0) == 1.0


def test_hypot_at_origin():
    assert slope(lambda x: np.hypot(x, 0.0), 0.0) == 0.0
    assert slope(lambda x: np.hypot(0.0, x), 0.0) == 0.0


def test_roots_at_zero_have_infinite_slope():
    # the division by zero warns, on Python floats as on float64 arrays
    for f in (np.sqrt, np.cbrt):
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            assert slope(f, 0.0) == math.inf
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            assert jvp(f, (np.zeros(1),), (np.ones(1),))[1][0] == math.inf
    assert slope(lambda x: x**0.5, 0.0) == math.inf  # power's slope is silent, as on arrays


def test_power_conventions():
    assert slope(lambda x: x**0, 0.0) == 0.0
    assert slope(lambda x: x**0.0, 0.0) == 0.0
    assert slope(lambda y: 0.0**y, 2.0) == 0.0
    np.testing.assert_array_equal(
        jvp(lambda x: x ** np.array([0.0, 2.0]), (np.zeros(2),), (np.ones(2),))[1], [0.0, 0.0]
    )


def test_copysign_and_remainder():
    assert slope(lambda y: np.copysign(2.0, y), -1.0) == 0.0
    assert slope(lambda x: np.copysign(x, -1.0), 2.0) == -1.0
    assert slope(lambda y: 7.0 % y, 2.0) == -3.0


def test_zero_times_infinity_is_nan():
    with np.errstate(divide="ignore", invalid="ignore"):
        assert math.isnan(slope(lambda x: np.sqrt(x**2), 0.0))


def test_heaviside_has_slope_one_in_h0_where_x_is_zero():
    assert slope(lambda h: np.heaviside(0.0, h), 0.3) == 1.0
    assert slope(lambda h: np.heaviside(2.0, h), 0.3) == 0.0
    assert slope(lambda x: np.heaviside(x, 0.5), 0.0) == 0.0


def test_not_differentiable_arguments_raise_when_live_and_accept_constants():
    assert slope(lambda x: np.ldexp(x, 3), 1.5) == 8.0
    with pytest.raises(TypeError, match=r"numpy\.ldexp is not differentiable in its second"):
        slope(lambda e: np.ldexp(1.5, e), 3.0)


def test_tangents_have_the_values_precision():
    assert Dual(np.float32(1.0), 1.0).tangent.dtype == np.float32
    x = Dual(np.ones(3, dtype=np.float32), np.ones(3, dtype=np.float32))
    assert np.maximum(x, 0.0).tangent.dtype == np.float32
