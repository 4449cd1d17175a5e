"""The chain rule, applied in one place, and the registries NumPy dispatches to.

:func:`apply_unary` and :func:`apply_binary` turn a row of the derivative
table into a dual-number operation: evaluate the primitive on the values,
multiply each partial by its input's tangent, add.  They also settle which
operands are live: of two dual numbers with different tags the newer one is
differentiated and the older one is a constant (see :mod:`dualdiff.tags`).

Python floats take a fast path through the kernels of
:mod:`dualdiff.elementary` (NumPy's values bit for bit); when Python arithmetic
raises where NumPy would return ``inf`` or ``nan``, or a result is not
:func:`~dualdiff.elementary.ordinary` (it may have over- or underflowed
silently), the whole step is redone on ``numpy.float64`` under the caller's
``np.errstate``, so the fast path never changes a result, a warning or an
error.

:func:`dualdiff.ufuncs.call_ufunc` is the general path behind
``__array_ufunc__`` (every ufunc method and keyword).  :func:`nan_safe`
switches the chain rule to give 0, not NaN, for a zero tangent times an
infinite partial.
"""

from __future__ import annotations

import cmath
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import numpy as np

from dualdiff import memory
from dualdiff.dual import Dual, install_operators
from dualdiff.elementary import REAL_KERNELS, SCALAR_ERRORS, evaluator, ordinary, strip
from dualdiff.memory import batch_of as batch_shape
from dualdiff.memory import make
from dualdiff.rules import (
    INTEGER_ARGUMENTS,
    MULTI_OUTPUT,
    NON_HOLOMORPHIC,
    NOT_DIFFERENTIABLE,
    PLAIN_VALUED,
    UFUNC_RULES,
    UfuncRule,
)

RULES: dict[np.ufunc, UfuncRule] = {}
"""ufunc -> its row of the derivative table."""

EVALUATE: dict[np.ufunc, Callable[..., Any]] = {}
"""ufunc -> its fast evaluator (see :func:`dualdiff.elementary.evaluator`)."""

PLAIN: frozenset[np.ufunc] = frozenset(PLAIN_VALUED)
"""Ufuncs that act on values and return plain (non-dual) results."""

INTEGER_ARGUMENT_RULES: dict[np.ufunc, UfuncRule] = {}
"""ufunc -> its row, for ufuncs with an integer argument (``rules.INTEGER_ARGUMENTS``)."""

FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""NumPy function -> its dual implementation (``__array_function__``)."""

LAZY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {}
"""NumPy function -> its implementation for Duals of Dask arrays (:mod:`dualdiff.dask_arrays`)."""

FUNCTION_EXAMPLES: dict[Callable[..., Any], tuple[Any, ...]] = {}
"""NumPy function -> test inputs (each a tuple of args, or ``(args, kwargs)``)."""

_new = object.__new__
_NORMAL = 2.2250738585072014e-308  # the fast paths test for normal floats inline, then ordinary()
_HUGE = 1.7976931348623157e308
_SCALARS = (float, complex)
_NUMBERS = (float, int, complex)


def register_ufunc(rule: UfuncRule) -> UfuncRule:
    """Add (or replace) the derivative rule of a ufunc.

    Parameters
    ----------
    rule : UfuncRule
        The row: the ufunc, one partial per input, a test domain and
        optionally a sympy twin.

    Returns
    -------
    UfuncRule
        The rule, as registered.

    Examples
    --------
    A ufunc NumPy does not ship, made from ``math.erf``; its derivative is
    ``2 / sqrt(pi) * exp(-x**2)``, written with dualdiff's generic ``exp`` so
    that it also works on arrays and nested duals:

    >>> import math
    >>> import numpy as np
    >>> from dualdiff import Dual
    >>> from dualdiff.elementary import exp
    >>> from dualdiff.rules import unary
    >>> erf = np.frompyfunc(math.erf, 1, 1)
    >>> slope = lambda x, ans: 2 / math.sqrt(math.pi) * exp(-x * x)
    >>> _ = register_ufunc(unary(erf, slope, (-1.5, 0.3, 2.0), "erf"))
    >>> erf(Dual(0.0, 1.0)).tangent
    1.1283791670955126
    >>> _ = RULES.pop(erf)  # leave the registry as it was
    """
    wrapped = getattr(rule.ufunc, "__wrapped__", None)
    if not isinstance(rule.ufunc, np.ufunc) and isinstance(wrapped, np.ufunc):
        rule = replace(rule, ufunc=wrapped)  # SciPy's wrapper of a ufunc (SCIPY_ARRAY_API=1)
    RULES[rule.ufunc] = rule
    EVALUATE[rule.ufunc] = evaluator(rule.ufunc)
    if "_FAST_UNARY" in globals():
        _refresh_fast_unary(rule)
    return rule


for _rule in UFUNC_RULES:
    register_ufunc(_rule)

for _rule in INTEGER_ARGUMENTS:
    INTEGER_ARGUMENT_RULES[_rule.ufunc] = _rule
    EVALUATE[_rule.ufunc] = evaluator(_rule.ufunc)


@dataclass
class Settings:
    """Run-time switches of the chain rule (one process-wide instance, :data:`SETTINGS`).

    Attributes
    ----------
    nan_safe : bool
        Whether a zero tangent times an infinite or NaN partial gives 0 (see
        :func:`nan_safe`).
    """

    nan_safe: bool = False


SETTINGS = Settings()


def register_function(
    func: Callable[..., Any], *, examples: tuple[Any, ...]
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering the dual implementation of a NumPy function.

    Parameters
    ----------
    func : callable
        The NumPy function, e.g. ``numpy.sum``; dispatch is by the function
        object, never by name.
    examples : tuple
        Inputs the test suite checks the implementation on: each entry is a
        tuple of positional arguments (arrays become dual numbers) or a pair
        ``(args, kwargs)``.  A function without examples fails the tests.

    Returns
    -------
    callable
        The decorator.

    Examples
    --------
    ``numpy.sinc`` written with operations dualdiff already differentiates
    (valid away from 0, which these examples avoid), in place of dualdiff's
    own rule, which is put back afterwards:

    >>> import numpy as np
    >>> from dualdiff import Dual
    >>> own = FUNCTIONS[np.sinc], FUNCTION_EXAMPLES[np.sinc]
    >>> @register_function(np.sinc, examples=((np.array([0.3, -1.2, 2.5]),),))
    ... def sinc(x):
    ...     return np.sin(np.pi * x) / (np.pi * x)
    >>> round(np.sinc(Dual(0.5, 1.0)).tangent, 12)  # -4 / pi at 1/2
    -1.273239544735
    >>> FUNCTIONS[np.sinc], FUNCTION_EXAMPLES[np.sinc] = own  # leave the registry as it was
    """

    def decorate(implementation: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[func] = implementation
        FUNCTION_EXAMPLES[func] = tuple(examples)
        return implementation

    return decorate


# --- operands ----------------------------------------------------------------------------------


def is_operand(x: Any) -> bool:
    """Whether ``x`` may meet a dual number in arithmetic (as a constant or a dual).

    Lists and tuples are operands, as NumPy takes them (``x * [1.0, 2.0]``);
    :func:`_constant` makes them arrays, or refuses them clearly.
    """
    if isinstance(x, int | float | complex):  # bool too
        return True
    if isinstance(x, Dual | np.ndarray | np.generic):
        return x.dtype.kind in "biufc"
    return isinstance(x, list | tuple) or (memory.is_lazy(x) and x.dtype.kind in "biufc")


def _constant(x: Any) -> Any:
    """Validate a non-dual operand (a list or tuple becomes an array)."""
    kind = type(x)
    if kind is float or kind is int or kind is complex:
        return x
    if isinstance(x, list | tuple):
        return _sequence(x)
    if is_operand(x):
        return x
    raise TypeError(
        f"dualdiff cannot combine a Dual with {kind.__name__!r}; operands must be numbers, "
        "NumPy arrays, lists of numbers or Duals"
    )


def _holds_dual(x: Any) -> bool:
    if isinstance(x, list | tuple):
        return any(_holds_dual(item) for item in x)
    return type(x) is Dual


def _sequence(x: list[Any] | tuple[Any, ...]) -> np.ndarray:
    """A list or tuple operand as NumPy reads it: a numeric array."""
    if _holds_dual(x):
        raise TypeError(
            f"a {type(x).__name__} holding Duals cannot meet a Dual in arithmetic (NumPy would "
            "make an array of objects of it); make it one Dual array first with np.stack([...])"
        )
    array = np.asarray(x)
    if array.dtype.kind not in "biufc":
        raise TypeError(
            f"dualdiff cannot combine a Dual with a {type(x).__name__} of {array.dtype}; "
            "operands must be numbers, NumPy arrays, lists of numbers or Duals"
        )
    return array


def _ndim(x: Any) -> int:
    return getattr(x, "ndim", 0)


def _shape(x: Any) -> tuple[int, ...]:
    return getattr(x, "shape", ())


def zero_tangent(value: Any, batch: tuple[int, ...] = ()) -> Any:
    """A zero tangent for ``value`` (with an optional batch axis)."""
    if not batch and type(value) in _SCALARS:
        return 0.0 if type(value) is float else 0j  # not value * 0: nan * 0 is nan
    plain = strip(value)
    if isinstance(plain, list | tuple):
        plain = np.asarray(plain)
    return memory.zeros_like_layout(plain, batch, np.result_type(plain))


def _lift(x: Dual, out_ndim: int) -> Any:
    """``x``'s tangent, with axes inserted after the batch axis to broadcast to ``out_ndim``."""
    tangent = x.tangent
    value_ndim = _ndim(x.value)
    if value_ndim < out_ndim and _ndim(tangent) > value_ndim:
        shape = _shape(tangent)
        tangent = np.reshape(tangent, shape[:1] + (1,) * (out_ndim - value_ndim) + shape[1:])
    return tangent


def _scaled(partial: Any, tangent: Any, inputs: tuple[Any, ...] = ()) -> Any:
    """``partial * tangent``, skipping the product for a partial of one.

    The result never *is* an input's tangent array: ``out=`` and ``ufunc.at``
    write tangents in place, which must not reach another dual number.  When
    the partial is a fresh array of the product's shape (not one of the
    rule's ``inputs`` or output), the product is written into it: one array
    less per operation, which is what bounds the memory of large JVPs.
    """
    if type(partial) is float and partial == 1.0:  # a copy: the result's tangent is its own
        if type(tangent) is np.ndarray:
            return tangent.copy(order="K")
        return memory.copy(tangent) if type(tangent) is Dual else tangent
    if SETTINGS.nan_safe:
        with np.errstate(invalid="ignore"):  # the 0 * inf it repairs
            return _zero_where_tangent_is_zero(partial * tangent, tangent)
    if _is_fresh_like(partial, tangent, inputs):
        return np.multiply(partial, tangent, out=partial)
    return partial * tangent


def _is_fresh_like(array: Any, other: Any, inputs: tuple[Any, ...]) -> bool:
    """Whether ``array`` may hold ``array (op) other`` in place.

    It must own its memory, be none of the rule's inputs or output, and have
    the result's shape and dtype.
    """
    if not (
        type(array) is np.ndarray
        and array.size >= IN_PLACE_MIN_SIZE
        and type(other) is np.ndarray
        and array.base is None
        and array.shape == other.shape
        and array.dtype == other.dtype
    ):
        return False
    return all(array is not x for x in inputs)


IN_PLACE_MIN_SIZE = 4096
"""Arrays smaller than this are not reused in place: the checks would cost more than the memory."""


def _zero_where_tangent_is_zero(product: Any, tangent: Any) -> Any:
    """``product`` with 0 where the tangent is 0 and the product NaN (``0 * inf``, ``0 * nan``)."""
    if type(product) in _SCALARS:
        return type(product)(0) if cmath.isnan(product) and tangent == 0 else product
    lost = np.isnan(product) & (tangent == 0)
    if not np.any(lost):
        return product
    fixed = np.where(lost, 0, product)
    return fixed[()] if isinstance(fixed, np.ndarray) and fixed.ndim == 0 else fixed


def _fit(tangent: Any, ans: Any, batch: tuple[int, ...]) -> Any:
    """The tangent of a fresh result ``ans``: of its shape (plus the batch axis), its own.

    A tangent that broadcasts (``ones(3) + scalar_dual``) is materialised, and
    one laid out unlike ``ans`` is copied, so that views of the result are
    views of its tangent too (see :mod:`dualdiff.memory`).
    """
    shape = batch + _shape(ans)
    if _shape(tangent) != shape:
        return memory.copy_laid_out(np.broadcast_to(tangent, shape), strip(ans))
    return _laid_out(tangent, ans)


def _laid_out(tangent: Any, ans: Any) -> Any:
    """``tangent``, or a copy laid out like ``ans`` where its memory order differs."""
    kind = type(ans)
    if kind is np.ndarray:
        if ans.ndim < 2:
            return tangent
        plain = ans
    elif kind is Dual:
        plain = strip(ans)
        if type(plain) is not np.ndarray or plain.ndim < 2:
            return tangent
    else:
        return tangent
    if all(memory.follows_layout(p, plain) for p in memory.parts(tangent)
           if type(p) is np.ndarray):
        return tangent
    return memory.copy_laid_out(tangent, plain)


def _as_numpy_constant(x: Any, dtype: np.dtype) -> Any:
    return np.asarray(x, dtype=dtype)[()] if type(x) in _NUMBERS else x


def _python_scalar(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _to_float64(x: Any) -> Any:
    return np.complex128(x) if type(x) is complex else np.float64(x)


# --- the chain rule ----------------------------------------------------------------------------


def apply_unary(rule: UfuncRule, x: Dual) -> Dual:
    """Apply a one-argument rule to a dual number: ``f(x) + f'(x) * tangent * eps``."""
    value = x.value
    if type(value) is np.ndarray:  # the lean array path, when cheap checks allow it
        lean = _lean_unary(rule, x)
        if lean is not None:
            return lean
    partial = rule.partials[0]
    if partial is NOT_DIFFERENTIABLE:
        raise _not_differentiable(rule, 0)
    evaluate = EVALUATE[rule.ufunc]
    complex_jvp = NON_HOLOMORPHIC.get(rule.ufunc)
    if complex_jvp is not None and _is_complex(value):  # |z|, conj(z): no complex slope
        ans = evaluate(value)
        return make(ans, complex_jvp(value, x.tangent, ans), x.tag)
    if type(value) in _SCALARS:
        try:
            if not _moderate(value):
                raise ArithmeticError  # an intermediate may underflow silently: NumPy
            ans = evaluate(value)
            slope = partial if type(partial) is float else partial(value, ans)
            if type(value) is float and not (ordinary(ans) and _ordinary(slope)):
                raise ArithmeticError  # Python may have over- or underflowed silently
        except SCALAR_ERRORS:  # redo in NumPy, under the caller's np.errstate
            wide = _to_float64(value)
            ans = evaluate(wide)
            slope = partial if type(partial) is float else partial(wide, ans)
            ans, slope = ans.item(), _python_scalar(slope)
    else:
        ans = evaluate(value)
        slope = partial if type(partial) is float else partial(value, ans)
    if type(partial) is float and partial == 0.0:
        return make(ans, zero_tangent(ans, batch_shape(x)), x.tag)
    tangent = _scaled(slope, x.tangent, (value, ans))
    if _plain_result(ans, tangent):  # the common array case: nothing to match or lay out
        return make(ans, tangent, x.tag)
    if type(tangent) is float and not ordinary(tangent):
        tangent = float(np.multiply(slope, x.tangent))  # NumPy's overflow, as on float64
    return make(ans, _laid_out(_match_precision(tangent, ans), ans), x.tag)


def _lean_unary(rule: UfuncRule, x: Dual) -> Any:
    """:func:`apply_unary` for a real array with a tangent of its shape and dtype (no batch).

    The same numbers as the general path (the ufunc itself; the slope's product written into
    the slope where it is a fresh array), in fewer calls; ``None`` where the general path
    must decide (a zero or undefined partial, NaN-safe mode, any other operand).
    """
    value = _lean_operand(x)
    if value is None or SETTINGS.nan_safe:
        return None
    tangent, tag = x.tangent, x.tag
    partial = rule.partials[0]
    if type(partial) is float:
        if partial == 0.0:
            return None
        ans = rule.ufunc(value)
        tangent = tangent.copy(order="K") if partial == 1.0 else partial * tangent
    elif partial is NOT_DIFFERENTIABLE:
        return None
    else:
        ans = rule.ufunc(value)
        slope = partial(value, ans)
        if (type(slope) is np.ndarray and slope.size >= IN_PLACE_MIN_SIZE and slope.base is None
                and slope.shape == tangent.shape and slope.dtype == tangent.dtype
                and slope is not value and slope is not ans):
            tangent = np.multiply(slope, tangent, out=slope)
        else:
            tangent = slope * tangent
    result = _new(Dual)
    result.value, result.tag = ans, tag
    if _plain_result(ans, tangent):
        result.tangent = tangent
    else:
        result.tangent = _laid_out(_match_precision(tangent, ans), ans)
    return result


def _plain_result(ans: Any, tangent: Any) -> bool:
    """Whether a fresh tangent already suits ``ans`` as it is (cheap checks, common case).

    A plain array of ``ans``'s dtype, where ``ans`` is a plain array of at most one
    dimension (one memory order): :func:`_match_precision` and :func:`_laid_out` would
    return it unchanged.  The shape is the caller's to check where it may broadcast.
    """
    return (type(ans) is np.ndarray and type(tangent) is np.ndarray and ans.ndim < 2
            and tangent.dtype == ans.dtype)


def _moderate(x: Any) -> bool:
    """Whether a Python float is 0 or of magnitude in [1e-150, 1e150].

    Only such inputs take Python arithmetic: beyond, an intermediate of a partial (``x * x``
    at 1e-200) may over- or underflow silently although the result is ordinary, where NumPy
    would warn or raise.  Complex numbers are not checked.
    """
    return type(x) is complex or x == 0.0 or 1e-150 <= abs(x) <= 1e150


def _ordinary(x: Any) -> bool:
    """:func:`~dualdiff.elementary.ordinary` for Python floats; other results pass."""
    return type(x) is not float or ordinary(x)


def _not_differentiable(rule: UfuncRule, argument: int) -> TypeError:
    """The error for a live operand in an argument the rule marks ``NOT_DIFFERENTIABLE``."""
    name = rule.ufunc.__name__
    special = sys.modules.get("scipy.special")
    if getattr(np, name, None) is rule.ufunc:
        name = f"numpy.{name}"
    elif special is not None and (
        getattr(special, name, None) is rule.ufunc
        or getattr(getattr(special, "_ufuncs", None), name, None) is rule.ufunc
    ):
        name = f"scipy.special.{name.lstrip('_')}"  # _zeta is what scipy.special.zeta calls
    ordinal = ("first", "second", "third")[argument] if argument < 3 else f"#{argument + 1}"
    return TypeError(
        f"{name} is not differentiable in its {ordinal} argument, which is "
        "a Dual of the derivative being taken; pass a constant there (its .value)"
    )


def _match_precision(tangent: Any, ans: Any) -> Any:
    """The tangent in the value's precision.

    A float64 partial must not widen a float32 value's tangent, nor a float32 one narrow a
    float64 value's (SciPy's betaln computes in float64 only).
    """
    dtype = getattr(ans, "dtype", None)
    if (
        dtype is None
        or dtype.kind not in "fc"
        or not isinstance(tangent, np.ndarray | np.generic)
        or tangent.dtype == dtype
    ):
        return tangent
    target = np.result_type(dtype, np.complex64) if tangent.dtype.kind == "c" else dtype
    return tangent if tangent.dtype == target else tangent.astype(target)


def _is_complex(value: Any) -> bool:
    return type(value) is complex or np.iscomplexobj(strip(value))


def apply_multi_output(ufunc: np.ufunc, x: Dual) -> tuple[Any, ...]:
    """Apply a row of ``MULTI_OUTPUT``: each output gets its own partial (``None``: plain)."""
    partials = MULTI_OUTPUT[ufunc][0]
    outputs = ufunc(x.value)
    batch = batch_shape(x)
    results: list[Any] = []
    for output, partial in zip(outputs, partials, strict=True):
        if partial is None:
            results.append(strip(output))
        elif type(partial) is float and partial == 0.0:
            results.append(make(output, zero_tangent(output, batch), x.tag))
        else:
            slope = partial if type(partial) is float else partial(x.value, outputs)
            results.append(make(output, _fit(_scaled(slope, x.tangent), output, batch), x.tag))
    return tuple(results)


def apply_binary(rule: UfuncRule, x: Any, y: Any) -> Dual:
    """Apply a two-argument rule; the operand with the newest tag is the live one."""
    lean = _lean_binary(rule, x, y)
    if lean is not None:
        return lean
    if type(x) is Dual:
        if type(y) is Dual:
            if x.tag == y.tag:
                return _binary(rule, x, y, x.value, y.value, x.tag)
            if x.tag > y.tag:
                return _binary(rule, x, None, x.value, y, x.tag)
            return _binary(rule, None, y, x, y.value, y.tag)
        y = _constant(y)
        return _binary(rule, x, None, x.value, y, x.tag)
    x = _constant(x)
    return _binary(rule, None, y, x, y.value, y.tag)


_LEAN_CONSTANTS = frozenset({float, int})


def _lean_operand(d: Dual) -> Any:
    """``d``'s value if it is a real array with a tangent of its shape and dtype, else None."""
    value, tangent = d.value, d.tangent
    if (type(value) is np.ndarray and type(tangent) is np.ndarray and value.ndim
            and value.shape == tangent.shape and value.dtype.kind == "f"
            and tangent.dtype == value.dtype):
        return value
    return None


def _lean_binary(rule: UfuncRule, x: Any, y: Any) -> Any:  # noqa: PLR0911 - flat on purpose
    """:func:`apply_binary` for the common array case, or ``None`` for the general path.

    The case: one live operand, or two of one tag, each a real array with a tangent of its
    shape and dtype (no batch), the other operand a Python number or an array of that shape
    and dtype; no broadcasting, no custom ``jvp``, not NaN-safe.  Cheap checks decide it.
    """
    if rule.jvp is not None or SETTINGS.nan_safe:
        return None
    if type(x) is Dual:
        x_value, tag = _lean_operand(x), x.tag
        if x_value is None:
            return None
        if type(y) is Dual:
            if y.tag != tag:
                return None
            y_value = _lean_operand(y)
            if y_value is None or y_value.shape != x_value.shape or y_value.dtype != x_value.dtype:
                return None
            return _lean_terms(rule, x, y, x_value, y_value, tag)
        if not _lean_constant(y, x_value):
            return None
        return _lean_terms(rule, x, None, x_value, y, tag)
    if type(y) is not Dual:
        return None
    y_value = _lean_operand(y)
    if y_value is None or not _lean_constant(x, y_value):
        return None
    return _lean_terms(rule, None, y, x, y_value, y.tag)


def _lean_constant(c: Any, value: np.ndarray) -> bool:
    """Whether a constant suits the lean path: a Python number, or an array like ``value``."""
    kind = type(c)
    if kind is np.ndarray:
        return c.shape == value.shape and c.dtype == value.dtype
    return kind in _LEAN_CONSTANTS


def _lean_terms(rule: UfuncRule, x: Dual | None, y: Dual | None, x_value: Any, y_value: Any,
                tag: int) -> Any:
    """The result of :func:`_lean_binary`: :func:`_combine`'s sum, flattened."""
    partial_x, partial_y = rule.partials
    if (x is not None and partial_x is NOT_DIFFERENTIABLE) or (
            y is not None and partial_y is NOT_DIFFERENTIABLE):
        return None  # the general path raises
    try:
        ans, tangent = _lean_pair(rule, x, y, x_value, y_value)
    except FloatingPointError:  # np.errstate(all="raise") said so: NumPy's error stands
        raise
    except SCALAR_ERRORS:
        # A Python constant met Python arithmetic in a partial (1 / 0.0): redo it with that
        # constant as a NumPy value of the array's dtype, as the general path does.
        dtype = np.result_type(x_value, y_value)
        x_value, y_value = _as_numpy_constant(x_value, dtype), _as_numpy_constant(y_value, dtype)
        ans, tangent = _lean_pair(rule, x, y, x_value, y_value)
    if tangent is None:
        return make(ans, zero_tangent(ans), tag)
    result = _new(Dual)
    result.value, result.tag = ans, tag
    if (type(ans) is np.ndarray and type(tangent) is np.ndarray and ans.ndim < 2
            and tangent.dtype == ans.dtype and tangent.shape == ans.shape):
        result.tangent = tangent
    else:
        result.tangent = _fit(_match_precision(tangent, ans), ans, ())
    return result


def _lean_pair(rule: UfuncRule, x: Dual | None, y: Dual | None, x_value: Any,
               y_value: Any) -> tuple[Any, Any]:
    """The value and the tangent (``None`` for zero) of :func:`_lean_terms`."""
    ans = rule.ufunc(x_value, y_value)
    fused = rule.fused
    if fused is not None:
        return ans, fused(x_value, y_value, ans, None if x is None else x.tangent,
                          None if y is None else y.tangent)
    partial_x, partial_y = rule.partials
    return ans, _lean_sum(partial_x, partial_y, x, y, x_value, y_value, ans)


def _lean_sum(partial_x: Any, partial_y: Any, x: Dual | None, y: Dual | None, x_value: Any,
              y_value: Any, ans: Any) -> Any:
    """Sum of partial * tangent over the live operands, the result's own; ``None`` for zero.

    :func:`_combine`'s numbers: a slope that is a fresh array holds its product, a fresh
    term holds the sum, and a sum that is an operand's tangent is copied.
    """
    inputs = (x_value, y_value, ans)
    tangent, owned = None, False
    for partial, operand in ((partial_x, x), (partial_y, y)):
        if operand is None or (type(partial) is float and partial == 0.0):
            continue
        term, term_owned = _lean_term(partial, operand.tangent, x_value, y_value, ans, inputs)
        if tangent is None:
            tangent, owned = term, term_owned
        elif owned and _is_fresh_like(tangent, term, inputs):  # the first term is ours
            tangent = np.add(tangent, term, out=tangent)
        elif term_owned and _is_fresh_like(term, tangent, inputs):  # the second one is
            tangent = np.add(term, tangent, out=term)
        else:
            tangent, owned = tangent + term, True
    if tangent is None or owned:
        return tangent
    return tangent.copy(order="K")  # an operand's own tangent: the result gets a copy


def _lean_term(partial: Any, tangent: np.ndarray, x_value: Any, y_value: Any, ans: Any,
               inputs: tuple[Any, ...]) -> tuple[Any, bool]:
    """``(partial * tangent, whether it is a fresh array)`` for a nonzero partial."""
    if type(partial) is float:
        if partial == 1.0:
            return tangent, False
        return partial * tangent, True
    slope = partial(x_value, y_value, ans)
    if _is_fresh_like(slope, tangent, inputs):
        return np.multiply(slope, tangent, out=slope), True
    return slope * tangent, True


def _binary(
    rule: UfuncRule, x: Dual | None, y: Dual | None, x_value: Any, y_value: Any, tag: int
) -> Dual:
    if rule.jvp is not None:
        return rule.jvp(x, y, x_value, y_value, tag)
    evaluate = EVALUATE[rule.ufunc]
    partial_x, partial_y = rule.partials
    if x is not None and partial_x is NOT_DIFFERENTIABLE:
        raise _not_differentiable(rule, 0)
    if y is not None and partial_y is NOT_DIFFERENTIABLE:
        raise _not_differentiable(rule, 1)
    if type(x_value) in _NUMBERS and type(y_value) in _NUMBERS:
        try:
            if not (_moderate(x_value) and _moderate(y_value)):
                raise ArithmeticError  # an intermediate may underflow silently: NumPy
            ans = evaluate(x_value, y_value)
            tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans)
            if type(ans) is float and not (ordinary(ans) and _ordinary(tangent)):
                raise ArithmeticError  # Python may have over- or underflowed silently
        except SCALAR_ERRORS:  # redo in NumPy, under the caller's np.errstate
            x_wide, y_wide = _to_float64(x_value), _to_float64(y_value)
            ans = evaluate(x_wide, y_wide)
            tangent = _combine(partial_x, partial_y, x, y, x_wide, y_wide, ans)
            ans, tangent = ans.item(), _python_scalar(tangent)
        if tangent is None:
            tangent = zero_tangent(ans, batch_shape(x if x is not None else y))
        return make(ans, tangent, tag)
    return _array_binary(rule, x, y, x_value, y_value, tag)


def _array_binary(
    rule: UfuncRule, x: Dual | None, y: Dual | None, x_value: Any, y_value: Any, tag: int
) -> Dual:
    """:func:`_binary` beyond Python numbers: arrays, batches, broadcasting, nested Duals."""
    evaluate = EVALUATE[rule.ufunc]
    partial_x, partial_y = rule.partials
    batch = batch_shape(x if x is not None else y)
    fused = rule.fused if not batch and not SETTINGS.nan_safe else None  # as the lean path
    try:
        ans = evaluate(x_value, y_value)
        if fused is not None:
            tangent = fused(x_value, y_value, ans, None if x is None else x.tangent,
                            None if y is None else y.tangent)
        else:
            tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans, _ndim(ans),
                               batch + _shape(ans))
    except FloatingPointError:  # np.errstate(all="raise") said so: NumPy's error stands
        raise
    except SCALAR_ERRORS:
        # A Python-scalar constant met Python arithmetic in a partial (1 / 0.0): redo it
        # with that constant as a NumPy value of the partner's dtype, for IEEE results
        # (and NumPy's warnings, under the caller's np.errstate).
        dtype = np.result_type(strip(x_value), strip(y_value))
        x_value, y_value = _as_numpy_constant(x_value, dtype), _as_numpy_constant(y_value, dtype)
        ans = evaluate(x_value, y_value)
        if fused is not None:
            tangent = fused(x_value, y_value, ans, None if x is None else x.tangent,
                            None if y is None else y.tangent)
        else:
            tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans, _ndim(ans),
                               batch + _shape(ans))
    if tangent is None:
        return make(ans, zero_tangent(ans, batch), tag)
    if _plain_result(ans, tangent) and tangent.shape == batch + ans.shape:
        return make(ans, tangent, tag)
    return make(ans, _fit(_match_precision(tangent, ans), ans, batch), tag)


