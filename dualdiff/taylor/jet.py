"""The Taylor number: a value and the normalised Taylor coefficients of a curve through it.

``Jet`` stands for the truncated polynomial ``a_0 + a_1 t + ... + a_K t**K`` with
``t**(K + 1) == 0``, where ``a_k = f^(k)(0) / k!`` for the curve ``t -> f(x + t v)``.
Coefficients are *normalised* (divided by ``k!``), never factorial-scaled derivatives:
``exp`` at order 200 has coefficients ``1 / k!``, which are representable, where
``f^(k)`` would be ``1`` and ``k!`` overflow.  A Jet holds ``terms = (a_0, a_1, ...,
a_K)``: ``a_0`` is the value (a number, an array, or in nested differentiation a
``Dual`` or an older ``Jet``) and every higher coefficient has the value's shape, or
one more leading axis holding a *batch* of directions, as a ``Dual``'s tangent
(:func:`dualdiff.memory.batch_of`).  A higher coefficient may be the number ``0.0``
(a constant's coefficients), which broadcasts.

NumPy reaches a Jet through ``__array_ufunc__`` (the recurrences of
:mod:`dualdiff.taylor.recurrences`, built on the rule table of :mod:`dualdiff.rules`)
and ``__array_function__`` (:mod:`dualdiff.taylor.linear`: linear functions act on
each coefficient, with the Dual implementations).  Comparisons compare values, as
for ``Dual``.  Tags (:mod:`dualdiff.tags`) decide which of two Jets is live: the
newer one; the older one, and any Dual, is a constant to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from dualdiff import dispatch as _dispatch
from dualdiff.dual import Dual
from dualdiff.tags import USER_TAG

_NOT_AN_ARRAY = (
    "a Jet cannot become a plain NumPy array: its Taylor coefficients would be dropped. "
    "Build arrays of Jets with np.stack([...]) or np.concatenate([...]), or take the "
    "value explicitly with .value (or all coefficients with .coefficients)"
)


class Jet(NDArrayOperatorsMixin):
    """A truncated Taylor polynomial ``a_0 + a_1 t + ... + a_K t**K`` (``t**(K+1) == 0``).

    Parameters
    ----------
    value : float, complex, array_like, Dual or Jet
        ``a_0``, the value.
    coefficients : array_like
        ``a_1, ..., a_K`` stacked on a leading axis: shape ``(K,) + value.shape``, or
        ``(K, k) + value.shape`` for a batch of ``k`` directions.  The coefficients are
        normalised: ``a_j = f^(j) / j!``.
    tag : int, optional
        Which differentiation this number belongs to (:mod:`dualdiff.tags`).

    Examples
    --------
    >>> import numpy as np
    >>> t = Jet(0.0, [1.0, 0.0, 0.0, 0.0])   # t itself, to order 4
    >>> np.exp(t).coefficients                # 1/k!
    array([1.        , 1.        , 0.5       , 0.16666667, 0.04166667])
    >>> (t * t + 1.0).coefficients
    array([1., 0., 1., 0., 0.])
    >>> print(np.sin(Jet(0.0, [1.0, 0.0, 0.0])))
    0.0 + 1.0t + 0.0t² - 0.16666666666666666t³
    """

    __slots__ = ("tag", "terms")
    __array_priority__ = 30.0  # above Dual's, so Dual arithmetic defers to a Jet

    def __init__(self, value: Any, coefficients: Any = (), *, tag: int = USER_TAG) -> None:
        value = _as_number(value)
        higher = coefficients if isinstance(coefficients, Dual | Jet) else np.asarray(
            coefficients, dtype=np.result_type(_plain(value), 1.0)
        )
        shape = np.shape(_plain(value))
        given = np.shape(_plain(higher))
        extra = len(given) - 1 - len(shape)
        if extra not in (0, 1) or given[1 + extra:] != shape:
            raise ValueError(
                f"Jet(value, coefficients) needs coefficients of shape (K,) + {shape}, or "
                f"(K, batch) + {shape} for a batch of directions; got {given}"
            )
        self.terms = (value, *(higher[k] for k in range(len(higher))))
        self.tag = tag

    # --- what it holds -------------------------------------------------------------------------
    @property
    def value(self) -> Any:
        """``a_0``, the value."""
        return self.terms[0]

    @property
    def tangent(self) -> Any:
        """``a_1``, the first-order coefficient (``0.0`` at order 0)."""
        return self.terms[1] if len(self.terms) > 1 else 0.0

    @property
    def order(self) -> int:
        """``K``, the highest coefficient carried."""
        return len(self.terms) - 1

    @property
    def batch(self) -> tuple[int, ...]:
        """``(k,)`` for a batch of ``k`` directions, else ``()``."""
        return batch_of_terms(self.terms)

    @property
    def shape(self) -> tuple[int, ...]:
        """The value's shape."""
        return getattr(_plain(self.terms[0]), "shape", ())

    @property
    def ndim(self) -> int:
        """The value's number of dimensions."""
        return ndim_of(self.terms[0])

    @property
    def size(self) -> int:
        """The value's number of elements."""
        return int(np.prod(self.shape))

    @property
    def dtype(self) -> np.dtype:
        """The value's dtype."""
        return np.result_type(_plain(self.terms[0]))

    @property
    def coefficients(self) -> Any:
        """``a_0 ... a_K`` stacked on a leading axis (``a_0`` broadcast over a batch)."""
        return stack_terms(self.terms)

    @property
    def T(self) -> Jet:  # noqa: N802 - NumPy's name
        """The transpose, as ``ndarray.T``."""
        return np.transpose(self)

    @property
    def real(self) -> Jet:
        """The real part (``numpy.real``)."""
        return np.real(self)

    @property
    def imag(self) -> Jet:
        """The imaginary part (``numpy.imag``)."""
        return np.imag(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar Jet")
        return self.shape[0]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index: Any) -> Jet:
        return _linear.through_duals(lambda x: x[index], (self,), {})

    def __setitem__(self, index: Any, item: Any) -> None:
        raise TypeError(
            "a Jet does not support item assignment; build the array functionally "
            "(np.where, np.concatenate, np.stack) inside the function"
        )

    def reshape(self, *shape: Any, order: str = "C") -> Jet:
        """As ``ndarray.reshape``."""
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Jet:
        """As ``ndarray.sum``."""
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Jet:
        """As ``ndarray.mean``."""
        return np.mean(self, axis=axis, keepdims=keepdims)

    def ravel(self) -> Jet:
        """As ``ndarray.ravel``."""
        return np.ravel(self)

    # --- NumPy protocols ------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _recurrences.call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _linear.call_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_NOT_AN_ARRAY)

    def __float__(self) -> float:
        raise TypeError(
            "float() of a Jet would drop its Taylor coefficients; use NumPy functions "
            "(np.sin(x), not math.sin(x)) or take the value explicitly with .value"
        )

    def __complex__(self) -> complex:
        raise TypeError("complex() of a Jet would drop its Taylor coefficients; use .value")

    def __bool__(self) -> bool:
        return bool(_plain(self.terms[0]))

    def __int__(self) -> int:
        return int(_plain(self.terms[0]))

    def __index__(self) -> int:
        raise TypeError("a Jet cannot be used as an index or a size; use int(x) or x.value")

    __hash__ = None  # type: ignore[assignment]  # == compares values elementwise

    # --- display ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        higher = stack_terms(self.terms)[1:]
        tag = f", tag={self.tag}" if self.tag != USER_TAG else ""
        return f"Jet({self.terms[0]!r}, {higher!r}{tag})"

    def __str__(self) -> str:
        if self.shape or self.batch:
            return repr(self)
        out = str(self.terms[0])
        for k, a in enumerate(self.terms[1:], 1):
            text = str(_plain(a) if not isinstance(a, Dual | Jet) else a)
            sign = " - " if text.startswith("-") else " + "
            power = "t" + ("" if k == 1 else str(k).translate(_SUPERSCRIPTS))
            out += sign + text.lstrip("-") + power
        return out


