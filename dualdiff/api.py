"""The derivative API: every verb is a way of seeding tangents.

Names and conventions follow JAX and ForwardDiff.jl.  Each call draws a
fresh tag (:mod:`dualdiff.tags`), so calls nest without perturbation
confusion, and higher derivatives come from nesting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dualdiff.columns import default_hessian_chunk_size, jacobian_columns
from dualdiff.dispatch import batch_shape, make, zero_tangent
from dualdiff.dual import Dual, as_value
from dualdiff.hessians import check_strategy
from dualdiff.hessians import compressed as compressed_hessian
from dualdiff.memory import lazy_guard, tags_in
from dualdiff.tags import begin, end, is_running, new_tag, running

Function = Callable[..., Any]
_new = object.__new__


def _check_callable(f: Any, verb: str) -> None:
    if not callable(f):  # e.g. derivative(x, f)
        raise TypeError(
            f"{verb}(f, x) expects a function first, got {type(f).__name__}; "
            f"perhaps the arguments are swapped?"
        )


def _shape_text(x: Any) -> str:
    return str(np.shape(x.value if isinstance(x, Dual) else x))


def extract(out: Any, tag: int, batch: tuple[int, ...]) -> tuple[Any, Any]:
    """Split ``f``'s output into values and tangents for ``tag``.

    Parameters
    ----------
    out : Dual, number, array, or a tuple/list of them
        What the function returned.
    tag : int
        The tag whose tangents to take; dual numbers of older tags are
        constants (their own tangents stay inside the returned value).
    batch : tuple
        ``(k,)`` when ``k`` directions were seeded at once, else ``()``.

    Returns
    -------
    value, tangent
        Same structure as ``out``.
    """
    if (type(out) is Dual and out.tag == tag and type(out.value) is np.ndarray
            and type(out.tangent) is np.ndarray):  # the common case: no other tag inside
        tangent = out.tangent
        return out.value, tangent if tangent.flags.writeable else tangent.copy()
    stale = [t for t in tags_in(out) if t != tag and not is_running(t)]
    if stale:
        raise TypeError(
            "the function's result carries the perturbation of a derivative call that has "
            "finished (a Dual kept from an earlier call and used in this one); it cannot be "
            "part of a right derivative.  Recompute it inside this call, or pass its .value"
        )
    if isinstance(out, tuple | list):
        pairs = [extract(item, tag, batch) for item in out]
        return _rebuild(out, [p[0] for p in pairs]), _rebuild(out, [p[1] for p in pairs])
    if type(out) is Dual:
        if out.tag == tag:
            tangent = out.tangent
            if isinstance(tangent, np.ndarray) and not tangent.flags.writeable:
                tangent = tangent.copy()
            return _plain_scalar(out.value), _plain_scalar(tangent)
        if out.tag > tag:
            raise ValueError(
                "the function returned a dual number of an inner derivative call that has "
                "already finished (a perturbation escaped its call)"
            )
        return out, zero_tangent(out.value, batch)
    value = as_value(out) if _is_numeric(out) else None
    if value is None:
        raise TypeError(
            "the function must return numbers, arrays, or tuples/lists of them; "
            f"it returned {type(out).__name__}"
        )
    return value, zero_tangent(value, batch)


def _rebuild(like: Any, items: list[Any]) -> Any:
    """A tuple or list of ``like``'s type holding ``items`` (named tuples included)."""
    return type(like)(*items) if hasattr(like, "_fields") else type(like)(items)


def _plain_scalar(x: Any) -> Any:
    """NumPy's float64/complex128 scalars as Python numbers (other types unchanged)."""
    return x.item() if type(x) in (np.float64, np.complex128) else x


def _is_numeric(x: Any) -> bool:
    return isinstance(x, int | float | complex | np.ndarray | np.generic)


def _value_of(x: Any) -> Any:
    """The plain value under any Dual levels."""
    while type(x) is Dual:
        x = x.value
    return x


