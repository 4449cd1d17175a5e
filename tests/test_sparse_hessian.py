"""Sparse Hessians (both schemes) equal the dense nested Hessian."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff.sparse.coloring import is_valid


def rosenbrock_terms(x):
    return 100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2


def rosenbrock(x):
    return np.sum(rosenbrock_terms(x))


def assert_hessian(h, f, x, rtol=1e-14):
    assert isinstance(h, sp.csr_array)
    dense = dd.hessian(f, x)
    scale = max(np.abs(dense).max(initial=0.0), 1e-300)
    np.testing.assert_allclose(h.toarray(), dense, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("scheme", ["columns", "terms"])
def test_rosenbrock_both_schemes_auto(scheme):
    x = np.random.default_rng(0).standard_normal(9)
    f = rosenbrock if scheme == "columns" else rosenbrock_terms
    h = dd.sparse_hessian(f, x, scheme=scheme)
    assert h.ncolors == (3 if scheme == "columns" else 2)
    value, matrix = h.value_and_hessian(x)
    assert value == pytest.approx(rosenbrock(x), rel=1e-14)
    assert_hessian(matrix, rosenbrock, x)
    y = np.random.default_rng(1).standard_normal(9)
    assert_hessian(h(y), rosenbrock, y)


def test_the_hessian_verb_takes_sparsity():
    x = np.linspace(-1, 1, 7)
    assert_hessian(dd.hessian(rosenbrock, x, sparsity="auto"), rosenbrock, x)
    tridiagonal = np.eye(7) + np.eye(7, k=1) + np.eye(7, k=-1)
    assert_hessian(dd.hessian(rosenbrock, x, sparsity=tridiagonal), rosenbrock, x)
    upper = np.triu(tridiagonal)  # half a symmetric pattern is completed
    assert_hessian(dd.hessian(rosenbrock, x, sparsity=upper), rosenbrock, x)


systems = st.builds(
    lambda m, n, density, seed: tuple(
        sp.random_array((m, n), density=density, rng=np.random.default_rng(seed + k)).toarray()
        for k in range(2)
    ),
    st.integers(1, 8),
    st.integers(1, 8),
    st.floats(0.05, 0.5),
    st.integers(0, 2**31),
)


@settings(max_examples=20)
@given(systems, st.integers(0, 2**31))
def test_random_partially_separable_objectives(ab, seed):
    a, b = ab
    n = a.shape[1]
    x = np.random.default_rng(seed).standard_normal(n)

    def terms(x):
        return np.sin(a @ x) * (b @ x) + np.exp(0.1 * (a @ x) ** 2)

    def objective(x):
        return np.sum(terms(x))

    by_terms = dd.sparse_hessian(terms, x, scheme="terms")
    assert is_valid(dd.jacobian_sparsity(terms, x), by_terms.colors)
    assert_hessian(by_terms(x), objective, x, rtol=1e-13)
    by_columns = dd.sparse_hessian(objective, x)
    assert is_valid(by_columns.pattern, by_columns.colors)
    assert_hessian(by_columns(x), objective, x, rtol=1e-13)


def test_chunked_inner_directions_agree():
    x = np.random.default_rng(2).standard_normal(10)
    h = dd.sparse_hessian(rosenbrock, x, chunk_size=3)
    assert_hessian(h(x), rosenbrock, x)


def test_no_interaction_at_all():
    h = dd.sparse_hessian(lambda x: np.sum(2 * x), np.ones(4), sparsity=np.zeros((4, 4)))
    assert h.ncolors == 0 and h(np.ones(4)).nnz == 0
    t = dd.sparse_hessian(lambda x: 2 * x, np.ones(4), sparsity=np.zeros((4, 4)), scheme="terms")
    value, matrix = t.value_and_hessian(np.ones(4))
    assert value == 8.0 and matrix.nnz == 0


def test_bad_input_is_named():
    x = np.ones(4)
    with pytest.raises(ValueError, match="scheme must be one of"):
        dd.sparse_hessian(rosenbrock, x, scheme="reverse")
    with pytest.raises(ValueError, match=r"shape \(x.size, x.size\)"):
        dd.sparse_hessian(rosenbrock, x, sparsity=np.eye(3))
    with pytest.raises(ValueError, match="terms' Jacobian pattern"):
        dd.sparse_hessian(rosenbrock_terms, x, sparsity=np.eye(3), scheme="terms")
    with pytest.raises(ValueError, match="has 3 terms"):
        dd.sparse_hessian(rosenbrock_terms, x, sparsity=np.eye(2, 4), scheme="terms")(x)
    with pytest.raises(ValueError, match="prepared for x of shape"):
        dd.sparse_hessian(rosenbrock, x)(np.ones(5))
    with pytest.raises(ValueError, match="'auto' or a pattern"):
        dd.sparse_hessian(rosenbrock, x, sparsity="banded")
    with pytest.raises(ValueError, match="outside the given sparsity pattern"):
        dd.hessian(rosenbrock, x, sparsity=np.eye(4))
    with pytest.raises(ValueError, match="outside the given sparsity pattern"):
        dd.sparse_hessian(rosenbrock_terms, x, sparsity=np.eye(3, 4), scheme="terms")(x)
