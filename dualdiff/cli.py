"""Command-line interface: the value and gradient of a formula at a point.

Usage::

    dualdiff EXPR --at x1=2,x2=5 [--wrt x1[,x2]] [--check] [--trace]
    dualdiff --version

The gradient comes from dualdiff (forward mode); ``--check`` also prints the
SymPy derivative at the point and the difference, for comparison, and
``--trace`` the evaluation trace (:func:`dualdiff.trace`): every elementary
operation with its value and tangent, the tangent seeded along the first
``--wrt`` variable (or the first variable).  ``--at`` may be repeated
(``--at x=1 --at y=2``); a variable given twice is an error.

Results follow NumPy's IEEE arithmetic: ``sqrt(x)`` at 0 has the value 0.0
and the slope ``inf``, ``log(x)`` at -1 the value ``nan``, and no
RuntimeWarning is printed.  Names are shown as typed, in any script
(``θ``); only characters that cannot be printed are escaped.  Every user
error prints one line, ``dualdiff: error: <message>``, to stderr and gives
exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import keyword
import math
import signal
import sys
import threading
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import numpy as np

from dualdiff import value_and_gradient
from dualdiff.expression import (
    ALIASES,
    CONSTANTS,
    FUNCTIONS,
    Expression,
    ExpressionError,
    describe_functions,
    parse,
)
from dualdiff.tracing import trace

__all__ = ["main"]

_PROG = "dualdiff"
_EXIT_USAGE = 2
_OPTIONS = frozenset(
    {"-h", "--help", "--version", "--at", "--wrt", "--check", "--trace", "--"}
)
CHECK_SECONDS = 10.0
"""How long ``--check`` lets SymPy work before giving up (where signals allow)."""

_EPILOG = """\
example:
  dualdiff "log(x1) + x1*x2 - sin(x2)" --at x1=2,x2=5
  dualdiff "max(x, y) * θ" --at x=1,y=2 --at θ=0.5

Write an expression that starts with "-" in parentheses, as in "(-x**2)",
or put it last, after "--": dualdiff --at x=1 -- "-x**2"

operators: + - * / ** and unary - +
"""


def _epilog() -> str:
    """Return the help's epilog: the example and what the parser knows, from its tables."""
    constants = ", ".join(f"{name} = {value!r}" for name, value in CONSTANTS.items())
    lines: list[list[str]] = [[]]
    for entry in describe_functions():  # lines of at most 79 characters, entries kept whole
        if lines[-1] and len(", ".join([*lines[-1], entry])) + 3 > 79:
            lines.append([])
        lines[-1].append(entry)
    functions = ",\n".join("  " + ", ".join(line) for line in lines)
    return f"{_EPILOG}constants: {constants}\nfunctions:\n{functions}\n"


def _version() -> str:
    """Return the installed version of dualdiff (or the package's own, if not installed)."""
    from importlib import metadata  # noqa: PLC0415 - only --version needs it

    try:
        return metadata.version(_PROG)
    except metadata.PackageNotFoundError:
        import dualdiff  # noqa: PLC0415

        return getattr(dualdiff, "__version__", "unknown")


class _UsageError(Exception):
    """A user error: reported as one line on stderr, with exit status 2."""


class _SympyTimeoutError(BaseException):
    """SymPy ran out of time; a BaseException so that SymPy cannot swallow it."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, reported by :func:`main`."""

    def error(self, message: str) -> NoReturn:
        """Raise the error instead of printing the usage and exiting."""
        raise _UsageError(message)


