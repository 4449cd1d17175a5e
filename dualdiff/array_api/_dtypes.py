"""The standard's data types and data-type functions, over NumPy's dtypes.

A Dual reports its value's dtype (a float or complex one); integer and
boolean arrays in this namespace are plain NumPy arrays, since they carry no
tangent.  The dtype objects are NumPy's ``numpy.dtype`` instances, so
``x.dtype == float64`` holds for Duals and arrays alike.
"""

from __future__ import annotations

import builtins
import dataclasses
from typing import Any

import numpy as np

from dualdiff.dual import Dual
from dualdiff.elementary import strip

bool = np.dtype("bool")
int8, int16, int32, int64 = (np.dtype(f"int{n}") for n in (8, 16, 32, 64))
uint8, uint16, uint32, uint64 = (np.dtype(f"uint{n}") for n in (8, 16, 32, 64))
float32, float64 = np.dtype("float32"), np.dtype("float64")
complex64, complex128 = np.dtype("complex64"), np.dtype("complex128")

_KINDS = {
    "bool": "b",
    "signed integer": "i",
    "unsigned integer": "u",
    "integral": "iu",
    "real floating": "f",
    "complex floating": "c",
    "numeric": "iufc",
}


def isdtype(dtype: Any, kind: Any) -> builtins.bool:
    """Whether ``dtype`` is of ``kind`` (a dtype, a kind name, or a tuple of them).

    Examples
    --------
    >>> isdtype(float64, "real floating"), isdtype(int8, ("bool", "numeric"))
    (True, True)
    """
    if isinstance(kind, tuple):
        return any(isdtype(dtype, k) for k in kind)
    dtype = np.dtype(dtype)
    if isinstance(kind, str):
        if kind not in _KINDS:
            raise ValueError(f"unknown dtype kind {kind!r}; expected one of {sorted(_KINDS)}")
        return dtype.kind in _KINDS[kind]
    return dtype == np.dtype(kind)


def _plain(x: Any) -> Any:
    """What NumPy's dtype functions may see of ``x``: a Dual's innermost value, else ``x``."""
    return strip(x) if type(x) is Dual else x


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """The dtype NumPy's promotion gives (Duals by their values' dtypes).

    Examples
    --------
    >>> from dualdiff import Dual
    >>> result_type(Dual(1.0, 1.0), float32)
    dtype('float64')
    """
    dtypes = [x.dtype if type(x) is Dual else x for x in arrays_and_dtypes]
    return np.result_type(*dtypes)


def can_cast(from_: Any, to: Any, /) -> builtins.bool:
    """Whether ``from_`` (a dtype or an array) casts safely to ``to``.

    Examples
    --------
    >>> can_cast(float32, float64), can_cast(float64, int64)
    (True, False)
    """
    return np.can_cast(from_.dtype if hasattr(from_, "dtype") else from_, to)


@dataclasses.dataclass(frozen=True)
class FInfo:
    """Machine limits of a floating dtype, as the standard states them: Python numbers."""

    bits: int
    eps: float
    max: float
    min: float
    smallest_normal: float
    dtype: np.dtype


def finfo(type: Any, /) -> FInfo:
    """Machine limits of a float or complex dtype (``numpy.finfo``; a Dual reads its dtype).

    Examples
    --------
    >>> finfo(float32).bits, finfo(float32).eps
    (32, 1.1920928955078125e-07)
    """
    info = np.finfo(type.dtype if hasattr(type, "dtype") else type)
    return FInfo(int(info.bits), float(info.eps), float(info.max), float(info.min),
                 float(info.smallest_normal), info.dtype)


def iinfo(type: Any, /) -> Any:
    """Machine limits of an integer dtype (``numpy.iinfo``).

    Examples
    --------
    >>> iinfo(int8).max
    127
    """
    return np.iinfo(type.dtype if hasattr(type, "dtype") else type)


def astype(x: Any, dtype: Any, /, *, copy: builtins.bool = True, device: Any = None) -> Any:
    """``x`` as ``dtype``: a Dual to a float or complex dtype (its tangents too).

    A Dual cast to an integer or boolean dtype gives its values cast, a plain
    array, as ``int(x)`` gives the value truncated: the cast is piecewise
    constant, so its slope is 0 by dualdiff's convention (``docs/conventions.md``).

    Examples
    --------
    >>> from dualdiff import Dual
    >>> astype(Dual(np.array([1.0, 2.0]), np.ones(2)), float32).tangent.dtype
    dtype('float32')
    >>> astype(Dual(np.array([1.5, -2.5]), np.ones(2)), int64)
    array([ 1, -2])
    """
    from dualdiff.array_api._devices import check_device  # noqa: PLC0415 - a sibling

    check_device(device)
    dtype = np.dtype(dtype)
    if type(x) is Dual:
        if dtype.kind not in "fc":  # piecewise constant: plain values, as int(x)
            return np.astype(np.asarray(strip(x)), dtype, copy=True)
        if x.dtype.kind == "c" and dtype.kind != "c":
            raise TypeError("cannot cast a complex Dual to a real dtype; take xp.real(x) first")
        if not copy and x.dtype == dtype:
            return x
        return x.astype(dtype, copy=copy)
    return np.astype(np.asarray(x), dtype, copy=copy)
