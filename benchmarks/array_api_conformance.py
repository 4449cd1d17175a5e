"""Run the array API standard's conformance suite against ``dualdiff.array_api``.

The suite (data-apis/array-api-tests) is not on PyPI; a copy sits beside the
repository at ``../shared/vendor/array-api-tests`` (or where
``DUALDIFF_ARRAY_API_TESTS`` points).  It builds every test array from Python
numbers with ``xp.asarray``, ``xp.zeros``, ... -- so from this namespace they
are Duals of zero tangent (integer and boolean ones are NumPy arrays) -- and it
reads elements back with ``float(x[i])``/``complex(x[i])``.  dualdiff refuses
those conversions for every Dual (they would drop a tangent); the suite's
arrays are all constants, so in the suite's process, and only there, this
harness lets ``float``/``complex`` read a Dual whose tangents are all zero (any
other still raises), and switches on :func:`dualdiff.nan_safe` for the
process, so that a constant stays a constant where a slope is infinite (the
suite's special cases: ``acos(1)``, ``sqrt(0)``).  Everything else is the
namespace as users get it.

``python benchmarks/array_api_conformance.py --write`` runs the whole suite
(every test file, ``--max-examples`` examples each) and writes
``docs/_data/array_api_conformance.json`` with the date and the machine; the
docs page reads it.  ``tests/test_array_api.py`` reruns a fast subset in CI.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ENV_VAR = "DUALDIFF_ARRAY_API_TESTS"
RESULTS = ROOT / "docs" / "_data" / "array_api_conformance.json"


def locate_suite() -> tuple[Path | None, str]:
    """The suite's folder (or None) and where it was looked for, for a skip's reason."""
    if os.environ.get(ENV_VAR):
        candidates = [Path(os.environ[ENV_VAR])]
    else:
        candidates = [ROOT.parent / "shared" / "vendor" / "array-api-tests",
                      ROOT.parent.parent / "shared" / "vendor" / "array-api-tests"]
    for path in candidates:
        if (path / "array_api_tests").is_dir():
            return path, str(path)
    return None, f"${ENV_VAR} or " + " or ".join(str(p) for p in candidates)


def allow_constant_conversions() -> None:
    """Let ``float``/``complex`` read a Dual whose tangents are all zero (the suite's only)."""
    import numpy as np  # noqa: PLC0415

    from dualdiff.dual import Dual  # noqa: PLC0415
    from dualdiff.elementary import strip  # noqa: PLC0415
    from dualdiff.memory import tangent_parts  # noqa: PLC0415

    def reading(refused: Any, convert: Any) -> Any:
        def method(self: Dual) -> Any:
            if any(np.any(part != 0) for part in tangent_parts(self)):
                return refused(self)  # a tangent would be dropped: dualdiff's TypeError
            return convert(strip(self))

        return method

    Dual.__float__ = reading(Dual.__float__, float)
    Dual.__complex__ = reading(Dual.__complex__, complex)


def namespace() -> Any:
    """The namespace the suite tests: ``dualdiff.array_api`` (after the allowance above)."""
    allow_constant_conversions()
    import dualdiff.array_api  # noqa: PLC0415
    from dualdiff.dispatch import set_nan_safe  # noqa: PLC0415

    set_nan_safe(True)  # a zero tangent times an infinite slope (acos at 1) stays 0, not nan

    return dualdiff.array_api


def run(suite: Path, tests: list[str], max_examples: int, report: Path,
        extra: list[str] | None = None, timeout: float | None = None) -> dict[str, Any]:
    """Run ``tests`` (paths inside the suite) and return pytest-json-report's summary."""
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "ARRAY_API_TESTS_MODULE":
                "exec('import array_api_conformance as h; xp = h.namespace()')",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "benchmarks")]),
            "PYTHONDONTWRITEBYTECODE": "1",  # the suite is read-only
            "HYPOTHESIS_STORAGE_DIRECTORY": scratch,
        }
        command = [
            sys.executable, "-m", "pytest", *tests, "-q", "-p", "no:cacheprovider",
            "--rootdir", str(suite), "-c", str(suite / "pytest.ini"),
            "--max-examples", str(max_examples), "--derandomize", "--disable-deadline",
            "--json-report", f"--json-report-file={report}", "--json-report-omit",
            "collectors", "log", "traceback", "streams", "keywords",
            *(extra or []),
        ]
        subprocess.run(command, cwd=suite, env=env, capture_output=True, text=True,
                       timeout=timeout, check=False)
    return json.loads(report.read_text())


def summarize(data: dict[str, Any]) -> dict[str, Any]:
    """Counts by outcome, overall and by test file, and the failing test ids."""
    by_file: dict[str, dict[str, int]] = {}
    failing = []
    for test in data.get("tests", []):
        name = test["nodeid"].split("::")[0].removeprefix("array_api_tests/")
        counts = by_file.setdefault(name, {})
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
        seconds = sum(test.get(stage, {}).get("duration", 0.0)
                      for stage in ("setup", "call", "teardown"))
        counts["seconds"] = round(counts.get("seconds", 0.0) + seconds, 2)
        if test["outcome"] in ("failed", "error"):
            failing.append(test["nodeid"])
    return {"summary": {k: v for k, v in data["summary"].items() if k != "collected"},
            "by_file": dict(sorted(by_file.items())), "failing": sorted(failing)}


def markdown(result: dict[str, Any]) -> str:
    """The published run as MyST Markdown: the figure, the run's setting, a table by file."""
    summary, run_ = result["summary"], result["run"]
    passed, total = summary.get("passed", 0), summary.get("total", 0)
    skipped = summary.get("skipped", 0)
    lines = [
        f"**{passed} of {total - skipped}** conformance tests pass "
        f"({passed / max(total - skipped, 1):.0%}; {skipped} more are skipped by the suite "
        "itself), measured "
        f"{run_['date']} on {run_['machine']} with Python {run_['python']} and NumPy "
        f"{run_['numpy']}, {run_['max_examples']} hypothesis examples a test, "
        f"{run_['seconds']} s, by `python benchmarks/array_api_conformance.py --write` "
        f"({run_['suite']}).",
        "",
        "| test file | passed | failed | skipped |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, counts in result["by_file"].items():
        failed = counts.get("failed", 0) + counts.get("error", 0)
        lines.append(f"| `{name}` | {counts.get('passed', 0)} | {failed} | "
                     f"{counts.get('skipped', 0)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tests", nargs="*", default=["array_api_tests"])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS}")
    args = parser.parse_args(argv)
    suite, looked = locate_suite()
    if suite is None:
        print(f"the array API test suite was not found (looked for {looked})", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        data = run(suite, args.tests, args.max_examples, Path(scratch) / "report.json")
    result = summarize(data)
    import numpy  # noqa: PLC0415

    result["run"] = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "python": platform.python_version(), "numpy": numpy.__version__,
        "max_examples": args.max_examples, "tests": args.tests,
        "suite": "data-apis/array-api-tests 55fcc60 (see its PROVENANCE.md)",
        "seconds": round(data["duration"], 1),
    }
    print(json.dumps(result["summary"]), f"in {result['run']['seconds']} s")
    if args.write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
