"""Safe parsing of formula text such as ``"log(x1) + x1*x2 - sin(x2)"``.

The text is parsed with ``ast.parse(text, mode="eval")`` and nothing else:
user text is never evaluated, executed or compiled to code.  Every node of
the syntax tree is checked against a whitelist and turned into a short list
of :class:`Step` objects, from which :meth:`Expression.to_function` builds a
NumPy-based callable (which also works on dualdiff ``Dual`` numbers) and
:meth:`Expression.to_sympy` builds a SymPy expression.

What is allowed
---------------
* Numbers: ``int`` and ``float`` literals (``2``, ``0.5``, ``1e-3``) that are
  finite as floats.  No complex numbers, booleans or strings.
* The constants ``pi`` and ``e``.
* Variables: any other name that is not a function name.  Names follow
  Python's rules, so letters of any script are allowed (``θ``, ``λ1``),
  but not characters that Python would silently read as others (a
  fullwidth ``x`` is ``x``, the micro sign is ``μ``), nor superscripts and
  subscripts (``x²``: write ``x**2``).
* Operators: binary ``+ - * / **`` and unary ``-`` and ``+``.
* Calls of the functions in :data:`FUNCTIONS` (or their aliases in
  :data:`ALIASES`, such as ``asin`` for ``arcsin``) by bare name, with the
  right number of positional arguments.  ``arctan2(y, x)`` and
  ``hypot(x, y)`` take two, ``log`` one or two (``log(x, base)``), ``max``
  and ``min`` two or more, every other function takes one.

Everything else (attribute access, subscripts, lambdas, comprehensions,
keyword arguments, comparisons, other operators, ...) raises
:class:`ExpressionError`.

Limits against hostile input
----------------------------
* Length: at most :data:`MAX_LENGTH` (1000) characters, all printable
  (tabs and newlines are allowed as spaces; control and bidirectional
  formatting characters are not).
* Nesting: at most :data:`MAX_DEPTH` (50) levels.  Every function call, unary
  sign, power and operand of a different operator opens a level; a flat chain
  such as ``a + b - c + d`` or ``a * b / c`` is a single level, however long.
* Power towers: the exponent of ``**`` may itself be a power, but no more:
  ``a**b**c`` is allowed, ``a**b**c**d`` is not (unary signs do not count).
* Constant exponents: when the exponent of ``**`` does not depend on any
  variable, it is evaluated in floating point and its magnitude must be at
  most :data:`MAX_EXPONENT` (1e4): ``2**9999`` is allowed, ``2**99999`` and
  ``9**9**9`` (exponent ``9**9 = 387420489``) are not.

Numbers are always evaluated as floats, so even an allowed expression cannot
build a huge integer; it can still overflow to ``inf`` (``exp(1000)``) or leave
a function's domain (``log(-1)``), which callers handle when they evaluate.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import sympy

__all__ = [
    "ALIASES",
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "Function",
    "Step",
    "describe_functions",
    "parse",
]

MAX_LENGTH = 1000
"""The longest expression text accepted, in characters."""

MAX_DEPTH = 50
"""The deepest nesting accepted (see the module docstring for what counts)."""

MAX_EXPONENT = 1e4
"""The largest magnitude accepted for an exponent that is a constant."""

_MAX_TOWER = 2  # an exponent that is itself a tower of this many powers is rejected

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""The named constants and their values."""

def _log(x: Any, base: Any = None) -> Any:
    """``log(x)``, or ``log(x, base)`` as ``log(x) / log(base)`` (Python's ``math.log``)."""
    return np.log(x) if base is None else np.log(x) / np.log(base)


def _stacked(args: tuple[Any, ...]) -> Any:
    """The arguments stacked along a new first axis, broadcast first if their shapes differ."""
    if len({getattr(arg, "shape", ()) for arg in args}) > 1:
        args = tuple(np.broadcast_arrays(*args))
    return np.stack(args)


def _max(*args: Any) -> Any:
    """The largest argument; where several tie, they share the slope evenly (as ``np.max``)."""
    if len(args) == 2:
        return np.maximum(*args)
    return np.max(_stacked(args), axis=0)


