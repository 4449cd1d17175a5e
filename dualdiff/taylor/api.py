"""Taylor-mode verbs: ``taylor``, ``derivatives``, ``mixed_partial``, ``laplacian``.

Each call seeds one Jet with a fresh tag (:mod:`dualdiff.tags`) and reads the
coefficients of ``f``'s output, so calls nest with each other and with
:func:`dualdiff.derivative` (a Taylor call inside a derivative call) without
perturbation confusion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from dualdiff.dual import Dual, as_value
from dualdiff.memory import tags_in
from dualdiff.tags import is_running, new_tag, running
from dualdiff.taylor.jet import Jet, _plain, make_jet, stack_terms

Function = Callable[..., Any]


def _check(f: Any, verb: str, order: Any) -> int:
    if not callable(f):
        raise TypeError(f"{verb}(f, x, ...) expects a function first, got {type(f).__name__}; "
                        "perhaps the arguments are swapped?")
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 0:
        raise ValueError(f"{verb}: order must be a non-negative integer, got {order!r}")
    return int(order)


def _coefficients(out: Any, tag: int, order: int, batch: tuple[int, ...]) -> Any:
    """The stacked coefficients ``(K + 1, *batch, *shape)`` of ``f``'s output for ``tag``."""
    stale = [t for t in tags_in(out) if t != tag and not is_running(t)]
    if stale:
        raise TypeError("the function's result carries the perturbation of a derivative call "
                        "that has finished; recompute it inside this call")
    if isinstance(out, list | tuple):
        items = [_coefficients(item, tag, order, batch) for item in out]
        return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)
    if type(out) is Jet and out.tag == tag:
        terms = list(out.terms) + [0.0] * (order + 1 - len(out.terms))
        if batch and not out.batch:  # a coefficient-free result still has the batch axis
            shape = batch + out.shape
            terms[1:] = [np.broadcast_to(np.asarray(_plain(t)) if not isinstance(t, Dual | Jet)
                                         else t, shape) * 1.0 for t in terms[1:]]
        stacked = stack_terms(tuple(terms))
        return stacked[()] if isinstance(stacked, np.ndarray) and stacked.ndim == 0 else stacked
    if type(out) is Jet and out.tag > tag:
        raise ValueError("the function returned a Jet of an inner Taylor call that has finished")
    if not isinstance(out, Dual | Jet | int | float | complex | np.ndarray | np.generic):
        raise TypeError("the function must return numbers, arrays, or tuples/lists of them; "
                        f"it returned {type(out).__name__}")
    constant = out if isinstance(out, Dual | Jet) else as_value(out)
    return stack_terms((constant, *([np.zeros(batch + np.shape(_plain(constant)))] * order)))


def taylor(f: Function, x: Any, v: Any, *, order: int) -> Any:
    """The Taylor coefficients of ``t -> f(x + t v)`` at ``t = 0``, to ``order``.

    Parameters
    ----------
    f : callable
        A function of one number or array, written with NumPy.
    x : float, complex or array_like
        The point.
    v : float, complex or array_like
        The direction, of ``x``'s shape, or with one more leading axis of length ``k``
        for ``k`` directions at once (one pass).
    order : int
        ``K``, the highest coefficient.

    Returns
    -------
    ndarray
        Shape ``(K + 1, *f(x).shape)``, or ``(K + 1, k, *f(x).shape)`` for ``k``
        directions: ``a_j = (d/dt)^j f(x + t v) / j!`` (normalised: no factorials, no
        overflow at high order); ``a_0 = f(x)``.  A tuple or list output gives the
        same structure of such arrays.

    Examples
    --------
    >>> import numpy as np
    >>> taylor(np.exp, 0.0, 1.0, order=4)                       # 1/k!
    array([1.        , 1.        , 0.5       , 0.16666667, 0.04166667])
    >>> taylor(lambda x: x[0] * x[1], np.array([1.0, 2.0]), np.array([1.0, 1.0]), order=2)
    array([2., 3., 1.])
    """
    order = _check(f, "taylor", order)
    x = as_value(x) if not isinstance(x, Dual | Jet) else x
    shape = np.shape(_plain(x))
    direction = v if isinstance(v, Dual | Jet) else as_value(v)
    given = np.shape(_plain(direction))
    if given != shape and given[1:] != shape:
        raise ValueError(f"taylor: the direction v has shape {given}; give x's shape {shape}, "
                         f"or (k,) + {shape} for k directions")
    batch = given[:1] if given != shape else ()
    tag = new_tag()
    jet = make_jet((x, direction) + (0.0,) * (order - 1), tag) if order else make_jet((x,), tag)
    with running(tag, *tags_in(x), *tags_in(v)):
        out = f(jet)
    return _coefficients(out, tag, order, batch)


def derivatives(f: Function, x: Any, *, order: int) -> Any:
    """``[f(x), f'(x), ..., f^(K)(x)]`` for a scalar ``x``, from one Taylor pass.

    Examples
    --------
    >>> import numpy as np
    >>> derivatives(lambda x: x**3, 2.0, order=4)
    array([ 8., 12., 12.,  6.,  0.])
    """
    order = _check(f, "derivatives", order)
    if np.ndim(_plain(x)) != 0:
        raise TypeError(f"derivatives(f, x) needs a scalar x, got shape {np.shape(_plain(x))}; "
                        "use taylor(f, x, v, order=K) for a direction in an array")
    coefficients = taylor(f, x, 1.0, order=order)
    if isinstance(coefficients, list | tuple):
        raise TypeError("derivatives(f, x) needs f to return one number or array")
    factorials = np.array([float(math.factorial(k)) for k in range(order + 1)])
    return coefficients * factorials.reshape((-1,) + (1,) * (np.ndim(_plain(coefficients)) - 1))


