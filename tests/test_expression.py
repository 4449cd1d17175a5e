"""Tests of the safe expression parser, dualdiff.expression."""

import builtins
import math
import subprocess
import sys

import numpy as np
import pytest
import sympy

import dualdiff as dd
from dualdiff import value_and_gradient
from dualdiff.expression import (
    ALIASES,
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    Step,
    describe_functions,
    parse,
)

README = "log(x1) + x1*x2 - sin(x2)"

# A point inside the domain of every function, for one- and two-argument calls.
POINT = {"arccosh": 1.7, "floor": 1.6}
DEFAULT_POINT = 0.6


def call_text(name):
    arity = FUNCTIONS[ALIASES.get(name, name)].fewest
    return f"{name}(x)" if arity == 1 else f"{name}(x, 0.8)"


def test_readme_expression_value_on_floats():
    expr = parse(README)
    assert expr.variables == ("x1", "x2")
    value = expr.to_function()(2.0, 5.0)
    assert value == pytest.approx(math.log(2) + 10 - math.sin(5), abs=1e-12)
    assert float(value) == pytest.approx(11.652071455223084, abs=1e-12)


def test_steps_are_in_evaluation_order():
    expr = parse("2*x + 1")
    assert [step.op for step in expr.steps] == ["number", "variable", "mul", "number", "add"]
    assert expr.steps[2] == Step("mul", (0, 1))
    assert expr.steps[0].constant == 2.0
    assert expr.steps[-1].constant is None  # depends on x
    assert str(expr) == "2*x + 1"


def test_variables_in_order_of_first_appearance_and_without_constants():
    expr = parse("b*pi + a*e + b")
    assert expr.variables == ("b", "a")
    assert expr.to_function()(2.0, 3.0) == pytest.approx(2 * math.pi + 3 * math.e + 2)


def test_surrounding_whitespace_and_newlines_are_allowed():
    expr = parse("  (x +\n 1)\t")
    assert expr.text == "(x +\n 1)"
    assert expr.to_function()(1.0) == 2.0


@pytest.mark.parametrize("name", [*FUNCTIONS, *ALIASES])
def test_every_function_evaluates_like_numpy(name):
    function = FUNCTIONS[ALIASES.get(name, name)]
    x = POINT.get(ALIASES.get(name, name), DEFAULT_POINT)
    expected = function.numeric(x) if function.fewest == 1 else function.numeric(x, 0.8)
    assert parse(call_text(name)).to_function()(x) == pytest.approx(expected, rel=1e-15)


def test_aliases_become_the_canonical_function():
    assert parse("atan2(y, x)").steps[-1].op == "arctan2"
    assert parse("asinh(x)").steps == parse("arcsinh(x)").steps


def test_operators_follow_python_precedence():
    f = parse("-x**2 + 2*x/4 - +x - 3**2**-1").to_function()
    x = 1.5
    assert f(x) == pytest.approx(-(x**2) + 2 * x / 4 - x - 3 ** (2**-1))


def test_custom_argument_order_and_unused_arguments():
    f = parse("x - y").to_function(["y", "unused", "x"])
    assert f(1.0, 100.0, 5.0) == 4.0


def test_to_function_rejects_missing_or_repeated_variables():
    expr = parse("x - y")
    with pytest.raises(ExpressionError, match="no argument for variable 'y'"):
        expr.to_function(["x"])
    with pytest.raises(ExpressionError, match="listed twice"):
        expr.to_function(["x", "y", "x"])
    with pytest.raises(TypeError, match="expected 2 argument"):
        expr.to_function()(1.0)


def test_power_of_plain_numbers_gives_nan_not_complex():
    with np.errstate(invalid="ignore"):
        result = parse("(-8)**(1/3)").to_function()()
    assert not isinstance(result, complex)
    assert math.isnan(result)


def test_integer_literals_are_evaluated_as_floats():
    # Integers would make 9**9999 an exact 9542-digit number; floats overflow to inf.
    with np.errstate(over="ignore"):
        assert parse("(9**9999)**9999").to_function()() == math.inf
    assert parse("7/2").to_function()() == 3.5


