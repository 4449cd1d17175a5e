"""The public API: jvp, derivative, gradient, jacobian, hessian, hvp and value_and_*."""

import math

import numpy as np
import pytest

from dualdiff import (
    Dual,
    derivative,
    gradient,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_derivative,
    value_and_gradient,
    value_and_hessian,
    value_and_hvp,
    value_and_jacobian,
)
from dualdiff.tags import is_running, running_now
from dualdiff.testing import check_jvp

RNG = np.random.default_rng(0)


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_gradient(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hessian(x):
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        h[i, i + 1] = h[i + 1, i] = -400.0 * x[i]
        h[i + 1, i + 1] += 200.0
    return h


def system(v):
    """A small nonlinear system R^3 -> R^3."""
    x, y, z = v[0], v[1], v[2]
    return np.stack([x * x * y, 5.0 * x + np.sin(y), z * np.exp(x) - y * z])


def system_jacobian(v):
    x, y, z = v
    return np.array([
        [2 * x * y, x * x, 0.0],
        [5.0, np.cos(y), 0.0],
        [z * np.exp(x), -z, np.exp(x) - y],
    ])


# --- jvp -------------------------------------------------------------------------------------


def test_jvp_scalar_output():
    out, tangent = jvp(lambda x: x**2, (3.0,), (1.0,))
    assert out == 9.0 and tangent == 6.0
    assert type(out) is float and type(tangent) is float
    out, tangent = jvp(lambda x, y: x * np.sin(y), (2.0, 0.5), (1.0, -1.0))
    assert out == pytest.approx(2.0 * math.sin(0.5))
    assert tangent == pytest.approx(math.sin(0.5) - 2.0 * math.cos(0.5))


def test_jvp_array_output():
    x, v = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    out, tangent = jvp(np.sin, (x,), (v,))
    assert isinstance(out, np.ndarray) and out.shape == (2, 3)
    assert isinstance(tangent, np.ndarray) and tangent.shape == (2, 3)
    np.testing.assert_allclose(out, np.sin(x), rtol=1e-15)
    np.testing.assert_allclose(tangent, np.cos(x) * v, rtol=1e-15)


def test_jvp_tuple_and_list_outputs():
    out, tangent = jvp(lambda x, y: (x * y, x + y), (2.0, 3.0), (1.0, 0.0))
    assert type(out) is tuple and type(tangent) is tuple
    assert out == (6.0, 5.0) and tangent == (3.0, 1.0)
    x = np.array([1.0, 2.0])
    out, tangent = jvp(lambda a: [a**2, np.sum(a)], (x,), (np.array([1.0, -1.0]),))
    assert type(out) is list and type(tangent) is list
    np.testing.assert_allclose(out[0], x**2)
    np.testing.assert_allclose(tangent[0], [2.0, -4.0])
    assert out[1] == 3.0 and tangent[1] == 0.0


def test_jvp_constant_outputs_have_zero_tangents():
    out, tangent = jvp(lambda x: (np.ones(3), 2.0), (1.0,), (1.0,))
    np.testing.assert_array_equal(out[0], np.ones(3))
    np.testing.assert_array_equal(tangent[0], np.zeros(3))
    assert out[1] == 2.0 and tangent[1] == 0.0
    out, tangent = jvp(lambda x: np.ones(3), (1.0,), (np.array([1.0, 2.0]),))
    assert tangent.shape == (2, 3) and not tangent.any()


def test_jvp_tangents_may_be_lists_and_primals_ints():
    out, tangent = jvp(lambda x: x * x, [3], [1])
    assert out == 9.0 and tangent == 6.0 and type(out) is float


@pytest.mark.parametrize("k", [1, 3])
def test_jvp_batched_equals_separate_jvps(k):
    def f(x, s):
        return np.tanh(x) * s, np.sum(x**2) + s, x[:, 0] * x[:, 1]

    x = RNG.normal(size=(4, 2))
    s = 0.7
    vx, vs = RNG.normal(size=(k, 4, 2)), RNG.normal(size=k)
    out, tangent = jvp(f, (x, s), (vx, vs))
    assert type(tangent) is tuple
    assert tangent[0].shape == (k, 4, 2)
    assert np.shape(tangent[1]) == (k,)
    assert tangent[2].shape == (k, 4)
    for i in range(k):
        out_i, tangent_i = jvp(f, (x, s), (vx[i], vs[i]))
        for a, b in zip(out, out_i, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-15)
        for a, b in zip(tangent, tangent_i, strict=True):
            np.testing.assert_allclose(np.asarray(a)[i], b, rtol=1e-13, atol=1e-15)


def test_jvp_batched_scalar_function():
    out, tangent = jvp(np.exp, (0.5,), (np.array([1.0, 2.0, -1.0]),))
    assert out == pytest.approx(math.exp(0.5))
    np.testing.assert_allclose(tangent, math.exp(0.5) * np.array([1.0, 2.0, -1.0]))


def test_jvp_matches_the_checker():
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    vx, vy = RNG.normal(size=3), RNG.normal(size=3)
    check_jvp(lambda a, b: (a @ b, np.tanh(a) * b), (x, y), (vx, vy))
    check_jvp(lambda a, b: (a @ b, np.tanh(a) * b), (x, y), (RNG.normal(size=(3, 3)),
                                                             RNG.normal(size=(3, 3))))
    check_jvp(rosenbrock, (x,), (vx,))
    check_jvp(system, (x,), (RNG.normal(size=(4, 3)),))
    check_jvp(lambda a: np.sum(np.exp(a) * np.sin(a)) / (1 + a @ a), (x,), (vx,))
    check_jvp(lambda a: np.log1p(a * a) ** 1.5 + np.sqrt(np.hypot(a, 2.0)), (x,), (vx,))


# --- derivative --------------------------------------------------------------------------------


def test_derivative_of_scalar_functions():
    assert derivative(np.sin, 0.0) == 1.0
    assert derivative(lambda x: x**3, 2.0) == 12.0
    assert derivative(lambda x: np.exp(2 * x), 0.0) == pytest.approx(2.0)
    assert type(derivative(np.cos, 1.0)) is float


def test_derivative_of_an_array_valued_function():
    def f(t):
        return np.stack([np.sin(t), t**2, 3.0 * t])

    d = derivative(f, 0.5)
    assert isinstance(d, np.ndarray) and d.shape == (3,)
    np.testing.assert_allclose(d, [math.cos(0.5), 1.0, 3.0], rtol=1e-15)
    d2 = derivative(lambda t: t * np.arange(6.0).reshape(2, 3), 2.0)
    np.testing.assert_array_equal(d2, np.arange(6.0).reshape(2, 3))


def test_integer_input_is_promoted_to_float():
    d = derivative(lambda x: x**2, 3)
    assert d == 6.0 and type(d) is float
    value, d = value_and_derivative(lambda x: x * x * x, 2)
    assert (value, d) == (8.0, 12.0) and type(value) is float and type(d) is float
    g = gradient(lambda x: np.sum(x**2), np.array([1, 2, 3]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [2.0, 4.0, 6.0])
    j = jacobian(lambda x: x * 2, [1, 2])
    assert j.dtype == np.float64
    np.testing.assert_array_equal(j, 2 * np.eye(2))


def test_float32_input_stays_float32():
    x = np.array([0.5, 1.0, 1.5], dtype=np.float32)
    value, g = value_and_gradient(lambda a: np.sum(np.sin(a) * a), x)
    assert g.dtype == np.float32 and np.result_type(value) == np.float32
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-6)
    for chunk in (None, 1, 2):
        j = jacobian(lambda a: a * a, x, chunk_size=chunk)
        assert j.dtype == np.float32 and j.shape == (3, 3)
        np.testing.assert_allclose(j, np.diag(2 * x), rtol=1e-6)
        assert gradient(lambda a: np.sum(a * a), x, chunk_size=chunk).dtype == np.float32
    assert hessian(lambda a: np.sum(a**3), x).dtype == np.float32


# --- gradient / jacobian shapes ----------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1,), (2, 2, 2)])
def test_gradient_shape_is_x_shape(shape):
    x = RNG.normal(size=shape)
    g = gradient(lambda a: np.sum(a**2 * np.arange(a.size).reshape(a.shape)), x)
    assert g.shape == shape
    np.testing.assert_allclose(g, 2 * x * np.arange(x.size).reshape(shape), rtol=1e-15)


def test_gradient_of_a_scalar_is_a_scalar():
    g = gradient(lambda a: a**3, 2.0)
    assert np.shape(g) == () and g == 12.0


@pytest.mark.parametrize(
    ("f", "x", "shape"),
    [
        pytest.param(lambda a: np.sin(a) * a[0], np.arange(1.0, 4.0), (3, 3), id="1d-to-1d"),
        pytest.param(lambda a: a[:2] * a[1:], np.arange(1.0, 4.0), (2, 3), id="1d-to-shorter-1d"),
        pytest.param(lambda a: np.sum(a**2, axis=0), np.ones((2, 3)), (3, 2, 3), id="2d-to-1d"),
        pytest.param(lambda a: np.sum(np.exp(a)), np.arange(4.0), (4,), id="1d-to-scalar"),
        pytest.param(lambda t: t * np.arange(1.0, 4.0), 2.0, (3,), id="scalar-to-1d"),
        pytest.param(lambda a: a.T @ a, np.ones((3, 2)), (2, 2, 3, 2), id="2d-to-2d"),
        pytest.param(lambda t: t**2, 3.0, (), id="scalar-to-scalar"),
        pytest.param(lambda a: a * 2.0, np.ones(1), (1, 1), id="size-one"),
    ],
)
def test_jacobian_shape(f, x, shape):
    out = f(x)
    j = jacobian(f, x)
    assert np.shape(j) == np.shape(out) + np.shape(x) == shape
    value, j2 = value_and_jacobian(f, x)
    np.testing.assert_array_equal(value, out)
    np.testing.assert_array_equal(j2, j)
    for chunk in (1, 2, 3, 100):
        np.testing.assert_array_equal(jacobian(f, x, chunk_size=chunk), j)


def test_jacobian_columns_are_jvps():
    x = RNG.normal(size=(2, 3))

    def f(a):
        return np.stack([np.sum(a * a), np.sum(np.sin(a)), a[1, 2] * a[0, 0]])

    j = jacobian(f, x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1.0
        _, column = jvp(f, (x,), (e,))
        np.testing.assert_allclose(j[(slice(None), *idx)], column, rtol=1e-15)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 10])
