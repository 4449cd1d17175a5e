"""Tests of the command-line interface, dualdiff.cli and python -m dualdiff."""

import contextlib
import io
import re
import subprocess
import sys
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import dualdiff
from dualdiff import cli
from dualdiff.cli import main
from dualdiff.expression import ALIASES, CONSTANTS, FUNCTIONS, _sympy_table, parse

README = "log(x1) + x1*x2 - sin(x2)"
README_VALUE = 11.652071455223084
README_GRADIENT = {"x1": 5.5, "x2": 1.7163378145367738}

CHECK_LINE = re.compile(
    r"^df/d(?P<name>\w+) = (?P<dual>\S+) +sympy: (?P<sympy>\S+) +diff: (?P<diff>\S+)$"
)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def parse_output(out):
    """Return the value and the partials, by name, from the plain output."""
    lines = out.splitlines()
    assert lines[0].startswith("f = ")
    partials = {}
    for line in lines[1:]:
        match = re.fullmatch(r"df/d(\w+) = (\S+)", line)
        assert match, line
        partials[match.group(1)] = float(match.group(2))
    return float(lines[0].removeprefix("f = ")), partials


def assert_one_line_error(code, out, err):
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("dualdiff: error: ")
    assert "Traceback" not in err
    assert 'File "' not in err
    assert lines[0].isprintable()  # names as typed, control characters escaped
    return lines[0].removeprefix("dualdiff: error: ")


def test_readme_example(capsys):
    code, out, err = run(capsys, README, "--at", "x1=2,x2=5")
    assert code == 0
    assert err == ""
    value, partials = parse_output(out)
    assert value == pytest.approx(README_VALUE, abs=1e-12)
    assert list(partials) == ["x1", "x2"]
    assert partials["x1"] == pytest.approx(README_GRADIENT["x1"], abs=1e-12)
    assert partials["x2"] == pytest.approx(README_GRADIENT["x2"], abs=1e-12)


def test_readme_example_exact_text(capsys):
    code, out, _ = run(capsys, README, "--at", "x1=2,x2=5")
    assert code == 0
    assert out == ("f = 11.652071455223084\ndf/dx1 = 5.5\ndf/dx2 = 1.7163378145367738\n")
    assert out.isascii()


def test_gradient_follows_at_order(capsys):
    code, out, _ = run(capsys, README, "--at", "x2=5, x1=2")
    assert code == 0
    _, partials = parse_output(out)
    assert list(partials) == ["x2", "x1"]
    assert partials["x1"] == pytest.approx(5.5, abs=1e-12)


@pytest.mark.parametrize(("wrt", "expected"), [("x2", ["x2"]), ("x2,x1", ["x2", "x1"])])
def test_wrt_selects_and_orders_partials(capsys, wrt, expected):
    code, out, _ = run(capsys, README, "--at", "x1=2,x2=5", "--wrt", wrt)
    assert code == 0
    value, partials = parse_output(out)
    assert value == pytest.approx(README_VALUE, abs=1e-12)
    assert list(partials) == expected
    for name in expected:
        assert partials[name] == pytest.approx(README_GRADIENT[name], abs=1e-12)


def test_check_adds_sympy_column_and_small_differences(capsys):
    code, out, err = run(capsys, README, "--at", "x1=2,x2=5", "--check")
    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert float(lines[0].removeprefix("f = ")) == pytest.approx(README_VALUE, abs=1e-12)
    assert len(lines) == 3
    for line in lines[1:]:
        match = CHECK_LINE.match(line)
        assert match, line
        dual, sympy_value = float(match["dual"]), float(match["sympy"])
        assert dual == pytest.approx(README_GRADIENT[match["name"]], abs=1e-12)
        assert sympy_value == pytest.approx(dual, abs=1e-12)
        assert 0.0 <= float(match["diff"]) < 1e-12
    # the columns line up
    assert lines[1].index("sympy:") == lines[2].index("sympy:")
    assert lines[1].index("diff:") == lines[2].index("diff:")


def test_check_output_format_for_one_partial(capsys):
    code, out, _ = run(capsys, README, "--at", "x1=2,x2=5", "--wrt", "x1", "--check")
    assert code == 0
    assert out.splitlines()[1] == "df/dx1 = 5.5    sympy: 5.5    diff: 0.0"


