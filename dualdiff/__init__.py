"""dualdiff: forward-mode automatic differentiation of NumPy code with dual numbers.

Examples
--------
>>> import numpy as np
>>> import dualdiff
>>> dualdiff.derivative(lambda x: np.sin(x) * x, 0.0)
0.0
"""

from dualdiff import functions as _functions  # noqa: F401  (registers the NumPy functions)
from dualdiff import special as _special  # noqa: F401  (registers scipy.special rules)
from dualdiff.api import (
    derivative,
    gradient,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_derivative,
    value_and_gradient,
    value_and_hessian,
    value_and_hvp,
    value_and_jacobian,
)
from dualdiff.dispatch import is_nan_safe, nan_safe, register_function, register_ufunc
from dualdiff.dual import Dual
from dualdiff.sparse import hessian_sparsity, jacobian_sparsity
from dualdiff.sparse.hessian import SparseHessian, sparse_hessian
from dualdiff.sparse.jacobian import SparseJacobian, sparse_jacobian
from dualdiff.taylor import Jet, derivatives, laplacian, mixed_partial, taylor
from dualdiff.tracing import EvaluationTrace, trace

__all__ = [
    "Dual",
    "EvaluationTrace",
    "Jet",
    "SparseHessian",
    "SparseJacobian",
    "derivative",
    "derivatives",
    "gradient",
    "hessian",
    "hessian_sparsity",
    "hvp",
    "is_nan_safe",
    "jacobian",
    "jacobian_sparsity",
    "jvp",
    "laplacian",
    "mixed_partial",
    "nan_safe",
    "register_function",
    "register_ufunc",
    "sparse_hessian",
    "sparse_jacobian",
    "taylor",
    "trace",
    "value_and_derivative",
    "value_and_gradient",
    "value_and_hessian",
    "value_and_hvp",
    "value_and_jacobian",
]
__version__ = "0.1.0"
