"""Sparse Jacobian and Hessian benchmarks, called by ``run.py`` (or run alone).

Run alone from the repository root::

    python benchmarks/sparse_derivatives.py          # full sizes (n = 10^5, a 1000 x 1000 grid)
    python benchmarks/sparse_derivatives.py --quick  # small sizes, a smoke run

Each row is a median over round-robin repeats and its ratio to one plain
evaluation of the same function in the same run; BLAS threads are pinned to
one (threadpoolctl, when installed).  Every dualdiff result is checked against
an independent reference before it is timed (the hand-written Jacobian, or
the dense Hessian at small n).

1. ``sparse tridiag``: ``F(x) = -2x + sin(x) + shifted neighbours``:
   the prepared ``J(x)``, the first call ``dd.jacobian(F, x, sparsity="auto")``
   (detection, colouring, evaluation), and scipy's finite differences with its
   column grouping (``scipy.optimize._numdiff``, private API) and its error.
2. ``sparse grid``: ``F(u) = Laplacian(u) + u**3`` on an ``N x N`` grid (5-point stencil).
3. ``sparse hessian``: the Rosenbrock Hessian, ``scheme="terms"`` at
   ``n = 10^2, 10^3, 10^4`` and ``scheme="columns"`` at the smaller sizes; time
   and peak memory (tracemalloc) against one evaluation.
4. ``colouring``: colours and seconds per order, against scipy's ``group_columns``.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp

import dualdiff as dd
from dualdiff.sparse import coloring

TRIDIAGONAL = {"full": 10**5, "quick": 10**4}
GRID = {"full": 1000, "quick": 200}
ROSENBROCK = {"full": (10**2, 10**3, 10**4), "quick": (10**2, 10**3)}
COLUMNS_UP_TO = 10**3  # the n * C scheme beyond this costs minutes

TARGETS = {
    ("sparse tridiag", "dualdiff prepared J(x)"): 4.0,
    ("sparse tridiag", "dualdiff first call (auto)"): 30.0,
    ("sparse grid", "dualdiff prepared J(x)"): 10.0,
    ("sparse hessian", "dualdiff terms H(x)"): 50.0,
    ("sparse hessian memory", "dualdiff terms H(x)"): 20.0,
}


# --- the problems ------------------------------------------------------------------------------


def tridiagonal(x: Any) -> Any:
    """``-2x + sin(x)`` plus each element's neighbours."""
    y = -2 * x + np.sin(x)
    y[1:] += x[:-1]
    y[:-1] += x[1:]
    return y


def tridiagonal_jacobian(x: np.ndarray) -> Any:
    """The hand-written Jacobian of :func:`tridiagonal`."""
    n = x.size
    return sp.diags_array([np.ones(n - 1), np.cos(x) - 2, np.ones(n - 1)], offsets=[-1, 0, 1])


def tridiagonal_pattern(n: int) -> Any:
    return sp.csr_array(tridiagonal_jacobian(np.zeros(n)) != 0)


def grid_function(n_side: int) -> Callable[[Any], Any]:
    """``F(u) = Laplacian(u) + u**3`` with zero boundary values, ``u`` flattened."""
    h2 = 1.0 / (n_side + 1) ** 2

    def f(u: Any) -> Any:
        u2 = u.reshape(n_side, n_side)
        lap = -4 * u2
        lap[1:, :] += u2[:-1, :]
        lap[:-1, :] += u2[1:, :]
        lap[:, 1:] += u2[:, :-1]
        lap[:, :-1] += u2[:, 1:]
        return (lap / h2 + u2**3).reshape(-1)

    return f


def grid_pattern(n_side: int) -> Any:
    eye = sp.identity(n_side, format="csr", dtype=bool)
    path = sp.diags_array(
        [np.ones(n_side - 1), np.ones(n_side), np.ones(n_side - 1)], offsets=[-1, 0, 1]
    )
    return sp.csr_array(sp.kron(eye, path) + sp.kron(path, eye)).astype(bool)


def rosenbrock_terms(x: Any) -> Any:
    """The terms of the Rosenbrock function (their sum is the objective)."""
    return 100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2


def rosenbrock(x: Any) -> Any:
    return np.sum(rosenbrock_terms(x))


