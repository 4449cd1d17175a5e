"""The pattern tracer: a dual-like number whose tangent is a boolean sparse matrix.

:class:`SparsityTracer` carries a value (a NumPy array, computed by NumPy
exactly as a :class:`~dualdiff.Dual`'s value is) and, in place of a tangent,
a *pattern*: a boolean ``scipy.sparse.csr_array`` with one row per element
of the value (C order) and one column per input element, true where the
element depends on that input.  The input is seeded with the identity
pattern, ``f`` runs on the tracer, and the output's pattern is the
Jacobian's sparsity pattern.  Every operation is one vectorised step on the
whole array (index arithmetic and CSR kernels of :mod:`dualdiff.sparse.csr`),
never a Python loop per element, so detection costs a few evaluations of
``f``.

**Local patterns.**  The values are real values: comparisons, ``if``
statements, ``np.where`` conditions, ``maximum``/``minimum``/``clip`` and
``sort`` follow the branch the values take at ``x``, so the pattern is the
Jacobian's pattern *near* ``x`` (SparseConnectivityTracer's "local"
tracer).  Another branch elsewhere may touch other entries; union the
patterns of several points for a pattern valid on all of them
(``jacobian_sparsity(f, x, points=[...])``).

**How it hooks into the rule table.**  Ufuncs reach the tracer through
``__array_ufunc__`` and are looked up in the *same* registries as for Dual
numbers (:data:`dualdiff.dispatch.RULES` and its integer-argument and
multi-output companions, built from :mod:`dualdiff.rules`):

* a partial that is the constant ``0.0`` (``floor``, ``sign``, the direction
  of ``nextafter``) contributes nothing; a ``NOT_DIFFERENTIABLE`` argument
  raises the same ``TypeError`` as for a Dual; every other partial makes the
  output element depend on that input element (rows are unioned, with
  NumPy's broadcasting);
* rows of :data:`dualdiff.rules.SELECTING` (``maximum``, ``minimum``,
  ``fmax``, ``fmin``, ``heaviside``) evaluate their partial at the values and
  keep an argument only where its partial is nonzero: the branch taken;
* ``multiply`` by a *constant* drops the elements where the constant is 0
  (the partial is the constant itself);
* a ufunc without a row is still elementwise, so its output element depends
  on the corresponding input elements (recorded as a fallback);
* for Hessian patterns, :data:`dualdiff.rules.PIECEWISE_LINEAR` rows and rows
  whose partials are all constants add no second-order term, and
  :data:`dualdiff.rules.SECOND_ORDER` names the argument pairs that interact
  (``multiply``: only the cross term); every other row is nonlinear in all
  its arguments.

NumPy functions reach the tracer through ``__array_function__`` and are
looked up in :data:`PATTERN_FUNCTIONS`, keyed by the function object (as
:data:`dualdiff.dispatch.FUNCTIONS` is), each entry one of a few generic
rules:

* **selections** (indexing, ``reshape``, ``transpose``, ``concatenate``,
  ``stack``, ``roll``, ``pad``, ``where``, ``take``, ``diag``, ``tril``, ...)
  run the function itself on arrays of element ids in place of the tracers:
  an output element that holds an input's id is that element, one whose id
  does not shift when the ids do is a constant (a fill value).  A view of
  the value (basic indexing, ``reshape``) is a view of the pattern too, so
  writes through it (``y[1:] += ...``, ``out=``) reach the array it views;
* **reductions** (``sum``, ``mean``, ``std``, norms, ...) give each output the
  union of the rows along the reduced axes (``max`` and ``min``: of the
  elements where the extreme is attained, the branch taken); **cumulative**
  ones (``cumsum``, ``cumprod``) the triangular unions;
* **products** (``matmul``, ``dot``, ``@``) with a constant factor give that
  factor's nonzero pattern (``A @ x`` with a constant dense or
  ``scipy.sparse`` ``A`` is ``A``'s pattern, not a dense block);
* **in-place** functions (``np.add.at``, ``put``, ``copyto``, ``place``,
  ``fill_diagonal``) write the rows they write (``add.at`` unions them);
* anything else falls back **conservatively**: each output element depends
  on every input element of every traced argument.  The fallback never
  misses a nonzero; which functions fell back is recorded
  (:attr:`dualdiff.sparse.detect.Detection.fallbacks`), without warnings.

Second-order (Hessian) patterns use the same tracer with a global set of
interacting pairs, as in SparseConnectivityTracer's Hessian tracer: each
nonlinear step adds the pairs of the inputs its output depends on.
"""

from __future__ import annotations

import inspect
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import dispatch
from dualdiff.rules import NOT_DIFFERENTIABLE, PIECEWISE_LINEAR, SECOND_ORDER, SELECTING
from dualdiff.sparse import csr
from dualdiff.sparse.matmul import scipy_matmul_asks

FALLBACK_LIMIT = 10**8
"""Most nonzeros a conservative fallback may create before it refuses (``ValueError``)."""


class Run:
    """One detection: the number of inputs, the mode and what it recorded.

    Attributes
    ----------
    n : int
        Columns of every pattern (the input's size).
    second : bool
        Whether second-order interactions are recorded (Hessian patterns).
    pairs : list
        The second-order interactions recorded: each an int64 array of pair
        codes ``i * n + j`` (:func:`dualdiff.sparse.csr.pair_codes`) or, for
        rows too wide to list pair by pair, an ``(n, n)`` pattern.
    fallbacks : collections.Counter
        Names of the functions that fell back conservatively, with counts.
    """

    _ids = itertools.count(1)

    def __init__(self, n: int, *, second: bool = False) -> None:
        self.n = n
        self.second = second
        self.pairs: list[Any] = []
        self._listed = 0  # pair codes in self.pairs, compacted past 2 * csr.PAIR_LIMIT
        self.fallbacks: Counter[str] = Counter()
        self.id = next(self._ids)

    def interact(self, p: Any, q: Any | None = None) -> None:
        """Record the pairs of ``p``'s rows (or, with ``q``, the cross pairs of aligned rows)."""
        if self.second and p.nnz and (q is None or q.nnz):
            codes = csr.pair_codes(p, q)  # None when listing them would cost more than a product
            self.pairs.append(csr.gram(p, q) if codes is None else codes)
            if codes is not None:
                self._listed += codes.size
                if self._listed > 2 * csr.PAIR_LIMIT:  # repeated pairs: keep each once
                    self.pairs = [csr.pairs_pattern(self.pairs, self.n)]
                    self._listed = 0


class _Store:
    """The pattern of a base array; views of it share the store (see ``SparsityTracer``)."""

    __slots__ = ("pattern",)

    def __init__(self, pattern: Any) -> None:
        self.pattern = pattern