def _min(*args: Any) -> Any:
    """The smallest argument; where several tie, they share the slope evenly (as ``np.min``)."""
    if len(args) == 2:
        return np.minimum(*args)
    return np.min(_stacked(args), axis=0)


def _scipy_special() -> Any:
    """Return ``scipy.special``, or None where SciPy is not installed."""
    try:
        import scipy.special  # noqa: PLC0415 - optional; only erf and gamma need it
    except ImportError:
        return None
    return scipy.special


def _special(name: str) -> Callable[..., Any]:
    """Return a function that calls ``scipy.special.<name>``, imported when first called."""

    def call(*args: Any) -> Any:
        special = _scipy_special()
        if special is None:
            raise ExpressionError(_needs_scipy(name))
        return getattr(special, name)(*args)

    call.__name__ = name
    return call


def _needs_scipy(name: str) -> str:
    return (
        f"{name}() needs SciPy, which is not installed: "
        "pip install 'dualdiff[scipy]' (or pip install scipy)"
    )


@dataclass(frozen=True)
class Function:
    """A function the parser knows.

    Attributes
    ----------
    numeric : callable
        The NumPy (or SciPy) function, applied to floats, arrays and ``Dual`` numbers.
    signature : str
        Its arguments as shown in ``--help``, e.g. ``"x"``, ``"y, x"`` or ``"x[, base]"``.
    fewest, most : int
        The number of arguments it takes; ``most`` is None for any number
        (``max`` and ``min``).
    extra : str or None
        The optional dependency it needs (``"scipy"``), if any.
    """

    numeric: Callable[..., Any]
    signature: str = "x"
    fewest: int = 1
    most: int | None = 1
    extra: str | None = None


FUNCTIONS: dict[str, Function] = {
    "sin": Function(np.sin),
    "cos": Function(np.cos),
    "tan": Function(np.tan),
    "arcsin": Function(np.arcsin),
    "arccos": Function(np.arccos),
    "arctan": Function(np.arctan),
    "arctan2": Function(np.arctan2, "y, x", 2, 2),
    "sinh": Function(np.sinh),
    "cosh": Function(np.cosh),
    "tanh": Function(np.tanh),
    "arcsinh": Function(np.arcsinh),
    "arccosh": Function(np.arccosh),
    "arctanh": Function(np.arctanh),
    "exp": Function(np.exp),
    "expm1": Function(np.expm1),
    "log": Function(_log, "x[, base]", 1, 2),
    "log2": Function(np.log2),
    "log10": Function(np.log10),
    "log1p": Function(np.log1p),
    "sqrt": Function(np.sqrt),
    "cbrt": Function(np.cbrt),
    "square": Function(np.square),
    "abs": Function(np.absolute),
    "sign": Function(np.sign),
    "floor": Function(np.floor),
    "hypot": Function(np.hypot, "x, y", 2, 2),
    "max": Function(_max, "a, b, ...", 2, None),
    "min": Function(_min, "a, b, ...", 2, None),
    "erf": Function(_special("erf"), extra="scipy"),
    "gamma": Function(_special("gamma"), extra="scipy"),
}
"""The allowed functions, by name.

``max`` and ``min`` take two or more arguments (NumPy's ``maximum`` and
``minimum`` for two, ``np.max`` and ``np.min`` of the stacked arguments for
more, so the ``m`` arguments of a tie share the slope evenly, ``1/m`` each,
as ``docs/conventions.md`` says); ``log(x, base)`` is ``log(x) / log(base)``;
``sign`` and ``floor`` have slope 0; ``erf`` and ``gamma`` come from
``scipy.special`` and need SciPy (the ``scipy`` extra).
"""

ALIASES: dict[str, str] = {
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "atan2": "arctan2",
    "asinh": "arcsinh",
    "acosh": "arccosh",
    "atanh": "arctanh",
}
"""Other accepted spellings of function names: alias -> name in :data:`FUNCTIONS`."""


class ExpressionError(ValueError):
    """An expression text was rejected; the message names the problem in one line."""


