"""Tests of dualdiff.trace: the evaluation trace and its renderings."""

import html
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import dualdiff
from dualdiff import Dual, EvaluationTrace, derivative, jvp, trace
from dualdiff.tracing import MAX_ROWS, TraceRow

MINUS, TIMES = "\u2212", "\u00d7"


def baydin(x1, x2):
    return np.log(x1) + x1 * x2 - np.sin(x2)


@pytest.fixture
def table2():
    """Baydin et al. (2018), Table 2: f at (2, 5) with the tangent along x1."""
    return trace(baydin, (2.0, 5.0), (1.0, 0.0))


# --- Baydin et al., Table 2 --------------------------------------------------------------------


def test_baydin_table_2_row_by_row(table2):
    x1, x2 = 2.0, 5.0
    expected = [
        # name, operation, operands, value, tangent
        ("v₋₁", "x1", (), x1, 1.0),
        ("v₀", "x2", (), x2, 0.0),
        ("v₁", "ln v₋₁", ("v₋₁",), math.log(x1), 1 / x1),
        ("v₂", f"v₋₁ {TIMES} v₀", ("v₋₁", "v₀"), x1 * x2, 1.0 * x2 + x1 * 0.0),
        ("v₃", "sin v₀", ("v₀",), math.sin(x2), math.cos(x2) * 0.0),
        ("v₄", "v₁ + v₂", ("v₁", "v₂"), math.log(x1) + x1 * x2, 1 / x1 + x2),
        (
            "v₅",
            f"v₄ {MINUS} v₃",
            ("v₄", "v₃"),
            math.log(x1) + x1 * x2 - math.sin(x2),
            1 / x1 + x2,
        ),
    ]
    assert len(table2.rows) == len(expected)
    for row, (name, operation, operands, value, tangent) in zip(table2.rows, expected, strict=True):
        assert isinstance(row, TraceRow)
        assert row.name == name
        assert row.operation == operation
        assert row.operands == operands
        assert row.value == pytest.approx(value, abs=1e-12)
        assert row.tangent == pytest.approx(tangent, abs=1e-12)
    # the survey's printed values, to its three decimals
    printed = [2, 5, 0.693, 10, -0.959, 10.693, 11.652]
    for row, value in zip(table2.rows, printed, strict=True):
        assert row.value == pytest.approx(value, abs=5e-4)
    assert [row.tangent for row in table2.rows] == [1.0, 0.0, 0.5, 5.0, 0.0, 5.5, 5.5]


def test_baydin_rows_record_the_numpy_operations(table2):
    functions = [row.function for row in table2.rows]
    assert functions == [None, None, np.log, np.multiply, np.sin, np.add, np.subtract]
    assert [row.is_input for row in table2.rows] == [True, True] + [False] * 5
    assert all(row.keywords == {} and row.part is None for row in table2.rows)


def test_baydin_output(table2):
    assert table2.output == pytest.approx(11.652071455223084, abs=1e-12)
    assert table2.output_tangent == 5.5
    assert table2.output_names == ("v₅",)
    assert isinstance(table2, EvaluationTrace)
    assert (table2.output, table2.output_tangent) == jvp(baydin, (2.0, 5.0), (1.0, 0.0))


def test_records_keep_full_precision_while_renderings_round(table2):
    assert table2.rows[2].value == math.log(2.0)  # exactly the library's value
    text = str(table2)
    assert "0.693147 " in text
    assert repr(math.log(2.0)) not in text


def test_execution_order_is_the_order_python_ran(table2):
    executed = trace(baydin, (2.0, 5.0), (1.0, 0.0), order="execution")
    assert [row.function for row in executed.rows[2:]] == [
        np.log,
        np.multiply,
        np.add,
        np.sin,
        np.subtract,
    ]
    assert executed.rows[4].operation == "v₁ + v₂"
    assert executed.rows[6].operation == f"v₃ {MINUS} v₄"
    assert executed.output_tangent == table2.output_tangent


