"""Jacobian columns on parallel engines (dualdiff.parallel): the serial answer, bit for bit."""

import multiprocessing
import pickle
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest

import dualdiff as dd
from dualdiff import parallel, tags

cloudpickle = pytest.importorskip("cloudpickle", reason="needs the parallel extra")
loky = pytest.importorskip("loky", reason="needs the parallel extra")
distributed = pytest.importorskip("distributed", reason="needs the dask extra")

SPAWN = multiprocessing.get_context("spawn")  # fork from a threaded test process is unsafe


@pytest.fixture(scope="module")
def processes():
    with ProcessPoolExecutor(2, mp_context=SPAWN) as pool:
        yield pool


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as local, \
            distributed.Client(local) as client:
        yield client


@pytest.fixture(scope="module")
def engines(processes, cluster):
    """Every kind of executor, started once for the module."""
    with ThreadPoolExecutor(2) as threads, loky.ProcessPoolExecutor(2) as loky_pool, \
            SPAWN.Pool(2) as pool:
        yield {
            "threads": threads,
            "processes": processes,
            "loky": loky_pool,
            "pool.map": pool.map,
            "dask client": cluster,
            "dask executor": cluster.get_executor(),
        }


ENGINES = ["threads", "processes", "loky", "pool.map", "dask client", "dask executor"]


def point(n=11):
    return np.random.default_rng(3).uniform(-1.0, 1.0, n)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_lambda_gives_the_serial_jacobian_bit_for_bit(engines, engine):
    weights = np.linspace(0.5, 2.0, 11)
    f = lambda x: np.tanh(np.cumsum(x * weights)) * np.sum(x**2) + np.sin(x)[::-1]  # noqa: E731
    x = point()
    for chunk_size in (None, 1, 4):
        value, jac = dd.value_and_jacobian(f, x, chunk_size=chunk_size,
                                         executor=engines[engine])
        serial_value, serial = dd.value_and_jacobian(f, x, chunk_size=chunk_size)
        assert np.array_equal(jac, serial)
        assert np.array_equal(value, serial_value)


@pytest.mark.parametrize("engine", ["processes", "dask client"])
def test_gradient_and_hessian_are_the_serial_ones(engines, engine):
    f = lambda x: np.sum(np.exp(x[:-1] * x[1:])) + x[0] ** 3  # noqa: E731
    x = point(6)
    executor = engines[engine]
    grad, serial_grad = dd.value_and_gradient(f, x, executor=executor), dd.value_and_gradient(f, x)
    assert grad[0] == serial_grad[0]
    assert np.array_equal(grad[1], serial_grad[1])
    value, hess = dd.value_and_hessian(f, x, chunk_size=2, executor=executor)
    serial_value, serial_hess = dd.value_and_hessian(f, x)
    assert value == serial_value
    assert type(value) is type(serial_value)
    assert np.array_equal(hess, serial_hess)
    assert dd.hessian(lambda s: s**4, 2.0, executor=executor) == dd.hessian(lambda s: s**4, 2.0)


def test_a_layout_that_is_not_c_order_travels_with_the_point(processes):
    x = np.random.default_rng(4).standard_normal((3, 4, 2)).transpose(2, 0, 1)
    f = lambda y: np.sum(y * y, axis=1) @ np.ones(4)  # noqa: E731  (reductions see the layout)
    assert np.array_equal(dd.jacobian(f, x, executor=processes), dd.jacobian(f, x))


def recording(pool_map, sizes):
    """A map-like callable that records how many bytes each task sends."""

    def record(func, items):
        items = list(items)
        sizes.extend(len(cloudpickle.dumps(item)) for item in items)
        return pool_map(func, items)

    return record


def test_a_large_captured_array_is_not_sent_with_each_task(engines):
    table = np.random.default_rng(5).standard_normal((1000, 1000))  # 8 MB in the closure

    def f(x):
        return np.tanh(table[: x.size, : x.size] @ x)

    x = point(12)
    sizes = []
    jac = dd.jacobian(f, x, chunk_size=2, executor=recording(engines["pool.map"], sizes))
    assert np.array_equal(jac, dd.jacobian(f, x, chunk_size=2))
    assert len(sizes) == 6
    assert max(sizes) < 10_000  # the 8 MB closure went once, by file, not in the tasks


