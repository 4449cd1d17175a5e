"""The fast paths of dense Jacobians and Hessians never change a result.

- A matrix product with unit-vector tangents is a gather of rows (``rows_product``); it must
  equal NumPy's matrix product for every tangent it accepts, and refuse (take ``matmul``)
  whatever it cannot represent: two nonzeros in a row, an empty row, a non-finite matrix.
- A seed is judged by what it holds, so a function that writes into its argument, views it
  or scales it before the product gets the Jacobian of what it computes.
- Nothing keeps a seed alive once ``jacobian`` returns, and a Jacobian is assembled in one
  array however many chunks it takes.
- ``hessian(chunk_size=...)`` gives the same Hessian for every chunking, and the default
  bounds memory (Rosenbrock at n = 400 in a subprocess: peak RSS growth far below the
  O(n^3) of both levels at full batch).
"""

import gc
import subprocess
import sys
import textwrap
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import columns
from dualdiff.functions.products import GATHER_MIN_WORK, rows_product


def close(got, expected):
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0, equal_nan=True)


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(2, 70), n=st.integers(2, 70), p=st.integers(1, 40),
    kind=st.sampled_from(["unit", "scaled", "two in a row", "empty row", "dense"]),
    matrix=st.sampled_from(["finite", "inf", "nan"]),
    seed=st.integers(0, 2**16),
)
def test_rows_product_is_the_matrix_product(k, n, p, kind, matrix, seed):
    rng = np.random.default_rng(seed)
    t = np.zeros((k, n))
    cols = rng.integers(0, n, k)
    t[np.arange(k), cols] = 1.0 if kind == "unit" else rng.choice([-2.5, 0.5, 3.0, 1.0], k)
    if kind == "two in a row":
        t[rng.integers(0, k), (cols[0] + 1) % n] = 0.7
    elif kind == "empty row":
        t[rng.integers(0, k)] = 0.0
    elif kind == "dense":
        t = rng.standard_normal((k, n))
    m = rng.standard_normal((n, p))
    if matrix != "finite":
        m[rng.integers(0, n), rng.integers(0, p)] = np.inf if matrix == "inf" else np.nan
    with np.errstate(invalid="ignore"):  # 0 * inf in the matrix product
        for mat in (m, np.asfortranarray(m), m.T.copy().T):
            close(rows_product(t, mat), t @ mat)
            close(rows_product(t, mat, value=np.ones(n) @ mat), t @ mat)  # value: v @ m
            close(rows_product(t.astype(np.float32), mat), t.astype(np.float32) @ mat)
    if kind == "unit":
        with np.errstate(all="raise"):  # the checks never warn (a sum of m overflows here)
            big = np.full((n, p), 1e308)
            close(rows_product(t, big), t @ big)


def test_rows_product_gathers_where_it_should():
    # a seed-sized problem takes the gather: the result is fresh and C-ordered, not BLAS's
    n = 128
    assert n * n * n >= GATHER_MIN_WORK
    t = np.eye(n)[::-1] * 2.0
    m = np.arange(float(n * n)).reshape(n, n)
    for mat in (m, m.T.copy().T):  # C order, and A.T as A @ x meets it
        got = rows_product(t, mat)
        assert np.array_equal(got, 2.0 * mat[::-1])
        assert got.flags.c_contiguous and got.flags.writeable
        assert not np.may_share_memory(got, mat)
    seeds = np.zeros((50, n))
    seeds[np.arange(50), np.arange(30, 80)] = 1.0  # a chunk of seeds: consecutive columns
    assert np.array_equal(rows_product(seeds, m.T.copy().T), m[30:80])


def dense(a):
    return lambda x: np.tanh(a @ x) + x * np.sum(x**2)


def exact_dense_jacobian(a, x):
    s = 1 - np.tanh(a @ x) ** 2
    return s[:, None] * a + np.sum(x**2) * np.eye(len(x)) + 2 * np.outer(x, x)


@pytest.mark.parametrize("chunk_size", [None, 1, 7, 64])
def test_dense_jacobian_whatever_the_chunking(chunk_size):
    rng = np.random.default_rng(3)
    n = 64
    a, x = rng.standard_normal((n, n)) / 8, rng.standard_normal(n) / 8
    close(dd.jacobian(dense(a), x, chunk_size=chunk_size), exact_dense_jacobian(a, x))
    close(dd.jacobian(lambda v: v @ a, x, chunk_size=chunk_size), a.T)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 10**6))
