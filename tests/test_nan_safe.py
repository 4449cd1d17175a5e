"""NaN-safe mode: a zero tangent times an infinite or NaN partial gives 0, not NaN.

Also the traps it is meant for (a norm at 0) and the one it does not need to fix in forward
mode (np.where hiding a branch).
"""

import math

import numpy as np
import pytest

import dualdiff
from dualdiff import Dual, derivative, gradient, is_nan_safe, nan_safe
from dualdiff.testing import check_jvp

# 0 * inf is the subject here: NumPy's warnings about it are expected.
pytestmark = pytest.mark.filterwarnings(
    "ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning"
)


def sqrt_of_square(x):
    return np.sqrt(x**2)


def norm(x):
    return np.sqrt(np.sum(x**2))


@pytest.fixture(autouse=True)
def _default_mode():
    assert not is_nan_safe()
    yield
    dualdiff.nan_safe(False)


def test_off_by_default_and_nan():
    assert not is_nan_safe()
    assert math.isnan(derivative(sqrt_of_square, 0.0))


def test_context_manager_gives_zero_and_restores():
    with nan_safe() as setting:
        assert is_nan_safe()
        assert derivative(sqrt_of_square, 0.0) == 0.0
        assert "True" in repr(setting)
    assert not is_nan_safe()
    assert math.isnan(derivative(sqrt_of_square, 0.0))


def test_switch_without_with():
    dualdiff.nan_safe(True)
    assert is_nan_safe()
    assert derivative(sqrt_of_square, 0.0) == 0.0
    dualdiff.nan_safe(False)
    assert math.isnan(derivative(sqrt_of_square, 0.0))


def test_nesting_and_exceptions_restore_the_previous_setting():
    with nan_safe():
        with nan_safe(False):
            assert not is_nan_safe()
            assert math.isnan(derivative(sqrt_of_square, 0.0))
        assert is_nan_safe()
    assert not is_nan_safe()
    with pytest.raises(ZeroDivisionError), nan_safe():
        raise ZeroDivisionError
    assert not is_nan_safe()


def test_only_zero_tangents_are_touched():
    with nan_safe():
        assert derivative(np.sqrt, 0.0) == math.inf  # a nonzero tangent: still infinite
        _, tangent = dualdiff.jvp(np.sqrt, (0.0,), (math.nan,))
        assert math.isnan(tangent)  # a NaN tangent stays NaN
        assert derivative(sqrt_of_square, 3.0) == 1.0
        check_jvp(lambda x: np.sin(x) * np.exp(x), (np.array([0.3, -1.2]),), (np.ones(2),))


def test_norm_at_zero():
    x = np.zeros(3)
    assert np.all(np.isnan(gradient(norm, x)))
    with nan_safe():
        np.testing.assert_array_equal(gradient(norm, x), np.zeros(3))
        np.testing.assert_allclose(gradient(norm, np.array([3.0, 0.0, 4.0])), [0.6, 0.0, 0.8])


def test_where_hides_the_other_branch_in_forward_mode():
    # The reverse-mode trap: the unselected branch's NaN leaks into the gradient.  In forward
    # mode np.where selects tangents, so it does not leak, with or without NaN-safe mode.
    def relu_sqrt(x):
        with np.errstate(invalid="ignore"):
            return np.where(x > 0, np.sqrt(x), 0.0)

    x = np.array([-1.0, 0.0, 4.0])
    for mode in (False, True):
        with nan_safe(mode):
            _, tangent = dualdiff.jvp(relu_sqrt, (x,), (np.ones(3),))
            np.testing.assert_array_equal(tangent, [0.0, 0.0, 0.25])
            assert derivative(relu_sqrt, 0.0) == 0.0
    # Multiplying by a mask instead is 0 * inf at 0: a zero *partial* times an infinite
    # tangent, which NaN-safe mode leaves alone (see docs/conventions.md).
    with nan_safe():
        assert math.isnan(derivative(lambda x: (x > 0) * np.sqrt(x), 0.0))


def test_python_float_fast_paths_are_switched():
    # (x * 0 + 2) * inf: the multiply rule's partial is inf and the tangent is 0.
    def f(x):
        return (x * 0.0 + 2.0) * math.inf

    def g(x):
        return math.inf * (0.0 * x + 2.0)  # the reflected operator

    for h in (f, g):
        assert math.isnan(derivative(h, 1.5))
        with nan_safe():
            assert derivative(h, 1.5) == 0.0
        assert math.isnan(derivative(h, 1.5))


def test_unary_ufunc_fast_path_and_arrays():
    zero = Dual(0.0, 0.0)
    with nan_safe():
        assert np.arcsin(zero + 1.0).tangent == 0.0
        assert np.sqrt(zero).tangent == 0.0
        assert abs(zero).tangent == 0.0
        x = Dual(np.array([0.0, 1.0, 4.0]), np.zeros((2, 3)))
        np.testing.assert_array_equal(np.sqrt(x).tangent, np.zeros((2, 3)))
    with np.errstate(divide="ignore", invalid="ignore"):
        assert np.all(np.isnan(np.sqrt(x).tangent[:, 0]))


def test_nested_second_derivative():
    # d/dx of sqrt(x**2 + c) twice, at x = 0 with c = 0: the inner slopes are 0 * inf.
    with nan_safe():
        assert dualdiff.hessian(norm, np.zeros(2)).shape == (2, 2)
        assert derivative(lambda x: derivative(sqrt_of_square, x), 0.0) == 0.0
