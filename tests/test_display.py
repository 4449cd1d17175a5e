"""Tests of how a Dual is shown (dualdiff.display): str, repr, format, LaTeX and HTML."""

import html.parser
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dualdiff as dd
from dualdiff import Dual


def nested_from_hessian(x0):
    """The nested, batched Dual that dd.hessian feeds to its function."""
    seen = []

    def f(x):
        seen.append(x)
        return np.sum(x**3)

    dd.hessian(f, x0)
    return seen[0]


NESTED_SCALAR = Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2)
SAMPLES = {
    "scalar": Dual(3.0, 1.0),
    "negative tangent": Dual(3.0, -1.5),
    "complex": Dual(1 + 2j, -1 - 1j),
    "float32": Dual(np.float32(1.5), np.float32(-2.0)),
    "vector": Dual(np.array([1.0, 2.0]), np.array([0.5, -0.25])),
    "matrix": Dual(np.arange(6.0).reshape(2, 3), np.ones((2, 3))),
    "batched scalar": Dual(3.0, [1.0, 2.0]),
    "batched vector": Dual(np.array([1.0, 2.0]), np.eye(2)),
    "batched matrix": Dual(np.arange(6.0).reshape(2, 3), np.ones((2, 2, 3))),
    "nested scalar": NESTED_SCALAR,
    "nested batched vector": nested_from_hessian(np.array([1.0, 2.0])),
    "tiny and huge": Dual(np.array([1e-7, 1e20]), np.array([np.nan, -np.inf])),
    "complex vector": Dual(np.array([1 + 1j, 2]), np.array([1j, -1])),
    "empty": Dual(np.zeros((0, 3))),
    "empty batch": Dual(np.ones(2), np.ones((0, 2))),
}


# --- str: an unambiguous notation -------------------------------------------------------------


def test_plain_scalars_keep_the_short_notation():
    assert str(Dual(3.0, 1.0)) == "3.0 + 1.0ε"
    assert str(Dual(3.0, -1.0)) == "3.0 - 1.0ε"
    assert str(Dual(3.0, -0.0)) == "3.0 - 0.0ε"
    assert str(Dual(1 + 2j, -1j)) == "(1+2j) + (-0-1j)ε"


def test_nested_duals_number_their_epsilons_and_parenthesise_each_level():
    # Before: "2.0 + 1.0ε + 1.0 + 0.0εε", which reads as one flat sum.
    assert str(NESTED_SCALAR) == "(2.0 + 1.0ε₁) + (1.0 + 0.0ε₁)ε₂"
    inner_newer = Dual(Dual(2.0, 1.0, tag=7), 0.5, tag=9)
    assert str(inner_newer) == "(2.0 + 1.0ε₁) + 0.5ε₂"  # levels, not raw tags


def test_the_outermost_epsilon_is_the_newest_derivative():
    text = str(SAMPLES["nested batched vector"])
    assert text == "([1. 2.] + [1. 0.]ε₁⁽⁰⁾ + [0. 1.]ε₁⁽¹⁾) + [1. 0.]ε₂⁽⁰⁾ + [0. 1.]ε₂⁽¹⁾"


def test_batched_tangents_are_a_sum_over_directions():
    assert str(Dual(3.0, [1.0, -2.0])) == "3.0 + 1.0ε⁽⁰⁾ - 2.0ε⁽¹⁾"
    assert str(Dual(np.array([1.0, 2.0]), np.eye(2))) == "[1. 2.] + [1. 0.]ε⁽⁰⁾ + [0. 1.]ε⁽¹⁾"


def test_an_empty_batch_says_so():
    x = Dual(np.ones(2), np.ones((0, 2)))
    assert str(x) == "[1. 1.] (a batch of 0 tangents)"
    check_latex(x._repr_latex_())
    assert cells(x._repr_html_()) == [["value", "[1. 1.]"]]
    assert "a batch of 0 tangents" in x._repr_html_()


def test_many_directions_are_summarised_like_numpy():
    text = str(Dual(3.0, np.arange(2000.0)))
    assert "ε⁽⁰⁾" in text and "ε⁽¹⁹⁹⁹⁾" in text and " + … + " in text
    assert "ε⁽¹⁰⁰⁰⁾" not in text
    assert len(text) < 200
    assert "…" not in str(Dual(3.0, np.arange(20.0)))  # under the threshold: every direction


# --- repr: eval-able --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(SAMPLES))
def test_repr_rebuilds_the_dual(name):
    x = SAMPLES[name]
    def array(data, dtype=None, shape=None):  # NumPy writes empty arrays with their shape
        return np.reshape(np.array(data, dtype=dtype), shape or np.shape(data))

    names = {"Dual": Dual, "np": np, "array": array, "float32": np.float32, "nan": np.nan,
             "inf": np.inf, "float64": np.float64}
    y = eval(repr(x), names)
    assert str(y) == str(x)
    assert repr(y) == repr(x)
    assert y.tag == x.tag


