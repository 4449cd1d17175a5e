"""Benchmarks of dualdiff against plain evaluation (and, optionally, JAX, PyTorch, autograd).

Run it from the repository root::

    python benchmarks/run.py                 # full run (about two minutes on two cores)
    python benchmarks/run.py --quick         # smoke run: fewer, shorter repeats
    python benchmarks/run.py --json out.json # also write every measurement as JSON
    python benchmarks/run.py --profile       # also cProfile the scalar benchmark

Four benchmarks, each timed against a plain (non-differentiated) baseline in the same
run:

1. ``scalar``: ``value_and_derivative(f, 0.7)`` of a NumPy-written formula, against the
   same formula written with :mod:`math` on a Python float.
2. ``elementwise``: ``jvp(f, (x,), (v,))`` of that formula on float64 arrays of length
   ``n``, against ``f(x)`` with NumPy; plus peak memory (``tracemalloc``) of the JVP against
   that of ``f(x)``, excluding the inputs.
3. ``jacobian``: ``jacobian(F, x)`` of ``F(x) = tanh(A @ x) + x * sum(x**2)`` with the
   default chunking and with ``chunk_size=1``, against one evaluation of ``F`` with NumPy.
4. ``sparsity detection``: ``jacobian_sparsity(F, x)`` at ``n = 10**5`` against one ``F(x)``
   (``benchmarks/sparsity.py``, which also runs alone).

Peers (``jax``, ``torch``, ``autograd``) are measured on the same problems when they can
be imported, and skipped with one line otherwise; each peer's derivative is checked
against dualdiff's (``np.allclose``) before it is timed.

How to read the output
----------------------
Every row gives the median time of one call and its *ratio* to the benchmark's baseline
row (the plain evaluation, ``1.00x``).  Tiny calls are timed in loops of many calls and
divided; contenders are timed round-robin (one loop of each, then again), so a burst of
load on a shared machine hits them all alike.  Absolute times move with the machine:
quote the ratios, and only ratios measured in one run.  ``target`` is the ratio dualdiff
aims at, and ``ok`` says whether this run met it.  Peer ratios are also to the *NumPy*
baseline (peers' own primal evaluation may be faster or slower than NumPy's).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import importlib.metadata
import io
import json
import math
import platform
import pstats
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

import dualdiff

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
import minimal_dual  # the benchmark's own floor reference, beside this file
import sparsity  # sparsity detection rows (benchmarks/sparsity.py)

SCALAR_POINT = 0.7
ELEMENTWISE_SIZES = (10**3, 10**5, 10**6)
JACOBIAN_SIZES = (10, 100, 500)
MEMORY_SIZE = 10**6

TARGETS = {
    ("scalar", "x=0.7", "dualdiff value_and_derivative"): 15.0,
    ("elementwise", "n=1000", "dualdiff jvp"): 3.0,
    ("elementwise", "n=1000000", "dualdiff jvp"): 2.3,
    ("elementwise memory", "n=1000000", "dualdiff jvp"): 3.0,
    ("jacobian", "n=10", "dualdiff jacobian"): 4.0,
    ("jacobian", "n=100", "dualdiff jacobian"): 15.0,
    ("jacobian", "n=500", "dualdiff jacobian"): 170.0,
}

TARGETS.update(sparsity.TARGETS)


@dataclass
class Settings:
    """How long to time: seconds per timed loop and loops per contender."""

    loop_seconds: float
    repeats: int
    big_repeats: int  # for calls that take milliseconds (n = 1e6, Jacobians at n = 500)


FULL = Settings(loop_seconds=0.05, repeats=21, big_repeats=9)
QUICK = Settings(loop_seconds=0.005, repeats=3, big_repeats=2)


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


@dataclass
class Report:
    """Everything measured in one run."""

    rows: list[Row] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        target = TARGETS.get((row.benchmark, row.case, row.method))
        if target is not None:
            row.target, row.ok = target, row.ratio <= target
        self.rows.append(row)


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
    fn()
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


def peak_bytes(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Median peak of traced allocations during ``fn()``, above what was live before it."""
    fn()  # warm-up: first-call caches are not the function's memory
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


