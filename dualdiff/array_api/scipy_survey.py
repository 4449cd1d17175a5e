"""Which SciPy functions differentiate through the array API (``SCIPY_ARRAY_API=1``).

SciPy reads ``SCIPY_ARRAY_API`` once, when it is first imported; with it
set, the functions it has ported ask their input for its namespace
(``array_namespace(x)``, which calls ``x.__array_namespace__()``) and compute
with that namespace's functions -- for a Dual, :mod:`dualdiff.array_api`.
:func:`survey` tries each function of :data:`CASES` on Duals and checks its
JVP with :func:`dualdiff.testing.check_jvp` (central differences and the
complex step); one that raises is listed with the reason.  Run it as
``SCIPY_ARRAY_API=1 python -m dualdiff.array_api.scipy_survey`` (``--json``
for the raw results); the docs page ``array_api.md`` is generated from it.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

X = np.array([0.3, -1.2, 2.0, 0.7, 1.1, -0.4])
POSITIVE = X * X + 0.5
V = np.linspace(-1.0, 1.0, X.size)


def _like(x: Any, array: np.ndarray) -> Any:
    """``array`` in ``x``'s namespace (a Dual constant for a Dual ``x``)."""
    return x.__array_namespace__().asarray(array) if hasattr(x, "tangent") else array


def _cases() -> list[tuple[str, Callable[[Any], Any], Any]]:
    """(name, function of one array, the point) for each SciPy function tried."""
    from scipy import fft, integrate, optimize, signal, special, stats  # noqa: PLC0415

    # fmt: off
    return [
        ("optimize.rosen",           optimize.rosen,                              X),
        ("optimize.rosen_der",       optimize.rosen_der,                          X),
        ("optimize.rosen_hess",      optimize.rosen_hess,                         X),
        ("optimize.rosen_hess_prod", lambda x: optimize.rosen_hess_prod(x, V),     X),
        ("optimize.rosen_hess_prod (p = xp.asarray(p))",
         lambda x: optimize.rosen_hess_prod(x, _like(x, V)),                      X),
        ("special.logsumexp",        special.logsumexp,                           X),
        ("special.softmax",          special.softmax,                             X),
        ("special.log_softmax",      special.log_softmax,                         X),
        ("special.erf",              special.erf,                                 X),
        ("special.erfc",             special.erfc,                                X),
        ("special.expit",            special.expit,                               X),
        ("special.log_expit",        special.log_expit,                           X),
        ("special.ndtr",             special.ndtr,                                X),
        ("special.log_ndtr",         special.log_ndtr,                            X),
        ("special.gammaln",          special.gammaln,                             POSITIVE),
        ("special.digamma",          special.digamma,                             POSITIVE),
        ("special.polygamma",        lambda x: special.polygamma(1, x),           POSITIVE),
        ("special.zeta",             lambda x: special.zeta(3.0, x),              POSITIVE),
        ("special.xlogy",            lambda x: special.xlogy(x, x * x + 1),       X),
        ("special.entr",             special.entr,                                POSITIVE),
        ("special.rel_entr",         lambda x: special.rel_entr(x * x, x * x + 1), X),
        ("special.i0e",              special.i0e,                                 X),
        ("stats.skew",               stats.skew,                                  X),
        ("stats.kurtosis",           stats.kurtosis,                              X),
        ("stats.zscore",             stats.zscore,                                X),
        ("stats.zmap",               lambda x: stats.zmap(x, x * x),              X),
        ("stats.moment",             lambda x: stats.moment(x, 3),                X),
        ("stats.variation",          stats.variation,                             POSITIVE),
        ("stats.pmean",              lambda x: stats.pmean(x, 1.5),               POSITIVE),
        ("stats.gmean",              stats.gmean,                                 POSITIVE),
        ("stats.hmean",              stats.hmean,                                 POSITIVE),
        ("stats.sem",                stats.sem,                                   X),
        ("stats.describe",           lambda x: stats.describe(x).variance,        X),
        ("stats.kstat",              stats.kstat,                                 X),
        ("stats.kstatvar",           stats.kstatvar,                              X),
        ("stats.entropy",            stats.entropy,                               POSITIVE),
        ("stats.differential_entropy", stats.differential_entropy,                X),
        ("stats.trim_mean",          lambda x: stats.trim_mean(x, 0.2),           X),
        ("stats.tmin",               stats.tmin,                                  X),
        ("stats.tmax",               stats.tmax,                                  X),
        ("stats.tmean",              stats.tmean,                                 X),
        ("stats.tvar",               stats.tvar,                                  X),
        ("stats.tstd",               stats.tstd,                                  X),
        ("stats.gstd",               stats.gstd,                                  POSITIVE),
        ("stats.circmean",           stats.circmean,                              X),
        ("stats.circvar",            stats.circvar,                               X),
        ("stats.circstd",            stats.circstd,                               X),
        ("stats.iqr",                stats.iqr,                                   X),
        ("stats.median_abs_deviation", stats.median_abs_deviation,                X),
        ("stats.expectile",          lambda x: stats.expectile(x, 0.3),           X),
        ("stats.mode",               lambda x: stats.mode(x).mode,                X),
        ("stats.ttest_1samp",        lambda x: stats.ttest_1samp(x, 0.0).statistic, X),
        ("stats.pearsonr",           lambda x: stats.pearsonr(x, x * x).statistic, X),
        ("integrate.trapezoid",      integrate.trapezoid,                         X),
        ("integrate.simpson",        integrate.simpson,                           X),
        ("integrate.cumulative_trapezoid", integrate.cumulative_trapezoid,        X),
        ("integrate.cumulative_simpson", integrate.cumulative_simpson,            X),
        ("fft.fft",                  fft.fft,                                     X),
        ("fft.ifft",                 fft.ifft,                                    X),
        ("fft.rfft",                 fft.rfft,                                    X),
        ("fft.irfft",                fft.irfft,                                   X),
        ("fft.fftn",                 fft.fftn,                                    X),
        ("fft.hfft",                 fft.hfft,                                    X),
        ("fft.fftshift",             fft.fftshift,                                X),
        ("fft.dct",                  fft.dct,                                     X),
        ("signal.convolve",          lambda x: signal.convolve(x, x),             X),
        ("signal.detrend",           signal.detrend,                              X),
    ]
    # fmt: on


