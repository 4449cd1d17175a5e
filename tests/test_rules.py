"""Every row of the derivative table, checked by the reference checker.

The tests enumerate the registry itself, so a rule added without a test
domain fails here, and every rule is checked on scalars and arrays, with
single and batched tangents, with each operand live alone and together.
"""

import numpy as np
import pytest
import sympy as sp

import dualdiff
from dualdiff.dispatch import RULES
from dualdiff.elementary import COMPLEX_KERNELS
from dualdiff.rules import COMPOSED, NOT_DIFFERENTIABLE, differentiable_arguments
from dualdiff.testing import check_jvp, check_sympy

ELEMENTWISE = [rule for rule in RULES.values() if rule.jvp is None]
UNARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 1]
BINARY = [rule for rule in ELEMENTWISE if rule.ufunc.nin == 2]
CUSTOM = [rule for rule in RULES.values() if rule.jvp is not None]


def name(rule):
    return rule.ufunc.__name__


def test_every_rule_has_a_test_domain():
    for rule in RULES.values():
        assert rule.domain, f"rule for numpy.{name(rule)} has no test domain"
        if rule.jvp is None:
            assert len(rule.partials) == rule.ufunc.nin, name(rule)


def test_table_is_complete_for_the_foundation():
    required = "exp log log2 log10 log1p expm1 sqrt cbrt square reciprocal sin cos tan arcsin "
    required += "arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh hypot maximum "
    required += "minimum absolute sign floor ceil add subtract multiply divide floor_divide "
    required += "remainder power negative positive matmul"
    missing = [n for n in required.split() if getattr(np, n) not in RULES]
    assert not missing


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_unary_scalar(rule):
    for x in rule.domain:
        check_jvp(rule.ufunc, (x,), (1.0,))
        check_jvp(rule.ufunc, (x,), (-0.5,))


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_unary_array_single_and_batched(rule, rng):
    x = np.array(rule.domain)
    check_jvp(rule.ufunc, (x,), (rng.standard_normal(x.shape),))
    check_jvp(rule.ufunc, (x,), (rng.standard_normal((3, *x.shape)),))
    grid = np.resize(x, (2, 3, len(x)))
    check_jvp(rule.ufunc, (grid,), (rng.standard_normal((2, *grid.shape)),))


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_unary_scalar_batched(rule, rng):
    x = rule.domain[len(rule.domain) // 2]
    check_jvp(rule.ufunc, (x,), (rng.standard_normal(4),))


def of_live(rule, point):
    """``rule.ufunc`` of its differentiable arguments, the others fixed at ``point``."""
    live = differentiable_arguments(rule)

    def f(*args):
        it = iter(args)
        return rule.ufunc(*(next(it) if i in live else point[i] for i in range(len(point))))

    return f, tuple(point[i] for i in live)


@pytest.mark.parametrize("rule", BINARY, ids=name)
def test_binary_scalar_each_operand_live(rule):
    live = differentiable_arguments(rule)
    for x, y in rule.domain:
        if live == (0, 1):
            check_jvp(rule.ufunc, (x, y), (1.0, 0.0))
            check_jvp(rule.ufunc, (x, y), (0.0, 1.0))
            check_jvp(rule.ufunc, (x, y), (0.7, -1.3))
        if 0 in live:
            check_jvp(lambda a, y=y: rule.ufunc(a, y), (x,), (1.0,))  # y a plain constant
        if 1 in live:
            check_jvp(lambda b, x=x: rule.ufunc(x, b), (y,), (1.0,))  # x a plain constant


@pytest.mark.parametrize("rule", [r for r in RULES.values() if NOT_DIFFERENTIABLE in r.partials],
                         ids=name)
def test_a_live_operand_where_a_rule_is_not_differentiable_raises(rule):
    point = rule.domain[0]
    for i in set(range(rule.ufunc.nin)) - set(differentiable_arguments(rule)):
        args = list(point)
        args[i] = dualdiff.Dual(float(point[i]), 1.0)
        with pytest.raises(TypeError, match=rf"not differentiable in its {ORDINALS[i]} argument"):
            rule.ufunc(*args)
        args[i] = np.array([point[i]] * 2)  # a constant array there is fine
        f, primals = of_live(rule, args)
        check_jvp(f, tuple(np.broadcast_to(p, (2,)) + 0.0 for p in primals),
                  tuple(np.ones(2) for _ in primals))


ORDINALS = ("first", "second", "third")


@pytest.mark.parametrize("rule", BINARY, ids=name)
def test_binary_array_broadcast_single_and_batched(rule, rng):
    x, y = (np.array(column) for column in zip(*rule.domain, strict=True))
    live = differentiable_arguments(rule)
    if live != (0, 1):  # one operand only: arrays, batched, against constant arrays
        f, primals = of_live(rule, (x, y))
        check_jvp(f, primals, tuple(rng.standard_normal(p.shape) for p in primals))
        check_jvp(f, primals, tuple(rng.standard_normal((3, *p.shape)) for p in primals))
        return
    check_jvp(rule.ufunc, (x, y), (rng.standard_normal(x.shape), rng.standard_normal(y.shape)))
    check_jvp(rule.ufunc, (x, y), (rng.standard_normal((3, *x.shape)),
                                   rng.standard_normal((3, *y.shape))))
    # broadcasting: a column of x against a row of y, both batched
    column, row = x[:, None], y[None, :]
    check_jvp(rule.ufunc, (column, row), (rng.standard_normal((2, *column.shape)),
                                          rng.standard_normal((2, *row.shape))))
    # a live scalar against a constant array, batched
    check_jvp(lambda a: rule.ufunc(a, y[:1] * np.ones(3)), (x[0],), (np.array([1.0, -2.0]),))


@pytest.mark.parametrize("rule", CUSTOM, ids=name)
def test_custom_rules(rule, rng):
    for example in rule.domain:
        args = tuple(np.asarray(a, dtype=float) for a in example)
        check_jvp(rule.ufunc, args, tuple(rng.standard_normal(a.shape) for a in args))
        check_jvp(rule.ufunc, args, tuple(rng.standard_normal((3, *a.shape)) for a in args))
        first_only = lambda a, args=args: rule.ufunc(a, args[1])  # noqa: E731
        check_jvp(first_only, args[:1], (rng.standard_normal((2, *args[0].shape)),))
        second_only = lambda b, args=args: rule.ufunc(args[0], b)  # noqa: E731
        check_jvp(second_only, args[1:], (rng.standard_normal((2, *args[1].shape)),))


@pytest.mark.parametrize("ufunc", list(COMPOSED), ids=lambda u: u.__name__)
def test_composed_ufuncs(ufunc, rng):
    parts, domain = COMPOSED[ufunc]
    assert domain, f"numpy.{ufunc.__name__} has no test domain"
    for x, y in domain:
        check_jvp(ufunc, (x, y), (0.7, -1.3))
    x, y = (np.array(column) for column in zip(*domain, strict=True))
    directions = (rng.standard_normal((2, *x.shape)), rng.standard_normal((2, *y.shape)))
    check_jvp(ufunc, (x, y), directions)
    outputs = ufunc(dualdiff.Dual(x, np.ones_like(x)), y)
    assert len(outputs) == len(parts)


def _sympy_twin(rule, *symbols):
    twin = rule.sympy
    return getattr(sp, twin)(*symbols) if isinstance(twin, str) else twin(sp, *symbols)


@pytest.mark.parametrize("rule", [r for r in ELEMENTWISE if r.sympy is not None], ids=name)
def test_rule_matches_its_sympy_twin(rule):
    symbols = sp.symbols(f"x0:{rule.ufunc.nin}", real=True)
    expr = _sympy_twin(rule, *symbols)
    for point in rule.domain:
        coordinates = point if isinstance(point, tuple) else (point,)
        check_sympy(expr, symbols, coordinates, rtol=1e-9, atol=1e-12)


HOLOMORPHIC = [rule for rule in ELEMENTWISE if rule.ufunc in COMPLEX_KERNELS]


@pytest.mark.parametrize("rule", HOLOMORPHIC, ids=name)
def test_holomorphic_rules_on_complex_values(rule):
    points = (0.3 + 0.4j, -0.6 + 0.2j, 1.5 - 0.7j)
    for z in points:
        args = (z,) * rule.ufunc.nin
        check_jvp(rule.ufunc, args, (1.0 + 0.5j,) * rule.ufunc.nin)
        check_jvp(rule.ufunc, args, (0.25j,) * rule.ufunc.nin)
    z = np.array(points)
    check_jvp(rule.ufunc, (z,) * rule.ufunc.nin, (np.ones((2, 3)) * (1 - 1j),) * rule.ufunc.nin)


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_float32_stays_float32(rule):
    x = np.array(rule.domain[1:3], dtype=np.float32)
    out, tangent = dualdiff.jvp(rule.ufunc, (x,), (np.ones_like(x),))
    assert out.dtype == np.float32
    assert tangent.dtype == np.float32


@pytest.mark.parametrize("rule", UNARY, ids=name)
def test_python_float_path_matches_numpy_path(rule):
    # The math-kernel fast path and the ufunc path agree to rounding.
    for x in rule.domain:
        scalar_value, scalar_slope = dualdiff.jvp(rule.ufunc, (x,), (1.0,))
        array_value, array_slope = dualdiff.jvp(rule.ufunc, (np.array([x]),), (np.ones(1),))
        assert type(scalar_value) is float
        np.testing.assert_allclose(scalar_value, array_value[0], rtol=4e-16, atol=0)
        np.testing.assert_allclose(scalar_slope, array_slope[0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("scalar", [False, True], ids=["array", "scalar"])
@pytest.mark.parametrize("rule", ELEMENTWISE, ids=name)
def test_tangents_keep_the_values_precision(rule, scalar):
    # float32 values keep float32 tangents, whatever the partial computes in (np.where of
    # 1.0 and 0.0 is float64) and with Python-float constants beside them
    # (np.maximum(float32 dual, 0.0) once gave float64 tangents)
    point = rule.domain[1] if isinstance(rule.domain[1], tuple) else (rule.domain[1],)
    for i in differentiable_arguments(rule):
        value = np.float32(point[i]) if scalar else np.full(2, point[i], dtype=np.float32)
        args = list(point)
        args[i] = dualdiff.Dual(value, 1.0 if scalar else np.ones(2))  # float64 tangents given
        out = rule.ufunc(*args)
        plain = np.asarray(rule.ufunc(*(value if j == i else a for j, a in enumerate(point))))
        assert np.result_type(out.value) == plain.dtype, (name(rule), i)
        assert np.result_type(out.tangent) == plain.dtype, (name(rule), i)


def test_the_constructor_gives_the_tangent_the_values_precision():
    assert dualdiff.Dual(np.float32(1), 1.0).tangent.dtype == np.float32
    assert dualdiff.Dual(np.ones(2, np.float32), np.ones(2)).tangent.dtype == np.float32
    assert type(dualdiff.Dual(1.0, np.float32(2)).tangent) is float
    with pytest.raises(TypeError, match="complex tangent"):
        dualdiff.Dual(np.ones(2, np.float32), np.ones(2) * 1j)