def apply_nary(rule: UfuncRule, *inputs: Any) -> Dual:
    """Apply a rule of three or more arguments (``scipy.special.betainc``).

    The operands with the newest tag are live; older dual numbers and plain values are
    constants.
    """
    tag = max(x.tag for x in inputs if type(x) is Dual)
    live = [type(x) is Dual and x.tag == tag for x in inputs]
    for argument, (on, partial) in enumerate(zip(live, rule.partials, strict=True)):
        if on and partial is NOT_DIFFERENTIABLE:
            raise _not_differentiable(rule, argument)
    values = [x.value if on else _constant(x) for x, on in zip(inputs, live, strict=True)]
    try:
        return _nary(rule, inputs, live, values, tag)
    except SCALAR_ERRORS:  # a math kernel in a partial met a Python float outside its domain
        values = [_to_float64(v) if type(v) in _NUMBERS else v for v in values]
        result = _nary(rule, inputs, live, values, tag)
        return make(_python_scalar(result.value), _python_scalar(result.tangent), tag)


def _nary(rule: UfuncRule, inputs: Any, live: list[bool], values: list[Any], tag: int) -> Dual:
    ans = rule.ufunc(*values)
    if all(type(v) in _NUMBERS for v in values):
        ans = _python_scalar(ans)  # Python floats stay Python floats
    first = next(x for x, on in zip(inputs, live, strict=True) if on)
    batch, out_ndim = batch_shape(first), _ndim(ans)
    tangent = None
    for x, on, partial in zip(inputs, live, rule.partials, strict=True):
        if not on or (type(partial) is float and partial == 0.0):
            continue
        slope = partial if type(partial) is float else partial(*values, ans)
        term = _scaled(slope, _lift(x, out_ndim) if out_ndim else x.tangent)
        tangent = term if tangent is None else tangent + term
    if tangent is None:
        return make(ans, zero_tangent(ans, batch), tag)
    return make(ans, _fit(_match_precision(tangent, ans), ans, batch), tag)


