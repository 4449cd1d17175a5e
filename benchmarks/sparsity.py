"""Sparsity detection benchmarks: ``jacobian_sparsity`` against one evaluation of ``F``.

Run alone (``python benchmarks/sparsity.py [--quick]``) or as part of
``benchmarks/run.py``, which calls :func:`bench` with its own timer and adds
the rows to its table.  Problems, at ``n = 10**5``:

* ``tridiagonal (slices)``: ``F(x) = -2x + sin(x)`` plus the neighbours added
  in place (``y[1:] += x[:-1]``, ``y[:-1] += x[1:]``);
* ``tridiagonal (concatenate)``: the neighbours shifted in with
  ``np.concatenate``;
* ``5-point stencil``: ``-4u + u**3`` plus the four neighbours of a
  ``316 x 316`` grid, by reshape and slicing.

Each detected pattern is checked against the known band before it is timed.
Times are CPU seconds of this process (``time.process_time``), medians of
round-robin repeats, so that other processes on a shared machine weigh less.
The target is the issue's: detection at most 10 times one evaluation.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import dualdiff

N = 10**5
GRID = 316
TARGET = 10.0


def tridiagonal_slices(x: np.ndarray) -> np.ndarray:
    y = -2 * x + np.sin(x)
    y[1:] += x[:-1]
    y[:-1] += x[1:]
    return y


def tridiagonal_concatenate(x: np.ndarray) -> np.ndarray:
    left = np.concatenate((np.zeros(1), x[:-1]))
    right = np.concatenate((x[1:], np.zeros(1)))
    return -2 * x + np.sin(x) + left + right


def stencil5(x: np.ndarray) -> np.ndarray:
    u = x.reshape(GRID, GRID)
    y = -4 * u + u**3
    y[1:, :] += u[:-1, :]
    y[:-1, :] += u[1:, :]
    y[:, 1:] += u[:, :-1]
    y[:, :-1] += u[:, 1:]
    return y.ravel()


PROBLEMS: dict[str, tuple[Callable[[np.ndarray], Any], int, int]] = {
    # name: (F, n, nonzeros of the Jacobian)
    "tridiagonal (slices)": (tridiagonal_slices, N, 3 * N - 2),
    "tridiagonal (concatenate)": (tridiagonal_concatenate, N, 3 * N - 2),
    "5-point stencil": (stencil5, GRID * GRID, 5 * GRID * GRID - 4 * GRID),
}

METHOD = "dualdiff jacobian_sparsity"
TARGETS = {("sparsity detection", f"{name} n={n}", METHOD): TARGET
           for name, (_, n, _) in PROBLEMS.items()}
"""(benchmark, case, method) -> the ratio aimed at, for run.py's table."""


def _median_times(contenders: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):  # round-robin: a burst of load hits every contender
        for name, fn in contenders.items():
            start = time.process_time()
            fn()
            samples[name].append(time.process_time() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def bench(repeats: int = 15) -> list[tuple[str, str, str, float, float]]:
    """Time detection against one ``F(x)``: rows ``(benchmark, case, method, median, ratio)``."""
    rows = []
    for name, (f, n, nonzeros) in PROBLEMS.items():
        x = np.random.default_rng(0).standard_normal(n)
        pattern = dualdiff.jacobian_sparsity(f, x)
        assert pattern.nnz == nonzeros, (name, pattern.nnz, nonzeros)
        medians = _median_times({
            "numpy F(x) (baseline)": lambda f=f, x=x: f(x),
            METHOD: lambda f=f, x=x: dualdiff.jacobian_sparsity(f, x),
        }, repeats)
        base = medians["numpy F(x) (baseline)"]
        for method, median in medians.items():
            rows.append(("sparsity detection", f"{name} n={n}", method, median, median / base))
    return rows


def main(argv: list[str] | None = None) -> int:
    quick = "--quick" in (sys.argv[1:] if argv is None else argv)
    for benchmark, case, method, median, ratio in bench(3 if quick else 15):
        target = TARGETS.get((benchmark, case, method))
        verdict = "" if target is None else (
            f"  target {target:.0f}x {'ok' if ratio <= target else 'MISSED'}")
        print(f"{case:36} {method:28} {median * 1e3:9.2f} ms {ratio:7.2f}x{verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
