"""The evaluation trace: a forward-mode computation, one elementary operation per row.

``trace(f, primals, tangents)`` runs ``f`` once on stand-ins for its inputs
and records, for every elementary operation, the intermediate's name, the
operation, its primal value and its tangent: the *evaluation trace* (or
*Wengert list*) of the AD literature.  For ``n`` inputs the rows are named
``v₁₋ₙ … v₀`` (the inputs), then ``v₁, v₂, …`` (one per operation), as in
Baydin et al., "Automatic Differentiation in Machine Learning: a Survey"
(JMLR 2018), Table 2.

How it works
------------
The inputs are wrapped in a small proxy holding a :class:`~dualdiff.Dual` and
its row.  Every operation on a proxy -- an operator, a NumPy ufunc, a NumPy
function, indexing -- unwraps its operands, performs the operation with
ordinary dualdiff (so values and tangents are exactly the library's), records
a row and wraps the result in a new proxy.  Nothing of this touches
dualdiff's own code paths: a program that is not being traced pays nothing.

What is and is not recorded
---------------------------
Operations whose result depends on an input are recorded; operations on
constants alone are not (they are constants to the derivative, and appear in
later rows as numbers).  Functions returning plain results (comparisons,
``np.sign``, ``np.shape``) are not recorded either.  The proxies behave like
dual numbers -- comparisons compare values, ``float()`` refuses -- but they are
not instances of ``Dual``.
"""

from __future__ import annotations

import inspect
import math
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from dualdiff.api import extract
from dualdiff.dispatch import batch_shape
from dualdiff.dual import Dual
from dualdiff.memory import tags_in
from dualdiff.tags import new_tag, running
from dualdiff.trace_table import (
    MAX_ROWS,
    EvaluationTrace,
    Name,
    TraceRow,
    Untraced,
    operation_text,
    row_name,
)

__all__ = ["MAX_ROWS", "EvaluationTrace", "TraceRow", "trace"]

Order = Literal["depth", "execution"]


# --- recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """An operand that is an earlier intermediate, by its position in the recording."""

    node: int


@dataclass(frozen=True, eq=False)
class _Node:
    """A row as recorded, before the rows are ordered and named."""

    function: Callable[..., Any] | None
    operands: tuple[Any, ...]
    keywords: Mapping[str, Any]
    part: int | None
    value: Any
    tangent: Any
    depth: int
    label: str = ""


class _Recorder:
    """The rows of one trace, shared by all of its proxies."""

    def __init__(self, tag: int) -> None:
        self.tag = tag
        self.nodes: list[_Node] = []

    def seed(self, dual: Dual, label: str) -> _Traced:
        """Record an input and return its proxy."""
        self.nodes.append(_Node(None, (), {}, None, dual.value, dual.tangent, 0, label))
        return _Traced(dual, self, len(self.nodes) - 1)

    def record(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        result: Any,
    ) -> Any:
        """Record ``result = function(*args, **kwargs)`` and return it wrapped in proxies."""
        if isinstance(result, tuple | list) and any(type(r) is Dual for r in result):
            return type(result)(
                self._record_one(function, args, kwargs, item, part)
                for part, item in enumerate(result)
            )
        return self._record_one(function, args, kwargs, result, None)

    def _record_one(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        result: Any,
        part: int | None,
    ) -> Any:
        if type(result) is not Dual or result.tag != self.tag:
            return result  # a plain result, or a dual number of an inner derivative call
        refs: list[int] = []
        operands = self._refer(args, refs)
        keywords = {key: self._refer(value, refs) for key, value in kwargs.items()}
        depth = 1 + max((self.nodes[i].depth for i in refs), default=0)
        node = _Node(function, operands, keywords, part, result.value, result.tangent, depth)
        self.nodes.append(node)
        return _Traced(result, self, len(self.nodes) - 1)

    def _refer(self, x: Any, refs: list[int]) -> Any:
        """``x`` with this trace's proxies replaced by references to their rows."""
        if type(x) is _Traced:
            if x._recorder is self:
                refs.append(x._node)
                return _Ref(x._node)
            return x._dual
        if type(x) is Dual and x.tag == self.tag:
            return Untraced(x.value)  # computed from the inputs, but outside the trace
        if type(x) is tuple or type(x) is list:
            return type(x)(self._refer(item, refs) for item in x)
        return x

    def rows(self, order: Order) -> tuple[list[TraceRow], dict[int, str]]:
        """The rows, ordered and named, and the name of each recorded node."""
        nodes = self.nodes
        inputs = [i for i, node in enumerate(nodes) if node.function is None]
        steps = [i for i, node in enumerate(nodes) if node.function is not None]
        if order == "depth":
            steps.sort(key=lambda i: nodes[i].depth)  # stable: ties keep the execution order
        names = {i: row_name(k + 1 - len(inputs)) for k, i in enumerate(inputs)}
        names |= {i: row_name(k + 1) for k, i in enumerate(steps)}

        def resolve(x: Any) -> Any:
            if type(x) is _Ref:
                return Name(names[x.node])
            if type(x) is tuple or type(x) is list:
                return type(x)(resolve(item) for item in x)
            return x

        rows = []
        for i in inputs + steps:
            node = nodes[i]
            row = TraceRow(
                names[i],
                node.label,
                resolve(node.operands),
                node.value,
                node.tangent,
                node.function,
                {key: resolve(value) for key, value in node.keywords.items()},
                node.part,
            )
            if node.function is not None:
                row = replace(row, operation=operation_text(row, "unicode"))
            rows.append(row)
        return rows, names


