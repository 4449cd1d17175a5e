"""Taylor mode: derivatives of any order in one pass, by truncated Taylor polynomials.

A :class:`~dualdiff.taylor.jet.Jet` carries normalised coefficients ``a_k = f^(k)/k!``
through NumPy code as a ``Dual`` carries a tangent; see ``docs/taylor.md``.

Examples
--------
>>> import numpy as np
>>> import dualdiff as dd
>>> dd.derivative(np.sin, 0.0, order=3)     # -cos(0)
-1.0
"""

from dualdiff.taylor.api import derivatives, laplacian, mixed_partial, taylor
from dualdiff.taylor.jet import Jet

__all__ = ["Jet", "derivatives", "laplacian", "mixed_partial", "taylor"]
