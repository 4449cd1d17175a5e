"""Tests of the command-line interface, dualdiff.cli and python -m dualdiff."""

import io
import re
import subprocess
import sys

import pytest

from dualdiff import cli
from dualdiff.cli import main

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
    assert err.isascii()
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
    (["log(x)", "--at", "x=-1"], "not finite"),
    (["sqrt(x)", "--at", "x=0"], "df/dx is not finite"),
    (["exp(x)", "--at", "x=1000"], "not finite"),
    (["x/0", "--at", "x=1"], "not finite"),
    (["1j * x", "--at", "x=1"], "complex numbers are not allowed"),
    (["x\x1b[31m", "--at", "x=1"], "is not allowed"),
    (["\u00e9", "--at", "x=1"], "is not allowed"),
    (["x", "--at", "\u00e9=1"], "is not a variable name"),
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
