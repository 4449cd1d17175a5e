"""Compressed sparse Jacobians equal dense ones; the prepared object and its errors."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.sparse.coloring import ORDERS, is_valid


def assert_matches_dense(jac, f, x, rtol=1e-14):
    """``jac`` is a csr_array equal to the dense Jacobian of ``f`` at ``x`` (relative to max)."""
    assert isinstance(jac, sp.csr_array)
    dense = np.reshape(dd.jacobian(f, x), jac.shape)
    scale = np.abs(dense).max(initial=0.0)
    np.testing.assert_allclose(jac.toarray(), dense, rtol=0, atol=rtol * max(scale, 1e-300))


def tridiagonal(x):
    y = -2 * x + np.sin(x)
    y[1:] += x[:-1]
    y[:-1] += x[1:]
    return y


def tridiagonal_concatenated(x):
    return -2 * x + np.sin(x) + np.concatenate([[0.0], x[:-1]]) + np.concatenate([x[1:], [0.0]])


def tridiagonal_rolled(x):
    y = np.cos(x) * x + np.roll(x, 1) + np.roll(x, -1)
    return y[1:-1]  # drop the wrap-around rows: (n - 2, n)


def laplacian_2d(u):
    side = math.isqrt(u.size)
    u2 = u.reshape(side, side)
    lap = -4 * u2
    lap[1:, :] += u2[:-1, :]
    lap[:-1, :] += u2[1:, :]
    lap[:, 1:] += u2[:, :-1]
    lap[:, :-1] += u2[:, 1:]
    return (lap + np.exp(u2)).reshape(-1)


def laplacian_by_pad(u):
    u2 = u.reshape(6, 6)
    padded = np.pad(u2, 1)
    lap = padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:] - 4 * u2
    return (lap + u2**3).reshape(-1)


def nine_point(u):
    u2 = u.reshape(6, 6)
    total = u2 * 1.0
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                rows = slice(max(di, 0), 6 + min(di, 0))
                cols = slice(max(dj, 0), 6 + min(dj, 0))
                back_rows = slice(max(-di, 0), 6 + min(-di, 0))
                back_cols = slice(max(-dj, 0), 6 + min(-dj, 0))
                total[back_rows, back_cols] += u2[rows, cols]
    return (total * u2).ravel()


def arrowhead(x):
    y = x**2 + x[0]
    y[0] = np.sum(x**3)
    return y


def block_diagonal(x):
    blocks = x.reshape(4, 3)
    return (np.sin(blocks) * blocks.sum(axis=1, keepdims=True)).ravel()


FUNCTIONS = {
    "tridiagonal in place": (tridiagonal, 12),
    "tridiagonal by concatenate": (tridiagonal_concatenated, 12),
    "tridiagonal by roll": (tridiagonal_rolled, 12),
    "5-point stencil": (laplacian_2d, 36),
    "5-point stencil by pad": (laplacian_by_pad, 36),
    "9-point stencil": (nine_point, 36),
    "arrowhead": (arrowhead, 9),
    "block diagonal": (block_diagonal, 12),
}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_auto_matches_the_dense_jacobian(name):
    f, n = FUNCTIONS[name]
    x = np.random.default_rng(0).standard_normal(n)
    jac = dd.sparse_jacobian(f, x)
    assert is_valid(jac.pattern, jac.colors)
    assert jac.lower_bound <= jac.ncolors < n or name == "arrowhead"
    assert_matches_dense(jac(x), f, x)
    y = np.random.default_rng(1).standard_normal(n)  # a new point, same prepared object
    assert_matches_dense(jac(y), f, y)
    assert_matches_dense(dd.jacobian(f, y, sparsity="auto"), f, y)


def test_counts_on_the_issue_structures():
    x = np.ones(50)
    assert dd.sparse_jacobian(tridiagonal, x).ncolors == 3
    u = np.ones(400)
    assert dd.sparse_jacobian(laplacian_2d, u).ncolors <= 7


matrices = st.builds(
    lambda m, n, density, seed: sp.random_array(
        (m, n), density=density, rng=np.random.default_rng(seed), format="csr"
    ).toarray(),
    st.integers(1, 12),
    st.integers(1, 12),
    st.floats(0.0, 0.5),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=25)
@given(matrices, st.sampled_from(ORDERS), st.integers(0, 2**32 - 1))
def test_random_compositions_compress_exactly(a, order, seed):
    n = a.shape[1]
    x = np.random.default_rng(seed).standard_normal(n)

    def f(x):
        return np.sin(a @ x) * np.sum(x[:1]) + a @ (x**2)

    jac = dd.sparse_jacobian(f, x, order=order)
    true_pattern = (a != 0) | ((a != 0).any(axis=1, keepdims=True) & (np.arange(n) == 0))
    assert np.array_equal(jac.pattern.toarray(), true_pattern)
    assert is_valid(jac.pattern, jac.colors)
    assert_matches_dense(jac(x), f, x)
    # an explicit pattern gives the same; a chunk of one colour per pass too
    explicit = dd.sparse_jacobian(f, x, sparsity=sp.csr_array(true_pattern), chunk_size=1)
    assert_matches_dense(explicit(x), f, x)


def test_shapes_lists_and_value():
    x = np.arange(6.0).reshape(2, 3)
    jac = dd.sparse_jacobian(lambda x: x**2, x)
    assert jac.shape == (6, 6)
    value, matrix = jac.value_and_jacobian(x)
    np.testing.assert_array_equal(value, x**2)
    np.testing.assert_array_equal(matrix.toarray(), np.diag(2 * x.ravel()))
    rhs = dd.sparse_jacobian(lambda y: [y[1], -y[0] * y[1]], np.array([1.0, 2.0]))
    np.testing.assert_array_equal(rhs(np.array([1.0, 2.0])).toarray(), [[0, 1], [-2, -1]])
    empty = dd.sparse_jacobian(lambda x: 0 * x[:2] + 3.0, np.ones(3), sparsity=np.zeros((2, 3)))
    assert empty.ncolors == 0 and empty(np.ones(3)).nnz == 0


def test_results_are_owned_by_the_caller():
    x = np.linspace(0, 1, 8)
    jac = dd.sparse_jacobian(tridiagonal, x)
    first = jac(x)
    first.data[:] = 0  # the values are the caller's
    with pytest.raises(ValueError, match="read-only"):
        first.indices[:] = 0  # the structure is shared by every result: it cannot change
    assert_matches_dense(jac(x), tridiagonal, x)
    assert_matches_dense(first + jac(x), tridiagonal, x)  # arithmetic makes new structure


def test_complex_points():
    x = np.array([1 + 1j, 2 - 1j, 0.5j])
    jac = dd.sparse_jacobian(lambda z: z**2, x, sparsity=np.eye(3))
    np.testing.assert_allclose(jac(x).toarray(), np.diag(2 * x))


def test_every_order_gives_the_same_jacobian():
    u = np.random.default_rng(3).standard_normal(49)
    reference = dd.jacobian(laplacian_2d, u)
    for order in (*ORDERS, "best"):
        jac = dd.sparse_jacobian(laplacian_2d, u, order=order)
        np.testing.assert_allclose(jac(u).toarray(), reference, rtol=0, atol=1e-13)


def test_check_finds_a_pattern_that_grew():
    def f(x):
        return np.where(x > 0, x**2, x[0] * x)  # the branch decides the pattern

    x0, x1 = np.ones(4), -np.ones(4)
    jac = dd.sparse_jacobian(f, x0, check=True)
    assert jac.pattern.nnz == 4
    with pytest.raises(ValueError, match="outside the prepared pattern"):
        jac(x1)
    both = dd.sparse_jacobian(f, x0, points=[x1], check=True)
    assert_matches_dense(both(x1), f, x1)


def test_an_entry_missing_from_an_explicit_pattern_raises():
    x = np.ones(5)
    with pytest.raises(ValueError, match="outside the given sparsity pattern"):
        dd.jacobian(tridiagonal, x, sparsity=np.eye(5))  # one colour: summed, then caught
    banded = np.eye(5) + np.eye(5, k=1)
    with pytest.raises(ValueError, match="outside the sparsity pattern in row"):
        dd.jacobian(tridiagonal, x, sparsity=banded)  # a colour no entry of the row takes


def test_bad_input_is_named():
    x = np.ones(3)
    with pytest.raises(ValueError, match="3 columns but x has 4"):
        dd.sparse_jacobian(np.sin, np.ones(4), sparsity=np.eye(3))
    with pytest.raises(ValueError, match="has 2 rows"):
        dd.sparse_jacobian(np.sin, x, sparsity=np.ones((2, 3)))(x)
    with pytest.raises(ValueError, match="'auto' or a pattern"):
        dd.sparse_jacobian(np.sin, x, sparsity="dense")
    with pytest.raises(ValueError, match="prepared for x of shape"):
        dd.sparse_jacobian(np.sin, x, sparsity=np.eye(3))(np.ones(4))
    with pytest.raises(TypeError, match="plain point"):
        dd.sparse_jacobian(np.sin, dd.Dual(x, x), sparsity=np.eye(3))
    with pytest.raises(TypeError, match="expects a function first"):
        dd.sparse_jacobian(x, np.sin)
    with pytest.raises(ValueError, match="chunk_size"):
        dd.sparse_jacobian(np.sin, x, sparsity=np.eye(3), chunk_size=0)
    with pytest.raises(ValueError, match="drop it"):
        dd.sparse_jacobian(np.sin, x, sparsity=np.eye(3), points=[x])


def test_sparsity_with_an_executor_runs_on_the_executor_not_serially():
    # (it was refused while unsupported; now every colour block is a task of the executor)
    x = np.linspace(0.1, 1.0, 5)
    tasks = []

    def recording_map(func, items):
        items = list(items)
        tasks.extend(items)
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(func, items))

    jac = dd.jacobian(tridiagonal, x, sparsity="auto", chunk_size=1, executor=recording_map)
    assert len(tasks) == 3  # three colours, one per task
    assert np.array_equal(jac.toarray(), dd.jacobian(tridiagonal, x, sparsity="auto").toarray())
    tasks.clear()
    hess = dd.hessian(lambda z: np.sum(z**3), x, sparsity="auto", executor=recording_map)
    assert tasks
    assert np.array_equal(hess.toarray(), dd.hessian(lambda z: np.sum(z**3), x, sparsity="auto")
                          .toarray())
