"""Coverage: what dualdiff does with each NumPy ufunc and array function.

``python -m dualdiff.coverage`` prints a table and counts; ``--markdown``
prints the table for the docs.  Every entry of NumPy's own lists of
overridable ufuncs and array functions (``numpy.testing.overrides``) falls in
one class:

``rule``
    dualdiff differentiates it: a row of the ufunc table, or a registered
    implementation that returns dual numbers.
``plain``
    it returns plain values (booleans, indices, shapes) for a dual number.
``raises``
    it raises ``TypeError`` on purpose, for a stated reason (:data:`REASONS`).

``rule`` and ``plain`` are read from the live registries, so a registration
made anywhere counts at once (a registered function whose examples return no
dual number is ``plain``).  Only the reasons for ``raises`` are written by
hand, below.  An entry neither registered nor given a reason is
``unclassified``, which the tests forbid.  Ufuncs registered from elsewhere
(``scipy.special``, users) are listed too.
"""

from __future__ import annotations

import argparse
import importlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import dualdiff  # noqa: F401  (registers every rule and function)
from dualdiff.dispatch import (
    FUNCTION_EXAMPLES,
    FUNCTIONS,
    INTEGER_ARGUMENT_RULES,
    PLAIN,
    RULES,
)
from dualdiff.dual import Dual
from dualdiff.rules import COMPOSED, MULTI_OUTPUT

STATUSES = ("rule", "plain", "raises", "unclassified")

# NumPy lists an array function once its module is imported; these make the list complete.
_MODULES = (
    "numpy.fft", "numpy.linalg", "numpy.polynomial", "numpy.lib.recfunctions",
    "numpy.lib.scimath", "numpy.lib.stride_tricks", "numpy.char", "numpy.strings",
)  # fmt: skip

# --- why the others raise ------------------------------------------------------------------------
# Keyed by name (``numpy.`` left out), not by function object, so the lists read as documentation
# and survive NumPy versions that lack a function; they never steer dispatch.  A function that
# gets registered moves to 'rule' or 'plain' whatever its line here says.

INTEGER_ONLY = "integer-only"
NOT_NUMERIC = "not numeric"
CONVERSION = "conversion to a plain array"
ARRAY_CREATION = "array creation"
NOT_DIFFERENTIABLE = "not differentiable"
PLAIN_NOT_YET = "plain result, not yet supported"
NOT_YET = "not yet supported"
INTERNAL = "internal"

REASON_TEXT: dict[str, str] = {
    INTEGER_ONLY: "defined for integers or bits only; a Dual holds floats",
    NOT_NUMERIC: "strings, dates, structured records, files or printing",
    CONVERSION: "would turn a Dual into a plain array and drop its tangent",
    ARRAY_CREATION: "builds a constant array from plain arguments (like=)",
    NOT_DIFFERENTIABLE: "counts in bins: piecewise constant, with no tangent to give",
    PLAIN_NOT_YET: "booleans, indices or queries; pass .value until it is registered",
    NOT_YET: "differentiable, but no rule yet",
    INTERNAL: "a helper NumPy calls internally, not a public function",
}
"""One sentence per reason category."""

