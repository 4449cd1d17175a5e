"""How :func:`dualdiff.hessian` computes a dense Hessian: the ``strategy`` it chooses.

The dense route (``strategy="dense"``) is the Jacobian of the gradient,
forward over forward: ``n`` outer directions, each carrying the gradient's
``n`` inner ones, so every second-order temporary of an ``O(n)`` function
holds ``n * n * chunk`` elements and the whole Hessian costs ``O(n^3)``.
Rosenbrock at ``n = 100`` pushes ~10^6 elements through every step.

``strategy="auto"`` (the default) first asks the sparsity tracer for the
Hessian's pattern *at x* (:func:`dualdiff.sparse.detect.detect`, one run of
``f``; branches as taken at ``x``, which is exactly what a Hessian at ``x``
needs) and colours its columns.  When ``C`` colours are clearly fewer than
``n`` (at most :data:`AUTO_MAX_COLOR_FRACTION` of them), the ``C``
compressed columns ``H @ u_c`` (one forward-over-forward pass with ``C``
outer directions) hold every entry, and the dense ``ndarray`` is filled from
them: ``O(n^2 C)`` instead of ``O(n^3)``.  The result is the same Hessian (the
pattern never misses a nonzero, and each entry is read from the one
compressed column that holds it alone).

The auto route steps aside, silently and correctly, for the dense one
whenever it cannot help or cannot be sure:

* ``x`` smaller than :data:`AUTO_MIN_SIZE` elements (detection costs more
  than the dense passes there), not a real float64 array (complex, float32,
  a Dual of an enclosing derivative, a Dask array), or a derivative call is
  running (a nested Hessian: ``f`` may close over its Duals);
* ``chunk_size=`` or ``executor=`` given (they describe the dense passes);
* SciPy missing, the tracer failing on ``f`` (any exception: the dense route
  then runs ``f`` itself, and raises its own error if ``f`` is wrong), ``f``
  not scalar, or a pattern with too many colours (a dense Hessian).

Examples
--------
>>> import numpy as np
>>> import dualdiff as dd
>>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
>>> x = np.linspace(-1.0, 1.0, 200)
>>> plan(rosen, x)
('compressed', 3)
>>> bool(np.allclose(dd.hessian(rosen, x), dd.hessian(rosen, x, strategy="dense")))
True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff.dual import Dual, as_value
from dualdiff.tags import running_now

STRATEGIES = ("auto", "dense")
"""The values of ``hessian(..., strategy=)``."""

AUTO_MIN_SIZE = 64
"""Smallest ``x.size`` for which ``"auto"`` detects the pattern (measured: below it the
dense passes cost less than one detection; ``benchmarks/run.py --only hessian``)."""

AUTO_MAX_COLOR_FRACTION = 0.5
"""``"auto"`` compresses only when the colours number at most this fraction of ``n`` (measured:
at half of ``n`` colours the compressed route is still ~4x faster than the dense one)."""


def check_strategy(strategy: str) -> None:
    """Raise ``ValueError`` unless ``strategy`` is one of :data:`STRATEGIES`."""
    if strategy not in STRATEGIES:
        raise ValueError(
            f"strategy must be one of {STRATEGIES} ('auto' detects the Hessian's sparsity at x "
            f"and compresses when that pays; 'dense' always pushes all n directions), "
            f"got {strategy!r}"
        )


def _eligible(x: Any) -> np.ndarray | None:
    """``x`` as a float64 array when the auto route may try it, else ``None``."""
    if running_now() or isinstance(x, Dual):
        return None
    if not isinstance(x, np.ndarray | list | tuple):
        return None
    try:
        point = as_value(x)
    except (TypeError, ValueError):
        return None
    if type(point) is not np.ndarray or point.dtype != np.float64:
        return None
    return point if point.size >= AUTO_MIN_SIZE else None


def _colored(f: Callable[[Any], Any], point: np.ndarray) -> tuple[Any, Any] | None:
    """The Hessian's pattern at ``point`` and its column colouring, or ``None`` (go dense)."""
    try:
        from dualdiff.sparse.coloring import color_columns  # noqa: PLC0415 - needs SciPy
        from dualdiff.sparse.detect import detect  # noqa: PLC0415

        found = detect(f, point, hessian=True)
    except Exception:  # anything the tracer cannot run: the dense route decides
        return None
    if np.size(found.value) != 1 or np.iscomplexobj(found.value):
        return None  # not a real scalar: the dense route raises (or handles) it
    pattern = found.hessian
    coloring = color_columns(pattern)
    if coloring.ncolors > AUTO_MAX_COLOR_FRACTION * point.size:
        return None
    return pattern, coloring


def plan(f: Callable[[Any], Any], x: Any) -> tuple[str, int]:
    """The route ``hessian(f, x)`` takes: ``("compressed", colours)`` or ``("dense", n)``.

    Runs the detection (one tracer run of ``f``); for inspecting and for tests.
    """
    point = _eligible(x)
    colored = None if point is None else _colored(f, point)
    if colored is None:
        return "dense", int(np.size(as_value(x)))
    return "compressed", colored[1].ncolors


def compressed(f: Callable[[Any], Any], x: Any) -> tuple[Any, np.ndarray] | None:
    """``(f(x), H)`` by detection, colouring and compression, or ``None`` for the dense route."""
    point = _eligible(x)
    if point is None:
        return None
    colored = _colored(f, point)
    if colored is None:
        return None
    pattern, coloring = colored
    from dualdiff.api import _plain_scalar, jvp, value_and_gradient  # noqa: PLC0415 - cycle
    from dualdiff.columns import default_hessian_chunk_size  # noqa: PLC0415
    from dualdiff.sparse.decompression import seeds  # noqa: PLC0415

    n = point.size
    # At least one direction, so that an empty pattern (a linear f) still yields f(x).
    ncolors = max(coloring.ncolors, 1)
    colors = coloring.colors if coloring.ncolors else np.zeros(n, dtype=np.intp)
    u = seeds(colors, ncolors, point.shape, np.float64)
    seen = []

    def gradient(y: Any) -> Any:
        value, g = value_and_gradient(f, y)
        seen.append(value)
        return g

    # Outer directions in the dense route's chunks, so memory stays O(n^2 chunk) for many colours.
    step = default_hessian_chunk_size(n)
    blocks = []
    for start in range(0, ncolors, step):
        _, block = jvp(gradient, (point,), (u[start:start + step],))
        if type(block) is not np.ndarray or block.dtype != np.float64:
            return None  # f produced something the tracer did not foresee: recompute densely
        blocks.append(block.reshape(-1, n))
    columns = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)  # [c] = H @ u_c
    rows = np.repeat(np.arange(n), np.diff(pattern.indptr))
    cols = pattern.indices
    hess = np.zeros((n, n))
    hess[rows, cols] = columns[colors[cols], rows]  # H[i, j] is alone in colour(j)'s column
    value = seen[0]
    value = _plain_scalar(value.value if type(value) is Dual else value)
    return value, hess.reshape(point.shape * 2)
