"""Functions that write into an array in place: copyto, put, place, putmask, and ``x.flat``.

Each is written as an indexed assignment into the target, so value and
tangents are written where they are (:mod:`dualdiff.memory`): every view of
the target sees the write, and the target keeps its tag and batch.  The
target must be a Dual array; writing Duals into a plain array would drop
their tangents and raises ``TypeError``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dispatch import register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import MATRIX, VECTOR

_PLAIN_TARGET = (
    "numpy.{name} would write dual numbers into a plain array and drop their tangents; "
    "write into a Dual array instead (np.zeros_like(x) or np.copy(x) for a Dual x)"
)

# The examples write into these arrays in place; they already hold the values written, so the
# examples can be run again and again.
_TARGET = np.array([[0.25, -2.0, 0.5], [0.3, 4.0, 1.5]])
_WRITTEN = np.array([0.25, 1.5])
_MASK = np.array([[True, False, False], [False, False, True]])


def _target(a: Any, name: str) -> Dual:
    if type(a) is not Dual:
        raise TypeError(_PLAIN_TARGET.format(name=name))
    return a


def _cycled(values: Any, count: int, name: str) -> Any:
    """The first ``count`` entries of ``values`` flattened and repeated, as NumPy's ``put``."""
    size = int(np.size(strip(values)))
    if count and not size:
        raise ValueError(f"numpy.{name}: cannot write an empty array of values into entries")
    flat = np.ravel(values) if type(values) is Dual else np.ravel(np.asarray(values))
    return flat[np.arange(count) % max(size, 1)]


@register_function(
    np.copyto,
    examples=(((MATRIX.copy(), MATRIX), {}), ((MATRIX.copy(), VECTOR * 0 + MATRIX[1]),
                                              {"where": MATRIX[1] > 0})),
)
def copyto(dst: Any, src: Any, casting: str = "same_kind", where: Any = True) -> None:
    """Copy ``src`` into ``dst`` (broadcast, where ``where`` holds), value and tangents in place."""
    where = strip(where)
    if type(dst) is not Dual:
        if type(src) is Dual:
            raise TypeError(_PLAIN_TARGET.format(name="copyto"))
        np.copyto(dst, src, casting=casting, where=where)
        return
    if type(src) is Dual and src.tag == dst.tag and _same_view(strip(src), strip(dst)):
        return  # the same memory: NumPy copies nothing (even into a read-only array)
    source = strip(src)
    if not np.can_cast(np.result_type(source), strip(dst.value).dtype, casting):
        raise TypeError(
            f"numpy.copyto cannot cast from {np.result_type(source)} to {dst.dtype} with "
            f"casting={casting!r}"
        )
    np.broadcast_shapes(np.shape(source), dst.shape)  # NumPy's error for shapes that do not fit
    memory.write(dst, Ellipsis, src, where=True if where is True else np.asarray(where),
                 what="numpy.copyto")


def _same_view(a: Any, b: Any) -> bool:
    """Whether two arrays are views of the same elements in the same places."""
    return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.shape == b.shape and a.strides == b.strides and a.dtype == b.dtype)


def _flat_positions(ind: Any, size: int, mode: str, name: str) -> np.ndarray:
    """Flat indices ``ind`` checked, wrapped or clipped as NumPy's ``mode`` says."""
    if type(ind) is Dual:
        raise TypeError("a Dual cannot be used as an index; index with integers or .value")
    positions = np.ravel(np.asarray(ind))
    if positions.size and positions.dtype.kind not in "iu":
        raise TypeError(f"numpy.{name} takes integer indices, not {positions.dtype}")
    positions = positions.astype(np.intp)
    if mode == "wrap":
        return positions % size if size else positions
    if mode == "clip":
        return np.clip(positions, 0, size - 1)
    if mode != "raise":
        raise ValueError(f"clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    bad = (positions < -size) | (positions >= size)
    if np.any(bad):
        raise IndexError(
            f"index {positions[bad][0]} is out of bounds for axis 0 with size {size}"
        )
    return positions % size if size else positions


@register_function(np.put, examples=(((_TARGET.copy(), [0, 5], _WRITTEN), {}),
                                     ((_TARGET.copy(), [5, -6], _WRITTEN[::-1]), {})))
def put(a: Any, ind: Any, v: Any, mode: str = "raise") -> None:
    """Write ``v`` at the flat indices ``ind`` of ``a`` (``v`` repeated as needed), in place."""
    a = _target(a, "put")
    positions = _flat_positions(ind, a.size, mode, "put")
    if not positions.size:
        return
    a[np.unravel_index(positions, a.shape)] = _cycled(v, positions.size, "put")


@register_function(np.place, examples=(((_TARGET.copy(), _MASK, _WRITTEN), {}),))
def place(arr: Any, mask: Any, vals: Any) -> None:
    """Write ``vals`` (repeated as needed) into the entries of ``arr`` where ``mask`` holds."""
    arr = _target(arr, "place")
    mask = np.reshape(np.asarray(strip(mask), dtype=bool), arr.shape)
    count = int(np.count_nonzero(mask))
    if count:
        arr[mask] = _cycled(vals, count, "place")


@register_function(np.putmask, examples=(((_TARGET.copy(), _MASK, _TARGET.copy()), {}),))
def putmask(a: Any, mask: Any, values: Any) -> None:
    """``a.flat[i] = values.flat[i % values.size]`` wherever ``mask`` holds, in place."""
    a = _target(a, "putmask")
    mask = np.asarray(strip(mask), dtype=bool)
    if mask.shape != a.shape:
        raise ValueError("putmask: mask and data must be the same size")
    if not np.any(mask):
        return
    full = np.reshape(_cycled(values, a.size, "putmask"), a.shape)
    a[mask] = full[mask]


class FlatIterator:
    """``x.flat`` of a Dual array: its elements in C order, read as copies, written in place.

    As NumPy's ``ndarray.flat``: ``x.flat[i]`` is a copy (a number or a
    1-D array), ``x.flat[i] = v`` writes into ``x`` (``v`` repeated as
    needed), and iteration yields the elements.

    Examples
    --------
    >>> import numpy as np
    >>> from dualdiff import Dual
    >>> x = Dual(np.zeros((2, 2)), np.zeros((2, 2)))
    >>> x.flat[3] = Dual(5.0, 1.0)
    >>> x.value[1, 1], x.tangent[1, 1]
    (np.float64(5.0), np.float64(1.0))
    """

    def __init__(self, base: Dual) -> None:
        self.base = base

    def __len__(self) -> int:
        return self.base.size

    def __iter__(self) -> Any:
        flat = np.ravel(self.base)
        return (flat[i] for i in range(len(self)))

    def _positions(self, index: Any) -> np.ndarray:
        if type(index) is Dual or (isinstance(index, tuple) and any(type(i) is Dual
                                                                    for i in index)):
            raise TypeError("a Dual cannot be used as an index; index with integers or .value")
        return np.arange(self.base.size)[index]

    def __getitem__(self, index: Any) -> Any:
        positions = self._positions(index)
        flat = np.ravel(self.base)
        if np.ndim(positions) == 0:
            return flat[int(positions)]
        return flat[np.ravel(positions)]  # advanced indexing: a copy, as NumPy's

    def __setitem__(self, index: Any, value: Any) -> None:
        positions = np.ravel(self._positions(index))
        if positions.size:
            cells = np.unravel_index(positions, self.base.shape)
            self.base[cells] = _cycled(value, positions.size, "ndarray.flat")