class SparsityTracer(np.lib.mixins.NDArrayOperatorsMixin):
    """A value with the pattern of its dependence on the input, in place of a tangent.

    Users do not build these: :func:`dualdiff.jacobian_sparsity` seeds the
    input with one and reads the output's pattern.  Like a Dual, a tracer
    never silently becomes its value (``np.asarray``, ``float`` raise
    ``TypeError``); comparisons compare values and return plain booleans.

    Parameters
    ----------
    value : ndarray or number
        The value.
    store : _Store
        Holds the pattern of the base array the value belongs to.
    rows : ndarray or None
        For a view, the store's row of each element (C order); ``None``: the
        store's rows themselves.
    run : Run
        The detection this tracer belongs to.

    Examples
    --------
    >>> import numpy as np
    >>> from dualdiff.sparse.detect import jacobian_sparsity
    >>> jacobian_sparsity(lambda x: x[1:] * x[:-1], np.ones(3)).toarray()
    array([[ True,  True, False],
           [False,  True,  True]])
    """

    __slots__ = ("_rows", "_store", "run", "value")
    __array_priority__ = 1000

    def __init__(self, value: Any, store: _Store, rows: np.ndarray | None, run: Run) -> None:
        self.value = value
        self._store = store
        self._rows = rows
        self.run = run

    # --- the pattern ---------------------------------------------------------------------------
    @property
    def pattern(self) -> Any:
        """The boolean ``(size, n)`` pattern, one row per element in C order."""
        if self._rows is None:
            return self._store.pattern
        return csr.gather(self._store.pattern, self._rows)

    def rows(self) -> np.ndarray:
        """The store's row of each element, shaped like the value."""
        if self._rows is None:
            return np.arange(self.size, dtype=np.int64).reshape(self.shape)
        if isinstance(self._rows, range):
            return np.arange(self._rows.start, self._rows.stop, dtype=np.int64).reshape(self.shape)
        return self._rows.reshape(self.shape)

    def view_rows(self, view: Any) -> range | None:
        """The store's rows of ``view``, a view of the value, when they are one range.

        A C-contiguous view of a C-contiguous value whose rows are a range
        holds consecutive rows; its offset in memory says which (O(1), no
        index array).
        """
        base = self.value
        if not (self._rows is None or isinstance(self._rows, range)) or not (
                isinstance(view, np.ndarray) and view.size and view.flags.c_contiguous
                and base.flags.c_contiguous and view.dtype == base.dtype):
            return None
        start = (view.__array_interface__["data"][0]
                 - base.__array_interface__["data"][0]) // base.itemsize
        start += 0 if self._rows is None else self._rows.start
        return range(start, start + view.size)

    # --- shape ---------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The value's shape."""
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        """The value's number of dimensions."""
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        """The value's number of elements."""
        return int(np.size(self.value))

    @property
    def dtype(self) -> np.dtype:
        """The value's dtype."""
        return np.result_type(self.value)

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        """The transpose."""
        return np.transpose(self)

    @property
    def real(self) -> Any:
        """The real part."""
        return np.real(self)

    @property
    def imag(self) -> Any:
        """The imaginary part."""
        return np.imag(self)

    def __len__(self) -> int:
        if not self.ndim:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Any:
        if not self.ndim:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # --- protocols -----------------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return call_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        rule = PATTERN_FUNCTIONS.get(func)
        if rule is None:
            return fallback(func, args, kwargs)
        return rule(func, args, kwargs)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        if scipy_matmul_asks():
            return np.array(None, dtype=object)  # scipy.sparse then defers to __rmatmul__
        raise TypeError(
            "a sparsity tracer cannot become a plain array: the pattern would be lost. "
            "Use NumPy functions on it, or allocate arrays with np.zeros_like(x)"
        )

    def __matmul__(self, other: Any) -> Any:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return matmul(other, self)

    def __getitem__(self, index: Any) -> Any:
        index = _plain_index(index)
        value = self.value[index]
        if isinstance(value, np.ndarray) and np.shares_memory(value, self.value):
            rows = self.view_rows(value)
            if rows is None:
                rows = np.ravel(self.rows()[index])
            return SparsityTracer(value, self._store, rows, self.run)
        rows = self.rows()[index]
        return _new(value, csr.gather(self._store.pattern, np.ravel(rows)), self.run)

    def __setitem__(self, index: Any, item: Any) -> None:
        assign(self, _plain_index(index), item)

    def __float__(self) -> float:
        raise TypeError(
            "float() of a sparsity tracer would lose its pattern (also math.* functions, and "
            "writing a traced value into an element of a plain array: allocate that array with "
            "np.zeros_like(x)); use NumPy functions, or .value on purpose")

    def __complex__(self) -> complex:
        raise TypeError("complex() of a sparsity tracer would lose its pattern; use .value")

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        raise TypeError("a sparsity tracer cannot be an index or a size; use int(x) or x.value")

    def __bool__(self) -> bool:
        return bool(self.value)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SparsityTracer(shape={self.shape}, nnz={self.pattern.nnz})"

    # --- ndarray methods -----------------------------------------------------------------------
    def reshape(self, *shape: Any, order: str = "C") -> Any:
        """As ``ndarray.reshape``."""
        return np.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)

    def ravel(self, order: str = "C") -> Any:
        """As ``ndarray.ravel``."""
        return np.ravel(self, order)

    def flatten(self, order: str = "C") -> Any:
        """As ``ndarray.flatten``."""
        return np.copy(np.ravel(self, order))

    def transpose(self, *axes: Any) -> Any:
        """As ``ndarray.transpose``."""
        if len(axes) == 1:
            axes = axes[0]
        return np.transpose(self, axes or None)

    def copy(self, order: str = "C") -> Any:
        """As ``ndarray.copy``."""
        return np.copy(self, order=order)

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> Any:
        """As ``ndarray.astype``: floats keep the pattern, integers and booleans are plain."""
        value = self.value.astype(dtype, *args, **kwargs) if isinstance(
            self.value, np.ndarray) else np.asarray(self.value).astype(dtype)[()]
        if np.result_type(value).kind not in "fc":
            return value
        if value is self.value:  # copy=False of the same dtype: the array itself
            return self
        return _new(value, self.pattern, self.run)

    def __getattr__(self, name: str) -> Any:
        method = _METHODS.get(name)
        if method is None:
            raise AttributeError(f"'SparsityTracer' object has no attribute {name!r}")
        return lambda *args, **kwargs: method(self, *args, **kwargs)

    def fill(self, value: Any) -> None:
        """As ``ndarray.fill``."""
        self[...] = value

    def sort(self, axis: int = -1, **kwargs: Any) -> None:
        """As ``ndarray.sort``, in place."""
        self[...] = np.sort(self, axis, **kwargs)

    def item(self, *args: Any) -> Any:
        """Refused: a Python number would lose the pattern."""
        raise TypeError("item() of a sparsity tracer would lose its pattern; use .value")

    def tolist(self) -> Any:
        """Refused: Python numbers would lose the pattern."""
        raise TypeError("tolist() of a sparsity tracer would lose its pattern; use .value")


_METHODS: dict[str, Callable[..., Any]] = {
    name: getattr(np, name) for name in (
        "sum", "mean", "prod", "max", "min", "std", "var", "cumsum", "cumprod", "dot", "squeeze",
        "swapaxes", "take", "repeat", "diagonal", "trace", "clip", "conj", "conjugate", "round",
        "all", "any", "argmax", "argmin", "argsort", "nonzero", "ptp", "compress", "searchsorted",
        "put",
    )
}
"""ndarray methods of a tracer: each calls the NumPy function of its name."""


def _in_place(name: str) -> Callable[..., Any]:
    """``x op= y`` as NumPy does it: into an array, but a scalar (``y[0] += 1``) is rebound."""
    into_array = getattr(np.lib.mixins.NDArrayOperatorsMixin, f"__i{name}__")
    rebind = getattr(np.lib.mixins.NDArrayOperatorsMixin, f"__{name}__")

    def method(self: SparsityTracer, other: Any) -> Any:
        if isinstance(self.value, np.ndarray):
            return into_array(self, other)
        return rebind(self, other)  # a NumPy scalar is immutable: Python then stores it back

    method.__name__ = f"__i{name}__"
    return method


for _name in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow", "lshift",
              "rshift", "and", "xor", "or"):
    setattr(SparsityTracer, f"__i{_name}__", _in_place(_name))


# --- building tracers --------------------------------------------------------------------------