def _functions():
    a = np.arange(6.0).reshape(2, 3) / 7

    def mlp(x, w):
        hidden = np.tanh(a @ x + w)
        return np.sum(hidden**2) / 2 - hidden[0] * x[1]

    def branches(x, y):
        z = x * y
        if z > 1:
            z = z - np.exp(-y)
        return np.sqrt(z * z + 1.0) / (2.0 - x)

    return [
        (baydin, (2.0, 5.0), (0.3, -0.7)),
        (mlp, (np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.2])), (np.ones(3), np.ones(2))),
        (branches, (1.5, 2.5), (1.0, 1.0)),
    ]


@pytest.mark.parametrize(("f", "primals", "tangents"), _functions())
@pytest.mark.parametrize("order", ["depth", "execution"])
def test_every_order_is_an_evaluation_order(f, primals, tangents, order):
    result = trace(f, primals, tangents, order=order)
    seen = set()
    for row in result.rows:
        for operand in row.operands:
            if isinstance(operand, str):
                assert operand in seen, (row.name, operand)
        seen.add(row.name)
    out, slope = jvp(f, primals, tangents)
    np.testing.assert_allclose(result.output, out, rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.output_tangent, slope, rtol=0, atol=1e-14)
    assert result.rows[-1].name == result.output_names[0]


def test_input_names_come_from_the_signature_or_are_numbered():
    assert trace(lambda a, b: a * b, (1.0, 2.0), (1.0, 0.0)).rows[0].operation == "a"

    def star(*xs):
        return xs[0] + xs[1]

    assert [row.operation for row in trace(star, (1.0, 2.0), (1.0, 0.0)).rows[:2]] == ["x1", "x2"]
    assert trace(np.sin, (1.0,), (1.0,)).rows[0].operation == "x"
    named = trace(baydin, (2.0, 5.0), (1.0, 0.0), names=["alpha", "beta"])
    assert [row.operation for row in named.rows[:2]] == ["alpha", "beta"]


def test_three_inputs_are_numbered_from_minus_two():
    result = trace(lambda x, y, z: x * y + z, (1.0, 2.0, 3.0), (1.0, 0.0, 0.0))
    assert [row.name for row in result.rows] == ["v₋₂", "v₋₁", "v₀", "v₁", "v₂"]
    assert [row.operation for row in result.rows[3:]] == [f"v₋₂ {TIMES} v₋₁", "v₁ + v₀"]


# --- operators, constants, indexing ------------------------------------------------------------


def test_operators_reflected_operators_and_constants():
    def f(x):
        return (2 - x) * -3 + 2.5**x + abs(x) + (-x) + x**2 / 4

    result = trace(f, (1.0,), (1.0,), order="execution")
    operations = [row.operation for row in result.rows[1:]]
    assert operations[:6] == [
        f"2 {MINUS} v₀",
        f"v₁ {TIMES} (-3)",
        "2.5^v₀",
        "v₂ + v₃",
        "|v₀|",
        "v₄ + v₅",
    ]
    assert operations[6:] == [f"{MINUS}v₀", "v₆ + v₇", "v₀^2", "v₉ / 4", "v₈ + v₁₀"]
    assert result.rows[1].operands == (2, "v₀")
    assert result.output_tangent == pytest.approx(derivative(f, 1.0), abs=1e-14)


def test_numpy_scalars_and_arrays_on_the_left_are_recorded():
    result = trace(lambda x: np.float64(2.0) * x + np.ones(2) * x, (1.5,), (1.0,))
    assert [row.function for row in result.rows[1:]] == [np.multiply, np.multiply, np.add]
    assert result.rows[2].operation == f"array(shape=(2,), min=1, max=1) {TIMES} v₀"
    np.testing.assert_array_equal(result.output_tangent, [3.0, 3.0])


def test_operations_on_constants_alone_are_not_recorded():
    result = trace(lambda x: x * np.exp(np.log(3.0)), (2.0,), (1.0,))
    assert len(result.rows) == 2
    assert result.rows[1].operation == f"v₀ {TIMES} 3"


