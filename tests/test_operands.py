"""Operands NumPy accepts meet a Dual as NumPy meets them: lists, tuples, nested lists.

For every binary operator, on either side, a list or tuple operand gives exactly what the
same operand as an array gives (value and tangent).  A list holding Duals is refused with a
message naming ``np.stack``: NumPy would make an array of objects of it.
"""

import operator

import numpy as np
import pytest

from dualdiff import Dual
from dualdiff.testing import check_jvp

OPERATORS = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow, "@": operator.matmul,
    "divmod": divmod,
}  # fmt: skip

X = np.array([[0.5, 1.25], [2.0, 0.75]])
TX = np.array([[1.0, -0.5], [0.25, 2.0]])
# name -> (the operand as written, the Dual it meets)
OPERANDS = {
    "list": ([1.5, 2.0], Dual(X, TX)),
    "tuple": ((1.5, 2.0), Dual(X, TX)),
    "nested list": ([[1.5, 2.0], [0.5, 3.0]], Dual(X, TX)),
    "nested tuple": (((1.5, 2.0), (0.5, 3.0)), Dual(X, TX)),
    "list of ints": ([3, 2], Dual(X, TX)),
    "list and scalar dual": ([1.5, 2.0], Dual(0.75, 1.0)),
    "batched": ([1.5, 2.0], Dual(X, np.stack([TX, -TX, 2 * TX]))),
}


def leaves(result):
    return list(result) if isinstance(result, tuple) else [result]


def assert_same(got, want):
    for g, w in zip(leaves(got), leaves(want), strict=True):
        assert type(g) is Dual
        np.testing.assert_array_equal(g.value, w.value)
        np.testing.assert_array_equal(g.tangent, w.tangent)
        assert np.result_type(g.value) == np.result_type(w.value)


CASES = [pytest.param(symbol, kind, id=f"{symbol}-{kind}") for symbol in OPERATORS
         for kind in OPERANDS if symbol != "@" or OPERANDS[kind][1].ndim]  # @ needs arrays


@pytest.mark.parametrize(("symbol", "kind"), CASES)
def test_sequence_operands_act_as_arrays(symbol, kind):
    op = OPERATORS[symbol]
    operand, dual = OPERANDS[kind]
    array = np.asarray(operand)
    with np.errstate(all="ignore"):
        assert_same(op(dual, operand), op(dual, array))
        assert_same(op(operand, dual), op(array, dual))


@pytest.mark.parametrize("symbol", [s for s in OPERATORS if s not in ("//", "divmod")])
def test_sequence_operands_pass_check_jvp(symbol):
    op = OPERATORS[symbol]
    tangent = np.ones_like(X)
    check_jvp(lambda x: op(x, [1.5, 2.0]), (X,), (tangent,))
    check_jvp(lambda x: op([[1.5, 2.0], [0.5, 3.0]], x), (X,), (tangent,))


def test_in_place_operators_take_lists():
    x = Dual(X, TX)
    x += [1.0, 2.0]
    np.testing.assert_array_equal(x.value, np.add(X, [1.0, 2.0]))
    np.testing.assert_array_equal(x.tangent, TX)


@pytest.mark.parametrize("symbol", OPERATORS)
@pytest.mark.parametrize("side", ["left", "right"])
def test_lists_of_duals_are_refused_naming_np_stack(symbol, side):
    op = OPERATORS[symbol]
    x = Dual(X, TX)
    pieces = [Dual(1.0, 1.0), Dual(2.0, 0.0)]
    with pytest.raises(TypeError, match=r"np\.stack"):
        op(x, pieces) if side == "left" else op(pieces, x)
    with pytest.raises(TypeError, match=r"np\.stack"):
        op(x, [[1.0, 2.0], pieces]) if side == "left" else op(([1.0, 2.0], pieces), x)


@pytest.mark.parametrize("symbol", OPERATORS)
def test_non_numeric_sequences_are_refused(symbol):
    op = OPERATORS[symbol]
    with pytest.raises(TypeError, match="list of <U1"):
        op(Dual(X, TX), ["a", "b"])


def test_ragged_lists_raise_numpys_error():
    with pytest.raises(ValueError, match="inhomogeneous"):
        operator.add(Dual(X, TX), [[1.0], [2.0, 3.0]])
