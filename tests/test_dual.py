"""The Dual type: construction, operators, conversions, representations and arrays."""

import math
import operator

import numpy as np
import pytest

from dualdiff import Dual
from dualdiff.tags import USER_TAG, new_tag

RTOL = 1e-14


def assert_dual(result, value, tangent, rtol=RTOL):
    """``result`` is a Dual with the given value and tangent (and matching shapes)."""
    assert type(result) is Dual
    np.testing.assert_allclose(result.value, value, rtol=rtol, atol=0)
    np.testing.assert_allclose(result.tangent, tangent, rtol=rtol, atol=1e-300)
    assert np.shape(result.value) == np.shape(value)
    assert np.shape(result.tangent) == np.shape(tangent)


def directions(x):
    """The unbatched Duals, one per direction, of a Dual with a batch of tangents."""
    return [Dual(x.value, t) for t in x.tangent]


def assert_batched(f, *duals):
    """``f`` on batched Duals equals ``f`` direction by direction."""
    result = f(*duals)
    k = len(duals[0].tangent)
    assert np.shape(result.tangent) == (k, *np.shape(result.value))
    for i in range(k):
        single = f(*(Dual(d.value, d.tangent[i]) for d in duals))
        np.testing.assert_allclose(result.value, single.value, rtol=RTOL)
        np.testing.assert_allclose(result.tangent[i], single.tangent, rtol=RTOL, atol=1e-300)
    return result


# --- construction ------------------------------------------------------------------------------


def test_ints_are_promoted_to_float():
    x = Dual(3, 1)
    assert type(x.value) is float and x.value == 3.0
    assert type(x.tangent) is float and x.tangent == 1.0
    arr = Dual(np.array([1, 2, 3]), np.array([0, 1, 0]))
    assert arr.value.dtype == np.float64 and arr.tangent.dtype == np.float64
    np.testing.assert_array_equal(arr.value, [1.0, 2.0, 3.0])
    assert Dual(True).value == 1.0 and type(Dual(True).value) is float


def test_lists_and_numpy_scalars_become_values():
    x = Dual([1.0, 2.0], [3.0, 4.0])
    assert isinstance(x.value, np.ndarray) and x.shape == (2,)
    np.testing.assert_array_equal(x.tangent, [3.0, 4.0])
    y = Dual(np.float64(2.5), np.float64(1.0))
    assert type(y.value) is float and y.value == 2.5


def test_float32_stays_float32():
    value = np.array([0.5, 1.5], dtype=np.float32)
    x = Dual(value, np.ones(2, dtype=np.float32))
    assert x.value.dtype == np.float32 and x.tangent.dtype == np.float32
    assert x.dtype == np.float32
    y = np.sin(x)
    assert y.value.dtype == np.float32 and y.tangent.dtype == np.float32
    np.testing.assert_allclose(y.tangent, np.cos(value), rtol=1e-6)
    z = x * x + 1.0
    assert z.value.dtype == np.float32 and z.tangent.dtype == np.float32


def test_float32_scalar_stays_float32():
    x = Dual(np.float32(0.5), np.float32(1.0))
    assert x.value.dtype == np.float32
    y = np.sin(x)
    assert y.value.dtype == np.float32 and y.tangent.dtype == np.float32
    assert abs(float(y.tangent) - math.cos(0.5)) < 1e-6


def test_float32_default_tangent_is_float32_zero():
    x = Dual(np.ones((2, 2), dtype=np.float32))
    assert x.tangent.dtype == np.float32 and x.tangent.shape == (2, 2)
    assert not np.any(x.tangent)


def test_default_tangent_is_zero():
    x = Dual(2.0)
    assert x.tangent == 0.0 and type(x.tangent) is float
    arr = Dual(np.arange(6.0).reshape(2, 3))
    assert arr.tangent.shape == (2, 3) and arr.tangent.dtype == np.float64
    assert not np.any(arr.tangent)
    assert Dual(1 + 2j).tangent == 0j
    assert x.tag == USER_TAG


@pytest.mark.parametrize(
    ("value_shape", "tangent_shape"),
    [((), ()), ((), (4,)), ((3,), (3,)), ((3,), (5, 3)), ((2, 3), (2, 3)), ((2, 3), (1, 2, 3))],
)
def test_tangent_of_the_value_shape_or_with_a_batch_axis(value_shape, tangent_shape):
    x = Dual(np.ones(value_shape), np.ones(tangent_shape))
    assert x.shape == value_shape
    assert np.shape(x.tangent) == tangent_shape


@pytest.mark.parametrize(
    ("value_shape", "tangent_shape"),
    [((), (2, 2)), ((3,), (2,)), ((3,), (3, 1)), ((3,), (2, 2, 3)), ((2, 3), (3, 2)),
     ((2, 3), (3,))],
)
def test_wrong_tangent_shape_raises(value_shape, tangent_shape):
    with pytest.raises(ValueError, match="tangent must have the value's shape"):
        Dual(np.ones(value_shape), np.ones(tangent_shape))


def test_invalid_values_raise():
    with pytest.raises(TypeError, match="number or an array"):
        Dual("3.0")
    with pytest.raises(TypeError, match="numeric"):
        Dual(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="complex tangent"):
        Dual(1.0, 1j)


