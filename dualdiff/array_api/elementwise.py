"""Element-wise functions: each is the NumPy function of the same meaning, called on its inputs.

A Dual input reaches dualdiff through ``__array_ufunc__`` or
``__array_function__``, so the derivative comes from the one rule table
(:mod:`dualdiff.rules`) and the one function registry, as for ``np.sin(x)``.
Comparisons and predicates (``equal``, ``isnan``, ``signbit``, ...) act on
the values and return plain boolean arrays; bitwise functions take integer
and boolean arrays, which are plain NumPy arrays here.  A function without a
rule raises dualdiff's usual ``TypeError``, naming it.

Examples
--------
>>> from dualdiff import Dual
>>> sin(Dual(0.0, 1.0))
Dual(0.0, 1.0)
>>> bool(less(Dual(1.0, 5.0), 2.0))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

Array = Any

def abs(x: Array, /) -> Array:
    """``numpy.absolute``, differentiated by its rule."""
    return np.absolute(x)

def acos(x: Array, /) -> Array:
    """``numpy.arccos``, differentiated by its rule."""
    return np.arccos(x)

def acosh(x: Array, /) -> Array:
    """``numpy.arccosh``, differentiated by its rule."""
    return np.arccosh(x)

def asin(x: Array, /) -> Array:
    """``numpy.arcsin``, differentiated by its rule."""
    return np.arcsin(x)

def asinh(x: Array, /) -> Array:
    """``numpy.arcsinh``, differentiated by its rule."""
    return np.arcsinh(x)

def atan(x: Array, /) -> Array:
    """``numpy.arctan``, differentiated by its rule."""
    return np.arctan(x)

def atanh(x: Array, /) -> Array:
    """``numpy.arctanh``, differentiated by its rule."""
    return np.arctanh(x)

def bitwise_invert(x: Array, /) -> Array:
    """``numpy.invert``, differentiated by its rule."""
    return np.invert(x)

def ceil(x: Array, /) -> Array:
    """``numpy.ceil``, differentiated by its rule."""
    return np.ceil(x)

def conj(x: Array, /) -> Array:
    """``numpy.conjugate``, differentiated by its rule."""
    return np.conjugate(x)

def cos(x: Array, /) -> Array:
    """``numpy.cos``, differentiated by its rule."""
    return np.cos(x)

def cosh(x: Array, /) -> Array:
    """``numpy.cosh``, differentiated by its rule."""
    return np.cosh(x)

def exp(x: Array, /) -> Array:
    """``numpy.exp``, differentiated by its rule."""
    return np.exp(x)

def expm1(x: Array, /) -> Array:
    """``numpy.expm1``, differentiated by its rule."""
    return np.expm1(x)

def floor(x: Array, /) -> Array:
    """``numpy.floor``, differentiated by its rule."""
    return np.floor(x)

def imag(x: Array, /) -> Array:
    """``numpy.imag``, differentiated by its rule."""
    return np.imag(x)

def isfinite(x: Array, /) -> Array:
    """``numpy.isfinite`` of the values: a plain boolean result."""
    return np.isfinite(x)

def isinf(x: Array, /) -> Array:
    """``numpy.isinf`` of the values: a plain boolean result."""
    return np.isinf(x)

def isnan(x: Array, /) -> Array:
    """``numpy.isnan`` of the values: a plain boolean result."""
    return np.isnan(x)

def log(x: Array, /) -> Array:
    """``numpy.log``, differentiated by its rule."""
    return np.log(x)

def log10(x: Array, /) -> Array:
    """``numpy.log10``, differentiated by its rule."""
    return np.log10(x)

def log1p(x: Array, /) -> Array:
    """``numpy.log1p``, differentiated by its rule."""
    return np.log1p(x)

def log2(x: Array, /) -> Array:
    """``numpy.log2``, differentiated by its rule."""
    return np.log2(x)

def logical_not(x: Array, /) -> Array:
    """``numpy.logical_not`` of the values: a plain boolean result."""
    return np.logical_not(x)

def negative(x: Array, /) -> Array:
    """``numpy.negative``, differentiated by its rule."""
    return np.negative(x)

def positive(x: Array, /) -> Array:
    """``numpy.positive``, differentiated by its rule."""
    return np.positive(x)

def real(x: Array, /) -> Array:
    """``numpy.real``, differentiated by its rule."""
    return np.real(x)

def reciprocal(x: Array, /) -> Array:
    """``numpy.reciprocal``, differentiated by its rule."""
    return np.reciprocal(x)

def round(x: Array, /) -> Array:
    """``numpy.round`` to the nearest integer, halves to even (slope 0, by convention)."""
    return np.round(x)

def sign(x: Array, /) -> Array:
    """``numpy.sign``, differentiated by its rule."""
    return np.sign(x)

def signbit(x: Array, /) -> Array:
    """``numpy.signbit`` of the values: a plain boolean result."""
    return np.signbit(x)

def sin(x: Array, /) -> Array:
    """``numpy.sin``, differentiated by its rule."""
    return np.sin(x)

def sinh(x: Array, /) -> Array:
    """``numpy.sinh``, differentiated by its rule."""
    return np.sinh(x)

def sqrt(x: Array, /) -> Array:
    """``numpy.sqrt``, differentiated by its rule."""
    return np.sqrt(x)

def square(x: Array, /) -> Array:
    """``numpy.square``, differentiated by its rule."""
    return np.square(x)

def tan(x: Array, /) -> Array:
    """``numpy.tan``, differentiated by its rule."""
    return np.tan(x)

def tanh(x: Array, /) -> Array:
    """``numpy.tanh``, differentiated by its rule."""
    return np.tanh(x)

def trunc(x: Array, /) -> Array:
    """``numpy.trunc``, differentiated by its rule."""
    return np.trunc(x)

def add(x1: Array, x2: Array, /) -> Array:
    """``numpy.add``, differentiated by its rule."""
    return np.add(x1, x2)

def atan2(x1: Array, x2: Array, /) -> Array:
    """``numpy.arctan2``, differentiated by its rule."""
    return np.arctan2(x1, x2)

def bitwise_and(x1: Array, x2: Array, /) -> Array:
    """``numpy.bitwise_and``, differentiated by its rule."""
    return np.bitwise_and(x1, x2)

def bitwise_left_shift(x1: Array, x2: Array, /) -> Array:
    """``numpy.left_shift``, differentiated by its rule."""
    return np.left_shift(x1, x2)

def bitwise_or(x1: Array, x2: Array, /) -> Array:
    """``numpy.bitwise_or``, differentiated by its rule."""
    return np.bitwise_or(x1, x2)

def bitwise_right_shift(x1: Array, x2: Array, /) -> Array:
    """``numpy.right_shift``, differentiated by its rule."""
    return np.right_shift(x1, x2)

def bitwise_xor(x1: Array, x2: Array, /) -> Array:
    """``numpy.bitwise_xor``, differentiated by its rule."""
    return np.bitwise_xor(x1, x2)

def copysign(x1: Array, x2: Array, /) -> Array:
    """``numpy.copysign``, differentiated by its rule."""
    return np.copysign(x1, x2)

def divide(x1: Array, x2: Array, /) -> Array:
    """``numpy.divide``, differentiated by its rule."""
    return np.divide(x1, x2)

def equal(x1: Array, x2: Array, /) -> Array:
    """``numpy.equal`` of the values: a plain boolean result."""
    return np.equal(x1, x2)

def floor_divide(x1: Array, x2: Array, /) -> Array:
    """``numpy.floor_divide``, differentiated by its rule."""
    return np.floor_divide(x1, x2)

def greater(x1: Array, x2: Array, /) -> Array:
    """``numpy.greater`` of the values: a plain boolean result."""
    return np.greater(x1, x2)

def greater_equal(x1: Array, x2: Array, /) -> Array:
    """``numpy.greater_equal`` of the values: a plain boolean result."""
    return np.greater_equal(x1, x2)

def hypot(x1: Array, x2: Array, /) -> Array:
    """``numpy.hypot``, differentiated by its rule."""
    return np.hypot(x1, x2)

def less(x1: Array, x2: Array, /) -> Array:
    """``numpy.less`` of the values: a plain boolean result."""
    return np.less(x1, x2)

def less_equal(x1: Array, x2: Array, /) -> Array:
    """``numpy.less_equal`` of the values: a plain boolean result."""
    return np.less_equal(x1, x2)

def logaddexp(x1: Array, x2: Array, /) -> Array:
    """``numpy.logaddexp``, differentiated by its rule."""
    return np.logaddexp(x1, x2)

def logical_and(x1: Array, x2: Array, /) -> Array:
    """``numpy.logical_and`` of the values: a plain boolean result."""
    return np.logical_and(x1, x2)

def logical_or(x1: Array, x2: Array, /) -> Array:
    """``numpy.logical_or`` of the values: a plain boolean result."""
    return np.logical_or(x1, x2)

def logical_xor(x1: Array, x2: Array, /) -> Array:
    """``numpy.logical_xor`` of the values: a plain boolean result."""
    return np.logical_xor(x1, x2)

def maximum(x1: Array, x2: Array, /) -> Array:
    """``numpy.maximum``, differentiated by its rule."""
    return np.maximum(x1, x2)

def minimum(x1: Array, x2: Array, /) -> Array:
    """``numpy.minimum``, differentiated by its rule."""
    return np.minimum(x1, x2)

def multiply(x1: Array, x2: Array, /) -> Array:
    """``numpy.multiply``, differentiated by its rule."""
    return np.multiply(x1, x2)

def nextafter(x1: Array, x2: Array, /) -> Array:
    """``numpy.nextafter``, differentiated by its rule."""
    return np.nextafter(x1, x2)

def not_equal(x1: Array, x2: Array, /) -> Array:
    """``numpy.not_equal`` of the values: a plain boolean result."""
    return np.not_equal(x1, x2)

def pow(x1: Array, x2: Array, /) -> Array:
    """``numpy.power``, differentiated by its rule."""
    return np.power(x1, x2)

def remainder(x1: Array, x2: Array, /) -> Array:
    """``numpy.remainder``, differentiated by its rule."""
    return np.remainder(x1, x2)

def subtract(x1: Array, x2: Array, /) -> Array:
    """``numpy.subtract``, differentiated by its rule."""
    return np.subtract(x1, x2)

def clip(x: Array, /, min: Any = None, max: Any = None) -> Array:
    """``numpy.clip`` between ``min`` and ``max`` (either may be ``None``); keeps ``x``'s dtype."""
    if min is None and max is None:
        return np.copy(x)
    return np.clip(x, min, max)


__all__ = [
    "abs",
    "acos",
    "acosh",
    "add",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "ceil",
    "clip",
    "conj",
    "copysign",
    "cos",
    "cosh",
    "divide",
    "equal",
    "exp",
    "expm1",
    "floor",
    "floor_divide",
    "greater",
    "greater_equal",
    "hypot",
    "imag",
    "isfinite",
    "isinf",
    "isnan",
    "less",
    "less_equal",
    "log",
    "log1p",
    "log2",
    "log10",
    "logaddexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "nextafter",
    "not_equal",
    "positive",
    "pow",
    "real",
    "reciprocal",
    "remainder",
    "round",
    "sign",
    "signbit",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "subtract",
    "tan",
    "tanh",
    "trunc",
]
