"""The reference checker: every derivative dualdiff computes can be proved here.

:func:`check_jvp` compares a dualdiff JVP with two independent references:
central differences refined by Richardson extrapolation (Ridders' method,
which also estimates its own error), and -- where the function accepts
complex input and is analytic -- the complex-step derivative, which has no
subtractive cancellation.  :func:`check_sympy` compares dualdiff with
``sympy.diff`` evaluated in high precision.  The whole test suite uses these
two functions, and users may too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dualdiff.api import jvp, value_and_gradient

EPS = np.finfo(np.float64).eps


class JVPMismatchError(AssertionError):
    """A derivative disagrees with its references beyond the tolerance."""


@dataclass(frozen=True)
class JVPReport:
    """The outcome of :func:`check_jvp` for one direction.

    Attributes
    ----------
    dual : ndarray
        dualdiff's JVP, flattened.
    central : ndarray
        The Richardson-extrapolated central difference.
    central_error : ndarray
        Its estimated error, per component.
    complex_step : ndarray or None
        The complex-step derivative, where it applies.
    tolerance : ndarray
        The tolerance applied, per component.
    """

    dual: np.ndarray
    central: np.ndarray
    central_error: np.ndarray
    complex_step: np.ndarray | None
    tolerance: np.ndarray

    @property
    def error(self) -> float:
        """Largest disagreement with the best available reference."""
        reference = self.central if self.complex_step is None else self.complex_step
        return float(np.max(np.abs(self.dual - reference), initial=0.0))


def _flatten(out: Any) -> np.ndarray:
    """Any output structure of plain numbers/arrays as one 1-D array."""
    if isinstance(out, tuple | list):
        parts = [_flatten(item) for item in out]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(out))


def _ridders(
    g: Callable[[float], np.ndarray],
    h0: float,
    input_scale: float,
    steps: int = 14,
    shrink: float = 1.4,
) -> tuple[np.ndarray, np.ndarray]:
    """Central differences of ``g`` at 0 extrapolated to step 0; returns (estimate, error).

    Each new, smaller step adds a row to a Neville tableau whose entries cancel
    ever higher powers of the step; the error of an entry is estimated from its
    neighbours, and the entry with the smallest estimate wins.  The sequence
    stops once rounding makes higher orders worse.  Rounding of ``f``'s values
    and of the input ``x + h * t`` (``input_scale`` is the largest ``|x| / |t|``)
    bounds every error estimate from below.
    """

    def central(h: float) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(all="ignore"):
            plus, minus = g(h), g(-h)
            estimate = (plus - minus) / (2 * h)
            rounding = 4 * EPS * (np.maximum(np.abs(plus), np.abs(minus))
                                  + input_scale * np.abs(estimate)) / h
            return estimate, rounding

    h = h0
    for _ in range(40):  # shrink until both sides of the step are inside the domain
        if np.all(np.isfinite(central(h)[0])):
            break
        h /= 4
    first, noise = central(h)
    previous = [first]
    best, error = first, np.full(first.shape, np.inf)
    for _ in range(1, steps):
        h /= shrink
        estimate, noise = central(h)
        row = [estimate]
        factor = shrink**2
        for j in range(1, len(previous) + 1):
            with np.errstate(all="ignore"):
                row.append((row[j - 1] * factor - previous[j - 1]) / (factor - 1))
                local = np.maximum(np.abs(row[j] - row[j - 1]), np.abs(row[j] - previous[j - 1]))
                local = np.maximum(local, noise)  # never claim better than rounding allows
            factor *= shrink**2
            better = local <= error
            best, error = np.where(better, row[j], best), np.where(better, local, error)
        with np.errstate(invalid="ignore"):
            if np.all(np.abs(row[-1] - previous[-1]) >= 2 * error):
                break
        previous = row
    return best, error


def _step_scales(
    primals: Sequence[np.ndarray], tangents: Sequence[np.ndarray]
) -> tuple[float, float]:
    """Return the scales of a safe first step and of input rounding.

    The first is the smallest ``min(|x|, 1) / |t|`` (``1 / |t|`` where ``x == 0``)
    over moving coordinates; the second the largest ``|x| / |t|``, which sets the
    rounding of ``x + h * t``.
    """
    ratios, spans = [], []
    for p, t in zip(primals, tangents, strict=True):
        moving = (np.abs(t) > 0) & np.isfinite(p)
        if np.any(moving):
            magnitude = np.abs(p)[moving] / np.abs(t)[moving]
            spans.append(magnitude)
            ratios.append(np.where(magnitude > 0, np.minimum(np.abs(p)[moving], 1.0), 1.0)
                          / np.abs(t)[moving])
    if not ratios:
        return 1.0, 0.0
    return float(np.concatenate(ratios).min()), float(np.concatenate(spans).max())


def _moved(p: np.ndarray, step: complex, t: np.ndarray) -> np.ndarray:
    """``p + step * t`` laid out in memory as ``p`` is (order 'K').

    Code that writes into views computes a different function of a
    C-ordered and of an F-ordered array (a reshape is a view of one and a
    copy of the other), so the references see the point's own layout.
    """
    moved = p + step * t
    if not isinstance(p, np.ndarray) or p.ndim < 2:
        return moved
    laid_out = np.empty_like(p, dtype=moved.dtype)
    laid_out[...] = moved
    return laid_out


def _complex_step(
    f: Callable[..., Any], primals: Sequence[np.ndarray], tangents: Sequence[np.ndarray]
) -> np.ndarray | None:
    h = 1e-30 * _step_scales(primals, tangents)[0]
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # f may cast the probe to real (and warn): then the complex step does not apply.
            warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
            out = _flatten(f(*(_moved(p, 1j * h, t) for p, t in zip(primals, tangents,
                                                                    strict=True))))
    except (TypeError, ValueError, ArithmeticError):
        return None
    if not np.iscomplexobj(out):
        return None
    return out.imag / h


def check_jvp(
    f: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    complex_step: bool | None = None,
) -> list[JVPReport]:
    """Check dualdiff's JVP of ``f`` against central differences and complex step.

    Parameters
    ----------
    f : callable
        ``f(*primals)``, returning numbers, arrays or a tuple/list of them.
        It must also run on plain NumPy input (the references call it so).
    primals, tangents : tuple
        As for :func:`dualdiff.jvp`; a tangent may carry a leading batch axis,
        and then every direction is checked.
    rtol, atol : float
        The tolerance is ``atol + rtol * |reference|`` plus ten times the
        central difference's own error estimate, which comes from the
        Richardson extrapolation's step sequence.  The complex-step
        reference, where it applies, has no step error and is held to
        ``atol + rtol * |reference|`` alone.
    complex_step : bool, optional
        ``None`` (default) uses the complex step where ``f`` accepts complex
        input and the result agrees with central differences (so ``f`` is
        analytic there); ``False`` never; ``True`` requires it.

    Returns
    -------
    list of JVPReport
        One report per direction.

    Raises
    ------
    JVPMismatchError
        When dualdiff disagrees with a reference beyond the tolerance; the
        message tabulates each method's value and error.

    Examples
    --------
    >>> import numpy as np
    >>> [report] = check_jvp(np.sin, (0.5,), (1.0,))
    >>> report.error < 1e-12
    True
    """
    primals = tuple(np.asarray(p, dtype=np.result_type(p, np.float64)) for p in primals)
    tangents = tuple(np.asarray(t, dtype=np.result_type(t, np.float64)) for t in tangents)
    batched = any(t.ndim > p.ndim for p, t in zip(primals, tangents, strict=True))
    if batched:
        reports = []
        _, out_tangent = jvp(f, primals, tangents)
        size = next(t.shape[0] for p, t in zip(primals, tangents, strict=True) if t.ndim > p.ndim)
        for k in range(size):
            direction = tuple(
                t[k] if t.ndim > p.ndim else t for p, t in zip(primals, tangents, strict=True)
            )
            dual_k = _flatten(_take(out_tangent, k))
            reports.append(_check_one(f, primals, direction, dual_k, rtol, atol, complex_step))
        return reports
    _, out_tangent = jvp(f, primals, tangents)
    return [_check_one(f, primals, tangents, _flatten(out_tangent), rtol, atol, complex_step)]


def _take(structure: Any, k: int) -> Any:
    if isinstance(structure, tuple | list):
        items = [_take(item, k) for item in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else type(structure)(items)
    return np.asarray(structure)[k]


def _check_one(
    f: Callable[..., Any],
    primals: tuple[np.ndarray, ...],
    tangents: tuple[np.ndarray, ...],
    dual: np.ndarray,
    rtol: float,
    atol: float,
    complex_step: bool | None,
) -> JVPReport:
    def along(h: float) -> np.ndarray:
        return _flatten(f(*(_moved(p, h, t) for p, t in zip(primals, tangents, strict=True))))

    # The first step is small against every moving coordinate, so no step leaves the
    # neighbourhood of any of them (discontinuities, domain edges); the error estimate
    # then accounts for the rounding of large coordinates.
    smallest, input_scale = _step_scales(primals, tangents)
    central, central_error = _ridders(along, 0.1 * smallest, input_scale)
    magnitude = np.maximum(np.abs(central), np.abs(dual))
    with np.errstate(over="ignore", invalid="ignore"):
        # An unknown error estimate widens nothing: then only an exact match (or NaN
        # against NaN) passes.
        tolerance = atol + rtol * magnitude + 10 * np.nan_to_num(central_error, nan=0.0)
    cs = None
    is_real = not any(np.iscomplexobj(p) or np.iscomplexobj(t) for p, t in zip(
        primals, tangents, strict=True))
    if complex_step is not False and is_real:
        cs = _complex_step(f, primals, tangents)
        if cs is not None and cs.shape == central.shape:
            analytic = _agree(cs, central, tolerance)
            cs = cs if np.all(analytic) else None
        else:
            cs = None
        if complex_step and cs is None:
            raise JVPMismatchError("complex step was required but f is not analytic here")
    report = JVPReport(dual, central, central_error, cs, tolerance)
    if dual.shape != central.shape:
        raise JVPMismatchError(
            f"dualdiff's JVP has {dual.size} components but f has {central.size} outputs"
        )
    ok = _agree(dual, central, tolerance)
    if cs is not None:
        ok &= _agree(dual, cs, atol + rtol * np.abs(cs))
    if not np.all(ok):
        raise JVPMismatchError(_describe(report, ok, primals, tangents))
    return report


def _agree(a: np.ndarray, b: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        close = np.abs(a - b) <= tolerance
    same_special = (np.isnan(a) & np.isnan(b)) | (np.isinf(a) & (a == b))
    return close | same_special


def _describe(
    report: JVPReport, ok: np.ndarray, primals: Sequence[Any], tangents: Sequence[Any]
) -> str:
    lines = [
        "dualdiff's JVP disagrees with its references",
        f"  at primals={[p.tolist() for p in primals]} tangents={[t.tolist() for t in tangents]}",
        f"  {'component':>9}  {'dualdiff':>24}  {'central difference':>24}  {'est. error':>9}"
        f"  {'complex step':>24}  {'tolerance':>9}",
    ]
    for i in np.flatnonzero(~ok)[:10]:
        cs = "n/a" if report.complex_step is None else _number(report.complex_step[i])
        dual, central = _number(report.dual[i]), _number(report.central[i])
        lines.append(
            f"  {i:>9}  {dual:>24}  {central:>24}  "
            f"{report.central_error[i]:>9.1e}  {cs:>24}  {report.tolerance[i]:>9.1e}"
        )
    return "\n".join(lines)


def _number(x: Any) -> str:
    return repr(complex(x)) if np.iscomplexobj(x) else repr(float(x))


class SympyMismatchError(AssertionError):
    """dualdiff's gradient disagrees with sympy's exact derivative."""


@dataclass(frozen=True)
class SympyReport:
    """The outcome of :func:`check_sympy`: dualdiff's and sympy's gradients."""

    value: float
    gradient: np.ndarray
    exact: np.ndarray

    @property
    def relative_error(self) -> float:
        """Largest disagreement relative to ``max(1, |exact|)``."""
        scale = np.maximum(1.0, np.abs(self.exact))
        return float(np.max(np.abs(self.gradient - self.exact) / scale, initial=0.0))


def sympy_modules() -> list[Any]:
    """The ``lambdify`` modules that turn sympy into NumPy calls dualdiff can follow."""
    return [
        {
            "Max": lambda *args: _fold(np.maximum, args),
            "Min": lambda *args: _fold(np.minimum, args),
            "Heaviside": lambda x, at_zero=0.5: np.heaviside(x, at_zero),
        },
        "numpy",
    ]


def _fold(ufunc: np.ufunc, args: Sequence[Any]) -> Any:
    result = args[0]
    for arg in args[1:]:
        result = ufunc(result, arg)
    return result


def _exact_derivative(sp: Any, expr: Any, symbol: Any) -> Any:
    """``sympy.diff`` with piecewise-constant pieces (floor, ceiling, Heaviside) given slope 0.

    That is dualdiff's convention, and sympy leaves those derivatives unevaluated.
    """
    expr = sp.sympify(expr).replace(sp.Mod, lambda a, b: a - b * sp.floor(a / b))
    flat = (sp.floor, sp.ceiling, sp.Heaviside, sp.sign)
    derivative = sp.sympify(sp.diff(expr, symbol)).replace(
        lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, flat), lambda e: 0
    )
    derivative = sp.sympify(derivative).replace(sp.DiracDelta, lambda *args: 0)
    return sp.sympify(sp.sympify(derivative).doit())


def check_sympy(
    expr: Any,
    symbols: Sequence[Any],
    point: Sequence[float] | Mapping[Any, float],
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> SympyReport:
    """Check dualdiff's gradient of a sympy expression against ``sympy.diff``.

    The expression becomes a NumPy function (``sympy.lambdify``), dualdiff
    differentiates that, and the result is compared with the exact
    derivatives evaluated to 30 significant digits.

    Parameters
    ----------
    expr : sympy.Expr
        The expression.
    symbols : sequence of sympy.Symbol
        Its variables, in order.
    point : sequence of float or mapping
        Where to evaluate, in the order of ``symbols`` or keyed by symbol.
    rtol, atol : float
        Passes when ``|dualdiff - exact| <= atol + rtol * |exact|``.

    Returns
    -------
    SympyReport

    Raises
    ------
    SympyMismatchError
        Naming the expression, the point, and both gradients.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> report = check_sympy(sp.log(x) + x * y - sp.sin(y), [x, y], [2.0, 5.0])
    >>> report.gradient.round(6).tolist()
    [5.5, 1.716338]
    """
    import sympy as sp  # noqa: PLC0415 - sympy is imported only when checking

    symbols = list(symbols)
    if isinstance(point, Mapping):
        point = [point[s] for s in symbols]
    values = np.array([float(v) for v in point])
    function = sp.lambdify(symbols, expr, modules=sympy_modules())
    value, grad = value_and_gradient(lambda v: function(*(v[i] for i in range(len(symbols)))),
                                     values)
    grad = np.broadcast_to(np.asarray(grad, dtype=float), values.shape)
    substitutions = {s: sp.Float(float(v), 30) for s, v in zip(symbols, values, strict=True)}
    exact = np.array(
        [complex(_exact_derivative(sp, expr, s).evalf(30, subs=substitutions)).real
         for s in symbols]
    )
    report = SympyReport(float(np.real(value)), grad, exact)
    if not np.all(np.abs(grad - exact) <= atol + rtol * np.abs(exact)):
        raise SympyMismatchError(
            f"dualdiff's gradient of {expr} at {dict(zip(symbols, values.tolist(), strict=True))} "
            f"is {grad.tolist()}, sympy's is {exact.tolist()}"
        )
    return report


# --- sparsity patterns -------------------------------------------------------------------------


class SparsityMismatchError(AssertionError):
    """A sparsity pattern misses a nonzero of the Jacobian."""


@dataclass(frozen=True)
class SparsityReport:
    """The outcome of :func:`check_sparsity`.

    Attributes
    ----------
    pattern : scipy.sparse.csr_array
        The pattern checked, boolean ``(m, n)``.
    nonzeros : scipy.sparse.csr_array
        The union of the dense Jacobians' nonzeros at the points.
    false_positives : ndarray
        ``(k, 2)`` (row, column) pairs in the pattern where every Jacobian was 0.
    points : ndarray
        The points, ``(p, *x.shape)``.
    """

    pattern: Any
    nonzeros: Any
    false_positives: np.ndarray
    points: np.ndarray

    @property
    def exact(self) -> bool:
        """Whether the pattern is exactly the nonzeros found (no false positives)."""
        return len(self.false_positives) == 0


def check_sparsity(
    f: Callable[[Any], Any],
    x: Any,
    pattern: Any = None,
    points: int = 3,
    rng: Any = None,
    *,
    scale: float = 1e-3,
) -> SparsityReport:
    """Check a Jacobian sparsity pattern against dense Jacobians near ``x``.

    ``dualdiff.jacobian`` is evaluated at ``x`` and at ``points`` random
    points ``x * (1 + scale * u) + scale * v`` (``u``, ``v`` standard normal),
    close enough to ``x`` that ``f`` takes the same branches there (the
    pattern is local).  A nonzero of any of those Jacobians outside the
    pattern is an error; entries of the pattern that were zero at every point
    are reported as false positives (they may be accidental zeros, so they
    are not errors).

    Parameters
    ----------
    f : callable
        One array in, one array out.
    x : array_like
        The point.
    pattern : scipy.sparse array or array_like of bool, optional
        ``(f(x).size, x.size)``; default: :func:`dualdiff.jacobian_sparsity`.
    points : int, optional
        Random points besides ``x``.
    rng : numpy.random.Generator or int, optional
        The random generator or its seed.
    scale : float, optional
        The size of the perturbations.

    Returns
    -------
    SparsityReport

    Raises
    ------
    SparsityMismatchError
        Naming the missing entries.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: x[1:] * x[:-1]  # a band of width two
    >>> check_sparsity(f, np.ones(4), rng=0).exact
    True
    >>> wrong = np.eye(3, 4, dtype=bool)
    >>> try:
    ...     check_sparsity(f, np.ones(4), wrong, rng=0)
    ... except SparsityMismatchError as error:
    ...     print(error)
    the pattern misses 3 nonzeros of the Jacobian, e.g. (row, column) = (0, 1), (1, 2), (2, 3)
    """
    from dualdiff.api import jacobian  # noqa: PLC0415 - api imports this module's neighbours
    from dualdiff.sparse.csr import canonical, scipy_sparse  # noqa: PLC0415 - SciPy is optional
    from dualdiff.sparse.detect import jacobian_sparsity  # noqa: PLC0415

    sparse = scipy_sparse()
    point = np.asarray(x, dtype=np.result_type(x, np.float64))
    if pattern is None:
        pattern = jacobian_sparsity(f, point)
    pattern = canonical(sparse.csr_array(pattern) if sparse.issparse(pattern)
                        else sparse.csr_array(np.asarray(pattern, dtype=bool)))
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    moved = [point * (1 + scale * generator.standard_normal(point.shape))
             + scale * generator.standard_normal(point.shape) for _ in range(points)]
    at = np.stack([point, *moved]) if moved else point[None]
    found = np.zeros(pattern.shape, dtype=bool)
    for p in at:
        dense = np.asarray(jacobian(f, p))
        dense = dense.reshape(-1, point.size) if point.size else dense.reshape(-1, 0)
        if dense.shape != pattern.shape:
            raise ValueError(f"the pattern has shape {pattern.shape} but the Jacobian "
                             f"{dense.shape} (f(x).size, x.size)")
        found |= dense != 0
    nonzeros = canonical(sparse.csr_array(found))
    missing = np.argwhere(found & ~pattern.toarray())
    if len(missing):
        shown = ", ".join(f"({i}, {j})" for i, j in missing[:5])
        raise SparsityMismatchError(
            f"the pattern misses {len(missing)} nonzeros of the Jacobian, "
            f"e.g. (row, column) = {shown}")
    false_positives = np.argwhere(pattern.toarray() & ~found)
    return SparsityReport(pattern, nonzeros, false_positives, at)
