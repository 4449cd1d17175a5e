"""What the registry loop cannot check for dualdiff.functions.compositions.

NaN handling of the nan-functions (the reference checker cannot difference through NaN),
writing in place, the step of ``linspace`` and errors for unsupported arguments.
"""

import numpy as np
import pytest

from dualdiff import Dual, derivative, jvp
from dualdiff.testing import check_jvp

NANS = np.array([[0.5, np.nan, -1.5, 2.0], [np.nan, np.nan, np.nan, np.nan],
                 [1.1, -0.7, np.nan, 1.3]])
PRESENT = ~np.isnan(NANS)


def tangent_of(f, x, t):
    return jvp(f, (x,), (t,))[1]


def finite_rows_only(f, rows):
    """The JVP of ``f`` on ``NANS`` restricted to rows without NaN equals the row's own JVP."""
    t = np.arange(NANS.size, dtype=float).reshape(NANS.shape) + 1
    value, tangent = jvp(f, (NANS,), (t,))
    with pytest.warns(RuntimeWarning):  # NumPy's own warning about the all-NaN row
        expected = f(NANS)
    np.testing.assert_allclose(value, expected, rtol=1e-14, equal_nan=True)
    for i in rows:
        keep = PRESENT[i]
        _, expected = jvp(f, (NANS[i][keep][None],), (t[i][keep][None],))
        np.testing.assert_allclose(tangent[i], expected[0], rtol=1e-13)
    return value, tangent


@pytest.mark.parametrize(
    "f",
    [lambda x: np.nanvar(x, axis=1), lambda x: np.nanstd(x, axis=1, ddof=1),
     lambda x: np.nanmedian(x, axis=1), lambda x: np.nanquantile(x, 0.3, axis=1),
     lambda x: np.nanpercentile(x, 70.0, axis=1)],
    ids=["nanvar", "nanstd", "nanmedian", "nanquantile", "nanpercentile"],
)
def test_nan_reductions_ignore_nan_entries(f):
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        expected = f(NANS)  # NumPy warns about the all-NaN row
    with np.errstate(invalid="ignore", divide="ignore"):
        value, tangent = finite_rows_only(f, rows=(0, 2))
    np.testing.assert_allclose(value, expected, rtol=1e-14, equal_nan=True)
    assert np.isnan(value[1]) and tangent[1] == 0  # an all-NaN row: NaN with zero tangent


def test_nan_reductions_over_all_axes_and_keepdims():
    t = np.ones_like(NANS)
    value, tangent = jvp(lambda x: np.nanmedian(x, keepdims=True), (NANS,), (t,))
    assert value.shape == (1, 1) and value[0, 0] == np.nanmedian(NANS)
    assert tangent[0, 0] == 1.0  # a shift of every entry shifts the median
    value, tangent = jvp(np.nanvar, (NANS,), (t,))
    assert value == pytest.approx(np.nanvar(NANS), rel=1e-14) and tangent == pytest.approx(0)


def test_nancumsum_and_nancumprod_skip_nan():
    t = np.ones_like(NANS)
    value, tangent = jvp(lambda x: np.nancumsum(x, axis=1), (NANS,), (t,))
    np.testing.assert_array_equal(value, np.nancumsum(NANS, axis=1))
    np.testing.assert_array_equal(tangent, np.cumsum(PRESENT, axis=1))
    value, tangent = jvp(lambda x: np.nancumprod(x, axis=1), (NANS,), (t,))
    np.testing.assert_array_equal(value, np.nancumprod(NANS, axis=1))
    # d/dx of 0.5 * 1 * (-1.5) * 2 along row 0, one step at a time
    np.testing.assert_allclose(tangent[0], [1.0, 1.0, 0.5 - 1.5, (0.5 - 1.5) * 2 - 0.75])
    np.testing.assert_array_equal(tangent[1], 0.0)


def test_nan_to_num_zeroes_the_tangent_of_replaced_entries():
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0])
    t = np.arange(1.0, 6.0)
    value, tangent = jvp(lambda v: np.nan_to_num(v, posinf=7.0, neginf=-7.0), (x,), (t,))
    np.testing.assert_array_equal(value, [1.5, 0.0, 7.0, -7.0, -2.0])
    np.testing.assert_array_equal(tangent, [1.0, 0.0, 0.0, 0.0, 5.0])
    value, _ = jvp(np.nan_to_num, (x,), (t,))
    np.testing.assert_array_equal(value, np.nan_to_num(x))


