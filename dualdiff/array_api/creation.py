"""Creation functions: plain data becomes a Dual of zero tangent, Duals stay Duals.

Float and complex arrays made here are Duals (constants: a zero tangent), so
SciPy's ``array_namespace`` sees one namespace when they meet a Dual.  A
constant made while a derivative call runs belongs to the newest running one
(:func:`~dualdiff.tags.newest_running`), as ``np.zeros_like(x)`` belongs to
``x``'s: code that fills ``H = xp.zeros((n, n))`` with that derivative's Duals
(SciPy's ``rosen_hess``) works, and one that escapes the call is refused by
the verbs as any stale perturbation is.  Outside any call it is
:data:`~dualdiff.tags.USER_TAG`'s.  Integer and boolean arrays are plain NumPy
arrays, which carry no tangent.  ``asarray`` is where ``numpy.asarray`` could
not help: a list of Duals, or a nested list mixing Duals and numbers, becomes
one Dual array, built with ``numpy.stack`` (so Duals of different derivatives
nest as everywhere in dualdiff: the newest is live, older ones are constants
that keep their own tangents one level down).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.array_api._devices import check_device
from dualdiff.array_api._dtypes import astype
from dualdiff.dual import Dual
from dualdiff.memory import make, tags_in, zeros_like_layout
from dualdiff.tags import newest_running


def constant(array: Any) -> Any:
    """A plain array as this namespace holds it: a Dual of zero tangent if float or complex.

    The Dual belongs to the newest derivative call running (see above).

    The array itself becomes the value (no copy).  A 0-d array stays a 0-d
    array, not a number as in ``Dual(3.0)``: the standard's 0-d arrays can be
    written into (``out[mask] = v``, as ``array_api_extra.apply_where`` does).

    Examples
    --------
    >>> constant(np.array([1.0, 2.0]))
    Dual(array([1., 2.]), array([0., 0.]))
    >>> constant(np.array([1, 2]))
    array([1, 2])
    """
    if type(array) is Dual:
        return array
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return array
    return make(array, memory_zeros(array), newest_running())


def memory_zeros(array: np.ndarray) -> np.ndarray:
    """A zero tangent laid out as ``array``, writable where it is (:mod:`dualdiff.memory`)."""
    tangent = zeros_like_layout(array, (), array.dtype)
    tangent.flags.writeable = array.flags.writeable
    return tangent


def _join(obj: Any) -> Any:
    """A (nested) list or tuple holding Duals as one Dual; without Duals, NumPy's array."""
    if not isinstance(obj, list | tuple):
        return obj
    if not tags_in(obj):
        return np.asarray(obj)
    return np.stack([_join(item) for item in obj])


def asarray(obj: Any, /, *, dtype: Any = None, device: Any = None, copy: bool | None = None
            ) -> Any:
    """Convert ``obj`` (numbers, arrays, Duals, nested lists of any of them) to an array.

    ``copy=None`` copies only where it must, ``True`` always, ``False``
    never (a ``ValueError`` where a copy is needed), as the standard says.

    Examples
    --------
    >>> from dualdiff import Dual
    >>> x = asarray([[Dual(1.0, 1.0), 2.0], [3.0, Dual(4.0, 0.5)]])
    >>> x.value
    array([[1., 2.],
           [3., 4.]])
    >>> x.tangent
    array([[1. , 0. ],
           [0. , 0.5]])
    """
    check_device(device)
    if type(obj) is Dual:
        if dtype is not None and np.dtype(dtype) != obj.dtype:
            if copy is False:
                raise ValueError(f"casting a {obj.dtype} Dual to {np.dtype(dtype)} copies")
            return astype(obj, dtype)
        return np.copy(obj) if copy else obj
    if isinstance(obj, list | tuple) and tags_in(obj):
        if copy is False:
            raise ValueError("a list of Duals becomes a new array: it cannot be made without "
                             "a copy (copy=False)")
        joined = _join(obj)
        return joined if dtype is None else astype(joined, dtype, copy=False)
    if copy is False:
        array = np.asarray(obj, dtype=dtype, copy=False)
    else:
        array = np.array(obj, dtype=dtype, copy=bool(copy) or None)
    return constant(array)


def _made(array: np.ndarray) -> Any:
    return constant(array)