def test_works_on_numpy_arrays():
    f = parse("hypot(x, y) + sqrt(x)").to_function()
    x = np.array([1.0, 4.0])
    np.testing.assert_allclose(f(x, 0.0), np.hypot(x, 0.0) + np.sqrt(x))


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_dual_derivative_of_every_function_matches_sympy(name):
    x = POINT.get(name, DEFAULT_POINT)
    expr = parse(call_text(name))
    f = expr.to_function()
    value, gradient = value_and_gradient(lambda v: f(v[0]), np.array([x]))
    sym, symbols = expr.to_sympy()
    expected = sympy.diff(sym, symbols["x"]).evalf(30, subs={symbols["x"]: x})
    assert float(value) == pytest.approx(float(f(x)), rel=1e-14)
    assert gradient.shape == (1,)
    assert gradient[0] == pytest.approx(float(expected), rel=1e-12, abs=1e-14)


def test_readme_gradient_through_dualdiff():
    f = parse(README).to_function()
    value, gradient = value_and_gradient(lambda v: f(v[0], v[1]), np.array([2.0, 5.0]))
    assert float(value) == pytest.approx(11.652071455223084, abs=1e-12)
    np.testing.assert_allclose(gradient, [5.5, 1.7163378145367738], rtol=0, atol=1e-12)


def test_to_sympy_builds_the_same_expression():
    sym, symbols = parse("log(x1) + x1*x2 - sin(x2) + atan2(x1, x2) + abs(x2)").to_sympy()
    x1, x2 = symbols["x1"], symbols["x2"]
    assert x1.is_real and x2.is_real
    expected = sympy.log(x1) + x1 * x2 - sympy.sin(x2) + sympy.atan2(x1, x2) + sympy.Abs(x2)
    assert sympy.simplify(sym - expected) == 0


def test_to_sympy_keeps_numbers_exact_but_folds_constant_powers():
    sym, symbols = parse("x/3 + pi + e").to_sympy()
    x = symbols["x"]
    assert sym == x / 3 + sympy.pi + sympy.E
    tower, _ = parse("(9**9999)**9999").to_sympy()
    assert tower == sympy.oo  # a float, not a 95-million-digit integer


@pytest.mark.parametrize("x", [-8.0, -0.3, 2.0])
def test_cbrt_and_abs_in_sympy_are_real_and_differentiable(x):
    # u = x - 1 is not a symbol, so SymPy cannot use the symbol's realness directly.
    sym, symbols = parse("cbrt(x - 1) + abs(x - 1)").to_sympy()
    at = {symbols["x"]: x}
    u = x - 1
    assert float(sym.evalf(30, subs=at)) == pytest.approx(np.cbrt(u) + abs(u), rel=1e-14)
    derivative = sympy.diff(sym, symbols["x"]).evalf(30, subs=at)
    expected = 1 / (3 * np.cbrt(u) ** 2) + np.sign(u)
    assert float(derivative) == pytest.approx(expected, rel=1e-14)


