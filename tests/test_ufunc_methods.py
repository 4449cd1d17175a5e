"""Ufunc methods (reduce, accumulate, reduceat, outer, at), out=/where=/dtype=, and the
ufuncs outside the float table (ldexp, modf, frexp).

Every derivative is checked by the reference checker on single and batched tangents, and
through nested dual numbers (second order) where the method has a tangent rule of its own.
"""

import numpy as np
import pytest

import dualdiff
from dualdiff import Dual, jvp
from dualdiff.dispatch import RULES
from dualdiff.rules import INTEGER_ARGUMENTS, MULTI_OUTPUT, differentiable_arguments
from dualdiff.testing import check_jvp

SEED = 7
MATRIX = np.array([[0.7, -1.2, 2.5, 0.4], [1.1, 0.3, -0.8, 1.9], [-0.6, 2.2, 0.9, -1.4]])
WITH_ZEROS = np.array([[0.7, 0.0, 2.5, 0.4], [0.0, 0.3, 0.0, 1.9], [-0.6, 2.2, 0.9, -1.4]])


def tangents(x, batch=()):
    return np.random.default_rng(SEED).standard_normal(batch + np.shape(x))


def check_all(f, x):
    """Single and batched tangents, and second order through nested duals (both ways)."""
    check_jvp(f, (x,), (tangents(x),))
    reports = check_jvp(f, (x,), (tangents(x, (3,)),))
    assert len(reports) == 3
    v = tangents(x)

    def directional(y):  # f(sin(y)) in direction v, itself differentiated
        return jvp(lambda z: f(np.sin(z)), (y,), (v,))[1]

    check_jvp(directional, (x,), (tangents(x),), complex_step=False)
    check_jvp(directional, (x,), (tangents(x, (2,)),), complex_step=False)

    def total(out):
        return sum(np.sum(part) for part in out) if isinstance(out, tuple) else np.sum(out)

    def gradient_of_sum(y):  # inner tangents are plain seeds, inner values outer duals
        return dualdiff.gradient(lambda z: total(f(z)), y)

    check_jvp(gradient_of_sum, (x,), (tangents(x),), complex_step=False)


# --- reduce --------------------------------------------------------------------------------------

REDUCE_CASES = [
    pytest.param(np.add.reduce, id="add-default-axis"),
    pytest.param(lambda a: np.add.reduce(a, axis=None, keepdims=True), id="add-all-keepdims"),
    pytest.param(lambda a: np.add.reduce(a, axis=1, initial=2.0, where=a > 0), id="add-where"),
    pytest.param(lambda a: np.subtract.reduce(a, axis=1), id="subtract"),
    pytest.param(lambda a: np.multiply.reduce(a, axis=0), id="multiply-axis0"),
    pytest.param(lambda a: np.multiply.reduce(a, axis=(0, 1)), id="multiply-all"),
    pytest.param(lambda a: np.multiply.reduce(a, axis=-1, keepdims=True, initial=0.5),
                 id="multiply-keepdims-initial"),
    pytest.param(lambda a: np.multiply.reduce(a, axis=1, where=a < 1), id="multiply-where"),
    pytest.param(lambda a: np.maximum.reduce(a, axis=1), id="maximum"),
    pytest.param(lambda a: np.minimum.reduce(a, axis=None), id="minimum-all"),
    pytest.param(lambda a: np.maximum.reduce(a, axis=0, initial=0.0, where=a < 2),
                 id="maximum-where-initial"),
    pytest.param(lambda a: np.fmax.reduce(a, axis=0), id="fmax"),
    pytest.param(lambda a: np.fmin.reduce(a, axis=1, keepdims=True), id="fmin"),
]


@pytest.mark.parametrize("f", REDUCE_CASES)
def test_reduce(f):
    check_all(f, MATRIX)