def rosenbrock_hessian(x: np.ndarray) -> Any:
    """The hand-written Rosenbrock Hessian (tridiagonal)."""
    diagonal = np.zeros_like(x)
    diagonal[:-1] += 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    diagonal[1:] += 200
    off = -400 * x[:-1]
    return sp.diags_array([off, diagonal, off], offsets=[-1, 0, 1])


def bidiagonal(n: int) -> Any:
    return sp.csr_array(sp.eye_array(n - 1, n) + sp.eye_array(n - 1, n, k=1)).astype(bool)


# --- measuring ---------------------------------------------------------------------------------


@contextlib.contextmanager
def one_thread() -> Any:
    """BLAS and OpenMP pools limited to one thread, where threadpoolctl can do it."""
    try:
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - optional
    except ImportError:
        yield "threads not pinned (threadpoolctl missing)"
        return
    with threadpool_limits(limits=1):
        yield "threads pinned to 1 (threadpoolctl)"


def close(a: Any, b: Any, rtol: float = 1e-12) -> bool:
    a, b = sp.csr_array(a), sp.csr_array(b)
    scale = max(abs(b).max(), 1e-300)
    return bool(abs(a - b).max() <= rtol * scale)


def _medians(calls: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for fn in calls.values():
        fn()
    for _ in range(repeats):
        for name, fn in calls.items():
            number, start = 0, time.perf_counter()
            while True:  # at least 20 ms per sample
                fn()
                number += 1
                elapsed = time.perf_counter() - start
                if elapsed > 0.02:
                    break
            samples[name].append(elapsed / number)
    return {name: float(np.median(values)) for name, values in samples.items()}


def run(add_row: Callable[..., None], quick: bool, peak_bytes: Callable[..., float]) -> list[str]:
    """Measure everything; ``add_row(benchmark, case, method, median, ratio, unit, target)``."""
    size = "quick" if quick else "full"
    repeats = 3 if quick else 9
    notes = []
    with one_thread() as pinned:
        notes.append(f"sparse: {pinned}")
        notes += _tridiagonal(add_row, TRIDIAGONAL[size], repeats)
        notes += _grid(add_row, GRID[size], repeats)
        notes += _hessian(add_row, ROSENBROCK[size], repeats, peak_bytes)
        notes += _colouring(add_row, TRIDIAGONAL[size], GRID[size])
    return notes


def _add(add_row: Callable[..., None], bench: str, case: str, times: dict[str, float]) -> None:
    base = next(iter(times.values()))
    for method, median in times.items():
        add_row(bench, case, method, median, median / base, "s", TARGETS.get((bench, method)))


def _tridiagonal(add_row: Callable[..., None], n: int, repeats: int) -> list[str]:
    x = np.random.default_rng(0).standard_normal(n)
    pattern = tridiagonal_pattern(n)
    jac = dd.sparse_jacobian(tridiagonal, x, sparsity=pattern)
    assert close(jac(x), tridiagonal_jacobian(x))
    calls = {
        "numpy F(x) (baseline)": lambda: tridiagonal(x),
        "dualdiff prepared J(x)": lambda: jac(x),
    }
    notes = [f"sparse tridiag n={n}: {jac!r}"]
    assert close(dd.jacobian(tridiagonal, x, sparsity="auto"), tridiagonal_jacobian(x))
    calls["dualdiff first call (auto)"] = lambda: dd.jacobian(tridiagonal, x, sparsity="auto")
    calls["dualdiff first call (pattern)"] = lambda: dd.jacobian(tridiagonal, x, sparsity=pattern)
    with contextlib.suppress(ImportError):
        from scipy.optimize._numdiff import approx_derivative, group_columns  # noqa: PLC0415

        groups = group_columns(pattern)
        fd = approx_derivative(tridiagonal, x, sparsity=(pattern, groups))
        error = abs(sp.csr_array(fd) - tridiagonal_jacobian(x)).max()
        notes.append(
            f"sparse tridiag: scipy finite differences use {groups.max() + 1} groups, "
            f"max error {error:.1e}; dualdiff {jac.ncolors} colours, exact"
        )
        calls["scipy FD, group_columns"] = lambda: approx_derivative(
            tridiagonal, x, sparsity=(pattern, groups)
        )
    _add(add_row, "sparse tridiag", f"n={n}", _medians(calls, repeats))
    return notes


def _grid(add_row: Callable[..., None], n_side: int, repeats: int) -> list[str]:
    f = grid_function(n_side)
    u = np.random.default_rng(1).standard_normal(n_side * n_side)
    pattern = grid_pattern(n_side)
    start = time.perf_counter()
    jac = dd.sparse_jacobian(f, u, sparsity=pattern)
    prepared = time.perf_counter() - start
    got = jac(u)
    h2 = (n_side + 1) ** 2
    expected = sp.csr_array(pattern, dtype=float) * h2
    expected.setdiag(-4 * h2 + 3 * u**2)
    assert close(got, expected)
    times = _medians(
        {"numpy F(u) (baseline)": lambda: f(u), "dualdiff prepared J(x)": lambda: jac(u)},
        max(1, repeats // 3),
    )
    _add(add_row, "sparse grid", f"{n_side}x{n_side}", times)
    return [
        f"sparse grid {n_side}x{n_side}: {jac.ncolors} colours (lower bound {jac.lower_bound}), "
        f"prepared (colouring + index arrays) in {prepared:.1f} s"
    ]


def _hessian(
    add_row: Callable[..., None], sizes: tuple[int, ...], repeats: int, peak_bytes: Callable
) -> list[str]:
    notes = []
    for n in sizes:
        x = np.random.default_rng(2).standard_normal(n)
        terms = dd.sparse_hessian(rosenbrock_terms, x, sparsity=bidiagonal(n), scheme="terms")
        assert close(terms(x), rosenbrock_hessian(x))
        calls = {"numpy f(x) (baseline)": lambda x=x: rosenbrock(x)}
        calls["dualdiff terms H(x)"] = lambda x=x, h=terms: h(x)
        if n <= COLUMNS_UP_TO:
            tri = sp.csr_array(rosenbrock_hessian(x) != 0)
            columns = dd.sparse_hessian(rosenbrock, x, sparsity=tri)
            assert close(columns(x), rosenbrock_hessian(x))
            calls["dualdiff columns H(x)"] = lambda x=x, h=columns: h(x)
        if n <= 100:
            calls["dualdiff dense hessian"] = lambda x=x: dd.hessian(rosenbrock, x)
        case = f"n={n}"
        _add(add_row, "sparse hessian", case, _medians(calls, max(1, repeats // 3)))
        base = peak_bytes(lambda x=x: rosenbrock(x))
        for method, fn in list(calls.items())[1:]:
            if method == "dualdiff dense hessian":
                continue
            peak = peak_bytes(fn)
            target = TARGETS.get(("sparse hessian memory", method))
            add_row("sparse hessian memory", case, method, peak, peak / base, "B", target)
        notes.append(f"sparse hessian n={n}: {terms!r}")
    return notes


def _colouring(add_row: Callable[..., None], n: int, n_side: int) -> list[str]:
    del add_row  # colour counts are not timings: they go to the notes
    notes = []
    banded = sp.csr_array(sum(sp.eye_array(n, k=k) for k in range(-2, 3))).astype(bool)
    cases = {
        f"tridiagonal n={n}": tridiagonal_pattern(n),
        f"5-band n={n}": banded,
        f"5-point {n_side}x{n_side}": grid_pattern(n_side),
    }
    for name, pattern in cases.items():
        parts = []
        for order in coloring.ORDERS:
            start = time.perf_counter()
            c = coloring.color_columns(pattern, order)
            seconds = time.perf_counter() - start
            assert coloring.is_valid(pattern, c.colors)
            parts.append(f"{order} {c.ncolors} ({seconds:.2f} s)")
        with contextlib.suppress(ImportError):
            from scipy.optimize._numdiff import group_columns  # noqa: PLC0415

            parts.append(f"scipy group_columns {group_columns(pattern).max() + 1}")
        bound = coloring.lower_bound(pattern)
        notes.append(f"colours, {name} (lower bound {bound}): " + ", ".join(parts))
    return notes


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    rows = []

    def add_row(*row: Any) -> None:
        rows.append(row)

    def peak(fn: Callable[[], Any]) -> float:
        import tracemalloc  # noqa: PLC0415

        fn()
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            fn()
            return tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()

    notes = run(add_row, quick, peak)
    for bench, case, method, median, ratio, unit, target in rows:
        amount = f"{median / 2**20:9.2f} MiB" if unit == "B" else f"{median * 1e3:9.3f} ms"
        goal = f"<= {target:g}x" if target else ""
        print(f"{bench:<22} {case:<10} {method:<32} {amount} {ratio:9.2f}x {goal}")
    print("\n".join(notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