def _plain(x: Any) -> Any:
    """``x`` with every proxy replaced by its dual number (inside tuples, lists and dicts)."""
    if type(x) is _Traced:
        return x._dual
    if type(x) is tuple or type(x) is list:
        return type(x)(_plain(item) for item in x)
    if type(x) is dict:
        return {key: _plain(value) for key, value in x.items()}
    return x


def _forward(ufunc: Callable[..., Any], method: str) -> Callable[..., Any]:
    """The proxy's operator ``method`` (``__add__``), recorded as ``ufunc``."""

    def operate(self: _Traced, other: Any, *modulo: Any) -> Any:
        result = getattr(self._dual, method)(_plain(other), *modulo)
        if result is NotImplemented:
            return NotImplemented
        return self._recorder.record(ufunc, (self, other), {}, result)

    operate.__name__ = method
    return operate


def _reflected(ufunc: Callable[..., Any], method: str) -> Callable[..., Any]:
    """The proxy's reflected operator ``method`` (``__radd__``): ``other`` comes first."""

    def operate(self: _Traced, other: Any) -> Any:
        result = getattr(self._dual, method)(_plain(other))
        if result is NotImplemented:
            return NotImplemented
        return self._recorder.record(ufunc, (other, self), {}, result)

    operate.__name__ = method
    return operate


def _unary(ufunc: np.ufunc) -> Callable[..., Any]:
    """The proxy's unary operator for ``ufunc`` (``-x``, ``+x``, ``abs(x)``)."""

    def operate(self: _Traced) -> Any:
        return self._recorder.record(ufunc, (self,), {}, ufunc(self._dual))

    operate.__name__ = ufunc.__name__
    return operate


def _given(**keywords: Any) -> dict[str, Any]:
    """The keyword arguments that differ from their defaults (``None`` / ``False``)."""
    return {
        key: value for key, value in keywords.items() if value is not None and value is not False
    }