def test_reduce_empty_axis_and_zero_d():
    out, tangent = jvp(lambda a: np.add.reduce(a, axis=()), (MATRIX,), (np.ones_like(MATRIX),))
    np.testing.assert_array_equal(tangent, np.ones_like(MATRIX))
    out, tangent = jvp(lambda a: np.multiply.reduce(a, axis=1), (np.zeros((2, 0)),),
                       (np.zeros((2, 0)),))
    np.testing.assert_array_equal(out, [1.0, 1.0])
    np.testing.assert_array_equal(tangent, [0.0, 0.0])


def test_product_reduce_is_exact_at_zeros():
    # one zero: the slope is the product of the others; two zeros: 0. No 0/0 anywhere.
    x = np.array([2.0, 0.0, 3.0])
    _, tangent = jvp(np.multiply.reduce, (x,), (np.eye(3),))
    np.testing.assert_array_equal(tangent, [0.0, 6.0, 0.0])
    _, tangent = jvp(np.multiply.reduce, (np.zeros(3),), (np.eye(3),))
    np.testing.assert_array_equal(tangent, [0.0, 0.0, 0.0])
    check_all(lambda a: np.multiply.reduce(a, axis=1), WITH_ZEROS)


def test_extremum_reduce_splits_ties_evenly():
    x = np.array([1.0, 3.0, 3.0, 3.0])
    _, tangent = jvp(np.maximum.reduce, (x,), (np.eye(4),))
    np.testing.assert_allclose(tangent, [0.0, 1 / 3, 1 / 3, 1 / 3])
    # initial= is a participant: a tie with it halves the element's share
    _, tangent = jvp(lambda a: np.maximum.reduce(a, initial=3.0), (x[:2],), (np.eye(2),))
    np.testing.assert_allclose(tangent, [0.0, 0.5])
    # a NaN is what max selects; fmax ignores it
    y = np.array([1.0, np.nan, 2.0])
    _, tangent = jvp(np.maximum.reduce, (y,), (np.eye(3),))
    np.testing.assert_array_equal(tangent, [0.0, 1.0, 0.0])
    _, tangent = jvp(np.fmax.reduce, (y,), (np.eye(3),))
    np.testing.assert_array_equal(tangent, [0.0, 0.0, 1.0])


def test_reduce_keeps_float32():
    x = MATRIX.astype(np.float32)
    for ufunc in (np.add, np.multiply, np.maximum):
        out, tangent = jvp(lambda a, u=ufunc: u.reduce(a, axis=1), (x,), (np.ones_like(x),))
        assert out.dtype == np.float32 and tangent.dtype == np.float32


@pytest.mark.parametrize("call", [
    pytest.param(np.arctan2.reduce, id="arctan2"),
    pytest.param(np.logaddexp.reduce, id="logaddexp"),
    pytest.param(np.hypot.reduce, id="hypot"),
])
def test_reduce_of_other_ufuncs_raises_naming_the_method(call):
    with pytest.raises(TypeError, match=r"\.reduce"):
        call(Dual(MATRIX, np.ones_like(MATRIX)))


def test_reduce_rejects_a_dual_initial_and_unknown_arguments():
    x = Dual(MATRIX, np.ones_like(MATRIX))
    with pytest.raises(TypeError, match="initial"):
        np.add.reduce(x, initial=Dual(1.0, 1.0))
    out = Dual(np.zeros(4), np.zeros(4))
    assert np.add.reduce(x, axis=0, out=out) is out
    np.testing.assert_allclose(out.value, MATRIX.sum(axis=0))
    np.testing.assert_allclose(out.tangent, [3.0] * 4)


# --- accumulate and reduceat ---------------------------------------------------------------------

ACCUMULATE_CASES = [
    pytest.param(np.add.accumulate, id="add"),
    pytest.param(lambda a: np.subtract.accumulate(a, axis=1), id="subtract"),
    pytest.param(lambda a: np.multiply.accumulate(a, axis=1), id="multiply-axis1"),
    pytest.param(lambda a: np.multiply.accumulate(a, axis=0), id="multiply-axis0"),
    pytest.param(lambda a: np.add.reduceat(a, [0, 2, 3], axis=1), id="add-reduceat"),
]


@pytest.mark.parametrize("f", ACCUMULATE_CASES)
def test_accumulate_and_reduceat(f):
    check_all(f, MATRIX)


