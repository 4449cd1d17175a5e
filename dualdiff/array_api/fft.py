"""The ``fft`` extension: ``numpy.fft``'s transforms (linear: the tangent is transformed too).

Examples
--------
>>> import numpy as np
>>> from dualdiff import Dual
>>> fft(Dual(np.array([1.0, 2.0]), np.array([1.0, 0.0]))).tangent
array([1.+0.j, 1.+0.j])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.array_api._devices import check_device
from dualdiff.array_api.creation import constant

Array = Any


def fft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Array:
    """``numpy.fft.fft``."""
    return np.fft.fft(x, n=n, axis=axis, norm=norm)


def ifft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Array:
    """``numpy.fft.ifft``."""
    return np.fft.ifft(x, n=n, axis=axis, norm=norm)


def fftn(x: Array, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """``numpy.fft.fftn``."""
    return np.fft.fftn(x, s=s, axes=axes, norm=norm)


def ifftn(x: Array, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """``numpy.fft.ifftn``."""
    return np.fft.ifftn(x, s=s, axes=axes, norm=norm)


def rfft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Array:
    """``numpy.fft.rfft``."""
    return np.fft.rfft(x, n=n, axis=axis, norm=norm)


def irfft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward"
          ) -> Array:
    """``numpy.fft.irfft``."""
    return np.fft.irfft(x, n=n, axis=axis, norm=norm)


def rfftn(x: Array, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """``numpy.fft.rfftn``."""
    return np.fft.rfftn(x, s=s, axes=axes, norm=norm)


def irfftn(x: Array, /, *, s: Any = None, axes: Any = None, norm: str = "backward") -> Array:
    """``numpy.fft.irfftn``."""
    return np.fft.irfftn(x, s=s, axes=axes, norm=norm)


def hfft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward") -> Array:
    """``numpy.fft.hfft``."""
    return np.fft.hfft(x, n=n, axis=axis, norm=norm)


def ihfft(x: Array, /, *, n: int | None = None, axis: int = -1, norm: str = "backward"
          ) -> Array:
    """``numpy.fft.ihfft``."""
    return np.fft.ihfft(x, n=n, axis=axis, norm=norm)


def fftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Array:
    """The sample frequencies (a constant), ``numpy.fft.fftfreq``."""
    check_device(device)
    out = np.fft.fftfreq(n, d=d)
    return constant(out if dtype is None else out.astype(dtype))


def rfftfreq(n: int, /, *, d: float = 1.0, dtype: Any = None, device: Any = None) -> Array:
    """The sample frequencies of ``rfft`` (a constant), ``numpy.fft.rfftfreq``."""
    check_device(device)
    out = np.fft.rfftfreq(n, d=d)
    return constant(out if dtype is None else out.astype(dtype))


def fftshift(x: Array, /, *, axes: Any = None) -> Array:
    """``numpy.fft.fftshift``."""
    return np.fft.fftshift(x, axes=axes)


def ifftshift(x: Array, /, *, axes: Any = None) -> Array:
    """``numpy.fft.ifftshift``."""
    return np.fft.ifftshift(x, axes=axes)
