"""The memory model: a Dual array behaves like an ndarray of (value, tangent) pairs.

NumPy's rules ("Copies and views" in the NumPy user guide) hold for the
value *and* for every tangent of a Dual, at every nesting level:

* **A view shares memory.**  Where NumPy returns a view of the value (basic
  indexing, ``reshape``/``ravel`` when NumPy can, ``transpose``, ``swapaxes``,
  ``squeeze``, split pieces, ...), the tangent is the same view of the
  tangent, so a write through any alias is seen through every other.
* **A copy does not.**  Where NumPy copies the value (advanced indexing,
  ``np.copy``, ``copy.copy``, arithmetic), the tangent is a fresh, writable
  array that no other Dual sees.
* **An in-place operation writes into its target**: ``x[i] = d``, ``x += d``,
  ``out=``, ``np.add.at``, ``np.copyto``, ``np.put``, ... write the value and
  the tangent where they are; the tangent rule uses the old value where it
  must (``x *= y``).

Two invariants make this hold.  *Writability*: a Dual's tangents are
writable wherever its value is (a read-only value, from ``np.broadcast_to``,
has read-only tangents, as in NumPy).  *Layout*: each tangent lays out its
elements as the value does (its strides past the batch axes are
proportional to the value's), so ``reshape`` is a view of the tangent
exactly when it is one of the value.  Fresh tangents are allocated with
:func:`zeros_like_layout` and checked with :func:`settle`.

A write that cannot be represented in place raises: a Dual of a newer
derivative into an older array (``TypeError``), a complex value into a real
one (``TypeError``), a batch of tangents into an array without one.  Writing
a value that carries an *older* derivative into an array built without it
adds that derivative's level to the array (zero tangent), which replaces the
array's storage; that is allowed only while no other view can see the array,
and raises ``TypeError`` otherwise.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np

from dualdiff.dual import Dual
from dualdiff.elementary import strip

_new = object.__new__


def make(value: Any, tangent: Any, tag: int) -> Dual:
    """Build a dual number without validation."""
    result = _new(Dual)
    result.value = value
    result.tangent = tangent
    result.tag = tag
    return result


def batch_of(x: Dual) -> tuple[int, ...]:
    """``(k,)`` if ``x`` carries a batch of ``k`` tangents, else ``()``."""
    tangent_ndim = getattr(x.tangent, "ndim", 0)
    if tangent_ndim > getattr(x.value, "ndim", 0):
        return x.tangent.shape[:1]
    return ()


def parts(x: Any) -> Iterator[Any]:
    """Every plain array or number inside ``x``: its value and tangents at every level."""
    if type(x) is Dual:
        yield from parts(x.value)
        yield from parts(x.tangent)
    else:
        yield x


def tangent_parts(x: Dual) -> Iterator[Any]:
    """Every plain part of ``x`` except the innermost value."""
    value = x.value
    if type(value) is Dual:
        yield from tangent_parts(value)
    yield from parts(x.tangent)


def tags_in(x: Any) -> set[int]:
    """The tags of every Dual level inside ``x`` (numbers, arrays, Duals, tuples, lists)."""
    found: set[int] = set()
    stack = [x]
    while stack:
        item = stack.pop()
        if type(item) is Dual:
            found.add(item.tag)
            stack.append(item.value)
            stack.append(item.tangent)
        elif isinstance(item, tuple | list):
            stack.extend(item)
    return found


def is_lazy(x: Any) -> bool:
    """Whether ``x`` is a Dask array: a lazy value, allocated and computed by Dask only."""
    return type(x).__module__.startswith("dask.") and hasattr(x, "dask")


def _lazy() -> Any:
    from dualdiff import dask_arrays  # noqa: PLC0415 - only for Dask values

    return dask_arrays


def lazy_guard() -> Any:
    """While ``f`` runs: refuse Dask computes if Dask is loaded (:mod:`dualdiff.dask_arrays`)."""
    if "dask.array" not in sys.modules:
        return _NO_GUARD
    return (sys.modules.get("dualdiff.dask_arrays") or _lazy()).refusing_computes()


_NO_GUARD = contextlib.nullcontext()


def holds_lazy(x: Any) -> bool:
    """Whether ``x`` (a Dual, array, or tuple/list of them) holds a Dask array."""
    if isinstance(x, tuple | list):
        return any(holds_lazy(item) for item in x)
    return is_lazy(strip(x))


def lazy_getitem(x: Dual, index: tuple[Any, ...]) -> Dual:
    """``x[index]`` of a Dual of Dask arrays (:func:`dualdiff.dask_arrays.getitem`)."""
    return _lazy().getitem(x, index)


# --- layout ------------------------------------------------------------------------------------


def _order(value: np.ndarray) -> tuple[int, ...]:
    """The value's axes from the largest stride to the smallest (NumPy's order 'K')."""
    strides = value.strides
    return tuple(sorted(range(value.ndim), key=lambda axis: -abs(strides[axis])))


def empty_like_layout(value: Any, lead: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An uninitialised array of shape ``lead + value.shape`` laid out like ``value``.

    The ``lead`` (batch) axes come first in memory; past them the elements are
    in the value's memory order, so every reshape of the result past its lead
    axes is a view exactly when it is one of the value.
    """
    shape = np.shape(value)
    if not isinstance(value, np.ndarray) and is_lazy(value):
        return _lazy().zeros(value, lead, dtype)
    if not isinstance(value, np.ndarray) or value.ndim < 2 or value.flags.c_contiguous:
        return np.empty(lead + shape, dtype=dtype)
    order = _order(value)
    block = np.empty(lead + tuple(shape[axis] for axis in order), dtype=dtype)
    inverse = np.argsort(order)
    return np.transpose(block, tuple(range(len(lead))) + tuple(len(lead) + i for i in inverse))