@dataclass(frozen=True)
class Step:
    """One operation of a parsed expression.

    Attributes
    ----------
    op : str
        ``"number"``, ``"constant"`` or ``"variable"`` for a leaf; ``"neg"``,
        ``"pos"``, ``"add"``, ``"sub"``, ``"mul"``, ``"div"`` or ``"pow"`` for
        an operator; otherwise the name of a function in :data:`FUNCTIONS`.
    args : tuple of int
        The indices of the earlier steps whose results are the operands.
    value : int, float, str or None
        The literal of a number, or the name of a constant or variable.
    constant : float or None
        The step's result as a float when it depends on no variable, else None.
    """

    op: str
    args: tuple[int, ...] = ()
    value: int | float | str | None = None
    constant: float | None = None


def _power(base: Any, exponent: Any) -> Any:
    """Return ``base ** exponent``, but nan rather than a complex number for plain numbers."""
    if isinstance(base, int | float) and isinstance(exponent, int | float):
        return np.power(float(base), float(exponent))
    return base**exponent


_OPERATORS: dict[str, Callable[..., Any]] = {
    "neg": operator.neg,
    "pos": lambda a: a,
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "pow": _power,
}
_NUMERIC: dict[str, Callable[..., Any]] = {
    **_OPERATORS,
    **{name: function.numeric for name, function in FUNCTIONS.items()},
}

_BINARY_OPS: dict[type[ast.operator], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "div",
    ast.Pow: "pow",
}
_CHAINS = ({"add", "sub"}, {"mul", "div"})  # left-associative chains count as one level
_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}
_FORBIDDEN: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambda expressions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' and 'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.Starred: "starred arguments are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}


def _forbidden(node: ast.AST) -> ExpressionError:
    """Return the error for a node of a kind that is never allowed."""
    message = _FORBIDDEN.get(type(node), f"{type(node).__name__} expressions are not allowed")
    return ExpressionError(message)


def _operator_error(op: ast.AST) -> ExpressionError:
    """Return the error for an operator that is not allowed."""
    symbol = _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)
    hint = " (use ** for powers)" if symbol == "^" else ""
    return ExpressionError(f"operator '{symbol}' is not allowed{hint}")


