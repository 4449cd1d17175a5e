"""The lean array chain rule (dispatch._lean_unary, _lean_binary) against the general one.

The lean path takes the common array case with fewer calls and fewer NumPy passes; it must
change nothing else.  Each row of the table, on float64 and float32 arrays (sizes on both
sides of dispatch.IN_PLACE_MIN_SIZE, in-place reuse included), with each operand live alone
and together and with Python, NumPy-array and zero constants, gives the general path's value
and tangent bit for bit, the same dtype, the same warnings, and a tangent that is its own.
"""

import warnings

import numpy as np
import pytest

from dualdiff import Dual, dispatch
from dualdiff.dispatch import RULES
from dualdiff.rules import _BLOCK

ELEMENTWISE = [rule for rule in RULES.values() if rule.jvp is None]
UNARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 1]
BINARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 2]
SIZES = (7, dispatch.IN_PLACE_MIN_SIZE + 3)


def name(rule):
    return rule.ufunc.__name__


def general(monkeypatch):
    """Switch the lean paths off (they hand every call to the general path)."""
    monkeypatch.setattr(dispatch, "_lean_unary", lambda rule, x: None)
    monkeypatch.setattr(dispatch, "_lean_binary", lambda rule, x, y: None)


def run(call):
    """``call()``'s value, tangent and warning messages (or the error it raises)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call()
        except (TypeError, ValueError, ArithmeticError) as error:
            return ("raises", type(error), str(error)), [str(w.message) for w in caught]
    return out, sorted(str(w.message) for w in caught)


def same(lean, general_result):
    (a, warned_a), (b, warned_b) = lean, general_result
    assert warned_a == warned_b
    if isinstance(a, tuple):
        assert a == b
        return
    for part_a, part_b in ((a.value, b.value), (a.tangent, b.tangent)):
        assert type(part_a) is type(part_b)
        assert np.asarray(part_a).dtype == np.asarray(part_b).dtype
        assert np.array_equal(part_a, part_b, equal_nan=True)
        assert np.array_equal(np.signbit(part_a), np.signbit(part_b))


def points(rule, n, dtype, rng):
    domain = np.array([p[0] if isinstance(p, tuple) else p for p in rule.domain])
    return np.resize(domain, n).astype(dtype), rng.standard_normal(n).astype(dtype)


def pairs(rule, n, dtype, rng):
    domain = np.array(rule.domain, dtype=float)
    x, y = np.resize(domain[:, 0], n).astype(dtype), np.resize(domain[:, 1], n).astype(dtype)
    return x, y, rng.standard_normal(n).astype(dtype), rng.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_unary_rows_take_the_general_paths_numbers(rule, dtype, rng, monkeypatch):
    for n in SIZES:
        x, t = points(rule, n, dtype, rng)
        lean = run(lambda x=x, t=t: rule.ufunc(Dual(x, t)))
        with monkeypatch.context() as m:
            general(m)
            same(lean, run(lambda x=x, t=t: rule.ufunc(Dual(x, t))))


def binary_cases(f, x, y, tx, ty):
    return [
        lambda: f(Dual(x, tx), Dual(y, ty)),
        lambda: f(Dual(x, tx), y),
        lambda: f(x, Dual(y, ty)),
        lambda: f(Dual(x, tx), float(y[0])),
        lambda: f(float(x[0]), Dual(y, ty)),
        lambda: f(Dual(x, tx), 2),
        lambda: f(Dual(x, tx), 0.0),
        lambda: f(0.0, Dual(y, ty)),
        lambda: f(Dual(x, tx), Dual(x, tx)),
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rule", BINARY, ids=name)
def test_binary_rows_take_the_general_paths_numbers(rule, dtype, rng, monkeypatch):
    for n in SIZES:
        x, y, tx, ty = pairs(rule, n, dtype, rng)
        cases = binary_cases(rule.ufunc, x, y, tx, ty)
        for case in cases:
            lean = run(case)
            with monkeypatch.context() as m:
                general(m)
                same(lean, run(case))


def test_a_result_never_shares_an_operands_tangent():
    x = Dual(np.linspace(0.5, 2.0, dispatch.IN_PLACE_MIN_SIZE), np.ones(dispatch.IN_PLACE_MIN_SIZE))
    for result in (x + 0.0, 0.0 + x, x * 1.0, x - 0.0, np.positive(x), x / 1.0, x + x):
        assert not np.may_share_memory(result.tangent, x.tangent)
        assert not np.may_share_memory(result.value, x.value)


def test_the_benchmark_formula_takes_the_general_paths_numbers(rng, monkeypatch):
    def f(x):
        return (np.sin(x) * np.exp(-(x**2) / 3) + np.log(1 + x**2) / (1 + np.cos(x) ** 2)
                + np.sqrt(x + 2) * np.tanh(x))

    x, t = rng.uniform(-1.9, 3, 3 * dispatch.IN_PLACE_MIN_SIZE), rng.standard_normal(
        3 * dispatch.IN_PLACE_MIN_SIZE)
    lean = run(lambda: f(Dual(x, t)))
    with monkeypatch.context() as m:
        general(m)
        same(lean, run(lambda: f(Dual(x, t))))
    assert np.array_equal(lean[0].value, f(x))


def test_products_and_quotients_of_large_arrays_are_the_partials_numbers(rng):
    # multiply's and divide's fused tangents work block by block past rules._BLOCK elements:
    # the numbers are those of the partials on whole arrays, bit for bit
    n = 3 * _BLOCK + 5
    x, y = rng.uniform(-2, 2, n), rng.uniform(0.5, 2, n)
    tx, ty = rng.standard_normal(n), rng.standard_normal(n)
    product = Dual(x, tx) * Dual(y, ty)
    assert np.array_equal(product.tangent, y * tx + x * ty)
    quotient = Dual(x, tx) / Dual(y, ty)
    ans = x / y
    assert np.array_equal(quotient.tangent, (1 / y) * tx + ((-ans) / y) * ty)
    assert np.array_equal(quotient.value, ans) and np.array_equal(product.value, x * y)