def _combine(
    partial_x: Any,
    partial_y: Any,
    x: Dual | None,
    y: Dual | None,
    x_value: Any,
    y_value: Any,
    ans: Any,
    out_ndim: int = 0,
    fit_shape: tuple[int, ...] | None = None,
) -> Any:
    """Sum of partial * tangent over the live operands; ``None`` when every term is zero.

    The sum is the result's own (see :func:`_scaled`), in as few passes as the terms allow: a
    term of partial one is the operand's tangent itself until it meets a fresh term, which it
    is added into (``t + u`` and ``u + t`` are the same number in IEEE arithmetic), so
    ``x + y`` is one pass, not a copy and an add.  Only a sum left borrowing an operand's
    tangent is copied, and not even that when ``fit_shape`` (the shape :func:`_fit` will
    broadcast it to) differs from its shape, since broadcasting makes a fresh array anyway.
    """
    tangent, owned = None, False
    inputs = (x_value, y_value, ans)
    if x is not None and not (type(partial_x) is float and partial_x == 0.0):
        if type(partial_x) is float and partial_x == 1.0:
            tangent = _lift(x, out_ndim) if out_ndim else x.tangent
        else:
            slope = partial_x if type(partial_x) is float else partial_x(x_value, y_value, ans)
            tangent = _scaled(slope, _lift(x, out_ndim) if out_ndim else x.tangent, inputs)
            owned = True
    if y is not None and not (type(partial_y) is float and partial_y == 0.0):
        if type(partial_y) is float and partial_y == 1.0:
            term, term_owned = (_lift(y, out_ndim) if out_ndim else y.tangent), False
        else:
            slope = partial_y if type(partial_y) is float else partial_y(x_value, y_value, ans)
            term = _scaled(slope, _lift(y, out_ndim) if out_ndim else y.tangent, inputs)
            term_owned = True
        if tangent is None:
            tangent, owned = term, term_owned
        elif owned and _is_fresh_like(tangent, term, inputs):  # the first term is ours
            tangent = np.add(tangent, term, out=tangent)
        elif term_owned and _is_fresh_like(term, tangent, inputs):  # the second one is
            tangent = np.add(term, tangent, out=term)
        else:
            tangent, owned = tangent + term, True
    if tangent is None or owned or (fit_shape is not None and _shape(tangent) != fit_shape):
        return tangent
    return _own(tangent)


