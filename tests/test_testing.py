"""The checker must catch a wrong rule, or nothing it passes means anything."""

import numpy as np
import pytest
import sympy as sp

from dualdiff.dispatch import RULES, register_ufunc
from dualdiff.elementary import cos
from dualdiff.rules import unary
from dualdiff.testing import JVPMismatchError, SympyMismatchError, check_jvp, check_sympy


@pytest.fixture
def wrong_sine():
    """Swap in a sine rule that is off by one part in a million, then restore it."""
    right = RULES[np.sin]
    register_ufunc(unary(np.sin, lambda x, ans: cos(x) * (1 + 1e-6), right.domain, "sin"))
    yield
    register_ufunc(right)


@pytest.mark.usefixtures("wrong_sine")
def test_check_jvp_rejects_a_wrong_rule():
    with pytest.raises(JVPMismatchError, match="disagrees") as caught:
        check_jvp(np.sin, (0.5,), (1.0,))
    message = str(caught.value)
    assert "central difference" in message and "complex step" in message
    assert repr(float(np.cos(0.5) * (1 + 1e-6))) in message


@pytest.mark.usefixtures("wrong_sine")
def test_check_jvp_rejects_a_wrong_rule_on_arrays_and_batches():
    with pytest.raises(JVPMismatchError):
        check_jvp(np.sin, (np.array([0.1, 2.0]),), (np.ones((3, 2)),))


@pytest.mark.usefixtures("wrong_sine")
def test_check_sympy_rejects_a_wrong_rule():
    x = sp.Symbol("x")
    with pytest.raises(SympyMismatchError, match="sympy's is"):
        check_sympy(sp.sin(x) * x, [x], [0.5])


def test_check_jvp_reports_each_method():
    [report] = check_jvp(np.exp, (1.0,), (2.0,))
    assert report.complex_step is not None
    assert abs(report.central[0] - 2 * np.e) <= 10 * report.central_error[0] + 1e-9
    assert report.error < 1e-13


def test_complex_step_is_dropped_where_f_is_not_analytic():
    [report] = check_jvp(np.abs, (-1.5,), (1.0,))
    assert report.complex_step is None
    assert report.dual[0] == -1.0


def test_complex_step_can_be_required():
    with pytest.raises(JVPMismatchError, match="analytic"):
        check_jvp(np.abs, (-1.5,), (1.0,), complex_step=True)


def test_batched_tangents_give_one_report_per_direction():
    reports = check_jvp(lambda a, b: a * b, (np.ones(2), np.arange(2.0)), (np.eye(2), np.eye(2)))
    assert len(reports) == 2
    np.testing.assert_allclose(reports[1].dual, [0.0, 2.0])


def test_structured_outputs_are_flattened():
    [report] = check_jvp(lambda x: (x**2, [np.sin(x)]), (0.3,), (1.0,))
    np.testing.assert_allclose(report.dual, [0.6, np.cos(0.3)])


def test_tolerance_is_absolute_plus_relative_to_the_reference():
    [report] = check_jvp(lambda x: 1e8 * x, (1.0,), (1.0,), rtol=1e-7, atol=1e-9)
    assert report.tolerance[0] >= 1e-9 + 1e-7 * 1e8


def test_check_sympy_handles_piecewise_constant_pieces():
    x, y = sp.symbols("x y")
    report = check_sympy(sp.floor(x) * y + sp.Mod(x, y), [x, y], [2.5, 0.75])
    np.testing.assert_allclose(report.exact, [1.0, 2.0 - np.floor(2.5 / 0.75)])