class _Builder:
    """Check a syntax tree node by node and append the matching steps."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.towers: list[int] = []  # height of the power tower each step is the top of
        self.variables: dict[str, None] = {}  # an ordered set, in order of appearance

    def emit(self, op: str, args: tuple[int, ...] = (), value: Any = None) -> int:
        """Append a step (folding it to a constant when possible) and return its index."""
        if op == "number":
            constant: float | None = float(value)
        elif op == "constant":
            constant = CONSTANTS[value]
        elif op == "variable":
            constant = None
        else:
            constant = self._fold(op, args)
        self.steps.append(Step(op, args, value, constant))
        if op in ("neg", "pos"):
            self.towers.append(self.towers[args[0]])
        elif op == "pow":
            self.towers.append(1 + self.towers[args[1]])
        else:
            self.towers.append(0)
        return len(self.steps) - 1

    def _fold(self, op: str, args: tuple[int, ...]) -> float | None:
        """Compute an operation on constants in NumPy floats (giving inf or nan, not errors)."""
        operands = [self.steps[i].constant for i in args]
        if None in operands:
            return None
        with np.errstate(all="ignore"):
            return float(_NUMERIC[op](*map(np.float64, operands)))

    def visit(self, node: ast.AST, depth: int) -> int:
        """Check ``node`` (at nesting level ``depth``) and return the index of its step."""
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression is nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, ast.Constant):
            return self.number(node.value)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, depth)
        if isinstance(node, ast.BinOp):
            return self.binary(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        raise _forbidden(node)

    def number(self, value: object) -> int:
        """Emit a literal: only finite int and float numbers are allowed."""
        if isinstance(value, str | bytes):
            raise ExpressionError("strings are not allowed")
        if isinstance(value, complex):
            raise ExpressionError("complex numbers are not allowed")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ExpressionError(f"{value!r} is not allowed")
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise ExpressionError("number is too large for a float")
        return self.emit("number", value=value)

    def name(self, name: str) -> int:
        """Emit a constant or a variable (function names must be called)."""
        if name in CONSTANTS:
            return self.emit("constant", value=name)
        if name in FUNCTIONS or name in ALIASES:
            raise ExpressionError(f"function '{name}' must be called, as in {name}(x)")
        self.variables[name] = None
        return self.emit("variable", value=name)

    def unary(self, node: ast.UnaryOp, depth: int) -> int:
        """Emit unary ``-`` or ``+``."""
        if isinstance(node.op, ast.USub):
            op = "neg"
        elif isinstance(node.op, ast.UAdd):
            op = "pos"
        else:
            raise _operator_error(node.op)
        return self.emit(op, (self.visit(node.operand, depth + 1),))

    def binary(self, node: ast.BinOp, depth: int) -> int:
        """Emit binary operators; a left-associative chain like ``a + b - c`` is one level."""
        op = _binary_op(node.op)
        chain = next((ops for ops in _CHAINS if op in ops), set())
        links = [node]  # the chain's operators, from the last one backwards
        while isinstance(links[-1].left, ast.BinOp) and _binary_op(links[-1].left.op) in chain:
            links.append(links[-1].left)
        result = self.visit(links[-1].left, depth + 1)
        for link in reversed(links):
            right = self.visit(link.right, depth + 1)
            result = self.operation(_binary_op(link.op), result, right)
        return result

    def operation(self, op: str, left: int, right: int) -> int:
        """Emit a binary operation, applying the limits on powers first."""
        if op == "pow":
            if self.towers[right] >= _MAX_TOWER:
                raise ExpressionError("power towers higher than a**b**c are not allowed")
            exponent = self.steps[right].constant
            if exponent is not None and abs(exponent) > MAX_EXPONENT:
                raise ExpressionError(
                    f"exponent {exponent:.6g} is too large (at most {MAX_EXPONENT:g} in magnitude)"
                )
        return self.emit(op, (left, right))

    def call(self, node: ast.Call, depth: int) -> int:
        """Emit a call of an allowed function by bare name, with positional arguments."""
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _FORBIDDEN:
                raise _forbidden(node.func)
            raise ExpressionError("only functions called by name are allowed, as in sin(x)")
        name = node.func.id
        function = ALIASES.get(name, name)
        if function not in FUNCTIONS:
            if name in CONSTANTS:
                raise ExpressionError(f"'{name}' is a constant, not a function")
            raise ExpressionError(f"unknown function '{name}'")
        if node.keywords:
            raise ExpressionError("keyword arguments are not allowed")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _forbidden(arg)
        spec = FUNCTIONS[function]
        count = len(node.args)
        if count < spec.fewest or (spec.most is not None and count > spec.most):
            raise ExpressionError(f"{name}() takes {_arity(spec)}, got {count}")
        if spec.extra == "scipy" and _scipy_special() is None:
            raise ExpressionError(_needs_scipy(name))
        args = tuple(self.visit(arg, depth + 1) for arg in node.args)
        return self.emit(function, args)


def _arity(spec: Function) -> str:
    """Say how many arguments a function takes: "1 argument", "1 or 2 arguments", ..."""
    if spec.most is None:
        return f"{spec.fewest} or more arguments"
    if spec.most == spec.fewest:
        return f"{spec.fewest} argument" + ("s" if spec.fewest > 1 else "")
    return f"{spec.fewest} or {spec.most} arguments"


def describe_functions() -> list[str]:
    """Return one ``name(arguments)`` entry per allowed function, aliases in parentheses.

    Examples
    --------
    >>> describe_functions()[:2]
    ['sin(x)', 'cos(x)']
    >>> [entry for entry in describe_functions() if entry.startswith("arctan2")]
    ['arctan2(y, x) (or atan2)']
    """
    aliases: dict[str, list[str]] = {}
    for alias, name in ALIASES.items():
        aliases.setdefault(name, []).append(alias)
    entries = []
    for name, spec in FUNCTIONS.items():
        entry = f"{name}({spec.signature})"
        if name in aliases:
            entry += f" (or {', '.join(aliases[name])})"
        if spec.extra:
            entry += f" [needs {spec.extra}]"
        entries.append(entry)
    return entries


def _binary_op(op: ast.operator) -> str:
    """Return the step name of an allowed binary operator."""
    try:
        return _BINARY_OPS[type(op)]
    except KeyError:
        raise _operator_error(op) from None


_POWER_HINT = "write powers with **, as in x**2"
_HINTS: dict[str, str] = {
    **dict.fromkeys("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", _POWER_HINT),
    **dict.fromkeys("₀₁₂₃₄₅₆₇₈₉", "write x1 for a subscript"),
    "\u2212": "write '-' for minus",  # MINUS SIGN
    "\u00d7": "write '*' for times",  # MULTIPLICATION SIGN
    "\u00b7": "write '*' for times",  # MIDDLE DOT
    "\u00f7": "write '/' for division",  # DIVISION SIGN
}


def _check_text(text: str) -> str:
    """Apply the limits on the raw text and return it without surrounding space."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a string, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    for position, char in enumerate(text):
        if " " <= char <= "~" or char in "\t\n\r":
            continue
        if not char.isprintable():  # control, format (bidi) and odd space characters
            raise ExpressionError(f"character {char!a} at position {position} is not allowed")
        hint = _HINTS.get(char)
        if hint is None and unicodedata.normalize("NFKC", char) != char:
            # Python would silently read it as another name: fullwidth x is x, black-letter H is H.
            hint = f"Python reads it as {unicodedata.normalize('NFKC', char)!r}; type that instead"
        if hint is not None:
            raise ExpressionError(
                f"character '{char}' (U+{ord(char):04X}) at position {position} is not allowed: "
                f"{hint}"
            )
    if not unicodedata.is_normalized("NFKC", text):  # e.g. "e" + a combining accent
        normal = unicodedata.normalize("NFKC", text)
        raise ExpressionError(
            f"Python reads the expression as {normal!r} (Unicode NFKC); type that instead"
        )
    text = text.strip()
    if not text:
        raise ExpressionError("expression is empty")
    return text


