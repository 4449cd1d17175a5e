"""The chain rule, applied in one place, and the registries NumPy dispatches to.

:func:`apply_unary` and :func:`apply_binary` turn a row of the derivative
table into a dual-number operation: evaluate the primitive on the values,
multiply each partial by its input's tangent, add.  They also settle which
operands are live: of two dual numbers with different tags the newer one is
differentiated and the older one is a constant (see :mod:`dualdiff.tags`).

Python floats take a fast path through the ``math`` kernels; when a kernel
raises where NumPy would return ``inf`` or ``nan`` the whole step is redone
on ``numpy.float64``, so the fast path never changes a result.

:func:`call_ufunc` is the general path behind ``__array_ufunc__``: every ufunc
method (``__call__``, ``reduce``, ``accumulate``, ``reduceat``, ``outer``,
``at``) and the keywords ``out``, ``where`` and ``dtype``.  :func:`nan_safe`
switches the chain rule to give 0, not NaN, for a zero tangent times an
infinite partial.
"""

from __future__ import annotations

import cmath
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import numpy as np

from dualdiff.dual import Dual, install_operators
from dualdiff.elementary import REAL_KERNELS, SCALAR_ERRORS, evaluator, strip
from dualdiff.rules import (
    COMPOSED,
    INTEGER_ARGUMENTS,
    INTEGER_ONLY,
    MULTI_OUTPUT,
    NON_HOLOMORPHIC,
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

FUNCTION_EXAMPLES: dict[Callable[..., Any], tuple[Any, ...]] = {}
"""NumPy function -> test inputs (each a tuple of args, or ``(args, kwargs)``)."""

_new = object.__new__
_SCALARS = (float, complex)
_NUMBERS = (float, int, complex)


def make(value: Any, tangent: Any, tag: int) -> Dual:
    """Build a dual number without validation (internal fast constructor)."""
    result = _new(Dual)
    result.value = value
    result.tangent = tangent
    result.tag = tag
    return result


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
    (valid away from 0, which these examples avoid):

    >>> import numpy as np
    >>> from dualdiff import Dual
    >>> @register_function(np.sinc, examples=((np.array([0.3, -1.2, 2.5]),),))
    ... def sinc(x):
    ...     return np.sin(np.pi * x) / (np.pi * x)
    >>> round(np.sinc(Dual(0.5, 1.0)).tangent, 12)  # -4 / pi at 1/2
    -1.273239544735
    >>> _ = FUNCTIONS.pop(np.sinc), FUNCTION_EXAMPLES.pop(np.sinc)  # leave the registry as it was
    """

    def decorate(implementation: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[func] = implementation
        FUNCTION_EXAMPLES[func] = tuple(examples)
        return implementation

    return decorate


# --- operands ----------------------------------------------------------------------------------


def is_operand(x: Any) -> bool:
    """Whether ``x`` may meet a dual number in arithmetic (as a constant or a dual)."""
    if isinstance(x, int | float | complex):  # bool too
        return True
    if isinstance(x, Dual | np.ndarray | np.generic):
        return x.dtype.kind in "biufc"
    return False


def _constant(x: Any) -> Any:
    """Validate a non-dual operand."""
    kind = type(x)
    if kind is float or kind is int or kind is complex or is_operand(x):
        return x
    if isinstance(x, list | tuple):
        return np.asarray(x)
    raise TypeError(
        f"dualdiff cannot combine a Dual with {kind.__name__!r}; operands must be numbers, "
        "NumPy arrays or Duals"
    )


def _ndim(x: Any) -> int:
    return getattr(x, "ndim", 0)


def _shape(x: Any) -> tuple[int, ...]:
    return getattr(x, "shape", ())


def batch_shape(x: Dual) -> tuple[int, ...]:
    """``(k,)`` if ``x`` carries a batch of ``k`` tangents, else ``()``."""
    if _ndim(x.tangent) > _ndim(x.value):
        return _shape(x.tangent)[:1]
    return ()


def zero_tangent(value: Any, batch: tuple[int, ...] = ()) -> Any:
    """A zero tangent for ``value`` (with an optional batch axis)."""
    if not batch and type(value) in _SCALARS:
        return 0.0 if type(value) is float else 0j  # not value * 0: nan * 0 is nan
    plain = strip(value)
    if isinstance(plain, list | tuple):
        plain = np.asarray(plain)
    return np.zeros(batch + np.shape(plain), dtype=np.result_type(plain))


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
    if type(partial) is float and partial == 1.0:
        return tangent.copy() if type(tangent) is np.ndarray else tangent
    if SETTINGS.nan_safe:
        with np.errstate(invalid="ignore"):  # the 0 * inf it repairs
            return _zero_where_tangent_is_zero(partial * tangent, tangent)
    if _is_fresh_like(partial, tangent, inputs):
        return np.multiply(partial, tangent, out=partial)
    return partial * tangent


def _is_fresh_like(array: Any, other: Any, inputs: tuple[Any, ...]) -> bool:
    """Whether ``array`` may hold ``array (op) other`` in place: it owns its memory, no
    rule input or output is it, and the result has its shape and dtype."""
    return (
        type(array) is np.ndarray
        and type(other) is np.ndarray
        and array.base is None
        and array.shape == other.shape
        and array.dtype == other.dtype
        and all(array is not x for x in inputs)
    )


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
    """Broadcast a tangent to the output's shape (plus the batch axis)."""
    shape = batch + _shape(ans)
    if _shape(tangent) != shape:
        tangent = np.broadcast_to(tangent, shape)
    return tangent


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
    partial = rule.partials[0]
    evaluate = EVALUATE[rule.ufunc]
    complex_jvp = NON_HOLOMORPHIC.get(rule.ufunc)
    if complex_jvp is not None and _is_complex(value):  # |z|, conj(z): no complex slope
        ans = evaluate(value)
        return make(ans, complex_jvp(value, x.tangent, ans), x.tag)
    if type(value) in _SCALARS:
        try:
            ans = evaluate(value)
            slope = partial if type(partial) is float else partial(value, ans)
        except SCALAR_ERRORS:
            with np.errstate(all="ignore"):
                wide = _to_float64(value)
                ans = evaluate(wide)
                slope = partial if type(partial) is float else partial(wide, ans)
            ans, slope = ans.item(), _python_scalar(slope)
    else:
        ans = evaluate(value)
        slope = partial if type(partial) is float else partial(value, ans)
    if type(partial) is float and partial == 0.0:
        return make(ans, zero_tangent(ans, batch_shape(x)), x.tag)
    return make(ans, _scaled(slope, x.tangent, (value, ans)), x.tag)


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


def _binary(
    rule: UfuncRule, x: Dual | None, y: Dual | None, x_value: Any, y_value: Any, tag: int
) -> Dual:
    if rule.jvp is not None:
        return rule.jvp(x, y, x_value, y_value, tag)
    evaluate = EVALUATE[rule.ufunc]
    partial_x, partial_y = rule.partials
    if type(x_value) in _NUMBERS and type(y_value) in _NUMBERS:
        try:
            ans = evaluate(x_value, y_value)
            tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans)
        except SCALAR_ERRORS:
            with np.errstate(all="ignore"):
                x_wide, y_wide = _to_float64(x_value), _to_float64(y_value)
                ans = evaluate(x_wide, y_wide)
                tangent = _combine(partial_x, partial_y, x, y, x_wide, y_wide, ans)
            ans, tangent = ans.item(), _python_scalar(tangent)
        if tangent is None:
            tangent = zero_tangent(ans, batch_shape(x if x is not None else y))
        return make(ans, tangent, tag)
    batch = batch_shape(x if x is not None else y)
    try:
        ans = evaluate(x_value, y_value)
        tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans, _ndim(ans))
    except SCALAR_ERRORS:
        # A Python-scalar constant met Python arithmetic in a partial (1 / 0.0): redo it
        # with that constant as a NumPy value of the partner's dtype, for IEEE results.
        dtype = np.result_type(strip(x_value), strip(y_value))
        x_value, y_value = _as_numpy_constant(x_value, dtype), _as_numpy_constant(y_value, dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ans = evaluate(x_value, y_value)
            tangent = _combine(partial_x, partial_y, x, y, x_value, y_value, ans, _ndim(ans))
    if tangent is None:
        return make(ans, zero_tangent(ans, batch), tag)
    return make(ans, _fit(tangent, ans, batch), tag)


def _combine(
    partial_x: Any,
    partial_y: Any,
    x: Dual | None,
    y: Dual | None,
    x_value: Any,
    y_value: Any,
    ans: Any,
    out_ndim: int = 0,
) -> Any:
    """Sum of partial * tangent over the live operands; ``None`` when every term is zero."""
    tangent = None
    inputs = (x_value, y_value, ans)
    if x is not None and not (type(partial_x) is float and partial_x == 0.0):
        slope = partial_x if type(partial_x) is float else partial_x(x_value, y_value, ans)
        tangent = _scaled(slope, _lift(x, out_ndim) if out_ndim else x.tangent, inputs)
    if y is not None and not (type(partial_y) is float and partial_y == 0.0):
        slope = partial_y if type(partial_y) is float else partial_y(x_value, y_value, ans)
        term = _scaled(slope, _lift(y, out_ndim) if out_ndim else y.tangent, inputs)
        if tangent is None:
            tangent = term
        elif _is_fresh_like(tangent, term, inputs):  # the first term is ours: add into it
            tangent = np.add(tangent, term, out=tangent)
        else:
            tangent = tangent + term
    return tangent


# --- fast paths for Python floats --------------------------------------------------------------
# The same chain rule as above, flattened for the commonest case -- a scalar dual number whose
# value is a Python float meeting a float, an int or a dual of its own tag -- because every
# function call costs as much as the arithmetic.  Anything else, or a kernel that raises, takes
# the general path, so these never change a result.


def _constant_kind(partial: Any) -> str:
    """How a partial enters the product: 'one', 'zero', 'number', or 'call'."""
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

    def forward(self: Dual, other: Any, modulo: Any = None) -> Any:  # noqa: PLR0912
        value, other_kind = self.value, type(other)
        if modulo is not None:  # only pow(x, y, z) passes a third argument
            _no_modulus(modulo)
        if type(value) is float:
            if other_kind is float or other_kind is int:
                try:
                    ans = kernel(value, other)
                    if kind_x == "call":
                        tangent = partial_x(value, other, ans) * self.tangent
                    else:
                        tangent = self.tangent if kind_x == "one" else partial_x * self.tangent
                except SCALAR_ERRORS:
                    return apply_binary(rule, self, other)
                result = _new(Dual)
                result.value, result.tangent, result.tag = ans, tangent, self.tag
                return result
            if other_kind is Dual and other.tag == self.tag and type(other.value) is float:
                y = other.value
                try:
                    ans = kernel(value, y)
                    if kind_x == "call":
                        tangent = partial_x(value, y, ans) * self.tangent
                    else:
                        tangent = self.tangent if kind_x == "one" else partial_x * self.tangent
                    if kind_y == "call":
                        tangent = tangent + partial_y(value, y, ans) * other.tangent
                    else:
                        tangent = tangent + (
                            other.tangent if kind_y == "one" else partial_y * other.tangent
                        )
                except SCALAR_ERRORS:
                    return apply_binary(rule, self, other)
                result = _new(Dual)
                result.value, result.tangent, result.tag = ans, tangent, self.tag
                return result
        if other_kind not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, self, other)

    def reflected(self: Dual, other: Any) -> Any:
        value, other_kind = self.value, type(other)
        if type(value) is float and (other_kind is float or other_kind is int):
            try:
                ans = kernel(other, value)
                if kind_y == "call":
                    tangent = partial_y(other, value, ans) * self.tangent
                else:
                    tangent = self.tangent if kind_y == "one" else partial_y * self.tangent
            except SCALAR_ERRORS:
                return apply_binary(rule, other, self)
            result = _new(Dual)
            result.value, result.tangent, result.tag = ans, tangent, self.tag
            return result
        if other_kind not in _OPERANDS and not is_operand(other):
            return NotImplemented
        return apply_binary(rule, other, self)

    forward.__name__ = reflected.__name__ = ufunc.__name__
    return forward, reflected


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
        if type(value) is float and kind != "zero":
            try:
                ans = kernel(value)
                slope = partial(value, ans) if kind == "call" else partial
            except SCALAR_ERRORS:
                return apply_unary(rule, self)
            result = _new(Dual)
            result.value, result.tangent, result.tag = ans, slope * self.tangent, self.tag
            return result
        return apply_unary(rule, self)

    method.__name__ = ufunc.__name__
    return method


