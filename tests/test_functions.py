"""Every registered NumPy function (and matmul), checked by the reference checker.

The tests enumerate the registry itself: each function's examples are run with every float
argument (arrays and 0-d floats) as a differentiable input -- all together and each alone,
with single and batched tangents -- while booleans, integers and tuples of them stay
constant.  A function registered without examples fails here.
"""

import inspect

import numpy as np
import pytest

import dualdiff  # noqa: F401  (registers everything)
from dualdiff import Dual, jvp
from dualdiff.dispatch import FUNCTION_EXAMPLES, FUNCTIONS, RULES
from dualdiff.testing import check_jvp

SEED = 0
BATCH = 3

CASES = {func: FUNCTION_EXAMPLES.get(func, ()) for func in FUNCTIONS}
CASES[np.matmul] = RULES[np.matmul].domain
FUNCTION_IDS = {func: f"{func.__module__}.{func.__name__}" for func in CASES}


def name(func):
    return FUNCTION_IDS.get(func, getattr(func, "__name__", repr(func)))


# --- taking an example apart -------------------------------------------------------------------


class Slot:
    """Where a differentiable input goes in an example's arguments."""

    def __init__(self, index):
        self.index = index


def is_input(x):
    """Float arrays and float scalars are differentiable; bools, ints and the rest constant."""
    if isinstance(x, bool | np.bool_):
        return False
    if isinstance(x, float | np.floating):
        return True
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def template(obj, inputs):
    """``obj`` with every differentiable input replaced by a Slot (inputs collected in order)."""
    if is_input(obj):
        inputs.append(obj)
        return Slot(len(inputs) - 1)
    if isinstance(obj, list | tuple):
        return type(obj)(template(item, inputs) for item in obj)
    if isinstance(obj, dict):
        return {key: template(value, inputs) for key, value in obj.items()}
    return obj


def fill(obj, values):
    """The inverse of :func:`template`."""
    if isinstance(obj, Slot):
        return values[obj.index]
    if isinstance(obj, list | tuple):
        return type(obj)(fill(item, values) for item in obj)
    if isinstance(obj, dict):
        return {key: fill(value, values) for key, value in obj.items()}
    return obj


def split(example):
    """An example as ``(args, kwargs)``."""
    if len(example) == 2 and isinstance(example[0], tuple) and isinstance(example[1], dict):
        return example
    return tuple(example), {}


def prepare(func, example):
    """``(f, inputs)``: ``f(*inputs)`` calls ``func`` on the example with those inputs."""
    args, kwargs = split(example)
    inputs = []
    args_t, kwargs_t = template(args, inputs), template(kwargs, inputs)

    def f(*values):
        return func(*fill(args_t, values), **fill(kwargs_t, values))

    return f, inputs


def is_float_output(out):
    if isinstance(out, list | tuple):
        return any(is_float_output(item) for item in out)
    return is_input(out) or (
        np.iscomplexobj(out) and isinstance(out, complex | np.complexfloating | np.ndarray)
    )


def contains_dual(out):
    if isinstance(out, list | tuple):
        return any(contains_dual(item) for item in out)
    return isinstance(out, Dual)


def tangents_for(inputs, rng, batch=()):
    return tuple(rng.standard_normal(batch + np.shape(x)) for x in inputs)


def all_examples():
    return [
        pytest.param(func, i, id=f"{name(func)}-{i}")
        for func, examples in CASES.items()
        for i in range(len(examples))
    ]


def differentiable_examples():
    params = []
    for func, examples in CASES.items():
        for i, example in enumerate(examples):
            f, inputs = prepare(func, example)
            if is_float_output(f(*inputs)):
                params.append(pytest.param(func, i, id=f"{name(func)}-{i}"))
    return params


def plain_examples():
    params = []
    for func, examples in CASES.items():
        for i, example in enumerate(examples):
            f, inputs = prepare(func, example)
            if not is_float_output(f(*inputs)):
                params.append(pytest.param(func, i, id=f"{name(func)}-{i}"))
    return params


# --- the registry ------------------------------------------------------------------------------


def test_every_registered_function_has_examples():
    missing = [name(func) for func in FUNCTIONS if not FUNCTION_EXAMPLES.get(func)]
    assert not missing, f"registered without examples: {missing}"
    assert set(FUNCTION_EXAMPLES) >= set(FUNCTIONS)
    assert RULES[np.matmul].domain, "matmul has no examples"


def test_the_core_functions_are_registered():
    required = "sum mean dot reshape ravel transpose moveaxis broadcast_to shape ndim stack "
    required += "concatenate where copy"
    missing = [n for n in required.split() if getattr(np, n) not in FUNCTIONS]
    assert not missing
    assert np.matmul in RULES


@pytest.mark.parametrize("func", list(CASES), ids=name)
def test_examples_are_well_formed(func):
    examples = CASES[func]
    assert len(examples) >= 1, f"{name(func)} has no examples"
    for example in examples:
        assert isinstance(example, tuple)
        args, kwargs = split(example)
        assert isinstance(args, tuple) and isinstance(kwargs, dict)
        f, inputs = prepare(func, example)
        assert inputs, f"an example of {name(func)} has no float argument to differentiate"
        f(*inputs)  # runs on plain NumPy