class _Traced:
    """A dual number being traced: every operation on it is recorded as a row.

    It behaves like the :class:`~dualdiff.Dual` it holds (operators, NumPy
    ufuncs and functions, indexing, comparisons on values, conversions that
    refuse to drop the tangent).
    """

    __slots__ = ("_dual", "_node", "_recorder")
    __hash__ = None  # type: ignore[assignment]  # as Dual's

    def __init__(self, dual: Dual, recorder: _Recorder, node: int) -> None:
        self._dual = dual
        self._recorder = recorder
        self._node = node

    # --- NumPy protocols ---------------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        result = getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))
        function = ufunc if method == "__call__" else getattr(ufunc, method)
        return self._recorder.record(function, inputs, kwargs, result)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        result = func(*_plain(args), **_plain(kwargs))
        return self._recorder.record(func, args, kwargs, result)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._dual.__array__(dtype, copy)  # refuses, as a Dual does

    # --- operators ---------------------------------------------------------------------------
    __add__, __radd__ = _forward(np.add, "__add__"), _reflected(np.add, "__radd__")
    __sub__, __rsub__ = _forward(np.subtract, "__sub__"), _reflected(np.subtract, "__rsub__")
    __mul__, __rmul__ = _forward(np.multiply, "__mul__"), _reflected(np.multiply, "__rmul__")
    __truediv__ = _forward(np.divide, "__truediv__")
    __rtruediv__ = _reflected(np.divide, "__rtruediv__")
    __floordiv__ = _forward(np.floor_divide, "__floordiv__")
    __rfloordiv__ = _reflected(np.floor_divide, "__rfloordiv__")
    __mod__, __rmod__ = _forward(np.remainder, "__mod__"), _reflected(np.remainder, "__rmod__")
    __pow__, __rpow__ = _forward(np.power, "__pow__"), _reflected(np.power, "__rpow__")
    __matmul__ = _forward(np.matmul, "__matmul__")
    __rmatmul__ = _reflected(np.matmul, "__rmatmul__")
    __divmod__, __rdivmod__ = _forward(divmod, "__divmod__"), _reflected(divmod, "__rdivmod__")
    __neg__, __pos__, __abs__ = _unary(np.negative), _unary(np.positive), _unary(np.absolute)

    # --- indexing and shape ------------------------------------------------------------------
    def __getitem__(self, index: Any) -> Any:
        return self._recorder.record(operator.getitem, (self, index), {}, self._dual[index])

    def __len__(self) -> int:
        return len(self._dual)

    def __iter__(self) -> Iterator[Any]:
        if self._dual.ndim == 0:
            raise TypeError("iteration over a scalar Dual")
        return (self[i] for i in range(len(self)))

    @property
    def shape(self) -> tuple[int, ...]:
        """The value's shape."""
        return self._dual.shape

    @property
    def ndim(self) -> int:
        """The value's number of dimensions."""
        return self._dual.ndim

    @property
    def size(self) -> int:
        """The value's number of elements."""
        return self._dual.size

    @property
    def dtype(self) -> np.dtype:
        """The value's dtype."""
        return self._dual.dtype

    @property
    def value(self) -> Any:
        """The primal value (taking it leaves the trace, as it leaves differentiation)."""
        return self._dual.value

    @property
    def tangent(self) -> Any:
        """The tangent."""
        return self._dual.tangent

    @property
    def tag(self) -> int:
        """The tag of the trace's differentiation."""
        return self._dual.tag

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy's name
        """The transpose, as ``ndarray.T``."""
        return np.transpose(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Sum of elements, as ``numpy.sum``."""
        return np.sum(self, **_given(axis=axis, keepdims=keepdims))

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        """Mean of elements, as ``numpy.mean``."""
        return np.mean(self, **_given(axis=axis, keepdims=keepdims))

    def dot(self, other: Any) -> Any:
        """Dot product, as ``numpy.dot``."""
        return np.dot(self, other)

    def reshape(self, *shape: Any) -> Any:
        """Reshape, as ``ndarray.reshape``."""
        return np.reshape(self, shape[0] if len(shape) == 1 else shape)

    def ravel(self) -> Any:
        """Flatten to one dimension, as ``numpy.ravel``."""
        return np.ravel(self)

    def transpose(self, *axes: Any) -> Any:
        """Permute axes, as ``ndarray.transpose``."""
        if len(axes) == 1:
            axes = axes[0]
        return np.transpose(self, axes) if axes else np.transpose(self)

    # --- comparisons and conversions: as a Dual's --------------------------------------------
    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self._dual == _plain(other)

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self._dual != _plain(other)

    def __lt__(self, other: Any) -> Any:
        return self._dual < _plain(other)

    def __le__(self, other: Any) -> Any:
        return self._dual <= _plain(other)

    def __gt__(self, other: Any) -> Any:
        return self._dual > _plain(other)

    def __ge__(self, other: Any) -> Any:
        return self._dual >= _plain(other)

    def __bool__(self) -> bool:
        return bool(self._dual)

    def __float__(self) -> float:
        return float(self._dual)

    def __int__(self) -> int:
        return int(self._dual)

    def __complex__(self) -> complex:
        return complex(self._dual)

    def __index__(self) -> int:
        return operator.index(self._dual)

    def __round__(self, ndigits: int | None = None) -> Any:
        return self._dual.__round__(ndigits)

    def __floor__(self) -> int:
        return math.floor(self._dual)

    def __ceil__(self) -> int:
        return math.ceil(self._dual)

    def __trunc__(self) -> int:
        return math.trunc(self._dual)

    def __repr__(self) -> str:
        return f"traced({self._dual!r})"

    def __str__(self) -> str:
        return str(self._dual)


# --- the entry point ---------------------------------------------------------------------------


def _input_names(f: Callable[..., Any], count: int) -> list[str]:
    """The names of ``f``'s first ``count`` positional parameters, else ``x1``, ``x2``, ..."""
    try:
        parameters = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        parameters = []  # type: ignore[assignment]
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    names = [p.name for p in parameters if p.kind in kinds]
    if len(names) >= count:
        return names[:count]
    return ["x"] if count == 1 else [f"x{i + 1}" for i in range(count)]


def _unwrap_output(out: Any, recorder: _Recorder, nodes: list[int | None]) -> Any:
    """``out`` with proxies replaced by dual numbers; the node of each output in ``nodes``."""
    if isinstance(out, tuple | list):
        return type(out)(_unwrap_output(item, recorder, nodes) for item in out)
    if type(out) is _Traced and out._recorder is recorder:
        nodes.append(out._node)
        return out._dual
    nodes.append(None)
    return _plain(out)


def trace(
    f: Callable[..., Any],
    primals: Sequence[Any],
    tangents: Sequence[Any],
    *,
    names: Sequence[str] | None = None,
    order: Order = "depth",
) -> EvaluationTrace:
    """Evaluate ``f`` once in forward mode and record every elementary operation.

    Parameters
    ----------
    f : callable
        ``f(*primals)`` returns a number, an array, or a tuple/list of them, as
        for :func:`dualdiff.jvp`.
    primals : tuple
        The positional arguments (numbers or arrays).
    tangents : tuple
        One direction per argument, of that argument's shape, or with one more
        leading axis of ``k`` directions (the trace then shows ``k`` tangents).
    names : sequence of str, optional
        The inputs' names in the table.  Default: the names of ``f``'s
        positional parameters, else ``x1``, ``x2``, ...
    order : {"depth", "execution"}
        ``"depth"`` (default) lists the operations by their depth in the
        computational graph (the longest path from an input), ties in execution
        order, as in the literature's tables; ``"execution"`` lists them in the
        order they ran.  Both are valid evaluation orders.

    Returns
    -------
    EvaluationTrace
        The rows, the output and its tangent.

    Examples
    --------
    Table 2 of Baydin et al. (2018), the forward trace of
    ``f(x1, x2) = ln(x1) + x1*x2 - sin(x2)`` at ``(2, 5)`` along ``(1, 0)``:

    >>> import numpy as np
    >>> t = trace(lambda x1, x2: np.log(x1) + x1 * x2 - np.sin(x2), (2.0, 5.0), (1.0, 0.0))
    >>> print(t)
    name  operation  value      tangent
    ----  ---------  ---------  -------
    v₋₁   x1         2          1
    v₀    x2         5          0
    v₁    ln v₋₁     0.693147   0.5
    v₂    v₋₁ × v₀   10         5
    v₃    sin v₀     -0.958924  0
    v₄    v₁ + v₂    10.6931    5.5
    v₅    v₄ − v₃    11.6521    5.5
    y     v₅         11.6521    5.5
    >>> t.output_tangent
    5.5
    """  # noqa: RUF002 - the table's multiplication and minus signs
    if not callable(f):
        raise TypeError(
            f"trace(f, primals, tangents) expects a function first, got {type(f).__name__}"
        )
    if not isinstance(primals, tuple | list) or not isinstance(tangents, tuple | list):
        raise TypeError(
            "trace(f, primals, tangents) takes tuples of positional arguments, "
            "e.g. trace(f, (x,), (v,))"
        )
    if len(primals) != len(tangents):
        raise ValueError(
            f"trace got {len(primals)} primals but {len(tangents)} tangents; give one per argument"
        )
    if order not in ("depth", "execution"):
        raise ValueError(f"order must be 'depth' or 'execution', not {order!r}")
    labels = _input_names(f, len(primals)) if names is None else [str(n) for n in names]
    if len(labels) != len(primals):
        raise ValueError(f"trace got {len(labels)} names for {len(primals)} inputs")
    tag = new_tag()
    seeds = [Dual(p, t, tag=tag) for p, t in zip(primals, tangents, strict=True)]
    batches = {batch_shape(d) for d in seeds}
    if len(batches) > 1:
        raise ValueError(f"all tangents must carry the same batch of directions, got {batches}")
    recorder = _Recorder(tag)
    proxies = [recorder.seed(d, label) for d, label in zip(seeds, labels, strict=True)]
    output_nodes: list[int | None] = []
    with running(tag, *tags_in(primals)):
        out = _unwrap_output(f(*proxies), recorder, output_nodes)
    output, output_tangent = extract(out, tag, batches.pop() if batches else ())
    rows, node_names = recorder.rows(order)
    return EvaluationTrace(
        tuple(rows),
        output,
        output_tangent,
        tuple(None if node is None else node_names[node] for node in output_nodes),
    )