_dispatch.OUTRANKING.add(Jet)  # a Dual meeting a Jet lets the Jet decide (tags: newer is live)

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _plain(x: Any) -> Any:
    """The plain value under any Dual and Jet layers."""
    while isinstance(x, Dual | Jet):
        x = x.value
    return x


def _as_number(x: Any) -> Any:
    if isinstance(x, Dual | Jet):
        return x
    if isinstance(x, bool | int | float):
        return float(x)
    if isinstance(x, complex):
        return x
    array = np.asarray(x)
    if array.dtype.kind not in "biufc":
        raise TypeError(f"a Jet holds numbers, not {array.dtype}")
    if array.dtype.kind in "biu":
        array = array.astype(float)
    return array.copy() if array.ndim else array[()].item()


def make_jet(terms: tuple[Any, ...] | list[Any], tag: int) -> Jet:
    """Build a Jet from its terms without validation."""
    jet = object.__new__(Jet)
    jet.terms = tuple(terms)
    jet.tag = tag
    return jet


def ndim_of(x: Any) -> int:
    """The number of axes of the plain value under ``x`` (0 for numbers)."""
    return getattr(_plain(x), "ndim", 0)


def batch_of_terms(terms: tuple[Any, ...]) -> tuple[int, ...]:
    """``(k,)`` where the higher terms carry a batch axis the value lacks, else ``()``."""
    ndim = ndim_of(terms[0])
    for a in terms[1:]:
        plain = _plain(a)
        if getattr(plain, "ndim", 0) > ndim:
            return plain.shape[:1]
    return ()


def full_term(a: Any, shape: tuple[int, ...], dtype: Any) -> Any:
    """A coefficient broadcast to ``shape`` as its own array (``0.0`` becomes zeros)."""
    if isinstance(a, Dual | Jet):
        return a if np.shape(_plain(a)) == shape else np.broadcast_to(a, shape) * 1.0
    if np.shape(a) == shape and isinstance(a, np.ndarray):
        return a
    return np.array(np.broadcast_to(np.asarray(a, dtype=dtype), shape))


def stack_terms(terms: tuple[Any, ...]) -> Any:
    """``a_0 ... a_K`` stacked on a new leading axis, ``a_0`` broadcast over any batch."""
    batch = batch_of_terms(terms)
    value = terms[0]
    shape = batch + np.shape(_plain(value))
    dtype = np.result_type(*(_plain(a) for a in terms))
    if isinstance(value, Dual | Jet) or any(isinstance(a, Dual | Jet) for a in terms):
        return np.stack([full_term(a, shape, dtype) for a in terms])
    out = np.empty((len(terms), *shape), dtype=dtype)
    for k, a in enumerate(terms):
        out[k] = a
    return out


from dualdiff.taylor import linear as _linear  # noqa: E402  (they build on Jet)
from dualdiff.taylor import recurrences as _recurrences  # noqa: E402
