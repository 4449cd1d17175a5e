"""Taylor mode against the primal, against nested ``derivative`` and ``jax.experimental.jet``.

Run it from the repository root::

    python benchmarks/taylor.py            # full run (a few minutes on two cores)
    python benchmarks/taylor.py --quick    # smoke run

or call :func:`run_taylor` from ``benchmarks/run.py``.  The problems are the
benchmark suite's own formula (``run.make_scalar_formula``): the scalar ``f`` at
``x = 0.7`` and its elementwise version at ``n = 10**3`` and ``10**6``.  Every row is
the median time of one call and its ratio to the primal evaluation in the same run
(``math`` on a Python float for the scalar, NumPy for arrays); ``vs nested`` is how
many times faster the Taylor pass is than nesting ``derivative`` ``K`` times.

Targets (issue 12): cost grows at most quadratically in ``K``; order 8 at least 100x
faster than nesting (nested to order 8 on the scalar, 6 on ``n = 10**3``, 3 on
``n = 10**6``); at ``n = 10**6`` order 4 at most 12x the primal.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # this checkout's dualdiff, first
import run  # the suite's formula and timing helpers, beside this file

import dualdiff as dd

ORDERS = (1, 2, 4, 8, 16)
NESTED_ORDERS = (1, 2, 3, 4, 5, 6)
NESTED_SCALAR_ORDERS = (*NESTED_ORDERS, 7, 8)  # 8: the "100x faster than nesting" target
SIZES = (10**3, 10**6)


def nested(f: Callable[[Any], Any], k: int) -> Callable[[Any], Any]:
    """``f``'s ``k``-th derivative by nesting ``dd.derivative``."""
    if k == 0:
        return f
    inner = nested(f, k - 1)
    return lambda x: dd.derivative(inner, x)


def nested_jvp(f: Callable[[Any], Any], k: int, v: np.ndarray) -> Callable[[Any], Any]:
    """The ``k``-th directional derivative along ``v`` by nesting ``dd.jvp`` (arrays)."""
    if k == 0:
        return f
    inner = nested_jvp(f, k - 1, v)
    return lambda x: dd.jvp(inner, (x,), (v,))[1]


def _jet_contenders(x: Any, orders: tuple[int, ...]) -> dict[str, Callable[[], Any]]:
    """``jax.experimental.jet`` with and without ``jit``, if JAX is installed."""
    try:
        jax = importlib.import_module("jax")
        jet = importlib.import_module("jax.experimental.jet").jet
    except ImportError:
        return {}
    jax.config.update("jax_enable_x64", True)
    f = run.make_scalar_formula(jax.numpy)
    out: dict[str, Callable[[], Any]] = {}
    for k in orders:
        series = ([1.0 if np.ndim(x) == 0 else np.ones_like(x)] + [0.0 * x] * (k - 1),)

        def plain(k: int = k, series: Any = series) -> Any:
            return jet(f, (x,), series)[1][k - 1]

        jitted = jax.jit(lambda x0, s: jet(f, (x0,), s))
        out[f"jax jet K={k}"] = plain
        out[f"jax jet+jit K={k}"] = lambda j=jitted, s=series: jax.block_until_ready(j(x, s))
    return out


def run_taylor(settings: run.Settings = run.FULL) -> list[run.Row]:
    """Measure every case; return the rows (also printed by :func:`main`)."""
    rows: list[run.Row] = []
    f = run.make_scalar_formula(np)
    primal = run.make_scalar_formula(math)
    x0 = run.SCALAR_POINT
    # check before timing: Taylor agrees with nesting where both are exact
    for k in (1, 2, 3):
        assert math.isclose(dd.derivative(f, x0, order=k), nested(f, k)(x0), rel_tol=1e-10)
    contenders: dict[str, Callable[[], Any]] = {"primal (math)": lambda: primal(x0)}
    for k in ORDERS:
        contenders[f"taylor K={k}"] = lambda k=k: dd.taylor(f, x0, 1.0, order=k)
    for k in NESTED_SCALAR_ORDERS:
        contenders[f"nested K={k}"] = lambda k=k: nested(f, k)(x0)
    contenders.update(_jet_contenders(x0, ORDERS))
    rows += _rows("scalar", f"x={x0}", run.median_times(contenders, settings, settings.repeats))
    for n in SIZES:
        x, v = run.elementwise_inputs(n)
        big = n >= 10**6
        contenders = {"primal (numpy)": lambda x=x: f(x)}
        for k in ORDERS:
            contenders[f"taylor K={k}"] = lambda k=k, x=x, v=v: dd.taylor(f, x, v, order=k)
        for k in NESTED_ORDERS[: 3 if big else None]:
            contenders[f"nested K={k}"] = lambda k=k, x=x, v=v: nested_jvp(f, k, v)(x)
        repeats = settings.big_repeats if big else settings.repeats
        rows += _rows("elementwise", f"n={n}", run.median_times(contenders, settings, repeats))
    return rows