# --- arithmetic operators ----------------------------------------------------------------------
# Each binary operator: the value f(a, b) and the partials (df/da, df/db).  A tangent is the
# sum of partial * tangent over the live operands.

BINARY = {
    "+": (operator.add, operator.iadd, lambda a, b: (1.0, 1.0)),
    "-": (operator.sub, operator.isub, lambda a, b: (1.0, -1.0)),
    "*": (operator.mul, operator.imul, lambda a, b: (b, a)),
    "/": (operator.truediv, operator.itruediv, lambda a, b: (1 / b, -a / b**2)),
    "//": (operator.floordiv, operator.ifloordiv, lambda a, b: (0.0, 0.0)),
    "%": (operator.mod, operator.imod, lambda a, b: (1.0, -np.floor(a / b))),
    "**": (operator.pow, operator.ipow, lambda a, b: (b * a ** (b - 1), a**b * np.log(a))),
}

X_SCALAR, DX_SCALAR = 2.3, 0.7
X_ARRAY, DX_ARRAY = np.array([0.7, 1.9, 3.4]), np.array([0.5, -1.1, 0.25])
Y_SCALAR, DY_SCALAR = 1.6, -0.4
Y_ARRAY, DY_ARRAY = np.array([1.3, 0.6, 2.2]), np.array([-0.3, 0.8, 1.5])

CONSTANTS = {
    "float": 1.6,
    "int": 3,
    "numpy float": np.float64(1.3),
    "array": np.array([1.3, 0.6, 2.2]),
}


def expected(symbol, a, da, b, db):
    """Value and tangent of ``a (op) b`` with tangents ``da``, ``db`` (``None`` = constant)."""
    plain = BINARY[symbol][0]
    partial_a, partial_b = BINARY[symbol][2](np.asarray(a, float), np.asarray(b, float))
    value = plain(np.asarray(a, float), np.asarray(b, float))
    tangent = np.zeros(np.shape(value))
    if da is not None:
        tangent = tangent + partial_a * da
    if db is not None:
        tangent = tangent + partial_b * db
    return value, tangent


@pytest.mark.parametrize("symbol", BINARY)
@pytest.mark.parametrize("shape", ["scalar", "array"])
@pytest.mark.parametrize("constant", CONSTANTS)
def test_binary_operator_with_a_constant(symbol, shape, constant):
    op, iop, _ = BINARY[symbol]
    a, da = (X_SCALAR, DX_SCALAR) if shape == "scalar" else (X_ARRAY, DX_ARRAY)
    c = CONSTANTS[constant]
    x = Dual(a, da)

    assert_dual(op(x, c), *expected(symbol, a, da, c, None))
    assert_dual(op(c, x), *expected(symbol, c, None, a, da))
    assert_dual(iop(Dual(a, da), c), *expected(symbol, a, da, c, None))
    if not isinstance(c, np.ndarray):  # numbers have no in-place operators: the reflected one runs
        assert_dual(iop(c, x), *expected(symbol, c, None, a, da))
    # the operand was not modified
    assert_dual(x, a, da)


@pytest.mark.parametrize("symbol", BINARY)
@pytest.mark.parametrize(("shape_x", "shape_y"), [("scalar", "scalar"), ("array", "array"),
                                                  ("scalar", "array"), ("array", "scalar")])
def test_binary_operator_between_duals(symbol, shape_x, shape_y):
    op, iop, _ = BINARY[symbol]
    a, da = (X_SCALAR, DX_SCALAR) if shape_x == "scalar" else (X_ARRAY, DX_ARRAY)
    b, db = (Y_SCALAR, DY_SCALAR) if shape_y == "scalar" else (Y_ARRAY, DY_ARRAY)
    x, y = Dual(a, da), Dual(b, db)
    assert_dual(op(x, y), *expected(symbol, a, da, b, db))
    assert_dual(op(y, x), *expected(symbol, b, db, a, da))
    z = x
    z = iop(z, y)
    assert_dual(z, *expected(symbol, a, da, b, db))
    if shape_x == "array" and shape_y == "array":  # in place, as NumPy's: every alias sees it
        assert z is x
    elif shape_x == "scalar":  # a scalar is immutable, as a NumPy scalar: a new Dual
        assert_dual(x, a, da)
    assert_dual(y, b, db)


def test_power_formulas_by_hand():
    x, y = Dual(2.0, 1.0), Dual(3.0, 0.5)
    assert_dual(x**3, 8.0, 3 * 4.0)
    assert_dual(x**0.5, math.sqrt(2.0), 0.5 / math.sqrt(2.0))
    assert_dual(x**-1, 0.5, -0.25)
    assert_dual(3.0**x, 9.0, 9.0 * math.log(3.0))
    assert_dual(2**x, 4.0, 4.0 * math.log(2.0))
    # d(x**y) = y x^(y-1) dx + x^y log(x) dy
    assert_dual(x**y, 8.0, 3.0 * 4.0 * 1.0 + 8.0 * math.log(2.0) * 0.5)
    assert_dual(x**0, 1.0, 0.0)
    assert_dual(x**1, 2.0, 1.0)


