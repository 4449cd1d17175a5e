"""The prepared sparse Jacobian: pattern, colouring and decompression once, then fast ``J(x)``.

``J = sparse_jacobian(f, x0)`` does the one-off work (detect or take the
pattern, colour its columns, compute the decompression's index arrays and the
seeds); each ``J(x)`` is then one batched forward pass with one tangent per
colour (:func:`dualdiff.jvp`) and one gather into a ``scipy.sparse.csr_array``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.api import _check_callable, _stacking
from dualdiff.api import jvp as _jvp
from dualdiff.columns import SEED_BUDGET
from dualdiff.dual import Dual
from dualdiff.sparse.coloring import Coloring, color_columns, csr_pattern
from dualdiff.sparse.decompression import Decompression, seeds

PASS_BUDGET = 4 * SEED_BUDGET
"""Most seeded tangent elements per forward pass (colours times ``x.size``; 128 MiB)."""


def colour_seeds(colors: np.ndarray, start: int, stop: int, shape: tuple[int, ...],
                 dtype: Any) -> np.ndarray:
    """The seeds of colours ``start`` to ``stop``: rows ``start:stop`` of :func:`seeds`, alone.

    Examples
    --------
    >>> colour_seeds(np.array([0, 1, 0, 2]), 1, 3, (4,), float)
    array([[0., 1., 0., 0.],
           [0., 0., 0., 1.]])
    """
    out = np.zeros((stop - start, colors.size), dtype=dtype)
    mine = np.flatnonzero((colors >= start) & (colors < stop))
    out[colors[mine] - start, mine] = 1
    return out.reshape((stop - start, *shape))


class ColourBlock:
    """One task of a parallel sparse Jacobian: the compressed columns of colours ``start:stop``.

    Pickled once per call with ``f`` (:func:`dualdiff.parallel.map_tasks`); each
    worker builds its colours' seeds and runs the forward pass the serial
    :meth:`SparseJacobian.value_and_jacobian` runs for them (:func:`dualdiff.jvp`).
    """

    def __init__(self, f: Callable[[Any], Any], colors: np.ndarray, ncolors: int,
                 shape: tuple[int, ...], dtype: Any) -> None:
        self.f, self.colors, self.ncolors, self.shape, self.dtype = f, colors, ncolors, shape, dtype

    def __call__(self, x: Any, start: int, stop: int, tag: int) -> tuple[Any, Any]:  # noqa: D102
        block = colour_seeds(self.colors, start, stop, self.shape, self.dtype)
        value, tangent = _jvp(self.f, (x,), (block,))  # its tag is drawn above ``tag``
        return value, np.reshape(tangent, (stop - start, -1))

    def describe(self, start: int, stop: int, total: int) -> str:  # noqa: D102
        span = f"colour {start}" if stop - start == 1 else f"colours {start} to {stop - 1}"
        return f"sparse Jacobian {span}, of {total} colours"


def _point(x: Any) -> np.ndarray:
    if isinstance(x, Dual):
        raise TypeError(
            "sparse_jacobian takes a plain point; nest derivatives with dd.jacobian instead"
        )
    x = np.asarray(x)
    if x.dtype.kind in "biu":
        x = x.astype(float)
    if x.dtype.kind not in "fc":
        raise TypeError(f"the point must be a real or complex array, got dtype {x.dtype}")
    return x


def _pattern_at(f: Callable[[Any], Any], x: np.ndarray, points: Any = None) -> Any:
    from dualdiff.sparse import jacobian_sparsity  # noqa: PLC0415 - detection is optional

    return jacobian_sparsity(f, x, points=points)


class PreparedPattern:
    """What a prepared sparse derivative holds: its pattern and the colouring of its columns.

    Shared by :class:`SparseJacobian` and :class:`~dualdiff.sparse.hessian.SparseHessian`,
    which set ``_pattern`` (a bool ``csr_array``) and ``_coloring`` when they are built.
    """

    _pattern: Any
    _coloring: Coloring

    @property
    def pattern(self) -> Any:
        """The pattern (a copy; a bool ``csr_array``)."""
        return self._pattern.copy()

    @property
    def colors(self) -> np.ndarray:
        """Each column's colour (a copy)."""
        return self._coloring.colors.copy()

    @property
    def ncolors(self) -> int:
        """How many forward directions (colours) one evaluation pushes."""
        return self._coloring.ncolors

    @property
    def lower_bound(self) -> int:
        """The most nonzeros in one row of the coloured pattern: no colouring needs fewer."""
        return self._coloring.lower_bound