def derivative_of_order(f: Function, x: Any, order: int) -> Any:
    """``f^(K)(x)``: ``K!`` times the ``K``-th Taylor coefficient (``dd.derivative(order=K)``)."""
    out = derivatives(f, x, order=order)[order]
    return out.item() if type(out) in (np.float64, np.complex128) else out


def _multi_indices(count: int, total: int) -> list[tuple[int, ...]]:
    """Every tuple of ``count`` non-negative integers summing to ``total``."""
    if count == 1:
        return [(total,)]
    return [(first, *rest) for first in range(total, -1, -1)
            for rest in _multi_indices(count - 1, total - first)]


def _weights(alpha: tuple[int, ...], indices: list[tuple[int, ...]]) -> list[Fraction]:
    """``w`` with ``c_alpha = sum_i w_i a_d(i)``, exactly.

    Along a direction ``i`` the ``d``-th coefficient is ``a_d(i) = sum_beta c_beta i**beta``
    over ``|beta| = d``, with ``c_beta = D^beta f / beta!``; the directions are as many as
    the ``beta`` and the system ``M c = a`` (``M[i, beta] = i**beta``) is invertible
    (Griewank, Utke and Walther).  The weights are row ``alpha`` of ``M^-1``, computed
    with rationals: no rounding at any order.
    """
    n = len(indices)
    column = indices.index(alpha)
    # solve M^T w = e_alpha by Gauss-Jordan elimination on rationals
    rows = [[Fraction(math.prod(i_m**b_m for i_m, b_m in zip(i, beta, strict=True)))
             for i in indices] + [Fraction(int(r == column))] for r, beta in enumerate(indices)]
    for c in range(n):
        pivot = next(r for r in range(c, n) if rows[r][c] != 0)
        rows[c], rows[pivot] = rows[pivot], rows[c]
        lead = rows[c][c]
        rows[c] = [v / lead for v in rows[c]]
        for r in range(n):
            if r != c and rows[r][c] != 0:
                factor = rows[r][c]
                rows[r] = [v - factor * w for v, w in zip(rows[r], rows[c], strict=True)]
    return [rows[r][n] for r in range(n)]


def mixed_partial(f: Function, x: Any, alpha: Sequence[int]) -> Any:
    """The mixed partial ``d^|alpha| f / dx_0^alpha_0 dx_1^alpha_1 ...`` at ``x``.

    From univariate Taylor series: one batched Taylor pass of order ``d = |alpha|``
    along every direction ``i`` (a multi-index with ``|i| = d`` on the variables
    ``alpha`` involves), combined with
    exact rational weights (Griewank, Utke and Walther, Math. Comp. 69, 2000).

    Parameters
    ----------
    f : callable
        A function of one array.
    x : array_like
        The point (any shape; ``alpha`` has one entry per element, in C order).
    alpha : sequence of int
        How many times to differentiate in each element of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> f = lambda x: x[0] ** 2 * x[1] * np.exp(x[2])
    >>> float(mixed_partial(f, np.array([1.0, 2.0, 0.0]), (2, 1, 0)))  # 2 exp(0)
    2.0
    >>> round(float(mixed_partial(f, np.array([1.0, 2.0, 0.0]), (1, 1, 1))), 12)  # 2 x0 e^x2
    2.0
    """
    x = np.asarray(as_value(x), dtype=float) if not isinstance(x, Dual) else x
    size = int(np.prod(np.shape(_plain(x))))
    alpha = tuple(int(a) for a in np.ravel(alpha))
    if len(alpha) != size or any(a < 0 for a in alpha):
        raise ValueError(f"mixed_partial: alpha needs {size} non-negative integers (one per "
                         f"element of x), got {alpha}")
    d = sum(alpha)
    support = [m for m in range(size) if alpha[m]]
    if d == 0:
        return taylor(f, x, np.zeros(np.shape(_plain(x))), order=0)[0]
    local = tuple(alpha[m] for m in support)
    indices = _multi_indices(len(support), d)
    directions = np.zeros((len(indices), size))
    for row, i in enumerate(indices):
        directions[row, support] = i
    directions = directions.reshape((len(indices), *np.shape(_plain(x))))
    top = taylor(f, x, directions, order=d)[d]  # a_d along each direction: D_i^d f / d!
    scale = math.prod(math.factorial(a) for a in local)  # D^alpha f = alpha! c_alpha
    weights = np.array([float(w * scale) for w in _weights(local, indices)])
    return np.tensordot(weights, top, axes=(0, 0))


def laplacian(f: Function, x: Any) -> Any:
    """``sum_i ∂²f/∂x_i²`` by collapsed second-order Taylor propagation (no Hessian).

    One batched pass of order 2 along the unit directions; the Laplacian is twice
    the sum of the second coefficients.

    Examples
    --------
    >>> import numpy as np
    >>> float(laplacian(lambda x: np.sum(x**3), np.array([1.0, 2.0])))  # 6 (1 + 2)
    18.0
    """
    x = np.asarray(as_value(x), dtype=float) if not isinstance(x, Dual) else x
    shape = np.shape(_plain(x))
    size = int(np.prod(shape))
    directions = np.eye(size).reshape((size, *shape))
    second = taylor(f, x, directions, order=2)[2]
    return 2.0 * np.sum(second, axis=0)
