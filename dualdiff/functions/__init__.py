"""Dual implementations of NumPy functions (``__array_function__``), one module per family.

Importing this package registers every implementation with
:func:`dualdiff.register_function`, the same public decorator users call.
"""

from dualdiff.functions import (
    complex_parts,
    compositions,
    fft,
    flat,
    inplace,
    joining,
    linalg,
    products,
    reductions,
    selection,
    shape,
    sorting,
)

__all__ = [
    "complex_parts",
    "compositions",
    "fft",
    "flat",
    "inplace",
    "joining",
    "linalg",
    "products",
    "reductions",
    "selection",
    "shape",
    "sorting",
]
