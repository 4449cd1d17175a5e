"""Odd but valid arguments: empty arrays, 0-d arrays, negative axes, axis tuples, keepdims.

Each case runs on plain NumPy and on dual numbers.  Where NumPy returns, dualdiff returns
NumPy's value (same shape, dtype and NaNs), and its tangent passes ``check_jvp`` when there
is one to check; where NumPy raises, dualdiff raises an error of the same class -- never an
internal AttributeError, IndexError or reshape ValueError of its own.
"""

import warnings

import numpy as np
import pytest

from dualdiff import Dual
from dualdiff.testing import check_jvp

EMPTY = np.zeros((0,))
EMPTY_ROWS = np.zeros((0, 3))
EMPTY_COLUMNS = np.zeros((2, 0))
SCALAR = np.array(1.5)
SCATTERED = (np.arange(24.0) * 7 % 24).reshape(2, 3, 4) / 5 - 2

#       function               array         other arguments
CASES = [
    (np.prod,                 EMPTY_ROWS,    {"axis": -1}),
    (np.prod,                 EMPTY_COLUMNS, {"axis": 0, "keepdims": True}),
    (np.nanprod,              EMPTY_ROWS,    {"axis": -1}),
    (np.median,               EMPTY,         {}),
    (np.median,               EMPTY_ROWS,    {"axis": 0}),
    (np.median,               EMPTY_ROWS,    {"axis": -1}),
    (np.median,               SCATTERED,     {"axis": 0}),
    (np.median,               SCATTERED,     {"axis": (0, 2), "keepdims": True}),
    (np.median,               SCATTERED,     {"axis": (0, -1)}),
    (np.nanmedian,            SCATTERED,     {"axis": 0}),
    (np.nanmedian,            EMPTY,         {}),
    (np.nanmedian,            EMPTY_ROWS,    {"axis": ()}),
    (np.quantile,             EMPTY_ROWS,    {"q": 0.3, "axis": -1}),
    (np.quantile,             EMPTY,         {"q": 0.3}),
    (np.nanquantile,          EMPTY_ROWS,    {"q": np.array([0.1, 0.55]), "axis": -1}),
    (np.nanpercentile,        EMPTY_COLUMNS, {"q": 40.0, "axis": ()}),
    (np.cov,                  EMPTY,         {}),
    (np.cov,                  EMPTY_COLUMNS, {}),
    (np.diag_indices_from,    SCALAR,        {}),
    (np.tril_indices_from,    SCALAR,        {}),
    (np.split,                SCALAR,        {"indices_or_sections": 3}),
    (np.array_split,          SCALAR,        {"indices_or_sections": 3}),
    (np.take_along_axis,      SCALAR,        {"indices": np.zeros((2, 3), int), "axis": 1}),
    (np.take_along_axis,      SCALAR,        {"indices": np.zeros(2, int), "axis": None}),
    (np.max,                  EMPTY_ROWS,    {"axis": 0}),
    (np.sum,                  EMPTY_ROWS,    {"axis": (0, -1), "keepdims": True}),
    (np.mean,                 EMPTY_COLUMNS, {"axis": -1}),
    (np.cumsum,               EMPTY_ROWS,    {"axis": -1}),
    (np.sort,                 EMPTY_COLUMNS, {"axis": 0}),
    (np.pad,                  SCALAR,        {"pad_width": 2}),
    (np.pad,                  SCALAR,        {"pad_width": 1, "mode": "mean", "stat_length": 2}),
    (np.pad,                  EMPTY_ROWS,    {"pad_width": ((1, 0), (0, 2))}),
    (np.diag,                 EMPTY,         {"k": 1}),
    (np.diagflat,             EMPTY,         {"k": -2}),
]  # fmt: skip


def run(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's warnings about empty slices
        with np.errstate(all="ignore"):
            try:
                return f(*args, **kwargs), None
            except Exception as error:  # the class is what is compared
                return None, error


def values(result):
    if isinstance(result, tuple | list):
        return [values(item) for item in result]
    return result.value if isinstance(result, Dual) else result


def ids():
    return [f"{f.__name__}-{np.shape(a)}-{sorted(kw)}" for f, a, kw in CASES]


@pytest.mark.parametrize("batch", [(), (2,)], ids=["single", "batched"])
@pytest.mark.parametrize(("f", "array", "kwargs"), CASES, ids=ids())
def test_dual_follows_numpy(f, array, kwargs, batch):
    expected, numpy_error = run(f, array, **kwargs)
    size = int(np.prod(batch)) * array.size
    tangent = np.linspace(0.5, 1.5, size).reshape(batch + array.shape)
    result, error = run(f, Dual(array, tangent), **kwargs)
    if numpy_error is not None:
        assert isinstance(error, type(numpy_error)), (numpy_error, error)
        return
    assert error is None, error
    got = values(result)
    if isinstance(expected, tuple | list):
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_array_equal(g, e)
        return
    assert np.shape(got) == np.shape(expected)
    assert np.result_type(got) == np.result_type(expected)
    np.testing.assert_array_equal(got, expected)  # NaN where NumPy has NaN
    if array.size and np.all(np.isfinite(expected)):
        check_jvp(lambda x: f(x, **kwargs), (array,), (tangent,))


def test_median_of_an_even_count_is_the_mean_of_the_middle_two_as_numpy():
    x = np.array([0.2, 0.6, 0.1, 0.3])  # (0.2 + 0.3) / 2 and 0.2 + (0.3 - 0.2) / 2 differ
    assert np.median(Dual(x, np.ones(4))).value == np.median(x)
    assert np.median(Dual(x, np.ones(4))).tangent == 1.0


def test_cov_with_no_degrees_of_freedom_warns_and_gives_nan_as_numpy():
    with pytest.warns(RuntimeWarning, match="Degrees of freedom"), np.errstate(all="ignore"):
        result = np.cov(Dual(EMPTY, EMPTY))
    assert np.isnan(result.value)


def test_a_tuple_axis_where_one_axis_is_expected_names_the_problem():
    with pytest.raises(TypeError, match="cannot be interpreted as an integer"):
        np.cumulative_sum(Dual(EMPTY, EMPTY), axis=(0, -1))


def test_apply_over_axes_on_a_0d_array_raises_numpys_axis_error():
    with pytest.raises(np.exceptions.AxisError):
        np.apply_over_axes(np.cumsum, Dual(SCALAR, 1.0), (-1,))


@pytest.mark.parametrize(("shape_a", "shape_b", "axis"),
                         [((3,), (3, 3), 0), ((3, 3), (3,), 0), ((4, 2, 3), (2, 3), -2)])
def test_linalg_vecdot_takes_each_operands_own_axis_as_numpy(shape_a, shape_b, axis):
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    result = np.linalg.vecdot(Dual(a, np.ones(shape_a)), b, axis=axis)
    np.testing.assert_allclose(result.value, np.linalg.vecdot(a, b, axis=axis), rtol=1e-14)
    check_jvp(lambda x, y: np.linalg.vecdot(x, y, axis=axis), (a, b),
              (rng.standard_normal(shape_a), rng.standard_normal(shape_b)))
