"""Complex numbers: the angle, and the questions NumPy asks about complex values.

``np.real`` and ``np.imag`` are linear and live in :mod:`dualdiff.functions.shape`;
``abs``, ``np.conj`` and ``np.sign`` of complex values are ufuncs, with rules in
``rules.NON_HOLOMORPHIC``.  None of these is holomorphic, so the tangent is a
real-linear function of ``dz``, not a complex slope times ``dz``; the
conventions are listed in ``docs/conventions.md`` ("Complex numbers").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import MATRIX, VECTOR


@register_function(np.angle, examples=((VECTOR,), ((MATRIX,), {"deg": True})))
def angle(z: Dual, deg: bool = False) -> Dual:
    """The argument of ``z``: its tangent is ``Im(conj(z) dz) / |z|**2``, 0 at ``z == 0``."""
    value = np.angle(z.value, deg=deg)
    turn = np.imag(np.conjugate(z.value) * z.tangent)
    size = np.square(np.absolute(z.value))
    with np.errstate(divide="ignore", invalid="ignore"):
        tangent = np.where(strip(size) == 0, 0 * turn, turn / size)
    if deg:
        tangent = tangent * (180 / math.pi)
    return make(value, tangent[()] if np.ndim(tangent) == 0 else tangent, z.tag)


@register_function(np.iscomplexobj, examples=((MATRIX,),))
def iscomplexobj(x: Any) -> bool:
    """Whether the value's type is complex (plain)."""
    return np.iscomplexobj(strip(x))


@register_function(np.isrealobj, examples=((MATRIX,),))
def isrealobj(x: Any) -> bool:
    """Whether the value's type is not complex (plain)."""
    return np.isrealobj(strip(x))


@register_function(np.iscomplex, examples=((2.5,),))
def iscomplex(x: Any) -> Any:
    """Where the value has a nonzero imaginary part (plain)."""
    return np.iscomplex(strip(x))


@register_function(np.isreal, examples=((2.5,),))
def isreal(x: Any) -> Any:
    """Where the value has a zero imaginary part (plain)."""
    return np.isreal(strip(x))


@register_function(np.real_if_close, examples=((VECTOR,), ((MATRIX,), {"tol": 10})))
def real_if_close(a: Dual, tol: float = 100) -> Dual:
    """The real part if the value's imaginary parts are all within ``tol`` (as NumPy decides)."""
    value = strip(a.value)
    if not np.iscomplexobj(value):
        return a
    return np.real(a) if np.isrealobj(np.real_if_close(value, tol=tol)) else a
