"""Evaluating a primitive: Python's ``math`` on Python scalars, NumPy otherwise.

A dual number's value is a Python float (or complex), a NumPy array, or -- in
nested differentiation -- another dual number.  :func:`evaluator` turns a NumPy
ufunc into a function that picks the cheapest correct implementation for the
value it receives: the ``math``/``cmath`` kernel for a Python ``float`` /
``complex`` (a ufunc call on a float costs several times more), and the ufunc
itself for everything else, which also dispatches to nested dual numbers.

The ``math`` kernels raise where NumPy returns ``inf``/``nan`` with a warning
(``math.log(0.0)``, ``1.0 / 0.0``).  Callers that evaluate on Python scalars
catch :data:`SCALAR_ERRORS` and redo the computation on ``numpy.float64``, so
results always follow NumPy's IEEE semantics; the fast path never changes an
answer, only its cost.
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


def _maximum(a: float, b: float) -> float:
    return a if (a >= b or math.isnan(a)) else b  # NaN propagates, as in np.maximum


def _minimum(a: float, b: float) -> float:
    return a if (a <= b or math.isnan(a)) else b


def _fmax(a: float, b: float) -> float:
    return a if (a >= b or math.isnan(b)) else b  # NaN is ignored, as in np.fmax


def _fmin(a: float, b: float) -> float:
    return a if (a <= b or math.isnan(b)) else b


def _sign(x: float) -> float:
    return x if math.isnan(x) else float((x > 0) - (x < 0))


def _heaviside(x: float, h0: float) -> float:
    if math.isnan(x):
        return x
    return h0 if x == 0 else float(x > 0)


def _logaddexp(a: float, b: float) -> float:
    if a == b:
        return a + math.log(2.0)  # also right for a == b == +-inf
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))


def _logaddexp2(a: float, b: float) -> float:
    if a == b:
        return a + 1.0
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(2.0 ** (low - high)) / math.log(2.0)


def _remainder(a: float, b: float) -> float:
    return a % b  # Python's % and np.remainder share the sign of the divisor


def _raise_for_zero(b: float) -> None:
    if b == 0:
        raise ZeroDivisionError


def _floor_divide(a: float, b: float) -> float:
    _raise_for_zero(b)
    return a // b


_CBRT = getattr(math, "cbrt", None) or (lambda x: math.copysign(abs(x) ** (1 / 3), x))
_EXP2 = getattr(math, "exp2", None) or (lambda x: 2.0**x)

# ufunc -> kernel for Python floats (one line each).
REAL_KERNELS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: operator.add,
    np.subtract: operator.sub,
    np.multiply: operator.mul,
    np.true_divide: operator.truediv,
    np.floor_divide: _floor_divide,
    np.remainder: _remainder,
    np.fmod: math.fmod,
    np.power: math.pow,
    np.float_power: math.pow,
    np.negative: operator.neg,
    np.positive: operator.pos,
    np.absolute: abs,
    np.fabs: math.fabs,
    np.sign: _sign,
    np.floor: lambda x: float(math.floor(x)),
    np.ceil: lambda x: float(math.ceil(x)),
    np.trunc: lambda x: float(math.trunc(x)),
    np.rint: lambda x: float(round(x)),  # round-half-even, as np.rint
    np.exp: math.exp,
    np.exp2: _EXP2,
    np.expm1: math.expm1,
    np.log: math.log,
    np.log2: math.log2,
    np.log10: math.log10,
    np.log1p: math.log1p,
    np.logaddexp: _logaddexp,
    np.logaddexp2: _logaddexp2,
    np.sqrt: math.sqrt,
    np.cbrt: _CBRT,
    np.square: lambda x: x * x,
    np.reciprocal: lambda x: 1.0 / x,
    np.sin: math.sin,
    np.cos: math.cos,
    np.tan: math.tan,
    np.arcsin: math.asin,
    np.arccos: math.acos,
    np.arctan: math.atan,
    np.arctan2: math.atan2,
    np.hypot: math.hypot,
    np.sinh: math.sinh,
    np.cosh: math.cosh,
    np.tanh: math.tanh,
    np.arcsinh: math.asinh,
    np.arccosh: math.acosh,
    np.arctanh: math.atanh,
    np.deg2rad: math.radians,
    np.radians: math.radians,
    np.rad2deg: math.degrees,
    np.degrees: math.degrees,
    np.maximum: _maximum,
    np.minimum: _minimum,
    np.fmax: _fmax,
    np.fmin: _fmin,
    np.copysign: math.copysign,
    np.heaviside: _heaviside,
    np.conjugate: lambda x: x,
    np.nextafter: math.nextafter,
    np.ldexp: math.ldexp,
}

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