def test_indexing_iteration_and_methods():
    def f(x):
        first, *_ = x
        return np.stack([first, x[1:].sum(), x.mean()]).reshape(3, 1)[::2, 0]

    x = np.array([1.0, 2.0, 3.0, 4.0])
    result = trace(f, (x,), (np.ones(4),), order="execution")
    operations = [row.operation for row in result.rows[1:]]
    assert operations[:4] == ["v₀[0]", "v₀[1]", "v₀[2]", "v₀[3]"]
    assert operations[4:] == [
        "v₀[1:]",
        "sum(v₅)",
        "mean(v₀)",
        "stack([v₁, v₆, v₇])",
        "reshape(v₈, (3, 1))",
        "v₉[::2, 0]",
    ]
    assert result.rows[-1].operands == ("v₉", (slice(None, None, 2), 0))
    np.testing.assert_array_equal(result.output, [1.0, 2.5])


def test_several_outputs_of_one_operation_get_a_row_each():
    result = trace(lambda x: divmod(x, 2.0), (5.5,), (1.0,))
    assert [row.operation for row in result.rows[1:]] == ["divmod(v₀, 2)[0]", "divmod(v₀, 2)[1]"]
    assert [row.part for row in result.rows[1:]] == [0, 1]
    assert result.output == (2.0, 1.5)
    assert result.output_tangent == (0.0, 1.0)
    assert result.output_names == ("v₁", "v₂")
    assert "y₁" in str(result) and "y₂" in str(result)


def test_keyword_arguments_are_shown():
    result = trace(lambda x: np.sum(x * x, axis=0), (np.ones((2, 3)),), (np.ones((2, 3)),))
    assert result.rows[-1].operation == "sum(v₁, axis=0)"
    assert result.rows[-1].keywords == {"axis": 0}
    assert r"\operatorname{sum}(v_{1}, \text{axis}=0)" in result.to_latex()


def test_comparisons_and_conversions_behave_like_a_dual():
    seen = {}

    def f(x):
        seen["compare"] = (x > 1.0, x == 1.5, x < Dual(2.0, 0.0))
        seen["round"] = (round(x), math.floor(x), math.ceil(x), math.trunc(x), int(x))
        seen["shape"] = (x.shape, x.ndim, x.size, x.dtype)
        for convert in (float, complex, math.sin, np.asarray, hash, range):
            with pytest.raises(TypeError):
                convert(x)
        with pytest.raises(TypeError, match="scalar"):
            iter(x)
        return x * 1.0

    trace(f, (1.5,), (1.0,))
    assert seen["compare"] == (True, True, True)
    assert all(type(b) is bool for b in seen["compare"])
    assert seen["round"] == (2, 1, 2, 1, 1)
    assert seen["shape"] == ((), 0, 1, np.dtype(np.float64))


def test_plain_valued_functions_are_not_recorded():
    def f(x):
        return np.where(x > 0, x, 0.0) + np.shape(x)[0]

    result = trace(f, (np.array([-1.0, 2.0]),), (np.ones(2),))
    assert [row.operation for row in result.rows[1:]] == [
        "where(array(shape=(2,), dtype=bool), v₀, 0)",
        "v₁ + 2",
    ]
    np.testing.assert_array_equal(result.output_tangent, [0.0, 1.0])


def test_a_function_without_a_rule_raises_as_on_a_dual():
    erf = np.frompyfunc(math.erf, 1, 1)  # a ufunc dualdiff has no rule for
    with pytest.raises(TypeError, match="no derivative rule") as on_a_dual:
        erf(Dual(0.5, 1.0))
    with pytest.raises(TypeError) as traced:
        trace(lambda x: erf(x * 2.0), (0.5,), (1.0,))
    assert str(traced.value) == str(on_a_dual.value)


# --- constants, batches, nesting ---------------------------------------------------------------


def test_a_constant_path_has_only_the_inputs():
    def f(x):
        if x > 0:
            return 1.0
        return x

    result = trace(f, (2.0,), (1.0,))
    assert [row.name for row in result.rows] == ["v₀"]
    assert result.output == 1.0 and result.output_tangent == 0.0
    assert result.output_names == (None,)
    assert str(result).splitlines()[-1].split() == ["y", "1", "1", "0"]


