"""The Python array API standard (2024.12) over dual numbers: ``x.__array_namespace__()``.

Code written against the standard (``xp = array_namespace(x)``, then
``xp.sum``, ``xp.exp``, ...) differentiates when ``x`` is a Dual: every
function here calls the NumPy function of the same meaning, which reaches
dualdiff through ``__array_ufunc__``/``__array_function__``, so the one rule
table and the one function registry give every derivative.  Plain data
becomes a Dual of zero tangent where it is float or complex (``asarray``,
``zeros``, ``full``, ...), and stays a NumPy array where it is integer or
boolean; comparisons and predicates act on values and return plain booleans.
The page ``docs/array_api.md`` has the conformance figure and the SciPy list.

Examples
--------
>>> import dualdiff as dd
>>> from dualdiff import Dual
>>> x = Dual(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
>>> xp = x.__array_namespace__()
>>> xp is dd.array_api
True
>>> def f(x):  # written for any array API namespace
...     xp = x.__array_namespace__()
...     return xp.sum(xp.exp(x) * x)
>>> dd.gradient(f, np.array([0.0, 1.0]))  # (1 + x) e^x
array([1.        , 5.43656366])
>>> xp.asarray([Dual(1.0, 1.0), 2.0]).tangent  # Duals and numbers: one Dual array
array([1., 0.])
"""

from __future__ import annotations

import numpy as np

from dualdiff.array_api import fft, linalg, special
from dualdiff.array_api._dtypes import (
    astype,
    bool,
    can_cast,
    complex64,
    complex128,
    finfo,
    float32,
    float64,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    isdtype,
    result_type,
    uint8,
    uint16,
    uint32,
    uint64,
)
from dualdiff.array_api.creation import (
    arange,
    asarray,
    empty,
    empty_like,
    eye,
    from_dlpack,
    full,
    full_like,
    linspace,
    meshgrid,
    ones,
    ones_like,
    tril,
    triu,
    zeros,
    zeros_like,
)
from dualdiff.array_api.elementwise import *  # noqa: F403 - the standard's element-wise names
from dualdiff.array_api.elementwise import __all__ as _elementwise
from dualdiff.array_api.info import __array_namespace_info__
from dualdiff.array_api.manipulation import (
    broadcast_arrays,
    broadcast_to,
    concat,
    expand_dims,
    flip,
    matmul,
    matrix_transpose,
    moveaxis,
    permute_dims,
    repeat,
    reshape,
    roll,
    squeeze,
    stack,
    take,
    take_along_axis,
    tensordot,
    tile,
    unstack,
    vecdot,
)
from dualdiff.array_api.statistical import *  # noqa: F403 - the standard's names
from dualdiff.array_api.statistical import __all__ as _statistical

__array_api_version__ = "2024.12"

e = float(np.e)
inf = float(np.inf)
nan = float(np.nan)
pi = float(np.pi)
newaxis = None

__all__ = [  # noqa: PLE0604 - assembled from the modules' lists
    "__array_api_version__",
    "__array_namespace_info__",
    "arange", "asarray", "astype", "bool", "broadcast_arrays", "broadcast_to", "can_cast",
    "complex64", "complex128", "concat", "e", "empty", "empty_like", "expand_dims", "eye",
    "fft", "finfo", "flip", "float32", "float64", "from_dlpack", "full", "full_like", "iinfo",
    "inf", "int8", "int16", "int32", "int64", "isdtype", "linalg", "linspace", "matmul",
    "matrix_transpose", "meshgrid", "moveaxis", "nan", "newaxis", "ones", "ones_like",
    "permute_dims", "pi", "repeat", "reshape", "result_type", "roll", "special", "squeeze",
    "stack", "take", "take_along_axis", "tensordot", "tile", "tril", "triu", "uint8", "uint16",
    "uint32", "uint64", "unstack", "vecdot", "zeros", "zeros_like",
    *_elementwise, *_statistical,
]