def test_parse_and_to_function_do_not_import_sympy():
    code = (
        "import sys; from dualdiff.expression import parse; "
        "parse('sin(x)**2').to_function()(1.0); print('sympy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "False"


def test_user_text_never_reaches_eval_or_exec(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    expr = parse("sqrt(x) + 2**y")
    assert expr.to_function()(4.0, 3.0) == 10.0
    with pytest.raises(ExpressionError):
        parse("__import__('os').system('true')")


def test_expression_error_is_a_value_error():
    assert issubclass(ExpressionError, ValueError)


REJECTED = [
    ("__import__('os')", "unknown function '__import__'"),
    ("().__class__", "attribute access is not allowed"),
    ("x.real", "attribute access is not allowed"),
    ("np.sin(x)", "attribute access is not allowed"),
    ("x[0]", "subscripts are not allowed"),
    ("lambda: 1", "lambda expressions are not allowed"),
    ("[x for x in y]", "comprehensions are not allowed"),
    ("sin(x for x in y)", "comprehensions are not allowed"),
    ("{x: 1 for x in y}", "comprehensions are not allowed"),
    ("'a'", "strings are not allowed"),
    ("b'a'", "strings are not allowed"),
    ("f'{x}'", "strings are not allowed"),
    ("1j", "complex numbers are not allowed"),
    ("True", "True is not allowed"),
    ("None", "None is not allowed"),
    ("...", "Ellipsis is not allowed"),
    ("foo(x)", "unknown function 'foo'"),
    ("pi(2)", "'pi' is a constant, not a function"),
    ("sin", "function 'sin' must be called"),
    ("sin + 1", "function 'sin' must be called"),
    ("sin(x=1)", "keyword arguments are not allowed"),
    ("sin(**k)", "keyword arguments are not allowed"),
    ("sin(*x)", "starred arguments are not allowed"),
    ("atan2(x)", "atan2() takes 2 arguments, got 1"),
    ("sin(x, y)", "sin() takes 1 argument, got 2"),
    ("hypot(x, y, z)", "hypot() takes 2 arguments, got 3"),
    ("(lambda: 1)()", "lambda expressions are not allowed"),
    ("2(x)", "only functions called by name are allowed"),
    ("x < 1", "comparisons are not allowed"),
    ("x and y", "'and' and 'or' are not allowed"),
    ("x if y else z", "conditional expressions are not allowed"),
    ("(x := 1)", "assignment expressions are not allowed"),
    ("(x, y)", "tuples are not allowed"),
    ("[x]", "lists are not allowed"),
    ("{x}", "sets are not allowed"),
    ("{}", "dicts are not allowed"),
    ("x ^ 2", "operator '^' is not allowed (use ** for powers)"),
    ("x // 2", "operator '//' is not allowed"),
    ("x % 2", "operator '%' is not allowed"),
    ("x @ y", "operator '@' is not allowed"),
    ("~x", "operator '~' is not allowed"),
    ("not x", "operator 'not' is not allowed"),
    ("sin(", "invalid syntax"),
    ("x +", "invalid syntax"),
    ("x = 1", "invalid syntax"),
    ("x; import os", "invalid syntax"),
    ("import os", "invalid syntax"),
    ("(" * 300 + "x" + ")" * 300, "invalid syntax"),
    ("", "expression is empty"),
    (" \n ", "expression is empty"),
    ("x\x00", "character '\\x00' at position 1 is not allowed"),
    ("x\u202e", "character '\\u202e' at position 1 is not allowed"),  # bidi override
    ("x\u00a0+ 1", "character '\\xa0' at position 1 is not allowed"),
    ("x\u00b2", "character '\u00b2' (U+00B2) at position 1 is not allowed: write powers with **"),
    ("\uff58", "Python reads it as 'x'; type that instead"),
    ("\u00b5", "Python reads it as '\u03bc'"),  # MICRO SIGN is read as GREEK SMALL LETTER MU
    ("e\u0301", "Python reads the expression as '\u00e9' (Unicode NFKC)"),
    ("2 \u00d7 x", "write '*' for times"),
    ("max(x)", "max() takes 2 or more arguments, got 1"),
    ("log(x, 2, 3)", "log() takes 1 or 2 arguments, got 3"),
    ("log()", "log() takes 1 or 2 arguments, got 0"),
    ("1e999", "number is too large"),
    ("9" * 400, "number is too large"),
    ("9**9**9**9", "exponent"),
    ("9**9**9", "exponent 3.8742e+08 is too large"),
    ("2**99999", "exponent 99999 is too large"),
    ("2**-10001", "exponent -10001 is too large"),
    ("x**(5000*3)", "exponent 15000 is too large"),
    ("x**x**x**x", "power towers higher than a**b**c are not allowed"),
    ("x**-x**-x**x", "power towers higher than a**b**c are not allowed"),
    ("x+" * 50000 + "x", f"expression is longer than {MAX_LENGTH} characters"),
    ("sin(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "nested deeper than 50 levels"),
    ("-" * (MAX_DEPTH + 1) + "x", "nested deeper than 50 levels"),
]


@pytest.mark.parametrize(("text", "message"), REJECTED, ids=[t[:30] for t, _ in REJECTED])
def test_rejected(text, message):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    text_of_error = str(info.value)
    assert message in text_of_error
    assert "\n" not in text_of_error


@pytest.mark.parametrize(
    "text",
    [
        "sin(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH,
        "+".join(["x"] * 400),  # a flat chain is one level, however long
        "*".join(["x"] * 400),
        "x**x**x",
        "2**9999",
        "2**-10000",
        "x**(y*1e5)",  # the exponent depends on a variable: not folded
        "x" * MAX_LENGTH,
    ],
    ids=lambda text: text[:20],
)
def test_accepted_at_the_limits(text):
    expr = parse(text)
    assert expr.steps
    assert set(expr.variables) <= {"x", "y", "x" * MAX_LENGTH}


def test_length_limit_is_exact():
    assert parse("x" * MAX_LENGTH).variables == ("x" * MAX_LENGTH,)
    with pytest.raises(ExpressionError, match="longer than"):
        parse("x" * (MAX_LENGTH + 1))


def test_non_string_input_is_rejected():
    with pytest.raises(ExpressionError, match="must be a string"):
        parse(b"x")


# --- names in any script; the functions added --------------------------------------------------


@pytest.mark.parametrize("name", ["θ", "λ1", "é", "Δx", "x_θ"])
def test_letters_of_any_script_are_variables_kept_as_typed(name):
    expr = parse(f"2*{name} + 1")
    assert expr.variables == (name,)
    assert expr.to_function()(3.0) == 7.0
    assert str(expr) == f"2*{name} + 1"


def test_max_and_min_take_any_number_of_arguments():
    f = parse("max(x, y, 3) - min(x, y, -1, x*y)").to_function()
    for x, y in [(1.0, 2.0), (5.0, -4.0), (0.0, 0.0)]:
        assert f(x, y) == max(x, y, 3) - min(x, y, -1, x * y)
    assert [step.op for step in parse("max(a, b, c)").steps] == ["variable"] * 3 + ["max"]
    g = parse("max(x, y, 2)").to_function()
    np.testing.assert_array_equal(g(np.array([1.0, 3.0]), 2.5), [2.5, 3.0])  # broadcasts


@pytest.mark.parametrize(("text", "share"), [("max(x, y)", 1 / 2), ("max(x, y, z)", 1 / 3),
                                             ("min(x, y, z, w)", 1 / 4)])
def test_tied_arguments_share_the_slope_evenly(text, share):
    expr = parse(text)
    f = expr.to_function()
    n = len(expr.variables)
    gradient = dd.gradient(lambda v: f(*[v[i] for i in range(n)]), np.ones(n))
    np.testing.assert_allclose(gradient, np.full(n, share), rtol=1e-15)


def test_log_with_a_base_is_log_over_log():
    f = parse("log(x, b)").to_function()
    assert f(8.0, 2.0) == np.log(8.0) / np.log(2.0)
    assert parse("log(x, 10)").to_function()(1000.0) == pytest.approx(3.0, rel=1e-15)
    _, gradient = value_and_gradient(lambda v: f(v[0], v[1]), np.array([8.0, 2.0]))
    np.testing.assert_allclose(
        gradient, [1 / (8 * np.log(2)), -np.log(8) / (2 * np.log(2) ** 2)], rtol=1e-14
    )


@pytest.mark.parametrize(("text", "x"), [("max(x, 2*x)", -1.0), ("log(x, 3)", 2.5)])
def test_new_functions_with_more_arguments_match_sympy(text, x):
    expr = parse(text)
    f = expr.to_function()
    _, gradient = value_and_gradient(lambda v: f(v[0]), np.array([x]))
    sym, symbols = expr.to_sympy()
    expected = sympy.diff(sym, symbols["x"]).evalf(30, subs={symbols["x"]: x})
    assert gradient[0] == pytest.approx(float(expected), rel=1e-13)


def test_scipy_functions_are_refused_at_parse_time_without_scipy(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.special", None)
    with pytest.raises(ExpressionError, match=r"erf\(\) needs SciPy.*dualdiff\[scipy\]"):
        parse("erf(x)")
    assert parse("sin(x)").variables == ("x",)


def test_describe_functions_covers_the_table():
    entries = describe_functions()
    assert len(entries) == len(FUNCTIONS)
    for entry, name in zip(entries, FUNCTIONS, strict=True):
        assert entry.startswith(f"{name}(")
    for alias, name in ALIASES.items():
        assert alias in next(entry for entry in entries if entry.startswith(f"{name}("))
