"""The dual number: a value and a tangent that travel together.

``Dual(value, tangent)`` stands for ``value + tangent * eps`` with
``eps**2 == 0``.  The value is a Python float or complex number, a NumPy
array, or (in nested differentiation) another ``Dual``.  The tangent has the
value's shape, or one more leading axis holding a *batch* of directions.

Arithmetic operators map to NumPy ufuncs (as in NumPy's
``NDArrayOperatorsMixin``), and NumPy functions reach dualdiff through
``__array_ufunc__`` and ``__array_function__``; either way the derivative
comes from the rule table in :mod:`dualdiff.rules`.

``==``, ``<`` and the other comparisons compare *values* and return plain
booleans, so ``if`` statements branch on the value, exactly as the function
would on plain numbers.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dualdiff.tags import USER_TAG

_LOST = (
    "{what} would drop the tangent of a Dual and give a silently wrong derivative. "
    "Use NumPy functions (np.sin(x), not math.sin(x)), which dualdiff differentiates, "
    "or take the value explicitly with .value."
)
_NOT_AN_ARRAY = (
    "a Dual cannot become a plain NumPy array: its tangent would be dropped. "
    "To fill an array with Duals, allocate it from one (np.zeros_like(x), np.empty_like(x) "
    "or x * 0 for a Dual x); to build one use np.stack([...]) or np.concatenate([...]); "
    "to take values explicitly use .value."
)


class Dual:
    """A dual number ``value + tangent * eps`` with ``eps**2 == 0``.

    Arrays have the ndarray methods with NumPy's signatures (``x.sum(0)``,
    ``x.reshape(2, 3, order='F')``, ``x.max(axis=1, keepdims=True)``, ...);
    ``int(x)`` truncates the value, as ``math.trunc``, while ``float(x)``,
    ``x.tolist()`` and ``x.item()`` raise ``TypeError`` rather than drop the
    tangent.

    Parameters
    ----------
    value : float, complex, array_like or Dual
        The primal value.  Integers are promoted to float; float32 stays
        float32.
    tangent : float, complex, array_like or Dual, optional
        The derivative part, of the value's shape, or with one more leading
        axis for a batch of directions.  Default: zero.
    tag : int, optional
        Which differentiation this number belongs to (see
        :mod:`dualdiff.tags`).  Users rarely set it.

    Notes
    -----
    Like ``np.array``, the constructor copies: the new Dual's value and
    tangent are its own memory, so later writes to the arrays passed in do
    not reach it (and writes to it do not reach them).  A Dual array then
    behaves like an ndarray of (value, tangent) pairs: views share memory,
    copies do not, in-place operations write in place (:mod:`dualdiff.memory`).

    Examples
    --------
    >>> import numpy as np
    >>> x = Dual(3.0, 1.0)
    >>> y = x * x + np.sin(x)
    >>> y.value, y.tangent  # 9 + sin(3), 6 + cos(3)
    (9.141120008059866, 5.010007503399555)
    >>> str(Dual(3.0, 1.0))
    '3.0 + 1.0ε'

    How it prints (:mod:`dualdiff.display`): ``repr`` is
    ``Dual(value, tangent)`` (with ``tag=`` for the Duals of a derivative
    call), ``str`` is ``value + tangent ε``.  Nested dual numbers number
    their ε by level, ``ε₁`` the innermost (oldest) and the outermost the
    newest derivative; a batch of tangents is a sum with one ``ε⁽ⁱ⁾`` per
    direction; ``format(x, ".3f")`` formats every number.

    >>> print(Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2))
    (2.0 + 1.0ε₁) + (1.0 + 0.0ε₁)ε₂
    >>> print(Dual(3.0, [1.0, 0.0]))
    3.0 + 1.0ε⁽⁰⁾ + 0.0ε⁽¹⁾
    >>> f"{Dual(3.0, 1.0):.3f}"
    '3.000 + 1.000ε'
    """

    __slots__ = ("tag", "tangent", "value")

    def __init__(self, value: Any, tangent: Any = None, *, tag: int = USER_TAG) -> None:
        value = _memory.owned(as_value(value))
        self.value = value
        if tangent is None:
            self.tangent = _memory.zeros_for(value)
        else:
            self.tangent = _memory.copy_laid_out(_as_tangent(tangent, value), _strip(value))
        self.tag = tag

    # --- shape and type ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The value's shape (a batch axis of the tangent is not part of it)."""
        return getattr(self.value, "shape", ())

    @property
    def ndim(self) -> int:
        """The value's number of dimensions."""
        return getattr(self.value, "ndim", 0)

    @property
    def size(self) -> int:
        """The value's number of elements."""
        return getattr(self.value, "size", 1)

    @property
    def dtype(self) -> np.dtype:
        """The value's dtype."""
        return getattr(self.value, "dtype", None) or np.result_type(self.value)

    @property
    def T(self) -> Dual:  # noqa: N802 - NumPy's name
        """The transpose, as ``ndarray.T``."""
        return np.transpose(self)

    @property
    def mT(self) -> Dual:  # noqa: N802 - NumPy's name
        """The transpose of the last two axes, as ``ndarray.mT``."""
        return np.matrix_transpose(self)

    @property
    def real(self) -> Dual:
        """The real part, as ``ndarray.real`` (a Dual; see ``numpy.real``)."""
        return np.real(self)

    @property
    def imag(self) -> Dual:
        """The imaginary part, as ``ndarray.imag`` (a Dual; see ``numpy.imag``)."""
        return np.imag(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a scalar Dual")
        return len(self.value)

    def __iter__(self) -> Any:
        if self.ndim == 0:
            raise TypeError("iteration over a scalar Dual")
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index: Any) -> Dual:
        return _dispatch.getitem(self, index)

    def __setitem__(self, index: Any, item: Any) -> None:
        """Write ``item`` at ``index``: its value into the value, its tangent into the tangent.

        ``item`` may be a number, an array (a constant: zero tangent) or a
        Dual of this tag or an older one (older duals are constants here).
        Value and tangents are written in place, as NumPy writes arrays, so a
        write through a view (``x[0][1] = d``) reaches every alias, value and
        tangent alike (see :mod:`dualdiff.memory`).  A Dual of a newer tag,
        or a complex item into a real array, raises ``TypeError``; a
        read-only array raises ``ValueError``, as in NumPy.
        """
        _memory.write(self, index, item)

    def __copy__(self) -> Dual:
        return _memory.copy(self)

    def __deepcopy__(self, memo: dict) -> Dual:
        return _memory.copy(self)

    # --- NumPy protocols ---------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _dispatch.array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if _dispatch.OUTRANKING and _dispatch.outranked(types):  # a Jet holding Duals
            return NotImplemented
        return _dispatch.call_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        from dualdiff.sparse.matmul import scipy_matmul_asks  # noqa: PLC0415 - the error path

        if scipy_matmul_asks():  # scipy.sparse's A @ x: answer so that it calls __rmatmul__
            return np.array(None, dtype=object)
        raise TypeError(_NOT_AN_ARRAY)

    # --- conversions that would lose the tangent ---------------------------------------------
    def __float__(self) -> float:
        raise TypeError(_LOST.format(
            what="float() of a Dual (also math.* functions, and writing a Dual into an element "
                 "of a plain array: allocate that array with np.zeros_like(x) for a Dual x)"))

    def __complex__(self) -> complex:
        raise TypeError(_LOST.format(what="complex() of a Dual (also cmath.* functions)"))

    def __index__(self) -> int:  # an index computed from a Dual is almost always a mistake
        raise TypeError(
            "a Dual cannot be used as an index or a size (operator.index, range(), shapes); "
            "convert on purpose with int(x) (its value, truncated) or use x.value"
        )

    # --- piecewise-constant functions: plain results, zero derivative by convention -----------
    def __round__(self, ndigits: int | None = None) -> Any:
        value = _strip(self)
        if np.ndim(value):
            return np.round(value, ndigits or 0)
        return round(value, ndigits)

    def __floor__(self) -> int:
        return math.floor(_strip(self))

    def __ceil__(self) -> int:
        return math.ceil(_strip(self))

    def __trunc__(self) -> int:  # int(): NumPy's float32 has no __trunc__
        return int(_strip(self))

    def __int__(self) -> int:  # as math.trunc: an integer, whose slope is 0
        return int(_strip(self))

    # --- comparisons: on values, plain results -----------------------------------------------
    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return _strip(self) == _strip(other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return _strip(self) != _strip(other)

    def __lt__(self, other: Any) -> Any:
        return _strip(self) < _strip(other)

    def __le__(self, other: Any) -> Any:
        return _strip(self) <= _strip(other)

    def __gt__(self, other: Any) -> Any:
        return _strip(self) > _strip(other)

    def __ge__(self, other: Any) -> Any:
        return _strip(self) >= _strip(other)

    def __bool__(self) -> bool:
        return bool(_strip(self))

    __hash__ = None  # type: ignore[assignment]  # equal values, different tangents

    # --- representations ---------------------------------------------------------------------
    # The notation is documented in the class docstring; the code is in dualdiff/display.py.
    def __repr__(self) -> str:
        return _display.repr_dual(self)

    def __str__(self) -> str:
        return _display.str_dual(self)

    def __format__(self, spec: str) -> str:
        return _display.format_dual(self, spec)

    def _repr_latex_(self) -> str | None:
        return _display.latex_dual(self)

    def _repr_html_(self) -> str | None:
        return _display.html_dual(self)

    # --- NumPy-style methods -----------------------------------------------------------------
    # Each has the signature of the ndarray method (positional parameters in NumPy's order)
    # and calls the NumPy function, which gets every argument given: unsupported ones (out=)
    # raise there, naming the function.  Arguments left at NumPy's defaults are not passed.
    def sum(self, /, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, initial: Any = None, where: Any = True) -> Dual:
        """Sum of elements, as ``numpy.sum``."""
        return np.sum(self, axis, dtype, **_given(out=out, initial=initial), keepdims=keepdims,
                      **_where(where))

    def mean(self, /, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, *, where: Any = True) -> Dual:
        """Mean of elements, as ``numpy.mean``."""
        return np.mean(self, axis, dtype, **_given(out=out), keepdims=keepdims, **_where(where))

    def dot(self, other: Any, /, out: Any = None) -> Dual:
        """Dot product, as ``numpy.dot``."""
        return np.dot(self, other, **_given(out=out))

    def reshape(self, /, *shape: Any, order: str = "C", copy: bool | None = None) -> Dual:
        """Reshape, as ``ndarray.reshape``: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        if not shape:
            raise TypeError("reshape() takes exactly 1 argument (0 given)")
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order,
                          **_given(copy=copy))

    def ravel(self, /, order: str = "C") -> Dual:
        """Flatten to one dimension, as ``numpy.ravel`` (every ``order``, ``'K'`` included)."""
        return np.ravel(self, order)

    def transpose(self, /, *axes: Any) -> Dual:
        """Permute axes, as ``ndarray.transpose``: ``x.transpose(1, 0)`` or ``((1, 0))``."""
        if len(axes) == 1:
            axes = axes[0]
        return np.transpose(self, None if isinstance(axes, tuple) and not axes else axes)

    def astype(self, dtype: Any, order: str = "K", casting: str = "unsafe", subok: bool = True,
               copy: bool = True) -> Dual:
        """Cast to a float or complex ``dtype``, as ``ndarray.astype`` (the layout is NumPy's).

        Other dtypes raise ``TypeError``: integers and booleans carry no
        tangent.
        """
        from dualdiff.functions.shape import astype  # noqa: PLC0415 - it imports this module

        if not np.can_cast(self.dtype, dtype, casting):
            raise TypeError(f"cannot cast a Dual from {self.dtype} to {np.dtype(dtype)} "
                            f"according to the rule {casting!r}")
        return astype(self, dtype, copy=copy)

    def copy(self, order: str = "C") -> Dual:
        """An independent copy, as ``numpy.copy``."""
        return np.copy(self, order=order)

    def flatten(self, order: str = "C") -> Dual:
        """A flattened copy, as ``ndarray.flatten``."""
        return np.copy(np.ravel(self, order=order))

    def fill(self, value: Any) -> None:
        """Set every element to ``value`` (a number or a scalar Dual), in place."""
        self[...] = value

    def put(self, indices: Any, values: Any, /, mode: str = "raise") -> None:
        """Write ``values`` at the flat ``indices``, in place, as ``numpy.put``."""
        np.put(self, indices, values, mode=mode)

    @property
    def flat(self) -> Any:
        """The elements in C order, as ``ndarray.flat``: read as copies, written in place."""
        from dualdiff.functions.inplace import FlatIterator  # noqa: PLC0415 - imports this module

        return FlatIterator(self)

    @flat.setter
    def flat(self, value: Any) -> None:
        self.flat[...] = value

    def max(self, /, axis: Any = None, out: Any = None, keepdims: bool = False,
            initial: Any = None, where: Any = True) -> Dual:
        """The maximum, as ``numpy.max``."""
        return np.max(self, axis, **_given(out=out, initial=initial), keepdims=keepdims,
                      **_where(where))

    def min(self, /, axis: Any = None, out: Any = None, keepdims: bool = False,
            initial: Any = None, where: Any = True) -> Dual:
        """The minimum, as ``numpy.min``."""
        return np.min(self, axis, **_given(out=out, initial=initial), keepdims=keepdims,
                      **_where(where))

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any) -> Dual:
        """Limit the values, as ``numpy.clip``."""
        return np.clip(self, min, max, **_given(out=out, **kwargs))

    def prod(self, /, axis: Any = None, dtype: Any = None, out: Any = None,
             keepdims: bool = False, initial: Any = None, where: Any = True) -> Dual:
        """The product of elements, as ``numpy.prod``."""
        return np.prod(self, axis, **_given(dtype=dtype, out=out, initial=initial),
                       keepdims=keepdims, **_where(where))

    def cumprod(self, /, axis: Any = None, dtype: Any = None, out: Any = None) -> Dual:
        """Cumulative products, as ``numpy.cumprod``."""
        return np.cumprod(self, axis, **_given(dtype=dtype, out=out))

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Dual:
        """Cumulative sums, as ``numpy.cumsum``."""
        return np.cumsum(self, **_given(axis=axis, dtype=dtype, out=out))

    def std(self, /, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, *, where: Any = True, mean: Any = None,
            correction: Any = None) -> Dual:
        """The standard deviation, as ``numpy.std``."""
        return np.std(self, axis, **_given(dtype=dtype, out=out), ddof=ddof, keepdims=keepdims,
                      **_where(where), **_given(mean=mean, correction=correction))

    def var(self, /, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, *, where: Any = True, mean: Any = None,
            correction: Any = None) -> Dual:
        """The variance, as ``numpy.var``."""
        return np.var(self, axis, **_given(dtype=dtype, out=out), ddof=ddof, keepdims=keepdims,
                      **_where(where), **_given(mean=mean, correction=correction))

    def all(self, /, axis: Any = None, out: Any = None, keepdims: bool = False, *,
            where: Any = True) -> Any:
        """Whether all values are nonzero (plain), as ``numpy.all``."""
        return np.all(self, axis, **_given(out=out), keepdims=keepdims, **_where(where))

    def any(self, /, axis: Any = None, out: Any = None, keepdims: bool = False, *,
            where: Any = True) -> Any:
        """Whether any value is nonzero (plain), as ``numpy.any``."""
        return np.any(self, axis, **_given(out=out), keepdims=keepdims, **_where(where))

    def nonzero(self, /) -> tuple[np.ndarray, ...]:
        """Indices of the nonzero values (plain), as ``numpy.nonzero``."""
        return np.nonzero(self)

    def round(self, /, decimals: int = 0, out: Any = None) -> Dual:
        """Round the value (zero tangent), as ``numpy.round``; ``round(x)`` gives a plain number."""
        return np.round(self, decimals, **_given(out=out))

    def searchsorted(self, v: Any, /, side: str = "left", sorter: Any = None) -> Any:
        """Where ``v`` would go to keep the values sorted (plain), as ``numpy.searchsorted``."""
        return np.searchsorted(self, v, side, sorter)

    def argpartition(self, kth: Any, /, axis: Any = -1, kind: str = "introselect",
                     order: Any = None) -> Any:
        """Indices that partition the values (plain), as ``numpy.argpartition``."""
        return np.argpartition(self, kth, axis, kind, order)

    def choose(self, /, choices: Any, out: Any = None, mode: str = "raise") -> Any:
        """As ``numpy.choose``: a Dual cannot be the index array, so this raises ``TypeError``."""
        return np.choose(self, choices, **_given(out=out), mode=mode)

    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        """Indices of the maxima (plain), as ``numpy.argmax``."""
        return np.argmax(self, **_given(axis=axis, out=out, keepdims=keepdims))

    def argmin(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        """Indices of the minima (plain), as ``numpy.argmin``."""
        return np.argmin(self, **_given(axis=axis, out=out, keepdims=keepdims))

    def argsort(self, axis: Any = -1, kind: Any = None, order: Any = None, *,
                stable: Any = None) -> Any:
        """Indices that sort the values (plain), as ``numpy.argsort``."""
        return np.argsort(self, axis, **_given(kind=kind, order=order, stable=stable))

    def sort(self, axis: Any = -1, kind: Any = None, order: Any = None, *,
             stable: Any = None) -> None:
        """Sort in place, as ``ndarray.sort``: ``numpy.sort``, written back into ``x[...]``."""
        self[...] = np.sort(self, axis, **_given(kind=kind, order=order, stable=stable))

    def squeeze(self, axis: Any = None) -> Dual:
        """Remove axes of length one, as ``numpy.squeeze``."""
        return np.squeeze(self, axis=axis)

    def swapaxes(self, axis1: int, axis2: int, /) -> Dual:
        """Interchange two axes, as ``numpy.swapaxes``."""
        return np.swapaxes(self, axis1, axis2)

    def take(self, indices: Any, /, axis: Any = None, out: Any = None,
             mode: str = "raise") -> Dual:
        """Elements at ``indices``, as ``numpy.take``."""
        return np.take(self, indices, axis=axis, mode=mode, **_given(out=out))

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Dual:
        """Slices where ``condition`` holds, as ``numpy.compress``."""
        return np.compress(condition, self, axis=axis, **_given(out=out))

    def repeat(self, repeats: Any, /, axis: Any = None) -> Dual:
        """Repeat elements, as ``numpy.repeat``."""
        return np.repeat(self, repeats, axis=axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Dual:
        """A diagonal, as ``numpy.diagonal``."""
        return np.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None,
              out: Any = None) -> Dual:
        """The sum along a diagonal, as ``numpy.trace``."""
        return np.trace(self, offset, axis1, axis2, **_given(dtype=dtype, out=out))

    def conj(self) -> Dual:
        """The complex conjugate, as ``numpy.conjugate``."""
        return np.conjugate(self)

    conjugate = conj

    def tolist(self) -> list[Any]:
        """Refused: a list of Python numbers would drop the tangent (``TypeError``)."""
        raise TypeError(_LOST.format(what="Dual.tolist()"))

    def item(self, *args: Any) -> Any:
        """Refused: a Python number would drop the tangent (``TypeError``); index with ``x[i]``."""
        raise TypeError(_LOST.format(what="Dual.item()"))


def _given(**kwargs: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not ``None``), to pass on to NumPy."""
    return {key: value for key, value in kwargs.items() if value is not None}


def _where(where: Any) -> dict[str, Any]:
    """``where=`` to pass on to NumPy, unless it is NumPy's default ``True``."""
    return {} if where is True else {"where": where}


def _divmod(self: Dual, other: Any) -> Any:
    return self // other, self % other


def _rdivmod(self: Dual, other: Any) -> Any:
    return other // self, other % self


def _matmul(self: Dual, other: Any) -> Any:
    if not _dispatch.is_operand(other):
        return _sparse_matmul(self, other)
    return np.matmul(self, other)


def _rmatmul(self: Dual, other: Any) -> Any:
    if not _dispatch.is_operand(other):
        return _sparse_matmul(other, self)
    return np.matmul(other, self)


def _sparse_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with a ``scipy.sparse`` matrix on one side (else ``NotImplemented``)."""
    from dualdiff.sparse import matmul  # noqa: PLC0415 - SciPy only when it is used

    if not (matmul.is_scipy_sparse(a) or matmul.is_scipy_sparse(b)):
        return NotImplemented
    return matmul.sparse_matmul(a, b)


def as_value(value: Any) -> Any:
    """Promote a number or array for use as a value: ints to float, float32 kept."""
    kind = type(value)
    if kind is float or kind is complex or kind is Dual:
        return value
    if kind is int or kind is bool:
        return float(value)
    if isinstance(value, np.generic | list | tuple | np.ndarray):
        array = np.asarray(value)
        if array.dtype.kind in "biu":
            array = array.astype(np.float64)
        elif array.dtype.kind not in "fc":
            raise TypeError(f"a Dual's value must be numeric, not an array of dtype {array.dtype}")
        if array.ndim == 0 and array.dtype in (np.float64, np.complex128):
            return array.item()
        return array[()] if array.ndim == 0 else array
    if kind.__module__.startswith("dask."):  # a Dask array: lazy values (dualdiff.dask_arrays)
        from dualdiff.dask_arrays import as_value as lazy_value  # noqa: PLC0415

        return lazy_value(value)
    raise TypeError(f"a Dual's value must be a number or an array, not {kind.__name__}")


def _as_tangent(tangent: Any, value: Any) -> Any:
    tangent = as_value(tangent)
    value_shape = np.shape(_strip(value))
    tangent_shape = np.shape(_strip(tangent))
    if tangent_shape != value_shape and tangent_shape[1:] != value_shape:
        raise ValueError(
            f"a tangent must have the value's shape {value_shape} or, for a batch of "
            f"directions, shape (k, *{value_shape}); got {tangent_shape}"
        )
    if type(value) is float and type(tangent) is complex:
        raise TypeError("a real Dual cannot have a complex tangent; make the value complex")
    dtype = getattr(value, "dtype", None)
    plain = isinstance(tangent, np.ndarray | np.generic)
    if type(tangent) is Dual or (dtype is None and not plain):
        return tangent
    if dtype is None:  # a Python float or complex value: float64 precision
        dtype = np.dtype(np.complex128 if type(value) is complex else np.float64)
    # The tangent takes the value's precision: Dual(np.float32(1), 1.0) is float32 throughout.
    tangent_dtype = np.result_type(tangent)
    if tangent_dtype.kind == "c" and dtype.kind != "c":
        raise TypeError("a real Dual cannot have a complex tangent; make the value complex")
    if tangent_dtype != dtype or type(value) in (float, complex):
        lazy = hasattr(tangent, "dask")  # a Dask array: cast lazily, never computed here
        tangent = tangent.astype(dtype) if lazy else np.asarray(tangent, dtype=dtype)
        if tangent.ndim == 0:
            return tangent.item() if type(value) in (float, complex) else tangent[()]
    return tangent


def _strip(x: Any) -> Any:
    while type(x) is Dual:
        x = x.value
    return x


# The dispatch module needs the Dual class, so it is imported after the class exists;
# it calls install_operators() once its rule registry is built.
from dualdiff import dispatch as _dispatch  # noqa: E402
from dualdiff import display as _display  # noqa: E402
from dualdiff import memory as _memory  # noqa: E402


def _in_place(operator: Any, ufunc: np.ufunc, symbol: str) -> Any:
    """The augmented assignment ``x op= y``: in place for arrays, as NumPy's, else a rebinding.

    The result is computed first (with the old value, as ``x *= y``'s tangent
    rule needs) and then written over ``x``'s value and tangents, so every
    view and alias of ``x`` sees it.  Where the value is a plain array and
    ``y`` a constant or a Dual of ``x``'s derivative, the value is computed by
    NumPy's own in-place call (``ufunc(x, y, out=x)``), whose rounding can
    differ from the out-of-place one (complex products).  A scalar Dual is
    immutable, like a NumPy scalar: ``x op= y`` binds the name to a new Dual.
    """

    def method(self: Dual, other: Any) -> Any:
        result = operator(self, other)
        if result is NotImplemented or not isinstance(_strip(self.value), np.ndarray):
            return result
        other_value = other.value if type(other) is Dual and other.tag == self.tag else other
        if (type(self.value) is np.ndarray and type(other_value) is not Dual
                and type(result) is Dual and result.tag == self.tag
                and _dispatch.batch_shape(result) in ((), _dispatch.batch_shape(self))):
            ufunc(self.value, other_value, out=self.value)  # NumPy's arithmetic, bit for bit
            result = _dispatch.make(self.value, result.tangent, result.tag)
        return _memory.assign(self, result, what=f"x {symbol} y")

    method.__name__ = f"__i{ufunc.__name__}__"
    return method


def install_operators() -> None:
    """Give ``Dual`` its operators: each is a call of a ufunc's rule, as in NumPy's mixin."""
    binary, unary = _dispatch.binary_operator, _dispatch.unary_operator
    Dual.__add__, Dual.__radd__ = binary(np.add)
    Dual.__sub__, Dual.__rsub__ = binary(np.subtract)
    Dual.__mul__, Dual.__rmul__ = binary(np.multiply)
    Dual.__truediv__, Dual.__rtruediv__ = binary(np.true_divide)
    Dual.__floordiv__, Dual.__rfloordiv__ = binary(np.floor_divide)
    Dual.__mod__, Dual.__rmod__ = binary(np.remainder)
    Dual.__matmul__, Dual.__rmatmul__ = _matmul, _rmatmul
    Dual.__pow__, Dual.__rpow__ = binary(np.power)
    Dual.__iadd__ = _in_place(Dual.__add__, np.add, "+=")
    Dual.__isub__ = _in_place(Dual.__sub__, np.subtract, "-=")
    Dual.__imul__ = _in_place(Dual.__mul__, np.multiply, "*=")
    Dual.__itruediv__ = _in_place(Dual.__truediv__, np.true_divide, "/=")
    Dual.__ifloordiv__ = _in_place(Dual.__floordiv__, np.floor_divide, "//=")
    Dual.__imod__ = _in_place(Dual.__mod__, np.remainder, "%=")
    Dual.__ipow__ = _in_place(Dual.__pow__, np.power, "**=")
    Dual.__imatmul__ = _in_place(Dual.__matmul__, np.matmul, "@=")
    Dual.__divmod__, Dual.__rdivmod__ = _divmod, _rdivmod
    Dual.__neg__ = unary(np.negative)
    Dual.__pos__ = unary(np.positive)
    Dual.__abs__ = unary(np.absolute)
    Dual.__array_ufunc__ = _dispatch.array_ufunc  # as the method above, one call shorter
