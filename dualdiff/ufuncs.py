"""NumPy's ufunc protocol on dual numbers: every method and keyword.

:func:`call_ufunc` is the general path behind ``Dual.__array_ufunc__`` (the
scalar fast paths of :mod:`dualdiff.dispatch` come first): every ufunc
method (``__call__``, ``reduce``, ``accumulate``, ``reduceat``, ``outer``,
``at``) and the keywords ``out``, ``where`` and ``dtype``.  A plain call is
the chain rule of the ufunc's row; reductions, scans and in-place updates
are built here from the same values and tangents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dispatch import (
    INTEGER_ARGUMENT_RULES,
    PLAIN,
    RULES,
    apply_binary,
    apply_multi_output,
    apply_nary,
    apply_unary,
    batch_shape,
    make,
)
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.rules import COMPOSED, INTEGER_ONLY, MULTI_OUTPUT

_PYTHON_SCALARS = (float, complex)

def call_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """Handle ``Dual.__array_ufunc__``: every ufunc method, with ``out``, ``where`` and ``dtype``.

    ``where`` (of ``__call__`` and ``outer``) needs ``out``: NumPy leaves the
    entries it skips undefined otherwise.  Those entries are computed and then
    dropped, with floating-point warnings silenced.  ``dtype`` must be a
    floating-point or complex type; the inputs are cast to it first.
    """
    if ufunc in PLAIN:
        return _call_plain(ufunc, method, inputs, kwargs)
    if ufunc in _INTEGER_ONLY:
        raise TypeError(
            f"{_qualified(ufunc)} is defined for integers only, and a Dual holds "
            "floating-point values"
        )
    handler = _METHODS.get(method)
    if handler is None:
        raise TypeError(
            f"dualdiff does not differentiate the ufunc method {_qualified(ufunc)}.{method}"
        )
    kwargs = dict(kwargs)
    out = kwargs.pop("out", None)
    where = strip(kwargs.pop("where", True)) if method in ("__call__", "outer") else True
    if isinstance(where, np.bool_) and where:
        where = True
    dtype = kwargs.pop("dtype", None)
    if dtype is not None:
        inputs = _cast_inputs(ufunc, method, inputs, dtype)
    if where is not True and out is None:
        raise TypeError(
            f"{_qualified(ufunc)} with where= needs out=: NumPy leaves the entries where= "
            "skips undefined"
        )
    if method != "at" and not any(type(x) is Dual for x in inputs):  # only out= holds a Dual
        result = getattr(ufunc, method)(*inputs, **kwargs)
    elif where is not True:
        with np.errstate(all="ignore"):  # the skipped entries are computed, then dropped
            result = handler(ufunc, inputs, kwargs)
    else:
        result = handler(ufunc, inputs, kwargs)
    if out is None:
        return memory.settle(result, inputs)
    return _store(ufunc, out, result, where)


def _qualified(ufunc: np.ufunc) -> str:
    """``numpy.sin``, or the bare name of a ufunc from elsewhere (SciPy's)."""
    name = ufunc.__name__
    return f"numpy.{name}" if getattr(np, name, None) is ufunc else name


def _reject_arguments(ufunc: np.ufunc, method: str, kwargs: dict) -> None:
    if kwargs:
        where = _qualified(ufunc) + ("" if method == "__call__" else f".{method}")
        raise TypeError(f"dualdiff does not support the arguments {sorted(kwargs)} of {where}")


def _has_dual(x: Any) -> bool:
    if isinstance(x, tuple | list):
        return any(_has_dual(item) for item in x)
    return type(x) is Dual


def _call_plain(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """A ufunc with plain (boolean) results acts on the values."""
    if _has_dual(kwargs.get("out")):
        raise TypeError(
            f"{_qualified(ufunc)} returns booleans, which a Dual cannot hold; pass a plain "
            "array as out"
        )
    return getattr(ufunc, method)(*(strip(x) for x in inputs), **kwargs)


def _call(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """``ufunc(*inputs)``: the chain rule of the ufunc's row."""
    _reject_arguments(ufunc, "__call__", kwargs)
    if ufunc in COMPOSED:
        return tuple(part(*inputs) for part in COMPOSED[ufunc][0])
    if ufunc in MULTI_OUTPUT:
        return apply_multi_output(ufunc, *inputs)
    rule = RULES.get(ufunc) or INTEGER_ARGUMENT_RULES.get(ufunc)
    if rule is None:
        raise TypeError(
            f"dualdiff has no derivative rule for {_qualified(ufunc)}; register one with "
            "dualdiff.register_ufunc"
        )
    if len(inputs) == 1:
        return apply_unary(rule, inputs[0])
    if len(inputs) == 2:
        return apply_binary(rule, *inputs)
    return apply_nary(rule, *inputs)


def _outer(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> Any:
    """``ufunc.outer(a, b)``: ``a`` gets a new axis per axis of ``b``; ``ufunc`` broadcasts."""
    a, b = inputs
    a = np.reshape(a, np.shape(strip(a)) + (1,) * np.ndim(strip(b)))
    return _call(ufunc, (a, b), kwargs)


# --- reductions and scans ----------------------------------------------------------------------

_NO_INITIAL = object()


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    """Non-negative axes (NumPy has already validated them on the values)."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple | list) else (axis,)
    return tuple(int(a) % ndim for a in axes) if ndim else ()


def _reduce(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> Dual:
    """``ufunc.reduce``: sums, products, and the selected extremum."""
    rule = _REDUCERS.get(ufunc)
    if rule is None:
        raise TypeError(
            f"dualdiff differentiates the ufunc method reduce of {_REDUCER_NAMES} only, "
            f"not {_qualified(ufunc)}.reduce"
        )
    (x,) = inputs
    axis = kwargs.pop("axis", 0)
    keepdims = kwargs.pop("keepdims", False)
    where = strip(kwargs.pop("where", True))
    initial = kwargs.pop("initial", _NO_INITIAL)
    _reject_arguments(ufunc, "reduce", kwargs)
    if type(initial) is Dual:
        raise TypeError(
            f"dualdiff does not differentiate initial= of {_qualified(ufunc)}.reduce; "
            "combine the result with it instead"
        )
    options: dict[str, Any] = {"keepdims": keepdims, "where": where}
    if initial is not _NO_INITIAL:
        options["initial"] = initial
    value = ufunc.reduce(x.value, axis=axis, **options)
    axes = _axes(axis, np.ndim(strip(x.value)))
    return make(value, rule(ufunc, x, axes, options), x.tag)


def _shifted(axes: tuple[int, ...], x: Dual) -> tuple[int, ...]:
    """Axes of the value, as axes of the tangent (behind a batch axis)."""
    shift = len(batch_shape(x))
    return tuple(a + shift for a in axes)


def _linear_reduce(ufunc: np.ufunc, x: Dual, axes: tuple[int, ...], options: dict) -> Any:
    # add, subtract: the same reduction of the tangent; initial= is a constant.
    options = {**options, "initial": 0} if "initial" in options else options
    return ufunc.reduce(x.tangent, axis=_shifted(axes, x), **options)


def _product_reduce(ufunc: np.ufunc, x: Dual, axes: tuple[int, ...], options: dict) -> Any:
    # sum over i of t_i times the product of all the other x_j, without dividing by x_i.
    values, tangents, where = x.value, x.tangent, options["where"]
    if where is not True:  # left-out entries count as 1, with no tangent
        values, tangents = np.where(where, values, 1), np.where(where, tangents, 0)
    batch = batch_shape(x)
    ndim = np.ndim(strip(values))
    kept = tuple(a for a in range(ndim) if a not in axes)
    kept_shape = tuple(np.shape(strip(values))[a] for a in kept)
    values = np.reshape(np.transpose(values, kept + axes), (*kept_shape, -1))
    shift = len(batch)
    order = tuple(range(shift)) + tuple(a + shift for a in kept + axes)
    tangents = np.reshape(np.transpose(tangents, order), (*batch, *kept_shape, -1))
    before = _exclusive_products(values)
    after = _exclusive_products(values[..., ::-1])[..., ::-1]
    tangent = np.add.reduce(before * after * tangents, axis=-1)
    if "initial" in options:
        tangent = options["initial"] * tangent
    if options["keepdims"]:
        full = tuple(1 if a in axes else n for a, n in enumerate(np.shape(strip(x.value))))
        tangent = np.reshape(tangent, batch + full)
    return tangent


def _exclusive_products(values: Any) -> Any:
    """Along the last axis: entry ``i`` is the product of the entries before ``i`` (1 first)."""
    shape = np.shape(strip(values))
    ones = np.ones((*shape[:-1], 1), dtype=np.result_type(strip(values)))
    if shape[-1] == 0:
        return values
    return np.concatenate([ones, np.multiply.accumulate(values[..., :-1], axis=-1)], axis=-1)


def _extremum_reduce(ufunc: np.ufunc, x: Dual, axes: tuple[int, ...], options: dict) -> Any:
    # The selected entry gets the whole slope; entries tied with it (initial= included)
    # share it evenly, as np.maximum splits a tie (see conventions).
    value = x.value
    best = ufunc.reduce(value, axis=axes, **{**options, "keepdims": True})
    with np.errstate(invalid="ignore"):
        chosen = (value == best) | (np.isnan(value) & np.isnan(best))
    if options["where"] is not True:
        chosen = chosen & options["where"]
    count = np.add.reduce(chosen, axis=axes, keepdims=True)
    if "initial" in options:
        count = count + (best == options["initial"])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(count > 0, chosen / np.maximum(count, 1), 0)
    share = share.astype(np.result_type(strip(value), np.float16))
    return np.add.reduce(share * x.tangent, axis=_shifted(axes, x), keepdims=options["keepdims"])


_REDUCERS: dict[np.ufunc, Callable[..., Any]] = {
    np.add: _linear_reduce,
    np.subtract: _linear_reduce,
    np.multiply: _product_reduce,
    np.maximum: _extremum_reduce,
    np.minimum: _extremum_reduce,
    np.fmax: _extremum_reduce,
    np.fmin: _extremum_reduce,
}
_REDUCER_NAMES = ", ".join(f"numpy.{u.__name__}" for u in _REDUCERS)


def _accumulate(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> Dual:
    """``ufunc.accumulate``: running sums and running products."""
    if ufunc not in (np.add, np.subtract, np.multiply):
        raise TypeError(
            "dualdiff differentiates the ufunc method accumulate of numpy.add, numpy.subtract "
            f"and numpy.multiply only, not {_qualified(ufunc)}.accumulate"
        )
    (x,) = inputs
    axis = kwargs.pop("axis", 0)
    _reject_arguments(ufunc, "accumulate", kwargs)
    value = ufunc.accumulate(x.value, axis=axis)
    (axis,) = _shifted(_axes(axis, np.ndim(strip(x.value))), x)
    if ufunc is not np.multiply:
        return make(value, ufunc.accumulate(x.tangent, axis=axis), x.tag)
    shift = len(batch_shape(x))
    values = np.moveaxis(x.value, axis - shift, -1)
    tangent = _running_product_tangent(values, np.moveaxis(x.tangent, axis, -1))
    return make(value, np.moveaxis(tangent, -1, axis), x.tag)


def _running_product_tangent(values: Any, tangents: Any) -> Any:
    """Tangent of the running product along the last axis.

    The pairs ``(x_i, t_i)`` are multiplied as dual numbers in a doubling scan
    (``log2(n)`` steps), so no ``x_i`` is divided by and zeros are exact.
    """
    length = np.shape(strip(values))[-1]
    step = 1
    while step < length:
        values_before = _from_earlier(values, step, 1)
        tangents_before = _from_earlier(tangents, step, 0)
        values, tangents = (
            values * values_before,
            tangents * values_before + values * tangents_before,
        )
        step *= 2
    return tangents


def _from_earlier(x: Any, step: int, fill: float) -> Any:
    """``x`` moved ``step`` places along the last axis; the first ``step`` entries are ``fill``."""
    shape = np.shape(strip(x))
    pad = np.full((*shape[:-1], step), fill, dtype=np.result_type(strip(x)))
    return np.concatenate([pad, x[..., :-step]], axis=-1)


def _reduceat(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> Dual:
    """``numpy.add.reduceat``: sums of slices, the same for the tangent."""
    if ufunc is not np.add:
        raise TypeError(
            "dualdiff differentiates the ufunc method reduceat of numpy.add only, not "
            f"{_qualified(ufunc)}.reduceat"
        )
    x, indices = inputs
    if type(x) is not Dual or _has_dual(indices):
        raise TypeError("numpy.add.reduceat takes a Dual array and plain integer indices")
    axis = kwargs.pop("axis", 0)
    _reject_arguments(ufunc, "reduceat", kwargs)
    value = np.add.reduceat(x.value, indices, axis=axis)
    (axis,) = _shifted(_axes(axis, np.ndim(strip(x.value))), x)
    return make(value, np.add.reduceat(x.tangent, indices, axis=axis), x.tag)


# --- in place: ufunc.at and out= ---------------------------------------------------------------


def _at(ufunc: np.ufunc, inputs: tuple[Any, ...], kwargs: dict) -> None:
    """``ufunc.at(a, index, b)`` for add, subtract, multiply: ``a``'s value and tangent in place."""
    name = f"{_qualified(ufunc)}.at"
    if ufunc not in (np.add, np.subtract, np.multiply) or len(inputs) != 3:
        raise TypeError(
            "dualdiff differentiates the ufunc method at of numpy.add, numpy.subtract and "
            f"numpy.multiply with an operand only, not {name}"
        )
    _reject_arguments(ufunc, "at", kwargs)
    target, index, operand = inputs
    if type(target) is not Dual:
        raise TypeError(
            f"{name} would write a Dual into a plain array and lose its tangent; make the "
            "target a Dual, or pass the operand's .value"
        )
    if _has_dual(index):
        raise TypeError("a Dual cannot be used as an index; index with integers or .value")
    if type(operand) is Dual and operand.tag > target.tag:
        raise TypeError(f"{name} would write a Dual into an outer Dual and lose its tangent")
    live = type(operand) is Dual and operand.tag == target.tag
    shape = np.shape(strip(target.value))
    positions = np.arange(int(np.prod(shape))).reshape(shape)[index]
    flat = np.ravel(positions)
    cells = np.unravel_index(flat, shape)
    operand_value = operand.value if live else operand
    b = np.reshape(np.broadcast_to(operand_value, positions.shape), (-1,))
    batch = batch_shape(target)
    memory.read_only_check(target)
    if live or type(operand) is Dual:
        memory.ensure_levels(target, operand.value if live else operand)
    db = _flat_tangent(operand, positions.shape, batch) if live else None
    if ufunc is not np.multiply:  # linear: the same update of the tangent
        ufunc.at(target.value, cells, b)
        if db is not None:
            ufunc.at(target.tangent, _batched(cells, batch), db)
        return
    # d(a * b) = da * b + a * db: each round updates every cell at most once, so the a of a
    # cell hit several times is the product so far.
    rank = _occurrence(flat)
    for r in range(int(rank.max(initial=-1)) + 1):
        chosen = rank == r
        round_cells = tuple(c[chosen] for c in cells)
        factor = b[chosen]
        before = target.value[round_cells]
        np.multiply.at(target.tangent, _batched(round_cells, batch), factor)
        if db is not None:
            update = before * db[..., chosen]
            np.add.at(target.tangent, _batched(round_cells, batch), update)
        np.multiply.at(target.value, round_cells, factor)


def _batched(cells: tuple[Any, ...], batch: tuple[int, ...]) -> tuple[Any, ...]:
    return (slice(None), *cells) if batch else cells


def _flat_tangent(operand: Dual, shape: tuple[int, ...], batch: tuple[int, ...]) -> Any:
    """The operand's tangent broadcast to ``shape`` (behind the batch axis) and flattened."""
    tangent = operand.tangent
    core = np.shape(strip(operand.value))
    if batch:
        tangent = np.reshape(tangent, batch + (1,) * (len(shape) - len(core)) + core)
    return np.reshape(np.broadcast_to(tangent, batch + shape), (*batch, -1))


def _occurrence(positions: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries name the same position (0 for the first)."""
    order = np.argsort(positions, kind="stable")
    ordered = positions[order]
    starts = np.ones(len(ordered), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(ordered)) - first
    return rank


def _store(ufunc: np.ufunc, out: tuple[Any, ...], result: Any, where: Any) -> Any:
    """Write the result(s) into ``out`` (NumPy passes a tuple, one entry per output)."""
    results = result if isinstance(result, tuple) else (result,)
    stored = tuple(
        r if target is None else _write(ufunc, target, r, where)
        for target, r in zip(out, results, strict=True)
    )
    return stored if isinstance(result, tuple) else stored[0]


def _write(ufunc: np.ufunc, target: Any, source: Any, where: Any) -> Any:
    """Write ``source`` into ``target`` where ``where`` holds; a Dual target gets both parts."""
    if type(target) is not Dual:
        if type(source) is Dual:
            raise TypeError(
                f"out= of {_qualified(ufunc)} is a plain array: writing a Dual into it would "
                "lose its tangent; pass a Dual as out (e.g. np.zeros_like(x) for a Dual x), "
                "or compute on .value"
            )
        np.copyto(target, source, where=where, casting="same_kind")
        return target
    if type(source) is Dual and source.tag == target.tag and batch_shape(source) != (
        batch := batch_shape(target)
    ):
        raise TypeError(
            f"out= of {_qualified(ufunc)} carries {batch or 'no'} batch of tangents, the "
            f"result {batch_shape(source) or 'none'}"
        )
    memory.write(target, Ellipsis, source, where=where, what=f"out= of {_qualified(ufunc)}")
    return target


def _cast_inputs(
    ufunc: np.ufunc, method: str, inputs: tuple[Any, ...], dtype: Any
) -> tuple[Any, ...]:
    """The inputs cast to ``dtype=`` (floating-point only); integer arguments stay integers."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "fc":
        raise TypeError(
            f"dualdiff differentiates floating-point results; {_qualified(ufunc)} got "
            f"dtype={dtype}"
        )
    if method in ("reduce", "accumulate", "reduceat"):
        return (_cast(inputs[0], dtype), *inputs[1:])
    if ufunc in INTEGER_ARGUMENT_RULES:
        return tuple(x if np.result_type(strip(x)).kind in "biu" else _cast(x, dtype)
                     for x in inputs)
    return tuple(_cast(x, dtype) for x in inputs)


def _cast(x: Any, dtype: np.dtype) -> Any:
    if type(x) is Dual:
        return make(_cast(x.value, dtype), _cast(x.tangent, dtype), x.tag)
    return np.asarray(x, dtype=dtype)[()]


_METHODS: dict[str, Callable[[np.ufunc, tuple[Any, ...], dict], Any]] = {
    "__call__": _call,
    "outer": _outer,
    "reduce": _reduce,
    "accumulate": _accumulate,
    "reduceat": _reduceat,
    "at": _at,
}
_INTEGER_ONLY = frozenset(INTEGER_ONLY)
