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
    "To build an array of Duals use np.stack([...]) or np.concatenate([...]); "
    "to take values explicitly use .value."
)


class Dual:
    """A dual number ``value + tangent * eps`` with ``eps**2 == 0``.

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

    Examples
    --------
    >>> import numpy as np
    >>> x = Dual(3.0, 1.0)
    >>> y = x * x + np.sin(x)
    >>> y.value, y.tangent  # 9 + sin(3), 6 + cos(3)
    (9.141120008059866, 5.010007503399555)
    >>> str(Dual(3.0, 1.0))
    '3.0 + 1.0ε'
    """

    __slots__ = ("tag", "tangent", "value")

    def __init__(self, value: Any, tangent: Any = None, *, tag: int = USER_TAG) -> None:
        value = as_value(value)
        self.value = value
        self.tangent = _zero_like(value) if tangent is None else _as_tangent(tangent, value)
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
        Dual of this tag or an older one (older duals are constants here, and
        the value becomes a dual number of their tag to keep their tangents).
        A Dual of a newer tag cannot be written (``TypeError``).

        Value and tangent are written in place, as NumPy writes arrays, so a
        write through a view (``x[0][1] = d``) reaches the Dual it views, value
        and tangent alike.  A read-only tangent (``np.broadcast_to`` and
        ``np.where`` return read-only views) is copied first; a read-only
        value raises, as in NumPy.  No operation hands one dual number's
        tangent array to another whose value it is not a view of (``x + 1``
        copies the tangent), so a write never reaches an unrelated tangent.
        """
        if type(item) is Dual and item.tag > self.tag:
            raise TypeError(
                "cannot write a Dual of a newer derivative into an array of an older one: the "
                "newer perturbation has no place in it.  Build the array inside the newer "
                "derivative (e.g. out = x * 0 or np.copy(x) for the newer x), or np.stack the "
                "elements"
            )
        _write(self, _index_tuple(index), item, 0)

    # --- NumPy protocols ---------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return _dispatch.array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return _dispatch.call_function(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(_NOT_AN_ARRAY)

    # --- conversions that would lose the tangent ---------------------------------------------
    def __float__(self) -> float:
        raise TypeError(_LOST.format(what="float() of a Dual (also math.* functions)"))

    def __int__(self) -> int:
        raise TypeError(_LOST.format(what="int() of a Dual"))

    def __complex__(self) -> complex:
        raise TypeError(_LOST.format(what="complex() of a Dual (also cmath.* functions)"))

    def __index__(self) -> int:
        raise TypeError(_LOST.format(what="using a Dual as an index"))

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

    def __trunc__(self) -> int:
        return math.trunc(_strip(self))

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
    def __repr__(self) -> str:
        return f"Dual({self.value!r}, {self.tangent!r})"

    def __str__(self) -> str:
        tangent = self.tangent
        if isinstance(tangent, float) and (tangent < 0 or str(tangent).startswith("-")):
            return f"{self.value} - {-tangent}ε"
        return f"{self.value} + {tangent}ε"

    def _repr_latex_(self) -> str:
        text = str(self).replace("ε", r"\,\varepsilon")
        text = text.replace("\n", r"\\ ")
        return f"${text}$"

    # --- NumPy-style methods -----------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Dual:
        """Sum of elements, as ``numpy.sum``."""
        return np.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Dual:
        """Mean of elements, as ``numpy.mean``."""
        return np.mean(self, axis=axis, keepdims=keepdims)

    def dot(self, other: Any) -> Dual:
        """Dot product, as ``numpy.dot``."""
        return np.dot(self, other)

    def reshape(self, *shape: Any) -> Dual:
        """Reshape, as ``ndarray.reshape``."""
        if len(shape) == 1:
            shape = shape[0]
        return np.reshape(self, shape)

    def ravel(self) -> Dual:
        """Flatten to one dimension, as ``numpy.ravel``."""
        return np.ravel(self)

    def transpose(self, *axes: Any) -> Dual:
        """Permute axes, as ``ndarray.transpose``."""
        if len(axes) == 1:
            axes = axes[0]
        return np.transpose(self, axes or None)

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

    def max(self, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = None,
            where: Any = None) -> Dual:
        """The maximum, as ``numpy.max``."""
        return np.max(self, **_given(axis=axis, out=out, keepdims=keepdims, initial=initial,
                                     where=where))

    def min(self, axis: Any = None, out: Any = None, keepdims: bool = False, initial: Any = None,
            where: Any = None) -> Dual:
        """The minimum, as ``numpy.min``."""
        return np.min(self, **_given(axis=axis, out=out, keepdims=keepdims, initial=initial,
                                     where=where))

    def clip(self, min: Any = None, max: Any = None, out: Any = None, **kwargs: Any) -> Dual:
        """Limit the values, as ``numpy.clip``."""
        return np.clip(self, min, max, **_given(out=out, **kwargs))

    def prod(self, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
             initial: Any = None, where: Any = None) -> Dual:
        """The product of elements, as ``numpy.prod``."""
        return np.prod(self, **_given(axis=axis, dtype=dtype, out=out, keepdims=keepdims,
                                      initial=initial, where=where))

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Dual:
        """Cumulative sums, as ``numpy.cumsum``."""
        return np.cumsum(self, **_given(axis=axis, dtype=dtype, out=out))

    def std(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, **kwargs: Any) -> Dual:
        """The standard deviation, as ``numpy.std``."""
        return np.std(self, **_given(axis=axis, dtype=dtype, out=out, ddof=ddof,
                                     keepdims=keepdims, **kwargs))

    def var(self, axis: Any = None, dtype: Any = None, out: Any = None, ddof: float = 0,
            keepdims: bool = False, **kwargs: Any) -> Dual:
        """The variance, as ``numpy.var``."""
        return np.var(self, **_given(axis=axis, dtype=dtype, out=out, ddof=ddof,
                                     keepdims=keepdims, **kwargs))

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

    def swapaxes(self, axis1: int, axis2: int) -> Dual:
        """Interchange two axes, as ``numpy.swapaxes``."""
        return np.swapaxes(self, axis1, axis2)

    def take(self, indices: Any, axis: Any = None, out: Any = None, mode: str = "raise") -> Dual:
        """Elements at ``indices``, as ``numpy.take``."""
        return np.take(self, indices, axis=axis, mode=mode, **_given(out=out))

    def compress(self, condition: Any, axis: Any = None, out: Any = None) -> Dual:
        """Slices where ``condition`` holds, as ``numpy.compress``."""
        return np.compress(condition, self, axis=axis, **_given(out=out))

    def repeat(self, repeats: Any, axis: Any = None) -> Dual:
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


# --- writing into a Dual array ---------------------------------------------------------------
# ``x[index] = item`` writes the item's value into x's value and its tangent into x's tangent.
# A tangent has a leading batch axis the index does not address, and in nested differentiation
# the fields being written are themselves dual numbers whose leading axes are such batch axes
# of an outer tangent: ``lead`` counts the leading axes the index skips.  The item always
# carries those leading axes explicitly (of length one where it broadcasts).


def _index_tuple(index: Any) -> tuple[Any, ...]:
    index = index if isinstance(index, tuple) else (index,)
    if any(type(i) is Dual for i in index):
        raise TypeError("a Dual cannot be used as an index; index with integers or .value")
    return index


def _past(index: tuple[Any, ...], lead: int) -> tuple[Any, ...]:
    """``index`` for an array whose ``lead`` leading axes were moved to the end."""
    if not lead:
        return index
    rest = (slice(None),) * lead
    return (*index, *rest) if any(i is Ellipsis for i in index) else (*index, Ellipsis, *rest)


def _to_end(array: Any, lead: int) -> Any:
    """A view of ``array`` with its ``lead`` leading axes moved to the end."""
    if not lead or np.ndim(array) == 0:
        return array
    return np.moveaxis(array, tuple(range(lead)), tuple(range(-lead, 0)))


def _assign(field: Any, index: tuple[Any, ...], item: Any, lead: int) -> Any:
    """Write ``item`` into ``field`` (an array or a Dual); the field, promoted if needed.

    An item of a tag newer than the field's (or a dual item into a plain
    array) makes the field a dual number of the item's tag with zero tangent.
    """
    if type(item) is Dual and (type(field) is not Dual or item.tag > field.tag):
        batch = _dispatch.batch_shape(item)
        field = _dispatch.make(field, _dispatch.zero_tangent(field, batch), item.tag)
    if type(field) is Dual:
        _write(field, index, item, lead)
    else:
        _to_end(field, lead)[_past(index, lead)] = _to_end(item, lead)
    return field


def _writable(x: Any) -> bool:
    """Whether every array in ``x`` (a value and tangent at every level) can be written."""
    if type(x) is Dual:
        return _writable(x.value) and _writable(x.tangent)
    return isinstance(x, np.ndarray) and x.flags.writeable


def _write(x: Dual, index: tuple[Any, ...], item: Any, lead: int) -> None:
    """Write ``item`` at ``index`` into ``x``'s value and tangent (see ``Dual.__setitem__``)."""
    if not isinstance(_strip(x.value), np.ndarray):
        raise TypeError("a scalar Dual does not support item assignment")
    batch = _dispatch.batch_shape(x)
    if type(item) is Dual and item.tag == x.tag:
        item_value, item_tangent = item.value, item.tangent
        item_batch = _dispatch.batch_shape(item)
        if item_batch and item_batch != batch:
            raise ValueError(
                f"cannot write a Dual with a batch of {item_batch[0]} directions into one with "
                + (f"a batch of {batch[0]}" if batch else "a single direction")
            )
        if batch and not item_batch:  # one direction, the same in every direction of the batch
            item_tangent = np.reshape(item_tangent, (1, *np.shape(_strip(item_tangent))))
    else:
        item_value = item
        item_tangent = np.zeros((), dtype=np.result_type(_strip(x.tangent)))
    if not _writable(x.tangent):  # a read-only view: give x a tangent of its own
        x.tangent = np.copy(x.tangent)
    x.value = _assign(x.value, index, item_value, lead)
    x.tangent = _assign(x.tangent, index, item_tangent, lead + len(batch))


