"""Duals over Dask arrays: a JVP of an array larger than memory stays a Dask graph.

A :class:`~dualdiff.Dual` may hold ``dask.array`` arrays as its value and
tangent.  The derivative table applies unchanged: a rule evaluates its
primitive and partials with NumPy's functions, which Dask implements lazily
(``__array_ufunc__``/``__array_function__``), so ``dd.jvp(f, (x,), (v,))`` of
Dask arrays returns Dask arrays and computes nothing::

    out, slope = dd.jvp(f, (x,), (v,))      # graphs only
    out, slope = dask.compute(out, slope)   # one pass over the chunks, shared by both

What stays lazy: the ufuncs of the table (arithmetic, ``exp``, ``sin``, ...),
reductions (``sum``, ``mean``, ``max``, ...), basic slicing, ``concatenate``
and ``stack``, ``reshape``/``ravel`` (C order), ``transpose``, ``matmul``.
Zeros that a rule needs are allocated by Dask with the value's chunks
(:func:`zeros`).

What cannot stay lazy raises ``TypeError``, never computes silently: while
``f`` runs under a derivative call, a computation of any Dask array
(``float(x)``, ``bool(x)`` in an ``if``, ``np.asarray``, a NumPy function that
Dask evaluates eagerly) is refused by :func:`refusing_computes`, which names
the remedy.  Item assignment into a Dual of Dask arrays is refused too.

Examples
--------
>>> import numpy as np
>>> import dask.array as da
>>> import dualdiff as dd
>>> x = da.linspace(0.0, 1.0, 8, chunks=4)
>>> out, slope = dd.jvp(lambda x: np.sum(np.sin(x) * x), (x,), (da.ones_like(x),))
>>> type(slope).__name__
'Array'
>>> bool(np.isclose(slope.compute(), np.sum(np.cos(x) * x + np.sin(x)).compute()))
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import dask
    import dask.array as da
except ImportError as error:  # without the extra: name it
    raise ImportError("Duals of Dask arrays need dask: pip install 'dualdiff[dask]'") from error

from dualdiff.dispatch import LAZY_FUNCTIONS
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.memory import batch_of, make


def as_value(value: Any) -> Any:
    """A Dask array as a Dual's value: integers become float64 (lazily), other dtypes refused."""
    kind = value.dtype.kind
    if kind in "biu":
        return value.astype(np.float64)
    if kind not in "fc":
        raise TypeError(f"a Dual's value must be numeric, not a Dask array of dtype {value.dtype}")
    return value


def zeros(value: Any, lead: tuple[int, ...], dtype: Any) -> Any:
    """Lazy zeros of shape ``lead + value.shape``, chunked as ``value`` (lead axes whole)."""
    chunks = tuple((n,) for n in lead) + tuple(value.chunks)
    return da.zeros(lead + tuple(value.shape), dtype=dtype, chunks=chunks)


# --- refusing hidden computes ------------------------------------------------------------------

_REFUSED = (
    "dualdiff: f asked Dask to compute an array while being differentiated ({what}); a Dual of "
    "Dask arrays stays lazy, and dualdiff does not compute a possibly huge array behind your "
    "back.  Branch on values computed before the call, keep f to operations Dask evaluates "
    "lazily (ufuncs, reductions, slicing, concatenate, matmul), or compute the result after "
    "the call (dask.compute(out, tangent))"
)


def _refuse(dsk: Any, keys: Any, **kwargs: Any) -> Any:
    raise TypeError(_REFUSED.format(what="float(), bool(), np.asarray or a NumPy function "
                                         "that Dask runs eagerly"))