class SparseJacobian(PreparedPattern):
    """A Jacobian prepared for repeated evaluation: ``J(x)`` returns a ``csr_array``.

    Build it with :func:`sparse_jacobian`.  The pattern is fixed at preparation;
    ``check=True`` re-detects it at every new point and raises if an entry
    appears outside it (patterns are local: they follow the branches ``f``
    takes at the point).

    What was prepared: :attr:`~SparseJacobian.pattern` (bool ``csr_array`` of shape
    ``(m, n)``), :attr:`~SparseJacobian.colors` (one colour per column),
    :attr:`~SparseJacobian.ncolors` (forward directions per evaluation),
    :attr:`~SparseJacobian.lower_bound` (the most nonzeros in a row: no column
    partition has fewer colours) and :attr:`~SparseJacobian.order` (the colouring
    order used; for ``order="best"``, the winner).
    """

    def __init__(
        self,
        f: Callable[[Any], Any],
        x0: Any,
        *,
        sparsity: Any = "auto",
        order: str = "natural",
        check: bool = False,
        chunk_size: int | None = None,
        points: Any = None,
    ) -> None:
        _check_callable(f, "sparse_jacobian")
        x0 = _point(x0)
        self._f = _stacking(f)
        self._raw_f = f  # detection takes f's own output (lists of tracers included)
        self.shape_in: tuple[int, ...] = x0.shape
        n = x0.size
        if isinstance(sparsity, str):
            if sparsity != "auto":
                raise ValueError(
                    f"sparsity must be 'auto' or a pattern (a scipy.sparse or boolean array "
                    f"of shape (f(x).size, x.size)), got {sparsity!r}"
                )
            pattern = csr_pattern(_pattern_at(self._raw_f, x0, points))
        else:
            if points is not None:
                raise ValueError(
                    "points= unions detected patterns; with an explicit pattern, drop it"
                )
            pattern = csr_pattern(sparsity)
        self._probe = not isinstance(sparsity, str)  # an explicit pattern is probed once
        if pattern.shape[1] != n:
            raise ValueError(
                f"the sparsity pattern has {pattern.shape[1]} columns but x has {n} elements; "
                "a Jacobian pattern has shape (f(x).size, x.size)"
            )
        coloring = color_columns(pattern, order)
        self._pattern = pattern
        self._coloring: Coloring = coloring
        self._decompress = Decompression(pattern, coloring.colors, coloring.ncolors)
        self.check = bool(check)
        per_pass = chunk_size if chunk_size is not None else PASS_BUDGET // max(n, 1)
        if not isinstance(per_pass, int | np.integer) or per_pass < 1:
            if chunk_size is not None:
                raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
            per_pass = 1
        self._per_pass = int(per_pass)
        self._chunk_size = chunk_size
        self._seeds: dict[Any, list[np.ndarray]] = {}

    # --- what was prepared ---------------------------------------------------------------------

    @property
    def order(self) -> str:
        """The colouring order used."""
        return self._coloring.order

    @property
    def shape(self) -> tuple[int, int]:
        """The Jacobian's shape ``(f(x).size, x.size)``."""
        return self._pattern.shape

    def __repr__(self) -> str:
        m, n = self.shape
        return (
            f"SparseJacobian(shape=({m}, {n}), nnz={self._pattern.nnz}, "
            f"ncolors={self.ncolors}, lower_bound={self.lower_bound}, order={self.order!r})"
        )

    # --- evaluation ----------------------------------------------------------------------------

    def _seed_blocks(self, dtype: Any) -> list[np.ndarray]:
        blocks = self._seeds.get(dtype)
        if blocks is None:
            c, k = self._coloring, self._per_pass
            full = seeds(c.colors, c.ncolors, self.shape_in, dtype)
            blocks = [full[start : start + k] for start in range(0, c.ncolors, k)]
            self._seeds[dtype] = blocks
        return blocks

    def _colour_spans(self, executor: Any) -> list[tuple[int, int]]:
        """The colour blocks of a parallel evaluation: ``chunk_size``, or split over the workers."""
        from dualdiff import parallel  # noqa: PLC0415 - only calls given an executor need it

        ncolors = self._coloring.ncolors
        k = self._per_pass
        if self._chunk_size is None:
            k = min(k, math.ceil(ncolors / parallel.worker_count(executor)))
        return [(start, min(ncolors, start + k)) for start in range(0, ncolors, k)]

    def _compressed(self, x: np.ndarray, dtype: Any, executor: Any) -> tuple[Any, Any]:
        """``f(x)`` and the compressed Jacobian ``(ncolors, m)``, the colour blocks in order."""
        if executor is None:
            parts = []
            for block in self._seed_blocks(dtype):
                value, tangent = _jvp(self._f, (x,), (block,))
                parts.append(np.reshape(tangent, (block.shape[0], -1)))
        else:
            from dualdiff import parallel  # noqa: PLC0415

            c = self._coloring
            block = ColourBlock(self._f, c.colors, c.ncolors, self.shape_in, dtype)
            results = parallel.map_tasks(executor, block, x, self._colour_spans(executor))
            value, parts = results[-1][0], [tangent for _, tangent in results]
        return value, parts[0] if len(parts) == 1 else np.concatenate(parts)

    def value_and_jacobian(self, x: Any, *, executor: Any = None) -> tuple[Any, Any]:
        """Return ``f(x)`` and the sparse Jacobian at ``x`` (a ``csr_array``).

        With ``executor=`` (any executor :func:`dualdiff.jacobian` takes) each
        block of colours is one task: ``chunk_size`` colours, or by default the
        colours split evenly over the workers.  The decompression runs here, in
        colour order, so the result is the serial one bit for bit.  Pattern
        checks and the one-off probe of an explicit pattern run here too.

        Examples
        --------
        >>> import numpy as np
        >>> import dualdiff as dd
        >>> J = dd.sparse_jacobian(lambda x: x**2, np.ones(3), sparsity=np.eye(3))
        >>> value, jac = J.value_and_jacobian(np.array([1.0, 2.0, 3.0]))
        >>> jac.toarray()
        array([[2., 0., 0.],
               [0., 4., 0.],
               [0., 0., 6.]])
        """
        x = _point(x)
        if x.shape != self.shape_in:
            raise ValueError(
                f"this Jacobian was prepared for x of shape {self.shape_in}, got {x.shape}; "
                "prepare another with sparse_jacobian(f, x)"
            )
        if self.check:
            self.check_pattern(x)
        dtype = np.result_type(x.dtype, np.float64)
        blocks = self._seed_blocks(dtype)
        m = self.shape[0]
        if not blocks:  # no nonzero at all: one plain evaluation for the value
            value = self._f(x)
            self._check_size(value)
            result = self._decompress(np.zeros(0, dtype=np.result_type(value, dtype)))
        else:
            value, compressed = self._compressed(x, dtype, executor)
            self._check_size(value)
            assert compressed.shape[1] == m
            result = self._decompress(compressed)
        if self._probe:
            self._probe_pattern(x, result)
        return value, result

    def _probe_pattern(self, x: np.ndarray, result: Any) -> None:
        """Compare ``J @ v`` with the directional derivative along a random ``v`` (once).

        An entry missing from an explicit pattern would be silently added to an
        entry of the same row and colour; one extra direction exposes it.
        """
        v = np.random.default_rng(0).uniform(0.5, 1.5, x.shape)
        _, along = _jvp(self._f, (x,), (v,))
        along = np.reshape(along, -1)
        predicted = result @ v.reshape(-1)
        tolerance = 1e-10 * (abs(result) @ abs(v.reshape(-1)) + np.abs(along)) + 1e-300
        bad = np.flatnonzero(~(np.abs(predicted - along) <= tolerance))
        if bad.size:
            raise ValueError(
                f"f's Jacobian has entries outside the given sparsity pattern (row {bad[0]} of "
                f"J @ v differs from the directional derivative by "
                f"{abs(predicted[bad[0]] - along[bad[0]]):.3g}); give a pattern holding every "
                "entry that may be nonzero, or sparsity='auto'"
            )
        self._probe = False

    def __call__(self, x: Any, *, executor: Any = None) -> Any:
        """The sparse Jacobian at ``x`` (a ``scipy.sparse.csr_array``); ``executor=`` as above."""
        return self.value_and_jacobian(x, executor=executor)[1]

    def _check_size(self, value: Any) -> None:
        size = int(np.size(value.value if isinstance(value, Dual) else value))
        if size != self.shape[0]:
            raise ValueError(
                f"f(x) has {size} elements but the sparsity pattern has {self.shape[0]} rows; "
                "a Jacobian pattern has shape (f(x).size, x.size)"
            )

    def check_pattern(self, x: Any) -> None:
        """Raise ``ValueError`` if the pattern at ``x`` leaves :attr:`~SparseJacobian.pattern`.

        Examples
        --------
        >>> import numpy as np
        >>> import dualdiff as dd
        >>> J = dd.sparse_jacobian(lambda x: x * x[0], np.ones(2), sparsity=np.eye(2))
        >>> J.check_pattern(np.ones(2))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: at this point the Jacobian has 1 structural nonzero outside the ... (1, 0)...
        """
        found = csr_pattern(_pattern_at(self._raw_f, _point(x)))
        extra = (found.astype(np.int8) - found.multiply(self._pattern).astype(np.int8)).tocoo()
        extra.eliminate_zeros()
        if extra.nnz:
            plural = "" if extra.nnz == 1 else "s"
            raise ValueError(
                f"at this point the Jacobian has {extra.nnz} structural nonzero{plural} outside "
                f"the prepared pattern, e.g. ({int(extra.row[0])}, {int(extra.col[0])}); prepare "
                "again at this point (sparse_jacobian(f, x)) or union patterns over several "
                "points (points=...)"
            )


