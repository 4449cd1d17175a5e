"""A deliberately minimal dual number: the speed floor for the scalar benchmark.

No tags (so nested derivatives can confuse perturbations), no arrays, no batches,
six functions and no error checking: it shows what any Python dual class pays for
object creation and NumPy's ``__array_ufunc__`` dispatch on this machine, so the
benchmark can report dualdiff's overhead above that floor.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


class MinimalDual:
    __slots__ = ("tangent", "value")

    def __init__(self, value: float, tangent: float) -> None:
        self.value, self.tangent = value, tangent

    def __add__(self, other: Any) -> MinimalDual:
        if type(other) is MinimalDual:
            return MinimalDual(self.value + other.value, self.tangent + other.tangent)
        return MinimalDual(self.value + other, self.tangent)

    __radd__ = __add__

    def __neg__(self) -> MinimalDual:
        return MinimalDual(-self.value, -self.tangent)

    def __mul__(self, other: Any) -> MinimalDual:
        if type(other) is MinimalDual:
            return MinimalDual(
                self.value * other.value, self.tangent * other.value + self.value * other.tangent
            )
        return MinimalDual(self.value * other, self.tangent * other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> MinimalDual:
        if type(other) is MinimalDual:
            ratio = self.value / other.value
            return MinimalDual(ratio, (self.tangent - ratio * other.tangent) / other.value)
        return MinimalDual(self.value / other, self.tangent / other)

    def __pow__(self, exponent: float) -> MinimalDual:
        return MinimalDual(
            self.value**exponent, exponent * self.value ** (exponent - 1) * self.tangent
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        function, slope = _RULES[ufunc]
        return MinimalDual(function(self.value), slope(self.value) * self.tangent)


_RULES = {
    np.sin: (math.sin, math.cos),
    np.cos: (math.cos, lambda v: -math.sin(v)),
    np.exp: (math.exp, math.exp),
    np.log: (math.log, lambda v: 1 / v),
    np.sqrt: (math.sqrt, lambda v: 0.5 / math.sqrt(v)),
    np.tanh: (math.tanh, lambda v: 1 - math.tanh(v) ** 2),
}


def value_and_derivative(f: Any, x: float) -> tuple[float, float]:
    out = f(MinimalDual(x, 1.0))
    return out.value, out.tangent
