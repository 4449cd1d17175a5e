"""Evaluating a primitive: Python's ``math`` on Python scalars, NumPy otherwise.

A dual number's value is a Python float (or complex), a NumPy array, or -- in
nested differentiation -- another dual number.  :func:`evaluator` turns a NumPy
ufunc into a function that picks the cheapest correct implementation for the
value it receives: the ``math``/``cmath`` kernel for a Python ``float`` /
``complex`` (a ufunc call on a float costs several times more), and the ufunc
itself for everything else, which also dispatches to nested dual numbers.

A kernel for Python floats gives NumPy's value bit for bit: it is an IEEE
operation (``+``, ``*``, ``sqrt``: correctly rounded in Python and in NumPy
alike) or NumPy's ufunc itself (``exp``, ``sin``: ``math`` differs from
NumPy's SIMD loops in the last bit).  Python arithmetic raises where NumPy
returns ``inf``/``nan`` (``1.0 / 0.0``) and overflows silently where NumPy
warns (``1e200 * 1e200``); callers catch :data:`SCALAR_ERRORS`, check results
with :func:`ordinary`, and redo anything else on ``numpy.float64`` under the
caller's ``np.errstate``, so results, warnings and errors are NumPy's; the
fast path never changes an answer, only its cost.
"""

from __future__ import annotations

import cmath
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

SCALAR_ERRORS = (ArithmeticError, ValueError)
"""What a ``math`` kernel raises where NumPy would return ``inf`` or ``nan``."""


def _numpy(ufunc: np.ufunc) -> Callable[..., Any]:
    """The ufunc as a kernel for Python floats: NumPy's own value, warnings and errors.

    Used where ``math`` would differ in the last bit (``math.exp`` and NumPy's SIMD ``exp``
    do), or in a corner (``math.pow(-inf, 0.5)`` is ``inf``, ``np.power`` gives ``nan``).
    """
    if ufunc.nin == 1:  # one argument, not *args: the commonest kernel of the scalar path

        def kernel(x: float) -> float:
            return float(ufunc(x))

    else:

        def kernel(*args: Any) -> float:
            return float(ufunc(*args))

    kernel.__name__ = ufunc.__name__
    return kernel


def _tie_to_numpy(python: Callable[[float, float], float], ufunc: np.ufunc) -> Callable[..., Any]:
    """A selecting kernel (maximum, fmin, ...): NumPy decides a tie (``maximum(-0.0, 0.0)``)."""

    def kernel(a: float, b: float) -> float:
        return float(ufunc(a, b)) if a == b else python(a, b)

    kernel.__name__ = ufunc.__name__
    return kernel


def _maximum(a: float, b: float) -> float:
    return a if (a > b or math.isnan(a)) else b  # NaN propagates, as in np.maximum


def _minimum(a: float, b: float) -> float:
    return a if (a < b or math.isnan(a)) else b


def _fmax(a: float, b: float) -> float:
    return a if (a > b or math.isnan(b)) else b  # NaN is ignored, as in np.fmax


def _fmin(a: float, b: float) -> float:
    return a if (a < b or math.isnan(b)) else b


def _sign(x: float) -> float:
    return x if math.isnan(x) else float((x > 0) - (x < 0))


def _heaviside(x: float, h0: float) -> float:
    if math.isnan(x):
        return x
    return h0 if x == 0 else float(x > 0)


def _remainder(a: float, b: float) -> float:
    return a % b  # Python's % and np.remainder: the same fmod-based algorithm


def _raise_for_zero(b: float) -> None:
    if b == 0:
        raise ZeroDivisionError


def _floor_divide(a: float, b: float) -> float:
    _raise_for_zero(b)
    return a // b


def _signed(rounding: Callable[[float], int]) -> Callable[[float], float]:
    # math.floor and friends return ints, which lose the sign of a zero (np.ceil(-0.5) is -0.0)
    return lambda x: math.copysign(float(rounding(x)), x)


def _power(x: float, y: float) -> float:
    # NumPy's own shortcuts for these exponents (exact operations), else NumPy's pow
    if y == 2:
        return x * x
    if y == 0.5:
        return math.sqrt(x)
    if y == 1:
        return x
    if y == 0:
        return 1.0
    if y == -1:
        return 1.0 / x
    return float(np.power(x, y))


# ufunc -> kernel for Python floats (one line each).  Each gives NumPy's value bit for bit:
# an IEEE operation (correctly rounded in Python and NumPy alike), or NumPy itself.
REAL_KERNELS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
    np.true_divide: operator.truediv,
    np.floor_divide: _floor_divide,
    np.remainder: _remainder,
    np.fmod: math.fmod,
    np.power: _power,
    np.float_power: _power,
    np.negative: operator.neg,
    np.positive: operator.pos,
    np.absolute: abs,
    np.fabs: math.fabs,
    np.sign: _sign,
    np.floor: _signed(math.floor),
    np.ceil: _signed(math.ceil),
    np.trunc: _signed(math.trunc),
    np.rint: _signed(round),  # round-half-even, as np.rint
    np.sqrt: math.sqrt,
    np.square: lambda x: x * x,
    np.reciprocal: lambda x: 1.0 / x,
    np.deg2rad: math.radians,  # x * (pi / 180), as NumPy
    np.radians: math.radians,
    np.rad2deg: math.degrees,
    np.degrees: math.degrees,
    np.maximum: _tie_to_numpy(_maximum, np.maximum),
    np.minimum: _tie_to_numpy(_minimum, np.minimum),
    np.fmax: _tie_to_numpy(_fmax, np.fmax),
    np.fmin: _tie_to_numpy(_fmin, np.fmin),
    np.copysign: math.copysign,
    np.heaviside: _heaviside,
    np.conjugate: lambda x: x,
    np.nextafter: math.nextafter,
    np.ldexp: math.ldexp,
    **{
        ufunc: _numpy(ufunc)
        for ufunc in (
            np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p, np.logaddexp,
            np.logaddexp2, np.cbrt, np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
            np.arctan2, np.hypot, np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh,
            np.arctanh,
        )
    },
}  # fmt: skip