def array_ufunc(self: Dual, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
    """``Dual.__array_ufunc__``: a flat path for ``np.sin(scalar_dual)``, else ``call_ufunc``."""
    if len(inputs) == 1 and not kwargs and method == "__call__":
        value = self.value
        fast = _FAST_UNARY.get(ufunc)
        if fast is not None and type(value) is float:
            kernel, partial = fast
            try:
                ans = kernel(value)
                slope = partial(value, ans)
            except SCALAR_ERRORS:
                return call_ufunc(ufunc, method, inputs, kwargs)
            result = _new(Dual)
            result.value = ans
            result.tangent = slope * self.tangent
            result.tag = self.tag
            return result
    return call_ufunc(ufunc, method, inputs, kwargs)


_OPERANDS = frozenset({float, int, complex, Dual, np.ndarray})
_FAST_UNARY: dict[np.ufunc, tuple[Callable[..., Any], Callable[..., Any]]] = {}


def _refresh_fast_unary(rule: UfuncRule) -> None:
    """Keep the flat path in step with the table (callable partials with a math kernel)."""
    _FAST_UNARY.pop(rule.ufunc, None)
    partial = rule.partials[0] if rule.partials else None
    if SETTINGS.nan_safe:  # every call takes the general path, which checks for 0 * inf
        return
    if rule.ufunc.nin == 1 and callable(partial) and rule.ufunc in REAL_KERNELS:
        _FAST_UNARY[rule.ufunc] = (REAL_KERNELS[rule.ufunc], partial)


for _rule in RULES.values():
    _refresh_fast_unary(_rule)


# --- NumPy's protocols -------------------------------------------------------------------------


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
        return result
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
    return apply_binary(rule, *inputs)


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
    if type(target.tangent) is np.ndarray and not target.tangent.flags.writeable:
        target.tangent = target.tangent.copy()  # a broadcast view
    db = _flat_tangent(operand, positions.shape, batch) if live else None
    target.value = _holding(target.value, b)
    if ufunc is not np.multiply:  # linear: the same update of the tangent
        ufunc.at(target.value, cells, b)
        if db is not None:
            target.tangent = _holding(target.tangent, db)
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
        target.tangent = _holding(target.tangent, factor)
        np.multiply.at(target.tangent, _batched(round_cells, batch), factor)
        if db is not None:
            update = before * db[..., chosen]
            target.tangent = _holding(target.tangent, update)
            np.add.at(target.tangent, _batched(round_cells, batch), update)
        np.multiply.at(target.value, round_cells, factor)


def _holding(part: Any, update: Any) -> Any:
    """A plain value or tangent made a Dual of ``update``'s (older) tag, if ``update`` is one.

    Writing an outer derivative's dual number into a plain part would drop its
    tangent, so the part becomes a new dual number (zero tangent) first; it is
    then no longer a view of what it was.
    """
    if type(update) is Dual and type(part) is not Dual:
        return make(np.array(part), zero_tangent(part, batch_shape(update)), update.tag)
    return part


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
                "lose its tangent; pass a Dual as out, or compute on .value"
            )
        np.copyto(target, source, where=where, casting="same_kind")
        return target
    batch = batch_shape(target)
    if type(source) is Dual and source.tag > target.tag:
        raise TypeError(
            f"out= of {_qualified(ufunc)} is a Dual of an outer derivative: writing the "
            "result into it would lose the inner tangent"
        )
    if type(source) is Dual and source.tag == target.tag:
        if batch_shape(source) != batch:
            raise TypeError(
                f"out= of {_qualified(ufunc)} carries {batch or 'no'} batch of tangents, the "
                f"result {batch_shape(source) or 'none'}"
            )
        value, tangent = source.value, source.tangent
    else:  # a constant to the target's derivative
        value, tangent = source, zero_tangent(source, batch)
    target.value = _write_part(ufunc, target.value, value, where)
    target.tangent = _write_part(ufunc, target.tangent, tangent, where)
    return target