def test_running_product_is_exact_at_zeros():
    x = np.array([1.0, 0.0, 2.0, 0.0, 3.0, 5.0, 0.5])
    _, tangent = jvp(np.multiply.accumulate, (x,), (np.ones_like(x),))
    # d(prefix product) = sum over i of t_i * (product of the other factors of the prefix)
    expected = [np.sum([np.prod(np.delete(x[: k + 1], i)) for i in range(k + 1)])
                for k in range(len(x))]
    np.testing.assert_array_equal(tangent, expected)
    check_all(lambda a: np.multiply.accumulate(a, axis=1), WITH_ZEROS)


def test_accumulate_and_reduceat_of_other_ufuncs_raise():
    x = Dual(MATRIX, np.ones_like(MATRIX))
    with pytest.raises(TypeError, match=r"numpy\.maximum\.accumulate"):
        np.maximum.accumulate(x)
    with pytest.raises(TypeError, match=r"numpy\.multiply\.reduceat"):
        np.multiply.reduceat(x, [0, 1])


# --- outer ---------------------------------------------------------------------------------------

BINARY = [r for r in RULES.values() if r.ufunc.nin == 2 and r.jvp is None]


@pytest.mark.parametrize("rule", BINARY, ids=lambda r: r.ufunc.__name__)
def test_outer_of_every_binary_rule(rule):
    x, y = (np.array(column) for column in zip(*rule.domain, strict=True))
    rng = np.random.default_rng(SEED)
    if differentiable_arguments(rule) == (1,):  # (scipy.special.jv) the first is a constant
        check_jvp(lambda b: rule.ufunc.outer(x, b), (y,), (rng.standard_normal((3, *y.shape)),))
        return
    check_jvp(rule.ufunc.outer, (x, y), (rng.standard_normal(x.shape),
                                         rng.standard_normal(y.shape)))
    check_jvp(rule.ufunc.outer, (x, y), (rng.standard_normal((2, *x.shape)),
                                         rng.standard_normal((2, *y.shape))))
    check_jvp(lambda a: rule.ufunc.outer(a, y), (x,), (rng.standard_normal(x.shape),))
    check_jvp(lambda b: rule.ufunc.outer(x, b), (y,), (rng.standard_normal((3, *y.shape)),))


def test_outer_shapes_and_nesting():
    a, b = MATRIX[:2, :2], MATRIX[2]
    out, tangent = jvp(np.multiply.outer, (a, b), (np.ones_like(a), np.zeros_like(b)))
    assert out.shape == tangent.shape == (2, 2, 4)
    np.testing.assert_array_equal(tangent, np.multiply.outer(np.ones_like(a), b))
    check_all(lambda m: np.arctan2.outer(m[0], m[1]), MATRIX)


# --- at ------------------------------------------------------------------------------------------


def at_program(a):
    t = a * 2.0
    np.add.at(t, (np.array([0, 0, 2]), slice(None)), a[1])  # repeated rows, a live operand
    np.subtract.at(t, (slice(None), [1, 1, 3]), 1.5)  # repeated columns, a constant
    np.multiply.at(t, ([1, 1, 2, 1], [0, 0, 3, 0]), a[0])  # one cell hit three times
    np.multiply.at(t, t > 2, 0.5)  # a boolean index
    return t


def test_at_program():
    check_all(at_program, MATRIX)


@pytest.mark.parametrize("ufunc", [np.add, np.subtract, np.multiply], ids=lambda u: u.__name__)
def test_at_matches_the_unbuffered_loop(ufunc):
    index = np.array([0, 2, 0, 0, 3])

    def with_at(a, b):
        t = a * 1.0
        ufunc.at(t, index, b)
        return t

    def by_loop(a, b):
        parts = [a[i] for i in range(len(a))]
        for k, i in enumerate(index):
            parts[i] = ufunc(parts[i], b[k])
        return np.stack(parts)

    a, b = MATRIX[0], MATRIX[1, :1].repeat(5) + np.arange(5.0)
    ta, tb = tangents(a, (2,)), tangents(b, (2,))
    out, tangent = jvp(with_at, (a, b), (ta, tb))
    expected, expected_tangent = jvp(by_loop, (a, b), (ta, tb))
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(tangent, expected_tangent, rtol=1e-13, atol=1e-15)