def zeros(shape: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """An array of zeros (a Dual if float or complex).

    Examples
    --------
    >>> zeros(2)
    Dual(array([0., 0.]), array([0., 0.]))
    """
    check_device(device)
    return _made(np.zeros(shape, dtype=dtype))


def ones(shape: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """An array of ones (a Dual if float or complex)."""
    check_device(device)
    return _made(np.ones(shape, dtype=dtype))


def empty(shape: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """An uninitialised array (zero tangent)."""
    check_device(device)
    return _made(np.empty(shape, dtype=dtype))


def full(shape: Any, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """An array filled with ``fill_value``, which may be a scalar Dual (its tangent is copied).

    Examples
    --------
    >>> from dualdiff import Dual
    >>> full(2, Dual(3.0, 1.0)).tangent
    array([1., 1.])
    """
    check_device(device)
    if type(fill_value) is Dual:
        filled = np.copy(np.broadcast_to(fill_value, shape))
        return filled if dtype is None else astype(filled, dtype, copy=False)
    return _made(np.full(shape, fill_value, dtype=dtype))


def _like(x: Any, numpy_function: Any, dtype: Any, device: Any, *fill: Any) -> Any:
    check_device(device)
    if type(x) is Dual and (dtype is None or np.dtype(dtype).kind in "fc"):
        return numpy_function(x, *fill, dtype=dtype)  # a Dual of x's derivative, constant
    plain = x.dtype if dtype is None else dtype
    return _made(numpy_function(np.empty(np.shape(x), dtype=plain), *fill))


def zeros_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """Zeros of ``x``'s shape and dtype (``numpy.zeros_like``)."""
    return _like(x, np.zeros_like, dtype, device)


def ones_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """Ones of ``x``'s shape and dtype (``numpy.ones_like``)."""
    return _like(x, np.ones_like, dtype, device)


def empty_like(x: Any, /, *, dtype: Any = None, device: Any = None) -> Any:
    """An uninitialised array of ``x``'s shape and dtype (``numpy.empty_like``)."""
    return _like(x, np.empty_like, dtype, device)


def full_like(x: Any, /, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Any:
    """``fill_value`` in ``x``'s shape and dtype (``numpy.full_like``)."""
    if type(fill_value) is Dual:
        return full(np.shape(x), fill_value, dtype=dtype or x.dtype, device=device)
    return _like(x, np.full_like, dtype, device, fill_value)


def arange(start: Any, /, stop: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None) -> Any:
    """Evenly spaced values in ``[start, stop)`` (``numpy.arange``)."""
    check_device(device)
    if stop is None:  # arange(n) is [0, n)
        start, stop = 0, start
    return _made(np.arange(start, stop, step, dtype=dtype))


def linspace(start: Any, stop: Any, /, num: int, *, dtype: Any = None, device: Any = None,
             endpoint: bool = True) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop`` (``numpy.linspace``).

    ``start`` and ``stop`` may be scalar Duals: the points then carry their tangents.
    """
    check_device(device)
    if type(start) is Dual or type(stop) is Dual:
        return np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype)
    return _made(np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype))


def eye(n_rows: int, n_cols: int | None = None, /, *, k: int = 0, dtype: Any = None,
        device: Any = None) -> Any:
    """Ones on the ``k``-th diagonal (``numpy.eye``)."""
    check_device(device)
    return _made(np.eye(n_rows, n_cols, k=k, dtype=dtype or np.float64))


def tril(x: Any, /, *, k: int = 0) -> Any:
    """The lower triangle (``numpy.tril``)."""
    return np.tril(x, k=k)


def triu(x: Any, /, *, k: int = 0) -> Any:
    """The upper triangle (``numpy.triu``)."""
    return np.triu(x, k=k)


def meshgrid(*arrays: Any, indexing: str = "xy") -> list[Any]:
    """Coordinate grids (``numpy.meshgrid``), copies as the standard's are."""
    return [np.copy(a) for a in np.meshgrid(*arrays, indexing=indexing)]


def from_dlpack(x: Any, /, *, device: Any = None, copy: bool | None = None) -> Any:
    """An array from a DLPack producer; a Dual has no DLPack form (``TypeError``)."""
    if type(x) is Dual:
        raise TypeError("a Dual has no DLPack form (it would drop the tangent); pass the Dual "
                        "itself, or asarray(x.value) for its value on purpose")
    check_device(device)
    return constant(np.from_dlpack(x, copy=copy))