@dataclass(frozen=True)
class Expression:
    """A parsed and validated expression; build one with :func:`parse`.

    Attributes
    ----------
    text : str
        The source text, without surrounding whitespace.
    steps : tuple of Step
        The operations in evaluation order; the last one gives the result.
    variables : tuple of str
        The variable names, in order of first appearance.
    """

    text: str
    steps: tuple[Step, ...]
    variables: tuple[str, ...]

    def __str__(self) -> str:
        return self.text

    def to_function(self, variables: Sequence[str] | None = None) -> Callable[..., Any]:
        """Return ``f(*values)`` that evaluates the expression with NumPy.

        Functions are NumPy ufuncs and operators are Python's, so ``f`` works on
        floats, NumPy arrays and dualdiff ``Dual`` numbers alike.  On plain
        numbers ``**`` gives nan instead of a complex number (``(-8)**(1/3)``).

        Parameters
        ----------
        variables : sequence of str, optional
            The names the positional arguments of ``f`` stand for, in order.
            It must include every variable of the expression and may include
            others, which ``f`` then ignores.  Default: :attr:`variables`.

        Returns
        -------
        callable
            ``f(*values)``, taking one value per name in ``variables``.

        Raises
        ------
        ExpressionError
            If ``variables`` repeats a name or lacks one the expression uses.
        """
        names = self.variables if variables is None else tuple(variables)
        for index, name in enumerate(names):
            if name in names[:index]:
                raise ExpressionError(f"variable '{name}' is listed twice")
        for name in self.variables:
            if name not in names:
                raise ExpressionError(f"no argument for variable '{name}'")
        position = {name: index for index, name in enumerate(names)}
        steps = self.steps

        def function(*values: Any) -> Any:
            if len(values) != len(names):
                raise TypeError(f"expected {len(names)} argument(s) {names}, got {len(values)}")
            results: list[Any] = []
            for step in steps:
                if step.op == "variable":
                    results.append(values[position[step.value]])
                elif not step.args:
                    results.append(step.constant)
                else:
                    results.append(_NUMERIC[step.op](*[results[i] for i in step.args]))
            return results[-1]

        function.__doc__ = f"Evaluate {self.text!r} at ({', '.join(names)})."
        return function

    def to_sympy(self) -> tuple[sympy.Expr, dict[str, sympy.Symbol]]:
        """Return the expression in SymPy and its variables as real SymPy symbols.

        SymPy is imported here, only when this method is called.  A power
        of constants becomes a float (so ``(9**9999)**9999`` stays cheap); all
        other numbers stay exact.  ``abs(u)`` becomes ``sqrt(u**2)`` and
        ``cbrt(u)`` becomes ``u / (u**2)**(1/3)``: for real ``u`` these are the
        same functions (except that the second is undefined at ``u = 0``), and
        SymPy can differentiate them even where it cannot prove ``u`` real.

        Returns
        -------
        expr : sympy.Expr
            The expression.
        symbols : dict of str to sympy.Symbol
            The symbol (declared real) of every variable, by name.
        """
        import sympy  # noqa: PLC0415 - slow to import; only this method needs it

        symbols = {name: sympy.Symbol(name, real=True) for name in self.variables}
        table = _sympy_table(sympy)
        results: list[Any] = []
        for step in self.steps:
            if step.op == "variable":
                results.append(symbols[step.value])
            elif step.op == "constant":
                results.append(sympy.pi if step.value == "pi" else sympy.E)
            elif step.op == "number":
                number = step.value
                results.append(
                    sympy.Integer(number) if isinstance(number, int) else sympy.Float(number)
                )
            elif step.op == "pow" and step.constant is not None:
                results.append(sympy.Float(step.constant))
            else:
                results.append(table[step.op](*[results[i] for i in step.args]))
        return results[-1], symbols


