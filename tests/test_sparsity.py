"""Sparsity detection (dualdiff.sparse): patterns against the nonzeros of dense Jacobians."""

import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import Dual
from dualdiff.dispatch import FUNCTION_EXAMPLES, RULES
from dualdiff.rules import NOT_DIFFERENTIABLE
from dualdiff.sparse import detect, pattern
from dualdiff.sparse.pattern import SELECTIONS
from dualdiff.testing import SparsityMismatchError, check_sparsity

RNG = np.random.default_rng(7)


def true_pattern(f, x, points=2, scale=1e-6):
    """The union of the nonzeros of dense Jacobians at x and at nearby points."""
    found = None
    for k in range(points + 1):
        p = x if k == 0 else x + scale * RNG.standard_normal(x.shape)
        dense = np.asarray(dd.jacobian(f, p)).reshape(-1, x.size) != 0
        found = dense if found is None else found | dense
    return found


def assert_exact(f, x):
    detected = dd.jacobian_sparsity(f, x)
    assert isinstance(detected, sp.csr_array)
    assert detected.dtype == bool
    np.testing.assert_array_equal(detected.toarray(), true_pattern(f, x))


# --- a library of structures -------------------------------------------------------------------


def tri_slices(x):
    y = -2 * x + np.sin(x)
    y[1:] += x[:-1]
    y[:-1] += x[1:]
    return y


def tri_roll(x):
    return -2 * x + np.sin(x) + np.roll(x, 1) + np.roll(x, -1)


def tri_diff(x):
    d = np.diff(x)
    return np.concatenate([x[:1], d]) * np.concatenate([d, x[-1:] ** 2])


def banded(x):
    padded = np.pad(x, (2, 3))
    n = x.size
    return sum((k + 1.5) * padded[k:k + n] ** 2 for k in range(6)) * np.cos(x)


def stencil5(x):
    n = int(np.sqrt(x.size))
    u = x.reshape(n, n)
    lap = -4 * u + u**3
    lap[1:, :] += u[:-1, :]
    lap[:-1, :] += u[1:, :]
    lap[:, 1:] += u[:, :-1]
    lap[:, :-1] += u[:, 1:]
    return lap.ravel()


def stencil9(x):
    n = int(np.sqrt(x.size))
    p = np.pad(x.reshape(n, n), 1, mode="edge")
    total = sum(p[i:i + n, j:j + n] for i in range(3) for j in range(3))
    return np.exp(total).ravel()


def block_diagonal(x):
    blocks = x.reshape(4, 3)
    return (blocks * np.sum(blocks**2, axis=1, keepdims=True)).ravel()


def arrowhead(x):
    return np.concatenate([np.sum(x**2, keepdims=True), x[1:] * x[0] + np.sin(x[1:])])


A_DENSE = np.where(RNG.random((7, 12)) < 0.3, RNG.standard_normal((7, 12)), 0.0)
A_SPARSE = sp.random_array((12, 12), density=0.2, rng=3, format="csr")


def dense_product(x):
    return np.sin(A_DENSE @ x) * x[:7]


def sparse_product(x):
    return A_SPARSE @ np.tanh(x) + x


def where_maximum(x):
    return np.where(x > 0, x**2, np.roll(x, 1)) + np.maximum(x, np.roll(x, -1))


def clipped(x):
    return np.clip(x, -0.5, 0.5) * np.flip(x)


def reductions(x):
    m = x.reshape(3, 4)
    return np.concatenate([np.sum(m**2, axis=0), np.mean(np.exp(m), axis=1),
                           np.prod(x[:3], keepdims=True)])


def cumulative(x):
    return np.cumsum(x**2) + np.cumsum(x.reshape(3, 4), axis=1).ravel()


def fancy_plain(x):
    return x[[3, 1, 1, 0, 11]] * x[[0, 2, 3, 3, 5]] + np.take(x, [4, 4, 7, 8, 9])