def _own(tangent: Any) -> Any:
    """A copy of an operand's tangent for a fresh result (numbers are immutable)."""
    if type(tangent) is np.ndarray:
        return tangent.copy(order="K")
    return memory.copy(tangent) if type(tangent) is Dual else tangent


# --- fast paths for Python floats --------------------------------------------------------------
# The same chain rule as above, flattened for the commonest case -- a scalar dual number whose
# value is a Python float meeting a float, an int or a dual of its own tag -- because every
# function call costs as much as the arithmetic.  Anything else, or a kernel that raises, takes
# the general path, so these never change a result.  Each result is tested inline to be a
# finite normal float, ``_NORMAL <= r <= _HUGE or -_HUGE <= r <= -_NORMAL`` (two comparisons
# for a positive number, no call: an ``abs()`` call costs more than the comparisons; NaN fails
# them all), and one that fails goes on to ``ordinary()``, which decides the rest; a moderate
# operand (0, or of magnitude in [1e-150, 1e150], see ``_moderate``) is tested the same way.


def _constant_kind(partial: Any) -> str:
    """How a partial enters the product: 'one', 'zero', 'number', or 'call'."""
    if partial is NOT_DIFFERENTIABLE:
        return "zero"  # the general path, which raises for a live operand
    if type(partial) is not float:
        return "call"
    return "one" if partial == 1.0 else "zero" if partial == 0.0 else "number"