@pytest.mark.parametrize(
    ("expr", "at"),
    [
        ("atan2(y, x) * hypot(x, y) + cbrt(x) + abs(y)", "x=-8,y=0.5"),
        ("x**y + exp(-x/y) + log10(y) + sqrt(x) + arccosh(y + 1)", "x=1.3,y=2.7"),
        ("tanh(x) + arctanh(x/2) + expm1(x) + log1p(x) + square(x) - 2**x", "x=0.4"),
    ],
)
def test_check_agrees_with_sympy(capsys, expr, at):
    code, out, err = run(capsys, expr, "--at", at, "--check")
    assert code == 0, err
    for line in out.splitlines()[1:]:
        match = CHECK_LINE.match(line)
        assert match, line
        assert float(match["diff"]) <= 1e-12 * max(1.0, abs(float(match["dual"])))


def test_check_gives_up_when_sympy_is_too_slow(capsys, monkeypatch):
    monkeypatch.setattr(cli, "CHECK_SECONDS", 0.5)
    nested = "atan2(" * 24 + "x" + ", x)" * 24  # SymPy's evalf is exponential in this
    message = assert_one_line_error(*run(capsys, nested, "--at", "x=0.5", "--check"))
    assert "did not finish within 0.5 seconds" in message


def test_constant_expression_needs_no_at(capsys):
    code, out, _ = run(capsys, "2**10 + pi")
    assert code == 0
    assert out == f"f = {1024 + 3.141592653589793!r}\n"


def test_expression_starting_with_minus(capsys):
    code, out, _ = run(capsys, "--at", "x=3", "--", "-x**2")
    assert code == 0
    assert parse_output(out) == (-9.0, {"x": -6.0})
    code, out, _ = run(capsys, "(-x**2)", "--at", "x=3")
    assert code == 0
    assert parse_output(out) == (-9.0, {"x": -6.0})


