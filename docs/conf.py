"""Sphinx configuration for the dualdiff documentation.

Build it from the repository root with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Importing this file has no side effects beyond putting the repository on
``sys.path`` (pytest imports it when it collects doctests).  The work happens
in :func:`setup`'s hooks, during a build only:

- ``builder-inited`` reads ``benchmarks/results.json``, the last *full* run of
  ``benchmarks/run.py`` committed to the repository (with its date, machine,
  thread pools and load average), copies it beside the pages as ``bench.json``,
  and fails the build if it is missing, malformed, empty or from a ``--quick``
  run (a smoke run's short loops are not figures to publish);
- ``source-read`` replaces the ``% benchmark-tables`` line of ``performance.md``
  with MyST tables rendered from that JSON, so every number on the page is one
  the committed run measured;
- ``builder-inited`` also mirrors ``../notebooks`` into ``docs/notebooks``
  (generated, git-ignored; Sphinx reads sources under ``docs/`` only, and a
  symbolic link would not do: Sphinx resolves links between documents through
  it to paths outside ``docs/``), and myst-nb executes the notebooks on every
  build, with a kernel that runs the Python running Sphinx.
"""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
if str(ROOT) not in sys.path:  # document this checkout, not some installed copy
    sys.path.insert(0, str(ROOT))

import dualdiff  # noqa: E402 - needs the path above

# --- project -------------------------------------------------------------------------------------

project = "dualdiff"
author = "the dualdiff authors"
copyright = "the dualdiff authors"
release = version = dualdiff.__version__

