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

import html
import inspect
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from dualdiff.api import extract
from dualdiff.dispatch import batch_shape
from dualdiff.dual import Dual
from dualdiff.elementary import strip
from dualdiff.tags import new_tag

__all__ = ["EvaluationTrace", "TraceRow", "trace"]

Order = Literal["depth", "execution"]
_Style = Literal["unicode", "ascii", "latex"]

MAX_ROWS = 100
"""How many rows the renderings show by default; longer traces show their two ends."""

_SUBSCRIPTS = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
_FROM_SUBSCRIPTS = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")
_COLUMNS = ("name", "operation", "value", "tangent")
_MINUS, _TIMES = "\u2212", "\u00d7"  # the typeset signs, unlike "-" and "x"


# --- the records -------------------------------------------------------------------------------


class _Name(str):
    """The name of a row, as it appears among the operands of a later row."""

    __slots__ = ()


@dataclass(frozen=True, eq=False)
class TraceRow:
    """One intermediate of an evaluation trace.

    Attributes
    ----------
    name : str
        ``"v₋₁"``, ``"v₀"``, ``"v₁"``, ...
    operation : str
        How the intermediate was computed, e.g. ``"ln v₋₁"`` or ``"sin v₀"``;
        for an input, the input's name (``"x1"``).
    operands : tuple
        The positional arguments of the operation: each earlier intermediate
        as its name (a ``str``), constants as they were given.
    value : float, complex or ndarray
        The primal value, at full precision.
    tangent : float, complex or ndarray
        The tangent: of the value's shape, or with a leading axis of ``k``
        directions when the tangents were batched.
    function : callable or None
        The operation: a NumPy ufunc or function, ``operator.getitem``, or a
        builtin such as ``divmod``; ``None`` for an input.
    keywords : mapping
        Keyword arguments of the operation (``{"axis": 0}``).
    part : int or None
        Which output, for an operation with several (``divmod``, ``np.modf``).
    """

    name: str
    operation: str
    operands: tuple[Any, ...]
    value: Any
    tangent: Any
    function: Callable[..., Any] | None = None
    keywords: Mapping[str, Any] = field(default_factory=dict)
    part: int | None = None

    @property
    def is_input(self) -> bool:
        """Whether this row is an input (a seed) rather than an operation."""
        return self.function is None