def scatter_add(x):
    y = np.zeros(5) * x[0]
    np.add.at(y, [0, 0, 2, 4, 4], np.sin(x[3:8]))
    return y


def written_through_view(x):
    y = np.zeros_like(x)
    view = y.reshape(3, 4)
    view[1] = x[:4] ** 2
    view[2, ::2] = np.cos(x[-2:])
    return y


def overlapping_updates(x):
    y = x * 1.0
    y[1:] += y[:-1]  # NumPy buffers the overlap: y[i] += old y[i - 1]
    z = x.reshape(3, 4) * 1.0
    z[:, 1:] += z[:, :-1]  # a strided view
    return np.concatenate([y, z.ravel()])


def stacked(x):
    m = x.reshape(3, 4)
    return np.stack([m[:, 0] * m[:, 1], m[:, 2]], axis=1).T.ravel() ** 2


CASES = {
    "diagonal": (lambda x: np.sin(x) * x, 12),
    "tridiagonal-slices": (tri_slices, 12),
    "tridiagonal-roll": (tri_roll, 12),
    "tridiagonal-diff": (tri_diff, 12),
    "banded": (banded, 12),
    "stencil5": (stencil5, 16),
    "stencil9": (stencil9, 16),
    "block-diagonal": (block_diagonal, 12),
    "arrowhead": (arrowhead, 12),
    "dense-product": (dense_product, 12),
    "sparse-product": (sparse_product, 12),
    "where-maximum": (where_maximum, 12),
    "clip": (clipped, 12),
    "reductions": (reductions, 12),
    "cumsum": (cumulative, 12),
    "fancy-indexing": (fancy_plain, 12),
    "scatter-add": (scatter_add, 12),
    "written-through-a-view": (written_through_view, 12),
    "stack-transpose": (stacked, 12),
    "overlapping-in-place": (overlapping_updates, 12),
    "max-min-reductions": (lambda x: np.concatenate([np.max(x.reshape(3, 4), axis=1) * x[:3],
                                                    np.min(x.reshape(3, 4), axis=0)]), 12),
}


@pytest.mark.parametrize("name", CASES)
def test_exact_patterns(name):
    f, n = CASES[name]
    x = RNG.standard_normal(n)
    assert_exact(f, x)


def test_pattern_of_a_banded_matrix_is_its_band():
    pattern = dd.jacobian_sparsity(banded, RNG.standard_normal(10)).toarray()
    rows, cols = np.nonzero(pattern)
    assert set(cols - rows) == {-2, -1, 0, 1, 2, 3}


def test_arrowhead_has_a_dense_row_and_column():
    pattern = dd.jacobian_sparsity(arrowhead, RNG.standard_normal(6)).toarray()
    assert pattern[0].all() and pattern[:, 0].all()
    assert pattern.sum() == 6 + 5 + 5


def test_constant_matrix_products_give_their_patterns():
    x = RNG.standard_normal(12)
    np.testing.assert_array_equal(
        dd.jacobian_sparsity(lambda x: A_DENSE @ x, x).toarray(), A_DENSE != 0)
    np.testing.assert_array_equal(
        dd.jacobian_sparsity(lambda x: A_SPARSE @ x, x).toarray(), A_SPARSE.toarray() != 0)
    np.testing.assert_array_equal(
        dd.jacobian_sparsity(lambda x: x[:7] @ A_DENSE, x[:7] + 1).toarray(), A_DENSE.T != 0)


def test_reductions_give_full_rows_and_cumsum_a_triangle():
    x = RNG.standard_normal(5)
    assert dd.jacobian_sparsity(lambda x: np.sum(x) * np.ones(2), x).toarray().all()
    np.testing.assert_array_equal(dd.jacobian_sparsity(np.cumsum, x).toarray(),
                                  np.tril(np.ones((5, 5), dtype=bool)))


