"""Every partial of the rule table, at extreme arguments, against mpmath: a few ulps.

The table-driven tests of tests/test_rules.py check the rules at ordinary points with
finite differences, which cannot see a partial that cancels (``1 - tanh(x)**2`` is 0 at
``x = 20``; the slope is 1.7e-17) or overflows in an intermediate (``1 / sqrt(x*x + 1)``
is 0 at ``x = 1e200``).  Here each partial of each row -- enumerated from the registry,
so a new row is covered by being added -- is evaluated through dualdiff (a Python float
and a float64 array, the two paths) at very large, very small, subnormal and near-edge
arguments, and compared with the derivative of the row's sympy twin evaluated by mpmath
at a precision raised until it is stable.

A partial passes at a point when it is within ``ULPS`` units in the last place of the
exact slope, or within ``8 * eps`` of it relatively.  Exact zero passes only where the
exact slope underflows below half the smallest subnormal; infinity only where it
overflows.  It may not warn where NumPy's own call does not, unless the slope itself is
out of range.

A row that cannot meet this is listed in ``LIMITED`` with its reason and the points (or
tolerance) it is held to instead; nothing is skipped silently.
"""

import math
import warnings

import mpmath as mp
import numpy as np
import pytest
import sympy as sp

import dualdiff
from dualdiff.dispatch import RULES
from dualdiff.rules import differentiable_arguments

special = pytest.importorskip("dualdiff.special")
pytest.importorskip("scipy.special")
sc = special.sc  # scipy.special's ufuncs themselves (SciPy wraps them with SCIPY_ARRAY_API=1)

ULPS = 4
EPS = 2.0**-52
TINY = 2.0**-1074
HUGE = np.finfo(np.float64).max

MAGNITUDES = (
    TINY, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-30, 1e-17, 1e-8, 1e-3, 0.3,
    0.5, 1 - 2**-53, 1 - 1e-10, 1.0, 1 + 2**-52, 1 + 1e-10, 1.5, 2.0, 5.0, 10.0, 20.0, 30.0,
    40.0, 100.0, 300.0, 700.0, 709.7, 1e4, 1e10, 1e20, 1e100, 1e200, 1e300, 1.7e308,
)
POINTS = tuple(sorted({sign * m for m in MAGNITUDES for sign in (1.0, -1.0)}))
PAIR_MAGNITUDES = (TINY, 1e-300, 1e-20, 0.3, 1.0, 1.5, 30.0, 1e20, 1e300)
PAIR_POINTS = tuple(sorted({sign * m for m in PAIR_MAGNITUDES for sign in (1.0, -1.0)}))

# Rows held to less than ULPS, each with its reason: ufunc -> (reason, tolerance), where
# tolerance(point) is the ulps allowed there (None: the point is not checked).
def near_a_pole(x, *rest):
    return x < 0 and abs(x - round(x)) < 1e-6


DIGAMMA_POLES = ("SciPy's digamma loses digits near its poles (6e-7 relative at 1e-10 from -1): "
                 "checked away from them", lambda x: None if near_a_pole(x) else ULPS)
def cancelling(*terms):
    """How much a slope that is a sum of ``terms`` (functions of x) cancels at x: the sum of
    their sizes over the size of the sum (each term carries its own rounding)."""

    def ratio(x):
        values = [t(x) for t in terms]
        total, size = abs(sum(values)), sum(abs(v) for v in values)
        return size / total if total else (math.inf if size else 1.0)

    return ratio


def bessel(*terms):
    # SciPy's Bessel functions (Cephes) lose about |x| ulps, and every digit past 1e16; the
    # slope's terms cancel near its roots
    ratio = cancelling(*terms)
    return lambda x: (ULPS + 4 * abs(x)) * ratio(x) if abs(x) <= 1e4 else None


def digamma_difference(a, b):
    # beta's and betaln's slopes hold psi(a) - psi(a + b), which cancels by about |a / b|
    # where |b| << |a|
    return cancelling(lambda _: sc.digamma(a), lambda _: -sc.digamma(a + b))(0.0)


def positive_only(tolerance):
    return lambda *args: tolerance(*args) if min(args) > 0 else None