def test_derivative_path_does_not_import_sympy():
    code = (
        "import sys; from dualdiff.cli import main; "
        f"code = main([{README!r}, '--at', 'x1=2,x2=5']); "
        "print(code, 'sympy' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.splitlines()[-1] == "0 False"


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "dualdiff", README, "--at", "x1=2,x2=5"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert result.stderr == ""
    value, partials = parse_output(result.stdout)
    assert value == pytest.approx(README_VALUE, abs=1e-12)
    assert partials == pytest.approx(README_GRADIENT, abs=1e-12)


@pytest.mark.parametrize("expr", ["__import__('os').system('echo pwned')", "x+" * 50000 + "x"])
def test_module_entry_point_rejects_hostile_input(expr):
    result = subprocess.run(
        [sys.executable, "-m", "dualdiff", expr, "--at", "x=1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "pwned" not in result.stdout
    assert_one_line_error(result.returncode, result.stdout, result.stderr)


def test_help_exits_zero(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "--at" in out
    assert "--wrt" in out
    assert "--check" in out


HOSTILE = [
    # (argv, a fragment of the expected message)
    (["__import__('os')", "--at", "x=1"], "unknown function '__import__'"),
    (["().__class__", "--at", "x=1"], "attribute access is not allowed"),
    (["x.real", "--at", "x=1"], "attribute access is not allowed"),
    (["x[0]", "--at", "x=1"], "subscripts are not allowed"),
    (["lambda: 1", "--at", "x=1"], "lambda expressions are not allowed"),
    (["9**9**9**9", "--at", "x=1"], "is too large"),
    (["2**99999", "--at", "x=1"], "exponent 99999 is too large"),
    (["x**x**x**x", "--at", "x=1"], "power towers"),
    (["x+" * 50000 + "x", "--at", "x=1"], "longer than 1000 characters"),
    (["sin(" * 60 + "x" + ")" * 60, "--at", "x=1"], "nested deeper than 50 levels"),
    (["foo(x)", "--at", "x=1"], "unknown function 'foo'"),
    (["x + y", "--at", "x=1"], "unknown name 'y'"),
    (["sin(", "--at", "x=1"], "invalid syntax"),
    (["'a'", "--at", "x=1"], "strings are not allowed"),
    (["sin(x=1)", "--at", "x=1"], "keyword arguments are not allowed"),
    (["atan2(x)", "--at", "x=1"], "atan2() takes 2 arguments, got 1"),
    (["[x for x in (1, 2)]", "--at", "x=1"], "comprehensions are not allowed"),
    (["sum(x for x in (1, 2))", "--at", "x=1"], "unknown function 'sum'"),
    (["x", "--at", "x=abc"], "is not a number"),
    (["x", "--at", "x"], "has no '='"),
    (["x", "--at", "x=nan"], "is not finite"),
    (["x", "--at", "x=1,x=2"], "gives 'x' twice"),
    (["x", "--at", "x=1,"], "empty entry"),
    (["x", "--at", "1x=1"], "is not a variable name"),
    (["x", "--at", "x=1,z=2"], "'z', which the expression does not use"),
    (["x"], "unknown name 'x'"),
    (["x", "--at", "x=1", "--wrt", "z"], "--wrt names 'z'"),
    (["x", "--at", "x=1", "--wrt", "x,x"], "names 'x' twice"),
    (["1j * x", "--at", "x=1"], "complex numbers are not allowed"),
    (["x\x1b[31m", "--at", "x=1"], "is not allowed"),
    (["\u00e9", "--at", "x=1"], "unknown name '\u00e9'"),
    (["x", "--at", "x=1,\u00e9=1"], "'\u00e9', which the expression does not use"),
    (["x", "--at", "x\x1b=1"], "'x\\x1b' is not a variable name"),
    (["x", "--at", "if=1"], "'if' is not a variable name"),
    (["x", "--bogus"], "unrecognized arguments: --bogus"),
    (["--at", "x=1"], "required: EXPR"),
    (["-x", "--at", "x=1"], "in parentheses"),
]


@pytest.mark.parametrize(
    ("argv", "fragment"), HOSTILE, ids=[" ".join(argv)[:40] for argv, _ in HOSTILE]
)
def test_user_errors_give_one_line_and_exit_2(capsys, argv, fragment):
    message = assert_one_line_error(*run(capsys, *argv))
    assert fragment in message


# --- --trace -----------------------------------------------------------------------------------

TRACE_TABLE_2 = """\
evaluation trace, tangent seeded along x1 (dx1 = 1, every other variable 0):
name  operation  value      tangent
----  ---------  ---------  -------
v₋₁   x1         2          1
v₀    x2         5          0
v₁    ln v₋₁     0.693147   0.5
v₂    v₋₁ \u00d7 v₀   10         5
v₃    sin v₀     -0.958924  0
v₄    v₁ + v₂    10.6931    5.5
v₅    v₄ \u2212 v₃    11.6521    5.5
y     v₅         11.6521    5.5
"""


def test_trace_follows_the_normal_output(capsys):
    code, out, err = run(capsys, README, "--at", "x1=2,x2=5", "--trace")
    assert code == 0
    assert err == ""
    normal, trace_text = out.split("\n\n")
    assert normal + "\n" == "f = 11.652071455223084\ndf/dx1 = 5.5\ndf/dx2 = 1.7163378145367738\n"
    assert trace_text == TRACE_TABLE_2  # Baydin et al. (2018), Table 2


def test_trace_is_seeded_along_the_first_wrt_variable(capsys):
    code, out, _ = run(capsys, README, "--at", "x1=2,x2=5", "--wrt", "x2,x1", "--trace")
    assert code == 0
    lines = out.splitlines()
    assert lines[:3] == ["f = 11.652071455223084", "df/dx2 = 1.7163378145367738", "df/dx1 = 5.5"]
    assert lines[4] == (
        "evaluation trace, tangent seeded along x2 (dx2 = 1, every other variable 0):"
    )
    tangents = {line.split()[0]: line.split()[-1] for line in lines[7:]}
    assert tangents["v₋₁"] == "0" and tangents["v₀"] == "1"
    assert tangents["y"] == "1.71634"  # df/dx2, rounded


def test_trace_with_check_and_one_variable(capsys):
    code, out, _ = run(capsys, "x**2/3 - abs(x)", "--at", "x=-1.5", "--check", "--trace")
    assert code == 0
    lines = out.splitlines()
    assert CHECK_LINE.match(lines[1])
    assert lines[3] == "evaluation trace, tangent seeded along x (dx = 1):"
    assert [line.split()[:2] for line in lines[6:]] == [
        ["v₀", "x"],
        ["v₁", "v₀^2"],
        ["v₂", "|v₀|"],
        ["v₃", "v₁"],
        ["v₄", "v₃"],
        ["y", "v₄"],
    ]
    assert lines[-1].split() == ["y", "v₄", "-0.75", "0"]


def test_trace_of_a_constant_expression(capsys):
    code, out, _ = run(capsys, "2**10 + pi", "--trace")
    assert code == 0
    lines = out.splitlines()
    assert lines[2] == "evaluation trace (no variables, so every tangent is 0):"
    assert lines[-1].split() == ["y", "1027.14", "1027.14", "0"]


def test_trace_in_ascii_when_stdout_cannot_encode_it(monkeypatch):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="ascii"))
    code = main([README, "--at", "x1=2,x2=5", "--trace"])
    sys.stdout.flush()
    assert code == 0
    out = buffer.getvalue().decode("ascii")
    assert "v-1   x1         2          1" in out
    assert "v2    v-1 * v0   10         5" in out
    assert "v5    v4 - v3    11.6521    5.5" in out


def test_help_mentions_trace(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "--trace" in out


# --- --version and --help ----------------------------------------------------------------------


def test_version(capsys):
    code, out, err = run(capsys, "--version")
    assert code == 0
    assert err == ""
    assert out == f"dualdiff {metadata.version('dualdiff')}\n"
    assert metadata.version("dualdiff") == dualdiff.__version__


def test_version_falls_back_to_the_package(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    assert cli._version() == dualdiff.__version__


def test_help_lists_every_function_alias_and_constant_the_parser_knows(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    words = set(re.findall(r"\w+", out))
    for name in [*FUNCTIONS, *ALIASES, *CONSTANTS]:
        assert name in words, name
    assert "log(x[, base])" in out
    assert "max(a, b, ...)" in out
    assert "--version" in out
    assert all(len(line) <= 80 for line in out.splitlines())


# --- --at: constants, repetition, non-ASCII names ----------------------------------------------


@pytest.mark.parametrize("expr", ["pi*x", "x"])
def test_a_constant_cannot_be_given_a_value(capsys, expr):
    message = assert_one_line_error(*run(capsys, expr, "--at", "x=1,pi=3"))
    assert message == (
        "--at gives a value to 'pi', but pi is a constant (3.141592653589793), not a variable; "
        "give the variable another name"
    )


@pytest.mark.parametrize("name", ["sin", "asin", "max", "erf"])
def test_a_function_name_cannot_be_given_a_value(capsys, name):
    message = assert_one_line_error(*run(capsys, "x", "--at", f"x=1,{name}=3"))
    assert f"'{name}', but {name} is a function, not a variable" in message


def test_repeated_at_options_merge_in_order(capsys):
    code, out, err = run(capsys, README, "--at", "x2=5", "--at", "x1=2")
    assert code == 0, err
    value, partials = parse_output(out)
    assert value == pytest.approx(README_VALUE, abs=1e-12)
    assert list(partials) == ["x2", "x1"]
    assert partials == pytest.approx(README_GRADIENT, abs=1e-12)


@pytest.mark.parametrize(
    "at", [["x=1", "x=2"], ["x=1,y=2", "x=3"], ["y=2", "x=1,x=1"], ["x=1", "y=2", "y=2"]]
)
def test_a_variable_given_twice_is_refused(capsys, at):
    argv = ["x*y"]
    for option in at:
        argv += ["--at", option]
    message = assert_one_line_error(*run(capsys, *argv))
    assert message.startswith("--at gives '")
    assert message.endswith("' twice")


def test_non_ascii_names_are_shown_as_typed(capsys):
    code, out, err = run(capsys, "θ**2 * λ1", "--at", "θ=3,λ1=2", "--check")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "f = 18.0"
    assert lines[1].startswith("df/dθ = 12.0 ")
    assert lines[2].startswith("df/dλ1 = 9.0 ")
    message = assert_one_line_error(*run(capsys, "θ + φ", "--at", "θ=1"))
    assert message == "unknown name 'φ': give its value with --at"


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("x²", "character '²' (U+00B2) at position 1 is not allowed: write powers with **"),
        ("x₁", "character '₁' (U+2081) at position 1 is not allowed: write x1"),
        ("x \u2212 1", "character '\u2212' (U+2212) at position 2 is not allowed: write '-'"),
        ("\uff58", "Python reads it as 'x'; type that instead"),
        ("x\u202e", "character '\\u202e' at position 1 is not allowed"),
    ],
)
def test_non_ascii_in_messages_is_shown_as_typed(capsys, expr, fragment):
    message = assert_one_line_error(*run(capsys, expr, "--at", "x=1"))
    assert fragment in message


def test_non_ascii_output_is_escaped_when_stdout_cannot_encode_it(monkeypatch):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer, encoding="ascii"))
    code = main(["2*θ", "--at", "θ=1"])
    sys.stdout.flush()
    assert code == 0
    assert buffer.getvalue().decode("ascii") == "f = 2.0\ndf/d\\u03b8 = 2.0\n"


# --- IEEE results ------------------------------------------------------------------------------

IEEE = [
    # (expression, point, value, partial): NumPy's results, including inf and nan
    ("sqrt(x)", "x=0", 0.0, np.inf),
    ("cbrt(x)", "x=0", 0.0, np.inf),
    ("log(x)", "x=0", -np.inf, np.inf),
    ("log(x)", "x=-1", np.nan, -1.0),
    ("exp(x)", "x=1000", np.inf, np.inf),
    ("x/0", "x=1", np.inf, np.inf),
    ("1/x", "x=0", np.inf, -np.inf),
    ("arcsin(x)", "x=2", np.nan, np.nan),
]


@pytest.mark.parametrize(("expr", "at", "value", "partial"), IEEE)
def test_results_follow_numpy_ieee_without_warnings(capsys, expr, at, value, partial):
    f = parse(expr).to_function()
    x = np.float64(at.partition("=")[2])
    with np.errstate(all="ignore"):
        assert repr(float(f(x))) == repr(value)  # the CLI's value is NumPy's
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        code, out, err = run(capsys, expr, "--at", at)
    assert code == 0, err
    assert err == ""
    assert out == f"f = {value!r}\ndf/dx = {partial!r}\n"


def test_ieee_results_are_printed_by_the_module_without_warnings():
    result = subprocess.run(
        [sys.executable, "-W", "default", "-m", "dualdiff", "sqrt(x)", "--at", "x=0", "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines() == ["f = 0.0", "df/dx = inf    sympy: nan    diff: nan"]


def test_check_at_a_pole_prints_both_sides(capsys):
    code, out, err = run(capsys, "1/x", "--at", "x=0", "--check")
    assert code == 0, err
    assert out.splitlines()[1] == "df/dx = -inf    sympy: nan    diff: nan"  # sympy: zoo


def test_equal_infinite_partials_do_not_differ():
    lines = cli._format(0.0, ["x", "y"], [np.inf, -np.inf], [np.inf, np.inf])
    assert lines[1].endswith("diff: 0.0")
    assert lines[2].endswith("diff: inf")


# --- the functions added with their sympy twins ------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "at", "expected"),
    [
        ("max(x, y)", "x=1,y=2", {"x": 0.0, "y": 1.0}),
        ("max(x, y)", "x=2,y=2", {"x": 0.5, "y": 0.5}),  # a tie splits the slope
        ("min(x, y, 3*x)", "x=1,y=2", {"x": 1.0, "y": 0.0}),
        ("floor(x) * x", "x=2.5", {"x": 2.0}),
        ("sign(x) * x**2", "x=-3", {"x": 6.0}),
        ("log(x, 2)", "x=8", {"x": 1 / (8 * np.log(2))}),
        ("log(x, y)", "x=8,y=2", {"x": 1 / (8 * np.log(2)), "y": -3 / (2 * np.log(2))}),
        ("erf(x)", "x=0.5", {"x": 2 / np.sqrt(np.pi) * np.exp(-0.25)}),
        ("gamma(x)", "x=3", {"x": 2 * (1.5 - np.euler_gamma)}),
    ],
)
def test_new_functions_agree_with_sympy(capsys, expr, at, expected):
    code, out, err = run(capsys, expr, "--at", at, "--check")
    assert code == 0, err
    for line in out.splitlines()[1:]:
        match = CHECK_LINE.match(line)
        assert match, line
        dual = float(match["dual"])
        want = expected[match["name"]]
        assert dual == pytest.approx(want, rel=1e-13, abs=1e-15)
        assert float(match["sympy"]) == pytest.approx(want, rel=1e-13, abs=1e-15)


def test_every_function_has_a_sympy_twin():
    table = _sympy_table(sympy)
    assert set(FUNCTIONS) <= set(table)


@pytest.mark.parametrize("name", ["erf", "gamma"])
def test_scipy_functions_say_which_extra_to_install(capsys, monkeypatch, name):
    monkeypatch.setitem(sys.modules, "scipy.special", None)  # import scipy.special fails
    message = assert_one_line_error(*run(capsys, f"{name}(x) + x", "--at", "x=1"))
    assert message == (
        f"{name}() needs SciPy, which is not installed: "
        "pip install 'dualdiff[scipy]' (or pip install scipy)"
    )


def test_the_scipy_extra_exists():
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    extras = pyproject.partition("[project.optional-dependencies]")[2].partition("\n[")[0]
    assert re.search(r'^scipy = \["scipy>=[\d.]+"\]$', extras, re.MULTILINE)


# --- hostile and odd input: always exit 0 or 2, never a traceback ------------------------------

ODD = [
    ["x" * 1001],
    ["x", "--at", "x=" + "9" * 400],
    ["x", "--at", "x=1e309"],
    ["x", "--at", "x=-inf"],
    ["x", "--at", "x=0x10"],
    ["x", "--at", "=1"],
    ["x", "--at", "x=1=2"],
    ["x", "--at", ","],
    ["x", "--at", ""],
    ["x", "--wrt", ""],
    ["x", "--at", "x=1", "--wrt", ","],
    ["x", "--at", "x=1", "--wrt", "pi"],
    ["x", "--at", "x=1", "--version", "extra"],
    ["x", "--at"],
    ["--wrt"],
    [""],
    ["\x00"],
    ["(" * 200 + "x" + ")" * 200, "--at", "x=1"],
    ["max(x)", "--at", "x=1"],
    ["log(x, 2, 3)", "--at", "x=1"],
    ["max()", "--at", "x=1"],
    ["gamma(x)", "--at", "x=-1", "--check"],
    ["sign(x)", "--at", "x=0", "--check"],
    ["floor(x)", "--at", "x=1", "--check", "--trace"],
    ["x**y", "--at", "x=-8,y=0.5", "--check"],
    ["e**x**x", "--at", "x=30", "--check"],
]


@pytest.mark.parametrize("argv", ODD, ids=[repr(argv)[:40] for argv in ODD])
def test_odd_input_exits_cleanly(capsys, argv):
    code, out, err = run(capsys, *argv)
    assert code in (0, 2)
    if code == 2:
        assert_one_line_error(code, out, err)
    else:
        assert err == ""
        assert out.startswith(("f = ", "dualdiff "))  # the result, or --version's line


@settings(max_examples=300, deadline=None)
@given(
    expr=st.lists(
        st.sampled_from([*"xyθ0129.e+-*/(), ", "**", "sin", "max", "log", "pi", "erf"]),
        max_size=30,
    ).map("".join)
    | st.text(max_size=20),
    at=st.lists(st.sampled_from([*"xyθpi=,.0159e-", "nan", "inf"]), max_size=15).map("".join),
)
def test_random_input_never_raises(expr, at):
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main([expr, "--at", at])
    assert code in (0, 2)
    if code == 2:
        assert_one_line_error(code, stdout.getvalue(), stderr.getvalue())
        assert "internal error" not in stderr.getvalue()
    else:
        assert stdout.getvalue().startswith("f = ")


def test_an_unexpected_exception_is_still_one_line(capsys, monkeypatch):
    def broken(expression, point):
        raise KeyError("oops")

    monkeypatch.setattr(cli, "_differentiate", broken)
    message = assert_one_line_error(*run(capsys, "x", "--at", "x=1"))
    assert message == "internal error (KeyError: 'oops'); please report it"