def test_nan_to_num_replacement_may_be_dual_and_in_place():
    x = Dual(np.array([np.nan, 2.0]), np.array([1.0, 1.0]))
    out = np.nan_to_num(x, nan=Dual(3.0, 5.0))
    np.testing.assert_array_equal(out.value, [3.0, 2.0])
    np.testing.assert_array_equal(out.tangent, [5.0, 1.0])
    assert np.isnan(x.value[0])  # copy=True leaves x alone
    same = np.nan_to_num(x, copy=False)
    assert same is x
    np.testing.assert_array_equal(x.value, [0.0, 2.0])
    np.testing.assert_array_equal(x.tangent, [0.0, 1.0])


def test_fill_diagonal_writes_value_and_tangent_in_place():
    a = Dual(np.ones((3, 4)), np.full((2, 3, 4), 2.0))
    d = Dual(np.array([7.0, 8.0]), np.array([[1.0, 3.0], [5.0, 6.0]]))
    assert np.fill_diagonal(a, d) is None
    expected = np.ones((3, 4))
    np.fill_diagonal(expected, [7.0, 8.0])
    np.testing.assert_array_equal(a.value, expected)
    np.testing.assert_array_equal(a.tangent[0].diagonal(), [1.0, 3.0, 1.0])
    np.testing.assert_array_equal(a.tangent[1].diagonal(), [5.0, 6.0, 5.0])
    assert a.tangent[0, 0, 1] == 2.0


def test_fill_diagonal_wraps_and_fills_cubes_as_numpy():
    for shape, wrap in (((7, 3), True), ((7, 3), False), ((3, 3, 3), False)):
        a = Dual(np.zeros(shape))
        np.fill_diagonal(a, 4.0, wrap=wrap)
        expected = np.zeros(shape)
        np.fill_diagonal(expected, 4.0, wrap=wrap)
        np.testing.assert_array_equal(a.value, expected)
        np.testing.assert_array_equal(a.tangent, 0.0)


def test_fill_diagonal_of_a_plain_array_with_a_dual_raises():
    # NumPy dispatches on the array alone, so NumPy's own code meets the Dual and refuses it
    with pytest.raises(TypeError, match="tangent would be dropped"):
        np.fill_diagonal(np.zeros((2, 2)), Dual(1.0, 1.0))


def test_linspace_retstep_is_differentiable():
    (samples, step), (d_samples, d_step) = jvp(
        lambda a, b: np.linspace(a, b, 5, retstep=True), (1.0, 3.0), (1.0, 0.0)
    )
    np.testing.assert_array_equal(samples, np.linspace(1.0, 3.0, 5))
    assert step == 0.5 and d_step == pytest.approx(-0.25)
    np.testing.assert_allclose(d_samples, [1.0, 0.75, 0.5, 0.25, 0.0], atol=1e-15)
    check_jvp(lambda a, b: np.linspace(a, b, 4, endpoint=False, retstep=True)[1],
              (np.array([0.5, 1.0]), np.array([2.0, 3.5])), (np.ones(2), np.ones(2)))


def test_linspace_with_a_zero_step_and_a_single_sample():
    value, tangent = jvp(lambda a: np.linspace(a, 1.0, 3), (1.0,), (1.0,))
    np.testing.assert_array_equal(value, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(tangent, [1.0, 0.5, 0.0])
    (value, step), tangent = jvp(lambda a: np.linspace(a, 2.0, 1, retstep=True), (0.5,), (1.0,))
    assert value.tolist() == [0.5] and np.isnan(step)
    assert tangent[0].tolist() == [1.0]


def test_geomspace_ends_are_exact():
    value, tangent = jvp(lambda a, b: np.geomspace(a, b, 4), (2.0, 16.0), (1.0, 0.0))
    np.testing.assert_array_equal(value, np.geomspace(2.0, 16.0, 4))
    assert tangent[0] == 1.0 and tangent[-1] == 0.0
    with pytest.raises(ValueError, match="zero"):
        np.geomspace(Dual(0.0, 1.0), 1.0)


def test_cov_and_corrcoef_match_numpy_and_reject_weights():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6))
    np.testing.assert_allclose(np.cov(Dual(x)).value, np.cov(x), rtol=1e-14)
    np.testing.assert_allclose(np.corrcoef(Dual(x)).value, np.corrcoef(x), rtol=1e-14)
    for weights in ("fweights", "aweights"):
        with pytest.raises(TypeError, match=weights):
            np.cov(Dual(x), **{weights: np.ones(6)})


def test_order_statistics_accept_linear_only():
    for f in (np.nanquantile, np.nanpercentile):
        with pytest.raises(TypeError, match="method='linear'"):
            f(Dual(NANS), 0.5, method="nearest")
        with pytest.raises(TypeError, match="weights"):
            f(Dual(NANS), 0.5, weights=np.ones_like(NANS))