def test_the_default_chunks_are_few_cache_sized_passes_within_the_seed_budget(n):
    chunk = columns.default_chunk_size(n)
    assert 1 <= chunk <= n
    assert chunk * n <= max(columns.SEED_BUDGET, n)  # memory: the seeds' budget
    if n * n <= columns.CACHE_BUDGET:
        assert chunk == n  # small: one pass
    elif chunk < columns.SEED_BUDGET // n:  # the budget does not bind: at most 8 passes
        assert -(-n // chunk) <= columns.MOST_PASSES
        # cache-sized chunks, or (when that takes more than 8 passes) the 8-pass chunk
        assert (chunk - 1) * n <= columns.CACHE_BUDGET or chunk == -(-n // columns.MOST_PASSES)


def test_a_jacobian_of_several_default_passes_is_the_one_pass_jacobian():
    rng = np.random.default_rng(5)
    n = 300
    assert -(-n // columns.default_chunk_size(n)) > 1  # the default takes several passes
    a, x = rng.standard_normal((n, n)) / 16, rng.standard_normal(n) / 16
    several = dd.jacobian(dense(a), x)
    close(several, dd.jacobian(dense(a), x, chunk_size=n))
    close(several, exact_dense_jacobian(a, x))
    assert several.shape == (n, n)


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("batch", [(), (5,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_a_full_sum_is_numpys_sum_of_value_and_tangents(shape, batch, keepdims):
    rng = np.random.default_rng(6)
    value, tangent = rng.standard_normal(shape), rng.standard_normal(batch + shape)
    tag = dd.tags.new_tag()
    with dd.tags.running(tag):
        got = np.sum(dd.Dual(value, tangent, tag=tag), keepdims=keepdims)
    assert np.array_equal(got.value, np.sum(value, keepdims=keepdims))
    assert type(got.value) is type(np.sum(value, keepdims=keepdims))
    axes = tuple(range(len(batch), len(batch) + len(shape)))
    assert np.array_equal(got.tangent, np.sum(tangent, axis=axes, keepdims=keepdims))


def test_a_seed_written_viewed_or_scaled_before_the_product():
    rng = np.random.default_rng(4)
    n = 80
    a, x0 = rng.standard_normal((n, n)), rng.standard_normal(n)

    def written(x):
        x[3] = 5.0 * x[7]  # the seed's row 3 now holds 5 * e_7 (a write into the tangent)
        x[10] = 2.0  # a constant: zero tangent
        return a @ x

    def viewed(x):
        return a[:, ::-1] @ x[::-1] + a[:, :40] @ x[:40]

    def scaled(x):
        y = -3.0 * x
        y[0] += x[1]  # two nonzeros in one row
        return a @ y

    for f in (written, viewed, scaled):
        batched = dd.jacobian(f, x0)
        close(batched, dd.jacobian(f, x0, chunk_size=1))  # unbatched: matmul, no gather
        close(batched, dd.jacobian(f, x0, chunk_size=13))
    jac = np.eye(n)
    jac[3] = 0.0
    jac[3, 7] = 5.0
    jac[10] = 0.0
    close(dd.jacobian(written, x0), a @ jac)


def test_no_seed_outlives_the_call(monkeypatch):
    seeds = []
    original = columns._seeds

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        seeds.append(weakref.ref(result[0]))
        return result

    monkeypatch.setattr(columns, "_seeds", recording)
    x = np.arange(1.0, 51.0)
    for chunk_size in (None, 9):
        results = [dd.jacobian(f, x, chunk_size=chunk_size)
                   for f in (lambda z: z[0], lambda z: z[::2], lambda z: z.reshape(5, 10)[1])]
        gc.collect()
        assert seeds and all(ref() is None for ref in seeds)
        assert np.array_equal(results[1], np.eye(50)[::2])
        seeds.clear()


def test_chunks_fill_one_jacobian_and_check_shapes():
    x = np.linspace(0.1, 1.0, 10)
    jac = dd.jacobian(lambda z: np.stack([z * z, np.sin(z)]), x, chunk_size=3)
    assert jac.shape == (2, 10, 10)
    close(jac, np.stack([np.diag(2 * x), np.diag(np.cos(x))]))
    calls = []

    def changing(z):
        calls.append(1)
        return z[: len(calls)]

    with pytest.raises(ValueError, match="one shape for every input"):
        dd.jacobian(changing, x, chunk_size=4)


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_hessian(x):
    n = len(x)
    h = np.zeros((n, n))
    i = np.arange(n - 1)
    h[i, i] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    h[i + 1, i + 1] += 200
    h[i, i + 1] = h[i + 1, i] = -400 * x[:-1]
    return h


@pytest.mark.parametrize("chunk_size", [None, 1, 4, 30])
def test_hessian_whatever_the_chunking(chunk_size):
    x = np.random.default_rng(5).uniform(-1, 1, 30)
    value, hess = dd.value_and_hessian(rosen, x, chunk_size=chunk_size)
    assert value == pytest.approx(rosen(x), rel=1e-14)
    close(hess, rosen_hessian(x))
    close(dd.hessian(rosen, x, chunk_size=chunk_size), rosen_hessian(x))
    with pytest.raises(ValueError, match="chunk_size must be a positive integer"):
        dd.hessian(rosen, x, chunk_size=0)


def test_the_default_hessian_chunks_keep_second_order_tangents_within_the_budget():
    for n in (1, 10, 100, 1000, 10**4):
        outer, inner = columns.default_hessian_chunk_size(n), columns.default_chunk_size(n)
        assert 1 <= outer <= n
        assert outer * inner * n <= max(columns.SEED_BUDGET, inner * n)


def test_hessian_memory_is_bounded():
    # Both levels at full batch would need (n, n, n) temporaries: 4 * 8 n^3 bytes = 2 GiB here.
    n = 400
    script = textwrap.dedent(f"""
        import resource, numpy as np, dualdiff as dd
        from tests.test_performance import rosen, rosen_hessian
        x = np.random.default_rng(6).uniform(-1, 1, {n})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        h = dd.hessian(rosen, x)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert np.allclose(h, rosen_hessian(x), rtol=1e-13, atol=0), "wrong Hessian"
        print(grown * 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                          "PATH": ""}, cwd=columns.__file__.rsplit("/", 2)[0])
    grown = int(out.stdout.split()[-1])
    assert grown < 400 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MiB"