def test_the_pattern_is_local_and_points_union_it():
    g = lambda x: np.where(x > 0, x, 0.0) + np.maximum(x, 0.0)  # noqa: E731
    x = np.array([1.0, -1.0, 2.0])
    assert dd.jacobian_sparsity(g, x).toarray().tolist() == [
        [True, False, False], [False, False, False], [False, False, True]]
    union = dd.jacobian_sparsity(g, x, points=[-x])
    np.testing.assert_array_equal(union.toarray(), np.eye(3, dtype=bool))


def test_structural_zeros_of_the_rule_table():
    x = RNG.standard_normal(4)
    assert dd.jacobian_sparsity(lambda x: np.floor(x) + np.sign(x), x).nnz == 0
    assert dd.jacobian_sparsity(lambda x: np.nextafter(x[0], x[1:]), x).toarray()[:, 0].all()
    assert dd.jacobian_sparsity(lambda x: np.nextafter(x[0], x[1:]), x).nnz == 3
    assert dd.jacobian_sparsity(lambda x: x * np.array([0.0, 1.0, 0.0, 2.0]), x).nnz == 2


def test_fallback_is_conservative_and_recorded():
    found = detect(lambda x: np.linalg.solve(np.diag(x[:3]) + 3.0, x[1:]), np.ones(4))
    assert found.pattern.toarray()[:, 1:].all()
    assert found.fallbacks == {"numpy.linalg.solve": 1}
    check_sparsity(lambda x: np.linalg.solve(np.diag(x[:3]) + 3.0, x[1:]), RNG.random(4), rng=1)


def test_fallback_refuses_a_pattern_too_large(monkeypatch):
    monkeypatch.setattr(pattern, "FALLBACK_LIMIT", 10)
    with pytest.raises(ValueError, match="no sparsity rule"):
        dd.jacobian_sparsity(lambda x: np.linalg.inv(x.reshape(2, 2)).ravel(), np.arange(4.0))


def test_a_tracer_never_silently_becomes_its_value():
    with pytest.raises(TypeError, match="tracer"):
        dd.jacobian_sparsity(lambda x: np.asarray(x) * 2, np.ones(3))
    with pytest.raises(TypeError, match="tracer"):
        dd.jacobian_sparsity(lambda x: float(x[0]) * x, np.ones(3))
    with pytest.raises((TypeError, ValueError)):
        def write_into_plain(x):
            y = np.zeros(3)
            y[0] = x[1]
            return y
        dd.jacobian_sparsity(write_into_plain, np.ones(3))


def test_branches_on_values_work():
    def f(x):
        if x[0] > 0:
            return x**2
        return x[::-1]
    assert dd.jacobian_sparsity(f, np.array([1.0, 2.0])).nnz == 2
    assert dd.jacobian_sparsity(f, np.array([-1.0, 2.0])).toarray().tolist() == [
        [False, True], [True, False]]


def test_shapes_and_scalars():
    assert dd.jacobian_sparsity(lambda x: x**2, 3.0).toarray().tolist() == [[True]]
    assert dd.jacobian_sparsity(np.sum, np.ones((2, 3))).shape == (1, 6)
    assert dd.jacobian_sparsity(lambda x: np.ones(2), np.ones(3)).nnz == 0
    m = RNG.standard_normal((3, 2))
    assert_exact(lambda x: (x.reshape(3, 2).T @ x.reshape(3, 2)).ravel(), m.ravel())
    pattern = dd.jacobian_sparsity(lambda x: (x.reshape(3, 2).T * 2).ravel(), m.ravel())
    np.testing.assert_array_equal(pattern.toarray(), true_pattern(
        lambda x: (x.reshape(3, 2).T * 2).ravel(), m.ravel()))


def test_missing_scipy_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    with pytest.raises(ImportError, match=r"dualdiff\[sparse\]"):
        dd.jacobian_sparsity(np.sin, np.ones(2))


# --- random sparse matrices and compositions ---------------------------------------------------