PEER_BENCHMARKS: dict[str, dict[str, Callable[..., dict[str, Callable[[], Any]]]]] = {
    "scalar": {"jax": jax_scalar, "torch": torch_scalar, "autograd": autograd_scalar},
    "elementwise": {
        "jax": jax_elementwise,
        "torch": torch_elementwise,
        "autograd": autograd_elementwise,
    },
    "jacobian": {"jax": jax_jacobian, "torch": torch_jacobian, "autograd": autograd_jacobian},
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


def bench_memory(report: Report, peers: dict[str, Any]) -> None:
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
    for n in JACOBIAN_SIZES:
        a, x = dense_matrix(n), dense_point(n)
        dense = make_dense_function(np, a)
        expected = dualdiff.jacobian(dense, x)
        assert np.allclose(dualdiff.jacobian(dense, x, chunk_size=1), expected)
        contenders = {
            "dualdiff jacobian": lambda x=x, dense=dense: dualdiff.jacobian(dense, x),
            "dualdiff jacobian chunk_size=1": lambda x=x, dense=dense: dualdiff.jacobian(
                dense, x, chunk_size=1
            ),
        }
        contenders.update(peer_calls(report, peers, "jacobian", expected, f"n={n}", a, x))
        repeats = settings.big_repeats if n >= 500 else settings.repeats
        baseline = ("numpy F(x) (baseline)", lambda x=x, dense=dense: dense(x))
        record_times(report, "jacobian", f"n={n}", baseline, contenders, settings, repeats)


def bench_sparsity(report: Report, settings: Settings) -> None:
    for row in sparsity.bench(settings.big_repeats):  # its own timer: CPU time, round-robin
        report.add(Row(*row))


# --- output ------------------------------------------------------------------------------------


def format_amount(amount: float, unit: str) -> str:
    if unit == "B":
        return f"{amount / 2**20:9.1f} MiB"
    for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
        if amount >= scale:
            return f"{amount / scale:9.2f} {name:>3}"
    return f"{amount / 1e-9:9.1f}  ns"


def format_table(report: Report) -> str:
    header = f"{'benchmark':<19} {'case':<10} {'method':<33} {'median':>13} {'ratio':>9}"
    header += f" {'target':>8}  ok"
    lines = [header, "-" * len(header)]
    previous = None
    for row in report.rows:
        if previous is not None and (row.benchmark, row.case) != previous:
            lines.append("")
        previous = (row.benchmark, row.case)
        target = f"<= {row.target:g}x" if row.target is not None else ""
        ok = {True: "yes", False: "NO", None: ""}[row.ok]
        lines.append(
            f"{row.benchmark:<19} {row.case:<10} {row.method:<33} "
            f"{format_amount(row.median, row.unit)} {row.ratio:8.2f}x {target:>8}  {ok}"
        )
    return "\n".join(lines)


def environment(quick: bool) -> dict[str, Any]:
    versions = {"numpy": np.__version__, "dualdiff": dualdiff.__version__}
    for name in ("jax", "torch", "autograd"):
        if name in sys.modules:
            try:
                versions[name] = importlib.metadata.version(name)
            except importlib.metadata.PackageNotFoundError:
                versions[name] = "unknown"
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "versions": versions,
        "quick": quick,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "timer": "time.perf_counter; median per call; ratios to the baseline of the same run",
    }


def write_json(path: str, report: Report, quick: bool) -> None:
    data = {
        "environment": environment(quick),
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


def bench_sparse(report: Report, quick: bool) -> None:
    """The sparse Jacobian and Hessian benchmarks of ``sparse.py`` (beside this file)."""
    import sparse  # noqa: PLC0415 - benchmarks/sparse.py, first on sys.path

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
            row.target, row.ok = target, ratio <= target

    report.skipped += sparse.run(add, quick, peak_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--profile", action="store_true", help="cProfile the scalar benchmark")
    parser.add_argument("--no-peers", action="store_true", help="measure dualdiff only")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    peers, skipped = ({}, ["peers: skipped (--no-peers)"]) if args.no_peers else load_peers()
    report = Report(skipped=list(skipped))
    started = time.perf_counter()
    bench_scalar(report, peers, settings)
    bench_elementwise(report, peers, settings)
    bench_memory(report, peers)
    bench_jacobian(report, peers, settings)
    bench_sparsity(report, settings)
    bench_sparse(report, args.quick)

    print(format_table(report))
    print()
    for line in report.skipped:
        print(line)
    print(
        f"({'quick' if args.quick else 'full'} run, {time.perf_counter() - started:.0f} s; "
        "medians and ratios from this run only)"
    )
    if args.json:
        write_json(args.json, report, args.quick)
        print(f"wrote {args.json}")
    if args.profile:
        print()
        print(profile_scalar())
    return 0


if __name__ == "__main__":
    sys.exit(main())