def sparse_jacobian(
    f: Callable[[Any], Any],
    x0: Any,
    *,
    sparsity: Any = "auto",
    order: str = "natural",
    check: bool = False,
    chunk_size: int | None = None,
    points: Any = None,
) -> SparseJacobian:
    """Prepare the sparse Jacobian of ``f`` for repeated evaluation: ``J(x)`` is a ``csr_array``.

    Parameters
    ----------
    f : callable
        One array in, one array out (or a list/tuple, stacked as
        :func:`dualdiff.jacobian` stacks it).
    x0 : array_like
        The point the pattern is detected at; ``J(x)`` takes points of its shape.
    sparsity : str or array
        ``"auto"`` detects the pattern at ``x0``
        (:func:`dualdiff.jacobian_sparsity`); otherwise a
        scipy.sparse or dense boolean array of shape ``(f(x).size, x.size)``
        holding every entry that may be nonzero (an entry outside it is never computed).
    order : str
        Colouring order: ``"natural"``, ``"largest_first"``, ``"smallest_last"``,
        ``"incidence_degree"`` or ``"best"`` (see :mod:`dualdiff.sparse.coloring`).
    check : bool
        Re-detect the pattern at every evaluation and raise ``ValueError`` if it
        grew (the pattern is local: it follows the branches taken at ``x0``).
    chunk_size : int, optional
        Colours per forward pass; the default pushes all of them at once unless the
        seeds would exceed :data:`PASS_BUDGET` elements.
    points : sequence of array_like, optional
        With ``sparsity="auto"``: more points whose patterns are united with ``x0``'s.

    Returns
    -------
    SparseJacobian

    Examples
    --------
    >>> import numpy as np
    >>> import dualdiff as dd
    >>> def f(x):                                  # tridiagonal: -2x + sin(x) + neighbours
    ...     y = -2 * x + np.sin(x)
    ...     y[1:] += x[:-1]
    ...     y[:-1] += x[1:]
    ...     return y
    >>> tridiagonal = np.eye(5) + np.eye(5, k=1) + np.eye(5, k=-1)
    >>> J = dd.sparse_jacobian(f, np.zeros(5), sparsity=tridiagonal)
    >>> J
    SparseJacobian(shape=(5, 5), nnz=13, ncolors=3, lower_bound=3, order='cyclic')
    >>> J(np.zeros(5)).toarray()
    array([[-1.,  1.,  0.,  0.,  0.],
           [ 1., -1.,  1.,  0.,  0.],
           [ 0.,  1., -1.,  1.,  0.],
           [ 0.,  0.,  1., -1.,  1.],
           [ 0.,  0.,  0.,  1., -1.]])
    """
    return SparseJacobian(
        f, x0, sparsity=sparsity, order=order, check=check, chunk_size=chunk_size, points=points
    )