COMPOSITIONS = {
    "sin(A @ x) * x": lambda a, x: np.sin(a @ x) * x[: a.shape[0]],
    "(A @ x) ** 2 + x[0]": lambda a, x: (a @ x) ** 2 + x[0],
    "exp(A @ cos(x)) @ A": lambda a, x: np.exp(a @ np.cos(x)) @ a,
    "cumsum(A @ x)": lambda a, x: np.cumsum(a @ np.tanh(x)),
    "maximum(A @ x, x)": lambda a, x: np.maximum(a @ x, x[: a.shape[0]] / 2),
}


@given(
    n=st.integers(1, 9),
    m_less=st.integers(0, 4),
    density=st.floats(0.0, 0.6),
    seed=st.integers(0, 2**16),
    composition=st.sampled_from(sorted(COMPOSITIONS)),
    as_sparse=st.booleans(),
)
def test_random_sparse_compositions(n, m_less, density, seed, composition, as_sparse):
    rng = np.random.default_rng(seed)
    m = max(1, n - m_less)
    a = np.where(rng.random((m, n)) < density, rng.standard_normal((m, n)), 0.0)
    matrix = sp.csr_array(a) if as_sparse else a
    f = lambda x: COMPOSITIONS[composition](matrix, x)  # noqa: E731
    x = rng.standard_normal(n)
    np.testing.assert_array_equal(dd.jacobian_sparsity(f, x).toarray(), true_pattern(f, x))


# --- scipy.sparse matrices times Duals ---------------------------------------------------------


def test_scipy_sparse_times_dual():
    x = RNG.standard_normal(12)
    dense = A_SPARSE.toarray()
    np.testing.assert_allclose(dd.jacobian(lambda x: A_SPARSE @ np.sin(x), x),
                               dense * np.cos(x), rtol=1e-14, atol=0)
    np.testing.assert_allclose(dd.jacobian(lambda x: np.sin(x) @ A_SPARSE, x),
                               (dense * np.cos(x)[:, None]).T, rtol=1e-14, atol=0)
    np.testing.assert_allclose(dd.hessian(lambda x: np.sum((A_SPARSE @ x) ** 2), x),
                               2 * dense.T @ dense, rtol=1e-12, atol=1e-12)
    y = A_SPARSE @ Dual(x, np.ones(12))
    np.testing.assert_allclose(y.tangent, dense @ np.ones(12), rtol=1e-14)
    matrix = RNG.standard_normal((12, 2))
    np.testing.assert_allclose(dd.jacobian(lambda x: A_SPARSE @ (matrix * x[0]), x)[..., 0],
                               dense @ matrix, rtol=1e-13)


def test_a_plain_dual_still_refuses_to_become_an_array():
    with pytest.raises(TypeError, match="cannot become a plain NumPy array"):
        np.asarray(Dual(np.ones(2), np.ones(2)))


# --- check_sparsity ----------------------------------------------------------------------------


def test_check_sparsity_accepts_detected_patterns():
    for name in ("tridiagonal-roll", "stencil5", "dense-product"):
        f, n = CASES[name]
        report = check_sparsity(f, RNG.standard_normal(n), rng=0)
        assert report.exact
        assert report.points.shape == (4, n)


def test_check_sparsity_catches_a_wrong_pattern():
    x = RNG.standard_normal(12)
    wrong = dd.jacobian_sparsity(tri_roll, x).toarray()
    wrong[0, -1] = False
    with pytest.raises(SparsityMismatchError, match=r"misses 1 nonzeros.*\(0, 11\)"):
        check_sparsity(tri_roll, x, wrong)


def test_check_sparsity_reports_false_positives():
    x = RNG.standard_normal(4)
    report = check_sparsity(np.sin, x, np.ones((4, 4), dtype=bool), points=1, rng=2)
    assert not report.exact
    assert len(report.false_positives) == 12


