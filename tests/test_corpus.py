"""A corpus of composite expressions, each written once and differentiated two ways.

Each text is parsed once (``dualdiff.expression``) into a NumPy function,
which dualdiff differentiates, and into a sympy expression, which sympy
differentiates exactly; gradients and Hessians must agree.
"""

import numpy as np
import pytest
import sympy as sp

from dualdiff import gradient, hessian
from dualdiff.expression import parse

POINT = {"x": 0.7, "y": -1.3, "z": 2.1}

CORPUS = [
    "sin(x) * exp(-x**2 / 3) + log(1 + x**2) / (1 + cos(x)**2) + sqrt(x + 2) * tanh(x)",
    "log(x**2 + y**2 + 1)",
    "exp(x * y) * cos(z)",
    "x * y * z / (1 + x**2 + y**2 + z**2)",
    "atan2(y, x) + hypot(x, z)",
    "sqrt(x**2 + y**2 + z**2)",
    "tanh(x + 2 * y - z) ** 2",
    "log1p(exp(x)) - log1p(exp(-y))",
    "expm1(x * z) / z",
    "sinh(x) * cosh(y) - tanh(z)",
    "asinh(x * y) + acosh(z + 1)",
    "atanh(x / 2) * atan(y)",
    "asin(x / 2) + acos(tanh(y) / 2)",
    "cbrt(x**3 + z**2)",
    "log2(z) * log10(x**2 + 1)",
    "2 ** x * square(y)",
    "x ** y ** 2 / 10",
    "z ** x",
    "(x + y + z) ** 3 - x ** 3 - y ** 3 - z ** 3",
    "1 / (1 + exp(-(x * 2 - y)))",
    "sin(cos(sin(cos(x * y))))",
    "exp(sin(x)) * exp(cos(y)) * exp(tan(z / 3))",
    "log(abs(y) + 1) * x",
    "abs(x * y - z)",
    "x * sin(1 / (1 + y**2))",
    "(x - 1) ** 2 + 100 * (y - x**2) ** 2",
    "x**4 - 3 * x**2 * y + y**3 * z - z**4",
    "exp(-(x**2 + y**2) / 2) / (2 * pi)",
    "log(exp(x) + exp(y) + exp(z))",
    "sqrt(1 + sin(x * y * z) ** 2)",
    "tan(x / 2) * cos(y) ** 3",
    "x / (y ** 2 + 1) + y / (z ** 2 + 1) + z / (x ** 2 + 1)",
    "cosh(x) ** 2 - sinh(x) ** 2 + x * y",
    "hypot(hypot(x, y), z)",
    "atan(y / (1 + x**2)) * z",
    "exp(x) ** 2 / exp(y)",
    "log(1 + x**2) ** 2 + log(1 + y**2) ** 3",
    "sin(x + y) * sin(x - y) * z",
    "(1 + x * y) ** (1 / 3) * z",
    "sqrt(z) * log(z) * x",
    "1 / sqrt(x**2 + y**2 + z**2 + 1)",
    "exp(-abs(x - y)) * z",
    "tanh(sinh(x * z)) + y",
    "asinh(sinh(x)) * acosh(cosh(z))",
    "x * exp(y) * log(z) * sin(x * y * z)",
    "(sin(x) ** 2 + cos(x) ** 2) * y ** 2",
    "log10(z ** 3) + log2(1 + x**2) * y",
    "e ** (x * y) - exp(x * y) + x",
    "square(sin(x)) + 1 / (1 + y**2)",
    "z ** 2.5 * x - y * z ** -0.5",
    "(x * y + y * z + z * x) / (x**2 + y**2 + z**2)",
    "sin(x) * cos(y) * tan(z / 4) + atan2(x, y)",
]


def _exact(expr_text):
    expression = parse(expr_text)
    symbolic, symbols = expression.to_sympy()
    names = ("x", "y", "z")
    ordered = [symbols.get(n, sp.Symbol(n, real=True)) for n in names]
    return expression.to_function(names), symbolic, ordered


def test_the_corpus_is_large_enough():
    assert len(set(CORPUS)) == len(CORPUS) >= 50


@pytest.mark.parametrize("text", CORPUS)
def test_gradient_and_hessian_match_sympy(text):
    f, symbolic, symbols = _exact(text)
    point = np.array([POINT["x"], POINT["y"], POINT["z"]])
    subs = {s: sp.Float(float(v), 30) for s, v in zip(symbols, point, strict=True)}

    def of_vector(v):
        return f(v[0], v[1], v[2])

    grad = gradient(of_vector, point)
    exact_grad = np.array([float(sp.diff(symbolic, s).evalf(30, subs=subs)) for s in symbols])
    np.testing.assert_allclose(grad, exact_grad, rtol=1e-10, atol=1e-12)
    hess = hessian(of_vector, point)
    exact_hess = np.array(
        [[float(sp.diff(symbolic, a, b).evalf(30, subs=subs)) for b in symbols] for a in symbols]
    )
    np.testing.assert_allclose(hess, exact_hess, rtol=1e-9, atol=1e-10)