# --- general -------------------------------------------------------------------------------------

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # the docs extra: MathJax 3 copied into _static, no CDN
]
exclude_patterns = ["_build", "README.md", "**/.ipynb_checkpoints", "jupyter_execute"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
pygments_style = "sphinx"

# --- API reference (autodoc + NumPy docstrings) --------------------------------------------------

autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the NumPy docstrings state the types
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# --- notebooks -----------------------------------------------------------------------------------

nb_execution_mode = "force"  # run every notebook on every build: the output shown is current
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# --- HTML ----------------------------------------------------------------------------------------

html_theme = "furo"
html_title = f"dualdiff {release}"
html_static_path = ["_static"]
html_css_files = ["dualdiff.css"]  # notebook input and output cells styled apart
# The maths renders offline: sphinx-mathjax-offline copies its MathJax into _static/mathjax
# (it sets this path too; stated here so the page's script and the copy cannot drift apart).
mathjax_path = "mathjax/tex-chtml.js"

# --- benchmarks: the last full run, committed --------------------------------------------------

BENCHMARK_SCRIPT = ROOT / "benchmarks" / "run.py"
BENCHMARK_JSON = ROOT / "benchmarks" / "results.json"
BENCHMARK_PAGE = "performance"
BENCHMARK_MARKER = "% benchmark-tables"
BENCHMARK_TITLES = {
    "scalar": "Scalar derivative",
    "elementwise": "Elementwise JVP (time)",
    "elementwise memory": "Elementwise JVP (peak memory)",
    "jacobian": "Dense Jacobian (time)",
    "jacobian memory": "Dense Jacobian (peak memory)",
    "hessian": "Rosenbrock Hessian (time)",
    "hessian memory": "Rosenbrock Hessian (peak memory)",
}
BENCHMARK_COMMAND = "python benchmarks/run.py --json benchmarks/results.json"


def _child_environment() -> dict[str, str]:
    """The environment for subprocesses: this checkout first on ``PYTHONPATH``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def load_benchmarks(app: Any) -> None:
    """Load the committed full run for :func:`insert_benchmark_tables`; copy it beside the pages."""
    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    path = Path(app.outdir) / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    if not BENCHMARK_JSON.is_file():
        raise ExtensionError(
            f"the performance page needs {BENCHMARK_JSON}, which is missing; measure with "
            f"`{BENCHMARK_COMMAND}` and commit it"
        )
    try:
        data = json.loads(BENCHMARK_JSON.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExtensionError(f"cannot read {BENCHMARK_JSON}: {error}") from error
    if not isinstance(data, dict) or not data.get("rows"):
        raise ExtensionError(f"{BENCHMARK_JSON} has no rows; measure again: `{BENCHMARK_COMMAND}`")
    environment = data.get("environment", {})
    if environment.get("quick", True) or "date" not in environment:
        raise ExtensionError(
            f"{BENCHMARK_JSON} is from a --quick run (or has no date): the page shows full "
            f"runs only; measure with `{BENCHMARK_COMMAND}`"
        )
    shutil.copyfile(BENCHMARK_JSON, path)
    app.dualdiff_benchmarks = data


def format_amount(amount: float, unit: str) -> str:
    """A median as text, as the benchmark script prints it (without its padding)."""
    return " ".join(_benchmark_script().format_amount(amount, unit).split())


def _benchmark_script() -> Any:
    """``benchmarks/run.py`` as a module, for its formatting (imported once, when needed)."""
    if "dualdiff_benchmark_run" not in sys.modules:
        import importlib.util  # noqa: PLC0415 - only the performance page needs it

        spec = importlib.util.spec_from_file_location(
            "dualdiff_benchmark_run", ROOT / "benchmarks" / "run.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        path, modules = list(sys.path), set(sys.modules)
        try:
            spec.loader.exec_module(module)
        finally:  # run.py puts benchmarks/ first on sys.path: its sparse.py must not shadow
            sys.path[:] = path  # pydata's sparse (dask imports it) in this process
            for name in set(sys.modules) - modules - {spec.name}:
                if str(getattr(sys.modules[name], "__file__", "")).startswith(
                        str(ROOT / "benchmarks")):
                    del sys.modules[name]
    return sys.modules["dualdiff_benchmark_run"]


def format_ratio(ratio: float) -> str:
    """A ratio to the baseline, as the tables print it."""
    return f"{ratio:.2f}x"


def benchmark_tables(data: dict[str, Any]) -> str:
    """MyST Markdown for the benchmark JSON: one table per benchmark, then the setting."""
    rows = data.get("rows")
    if not rows:
        raise ValueError("the benchmark JSON has no rows")
    lines: list[str] = []
    for benchmark in dict.fromkeys(row["benchmark"] for row in rows):
        lines += [
            f"## {BENCHMARK_TITLES.get(benchmark, benchmark)}",
            "",
            "| case | method | median | ratio to baseline | target | met |",
            "| --- | --- | ---: | ---: | ---: | :---: |",
        ]
        for row in rows:
            if row["benchmark"] != benchmark:
                continue
            target = format_target(row)
            met = {True: "yes", False: "**no**", None: ""}[row.get("ok")]
            lines.append(
                f"| {row['case']} | {row['method']} | {format_amount(row['median'], row['unit'])}"
                f" | {format_ratio(row['ratio'])} | {target} | {met} |"
            )
        lines.append("")
    env = data.get("environment", {})
    versions = ", ".join(f"{name} {v}" for name, v in env.get("versions", {}).items())
    run = "a quick run of `benchmarks/run.py --quick`" if env.get("quick") else (
        "a full run of `benchmarks/run.py`")
    lines += [
        "## Where these numbers come from",
        "",
        f"- Measured {env.get('date', '(date unknown)')} by {run}, committed as "
        f"`benchmarks/results.json`, on {env.get('platform', '(platform unknown)')} "
        f"({env.get('machine', '?')}, {env.get('cpu', 'CPU not recorded')}, "
        f"{env.get('cpu_count', '?')} cores), Python {env.get('python', '?')}; {versions}.",
        f"- Threads: {_threads_text(env.get('threads'))}.",
        f"- Load average (1, 5, 15 min): {_load_text(env.get('load_average'))}.",
        f"- Timer: {env.get('timer', 'not recorded')}.",
    ]
    lines += [f"- {line}" for line in data.get("skipped", [])]
    return "\n".join(lines) + "\n"


def format_target(row: dict[str, Any]) -> str:
    """``≤ 15x`` for a ratio target, ``≤ 2.00 s`` or ``≤ 1024.0 MiB`` for an absolute one."""
    if row.get("target") is None:
        return ""
    if row.get("target_kind") == "absolute":
        return f"≤ {format_amount(row['target'], row['unit'])}"
    return f"≤ {row['target']:g}x"


def _threads_text(threads: Any) -> str:
    """The thread pools the run pinned (threadpoolctl's report), or what is known."""
    if not threads:
        return "not recorded"
    pools = threads.get("pools") or []
    found = ", ".join(
        f"{pool.get('internal_api', '?')} {pool.get('version', '?')} "
        f"({pool.get('num_threads', '?')} thread{'s' if pool.get('num_threads') != 1 else ''})"
        for pool in pools
    )
    return (f"pinned to 1 ({found}; threadpoolctl {threads.get('threadpoolctl')})" if found
            else f"pinned to 1 by environment variables (threadpoolctl: "
                 f"{threads.get('threadpoolctl', 'not recorded')})")


def _load_text(load: Any) -> str:
    """The load averages at the start and end of the run."""
    if not load:
        return "not recorded"
    return f"{load.get('start')} at the start, {load.get('end')} at the end"


def insert_benchmark_tables(app: Any, docname: str, source: list[str]) -> None:
    """Replace the marker line of the performance page with this build's tables."""
    if docname != BENCHMARK_PAGE:
        return
    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    text = source[0]
    if BENCHMARK_MARKER not in text.splitlines():
        raise ExtensionError(f"{docname} lost its {BENCHMARK_MARKER!r} line")
    data = getattr(app, "dualdiff_benchmarks", None)
    if data is None:
        raise ExtensionError("the benchmarks were not run before the performance page was read")
    try:
        tables = benchmark_tables(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ExtensionError(f"cannot render the benchmark JSON: {error!r}") from error
    source[0] = text.replace(BENCHMARK_MARKER, tables, 1)


COVERAGE_PAGE = "coverage"
COVERAGE_MARKER = "% coverage-table"


def insert_coverage_table(app: Any, docname: str, source: list[str]) -> None:
    """Replace the marker line of the coverage page with the report of this checkout."""
    if docname != COVERAGE_PAGE:
        return
    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    from dualdiff.coverage import classify, markdown_report  # noqa: PLC0415

    text = source[0]
    if COVERAGE_MARKER not in text.splitlines():
        raise ExtensionError(f"{docname} lost its {COVERAGE_MARKER!r} line")
    source[0] = text.replace(COVERAGE_MARKER, markdown_report(classify()), 1)


ARRAY_API_PAGE = "array_api"
ARRAY_API_MARKERS = ("% scipy-array-api-survey", "% array-api-conformance")
ARRAY_API_RESULTS = DOCS / "_data" / "array_api_conformance.json"


def insert_array_api_sections(app: Any, docname: str, source: list[str]) -> None:
    """The array API page: this build's SciPy survey, and the committed conformance run."""
    if docname != ARRAY_API_PAGE:
        return
    import importlib.util  # noqa: PLC0415 - only this page needs it

    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    text = source[0]
    for marker in ARRAY_API_MARKERS:
        if marker not in text.splitlines():
            raise ExtensionError(f"{docname} lost its {marker!r} line")
    command = [sys.executable, "-m", "dualdiff.array_api.scipy_survey"]
    done = subprocess.run(command, cwd=ROOT, env={**_child_environment(), "SCIPY_ARRAY_API": "1"},
                          capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise ExtensionError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    spec = importlib.util.spec_from_file_location(
        "array_api_conformance", ROOT / "benchmarks" / "array_api_conformance.py")
    harness = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(harness)
    figure = harness.markdown(json.loads(ARRAY_API_RESULTS.read_text(encoding="utf-8")))
    text = text.replace(ARRAY_API_MARKERS[0], done.stdout, 1)
    source[0] = text.replace(ARRAY_API_MARKERS[1], figure, 1)


SCALING_PAGE = "scaling"
SCALING_MARKER = "% scaling-figures"
SCALING_JSON = ROOT / "benchmarks" / "results" / "parallel.json"


def scaling_figures(data: dict[str, Any]) -> str:
    """MyST Markdown for the committed JSON of ``benchmarks/parallel.py``."""
    env = data["environment"]
    lines = [
        "| benchmark | case | method | median | vs. baseline | target | met |",
        "| --- | --- | --- | ---: | ---: | ---: | :---: |",
    ]
    for row in data["rows"]:
        if row.get("speedup") is not None:
            versus = f"speed-up {row['speedup']:.2f}x"
        elif "ratio" in row:
            versus = f"{row['ratio']:.2f}x the primal's time"
            if row.get("net_ratio") is not None:
                versus += f" ({row['net_ratio']:.2f}x net of making the inputs)"
        elif "serial_block" in row:
            versus = f"(serial block {row['serial_block'] * 1e3:.2f} ms)"
        else:
            versus = ""
        sign = "≥" if "speedup" in row else "≤"
        target = "" if row.get("target") is None else f"{sign} {row['target']:g}x"
        met = {True: "yes", False: "**no**", None: ""}[row.get("ok")]
        lines.append(f"| {row['benchmark']} | {row['case']} | {row['method']} | "
                     f"{row['median'] * 1e3:.2f} ms | {versus} | {target} | {met} |")
    columns = next(row for row in data["rows"] if "f_seconds" in row)
    lines += ["", f"- The simulation's plain evaluation took {columns['f_seconds'] * 1e3:.1f} ms "
              f"(grid of {columns['grid']} points)."]
    others = {row["benchmark"]: row["others_cores"] for row in data["rows"]
              if row.get("others_cores") is not None}
    if others:
        text = ", ".join(f"{name} {cores:.2f}" for name, cores in others.items())
        lines.append(f"- CPU taken by the machine's other processes during the timed rounds, "
                     f"in cores: {text} (of {env['cpus']}).")
    for row in data["rows"]:
        if row["benchmark"] == "dask" and row.get("peak_rss_mib") is not None:
            rss = ", ".join(f"{peak - base:.0f}" for peak, base in
                            zip(row["peak_rss_mib"], row["baseline_rss_mib"], strict=True))
            lines.append(f"- {row['method']}: peak resident memory of each worker above its "
                         "value after a warm-up on a small array (the inputs are streamed, "
                         f"not persisted), {rss} MiB (one chunk is {row['chunk_mib']:.1f} MiB).")
    malloc = env.get("malloc")
    if isinstance(malloc, dict):
        settings = " ".join(f"`{name}={value}`" for name, value in malloc.items())
        lines.append(f"- Every process ran with glibc's {settings} (see the text above).")
    lines.append(
        f"- Measured {env['date']} by `benchmarks/parallel.py"
        f"{' --quick' if env['quick'] else ''}` on {env['platform']}, {env['cpus']} CPUs, "
        f"Python {env['python']}, NumPy {env['numpy']}; load average (1 min) "
        f"{env['load_before']:.1f} before and {env['load_after']:.1f} after the run (the "
        "machine was shared: a load above the CPU count takes CPU time from the workers)."
    )
    return "\n".join(lines) + "\n"


def insert_scaling_figures(app: Any, docname: str, source: list[str]) -> None:
    """Replace the marker line of the scaling page with the committed measurements."""
    if docname != SCALING_PAGE:
        return
    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    text = source[0]
    if SCALING_MARKER not in text.splitlines():
        raise ExtensionError(f"{docname} lost its {SCALING_MARKER!r} line")
    try:
        figures = scaling_figures(json.loads(SCALING_JSON.read_text(encoding="utf-8")))
    except (OSError, KeyError, TypeError, ValueError, StopIteration) as error:
        raise ExtensionError(f"cannot render {SCALING_JSON}: {error!r}") from error
    source[0] = text.replace(SCALING_MARKER, figures, 1)


def always_reread_performance(app: Any, env: Any, added: Any, changed: Any, removed: Any) -> list:
    """The measurements change on every build, so the performance page is always re-read."""
    return [BENCHMARK_PAGE] if BENCHMARK_PAGE in env.found_docs else []


NOTEBOOKS = ROOT / "notebooks"
NOTEBOOKS_COPY = DOCS / "notebooks"
SKIPPED_PARTS = {".ipynb_checkpoints", "__pycache__"}


def mirror_notebooks(app: Any) -> None:
    """Make ``docs/notebooks`` a copy of ``notebooks/`` (files that did not change stay put)."""
    from sphinx.errors import ExtensionError  # noqa: PLC0415 - only during a build

    if not any(NOTEBOOKS.glob("*.ipynb")):
        raise ExtensionError(f"no notebooks in {NOTEBOOKS}")
    if NOTEBOOKS_COPY.is_symlink():
        NOTEBOOKS_COPY.unlink()
    wanted = {
        path.relative_to(NOTEBOOKS)
        for path in NOTEBOOKS.rglob("*")
        if path.is_file() and not SKIPPED_PARTS & set(path.relative_to(NOTEBOOKS).parts)
    }
    for relative in sorted(wanted):
        source, target = NOTEBOOKS / relative, NOTEBOOKS_COPY / relative
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.copying")
        shutil.copyfile(source, staging)
        staging.replace(target)  # atomic: a concurrent build never reads half a notebook
    for path in sorted(NOTEBOOKS_COPY.rglob("*"), reverse=True):  # files before their folders
        relative = path.relative_to(NOTEBOOKS_COPY)
        if path.is_file() and relative not in wanted and not SKIPPED_PARTS & set(relative.parts):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


LEARNING_PATH_PAGE = "learning_path"
NOTEBOOK_LINK = re.compile(r"\{doc\}`([^`<]+?)\s*<notebooks/([\w.-]+)>`")


def unlink_absent_notebooks(app: Any, docname: str, source: list[str]) -> None:
    """On the learning-path page, name a notebook that ``notebooks/`` lacks, without a link.

    The page lists notebooks as they are planned; a link to one that is not
    there would fail the build (``-W``).  Links to notebooks that exist are
    left alone, and the tests check that every one of those is linked.
    """
    if docname != LEARNING_PATH_PAGE:
        return

    def name_only(match: re.Match[str]) -> str:
        title, name = match[1], match[2]
        if (NOTEBOOKS / f"{name}.ipynb").is_file():
            return match[0]
        return f"{title} (notebook `{name}`, not in this build)"

    source[0] = NOTEBOOK_LINK.sub(name_only, source[0])


def use_this_python_for_notebooks(app: Any) -> None:
    """A private ``python3`` kernel spec running ``sys.executable``, ahead of any user spec."""
    jupyter_dir = Path(app.doctreedir) / "jupyter"
    spec_dir = jupyter_dir / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (dualdiff docs)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        filter(None, [str(jupyter_dir), os.environ.get("JUPYTER_PATH")])
    )
    os.environ["PYTHONPATH"] = _child_environment()["PYTHONPATH"]


def setup(app: Any) -> dict[str, Any]:
    """Connect the build-time hooks."""
    app.connect("builder-inited", mirror_notebooks)
    app.connect("builder-inited", use_this_python_for_notebooks)
    app.connect("builder-inited", load_benchmarks)
    app.connect("source-read", insert_benchmark_tables)
    app.connect("source-read", insert_coverage_table)
    app.connect("source-read", insert_array_api_sections)
    app.connect("source-read", unlink_absent_notebooks)
    app.connect("source-read", insert_scaling_figures)
    app.connect("env-get-outdated", always_reread_performance)
    return {"parallel_read_safe": False}