def test_no_inputs():
    result = trace(lambda: 3.0, (), ())
    assert result.rows == ()
    assert result.output == 3.0 and result.output_tangent == 0.0
    assert "y" in result.to_markdown()


def test_batched_tangents_give_every_partial_at_once():
    result = trace(baydin, (2.0, 5.0), (np.array([1.0, 0.0]), np.array([0.0, 1.0])))
    gradient = [1 / 2.0 + 5.0, 2.0 - math.cos(5.0)]  # [1/x1 + x2, x1 - cos(x2)]
    np.testing.assert_allclose(result.rows[-1].tangent, gradient, rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.output_tangent, gradient, rtol=0, atol=1e-14)
    np.testing.assert_allclose(result.rows[3].tangent, [5.0, 2.0])  # v2 = x1 * x2
    lines = str(result).splitlines()
    assert lines[2].split() == ["v₋₁", "x1", "2", "(1,", "0)"]
    assert lines[-1].endswith("(5.5, 1.71634)")


def test_batched_tangents_of_arrays_are_summarized():
    k, n = 6, 1000
    result = trace(np.sin, (np.zeros(n),), (np.ones((k, n)),))
    text = str(result)
    assert f"{k} directions: array(shape=({k}, {n}), min=1, max=1)" in text
    assert len(text) < 1000


def test_batches_must_agree():
    with pytest.raises(ValueError, match="same batch"):
        trace(baydin, (2.0, 5.0), (np.ones(2), 1.0))


def test_derivative_of_a_trace_and_a_trace_inside_a_derivative():
    def slope_of_sin_times(x):
        return trace(lambda y: np.sin(y) * x, (x,), (1.0,)).output_tangent

    x = 0.3
    assert derivative(slope_of_sin_times, x) == pytest.approx(
        math.cos(x) - x * math.sin(x), abs=1e-14
    )
    outer = Dual(0.3, 1.0)
    inner = trace(lambda y: y * y, (outer,), (1.0,))
    assert "0.09" in str(inner)  # an outer dual's value, shown as a value
    assert inner.rows[-1].tangent.value == pytest.approx(0.6, abs=1e-15)


def test_a_derivative_inside_the_traced_function():
    def f(x):
        return x * derivative(lambda y: x * y * y, 2.0)  # = 4 x**2

    result = trace(f, (1.5,), (1.0,))
    assert result.output == pytest.approx(9.0, abs=1e-14)
    assert result.output_tangent == pytest.approx(12.0, abs=1e-14)
    # the inner result depends on x but was computed out of sight: not a plain constant
    assert result.rows[-1].operation == f"v₀ {TIMES} untraced(6)"


def test_a_fresh_tag_for_every_trace():
    first = trace(np.sin, (1.0,), (1.0,))
    second = trace(np.sin, (1.0,), (1.0,))
    assert first.rows[1].tangent == second.rows[1].tangent == math.cos(1.0)

    def leaks(x):
        return x, trace(lambda y: x * y, (2.0,), (1.0,)).output_tangent

    out, tangent = jvp(leaks, (3.0,), (1.0,))
    assert out == (3.0, 3.0) and tangent == (1.0, 1.0)