def _build_parser() -> _Parser:
    """Return the parser of the command line."""
    parser = _Parser(
        prog=_PROG,
        description="Print the value and gradient of EXPR at a point, by forward-mode\n"
        "automatic differentiation.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("expression", metavar="EXPR", help='the formula, e.g. "x*sin(y)"')
    parser.add_argument(
        "--version", action="version", version=f"{_PROG} {_version()}"
    )
    parser.add_argument(
        "--at",
        metavar="NAME=VALUE,...",
        action="append",
        default=[],
        help="the value of every variable, e.g. x1=2,x2=5; may be repeated "
        "(--at x1=2 --at x2=5)",
    )
    parser.add_argument(
        "--wrt",
        metavar="NAME,...",
        help="print only these partial derivatives (default: all, in --at order)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="also print SymPy's derivative at the point and the difference",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also print the evaluation trace: each operation with its value and tangent, "
        "the tangent seeded along the first --wrt variable (default: the first variable)",
    )
    return parser


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line, with a hint for an expression that looks like an option."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _build_parser()
    try:
        return parser.parse_args(argv)
    except _UsageError as exc:
        if "EXPR" in str(exc) and any(
            arg.startswith("-") and arg.partition("=")[0] not in _OPTIONS for arg in argv
        ):
            hint = "write an expression that starts with '-' in parentheses, as in '(-x)'"
            raise _UsageError(f"{exc} ({hint})") from None
        raise


def _split_names(text: str, option: str) -> list[str]:
    """Split a comma-separated list, rejecting empty entries."""
    items = [item.strip() for item in text.split(",")]
    if "" in items:
        raise _UsageError(f"{option} has an empty entry in '{text}'")
    return items


def _parse_point(texts: Sequence[str]) -> dict[str, float]:
    """Parse every ``--at``, such as ``"x1=2,x2=5"``, into names and values, in order."""
    point: dict[str, float] = {}
    for text in texts:
        if not text.strip():
            continue
        for item in _split_names(text, "--at"):
            name, equals, raw = (part.strip() for part in item.partition("="))
            if not equals:
                raise _UsageError(f"--at entry '{item}' has no '='; write NAME=VALUE")
            _check_name(name, item)
            if name in point:
                raise _UsageError(f"--at gives '{name}' twice")
            try:
                value = float(raw)
            except ValueError:
                raise _UsageError(f"--at value '{raw}' of '{name}' is not a number") from None
            if not math.isfinite(value):
                raise _UsageError(f"--at value '{raw}' of '{name}' is not finite")
            point[name] = value
    return point


def _check_name(name: str, item: str) -> None:
    """Require ``name`` to be a name the expression parser reads as a variable."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise _UsageError(f"--at entry '{item}': '{name}' is not a variable name")
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:
        raise _UsageError(
            f"--at entry '{item}': Python reads the name '{name}' as '{normal}'; type that instead"
        )
    if name in CONSTANTS:
        raise _UsageError(
            f"--at gives a value to '{name}', but {name} is a constant "
            f"({CONSTANTS[name]!r}), not a variable; give the variable another name"
        )
    if name in FUNCTIONS or name in ALIASES:
        raise _UsageError(
            f"--at gives a value to '{name}', but {name} is a function, not a variable; "
            "give the variable another name"
        )


def _check_variables(expression: Expression, point: dict[str, float]) -> None:
    """Require ``--at`` to give exactly the variables of the expression."""
    for name in expression.variables:
        if name not in point:
            raise _UsageError(f"unknown name '{name}': give its value with --at")
    for name in point:
        if name not in expression.variables:
            raise _UsageError(f"--at gives '{name}', which the expression does not use")


def _parse_wrt(text: str | None, point: dict[str, float]) -> list[str]:
    """Parse ``--wrt`` (default: every variable of ``point``, in order)."""
    if text is None:
        return list(point)
    names = _split_names(text, "--wrt")
    for index, name in enumerate(names):
        if name not in point:
            raise _UsageError(f"--wrt names '{name}', which is not a variable given in --at")
        if name in names[:index]:
            raise _UsageError(f"--wrt names '{name}' twice")
    return names


def _differentiate(expression: Expression, point: dict[str, float]) -> tuple[float, list[float]]:
    """Return the value and gradient (in ``point`` order) computed by dualdiff."""
    names = list(point)
    function = expression.to_function(names)
    x = np.array([point[name] for name in names], dtype=float)
    try:
        with _ieee():
            if names:
                value, gradient = value_and_gradient(
                    lambda v: function(*[v[i] for i in range(len(names))]), x
                )
            else:
                value, gradient = function(), np.zeros(0)
    except _EVALUATION_ERRORS as exc:
        raise _UsageError(f"cannot evaluate the expression at this point: {exc}") from None
    value = _as_real(value, "the value")
    partials = [_as_real(g, f"df/d{name}") for name, g in zip(names, gradient, strict=True)]
    return value, partials


_EVALUATION_ERRORS = (ArithmeticError, ValueError, TypeError, RecursionError, MemoryError)


@contextlib.contextmanager
def _ieee() -> Iterator[None]:
    """Compute as NumPy does, with IEEE results (inf, nan) and no RuntimeWarning printed."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _trace_lines(expression: Expression, point: dict[str, float], along: str | None) -> list[str]:
    """Return the header and table of the evaluation trace with the tangent along ``along``."""
    names = list(point)
    function = expression.to_function(names)
    seeds = tuple(1.0 if name == along else 0.0 for name in names)
    try:
        with _ieee():
            evaluation = trace(function, tuple(point.values()), seeds, names=names)
    except _EVALUATION_ERRORS as exc:
        raise _UsageError(f"cannot trace the expression at this point: {exc}") from None
    if along is None:
        header = "evaluation trace (no variables, so every tangent is 0):"
    elif len(names) == 1:
        header = f"evaluation trace, tangent seeded along {along} (d{along} = 1):"
    else:
        header = (
            f"evaluation trace, tangent seeded along {along} "
            f"(d{along} = 1, every other variable 0):"
        )
    table = evaluation.to_text(max_rows=None)
    if not _printable(table):
        table = evaluation.to_text(ascii=True, max_rows=None)
    return [header, table]


def _printable(text: str) -> bool:
    """Whether standard output can encode ``text`` (else the trace is printed in ASCII)."""
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _as_real(number: object, what: str) -> float:
    """Return ``number`` as a float (inf and nan included), or raise a usage error."""
    try:
        result = complex(number)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise _UsageError(f"{what} is not a number at this point") from None
    if result.imag != 0 and not math.isnan(result.imag):
        raise _UsageError(f"{what} is not real at this point")
    return result.real


@contextlib.contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`_SympyTimeoutError` if the block runs longer than ``seconds``.

    The limit uses ``SIGALRM``, so it applies only in the main thread of a
    Unix process where no other interval timer is running; elsewhere the
    block runs without a limit.
    """
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
        or signal.getitimer(signal.ITIMER_REAL)[0] > 0
    ):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise _SympyTimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)  # repeats until cancelled
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)


def _sympy_partials(
    expression: Expression, point: dict[str, float], names: Sequence[str]
) -> list[float]:
    """Return SymPy's partial derivatives with respect to ``names`` at ``point``."""
    try:
        with _time_limit(CHECK_SECONDS):
            return _sympy_partials_unlimited(expression, point, names)
    except _SympyTimeoutError:
        raise _UsageError(
            f"--check: sympy did not finish within {CHECK_SECONDS:g} seconds"
        ) from None


def _sympy_partials_unlimited(
    expression: Expression, point: dict[str, float], names: Sequence[str]
) -> list[float]:
    """Do the work of :func:`_sympy_partials`, without a time limit."""
    import sympy  # noqa: PLC0415 - slow to import; only --check needs it

    expr, symbols = expression.to_sympy()
    if expr.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
        raise _UsageError("--check: sympy finds the expression undefined (nan or infinite)")
    subs = {symbols[name]: sympy.Float(value, 30) for name, value in point.items()}
    partials = []
    for name in names:
        try:
            derivative = sympy.diff(expr, symbols[name])
            try:
                number = derivative.evalf(30, subs=subs)
            except ZeroDivisionError:  # mpmath at a pole, e.g. 1/sqrt(x) at 0
                number = derivative.subs(subs)
            infinite = {sympy.oo: math.inf, -sympy.oo: -math.inf, sympy.zoo: math.nan}
            number = complex(infinite.get(number, number))
        except (ArithmeticError, ValueError, TypeError, RecursionError):
            raise _UsageError(f"--check: sympy cannot evaluate df/d{name} at this point") from None
        if abs(number.imag) > 1e-12 * max(1.0, abs(number.real)):
            raise _UsageError(f"--check: sympy's df/d{name} is not real at this point")
        partials.append(number.real)
    return partials


def _format(
    value: float,
    names: Sequence[str],
    partials: Sequence[float],
    sympy_partials: Sequence[float] | None,
) -> list[str]:
    """Return the output lines; with ``sympy_partials``, in aligned columns."""
    lines = [f"df/d{name} = {partial!r}" for name, partial in zip(names, partials, strict=True)]
    if sympy_partials is not None:
        width = max(map(len, lines), default=0)
        checks = [f"sympy: {number!r}" for number in sympy_partials]
        check_width = max(map(len, checks), default=0)
        diffs = [
            0.0 if a == b else abs(a - b)  # inf == inf: no difference
            for a, b in zip(partials, sympy_partials, strict=True)
        ]
        lines = [
            f"{line:<{width}}    {check:<{check_width}}    diff: {diff!r}"
            for line, check, diff in zip(lines, checks, diffs, strict=True)
        ]
    return [f"f = {value!r}", *lines]


def _one_line(message: str) -> str:
    """Make ``message`` a single printable line: names as typed, unprintable characters escaped."""
    message = " ".join(message.split())
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)


