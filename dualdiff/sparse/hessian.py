"""Sparse Hessians in forward mode: two compression schemes, prepared once.

A forward pass with a pair of directions ``(v, u)`` (a dual number of dual
numbers) yields one number of a scalar ``f``: ``v^T H u``.  Recovering the
``nnz`` entries of ``H`` therefore needs at least ``nnz`` direction pairs, and
two schemes are offered:

``scheme="columns"`` (any scalar ``f``)
    ``H U`` for the colour seeds ``U`` of a column colouring of ``H``'s pattern
    (no two columns of a colour share a row, so ``H[i, j] = (H u_c)[i]`` for
    ``j``'s colour ``c``): the Jacobian of the gradient in ``C`` directions.
    The gradient is forward mode too, so each of the ``C`` outer directions
    carries ``n`` inner ones: ``n * C`` direction pairs (the dense nested
    Hessian pushes ``n * n``), pushed in chunks of inner directions
    (:func:`dualdiff.columns.default_chunk_size`) to bound the memory.
``scheme="terms"`` (``f`` returns the vector of terms ``y`` of ``sum(y)``)
    A partially separable objective ``sum_i y_i(x)`` (Rosenbrock, most finite
    element and least-squares objectives) needs only ``C`` directions on *both*
    levels, ``C`` colours of the terms' Jacobian pattern: each term's variables
    then have distinct colours, so ``u_d^T (Hessian of y_i) u_c`` *is* the entry
    for the variables of colours ``c`` and ``d`` of term ``i``, and ``H`` is the
    sum of those entries over the terms (one ``bincount``, index arrays cached).
    ``C * C`` direction pairs per element of ``y``: memory ``(1 + C)^2`` times
    the primal's instead of ``n * C``.

The cost of each scheme is measured in ``benchmarks/sparse.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.api import _check_callable, _plain_scalar, value_and_gradient
from dualdiff.api import jvp as _jvp
from dualdiff.dual import Dual
from dualdiff.sparse.coloring import Coloring, _scipy_sparse, color_columns, csr_pattern
from dualdiff.sparse.decompression import Decompression, seeds
from dualdiff.sparse.jacobian import PreparedPattern, _point, colour_seeds

SCHEMES = ("columns", "terms")


def _plain(x: Any) -> Any:
    while isinstance(x, Dual):
        x = x.value
    return x


def _outer_pass(f: Callable[[Any], Any], scheme: str, chunk_size: int | None, x: np.ndarray,
                inner: np.ndarray, outer: np.ndarray) -> tuple[Any, Any]:
    """One forward pass over the ``outer`` colour seeds (``inner``: all of them, for "terms").

    ``"columns"``: the objective and ``H u`` for each outer seed ``u``, shape
    ``(len(outer), n)``.  ``"terms"``: the terms ``f(x)`` and their second
    derivatives, shape ``(len(outer), len(inner), m)``.
    """
    seen = []
    if scheme == "columns":
        def gradient(y: Any) -> Any:
            value, g = value_and_gradient(f, y, chunk_size=chunk_size)
            seen.append(value)
            return g

        _, compressed = _jvp(gradient, (x,), (outer,))
        return _plain_scalar(_plain(seen[0])), np.reshape(compressed, (outer.shape[0], -1))

    def first(y: Any) -> Any:
        value, tangent = _jvp(f, (y,), (inner,))
        seen.append(value)
        return tangent

    _, second = _jvp(first, (x,), (outer,))
    return _plain(seen[0]), second


class HessianColourBlock:
    """One task of a parallel sparse Hessian: the outer pass of colours ``start:stop``.

    Pickled once per call with ``f`` (:func:`dualdiff.parallel.map_tasks`).
    """

    def __init__(self, f: Callable[[Any], Any], scheme: str, chunk_size: int | None,
                 colors: np.ndarray, ncolors: int, shape: tuple[int, ...], dtype: Any) -> None:
        self.f, self.scheme, self.chunk_size = f, scheme, chunk_size
        self.colors, self.ncolors, self.shape, self.dtype = colors, ncolors, shape, dtype

    def __call__(self, x: Any, start: int, stop: int, tag: int) -> tuple[Any, Any]:  # noqa: D102
        outer = colour_seeds(self.colors, start, stop, self.shape, self.dtype)
        inner = (seeds(self.colors, self.ncolors, self.shape, self.dtype)
                 if self.scheme == "terms" else outer)
        return _outer_pass(self.f, self.scheme, self.chunk_size, x, inner, outer)

    def describe(self, start: int, stop: int, total: int) -> str:  # noqa: D102
        span = f"colour {start}" if stop - start == 1 else f"colours {start} to {stop - 1}"
        return f"sparse Hessian {span}, of {total} colours"


class SparseHessian(PreparedPattern):
    """A Hessian prepared for repeated evaluation: ``H(x)`` returns a ``csr_array``.

    Build it with :func:`sparse_hessian`.

    What was prepared: :attr:`~SparseHessian.pattern` (symmetric bool ``csr_array``),
    :attr:`~SparseHessian.colors`, :attr:`~SparseHessian.ncolors` (the outer
    directions; for ``"terms"`` also the inner ones) and ``scheme``.
    """

    def __init__(
        self,
        f: Callable[[Any], Any],
        x0: Any,
        *,
        sparsity: Any = "auto",
        scheme: str = "columns",
        order: str = "natural",
        chunk_size: int | None = None,
    ) -> None:
        _check_callable(f, "sparse_hessian")
        if scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
        x0 = _point(x0)
        self._f = f
        self.scheme = scheme
        self.shape_in: tuple[int, ...] = x0.shape
        self._chunk_size = chunk_size
        n = x0.size
        auto = isinstance(sparsity, str)
        self._probe = not auto  # an explicit pattern is probed once
        if auto and sparsity != "auto":
            raise ValueError(f"sparsity must be 'auto' or a pattern, got {sparsity!r}")
        if scheme == "columns":
            if auto:
                from dualdiff.sparse import hessian_sparsity  # noqa: PLC0415

                sparsity = hessian_sparsity(f, x0)
            pattern = csr_pattern(sparsity)
            if pattern.shape != (n, n):
                raise ValueError(
                    f"a Hessian pattern has shape (x.size, x.size) = {(n, n)}, got {pattern.shape}"
                )
            pattern = csr_pattern(pattern + pattern.T)  # the symmetric closure
            self._coloring: Coloring = color_columns(pattern, order)
            self._decompress = Decompression(pattern, self._coloring.colors, self._coloring.ncolors)
        else:
            if auto:
                from dualdiff.sparse import jacobian_sparsity  # noqa: PLC0415

                sparsity = jacobian_sparsity(f, x0)
            terms = csr_pattern(sparsity)  # the terms' Jacobian pattern, (m, n)
            if terms.shape[1] != n:
                raise ValueError(
                    f"with scheme='terms' the pattern is the terms' Jacobian pattern, of shape "
                    f"(f(x).size, x.size); got {terms.shape} for x.size = {n}"
                )
            self._coloring = color_columns(terms, order)
            pattern = self._prepare_terms(terms)
        self._pattern = pattern
        self._seeds: dict[Any, np.ndarray] = {}

    def _prepare_terms(self, terms: Any) -> Any:
        """Index arrays for ``H[j, k] = sum_i D[colour k, colour j, i]`` over the terms ``i``."""
        sparse = _scipy_sparse()
        m, n = terms.shape
        ncolors = self._coloring.ncolors
        counts = np.diff(terms.indptr)
        # every ordered pair (j, k) of one row's columns: row i contributes counts[i]**2 pairs
        pair_rows = np.repeat(np.arange(m), counts**2)
        starts = np.repeat(terms.indptr[:-1], counts**2)
        within = np.arange(pair_rows.size) - np.repeat(np.cumsum(counts**2) - counts**2, counts**2)
        width = np.repeat(counts, counts**2)
        j = terms.indices[starts + within // np.maximum(width, 1)]
        k = terms.indices[starts + within % np.maximum(width, 1)]
        colors = self._coloring.colors
        self._gather = (colors[k] * ncolors + colors[j]) * m + pair_rows
        pattern = csr_pattern(sparse.coo_array((np.ones(j.size, bool), (j, k)), shape=(n, n)))
        # the position of each pair in the CSR data of H
        lookup = sparse.csr_array(
            (np.arange(pattern.nnz) + 1, pattern.indices, pattern.indptr), shape=(n, n)
        )
        self._position = np.asarray(lookup[j, k]).ravel() - 1 if j.size else j
        self._terms_m = m
        indices, indptr = pattern.indices.copy(), pattern.indptr.copy()
        indices.flags.writeable = indptr.flags.writeable = False
        self._template = (indices, indptr, (n, n), pattern.nnz)
        return pattern

    # --- what was prepared ---------------------------------------------------------------------

    def __repr__(self) -> str:
        n = self._pattern.shape[0]
        return (
            f"SparseHessian(shape=({n}, {n}), nnz={self._pattern.nnz}, ncolors={self.ncolors}, "
            f"scheme={self.scheme!r})"
        )

    # --- evaluation ----------------------------------------------------------------------------

    def _seed_array(self, dtype: Any) -> np.ndarray:
        found = self._seeds.get(dtype)
        if found is None:
            c = self._coloring
            found = self._seeds[dtype] = seeds(c.colors, c.ncolors, self.shape_in, dtype)
        return found

    def value_and_hessian(self, x: Any, *, executor: Any = None) -> tuple[Any, Any]:
        """Return ``f``'s objective at ``x`` and its sparse Hessian (a ``csr_array``).

        For ``scheme="terms"`` the objective is ``sum(f(x))``.  With
        ``executor=`` (any executor :func:`dualdiff.jacobian` takes) the outer
        colours are split evenly over the workers, one block per task; the
        blocks are put together and decompressed here, in colour order, so the
        result is the serial one bit for bit.
        """
        x = _point(x)
        if x.shape != self.shape_in:
            raise ValueError(
                f"this Hessian was prepared for x of shape {self.shape_in}, got {x.shape}; "
                "prepare another with sparse_hessian(f, x)"
            )
        dtype = np.result_type(x.dtype, np.float64)
        u = self._seed_array(dtype)
        evaluate = self._columns if self.scheme == "columns" else self._terms
        value, result = evaluate(x, u, executor)
        if self._probe:
            self._probe_pattern(x, result)
        return value, result

    def _probe_pattern(self, x: np.ndarray, result: Any) -> None:
        """Compare ``v^T H v`` with the second derivative along a random ``v`` (once).

        An interaction missing from an explicit pattern would be silently added
        to another entry; one pass with a single direction on both levels
        exposes it.
        """
        v = np.random.default_rng(0).uniform(0.5, 1.5, x.shape)
        terms = self.scheme == "terms"

        def objective(y: Any) -> Any:
            return np.sum(self._f(y)) if terms else self._f(y)

        _, second = _jvp(lambda y: _jvp(objective, (y,), (v,))[1], (x,), (v,))
        flat = v.reshape(-1)
        predicted = flat @ (result @ flat)
        tolerance = 1e-10 * (flat @ (abs(result) @ flat) + abs(second)) + 1e-300
        if not abs(predicted - second) <= tolerance:
            raise ValueError(
                "f's Hessian has entries outside the given sparsity pattern (v^T H v differs "
                f"from the second derivative along v by {abs(predicted - second):.3g}); give a "
                "pattern holding every entry that may be nonzero, or sparsity='auto'"
            )
        self._probe = False

    def __call__(self, x: Any, *, executor: Any = None) -> Any:
        """The sparse Hessian at ``x`` (a ``scipy.sparse.csr_array``); ``executor=`` as above."""
        return self.value_and_hessian(x, executor=executor)[1]

    def _outer(self, x: np.ndarray, u: np.ndarray, executor: Any) -> tuple[Any, Any]:
        """The value and the outer pass over all colours: here, or colour blocks on ``executor``."""
        if executor is None:
            return _outer_pass(self._f, self.scheme, self._chunk_size, x, u, u)
        from dualdiff import parallel  # noqa: PLC0415 - only calls given an executor need it

        c = self._coloring
        k = math.ceil(c.ncolors / parallel.worker_count(executor))
        spans = [(start, min(c.ncolors, start + k)) for start in range(0, c.ncolors, k)]
        block = HessianColourBlock(self._f, self.scheme, self._chunk_size, c.colors, c.ncolors,
                                   self.shape_in, u.dtype)
        results = parallel.map_tasks(executor, block, x, spans)
        parts = [tangent for _, tangent in results]
        return results[-1][0], parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _columns(self, x: np.ndarray, u: np.ndarray, executor: Any = None) -> tuple[Any, Any]:
        if u.shape[0] == 0:
            value = self._f(x)
            return _plain_scalar(_plain(value)), self._decompress(np.zeros(0, dtype=u.dtype))
        value, compressed = self._outer(x, u, executor)
        return value, self._decompress(compressed)

    def _terms(self, x: np.ndarray, u: np.ndarray, executor: Any = None) -> tuple[Any, Any]:
        sparse = _scipy_sparse()
        indices, indptr, shape, nnz = self._template
        if u.shape[0] == 0:
            value = np.sum(self._f(x))
            data = np.zeros(nnz, dtype=np.result_type(value, u.dtype))
        else:
            terms, second = self._outer(x, u, executor)  # (outer colour d, inner colour c, term i)
            if np.size(terms) != self._terms_m:
                raise ValueError(
                    f"f(x) has {np.size(terms)} terms but the terms' pattern has "
                    f"{self._terms_m} rows"
                )
            value = np.sum(terms)
            flat = np.reshape(second, -1)[self._gather]
            if np.iscomplexobj(flat):
                data = np.bincount(self._position, flat.real, nnz) + 1j * np.bincount(
                    self._position, flat.imag, nnz
                )
            else:
                data = np.bincount(self._position, flat, nnz)
        result = sparse.csr_array(shape, dtype=data.dtype)
        result.data, result.indices, result.indptr = data, indices, indptr  # shared, read-only
        result.has_sorted_indices = True
        result.has_canonical_format = True
        return _plain_scalar(value), result


def sparse_hessian(
    f: Callable[[Any], Any],
    x0: Any,
    *,
    sparsity: Any = "auto",
    scheme: str = "columns",
    order: str = "natural",
    chunk_size: int | None = None,
) -> SparseHessian:
    """Prepare the sparse Hessian of a scalar objective for repeated evaluation.

    Parameters
    ----------
    f : callable
        ``scheme="columns"``: the scalar objective.  ``scheme="terms"``: the
        vector of terms whose sum is the objective (``f(x)`` is what you would
        pass to ``np.sum``).
    x0 : array_like
        The point the pattern is detected at.
    sparsity : str or array
        ``"columns"``: the Hessian's pattern ``(n, n)`` (symmetrised), or
        ``"auto"`` (:func:`dualdiff.hessian_sparsity`).
        ``"terms"``: the terms' *Jacobian* pattern ``(m, n)``, or ``"auto"``.
    scheme : str
        ``"columns"`` (any ``f``; ``n * C`` direction pairs) or ``"terms"``
        (``C * C``; see :mod:`dualdiff.sparse.hessian`).
    order : str
        Colouring order (see :mod:`dualdiff.sparse.coloring`).
    chunk_size : int, optional
        ``"columns"``: inner (gradient) directions per pass.

    Returns
    -------
    SparseHessian

    Examples
    --------
    >>> import numpy as np
    >>> import dualdiff as dd
    >>> def terms(x):                               # Rosenbrock, term by term
    ...     return 100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2
    >>> bidiagonal = np.eye(3, 4) + np.eye(3, 4, k=1)
    >>> H = dd.sparse_hessian(terms, np.ones(4), sparsity=bidiagonal, scheme="terms")
    >>> H
    SparseHessian(shape=(4, 4), nnz=10, ncolors=2, scheme='terms')
    >>> H(np.ones(4)).toarray()
    array([[ 802., -400.,    0.,    0.],
           [-400., 1002., -400.,    0.],
           [   0., -400., 1002., -400.],
           [   0.,    0., -400.,  200.]])
    >>> objective = lambda x: np.sum(terms(x))
    >>> tridiagonal = np.eye(4) + np.eye(4, k=1) + np.eye(4, k=-1)
    >>> dd.sparse_hessian(objective, np.ones(4), sparsity=tridiagonal)(np.ones(4)).toarray()
    array([[ 802., -400.,    0.,    0.],
           [-400., 1002., -400.,    0.],
           [   0., -400., 1002., -400.],
           [   0.,    0., -400.,  200.]])
    """
    return SparseHessian(
        f, x0, sparsity=sparsity, scheme=scheme, order=order, chunk_size=chunk_size
    )