LIMITED = {
    sc.beta: ("psi(a) - psi(a + b) cancels by |a / b| for |b| << |a|; checked for a, b > 0 "
              "(SciPy's digamma is inaccurate near the poles of beta)",
              positive_only(lambda a, b: ULPS * (1 + digamma_difference(a, b)
                                                 + digamma_difference(b, a)))),
    sc.betaln: ("psi(a) - psi(a + b) cancels by |a / b| for |b| << |a|; checked for a, b > 0",
                positive_only(lambda a, b: ULPS * (1 + digamma_difference(a, b)
                                                   + digamma_difference(b, a)))),
    sc._ufuncs._zeta: ("SciPy's Hurwitz zeta(x, q) is accurate for q > 0 (the row's domain)",
                       lambda x, q: ULPS if q > 0 else None),
    sc.jv: ("(jv(v-1, x) - jv(v+1, x)) / 2: SciPy's jv loses about |x| ulps (and 100 below "
            "1e-3), and the terms cancel near the slope's roots",
            lambda v, x: None if abs(x) > 1e4 else 32 * ULPS if abs(x) < 1e-3 else
            6 * bessel(lambda t: sc.jv(v - 1, t), lambda t: -sc.jv(v + 1, t))(x)),
    sc.iv: ("SciPy's iv is off by 60 ulps for negative orders at tiny x, by |x| / 8 at large x, "
            "and nan (or 0) where I_(v-1) over- (under-) flows",
            lambda v, x: None if np.isnan(sc.iv(v - 1, x)) or sc.iv(v - 1, x) == 0 else
            ULPS + abs(x) / 8 if v - 1 >= 0 or abs(x) > 1e-3 else 32 * ULPS),
    sc.kv: ("SciPy's kve (which the slope is written with) is nan beyond x = 1e9",
            lambda v, x: None if np.isnan(sc.kve(v - 1, x)) else ULPS),
    sc.ive: ("(ive(v-1) + ive(v+1)) / 2 - sign(x) ive(v) cancels as 1 / |x| for large |x| and "
             "near the slope's roots; SciPy's ive is off by 60 ulps at tiny x, nan where "
             "I_(v-1) overflows",
             lambda v, x: None if np.isnan(sc.ive(v - 1, x)) or abs(x) > 1e4 else
             16 * ULPS * (1 + 2 * abs(x)) * cancelling(
                 lambda t: sc.ive(v - 1, t) / 2, lambda t: sc.ive(v + 1, t) / 2,
                 lambda t: -np.sign(t) * sc.ive(v, t))(x)),
    sc.kve: ("kve(v) - (kve(v-1) + kve(v+1)) / 2 cancels as 1 / x for large x; SciPy's kve is "
             "nan beyond x = 1e9",
             lambda v, x: None if np.isnan(sc.kve(v - 1, x)) or abs(x) > 1e4 else
             ULPS * (1 + 2 * abs(x))),
    sc.gamma: DIGAMMA_POLES,
    sc.gammaln: DIGAMMA_POLES,
    sc.digamma: DIGAMMA_POLES,
    sc.i0e: ("i1e - sign(x) i0e cancels to about 2|x| ulps below |x| = 20 (Hankel's expansion "
             "beyond)", lambda x: ULPS + 2 * abs(x) if abs(x) < 20 else ULPS),
    sc.i1e: ("i0e - sign(x) i1e - i1e/x cancels to about 2|x| ulps below |x| = 20 (Hankel's "
             "expansion beyond), and more near its root x = 1.5",
             lambda x: (ULPS + 2 * abs(x)) * cancelling(
                 sc.i0e, lambda t: -np.sign(t) * sc.i1e(t), lambda t: -sc.i1e(t) / t)(x)
             if abs(x) < 20 else ULPS),
    sc.j0: ("-j1(x): SciPy's j1 loses about |x| ulps, and all digits past 1e16",
            bessel(sc.j1)),
    sc.j1: ("j0(x) - j1(x)/x: SciPy's j0, j1 lose about |x| ulps, all digits past 1e16; the "
            "terms cancel near the slope's roots", bessel(sc.j0, lambda t: -sc.j1(t) / t)),
    sc.y0: ("-y1(x): SciPy's y1 loses about |x| ulps, and all digits past 1e16",
            bessel(sc.y1)),
    sc.y1: ("y0(x) - y1(x)/x: SciPy's y0, y1 lose about |x| ulps, all digits past 1e16; the "
            "terms cancel near the slope's roots", bessel(sc.y0, lambda t: -sc.y1(t) / t)),
}