# --- Hessian patterns --------------------------------------------------------------------------


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def stencil_energy(x):
    n = int(np.sqrt(x.size))
    u = x.reshape(n, n)
    return (np.sum(np.diff(u, axis=0) ** 2) + np.sum(np.diff(u, axis=1) ** 2)
            + np.sum(u**4) + 3 * np.sum(u))


def products(x):
    return x[0] * x[1] + x[2] * x[3] * x[4] + np.sin(x[5]) + 3 * np.sum(x) + x[6] / x[7]


@pytest.mark.parametrize("f, n", [(rosenbrock, 8), (stencil_energy, 16), (products, 8)],
                         ids=["rosenbrock", "stencil-energy", "products"])
def test_hessian_patterns_are_exact(f, n):
    x = RNG.standard_normal(n)
    detected = dd.hessian_sparsity(f, x)
    assert isinstance(detected, sp.csr_array)
    assert (detected != detected.T).nnz == 0
    np.testing.assert_array_equal(detected.toarray(), np.asarray(dd.hessian(f, x)) != 0)


def test_hessian_of_a_linear_function_is_empty_and_needs_a_scalar():
    x = RNG.standard_normal(5)
    assert dd.hessian_sparsity(lambda x: np.sum(A_SPARSE[:5, :5] @ x) + x[0], x).nnz == 0
    with pytest.raises(ValueError, match="scalar"):
        dd.hessian_sparsity(np.sin, x)


# --- every registered NumPy function: never a missing nonzero -----------------------------------


def _as_function(func, args, kwargs, position):
    shape = args[position].shape

    def f(x):
        given = list(args)
        given[position] = x.reshape(shape)
        out = func(*given, **kwargs)
        if isinstance(out, list | tuple):
            parts = [np.ravel(o) for o in out if np.result_type(o).kind in "fc"]
            return np.concatenate(parts) if parts else np.zeros(0)
        return np.ravel(out)

    return f


def _dense_pattern(f, x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the examples include kinks and edge cases
        return np.asarray(dd.jacobian(f, x)).reshape(-1, x.size) != 0


def _example_cases():
    """Every example of the function registry whose first float argument dualdiff differentiates."""
    for func, examples in FUNCTION_EXAMPLES.items():
        for k, example in enumerate(examples):
            args, kwargs = example if (len(example) == 2 and isinstance(example[1], dict)) else (
                example, {})
            floats = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)
                      and a.dtype.kind == "f"]
            if not floats:
                continue
            f, x = _as_function(func, args, kwargs, floats[0]), args[floats[0]].ravel()
            try:
                dense = _dense_pattern(f, x)
            except (TypeError, ValueError, np.linalg.LinAlgError):
                continue  # not differentiable in that argument (dualdiff refuses)
            yield pytest.param(func, f, x, dense, id=f"{getattr(func, '__name__', func)}-{k}")


@pytest.mark.parametrize(("func", "f", "x", "dense"), list(_example_cases()))
def test_registered_functions_never_miss_a_nonzero(func, f, x, dense):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = detect(f, x)
    detected = found.pattern.toarray()
    assert detected.shape == dense.shape
    assert not (dense & ~detected).any(), np.argwhere(dense & ~detected)[:5]
    if func in SELECTIONS and not found.fallbacks:
        np.testing.assert_array_equal(detected, dense)


# --- every row of the ufunc table: elementwise patterns, first and second order -----------------


def _ufunc_cases():
    for ufunc, rule in sorted(RULES.items(), key=lambda item: item[0].__name__):
        if ufunc.nin not in (1, 2) or not rule.domain:
            continue
        try:
            points = np.array([p if ufunc.nin == 2 else (p,) for p in rule.domain], dtype=float)
        except ValueError:
            continue  # a domain of mixed arguments (integer orders of scipy.special)
        if points.ndim != 2 or points.shape[1] != ufunc.nin:
            continue
        # generic points near the domain's: no accidental zero of a first or second partial
        rng = np.random.default_rng(len(ufunc.__name__))
        points = points * (1 + 1e-3 * rng.random(points.shape)) + 1e-3 * rng.random(points.shape)
        yield pytest.param(ufunc, rule, points.T.ravel(), id=ufunc.__name__)