def _write(text: str, stream: Any) -> None:
    """Print ``text`` to ``stream``, escaping what its encoding cannot hold (backslashreplace)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode("ascii", "backslashreplace").decode("ascii")
    print(text, file=stream)


def _run(args: argparse.Namespace) -> list[str]:
    """Do the work of :func:`main` for parsed arguments and return the output lines."""
    point = _parse_point(args.at)
    expression = parse(args.expression)
    _check_variables(expression, point)
    names = _parse_wrt(args.wrt, point)
    value, gradient = _differentiate(expression, point)
    partial = dict(zip(point, gradient, strict=True))
    partials = [partial[name] for name in names]
    checks = _sympy_partials(expression, point, names) if args.check else None
    lines = _format(value, names, partials, checks)
    if args.trace:
        lines += ["", *_trace_lines(expression, point, names[0] if names else None)]
    return lines


def _fail(error: Exception) -> int:
    """Report a user error in one line on stderr and return the exit status."""
    _write(f"{_PROG}: error: {_one_line(str(error))}", sys.stderr)
    return _EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments, without the program name.  Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 2 after a user error (reported in one line on stderr).

    Examples
    --------
    >>> main(["x1*x2", "--at", "x1=2,x2=5", "--wrt", "x2"])
    f = 10.0
    df/dx2 = 2.0
    0
    """
    try:
        args = _parse_args(argv)
    except SystemExit as exc:  # after --help; argparse's errors raise _UsageError
        return exc.code if isinstance(exc.code, int) else 0
    except _UsageError as exc:
        return _fail(exc)
    try:
        lines = _run(args)
    except (_UsageError, ExpressionError) as exc:
        return _fail(exc)
    except Exception as exc:  # a bug, but still reported in one line, not a traceback
        return _fail(_UsageError(f"internal error ({type(exc).__name__}: {exc}); please report it"))
    _write("\n".join(lines), sys.stdout)
    return 0
