"""Reductions and sorting: what the generic loop in test_functions.py cannot see.

Conventions at ties (docs/conventions.md, "Reductions and sorting"), products with zeros
against closed forms and to third order, NaN handling, plain index results, outputs that
are tuples, errors for unsupported arguments, and float32.
"""

import itertools
import math
import warnings

import numpy as np
import pytest

from dualdiff import Dual, hessian, jacobian, jvp
from dualdiff.testing import check_jvp

# --- extremes at ties ----------------------------------------------------------------------------


@pytest.mark.parametrize("pick", [np.max, np.amax, np.nanmax])
def test_a_two_way_tie_splits_the_tangent_like_np_maximum(pick):
    x, t = np.array([1.0, 3.0, 3.0]), np.array([5.0, 2.0, -4.0])
    _, slope = jvp(pick, (x,), (t,))
    assert slope == pytest.approx((2.0 - 4.0) / 2)
    _, pairwise = jvp(lambda v: np.maximum(v[1], v[2]), (x,), (t,))
    assert slope == pytest.approx(pairwise)
    # at a two-way tie the central difference is the average of the one-sided slopes
    check_jvp(pick, (x,), (t,))


@pytest.mark.parametrize("pick", [np.min, np.amin, np.nanmin])
def test_a_three_way_tie_shares_the_tangent_evenly(pick):
    x, t = np.array([-2.0, 4.0, -2.0, -2.0]), np.array([3.0, 7.0, 1.0, 2.0])
    _, slope = jvp(pick, (x,), (t,))
    assert slope == pytest.approx(2.0)


def test_ties_are_split_within_each_slice():
    x = np.array([[1.0, 1.0, 0.0], [2.0, 5.0, 5.0], [4.0, 4.0, 4.0]])
    t = np.arange(9.0).reshape(3, 3)
    _, slope = jvp(lambda v: np.max(v, axis=1), (x,), (t,))
    np.testing.assert_allclose(slope, [0.5, 4.5, 7.0])
    _, slope = jvp(lambda v: np.max(v, axis=0, keepdims=True), (x,), (t,))
    np.testing.assert_allclose(slope, [[6.0, 4.0, 5.0]])
    batch = np.stack([t, -t])
    _, slope = jvp(lambda v: np.max(v, axis=1), (x,), (batch,))
    np.testing.assert_allclose(slope, [[0.5, 4.5, 7.0], [-0.5, -4.5, -7.0]])


def test_ptp_at_ties():
    x, t = np.array([2.0, 0.0, 2.0, 0.0]), np.array([1.0, 3.0, 5.0, -1.0])
    assert jvp(np.ptp, (x,), (t,))[1] == pytest.approx(3.0 - 1.0)


def test_a_nan_result_of_max_takes_the_tangent_of_the_nan():
    _, slope = jvp(np.max, (np.array([1.0, np.nan, 2.0]),), (np.array([1.0, 10.0, 100.0]),))
    assert slope == 10.0


def test_nanmax_ignores_nan_and_an_all_nan_slice_has_zero_tangent():
    x = np.array([[np.nan, 1.0, 3.0], [np.nan, np.nan, np.nan]])
    t = np.array([[100.0, 2.0, 5.0], [7.0, 8.0, 9.0]])
    with pytest.warns(RuntimeWarning, match="All-NaN"):
        value, slope = jvp(lambda v: np.nanmax(v, axis=1), (x,), (t,))
    np.testing.assert_array_equal(value, [3.0, np.nan])
    np.testing.assert_array_equal(slope, [5.0, 0.0])


# --- sorting ------------------------------------------------------------------------------------


def test_sort_moves_each_tangent_with_its_value():
    x, t = np.array([0.3, -1.0, 2.0, 0.1]), np.array([1.0, 2.0, 3.0, 4.0])
    value, slope = jvp(np.sort, (x,), (t,))
    np.testing.assert_array_equal(value, [-1.0, 0.1, 0.3, 2.0])
    np.testing.assert_array_equal(slope, [2.0, 4.0, 1.0, 3.0])