def _no_modulus(modulo: Any) -> None:
    if modulo is not None:
        raise TypeError("pow() with a modulus is not differentiable")


def _general_operator(rule: UfuncRule) -> tuple[Callable[..., Any], Callable[..., Any]]:
    def forward(self: Dual, other: Any, modulo: Any = None) -> Any:
        _no_modulus(modulo)
        if type(other) not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, self, other)

    def reflected(self: Dual, other: Any) -> Any:
        if type(other) not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, other, self)

    return forward, reflected


def _arithmetic_operators(  # noqa: PLR0915 - one flat pair per operator, on purpose
    ufunc: np.ufunc, rule: UfuncRule,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``+``, ``-``, ``*``, ``/`` of Python-float duals with the table's partials inlined.

    The numbers are the rule's own (``rules.UFUNC_RULES``: ``add`` (1, 1), ``subtract``
    (1, -1), ``multiply`` (y, x), ``true_divide`` (1 / y, -ans / y)), computed in the order
    the flat path computes them (each partial times its tangent, then the sum), so the
    results are those of :func:`binary_operator`'s general flat pair bit for bit
    (``tests/test_fast_path.py`` checks them against the general path and NumPy).  Every
    intermediate is tested to be a normal float (:func:`_normal`): with no other intermediate
    hidden in a kernel or a partial, the operands need no range test of their own.  A
    constant int is kept to magnitudes up to 1e150, as the general flat path keeps it.
    """
    general_forward, general_reflected = _general_operator(rule)
    new = _new

    if ufunc is np.add:

        def forward(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float:
                if kind is float or (kind is int and -1e150 <= other <= 1e150):
                    ans = value + other
                    if _NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, self.tangent, self.tag
                        return result
                elif kind is Dual and other.tag == self.tag and type(other.value) is float:
                    ans = value + other.value
                    tangent = self.tangent + other.tangent
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
            return general_forward(self, other)

        def reflected(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float and (
                kind is float or (kind is int and -1e150 <= other <= 1e150)
            ):
                ans = other + value
                if _NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans):
                    result = new(Dual)
                    result.value, result.tangent, result.tag = ans, self.tangent, self.tag
                    return result
            return general_reflected(self, other)

    elif ufunc is np.subtract:

        def forward(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float:
                if kind is float or (kind is int and -1e150 <= other <= 1e150):
                    ans = value - other
                    if _NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, self.tangent, self.tag
                        return result
                elif kind is Dual and other.tag == self.tag and type(other.value) is float:
                    ans = value - other.value
                    tangent = self.tangent + -1.0 * other.tangent
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
            return general_forward(self, other)

        def reflected(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float and (
                kind is float or (kind is int and -1e150 <= other <= 1e150)
            ):
                ans = other - value
                tangent = -1.0 * self.tangent
                if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                        and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                             or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                    result = new(Dual)
                    result.value, result.tangent, result.tag = ans, tangent, self.tag
                    return result
            return general_reflected(self, other)

    elif ufunc is np.multiply:

        def forward(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float:
                if kind is float or (kind is int and -1e150 <= other <= 1e150):
                    ans = value * other
                    tangent = other * self.tangent
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
                elif kind is Dual and other.tag == self.tag and type(other.value) is float:
                    y = other.value
                    ans = value * y
                    term = y * self.tangent
                    other_term = value * other.tangent
                    tangent = term + other_term
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (type(term) is not float or _NORMAL <= term <= _HUGE
                                 or -_HUGE <= term <= -_NORMAL or ordinary(term))
                            and (type(other_term) is not float or _NORMAL <= other_term <= _HUGE
                                 or -_HUGE <= other_term <= -_NORMAL or ordinary(other_term))
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
            return general_forward(self, other)

        def reflected(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float and (
                kind is float or (kind is int and -1e150 <= other <= 1e150)
            ):
                ans = other * value
                tangent = other * self.tangent
                if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                        and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                             or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                    result = new(Dual)
                    result.value, result.tangent, result.tag = ans, tangent, self.tag
                    return result
            return general_reflected(self, other)

    else:  # np.true_divide

        def forward(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float:
                if kind is float or (kind is int and -1e150 <= other <= 1e150):
                    try:
                        ans = value / other
                        inverse = 1 / other
                        tangent = inverse * self.tangent
                    except SCALAR_ERRORS:  # 1 / 0: NumPy's inf (or its error)
                        return general_forward(self, other)
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (_NORMAL <= inverse <= _HUGE or -_HUGE <= inverse <= -_NORMAL)
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
                elif kind is Dual and other.tag == self.tag and type(other.value) is float:
                    y = other.value
                    try:
                        ans = value / y
                        inverse = 1 / y
                        term = inverse * self.tangent
                        slope = -ans / y
                        other_term = slope * other.tangent
                        tangent = term + other_term
                    except SCALAR_ERRORS:
                        return general_forward(self, other)
                    if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                            and (_NORMAL <= inverse <= _HUGE or -_HUGE <= inverse <= -_NORMAL)
                            and (_NORMAL <= slope <= _HUGE or -_HUGE <= slope <= -_NORMAL
                                 or ordinary(slope))
                            and (type(term) is not float or _NORMAL <= term <= _HUGE
                                 or -_HUGE <= term <= -_NORMAL or ordinary(term))
                            and (type(other_term) is not float or _NORMAL <= other_term <= _HUGE
                                 or -_HUGE <= other_term <= -_NORMAL or ordinary(other_term))
                            and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                                 or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                        result = new(Dual)
                        result.value, result.tangent, result.tag = ans, tangent, self.tag
                        return result
            return general_forward(self, other)

        def reflected(self: Dual, other: Any) -> Any:
            value, kind = self.value, type(other)
            if type(value) is float and (
                kind is float or (kind is int and -1e150 <= other <= 1e150)
            ):
                try:
                    ans = other / value
                    slope = -ans / value
                    tangent = slope * self.tangent
                except SCALAR_ERRORS:
                    return general_reflected(self, other)
                if ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                        and (_NORMAL <= slope <= _HUGE or -_HUGE <= slope <= -_NORMAL
                             or ordinary(slope))
                        and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                             or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                    result = new(Dual)
                    result.value, result.tangent, result.tag = ans, tangent, self.tag
                    return result
            return general_reflected(self, other)

    return forward, reflected


_INLINED = frozenset({np.add, np.subtract, np.multiply, np.true_divide})
"""The operators :func:`_arithmetic_operators` writes out, while their rows are the table's."""

_TABLE_ROWS = {rule.ufunc: rule for rule in UFUNC_RULES}