# --- the exact slopes -----------------------------------------------------------------------


def twin(rule):
    twin = rule.sympy if rule.sympy is not None else special.SYMPY_TWINS.get(rule.ufunc)
    return (lambda sp_, *s: getattr(sp_, twin)(*s)) if isinstance(twin, str) else twin


def _heaviside(x, h0=0.5):
    return mp.mpf(0) if x < 0 else mp.mpf(1) if x > 0 else h0


MPMATH = [{"Heaviside": _heaviside, "DiracDelta": lambda *a: mp.mpf(0)}, "mpmath"]


def _flat_derivatives(expr):
    # d/dx of a piecewise-constant function (floor, ceiling, sign) is 0 between its jumps
    flat = (sp.floor, sp.ceiling, sp.sign, sp.Heaviside)
    return expr.replace(lambda e: isinstance(e, sp.Derivative) and e.expr.func in flat,
                        lambda e: sp.S.Zero)


_EXACT = {}


def exact_partials(rule):
    """mpmath functions for the exact partials of the row (None for non-differentiable)."""
    if rule.ufunc not in _EXACT:
        symbols = sp.symbols(f"x0:{rule.ufunc.nin}", real=True)
        expr = twin(rule)(sp, *symbols)
        expr = expr.replace(sp.Mod, lambda a, b: a - b * sp.floor(a / b))  # sympy's d Mod / db
        live = differentiable_arguments(rule)
        _EXACT[rule.ufunc] = [
            sp.lambdify(symbols, _flat_derivatives(sp.diff(expr, s)), MPMATH) if i in live
            else None
            for i, s in enumerate(symbols)
        ]
    return _EXACT[rule.ufunc]


def exact(f, args):
    """``f(*args)`` at a precision raised until two evaluations agree (None: undefined)."""
    previous = None
    for digits in (30, 60, 120, 240, 480, 960):
        try:
            with mp.workdps(digits):
                value = f(*(mp.mpf(a) for a in args))
                if isinstance(value, mp.mpc):
                    if abs(value.imag) > abs(value.real) * mp.mpf(10) ** -20 + mp.mpf(10) ** -400:
                        return None  # outside the real domain
                    value = value.real
                value = mp.mpf(value)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None
        if previous is not None and not mp.isinf(value) and value != 0 and (
            abs(value - previous) <= abs(value) * 1e-20
        ):
            return value
        previous = value
    return previous  # 0 at every precision: an exact zero, or far below any float


def ulps_off(computed, true):
    """How far ``computed`` is from ``true`` (an mpf) in ulps of ``true``; 0 if acceptable."""
    computed = float(computed)
    if mp.isnan(true):
        return 0.0 if math.isnan(computed) else math.inf
    if mp.isinf(true) or abs(true) > HUGE:
        return 0.0 if computed == math.copysign(math.inf, float(mp.sign(true))) else math.inf
    if abs(true) < TINY / 2:  # underflows: 0 (or the smallest subnormal) is right
        return 0.0 if abs(computed) <= TINY else math.inf
    if not math.isfinite(computed):
        return math.inf
    error = abs(mp.mpf(computed) - true)
    if error <= 8 * EPS * abs(true):
        return 0.0
    return float(error / float(np.spacing(np.float64(abs(float(true))))))


# --- evaluating through dualdiff ----------------------------------------------------------------