def test_sort_at_ties_follows_the_stable_order():
    x, t = np.array([2.0, 1.0, 2.0, 2.0]), np.array([10.0, 20.0, 30.0, 40.0])
    for kind in (None, "quicksort", "heapsort", "stable"):
        _, slope = jvp(lambda v, kind=kind: np.sort(v, kind=kind), (x,), (t,))
        np.testing.assert_array_equal(slope, [20.0, 10.0, 30.0, 40.0])
    # so the last sorted element need not carry max's evenly shared tangent
    assert jvp(lambda v: np.sort(v)[-1], (x,), (t,))[1] == 40.0
    assert jvp(np.max, (x,), (t,))[1] == pytest.approx(80.0 / 3)


def test_sort_batched_and_along_any_axis(rng):
    x = rng.standard_normal((3, 4, 5))
    t = rng.standard_normal((2, 3, 4, 5))
    for axis in (0, 1, -1, None):
        value, slope = jvp(lambda v, axis=axis: np.sort(v, axis=axis), (x,), (t,))
        flat = x.ravel() if axis is None else x
        order = np.argsort(flat, axis=0 if axis is None else axis)
        np.testing.assert_array_equal(value, np.sort(x, axis=axis))
        for k in range(2):
            tk = t[k].ravel() if axis is None else t[k]
            expected = np.take_along_axis(tk, order, axis=0 if axis is None else axis)
            np.testing.assert_array_equal(slope[k], expected)


def test_partition_gives_numpys_arrangement_and_tangents_follow(rng):
    x = rng.standard_normal((4, 9))
    t = rng.standard_normal((4, 9))
    for kth in (0, 4, (2, 6), -1):
        value, slope = jvp(lambda v, kth=kth: np.partition(v, kth, axis=1), (x,), (t,))
        np.testing.assert_array_equal(value, np.partition(x, kth, axis=1))
        for row in range(4):  # each output carries the tangent of the input it came from
            source = [int(np.flatnonzero(x[row] == v)[0]) for v in value[row]]
            np.testing.assert_array_equal(slope[row], t[row, source])


def test_partition_with_ties_keeps_values_and_the_multiset_of_tangents():
    x, t = np.array([3.0, 1.0, 3.0, 1.0, 2.0]), np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    value, slope = jvp(lambda v: np.partition(v, 2), (x,), (t,))
    np.testing.assert_array_equal(value, np.partition(x, 2))
    assert sorted(slope.tolist()) == sorted(t.tolist())
    assert slope[2] == 16.0


# --- products with zeros -----------------------------------------------------------------------


def others(x):
    """Products of the other entries, by brute force."""
    return np.array([np.prod(np.delete(x, i)) for i in range(len(x))])


@pytest.mark.parametrize(
    "x", [[2.0, -0.5, 3.0, 1.5], [2.0, 0.0, 3.0, 1.5], [0.0, 2.0, 0.0, 1.5], [0.0, 0.0, 0.0, 0.0]]
)
def test_prod_gradient_is_the_product_of_the_others(x):
    x = np.array(x)
    np.testing.assert_allclose(jacobian(np.prod, x), others(x), rtol=1e-15)
    check_jvp(np.prod, (x,), (np.array([0.3, -1.1, 0.7, 2.0]),))


