"""Sparse derivatives: sparsity detection (and, with it, compressed Jacobians and Hessians).

:func:`jacobian_sparsity` and :func:`hessian_sparsity` find the nonzero
patterns of unmodified NumPy code by running it once on a tracer
(:mod:`dualdiff.sparse.pattern`); the results are boolean ``scipy.sparse``
arrays, so SciPy is needed (``pip install 'dualdiff[sparse]'``) but only
imported when these functions are called.
"""

from dualdiff.sparse.detect import Detection, detect, hessian_sparsity, jacobian_sparsity

__all__ = ["Detection", "detect", "hessian_sparsity", "jacobian_sparsity"]