def through_dualdiff(rule, args, i):
    """The i-th partial at ``args`` via Python floats and via float64 arrays, and warnings."""
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        def of_one(t, plain=False):
            return rule.ufunc(*(t if j == i else (args[j] if plain else np.array([args[j]]))
                                for j in range(len(args))))

        results.append(dualdiff.derivative(lambda t: np.real(rule.ufunc(
            *(t if j == i else args[j] for j in range(len(args))))), args[i]))
        _, tangent = dualdiff.jvp(lambda t: np.real(of_one(t)), (np.array([args[i]]),),
                                  (np.ones(1),))
        results.append(tangent[0])
    return results, [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


def numpy_warns(rule, args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = rule.ufunc(*(np.float64(a) if isinstance(a, float) else a for a in args))
    return bool(caught), value


def check(rule, args, failures):
    warns, value = numpy_warns(rule, args)
    if not np.all(np.isfinite(value)):
        return  # outside the domain, or the value itself overflows: nothing to compare
    limited = LIMITED.get(rule.ufunc)
    with np.errstate(all="ignore"):
        allowed = ULPS if limited is None else limited[1](*args)
    if allowed is None:
        return
    for i, f in enumerate(exact_partials(rule)):
        if f is None:
            continue
        true = exact(f, args)
        if true is None:
            continue
        computed, warned = through_dualdiff(rule, args, i)
        for path, c in zip(("float", "array"), computed, strict=True):
            off = ulps_off(c, true)
            if off > allowed:
                failures.append(f"{rule.ufunc.__name__} d/dx{i} at {args} ({path}): {c!r}, "
                                f"exact {mp.nstr(true, 17)}: {off:.3g} ulps")
        out_of_range = abs(true) > HUGE or mp.isinf(true)
        if warned and not warns and not out_of_range:
            failures.append(f"{rule.ufunc.__name__} d/dx{i} at {args}: warns {warned}")


ELEMENTWISE = [r for r in RULES.values() if r.jvp is None]


def name(rule):
    return rule.ufunc.__name__


def test_every_row_has_an_exact_twin():
    missing = [name(r) for r in ELEMENTWISE if twin(r) is None and r.ufunc not in FLAT]
    assert not missing, f"rows without a sympy twin for the accuracy test: {missing}"


# Rows without a sympy twin: their partials are constants, checked for what they are.
FLAT = {np.spacing: (0.0,), np.nextafter: (1.0, 0.0)}


@pytest.mark.parametrize("ufunc", list(FLAT), ids=lambda u: u.__name__)
def test_rows_without_a_twin_are_the_constants_they_claim(ufunc):
    assert RULES[ufunc].partials == FLAT[ufunc]


@pytest.mark.parametrize("rule", [r for r in ELEMENTWISE if r.ufunc.nin == 1 and twin(r)],
                         ids=name)
def test_unary_partials_at_extreme_arguments(rule):
    failures = []
    for x in POINTS:
        check(rule, (x,), failures)
    assert not failures, "\n".join(failures[:20])


def arguments(rule):
    """Extreme points for the row's differentiated arguments; the others (Bessel orders,
    shapes, lambertw's branch) take the values of the row's test domain."""
    live = differentiable_arguments(rule)
    if len(live) == 2:
        return [(x, y) for x in PAIR_POINTS for y in PAIR_POINTS]
    (i,) = live
    fixed = sorted({tuple(p[:i]) + tuple(p[i + 1:]) for p in rule.domain})
    return [(*rest[:i], x, *rest[i:]) for rest in fixed for x in POINTS]


@pytest.mark.parametrize("rule", [r for r in ELEMENTWISE if r.ufunc.nin > 1 and twin(r)],
                         ids=name)
def test_partials_of_several_arguments_at_extreme_arguments(rule):
    failures = []
    for args in arguments(rule):
        check(rule, args, failures)
    assert not failures, "\n".join(failures[:20])


def test_the_named_regressions():
    # the cases the issue named, each of which had a zero or a grossly wrong slope
    assert dualdiff.derivative(np.expm1, -40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert dualdiff.derivative(np.tanh, 20.0) == pytest.approx(1.6993417021166355e-17, rel=1e-15)
    assert dualdiff.derivative(sc.expit, 40.0) == pytest.approx(4.248354255291589e-18, rel=1e-15)
    assert dualdiff.derivative(np.arcsinh, 1e200) == pytest.approx(1e-200, rel=1e-15)
    grad = dualdiff.gradient(lambda v: np.arctan2(v[0], v[1]), np.array([1e200, 1e200]))
    np.testing.assert_allclose(grad, [5e-201, -5e-201], rtol=1e-15)
    grad = dualdiff.gradient(lambda v: np.arctan2(v[0], v[1]), np.array([4e-170, 3e-170]))
    np.testing.assert_allclose(grad, [1.2e169, -1.6e169], rtol=1e-15)
