"""Joining and splitting: stack, concatenate, block, split, copy.

Joining is linear: the tangents are joined like the values, along the same
axis shifted past a batch axis.  Plain arrays and dual numbers of older tags
enter with a zero tangent.  Splits return lists of dual numbers, as NumPy
returns lists of arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import (
    CUBE,
    MATRIX,
    VECTOR,
    as_array,
    live,
    normalize_axis,
    reject,
    split,
)
from dualdiff.functions.shape import float_dtype

SIX = np.linspace(-1.0, 2.0, 6)


def _join(name: str, arrays: Any, axis: Any, join: Any, dtype: Any, casting: str) -> Dual:
    arrays = [np.asarray(x) if isinstance(x, list | tuple) else x for x in arrays]
    if not arrays:
        raise ValueError(f"numpy.{name} needs at least one array")
    float_dtype(dtype, name)
    if axis is None:  # concatenate the flattened arrays
        arrays, axis = [np.ravel(x) for x in arrays], 0
    tag, batch = live(*arrays)
    values, tangents = zip(*(split(x, tag, batch) for x in arrays), strict=True)
    value = join(values, axis=axis, dtype=dtype, casting=casting)
    tangent_axis = axis
    if batch:
        tangents = tuple(
            np.reshape(t, batch + np.shape(strip(v))) if np.ndim(strip(t)) == np.ndim(strip(v))
            else t
            for t, v in zip(tangents, values, strict=True)
        )
        tangent_axis = normalize_axis(axis, np.ndim(strip(value))) + 1
    return make(value, join(tangents, axis=tangent_axis, dtype=dtype, casting=casting), tag)


@register_function(
    np.stack,
    examples=((([VECTOR, 2 * VECTOR],), {}), (([MATRIX, MATRIX],), {"axis": -1}),
              (([VECTOR, VECTOR[::-1]],), {"axis": 1})),
)
def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None,
          casting: str = "same_kind") -> Dual:
    """Stack along a new axis; ``dtype`` must be a float or complex type."""
    reject("stack", out=out)
    return _join("stack", arrays, axis, np.stack, dtype, casting)


@register_function(
    np.concatenate,
    examples=((([VECTOR, VECTOR],), {}), (([MATRIX, MATRIX],), {"axis": 1}),
              (([MATRIX, VECTOR],), {"axis": None}),
              (([MATRIX, MATRIX[:1]],), {"axis": -2})),
)
def concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None,
                casting: str = "same_kind") -> Dual:
    """Join along an existing axis (``None``: flattened); ``dtype`` must be float or complex."""
    reject("concatenate", out=out)
    return _join("concatenate", arrays, axis, np.concatenate, dtype, casting)


@register_function(
    np.hstack,
    examples=(([VECTOR, SIX],), ([MATRIX, MATRIX[:, :1]],), (([2.5, VECTOR],), {})),
)
def hstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Dual:
    """Join horizontally: along axis 1, or axis 0 for vectors."""
    float_dtype(dtype, "hstack")
    arrays = [np.atleast_1d(x) for x in tup]
    axis = 0 if arrays and np.ndim(arrays[0]) == 1 else 1
    return np.concatenate(arrays, axis=axis, dtype=dtype, casting=casting)


@register_function(
    np.vstack, examples=(([VECTOR, VECTOR],), ([MATRIX, VECTOR],), ([CUBE, CUBE],))
)
def vstack(tup: Any, *, dtype: Any = None, casting: str = "same_kind") -> Dual:
    """Join vertically: along axis 0 of the arrays made at least 2-D."""
    float_dtype(dtype, "vstack")
    return np.concatenate([np.atleast_2d(x) for x in tup], axis=0, dtype=dtype, casting=casting)


@register_function(np.dstack, examples=(([VECTOR, VECTOR],), ([MATRIX, MATRIX, MATRIX],)))
def dstack(tup: Any) -> Dual:
    """Join along the third axis of the arrays made at least 3-D."""
    return np.concatenate([np.atleast_3d(x) for x in tup], axis=2)


@register_function(
    np.column_stack, examples=(([VECTOR, VECTOR],), ([MATRIX.T, VECTOR],), ([2.5, 1.5],))
)
def column_stack(tup: Any) -> Dual:
    """Join vectors as columns (and matrices as they are) along axis 1."""
    return np.concatenate(
        [np.reshape(x, (-1, 1)) if np.ndim(x) < 2 else x for x in tup], axis=1
    )


def _depth(arrays: Any) -> int:
    return 1 + _depth(arrays[0]) if isinstance(arrays, list) and arrays else 0


def _blocks(arrays: Any, depth: int, ndim: int) -> Any:
    if not isinstance(arrays, list):  # a leaf, given leading axes of length one
        return np.reshape(arrays, (1,) * (ndim - np.ndim(arrays)) + np.shape(strip(arrays)))
    parts = [_blocks(item, depth - 1, ndim) for item in arrays]
    return np.concatenate(parts, axis=-depth)


def _leaves(arrays: Any) -> list[Any]:
    if isinstance(arrays, list):
        return [leaf for item in arrays for leaf in _leaves(item)]
    return [arrays]


def _strip_leaves(arrays: Any) -> Any:
    if isinstance(arrays, list):
        return [_strip_leaves(item) for item in arrays]
    return strip(arrays)


@register_function(
    np.block,
    examples=(
        ([[MATRIX, MATRIX[:, :1]], [VECTOR[None], 2.5]],),
        ([VECTOR, SIX],),
        ([[[CUBE]], [[CUBE[:1]]]],),
    ),
)
def block(arrays: Any) -> Dual:
    """Assemble from nested lists of blocks, innermost lists along the last axis."""
    np.block(_strip_leaves(arrays))  # NumPy's checks of the nesting and the shapes
    depth = _depth(arrays)
    ndim = max(depth, *(np.ndim(leaf) for leaf in _leaves(arrays)))
    return _blocks(arrays, depth, ndim)


# --- splitting ---------------------------------------------------------------------------------


def _split(splitter: Any, ary: Dual, sections: Any, axis: int) -> list[Dual]:
    values = splitter(as_array(ary.value), sections, axis=axis)
    tangent_axis = normalize_axis(axis, ary.ndim) + len(batch_shape(ary))
    tangents = splitter(ary.tangent, sections, axis=tangent_axis)
    return [make(v, t, ary.tag) for v, t in zip(values, tangents, strict=True)]


@register_function(
    np.split,
    examples=(((SIX, 3), {}), ((MATRIX, [1]), {}), ((CUBE, 2), {"axis": -1}),
              ((SIX, [1, 4]), {})),
)
def split_(ary: Dual, indices_or_sections: Any, axis: int = 0) -> list[Dual]:
    """Split into a list of sub-arrays of equal size, or at the given indices."""
    return _split(np.split, ary, indices_or_sections, axis)


@register_function(
    np.array_split, examples=(((SIX, 3), {}), ((SIX, 4), {}), ((CUBE, 3), {"axis": 1}))
)
def array_split(ary: Dual, indices_or_sections: Any, axis: int = 0) -> list[Dual]:
    """Split into a list of sub-arrays, allowing unequal sections."""
    return _split(np.array_split, ary, indices_or_sections, axis)


def _split_axis(name: str, ary: Dual, least: int, axis: int) -> int:
    if ary.ndim < least:
        raise ValueError(f"numpy.{name} only works on arrays of {least} or more dimensions")
    return axis


@register_function(np.hsplit, examples=(((SIX, 2), {}), ((MATRIX, [1]), {})))
def hsplit(ary: Dual, indices_or_sections: Any) -> list[Dual]:
    """Split along axis 1 (axis 0 for vectors)."""
    axis = _split_axis("hsplit", ary, 1, 1 if ary.ndim > 1 else 0)
    return _split(np.split, ary, indices_or_sections, axis)


@register_function(np.vsplit, examples=(((MATRIX, 2), {}), ((CUBE, [1]), {})))
def vsplit(ary: Dual, indices_or_sections: Any) -> list[Dual]:
    """Split along axis 0 of an array of at least two dimensions."""
    return _split(np.split, ary, indices_or_sections, _split_axis("vsplit", ary, 2, 0))


@register_function(np.dsplit, examples=(((CUBE, 2), {}), ((CUBE, [1, 3]), {})))
def dsplit(ary: Dual, indices_or_sections: Any) -> list[Dual]:
    """Split along axis 2 of an array of at least three dimensions."""
    return _split(np.split, ary, indices_or_sections, _split_axis("dsplit", ary, 3, 2))


@register_function(np.copy, examples=((MATRIX,),))
def copy(a: Dual, order: str = "K", subok: bool = False) -> Dual:
    """An independent copy of value and tangent."""
    return make(np.copy(a.value, order=order), np.copy(a.tangent, order=order), a.tag)
