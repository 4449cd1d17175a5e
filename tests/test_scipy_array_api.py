"""SciPy's array-API route (``SCIPY_ARRAY_API=1``): dualdiff imports and differentiates there.

SciPy reads the flag once, at import, so each check runs in a fresh
interpreter.  The survey (dualdiff/array_api/scipy_survey.py) checks every
SciPy function it lists with ``dualdiff.testing.check_jvp``; the docs page
shows the same survey, run when the site is built.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("scipy")

ROOT = Path(__file__).resolve().parent.parent
MUST_WORK = {  # the issue's list: each of these differentiates, checked against check_jvp
    "optimize.rosen", "optimize.rosen_der", "optimize.rosen_hess", "special.logsumexp",
    "special.softmax", "special.log_softmax", "stats.skew", "stats.kurtosis", "stats.zscore",
    "stats.moment", "stats.pmean", "stats.gmean", "stats.hmean", "integrate.trapezoid",
    "fft.fft", "fft.rfft", "special.erf", "special.xlogy", "special.polygamma",
}


def run_with_flag(code: str = "", args: tuple[str, ...] = ()) -> str:
    """Run ``code`` (or ``python args``) in a subprocess with ``SCIPY_ARRAY_API=1``; stdout."""
    env = {**os.environ, "SCIPY_ARRAY_API": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, *args] if args else [sys.executable, "-c", textwrap.dedent(code)]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True,
                            timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_import_survives_the_flag():
    # scipy.special's names are Python wrappers then; the rows key on the ufuncs behind them
    out = run_with_flag("""
        import scipy.special as sc
        import dualdiff
        from dualdiff.special import ufunc_of
        assert not isinstance(sc.erf, type(ufunc_of(sc.erf)))
        print(dualdiff.derivative(sc.erf, 0.0), dualdiff.derivative(ufunc_of(sc.erf), 0.0))
    """)
    assert [float(v) for v in out.split()] == pytest.approx([2 / 3.141592653589793**0.5] * 2,
                                                            rel=1e-15)


def test_rosenbrock_gradient_and_hessian_are_scipys_own():
    out = run_with_flag("""
        import numpy as np, scipy.optimize as so, dualdiff as dd
        x = np.array([0.3, -1.2, 2.0, 0.7, 1.1, -0.4, 1.5])
        print(np.max(np.abs(dd.gradient(so.rosen, x) - so.rosen_der(x))),
              np.max(np.abs(dd.hessian(so.rosen, x) - so.rosen_hess(x))),
              np.max(np.abs(dd.jacobian(so.rosen_der, x) - so.rosen_hess(x))))
    """)
    assert all(float(error) <= 1e-12 for error in out.split()), out


def test_the_survey_differentiates_the_issues_list_and_names_a_reason_for_the_rest():
    results = json.loads(run_with_flag(args=("-m", "dualdiff.array_api.scipy_survey", "--json")))
    works = {r["name"].removeprefix("scipy.") for r in results if r["works"]}
    assert works >= MUST_WORK, sorted(MUST_WORK - works)
    for r in results:
        assert not r.get("wrong"), r  # a wrong derivative is never listed as "not yet"
        assert r["works"] or r["reason"], r


# The whole suite under the flag takes as long as the suite (minutes); CI runs, under the
# flag, the files whose code paths the flag changes: scipy.special's public names become
# wrappers (test_special, the Dual calls through them; test_coverage, their names;
# test_compositions, np.i0 through special.i1; test_expression, erf and gamma), while the
# sympy comparisons of test_special (most of its time, and independent of the flag: they
# call the rows' ufuncs) are left to the run without it.
FLAG_SENSITIVE = ["tests/test_special.py", "tests/test_coverage.py", "tests/test_compositions.py",
                  "tests/test_expression.py", "dualdiff/special.py", "dualdiff/coverage.py",
                  "docs/rules.md"]  # registering a rule for a wrapped ufunc (poch)


def test_the_flag_sensitive_tests_pass_under_the_flag():
    out = run_with_flag(args=("-m", "pytest", "-q", "-p", "no:cacheprovider", *FLAG_SENSITIVE,
                              "-k", "not match_sympy"))
    assert " passed" in out and "failed" not in out, out[-2000:]