def _rows(benchmark: str, case: str, times: dict[str, float]) -> list[run.Row]:
    base = next(t for name, t in times.items() if name.startswith("primal"))
    return [run.Row(benchmark, case, name, t, t / base) for name, t in times.items()]


def report(rows: list[run.Row]) -> str:
    """The table, with the growth in ``K`` and the speed-up over nesting."""
    lines = [f"{'benchmark':<12} {'case':<10} {'method':<22} {'median':>12} {'ratio':>10} "
             f"{'vs nested':>10}"]
    by_case: dict[tuple[str, str], dict[str, run.Row]] = {}
    for row in rows:
        by_case.setdefault((row.benchmark, row.case), {})[row.method] = row
    for (benchmark, case), methods in by_case.items():
        for name, row in methods.items():
            speedup = ""
            if name.startswith("taylor"):
                k = name.split("=")[1]
                other = methods.get(f"nested K={k}")
                speedup = f"{other.median / row.median:9.1f}x" if other else ""
            lines.append(f"{benchmark:<12} {case:<10} {name:<22} {row.median * 1e6:10.1f}us "
                         f"{row.ratio:9.2f}x {speedup:>10}")
        taylor = [(int(n.split("=")[1]), r.median) for n, r in methods.items()
                  if n.startswith("taylor")]
        if len(taylor) >= 2:
            (k1, t1), (k2, t2) = taylor[-2], taylor[-1]
            lines.append(f"{'':<23} growth from K={k1} to K={k2}: "
                         f"x{t2 / t1:.2f} (quadratic would be x{(k2 / k1) ** 2:.1f})")
    lines += _targets(by_case)
    return "\n".join(lines)


def _targets(by_case: dict[tuple[str, str], dict[str, run.Row]]) -> list[str]:
    """The issue's targets, checked on this run's numbers."""
    out = []
    scalar = by_case.get(("scalar", f"x={run.SCALAR_POINT}"), {})
    if "taylor K=8" in scalar and "nested K=8" in scalar:
        speedup = scalar["nested K=8"].median / scalar["taylor K=8"].median
        out.append(f"target: scalar order 8 >= 100x faster than nesting: {speedup:.0f}x "
                   f"{'ok' if speedup >= 100 else 'MISSED'}")
    big = by_case.get(("elementwise", "n=1000000"), {})
    if "taylor K=4" in big:
        ratio = big["taylor K=4"].ratio
        out.append(f"target: n=10**6 order 4 <= 12x the primal: {ratio:.1f}x "
                   f"{'ok' if ratio <= 12 else 'MISSED'}")
    for (benchmark, case), methods in by_case.items():
        if "taylor K=8" in methods and "taylor K=16" in methods:
            growth = methods["taylor K=16"].median / methods["taylor K=8"].median
            out.append(f"target: {benchmark} {case} at most quadratic in K (K=8 -> 16 at most "
                       f"x4): x{growth:.2f} {'ok' if growth <= 4 else 'MISSED'}")
    return out


def main(argv: list[str] | None = None) -> None:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter repeats")
    args = parser.parse_args(argv)
    rows = run_taylor(run.QUICK if args.quick else run.FULL)
    print(report(rows))
    if importlib.util.find_spec("jax") is None:
        print("jax not installed: jax.experimental.jet skipped (pip install -e '.[bench]')")


if __name__ == "__main__":
    main()
