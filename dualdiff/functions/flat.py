"""Functions whose result carries no derivative.

Two kinds, each a table: *plain* functions answer a question about the
values (booleans, counts, indices) and return plain NumPy results;
*rounding* functions are piecewise constant and return a dual number with
a zero tangent, the convention of ``np.floor`` (see ``docs/conventions.md``).
Dual arguments anywhere, also inside lists, are replaced by their values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dispatch import make, register_function, zero_tangent
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import MATRIX, VECTOR, live


def _values(x: Any) -> Any:
    """``x`` with every dual number, also inside lists and tuples, replaced by its value.

    A scalar Dual's value may be a Python number; it is passed on as the 0-d array it
    stands for, so ``np.diag_indices_from`` raises NumPy's error for a 0-d array.
    """
    if isinstance(x, list | tuple):
        return type(x)(_values(item) for item in x)
    if type(x) is Dual:
        value = strip(x)
        return np.asarray(value) if type(value) in (float, complex) else value
    return x


def _plain(func: Callable[..., Any]) -> Callable[..., Any]:
    def on_values(*args: Any, **kwargs: Any) -> Any:
        return func(*_values(args), **{key: _values(v) for key, v in kwargs.items()})

    on_values.__name__ = func.__name__
    on_values.__doc__ = f"``numpy.{func.__name__}`` of the values: a plain result."
    return on_values


def _rounding(func: Callable[..., Any]) -> Callable[..., Any]:
    def flat(a: Any, *args: Any, **kwargs: Any) -> Dual:
        value = func(a.value, *args, **kwargs)
        tag, batch = live(a)
        return make(value, zero_tangent(value, batch), tag)

    flat.__name__ = func.__name__
    flat.__doc__ = f"``numpy.{func.__name__}`` of the value, with zero tangent (it is flat)."
    return flat


_SORTED = np.array([-1.0, 0.25, 0.5, 2.0])
_SQUARE = np.arange(9.0).reshape(3, 3) / 4

# function            test inputs (each a tuple of positional args, or (args, kwargs))
PLAIN_FUNCTIONS: tuple[tuple[Callable[..., Any], tuple[Any, ...]], ...] = (
    (np.all,           ((MATRIX,), ((MATRIX,), {"axis": 0}))),
    (np.any,           ((MATRIX,), ((MATRIX,), {"axis": 1}))),
    (np.count_nonzero, ((MATRIX,), ((MATRIX,), {"axis": 0}))),
    (np.allclose,      ((VECTOR, VECTOR + 1e-12),)),
    (np.isclose,       ((VECTOR, VECTOR[::-1]),)),
    (np.array_equal,   ((VECTOR, VECTOR),)),
    (np.array_equiv,   ((VECTOR, VECTOR[None, :]),)),
    (np.isin,          ((VECTOR, VECTOR[:2]),)),
    (np.isposinf,      ((VECTOR,),)),
    (np.isneginf,      ((VECTOR,),)),
    (np.digitize,      ((VECTOR, _SORTED),)),
    (np.lexsort,       (((VECTOR, VECTOR[::-1]),),)),
    (np.searchsorted,  ((_SORTED, VECTOR), ((_SORTED, 0.5), {"side": "right"}),
                        ((VECTOR, _SORTED[:2]), {"sorter": np.argsort(VECTOR)}))),
    (np.size,          ((MATRIX,), ((MATRIX, 1), {}), ((MATRIX,), {"axis": -1}), (2.5,))),
    (np.diag_indices_from, ((_SQUARE,),)),
    (np.tril_indices_from, ((MATRIX,), ((_SQUARE, -1), {}))),
    (np.triu_indices_from, ((MATRIX,), ((_SQUARE,), {"k": 1}))),
)  # fmt: skip

ROUNDING_FUNCTIONS: tuple[tuple[Callable[..., Any], tuple[Any, ...]], ...] = (
    (np.round,  ((VECTOR,), ((MATRIX, 1), {}))),
    (np.around, ((VECTOR,), ((MATRIX, 1), {}))),
    (np.fix,    ((VECTOR,), (MATRIX,))),
)  # fmt: skip

for _function, _examples in PLAIN_FUNCTIONS:
    register_function(_function, examples=_examples)(_plain(_function))
for _function, _examples in ROUNDING_FUNCTIONS:
    register_function(_function, examples=_examples)(_rounding(_function))
