"""Random expression trees: dualdiff's gradient agrees with sympy's exact derivative.

hypothesis builds expressions over x and y from the supported functions,
each wrapped so its argument stays inside the domain; ``check_sympy`` turns
each into a NumPy function, differentiates it with dualdiff, and compares
with ``sympy.diff`` evaluated to 30 digits.
"""

import os

import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dualdiff.testing import check_sympy

X, Y = sp.symbols("x y", real=True)
EXAMPLES = int(os.environ.get("DUALDIFF_SYMPY_EXAMPLES", "3000"))

# Each wrapper keeps its argument in the function's domain for any real u.
UNARY = [
    sp.sin, sp.cos, sp.tanh, sp.atan, sp.asinh, sp.Abs,
    lambda u: u**2,
    lambda u: u**3,
    lambda u: -u,
    lambda u: sp.exp(sp.tanh(u)),
    lambda u: sp.sinh(sp.tanh(u)),
    lambda u: sp.cosh(sp.sin(u)),
    lambda u: sp.log(1 + u**2),
    lambda u: sp.log(2 + sp.sin(u), 2),
    lambda u: sp.log(2 + sp.cos(u), 10),
    lambda u: sp.sqrt(1 + u**2),
    lambda u: sp.cbrt(2 + sp.sin(u)),
    lambda u: 1 / (1 + u**2),
    lambda u: sp.asin(sp.tanh(u) / 2),
    lambda u: sp.acos(sp.tanh(u) / 2),
    lambda u: sp.atanh(sp.tanh(u) / 2),
    lambda u: sp.acosh(2 + u**2),
    lambda u: 2 ** sp.tanh(u),
    lambda u: sp.exp(sp.tanh(u)) - 1,
]  # fmt: skip
BINARY = [
    lambda u, v: u + v,
    lambda u, v: u - v,
    lambda u, v: u * v,
    lambda u, v: u / (2 + sp.sin(v)),
    lambda u, v: sp.atan2(u, 2 + sp.cos(v)),
    lambda u, v: sp.sqrt(u**2 + v**2 + 1),
    lambda u, v: (1 + u**2) ** sp.tanh(v),
    sp.Max,
    sp.Min,
]

leaves = st.sampled_from([X, Y, X, Y, sp.Float(0.5), sp.Integer(3)])


def extend(children):
    unary = st.builds(lambda f, u: f(u), st.sampled_from(UNARY), children)
    binary = st.builds(lambda f, u, v: f(u, v), st.sampled_from(BINARY), children, children)
    return unary | binary


expressions = st.recursive(leaves, extend, max_leaves=6)
coordinates = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False, allow_subnormal=False)


def _has_tie(expr, point):
    """Whether a Max/Min ties or an Abs is at 0 at the point (a kink: no derivative)."""
    for node in expr.atoms(sp.Max, sp.Min):
        values = [complex(arg.evalf(30, subs=point)) for arg in node.args]
        if any(abs(a - b) <= 1e-9 * (1 + abs(a)) for i, a in enumerate(values) for b in values[:i]):
            return True
    for node in expr.atoms(sp.Abs):  # |u| at u == 0: a kink too (sympy's slope is nan)
        if abs(complex(node.args[0].evalf(30, subs=point))) <= 1e-12:
            return True
    return False


@settings(max_examples=EXAMPLES, deadline=None)
@given(expr=expressions, x=coordinates, y=coordinates)
def test_random_expressions_match_sympy(expr, x, y):
    assume(not _has_tie(expr, {X: x, Y: y}))
    report = check_sympy(expr, [X, Y], [x, y], rtol=1e-10, atol=1e-10)
    assert report.gradient.shape == (2,)
