"""Duals over Dask arrays (dualdiff.dask_arrays): lazy, and the NumPy JVP's numbers."""

import importlib
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import dualdiff as dd

dask = pytest.importorskip("dask", reason="needs the dask extra")
da = pytest.importorskip("dask.array", reason="needs the dask extra")
from dask.callbacks import Callback  # noqa: E402

from dualdiff import dask_arrays  # noqa: E402

M = np.arange(8.0).reshape(4, 2) / 7


class Computes(Callback):
    """Counts the computes Dask's local schedulers start."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def _start(self, dsk):
        self.count += 1


FUNCTIONS = {
    "elementwise": lambda x: (np.sin(x) * np.exp(-(x**2) / 3) + np.log(1 + x**2)
                              / (1 + np.cos(x) ** 2) + np.sqrt(x + 2) * np.tanh(x)),
    "sum over an axis": lambda x: np.sum(x**2, axis=0),
    "mean": lambda x: x.mean(),
    "std": lambda x: np.std(x, axis=1),
    "var, keepdims": lambda x: np.var(x, axis=0, keepdims=True),
    "max": np.max,
    "min over an axis": lambda x: np.min(x, axis=1),
    "prod": lambda x: np.prod(x, axis=0),
    "cumsum": lambda x: np.cumsum(x, axis=0),
    "slicing": lambda x: x[1:5, ::2] * x[0, 1::2],
    "fancy index": lambda x: x[[0, 2]],
    "concatenate": lambda x: np.concatenate([x, 2 * x[:2], np.ones((1, 4))], axis=0),
    "stack": lambda x: np.stack([x, np.sin(x)], axis=-1),
    "reshape, ravel": lambda x: x.reshape(2, 3, 4).ravel()[3:9],
    "transpose": lambda x: np.transpose(x)[1:] @ x,
    "matmul by a constant": lambda x: x @ M,
    "norm": np.linalg.norm,
    "where": lambda x: np.where(x > 1, x, 2 * x),
    "softmax": lambda x: np.exp(x) / np.sum(np.exp(x)),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x, t = rng.uniform(0.5, 1.5, (6, 4)), rng.standard_normal((6, 4))
    return x, t, da.from_array(x, chunks=(3, 2)), da.from_array(t, chunks=(3, 2))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_the_jvp_is_lazy_and_matches_numpys(data, name):
    f = FUNCTIONS[name]
    x, t, lazy_x, lazy_t = data
    with Computes() as computes:
        out, slope = dd.jvp(f, (lazy_x,), (lazy_t,))
        assert computes.count == 0, "the JVP computed before the user asked"
        assert isinstance(out, da.Array)
        assert isinstance(slope, da.Array)
        out, slope = dask.compute(out, slope)
        assert computes.count == 1
    expected_out, expected_slope = dd.jvp(f, (x,), (t,))
    np.testing.assert_allclose(out, expected_out, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(slope, expected_slope, rtol=1e-13, atol=1e-13)


def test_elementwise_values_are_numpys_bit_for_bit(data):
    x, t, lazy_x, lazy_t = data
    f = FUNCTIONS["elementwise"]
    out, slope = dask.compute(*dd.jvp(f, (lazy_x,), (lazy_t,)))
    expected_out, expected_slope = dd.jvp(f, (x,), (t,))
    assert np.array_equal(out, expected_out)
    assert np.array_equal(slope, expected_slope)


def test_a_batch_of_directions(data):
    x, _, lazy_x, _ = data
    directions = np.random.default_rng(8).standard_normal((3, 6, 4))
    f = lambda x: np.sum(np.tanh(x) * x[::-1], axis=1)  # noqa: E731
    _, slope = dd.jvp(f, (lazy_x,), (da.from_array(directions, chunks=(3, 3, 2)),))
    assert isinstance(slope, da.Array)
    np.testing.assert_allclose(slope.compute(), dd.jvp(f, (x,), (directions,))[1],
                               rtol=1e-13, atol=1e-13)


def test_gradient_and_hessian_of_a_few_parameters_over_dask_data():
    rng = np.random.default_rng(9)
    features = rng.standard_normal(4000)
    targets = 2.0 * features + 1.0 + 0.1 * rng.standard_normal(4000)
    lazy_features = da.from_array(features, chunks=1000)
    lazy_targets = da.from_array(targets, chunks=1000)

    def loss(p, a, b):
        return np.mean((p[0] * a + p[1] - b) ** 2)

    p = np.array([1.5, 0.5])
    with Computes() as computes:
        value, grad = dd.value_and_gradient(lambda p: loss(p, lazy_features, lazy_targets), p)
        hess = dd.hessian(lambda p: loss(p, lazy_features, lazy_targets), p)
        assert computes.count == 0
        value, grad, hess = dask.compute(value, grad, hess)
    serial = dd.value_and_gradient(lambda p: loss(p, features, targets), p)
    np.testing.assert_allclose(value, serial[0], rtol=1e-13)
    np.testing.assert_allclose(grad, serial[1], rtol=1e-13)
    np.testing.assert_allclose(hess, dd.hessian(lambda p: loss(p, features, targets), p),
                               rtol=1e-13)


def test_what_cannot_stay_lazy_raises_instead_of_computing(data):
    _, _, lazy_x, lazy_t = data

    def branches(x):
        return x if np.sum(x) > 0 else -x  # bool() of a lazy sum

    with Computes() as computes:
        with pytest.raises(TypeError, match="asked Dask to compute an array"):
            dd.jvp(branches, (lazy_x,), (lazy_t,))
        with pytest.raises(TypeError, match="asked Dask to compute"):
            dd.jvp(lambda x: np.asarray(x.value) * x, (lazy_x,), (lazy_t,))
        assert computes.count == 0

    def writes(x):
        y = x * 1.0
        y[0] = 1.0
        return y

    with pytest.raises(TypeError, match="Dask arrays does not support item assignment"):
        dd.jvp(writes, (lazy_x,), (lazy_t,))
    with pytest.raises(TypeError, match="Dask does not implement them lazily"):
        dd.jvp(lambda x: np.reshape(x, (4, 6), order="F"), (lazy_x,), (lazy_t,))
    assert float(lazy_x.sum()) > 0  # computes are allowed again after the call


def test_integer_dask_arrays_become_float():
    _, slope = dd.jvp(lambda x: x * x, (da.arange(4, chunks=2),), (da.ones(4, chunks=2),))
    assert slope.dtype == np.float64
    assert np.array_equal(slope.compute(), 2.0 * np.arange(4))


def test_zeros_keep_the_value_chunks():
    value = da.ones((6, 4), chunks=(3, 2))
    zeros = dask_arrays.zeros(value, (5,), np.float64)
    assert zeros.chunks == ((5,), (3, 3), (2, 2))
    with Computes() as computes:
        out, slope = dd.jvp(lambda x: x * 2.0 + np.sum(value), (value,), (value,))
        assert computes.count == 0
    assert out.chunks == slope.chunks == value.chunks
    assert np.array_equal(slope.compute(), np.full((6, 4), 2.0))


def test_blocks_on_threads_put_the_scheduler_back():
    data = da.linspace(0.0, 1.0, 1000, chunks=100)
    loss = lambda p: np.sum(np.sin(p[0] * data) * p[1:, None] ** 2)  # noqa: E731
    p = np.array([1.0, 2.0, 3.0, 4.0])
    before = dask.config.get("scheduler", None)
    with ThreadPoolExecutor(2) as pool:
        grad = dd.gradient(loss, p, chunk_size=1, executor=pool)
    assert dask.config.get("scheduler", None) is before
    serial = dd.gradient(loss, p, chunk_size=1)
    np.testing.assert_allclose(grad.compute(), serial.compute(), rtol=1e-14)


def test_without_dask_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.array", None)
    monkeypatch.delitem(sys.modules, "dualdiff.dask_arrays")
    with pytest.raises(ImportError, match=r"pip install 'dualdiff\[dask\]'"):
        importlib.import_module("dualdiff.dask_arrays")