def test_chunk_sizes_give_identical_jacobians(n):
    x = RNG.normal(size=n)

    def f(a):
        return np.tanh(a) * np.sum(a**2) + a[::-1]

    default = jacobian(f, x)
    assert default.shape == (n, n)
    for chunk in (1, 3, n, n + 5):
        np.testing.assert_array_equal(jacobian(f, x, chunk_size=chunk), default)
    np.testing.assert_array_equal(jacobian(f, x, chunk_size=np.int64(2)), default)


def test_chunk_sizes_on_a_matrix_input():
    x = RNG.normal(size=(3, 4))
    default = jacobian(lambda a: a @ a.T, x)
    assert default.shape == (3, 3, 3, 4)
    for chunk in (1, 3, 5, 12):
        np.testing.assert_array_equal(jacobian(lambda a: a @ a.T, x, chunk_size=chunk), default)


# --- closed forms ------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [np.array([-1.2, 1.0]), np.array([0.3, -0.7, 1.9, 2.2])])
def test_rosenbrock_gradient(x):
    np.testing.assert_allclose(gradient(rosenbrock, x), rosenbrock_gradient(x), rtol=1e-13)
    np.testing.assert_allclose(gradient(rosenbrock, np.ones_like(x)), 0.0, atol=0)


def test_rosenbrock_hessian():
    x = np.array([0.3, -0.7, 1.9, 2.2])
    np.testing.assert_allclose(hessian(rosenbrock, x), rosenbrock_hessian(x), rtol=1e-13)


