"""Column colouring: every colouring independently checked valid, counts on known structures."""


import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize._numdiff import group_columns  # private, the reference the issue quotes

from dualdiff.sparse import coloring
from dualdiff.sparse.coloring import (
    ORDERS,
    color_columns,
    column_intersection_graph,
    cyclic_is_valid,
    greedy,
    is_valid,
    lower_bound,
    order,
)

ALL = (*ORDERS, "best")


def valid(pattern, colors) -> bool:
    """The test's own check, on the dense pattern: no row holds two columns of one colour."""
    dense = np.asarray(sp.csr_array(pattern).toarray() != 0)
    colors = np.asarray(colors)
    return all(dense[:, colors == c].sum(axis=1).max(initial=0) <= 1 for c in np.unique(colors))


def banded(n, lower, upper):
    return sp.csr_array(sum(sp.eye_array(n, k=k) for k in range(-lower, upper + 1))) != 0


def stencil(side, nine=False):
    path = sp.diags_array([np.ones(side - 1), np.ones(side), np.ones(side - 1)], offsets=[-1, 0, 1])
    eye = sp.eye_array(side)
    pattern = sp.kron(path, path) if nine else sp.kron(eye, path) + sp.kron(path, eye)
    return sp.csr_array(pattern) != 0


def arrowhead(n):
    dense = np.eye(n, dtype=bool)
    dense[0, :] = dense[:, 0] = True
    return dense


STRUCTURES = {
    "diagonal": (sp.eye_array(30) != 0, 1),
    "tridiagonal": (banded(30, 1, 1), 3),
    "band 2+3": (banded(40, 2, 3), 6),
    "lower bidiagonal": (banded(25, 1, 0), 2),
    "block diagonal": (sp.block_diag([np.ones((4, 4))] * 6, format="csr") != 0, 4),
    "arrowhead": (arrowhead(12), 12),
}


@pytest.mark.parametrize("name", STRUCTURES)
@pytest.mark.parametrize("order_name", ALL)
def test_known_structures_get_the_optimal_count(name, order_name):
    pattern, optimum = STRUCTURES[name]
    result = color_columns(pattern, order_name)
    assert valid(pattern, result.colors)
    assert result.ncolors == optimum == result.lower_bound


@pytest.mark.parametrize("order_name", ALL)
@pytest.mark.parametrize("nine", [False, True])
def test_stencils_beat_scipy_group_columns(order_name, nine):
    pattern = stencil(20, nine)
    result = color_columns(pattern, order_name)
    assert valid(pattern, result.colors)
    assert result.lower_bound == (9 if nine else 5)
    assert result.ncolors <= (12 if nine else 7)
    assert result.ncolors <= group_columns(pattern).max() + 1


def test_natural_greedy_itself_is_optimal_on_bands():
    # the cyclic shortcut aside, first fit in index order colours a band with its width
    for lower, upper in [(1, 1), (2, 0), (3, 2)]:
        pattern = banded(30, lower, upper)
        colors = greedy(pattern, np.arange(30))
        assert valid(pattern, colors)
        assert colors.max() + 1 == lower + upper + 1


def reference_greedy(dense, vertex_order):
    """First fit, written the slow obvious way on the dense pattern."""
    n = dense.shape[1]
    colors = np.full(n, -1)
    for j in vertex_order:
        taken = {
            colors[k] for k in range(n) if colors[k] >= 0 and np.any(dense[:, j] & dense[:, k])
        }
        colors[j] = min(set(range(n + 1)) - taken)
    return colors


patterns = st.builds(
    lambda m, n, density, seed: sp.random_array(
        (m, n), density=density, rng=np.random.default_rng(seed), format="csr"
    ),
    st.integers(1, 14),
    st.integers(1, 14),
    st.floats(0.0, 0.6),
    st.integers(0, 2**32 - 1),
)


@settings(max_examples=30)
@given(patterns, st.sampled_from(ORDERS))
def test_greedy_matches_the_reference_on_random_patterns(pattern, order_name):
    dense = pattern.toarray() != 0
    vertex_order = order(pattern, order_name)
    assert sorted(vertex_order.tolist()) == list(range(dense.shape[1]))
    colors = greedy(pattern, vertex_order)
    np.testing.assert_array_equal(colors, reference_greedy(dense, vertex_order))
    result = color_columns(pattern, order_name)
    assert valid(pattern, result.colors)
    assert is_valid(pattern, result.colors)
    assert result.lower_bound <= result.ncolors
    if pattern.nnz:
        assert result.ncolors == result.colors.max() + 1
    else:
        assert result.ncolors == 0
    assert result.lower_bound == dense.sum(axis=1).max(initial=0)


def remaining_degrees(graph, alive):
    return (graph[:, alive][alive, :].sum(axis=1)) if alive.any() else np.array([])


@settings(max_examples=25)
@given(patterns)
def test_dynamic_orders_keep_their_promise(pattern):
    graph = column_intersection_graph(pattern).toarray().astype(int)
    n = graph.shape[0]
    removal = order(pattern, "smallest_last")[::-1]  # the order vertices were removed in
    alive = np.ones(n, dtype=bool)
    for v in removal:
        degrees = graph[alive][:, alive].sum(axis=1)
        assert graph[v, alive].sum() == degrees.min()
        alive[v] = False
    ordered = np.zeros(n, dtype=bool)
    for v in order(pattern, "incidence_degree"):
        incidence = graph[~ordered][:, ordered].sum(axis=1)
        assert graph[v, ordered].sum() == incidence.max()
        ordered[v] = True


def test_largest_first_sorts_by_degree_stably():
    star = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(order(star, "largest_first"), [1, 0, 2, 3])


def test_the_validity_check_rejects_a_bad_colouring():
    pattern = banded(6, 1, 1)
    assert is_valid(pattern, np.arange(6) % 3)
    assert not is_valid(pattern, np.arange(6) % 2)
    assert not is_valid(pattern, np.zeros(5, dtype=int))
    assert cyclic_is_valid(pattern, 3) and not cyclic_is_valid(pattern, 2)


def test_patterns_of_every_kind_and_their_errors():
    dense = np.array([[1.0, 0.0], [0.0, 2.0]])
    for form in (dense, dense != 0, sp.csr_matrix(dense), sp.coo_array(dense), sp.csc_array(dense)):
        assert coloring.csr_pattern(form).toarray().tolist() == [[True, False], [False, True]]
    explicit_zero = sp.csr_array((np.array([0.0]), np.array([1]), np.array([0, 1])), shape=(1, 2))
    assert coloring.csr_pattern(explicit_zero).nnz == 1  # a stored zero is a structural entry
    assert lower_bound(np.zeros((3, 3))) == 0
    assert color_columns(np.zeros((2, 3))).ncolors == 0
    with pytest.raises(ValueError, match="2-D"):
        coloring.csr_pattern(np.ones(3))
    with pytest.raises(ValueError, match="unknown colouring order"):
        color_columns(dense, "random")
    with pytest.raises(ValueError, match="unknown colouring order"):
        order(dense, "random")
    with pytest.raises(ValueError, match="permutation"):
        greedy(dense, np.array([0, 0]))


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match=r"dualdiff\[sparse\]"):
        coloring._scipy_sparse()


def test_a_large_stencil_colours_within_the_target():
    # n = 160,000; its time (and n = 10^6's) is measured in benchmarks/sparse_derivatives.py
    pattern = stencil(400)
    result = color_columns(pattern)
    assert result.ncolors <= 7
    assert is_valid(pattern, result.colors)
