"""hessian's ``strategy="auto"`` (detect, colour, compress) against ``strategy="dense"``.

The auto route must return the dense route's Hessian (to rounding: the
compressed passes add exact zeros in other orders, so entries are compared
with a tolerance relative to the Hessian's scale) and ``f(x)`` bit for bit,
on every function: each rule of the table composed into a scalar objective,
generated programs, branches, in-place writes, dense Hessians, and the cases
it must hand to the dense route.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import hessians
from dualdiff.dispatch import RULES
from dualdiff.rules import differentiable_arguments
from dualdiff.sparse import csr

N = max(hessians.AUTO_MIN_SIZE, 64)
ELEMENTWISE = [rule for rule in RULES.values() if rule.jvp is None]
UNARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 1]
BINARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 2]


def name(rule):
    return rule.ufunc.__name__


def assert_same(f, x, *, route=None):
    """Auto equals dense: the value bit for bit, the Hessian to rounding, or the same error."""
    try:
        dense_value, dense = dd.value_and_hessian(f, x, strategy="dense")
    except Exception as error:  # the auto route must raise the same
        with pytest.raises(type(error)):
            dd.value_and_hessian(f, x)
        return
    value, hess = dd.value_and_hessian(f, x)
    assert type(value) is type(dense_value)
    assert value == dense_value or (np.isnan(value) and np.isnan(dense_value))
    assert hess.shape == dense.shape and hess.dtype == dense.dtype
    scale = np.max(np.abs(dense[np.isfinite(dense)]), initial=0.0)
    np.testing.assert_allclose(hess, dense, rtol=1e-12, atol=1e-12 * scale, equal_nan=True)
    np.testing.assert_array_equal(dd.hessian(f, x), hess)
    if route is not None:
        assert hessians.plan(f, x)[0] == route


def points(domain, size):
    """``size`` points cycling through a rule's test domain."""
    return np.resize(np.array(domain, dtype=float), (size, *np.shape(domain[0])))


# --- every rule of the table, composed into scalar objectives ----------------------------------


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_unary_rules_composed(rule):
    g = rule.ufunc
    x = points(rule.domain, N)
    weights = np.linspace(0.5, 1.5, N)

    def f(x):
        return np.sum(weights * g(x)) + np.sum(g(x[1:]) * x[:-1]) + np.sum(x[::3] * x[1::3])

    assert_same(f, x)


@pytest.mark.parametrize("rule", BINARY, ids=name)
def test_binary_rules_composed(rule):
    g, live = rule.ufunc, differentiable_arguments(rule)
    pairs = points(rule.domain, N)
    fixed = [pairs[:, 0], pairs[:, 1]]

    def call(*args):
        it = iter(args)
        return g(*(next(it) if i in live else fixed[i] for i in range(2)))

    x = np.concatenate([pairs[:, i] for i in live])
    k = len(live)

    def f(x):
        args = [x[i * N:(i + 1) * N] for i in range(k)]
        return np.sum(call(*args) ** 2) + np.sum(call(*args) * x[:N])

    assert_same(f, x)


def test_the_rule_compositions_take_the_compressed_route():
    """The tests above are not vacuous: smooth rules go through compression."""
    for g in (np.sin, np.exp, np.tanh, np.square, np.arctan):
        x = points(RULES[g].domain, N)

        def f(x, g=g):
            return np.sum(g(x)) + np.sum(g(x[1:]) * x[:-1])

        assert hessians.plan(f, x) == ("compressed", 3)


# --- generated programs --------------------------------------------------------------------------

OPS = {
    "mul": lambda a, b: a * b,
    "add": lambda a, b: a + 0.5 * b,
    "sin": lambda a, b: np.sin(a) + b,
    "tanh": lambda a, b: np.tanh(a * b),
    "exp": lambda a, b: np.exp(-(a * a)) * b,
    "square": lambda a, b: np.square(a - b),
    "where": lambda a, b: np.where(a > 0, a * b, np.cos(b)),
    "maximum": lambda a, b: np.maximum(a, b) * a,
    "div": lambda a, b: a / (1.5 + b * b),
    "roll": lambda a, b: np.roll(a, 1) * b,
}
STEP = st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 10), st.integers(0, 10),
                 st.integers(0, 3))