def test_nonlinear_system_jacobian():
    v = np.array([0.4, -1.1, 2.5])
    np.testing.assert_allclose(jacobian(system, v), system_jacobian(v), rtol=1e-14)
    for chunk in (1, 2):
        np.testing.assert_allclose(jacobian(system, v, chunk_size=chunk), system_jacobian(v),
                                   rtol=1e-14)


def test_quadratic_form_hessian():
    a = RNG.normal(size=(4, 4))
    x = RNG.normal(size=4)
    h = hessian(lambda y: y @ a @ y, x)
    np.testing.assert_allclose(h, a + a.T, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gradient(lambda y: y @ a @ y, x), (a + a.T) @ x, rtol=1e-13)


def test_hessian_shape_and_symmetry():
    x = RNG.normal(size=5)

    def f(y):
        return np.sum(np.sin(y) * y[::-1]) + np.exp(y[0] * y[3])

    h = hessian(f, x)
    assert h.shape == (5, 5)
    np.testing.assert_allclose(h, h.T, rtol=1e-13, atol=1e-14)
    x2 = RNG.normal(size=(2, 3))
    h2 = hessian(lambda y: np.sum(np.cos(y) * y[:, ::-1]) + np.sum(y) ** 3, x2)
    assert h2.shape == (2, 3, 2, 3)
    flat = h2.reshape(6, 6)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-13, atol=1e-14)