_REASON_NAMES: dict[str, str] = {
    INTEGER_ONLY: "bincount packbits unpackbits ravel_multi_index unravel_index",
    NOT_NUMERIC: """
        array2string array_repr array_str datetime_as_string busday_count busday_offset
        is_busday save savetxt savez savez_compressed loadtxt genfromtxt fromfile frombuffer
        fromstring""",
    CONVERSION: "array asarray asanyarray ascontiguousarray asfortranarray require fromiter",
    ARRAY_CREATION: "arange empty eye full identity ones tri zeros fromfunction",
    NOT_DIFFERENTIABLE: "histogram histogram2d histogramdd histogram_bin_edges",
    PLAIN_NOT_YET: """
        all any allclose isclose array_equal array_equiv isneginf isposinf isin count_nonzero
        lexsort argmax argmin argpartition argsort argwhere nonzero flatnonzero nanargmax
        nanargmin searchsorted digitize diag_indices_from tril_indices_from triu_indices_from
        ix_ may_share_memory shares_memory min_scalar_type result_type can_cast common_type
        size shape ndim iscomplex iscomplexobj isreal isrealobj linalg.matrix_rank""",
    NOT_YET: """
        amax amin angle append apply_along_axis apply_over_axes around array_split astype
        atleast_1d atleast_2d atleast_3d average block broadcast_arrays broadcast_to choose clip
        column_stack compress concatenate convolve copy copyto corrcoef correlate cov cross
        cumprod cumsum cumulative_prod cumulative_sum delete diag diagflat diagonal diff dot
        dsplit dstack ediff1d einsum einsum_path empty_like expand_dims extract fill_diagonal
        fix flip fliplr flipud full_like geomspace gradient hsplit hstack i0 imag inner insert
        interp intersect1d kron linspace logspace matrix_transpose max mean median meshgrid min
        moveaxis nan_to_num nancumprod nancumsum nanmax nanmean nanmedian nanmin nanpercentile
        nanprod nanquantile nanstd nansum nanvar ones_like outer pad partition percentile
        piecewise place poly polyadd polyder polydiv polyfit polyint polymul polysub polyval
        prod ptp put put_along_axis putmask quantile ravel real real_if_close repeat reshape
        resize roll rollaxis roots rot90 round select setdiff1d setxor1d sinc sort sort_complex
        split squeeze stack std sum swapaxes take take_along_axis tensordot tile trace
        transpose trapezoid tril trim_zeros triu union1d unique unique_all unique_counts
        unique_inverse unique_values unstack unwrap vander var vdot vsplit vstack where
        zeros_like
        fft.fft fft.fft2 fft.fftn fft.fftshift fft.hfft fft.ifft fft.ifft2 fft.ifftn
        fft.ifftshift fft.ihfft fft.irfft fft.irfft2 fft.irfftn fft.rfft fft.rfft2 fft.rfftn
        linalg.cholesky linalg.cond linalg.cross linalg.det linalg.diagonal linalg.eig
        linalg.eigh linalg.eigvals linalg.eigvalsh linalg.inv linalg.lstsq linalg.matmul
        linalg.matrix_norm linalg.matrix_power linalg.matrix_transpose linalg.multi_dot
        linalg.norm linalg.outer linalg.pinv linalg.qr linalg.slogdet linalg.solve linalg.svd
        linalg.svdvals linalg.tensordot linalg.tensorinv linalg.tensorsolve linalg.trace
        linalg.vecdot linalg.vector_norm
        lib.scimath.arccos lib.scimath.arcsin lib.scimath.arctanh lib.scimath.log
        lib.scimath.log10 lib.scimath.log2 lib.scimath.logn lib.scimath.power lib.scimath.sqrt
        lib.stride_tricks.sliding_window_view
        polynomial.polynomial.polygrid2d polynomial.polynomial.polyval2d
        clip.ufunc matvec.ufunc vecmat.ufunc vecdot.ufunc""",
    INTERNAL: "_ones_like.ufunc",
}

REASONS: dict[str, str] = {
    name: reason for reason, names in _REASON_NAMES.items() for name in names.split()
}
"""Name (``numpy.`` left out; ``.ufunc`` marks a ufunc) -> why it raises."""

MODULE_REASONS: dict[str, str] = {
    "numpy.char": NOT_NUMERIC,
    "numpy.strings": NOT_NUMERIC,
    "numpy.lib.recfunctions": NOT_NUMERIC,
}
"""Whole modules that raise for one reason."""


@dataclass(frozen=True)
class Entry:
    """One ufunc or array function and what dualdiff does with it.

    Attributes
    ----------
    name : str
        ``numpy.sin``, ``numpy.linalg.det``, ``scipy.special.erf``, ...
    kind : str
        ``'ufunc'`` or ``'function'``.
    status : str
        One of :data:`STATUSES`.
    reason : str
        For ``raises``, the category (a key of :data:`REASON_TEXT`); for
        ``rule`` and ``plain``, how dualdiff knows it.
    obj : object
        The ufunc or function itself.
    """

    name: str
    kind: str
    status: str
    reason: str
    obj: Any = field(repr=False, compare=False)


# --- classification ------------------------------------------------------------------------------


