r"""How a :class:`~dualdiff.Dual` is shown: ``str``, ``format``, ``repr``, LaTeX and HTML.

The notation, the same in every form:

* ``3.0 + 1.0ε`` is ``value + tangent ε`` with ``ε² = 0``.
* Nested dual numbers (a derivative of a derivative) have one ε per level,
  numbered from the innermost, oldest one: ``(2.0 + 1.0ε₁) + (1.0 + 0.0ε₁)ε₂``
  is a dual number in ``ε₂`` whose value and tangent are dual numbers in
  ``ε₁``.  The outermost level is the newest derivative (the newest tag).
  With a single level the ε has no subscript.
* A batch of ``k`` tangents (directions) is a sum over directions, each with
  its own ``ε⁽ⁱ⁾`` (``ε⁽ⁱ⁾ε⁽ʲ⁾ = 0``): ``3.0 + 1.0ε⁽⁰⁾ + 2.0ε⁽¹⁾``.  When
  the tangents hold more numbers than NumPy's print threshold, the middle
  directions are summarised as ``…``.
* Arrays print as NumPy prints them.

``format(d, spec)`` (and ``f"{d:.3f}"``) applies ``spec`` to every number:
to the value and tangent of a scalar (``'3.000 + 1.000ε'``), and to each
element of an array as ``numpy.array2string`` with a ``formatter`` does
(``'[1.000 2.000] + [0.500 0.500]ε'``).  An empty spec gives ``str(d)``; a
spec that is invalid for the numbers raises ``ValueError``.

LaTeX (``_repr_latex_``, used by Jupyter) writes ε as ``\varepsilon``, the
level as a subscript and the direction as a superscript ``^{(i)}``: a scalar
dual number is inline math (``$3.0 + 1.0\,\varepsilon$``); one with arrays
or a batch of tangents is a display-math block with each 1-D or 2-D array as
a ``bmatrix``.  Arrays of more than two dimensions have no LaTeX form
(``None``, so Jupyter falls back to the HTML or text form).  HTML
(``_repr_html_``) is a small table, one row for the value and one per
tangent, for Duals with array values (``None`` for scalars).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import numpy as np

from dualdiff import memory  # a module object: dualdiff.memory may still be importing
from dualdiff.dual import Dual
from dualdiff.tags import USER_TAG

__all__ = ["format_dual", "html_dual", "latex_dual", "repr_dual", "str_dual"]

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_SUPERSCRIPTS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")

Leaf = Callable[[Any], str]


# --- the structure shared by every form ------------------------------------------------------


def _levels(x: Any) -> dict[int, int]:
    """Number the tags of a (nested) dual number from 1 (oldest, innermost) up."""
    return {tag: level for level, tag in enumerate(sorted(memory.tags_in(x)), start=1)}


def _plain(x: Any) -> Any:
    while type(x) is Dual:
        x = x.value
    return x


def _directions(x: Dual) -> list[tuple[int | None, Any]]:
    """The tangents of ``x``: ``[(None, tangent)]``, or ``[(i, tangent_i), ...]`` for a batch."""
    if np.ndim(_plain(x.tangent)) == np.ndim(_plain(x.value)):
        return [(None, x.tangent)]
    return [(i, x.tangent[i]) for i in range(len(_plain(x.tangent)))]


def _summarised(directions: list[Any], tangent: Any) -> list[Any]:
    """The directions to show: all, or the first and last few (None between) past the threshold."""
    options = np.get_printoptions()
    edge = options["edgeitems"]
    if np.size(_plain(tangent)) <= options["threshold"] or len(directions) <= 2 * edge:
        return directions
    return [*directions[:edge], None, *directions[-edge:]]


# --- text: str and format ----------------------------------------------------------------------


def _text(x: Any, leaf: Leaf, levels: dict[int, int]) -> str:
    """``value + tangent ε`` in text, every number written by ``leaf``."""
    if type(x) is not Dual:
        return leaf(x)
    epsilon = "ε" if len(levels) == 1 else "ε" + str(levels[x.tag]).translate(_SUBSCRIPTS)
    parts = [_text_part(x.value, leaf, levels)]
    directions = _directions(x)
    if not directions:
        parts.append(" (a batch of 0 tangents)")
    for item in _summarised(directions, x.tangent):
        if item is None:
            parts.append(" + …")
            continue
        index, tangent = item
        unit = epsilon if index is None else epsilon + f"({index})".translate(_SUPERSCRIPTS)
        term = _text_part(tangent, leaf, levels)
        if term.startswith("-"):  # a negative real number: "3.0 - 1.0ε"
            parts.append(f" - {term[1:]}{unit}")
        else:  # (a "+" from a format spec such as "+.2f" is not repeated)
            parts.append(f" + {term.removeprefix('+')}{unit}")
    return "".join(parts)


def _text_part(x: Any, leaf: Leaf, levels: dict[int, int]) -> str:
    return f"({_text(x, leaf, levels)})" if type(x) is Dual else leaf(x)


def str_dual(x: Dual) -> str:
    """Return ``str(x)``: ``value + tangent ε`` in the notation of this module.

    Examples
    --------
    >>> str_dual(Dual(3.0, -1.0))
    '3.0 - 1.0ε'
    >>> str_dual(Dual(3.0, [1.0, 2.0]))  # a batch of two tangents
    '3.0 + 1.0ε⁽⁰⁾ + 2.0ε⁽¹⁾'
    >>> str_dual(Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2))
    '(2.0 + 1.0ε₁) + (1.0 + 0.0ε₁)ε₂'
    """
    return _text(x, str, _levels(x))


def _leaf_formatter(spec: str) -> Leaf:
    """Return a function that writes a number or an array with the format ``spec``."""

    def element(number: Any) -> str:
        return format(number, spec)

    def leaf(x: Any) -> str:
        if isinstance(x, np.ndarray) and x.ndim > 0:
            formatter = {"float_kind": element, "complex_kind": element}
            return np.array2string(x, formatter=formatter)  # type: ignore[arg-type]
        text = format(x, spec)
        return f"({text})" if np.iscomplexobj(x) else text  # as str: "(1+2j)"

    return leaf


def format_dual(x: Dual, spec: str) -> str:
    """Return ``format(x, spec)``: ``spec`` applied to every number of the value and tangent.

    Parameters
    ----------
    x : Dual
        The dual number.
    spec : str
        A format spec for one number, such as ``".3f"`` or ``".2e"``; the
        empty spec gives ``str(x)``.

    Returns
    -------
    str
        ``x`` in the notation of :func:`str_dual`.

    Raises
    ------
    ValueError
        If ``spec`` is not a valid format for the numbers of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> f"{Dual(3.0, 1.0):.3f}"
    '3.000 + 1.000ε'
    >>> f"{Dual(np.array([1.0, 2.0]), np.array([0.5, -0.25])):.2f}"
    '[1.00 2.00] + [0.50 -0.25]ε'
    """
    if not spec:
        return str_dual(x)
    sample = np.zeros((), dtype=np.result_type(_plain(x.value), _plain(x.tangent))).item()
    try:
        format(sample, spec)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"invalid format spec {spec!r} for a Dual of {type(sample).__name__} numbers: {exc}"
        ) from None
    return _text(x, _leaf_formatter(spec), _levels(x))


def repr_dual(x: Dual) -> str:
    """Return ``repr(x)``: ``Dual(value, tangent)``, with ``tag=`` where it is not the user's.

    Evaluating it (with ``Dual`` and NumPy's ``array`` in scope) rebuilds ``x``.

    Examples
    --------
    >>> repr_dual(Dual(3.0, 1.0))
    'Dual(3.0, 1.0)'
    >>> repr_dual(Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2))
    'Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2)'
    """
    tag = "" if x.tag == USER_TAG else f", tag={x.tag}"
    return f"Dual({x.value!r}, {x.tangent!r}{tag})"


# --- LaTeX -------------------------------------------------------------------------------------


def _latex_real(number: Any, precision: int | None) -> str:
    r"""A real number in LaTeX: ``2.5``, ``-1.0``, ``1.5 \times 10^{-7}``, ``\infty``."""
    if np.isnan(number):
        return r"\mathrm{nan}"
    if np.isinf(number):
        return r"\infty" if number > 0 else r"-\infty"
    magnitude = abs(number)
    if magnitude != 0 and (magnitude >= 1e16 or magnitude < 1e-4):
        text = np.format_float_scientific(number, precision=precision, unique=True, trim="0")
        mantissa, _, exponent = text.partition("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return np.format_float_positional(number, precision=precision, unique=True, trim="0")


def _latex_number(number: Any, precision: int | None) -> str:
    """A real or complex number in LaTeX; a complex one as ``(a + bi)``."""
    number = np.asarray(number)[()]
    if not np.iscomplexobj(number):
        return _latex_real(number, precision)
    real, imag = _latex_real(number.real, precision), _latex_real(number.imag, precision)
    if imag.startswith("-"):
        return f"({real} - {imag[1:]}i)"
    return f"({real} + {imag}i)"


def _latex_matrix(array: np.ndarray) -> str:
    """A 1-D (as one row) or 2-D array as a ``bmatrix``, summarised past NumPy's threshold."""
    options = np.get_printoptions()
    precision, edge = options["precision"], options["edgeitems"]
    summarise = array.size > options["threshold"]
    matrix = array.reshape(1, -1) if array.ndim == 1 else array

    def keep(length: int) -> list[int | None]:
        if summarise and length > 2 * edge:
            return [*range(edge), None, *range(length - edge, length)]
        return list(range(length))

    rows = []
    for i in keep(matrix.shape[0]):
        cells = []
        for j in keep(matrix.shape[1]):
            if i is None:
                cells.append(r"\ddots" if j is None else r"\vdots")
            else:
                cells.append(r"\cdots" if j is None else _latex_number(matrix[i, j], precision))
        rows.append(" & ".join(cells))
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