def zeros_like_layout(value: Any, lead: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Zeros of shape ``lead + value.shape`` laid out like ``value`` (lazy for a Dask value)."""
    if not isinstance(value, np.ndarray) and is_lazy(value):
        return _lazy().zeros(value, lead, dtype)
    if not isinstance(value, np.ndarray) or value.ndim < 2 or value.flags.c_contiguous:
        return np.zeros(lead + np.shape(value), dtype=dtype)
    result = empty_like_layout(value, lead, dtype)
    result[...] = 0
    return result


def follows_layout(part: Any, value: np.ndarray) -> bool:
    """Whether ``part``'s strides past its lead axes are proportional to ``value``'s.

    Axes of length one are ignored (NumPy ignores their strides); a value of
    fewer than two dimensions has a single order.
    """
    if value.ndim < 2:
        return True
    lead = part.ndim - value.ndim
    ratio = None
    for n, stride, own in zip(value.shape, value.strides, part.strides[lead:], strict=True):
        if n == 1:
            continue
        if stride == 0 or own == 0:
            if stride != own:
                return False
            continue
        if ratio is None:
            ratio = own / stride
            if ratio <= 0:
                return False
        elif own != ratio * stride:
            return False
    return True


def copy_laid_out(part: Any, value: Any) -> Any:
    """A fresh, writable copy of a tangent part (array or Dual), laid out like ``value``."""
    if type(part) is Dual:
        return make(copy_laid_out(part.value, value), copy_laid_out(part.tangent, value), part.tag)
    if not isinstance(part, np.ndarray):
        if isinstance(part, np.generic) and isinstance(value, np.ndarray):
            return np.array(part)  # the tangent of a 0-d array is one too, to be written into
        return part  # a number: immutable
    lead = part.shape[: part.ndim - np.ndim(value)]
    result = empty_like_layout(value, lead, part.dtype)
    result[...] = part
    return result


def copy(x: Dual, order: str = "K") -> Dual:
    """An independent copy of ``x``, value and tangents, as ``numpy.copy(x, order)``."""
    value = x.value
    if type(value) is Dual:
        value = copy(value, order)
    elif isinstance(value, np.ndarray):
        value = np.copy(value, order=order)
    plain = strip(value)
    return make(value, copy_laid_out(x.tangent, plain), x.tag)


# --- settling the result of an operation -------------------------------------------------------


def settle(result: Any, inputs: Any) -> Any:
    """Make a function's result obey the memory model, given the Duals it was computed from.

    A result whose value is a view of an input's value keeps its tangents
    (the function made them the same views).  Any other result gets tangents
    that are its own: writable, sharing no memory with an input's tangents,
    laid out like the value.  Scalars are immutable, but a scalar's tangent
    array must not be a view into an input's either.
    """
    if type(result) is Dual:
        return _settle_one(result, inputs)
    if isinstance(result, tuple | list) and any(type(r) is Dual for r in result):
        settled = [_settle_one(r, inputs) if type(r) is Dual else r for r in result]
        if hasattr(result, "_fields"):
            return type(result)(*settled)
        return type(result)(settled)
    return result


def _input_duals(inputs: Any) -> list[Dual]:
    found: list[Dual] = []
    stack = [inputs]
    while stack:
        item = stack.pop()
        if type(item) is Dual:
            found.append(item)
        elif isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _settle_one(result: Dual, inputs: Any) -> Dual:
    value = strip(result.value)
    duals = _input_duals(inputs)
    if isinstance(value, np.ndarray):
        for d in duals:
            other = strip(d.value)
            if isinstance(other, np.ndarray) and np.may_share_memory(value, other):
                return result  # a view of an input: its tangents are the same views
        if not value.flags.writeable:
            return result
    theirs = [a for d in duals for a in tangent_parts(d) if isinstance(a, np.ndarray)]
    if _needs_own_tangents(result, value, theirs):
        return make(result.value, copy_laid_out(result.tangent, value), result.tag)
    if type(result.value) is Dual:  # a nested value: its own tangents are checked too
        inner = _settle_one(result.value, inputs)
        if inner is not result.value:
            return make(inner, result.tangent, result.tag)
    return result


def _needs_own_tangents(result: Dual, value: Any, theirs: list[np.ndarray]) -> bool:
    for part in parts(result.tangent):
        if not isinstance(part, np.ndarray):
            if isinstance(part, np.generic) and isinstance(value, np.ndarray):
                return True  # a 0-d array value: its tangent must be an array too
            continue
        if not part.flags.writeable:
            return True
        if part.base is not None and any(np.may_share_memory(part, a) for a in theirs):
            return True
        if isinstance(value, np.ndarray) and not follows_layout(part, value):
            return True
    return False


# --- writing -----------------------------------------------------------------------------------
# ``x[index] = item`` writes the item's value into x's value and its tangent into x's tangent.
# A tangent has leading batch axes the index does not address, and in nested differentiation
# the parts being written are themselves dual numbers whose leading axes are such batch axes of
# an outer tangent: ``lead`` counts the leading axes the index skips.  The item always carries
# those leading axes explicitly (of length one where it broadcasts).

_NEWER = (
    "cannot write a Dual of a newer derivative into an array of an older one: the newer "
    "perturbation has no place in it.  Build the array inside the newer derivative (e.g. "
    "np.zeros_like(x) or x * 0 for the newer x), or np.stack the elements"
)
_SHARED = (
    "cannot write a value that carries the derivative of an enclosing derivative call into "
    "this array: the array was built without that derivative and other views of it exist, "
    "which would not see the new derivative.  Build the array from a value that carries every "
    "derivative involved (e.g. np.zeros_like(a * b) for the variables a and b), or write "
    "before taking views"
)


def index_tuple(index: Any) -> tuple[Any, ...]:
    """``index`` as a tuple; a Dual index is refused."""
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


def _split(x: Dual, item: Any) -> tuple[Any, Any]:
    """The item's value and tangent as seen by ``x``'s derivative (a constant: zero tangent)."""
    batch = batch_of(x)
    if type(item) is Dual and item.tag == x.tag:
        item_batch = batch_of(item)
        if item_batch != batch and item_batch:
            raise ValueError(
                f"cannot write a Dual with a batch of {item_batch[0]} directions into one with "
                + (f"a batch of {batch[0]}" if batch else "a single direction")
            )
        tangent = item.tangent
        if batch and not item_batch:  # one direction, the same in every direction of the batch
            tangent = np.reshape(tangent, (1, *np.shape(strip(tangent))))
        return item.value, tangent
    return item, np.zeros((), dtype=np.result_type(strip(x.tangent)))


def _needs_level(part: Any, item: Any) -> bool:
    """Whether writing ``item`` into ``part`` needs a derivative level ``part`` lacks."""
    return type(item) is Dual and (type(part) is not Dual or item.tag > part.tag)


def _promotions(x: Dual, item: Any) -> bool:
    """Whether the write of ``item`` into ``x`` must add a derivative level to ``x``'s parts.

    Checks on the way what would make the write fail part-way (batches).
    """
    value, tangent = _split(x, item)
    found = False
    for part, sub in ((x.value, value), (x.tangent, tangent)):
        if _needs_level(part, sub):
            found = True
        elif type(part) is Dual:
            found = _promotions(part, sub) or found
    return found


def _unshared(x: Dual) -> bool:
    """Whether no other object can see ``x``'s arrays (no views of them, no other holders).

    No local name here holds an array while its references are counted.
    """
    for holder, name in _holders(x):
        if isinstance(getattr(holder, name), np.ndarray) and (
            getattr(holder, name).base is not None or _references(holder, name) > _ALONE
        ):
            return False
    return True


def _references(holder: Dual, name: str) -> int:
    """How many references the part ``name`` of ``holder`` has, counted from here."""
    part = getattr(holder, name)
    return sys.getrefcount(part)


def _holders(x: Dual) -> list[tuple[Dual, str]]:
    """``(dual, name)`` for every plain part of ``x``."""
    found = []
    for name in ("value", "tangent"):
        if type(getattr(x, name)) is Dual:
            found.extend(_holders(getattr(x, name)))
        else:
            found.append((x, name))
    return found


def _dtype_check(x: Dual, item: Any, what: str) -> None:
    target = np.result_type(strip(x.value))
    source = np.result_type(strip(item))
    if source.kind == "c" and target.kind != "c":
        raise TypeError(
            f"{what} would write complex values into a real Dual array and drop their "
            "imaginary parts; make the array complex first (x.astype(complex))"
        )
    if source.kind not in "biufc":
        raise TypeError(f"{what} cannot write values of dtype {source} into a Dual array")


def read_only_check(x: Dual) -> None:
    """Raise unless ``x`` is an array whose value and tangents can all be written."""
    value = strip(x.value)
    if is_lazy(value):
        raise TypeError("a Dual of Dask arrays does not support item assignment (Dask would "
                        "rewrite its graph under every alias); build the result with np.where, "
                        "np.concatenate or arithmetic instead")
    if not isinstance(value, np.ndarray):
        raise TypeError("a scalar Dual does not support item assignment")
    if not value.flags.writeable:
        raise ValueError("assignment destination is read-only")
    if not all(p.flags.writeable for p in tangent_parts(x) if isinstance(p, np.ndarray)):
        raise ValueError("assignment destination is read-only (its tangent is)")


def write(x: Dual, index: Any, item: Any, *, where: Any = True, what: str = "assignment") -> None:
    """Write ``item`` into ``x`` at ``index`` (and where ``where`` holds), value and tangents.

    Everything that could make the write fail is checked before anything is
    written, so a failed write leaves ``x`` as it was.
    """
    index = index_tuple(index)
    if type(item) is Dual and item.tag > x.tag:
        raise TypeError(_NEWER)
    read_only_check(x)
    _dtype_check(x, item, what)
    if _promotions(x, item) and not _unshared(x):
        raise TypeError(_SHARED)
    _write(x, index, item, 0, where)


def _write(x: Dual, index: tuple[Any, ...], item: Any, lead: int, where: Any) -> None:
    value, tangent = _split(x, item)
    x.value = _assign(x.value, index, value, lead, where, strip(x.value))
    x.tangent = _assign(x.tangent, index, tangent, lead + len(batch_of(x)), where,
                        strip(x.value))


def _assign(part: Any, index: tuple[Any, ...], item: Any, lead: int, where: Any,
            layout: Any) -> Any:
    """Write ``item`` into ``part`` (an array or a Dual); the part, with a level added if needed."""
    if _needs_level(part, item):
        batch = batch_of(item)
        plain = strip(part)
        zero = zeros_like_layout(layout, batch + plain.shape[: plain.ndim - np.ndim(layout)],
                                 plain.dtype)
        part = make(part, zero, item.tag)
    if type(part) is Dual:
        _write(part, index, item, lead, where)
    elif where is True:
        _to_end(part, lead)[_past(index, lead)] = _to_end(item, lead)
    else:  # ``where`` addresses the value's axes: the part's lead axes go last, as for index
        mask = np.reshape(where, np.shape(where) + (1,) * lead)
        np.copyto(_to_end(part, lead), _to_end(item, lead), where=mask, casting="unsafe")
    return part


def assign(x: Dual, result: Any, *, what: str) -> Dual:
    """Write ``result`` over all of ``x`` (an in-place operator's last step); ``x``.

    The result must have ``x``'s shape: NumPy's in-place operators do not
    broadcast their target.
    """
    shape = np.shape(strip(x.value))
    result_shape = np.shape(strip(result))
    if result_shape != shape:
        raise ValueError(
            f"non-broadcastable output operand with shape {shape} doesn't match the broadcast "
            f"shape {result_shape} ({what})"
        )
    write(x, Ellipsis, result, what=what)
    return x


def store_out(out: Any, result: Any, name: str) -> Any:
    """Write a function's ``result`` into its ``out=`` array and return ``out``, as NumPy does.

    ``out`` must have the result's shape.  A Dual result needs a Dual
    ``out`` (a plain one would drop the tangent: ``TypeError``); a plain
    result may go into either.
    """
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    if type(out) is not Dual and not isinstance(out, np.ndarray):
        raise TypeError(f"out= of {name} must be an array or a Dual array, not "
                        f"{type(out).__name__}")
    if np.shape(strip(out)) != np.shape(strip(result)):
        raise ValueError(f"out= of {name} has shape {np.shape(strip(out))}, but the result has "
                         f"shape {np.shape(strip(result))}")
    if type(out) is not Dual:
        if type(result) is Dual:
            raise TypeError(
                f"out= of {name} is a plain array: writing a Dual into it would lose its tangent; "
                "pass a Dual as out (e.g. np.zeros_like(x) for a Dual x), or compute on .value"
            )
        np.copyto(out, result, casting="same_kind")
        return out
    write(out, Ellipsis, result, what=f"out= of {name}")
    return out


# --- allocation --------------------------------------------------------------------------------


def zeros_like(x: Dual, value: Any) -> Dual:
    """A Dual with value ``value`` (a plain array) and zero tangents in ``x``'s structure.

    Every derivative level of ``x`` is present (same tags, same batches), so
    Duals like ``x`` can be written into it.
    """
    plain = strip(value)
    return _zero_levels(x, value, plain, ())


def _zero_levels(x: Dual, value: Any, plain: Any, lead: tuple[int, ...]) -> Any:
    inner = x.value
    if type(inner) is Dual:
        value = _zero_levels(inner, value, plain, lead)
    tangent_lead = batch_of(x) + lead
    tangent: Any = zeros_like_layout(plain, tangent_lead, plain.dtype)
    if type(inner) is Dual:  # the tangent carries the inner levels too
        tangent = _zero_levels(inner, tangent, plain, tangent_lead)
    return make(value, tangent, x.tag)


def zeros_for(value: Any) -> Any:
    """The zero tangent of a new Dual with ``value`` (laid out like it)."""
    if type(value) is float:
        return 0.0
    if type(value) is complex:
        return 0j
    plain = strip(value)
    if isinstance(plain, np.ndarray):
        return zeros_like_layout(plain, (), plain.dtype)
    return np.zeros((), dtype=np.result_type(plain))[()]


def owned(value: Any) -> Any:
    """A copy of a new Dual's value (arrays in their memory order; Duals deeply); numbers as is."""
    if type(value) is Dual:
        return copy(value)
    if isinstance(value, np.ndarray):
        return np.array(value, order="K", copy=True)
    return value


def ensure_levels(x: Dual, like: Any) -> None:
    """Give ``x``'s parts the derivative levels of ``like`` (of older tags) that they lack.

    Used before an in-place update computes with ``like`` inside ``x``
    (``np.multiply.at``).  Adding a level replaces storage, so it is refused
    (``TypeError``) while another view can see ``x``.
    """
    levels = []
    while type(like) is Dual:
        if like.tag < x.tag:
            levels.append((like.tag, batch_of(like)))
        like = like.value
    if not levels:
        return
    if not any(_lacks(getattr(x, name), tag) for name in ("value", "tangent")
               for tag, _ in levels):
        return
    if not _unshared(x):
        raise TypeError(_SHARED)
    layout = strip(x.value)
    for tag, batch in levels:
        x.value = _with_level(x.value, tag, batch, layout)
        x.tangent = _with_level(x.tangent, tag, batch, layout)


def _lacks(part: Any, tag: int) -> bool:
    """Whether ``part`` (or a tangent inside it) has no level of ``tag``."""
    while type(part) is Dual and part.tag > tag:
        if _lacks(part.tangent, tag):
            return True
        part = part.value
    return type(part) is not Dual or part.tag != tag


def _with_level(part: Any, tag: int, batch: tuple[int, ...], layout: Any) -> Any:
    """``part`` with a level of ``tag`` (zero tangent, batch ``batch``) where it lacks one."""
    if type(part) is Dual:
        if part.tag == tag:
            return part
        if part.tag > tag:
            part.value = _with_level(part.value, tag, batch, layout)
            part.tangent = _with_level(part.tangent, tag, batch, layout)
            return part
    plain = strip(part)
    lead = np.shape(plain)[: np.ndim(plain) - np.ndim(layout)]
    return make(part, zeros_like_layout(layout, batch + lead, np.result_type(plain)), tag)


_ALONE = _references(make(np.zeros(1), np.zeros(1), 0), "value")
"""What :func:`_references` counts for an array that only its Dual holds."""