def binary_operator(  # noqa: PLR0915 - flat on purpose: every call costs as much as the arithmetic
    ufunc: np.ufunc,
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The forward and reflected operator methods of ``Dual`` for a binary ufunc."""
    rule = RULES[ufunc]
    kernel = REAL_KERNELS[ufunc]
    partial_x, partial_y = rule.partials
    kind_x, kind_y = _constant_kind(partial_x), _constant_kind(partial_y)
    if "zero" in (kind_x, kind_y) or SETTINGS.nan_safe:  # (floor_divide) rare: no flat path
        return _general_operator(rule)
    if ufunc in _INLINED and rule is _TABLE_ROWS[ufunc]:  # a registered row takes the path below
        return _arithmetic_operators(ufunc, rule)
    x_call, y_call = kind_x == "call", kind_y == "call"
    x_one, y_one = kind_x == "one", kind_y == "one"

    def forward(self: Dual, other: Any, modulo: Any = None) -> Any:  # noqa: PLR0911, PLR0912
        value, other_kind = self.value, type(other)
        if modulo is not None:  # only pow(x, y, z) passes a third argument
            _no_modulus(modulo)
        # Python arithmetic for moderate floats only (see _moderate)
        if type(value) is float and (1e-150 <= value <= 1e150 or -1e150 <= value <= -1e-150
                                     or value == 0.0):
            if (other_kind is float or other_kind is int) and (
                1e-150 <= other <= 1e150 or -1e150 <= other <= -1e-150 or other == 0.0
            ):
                try:
                    ans = kernel(value, other)
                    if x_call:
                        tangent = partial_x(value, other, ans) * self.tangent
                    else:
                        tangent = self.tangent if x_one else partial_x * self.tangent
                except SCALAR_ERRORS:
                    return apply_binary(rule, self, other)
                if not ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                        and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                             or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                    return apply_binary(rule, self, other)
                result = _new(Dual)
                result.value, result.tangent, result.tag = ans, tangent, self.tag
                return result
            if other_kind is Dual and other.tag == self.tag and type(other.value) is float:
                y = other.value
                if not (1e-150 <= y <= 1e150 or -1e150 <= y <= -1e-150 or y == 0.0):
                    return apply_binary(rule, self, other)
                try:
                    ans = kernel(value, y)
                    if x_call:
                        term = partial_x(value, y, ans) * self.tangent
                    else:
                        term = self.tangent if x_one else partial_x * self.tangent
                    if y_call:
                        other_term = partial_y(value, y, ans) * other.tangent
                    else:
                        other_term = other.tangent if y_one else partial_y * other.tangent
                    tangent = term + other_term
                except SCALAR_ERRORS:
                    return apply_binary(rule, self, other)
                if not ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                        and (type(term) is not float or _NORMAL <= term <= _HUGE
                             or -_HUGE <= term <= -_NORMAL or ordinary(term))
                        and (type(other_term) is not float or _NORMAL <= other_term <= _HUGE
                             or -_HUGE <= other_term <= -_NORMAL or ordinary(other_term))
                        and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                             or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                    return apply_binary(rule, self, other)
                result = _new(Dual)
                result.value, result.tangent, result.tag = ans, tangent, self.tag
                return result
        if other_kind not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, self, other)

    def reflected(self: Dual, other: Any) -> Any:
        value, other_kind = self.value, type(other)
        if (
            type(value) is float
            and (other_kind is float or other_kind is int)
            and (1e-150 <= value <= 1e150 or -1e150 <= value <= -1e-150 or value == 0.0)
            and (1e-150 <= other <= 1e150 or -1e150 <= other <= -1e-150 or other == 0.0)
        ):
            try:
                ans = kernel(other, value)
                if y_call:
                    tangent = partial_y(other, value, ans) * self.tangent
                else:
                    tangent = self.tangent if y_one else partial_y * self.tangent
            except SCALAR_ERRORS:
                return apply_binary(rule, other, self)
            if not ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                    and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                         or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                return apply_binary(rule, other, self)
            result = _new(Dual)
            result.value, result.tangent, result.tag = ans, tangent, self.tag
            return result
        if other_kind not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, other, self)

    if ufunc is np.power:
        forward = _with_square(forward)
    forward.__name__ = reflected.__name__ = ufunc.__name__
    return forward, reflected


def _with_square(general: Callable[..., Any]) -> Callable[..., Any]:
    """``x ** 2`` of a moderate Python float inlined: ``x * x`` and ``2.0 * x * tangent``.

    The same numbers as the general rule (``_power`` squares as ``x * x``, and ``_power_dx``
    gives ``2.0 * x``), without the kernel and partial calls; a moderate ``x`` keeps ``x * x``
    and ``2.0 * x`` normal, and a tangent out of range takes the general path, which decides
    as it always does.
    """

    def forward(self: Dual, other: Any, modulo: Any = None) -> Any:
        value, kind = self.value, type(other)
        if ((kind is int or kind is float) and other == 2 and type(value) is float
                and modulo is None
                and (1e-150 <= value <= 1e150 or -1e150 <= value <= -1e-150 or value == 0.0)):
            tangent = 2.0 * value * self.tangent
            if (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                    or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent)):
                result = _new(Dual)
                result.value, result.tangent, result.tag = value * value, tangent, self.tag
                return result
        return general(self, other, modulo)

    return forward


def unary_operator(ufunc: np.ufunc) -> Callable[[Dual], Dual]:
    """The operator method of ``Dual`` for a unary ufunc (``-d``, ``abs(d)``)."""
    rule = RULES[ufunc]
    kernel = REAL_KERNELS[ufunc]
    partial = rule.partials[0]
    kind = _constant_kind(partial)
    if SETTINGS.nan_safe:
        kind = "zero"  # every call takes the general path, which checks for 0 * inf

    def method(self: Dual) -> Dual:
        value = self.value
        if kind != "zero" and type(value) is float and (
            1e-150 <= value <= 1e150 or -1e150 <= value <= -1e-150 or value == 0.0
        ):
            try:
                ans = kernel(value)
                slope = partial(value, ans) if kind == "call" else partial
                tangent = slope * self.tangent
            except SCALAR_ERRORS:
                return apply_unary(rule, self)
            if not ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                    and (type(slope) is not float or _NORMAL <= slope <= _HUGE
                         or -_HUGE <= slope <= -_NORMAL or ordinary(slope))
                    and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                         or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                return apply_unary(rule, self)
            result = _new(Dual)
            result.value, result.tangent, result.tag = ans, tangent, self.tag
            return result
        return apply_unary(rule, self)

    method.__name__ = ufunc.__name__
    return method


def array_ufunc(  # noqa: PLR0911 - flat on purpose: the hot path
    self: Dual, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any
) -> Any:
    """``Dual.__array_ufunc__``: a flat path for ``np.sin(scalar_dual)``, else ``call_ufunc``."""
    if len(inputs) == 1 and not kwargs and method == "__call__":
        value = self.value
        fast = _FAST_UNARY.get(ufunc)
        if fast is not None and type(value) is float and (
            1e-150 <= value <= 1e150 or -1e150 <= value <= -1e-150 or value == 0.0
        ):
            kernel, partial = fast
            try:
                ans = kernel(value)
                slope = partial(value, ans)
                tangent = slope * self.tangent
            except SCALAR_ERRORS:
                return call_ufunc(ufunc, method, inputs, kwargs)
            if not ((_NORMAL <= ans <= _HUGE or -_HUGE <= ans <= -_NORMAL or ordinary(ans))
                    and (type(slope) is not float or _NORMAL <= slope <= _HUGE
                         or -_HUGE <= slope <= -_NORMAL or ordinary(slope))
                    and (type(tangent) is not float or _NORMAL <= tangent <= _HUGE
                         or -_HUGE <= tangent <= -_NORMAL or ordinary(tangent))):
                return call_ufunc(ufunc, method, inputs, kwargs)
            result = _new(Dual)
            result.value, result.tangent, result.tag = ans, tangent, self.tag
            return result
        rule = RULES.get(ufunc)
        if rule is not None:  # np.exp(dual_array): a plain call goes straight to the chain rule
            return apply_unary(rule, self)
    elif len(inputs) == 2 and not kwargs and method == "__call__":
        rule = RULES.get(ufunc)
        if rule is not None:
            try:
                return apply_binary(rule, *inputs)
            except TypeError:
                if outranked(inputs):
                    return NotImplemented
                raise
    try:
        return call_ufunc(ufunc, method, inputs, kwargs)
    except TypeError:
        if outranked(inputs):
            return NotImplemented
        raise


OUTRANKING: set[type] = set()
"""Types that take over an operation when they meet a Dual (Taylor mode's ``Jet``, whose
coefficients may be Duals): ``Dual.__array_ufunc__`` and ``__array_function__`` return
``NotImplemented`` for them, so NumPy asks that type next."""


def outranked(items: Any) -> bool:
    """Whether ``items`` (inputs, or NEP 18's ``types``) hold a type of :data:`OUTRANKING`."""
    return any(type(x) in OUTRANKING or (isinstance(x, type) and x in OUTRANKING) for x in items)


_OPERANDS = frozenset({float, int, complex, Dual, np.ndarray})
_FAST_UNARY: dict[np.ufunc, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _refresh_fast_unary(rule: UfuncRule) -> None:
    """Keep the flat path in step with the table (callable partials with a float kernel)."""
    _FAST_UNARY.pop(rule.ufunc, None)
    partial = rule.partials[0] if rule.partials else None
    if SETTINGS.nan_safe:  # every call takes the general path, which checks for 0 * inf
        return
    if rule.ufunc.nin == 1 and callable(partial) and rule.ufunc in REAL_KERNELS:
        _FAST_UNARY[rule.ufunc] = (REAL_KERNELS[rule.ufunc], partial)


for _rule in RULES.values():
    _refresh_fast_unary(_rule)


# --- NumPy's protocols -------------------------------------------------------------------------
# Ufuncs beyond the fast paths go to dualdiff.ufuncs.call_ufunc (imported at the end).


def call_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """Handle ``Dual.__array_function__``."""
    lazy = LAZY_FUNCTIONS.get(func)
    if lazy is not None and memory.holds_lazy(args):
        return lazy(*args, **kwargs)
    implementation = FUNCTIONS.get(func)
    if implementation is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        module = "numpy" if module.startswith("numpy._core") else module
        raise TypeError(
            f"dualdiff has no derivative rule for {module}.{func.__name__}; register one with "
            "dualdiff.register_function"
        )
    out = kwargs.get("out")
    if out is None:
        return memory.settle(implementation(*args, **kwargs), (args, kwargs))
    kwargs = {key: value for key, value in kwargs.items() if key != "out"}
    if memory.tags_in((args, list(kwargs.values()))):
        result = memory.settle(implementation(*args, **kwargs), (args, kwargs))
    else:  # only out= is a Dual: NumPy's own result, written into it
        result = func(*args, **kwargs)
    return memory.store_out(out, result, f"numpy.{func.__name__}")


def getitem(x: Dual, index: Any) -> Dual:
    """``x[index]`` for basic, advanced and boolean indices; a batch axis is carried along.

    As in NumPy, basic indexing gives a view (of the value and of every
    tangent) and advanced indexing a copy; a single element is a copy too, so
    its tangent is never a view into ``x``'s.
    """
    index = memory.index_tuple(index)
    if memory.is_lazy(strip(x.value)):
        return memory.lazy_getitem(x, index)
    if type(strip(x.value)) is not np.ndarray:  # a scalar: x[()] and x[...] are itself
        if index in ((), (Ellipsis,)):
            return x
        raise IndexError("invalid index to scalar variable.")
    value = x.value[index]
    if not batch_shape(x):
        tangent = x.tangent[index]
    else:
        rest = (slice(None),) if any(i is Ellipsis for i in index) else (Ellipsis, slice(None))
        tangent = np.moveaxis(np.moveaxis(x.tangent, 0, -1)[(*index, *rest)], -1, 0)
    plain = strip(value)
    if type(plain) is not np.ndarray:  # one element: a copy, as NumPy's scalar
        if type(tangent) is np.ndarray or type(tangent) is Dual:
            tangent = memory.copy_laid_out(tangent, plain)
    elif not np.may_share_memory(plain, strip(x.value)):  # advanced indexing: a copy
        tangent = _laid_out(tangent, plain)
    return make(value, tangent, x.tag)


# --- the NaN-safe switch -----------------------------------------------------------------------


def set_nan_safe(enabled: bool) -> None:
    """Switch NaN-safe tangents on or off for the whole process (see :func:`nan_safe`).

    While on, every operation takes the general path, where the product of a
    partial and a tangent is checked; the scalar fast paths are reinstalled
    when it is switched off, so they cost nothing extra while it is off.
    """
    SETTINGS.nan_safe = bool(enabled)
    for rule in RULES.values():
        _refresh_fast_unary(rule)
    install_operators()


class NanSafe:
    """The setting made by :func:`nan_safe`; as a context manager it restores the previous one."""

    def __init__(self, enabled: bool) -> None:
        self.previous = SETTINGS.nan_safe
        self.enabled = bool(enabled)
        set_nan_safe(self.enabled)

    def __enter__(self) -> NanSafe:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        set_nan_safe(self.previous)

    def __repr__(self) -> str:
        return f"nan_safe({self.enabled})"


def nan_safe(enabled: bool = True) -> NanSafe:
    """Make a zero tangent times an infinite or NaN partial give 0 instead of NaN.

    IEEE arithmetic makes ``0 * inf`` NaN, so by default
    ``derivative(lambda x: np.sqrt(x**2), 0.0)`` is NaN: the tangent of
    ``x**2`` at 0 is 0 and the slope of ``sqrt`` there is infinite.  In
    NaN-safe mode that product is 0 (the convention of measure theory), so
    the derivative is 0.  A nonzero tangent times an infinite partial stays
    infinite; only zero tangents are treated.  The switch covers every
    elementwise rule (ufuncs, operators, SciPy's ufuncs); it is process-wide,
    not per thread.

    Parameters
    ----------
    enabled : bool, optional
        Switch on (default) or off.

    Returns
    -------
    NanSafe
        The switch takes effect at once; used in a ``with`` statement it
        restores the previous setting on exit.

    Examples
    --------
    >>> import numpy as np
    >>> import dualdiff
    >>> f = lambda x: np.sqrt(x**2)
    >>> dualdiff.derivative(f, 0.0)
    nan
    >>> with dualdiff.nan_safe():
    ...     dualdiff.derivative(f, 0.0)
    0.0
    >>> dualdiff.derivative(f, 0.0)  # restored
    nan
    """
    return NanSafe(enabled)


def is_nan_safe() -> bool:
    """Whether NaN-safe tangents are on (see :func:`nan_safe`).

    Examples
    --------
    >>> is_nan_safe()
    False
    >>> with nan_safe():
    ...     is_nan_safe()
    True
    """
    return SETTINGS.nan_safe


install_operators()

# The general ufunc path needs this module's names, so it is imported once they exist.
from dualdiff.ufuncs import call_ufunc  # noqa: E402