@dataclass(frozen=True, eq=False)
class EvaluationTrace:
    """The forward primal and tangent trace of one evaluation, row by row.

    Renders as a plain-text table (``str``), HTML and LaTeX (in Jupyter) and
    Markdown (:meth:`to_markdown`).  Numbers are rounded to six significant
    digits in the renderings and kept at full precision in :attr:`rows`;
    array values are summarized by shape, minimum and maximum.

    Attributes
    ----------
    rows : tuple of TraceRow
        The inputs, then one row per elementary operation.
    output, output_tangent
        What ``f`` returned and its tangent, as :func:`dualdiff.jvp` gives them.
    output_names : tuple of (str or None)
        For each output (one, or one per item of a returned tuple or list), the
        name of its row, or ``None`` if it did not depend on the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> from dualdiff import trace
    >>> t = trace(lambda x: np.sin(x) * x, (0.5,), (1.0,))
    >>> len(t), t.output_names  # the input v0, then sin and the product
    (3, ('v₂',))
    >>> print(t.to_markdown().splitlines()[0])
    | name | operation | value | tangent |
    """

    rows: tuple[TraceRow, ...]
    output: Any
    output_tangent: Any
    output_names: tuple[str | None, ...]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[TraceRow]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> TraceRow:
        return self.rows[index]

    def __repr__(self) -> str:
        return f"<EvaluationTrace of {len(self.rows)} rows>\n{self}"

    def __str__(self) -> str:
        return self.to_text()

    # --- renderings ---------------------------------------------------------------------------
    def to_text(self, *, ascii: bool = False, max_rows: int | None = MAX_ROWS) -> str:
        """Return the trace as an aligned plain-text table.

        Parameters
        ----------
        ascii : bool
            Write ``v-1``, ``*`` and ``-`` instead of ``v₋₁`` and the Unicode
            multiplication and minus signs.
        max_rows : int or None
            Show at most this many rows (the first and the last ones); ``None``
            shows all.
        """
        style: _Style = "ascii" if ascii else "unicode"
        table = [_COLUMNS, *self._cells(style, max_rows)]
        full = [row for row in table if row[1]]  # not the marker of omitted rows
        widths = [max(len(row[i]) for row in full) for i in range(len(_COLUMNS))]
        rule = tuple("-" * width for width in widths)
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            if row[1]
            else row[0]
            for row in [table[0], rule, *table[1:]]
        )

    def to_markdown(self, *, max_rows: int | None = MAX_ROWS) -> str:
        """Return the trace as a Markdown table (``|`` in cells escaped)."""
        table = [_COLUMNS, ("---", "---", "---:", "---:"), *self._cells("unicode", max_rows)]
        return "\n".join(
            "| " + " | ".join(cell.replace("|", r"\|") for cell in row) + " |" for row in table
        )

    def to_html(self, *, max_rows: int | None = MAX_ROWS) -> str:
        """Return the trace as an HTML ``<table>`` (header, body and the output rows)."""
        cells = self._cells("unicode", max_rows)
        body = cells[: len(cells) - len(self.output_names)]
        foot = cells[len(body) :]

        def row(tag: str, items: Sequence[str]) -> str:
            if len(items) == 1:
                return f'<tr><{tag} colspan="{len(_COLUMNS)}">{html.escape(items[0])}</{tag}></tr>'
            return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in items) + "</tr>"

        return "\n".join(
            [
                '<table class="dualdiff-trace">',
                "<thead>" + row("th", _COLUMNS) + "</thead>",
                "<tbody>",
                *(row("td", cells_ if cells_[1] else cells_[:1]) for cells_ in body),
                "</tbody>",
                "<tfoot>",
                *(row("td", cells_) for cells_ in foot),
                "</tfoot>",
                "</table>",
            ]
        )

    def to_latex(self, *, max_rows: int | None = MAX_ROWS) -> str:
        r"""Return the trace as a LaTeX ``array`` in display math (``$$...$$``).

        Names are written ``v_{-1}`` and tangents ``\dot v_{-1}``.
        """
        cells = self._cells("latex", max_rows)
        outputs = len(self.output_names)
        lines = [
            r"$$\begin{array}{llrlr}",
            r"& \text{operation} & \text{value} & & \text{tangent} \\ \hline",
        ]
        for index, (name, operation, value, tangent) in enumerate(cells):
            if index == len(cells) - outputs:
                lines.append(r"\hline")
            if not operation:  # the marker of omitted rows
                lines.append(rf"\vdots & {name} & & & \\")
                continue
            lines.append(rf"{name} & = {operation} & = {value} & \dot {name} & = {tangent} \\")
        lines.append(r"\end{array}$$")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_latex_(self) -> str:
        return self.to_latex()

    def _cells(self, style: _Style, max_rows: int | None) -> list[tuple[str, str, str, str]]:
        """The table's cells (name, operation, value, tangent), output rows last."""
        rows = list(self.rows)
        cells: list[tuple[str, str, str, str]] = []
        shown: list[TraceRow | int] = list(rows)
        if max_rows is not None and len(rows) > max_rows:
            head = max(max_rows // 2, 1)
            tail = max(max_rows - head, 1)
            shown = [*rows[:head], len(rows) - head - tail, *rows[-tail:]]
        for row in shown:
            if isinstance(row, int):
                dots = "..." if style != "unicode" else "…"
                text = f"{dots} {row} rows omitted {dots}"
                cells.append((rf"\text{{{text}}}" if style == "latex" else text, "", "", ""))
                continue
            cells.append(
                (
                    _name(row.name, style),
                    _operation(row, style),
                    *_pair(row.value, row.tangent, style),
                )
            )
        values, tangents = _leaves(self.output), _leaves(self.output_tangent)
        several = len(self.output_names) > 1
        for index, (name, value, tangent) in enumerate(
            zip(self.output_names, values, tangents, strict=True)
        ):
            label = f"y{index + 1}".translate(_SUBSCRIPTS) if several else "y"
            source = _name(name, style) if name is not None else _constant(value, style)
            cells.append(
                (
                    _name(label, style),
                    source,
                    *_pair(value, tangent, style),
                )
            )
        return cells


# --- rendering ---------------------------------------------------------------------------------

_LATEX_FUNCTIONS = ("sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan")

_TEMPLATES: dict[Callable[..., Any], tuple[str, str, str]] = {
    # the operation -> its (unicode, ascii, LaTeX) template; anything else is written name(...)
    np.add: ("{0} + {1}", "{0} + {1}", "{0} + {1}"),
    np.subtract: (f"{{0}} {_MINUS} {{1}}", "{0} - {1}", "{0} - {1}"),
    np.multiply: (f"{{0}} {_TIMES} {{1}}", "{0} * {1}", r"{0} \times {1}"),
    np.divide: ("{0} / {1}", "{0} / {1}", "{0} / {1}"),
    np.floor_divide: ("{0} // {1}", "{0} // {1}", r"\lfloor {0} / {1} \rfloor"),
    np.remainder: ("{0} mod {1}", "{0} mod {1}", r"{0} \bmod {1}"),
    np.power: ("{0}^{1}", "{0}**{1}", "{{{0}}}^{{{1}}}"),
    np.matmul: ("{0} @ {1}", "{0} @ {1}", r"{0} \, {1}"),
    np.negative: (_MINUS + "{0}", "-{0}", "-{0}"),
    np.positive: ("+{0}", "+{0}", "+{0}"),
    np.absolute: ("|{0}|", "|{0}|", r"\lvert {0} \rvert"),
    np.square: ("{0}²", "{0}**2", "{{{0}}}^2"),
    np.sqrt: ("√{0}", "sqrt {0}", r"\sqrt{{{0}}}"),
    np.reciprocal: ("1/{0}", "1/{0}", r"1 / {0}"),
    np.exp: ("exp {0}", "exp {0}", r"\exp {0}"),
    np.log: ("ln {0}", "ln {0}", r"\ln {0}"),
    operator.getitem: ("{0}[{1}]", "{0}[{1}]", "{0}[{1}]"),
    **{
        getattr(np, name): (f"{name} {{0}}", f"{name} {{0}}", rf"\{name} {{0}}")
        for name in _LATEX_FUNCTIONS
    },
}
_STYLE_INDEX = {"unicode": 0, "ascii": 1, "latex": 2}


def _name(name: str, style: _Style) -> str:
    """A row's name in a style: ``v₋₁``, ``v-1`` or ``v_{-1}``."""
    if style == "unicode":
        return name
    plain = name.translate(_FROM_SUBSCRIPTS)
    if style == "ascii":
        return plain
    return re.sub(r"^([a-z])(-?\d+)$", r"\1_{\2}", plain)


def _identifier(name: str, style: _Style) -> str:
    """An input's name (a Python identifier) in a style: ``x1`` is ``x_{1}`` in LaTeX."""
    if style == "unicode":
        return name
    if style == "ascii":
        return name.encode("ascii", "backslashreplace").decode()
    match = re.fullmatch(r"([A-Za-z])_?(\d+)", name)
    if match:
        return f"{match[1]}_{{{match[2]}}}"
    if len(name) == 1 and name.isascii():
        return name
    return r"\mathit{" + _latex_text(name) + "}"


def _latex_text(text: str) -> str:
    """Escape text for LaTeX's text mode."""
    special = {c: "\\" + c for c in "#$%&_{}"}
    special |= {"\\": r"\backslash{}", "^": r"\hat{}", "~": r"\sim{}"}
    return "".join(special.get(c, c) for c in text.encode("ascii", "backslashreplace").decode())


def _number(x: Any, style: _Style) -> str:
    r"""A number to six significant digits; in LaTeX, ``1.5e-05`` becomes ``1.5 \cdot 10^{-5}``."""
    text = str(x) if isinstance(x, bool | np.bool_) else f"{x:.6g}"
    if style != "latex":
        return text
    if isinstance(x, complex | np.complexfloating):
        return r"\text{" + text + "}"
    text = text.replace("inf", r"\infty").replace("nan", r"\text{nan}")
    return re.sub(
        r"e([+-])0*(\d+)",
        lambda m: rf" \cdot 10^{{{'-' if m[1] == '-' else ''}{m[2]}}}",
        text,
    )


def _summary(array: np.ndarray) -> str:
    """``array(shape=(1000,), min=..., max=...)``: a few numbers, never the data."""
    shape = f"shape={tuple(array.shape)}"
    if array.size == 0:
        return f"array({shape})"
    if array.dtype.kind in "iuf":
        nan = np.isnan(array)
        nans = int(np.count_nonzero(nan))
        if nans == array.size:
            return f"array({shape}, all nan)"
        numbers = array[~nan] if nans else array
        low, high = _number(np.min(numbers), "ascii"), _number(np.max(numbers), "ascii")
        return f"array({shape}, min={low}, max={high}" + (f", {nans} nan)" if nans else ")")
    if array.dtype.kind == "c":
        return (
            f"array({shape}, dtype={array.dtype}, max|z|={_number(np.max(np.abs(array)), 'ascii')})"
        )
    return f"array({shape}, dtype={array.dtype})"


def _value_text(x: Any, style: _Style, *, batched: bool = False) -> str:
    """A value or tangent for a table cell."""
    x = strip(x)
    if np.ndim(x) == 0:
        return _number(x.item() if isinstance(x, np.ndarray) else x, style)
    x = np.asarray(x)
    if batched:
        k = len(x)
        if x.ndim == 1 and k <= 4:
            return "(" + ", ".join(_number(t, style) for t in x) + ")"
        text = f"{k} directions: {_summary(x)}"
    else:
        text = _summary(x)
    return r"\text{" + _latex_text(text) + "}" if style == "latex" else text


def _pair(value: Any, tangent: Any, style: _Style) -> tuple[str, str]:
    """The value and tangent cells; a tangent with one more axis than the value is a batch."""
    batched = np.ndim(strip(tangent)) > np.ndim(strip(value))
    return _value_text(value, style), _value_text(tangent, style, batched=batched)


def _constant(x: Any, style: _Style, *, bracket: bool = False) -> str:
    """A constant operand: a number, an array summary, or a short text."""
    if type(x) is _Name:
        return _name(x, style)
    if type(x) is _Untraced:
        inner = _constant(x.value, style)
        return rf"\operatorname{{untraced}}({inner})" if style == "latex" else f"untraced({inner})"
    if isinstance(x, list | tuple):
        items = ", ".join(_constant(i, style) for i in x)
        if isinstance(x, list):
            return f"[{items}]"
        return f"({items},)" if len(x) == 1 else f"({items})"
    plain = strip(x)
    if isinstance(plain, int | float | complex | np.generic | np.ndarray):
        text = _value_text(plain, style)
        negative = np.ndim(plain) == 0 and text.startswith("-")
        return f"({text})" if bracket and negative else text
    if plain is None or plain is Ellipsis:
        text = "..." if plain is Ellipsis else "None"
    elif isinstance(plain, str):
        text = repr(plain)
    else:
        text = f"<{type(plain).__name__}>"
    return r"\text{" + _latex_text(text) + "}" if style == "latex" else text


def _index(index: Any, style: _Style) -> str:
    """An indexing expression: ``0``, ``1:3``, ``:, 0``, ``...``."""
    items = index if isinstance(index, tuple) else (index,)
    texts = []
    for item in items:
        if isinstance(item, slice):
            parts = ["" if p is None else _constant(p, style) for p in (item.start, item.stop)]
            if item.step is not None:
                parts.append(_constant(item.step, style))
            texts.append(":".join(parts))
        elif isinstance(item, list | np.ndarray) and np.size(item) <= 4:
            texts.append(str(np.asarray(item).tolist()).replace(" ", ""))
        else:
            texts.append(_constant(item, style))
    return ", ".join(texts)


def _function_name(function: Callable[..., Any]) -> str:
    """``sum``, ``add.reduce``, ``divmod``."""
    owner = getattr(function, "__self__", None)
    name = getattr(function, "__name__", type(function).__name__)
    return f"{owner.__name__}.{name}" if isinstance(owner, np.ufunc) else name


def _operation(row: TraceRow, style: _Style) -> str:
    """How a row was computed, in a style."""
    if row.function is None:
        return _identifier(row.operation, style)
    template = _TEMPLATES.get(row.function)
    operands = row.operands
    arity = getattr(row.function, "nin", 2)  # a ufunc's, or getitem's
    if template is not None and not row.keywords and len(operands) == arity:
        if row.function is operator.getitem:
            texts = [_constant(operands[0], style), _index(operands[1], style)]
        else:
            texts = [_constant(x, style, bracket=True) for x in operands]
        text = template[_STYLE_INDEX[style]].format(*texts)
    else:
        arguments = [_constant(x, style) for x in operands]
        name = _function_name(row.function)
        if style == "latex":
            name = r"\operatorname{" + _latex_text(name) + "}"
        for key, value in row.keywords.items():
            label = r"\text{" + _latex_text(key) + "}" if style == "latex" else key
            arguments.append(f"{label}={_constant(value, style)}")
        text = f"{name}({', '.join(arguments)})"
    if row.part is not None:
        text = f"{text}[{row.part}]"
    return text


def _subscript_name(index: int) -> str:
    return "v" + str(index).translate(_SUBSCRIPTS)


def _leaves(x: Any) -> list[Any]:
    """The items of a (nested) tuple or list of outputs, in order; a single output alone."""
    if isinstance(x, tuple | list):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]


# --- recording ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ref:
    """An operand that is an earlier intermediate, by its position in the recording."""

    node: int


@dataclass(frozen=True, eq=False)
class _Untraced:
    """An operand that depends on the inputs but was computed out of sight of the trace.

    Such a value comes from an inner derivative call inside ``f``; its tangent
    enters the row's tangent, so it is not shown as a plain constant.
    """

    value: Any


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
            return _Untraced(x.value)  # computed from the inputs, but outside the trace
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
        names = {i: _subscript_name(k + 1 - len(inputs)) for k, i in enumerate(inputs)}
        names |= {i: _subscript_name(k + 1) for k, i in enumerate(steps)}

        def resolve(x: Any) -> Any:
            if type(x) is _Ref:
                return _Name(names[x.node])
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
                row = replace(row, operation=_operation(row, "unicode"))
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
    out = _unwrap_output(f(*proxies), recorder, output_nodes)
    output, output_tangent = extract(out, tag, batches.pop() if batches else ())
    rows, node_names = recorder.rows(order)
    return EvaluationTrace(
        tuple(rows),
        output,
        output_tangent,
        tuple(None if node is None else node_names[node] for node in output_nodes),
    )