def _seed(primal: Any, tangent: Any, tag: int) -> Dual:
    return Dual(primal, tangent, tag=tag)


# --- jvp ---------------------------------------------------------------------------------------


def jvp(f: Function, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Evaluate ``f`` and its Jacobian-vector product in one forward pass.

    Parameters
    ----------
    f : callable
        ``f(*primals)`` returns a number, an array, or a tuple/list of them.
    primals : tuple
        The positional arguments (numbers or arrays).
    tangents : tuple
        One direction per argument, of that argument's shape, or with one more
        leading axis of length ``k`` to push ``k`` directions through at once.

    Returns
    -------
    out, out_tangent
        ``f(*primals)`` and its directional derivative, of the same structure
        (with the leading batch axis on each tangent when batched).

    Examples
    --------
    >>> import numpy as np
    >>> out, slope = jvp(lambda x, y: x * np.sin(y), (2.0, 0.0), (1.0, 1.0))
    >>> float(out), float(slope)
    (0.0, 2.0)
    """
    _check_callable(f, "jvp")
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError(
            "jvp(f, primals, tangents) takes tuples of positional arguments, "
            "e.g. jvp(f, (x,), (v,))"
        )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp got {len(primals)} primals but {len(tangents)} tangents; give one per argument"
        )
    tag = new_tag()
    seeded = [_seed(p, t, tag) for p, t in zip(primals, tangents, strict=True)]
    batches = {batch_shape(d) for d in seeded}
    if len(batches) > 1:
        raise ValueError(f"all tangents must carry the same batch of directions, got {batches}")
    with running(tag, *tags_in(primals)), lazy_guard():
        out = f(*seeded)
    return extract(out, tag, batches.pop() if batches else ())


# --- scalar input ------------------------------------------------------------------------------


def value_and_derivative(f: Function, x: Any) -> tuple[Any, Any]:
    """Return ``f(x)`` and ``f'(x)`` for a scalar ``x`` in one pass.

    Parameters
    ----------
    f : callable
        A function of one scalar; it may return a number or an array.
    x : float or complex
        The point.  Integers are promoted to float.

    Returns
    -------
    value, derivative : tuple
        ``f(x)`` and its derivative, of ``f(x)``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> value_and_derivative(lambda x: x**3, 2)
    (8.0, 12.0)
    """
    if type(x) is float and callable(f):  # the common case: no Duals in, no checks to make
        tag = begin()
        seed = _new(Dual)
        seed.value, seed.tangent, seed.tag = x, 1.0, tag
        try:
            out = f(seed)
        finally:
            end(tag)
    else:
        _check_callable(f, "derivative")
        if type(x) is not float:
            x = as_value(x)
            if np.ndim(x.value if type(x) is Dual else x) != 0:
                raise TypeError(
                    f"derivative(f, x) needs a scalar x, got shape {_shape_text(x)}; use "
                    "gradient(f, x) for a scalar-valued f or jacobian(f, x) otherwise"
                )
        tag = new_tag()
        with running(tag, *tags_in(x)):
            out = f(make(x, 1.0, tag))
    if type(out) is Dual and out.tag == tag and type(out.value) is float:
        tangent = out.tangent  # the common case, unpacked directly
        return out.value, tangent if type(tangent) is float else _plain_scalar(tangent)
    return extract(out, tag, ())


def derivative(f: Function, x: Any, *, order: int = 1) -> Any:
    """Return the derivative of ``f`` at the scalar ``x``.

    Nest calls for higher derivatives; each call has its own tag, so they
    never confuse one another's perturbations.  ``order=K`` gives the K-th
    derivative from one Taylor pass instead (:func:`dualdiff.taylor.taylor`),
    whose cost grows quadratically in K where nesting grows exponentially.

    Parameters
    ----------
    f : callable
        A function of one scalar, returning a number or an array.
    x : float or complex
        The point.
    order : int, optional
        Which derivative (default 1).

    Returns
    -------
    float, complex or ndarray
        ``f'(x)`` (or ``f^(K)(x)``), of ``f(x)``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> derivative(np.sin, 0.0)
    1.0
    >>> derivative(lambda x: derivative(lambda y: y**3, x), 2.0)
    12.0
    >>> derivative(lambda x: x * derivative(lambda y: x + y, 1.0), 1.0)
    1.0
    >>> derivative(lambda x: x**5, 1.0, order=4)
    120.0
    """
    if order != 1:
        from dualdiff.taylor.api import derivative_of_order  # noqa: PLC0415 - it imports this module

        return derivative_of_order(f, x, order)
    return value_and_derivative(f, x)[1]


# --- array input -------------------------------------------------------------------------------


def value_and_jacobian(f: Function, x: Any, *, chunk_size: int | None = None,
                       executor: Any = None) -> tuple[Any, Any]:
    """Return ``f(x)`` and the Jacobian of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        A function of one array returning one array (or number), or a list or
        tuple (possibly nested) of numbers, arrays of one shape or dual numbers,
        which is stacked as ``np.array`` would stack it: an ODE right-hand side
        ``lambda y: [y[1], -y[0]]`` has a ``(2, 2)`` Jacobian.  Items of
        different shapes raise ``ValueError``.
    x : array_like
        The point.
    chunk_size : int, optional
        How many Jacobian columns to push through ``f`` at once as a batch of
        tangents.  ``1`` evaluates column by column; the default bounds the
        memory of the seeded tangents (see :func:`dualdiff.columns.default_chunk_size`).
    executor : optional
        Runs the chunks in parallel, one task each: a ``concurrent.futures``
        executor (threads, processes, loky), a ``dask.distributed.Client`` (or
        its ``get_executor()``), or a map-like callable such as
        ``multiprocessing.Pool().map``; the result is the serial one, bit for bit
        (see :mod:`dualdiff.parallel` and the "Scaling out" page).

    Returns
    -------
    value, jacobian : tuple
        ``f(x)`` (a list or tuple stacked into one array) and the Jacobian of
        shape ``f(x).shape + x.shape``.

    Examples
    --------
    >>> import numpy as np
    >>> value, J = value_and_jacobian(lambda x: x**2, np.array([1.0, 3.0]))
    >>> J
    array([[2., 0.],
           [0., 6.]])
    >>> value, J = value_and_jacobian(lambda y: [y[0] * y[1], y[1], 1.0], np.array([1.0, 3.0]))
    >>> value
    array([3., 3., 1.])
    >>> J
    array([[3., 1.],
           [0., 1.],
           [0., 0.]])
    """
    _check_callable(f, "jacobian")
    return jacobian_columns(_stacking(f), as_value(x), chunk_size=chunk_size, extract=extract,
                            executor=executor)


def _stacking(f: Function) -> Function:
    """``f`` with a list or tuple output stacked into one array (see :func:`_stack`)."""

    def stacked(x: Any) -> Any:
        return _stack(f(x))

    return stacked


def _stack(out: Any) -> Any:
    """A (nested) list or tuple of numbers, arrays and Duals stacked as ``np.array`` would."""
    if not isinstance(out, list | tuple):
        return out
    items = [_stack(item) for item in out]
    for item in items:
        if type(item) is not Dual and not _is_numeric(item):
            raise TypeError(
                "the function must return numbers, arrays, or tuples/lists of them; "
                f"it returned a {type(out).__name__} holding {type(item).__name__}"
            )
    shapes = {np.shape(item.value if type(item) is Dual else item) for item in items}
    if len(shapes) > 1:
        raise ValueError(
            f"jacobian: f returned a {type(out).__name__} of items of different shapes "
            f"{sorted(shapes)}; return items of one shape (they are stacked as np.array "
            "would), or use jvp, which takes any structure"
        )
    if not any(type(item) is Dual for item in items):
        return np.array(items)
    return np.stack(items)


def jacobian(
    f: Function, x: Any, *, chunk_size: int | None = None, sparsity: Any = None,
    executor: Any = None,
) -> Any:
    """Return the Jacobian of ``f`` at ``x``, of shape ``f(x).shape + x.shape``.

    ``f`` returns an array, a number, or a (nested) list or tuple of numbers,
    same-shape arrays and dual numbers, stacked as ``np.array`` would stack it
    (see :func:`value_and_jacobian`).  With ``sparsity="auto"`` or a pattern,
    the Jacobian is a ``scipy.sparse.csr_array`` of shape ``(f(x).size, x.size)``
    computed by colouring and compression (:func:`dualdiff.sparse_jacobian`), and
    ``chunk_size`` counts colours per forward pass.

    Examples
    --------
    >>> import numpy as np
    >>> jacobian(lambda x: np.stack([x[0] * x[1], x[0] + x[1]]), np.array([2.0, 3.0]))
    array([[3., 2.],
           [1., 1.]])
    """
    if sparsity is not None:
        from dualdiff.sparse.jacobian import sparse_jacobian  # noqa: PLC0415 - needs scipy

        return sparse_jacobian(f, x, sparsity=sparsity, chunk_size=chunk_size)(
            x, executor=executor)
    return value_and_jacobian(f, x, chunk_size=chunk_size, executor=executor)[1]


def value_and_gradient(f: Function, x: Any, *, chunk_size: int | None = None,
                       executor: Any = None) -> tuple[Any, Any]:
    """Return ``f(x)`` and the gradient of a scalar-valued ``f`` at ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> value_and_gradient(lambda x: np.sum(x**2), np.array([1.0, 2.0]))
    (5.0, array([2., 4.]))
    """
    _check_callable(f, "gradient")
    value, grad = value_and_jacobian(f, x, chunk_size=chunk_size, executor=executor)
    if np.ndim(value.value if type(value) is Dual else value) != 0:
        raise TypeError(
            f"gradient(f, x) needs f to return a scalar, but f returned shape "
            f"{_shape_text(value)}; perhaps you meant jacobian(f, x)?"
        )
    return value, grad


def gradient(f: Function, x: Any, *, chunk_size: int | None = None, executor: Any = None) -> Any:
    """Return the gradient of a scalar-valued ``f`` at ``x`` (shape of ``x``).

    Examples
    --------
    >>> import numpy as np
    >>> gradient(lambda x: x[0] * np.exp(x[1]), np.array([2.0, 0.0]))
    array([1., 2.])
    """
    return value_and_gradient(f, x, chunk_size=chunk_size, executor=executor)[1]


def value_and_hessian(f: Function, x: Any, *, chunk_size: int | None = None,
                      executor: Any = None, strategy: str = "auto") -> tuple[Any, Any]:
    """Return ``f(x)`` and the Hessian of a scalar-valued ``f`` (shape ``x.shape * 2``).

    Forward over forward: the Jacobian of the gradient, one nested pass per
    chunk of outer directions.  For a large ``x`` the default first detects
    the Hessian's sparsity at ``x`` and, when a colouring of its columns needs
    clearly fewer directions than ``n``, pushes only those (``O(n^2 C)``
    instead of ``O(n^3)``); the result is the same dense array either way.

    Parameters
    ----------
    f : callable
        A scalar-valued function of one array.
    x : array_like
        The point.
    chunk_size : int, optional
        How many Hessian columns (outer directions) to push through at once;
        the inner gradient takes its own default chunks.  The default keeps
        each second-order tangent within the Jacobian's seed budget
        (:func:`dualdiff.columns.default_hessian_chunk_size`), so memory grows
        as O(n^2 chunk_size), not O(n^3).
    executor : optional
        Runs the outer Jacobian's chunks (see :func:`value_and_jacobian`).
    strategy : {"auto", "dense"}
        ``"auto"`` (default): for a float64 ``x`` of at least
        :data:`dualdiff.hessians.AUTO_MIN_SIZE` elements, with neither
        ``chunk_size`` nor ``executor`` given, detect the Hessian's pattern at
        ``x`` (:func:`dualdiff.hessian_sparsity`, needs SciPy) and, when its
        column colouring has at most half as many colours as ``n``, compute the
        compressed columns and fill the dense Hessian from them; otherwise (a
        dense pattern, ``f`` the tracer cannot run, SciPy missing, complex
        ``x``, a nested call) take the dense route.  ``"dense"``: always the
        Jacobian of the gradient in all ``n`` directions.  See
        :mod:`dualdiff.hessians` (and :func:`dualdiff.hessians.plan` for the
        route a call takes).

    Examples
    --------
    >>> import numpy as np
    >>> value_and_hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 3.0]))
    (3.0, array([[6., 2.],
           [2., 0.]]))
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> value, H = value_and_hessian(rosen, np.zeros(100))   # 3 colours, not 100 directions
    >>> H[:3, :3]
    array([[  2.,   0.,   0.],
           [  0., 202.,   0.],
           [  0.,   0., 202.]])
    """
    _check_callable(f, "hessian")
    check_strategy(strategy)
    if strategy == "auto" and chunk_size is None and executor is None:
        found = compressed_hessian(f, x)
        if found is not None:
            return found
    if executor is not None:  # the value travels back with the gradient: workers have no `seen`
        from dualdiff.parallel import value_and_hessian as distributed  # noqa: PLC0415

        return distributed(f, x, chunk_size=chunk_size, executor=executor)
    seen = []

    def grad(y: Any) -> Any:
        value, g = value_and_gradient(f, y)
        seen.append(value)
        return g

    if chunk_size is None:
        chunk_size = default_hessian_chunk_size(int(np.size(_value_of(as_value(x)))))
    hess = jacobian(grad, x, chunk_size=chunk_size)
    value = seen[0]
    return _plain_scalar(value.value if type(value) is Dual else value), hess


def hessian(f: Function, x: Any, *, chunk_size: int | None = None, executor: Any = None,
            sparsity: Any = None, strategy: str = "auto") -> Any:
    """Return the Hessian of a scalar-valued ``f`` at ``x`` (see :func:`value_and_hessian`).

    With ``sparsity="auto"`` or a pattern, the Hessian is a ``scipy.sparse.csr_array``
    computed by colouring and compression (:func:`dualdiff.sparse_hessian`).  With the
    default ``sparsity=None`` it is a dense array, computed by the route ``strategy``
    chooses (``"auto"``: compressed when the Hessian is sparse at ``x`` and ``x`` is
    large; ``"dense"``: all ``n`` directions; see :func:`value_and_hessian`).

    Examples
    --------
    >>> import numpy as np
    >>> hessian(lambda x: np.sum(x**3), np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    if sparsity is not None:
        from dualdiff.sparse.hessian import sparse_hessian  # noqa: PLC0415 - needs scipy

        check_strategy(strategy)
        return sparse_hessian(f, x, sparsity=sparsity)(x, executor=executor)
    return value_and_hessian(f, x, chunk_size=chunk_size, executor=executor,
                             strategy=strategy)[1]


def value_and_hvp(f: Function, x: Any, v: Any) -> tuple[Any, Any]:
    """Return ``f(x)`` and the Hessian-vector product ``H(x) @ v`` in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> value_and_hvp(lambda x: np.sum(x**3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    (9.0, array([ 6., 12.]))
    """
    _check_callable(f, "hvp")
    seen = []

    def grad(y: Any) -> Any:
        value, g = value_and_gradient(f, y)
        seen.append(value)
        return g

    _, product = jvp(grad, (x,), (v,))
    value = seen[0]
    return _plain_scalar(value.value if type(value) is Dual else value), product


def hvp(f: Function, x: Any, v: Any) -> Any:
    """Return the Hessian-vector product ``H(x) @ v`` of a scalar-valued ``f``.

    Examples
    --------
    >>> import numpy as np
    >>> hvp(lambda x: x[0] * x[1], np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([0., 1.])
    """
    return value_and_hvp(f, x, v)[1]