def test_hvp_equals_hessian_times_v():
    x, v = RNG.normal(size=4), RNG.normal(size=4)
    np.testing.assert_allclose(hvp(rosenbrock, x, v), hessian(rosenbrock, x) @ v, rtol=1e-13)
    x2, v2 = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))

    def f(y):
        return np.sum(np.tanh(y) * y.T.sum())

    product = hvp(f, x2, v2)
    assert product.shape == (2, 3)
    np.testing.assert_allclose(product, np.tensordot(hessian(f, x2), v2, axes=2), rtol=1e-12,
                               atol=1e-14)


def test_hvp_with_a_batch_of_vectors():
    x, vs = RNG.normal(size=3), RNG.normal(size=(4, 3))
    products = hvp(rosenbrock, x, vs)
    assert products.shape == (4, 3)
    np.testing.assert_allclose(products, vs @ hessian(rosenbrock, x).T, rtol=1e-13)


def test_value_and_functions_return_f_of_x():
    x = np.array([0.3, -0.7, 1.9])
    v = np.array([1.0, 0.5, -2.0])
    expected = rosenbrock(x)
    for value in (
        value_and_gradient(rosenbrock, x)[0],
        value_and_gradient(rosenbrock, x, chunk_size=1)[0],
        value_and_jacobian(rosenbrock, x)[0],
        value_and_hessian(rosenbrock, x)[0],
        value_and_hvp(rosenbrock, x, v)[0],
    ):
        assert type(value) is float
        assert value == expected
    value, d = value_and_derivative(np.sin, 0.3)
    assert value == math.sin(0.3) and type(value) is float
    assert d == math.cos(0.3)
    value, j = value_and_jacobian(system, x)
    np.testing.assert_array_equal(value, system(x))
    np.testing.assert_allclose(j, system_jacobian(x), rtol=1e-14)
    value, d = value_and_derivative(lambda t: t * np.arange(3.0), 2.0)
    np.testing.assert_array_equal(value, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(d, [0.0, 1.0, 2.0])


def test_value_and_results_match_the_plain_results():
    x, v = np.array([0.3, -0.7, 1.9]), np.array([1.0, 0.5, -2.0])
    np.testing.assert_array_equal(value_and_gradient(rosenbrock, x)[1], gradient(rosenbrock, x))
    np.testing.assert_array_equal(value_and_hessian(rosenbrock, x)[1], hessian(rosenbrock, x))
    np.testing.assert_array_equal(value_and_hvp(rosenbrock, x, v)[1], hvp(rosenbrock, x, v))
    np.testing.assert_array_equal(value_and_jacobian(system, x)[1], jacobian(system, x))


# --- nesting and perturbation confusion --------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, 0.7, -2.3])
def test_third_derivative_of_sin(x):
    third = derivative(lambda a: derivative(lambda b: derivative(np.sin, b), a), x)
    assert third == pytest.approx(-math.cos(x), rel=1e-15, abs=1e-16)
    fourth = derivative(lambda a: derivative(lambda b: derivative(lambda c: derivative(
        np.sin, c), b), a), x)
    assert fourth == pytest.approx(math.sin(x), rel=1e-15, abs=1e-16)


def test_perturbation_confusion():
    assert derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0) == 1.0
    assert derivative(lambda x: derivative(lambda y: x * y, 2.0) * x, 3.0) == 6.0
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x
    assert derivative(lambda x: x * derivative(lambda y: x * y, 5.0), 3.0) == 6.0
    # d/dx d/dy (x y^2) at y = 2: d/dx 4x = 4
    assert derivative(lambda x: derivative(lambda y: x * y * y, 2.0), 1.5) == 4.0


