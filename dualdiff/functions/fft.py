"""Discrete Fourier transforms (``numpy.fft``): linear, so the tangent takes the same transform.

Every transform here is linear over the reals (``hfft`` and ``ihfft``
conjugate, which is still real-linear), whatever its padding ``n``/``s`` and
normalization ``norm``: the tangent is transformed along the same axes.
Axes are passed counted from the end, which stays right when a batch of
tangents adds a leading axis.  A real input gives a complex output; the
dual number then has a complex value and a complex tangent.

Examples
--------
>>> import numpy as np
>>> from dualdiff import Dual
>>> np.fft.rfft(Dual(np.array([1.0, 0.0, -1.0, 0.0]), np.array([0.0, 1.0, 0.0, 0.0]))).tangent
array([ 1.+0.j,  0.-1.j, -1.+0.j])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_function
from dualdiff.dual import Dual
from dualdiff.functions._common import normalize_axes, normalize_axis, reject

SIGNAL = np.array([0.5, -1.0, 2.0, 0.3, -0.8, 1.1])
GRID = np.array([[0.2, -0.5, 1.0, 0.7], [1.3, 0.4, -0.9, 0.1], [-0.6, 0.8, 0.3, -1.2]])
BLOCK = np.arange(24.0).reshape(2, 3, 4) ** 0.5 / 3 - 0.6


def _from_end(axes: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    return tuple(axis - ndim for axis in axes)


def _one_axis(transform: Callable[..., Any], a: Dual, n: Any, axis: int, norm: Any) -> Dual:
    axis = normalize_axis(axis, a.ndim) - a.ndim
    return make(transform(a.value, n=n, axis=axis, norm=norm),
                transform(a.tangent, n=n, axis=axis, norm=norm), a.tag)


def _many_axes(transform: Callable[..., Any], a: Dual, s: Any, axes: Any, norm: Any) -> Dual:
    ndim = a.ndim
    if axes is None:  # NumPy's default: all axes, or the last len(s)
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    axes = _from_end(normalize_axes(tuple(axes), ndim), ndim)
    return make(transform(a.value, s=s, axes=axes, norm=norm),
                transform(a.tangent, s=s, axes=axes, norm=norm), a.tag)


def _shift(shift: Callable[..., Any], x: Dual, axes: Any) -> Dual:
    ndim = x.ndim
    axes = _from_end(normalize_axes(axes, ndim), ndim)
    return make(shift(x.value, axes=axes), shift(x.tangent, axes=axes), x.tag)


# --- one axis -------------------------------------------------------------------------------------


@register_function(np.fft.fft, examples=((SIGNAL,), ((GRID,), {"axis": 0, "n": 5}),
                                         ((BLOCK,), {"norm": "ortho"})))
def fft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """One-dimensional discrete Fourier transform."""
    reject("fft.fft", out=out)
    return _one_axis(np.fft.fft, a, n, axis, norm)


@register_function(np.fft.ifft, examples=((SIGNAL,), ((GRID,), {"axis": 0, "n": 2}),
                                          ((BLOCK,), {"norm": "forward"})))
def ifft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """One-dimensional inverse discrete Fourier transform."""
    reject("fft.ifft", out=out)
    return _one_axis(np.fft.ifft, a, n, axis, norm)


@register_function(np.fft.rfft, examples=((SIGNAL,), ((GRID,), {"axis": 0}),
                                          ((BLOCK,), {"n": 7, "norm": "ortho"})))
def rfft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """Discrete Fourier transform of a real input (the non-negative frequencies)."""
    reject("fft.rfft", out=out)
    return _one_axis(np.fft.rfft, a, n, axis, norm)


@register_function(np.fft.irfft, examples=((SIGNAL,), ((GRID,), {"axis": 0, "n": 4}),
                                           ((BLOCK,), {"norm": "forward"})))
def irfft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """Inverse of ``rfft``: a real output."""
    reject("fft.irfft", out=out)
    return _one_axis(np.fft.irfft, a, n, axis, norm)


@register_function(np.fft.hfft, examples=((SIGNAL,), ((GRID,), {"axis": 0, "n": 6}),
                                          ((BLOCK,), {"norm": "ortho"})))
def hfft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """Transform of a signal with Hermitian symmetry: a real output."""
    reject("fft.hfft", out=out)
    return _one_axis(np.fft.hfft, a, n, axis, norm)


@register_function(np.fft.ihfft, examples=((SIGNAL,), ((GRID,), {"axis": 0}),
                                           ((BLOCK,), {"n": 3})))
def ihfft(a: Dual, n: Any = None, axis: int = -1, norm: Any = None, out: Any = None) -> Dual:
    """Inverse of ``hfft``."""
    reject("fft.ihfft", out=out)
    return _one_axis(np.fft.ihfft, a, n, axis, norm)


# --- several axes ---------------------------------------------------------------------------------


@register_function(np.fft.fft2, examples=((GRID,), ((BLOCK,), {"axes": (0, 2), "s": (3, 3)})))
def fft2(a: Dual, s: Any = None, axes: Any = (-2, -1), norm: Any = None,
         out: Any = None) -> Dual:
    """Two-dimensional discrete Fourier transform."""
    reject("fft.fft2", out=out)
    return _many_axes(np.fft.fft2, a, s, axes, norm)


@register_function(np.fft.ifft2, examples=((GRID,), ((BLOCK,), {"norm": "ortho"})))
def ifft2(a: Dual, s: Any = None, axes: Any = (-2, -1), norm: Any = None,
          out: Any = None) -> Dual:
    """Two-dimensional inverse discrete Fourier transform."""
    reject("fft.ifft2", out=out)
    return _many_axes(np.fft.ifft2, a, s, axes, norm)


@register_function(np.fft.rfft2, examples=((GRID,), ((BLOCK,), {"axes": (2, 0)})))
def rfft2(a: Dual, s: Any = None, axes: Any = (-2, -1), norm: Any = None,
          out: Any = None) -> Dual:
    """Two-dimensional transform of a real input."""
    reject("fft.rfft2", out=out)
    return _many_axes(np.fft.rfft2, a, s, axes, norm)


@register_function(np.fft.irfft2, examples=((GRID,), ((BLOCK,), {"s": (2, 6)})))
def irfft2(a: Dual, s: Any = None, axes: Any = (-2, -1), norm: Any = None,
           out: Any = None) -> Dual:
    """Inverse of ``rfft2``: a real output."""
    reject("fft.irfft2", out=out)
    return _many_axes(np.fft.irfft2, a, s, axes, norm)


@register_function(np.fft.fftn, examples=((BLOCK,), ((GRID,), {"s": (2, 5), "axes": (0, 1)}),
                                          ((BLOCK,), {"axes": (1,), "norm": "forward"})))
def fftn(a: Dual, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Dual:
    """N-dimensional discrete Fourier transform."""
    reject("fft.fftn", out=out)
    return _many_axes(np.fft.fftn, a, s, axes, norm)


@register_function(np.fft.ifftn, examples=((BLOCK,), ((GRID,), {"axes": (0,)})))
def ifftn(a: Dual, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Dual:
    """N-dimensional inverse discrete Fourier transform."""
    reject("fft.ifftn", out=out)
    return _many_axes(np.fft.ifftn, a, s, axes, norm)


@register_function(np.fft.rfftn, examples=((BLOCK,), ((BLOCK,), {"axes": (0, 1)})))
def rfftn(a: Dual, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Dual:
    """N-dimensional transform of a real input."""
    reject("fft.rfftn", out=out)
    return _many_axes(np.fft.rfftn, a, s, axes, norm)


@register_function(
    np.fft.irfftn, examples=((BLOCK,), ((GRID,), {"s": (4, 4), "axes": (0, 1), "norm": "ortho"}))
)
def irfftn(a: Dual, s: Any = None, axes: Any = None, norm: Any = None, out: Any = None) -> Dual:
    """Inverse of ``rfftn``: a real output."""
    reject("fft.irfftn", out=out)
    return _many_axes(np.fft.irfftn, a, s, axes, norm)


# --- shifts ---------------------------------------------------------------------------------------


@register_function(np.fft.fftshift, examples=((SIGNAL,), ((BLOCK,), {"axes": (0, -1)}),
                                              ((GRID,), {"axes": 1})))
def fftshift(x: Dual, axes: Any = None) -> Dual:
    """Move the zero frequency to the centre."""
    return _shift(np.fft.fftshift, x, axes)


@register_function(np.fft.ifftshift, examples=((SIGNAL[:5],), ((BLOCK,), {"axes": 2})))
def ifftshift(x: Dual, axes: Any = None) -> Dual:
    """Inverse of ``fftshift``."""
    return _shift(np.fft.ifftshift, x, axes)