def _new(value: Any, pattern: Any, run: Run) -> SparsityTracer:
    return SparsityTracer(value, _Store(pattern), None, run)


def seed(x: np.ndarray, run: Run) -> SparsityTracer:
    """The input of a detection: ``x``'s values with the identity pattern."""
    return _new(x, csr.identity(x.size), run)


def _plain_index(index: Any) -> Any:
    """An index with tracers replaced by their values (they are data there, not dependence)."""
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, SparsityTracer):
        raise TypeError("a sparsity tracer cannot be an index; use its .value on purpose")
    return index


def _run_of(*objects: Any) -> Run | None:
    for obj in objects:
        if isinstance(obj, SparsityTracer):
            return obj.run
        if isinstance(obj, list | tuple):
            run = _run_of(*obj)
            if run is not None:
                return run
        if isinstance(obj, dict):
            run = _run_of(*obj.values())
            if run is not None:
                return run
    return None


def _is_live(x: Any, run: Run) -> bool:
    return isinstance(x, SparsityTracer) and x.run is run


def value_of(x: Any) -> Any:
    """``x`` with every tracer inside it (lists, tuples, dicts) replaced by its value."""
    return _map(x, lambda t: t.value)


def _map(x: Any, fn: Callable[[SparsityTracer], Any]) -> Any:
    if isinstance(x, SparsityTracer):
        return fn(x)
    if isinstance(x, list):
        return [_map(item, fn) for item in x]
    if isinstance(x, tuple) and not hasattr(x, "_fields"):
        return tuple(_map(item, fn) for item in x)
    if isinstance(x, dict):
        return {key: _map(item, fn) for key, item in x.items()}
    return x


def _tracers_in(x: Any, run: Run) -> list[SparsityTracer]:
    found: list[SparsityTracer] = []

    def visit(t: SparsityTracer) -> SparsityTracer:
        if t.run is run and not any(t is other for other in found):
            found.append(t)
        return t

    _map(x, visit)
    return found


def _is_float(value: Any) -> bool:
    return np.result_type(value).kind in "fc" if _numeric(value) else False


def _numeric(value: Any) -> bool:
    return isinstance(value, np.ndarray | np.generic | float | complex | int)


def aligned(x: Any, shape: tuple[int, ...], mask: Any = None) -> Any:
    """``x``'s pattern broadcast to ``shape`` (rows of constants empty), keeping ``mask``."""
    if mask is not None and np.all(mask):
        mask = None
    if mask is None and x.shape == shape:
        return x._store.pattern if x._rows is None else csr.gather(x._store.pattern, x._rows)
    rows = np.broadcast_to(x.rows(), shape)
    if mask is not None:
        rows = np.where(np.broadcast_to(mask, shape), rows, -1)
    return csr.gather(x._store.pattern, np.ravel(rows))


def _result(value: Any, pattern: Any, run: Run) -> Any:
    """A tracer for a float result, the plain value for any other."""
    if not _is_float(value):
        return value
    return _new(value, pattern, run)


def _rows_union(patterns: list[Any], rows: int, n: int) -> Any:
    result = None
    for p in patterns:
        result = p if result is None else csr.union(result, p)
    return csr.empty(rows, n) if result is None else result


# --- writes ------------------------------------------------------------------------------------


def _write_rows(store: _Store, positions: np.ndarray, source: Any, source_rows: np.ndarray | None,
                *, merge: bool = False) -> None:
    """Set (or, with ``merge``, union into) the store's rows at ``positions``."""
    p = store.pattern
    total = p.shape[0]
    if isinstance(positions, range):
        rows = (csr.empty(len(positions), p.shape[1]) if source is None
                else csr.gather(source, source_rows))
        if merge:
            rows = csr.union(csr.gather(p, positions), rows)
        store.pattern = csr.splice(p, positions.start, rows)
        return
    positions = np.ravel(positions).astype(np.int64)
    if merge:
        scatter = csr.scipy_sparse().csr_array(
            (np.ones(len(positions)), (positions, np.arange(len(positions)))),
            shape=(total, len(positions)))
        store.pattern = csr.union(p, csr.product(scatter, csr.gather(source, source_rows)))
        return
    if source is not None and len(positions) and positions[-1] - positions[0] == len(
            positions) - 1 and (np.diff(positions) == 1).all():  # a slice: splice the rows in
        store.pattern = csr.splice(p, int(positions[0]), csr.gather(source, source_rows))
        return
    ids = np.arange(total, dtype=np.int64)
    if source is None:
        ids[positions] = -1
        store.pattern = csr.gather(p, ids)
    else:
        ids[positions] = total + np.ravel(source_rows)
        store.pattern = csr.gather(csr.vstack([p, source]), ids)


def assign(target: Any, index: Any, item: Any) -> None:
    """``target[index] = item`` for values and patterns (``target`` a tracer or an array)."""
    run = _run_of(target, item)
    if not isinstance(target, SparsityTracer) or target.run is not run:
        if _is_live(item, run) and item.pattern.nnz:
            raise TypeError(
                "a traced value cannot be written into a plain array (its dependence would be "
                "lost); allocate the array with np.zeros_like(x) or np.empty_like(x)")
        target[index] = value_of(item)
        return
    positions, shape = _positions(target, index)
    target.value[index] = value_of(item)
    if not _is_live(item, run):
        _write_rows(target._store, positions, None, None)
        return
    item_rows = _rows_like(item, shape)
    if item._store is target._store and (
            item_rows == positions if isinstance(positions, range) else
            np.array_equal(np.ravel(item_rows), np.ravel(positions))):
        return  # x[i] = x[i], as in y[1:] += ...: already there
    _write_rows(target._store, positions, item._store.pattern, item_rows)


def _positions(target: SparsityTracer, index: Any) -> tuple[range | np.ndarray, tuple]:
    """The store's rows that ``target[index]`` writes, and the shape written."""
    view = target.value[index]
    if isinstance(view, np.ndarray) and view.size and np.shares_memory(view, target.value):
        rows = target.view_rows(view)
        if rows is not None:
            return rows, view.shape
    rows = np.asarray(target.rows()[index])
    return rows, rows.shape


def _rows_like(item: SparsityTracer, shape: tuple[int, ...]) -> range | np.ndarray:
    """The store's rows of ``item`` broadcast to ``shape`` (a range where they are one)."""
    own = item.shape
    if len(own) > len(shape) and all(n == 1 for n in own[:len(own) - len(shape)]):
        own = own[len(own) - len(shape):]  # NumPy drops leading axes of length one
    if own == shape and (item._rows is None or isinstance(item._rows, range)):
        return range(item.size) if item._rows is None else item._rows
    return np.broadcast_to(item.rows().reshape(own), shape)


def store_out(out: Any, result: Any) -> Any:
    """Write ``result`` into ``out`` (``out=`` of a ufunc or function) and return ``out``."""
    assign(out, Ellipsis, result)
    return out


# --- ufuncs ------------------------------------------------------------------------------------