def test_in_place_operators_write_through_every_alias_and_the_constructor_copies():
    tangent = np.array([1.0, 2.0, 3.0])
    value = np.array([0.5, 1.5, 2.5])
    x = Dual(value, tangent)
    alias = x
    alias += 1.0
    alias *= Dual(value, tangent)
    alias **= 2
    assert alias is x  # an array Dual is updated in place, as an ndarray
    plain = (value + 1.0) * value
    np.testing.assert_array_equal(x.value, plain**2)
    np.testing.assert_array_equal(x.tangent, 2 * plain * (tangent * value + (value + 1) * tangent))
    np.testing.assert_array_equal(tangent, [1.0, 2.0, 3.0])  # Dual(value, tangent) copied them
    np.testing.assert_array_equal(value, [0.5, 1.5, 2.5])


@pytest.mark.parametrize(("a", "da"), [(-2.5, 0.75), (X_ARRAY - 2.0, DX_ARRAY)])
def test_unary_operators(a, da):
    x = Dual(a, da)
    assert_dual(-x, -np.asarray(a), -np.asarray(da))
    assert_dual(+x, a, da)
    assert_dual(abs(x), np.abs(a), np.sign(a) * da)


@pytest.mark.parametrize("other", [0.7, 2, np.array([0.7, 1.1, 0.4]), Dual(0.6, 0.3)])
def test_divmod(other):
    x = Dual(X_ARRAY, DX_ARRAY)
    quotient, remainder = divmod(x, other)
    assert_dual(quotient, *_divmod_expected("//", x, other))
    assert_dual(remainder, *_divmod_expected("%", x, other))
    quotient, remainder = divmod(other, x)
    assert_dual(quotient, *_divmod_expected("//", other, x))
    assert_dual(remainder, *_divmod_expected("%", other, x))


def _divmod_expected(symbol, x, y):
    def parts(z):
        return (z.value, z.tangent) if type(z) is Dual else (z, None)

    return expected(symbol, *parts(x), *parts(y))


def test_np_divmod_matches_the_operators():
    x = Dual(X_ARRAY, DX_ARRAY)
    for args in ((x, 0.7), (2.0, x), (x, Dual(Y_ARRAY, DY_ARRAY)), (Y_ARRAY, x)):
        quotient, remainder = np.divmod(*args)
        assert_dual(quotient, *_divmod_expected("//", *args))
        assert_dual(remainder, *_divmod_expected("%", *args))


def test_scalar_divmod_by_hand():
    q, r = divmod(Dual(7.5, 1.0), 2.0)
    assert_dual(q, 3.0, 0.0)
    assert_dual(r, 1.5, 1.0)
    q, r = divmod(7.5, Dual(2.0, 1.0))
    assert_dual(q, 3.0, 0.0)
    assert_dual(r, 1.5, -3.0)


def test_pow_with_modulus_is_refused_clearly():
    with pytest.raises(TypeError, match="modulus"):
        pow(Dual(2.0, 1.0), 2, 3)


def test_numpy_scalar_on_the_left_gives_a_dual():
    result = np.float64(2.0) * Dual(1.5, 1.0)
    assert_dual(result, 3.0, 2.0)
    result = np.float64(2.0) - Dual(1.5, 1.0)
    assert_dual(result, 0.5, -1.0)


# --- comparisons and piecewise-constant conversions ------------------------------------------


def test_scalar_comparisons_return_plain_bools():
    x, y = Dual(2.0, 1.0), Dual(2.0, -3.0)
    for result, truth in [
        (x == y, True), (x != y, False), (x < 3.0, True), (x <= 2, True), (x > 2.0, False),
        (x >= y, True), (x == 2, True), (x != 2.5, True),
        (3.0 > x, True), (1 < x, True),  # noqa: SIM300 - the reflected comparisons
    ]:
        assert type(result) is bool
        assert result is truth


def test_array_comparisons_return_plain_bool_arrays():
    x = Dual(np.array([1.0, 2.0, 3.0]), np.ones(3))
    y = Dual(np.array([3.0, 2.0, 1.0]), np.zeros(3))
    for result, truth in [
        (x < y, [True, False, False]),
        (x == y, [False, True, False]),
        (x >= 2.0, [False, True, True]),
        (np.array([2.0, 2.0, 2.0]) < x, [False, False, True]),
        (x != np.array([1.0, 0.0, 3.0]), [False, True, False]),
        (np.greater(x, y), [False, False, True]),
    ]:
        assert type(result) is np.ndarray and result.dtype == bool
        np.testing.assert_array_equal(result, truth)


def test_round_floor_ceil_trunc_return_plain_numbers():
    x = Dual(2.6, 1.0)
    assert round(x) == 3 and type(round(x)) is int
    assert round(Dual(2.567, 1.0), 2) == 2.57 and type(round(Dual(2.567, 1.0), 2)) is float
    assert math.floor(x) == 2 and type(math.floor(x)) is int
    assert math.ceil(x) == 3 and type(math.ceil(x)) is int
    assert math.trunc(Dual(-2.6, 1.0)) == -2 and type(math.trunc(Dual(-2.6, 1.0))) is int
    rounded = round(Dual(np.array([1.26, 2.71]), np.ones(2)), 1)
    assert type(rounded) is np.ndarray
    np.testing.assert_allclose(rounded, [1.3, 2.7])


# --- losing the tangent is an error ------------------------------------------------------------

SCALAR = Dual(2.0, 1.0)
VECTOR = Dual(np.array([1.0, 2.0, 3.0]), np.ones(3))


