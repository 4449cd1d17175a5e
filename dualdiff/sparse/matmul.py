"""Products of ``scipy.sparse`` matrices with Dual numbers: ``A @ x`` and ``x @ A``.

SciPy's ``A @ x`` converts an operand it does not know with
``np.asanyarray``; a Dual refuses to become a plain array (its tangent would
be lost), so without help the product raises.  SciPy returns
``NotImplemented`` when that conversion gives a 0-d object array, so that
Python calls the operand's ``__rmatmul__``: :func:`scipy_matmul_asks` lets a
Dual (and a :class:`~dualdiff.sparse.pattern.SparsityTracer`) give that
answer to SciPy's product and to nothing else, and :func:`sparse_matmul`
computes the product, value and tangents (a batch of tangents and nested
Duals included), with SciPy's own sparse product.

Examples
--------
>>> import numpy as np
>>> import scipy.sparse as sp
>>> from dualdiff import Dual
>>> A = sp.csr_array(np.array([[2.0, 0.0], [0.0, 3.0]]))
>>> y = A @ Dual(np.array([1.0, 1.0]), np.array([1.0, 0.0]))
>>> y.value, y.tangent
(array([2., 3.]), array([2., 0.]))
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def is_scipy_sparse(x: Any) -> bool:
    """Whether ``x`` is a ``scipy.sparse`` array or matrix (without importing SciPy)."""
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(x)


def scipy_matmul_asks(depth: int = 1) -> bool:
    """Whether ``__array__`` (``depth`` frames up) is being called by ``scipy.sparse``'s ``@``."""
    frame = sys._getframe(depth + 1)
    return (frame.f_code.co_name in ("_matmul_dispatch", "_rmatmul_dispatch")
            and frame.f_globals.get("__name__", "").startswith("scipy.sparse"))


def _times(a: Any, b: Any) -> Any:
    """``a @ b`` where one side is sparse and the other a plain array or a Dual."""
    return a @ b


def sparse_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` with a ``scipy.sparse`` matrix on one side and a Dual on the other."""
    from dualdiff.dual import Dual  # noqa: PLC0415 - this module is imported by dual.py
    from dualdiff.memory import batch_of, make  # noqa: PLC0415

    left = is_scipy_sparse(a)
    x = b if left else a
    if type(x) is not Dual:
        return NotImplemented
    if x.ndim not in (1, 2):
        raise ValueError(f"a scipy.sparse matrix multiplies a 1-D or 2-D Dual, not {x.ndim}-D")
    value = _times(a, x.value) if left else _times(x.value, b)
    tangent = x.tangent
    if not batch_of(x):
        tangent = _times(a, tangent) if left else _times(tangent, b)
    elif left:  # (k, n[, p]): the batch moves behind the rows
        moved = np.moveaxis(tangent, 0, -1)
        flat = np.reshape(moved, (moved.shape[0], -1))
        product = _times(a, flat)
        tangent = np.moveaxis(np.reshape(product, (product.shape[0], *moved.shape[1:])), -1, 0)
    else:
        flat = np.reshape(tangent, (-1, tangent.shape[-1]))
        product = _times(flat, b)
        tangent = np.reshape(product, (*tangent.shape[:-1], product.shape[-1]))
    return make(_dense(value), _dense(tangent), x.tag)


def _dense(x: Any) -> Any:
    return x.toarray() if is_scipy_sparse(x) else x