def _sympy_table(sympy: Any) -> dict[str, Callable[..., Any]]:
    """Return the SymPy counterpart of every operator and function."""
    return {
        **_OPERATORS,
        "pow": operator.pow,
        "sin": sympy.sin,
        "cos": sympy.cos,
        "tan": sympy.tan,
        "arcsin": sympy.asin,
        "arccos": sympy.acos,
        "arctan": sympy.atan,
        "arctan2": sympy.atan2,
        "sinh": sympy.sinh,
        "cosh": sympy.cosh,
        "tanh": sympy.tanh,
        "arcsinh": sympy.asinh,
        "arccosh": sympy.acosh,
        "arctanh": sympy.atanh,
        "exp": sympy.exp,
        "expm1": lambda x: sympy.exp(x) - 1,
        "log": lambda x, base=None: sympy.log(x) / (1 if base is None else sympy.log(base)),
        "log2": lambda x: sympy.log(x, 2),
        "log10": lambda x: sympy.log(x, 10),
        "log1p": lambda x: sympy.log(1 + x),
        "sqrt": sympy.sqrt,
        "cbrt": lambda x: x / (x**2) ** sympy.Rational(1, 3),  # real root, analytic form
        "square": lambda x: x**2,
        "abs": lambda x: sympy.sqrt(x**2),  # Abs(x) for a real symbol x
        "hypot": lambda x, y: sympy.sqrt(x**2 + y**2),
        "sign": sympy.sign,
        "floor": _sympy_floor(sympy),
        "max": sympy.Max,
        "min": sympy.Min,
        "erf": sympy.erf,
        "gamma": sympy.gamma,
    }


def _sympy_floor(sympy: Any) -> Any:
    """Return SymPy's ``floor`` with slope 0, which SymPy leaves as an unevaluated Derivative."""

    class Floor(sympy.floor):
        def fdiff(self, argindex: int = 1) -> Any:
            return sympy.S.Zero

    Floor.__name__ = "floor"
    return Floor


def parse(text: str) -> Expression:
    """Parse and validate an expression; the module docstring lists what is allowed.

    Parameters
    ----------
    text : str
        The expression, such as ``"log(x1) + x1*x2 - sin(x2)"``.

    Returns
    -------
    Expression
        The validated expression.

    Raises
    ------
    ExpressionError
        With a one-line message, if the text is not an allowed expression.

    Examples
    --------
    >>> expr = parse("log(x1) + x1*x2 - sin(x2)")
    >>> expr.variables
    ('x1', 'x2')
    >>> f = expr.to_function()
    >>> float(f(2.0, 5.0))
    11.652071455223084
    >>> parse("x.real")
    Traceback (most recent call last):
        ...
    dualdiff.expression.ExpressionError: attribute access is not allowed
    """
    text = _check_text(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for "2(x)"
            tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ExpressionError(f"invalid syntax{where}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"cannot parse the expression: {exc}") from None
    builder = _Builder()
    builder.visit(tree.body, 0)
    return Expression(text, tuple(builder.steps), tuple(builder.variables))