@pytest.mark.parametrize(
    "lose",
    [
        pytest.param(lambda: float(SCALAR), id="float"),
        pytest.param(lambda: complex(SCALAR), id="complex"),
        pytest.param(lambda: math.sin(SCALAR), id="math.sin"),
        pytest.param(lambda: math.exp(SCALAR), id="math.exp"),
        pytest.param(lambda: np.asarray(VECTOR), id="np.asarray"),
        pytest.param(lambda: np.asarray(SCALAR), id="np.asarray-scalar"),
        pytest.param(lambda: np.array(VECTOR), id="np.array"),
        pytest.param(lambda: np.float64(SCALAR), id="np.float64"),
    ],
)
def test_conversions_that_drop_the_tangent_raise(lose):
    with pytest.raises(TypeError, match="tangent"):
        lose()


def test_array_of_duals_points_to_np_stack():
    with pytest.raises(TypeError, match=r"np\.stack"):
        np.array([Dual(1.0, 1.0), Dual(2.0, 0.0)])


def test_writing_a_scalar_dual_into_a_plain_array_fails_naming_the_tangent():
    # NumPy turns the TypeError of float(dual) into its own ValueError for a single
    # element, keeping dualdiff's TypeError as the cause; either way nothing is written.
    a = np.zeros(3)
    with pytest.raises((TypeError, ValueError)) as caught:
        a[0] = SCALAR
    error = caught.value
    cause = error if isinstance(error, TypeError) else error.__cause__
    assert isinstance(cause, TypeError) and "tangent" in str(cause)
    np.testing.assert_array_equal(a, 0.0)


def test_writing_a_dual_array_into_a_plain_array_raises_type_error():
    a = np.zeros(3)
    with pytest.raises(TypeError, match="tangent"):
        a[:] = VECTOR
    np.testing.assert_array_equal(a, 0.0)


def test_in_place_update_of_a_plain_array_with_a_dual_raises():
    a = np.zeros(3)
    with pytest.raises(TypeError, match="out"):
        a += VECTOR
    np.testing.assert_array_equal(a, 0.0)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: SCALAR + "a", id="dual+str"),
        pytest.param(lambda: "a" + SCALAR, id="str+dual"),
        pytest.param(lambda: SCALAR + object(), id="dual+object"),
        pytest.param(lambda: object() * SCALAR, id="object*dual"),
        pytest.param(lambda: SCALAR - None, id="dual-None"),
        pytest.param(lambda: SCALAR**"2", id="dual**str"),
        pytest.param(lambda: VECTOR @ "ab", id="dual@str"),
        pytest.param(lambda: VECTOR + np.array(["a", "b", "c"]), id="dual+str-array"),
    ],
)
def test_unsupported_operands_raise_type_error(bad):
    with pytest.raises(TypeError):
        bad()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: np.histogram(VECTOR), id="histogram"),
        pytest.param(lambda: np.histogram_bin_edges(VECTOR), id="histogram_bin_edges"),
        pytest.param(lambda: np.lib.scimath.sqrt(VECTOR), id="scimath.sqrt"),
    ],
)
def test_unsupported_numpy_functions_raise(call):
    with pytest.raises(TypeError, match=r"dualdiff has no derivative rule for numpy\."):
        call()


def test_unsupported_numpy_function_message_names_the_function():
    with pytest.raises(TypeError, match=r"numpy\.histogram\b"):
        np.histogram(VECTOR)
    with pytest.raises(TypeError, match=r"register_function"):
        np.histogram_bin_edges(VECTOR)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: np.sin(VECTOR, out=np.empty(3)), "lose its tangent", id="sin-out"),
        pytest.param(lambda: np.sin(SCALAR, out=np.empty(())), "lose its tangent",
                     id="scalar-sin-out"),
        pytest.param(lambda: np.add(VECTOR, 1.0, out=np.empty(3)), "lose its tangent",
                     id="add-out"),
        pytest.param(lambda: np.add(VECTOR, 1.0, where=VECTOR.value > 1), "needs out=",
                     id="add-where"),
        pytest.param(lambda: np.multiply(SCALAR, 2.0, dtype=np.int64), "floating-point",
                     id="multiply-int-dtype"),
        pytest.param(lambda: np.sum(VECTOR, out=np.empty(())), "plain array", id="sum-out"),
    ],
)
def test_keyword_arguments_that_would_lose_the_tangent_are_refused(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_unsupported_ufunc_methods_are_refused_by_name():
    with pytest.raises(TypeError, match=r"numpy\.arctan2\.reduce"):
        np.arctan2.reduce(VECTOR)
    with pytest.raises(TypeError, match=r"numpy\.hypot\.accumulate"):
        np.hypot.accumulate(VECTOR)


def test_a_dual_cannot_be_an_index():
    with pytest.raises(TypeError, match="index"):
        VECTOR[Dual(1.0, 0.0)]
    with pytest.raises(TypeError):
        np.arange(3.0)[Dual(1.0, 0.0)]
    with pytest.raises(TypeError):
        [1, 2, 3][SCALAR]


def test_len_and_iteration_of_a_scalar_raise():
    with pytest.raises(TypeError, match="len"):
        len(SCALAR)
    with pytest.raises(TypeError, match="iteration"):
        iter(SCALAR)


def test_duals_are_unhashable():
    with pytest.raises(TypeError):
        hash(SCALAR)


# --- representations -------------------------------------------------------------------------


def test_repr_and_str():
    assert repr(Dual(3.0, 1.0)) == "Dual(3.0, 1.0)"
    assert repr(Dual(3, -2)) == "Dual(3.0, -2.0)"
    assert str(Dual(3.0, 1.0)) == "3.0 + 1.0ε"
    assert str(Dual(3.0, -1.0)) == "3.0 - 1.0ε"
    assert str(Dual(-3.0, 0.5)) == "-3.0 + 0.5ε"
    assert "array" in repr(Dual(np.ones(2), np.zeros(2)))


def test_repr_latex():
    for x in (Dual(3.0, 1.0), Dual(3.0, -1.0), Dual(np.ones(2), np.zeros(2))):
        latex = x._repr_latex_()
        assert latex.startswith("$") and latex.endswith("$")
        assert r"\varepsilon" in latex
        assert "ε" not in latex
    assert Dual(3.0, 1.0)._repr_latex_().startswith("$3.0 + 1.0")
    assert Dual(3.0, -1.0)._repr_latex_().startswith("$3.0 - 1.0")


# --- arrays: shape, broadcasting, indexing, methods ---------------------------------------------

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))
TA = RNG.normal(size=(3, 4))
TA_BATCH = RNG.normal(size=(2, 3, 4))
CUBE = RNG.normal(size=(3, 4, 5))
TCUBE = RNG.normal(size=(3, 4, 5))
TCUBE_BATCH = RNG.normal(size=(2, 3, 4, 5))