def _ufunc_reason(ufunc: np.ufunc) -> str | None:
    """Why a ufunc without a rule raises: from its loops, else from :data:`REASONS`."""
    signatures = [loop.split("->")[0] for loop in ufunc.types]
    numeric = [s for s in signatures if set(s) <= set("?bBhHiIlLqQnNpPefdgFDG")]
    if not numeric:
        return NOT_NUMERIC
    if not any(set(s) & set("efdgFDG") for s in numeric):
        return INTEGER_ONLY
    return REASONS.get(f"{ufunc.__name__}.ufunc")


def _ufunc_status(ufunc: np.ufunc) -> tuple[str, str]:
    if ufunc in PLAIN:
        return "plain", "boolean result"
    if ufunc in RULES or ufunc in INTEGER_ARGUMENT_RULES:
        return "rule", "derivative table"
    if ufunc in COMPOSED or ufunc in MULTI_OUTPUT:
        return "rule", "several outputs"
    reason = _ufunc_reason(ufunc)
    return ("raises", reason) if reason else ("unclassified", "")


def _to_duals(obj: Any) -> Any:
    """An example with every float argument made a dual number (zero tangent)."""
    if isinstance(obj, bool | np.bool_):
        return obj
    if isinstance(obj, float | np.floating) or (
        isinstance(obj, np.ndarray) and obj.dtype.kind == "f"
    ):
        return Dual(obj)
    if isinstance(obj, list | tuple):
        return type(obj)(_to_duals(item) for item in obj)
    if isinstance(obj, dict):
        return {key: _to_duals(value) for key, value in obj.items()}
    return obj


def _holds_dual(obj: Any) -> bool:
    if isinstance(obj, list | tuple):
        return any(_holds_dual(item) for item in obj)
    return type(obj) is Dual