def test_repr_of_a_user_dual_has_no_tag():
    assert repr(Dual(3.0, 1.0)) == "Dual(3.0, 1.0)"
    assert repr(NESTED_SCALAR) == "Dual(Dual(2.0, 1.0, tag=1), Dual(1.0, 0.0, tag=1), tag=2)"


# --- format ------------------------------------------------------------------------------------


def test_format_applies_the_spec_to_value_and_tangent():
    assert f"{Dual(3.0, 1.0):.3f}" == "3.000 + 1.000ε"
    assert f"{Dual(3.0, -1.0):.2e}" == "3.00e+00 - 1.00e+00ε"
    assert f"{Dual(3.0, 1.0):+.1f}" == "+3.0 + 1.0ε"  # the sign is not doubled
    assert f"{Dual(1 + 2j, -1 - 1j):.1f}" == "(1.0+2.0j) + (-1.0-1.0j)ε"
    assert f"{Dual(np.float32(1.5), np.float32(2.0)):.2f}" == "1.50 + 2.00ε"
    assert f"{NESTED_SCALAR:.1f}" == "(2.0 + 1.0ε₁) + (1.0 + 0.0ε₁)ε₂"
    assert f"{Dual(3.0, [1.0, 2.0]):.1f}" == "3.0 + 1.0ε⁽⁰⁾ + 2.0ε⁽¹⁾"


@pytest.mark.parametrize("spec", [".3f", ".2e", "g", "8.4f"])
def test_format_of_arrays_formats_each_element_as_array2string(spec):
    value, tangent = np.array([[1.0, -2.5], [1e-3, 4.0]]), np.array([[0.5, 0.25], [-1.0, 2.0]])
    element = {"float_kind": lambda v: format(v, spec)}
    expected = (
        f"{np.array2string(value, formatter=element)} + "
        f"{np.array2string(tangent, formatter=element)}ε"
    )
    assert format(Dual(value, tangent), spec) == expected


@pytest.mark.parametrize("name", list(SAMPLES))
def test_an_empty_spec_gives_str(name):
    assert f"{SAMPLES[name]}" == str(SAMPLES[name])
    assert format(SAMPLES[name], "") == str(SAMPLES[name])


@pytest.mark.parametrize("spec", ["d", "x", "s", ".3q"])
def test_an_invalid_spec_names_itself(spec):
    with pytest.raises(ValueError, match=f"invalid format spec '{re.escape(spec)}' for a Dual"):
        format(Dual(np.ones(2), np.ones(2)), spec)


# --- LaTeX -------------------------------------------------------------------------------------


def check_latex(latex):
    """Assert that ``latex`` is well-formed math for MathJax; return its body."""
    inline = not latex.startswith("$$")
    body = latex[1:-1] if inline else latex[2:-2]
    assert latex.endswith("$$" if not inline else "$")
    assert "$" not in body
    if inline:
        assert r"\\" not in body  # a line break has no place in inline math
    depth = 0
    for char in re.sub(r"\\[{}]", "", body):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, latex
    assert depth == 0, latex
    assert body.count(r"\left(") == body.count(r"\right)")
    assert re.findall(r"\\begin\{(\w+)\}", body) == re.findall(r"\\end\{(\w+)\}", body)
    assert "ε" not in body
    return body


REAL = r"-?\d+\.\d+(?: \\times 10\^\{-?\d+\})?|\\mathrm\{nan\}|-?\\infty"
NUMBER = rf"{REAL}|\((?:{REAL}) [+-] (?:{REAL})i\)|\\[cvd]dots"


def matrix_cells(body):
    """The cells of every bmatrix in ``body``."""
    matrices = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", body)
    return [cell.strip() for matrix in matrices for cell in re.split(r"&|\\\\", matrix)]


@pytest.mark.parametrize("name", list(SAMPLES))
def test_latex_is_well_formed(name):
    x = SAMPLES[name]
    body = check_latex(x._repr_latex_())
    for cell in matrix_cells(body):
        if x.size == 0:
            assert cell == ""
        else:
            assert re.fullmatch(NUMBER, cell), cell  # one number per cell, never "1.2."


def test_latex_arrays_are_matrices_with_separated_numbers():
    # Before: "$[1. 2.] + [0. 0.]\,\varepsilon$", which MathJax shows as "1.2.".
    latex = Dual(np.array([1.0, 2.0]), np.array([0.0, 0.5]))._repr_latex_()
    assert latex == (
        r"$$\begin{bmatrix} 1.0 & 2.0 \end{bmatrix}"
        r" + \begin{bmatrix} 0.0 & 0.5 \end{bmatrix}\,\varepsilon$$"
    )
    matrix = Dual(np.eye(2))._repr_latex_()
    assert r"\begin{bmatrix} 1.0 & 0.0 \\ 0.0 & 1.0 \end{bmatrix}" in matrix