def test_shape_ndim_size_dtype_len():
    x = Dual(A, TA)
    assert x.shape == (3, 4) and x.ndim == 2 and x.size == 12 and x.dtype == np.float64
    assert len(x) == 3
    xb = Dual(A, TA_BATCH)
    assert xb.shape == (3, 4) and xb.ndim == 2 and xb.size == 12 and len(xb) == 3
    s = Dual(2.0, 1.0)
    assert s.shape == () and s.ndim == 0 and s.size == 1 and s.dtype == np.float64
    assert Dual(np.ones(2, dtype=np.float32)).dtype == np.float32


def test_transpose_property():
    x = Dual(A, TA)
    assert_dual(x.T, A.T, TA.T)
    xb = assert_batched(lambda d: d.T, Dual(A, TA_BATCH))
    assert xb.shape == (4, 3)


@pytest.mark.parametrize(
    ("value", "tangent", "other"),
    [
        (A[0], TA[0], A),  # (4,) dual with a (3, 4) array
        (A, TA, A[0]),  # (3, 4) dual with a (4,) array
        (A[:, :1], TA[:, :1], A[0]),  # (3, 1) dual with a (4,) array -> (3, 4)
        (2.0, 1.0, A),  # scalar dual with an array
        (A, TA, 2.0),  # array dual with a scalar
        (A, TA, 3),  # array dual with an int
    ],
)
def test_broadcasting_with_plain_operands(value, tangent, other):
    x = Dual(value, tangent)
    plain_value, plain_tangent = np.asarray(value), np.asarray(tangent)
    for op in (operator.add, operator.sub, operator.mul, operator.truediv):
        for result, expected_value in (
            (op(x, other), op(plain_value, other)),
            (op(other, x), op(other, plain_value)),
        ):
            assert type(result) is Dual
            np.testing.assert_allclose(result.value, expected_value, rtol=RTOL)
            assert np.shape(result.tangent) == np.shape(result.value) == np.shape(expected_value)
    shape = np.broadcast_shapes(np.shape(value), np.shape(other))
    np.testing.assert_allclose((x * other).tangent,
                               np.broadcast_to(plain_tangent * other, shape), rtol=RTOL)
    np.testing.assert_allclose((other - x).tangent, np.broadcast_to(-plain_tangent, shape))
    np.testing.assert_allclose((other / x).tangent,
                               np.broadcast_to(-other * plain_tangent / plain_value**2, shape),
                               rtol=1e-13)


def test_broadcasting_between_duals():
    x = Dual(A[:, :1], TA[:, :1])  # (3, 1)
    y = Dual(A[0], TA[0])  # (4,)
    z = x * y
    assert z.shape == (3, 4) and np.shape(z.tangent) == (3, 4)
    np.testing.assert_allclose(z.tangent, TA[:, :1] * A[0] + A[:, :1] * TA[0], rtol=RTOL)
    s = Dual(2.0, 0.5) + y
    assert s.shape == (4,) and np.shape(s.tangent) == (4,)
    np.testing.assert_allclose(s.tangent, 0.5 + TA[0], rtol=RTOL)


def test_broadcasting_with_batched_tangents():
    batch = Dual(A[0], TA_BATCH[:, 0])  # (4,) value, 2 directions
    assert_batched(lambda d: d * A, batch)
    assert_batched(lambda d: A / d, batch)
    assert_batched(lambda d: d - 1.0, batch)
    assert_batched(lambda d: 3 ** (d * 0.1), batch)
    assert_batched(lambda d: np.sin(d) * A[:, :1], batch)
    column = Dual(A[:, :1], TA_BATCH[:, :, :1])  # (3, 1) value, 2 directions
    assert_batched(lambda c, r: c * r, column, batch)
    assert_batched(lambda c, r: r + c, column, batch)
    scalar = Dual(1.5, np.array([1.0, -2.0]))  # scalar value, 2 directions
    assert_batched(lambda s: s * A, scalar)
    assert_batched(lambda s, r: s * r, scalar, batch)
    assert_batched(lambda s, r: r / s, scalar, batch)