def program(steps, size):
    """A scalar objective of shifted elementwise steps over earlier results."""

    def f(x):
        values = [x]
        for op, i, j, shift in steps:
            a = values[i % len(values)]
            b = values[j % len(values)]
            b = np.concatenate([b[shift:], b[:shift]]) if shift else b
            values.append(OPS[op](a, b))
        return np.sum(values[-1]) + 0.25 * np.sum(values[-1] * values[len(values) // 2])

    return f


@given(st.lists(STEP, min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_generated_programs(steps, seed):
    x = np.random.default_rng(seed).uniform(-1.5, 1.5, N)
    assert_same(program(steps, N), x)


# --- branches, in-place writes, shapes -----------------------------------------------------------


def test_branches_follow_x():
    def f(x):
        y = np.where(x > 0, x**3, np.sin(x))
        z = np.maximum(x[1:], x[:-1]) * x[1:]
        if np.sum(x) > 0:
            return np.sum(y) + np.sum(z**2)
        return np.sum(y * x) - np.sum(np.abs(z) * x[:-1])

    rng = np.random.default_rng(5)
    for _ in range(6):
        assert_same(f, rng.uniform(-1, 1, N), route="compressed")


def test_in_place_writes():
    def f(x):
        y = np.zeros_like(x)
        y[1:] = x[:-1] * x[1:]
        y[0] += x[0] ** 3
        y[::2] *= np.cos(x[1::2])
        y += x
        return np.sum(y**2)

    assert_same(f, np.linspace(-1.0, 2.0, N), route="compressed")


def test_two_dimensional_x():
    def f(x):
        return np.sum(x[1:, :] * x[:-1, :] ** 2) + np.sum(np.sin(x) * x[:, ::-1])

    x = np.random.default_rng(2).uniform(-1, 1, (8, 10))
    assert_same(f, x, route="compressed")
    assert dd.hessian(f, x).shape == (8, 10, 8, 10)


def test_linear_and_constant_functions():
    weights = np.arange(N, dtype=float)
    assert_same(lambda x: np.sum(weights * x), np.ones(N), route="compressed")
    assert_same(lambda x: np.sum(weights) + 0.0 * np.sum(weights * x), np.ones(N))


def test_dense_hessians_go_dense():
    def f(x):
        return np.sum(x) ** 2 + np.sum(np.sin(x) * x)

    x = np.linspace(-1.0, 1.0, N)
    assert hessians.plan(f, x)[0] == "dense"
    assert_same(f, x)
    assert_same(lambda x: (x @ x) * np.sum(np.cos(x)), x, route="dense")


def test_rosenbrock_matches_scipy():
    optimize = pytest.importorskip("scipy.optimize")
    x = np.random.default_rng(3).uniform(-1.0, 1.0, 200)

    def rosen(x):
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    assert hessians.plan(rosen, x) == ("compressed", 3)
    expected = optimize.rosen_hess(x)
    np.testing.assert_allclose(dd.hessian(rosen, x), expected, rtol=1e-12, atol=1e-9)


# --- what the auto route hands to the dense route ------------------------------------------------


def test_small_x_goes_dense():
    x = np.ones(hessians.AUTO_MIN_SIZE - 1)
    assert hessians.plan(lambda x: np.sum(x**3), x)[0] == "dense"


def test_functions_the_tracer_cannot_run():
    def f(x):
        if not isinstance(x, dd.Dual):
            raise TypeError("only Duals, please")
        return np.sum(x[1:] * x[:-1] ** 2)

    x = np.linspace(0.0, 1.0, N)
    assert hessians.plan(f, x)[0] == "dense"
    expected = dd.hessian(f, x, strategy="dense")
    np.testing.assert_array_equal(dd.hessian(f, x), expected)


def test_errors_of_f_are_the_dense_routes():
    x = np.ones(N)
    with pytest.raises(TypeError, match="scalar"):
        dd.hessian(lambda x: x**2, x)
    with pytest.raises(TypeError):
        dd.hessian(lambda x: float(x[0]) * np.sum(x), x)


def test_explicit_chunk_size_and_other_dtypes_go_dense():
    def f(x):
        return np.sum(np.sin(x[1:]) * x[:-1] ** 2)

    x = np.linspace(-1.0, 1.0, N)
    expected = dd.hessian(f, x, strategy="dense")
    np.testing.assert_array_equal(dd.hessian(f, x, chunk_size=7),
                                  dd.hessian(f, x, chunk_size=7, strategy="dense"))
    np.testing.assert_allclose(dd.hessian(f, x, chunk_size=7), expected, rtol=1e-12, atol=1e-12)
    assert hessians.plan(f, x.astype(np.float32))[0] == "dense"
    assert dd.hessian(f, x.astype(np.float32)).dtype == np.float32
    assert hessians.plan(f, x + 0j)[0] == "dense"
    assert dd.hessian(f, x + 0j).dtype == np.complex128
    assert_same(f, list(x))


def test_nested_hessians_go_dense():
    x = np.linspace(0.5, 1.5, N)

    def trace_of_hessian(p):
        return np.trace(dd.hessian(lambda y: np.sum(p * y[1:] ** 3 * y[:-1]), x))

    auto = dd.derivative(trace_of_hessian, 2.0)
    expected = np.sum(6.0 * x[1:] * x[:-1])  # d/dp of p * sum(6 y_i y_{i-1}) on the diagonal
    np.testing.assert_allclose(auto, expected, rtol=1e-12)


def test_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="strategy must be one of"):
        dd.hessian(lambda x: np.sum(x**2), np.ones(3), strategy="sparse")
    with pytest.raises(ValueError, match="strategy must be one of"):
        dd.value_and_hessian(lambda x: np.sum(x**2), np.ones(3), strategy=None)


def test_tracer_rebinds_scalar_elements_in_place():
    """``y[0] += v`` on a traced array rebinds the element as NumPy does (it raised before)."""

    def f(x):
        y = x * 1.0
        y[0] += x[1] ** 2
        y[2] *= x[0]
        return y

    pattern = dd.jacobian_sparsity(f, np.ones(3)).toarray()
    np.testing.assert_array_equal(pattern, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])


# --- the pattern kernels the detection now uses --------------------------------------------------


def random_pattern(draw_rng, m, n, density):
    dense = draw_rng.random((m, n)) < density
    indptr = np.concatenate([[0], np.cumsum(dense.sum(axis=1))])
    return csr.pattern(np.nonzero(dense)[1], indptr, (m, n)), dense


@given(st.integers(1, 9), st.integers(1, 9), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1),
       st.booleans())
def test_pair_codes_give_the_products_pattern(m, n, density, seed, cross):
    rng = np.random.default_rng(seed)
    p, dp = random_pattern(rng, m, n, density)
    q, dq = random_pattern(rng, m, n, density) if cross else (None, dp)
    expected = (dp.T.astype(int) @ dq.astype(int)) > 0
    expected = expected | expected.T
    got = csr.pairs_pattern([csr.pair_codes(p, q)], n)
    np.testing.assert_array_equal(got.toarray(), expected)
    assert got.has_sorted_indices
    both = csr.pairs_pattern([csr.pair_codes(p, q), csr.gram(p, q)], n)  # codes and patterns mix
    np.testing.assert_array_equal(both.toarray(), expected)


@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_union_of_one_entry_rows(m, n, seed):
    rng = np.random.default_rng(seed)
    a = csr.pattern(rng.integers(0, n, m), np.arange(m + 1), (m, n))
    b = csr.pattern(rng.integers(0, n, m), np.arange(m + 1), (m, n))
    got = csr.union(a, b)
    np.testing.assert_array_equal(got.toarray(), a.toarray() | b.toarray())
    for i in range(m):
        assert (np.diff(got.indices[got.indptr[i]:got.indptr[i + 1]]) > 0).all()


@pytest.mark.parametrize("f", [
    lambda x: 3.0,
    lambda x: np.array(5.0),
    lambda x: x[:1] ** 2,                    # one element, but not a scalar: the same TypeError
    lambda x: np.sum(x**2)[None],
    lambda x: np.sum(np.log(x - 2.0)),      # NaN values, warnings
], ids=["constant", "zero-d", "one-element", "indexed-scalar", "nan"])
def test_odd_objectives(f):
    with np.errstate(invalid="ignore"):
        assert_same(f, np.linspace(0.5, 1.5, N))


def test_many_colours_are_pushed_in_chunks(monkeypatch):
    """Outer directions go in the dense route's chunks (memory O(n^2 chunk)), same result."""
    import dualdiff.columns  # noqa: PLC0415 - the chunk rule is patched where it lives

    def f(x):
        return sum(np.sum(np.sin(x[d:] * x[:-d])) for d in range(1, 9)) + np.sum(np.cos(x))

    x = np.linspace(-1.0, 1.0, N)
    assert hessians.plan(f, x) == ("compressed", 17)
    whole = dd.hessian(f, x)
    monkeypatch.setattr(dualdiff.columns, "default_hessian_chunk_size", lambda n: 5)
    np.testing.assert_allclose(dd.hessian(f, x), whole, rtol=1e-13, atol=0.0)
    assert_same(f, x)


@given(st.integers(1, 9), st.integers(1, 9), st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_assembled_patterns_are_scipys(m, n, density, seed):
    """csr.pattern skips SciPy's constructor; the array must be the one SciPy would build."""
    from scipy import sparse  # noqa: PLC0415 - a test dependency, as in the other sparse tests

    p, dense = random_pattern(np.random.default_rng(seed), m, n, density)
    built = sparse.csr_array((p.data, p.indices, p.indptr), shape=(m, n))
    assert p.shape == built.shape == (m, n) and p.dtype == built.dtype and p.format == "csr"
    np.testing.assert_array_equal(p.toarray(), dense)
    np.testing.assert_array_equal((p + built).toarray(), dense)
    np.testing.assert_array_equal((p.T.astype(float) @ p.astype(float)).toarray() > 0,
                                  (dense.T.astype(int) @ dense.astype(int)) > 0)
    assert repr(p) == repr(built)


def test_the_dense_routes_memory_stays_bounded():
    """tests/test_performance.py bounds hessian's memory at n = 400, which now compresses: the
    dense route keeps the same bound when forced."""
    n = 400
    script = textwrap.dedent(f"""
        import resource, numpy as np, dualdiff as dd
        from tests.test_performance import rosen, rosen_hessian
        x = np.random.default_rng(6).uniform(-1, 1, {n})
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        h = dd.hessian(rosen, x, strategy="dense")
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert np.allclose(h, rosen_hessian(x), rtol=1e-13, atol=0), "wrong Hessian"
        print(grown * 1024)
    """)
    root = dd.__file__.rsplit("/", 2)[0]
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True, env={"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                                          "PATH": ""}, cwd=root)
    grown = int(out.stdout.split()[-1])
    assert grown < 400 * 2**20, f"peak RSS grew by {grown / 2**20:.0f} MiB"


def test_listed_pairs_are_compacted(monkeypatch):
    """Many steps listing pairs keep each pair once past the limit, with the same pattern."""
    def f(x):
        total = 0.0
        for _ in range(12):
            total = total + np.sum(np.sin(x[1:] * x[:-1]))
        return total

    x = np.linspace(-1.0, 1.0, 50)
    expected = dd.hessian_sparsity(f, x)
    monkeypatch.setattr(csr, "PAIR_LIMIT", 100)
    np.testing.assert_array_equal(dd.hessian_sparsity(f, x).toarray(), expected.toarray())


@given(st.integers(1, 12), st.integers(1, 12), st.integers(0, 2**32 - 1), st.booleans())
def test_pair_codes_of_one_entry_rows(m, n, seed, cross):
    rng = np.random.default_rng(seed)
    p = csr.pattern(rng.integers(0, n, m), np.arange(m + 1), (m, n))
    q = csr.pattern(rng.integers(0, n, m), np.arange(m + 1), (m, n)) if cross else None
    expected = csr.gram(p, q).toarray()
    np.testing.assert_array_equal(csr.pairs_pattern([csr.pair_codes(p, q)], n).toarray(),
                                  expected)