def test_the_loops_cover_every_example():
    total = sum(len(examples) for examples in CASES.values())
    assert len(all_examples()) == total
    assert len(differentiable_examples()) + len(plain_examples()) == total
    covered = {p.values[0] for p in differentiable_examples() + plain_examples()}
    assert covered == set(CASES)


# --- derivatives -------------------------------------------------------------------------------


def leaves(structure):
    """The arrays of a (possibly nested) tuple/list output, in order."""
    if isinstance(structure, tuple | list):
        return [leaf for item in structure for leaf in leaves(item)]
    return [structure]


def shapes(structure, batch=()):
    return [(*batch, *np.shape(leaf)) for leaf in leaves(structure)]


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_values_and_tangent_shapes(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    expected = f(*inputs)
    out, tangent = jvp(f, tuple(inputs), tangents_for(inputs, rng))
    assert not contains_dual(out) and not contains_dual(tangent)
    for got, want in zip(leaves(out), leaves(expected), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    assert shapes(out) == shapes(expected)
    assert shapes(tangent) == shapes(expected)
    _, tangent = jvp(f, tuple(inputs), tangents_for(inputs, rng, (BATCH,)))
    assert shapes(tangent) == shapes(expected, (BATCH,))


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_jvp_with_all_inputs_live(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    [report] = check_jvp(f, tuple(inputs), tangents_for(inputs, rng))
    assert report.dual.size == sum(np.size(leaf) for leaf in leaves(f(*inputs)))


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_jvp_with_a_batch_of_tangents(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    reports = check_jvp(f, tuple(inputs), tangents_for(inputs, rng, (BATCH,)))
    assert len(reports) == BATCH


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_jvp_with_each_input_live_alone(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    for live in range(len(inputs)):

        def alone(x, live=live):
            return f(*inputs[:live], x, *inputs[live + 1:])

        check_jvp(alone, (inputs[live],), tangents_for([inputs[live]], rng))
        reports = check_jvp(alone, (inputs[live],), tangents_for([inputs[live]], rng, (BATCH,)))
        assert len(reports) == BATCH


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_second_order_through_nested_duals(func, i):
    # g(x) = f(sin(x)); the JVP of x -> JVP(g)(x; v) runs the function on nested duals.
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)

    def g(*xs):
        return f(*(np.sin(x) for x in xs))

    vs = tangents_for(inputs, rng)

    def directional(*xs):
        return jvp(g, xs, vs)[1]

    check_jvp(directional, tuple(inputs), tangents_for(inputs, rng), complex_step=False)
    check_jvp(directional, tuple(inputs), tangents_for(inputs, rng, (BATCH,)),
              complex_step=False)


@pytest.mark.parametrize(("func", "i"), differentiable_examples())
def test_float32_stays_float32(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    single = [np.float32(x) if np.ndim(x) == 0 else x.astype(np.float32) for x in inputs]
    tangents = tuple(t.astype(np.float32) for t in tangents_for(single, rng))
    expected = f(*single)
    out, tangent = jvp(f, tuple(single), tangents)
    # dualdiff keeps NumPy's dtype: float32 wherever NumPy keeps float32 (nearly everywhere),
    # NumPy's own promotion where it promotes (np.interp computes in float64; astype casts).
    for got, want, slope in zip(leaves(out), leaves(expected), leaves(tangent), strict=True):
        if np.result_type(want).kind not in "fc":
            continue  # a plain integer leaf (lstsq's rank) has no tangent to keep
        assert np.result_type(got) == np.result_type(want)
        assert np.result_type(slope) == np.result_type(want)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_matmul_operator_and_function_agree():
    rng = np.random.default_rng(SEED)
    for a, b in RULES[np.matmul].domain:
        ta, tb = rng.standard_normal(np.shape(a)), rng.standard_normal(np.shape(b))
        by_operator = jvp(lambda x, y: x @ y, (a, b), (ta, tb))
        by_function = jvp(np.matmul, (a, b), (ta, tb))
        np.testing.assert_array_equal(by_operator[0], by_function[0])
        np.testing.assert_array_equal(by_operator[1], by_function[1])
        np.testing.assert_allclose(by_function[1], ta @ b + a @ tb, rtol=1e-13, atol=1e-14)
        check_jvp(lambda x, y: x @ y, (a, b), (rng.standard_normal((BATCH, *np.shape(a))),
                                               rng.standard_normal((BATCH, *np.shape(b)))))


# --- functions with plain results ----------------------------------------------------------------


@pytest.mark.parametrize(("func", "i"), plain_examples())
def test_plain_results_equal_numpys(func, i):
    f, inputs = prepare(func, CASES[func][i])
    rng = np.random.default_rng(SEED)
    expected = f(*inputs)
    for batch in ((), (BATCH,)):
        duals = [Dual(x, t) for x, t in zip(inputs, tangents_for(inputs, rng, batch), strict=True)]
        result = f(*duals)
        assert not contains_dual(result)
        assert type(result) is type(expected)
        np.testing.assert_equal(result, expected)


def test_shape_and_ndim_are_plain():
    x = Dual(np.ones((2, 3)), np.ones((4, 2, 3)))
    assert np.shape(x) == (2, 3) and type(np.shape(x)) is tuple
    assert np.ndim(x) == 2 and type(np.ndim(x)) is int
    assert np.shape(Dual(1.5, 1.0)) == () and np.ndim(Dual(1.5, 1.0)) == 0


# --- dtype= ------------------------------------------------------------------------------------

X = np.array([[0.7, 1.3, 2.1], [1.9, 0.4, 1.1]])
"""Positive entries (geomspace, logs) and no ties."""

# every registered function taking dtype=, called on one argument x
DTYPE_CALLS = {
    np.sum: lambda x, **k: np.sum(x, axis=0, **k),
    np.mean: np.mean,
    np.cumsum: lambda x, **k: np.cumsum(x, axis=1, **k),
    np.prod: lambda x, **k: np.prod(x, axis=1, **k),
    np.cumprod: np.cumprod,
    np.nansum: lambda x, **k: np.nansum(x, axis=1, **k),
    np.nanprod: np.nanprod,
    np.nanmean: lambda x, **k: np.nanmean(x, axis=0, **k),
    np.nancumsum: np.nancumsum,
    np.nancumprod: lambda x, **k: np.nancumprod(x, axis=0, **k),
    np.var: lambda x, **k: np.var(x, axis=1, **k),
    np.std: np.std,
    np.nanvar: lambda x, **k: np.nanvar(x, axis=0, **k),
    np.nanstd: lambda x, **k: np.nanstd(x, axis=1, **k),
    np.cumulative_sum: lambda x, **k: np.cumulative_sum(x, axis=1, **k),
    np.cumulative_prod: lambda x, **k: np.cumulative_prod(x, axis=0, **k),
    np.trace: np.trace,
    np.linalg.trace: lambda x, **k: np.linalg.trace(x[:, :2], **k),
    np.einsum: lambda x, **k: np.einsum("ij,ij->j", x, x, casting="unsafe", **k),
    np.stack: lambda x, **k: np.stack([x, x], **k),
    np.concatenate: lambda x, **k: np.concatenate([x, x], **k),
    np.hstack: lambda x, **k: np.hstack([x, x], **k),
    np.vstack: lambda x, **k: np.vstack([x, x], **k),
    np.linspace: lambda x, **k: np.linspace(x[0], x[1], 4, **k),
    np.logspace: lambda x, **k: np.logspace(x[0], x[1], 4, **k),
    np.geomspace: lambda x, **k: np.geomspace(x[0], x[1], 4, **k),
    np.cov: np.cov,
    np.corrcoef: np.corrcoef,
    np.astype: lambda x, dtype: np.astype(x, dtype),  # noqa: PLW0108 - dtype is positional
}
# their results are plain arrays (the value's shape only), so no tangent can be truncated
PLAIN_WITH_DTYPE = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}
# the variance of complex values is not differentiated (TypeError), whatever the dtype
REAL_ONLY = {np.var, np.std, np.nanvar, np.nanstd}


def test_every_function_taking_dtype_is_in_the_table():
    taking = {func for func, implementation in FUNCTIONS.items()
              if "dtype" in inspect.signature(implementation).parameters}
    taking.add(np.einsum)  # dtype= travels in **kwargs
    assert taking - PLAIN_WITH_DTYPE == set(DTYPE_CALLS)


def dtype_name(func):
    return "linalg.trace" if func is np.linalg.trace else func.__name__


@pytest.mark.parametrize("func", list(DTYPE_CALLS), ids=name)
@pytest.mark.parametrize("dtype", [int, np.int32, np.uint8, bool, "i8"])
def test_integer_dtypes_raise_naming_the_function_and_the_remedy(func, dtype):
    call = DTYPE_CALLS[func]
    x = Dual(X, np.ones_like(X))
    message = rf"numpy\.{dtype_name(func)} with dtype=.*pass a float or complex dtype"
    with pytest.raises(TypeError, match=message):
        call(x, dtype=dtype)


@pytest.mark.parametrize("func", list(DTYPE_CALLS), ids=name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_float_dtypes_cast_value_and_tangent(func, dtype):
    call = DTYPE_CALLS[func]
    direction = np.random.default_rng(SEED).standard_normal(X.shape)
    if func in REAL_ONLY and np.dtype(dtype).kind == "c":
        with pytest.raises(TypeError, match="complex"):
            call(Dual(X, direction), dtype=dtype)
        return
    value, slope = jvp(lambda x: call(x, dtype=dtype), (X,), (direction,))
    expected = call(X, dtype=dtype)
    assert np.result_type(value) == np.result_type(expected)
    assert np.result_type(slope) == np.result_type(expected)
    rtol = 1e-5 if dtype is np.float32 else 1e-13
    np.testing.assert_allclose(value, expected, rtol=rtol)
    # the tangent is the float64 JVP, computed in dtype
    reference = jvp(lambda x: call(x, dtype=np.float64), (X,), (direction,))[1]
    np.testing.assert_allclose(slope, reference, rtol=rtol, atol=rtol)
