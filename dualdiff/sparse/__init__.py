"""Sparse Jacobians and Hessians: detect the pattern, colour it, compress, decompress.

One stage per module: :mod:`~dualdiff.sparse.pattern` (sparsity detection),
:mod:`~dualdiff.sparse.coloring` (column partitions),
:mod:`~dualdiff.sparse.decompression` (compressed columns to ``csr_array``),
:mod:`~dualdiff.sparse.jacobian` and :mod:`~dualdiff.sparse.hessian` (the
prepared objects).  Needs scipy: ``pip install 'dualdiff[sparse]'``.
"""

from dualdiff.sparse.coloring import Coloring, color_columns  # noqa: F401 (re-export)
from dualdiff.sparse.hessian import SparseHessian, sparse_hessian  # noqa: F401 (re-export)
from dualdiff.sparse.jacobian import SparseJacobian, sparse_jacobian  # noqa: F401 (re-export)
