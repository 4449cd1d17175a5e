"""Sparse derivatives: detect the pattern, colour it, compress, decompress.

One stage per module: :mod:`~dualdiff.sparse.pattern` (sparsity detection:
:func:`jacobian_sparsity` and :func:`hessian_sparsity` run unmodified NumPy
code once on a tracer), :mod:`~dualdiff.sparse.coloring` (column partitions),
:mod:`~dualdiff.sparse.decompression` (compressed columns to ``csr_array``),
:mod:`~dualdiff.sparse.jacobian` and :mod:`~dualdiff.sparse.hessian` (the
prepared objects).  The results are ``scipy.sparse`` arrays, so SciPy is
needed (``pip install 'dualdiff[sparse]'``) but only imported when called.
"""

from dualdiff.sparse.coloring import Coloring, color_columns
from dualdiff.sparse.detect import Detection, detect, hessian_sparsity, jacobian_sparsity
from dualdiff.sparse.hessian import SparseHessian, sparse_hessian
from dualdiff.sparse.jacobian import SparseJacobian, sparse_jacobian

__all__ = [
    "Coloring",
    "Detection",
    "SparseHessian",
    "SparseJacobian",
    "color_columns",
    "detect",
    "hessian_sparsity",
    "jacobian_sparsity",
    "sparse_hessian",
    "sparse_jacobian",
]