INDICES = [
    pytest.param(1, id="int"),
    pytest.param(-1, id="negative-int"),
    pytest.param(np.s_[1:], id="slice"),
    pytest.param(np.s_[:, ::2], id="step"),
    pytest.param(np.s_[::-1, 1:3], id="reverse"),
    pytest.param(np.s_[1, 2], id="element"),
    pytest.param(np.array([0, 2]), id="int-array"),
    pytest.param([2, 0, 0], id="int-list"),
    pytest.param(np.s_[:, np.array([3, 0, 1])], id="int-array-axis1"),
    pytest.param(np.s_[np.array([0, 2]), np.array([1, 3])], id="int-arrays"),
    pytest.param(A > 0, id="bool-mask"),
    pytest.param(np.s_[:, A[0] > 0], id="bool-mask-axis1"),
    pytest.param(np.array([True, False, True]), id="bool-rows"),
    pytest.param(Ellipsis, id="ellipsis"),
    pytest.param(np.s_[..., 1], id="ellipsis-int"),
    pytest.param(np.s_[None], id="newaxis"),
    pytest.param(np.s_[:, None, 1:3], id="newaxis-middle"),
    pytest.param(np.s_[1, ..., None], id="int-ellipsis-newaxis"),
    pytest.param(np.s_[None, ..., 2], id="newaxis-ellipsis-int"),
]


@pytest.mark.parametrize("index", INDICES)
def test_indexing_unbatched(index):
    x = Dual(A, TA)
    result = x[index]
    assert type(result) is Dual
    np.testing.assert_array_equal(result.value, A[index])
    np.testing.assert_array_equal(result.tangent, TA[index])
    assert np.shape(result.tangent) == np.shape(A[index])


@pytest.mark.parametrize("index", INDICES)
def test_indexing_batched(index):
    x = Dual(A, TA_BATCH)
    result = x[index]
    np.testing.assert_array_equal(result.value, A[index])
    assert np.shape(result.tangent) == (2, *np.shape(A[index]))
    for k in range(2):
        np.testing.assert_array_equal(result.tangent[k], TA_BATCH[k][index])


CUBE_INDICES = [
    pytest.param(np.s_[np.array([0, 2]), :, np.array([1, 3])], id="separated-advanced"),
    pytest.param(np.s_[:, np.array([0, 2]), np.array([1, 3])], id="adjacent-advanced"),
    pytest.param(np.s_[np.array([0, 2]), ..., np.array([1, 3])], id="advanced-ellipsis"),
    pytest.param(np.s_[np.array([0, 2]), None, :, np.array([1, 3])], id="advanced-newaxis"),
    pytest.param(np.s_[1, :, np.array([4, 0])], id="int-and-array"),
    pytest.param(CUBE[:, :, 0] > 0, id="2d-mask"),
    pytest.param(CUBE > 0, id="full-mask"),
    pytest.param(np.s_[..., 1:4:2], id="ellipsis-slice"),
    pytest.param(np.s_[..., None, 0], id="ellipsis-newaxis-int"),
]


@pytest.mark.parametrize("index", CUBE_INDICES)
def test_indexing_three_dimensions(index):
    result = Dual(CUBE, TCUBE)[index]
    np.testing.assert_array_equal(result.value, CUBE[index])
    np.testing.assert_array_equal(result.tangent, TCUBE[index])
    batched = Dual(CUBE, TCUBE_BATCH)[index]
    np.testing.assert_array_equal(batched.value, CUBE[index])
    assert np.shape(batched.tangent) == (2, *np.shape(CUBE[index]))
    for k in range(2):
        np.testing.assert_array_equal(batched.tangent[k], TCUBE_BATCH[k][index])


def test_indexing_a_batched_scalar_row():
    x = Dual(A[0], TA_BATCH[:, 0])
    element = x[2]
    assert element.shape == ()
    np.testing.assert_array_equal(element.tangent, TA_BATCH[:, 0, 2])


def test_iteration_unbatched_and_batched():
    x = Dual(A, TA)
    rows = list(x)
    assert len(rows) == 3
    for i, row in enumerate(rows):
        assert type(row) is Dual
        np.testing.assert_array_equal(row.value, A[i])
        np.testing.assert_array_equal(row.tangent, TA[i])
    xb = Dual(A, TA_BATCH)
    for i, row in enumerate(xb):
        np.testing.assert_array_equal(row.value, A[i])
        np.testing.assert_array_equal(row.tangent, TA_BATCH[:, i])
    elements = list(Dual(np.array([1.0, 2.0]), np.array([[1.0, 2.0], [3.0, 4.0]])))
    np.testing.assert_array_equal(elements[0].tangent, [1.0, 3.0])
    np.testing.assert_array_equal(elements[1].tangent, [2.0, 4.0])