def test_latex_of_scalars_is_inline_and_of_batches_display_math():
    assert Dual(3.0, 1.0)._repr_latex_() == r"$3.0 + 1.0\,\varepsilon$"
    assert Dual(3.0, -1.0)._repr_latex_() == r"$3.0 - 1.0\,\varepsilon$"
    assert NESTED_SCALAR._repr_latex_() == (
        r"$\left(2.0 + 1.0\,\varepsilon_{1}\right)"
        r" + \left(1.0 + 0.0\,\varepsilon_{1}\right)\,\varepsilon_{2}$"
    )
    batched = Dual(3.0, [1.0, 2.0])._repr_latex_()
    assert batched == r"$$3.0 + 1.0\,\varepsilon^{(0)} + 2.0\,\varepsilon^{(1)}$$"


def test_latex_numbers():
    latex = SAMPLES["tiny and huge"]._repr_latex_()
    assert r"1.0 \times 10^{-7}" in latex and r"1.0 \times 10^{20}" in latex
    assert r"\mathrm{nan}" in latex and r"-\infty" in latex
    assert Dual(1 + 2j, -1j)._repr_latex_() == r"$(1.0 + 2.0i) + (-0.0 - 1.0i)\,\varepsilon$"


def test_latex_of_large_arrays_is_summarised():
    latex = Dual(np.arange(40000.0).reshape(200, 200))._repr_latex_()
    body = check_latex(latex)
    assert r"\cdots" in body and r"\vdots" in body and r"\ddots" in body
    assert len(latex) < 2000


def test_latex_of_arrays_of_three_dimensions_falls_back():
    assert Dual(np.ones((2, 2, 2)))._repr_latex_() is None
    assert Dual(np.ones((2, 2)), np.ones((3, 2, 2)))._repr_latex_() is not None  # a batch


@settings(max_examples=60, deadline=None)
@given(
    value=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)),
    batch=st.integers(0, 3),
)
def test_latex_is_well_formed_for_any_values(value, batch):
    tangent = np.ones((batch, *value.shape)) if batch else -value
    body = check_latex(Dual(value, tangent)._repr_latex_())
    for cell in matrix_cells(body):
        assert re.fullmatch(NUMBER, cell), cell


# --- HTML --------------------------------------------------------------------------------------


class Cells(html.parser.HTMLParser):
    """Collect the header and data cells of a table, checking that every tag closes."""

    def __init__(self):
        super().__init__()
        self.open, self.rows, self.text = [], [], None

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        if tag in ("th", "td"):
            self.text = ""
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag):
        assert self.open.pop() == tag
        if tag in ("th", "td"):
            self.rows[-1].append(self.text)
            self.text = None

    def handle_data(self, data):
        if self.text is not None:
            self.text += data


def cells(markup):
    parser = Cells()
    parser.feed(markup)
    parser.close()
    assert parser.open == []
    return parser.rows


def test_html_table_has_the_value_and_each_tangent():
    x = Dual(np.array([1.0, 2.0]), np.eye(2))
    assert cells(x._repr_html_()) == [
        ["value", "[1. 2.]"],
        ["tangent ε⁽⁰⁾", "[1. 0.]"],
        ["tangent ε⁽¹⁾", "[0. 1.]"],
    ]
    nested = cells(SAMPLES["nested batched vector"]._repr_html_())
    assert nested[0] == ["value", "[1. 2.] + [1. 0.]ε₁⁽⁰⁾ + [0. 1.]ε₁⁽¹⁾"]
    assert [row[0] for row in nested[1:]] == ["tangent ε₂⁽⁰⁾", "tangent ε₂⁽¹⁾"]


def test_html_is_escaped():
    x = Dual(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    with np.printoptions(formatter={"float": lambda v: f"<b>{v}&</b>"}):
        markup = x._repr_html_()
    assert "<b>" not in markup
    assert "&lt;b&gt;1.0&amp;&lt;/b&gt;" in markup
    assert cells(markup)[0] == ["value", "[<b>1.0&</b> <b>2.0&</b>]"]


def test_html_only_for_arrays():
    assert Dual(3.0, 1.0)._repr_html_() is None
    assert Dual(np.float64(3.0), 1.0)._repr_html_() is None


def test_html_of_many_directions_is_summarised():
    rows = cells(Dual(np.arange(3.0), np.ones((500, 3)))._repr_html_())
    assert len(rows) == 1 + 3 + 1 + 3
    assert rows[4] == ["…", "…"]
    assert rows[-1][0] == "tangent ε⁽⁴⁹⁹⁾"