class _NoLatexError(Exception):
    """An array of more than two dimensions: no LaTeX form."""


class _Latex:
    """Write a dual number in LaTeX, noting whether it needs display math."""

    def __init__(self, x: Dual) -> None:
        self.levels = _levels(x)
        self.display = False  # an array or a batch of tangents: display math

    def leaf(self, x: Any) -> str:
        if isinstance(x, np.ndarray) and x.ndim > 0:
            if x.ndim > 2:
                raise _NoLatexError
            self.display = True
            return _latex_matrix(x)
        return _latex_number(x, None)

    def dual(self, x: Any) -> str:
        if type(x) is not Dual:
            return self.leaf(x)
        levels = self.levels
        epsilon = r"\varepsilon" if len(levels) == 1 else rf"\varepsilon_{{{levels[x.tag]}}}"
        parts = [self.part(x.value)]
        directions = _directions(x)
        if not directions:
            parts.append(r"\quad(\text{a batch of 0 tangents})")
        for item in _summarised(directions, x.tangent):
            if item is None:
                parts.append(r" + \cdots")
                continue
            index, tangent = item
            if index is not None:
                self.display = True
            unit = epsilon if index is None else rf"{epsilon}^{{({index})}}"
            term = self.part(tangent)
            if term.startswith("-"):
                parts.append(rf" - {term[1:]}\,{unit}")
            else:
                parts.append(rf" + {term}\,{unit}")
        return "".join(parts)

    def part(self, x: Any) -> str:
        return rf"\left({self.dual(x)}\right)" if type(x) is Dual else self.leaf(x)