METHODS = [
    pytest.param(lambda d: d.sum(), lambda a: a.sum(), id="sum"),
    pytest.param(lambda d: d.sum(axis=0), lambda a: a.sum(axis=0), id="sum-axis0"),
    pytest.param(lambda d: d.sum(axis=-1, keepdims=True), lambda a: a.sum(axis=-1, keepdims=True),
                 id="sum-keepdims"),
    pytest.param(lambda d: d.mean(), lambda a: a.mean(), id="mean"),
    pytest.param(lambda d: d.mean(axis=1), lambda a: a.mean(axis=1), id="mean-axis1"),
    pytest.param(lambda d: d.reshape(4, 3), lambda a: a.reshape(4, 3), id="reshape-args"),
    pytest.param(lambda d: d.reshape((2, 6)), lambda a: a.reshape((2, 6)), id="reshape-tuple"),
    pytest.param(lambda d: d.reshape(-1), lambda a: a.reshape(-1), id="reshape-minus-one"),
    pytest.param(lambda d: d.ravel(), lambda a: a.ravel(), id="ravel"),
    pytest.param(lambda d: d.transpose(), lambda a: a.transpose(), id="transpose"),
    pytest.param(lambda d: d.transpose(1, 0), lambda a: a.transpose(1, 0), id="transpose-args"),
    pytest.param(lambda d: d.transpose((1, 0)), lambda a: a.transpose((1, 0)),
                 id="transpose-tuple"),
    pytest.param(lambda d: d.T, lambda a: a.T, id="T"),
    pytest.param(lambda d: d.dot(A[0]), lambda a: a.dot(A[0]), id="dot-vector"),
    pytest.param(lambda d: d.dot(A.T), lambda a: a.dot(A.T), id="dot-matrix"),
]


@pytest.mark.parametrize(("method", "plain"), METHODS)
def test_array_methods(method, plain):
    result = method(Dual(A, TA))
    assert type(result) is Dual
    np.testing.assert_allclose(result.value, plain(A), rtol=RTOL)
    np.testing.assert_allclose(result.tangent, plain(TA), rtol=1e-13, atol=1e-15)
    assert np.shape(result.tangent) == np.shape(plain(A))
    batched = assert_batched(method, Dual(A, TA_BATCH))
    for k in range(2):
        np.testing.assert_allclose(batched.tangent[k], plain(TA_BATCH[k]), rtol=1e-13, atol=1e-15)


def test_dot_between_duals():
    x, y = Dual(A, TA), Dual(A[0], TA[0])
    z = x.dot(y)
    np.testing.assert_allclose(z.value, A @ A[0])
    np.testing.assert_allclose(z.tangent, TA @ A[0] + A @ TA[0])
    s = Dual(A[0], TA[0]).dot(Dual(A[1], TA[1]))
    assert s.shape == ()
    np.testing.assert_allclose(s.tangent, TA[0] @ A[1] + A[0] @ TA[1])


M = RNG.normal(size=(4, 2))


def test_matmul_dual_and_array_both_ways():
    x = Dual(A, TA)
    right = x @ M
    assert_dual(right, A @ M, TA @ M, rtol=1e-13)
    left = M.T @ x.T
    assert_dual(left, M.T @ A.T, M.T @ TA.T, rtol=1e-13)
    vector = Dual(A[0], TA[0])
    assert_dual(A @ vector, A @ A[0], A @ TA[0], rtol=1e-13)
    assert_dual(vector @ M, A[0] @ M, TA[0] @ M, rtol=1e-13)
    inner = vector @ A[1]
    assert inner.shape == ()
    np.testing.assert_allclose(inner.tangent, TA[0] @ A[1])


def test_matmul_between_duals():
    x, y = Dual(A, TA), Dual(M, RNG.normal(size=M.shape))
    z = x @ y
    assert_dual(z, A @ M, TA @ M + A @ y.tangent, rtol=1e-13)
    v = Dual(A[0], TA[0])
    w = v @ v
    assert w.shape == ()
    np.testing.assert_allclose(w.tangent, 2 * A[0] @ TA[0])
    acc = np.copy(x)
    acc @= Dual(np.eye(4), np.zeros((4, 4)))
    assert_dual(acc, A, TA)
    with pytest.raises(ValueError, match="mismatch in its core dimension"):  # NumPy's a @= b
        acc @= Dual(np.ones((4, 2)))


def test_matmul_with_batched_tangents():
    batched = Dual(A, TA_BATCH)
    assert_batched(lambda d: d @ M, batched)
    assert_batched(lambda d: M.T @ d.T, batched)
    assert_batched(lambda d: d @ A[0], batched)
    assert_batched(lambda d: A[0] @ d.T, batched)
    assert_batched(lambda d, e: d @ e.T, batched, Dual(A, TA_BATCH[::-1]))
    vector = Dual(A[0], TA_BATCH[:, 0])
    assert_batched(lambda v: v @ v, vector)
    assert_batched(lambda v: A @ v, vector)
    stack = Dual(CUBE, TCUBE_BATCH)
    assert_batched(lambda c: c @ CUBE[0].T, stack)
    assert_batched(lambda c: A @ c, stack)


def test_ufuncs_on_arrays_keep_shapes():
    x = Dual(A, TA)
    for ufunc in (np.sin, np.exp, np.tanh, np.square, np.abs):
        y = ufunc(x)
        assert np.shape(y.tangent) == (3, 4)
    np.testing.assert_allclose(np.exp(x).tangent, np.exp(A) * TA, rtol=RTOL)
    z = np.maximum(x, 0.0)
    np.testing.assert_allclose(z.tangent, np.where(A > 0, TA, 0.0))