def test_an_error_in_f_names_its_block_and_carries_the_workers_traceback(engines):
    def fails_on_column_four(x):
        if np.any(x.tangent[:, 4] != 0):
            raise ValueError("no column four here")
        return x * 2.0

    for engine in ("processes", "dask client", "pool.map", "threads"):
        with pytest.raises(ValueError, match="no column four here") as caught:
            dd.jacobian(fails_on_column_four, point(12), chunk_size=3, executor=engines[engine])
        notes = " ".join(getattr(caught.value, "__notes__", []))
        assert "seed block 2 of 4 (Jacobian columns 3 to 5, of 12)" in notes, engine
        cause = caught.value.__cause__
        assert isinstance(cause, parallel.WorkerTraceback)
        assert "fails_on_column_four" in cause.text
        assert "Traceback" in cause.text


def test_an_exception_that_cannot_be_pickled_becomes_a_worker_error(processes):
    def f(x):
        class LocalError(Exception):
            pass

        error = LocalError("a local exception class")
        error.lock = __import__("threading").Lock()  # unpicklable
        raise error

    with pytest.raises(parallel.WorkerError, match="seed block 1 of 2") as caught:
        dd.jacobian(f, point(3), executor=processes)
    assert "a local exception class" in str(caught.value)
    assert "Traceback" in caught.value.__cause__.text


def test_a_tuple_of_different_shapes_is_the_serial_error(processes):
    f = lambda x: (x, x[:2])  # noqa: E731
    with pytest.raises(ValueError, match="different shapes") as serial:
        dd.jacobian(f, point(4))
    with pytest.raises(ValueError, match="different shapes") as distributed_error:
        dd.jacobian(f, point(4), executor=processes)
    assert str(distributed_error.value) == str(serial.value)
    # a tuple of one shape is stacked, as the serial jacobian stacks it
    g = lambda x: (x[0] * x[1], x[1])  # noqa: E731
    assert np.array_equal(dd.jacobian(g, point(2), executor=processes),
                          dd.jacobian(g, point(2)))


@pytest.mark.parametrize("engine", ["processes", "dask client"])
def test_nested_derivatives_inside_f_on_a_worker(engines, engine):
    def f(x):
        assert tags.new_tag() > x.tag, "a worker's tag is older than the block's"
        inner = dd.derivative(lambda y: x[0] * y**2, 1.5)  # 3 x[0]: no perturbation confusion
        return x * inner

    x = point(5)
    jac = dd.jacobian(f, x, chunk_size=2, executor=engines[engine])
    assert np.array_equal(jac, dd.jacobian(f, x, chunk_size=2))
    expected = np.diag(np.full(5, 3.0 * x[0]))
    expected[:, 0] += 3.0 * x
    np.testing.assert_allclose(jac, expected, rtol=1e-15, atol=0)


def test_a_parallel_jacobian_inside_a_derivative(processes):
    # The outer derivative's Dual travels to the workers; its tag is marked running there.
    def outer(s):
        return dd.jacobian(lambda x: x * s * np.sum(x), np.array([1.0, 2.0]), executor=processes)

    expected = dd.derivative(
        lambda s: dd.jacobian(lambda x: x * s * np.sum(x), np.array([1.0, 2.0])), 0.5)
    assert np.array_equal(dd.derivative(outer, 0.5), expected)


def test_the_callers_tags_skip_the_workers_window(processes):
    before = tags.new_tag()
    dd.jacobian(lambda x: x * 2.0, point(4), chunk_size=2, executor=processes)
    assert tags.new_tag() > before + parallel.TAG_WINDOW


def test_errstate_and_nan_safe_reach_the_workers(processes):
    f = lambda x: 1.0 / (x - x[0])  # noqa: E731
    x = point(3)
    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        dd.jacobian(f, x, executor=processes)
    g = lambda x: np.sqrt(x * x)  # noqa: E731  (0 * inf at 0 in the unused directions)
    zero = np.zeros(2)
    with dd.nan_safe(), np.errstate(divide="ignore"):
        assert np.array_equal(dd.jacobian(g, zero, executor=processes), dd.jacobian(g, zero),
                              equal_nan=True)


def test_default_chunk_size_spreads_the_columns_over_the_workers(engines):
    assert parallel.worker_count(engines["processes"]) == 2
    assert parallel.worker_count(engines["dask client"]) == 2
    assert parallel.worker_count(engines["pool.map"]) == 2
    assert parallel.default_chunk_size(engines["loky"], 64) == 32
    assert parallel.default_chunk_size(engines["threads"], 1) == 1
    assert parallel.default_chunk_size(engines["threads"], 10**4) == 419  # the seeds' budget


def test_an_empty_point(processes):
    jac = dd.jacobian(lambda x: np.sum(x) + 1.0, np.zeros(0), executor=processes)
    assert jac.shape == (0,)


def test_not_an_executor_is_a_type_error():
    with pytest.raises(TypeError, match="map-like callable"):
        dd.jacobian(np.sin, point(3), executor=4)