def test_perturbation_confusion_across_verbs():
    # d/dx gradient_y(sum(x * y)) = d/dx sum(x) over the components = len(y)
    y0 = np.array([1.0, 2.0, 3.0])
    d = derivative(lambda x: np.sum(gradient(lambda y: np.sum(x * y), y0)), 2.0)
    assert d == 3.0
    # gradient of x -> x . jvp(y -> x * y) uses the outer x as a constant inside
    x0 = np.array([1.0, -2.0])
    g = gradient(lambda x: x @ jvp(lambda y: x * y, (x0,), (np.ones(2),))[1], x0)
    np.testing.assert_allclose(g, 2 * x0)


def test_hessian_by_nesting_equals_the_closed_form():
    x = np.array([0.3, -0.7, 1.9, 2.2])
    nested = jacobian(lambda y: gradient(rosenbrock, y), x)
    np.testing.assert_allclose(nested, rosenbrock_hessian(x), rtol=1e-13)
    np.testing.assert_allclose(nested, hessian(rosenbrock, x), rtol=1e-15)
    a = RNG.normal(size=(3, 3))
    x = RNG.normal(size=3)
    nested = jacobian(lambda y: jacobian(lambda z: z @ a @ z, y), x)
    np.testing.assert_allclose(nested, a + a.T, rtol=1e-13, atol=1e-14)


def test_second_derivative_by_nesting():
    def f(x):
        return x**3 * np.exp(x)

    second = derivative(lambda x: derivative(f, x), 0.8)
    assert second == pytest.approx(np.exp(0.8) * (6 * 0.8 + 6 * 0.8**2 + 0.8**3), rel=1e-14)
    value, slope = value_and_derivative(lambda x: derivative(f, x), 0.8)
    assert value == pytest.approx(np.exp(0.8) * (3 * 0.8**2 + 0.8**3), rel=1e-14)
    assert slope == second


def test_hessian_of_nested_function_with_jvp_inside():
    x = np.array([0.5, 1.5])

    def f(y):
        return jvp(lambda z: np.sum(z**3), (y,), (np.ones(2),))[1]  # sum 3 y^2

    np.testing.assert_allclose(hessian(f, x), np.diag([6.0, 6.0]), rtol=1e-15)


def test_escaped_perturbation_is_reported():
    def leak(x):
        inner = []
        derivative(lambda y: inner.append(y) or y, 1.0)
        return inner[0] * x

    with pytest.raises(TypeError, match="has finished"):
        derivative(leak, 2.0)


def test_a_stale_dual_from_a_finished_call_is_refused():
    kept = []
    derivative(lambda y: kept.append(y) or y, 1.0)
    with pytest.raises(TypeError, match="has finished"):
        derivative(lambda x: x * kept[0], 2.0)
    with pytest.raises(TypeError, match="has finished"):
        gradient(lambda x: np.sum(x) * kept[0], np.ones(3))
    # built by hand, a Dual has the user's tag: a constant whose tangent travels one level down
    assert str(derivative(lambda x: x * Dual(2.0, 1.0), 3.0)) == "2.0 + 1.0ε"



def test_a_derivative_at_a_float_marks_its_tag_only_while_f_runs():
    # the float point's own marking (tags.begin/end): running inside f, and not after f
    # returns or raises, so a Dual kept from it is refused as stale
    seen, kept = [], []

    def f(x):
        seen.append(is_running(x.tag))
        kept.append(x)
        raise ZeroDivisionError

    before = running_now()
    with pytest.raises(ZeroDivisionError):
        derivative(f, 0.5)
    assert seen == [True]
    assert running_now() == before and not is_running(kept[0].tag)
    with pytest.raises(TypeError, match="has finished"):
        derivative(lambda x: x * kept[0], 2.0)

# --- errors ------------------------------------------------------------------------------------


def test_derivative_of_an_array_suggests_gradient_or_jacobian():
    with pytest.raises(TypeError, match="gradient") as caught:
        derivative(np.sin, np.array([1.0, 2.0]))
    assert "jacobian" in str(caught.value)
    with pytest.raises(TypeError, match="gradient"):
        value_and_derivative(np.sin, [1.0, 2.0])