def test_boolean_ufuncs_return_plain_arrays():
    x = Dual(A, TA)
    result = np.isnan(x)
    assert type(result) is np.ndarray and not result.any()
    assert type(np.logical_and(x > 0, x < 1)) is np.ndarray


# --- nested duals ------------------------------------------------------------------------------
# outer = (a + da e1) + (ta + dta e1) e2, with tag(e1) < tag(e2).


def nested(a, da, ta, dta):
    inner = new_tag()
    outer = new_tag()
    return Dual(Dual(a, da, tag=inner), Dual(ta, dta, tag=inner), tag=outer), inner, outer


def assert_nested(result, inner, outer, value, d_value, tangent, d_tangent):
    assert type(result) is Dual and result.tag == outer
    assert type(result.value) is Dual and result.value.tag == inner
    assert type(result.tangent) is Dual and result.tangent.tag == inner
    np.testing.assert_allclose(
        [result.value.value, result.value.tangent, result.tangent.value, result.tangent.tangent],
        [value, d_value, tangent, d_tangent],
        rtol=1e-14,
    )


def test_nested_construction_orders_tags():
    x, inner, outer = nested(1.5, 0.5, 2.0, -1.0)
    assert outer > inner > USER_TAG
    assert x.shape == () and (x > 1.0) is True and type(x == 1.5) is bool


def test_nested_multiplication():
    a, da, ta, dta = 1.5, 0.5, 2.0, -1.0
    x, inner, outer = nested(a, da, ta, dta)
    # x * x: value (a + da e1)^2, tangent 2 (a + da e1)(ta + dta e1)
    assert_nested(x * x, inner, outer, a * a, 2 * a * da, 2 * a * ta, 2 * (da * ta + a * dta))
    assert_nested(x**2, inner, outer, a * a, 2 * a * da, 2 * a * ta, 2 * (da * ta + a * dta))
    assert_nested(3.0 * x, inner, outer, 3 * a, 3 * da, 3 * ta, 3 * dta)
    assert_nested(x - 1.0, inner, outer, a - 1, da, ta, dta)


def test_nested_unary_functions():
    a, da, ta, dta = 0.7, 0.5, 2.0, -1.0
    x, inner, outer = nested(a, da, ta, dta)
    s = np.sin(x)
    # sin(x): value sin(a) + cos(a) da e1; tangent cos(a + da e1) (ta + dta e1)
    assert_nested(s, inner, outer, math.sin(a), math.cos(a) * da, math.cos(a) * ta,
                  math.cos(a) * dta - math.sin(a) * da * ta)
    e = np.exp(x)
    assert_nested(e, inner, outer, math.exp(a), math.exp(a) * da, math.exp(a) * ta,
                  math.exp(a) * (dta + da * ta))
    r = 1 / x
    assert_nested(r, inner, outer, 1 / a, -da / a**2, -ta / a**2,
                  -dta / a**2 + 2 * da * ta / a**3)


def test_nested_dual_meets_an_older_dual_as_a_constant():
    a, da, ta, dta = 1.5, 0.5, 2.0, -1.0
    b, db = 0.8, 3.0
    x, inner, outer = nested(a, da, ta, dta)
    y = Dual(b, db, tag=inner)
    # y is constant to the outer tag: (a + da e1)(b + db e1) + (ta + dta e1)(b + db e1) e2
    expected = (a * b, a * db + b * da, ta * b, ta * db + dta * b)
    assert_nested(x * y, inner, outer, *expected)
    assert_nested(y * x, inner, outer, *expected)
    assert_nested(x + y, inner, outer, a + b, da + db, ta, dta)
    assert_nested(y - x, inner, outer, b - a, db - da, -ta, -dta)
    # a user-tagged dual is older than both
    user = Dual(b, db)
    product = x * user
    assert product.tag == outer
    assert type(product.value) is Dual and product.value.tag == inner


def test_nested_arrays():
    a = np.array([0.5, 1.5])
    inner, outer = new_tag(), new_tag()
    x = Dual(Dual(a, np.ones(2), tag=inner), Dual(np.array([1.0, 0.0]), np.zeros(2), tag=inner),
             tag=outer)
    y = np.sum(x * x)
    assert y.tag == outer and y.value.tag == inner
    np.testing.assert_allclose(y.value.value, np.sum(a * a))
    np.testing.assert_allclose(y.value.tangent, np.sum(2 * a))
    np.testing.assert_allclose(y.tangent.value, 2 * a[0])
    np.testing.assert_allclose(y.tangent.tangent, 2.0)


# --- complex values and truthiness ----------------------------------------------------------


def test_complex_values_follow_the_holomorphic_rules():
    z = 1 + 2j
    x = Dual(z, 1.0)
    assert_dual(x * x, z * z, 2 * z)
    assert_dual(x**2, z * z, 2 * z)
    assert_dual(np.exp(x), np.exp(z), np.exp(z))
    assert_dual(1 / x, 1 / z, -1 / z**2)
    arr = Dual(np.array([1 + 1j, 2.0]), np.ones(2))
    assert_dual(np.sin(arr), np.sin(arr.value), np.cos(arr.value))


def test_truthiness_follows_the_value():
    assert not Dual(0.0, 1.0)
    assert Dual(2.0, 0.0)
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Dual(np.ones(2), np.ones(2)))