def call_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """``__array_ufunc__``: every method of every ufunc, ``out=`` included."""
    out = kwargs.pop("out", None)
    if isinstance(out, tuple) and len(out) == 1:
        out = out[0]
    run = _run_of(inputs, out)
    if method == "__call__" and kwargs.get("where", True) is not True:
        return _call_where(ufunc, inputs, kwargs, out)
    if method == "__call__" and _accumulates(ufunc, inputs, out, kwargs, run):
        return _accumulate_into(ufunc, inputs, out, run)
    if method == "__call__":
        if ufunc is np.matmul:
            result = matmul(*inputs, **kwargs)
        elif ufunc.signature is not None:
            result = fallback(ufunc, inputs, kwargs)
        else:
            result = _elementwise(ufunc, inputs, kwargs, run)
    elif method == "reduce":
        result = _ufunc_reduce(ufunc, inputs, kwargs, run)
    elif method == "accumulate":
        result = _ufunc_accumulate(ufunc, inputs, kwargs, run)
    elif method == "outer":
        x, y = inputs
        nx, ny = np.ndim(value_of(x)), np.ndim(value_of(y))
        x = np.reshape(x, np.shape(value_of(x)) + (1,) * ny)
        y = np.reshape(y, (1,) * nx + np.shape(value_of(y)))
        result = _elementwise(ufunc, (x, y), kwargs, run)
    elif method == "at":
        return _ufunc_at(ufunc, inputs, run)
    else:  # reduceat: each output depends on (a part of) the whole axis
        result = _conservative_reduce(ufunc, method, inputs, kwargs, run)
    return result if out is None else _store_outs(out, result)


def _call_where(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict, out: Any) -> Any:
    """``ufunc(..., out=out, where=mask)``: the result where ``mask`` holds, ``out`` elsewhere."""
    where = value_of(kwargs.pop("where"))
    result = call_ufunc(ufunc, "__call__", inputs, kwargs)
    if out is None:  # NumPy leaves the other elements uninitialised: any pattern will do
        return result
    if isinstance(out, tuple):
        return _store_outs(out, tuple(np.where(where, r, o) for r, o in zip(
            result, out, strict=True)))
    return store_out(out, np.where(where, result, out))


def _store_outs(out: Any, result: Any) -> Any:
    if isinstance(out, tuple):
        for target, item in zip(out, result, strict=True):
            store_out(target, item)
        return out
    return store_out(out, result)


def _accumulates(ufunc: np.ufunc, inputs: tuple[Any, ...], out: Any, kwargs: dict,
                 run: Run) -> bool:
    """Whether this is ``x op= y`` (``np.add(x, y, out=x)``) with a constant slope in ``x``.

    Then the new rows of ``x`` are its old rows and ``y``'s: a union into the
    store, without gathering ``x``'s rows out and back (``y[:, 1:] += u``).
    """
    if kwargs or not _is_live(out, run) or not isinstance(out._rows, np.ndarray):
        return False
    rule = dispatch.RULES.get(ufunc)
    if rule is None or ufunc.nin != 2 or inputs[0] is not out:
        return False
    partial = rule.partials[0]
    return type(partial) is float and partial != 0.0 and ufunc not in SELECTING and (
        run.second is False or all(type(p) is float for p in rule.partials))


def _accumulate_into(ufunc: np.ufunc, inputs: tuple[Any, ...], out: SparsityTracer,
                     run: Run) -> SparsityTracer:
    other = inputs[1]
    ufunc(out.value, value_of(other), out=out.value)
    partial = _rule(ufunc).partials[1]
    if not _is_live(other, run) or (type(partial) is float and partial == 0.0):
        return out
    if partial is NOT_DIFFERENTIABLE:
        raise dispatch._not_differentiable(_rule(ufunc), 1)
    rows = aligned(other, out.shape)  # one row per element of out
    store = out._store
    inverse = np.full(store.pattern.shape[0], -1, dtype=np.int64)
    inverse[out._rows] = np.arange(out.size)
    store.pattern = csr.union(store.pattern, csr.gather(rows, inverse))
    return out


def _rule(ufunc: np.ufunc) -> Any:
    return dispatch.RULES.get(ufunc) or dispatch.INTEGER_ARGUMENT_RULES.get(ufunc)


def _elementwise(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict, run: Run) -> Any:
    values = [value_of(x) for x in inputs]
    ans = ufunc(*values, **kwargs)
    if ufunc in dispatch.PLAIN:
        return ans
    if ufunc.nout > 1:
        return _multi_output(ufunc, inputs, values, ans, kwargs, run)
    rule = _rule(ufunc)
    if rule is None:
        run.fallbacks[f"numpy.{ufunc.__name__} (elementwise)"] += 1
    shape = np.shape(ans)
    live = [i for i, x in enumerate(inputs) if _is_live(x, run)]
    terms, full = [], []
    for i in live:
        partial = rule.partials[i] if rule is not None else None
        if partial is NOT_DIFFERENTIABLE:
            raise dispatch._not_differentiable(rule, i)
        if type(partial) is float and partial == 0.0:
            continue
        mask = None
        if ufunc in SELECTING and callable(partial):
            mask = np.asarray(partial(*values, ans)) != 0
        elif ufunc is np.multiply:  # the partial is the other factor: zero where it is a 0
            mask = _not_constant_zero(inputs[1 - i], values[1 - i], shape, run)
        terms.append(aligned(inputs[i], shape, mask))
        full.append(i)
    if not _is_float(ans):
        return ans
    pattern = _rows_union(terms, int(np.size(ans)), run.n)
    if run.second:
        _second_order(ufunc, rule, inputs, full, shape, run)
    return _new(ans, pattern, run)


def _not_constant_zero(x: Any, value: Any, shape: tuple[int, ...], run: Run) -> Any:
    """Where a factor is not a constant 0 (a constant: a plain operand or an empty row)."""
    nonzero = np.asarray(value) != 0
    if not _is_live(x, run):
        return nonzero
    counts = np.diff(x._store.pattern.indptr)[np.ravel(x.rows())].reshape(x.shape)
    return nonzero | (counts > 0)


def _second_order(ufunc: np.ufunc, rule: Any, inputs: tuple[Any, ...], live: list[int],
                  shape: tuple[int, ...], run: Run) -> None:
    if not live or ufunc in PIECEWISE_LINEAR:
        return
    if rule is not None and all(type(p) is float for p in rule.partials):
        return  # linear: add, subtract, negative, ...
    pairs = SECOND_ORDER.get(ufunc)
    if pairs is None:
        pairs = tuple((i, j) for i in range(ufunc.nin) for j in range(i, ufunc.nin))
    for i, j in pairs:
        if i in live and j in live:
            if i == j:
                run.interact(inputs[i].pattern)
            else:
                run.interact(aligned(inputs[i], shape), aligned(inputs[j], shape))


def _multi_output(ufunc: np.ufunc, inputs: tuple[Any, ...], values: list[Any], ans: tuple,
                  kwargs: dict, run: Run) -> tuple[Any, ...]:
    from dualdiff.rules import COMPOSED, MULTI_OUTPUT  # noqa: PLC0415 - rare

    if ufunc in COMPOSED:  # divmod: each output is another ufunc of the same inputs
        return tuple(_elementwise(part, inputs, kwargs, run) for part in COMPOSED[ufunc][0])
    partials = MULTI_OUTPUT[ufunc][0] if ufunc in MULTI_OUTPUT else (1.0,) * ufunc.nout
    results = []
    for output, partial in zip(ans, partials, strict=True):
        if partial is None or not _is_float(output):
            results.append(output)
            continue
        shape = np.shape(output)
        terms = [] if type(partial) is float and partial == 0.0 else [
            aligned(x, shape) for x in inputs if _is_live(x, run)]
        if run.second and type(partial) is not float:
            for x in inputs:
                if _is_live(x, run):
                    run.interact(x.pattern)
        results.append(_new(output, _rows_union(terms, int(np.size(output)), run.n), run))
    return tuple(results)


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    return tuple(int(a) % ndim if ndim else 0 for a in axes)


