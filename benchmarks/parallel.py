"""Scaling-out benchmarks: Jacobian columns on worker pools, and JVPs of Dask arrays.

Run it from the repository root (needs ``pip install '.[parallel,dask]'``)::

    python benchmarks/parallel.py                        # full run (a few minutes)
    python benchmarks/parallel.py --quick                # smoke run
    python benchmarks/parallel.py --json benchmarks/results/parallel.json

Two benchmarks, every ratio measured within the same run:

1. ``columns``: ``jacobian(simulate, p, chunk_size=8)`` of an explicit time-stepping
   "simulation" of ``n = 64`` parameters whose plain NumPy evaluation costs about
   20 ms (the grid size is calibrated at start-up so that it does on this machine:
   NumPy work, not ``sleep``), serially, on a ``ProcessPoolExecutor`` of 2 processes,
   and on a 2-worker ``LocalCluster`` (one thread each).  The speed-up is serial time
   over parallel time.  The machine's *ceiling* for this work is measured beside it: two
   whole serial Jacobians at once, one per process of the pool, against one alone (on an
   idle 2-core machine it is 2x; on a shared one, what the other processes leave).
   The *overhead per task* is measured separately: a Jacobian of a trivial ``f`` with 64
   one-column tasks, wall time per task, minus the serial time per block.  Beside the
   Jacobian's ceiling, a pure-Python loop's (two at once against one: the cores
   themselves), and the CPU the *other* processes of the machine took during the timed
   rounds (``others_cores``: busy time from ``/proc/stat`` minus this run's processes').
2. ``dask``: ``jvp(f, (x,), (v,))`` of the elementwise formula of ``benchmarks/run.py``
   on a Dask array of ``--size`` float64 (chunks of 10**6), on a 2-worker LocalCluster,
   against the Dask primal ``f(x)``; both are consumed by a sum (``dask.compute`` of
   the sums) so no result is gathered.  The inputs are *streamed*: generated chunk by
   chunk on the workers inside each computation, never persisted, so an array larger
   than the cluster's memory works the same way (the time to generate the inputs alone
   is reported, and the ratio net of it).  Peak memory per worker is the growth of the
   worker process's peak resident set (``ru_maxrss``) over its value after a warm-up.

The allocator: a Dual operation allocates fresh arrays of the tangents' size; with
glibc's default settings, arrays of a few MiB are given back to the system when freed
and faulted in again at the next allocation (half a million page faults per Jacobian of
the simulation, most of its time).  The benchmark sets ``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TOP_PAD_`` (and ``mallopt`` in this process) so
every engine, serial included, keeps its heap; ``--default-malloc`` measures without.
Dask's workers get them too (its nanny otherwise sets ``MALLOC_TRIM_THRESHOLD_=65536``,
and one thread each for BLAS/OpenMP; the process pool's workers keep NumPy's threads,
which this elementwise work does not use).  The serial Jacobian with the default
allocator is timed beside it (one worker process started without the settings).

The machine's load average (1 min) is recorded before and after: the machine may be
shared, and a loaded machine lowers the speed-ups.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import multiprocessing
import os
import platform
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmark this checkout
    sys.path.insert(0, str(ROOT))

import dualdiff as dd  # noqa: E402

N_PARAMETERS = 64
CHUNK = 8
TARGET_SECONDS = 0.020
SPEEDUP_TARGET = 1.7
DASK_RATIO_TARGET = 3.0
DASK_CHUNK = 10**6


MALLOC = {  # glibc: keep freed memory in the heap instead of returning it (see the docstring)
    "MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_MMAP_THRESHOLD_": 2**25, "MALLOC_TOP_PAD_": 2**26,
}
_MALLOPT = {"MALLOC_TRIM_THRESHOLD_": -1, "MALLOC_TOP_PAD_": -2, "MALLOC_MMAP_THRESHOLD_": -3}


def tune_malloc() -> bool:
    """Set :data:`MALLOC` here (``mallopt``) and for the processes started from now on."""
    for name, value in MALLOC.items():
        os.environ[name] = str(value)
    try:  # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in its workers unless told otherwise
        import dask  # noqa: PLC0415 - the dask extra

        spawn = "distributed.nanny.pre-spawn-environ"
        dask.config.set({spawn: {**dask.config.get(spawn, {}), **MALLOC}})
    except ImportError:
        pass
    try:
        libc = ctypes.CDLL(None)
        return all(libc.mallopt(_MALLOPT[name], value) == 1 for name, value in MALLOC.items())
    except (OSError, AttributeError):  # not glibc: the environment variables do nothing either
        return False


def cpu_busy() -> float:
    """Seconds of CPU the whole machine has been busy (``/proc/stat``; 0 where there is none)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except OSError:
        return 0.0
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds of this process and every process it started (psutil comes with distributed)."""
    import psutil  # noqa: PLC0415 - a dependency of distributed

    me = psutil.Process()
    total = 0.0
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


class Others:
    """How many cores the machine's other processes used while the block ran."""

    def __enter__(self) -> Others:
        self.busy, self.own, self.wall = cpu_busy(), own_cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        wall = time.perf_counter() - self.wall
        others = (cpu_busy() - self.busy) - (own_cpu() - self.own)
        self.cores = max(0.0, others / wall) if wall > 0 else 0.0