def split_example(example: tuple[Any, ...]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """A registered example as ``(args, kwargs)``."""
    if len(example) == 2 and isinstance(example[0], tuple) and isinstance(example[1], dict):
        return example
    return tuple(example), {}


def run_example(func: Callable[..., Any], example: tuple[Any, ...]) -> Any:
    """Call a registered function on one of its examples, float arguments as dual numbers."""
    args, kwargs = split_example(example)
    return func(*_to_duals(args), **_to_duals(kwargs))


def _returns_plain(func: Callable[..., Any]) -> bool:
    """Whether every example of a registered function returns a value and no dual number."""
    examples = FUNCTION_EXAMPLES.get(func, ())
    try:
        outputs = [run_example(func, example) for example in examples]
    except Exception:  # a broken example is the business of the function tests
        return False
    # None: the function writes in place (put_along_axis), tangents included
    return bool(outputs) and not any(_holds_dual(out) or out is None for out in outputs)


def _short_name(func: Callable[..., Any]) -> str:
    module = func.__module__ or "numpy"
    prefix = module.removeprefix("numpy").lstrip(".")
    return f"{prefix}.{func.__name__}" if prefix else func.__name__


def _function_status(func: Callable[..., Any]) -> tuple[str, str]:
    if func in FUNCTIONS:
        if _returns_plain(func):
            return "plain", "registered, plain result"
        return "rule", "registered"
    reason = MODULE_REASONS.get(func.__module__) or REASONS.get(_short_name(func))
    return ("raises", reason) if reason else ("unclassified", "")


def _function_name(func: Callable[..., Any]) -> str:
    name = f"{func.__module__}.{func.__name__}"
    module = importlib.import_module(func.__module__)
    if getattr(module, func.__name__, None) is not func:
        name += " (like=)"  # the dispatcher behind a creation function's like= argument
    return name


def _numpy_ufunc_name(ufunc: np.ufunc) -> str:
    for module in ("numpy", "numpy.strings"):
        if getattr(importlib.import_module(module), ufunc.__name__, None) is ufunc:
            return f"{module}.{ufunc.__name__}"
    return f"numpy._core.umath.{ufunc.__name__}"  # helpers NumPy does not export


def _other_ufunc_name(ufunc: np.ufunc) -> str:
    try:
        special = importlib.import_module("scipy.special")
    except ImportError:  # pragma: no cover
        special = None
    public = getattr(special, ufunc.__name__, None)
    # (with SCIPY_ARRAY_API=1 the public name is a Python wrapper of the ufunc)
    if special is not None and ufunc in (public, getattr(public, "__wrapped__", None)):
        return f"scipy.special.{ufunc.__name__}"
    return ufunc.__name__


def classify() -> list[Entry]:
    """Classify every overridable NumPy ufunc and array function, and other registered ufuncs.

    Returns
    -------
    list of Entry
        Ufuncs first, then array functions, then ufuncs registered from
        outside NumPy; each group sorted by name.

    Examples
    --------
    >>> import numpy as np
    >>> entries = {e.name: e for e in classify()}
    >>> entries["numpy.sin"].status, entries["numpy.isnan"].status
    ('rule', 'plain')
    >>> entries["numpy.gcd"].status, entries["numpy.gcd"].reason
    ('raises', 'integer-only')
    """
    from numpy.testing import overrides  # noqa: PLC0415 - only the report needs it

    for module in _MODULES:
        importlib.import_module(module)
    ufuncs = sorted(overrides.get_overridable_numpy_ufuncs(), key=lambda u: u.__name__)
    functions = sorted(overrides.get_overridable_numpy_array_functions(), key=_function_name)
    entries = [Entry(_numpy_ufunc_name(u), "ufunc", *_ufunc_status(u), u) for u in ufuncs]
    entries += [Entry(_function_name(f), "function", *_function_status(f), f) for f in functions]
    others = sorted(set(RULES) - set(ufuncs), key=_other_ufunc_name)
    entries += [Entry(_other_ufunc_name(u), "ufunc", *_ufunc_status(u), u) for u in others]
    return entries


def counts(entries: Sequence[Entry]) -> dict[str, int]:
    """How many entries have each status (every status listed, zeros included)."""
    tally = Counter(entry.status for entry in entries)
    return {status: tally.get(status, 0) for status in STATUSES}


# --- reports -------------------------------------------------------------------------------------


def text_report(entries: Sequence[Entry]) -> str:
    """A plain-text table and the counts by status and by reason."""
    width = max(len(entry.name) for entry in entries)
    lines = [f"{'name':<{width}}  {'kind':<8}  {'status':<12}  reason", "-" * (width + 48)]
    lines += [
        f"{e.name:<{width}}  {e.kind:<8}  {e.status:<12}  {e.reason}" for e in entries
    ]
    lines += ["", _summary(entries)]
    return "\n".join(lines)


def _summary(entries: Sequence[Entry]) -> str:
    total = counts(entries)
    lines = [f"{len(entries)} entries: " + ", ".join(f"{n} {s}" for s, n in total.items())]
    reasons = Counter(e.reason for e in entries if e.status == "raises")
    lines += [f"  raises, {reason}: {n}" for reason, n in sorted(reasons.items())]
    return "\n".join(lines)


def markdown_report(entries: Sequence[Entry]) -> str:
    """The counts, the reasons, and one table row per entry, as Markdown."""
    total = counts(entries)
    lines = [
        "| status | count |",
        "| --- | --- |",
        *(f"| {status} | {n} |" for status, n in total.items()),
        "",
        "| reason for `raises` | meaning |",
        "| --- | --- |",
        *(f"| {reason} | {text} |" for reason, text in REASON_TEXT.items()),
        "",
        "| name | kind | status | reason |",
        "| --- | --- | --- | --- |",
        *(f"| `{e.name}` | {e.kind} | {e.status} | {e.reason} |" for e in entries),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the coverage report; exit status 1 if any entry is unclassified."""
    parser = argparse.ArgumentParser(
        prog="python -m dualdiff.coverage",
        description="What dualdiff does with each NumPy ufunc and array function.",
    )
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--status", choices=STATUSES, help="list only entries with this status")
    options = parser.parse_args(argv)
    entries = classify()
    shown = [e for e in entries if options.status in (None, e.status)]
    if not shown:
        print(f"no entries with status {options.status!r}")
    else:
        print(markdown_report(shown) if options.markdown else text_report(shown))
    return 1 if counts(entries)["unclassified"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