def test_moment_arguments_not_supported_raise():
    for f in (np.nanvar, np.nanstd):
        with pytest.raises(TypeError, match="where"):
            f(Dual(NANS), where=PRESENT)
    with pytest.raises(TypeError, match="complex"):
        np.nanvar(Dual(NANS + 1j))


def test_dual_indices_are_refused():
    x = Dual(np.arange(3.0))
    with pytest.raises(TypeError, match="plain"):
        np.delete(x, Dual(1.0))
    with pytest.raises(TypeError, match="plain"):
        np.choose(Dual(np.array([0.0, 1.0])), [np.ones(2), np.zeros(2)])


def test_insert_values_alone_may_be_dual():
    value, tangent = jvp(lambda v: np.insert(np.zeros(3), [0, 2], v), (np.array([4.0, 5.0]),),
                         (np.array([1.0, 2.0]),))
    np.testing.assert_array_equal(value, [4.0, 0.0, 0.0, 5.0, 0.0])
    np.testing.assert_array_equal(tangent, [1.0, 0.0, 0.0, 2.0, 0.0])


def test_apply_along_axis_runs_the_function_on_duals():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    _, tangent = jvp(lambda a: np.apply_along_axis(lambda r: r[0] * r[1], 1, a), (x,),
                     (np.ones_like(x),))
    np.testing.assert_array_equal(tangent, [3.0, 7.0])


def test_cumulative_sum_needs_an_axis_for_matrices():
    with pytest.raises(ValueError, match="axis"):
        np.cumulative_sum(Dual(np.ones((2, 2))))
    value, tangent = jvp(lambda a: np.cumulative_prod(a, include_initial=True),
                         (np.array([2.0, 3.0]),), (np.array([1.0, 0.0]),))
    np.testing.assert_array_equal(value, [1.0, 2.0, 6.0])
    np.testing.assert_array_equal(tangent, [0.0, 1.0, 3.0])


def test_i0_slope_is_i1():
    from scipy import special  # noqa: PLC0415 - optional for dualdiff, installed for the tests
    x = np.array([0.3, -1.7, 4.0])
    value, tangent = jvp(np.i0, (x,), (np.ones(3),))
    np.testing.assert_array_equal(value, np.i0(x))
    np.testing.assert_allclose(tangent, special.i1(x), rtol=1e-14)


# --- sinc: exact at and near 0 ----------------------------------------------------------------


def test_sinc_at_zero_is_one_with_slope_zero_and_curvature_minus_pi_squared_over_three():
    assert np.sinc(Dual(0.0, 1.0)).value == 1.0
    assert derivative(np.sinc, 0.0) == 0.0
    second = derivative(lambda x: derivative(np.sinc, x), 0.0)
    assert abs(second - (-np.pi**2 / 3)) <= 1e-15 * np.pi**2
    at_zero = np.sinc(Dual(np.zeros(3), np.ones((2, 3))))
    np.testing.assert_array_equal(at_zero.value, 1.0)
    np.testing.assert_array_equal(at_zero.tangent, 0.0)


@pytest.mark.parametrize("x", [1e-300, 1e-12, -3e-8, 1e-4, 0.2, 0.3183, 0.3184, -0.32, 0.9, 2.5,
                               -7.25])
def test_sinc_slope_is_accurate_near_zero_and_across_the_series_switch(x):
    import mpmath  # noqa: PLC0415 - only this test needs the reference

    with mpmath.workdps(700):  # enough digits for the cancellation in the formulas at 1e-300
        t = mpmath.mpf(x)
        y = mpmath.pi * t
        exact = float((mpmath.cos(y) - mpmath.sin(y) / y) / t)
        exact_second = float(mpmath.pi**2 * ((2 - y * y) * mpmath.sin(y) - 2 * y * mpmath.cos(y))
                             / y**3)
    # relative accuracy everywhere; away from 0 it is that of cos(pi x) itself
    assert abs(derivative(np.sinc, x) - exact) <= 1e-14 * abs(exact)
    second = derivative(lambda s: derivative(np.sinc, s), x)
    assert abs(second - exact_second) <= 1e-14 * abs(exact_second)
    assert np.sinc(Dual(x, 1.0)).value == np.sinc(x)


def test_sinc_value_is_numpys_bit_for_bit():
    x = np.linspace(-3, 3, 61)
    np.testing.assert_array_equal(np.sinc(Dual(x, np.ones(61))).value, np.sinc(x))
    single = np.sinc(Dual(x.astype(np.float32), np.ones(61, np.float32)))
    assert single.value.dtype == single.tangent.dtype == np.float32


# --- polynomials: vander and polyfit ----------------------------------------------------------