def _write_part(ufunc: np.ufunc, part: Any, source: Any, where: Any) -> Any:
    """A value or tangent with ``source`` written in: in place where it is a writable array."""
    part = _holding(part, source)
    if type(part) is Dual or (type(part) is np.ndarray and part.flags.writeable):
        return _write(ufunc, part, source, where)
    dtype = np.result_type(part)
    if not np.can_cast(np.result_type(source), dtype, casting="same_kind"):
        raise TypeError(f"out= of {_qualified(ufunc)} cannot hold {np.result_type(source)}")
    fresh = source if where is True else np.where(where, source, part)
    fresh = np.array(np.broadcast_to(fresh, np.shape(part)), dtype=dtype)  # a new, writable array
    if type(part) in _SCALARS:
        return fresh.item()
    return fresh if isinstance(part, np.ndarray) else fresh[()]


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


def call_function(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
    """Handle ``Dual.__array_function__``."""
    implementation = FUNCTIONS.get(func)
    if implementation is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        module = "numpy" if module.startswith("numpy._core") else module
        raise TypeError(
            f"dualdiff has no derivative rule for {module}.{func.__name__}; register one with "
            "dualdiff.register_function"
        )
    return implementation(*args, **kwargs)


def getitem(x: Dual, index: Any) -> Dual:
    """``x[index]`` for basic, advanced and boolean indices; a batch axis is carried along."""
    if isinstance(index, Dual) or (
        isinstance(index, tuple) and any(isinstance(i, Dual) for i in index)
    ):
        raise TypeError("a Dual cannot be used as an index; index with integers or .value")
    value = x.value[index]
    if not batch_shape(x):
        return make(value, x.tangent[index], x.tag)
    index = index if isinstance(index, tuple) else (index,)
    rest = (slice(None),) if any(i is Ellipsis for i in index) else (Ellipsis, slice(None))
    tangent = np.moveaxis(np.moveaxis(x.tangent, 0, -1)[(*index, *rest)], -1, 0)
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
    """Whether NaN-safe tangents are on (see :func:`nan_safe`)."""
    return SETTINGS.nan_safe


install_operators()