# --- input errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((2.0, (2.0,), (1.0,)), {}, TypeError, "function first"),
        ((np.sin, 2.0, 1.0), {}, TypeError, "tuples"),
        ((np.sin, (2.0,), (1.0, 0.0)), {}, ValueError, "one per argument"),
        ((np.sin, (2.0,), (1.0,)), {"order": "backwards"}, ValueError, "order"),
        ((np.sin, (2.0,), (1.0,)), {"names": ["a", "b"]}, ValueError, "names"),
        ((np.sin, (np.ones(2),), (np.ones(3),)), {}, ValueError, "shape"),
    ],
)
def test_input_errors(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        trace(*args, **kwargs)


# --- renderings ---------------------------------------------------------------------------------


def test_plain_text_table(table2):
    lines = str(table2).splitlines()
    assert lines[0].split() == ["name", "operation", "value", "tangent"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert lines[2].split() == ["v₋₁", "x1", "2", "1"]
    assert lines[5].split() == ["v₂", "v₋₁", TIMES, "v₀", "10", "5"]
    assert lines[6].split() == ["v₃", "sin", "v₀", "-0.958924", "0"]
    assert lines[-1].split() == ["y", "v₅", "11.6521", "5.5"]
    assert len(lines) == 2 + 7 + 1
    # the columns line up under their headers
    for header, cell in [("value", "0.693147"), ("tangent", "0.5"), ("operation", "ln v₋₁")]:
        assert lines[4].index(cell) == lines[0].index(header)
    assert repr(table2).startswith("<EvaluationTrace of 7 rows>\n")


def test_ascii_text(table2):
    text = table2.to_text(ascii=True)
    assert text.isascii()
    assert [line.split()[:2] for line in text.splitlines()[2:]] == [
        ["v-1", "x1"],
        ["v0", "x2"],
        ["v1", "ln"],
        ["v2", "v-1"],
        ["v3", "sin"],
        ["v4", "v1"],
        ["v5", "v4"],
        ["y", "v5"],
    ]
    assert "v4 - v3" in text and "v-1 * v0" in text


def _html_tree(text):
    return ET.fromstring(f"<root>{text}</root>")  # well-formed, or this raises


def test_html_is_a_well_formed_table(table2):
    table = _html_tree(table2._repr_html_()).find("table")
    assert table is not None
    assert [th.text for th in table.findall("thead/tr/th")] == [
        "name",
        "operation",
        "value",
        "tangent",
    ]
    body = table.findall("tbody/tr")
    assert len(body) == len(table2.rows)
    assert all(len(tr.findall("td")) == 4 for tr in body)
    assert [td.text for td in body[3]] == ["v₂", f"v₋₁ {TIMES} v₀", "10", "5"]
    assert [td.text for td in table.findall("tfoot/tr/td")] == ["y", "v₅", "11.6521", "5.5"]


def test_html_escapes_the_cells():
    result = trace(lambda x: np.einsum("i,i->", x, x), (np.ones(3),), (np.ones(3),))
    text = result.to_html()
    assert "'i,i->'" not in text and html.escape("einsum('i,i->', v₀, v₀)") in text
    table = _html_tree(text).find("table")
    assert table.findall("tbody/tr")[1][1].text == "einsum('i,i->', v₀, v₀)"


def _balanced(text):
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_latex_is_balanced_and_names_the_rows(table2):
    text = table2._repr_latex_()
    assert text.startswith("$$") and text.endswith("$$")
    assert _balanced(text)
    assert re.findall(r"\\(begin|end)\{(\w+)\}", text) == [("begin", "array"), ("end", "array")]
    assert r"v_{-1} & = x_{1} & = 2 & \dot v_{-1} & = 1 \\" in text
    assert r"v_{2} & = v_{-1} \times v_{0} & = 10 & \dot v_{2} & = 5 \\" in text
    assert r"v_{5} & = v_{4} - v_{3}" in text
    assert r"\ln v_{-1}" in text and r"\sin v_{0}" in text
    assert text.isascii()
    # every row has the same number of columns
    rows = [line for line in text.splitlines() if line.endswith(r"\\")]
    assert len({line.count("&") for line in rows}) == 1


def test_latex_of_array_code_and_small_numbers():
    def f(x):
        return np.sqrt(np.sum(x**2) * 1e-7) + np.abs(x)[0]

    text = trace(f, (np.linspace(1.0, 2.0, 5),), (np.ones(5),)).to_latex()
    assert _balanced(text)
    assert r"1 \cdot 10^{-7}" in text
    assert r"\text{array(shape=(5,), min=1, max=2)}" in text
    assert r"v_{5} & = v_{3} \times 1 \cdot 10^{-7}" in text
    assert r"\sqrt{v_{5}}" in text and r"\lvert v_{0} \rvert" in text


def _markdown_cells(line):
    assert line.startswith("| ") and line.endswith(" |")
    return re.split(r"(?<!\\)\|", line[1:-1])


def test_markdown_table(table2):
    lines = table2.to_markdown().splitlines()
    assert _markdown_cells(lines[0]) == [" name ", " operation ", " value ", " tangent "]
    assert all(re.fullmatch(r" *:?-{3,}:? *", cell) for cell in _markdown_cells(lines[1]))
    assert len({len(_markdown_cells(line)) for line in lines}) == 1
    assert len(lines) == 2 + len(table2.rows) + 1
    assert lines[4] == "| v₁ | ln v₋₁ | 0.693147 | 0.5 |"


def test_markdown_escapes_pipes():
    lines = trace(np.abs, (-2.0,), (1.0,)).to_markdown().splitlines()
    assert lines[3] == r"| v₁ | \|v₀\| | 2 | -1 |"
    assert len({len(_markdown_cells(line)) for line in lines}) == 1


def test_array_intermediates_are_summarized_not_printed():
    n = 100_000
    x = np.linspace(-1.0, 1.0, n)
    result = trace(lambda x: np.sum(np.sin(x) * x) / n, (x,), (np.ones(n),))
    assert [row.function for row in result.rows[1:]] == [np.sin, np.multiply, np.sum, np.divide]
    text = str(result)
    assert f"array(shape=({n},), min=-1, max=1)" in text
    assert f"array(shape=({n},), min={np.sin(-1.0):.6g}, max={np.sin(1.0):.6g})" in text
    for rendering in (text, result.to_html(), result.to_latex(), result.to_markdown()):
        assert len(rendering) < 3000
    assert result.rows[1].value.shape == (n,)  # full data in the records


def test_matmul_rows():
    a = np.arange(12.0).reshape(3, 4)

    def layer(w, x):
        return np.tanh(w @ x) + a @ x

    w, x = np.ones((3, 4)), np.full(4, 0.125)
    result = trace(layer, (w, x), (np.ones((3, 4)), np.zeros(4)))
    assert [row.operation for row in result.rows[2:]] == [
        "v₋₁ @ v₀",
        "array(shape=(3, 4), min=0, max=11) @ v₀",
        "tanh v₁",
        "v₃ + v₂",
    ]
    assert [row.function for row in result.rows[2:4]] == [np.matmul, np.matmul]
    assert result.rows[3].operands[0] is a  # constants are kept as given
    np.testing.assert_allclose(result.output_tangent, (1 - np.tanh(0.5) ** 2) * 0.5, atol=1e-15)


def test_long_traces_show_their_ends():
    def f(x):
        for _ in range(300):
            x = np.sin(x)
        return x

    result = trace(f, (1.0,), (1.0,))
    lines = str(result).splitlines()
    assert len(lines) == 2 + MAX_ROWS + 1 + 1
    assert "… 201 rows omitted …" in lines
    assert lines[-2].startswith("v₃₀₀")
    assert len(result.to_text(max_rows=None).splitlines()) == 2 + 301 + 1
    html_rows = _html_tree(result.to_html(max_rows=4)).findall("table/tbody/tr")
    assert len(html_rows) == 5 and html_rows[2][0].get("colspan") == "4"
    assert _balanced(result.to_latex(max_rows=4))
    assert r"\vdots" in result.to_latex(max_rows=4)


def test_exported():
    assert dualdiff.trace is trace and "trace" in dualdiff.__all__
    assert "EvaluationTrace" in dualdiff.__all__


def test_summaries_of_nan_empty_and_complex_arrays():
    with np.errstate(invalid="ignore"):
        result = trace(np.sqrt, (np.array([-1.0, 4.0, 9.0]),), (np.ones(3),))
    assert result.rows[1].operation == "√v₀"
    assert "array(shape=(3,), min=2, max=3, 1 nan)" in str(result)
    assert "array(shape=(0,))" in str(trace(np.exp, (np.ones(0),), (np.ones(0),)))
    assert "array(shape=(1,), all nan)" in str(trace(np.exp, (np.array([np.nan]),), (np.ones(1),)))
    square = trace(lambda z: z * z, (1.0 + 2.0j,), (1.0 + 0.0j,))
    assert str(square).splitlines()[3].split() == ["v₁", "v₀", TIMES, "v₀", "-3+4j", "2+4j"]
    assert "max|z|=5" in str(trace(lambda z: z * z, (np.array([1 + 2j]),), (np.ones(1, complex),)))
