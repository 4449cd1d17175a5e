"""SciPy's array-API route (``SCIPY_ARRAY_API=1``): dualdiff imports and differentiates there.

SciPy reads the flag once, at import, so each check runs in a fresh interpreter.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("scipy")


def run_with_flag(code: str) -> str:
    """Run ``code`` in a subprocess with ``SCIPY_ARRAY_API=1``; its stdout."""
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_survives_the_flag():
    # scipy.special's names are Python wrappers then; the rows key on the ufuncs behind them
    out = run_with_flag("""
        import scipy.special as sc
        import dualdiff
        from dualdiff.special import ufunc_of
        assert not isinstance(sc.erf, type(ufunc_of(sc.erf)))
        print(dualdiff.derivative(ufunc_of(sc.erf), 0.0))
    """)
    assert float(out) == pytest.approx(2 / 3.141592653589793**0.5, rel=1e-15)