def test_gradient_of_a_vector_function_suggests_jacobian():
    with pytest.raises(TypeError, match="jacobian"):
        gradient(lambda x: x**2, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="jacobian"):
        value_and_gradient(lambda x: x * 2.0, np.array([1.0, 2.0]), chunk_size=1)
    with pytest.raises(TypeError, match="jacobian"):
        hessian(lambda x: x**2, np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="jacobian"):
        hvp(lambda x: x**2, np.array([1.0, 2.0]), np.ones(2))


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: derivative(1.0, np.sin), id="derivative"),
        pytest.param(lambda: gradient(np.ones(2), np.sum), id="gradient"),
        pytest.param(lambda: jacobian(np.ones(2), np.sin), id="jacobian"),
        pytest.param(lambda: hessian(np.ones(2), np.sum), id="hessian"),
        pytest.param(lambda: hvp(np.ones(2), np.sum, np.ones(2)), id="hvp"),
        pytest.param(lambda: jvp((1.0,), np.sin, (1.0,)), id="jvp"),
        pytest.param(lambda: value_and_derivative(2.0, np.sin), id="value_and_derivative"),
    ],
)
def test_swapped_arguments_raise(call):
    with pytest.raises(TypeError, match="swapped"):
        call()


def test_jvp_needs_tuples():
    with pytest.raises(TypeError, match="tuple"):
        jvp(np.sin, 1.0, 1.0)
    with pytest.raises(TypeError, match="tuple"):
        jvp(np.sin, np.array([1.0]), np.array([1.0]))
    with pytest.raises(TypeError, match="tuple"):
        jvp(np.sin, (1.0,), 1.0)


def test_jvp_mismatched_lengths():
    with pytest.raises(ValueError, match="1 primals but 2 tangents"):
        jvp(np.sin, (1.0,), (1.0, 2.0))
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        jvp(lambda a, b: a * b, (1.0, 2.0), (1.0,))


def test_jvp_tangent_of_the_wrong_shape():
    with pytest.raises(ValueError, match="tangent"):
        jvp(np.sin, (np.ones(2),), (np.ones(3),))


def test_jvp_inconsistent_batches():
    with pytest.raises(ValueError, match="same batch"):
        jvp(lambda a, b: a * b, (np.ones(2), np.ones(2)), (np.ones((3, 2)), np.ones((4, 2))))


STACKED_OUTPUTS = {
    "ode right-hand side": (lambda y: [y[1], -y[0]], lambda y: np.stack([y[1], -y[0]])),
    "tuple with constants": (lambda y: (y[1], 2.0, np.sin(y[0]), 0),
                             lambda y: np.stack([y[1], y[0] * 0 + 2.0, np.sin(y[0]), y[0] * 0])),
    "nested lists": (lambda y: [[y[0], y[1]], [y[0] * y[1], 1.5]],
                     lambda y: np.stack([np.stack([y[0], y[1]]),
                                         np.stack([y[0] * y[1], y[0] * 0 + 1.5])])),
    "arrays of one shape": (lambda y: (y, y**2), lambda y: np.stack([y, y**2])),
    "no dual at all": (lambda y: [1.0, 2.0], lambda y: np.stack([y[0] * 0 + 1.0, y[0] * 0 + 2.0])),
}


@pytest.mark.parametrize("chunk_size", [None, 1])
@pytest.mark.parametrize("case", STACKED_OUTPUTS)
def test_jacobian_stacks_list_and_tuple_outputs_as_np_array(case, chunk_size):
    listed, stacked = STACKED_OUTPUTS[case]
    y = np.array([1.0, 3.0])
    value, jac = value_and_jacobian(listed, y, chunk_size=chunk_size)
    want_value, want_jac = value_and_jacobian(stacked, y, chunk_size=chunk_size)
    np.testing.assert_array_equal(value, np.array(listed(y)))
    np.testing.assert_array_equal(value, want_value)
    np.testing.assert_array_equal(jac, want_jac)
    assert jac.shape == np.shape(np.array(listed(y))) + y.shape


def test_jacobian_of_a_list_inside_another_derivative():
    y = np.array([1.0, 3.0])
    outer = derivative(lambda a: jacobian(lambda y: [a * y[1], -y[0] * a**2], y), 2.0)
    np.testing.assert_array_equal(outer, [[0.0, 1.0], [-4.0, 0.0]])


def test_jacobian_of_a_ragged_list_raises_value_error():
    with pytest.raises(ValueError, match="different shapes"):
        jacobian(lambda x: [x, x[0]], np.ones(2))
    with pytest.raises(ValueError, match="different shapes"):
        jacobian(lambda x: [[x[0], x[1]], [x[0]]], np.ones(2), chunk_size=1)
    with pytest.raises(TypeError, match="holding str"):
        jacobian(lambda x: [x[0], "a"], np.ones(2))