def test_without_cloudpickle_the_error_names_the_extra(monkeypatch, processes):
    monkeypatch.setitem(sys.modules, "cloudpickle", None)
    with pytest.raises(ImportError, match=r"pip install 'dualdiff\[parallel\]'"):
        dd.jacobian(np.sin, point(3), executor=processes)


def test_failure_records_pickle_round_trip():
    try:
        raise KeyError("k")
    except KeyError as error:
        failure = parallel._Failure.of(error)
    assert isinstance(pickle.loads(failure.exception), KeyError)
    assert "KeyError" in failure.traceback


# --- sparse and prepared Jacobians and Hessians: colour blocks as tasks ------------------------


def banded(weights):
    """A closure over an array: a banded f whose Jacobian has 3 colours."""

    def f(x):
        y = weights * np.sin(x)
        y[1:] += x[:-1] * x[1:]
        y[:-1] += np.exp(x[1:])
        return y

    return f


def assert_same_csr(a, b):
    assert a.shape == b.shape
    assert np.array_equal(a.indptr, b.indptr)
    assert np.array_equal(a.indices, b.indices)
    assert np.array_equal(a.data, b.data)  # bit for bit


@pytest.mark.parametrize("engine", ["processes", "dask client"])
def test_a_sparse_jacobian_on_workers_is_the_serial_one_bit_for_bit(engines, engine):
    pytest.importorskip("scipy")
    x = point(20)
    f = banded(np.linspace(0.5, 2.0, 20))
    for chunk_size in (None, 1, 2):
        assert_same_csr(dd.jacobian(f, x, sparsity="auto", chunk_size=chunk_size,
                                    executor=engines[engine]),
                        dd.jacobian(f, x, sparsity="auto", chunk_size=chunk_size))
    lam = lambda z: np.cos(z) * z[::-1]  # noqa: E731  (anti-diagonal plus diagonal)
    assert_same_csr(dd.jacobian(lam, x, sparsity="auto", executor=engines[engine]),
                    dd.jacobian(lam, x, sparsity="auto"))


@pytest.mark.parametrize("engine", ["processes", "dask client"])
def test_a_prepared_jacobian_on_workers_is_the_serial_one(engines, engine):
    pytest.importorskip("scipy")
    x = point(20)
    f = banded(np.linspace(0.5, 2.0, 20))
    prepared = dd.sparse_jacobian(f, x, sparsity=dd.jacobian_sparsity(f, x))  # probed once
    value, jac = prepared.value_and_jacobian(x, executor=engines[engine])
    serial_value, serial = prepared.value_and_jacobian(x)
    assert np.array_equal(value, serial_value)
    assert_same_csr(jac, serial)
    y = x + 0.25
    assert_same_csr(prepared(y, executor=engines[engine]), prepared(y))


@pytest.mark.parametrize("engine", ["processes", "dask client"])
def test_a_sparse_hessian_on_workers_is_the_serial_one(engines, engine):
    pytest.importorskip("scipy")
    x = point(16)
    g = lambda z: np.sum(z[:-1] ** 2 * z[1:]) + np.sum(np.cos(z))  # noqa: E731
    assert_same_csr(dd.hessian(g, x, sparsity="auto", executor=engines[engine]),
                    dd.hessian(g, x, sparsity="auto"))
    terms = lambda z: z[:-1] ** 2 * z[1:] + np.cos(z[1:])  # noqa: E731
    prepared = dd.sparse_hessian(terms, x, scheme="terms")
    value, hess = prepared.value_and_hessian(x, executor=engines[engine])
    serial_value, serial = prepared.value_and_hessian(x)
    assert value == serial_value
    assert_same_csr(hess, serial)


def test_an_error_in_a_sparse_f_names_its_colour_block(engines):
    pytest.importorskip("scipy")
    f = banded(np.ones(12))
    x = point(12)
    pattern = dd.jacobian_sparsity(f, x)

    def fails_on_column_four(z):
        if np.any(z.tangent[:, 4] != 0):  # column 4 has colour 1 (the banded colouring cycles)
            raise ValueError("no column four here")
        return f(z)

    for engine in ("processes", "dask client"):
        with pytest.raises(ValueError, match="no column four here") as caught:
            dd.jacobian(fails_on_column_four, x, sparsity=pattern, chunk_size=1,
                        executor=engines[engine])
        notes = " ".join(getattr(caught.value, "__notes__", []))
        assert "seed block 2 of 3 (sparse Jacobian colour 1, of 3 colours)" in notes, engine
        assert "fails_on_column_four" in caught.value.__cause__.text