def test_at_writes_in_place_and_leaves_other_duals_alone():
    x = Dual(np.arange(4.0), np.ones(4))
    y = x + 0.0  # a fresh value, and a fresh tangent
    np.add.at(y, [1, 1], Dual(np.array([1.0, 2.0]), np.array([5.0, 7.0])))
    np.testing.assert_array_equal(y.value, [0.0, 4.0, 2.0, 3.0])
    np.testing.assert_array_equal(y.tangent, [1.0, 13.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.value, np.arange(4.0))
    np.testing.assert_array_equal(x.tangent, np.ones(4))
    assert np.add.at(y, [0], 1.0) is None


def test_at_refusals():
    dual = Dual(np.arange(3.0), np.ones(3))
    with pytest.raises(TypeError, match="lose its tangent"):
        np.add.at(np.zeros(3), [0], dual[:1])
    with pytest.raises(TypeError, match=r"numpy\.maximum\.at"):
        np.maximum.at(dual, [0], 1.0)
    with pytest.raises(TypeError, match="index"):
        np.add.at(dual, Dual(1.0, 1.0), 1.0)


# --- out=, where=, dtype= ------------------------------------------------------------------------


def test_out_receives_value_and_tangent():
    def f(a):
        out = a * 0.0
        result = np.sin(a, out=out)
        assert result is out
        return out

    check_all(f, MATRIX)


def test_out_is_written_in_place_through_views():
    x = Dual(MATRIX[0], np.ones(4))
    out = Dual(np.zeros(4), np.zeros(4))
    value, tangent = out.value, out.tangent
    np.multiply(x[:2], 3.0, out=out[1:3])
    assert out.value is value and out.tangent is tangent
    np.testing.assert_array_equal(out.value, [0.0, 3 * MATRIX[0, 0], 3 * MATRIX[0, 1], 0.0])
    np.testing.assert_array_equal(out.tangent, [0.0, 3.0, 3.0, 0.0])


def test_where_keeps_the_entries_it_skips():
    def f(a):
        out = a * 1.0 + 10.0
        np.log(a, out=out, where=a > 0)
        return out

    out, tangent = jvp(f, (MATRIX,), (np.ones_like(MATRIX),))
    positive = MATRIX > 0
    np.testing.assert_allclose(out[positive], np.log(MATRIX[positive]))
    np.testing.assert_allclose(out[~positive], MATRIX[~positive] + 10)
    np.testing.assert_allclose(tangent[positive], 1 / MATRIX[positive])
    np.testing.assert_array_equal(tangent[~positive], 1.0)
    check_all(f, MATRIX)


def test_where_needs_out():
    with pytest.raises(TypeError, match="where= needs out="):
        np.add(Dual(MATRIX, np.ones_like(MATRIX)), 1.0, where=MATRIX > 0)


def test_plain_out_with_a_dual_result_raises():
    x = Dual(MATRIX, np.ones_like(MATRIX))
    with pytest.raises(TypeError, match="lose its tangent"):
        np.sin(x, out=np.empty_like(MATRIX))
    with pytest.raises(TypeError, match="lose its tangent"):
        np.add.reduce(x, out=np.empty(4))


def test_dual_out_with_plain_inputs_gets_a_zero_tangent():
    out = Dual(np.ones(3), np.ones((2, 3)))
    np.add(np.arange(3.0), 1.0, out=out, where=np.array([True, False, True]))
    np.testing.assert_array_equal(out.value, [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(out.tangent, [[0.0, 1.0, 0.0]] * 2)


def test_out_with_several_outputs():
    def f(a):
        whole = a * 0.0
        fraction, same = np.modf(a, out=(None, whole))
        assert same is whole
        return fraction, whole

    check_jvp(f, (MATRIX * 3,), (tangents(MATRIX),))


def test_a_boolean_ufunc_cannot_write_into_a_dual():
    x = Dual(MATRIX, np.ones_like(MATRIX))
    with pytest.raises(TypeError, match="booleans"):
        np.greater(x, 0.0, out=Dual(np.zeros_like(MATRIX)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_dtype_casts_value_and_tangent(dtype):
    out, tangent = jvp(lambda a: np.multiply(a, 3.0, dtype=dtype), (MATRIX,),
                       (np.ones_like(MATRIX),))
    assert out.dtype == dtype and tangent.dtype == dtype
    np.testing.assert_allclose(tangent, 3.0 * np.ones_like(MATRIX), rtol=1e-7)
    # complex_step=False: dtype=float64 would drop the reference's imaginary step
    check_jvp(lambda a: np.exp(a, dtype=np.float64), (MATRIX,), (tangents(MATRIX),),
              complex_step=False)
    check_jvp(lambda a: np.multiply.accumulate(a, axis=1, dtype=np.float64), (MATRIX,),
              (tangents(MATRIX, (2,)),), complex_step=False)


def test_integer_dtype_and_unknown_arguments_raise():
    x = Dual(MATRIX, np.ones_like(MATRIX))
    with pytest.raises(TypeError, match="floating-point"):
        np.add(x, 1.0, dtype=np.int64)
    with pytest.raises(TypeError, match=r"\['casting'\]"):
        np.add(x, 1.0, casting="unsafe")


# --- ldexp, modf, frexp --------------------------------------------------------------------------


@pytest.mark.parametrize("rule", INTEGER_ARGUMENTS, ids=lambda r: r.ufunc.__name__)
def test_rules_with_an_integer_argument(rule):
    for x, n in rule.domain:
        check_jvp(lambda a, n=n: rule.ufunc(a, n), (x,), (1.0,))
        check_jvp(lambda a, n=n: rule.ufunc(a, n), (x,), (np.array([1.0, -0.5]),))
    x, n = (np.array(column) for column in zip(*rule.domain, strict=True))
    check_all(lambda a: rule.ufunc(a, n), x)
    with pytest.raises(TypeError):
        rule.ufunc(Dual(x[0], 1.0), Dual(float(n[0]), 1.0))  # the integer is not differentiable


def test_ldexp_is_exact():
    value, slope = jvp(lambda a: np.ldexp(a, 3), (0.7,), (1.0,))
    assert (value, slope) == (5.6, 8.0)
    assert type(value) is float


@pytest.mark.parametrize("ufunc", list(MULTI_OUTPUT), ids=lambda u: u.__name__)
def test_several_outputs(ufunc):
    domain = np.array(MULTI_OUTPUT[ufunc][1])
    partials = MULTI_OUTPUT[ufunc][0]
    differentiable = [i for i, p in enumerate(partials) if p is not None]

    def f(a):
        outputs = ufunc(a)
        assert len(outputs) == ufunc.nout
        return tuple(outputs[i] for i in differentiable)

    for x in domain:
        check_jvp(f, (x,), (1.0,))
    check_all(f, domain)
    plain = [i for i, p in enumerate(partials) if p is None]
    outputs = ufunc(Dual(domain, np.ones_like(domain)))
    for i in plain:
        assert not isinstance(outputs[i], Dual)
        np.testing.assert_array_equal(outputs[i], ufunc(domain)[i])


def test_modf_and_frexp_values():
    x = np.array([-2.75, 0.5, 6.0])
    (fraction, whole), (d_fraction, d_whole) = jvp(np.modf, (x,), (np.ones(3),))
    np.testing.assert_array_equal(fraction, [-0.75, 0.5, 0.0])
    np.testing.assert_array_equal(whole, [-2.0, 0.0, 6.0])
    np.testing.assert_array_equal(d_fraction, 1.0)
    np.testing.assert_array_equal(d_whole, 0.0)
    mantissa, exponent = np.frexp(Dual(x, np.ones(3)))
    np.testing.assert_array_equal(mantissa.tangent, 2.0 ** -np.frexp(x)[1])
    assert exponent.dtype.kind == "i"
