"""Sparsity detection: the Jacobian's and the Hessian's nonzero patterns of unmodified NumPy code.

:func:`jacobian_sparsity` seeds ``x`` with a
:class:`~dualdiff.sparse.pattern.SparsityTracer` whose pattern is the
identity, runs ``f`` once, and returns the output's pattern: a boolean
``scipy.sparse.csr_array`` of shape ``(f(x).size, x.size)`` (C order of
both), true where output ``i`` depends on input ``j``.  Nothing of size
``n**2`` is ever formed unless the Jacobian itself is dense.

**What it promises.**  No missing nonzero: every entry the Jacobian can
have near ``x`` is in the pattern (operations without a rule fall back to
"depends on everything involved").  No false positives for elementwise
ufuncs, indexing and slicing, ``concatenate``/``stack``/``roll``/``pad``/
``reshape``/``transpose``, ``where``/``maximum``/``clip``, reductions (a full
row; ``max``/``min`` the attained element), cumulative sums (triangular),
``np.add.at`` and products with a
constant matrix (dense or ``scipy.sparse``: its own nonzeros).  An entry
whose derivative vanishes by accident of the values (``sin`` at ``pi/2``,
``x * y`` at ``y == 0``) is still in the pattern: the pattern is structural.

**Local, not global.**  The values are computed as usual, so ``if``
statements, ``np.where`` conditions, ``maximum`` and ``sort`` follow the
branch taken at ``x`` and the pattern is valid near ``x``.  Where ``f``
branches, pass ``points=`` to union the patterns at several points.

:func:`hessian_sparsity` runs the same tracer recording second-order
interactions: a product ``x_i * x_j`` adds the pair ``(i, j)``, a nonlinear
function of one element its diagonal, linear steps nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dualdiff.sparse import csr
from dualdiff.sparse.pattern import Run, SparsityTracer, seed, value_of


@dataclass(frozen=True)
class Detection:
    """What one detection found.

    Attributes
    ----------
    pattern : scipy.sparse.csr_array
        The Jacobian's pattern, ``(f(x).size, x.size)``, boolean.
    value : ndarray or float
        ``f(x)``.
    hessian : scipy.sparse.csr_array or None
        The Hessian's pattern ``(x.size, x.size)`` when second-order
        interactions were recorded.
    fallbacks : dict
        Functions that had no pattern rule and fell back conservatively
        (every output depending on every input involved), with how often.
    """

    pattern: Any
    value: Any
    hessian: Any
    fallbacks: dict[str, int]


def _point(x: Any) -> np.ndarray:
    if isinstance(x, SparsityTracer):
        raise TypeError("x must be a plain array, not a sparsity tracer")
    array = np.asarray(x)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise TypeError(f"x must be a numeric array, not an array of dtype {array.dtype}")
    return array.copy()


def _output_pattern(out: Any, run: Run) -> tuple[Any, Any]:
    if isinstance(out, list | tuple):
        out = np.stack([np.asarray(o) if not isinstance(o, SparsityTracer) else o
                        for o in out])
    if isinstance(out, SparsityTracer):
        if out.run is not run:
            raise TypeError("f returned a sparsity tracer of another detection")
        return out.pattern, out.value
    value = value_of(out)
    if not isinstance(value, np.ndarray | np.generic | float | int | complex):
        raise TypeError(
            f"f must return a number or an array, not {type(out).__name__}"
        )
    return csr.empty(int(np.size(value)), run.n), value


def detect(f: Callable[[Any], Any], x: Any, *, hessian: bool = False) -> Detection:
    """Run ``f`` once on a sparsity tracer at ``x`` and return everything it found.

    Parameters
    ----------
    f : callable
        One array in, one array (or number) out, written with NumPy.
    x : array_like
        The point; the pattern is the one near it.
    hessian : bool, optional
        Also record second-order interactions (the Hessian's pattern).

    Returns
    -------
    Detection

    Examples
    --------
    >>> import numpy as np
    >>> found = detect(lambda x: np.linalg.det(x.reshape(2, 2)) * x, np.ones(4))
    >>> found.pattern.nnz, found.fallbacks
    (16, {'numpy.linalg.det': 1})
    """
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    csr.scipy_sparse()
    point = _point(x)
    run = Run(int(point.size), second=hessian)
    out = f(seed(point if point.ndim else point[()], run))
    pattern, value = _output_pattern(out, run)
    pairs = csr.pairs_pattern(run.pairs, run.n) if hessian else None
    return Detection(pattern, value, pairs, dict(Counter(run.fallbacks)))


def jacobian_sparsity(f: Callable[[Any], Any], x: Any, *,
                      points: Iterable[Any] | None = None) -> Any:
    """The sparsity pattern of the Jacobian of ``f`` at ``x``, as a boolean ``csr_array``.

    Parameters
    ----------
    f : callable
        One array in, one array (or number) out, written with NumPy (the
        same functions :func:`dualdiff.jacobian` differentiates).
    x : array_like
        The point.  The pattern is *local*: branches (``if``, ``np.where``,
        ``maximum``, ``sort``) follow the values at ``x``.
    points : iterable of array_like, optional
        Further points of ``x``'s shape; the result is the union of the
        patterns at ``x`` and at each of them, valid on all.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean, shape ``(f(x).size, x.size)``, rows and columns in C order;
        true where output ``i`` may depend on input ``j``.  Never misses a
        nonzero; functions without a pattern rule make their outputs depend
        on all their inputs (see :func:`detect` for which fell back).

    Raises
    ------
    ImportError
        Without SciPy: ``pip install 'dualdiff[sparse]'``.

    Examples
    --------
    A tridiagonal function:

    >>> import numpy as np
    >>> import dualdiff as dd
    >>> def f(x):
    ...     y = -2 * x + np.sin(x)
    ...     y[1:] += x[:-1]
    ...     y[:-1] += x[1:]
    ...     return y
    >>> dd.jacobian_sparsity(f, np.ones(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 1, 1]])

    A branch: the pattern follows the values, unless several points are given.

    >>> g = lambda x: np.where(x > 0, x, 0.0)
    >>> dd.jacobian_sparsity(g, [1.0, -1.0]).nnz
    1
    >>> dd.jacobian_sparsity(g, [1.0, -1.0], points=[[-1.0, 1.0]]).nnz
    2
    """
    pattern = detect(f, x).pattern
    for point in points or ():
        other = detect(f, point).pattern
        if other.shape != pattern.shape:
            raise ValueError(
                f"f's output has {other.shape[0]} elements at a point of points but "
                f"{pattern.shape[0]} at x (or the points differ in size)")
        pattern = csr.union(pattern, other)
    return pattern


def hessian_sparsity(f: Callable[[Any], Any], x: Any) -> Any:
    """The sparsity pattern of the Hessian of a scalar ``f`` at ``x`` (symmetric, boolean).

    A product of two inputs adds their pair, a nonlinear function of one
    element its diagonal entries (and the pairs of everything that element
    depends on), linear steps (sums, differences, selections, constant
    matrix products) nothing.  Functions without a rule add every pair of
    their inputs (conservative).  Like :func:`jacobian_sparsity`, the pattern
    is local.

    Parameters
    ----------
    f : callable
        One array in, a number (or an array of one element) out.
    x : array_like
        The point.

    Returns
    -------
    scipy.sparse.csr_array
        Boolean, ``(x.size, x.size)``, symmetric.

    Examples
    --------
    Rosenbrock's function has a tridiagonal Hessian:

    >>> import numpy as np
    >>> import dualdiff as dd
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> dd.hessian_sparsity(rosen, np.zeros(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 1, 1]])
    """
    found = detect(f, x, hessian=True)
    if np.size(found.value) != 1:
        raise ValueError(
            f"hessian_sparsity needs a scalar f; f(x) has shape {np.shape(found.value)} "
            "(use jacobian_sparsity for the Jacobian)")
    return found.hessian