def burn(n: int) -> float:
    """A pure-Python loop: the cores' own ceiling, with no memory traffic."""
    start = time.perf_counter()
    total = 0
    for i in range(n):
        total += i * i
    return time.perf_counter() - start


class Simulation:
    """``p -> y(T)``: explicit Euler steps of ``y' = sin(y) p_i - y^2 / 2`` on a grid.

    Each parameter drives one step, so every column of the Jacobian is non-zero;
    the output is 16 samples of the final state.
    """

    def __init__(self, size: int) -> None:
        self.grid = np.linspace(0.0, 1.0, size)

    def __call__(self, p: Any) -> Any:
        y = np.cos(self.grid * p[0])
        for i in range(p.shape[0]):
            y = y + 0.01 * (np.sin(y) * p[i] - 0.5 * y * y)
        return y[:: max(1, self.grid.size // 16)][:16]


def serial_jacobian(simulation: Simulation, point: np.ndarray) -> np.ndarray:
    return dd.jacobian(simulation, point, chunk_size=CHUNK)


def trivial(x: Any) -> Any:
    return x * 2.0


def median_time(call: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def calibrate(point: np.ndarray) -> Simulation:
    """A simulation whose plain evaluation takes about :data:`TARGET_SECONDS` here."""
    size = 20_000
    for _ in range(4):
        simulation = Simulation(size)
        seconds = median_time(lambda s=simulation: s(point), 5)
        size = max(1000, int(size * TARGET_SECONDS / seconds))
    return Simulation(size)


def load() -> float:
    return os.getloadavg()[0]


def worker_peak_rss(client: Any) -> list[float]:
    """Peak resident set of each worker process, in MiB (Linux's ru_maxrss is in KiB)."""
    peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return [peaks[address] / 1024 for address in sorted(peaks)]


def bench_columns(rows: list[dict[str, Any]], repeats: int) -> None:
    from distributed import Client, LocalCluster  # noqa: PLC0415 - the dask extra

    point = np.linspace(0.5, 1.5, N_PARAMETERS)
    simulation = calibrate(point)
    primal = median_time(lambda: simulation(point), 7)
    reference = dd.jacobian(simulation, point, chunk_size=CHUNK)
    spawn = multiprocessing.get_context("spawn")
    if os.environ.get("MALLOC_TRIM_THRESHOLD_"):  # the serial Jacobian with glibc's defaults
        tuned = {name: os.environ.pop(name) for name in MALLOC}
        with ProcessPoolExecutor(1, mp_context=spawn) as plain:
            plain.submit(serial_jacobian, simulation, point).result()
            default = median_time(
                lambda: plain.submit(serial_jacobian, simulation, point).result(), repeats)
        os.environ.update(tuned)
        rows.append({
            "benchmark": "columns", "case": f"n={N_PARAMETERS}, chunk_size={CHUNK}",
            "method": "serial, default malloc", "median": default, "unit": "s",
            "speedup": None, "target": None, "ok": None,
        })
    with ProcessPoolExecutor(2, mp_context=spawn) as pool, \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         dashboard_address=None) as cluster, Client(cluster) as client:
        engines = {"serial": None, "2 processes": pool, "LocalCluster, 2 workers": client}
        for executor in (pool, client):  # warm up: workers import dualdiff, load f once
            same = np.array_equal(dd.jacobian(simulation, point, chunk_size=CHUNK,
                                              executor=executor), reference)
            if not same:
                raise AssertionError("a parallel Jacobian differs from the serial one")
        times: dict[str, list[float]] = {name: [] for name in engines}
        with Others() as others:
            for _ in range(repeats):  # round-robin, so a burst of load hits every engine
                for name, executor in engines.items():
                    start = time.perf_counter()
                    dd.jacobian(simulation, point, chunk_size=CHUNK, executor=executor)
                    times[name].append(time.perf_counter() - start)
        serial = statistics.median(times["serial"])
        for name in engines:
            seconds = statistics.median(times[name])
            rows.append({
                "benchmark": "columns", "case": f"n={N_PARAMETERS}, chunk_size={CHUNK}",
                "method": name, "median": seconds, "unit": "s",
                "speedup": serial / seconds,
                "target": None if name == "serial" else SPEEDUP_TARGET,
                "ok": None if name == "serial" else serial / seconds >= SPEEDUP_TARGET,
                "f_seconds": primal, "grid": int(simulation.grid.size),
                "others_cores": others.cores,
            })
        # The machine's own ceiling for this work: two whole serial Jacobians at once, one in
        # each process of the pool (no dualdiff.parallel), against one in this process.
        with Others() as others:
            alone = median_time(lambda: pool.submit(serial_jacobian, simulation, point).result(),
                                repeats)
            both = median_time(lambda: list(pool.map(serial_jacobian, [simulation] * 2,
                                                     [point] * 2)), repeats)
        rows.append({
            "benchmark": "columns", "case": "2 serial Jacobians at once",
            "method": "2 processes: the machine's ceiling", "median": both / 2, "unit": "s",
            "speedup": 2 * alone / both, "target": None, "ok": None, "others_cores": others.cores,
        })
        loop = 2_000_000
        with Others() as others:
            pairs = [(pool.submit(burn, loop).result(), max(pool.map(burn, [loop, loop])))
                     for _ in range(max(3, repeats))]
        one, two = (statistics.median(times) for times in zip(*pairs, strict=True))
        rows.append({
            "benchmark": "columns", "case": "2 pure-Python loops at once",
            "method": "2 processes: the cores' ceiling", "median": two, "unit": "s",
            "speedup": 2 * one / two, "target": None, "ok": None, "others_cores": others.cores,
        })
        small = np.linspace(0.0, 1.0, N_PARAMETERS)
        serial_block = median_time(lambda: dd.jacobian(trivial, small, chunk_size=1),
                                   repeats) / N_PARAMETERS
        for name, executor in (("2 processes", pool), ("LocalCluster, 2 workers", client)):
            dd.jacobian(trivial, small, chunk_size=1, executor=executor)
            wall = median_time(lambda e=executor: dd.jacobian(trivial, small, chunk_size=1,
                                                              executor=e), repeats)
            rows.append({
                "benchmark": "task overhead", "case": f"{N_PARAMETERS} one-column tasks",
                "method": name, "median": wall / N_PARAMETERS - serial_block, "unit": "s",
                "serial_block": serial_block,
            })


def bench_dask(rows: list[dict[str, Any]], size: int, repeats: int) -> None:
    import dask  # noqa: PLC0415 - the dask extra
    import dask.array as da  # noqa: PLC0415
    from distributed import Client, LocalCluster  # noqa: PLC0415

    sys.path.insert(0, str(Path(__file__).parent))
    from run import make_scalar_formula  # noqa: PLC0415 - the Foundation's formula

    f = make_scalar_formula(np)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, memory_limit="3GiB") as cluster, \
            Client(cluster) as client:
        # Streamed inputs: each computation generates them chunk by chunk on the workers
        # (nothing persisted), as an array larger than memory would be.
        x = da.random.default_rng(2).uniform(-1.5, 1.5, size, chunks=DASK_CHUNK)
        v = da.random.default_rng(3).standard_normal(size, chunks=DASK_CHUNK)
        small = da.ones(4 * DASK_CHUNK, chunks=DASK_CHUNK)
        dask.compute(f(small).sum(), dd.jvp(f, (small,), (small,))[1].sum())  # imports, buffers
        baseline = worker_peak_rss(client)

        def inputs() -> Any:
            return dask.compute(x.sum(), v.sum())

        def input_x() -> Any:
            return dask.compute(x.sum())

        def primal() -> Any:
            return dask.compute(f(x).sum())

        def tangent() -> Any:
            out, slope = dd.jvp(f, (x,), (v,))
            return dask.compute(out.sum(), slope.sum())

        expected = dd.jvp(f, (x[:DASK_CHUNK].compute(),), (v[:DASK_CHUNK].compute(),))[1]
        if not np.allclose(dd.jvp(f, (x[:DASK_CHUNK],), (v[:DASK_CHUNK],))[1].compute(),
                           expected, rtol=1e-14, atol=0):
            raise AssertionError("the Dask JVP differs from the NumPy one")
        times: dict[str, list[float]] = {"x": [], "inputs": [], "primal": [], "jvp": []}
        calls = (("x", input_x), ("inputs", inputs), ("primal", primal), ("jvp", tangent))
        peaks: dict[str, list[float]] = {}
        with Others() as others:
            for _ in range(repeats):  # round-robin; the peaks are read in the first round
                for name, call in calls:
                    start = time.perf_counter()
                    call()
                    times[name].append(time.perf_counter() - start)
                    peaks.setdefault(name, worker_peak_rss(client))
        after_primal, after_jvp = peaks["primal"], peaks["jvp"]
        median = {name: statistics.median(found) for name, found in times.items()}
        base = median["primal"]
        methods = {"x": "input x alone", "inputs": "inputs x, v alone", "primal": "Dask f(x)",
                   "jvp": "dualdiff jvp"}
        for name, method in methods.items():
            seconds = median[name]
            rows.append({
                "benchmark": "dask", "case": f"n={size:.0e}, chunks of {DASK_CHUNK:.0e}",
                "method": method, "median": seconds, "unit": "s", "ratio": seconds / base,
                "target": DASK_RATIO_TARGET if name == "jvp" else None,
                "ok": seconds / base <= DASK_RATIO_TARGET if name == "jvp" else None,
                "peak_rss_mib": {"primal": after_primal, "jvp": after_jvp}.get(name),
                "baseline_rss_mib": baseline, "chunk_mib": DASK_CHUNK * 8 / 2**20,
                "others_cores": others.cores,
                # the ratio net of generating the inputs (x for f; x and v for the JVP)
                "net_ratio": (seconds - median["inputs"]) / max(base - median["x"], 1e-9)
                if name == "jvp" else None,
            })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--size", type=lambda text: int(float(text)), default=10**8,
                        help="Dask array length (1e8: 800 MB per input, streamed)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--only", choices=("columns", "dask"), help="run one benchmark")
    parser.add_argument("--default-malloc", action="store_true",
                        help="keep glibc's allocator settings (see the docstring)")
    args = parser.parse_args(argv)
    malloc = False if args.default_malloc else tune_malloc()
    repeats = 1 if args.quick else 3
    size = min(args.size, 10**6 * 4) if args.quick else args.size
    rows: list[dict[str, Any]] = []
    load_before = load()
    started = time.perf_counter()
    if args.only != "dask":
        bench_columns(rows, repeats)
    if args.only != "columns":
        bench_dask(rows, size, repeats)
    data = {
        "environment": {
            "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "numpy": np.__version__, "quick": args.quick,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "load_before": load_before, "load_after": load(),
            "seconds": time.perf_counter() - started,
            "malloc": {name: os.environ.get(name) for name in MALLOC} if malloc else "default",
        },
        "rows": rows,
    }
    for row in rows:
        extra = (f"speed-up {row['speedup']:.2f}x" if row.get("speedup") is not None
                 else f"ratio {row['ratio']:.2f}x" if "ratio" in row else "")
        if row.get("net_ratio") is not None:
            extra += f" (net of the inputs {row['net_ratio']:.2f}x)"
        if row.get("others_cores") is not None:
            extra += f", others {row['others_cores']:.2f} cores"
        if row.get("peak_rss_mib") is not None:
            growth = [round(p - b) for p, b in zip(row["peak_rss_mib"], row["baseline_rss_mib"],
                                                   strict=True)]
            extra += f", peak growth per worker {growth} MiB"
        print(f"{row['benchmark']:<14} {row['case']:<28} {row['method']:<25} "
              f"{row['median'] * 1e3:10.2f} ms  {extra}")
    print(f"load average {load_before:.2f} before, {data['environment']['load_after']:.2f} after")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