def line_union(x: SparsityTracer, axes: tuple[int, ...]) -> tuple[Any, tuple[int, ...]]:
    """The union of ``x``'s rows along ``axes``: one row per remaining index (C order).

    Returns the pattern and the shape of the remaining axes, with ones in
    place of the reduced ones (``keepdims``).
    """
    shape = x.shape
    kept = tuple(a for a in range(len(shape)) if a not in axes)
    reduced = tuple(1 if a in axes else shape[a] for a in range(len(shape)))
    p = x.pattern
    if len(kept) == 0 or all(shape[a] == 1 for a in kept):
        return csr.full_row(np.unique(p.indices), x.run.n), reduced
    ids = np.transpose(np.arange(x.size).reshape(shape), kept + tuple(axes))
    groups = ids.reshape(-1, int(np.prod([shape[a] for a in axes], dtype=np.int64)))
    pointer = np.arange(0, groups.size + 1, max(groups.shape[1], 1), dtype=np.int64)
    if groups.shape[1] == 0:
        pointer = np.zeros(groups.shape[0] + 1, dtype=np.int64)
    selection = csr.selection_matrix(pointer, groups.ravel(), x.size)
    return csr.product(selection, p), reduced


def reduced(x: SparsityTracer, axes: tuple[int, ...], ans: Any, *, nonlinear: bool,
            keepdims: bool = False) -> Any:
    """The tracer of a reduction of ``x`` along ``axes`` whose value is ``ans``.

    Leading axes of ``ans`` beyond the reduced shape (``percentile``'s ``q``)
    broadcast.
    """
    if not _is_float(ans):
        return ans
    lines, kept_shape = line_union(x, axes)
    run = x.run
    if nonlinear:
        run.interact(lines)
    squeezed = tuple(n for a, n in enumerate(kept_shape) if a not in axes)
    ids = np.arange(lines.shape[0]).reshape(kept_shape if keepdims else squeezed)
    try:
        rows = np.broadcast_to(ids, np.shape(ans))
    except ValueError:
        return _conservative(ans, [x], run, "reduction")  # an unusual output shape
    return _new(ans, csr.gather(lines, np.ravel(rows)), run)


_LINEAR_REDUCE = frozenset({np.add, np.subtract, np.maximum, np.minimum, np.fmax, np.fmin})


def _ufunc_reduce(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict, run: Run) -> Any:
    (x,) = inputs
    ans = ufunc.reduce(value_of(x), **value_of(kwargs))
    if not _is_live(x, run):
        return ans
    axes = _axes(kwargs.get("axis", 0), x.ndim)
    if ufunc not in _LINEAR_REDUCE and ufunc not in dispatch.RULES:
        run.fallbacks[f"numpy.{ufunc.__name__}.reduce"] += 1
    return reduced(x, axes, ans, nonlinear=ufunc not in _LINEAR_REDUCE,
                   keepdims=bool(kwargs.get("keepdims")))


def _ufunc_accumulate(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict, run: Run) -> Any:
    (x,) = inputs
    ans = ufunc.accumulate(value_of(x), **value_of(kwargs))
    if not _is_live(x, run):
        return ans
    return accumulated(x, int(kwargs.get("axis", 0)), ans, nonlinear=ufunc not in _LINEAR_REDUCE)


def accumulated(x: SparsityTracer, axis: int, ans: Any, *, nonlinear: bool) -> Any:
    """The tracer of a cumulative operation along ``axis``: element ``j`` unions ``0..j``."""
    if not _is_float(ans):
        return ans
    shape = x.shape
    axis %= max(len(shape), 1)
    length = shape[axis]
    moved = np.moveaxis(np.arange(x.size).reshape(shape), axis, -1).reshape(-1, length)
    lines = moved.shape[0]
    counts = np.tile(np.arange(1, length + 1), lines)
    pointer = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=pointer[1:])
    starts = np.repeat(np.arange(lines) * length, length)
    within = np.arange(pointer[-1]) - np.repeat(pointer[:-1], counts)
    groups = moved.ravel()[np.repeat(starts, counts) + within]
    selection = csr.selection_matrix(pointer, groups, x.size)
    p = csr.product(selection, x.pattern)  # rows in the moved order
    order = np.moveaxis(np.arange(x.size).reshape(shape), axis, -1).ravel()
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    if x.run.second and nonlinear:
        x.run.interact(p)
    return _new(ans, csr.gather(p, inverse), x.run)


def _ufunc_at(ufunc: np.ufunc, inputs: tuple[Any, ...], run: Run) -> None:
    target, indices, *rest = inputs
    item = rest[0] if rest else None
    if not isinstance(target, SparsityTracer) or target.run is not run:
        if _is_live(item, run) and item.pattern.nnz:
            raise TypeError(
                f"numpy.{ufunc.__name__}.at cannot write a traced value into a plain array; "
                "allocate it with np.zeros_like(x)")
        ufunc.at(target, indices, *value_of(rest))
        return
    indices = _plain_index(indices)
    ufunc.at(target.value, indices, *value_of(rest))
    positions = np.asarray(target.rows()[indices])
    if _is_live(item, run):
        item_rows = np.broadcast_to(item.rows(), positions.shape)
        _write_rows(target._store, positions, item._store.pattern, np.ravel(item_rows),
                    merge=True)
    if run.second and ufunc not in PIECEWISE_LINEAR and ufunc not in _LINEAR_REDUCE:
        run.interact(csr.gather(target._store.pattern, np.ravel(positions)))


def _conservative_reduce(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict,
                         run: Run) -> Any:
    x = inputs[0]
    ans = getattr(ufunc, method)(*value_of(inputs), **value_of(kwargs))
    if not _is_live(x, run):
        return ans
    axis = int(kwargs.get("axis", 0))
    return reduced(x, (axis % max(x.ndim, 1),), ans, nonlinear=ufunc not in _LINEAR_REDUCE,
                   keepdims=True) if x.ndim else ans


# --- products ----------------------------------------------------------------------------------


def _structure(x: Any) -> Any:
    """The nonzero structure of a constant matrix factor (dense bool or sparse)."""
    sparse = csr.scipy_sparse()
    if sparse.issparse(x):
        return csr.canonical(sparse.csr_array(x))
    return sparse.csr_array(np.asarray(x) != 0)


def matmul(a: Any, b: Any, **kwargs: Any) -> Any:
    """``a @ b`` with a tracer on either side or both; a constant factor's zeros are kept."""
    sparse = csr.scipy_sparse()
    run = _run_of(a, b)
    va, vb = value_of(a), value_of(b)
    a_sparse, b_sparse = sparse.issparse(va), sparse.issparse(vb)
    if kwargs or np.ndim(va) > 2 or np.ndim(vb) > 2 or np.ndim(va) == 0 or np.ndim(vb) == 0:
        if a_sparse or b_sparse:
            raise TypeError("a scipy.sparse factor multiplies a 1-D or 2-D traced array only")
        return fallback(np.matmul, (a, b), kwargs)
    ans = va @ vb
    if sparse.issparse(ans):  # sparse @ sparse-like never happens with a tracer
        ans = ans.toarray()
    ans = np.asarray(ans) if not np.isscalar(ans) else ans
    m = 1 if np.ndim(va) == 1 else np.shape(va)[0]
    k = np.shape(va)[-1]
    p = 1 if np.ndim(vb) == 1 else np.shape(vb)[1]
    terms = []
    if _is_live(a, run):
        right = (sparse.csr_array(np.ones((k, p), dtype=bool)) if _is_live(b, run)
                 else _structure(vb).reshape((k, p)))
        select = sparse.kron(sparse.eye_array(m, format="csr"), right.T, format="csr")
        terms.append(csr.product(select, a.pattern))
    if _is_live(b, run):
        left = (sparse.csr_array(np.ones((m, k), dtype=bool)) if _is_live(a, run)
                else _structure(va).reshape((m, k)))
        select = sparse.kron(left, sparse.eye_array(p, format="csr"), format="csr")
        terms.append(csr.product(select, b.pattern))
    pattern = _rows_union(terms, int(np.size(ans)), run.n)
    if run.second and _is_live(a, run) and _is_live(b, run):
        run.interact(pattern)  # conservative: the pairs of each product's inputs
    return _result(ans, pattern, run)