def _split(ufunc, x):
    return np.split(x, ufunc.nin) if ufunc.nin == 2 else (x,)


@pytest.mark.parametrize(("ufunc", "rule", "x"), list(_ufunc_cases()))
def test_every_ufunc_row_gives_its_elementwise_pattern(ufunc, rule, x):
    f = lambda x: ufunc(*_split(ufunc, x))  # noqa: E731
    weights = np.arange(1.0, x.size // ufunc.nin + 1)
    g = lambda x: np.sum(ufunc(*_split(ufunc, x)) * weights)  # noqa: E731
    if NOT_DIFFERENTIABLE in rule.partials:  # the same refusal as dualdiff's derivatives
        with pytest.raises(TypeError, match="not differentiable"):
            dd.jacobian(f, x)
        with pytest.raises(TypeError, match="not differentiable"):
            dd.jacobian_sparsity(f, x)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = _dense_pattern(f, x)
        detected = dd.jacobian_sparsity(f, x).toarray()
        hessian = np.asarray(dd.hessian(g, x)) != 0
        pairs = dd.hessian_sparsity(g, x).toarray()
    np.testing.assert_array_equal(detected, dense)
    np.testing.assert_array_equal(pairs, hessian)


def test_ufunc_where_and_out_keep_the_other_elements():
    def f(x):
        y = x * 1.0
        np.sin(x[::-1], out=y, where=np.array([True, False, True]))
        return y
    x = RNG.standard_normal(3)
    assert_exact(f, x)
    y = RNG.standard_normal(3)
    np.testing.assert_array_equal(detect(f, y).value, f(y))


STEPS = {
    "transpose": lambda a: a.T,
    "roll": lambda a: np.roll(a, 1, axis=0),
    "flip": lambda a: np.flip(a, axis=-1),
    "strided": lambda a: a[::2] if a.shape[0] > 1 else a,
    "pad": lambda a: np.pad(a, ((1, 0), (0, 2)), mode="wrap"),
    "repeat": lambda a: np.repeat(a, 2, axis=1),
    "fancy": lambda a: a[[0, -1, 0]],
    "square": lambda a: a * a[..., ::-1],
    "reduce": lambda a: np.sum(a, axis=1, keepdims=True) * a,
    "cumsum": lambda a: np.cumsum(a, axis=0),
}


def _write_through_view(a):
    b = a * 1.0
    view = b.T
    view[0] = np.sin(view[-1])
    b[-1, ::2] *= a[0, ::2]
    return b


STEPS["write-view"] = _write_through_view


@given(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=4),
       st.integers(0, 2**16))
def test_random_chains_of_selections_and_writes(steps, seed):
    def f(x):
        a = x.reshape(3, 4)
        for step in steps:
            a = STEPS[step](a)
        return a.ravel()

    assert_exact(f, np.random.default_rng(seed).standard_normal(12))


@given(st.integers(2, 8), st.integers(0, 2**16))
def test_random_hessian_patterns_of_products_and_nonlinear_terms(n, seed):
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, n, size=(rng.integers(1, 6), 2))
    curved = rng.integers(0, n, size=rng.integers(0, 3))
    weights = rng.standard_normal(len(pairs)) + 2.0
    a = np.where(rng.random((n, n)) < 0.3, rng.standard_normal((n, n)), 0.0)

    def f(x):
        y = a @ x  # linear: no pairs of its own
        return (np.sum(weights * x[pairs[:, 0]] * y[pairs[:, 1]]) + np.sum(np.exp(x[curved]))
                + np.sum(y))

    x = rng.standard_normal(n)
    dense = np.asarray(dd.hessian(f, x)) != 0
    np.testing.assert_array_equal(dd.hessian_sparsity(f, x).toarray(), dense)
