"""Products: ``matmul`` (a ufunc with its own rule) and ``dot``."""

from __future__ import annotations

from typing import Any

import numpy as np

from dualdiff.dispatch import batch_shape, make, register_function, register_ufunc
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.functions._common import CUBE, MATRIX, VECTOR, reject
from dualdiff.rules import UfuncRule


def _as_matrix_tangent(tangent: Any, vector_axis: int, value_ndim: int, out_ndim: int,
                       batch: tuple[int, ...]) -> Any:
    """A matmul operand's tangent with 1-D operands made matrices and batch axes aligned."""
    shape = np.shape(strip(tangent))
    if value_ndim == 1:
        shape = (*shape[:-1], 1, shape[-1]) if vector_axis == -2 else (*shape, 1)
    if batch:
        core = shape[1:]
        shape = (*batch, *(1,) * (out_ndim - len(core)), *core)
    return np.reshape(tangent, shape)


def _matmul_jvp(x: Dual | None, y: Dual | None, a: Any, b: Any, tag: int) -> Dual:
    ans = np.matmul(a, b)
    batch = batch_shape(x if x is not None else y)
    a_ndim, b_ndim = np.ndim(strip(a)), np.ndim(strip(b))
    a2 = a if a_ndim > 1 else np.reshape(a, (1, -1))
    b2 = b if b_ndim > 1 else np.reshape(b, (-1, 1))
    out_ndim = max(a_ndim, b_ndim, 2)
    tangent = None
    if x is not None:
        tangent = np.matmul(_as_matrix_tangent(x.tangent, -2, a_ndim, out_ndim, batch), b2)
    if y is not None:
        term = np.matmul(a2, _as_matrix_tangent(y.tangent, -1, b_ndim, out_ndim, batch))
        tangent = term if tangent is None else tangent + term
    if b_ndim == 1:
        tangent = tangent[..., 0]
    if a_ndim == 1:
        tangent = tangent[..., 0] if b_ndim == 1 else tangent[..., 0, :]
    return make(ans, tangent, tag)


register_ufunc(
    UfuncRule(
        np.matmul,
        partials=(),
        domain=((MATRIX, VECTOR), (VECTOR, VECTOR), (CUBE.transpose(0, 2, 1), MATRIX.T),
                (VECTOR, CUBE)),
        sympy=None,
        jvp=_matmul_jvp,
    )
)


@register_function(np.dot, examples=((MATRIX, VECTOR), (VECTOR, VECTOR), (2.5, MATRIX)))
def dot(a: Any, b: Any, out: Any = None) -> Dual:
    """``numpy.dot`` for scalars, vectors and matrices (``matmul`` or a product)."""
    reject("dot", out=out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError(
            "dualdiff differentiates numpy.dot of operands with at most 2 dimensions; "
            "use np.matmul or np.tensordot for stacks"
        )
    return np.matmul(a, b)