class refusing_computes:  # noqa: N801 - used as a statement, like a function
    """While active, any compute of a Dask collection raises ``TypeError`` (the scheduler refuses).

    The scheduler is swapped in Dask's configuration directly (a dictionary
    write; ``dask.config.set`` costs ~20 µs per derivative call) when the first
    of possibly nested or concurrent (threads) derivative calls starts, and put
    back when the last one ends.

    Examples
    --------
    >>> import dask.array as da
    >>> with refusing_computes():
    ...     float(da.ones(3).sum())
    Traceback (most recent call last):
    ...
    TypeError: dualdiff: f asked Dask to compute an array while being differentiated ...
    """

    __slots__ = ()

    def __enter__(self) -> refusing_computes:
        with _LOCK:
            if not _STATE["depth"]:
                _STATE["previous"] = dask.config.config.get("scheduler", _UNSET)
                dask.config.config["scheduler"] = _refuse
            _STATE["depth"] += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with _LOCK:
            _STATE["depth"] -= 1
            if not _STATE["depth"]:
                previous = _STATE.pop("previous")
                if previous is _UNSET:
                    dask.config.config.pop("scheduler", None)
                else:
                    dask.config.config["scheduler"] = previous


_UNSET = object()
_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"depth": 0}
"""How many derivative calls are running with computes refused, and the scheduler to restore."""


# --- indexing and the functions Dask needs told differently ------------------------------------


def getitem(x: Dual, index: tuple[Any, ...]) -> Dual:
    """``x[index]`` of a Dual of Dask arrays: the same index of the value and of each tangent."""
    value = x.value[index]
    tangent = x.tangent[(slice(None), *index)] if batch_of(x) else x.tangent[index]
    return make(value, tangent, x.tag)


def _tag_of(items: Any) -> int:
    return max(item.tag for item in items if type(item) is Dual)


def _parts(items: list[Any], tag: int) -> tuple[list[Any], list[Any] | None, tuple[int, ...]]:
    """Values and tangents of ``items`` for ``tag`` (constants get lazy zero tangents)."""
    live = [item for item in items if type(item) is Dual and item.tag == tag]
    batch = batch_of(live[0])
    values = [item.value if type(item) is Dual and item.tag == tag else item for item in items]
    tangents = []
    for item, value in zip(items, values, strict=True):
        if type(item) is Dual and item.tag == tag:
            tangents.append(item.tangent)
        else:
            plain = strip(value)
            lazy = plain if hasattr(plain, "chunks") else da.asarray(plain)
            tangents.append(zeros(lazy, batch, np.result_type(strip(live[0].tangent))))
    return values, tangents, batch


def _join(join: Callable[..., Any]) -> Callable[..., Any]:
    """``concatenate``/``stack`` of Duals of Dask arrays: the join of values and of tangents."""

    def implementation(arrays: Any, axis: int = 0, **kwargs: Any) -> Dual:
        _plain_arguments(join, kwargs)
        arrays = list(arrays)
        tag = _tag_of(arrays)
        values, tangents, batch = _parts(arrays, tag)
        value = join(values, axis=axis)
        tangent_axis = axis + len(batch) if axis >= 0 else axis
        return make(value, join(tangents, axis=tangent_axis), tag)

    return implementation


def _plain_arguments(func: Any, kwargs: dict[str, Any]) -> None:
    given = {key: value for key, value in kwargs.items()
             if value is not None and not (key == "order" and value == "C")
             and not (key == "casting" and value == "same_kind")}
    if given:
        raise TypeError(f"numpy.{func.__name__} of a Dual of Dask arrays does not take "
                        f"{sorted(given)}; Dask does not implement them lazily")


def reshape(a: Dual, shape: Any, order: str = "C", **kwargs: Any) -> Dual:
    """``np.reshape`` of a Dual of Dask arrays (C order, as Dask reshapes)."""
    _plain_arguments(np.reshape, {"order": order, **kwargs})
    shape = (shape,) if isinstance(shape, int | np.integer) else tuple(shape)
    value = np.reshape(a.value, shape)
    batch = batch_of(a)
    return make(value, np.reshape(a.tangent, batch + tuple(value.shape)), a.tag)


def ravel(a: Dual, order: str = "C") -> Dual:
    """``np.ravel`` of a Dual of Dask arrays (C order)."""
    return reshape(a, (-1,), order=order)


for _func, _implementation in (
    (np.concatenate, _join(np.concatenate)),
    (np.stack, _join(np.stack)),
    (np.reshape, reshape),
    (np.ravel, ravel),
):
    LAZY_FUNCTIONS[_func] = _implementation