def _dot(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    a, b = args[:2]
    if kwargs or len(args) > 2 or np.ndim(value_of(a)) > 2 or np.ndim(value_of(b)) > 2:
        return fallback(func, args, kwargs)
    if np.ndim(value_of(a)) == 0 or np.ndim(value_of(b)) == 0:
        return np.multiply(a, b)
    return matmul(a, b)


def _vdot(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    a, b = args
    return matmul(np.ravel(np.conjugate(a)), np.ravel(b))


def _inner(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    a, b = args
    if np.ndim(value_of(a)) <= 1 and np.ndim(value_of(b)) <= 1:
        return _dot(func, args, kwargs)
    return fallback(func, args, kwargs)


def _outer(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    a, b = args[:2]
    if kwargs or len(args) > 2:
        return fallback(func, args, kwargs)
    return np.multiply.outer(np.ravel(a), np.ravel(b))


# --- selections: the function itself run on element ids ----------------------------------------

ID_BASE = 2.0**52
"""Element ids are ``ID_BASE + k`` (exact float64 integers): no plausible constant is one."""


def selection(by_value: tuple[tuple[str, int], ...] = (), *,
              in_place: bool = False) -> Callable[..., Any]:
    """The rule of a function that only moves, copies or fills elements.

    The function runs twice: on the values, and on arrays of element ids
    (float64 ``ID_BASE + k``, ``k`` numbering the elements of every traced
    argument) in place of the tracers.  An output element holding an id is
    that input element; any other value is a constant (a fill value).  A
    constant that happened to equal an id would only add a false positive,
    never lose a dependence.  ``by_value`` names the arguments (name,
    position) that steer the selection rather than being selected
    (``np.where``'s condition, ``take``'s indices): tracers there give their
    values.  ``in_place``: the function writes into its first argument.
    """

    def rule(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
        args, kwargs = list(args), dict(kwargs)
        for name, position in by_value:
            if name in kwargs:
                kwargs[name] = value_of(kwargs[name])
            elif position < len(args):
                args[position] = value_of(args[position])
        run = _run_of(args, kwargs)
        if in_place:
            return _select_in_place(func, args, kwargs, run)
        return _select(func, tuple(args), kwargs, run)

    return rule


def _id_arrays(tracers: list[SparsityTracer]) -> dict[int, np.ndarray]:
    arrays, offset = {}, ID_BASE
    for t in tracers:
        ids = np.arange(offset, offset + t.size, dtype=np.float64).reshape(t.shape)
        arrays[id(t)] = ids if ids.ndim else ids[()]
        offset += t.size
    return arrays


def _run_on_ids(func: Any, args: Any, kwargs: dict, ids: dict[int, np.ndarray]) -> Any:
    kwargs = {key: value for key, value in kwargs.items() if key != "dtype"}  # ids stay exact
    return func(*_map(args, lambda t: ids[id(t)]), **_map(kwargs, lambda t: ids[id(t)]))


def _sources(tracers: list[SparsityTracer]) -> tuple[Any, np.ndarray | None]:
    """The stacked patterns of the tracers' stores and each id's row in the stack.

    ``None`` for the map when it is the identity (one tracer owning its store).
    """
    if len(tracers) == 1:
        rows = tracers[0]._rows
        return tracers[0]._store.pattern, None if rows is None else np.ravel(tracers[0].rows())
    stores: list[_Store] = []
    maps = []
    offsets: dict[int, int] = {}
    total = 0
    for t in tracers:
        key = id(t._store)
        if key not in offsets:
            offsets[key] = total
            stores.append(t._store)
            total += t._store.pattern.shape[0]
        maps.append(offsets[key] + np.ravel(t.rows()))
    return csr.vstack([s.pattern for s in stores]), np.concatenate(maps)


def _decode(ids: Any, total: int) -> np.ndarray | None:
    """Element numbers from an id array (``-1`` for constants); ``None`` if ids were lost."""
    ids = np.ravel(np.asarray(ids))
    if ids.dtype == np.complex128:
        real = ids.real
        exact = ids.imag == 0
    elif ids.dtype == np.float64:
        real, exact = ids, True
    else:  # cast to another precision: the ids are no longer exact
        return None
    k = real - ID_BASE
    with np.errstate(invalid="ignore"):
        valid = (k >= 0) & (k < total) & exact
    return np.where(valid, k, -1).astype(np.int64)


def _select(func: Any, args: tuple[Any, ...], kwargs: dict, run: Run) -> Any:
    tracers = _tracers_in((args, kwargs), run)
    ans = func(*value_of(args), **value_of(kwargs))
    if not tracers:
        return ans
    total = sum(t.size for t in tracers)
    ids = _run_on_ids(func, args, kwargs, _id_arrays(tracers))
    stacked, maps = _sources(tracers)
    if isinstance(ans, list | tuple):
        return type(ans)(_selected(a, i, tracers, stacked, maps, total, run, func, args, kwargs)
                         for a, i in zip(ans, ids, strict=True))
    return _selected(ans, ids, tracers, stacked, maps, total, run, func, args, kwargs)


def _selected(ans: Any, ids: Any, tracers: list[SparsityTracer], stacked: Any,
              maps: np.ndarray | None, total: int, run: Run, func: Any, args: Any,
              kwargs: dict) -> Any:
    if not _is_float(ans):
        return ans
    source = _decode(ids, total)
    if source is None or source.size != np.size(ans):
        return _conservative(ans, tracers, run, _name(func))
    rows = source if maps is None else np.where(source >= 0, maps[np.maximum(source, 0)], -1)
    t = tracers[0]
    if (len(tracers) == 1 and isinstance(ans, np.ndarray) and ans.size
            and np.shares_memory(ans, t.value) and (source >= 0).all()):
        return SparsityTracer(ans, t._store, rows, run)  # a view: writes reach x
    return _new(ans, csr.gather(stacked, rows), run)


def _select_in_place(func: Any, args: list[Any], kwargs: dict, run: Run) -> None:
    target = args[0]
    if not _is_live(target, run):
        sources = _tracers_in((args[1:], kwargs), run)
        if any(t.pattern.nnz for t in sources):
            raise TypeError(
                f"numpy.{func.__name__} cannot write a traced value into a plain array; "
                "allocate it with np.zeros_like(x)")
        func(*value_of(args), **value_of(kwargs))
        return
    tracers = _tracers_in((args, kwargs), run)
    tracers.remove(target)
    tracers.insert(0, target)
    total = sum(t.size for t in tracers)
    ids = _id_arrays(tracers)
    written = ids[id(target)] = ids[id(target)].copy()
    _run_on_ids(func, args, kwargs, ids)
    stacked, maps = _sources(tracers)
    func(target.value, *value_of(args[1:]), **value_of(kwargs))
    source = _decode(written, total)
    if source is None:
        new_rows = _conservative(target.value, tracers, run, _name(func)).pattern
    else:
        rows = source if maps is None else np.where(source >= 0, maps[np.maximum(source, 0)], -1)
        new_rows = csr.gather(stacked, rows)
    _write_rows(target._store, np.ravel(target.rows()), new_rows, np.arange(target.size))


def _pad(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    """``np.pad``: a selection in the modes that copy elements; others fall back."""
    bound = _bind(func, args, kwargs)
    if bound.get("mode", "constant") not in ("constant", "edge", "wrap", "reflect",
                                             "symmetric"):
        return fallback(func, args, kwargs)
    if bound.get("kwargs", {}).get("reflect_type", "even") != "even":
        return fallback(func, args, kwargs)
    return _select(func, args, kwargs, _run_of(args, kwargs))


def _name(func: Any) -> str:
    module = getattr(func, "__module__", None) or "numpy"
    module = "numpy" if module.startswith("numpy._core") else module
    return f"{module}.{getattr(func, '__name__', repr(func))}"


def _empty_like(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    """``empty_like``: nothing is written yet, so the pattern is empty (ids would be garbage)."""
    ans = func(*value_of(args), **value_of(kwargs))
    run = _run_of(args, kwargs)
    return _result(ans, csr.empty(int(np.size(ans)), run.n), run)


# --- reductions, cumulative, sorting -----------------------------------------------------------

_SIGNATURES: dict[Any, inspect.Signature] = {}


def _bind(func: Any, args: tuple[Any, ...], kwargs: dict) -> dict[str, Any]:
    signature = _SIGNATURES.get(func)
    if signature is None:
        signature = _SIGNATURES[func] = inspect.signature(func)
    return signature.bind(*args, **kwargs).arguments


def reduction(*, nonlinear: bool, default_axis: Any = None) -> Callable[..., Any]:
    """The rule of a reduction over ``axis`` of its first argument (each output: a line's union)."""

    def rule(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
        bound = _bind(func, args, kwargs)
        x = next(iter(bound.values()))
        run = _run_of(args, kwargs)
        others = _tracers_in(([v for k, v in bound.items() if v is not x]), run)
        if not _is_live(x, run) or others or "out" in kwargs or "where" in kwargs:
            return fallback(func, args, kwargs)
        ans = func(*value_of(args), **value_of(kwargs))
        axis = bound.get("axis", default_axis)
        if func in _MATRIX_AXES and axis is None and x.ndim == 2:
            axis = (0, 1)
        axes = _axes(axis, x.ndim)
        if func in _EXTREMES and _is_float(ans) and x.ndim:
            x = _attained(x, axes, ans)
        return reduced(x, axes, ans, nonlinear=nonlinear,
                       keepdims=bool(bound.get("keepdims", False)))

    return rule


def _attained(x: SparsityTracer, axes: tuple[int, ...], ans: Any) -> SparsityTracer:
    """``x`` keeping only the elements where its maximum (minimum) is attained.

    The branch taken at ``x``: near it the extreme stays where it is (every
    tied element is kept); a line whose extreme is NaN keeps all of its elements.
    """
    extreme = np.expand_dims(np.asarray(ans), tuple(a for a in axes if np.ndim(ans) < x.ndim))
    with np.errstate(invalid="ignore"):
        keep = (x.value == extreme) | np.isnan(extreme)
    return _new(x.value, aligned(x, x.shape, keep), x.run)


def cumulative(*, nonlinear: bool) -> Callable[..., Any]:
    """The rule of a cumulative function along ``axis`` (``None``: the flattened array)."""

    def rule(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
        bound = _bind(func, args, kwargs)
        x = next(iter(bound.values()))
        run = _run_of(args, kwargs)
        if not _is_live(x, run) or "out" in kwargs or bound.get("include_initial"):
            return fallback(func, args, kwargs)
        ans = func(*value_of(args), **value_of(kwargs))
        axis = bound.get("axis")
        if axis is None:
            if x.ndim > 1:
                x = np.ravel(x)
            axis = 0
        if not x.ndim:
            return _result(ans, x.pattern, run)
        return accumulated(x, int(axis), ans, nonlinear=nonlinear)

    return rule


def _sort(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    bound = _bind(func, args, kwargs)
    x = next(iter(bound.values()))
    run = _run_of(args, kwargs)
    if not _is_live(x, run) or bound.get("order") is not None:
        return fallback(func, args, kwargs)
    ans = func(*value_of(args), **value_of(kwargs))
    axis = bound.get("axis", -1)
    rows = x.rows()
    values = x.value
    if axis is None:
        rows, values, axis = rows.ravel(), np.ravel(values), 0
    order = np.argsort(values, axis=axis, kind="stable")  # the branch taken at x
    chosen = np.take_along_axis(rows, order, axis=axis)
    return _new(ans, csr.gather(x._store.pattern, np.ravel(chosen)), run)


def _clip(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    bound = _bind(func, args, kwargs)
    names = list(bound)
    x = bound[names[0]]
    low = bound.get("a_min", bound.get("min"))
    high = bound.get("a_max", bound.get("max"))
    if any(k not in ("a", "a_min", "a_max", "min", "max") for k in names):
        return fallback(func, args, kwargs)
    result = x
    if low is not None:
        result = np.maximum(result, low)
    if high is not None:
        result = np.minimum(result, high)
    return result


def _diff(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    bound = _bind(func, args, kwargs)
    x, n, axis = bound["a"], int(bound.get("n", 1)), bound.get("axis", -1)
    ends = [bound.get("prepend"), bound.get("append")]
    if any(end is not None for end in ends):
        shape = list(np.shape(value_of(x)))
        shape[axis] = 1
        ends = [None if end is None else end if np.ndim(value_of(end)) else
                np.broadcast_to(end, tuple(shape)) for end in ends]
        x = np.concatenate([p for p in (ends[0], x, ends[1]) if p is not None], axis=axis)
    for _ in range(n):
        length = np.shape(value_of(x))[axis]
        upper = [slice(None)] * np.ndim(value_of(x))
        lower = list(upper)
        upper[axis], lower[axis] = slice(1, length), slice(0, length - 1)
        x = x[tuple(upper)] - x[tuple(lower)]
    return x


def _ediff1d(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    bound = _bind(func, args, kwargs)
    flat = np.ravel(bound["ary"])
    result = flat[1:] - flat[:-1]
    parts = [bound.get("to_begin"), result, bound.get("to_end")]
    parts = [np.ravel(p) if p is not None else None for p in parts]
    return np.concatenate([p for p in parts if p is not None])


def _trace(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    bound = _bind(func, args, kwargs)
    if "out" in bound or "dtype" in bound:
        return fallback(func, args, kwargs)
    diagonal = np.diagonal(bound["a"], bound.get("offset", 0), bound.get("axis1", 0),
                           bound.get("axis2", 1))
    return np.sum(diagonal, axis=-1)


def elementwise_in(name: str, position: int) -> Callable[..., Any]:
    """The rule of a function elementwise in one argument (``np.sinc``, ``np.interp``'s ``x``).

    Each output element depends on the corresponding element of that argument
    (with broadcasting); a traced value in another argument falls back.
    """

    def rule(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
        bound = _bind(func, args, kwargs)
        x = bound.get(name, args[position] if position < len(args) else None)
        run = _run_of(args, kwargs)
        others = _tracers_in([v for k, v in bound.items() if k != name], run)
        if not _is_live(x, run) or others or "out" in kwargs:
            return fallback(func, args, kwargs)
        ans = func(*value_of(args), **value_of(kwargs))
        if not _is_float(ans):
            return ans
        run.interact(x.pattern)
        return _new(ans, aligned(x, np.shape(ans)), run)

    return rule


def _part(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    """``np.real``/``np.imag``: each part of a complex element depends on that element.

    Of a real array, ``real`` is the array (a selection) and ``imag`` a constant 0.
    """
    (x,) = args
    run = _run_of(args, kwargs)
    if not _is_live(x, run) or np.iscomplexobj(x.value):
        return elementwise_in("val", 0)(func, args, kwargs)
    if func is np.real:
        return selection()(func, args, kwargs)
    return _constant_result(func, args, kwargs)


def _constant_result(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    """A function flat in its arguments (``np.round``): an empty pattern."""
    run = _run_of(args, kwargs)
    if "out" in kwargs:
        return fallback(func, args, kwargs)
    ans = func(*value_of(args), **value_of(kwargs))
    return _result(ans, csr.empty(int(np.size(ans)), run.n), run)


# --- the conservative fallback -----------------------------------------------------------------


def _conservative(ans: Any, tracers: list[SparsityTracer], run: Run, name: str) -> Any:
    columns = np.unique(np.concatenate([t.pattern.indices for t in tracers])) if tracers else (
        np.zeros(0, dtype=np.int64))
    row = csr.full_row(columns, run.n)
    if run.second:
        run.interact(row)

    def one(value: Any) -> Any:
        if not _is_float(value):
            return value
        size = int(np.size(value))
        if size * len(columns) > FALLBACK_LIMIT:
            raise ValueError(
                f"{name} has no sparsity rule, and its conservative pattern (every output "
                f"depending on all {len(columns)} inputs involved) would have "
                f"{size * len(columns)} nonzeros; register a rule in "
                "dualdiff.sparse.pattern.PATTERN_FUNCTIONS or restructure f")
        return _new(value, csr.gather(row, np.zeros(size, dtype=np.int64)), run)

    if isinstance(ans, tuple) and hasattr(ans, "_fields"):
        return type(ans)(*(one(a) for a in ans))
    if isinstance(ans, list | tuple):
        return type(ans)(one(a) for a in ans)
    return one(ans)


def fallback(func: Any, args: tuple[Any, ...], kwargs: dict) -> Any:
    """A function without a pattern rule: each output depends on every traced input.

    Non-float outputs (indices, booleans, shapes) are plain, as for a Dual.
    """
    run = _run_of(args, kwargs)
    out = kwargs.get("out")
    if out is not None:
        kwargs = {k: v for k, v in kwargs.items() if k != "out"}
    ans = func(*value_of(args), **value_of(kwargs))
    tracers = _tracers_in((args, kwargs), run)
    name = _name(func)
    floats = ans if isinstance(ans, list | tuple) else (ans,)
    if run is not None and tracers and any(_is_float(a) for a in floats):
        run.fallbacks[name] += 1
        ans = _conservative(ans, tracers, run, name)
    if out is not None:
        return store_out(out, ans)
    return ans


# --- the registry ------------------------------------------------------------------------------

_MATRIX_AXES = {np.linalg.matrix_norm, np.linalg.norm}
_EXTREMES = {np.max, np.min, np.amax, np.amin, np.nanmax, np.nanmin}

PATTERN_FUNCTIONS: dict[Any, Callable[..., Any]] = {}
"""NumPy function -> its pattern rule ``rule(func, args, kwargs)``; others fall back."""

SELECTIONS: dict[Any, tuple[tuple[str, int], ...]] = {
    np.reshape: (), np.ravel: (), np.transpose: (), np.swapaxes: (), np.moveaxis: (),
    np.rollaxis: (), np.squeeze: (), np.expand_dims: (), np.atleast_1d: (), np.atleast_2d: (),
    np.atleast_3d: (), np.broadcast_to: (), np.broadcast_arrays: (), np.concatenate: (),
    np.stack: (), np.vstack: (), np.hstack: (), np.dstack: (), np.column_stack: (),
    np.block: (), np.append: (), np.split: (), np.array_split: (), np.hsplit: (),
    np.vsplit: (), np.dsplit: (), np.roll: (), np.flip: (), np.fliplr: (), np.flipud: (),
    np.rot90: (), np.tile: (), np.diag: (), np.diagonal: (), np.diagflat: (), np.tril: (),
    np.triu: (), np.copy: (), np.zeros_like: (), np.ones_like: (),
    np.full_like: (), np.resize: (), np.matrix_transpose: (), np.linalg.diagonal: (),
    np.linalg.matrix_transpose: (), np.fft.fftshift: (), np.fft.ifftshift: (),
    np.where: (("condition", 0),), np.take: (("indices", 1),),
    np.take_along_axis: (("indices", 1),), np.compress: (("condition", 0),),
    np.extract: (("condition", 0),), np.select: (("condlist", 0),),
    np.choose: (("a", 0),), np.repeat: (("repeats", 1),), np.delete: (("obj", 1),),
    np.insert: (("obj", 1),), np.conjugate: (),
}  # fmt: skip
"""Functions that only move, copy or fill elements, with their arguments that are data."""

_IN_PLACE: dict[Any, tuple[tuple[str, int], ...]] = {
    np.put: (("ind", 1),), np.place: (("mask", 1),), np.putmask: (("mask", 1),),
    np.copyto: (("where", 3),), np.fill_diagonal: (), np.put_along_axis: (("indices", 1),),
}  # fmt: skip
"""Functions that write elements into their first argument."""

_REDUCTIONS: dict[Any, bool] = {
    np.sum: False, np.mean: False, np.nansum: False, np.nanmean: False, np.average: False,
    np.max: False, np.min: False, np.amax: False, np.amin: False, np.nanmax: False,
    np.nanmin: False, np.ptp: False, np.median: False, np.nanmedian: False,
    np.percentile: False, np.nanpercentile: False, np.quantile: False, np.nanquantile: False,
    np.prod: True, np.nanprod: True, np.std: True, np.var: True, np.nanstd: True,
    np.nanvar: True, np.linalg.norm: True, np.linalg.vector_norm: True,
    np.linalg.matrix_norm: True,
}  # fmt: skip
"""Reductions over ``axis``, with whether they are nonlinear (for Hessian patterns)."""

_CUMULATIVE: dict[Any, bool] = {
    np.cumsum: False, np.nancumsum: False, np.cumprod: True, np.nancumprod: True,
}
for _cumulative, _nonlinear in (("cumulative_sum", False), ("cumulative_prod", True)):
    if hasattr(np, _cumulative):
        _CUMULATIVE[getattr(np, _cumulative)] = _nonlinear

for _func, _by_value in SELECTIONS.items():
    PATTERN_FUNCTIONS[_func] = selection(_by_value)
for _func, _by_value in _IN_PLACE.items():
    PATTERN_FUNCTIONS[_func] = selection(_by_value, in_place=True)
for _func, _nonlinear in _REDUCTIONS.items():
    PATTERN_FUNCTIONS[_func] = reduction(nonlinear=_nonlinear)
for _func, _nonlinear in _CUMULATIVE.items():
    PATTERN_FUNCTIONS[_func] = cumulative(nonlinear=_nonlinear)
PATTERN_FUNCTIONS.update({
    np.empty_like: _empty_like, np.sort: _sort, np.pad: _pad, np.clip: _clip, np.diff: _diff,
    np.ediff1d: _ediff1d, np.trace: _trace, np.dot: _dot, np.vdot: _vdot, np.inner: _inner,
    np.outer: _outer, np.linalg.matmul: lambda func, args, kwargs: matmul(*args, **kwargs),
    np.sinc: elementwise_in("x", 0), np.i0: elementwise_in("x", 0),
    np.angle: elementwise_in("z", 0), np.interp: elementwise_in("x", 0),
    np.polyval: elementwise_in("x", 1), np.nan_to_num: selection(),
    np.real: _part, np.imag: _part,
    np.round: _constant_result, np.around: _constant_result, np.fix: _constant_result,
})  # fmt: skip