def test_vander_is_numpys_and_exact_at_zero():
    x = np.array([0.0, 1.5, -2.0])
    for n, increasing in ((None, False), (4, True), (1, False), (0, True)):
        result = np.vander(Dual(x, np.ones(3)), n, increasing)
        np.testing.assert_array_equal(result.value, np.vander(x, n, increasing))
    slopes = np.vander(Dual(x, np.ones(3)), 4).tangent  # d/dx of x**3, x**2, x, 1
    np.testing.assert_array_equal(slopes, np.stack([3 * x**2, 2 * x, np.ones(3), 0 * x], axis=1))
    with pytest.raises(ValueError, match="one-dimensional"):
        np.vander(Dual(np.ones((2, 2))))


FIT_X = np.array([-1.0, -0.4, 0.1, 0.7, 1.3, 2.0])
FIT_Y = np.array([1.9, 0.75, 0.3, 0.9, 2.4, 5.1])


@pytest.mark.parametrize("live", ["x", "y", "both", "weights"])
def test_polyfit_matches_numpy_and_check_jvp(live):
    w = np.linspace(0.5, 1.5, 6)

    def fit(x, y, w):
        return np.polyfit(x, y, 2, w=w)

    primals = {"x": (FIT_X,), "y": (FIT_Y,), "both": (FIT_X, FIT_Y), "weights": (w,)}[live]

    def f(*args):
        values = dict(zip({"x": "x", "y": "y", "both": "xy", "weights": "w"}[live], args,
                          strict=True))
        return fit(values.get("x", FIT_X), values.get("y", FIT_Y), values.get("w", w))

    rng = np.random.default_rng(3)
    check_jvp(f, primals, tuple(rng.standard_normal(p.shape) for p in primals))
    value = f(*(Dual(p, np.ones_like(p)) for p in primals)).value
    np.testing.assert_allclose(value, np.polyfit(FIT_X, FIT_Y, 2, w=w), rtol=1e-13, atol=1e-14)


def test_polyfit_exact_data_has_the_exact_derivative():
    # y = a x**2 exactly: the fitted leading coefficient is a, so d/da of it is 1.
    slope = derivative(lambda a: np.polyfit(FIT_X, a * FIT_X**2, 2)[0], 1.7)
    assert abs(slope - 1.0) <= 1e-13
    # shifting x by s moves the fitted polynomial: p(x - s) = x**2 - 2 s x + s**2
    moved = jvp(lambda s: np.polyfit(FIT_X + s, FIT_X**2, 2), (0.0,), (1.0,))[1]
    np.testing.assert_allclose(moved, [0.0, -2.0, 0.0], atol=1e-12)


def test_polyfit_full_and_cov_and_errors():
    x = Dual(FIT_X, np.ones(6))
    c, _, rank, _, rcond = np.polyfit(x, FIT_Y, 1, full=True)
    want = np.polyfit(FIT_X, FIT_Y, 1, full=True)
    np.testing.assert_allclose(c.value, want[0], rtol=1e-13)
    assert type(rank) is type(want[2]) and rank == want[2] and rcond == want[4]
    _, cov = np.polyfit(x, FIT_Y, 2, cov=True)
    np.testing.assert_allclose(cov.value, np.polyfit(FIT_X, FIT_Y, 2, cov=True)[1], rtol=1e-12)
    with pytest.raises(ValueError, match="deg"):
        np.polyfit(x, FIT_Y, -1)
    with pytest.raises(TypeError, match="same length"):
        np.polyfit(x, FIT_Y[:4], 1)
    with pytest.warns(np.exceptions.RankWarning):
        np.polyfit(Dual(np.ones(4), np.ones(4)), np.arange(4.0), 2)


# --- unwrap ---------------------------------------------------------------------------------


def test_unwrap_value_is_numpys_and_slope_is_one():
    p = np.array([0.1, 3.5, 6.6, 0.2, -3.0, 2.9])
    result = np.unwrap(Dual(p, np.arange(6.0)))
    np.testing.assert_array_equal(result.value, np.unwrap(p))
    np.testing.assert_array_equal(result.tangent, np.arange(6.0))
    cube = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(np.unwrap(Dual(cube, cube), axis=0).value,
                                  np.unwrap(cube, axis=0))


def test_unwrap_with_a_dual_period_adds_the_multiples_times_its_tangent():
    p = np.array([0.0, 0.7, 1.4, 0.3, 1.1])

    def f(p, period):
        return np.unwrap(p, period=period)

    rng = np.random.default_rng(4)
    check_jvp(f, (p, 1.0), (rng.standard_normal(5), 1.0))
    _, tangent = jvp(lambda period: np.unwrap(Dual(p), period=period), (1.0,), (1.0,))
    np.testing.assert_array_equal(tangent, np.round((np.unwrap(p, period=1.0) - p) / 1.0))