@pytest.mark.parametrize("chunk", [0, -1, 1.5, "2"])
def test_invalid_chunk_size(chunk):
    with pytest.raises(ValueError, match="chunk_size"):
        jacobian(np.sin, np.ones(3), chunk_size=chunk)
    with pytest.raises(ValueError, match="chunk_size"):
        gradient(np.sum, np.ones(3), chunk_size=chunk)


def test_non_numeric_output_is_reported():
    with pytest.raises(TypeError, match="must return numbers"):
        derivative(lambda x: "a", 1.0)
    with pytest.raises(TypeError, match="must return numbers"):
        jvp(lambda x: None, (1.0,), (1.0,))


def test_api_results_are_plain():
    x = np.array([1.0, 2.0])
    for result in (
        derivative(np.sin, 1.0),
        gradient(np.sum, x),
        jacobian(np.sin, x),
        hessian(lambda y: np.sum(y**3), x),
        hvp(lambda y: np.sum(y**3), x, x),
        jvp(np.sin, (x,), (x,))[1],
        jvp(np.sin, (x,), (x,))[0],
    ):
        assert not isinstance(result, Dual)
        assert isinstance(result, float | np.ndarray)


def test_nesting_batched_and_unbatched_calls():
    x0 = np.array([0.3, -1.2, 2.0])
    a = np.arange(9.0).reshape(3, 3) / 5
    t0 = 0.5
    # outer jacobian (a batch of tangents) around an inner derivative (one tangent)
    j = jacobian(lambda x: derivative(lambda t: np.sin(t * x), t0), x0)
    np.testing.assert_allclose(j, np.diag(np.cos(t0 * x0) - t0 * x0 * np.sin(t0 * x0)),
                               rtol=1e-14, atol=1e-15)
    # outer derivative around an inner jacobian with broadcasting of different ranks
    d = derivative(lambda s: np.sum(jacobian(lambda x: s * x[:, None] * x[None, :], x0)), 2.0)
    assert d == pytest.approx(2 * 3 * np.sum(x0), rel=1e-14)
    # matmul with the live operand on either side of an older one
    np.testing.assert_allclose(jacobian(lambda x: gradient(lambda y: y @ a @ x, x0), x0), a)
    np.testing.assert_allclose(jacobian(lambda x: gradient(lambda y: x @ a @ y, x0), x0), a.T)
    np.testing.assert_allclose(jacobian(lambda x: derivative(lambda t: a @ (t * x), 1.0), x0), a)
    # joins and selections mixing tags and constants
    assert derivative(lambda s: jacobian(lambda y: np.stack([y * s, y**2]), x0).sum(), 1.0) == 3
    assert derivative(
        lambda s: jacobian(lambda y: np.concatenate([y * s, np.ones(2)]), x0).sum(), 1.0) == 3
    assert derivative(
        lambda s: jacobian(lambda y: np.where(x0 > 0, y * s, 0.0), x0).sum(), 1.0) == 2
    assert derivative(lambda s: jacobian(lambda y: np.where(x0 > 0, s, y), x0).sum(), 1.0) == 0


def test_user_duals_are_constants_to_derivative_calls():
    c = Dual(2.0, 1.0)  # a user dual: older than every derivative call
    d = derivative(lambda x: x * c, 3.0)
    assert type(d) is Dual
    assert d.value == 2.0 and d.tangent == 1.0
    out, tangent = jvp(lambda x: x * x, (c,), (1.0,))
    assert type(out) is Dual and out.value == 4.0 and out.tangent == 4.0
    assert tangent.value == 4.0 and tangent.tangent == 2.0


@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_jacobian_of_an_empty_input(chunk):
    j = jacobian(lambda x: x * 2.0, np.ones(0), chunk_size=chunk)
    assert j.shape == (0, 0)
    g = gradient(lambda x: np.sum(x) + 1.0, np.ones(0), chunk_size=chunk)
    assert g.shape == (0,)
    j = jacobian(lambda x: np.sum(x, axis=1), np.ones((2, 0)), chunk_size=chunk)
    assert j.shape == (2, 2, 0)