def _divmod(self: Dual, other: Any) -> Any:
    return self // other, self % other


def _rdivmod(self: Dual, other: Any) -> Any:
    return other // self, other % self


def _matmul(self: Dual, other: Any) -> Any:
    if not _dispatch.is_operand(other):
        return NotImplemented
    return np.matmul(self, other)


def _rmatmul(self: Dual, other: Any) -> Any:
    if not _dispatch.is_operand(other):
        return NotImplemented
    return np.matmul(other, self)


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
        tangent = np.asarray(tangent, dtype=dtype)
        if tangent.ndim == 0:
            return tangent.item() if type(value) in (float, complex) else tangent[()]
    return tangent


def _zero_like(value: Any) -> Any:
    if type(value) is float:
        return 0.0
    if type(value) is complex:
        return 0j
    plain = _strip(value)
    return np.zeros(np.shape(plain), dtype=np.result_type(plain))


def _strip(x: Any) -> Any:
    while type(x) is Dual:
        x = x.value
    return x


# The dispatch module needs the Dual class, so it is imported after the class exists;
# it calls install_operators() once its rule registry is built.
from dualdiff import dispatch as _dispatch  # noqa: E402


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
    Dual.__iadd__, Dual.__isub__, Dual.__imul__ = Dual.__add__, Dual.__sub__, Dual.__mul__
    Dual.__itruediv__, Dual.__ifloordiv__ = Dual.__truediv__, Dual.__floordiv__
    Dual.__imod__, Dual.__ipow__, Dual.__imatmul__ = Dual.__mod__, Dual.__pow__, Dual.__matmul__
    Dual.__divmod__, Dual.__rdivmod__ = _divmod, _rdivmod
    Dual.__neg__ = unary(np.negative)
    Dual.__pos__ = unary(np.positive)
    Dual.__abs__ = unary(np.absolute)
    Dual.__array_ufunc__ = _dispatch.array_ufunc  # as the method above, one call shorter
