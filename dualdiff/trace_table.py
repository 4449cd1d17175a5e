"""The records of an evaluation trace and their renderings.

:class:`TraceRow` holds one row at full precision; :class:`EvaluationTrace`
holds the rows and renders them as plain text, HTML, LaTeX and Markdown,
rounding numbers to six significant digits and summarizing arrays by shape,
minimum and maximum.  :mod:`dualdiff.tracing` makes the records.
"""

from __future__ import annotations

import html
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from dualdiff.elementary import strip

__all__ = [
    "MAX_ROWS", "EvaluationTrace", "Name", "TraceRow", "Untraced", "operation_text", "row_name",
]

_Style = Literal["unicode", "ascii", "latex"]

MAX_ROWS = 100
"""How many rows the renderings show by default; longer traces show their two ends."""

_SUBSCRIPTS = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")
_FROM_SUBSCRIPTS = str.maketrans("₋₀₁₂₃₄₅₆₇₈₉", "-0123456789")
_COLUMNS = ("name", "operation", "value", "tangent")
_MINUS, _TIMES = "\u2212", "\u00d7"  # the typeset signs, unlike "-" and "x"


@dataclass(frozen=True, eq=False)
class Untraced:
    """An operand that depends on the inputs but was computed out of sight of the trace.

    Such a value comes from an inner derivative call inside ``f``; its tangent
    enters the row's tangent, so it is not shown as a plain constant.
    """

    value: Any




# --- the records -------------------------------------------------------------------------------


class Name(str):
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
                    operation_text(row, style),
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
    if type(x) is Name:
        return _name(x, style)
    if type(x) is Untraced:
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


def operation_text(row: TraceRow, style: _Style) -> str:
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


def row_name(index: int) -> str:
    """The name of row ``index``: ``v₋₁``, ``v₀``, ``v₁``, ... (inputs have index <= 0)."""
    return "v" + str(index).translate(_SUBSCRIPTS)


def _leaves(x: Any) -> list[Any]:
    """The items of a (nested) tuple or list of outputs, in order; a single output alone."""
    if isinstance(x, tuple | list):
        return [leaf for item in x for leaf in _leaves(item)]
    return [x]