def test_prod_hessian_and_third_derivative_at_zeros():
    x = np.array([0.0, 0.0, 3.0, 2.0])
    expected = np.array([[0, 6, 0, 0], [6, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], float)
    np.testing.assert_array_equal(hessian(np.prod, x), expected)
    e = np.eye(4)

    def third(v):  # d^3 prod / dx0 dx1 dx2, three nested levels of dual numbers
        def second(w):
            return jvp(lambda y: jvp(np.prod, (y,), (e[0],))[1], (w,), (e[1],))[1]

        return jvp(second, (v,), (e[2],))[1]

    assert third(x) == 2.0
    assert third(np.zeros(4)) == 0.0


def test_prod_over_several_axes_with_zeros(rng):
    x = rng.standard_normal((3, 4, 2))
    x[0, 1, 0] = x[2, 3, 1] = x[2, 0, 1] = 0.0
    t = rng.standard_normal((2, 3, 4, 2))
    for axis in (None, 1, (0, 2), (-1, 0)):
        for keepdims in (False, True):
            check_jvp(lambda v, a=axis, k=keepdims: np.prod(v, axis=a, keepdims=k), (x,), (t,))


def test_cumprod_jacobian_at_zeros_matches_the_closed_form():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    expected = np.zeros((5, 5))
    for j, i in itertools.product(range(5), range(5)):
        if i <= j:
            expected[j, i] = np.prod(np.delete(x[: j + 1], i))
    np.testing.assert_array_equal(jacobian(np.cumprod, x), expected)
    np.testing.assert_array_equal(hessian(lambda v: np.cumprod(v)[-1], x)[1, 3], 30.0)
    check_jvp(np.cumprod, (x,), (np.ones(5),))


def test_cumprod_long_axis_without_zeros(rng):
    x = 1 + 0.1 * rng.standard_normal((3, 37))
    t = rng.standard_normal((3, 37))
    _, slope = jvp(lambda v: np.cumprod(v, axis=1), (x,), (t,))
    np.testing.assert_allclose(slope, np.cumprod(x, axis=1) * np.cumsum(t / x, axis=1),
                               rtol=1e-12)


# --- NaN-ignoring reductions ------------------------------------------------------------------


def test_nan_entries_have_zero_tangent():
    x = np.array([[0.5, np.nan, 2.0], [np.nan, -1.0, 4.0]])
    t = np.array([[1.0, np.inf, 3.0], [np.nan, 5.0, 7.0]])  # whatever sits at a NaN is ignored
    clean = np.where(np.isnan(x), 0.0, t)
    assert jvp(np.nansum, (x,), (t,))[1] == pytest.approx(16.0)
    np.testing.assert_allclose(jvp(lambda v: np.nanmean(v, axis=1), (x,), (t,))[1], [2.0, 6.0])
    value, slope = jvp(lambda v: np.nanprod(v, axis=1), (x,), (t,))
    np.testing.assert_allclose(value, [1.0, -4.0])
    np.testing.assert_allclose(slope, [1.0 * 2.0 + 0.5 * 3.0, 5.0 * 4.0 + -1.0 * 7.0])
    np.testing.assert_allclose(jvp(lambda v: np.nanmax(v, axis=0), (x,), (clean,))[1],
                               [1.0, 5.0, 7.0])


def test_nanmean_of_an_all_nan_slice_is_nan():
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmean(x, axis=1)
    value, _ = jvp(lambda v: np.nanmean(v, axis=1), (x,), (np.ones((2, 2)),))
    np.testing.assert_array_equal(value, expected)


def test_median_and_quantile_of_a_slice_with_nan_are_nan_with_zero_tangent():
    x = np.array([[3.0, 1.0, np.nan], [1.0, 2.0, 3.0]])
    value, slope = jvp(lambda v: np.median(v, axis=1), (x,), (np.ones((2, 3)),))
    np.testing.assert_array_equal(value, np.median(x, axis=1))
    np.testing.assert_array_equal(slope, [0.0, 1.0])
    value, _ = jvp(lambda v: np.quantile(v, [0.2, 0.7], axis=1), (x,), (np.ones((2, 3)),))
    np.testing.assert_array_equal(value, np.quantile(x, [0.2, 0.7], axis=1))


# --- plain results ------------------------------------------------------------------------------

SCATTERED = np.array([[0.4, -1.3, 2.2, 0.9], [1.7, -0.6, 0.0, -2.4], [3.1, 0.0, -1.9, 1.2]])

INDEX_CALLS = [
    (np.argmax, {}), (np.argmax, {"axis": 0}), (np.argmin, {"axis": -1, "keepdims": True}),
    (np.nanargmax, {"axis": 1}), (np.nanargmin, {}), (np.argsort, {}),
    (np.argsort, {"axis": 0}), (np.argsort, {"axis": None, "stable": True}),
    (np.nonzero, {}), (np.flatnonzero, {}), (np.argwhere, {}),
]


@pytest.mark.parametrize(("func", "kwargs"), INDEX_CALLS)
def test_index_functions_return_numpys_plain_result(func, kwargs):
    expected = func(SCATTERED, **kwargs)
    t = np.ones((2, *SCATTERED.shape))
    for x in (Dual(SCATTERED, t[0]), Dual(SCATTERED, t), Dual(Dual(SCATTERED, t[0]), t[1])):
        result = func(x, **kwargs)
        assert type(result) is type(expected)
        np.testing.assert_equal(result, expected)
        parts = result if isinstance(result, tuple) else (result,)
        assert all(np.asarray(p).dtype.kind == "i" for p in parts)


def test_argpartition_is_plain_and_partitions():
    x = Dual(SCATTERED, np.ones((3, 4)))
    index = np.argpartition(x, 1, axis=1)
    assert type(index) is np.ndarray and index.dtype.kind == "i"
    np.testing.assert_array_equal(index, np.argpartition(SCATTERED, 1, axis=1))


def test_arg_functions_inside_a_derivative_use_values():
    def f(v):
        return v[np.argmax(v)] * np.sum(v[np.argsort(v)[:2]])

    x = np.array([0.5, -1.0, 2.0, 0.25])
    assert jacobian(f, x).tolist() == [0.0, 2.0, -0.75, 2.0]


# --- outputs that are tuples (the generic loop checks single outputs) ----------------------------


def test_average_returned_gives_the_sum_of_weights(rng):
    a, w = rng.standard_normal((3, 4)), rng.uniform(0.5, 2.0, (3, 4))
    ta, tw = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    (avg, total), (_, total_slope) = jvp(
        lambda x, y: np.average(x, axis=1, weights=y, returned=True), (a, w), (ta, tw)
    )
    np.testing.assert_allclose(avg, np.average(a, axis=1, weights=w))
    np.testing.assert_allclose(total, w.sum(axis=1))
    np.testing.assert_allclose(total_slope, tw.sum(axis=2))
    check_jvp(lambda x, y: np.average(x, axis=1, weights=y, returned=True), (a, w), (ta, tw))
    (_, count), (_, count_slope) = jvp(
        lambda x: np.average(x, axis=0, returned=True), (a,), (ta[0],)
    )
    np.testing.assert_array_equal(count, np.full(4, 3.0))
    np.testing.assert_array_equal(count_slope, np.zeros(4))


def test_average_with_weights_along_an_axis(rng):
    a = rng.standard_normal((2, 3, 4))
    w = rng.uniform(0.5, 2.0, 3)
    tw = rng.standard_normal((2, 3))
    value, slope = jvp(lambda y: np.average(a, axis=1, weights=y), (w,), (tw,))
    np.testing.assert_allclose(value, np.average(a, axis=1, weights=w))
    check_jvp(lambda y: np.average(a, axis=1, weights=y), (w,), (tw,))
    assert slope.shape == (2, 2, 4)


def test_gradient_over_several_axes_returns_a_tuple(rng):
    f = rng.standard_normal((4, 5))
    t = rng.standard_normal((3, 4, 5))
    value, slope = jvp(lambda v: np.gradient(v, 0.5, np.array([0.0, 1.0, 1.5, 3.0, 4.0])), (f,),
                       (t,))
    expected = np.gradient(f, 0.5, np.array([0.0, 1.0, 1.5, 3.0, 4.0]))
    assert type(value) is type(expected) and len(value) == 2
    for v, s, e, axis in zip(value, slope, expected, (0, 1), strict=True):
        np.testing.assert_allclose(v, e)
        assert s.shape == (3, 4, 5)
        for k in range(3):  # linear: the gradient of the tangent
            np.testing.assert_allclose(
                s[k], np.gradient(t[k], 0.5, np.array([0.0, 1.0, 1.5, 3.0, 4.0]))[axis]
            )
    check_jvp(lambda v: np.gradient(v, axis=(0, 1), edge_order=2), (f,), (t,))


# --- interpolated order statistics --------------------------------------------------------------


def test_quantile_slope_in_q_is_the_interpolated_segment():
    x = np.array([4.0, -1.0, 2.5, 0.0, 7.0])  # sorted: -1, 0, 2.5, 4, 7
    _, slope = jvp(lambda q: np.quantile(x, q), (0.6,), (1.0,))  # virtual index 2.4
    assert slope == pytest.approx(4 * (4.0 - 2.5))
    # at an integer virtual index the slope is that of the segment above (right-sided)
    _, slope = jvp(lambda q: np.quantile(x, q), (0.5,), (1.0,))
    assert slope == pytest.approx(4 * (4.0 - 2.5))
    _, slope = jvp(lambda q: np.percentile(x, q), (100.0,), (1.0,))
    assert slope == 0.0


def test_median_of_an_even_count_averages_the_middle_tangents():
    x, t = np.array([3.0, -1.0, 8.0, 0.5]), np.array([1.0, 2.0, 4.0, 8.0])
    assert jvp(np.median, (x,), (t,))[1] == pytest.approx((1.0 + 8.0) / 2)


def test_var_and_std_closed_forms(rng):
    x, t = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    centered = x - x.mean(axis=1, keepdims=True)
    for ddof in (0, 1):
        _, slope = jvp(lambda v, d=ddof: np.var(v, axis=1, ddof=d), (x,), (t,))
        np.testing.assert_allclose(slope, 2 * np.sum(centered * t, axis=1) / (5 - ddof))
        _, slope = jvp(lambda v, d=ddof: np.std(v, axis=1, ddof=d), (x,), (t,))
        expected = np.sum(centered * t, axis=1) / (5 - ddof) / np.std(x, axis=1, ddof=ddof)
        np.testing.assert_allclose(slope, expected)


def test_sum_where_and_initial():
    x, t = np.array([1.0, -2.0, 3.0]), np.array([1.0, 10.0, 100.0])
    mask = x > 0
    value, slope = jvp(lambda v: np.sum(v, where=mask, initial=5), (x,), (t,))
    assert (value, slope) == (9.0, 101.0)
    value, slope = jvp(lambda v, s: np.sum(v, initial=s), (x, 0.5), (t, 1000.0))
    assert (value, slope) == (2.5, 1111.0)
    value, slope = jvp(lambda v: np.mean(v, where=mask), (x,), (t,))
    assert (value, slope) == (2.0, 50.5)


def test_diff_trapezoid_with_dual_coordinates(rng):
    y, x = rng.standard_normal(6), np.cumsum(rng.uniform(0.5, 1.0, 6))
    ty, tx = rng.standard_normal(6), rng.standard_normal(6)
    check_jvp(lambda a, b: np.trapezoid(a, x=b), (y, x), (ty, tx))
    check_jvp(lambda a, b: np.diff(a, n=2, prepend=b[:1], append=b[-1]), (y, x), (ty, tx))
    value, slope = jvp(lambda a: np.diff(a, n=0), (y,), (ty,))
    np.testing.assert_array_equal(value, y)
    np.testing.assert_array_equal(slope, ty)


# --- scalars, errors and dtypes ----------------------------------------------------------------


def test_scalar_duals():
    x = Dual(1.5, 2.0)
    assert (np.max(x).value, np.max(x).tangent) == (1.5, 2.0)
    assert np.prod(x).tangent == 2.0
    assert np.cumsum(x).tangent.tolist() == [2.0]
    assert np.cumprod(x).tangent.tolist() == [2.0]
    assert np.sort(Dual(np.array([2.0, 1.0]), np.array([3.0, 4.0]))).tangent.tolist() == [4.0, 3.0]


UNSUPPORTED = [
    (lambda x: np.quantile(x, 0.5, method="nearest"), TypeError, "nearest"),
    (lambda x: np.percentile(x, 50, method="lower"), TypeError, "lower"),
    (lambda x: np.median(x, out=np.empty(())), TypeError, "out"),
    (lambda x: np.sum(x, out=np.empty(())), TypeError, "out"),
    (lambda x: np.prod(x, where=x > 0), TypeError, "where"),
    (lambda x: np.prod(x, initial=2.0), TypeError, "initial"),
    (lambda x: np.cumprod(x, dtype=np.int64), TypeError, "dtype=int64"),
    (lambda x: np.max(x, initial=x[0]), TypeError, "initial"),
    (lambda x: np.nanmin(x, where=x > 0), ValueError, "initial"),  # NumPy: fmin has no identity
    (lambda x: np.var(x, where=x > 0), TypeError, "where"),
    (lambda x: np.std(x, mean=np.mean(x)), TypeError, "mean"),
    (lambda x: np.var(x * np.array(1j)), TypeError, "complex"),
    (lambda x: np.var(x, ddof=1, correction=1), ValueError, "correction"),
    (lambda x: np.gradient(np.ones(4), x), TypeError, "spacing"),
    (lambda x: np.average(x, weights=x - x), ZeroDivisionError, "zero"),
    (lambda x: np.average(np.ones((2, 4)), weights=x), TypeError, "Axis must be specified"),
    (lambda x: np.quantile(x, 1.5), ValueError, "range"),
    (lambda x: np.diff(x, n=-1), ValueError, "non-negative"),
    (lambda x: np.sort(x, axis=1), np.exceptions.AxisError, "axis"),
]


def test_out_receives_the_result_as_numpys():
    x = Dual(np.array([0.5, 1.5, -2.0, 3.0]), np.ones(4))
    index = np.empty((), int)
    assert np.argmax(x, out=index) is index and index == 3  # a plain result, plain out
    total = np.zeros_like(np.sum(x))
    assert np.sum(x, out=total) is total
    assert total.value == 3.0 and total.tangent == 4.0
    clipped = np.clip(x, -1.0, 1.0, out=x)  # in place: computed first, then written
    assert clipped is x
    np.testing.assert_array_equal(x.value, [0.5, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal(x.tangent, [1.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="shape"):
        np.sum(x, axis=0, out=np.zeros_like(x))


@pytest.mark.parametrize(("f", "error", "match"), UNSUPPORTED)
def test_unsupported_arguments_raise(f, error, match):
    with pytest.raises(error, match=match):
        jvp(f, (np.array([0.5, 1.5, -2.0, 3.0]),), (np.ones(4),))


FLOAT32_CALLS = [
    np.nanmin, np.std, np.median, np.sort,
    lambda v: np.prod(v, axis=1), lambda v: np.cumprod(v, axis=0), lambda v: np.max(v, axis=0),
    lambda v: np.var(v, axis=1), lambda v: np.quantile(v, 0.3, axis=1),
    lambda v: np.partition(v, 1, axis=0),
    lambda v: np.average(v, axis=1, weights=np.float32([1, 2, 3, 4])),
    lambda v: np.trapezoid(v, dx=0.5), lambda v: np.diff(v, axis=0),
    lambda v: np.gradient(v, axis=1), lambda v: np.mean(v, where=v > 0),
    lambda v: np.nanmean(v, axis=0), lambda v: np.ptp(v, axis=1),
]


@pytest.mark.parametrize("f", FLOAT32_CALLS)
def test_float32_stays_float32_with_a_batch_and_nested(f):
    x = SCATTERED.astype(np.float32)
    t = np.ones((2, *x.shape), np.float32)
    value, slope = jvp(f, (x,), (t,))
    assert value.dtype == np.float32 and slope.dtype == np.float32
    assert slope.shape == (2, *np.shape(value))
    second = jvp(lambda v: jvp(f, (v,), (t[0],))[1], (x,), (t,))[1]
    assert second.dtype == np.float32
    np.testing.assert_allclose(value, f(x), rtol=1e-6)


def test_float32_value_is_numpys():
    x = SCATTERED.astype(np.float32)
    assert math.isclose(float(jvp(np.var, (x,), (x,))[0]), float(np.var(x)), rel_tol=1e-6)


def test_std_of_a_constant_slice_has_a_nan_tangent():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, slope = jvp(lambda v: np.std(v, axis=1), (x,), (np.ones((2, 3)),))
    assert value[0] == 0.0 and math.isnan(slope[0])
    assert slope[1] == 0.0  # moving every entry alike leaves the spread alone


# --- initial= and where= of the extremes; the median of nothing ---------------------------------

EXTREMES = {np.max: max, np.amax: max, np.min: min, np.amin: min, np.nanmax: max,
            np.nanmin: min}


def expected_extreme_tangent(pick, x, t, axis, initial, where):
    """The convention, entry by entry: the selected entries and a tied initial share evenly."""
    choose = EXTREMES[pick]
    nan_ignored = pick in (np.nanmax, np.nanmin)
    moved_x, moved_t = np.moveaxis(x, axis, -1), np.moveaxis(t, axis, -1)
    moved_w = np.moveaxis(np.broadcast_to(where, x.shape), axis, -1)
    out = np.zeros(moved_x.shape[:-1])
    for index in np.ndindex(out.shape):
        entries = [(v, s) for v, s, w in zip(moved_x[index], moved_t[index], moved_w[index],
                                             strict=True)
                   if w and not (nan_ignored and np.isnan(v))]
        best = choose([v for v, _ in entries] + [initial])
        tied = [s for v, s in entries if v == best]
        out[index] = sum(tied) / (len(tied) + (initial == best))
    return out


@pytest.mark.parametrize("pick", list(EXTREMES), ids=lambda f: f.__name__)
@pytest.mark.parametrize("initial", [-5.0, 1.0, 2.0, 9.0])
@pytest.mark.parametrize("masked", [False, True])
def test_extremes_take_initial_as_a_constant_that_ties(pick, initial, masked, rng):
    # entries 1.0 and 2.0 repeat, so an initial of 1.0 or 2.0 ties with selected entries
    x = np.array([[1.0, 2.0, 2.0, -1.0], [0.5, 1.0, 3.0, 2.0], [2.0, 1.0, 1.0, 0.0]])
    t = rng.standard_normal(x.shape)
    where = np.array([True, True, False, True]) if masked else True
    options = {"initial": initial, **({"where": where} if masked else {})}
    for axis in (0, 1):
        value, slope = jvp(lambda v, a=axis: pick(v, axis=a, **options), (x,), (t,))
        np.testing.assert_array_equal(value, pick(x, axis=axis, **options))
        np.testing.assert_allclose(
            slope, expected_extreme_tangent(pick, x, t, axis, initial, where), rtol=1e-15)
        kept = jvp(lambda v, a=axis: pick(v, axis=a, keepdims=True, **options), (x,), (t,))[1]
        np.testing.assert_allclose(np.squeeze(kept, axis), slope, rtol=1e-15)
    # away from ties, the reference checker agrees; with a batch of tangents too
    spread = x + np.arange(12.0).reshape(3, 4) * 1e-3
    check_jvp(lambda v: pick(v, axis=1, initial=1.0004), (spread,),
              (rng.standard_normal((2, *x.shape)),))


def test_nanmax_with_initial_or_where_ignores_nan():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    value, slope = jvp(lambda v: np.nanmax(v, axis=1, initial=0.0), (x,), (np.ones((2, 2)),))
    np.testing.assert_array_equal(value, [0.0, 1.0])
    np.testing.assert_array_equal(slope, [0.0, 1.0])
    value, slope = jvp(lambda v: np.max(v, axis=1, initial=0.0), (x,), (np.ones((2, 2)),))
    assert np.all(np.isnan(value))  # np.max selects the NaN
    np.testing.assert_array_equal(slope, [1.0, 1.0])


@pytest.mark.parametrize(("shape", "options"), [
    ((0,), {}), ((0, 3), {"axis": 0}), ((2, 0), {"axis": 1, "keepdims": True}),
    ((0, 3), {"axis": (0, 1)}), ((0, 3), {"axis": 1}),
])
def test_median_of_an_empty_slice_is_nan_with_numpys_warning(shape, options):
    x = np.zeros(shape)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = np.median(x, **options)
    numpy_warns = bool(caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value, slope = jvp(lambda v: np.median(v, **options), (x,), (np.ones((2, *shape)),))
    assert bool(caught) == numpy_warns
    assert all(issubclass(w.category, RuntimeWarning) for w in caught)
    np.testing.assert_array_equal(value, expected)  # NaN where NumPy's is NaN, shapes alike
    assert np.shape(slope) == (2, *np.shape(expected)) and np.all(slope == 0)