def latex_dual(x: Dual) -> str | None:
    r"""Return LaTeX for Jupyter: inline math for scalars, display math otherwise.

    Returns
    -------
    str or None
        ``$...$`` for a scalar dual number without a batch; ``$$...$$`` with
        ``bmatrix`` arrays when the value is an array or the tangent a batch;
        None when an array has more than two dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> latex_dual(Dual(3.0, -1.0))
    '$3.0 - 1.0\\,\\varepsilon$'
    >>> x = Dual(np.array([1.0, 2.0]), np.array([0.0, 0.5]))
    >>> print(latex_dual(x))  # doctest: +NORMALIZE_WHITESPACE
    $$\begin{bmatrix} 1.0 & 2.0 \end{bmatrix}
      + \begin{bmatrix} 0.0 & 0.5 \end{bmatrix}\,\varepsilon$$
    """
    writer = _Latex(x)
    try:
        body = writer.dual(x)
    except _NoLatexError:
        return None
    return f"$${body}$$" if writer.display else f"${body}$"


# --- HTML --------------------------------------------------------------------------------------


def html_dual(x: Dual) -> str | None:
    """Return an HTML table for Jupyter (value, then each tangent), or None for a scalar.

    Examples
    --------
    >>> import numpy as np
    >>> print(html_dual(Dual(np.array([1.0, 2.0]), np.array([0.0, 1.0]))))
    <table class="dualdiff-dual">
    <caption>Dual, shape (2,), float64</caption>
    <tr><th>value</th><td><pre>[1. 2.]</pre></td></tr>
    <tr><th>tangent ε</th><td><pre>[0. 1.]</pre></td></tr>
    </table>
    """
    if np.ndim(_plain(x.value)) == 0:
        return None
    levels = _levels(x)
    epsilon = "ε" if len(levels) == 1 else "ε" + str(levels[x.tag]).translate(_SUBSCRIPTS)
    directions = _directions(x)
    caption = f"Dual, shape {x.shape}, {np.result_type(_plain(x.value))}"
    if not directions or directions[0][0] is not None:
        caption += f", a batch of {len(directions)} tangents"
    if len(levels) > 1:
        caption += f", {len(levels)} levels of ε"
    rows = [("value", _text(x.value, str, levels))]
    for item in _summarised(directions, x.tangent):
        if item is None:
            rows.append(("…", "…"))
            continue
        index, tangent = item
        unit = epsilon if index is None else epsilon + f"({index})".translate(_SUPERSCRIPTS)
        rows.append((f"tangent {unit}", _text(tangent, str, levels)))
    cells = [
        f"<tr><th>{html.escape(name)}</th><td><pre>{html.escape(text)}</pre></td></tr>"
        for name, text in rows
    ]
    return "\n".join(
        ['<table class="dualdiff-dual">', f"<caption>{html.escape(caption)}</caption>", *cells,
         "</table>"]
    )