REASONS = (  # (pattern in the error, the reason shown)
    (r"cannot become a plain NumPy array",
     "SciPy converts its input with `np.asarray` here (no array-API path in this version)"),
    (r"Multiple namespaces",
     "a NumPy array meets the Dual in SciPy's `array_namespace`: a boolean or integer result "
     "(which this namespace leaves plain), or an argument passed in (pass `xp.asarray(p)`)"),
    (r"scalar Dual does not support item assignment",
     "SciPy writes into a 0-d result; a 0-d Dual is a scalar, immutable as NumPy's scalars"),
    (r"cannot cast a Dual to u?int",
     "SciPy casts the data to an integer dtype (ranks or counts), which carries no tangent"),
    (r"no derivative rule for ([\w.]+)", "dualdiff has no derivative rule for `{0}`"),
    (r"does not support the arguments (\[.*?\]) of ([\w.]+)",
     "dualdiff does not support the arguments {0} of `{1}`"),
    (r"batch of \d+ directions into one with a single direction",
     "SciPy fills an array it made with a batch of tangents (a JVP works, a batch does not)"),
)


def reason(error: BaseException) -> str:
    """Why a case failed, in a sentence, from the error dualdiff or SciPy raised."""
    message = str(error)
    for pattern, text in REASONS:
        match = re.search(pattern, message)
        if match:
            return text.format(*match.groups())
    return f"{type(error).__name__}: {message.splitlines()[0][:160]}"


def survey() -> list[dict[str, Any]]:
    """Try every case on Duals; each result is ``{name, works, reason}``.

    Raises ``RuntimeError`` unless SciPy was imported with ``SCIPY_ARRAY_API=1``.
    """
    from scipy._lib._array_api import SCIPY_ARRAY_API  # noqa: PLC0415

    from dualdiff.testing import JVPMismatchError, check_jvp  # noqa: PLC0415

    if not SCIPY_ARRAY_API:
        raise RuntimeError("set SCIPY_ARRAY_API=1 before SciPy is imported (SciPy reads it once)")
    results = []
    for name, function, point in _cases():
        entry: dict[str, Any] = {"name": f"scipy.{name}", "works": False, "reason": ""}
        try:
            with np.errstate(all="ignore"):
                check_jvp(function, (point,), (V,), complex_step=False)
        except JVPMismatchError as error:  # a wrong derivative is a bug, never a "not yet"
            entry["reason"] = f"WRONG DERIVATIVE: {str(error).splitlines()[0]}"
            entry["wrong"] = True
        except Exception as error:
            entry["reason"] = reason(error)
        else:
            entry["works"] = True
        results.append(entry)
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    """The survey as MyST Markdown: a count, then a table of works / not yet, why."""
    import scipy  # noqa: PLC0415

    works = sum(r["works"] for r in results)
    lines = [
        f"With SciPy {scipy.__version__} and `SCIPY_ARRAY_API=1`, **{works} of {len(results)}** "
        "functions tried differentiate (their JVP checked against central differences by "
        "`dualdiff.testing.check_jvp`); the others are listed with the reason.",
        "",
        "| function | differentiates | why not yet |",
        "| --- | :---: | --- |",
    ]
    for r in results:
        lines.append(f"| `{r['name']}` | {'yes' if r['works'] else 'not yet'} | {r['reason']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the survey as Markdown, or as JSON with ``--json``."""
    argv = sys.argv[1:] if argv is None else argv
    results = survey()
    print(json.dumps(results, indent=1) if "--json" in argv else markdown(results))
    return 1 if any(r.get("wrong") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