_NORMAL = 2.2250738585072014e-308
_HUGE = 1.7976931348623157e308


def ordinary(x: float) -> bool:
    """Whether a Python-float result is one NumPy reaches without a floating-point event.

    A finite normal number is; so is a zero or subnormal while underflow is ignored (as by
    default).  An infinity or NaN may have come from an overflow or invalid operation that
    Python arithmetic does silently and NumPy reports: the caller redoes it in NumPy.

    Examples
    --------
    >>> ordinary(1.5), ordinary(0.0), ordinary(float("inf"))
    (True, True, False)
    """
    if _NORMAL <= abs(x) <= _HUGE:
        return True
    return not math.isnan(x) and abs(x) < _NORMAL and np.geterr()["under"] == "ignore"


# ufunc -> kernel for Python complex numbers (holomorphic functions only).
COMPLEX_KERNELS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
    np.true_divide: operator.truediv,
    np.power: operator.pow,
    np.negative: operator.neg,
    np.positive: operator.pos,
    np.exp: cmath.exp,
    np.log: cmath.log,
    np.log10: cmath.log10,
    np.sqrt: cmath.sqrt,
    np.square: lambda z: z * z,
    np.reciprocal: lambda z: 1.0 / z,
    np.sin: cmath.sin,
    np.cos: cmath.cos,
    np.tan: cmath.tan,
    np.arcsin: cmath.asin,
    np.arccos: cmath.acos,
    np.arctan: cmath.atan,
    np.sinh: cmath.sinh,
    np.cosh: cmath.cosh,
    np.tanh: cmath.tanh,
    np.arcsinh: cmath.asinh,
    np.arccosh: cmath.acosh,
    np.arctanh: cmath.atanh,
}


def evaluator(ufunc: np.ufunc) -> Callable[..., Any]:
    """Return a function computing ``ufunc`` on any value, fastest first.

    Parameters
    ----------
    ufunc : numpy.ufunc
        The primitive to evaluate.

    Returns
    -------
    callable
        Takes ``ufunc.nin`` positional values.  On Python floats (or complex
        numbers) it calls the ``math`` (``cmath``) kernel, which may raise
        one of :data:`SCALAR_ERRORS` (a ufunc without a ``math`` kernel, such
        as SciPy's, still returns a Python float); on anything else it calls
        ``ufunc``.

    Examples
    --------
    >>> sin = evaluator(np.sin)
    >>> type(sin(0.5)).__name__, type(sin(np.array([0.5]))).__name__
    ('float', 'ndarray')
    """
    real = REAL_KERNELS.get(ufunc) or _returning_python_numbers(ufunc)
    complex_ = COMPLEX_KERNELS.get(ufunc, ufunc)
    if ufunc.nin > 2:  # (scipy.special.betainc) no kernels: the ufunc, Python numbers kept
        return _returning_python_numbers(ufunc)
    if ufunc.nin == 1:

        def evaluate_unary(x: Any) -> Any:
            kind = type(x)
            if kind is float or kind is int:
                return real(x)
            if kind is complex:
                return complex_(x)
            return ufunc(x)

        evaluate_unary.__name__ = ufunc.__name__
        return evaluate_unary

    def evaluate_binary(x: Any, y: Any) -> Any:
        kinds = (type(x), type(y))
        if kinds in _REAL_PAIRS:
            return real(x, y)
        if kinds in _COMPLEX_PAIRS:
            return complex_(x, y)
        return ufunc(x, y)

    evaluate_binary.__name__ = ufunc.__name__
    return evaluate_binary


def _returning_python_numbers(ufunc: np.ufunc) -> Callable[..., Any]:
    """The ufunc as a kernel for Python floats (no ``math`` twin): it returns a Python float."""

    def kernel(*args: Any) -> Any:
        result = ufunc(*args)
        return result.item() if isinstance(result, np.generic) else result  # object loops too

    kernel.__name__ = ufunc.__name__
    return kernel


_REAL_PAIRS = frozenset({(float, float), (float, int), (int, float)})
_COMPLEX_PAIRS = frozenset(
    {(complex, complex), (complex, float), (float, complex), (complex, int), (int, complex)}
)


def strip(x: Any) -> Any:
    """Return the plain value under any number of dual layers.

    Examples
    --------
    >>> from dualdiff import Dual
    >>> strip(Dual(Dual(2.0, 1.0), 3.0))
    2.0
    """
    while hasattr(x, "tangent") and hasattr(x, "value"):
        x = x.value
    return x


# Generic elementary functions for writing derivative rules: each works on
# Python scalars (via math), arrays, and nested dual numbers alike.
sin = evaluator(np.sin)
cos = evaluator(np.cos)
tan = evaluator(np.tan)
exp = evaluator(np.exp)
log = evaluator(np.log)
sqrt = evaluator(np.sqrt)
cbrt = evaluator(np.cbrt)
sinh = evaluator(np.sinh)
cosh = evaluator(np.cosh)
tanh = evaluator(np.tanh)
sign = evaluator(np.sign)
floor = evaluator(np.floor)
trunc = evaluator(np.trunc)
rint = evaluator(np.rint)
power = evaluator(np.power)
hypot = evaluator(np.hypot)
exp2 = evaluator(np.exp2)
conj = evaluator(np.conjugate)
ldexp = evaluator(np.ldexp)
minimum = evaluator(np.minimum)
