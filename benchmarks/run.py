"""Benchmarks of dualdiff against plain evaluation, hand-written derivatives and peers.

Run it from the repository root::

    python benchmarks/run.py                     # full run (several minutes on two cores)
    python benchmarks/run.py --quick             # smoke run: short repeats, no huge sizes
    python benchmarks/run.py --json out.json     # also write every measurement as JSON
    python benchmarks/run.py --only jacobian     # some row groups only (see GROUPS)
    python benchmarks/run.py --profile           # also cProfile the scalar benchmark

The row groups (:data:`GROUPS`, run in order; another module adds its own with
``GROUPS.append(Group(name, function))``), each timed against a plain (non-differentiated)
baseline in the same run:

1. ``scalar``: ``value_and_derivative(f, 0.7)`` of a NumPy-written formula, against the
   same formula written with :mod:`math` on a Python float.
2. ``elementwise``: ``jvp(f, (x,), (v,))`` of that formula on float64 arrays of length
   ``n``, against ``f(x)`` with NumPy; ``elementwise memory``: peak memory
   (``tracemalloc``) of the JVP against that of ``f(x)``, excluding the inputs.
3. ``jacobian``: ``jacobian(F, x)`` of ``F(x) = tanh(A @ x) + x * sum(x**2)`` (default
   chunking and ``chunk_size=1``) and the hand-written Jacobian, against one ``F(x)``;
   ``jacobian memory``: the peak traced memory of ``jacobian(F, x)`` against the
   Jacobian's own ``8 n^2`` bytes.
4. ``hessian``: ``hessian(rosen, x)`` of the Rosenbrock function and SciPy's hand-written
   ``rosen_hess``, against one ``rosen(x)``; ``hessian memory``: the peak traced memory of
   ``hessian(rosen, x)`` (``n = 1000``: one call, timed and traced together, then the untraced
   median when that call took under ``ONE_CALL`` seconds).
5. ``sparsity detection``: ``jacobian_sparsity(F, x)`` at ``n = 10**5`` against one ``F(x)``
   (``benchmarks/sparsity.py``, which also runs alone).
6. ``sparse``: sparse Jacobians and Hessians (``benchmarks/sparse_derivatives.py``).

Every derivative is checked before it is timed: dualdiff's against the hand-written one,
peers' (``jax``, ``torch``, ``autograd``, measured when they can be imported, skipped with
one line otherwise) against dualdiff's.

Threads are pinned to one for every contender: the environment variables of the BLAS and
OpenMP runtimes (and JAX's XLA flags) are set before NumPy is imported, and, where
``threadpoolctl`` is installed (the ``bench`` extra), its ``threadpool_limits(1)`` holds for
the whole run; the libraries it found (the BLAS kernel, its version and threads) are
reported, with the load average at the start and the end of the run.

How to read the output
----------------------
Every row gives the median time of one call and its *ratio* to the benchmark's baseline
row (the plain evaluation, ``1.00x``).  Tiny calls are timed in loops of many calls and
divided; contenders are timed round-robin (one loop of each, then again), so a burst of
load on a shared machine hits them all alike.  Absolute times move with the machine:
quote the ratios, and only ratios measured in one run.  ``target`` is the ratio dualdiff
aims at (or, marked with a unit, an absolute bound), and ``ok`` says whether this run met
it.  Peer ratios are also to the *NumPy* baseline.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS",
)  # fmt: skip
if __name__ == "__main__":  # run as the benchmark: pin before NumPy (or a peer) loads its pools
    for _variable in THREAD_VARIABLES:
        os.environ[_variable] = "1"
    os.environ["XLA_FLAGS"] = " ".join(
        [os.environ.get("XLA_FLAGS", ""),
         "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"]
    ).strip()

import argparse  # noqa: E402 - after the thread variables, on purpose
import cProfile  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import importlib.metadata  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's dualdiff
import dualdiff  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import minimal_dual  # noqa: E402 - the benchmark's own floor reference, beside this file
import sparsity  # noqa: E402 - sparsity detection rows (benchmarks/sparsity.py)

try:
    import threadpoolctl
except ImportError:  # the environment variables above still pin the threads
    threadpoolctl = None

SCALAR_POINT = 0.7
ELEMENTWISE_SIZES = (10**3, 10**5, 10**6)
JACOBIAN_SIZES = (10, 100, 500, 2000, 10**4)
HESSIAN_SIZES = (100, 1000)
MEMORY_SIZE = 10**6
ONE_CALL = 10.0
"""Seconds: a contender slower than this is timed by one call (the median of one)."""

TARGETS: dict[tuple[str, str, str], float] = {
    ("scalar", "x=0.7", "dualdiff value_and_derivative"): 15.0,
    ("elementwise", "n=1000", "dualdiff jvp"): 3.0,
    ("elementwise", "n=1000000", "dualdiff jvp"): 2.4,
    ("elementwise memory", "n=1000000", "dualdiff jvp"): 3.0,
    ("jacobian", "n=10", "dualdiff jacobian"): 6.0,
    ("jacobian", "n=100", "dualdiff jacobian"): 12.0,
    ("jacobian", "n=500", "dualdiff jacobian"): 50.0,
    ("jacobian", "n=2000", "dualdiff jacobian"): 100.0,
    ("jacobian memory", "n=500", "dualdiff jacobian"): 3.0,
    ("jacobian memory", "n=2000", "dualdiff jacobian"): 3.0,
    ("jacobian memory", "n=10000", "dualdiff jacobian"): 2.5,
    ("hessian", "n=100", "dualdiff hessian"): 200.0,
}
TARGETS.update(sparsity.TARGETS)
"""Ratios to the baseline dualdiff aims at (issue 11's table, and the other groups')."""

LIMITS: dict[tuple[str, str, str], float] = {
    ("jacobian", "n=10000", "dualdiff jacobian"): 2.0,  # seconds
    ("hessian memory", "n=1000", "dualdiff hessian"): float(2**30),  # bytes
}
"""Absolute bounds (in the row's unit: seconds or bytes) dualdiff aims at."""


@dataclass
class Settings:
    """How long to time: seconds per timed loop, loops per contender, which sizes."""

    loop_seconds: float
    repeats: int
    big_repeats: int  # for calls that take milliseconds (n = 1e6, Jacobians at n = 500)
    largest: int  # the largest n of the Jacobian and Hessian groups
    quick: bool = False


FULL = Settings(loop_seconds=0.05, repeats=21, big_repeats=9, largest=10**4)
QUICK = Settings(loop_seconds=0.005, repeats=3, big_repeats=2, largest=500, quick=True)


@dataclass
class Row:
    """One line of the table: a contender's median and its ratio to the baseline."""

    benchmark: str
    case: str
    method: str
    median: float  # seconds per call, or bytes for memory rows
    ratio: float
    unit: str = "s"
    target: float | None = None
    ok: bool | None = None
    target_kind: str | None = None  # "ratio" (to the baseline) or "absolute" (in ``unit``)


@dataclass
class Report:
    """Everything measured in one run."""

    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        key = (row.benchmark, row.case, row.method)
        if key in TARGETS:
            row.target, row.target_kind = TARGETS[key], "ratio"
            row.ok = row.ratio <= row.target
        elif key in LIMITS:
            row.target, row.target_kind = LIMITS[key], "absolute"
            row.ok = row.median <= row.target
        self.rows.append(row)


@dataclass
class Group:
    """A named group of rows: ``run(report, peers, settings)`` measures and adds them."""

    name: str
    run: Callable[[Report, dict[str, Any], Settings], None]


# --- the problems ------------------------------------------------------------------------------


def make_scalar_formula(xp: Any) -> Callable[[Any], Any]:
    """The benchmark formula written with the module ``xp`` (numpy, math, jax.numpy, torch)."""

    def f(x: Any) -> Any:
        return (
            xp.sin(x) * xp.exp(-(x**2) / 3)
            + xp.log(1 + x**2) / (1 + xp.cos(x) ** 2)
            + xp.sqrt(x + 2) * xp.tanh(x)
        )

    return f


def make_dense_function(xp: Any, a: Any) -> Callable[[Any], Any]:
    """``F(x) = tanh(A @ x) + x * sum(x**2)`` written with the module ``xp``."""

    def dense(x: Any) -> Any:
        return xp.tanh(a @ x) + x * xp.sum(x**2)

    return dense


def dense_matrix(n: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal((n, n)) / np.sqrt(n)


def dense_point(n: int) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(n) / np.sqrt(n)


def elementwise_inputs(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(2)
    return rng.uniform(-1.5, 1.5, n), rng.standard_normal(n)


def dense_jacobian_by_hand(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The Jacobian of ``make_dense_function``'s ``F`` at ``x``, written out with NumPy."""
    jacobian = (1 - np.tanh(a @ x) ** 2)[:, None] * a
    jacobian += 2 * np.outer(x, x)
    jacobian[np.diag_indices_from(jacobian)] += np.sum(x**2)
    return jacobian


def make_rosen(xp: Any) -> Callable[[Any], Any]:
    """The Rosenbrock function written with the module ``xp``."""

    def rosen(x: Any) -> Any:
        return xp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    return rosen


def rosen_point(n: int) -> np.ndarray:
    return np.random.default_rng(3).uniform(-1.0, 1.0, n)


# --- timing ------------------------------------------------------------------------------------


def time_loop(fn: Callable[[], Any], number: int) -> float:
    """Seconds for ``number`` calls of ``fn`` (garbage collection off, as in timeit)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def calls_per_loop(fn: Callable[[], Any], loop_seconds: float) -> int:
    """How many calls make one timed loop last about ``loop_seconds`` (after a warm-up)."""
    if time_loop(fn, 1) >= loop_seconds:  # the warm-up: a slow call is timed one at a time
        return 1
    number = 1
    while True:
        elapsed = time_loop(fn, number)
        if elapsed >= loop_seconds / 2:
            return max(1, round(number * loop_seconds / max(elapsed, 1e-9)))
        number *= 4


def median_times(
    contenders: dict[str, Callable[[], Any]], settings: Settings, repeats: int
) -> dict[str, float]:
    """Median seconds per call of each contender, timed round-robin."""
    numbers = {name: calls_per_loop(fn, settings.loop_seconds) for name, fn in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            samples[name].append(time_loop(fn, numbers[name]) / numbers[name])
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_bytes(fn: Callable[[], Any], repeats: int = 3, *, warm_up: bool = True) -> float:
    """Median peak of traced allocations during ``fn()``, above what was live before it."""
    if warm_up:
        fn()  # first-call caches are not the function's memory
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(repeats):
            gc.collect()
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            result = fn()
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
            del result
    finally:
        tracemalloc.stop()
    return statistics.median(peaks)


def record_times(
    report: Report,
    benchmark: str,
    case: str,
    baseline: tuple[str, Callable[[], Any]],
    contenders: dict[str, Callable[[], Any]],
    settings: Settings,
    repeats: int,
) -> None:
    """Time the baseline and contenders together and add one row each."""
    base_name, base_fn = baseline
    medians = median_times({base_name: base_fn, **contenders}, settings, repeats)
    base = medians[base_name]
    for name, median in medians.items():
        report.add(Row(benchmark, case, name, median, median / base))


# --- peers -------------------------------------------------------------------------------------


def load_peers() -> tuple[dict[str, Any], list[str]]:
    """Import the optional peers; return those found and a line for each one skipped."""
    found, skipped = {}, []
    for name in ("jax", "torch", "autograd"):
        try:
            module = importlib.import_module(name)
        except Exception as error:  # any import failure means: skip this peer
            skipped.append(f"{name}: skipped ({type(error).__name__}: {error})")
            continue
        if name == "jax":
            module.config.update("jax_enable_x64", True)
            importlib.import_module("jax.numpy")
        if name == "torch":
            importlib.import_module("torch.func")
            module.set_num_threads(1)
        if name == "autograd":
            importlib.import_module("autograd.numpy")
        found[name] = module
    return found, skipped


def to_numpy(x: Any) -> np.ndarray:
    """A peer's result (JAX array, torch tensor, ndarray, number) as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().numpy()
    return np.asarray(x)


def checked(
    report: Report, label: str, fn: Callable[[], Any], expected: Any
) -> Callable[[], Any] | None:
    """``fn`` if its derivative matches dualdiff's, else ``None`` (and a skip line)."""
    try:
        got = to_numpy(fn())
    except Exception as error:  # a peer failing on a problem is reported, not fatal
        report.skipped.append(f"{label}: failed ({type(error).__name__}: {error})")
        return None
    if got.shape != np.shape(expected) or not np.allclose(got, expected):
        report.skipped.append(f"{label}: derivative disagrees with dualdiff; not timed")
        return None
    return fn


def jax_ready(out: Any) -> Any:
    """Wait for JAX's asynchronous dispatch so that timings include the computation."""
    import jax  # noqa: PLC0415 - only reached when JAX is installed

    return jax.block_until_ready(out)


# Each peer has one small function per benchmark, returning {label: call}; separate functions
# keep each closure's names its own.


def jax_scalar(jax: Any, x: float) -> dict[str, Callable[[], Any]]:
    f = make_scalar_formula(jax.numpy)

    def value_and_slope(x: Any) -> Any:
        return jax.jvp(f, (x,), (1.0,))

    jitted = jax.jit(value_and_slope)
    return {
        "jax jvp": lambda: jax_ready(value_and_slope(x))[1],
        "jax jit(jvp)": lambda: jax_ready(jitted(x))[1],
    }


def torch_scalar(torch: Any, x: float) -> dict[str, Callable[[], Any]]:
    f = make_scalar_formula(torch)
    tx = torch.tensor(x, dtype=torch.float64)
    one = torch.ones_like(tx)
    return {"torch.func.jvp": lambda: torch.func.jvp(f, (tx,), (one,))[1]}


def autograd_scalar(autograd: Any, x: float) -> dict[str, Callable[[], Any]]:
    grad = autograd.grad(make_scalar_formula(autograd.numpy))
    return {"autograd grad": lambda: grad(x)}


def jax_elementwise(jax: Any, x: np.ndarray, v: np.ndarray) -> dict[str, Callable[[], Any]]:
    f = make_scalar_formula(jax.numpy)
    jx, jv = jax.numpy.asarray(x), jax.numpy.asarray(v)

    def push(x: Any, v: Any) -> Any:
        return jax.jvp(f, (x,), (v,))

    jitted = jax.jit(push)
    return {
        "jax jvp": lambda: jax_ready(push(jx, jv))[1],
        "jax jit(jvp)": lambda: jax_ready(jitted(jx, jv))[1],
    }


def torch_elementwise(torch: Any, x: np.ndarray, v: np.ndarray) -> dict[str, Callable[[], Any]]:
    f = make_scalar_formula(torch)
    tx, tv = torch.from_numpy(x), torch.from_numpy(v)
    return {"torch.func.jvp": lambda: torch.func.jvp(f, (tx,), (tv,))[1]}


def autograd_elementwise(
    autograd: Any, x: np.ndarray, v: np.ndarray
) -> dict[str, Callable[[], Any]]:
    slopes = autograd.elementwise_grad(make_scalar_formula(autograd.numpy))
    return {"autograd elementwise_grad * v": lambda: slopes(x) * v}


def jax_jacobian(jax: Any, a: np.ndarray, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    jacobian = jax.jit(jax.jacfwd(make_dense_function(jax.numpy, jax.numpy.asarray(a))))
    jx = jax.numpy.asarray(x)
    return {"jax jit(jacfwd)": lambda: jax_ready(jacobian(jx))}


def torch_jacobian(torch: Any, a: np.ndarray, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    jacobian = torch.func.jacfwd(make_dense_function(torch, torch.from_numpy(a)))
    tx = torch.from_numpy(x)
    return {"torch.func.jacfwd": lambda: jacobian(tx)}


def autograd_jacobian(autograd: Any, a: np.ndarray, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    jacobian = autograd.jacobian(make_dense_function(autograd.numpy, a))
    return {"autograd jacobian": lambda: jacobian(x)}


def jax_hessian(jax: Any, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    hessian = jax.jit(jax.hessian(make_rosen(jax.numpy)))
    jx = jax.numpy.asarray(x)
    return {"jax jit(hessian)": lambda: jax_ready(hessian(jx))}


def torch_hessian(torch: Any, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    hessian = torch.func.hessian(make_rosen(torch))
    tx = torch.from_numpy(x)
    return {"torch.func.hessian": lambda: hessian(tx)}


def autograd_hessian(autograd: Any, x: np.ndarray) -> dict[str, Callable[[], Any]]:
    hessian = autograd.hessian(make_rosen(autograd.numpy))
    return {"autograd hessian": lambda: hessian(x)}


PEER_BENCHMARKS: dict[str, dict[str, Callable[..., dict[str, Callable[[], Any]]]]] = {
    "scalar": {"jax": jax_scalar, "torch": torch_scalar, "autograd": autograd_scalar},
    "elementwise": {
        "jax": jax_elementwise,
        "torch": torch_elementwise,
        "autograd": autograd_elementwise,
    },
    "jacobian": {"jax": jax_jacobian, "torch": torch_jacobian, "autograd": autograd_jacobian},
    "hessian": {"jax": jax_hessian, "torch": torch_hessian, "autograd": autograd_hessian},
}


def peer_calls(
    report: Report, peers: dict[str, Any], benchmark: str, expected: Any, where: str, *inputs: Any
) -> dict[str, Callable[[], Any]]:
    """The installed peers' calls for ``benchmark`` whose results match ``expected``."""
    calls: dict[str, Callable[[], Any]] = {}
    for name, module in peers.items():
        try:
            calls.update(PEER_BENCHMARKS[benchmark][name](module, *inputs))
        except Exception as error:  # a peer failing to set up is reported, not fatal
            report.skipped.append(f"{name} ({where}): failed ({type(error).__name__}: {error})")
    return verified(report, calls, expected, where)


def verified(report: Report, calls: dict[str, Any], expected: Any, where: str) -> dict[str, Any]:
    """The peer calls whose result matches ``expected``."""
    kept = {}
    for name, call in calls.items():
        fn = checked(report, f"{name} ({where})", call, expected)
        if fn is not None:
            kept[name] = fn
    return kept


# --- the benchmarks ----------------------------------------------------------------------------


def bench_scalar(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    x = SCALAR_POINT
    f, f_math = make_scalar_formula(np), make_scalar_formula(math)
    value, slope = dualdiff.value_and_derivative(f, x)
    assert math.isclose(value, f_math(x), rel_tol=1e-12), (value, f_math(x))
    _, floor_slope = minimal_dual.value_and_derivative(f, x)
    assert math.isclose(floor_slope, slope, rel_tol=1e-12), (floor_slope, slope)
    contenders = {
        "dualdiff value_and_derivative": lambda: dualdiff.value_and_derivative(f, x),
        "floor: minimal untagged dual class": lambda: minimal_dual.value_and_derivative(f, x),
    }
    contenders.update(peer_calls(report, peers, "scalar", slope, "scalar", x))
    baseline = ("plain float with math (baseline)", lambda: f_math(x))
    record_times(report, "scalar", f"x={x}", baseline, contenders, settings, settings.repeats)


def bench_elementwise(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    f = make_scalar_formula(np)
    for n in ELEMENTWISE_SIZES:
        x, v = elementwise_inputs(n)
        value, tangent = dualdiff.jvp(f, (x,), (v,))
        assert np.allclose(value, f(x))
        contenders = {"dualdiff jvp": lambda x=x, v=v: dualdiff.jvp(f, (x,), (v,))}
        contenders.update(peer_calls(report, peers, "elementwise", tangent, f"n={n}", x, v))
        repeats = settings.big_repeats if n >= 10**6 else settings.repeats
        baseline = ("numpy f(x) (baseline)", lambda x=x: f(x))
        record_times(report, "elementwise", f"n={n}", baseline, contenders, settings, repeats)


def bench_memory(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    """Peak traced memory of the JVP against f(x).  JAX and PyTorch allocate outside
    tracemalloc's view, so only NumPy-based contenders are measured."""
    f = make_scalar_formula(np)
    x, v = elementwise_inputs(MEMORY_SIZE)
    contenders = {"dualdiff jvp": lambda: dualdiff.jvp(f, (x,), (v,))}
    if "autograd" in peers:
        slopes = peers["autograd"].elementwise_grad(make_scalar_formula(peers["autograd"].numpy))
        contenders["autograd elementwise_grad * v"] = lambda: slopes(x) * v
    case = f"n={MEMORY_SIZE}"
    base = peak_bytes(lambda: f(x))
    report.add(Row("elementwise memory", case, "numpy f(x) (baseline)", base, 1.0, unit="B"))
    for name, fn in contenders.items():
        peak = peak_bytes(fn)
        report.add(Row("elementwise memory", case, name, peak, peak / base, unit="B"))


def bench_jacobian(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    for n in (n for n in JACOBIAN_SIZES if n <= settings.largest):
        a, x = dense_matrix(n), dense_point(n)
        dense = make_dense_function(np, a)
        expected = dense_jacobian_by_hand(a, x)
        got = dualdiff.jacobian(dense, x)
        assert np.allclose(got, expected, rtol=1e-12, atol=1e-14), f"jacobian n={n} is wrong"
        del got
        contenders = {
            "dualdiff jacobian": lambda x=x, dense=dense: dualdiff.jacobian(dense, x),
            "hand-written J (numpy)": lambda x=x, a=a: dense_jacobian_by_hand(a, x),
        }
        if n <= 2000:  # column by column: n passes (at 10^4, minutes)
            assert np.allclose(dualdiff.jacobian(dense, x, chunk_size=1), expected)
            contenders["dualdiff jacobian chunk_size=1"] = (
                lambda x=x, dense=dense: dualdiff.jacobian(dense, x, chunk_size=1))
        if n <= 2000:
            contenders.update(peer_calls(report, peers, "jacobian", expected, f"n={n}", a, x))
        repeats = settings.repeats if n < 500 else settings.big_repeats if n <= 2000 else 3
        baseline = ("numpy F(x) (baseline)", lambda x=x, dense=dense: dense(x))
        record_times(report, "jacobian", f"n={n}", baseline, contenders, settings, repeats)


def bench_jacobian_memory(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    """Peak traced memory of ``jacobian(F, x)`` against the Jacobian's own 8 n^2 bytes.

    At small n the Python objects of the call (Duals, seeds, index arrays) dominate.
    """
    for n in (n for n in JACOBIAN_SIZES if n <= settings.largest):
        a, x = dense_matrix(n), dense_point(n)
        dense = make_dense_function(np, a)
        case, size = f"n={n}", 8.0 * n * n
        report.add(Row("jacobian memory", case, "the Jacobian itself (8 n^2 bytes, baseline)",
                       size, 1.0, unit="B"))
        peak = peak_bytes(lambda x=x, dense=dense: dualdiff.jacobian(dense, x),
                          repeats=1 if n >= 2000 else 3, warm_up=n < 2000)
        report.add(Row("jacobian memory", case, "dualdiff jacobian", peak, peak / size, unit="B"))


def bench_hessian(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    """Rosenbrock Hessians; at the largest n one call is timed and traced at once.

    ``hessian`` detects the pattern, colours it and pushes 3 directions on each call (no state
    kept between calls); the dense route and the detection alone are timed beside it.
    """
    from scipy.optimize import rosen_hess  # noqa: PLC0415 - SciPy is a test dependency

    rosen = make_rosen(np)
    for n in (n for n in HESSIAN_SIZES if n <= settings.largest):
        x = rosen_point(n)
        expected = rosen_hess(x)
        case = f"n={n}"
        baseline = ("numpy rosen(x) (baseline)", lambda x=x: rosen(x))
        if n >= 1000:  # a minute of n^3 work: one call, its time and its peak memory
            base = median_times({"base": baseline[1]}, settings, settings.repeats)["base"]
            report.add(Row("hessian", case, baseline[0], base, 1.0))
            tracemalloc.start()
            try:
                start = time.perf_counter()
                got = dualdiff.hessian(rosen, x)
                elapsed = time.perf_counter() - start
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-12), f"hessian n={n} is wrong"
            report.add(Row("hessian", case, "dualdiff hessian (one call, traced)", elapsed,
                           elapsed / base))
            if elapsed < ONE_CALL:  # the compressed route: also its untraced median
                untraced = median_times({"h": lambda x=x: dualdiff.hessian(rosen, x)}, settings,
                                        3)["h"]
                report.add(Row("hessian", case, "dualdiff hessian", untraced, untraced / base))
            anchor = median_times({"scipy": lambda x=x: rosen_hess(x)}, settings, 3)["scipy"]
            report.add(Row("hessian", case, "scipy rosen_hess (hand-written)", anchor,
                           anchor / base))
            size = 8.0 * n * n
            report.add(Row("hessian memory", case, "the Hessian itself (8 n^2 bytes, baseline)",
                           size, 1.0, unit="B"))
            report.add(Row("hessian memory", case, "dualdiff hessian", peak, peak / size,
                           unit="B"))
            continue
        assert np.allclose(dualdiff.hessian(rosen, x), expected, rtol=1e-12, atol=1e-12)
        # every call is a first call: the default detects the pattern and colours it each time
        contenders = {
            "dualdiff hessian": lambda x=x: dualdiff.hessian(rosen, x),
            "dualdiff hessian strategy=dense": lambda x=x: dualdiff.hessian(
                rosen, x, strategy="dense"),
            "dualdiff hessian_sparsity (its detection)": lambda x=x: dualdiff.hessian_sparsity(
                rosen, x),
            "scipy rosen_hess (hand-written)": lambda x=x: rosen_hess(x),
        }
        contenders.update(peer_calls(report, peers, "hessian", expected, case, x))
        record_times(report, "hessian", case, baseline, contenders, settings,
                     settings.big_repeats)
        size = 8.0 * n * n
        report.add(Row("hessian memory", case, "the Hessian itself (8 n^2 bytes, baseline)",
                       size, 1.0, unit="B"))
        peak = peak_bytes(lambda x=x: dualdiff.hessian(rosen, x))
        report.add(Row("hessian memory", case, "dualdiff hessian", peak, peak / size, unit="B"))


def bench_sparsity(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    """Sparsity detection (``benchmarks/sparsity.py``, which also runs alone)."""
    for row in sparsity.bench(settings.big_repeats):  # its own timer: CPU time, round-robin
        report.add(Row(*row))


def bench_sparse(report: Report, peers: dict[str, Any], settings: Settings) -> None:
    """The sparse Jacobian and Hessian benchmarks of ``sparse_derivatives.py``."""
    import sparse_derivatives  # noqa: PLC0415 - beside this file, first on sys.path

    def add(
        benchmark: str,
        case: str,
        method: str,
        median: float,
        ratio: float,
        unit: str,
        target: float | None,
    ) -> None:
        row = Row(benchmark, case, method, median, ratio, unit=unit)
        report.add(row)
        if target is not None:
            row.target, row.ok, row.target_kind = target, ratio <= target, "ratio"

    report.skipped += sparse_derivatives.run(add, settings.quick, peak_bytes)


GROUPS: list[Group] = [
    Group("scalar", bench_scalar),
    Group("elementwise", bench_elementwise),
    Group("elementwise memory", bench_memory),
    Group("jacobian", bench_jacobian),
    Group("jacobian memory", bench_jacobian_memory),
    Group("hessian", bench_hessian),
    Group("sparsity detection", bench_sparsity),
    Group("sparse", bench_sparse),
]
"""The row groups, run in this order; a benchmark module adds its own with ``append``."""


# --- output ------------------------------------------------------------------------------------


def format_amount(amount: float, unit: str) -> str:
    if unit == "B":
        return f"{amount / 2**20:9.1f} MiB"
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if amount >= scale:
            return f"{amount / scale:9.2f} {name:>3}"
    return f"{amount / 1e-9:9.1f}  ns"


def format_target(row: Row) -> str:
    """``<= 15x`` for a ratio, ``<= 2.00 s`` or ``<= 1024.0 MiB`` for an absolute bound."""
    if row.target is None:
        return ""
    if row.target_kind == "absolute":
        return "<= " + " ".join(format_amount(row.target, row.unit).split())
    return f"<= {row.target:g}x"


def format_table(report: Report) -> str:
    header = f"{'benchmark':<19} {'case':<10} {'method':<44} {'median':>13} {'ratio':>10}"
    header += f" {'target':>13}  ok"
    lines = [header, "-" * len(header)]
    previous = None
    for row in report.rows:
        if previous is not None and (row.benchmark, row.case) != previous:
            lines.append("")
        previous = (row.benchmark, row.case)
        ok = {True: "yes", False: "NO", None: ""}[row.ok]
        lines.append(
            f"{row.benchmark:<19} {row.case:<10} {row.method:<44} "
            f"{format_amount(row.median, row.unit)} {row.ratio:9.2f}x {format_target(row):>13}"
            f"  {ok}"
        )
    return "\n".join(lines)


def pin_threads() -> tuple[Any, dict[str, Any]]:
    """Limit every thread pool loaded so far to one thread; the limiter and what it found."""
    found: dict[str, Any] = {"variables": {name: os.environ.get(name) for name in
                                           THREAD_VARIABLES}}
    if threadpoolctl is None:
        found["threadpoolctl"] = "not installed (pip install threadpoolctl, or '.[bench]')"
        return None, found
    limiter = threadpoolctl.threadpool_limits(limits=1)
    found["threadpoolctl"] = threadpoolctl.__version__
    keys = ("user_api", "internal_api", "version", "threading_layer", "architecture",
            "num_threads")
    found["pools"] = [{key: pool.get(key) for key in keys if key in pool}
                      for pool in threadpoolctl.threadpool_info()]
    return limiter, found


def cpu_model() -> str:
    """The CPU's model name (Linux), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> list[float] | None:
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # not on this platform
        return None


def environment(quick: bool, threads: dict[str, Any], load_at_start: Any,
                largest: int) -> dict[str, Any]:
    versions = {"numpy": np.__version__, "dualdiff": dualdiff.__version__}
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False, cwd=Path(__file__).parent).stdout.strip()
    except OSError:
        commit = ""
    versions["dualdiff"] += f" ({commit})" if commit else ""
    for name in ("scipy", "jax", "torch", "autograd"):
        if name in sys.modules:
            try:
                versions[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                versions[name] = "unknown"
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
        "quick": quick,
        "largest": largest,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "threads": threads,
        "load_average": {"start": load_at_start, "end": load_average()},
        "timer": "time.perf_counter; median per call; ratios to the baseline of the same run",
    }


def write_json(path: str, report: Report, env: dict[str, Any]) -> None:
    data = {
        "environment": env,
        "rows": [asdict(row) for row in report.rows],
        "skipped": report.skipped,
    }
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")


def profile_scalar(calls: int = 20_000, top: int = 15) -> str:
    """cProfile of ``calls`` scalar value_and_derivative calls, top functions by own time."""
    f, x = make_scalar_formula(np), SCALAR_POINT
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        dualdiff.value_and_derivative(f, x)
    profiler.disable()
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    return stream.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--profile", action="store_true", help="cProfile the scalar benchmark")
    parser.add_argument("--no-peers", action="store_true", help="measure dualdiff only")
    parser.add_argument("--only", nargs="+", metavar="GROUP",
                        choices=[group.name for group in GROUPS], help="run these groups only")
    parser.add_argument("--largest", type=int, metavar="N",
                        help="skip Jacobians and Hessians larger than N (a full run: 10000)")
    args = parser.parse_args(argv)

    load_at_start = load_average()
    settings = QUICK if args.quick else FULL
    if args.largest is not None:
        settings = Settings(settings.loop_seconds, settings.repeats, settings.big_repeats,
                            args.largest, settings.quick)
    peers, skipped = ({}, ["peers: skipped (--no-peers)"]) if args.no_peers else load_peers()
    limiter, threads = pin_threads()  # after the peers load their own pools
    report = Report(skipped=list(skipped))
    started = time.perf_counter()
    try:
        for group in GROUPS:
            if args.only is None or group.name in args.only:
                group.run(report, peers, settings)
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    env = environment(args.quick, threads, load_at_start, settings.largest)

    print(format_table(report))
    print()
    for line in report.skipped:
        print(line)
    pools = ", ".join(f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} "
                      "thread)" for p in threads.get("pools", [])) or threads["threadpoolctl"]
    print(f"threads pinned to 1: {pools}")
    print(f"load average {env['load_average']['start']} at the start, "
          f"{env['load_average']['end']} at the end ({env['cpu_count']} cores, {env['cpu']})")
    print(
        f"({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s; "
        "medians and ratios from this run only)"
    )
    if args.json:
        write_json(args.json, report, env)
        print(f"wrote {args.json}")
    if args.profile:
        print()
        print(profile_scalar())
    return 0


if __name__ == "__main__":
    sys.exit(main())
