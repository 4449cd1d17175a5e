"""The memory model, tested against NumPy itself.

A Dual array must behave like an ndarray of (value, tangent) pairs: views share
memory, copies do not, in-place operations write in place.  The strongest oracle is
NumPy: the same program runs on plain arrays and on Duals, and the Dual's values must
equal NumPy's bit for bit; its tangents must agree with the column-by-column evaluation
and with the reference checker.
"""

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import dualdiff as dd
from dualdiff import Dual
from dualdiff.dispatch import FUNCTION_EXAMPLES
from dualdiff.elementary import strip
from dualdiff.tags import new_tag
from dualdiff.testing import check_jvp
from tests.test_functions import prepare

K = 3

# --- a small language of programs that mix views, copies and in-place updates -----------------
# A program is a list of steps over a growing list of arrays (the first is the input).  Every
# step reads its operands' shapes only, so it takes the same path on plain arrays and on Duals;
# a step that does not fit the shapes it meets is skipped on both.


def _index(a, code):
    """A basic index of ``a`` chosen by ``code`` (an int)."""
    n = a.shape[0]
    choices = [
        (code % n,),
        (slice(None, None, -1),),
        (slice(code % n, None),),
        (Ellipsis, code % a.shape[-1]),
        (slice(None, None, 2),),
    ]
    return choices[code % len(choices)]


def _reshape_target(a, code):
    size = a.size
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    d = divisors[code % len(divisors)]
    return (d, size // d)


def _step(state, op, i, j, code):  # noqa: PLR0911, PLR0912 - one case per operation
    a = state[i % len(state)]
    b = state[j % len(state)]
    shape = np.shape(strip(a))
    other = np.shape(strip(b))
    if op == "view-index" and len(shape) >= 1:
        return a[_index(a, code)]
    if op == "transpose" and len(shape) >= 2:
        return a.T
    if op == "reshape" and len(shape) >= 1 and np.size(strip(a)) > 0:
        return a.reshape(_reshape_target(strip(a), code))
    if op == "ravel" and len(shape) >= 1:
        return np.ravel(a, order="CFA"[code % 3])
    if op == "swapaxes" and len(shape) >= 2:
        return np.swapaxes(a, 0, -1)
    if op == "expand" and len(shape) >= 1:
        return np.expand_dims(a, code % (len(shape) + 1))
    if op == "split" and len(shape) >= 1 and shape[0] >= 2:
        return np.split(a, [1], axis=0)[code % 2]
    if op == "diagonal" and len(shape) >= 2:
        return np.diagonal(a)  # a read-only view in NumPy: writes into it must raise
    if op == "copy":
        return [lambda x: x.copy(), copy.copy, lambda x: np.copy(x, order="F"),
                lambda x: x * 1.0, lambda x: +x][code % 5](a)
    if op == "fancy" and len(shape) >= 1:
        return a[[code % shape[0], 0]]
    if op == "arith":
        if np.broadcast_shapes(shape, other) != np.broadcast_shapes(shape, other, shape):
            return None
        return [lambda x, y: x * y + 0.5, lambda x, y: np.sin(x) - y,
                lambda x, y: x / (y * y + 1.0)][code % 3](a, b)
    if op == "iadd" and other and shape and _fits(other, shape):
        a += b
        return None
    if op == "imul" and other and shape and _fits(other, shape):
        a *= b * 0.5 + 1.0
        return None
    if op == "idiv-rows" and len(shape) >= 2:
        for row in a:  # normalise rows in place, as scientists do
            row /= np.sqrt(np.sum(row * row) + 1.0)  # noqa: PLW2901 - in place, on purpose
        return None
    if op == "setitem" and len(shape) >= 1 and other:
        a[code % shape[0]] = b[(0,) * len(other)] if len(shape) == 1 else b.reshape(-1)[0]
        return None
    if op == "swap" and len(shape) >= 1 and shape[0] >= 2:
        a[0], a[1] = a[1], a[0]  # scalars (or rows) saved, then overwritten
        return None
    if op == "gram-schmidt-step" and len(shape) == 2 and shape[1] >= 2:
        a[:, 1] -= (a[:, 0] @ a[:, 1]) * a[:, 0]
        return None
    if op == "fill":
        if shape:
            a.fill(0.25 * (code % 4))
        return None
    if op == "add-at" and len(shape) >= 1:
        if not strip(a).flags.writeable:  # NumPy 2.4's add.at writes through read-only views;
            raise ValueError("read-only")  # dualdiff raises, as every other write does
        np.add.at(a, [0, code % shape[0], 0], 1.5)
        return None
    if op == "copyto" and shape and _fits(other, shape):
        np.copyto(a, b)
        return None
    if op == "sort" and len(shape) >= 1:
        plain = np.sort(strip(a), axis=-1)
        if np.any(plain[..., 1:] == plain[..., :-1]):
            TIES.append(op)  # sorting equal entries: no derivative there (a += a[::-1] makes them)
        a.sort(axis=-1)
        return None
    return None


TIES = []
"""Set when a program sorts equal entries, a non-differentiable point (values are still checked)."""


def _fits(other, shape):
    try:
        return np.broadcast_shapes(other, shape) == tuple(shape)
    except ValueError:
        return False


OPS = ["view-index", "transpose", "reshape", "ravel", "swapaxes", "expand", "split",
       "diagonal", "copy", "fancy", "arith", "iadd", "imul", "idiv-rows", "setitem", "swap",
       "gram-schmidt-step", "fill", "add-at", "copyto", "sort"]

programs = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7), st.integers(0, 60)),
    min_size=1, max_size=12,
)


def run(program, x):
    """Run ``program`` from the input ``x``; every array's final state, and what raised."""
    state = [x]
    raised = []
    for op, i, j, code in program:
        try:
            made = _step(state, op, i, j, code)
        except ValueError as error:  # a read-only view written to: NumPy raises, so must we
            raised.append((op, type(error)))
            continue
        if made is not None:
            state.append(made)
    return state, raised


def outputs(program, x):
    """The final state of every array, as a tuple: the function whose derivative is tested."""
    state, _ = run(program, x)
    return tuple(state)


POINT = np.array([[0.3, -1.2, 0.8], [1.5, 0.4, -0.7]])


def _layouts(dtype):
    base = POINT.astype(dtype)
    if np.dtype(dtype).kind == "c":
        base = base + 0.25j * base[::-1]
    return {
        "C": base.copy(),
        "F": np.asfortranarray(base),
        "strided": np.repeat(base, 2, axis=1)[:, ::2].copy()[:, :],
        "view": np.concatenate([base, base * 1.7 + 0.1], axis=0)[::2],
    }


def assert_same_values(plain_state, dual_state):
    assert len(plain_state) == len(dual_state)
    for plain, dual in zip(plain_state, dual_state, strict=True):
        value = strip(dual)
        assert np.shape(value) == np.shape(plain)
        np.testing.assert_array_equal(value, plain, strict=False)  # bit for bit (NaN == NaN)
        assert np.result_type(value) == np.result_type(plain)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs, layout=st.sampled_from(["C", "F", "strided", "view"]),
       dtype=st.sampled_from([np.float64, np.float32, np.complex128]),
       batched=st.booleans())
def test_values_equal_numpys_bit_for_bit(program, layout, dtype, batched):
    x = _layouts(dtype)[layout]
    plain_state, plain_raised = run(program, x.copy(order="K"))
    rng = np.random.default_rng(len(program))
    tangent = rng.standard_normal(((K,) if batched else ()) + x.shape).astype(dtype)
    dual_state, dual_raised = run(program, Dual(x, tangent))
    assert dual_raised == plain_raised
    assert_same_values(plain_state, dual_state)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs, layout=st.sampled_from(["C", "F", "view"]))
def test_tangents_agree_column_by_column_and_with_the_checker(program, layout):
    x = _layouts(np.float64)[layout]
    TIES.clear()
    run(program, x.copy(order="K"))
    assume(not TIES)
    f = lambda z: outputs(program, z)  # noqa: E731
    by_columns = [dd.jacobian(lambda z, k=k: f(z)[k], x, chunk_size=1)
                  for k in range(len(f(x.copy())))]
    batched = [dd.jacobian(lambda z, k=k: f(z)[k], x) for k in range(len(by_columns))]
    for one, many in zip(by_columns, batched, strict=True):
        np.testing.assert_allclose(many, one, rtol=1e-12, atol=1e-12)
    direction = np.random.default_rng(len(program)).standard_normal(x.shape)
    check_jvp(f, (x,), (direction,), rtol=1e-6, atol=1e-8)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs, layout=st.sampled_from(["C", "F"]))
def test_nested_duals_follow_the_memory_model_at_every_level(program, layout):
    x = _layouts(np.float64)[layout]
    TIES.clear()
    run(program, x.copy(order="K"))
    assume(not TIES)
    rng = np.random.default_rng(len(program))
    t1, t2, t12 = (rng.standard_normal(x.shape) for _ in range(3))
    inner, outer = new_tag(), new_tag()
    nested = Dual(Dual(x, t1, tag=inner), Dual(t2, t12, tag=inner), tag=outer)
    nested_state, nested_raised = run(program, nested)
    plain_state, plain_raised = run(program, x.copy(order="K"))
    assert nested_raised == plain_raised
    assert_same_values(plain_state, nested_state)
    first = dd.jvp(lambda z: outputs(program, z), (x,), (t1,))[1]
    second = dd.jvp(lambda z: outputs(program, z), (x,), (t2,))[1]
    for d, a, b in zip(nested_state, first, second, strict=True):
        np.testing.assert_allclose(d.value.tangent, a, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(d.tangent.value, b, rtol=1e-12, atol=1e-12)


# --- every registered function: views where NumPy's are views, copies where NumPy copies -------


def _view_cases():
    cases = []
    for func, examples in FUNCTION_EXAMPLES.items():
        for i in range(len(examples)):
            cases.append(pytest.param(func, i, id=f"{func.__name__}-{i}"))
    return cases


def _arrays(out):
    if isinstance(out, list | tuple):
        return [a for item in out for a in _arrays(item)]
    return [out]


@pytest.mark.parametrize(("func", "i"), _view_cases())
@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
def test_writes_into_results_reach_inputs_exactly_as_numpys(func, i, batched):
    f, inputs = prepare(func, FUNCTION_EXAMPLES[func][i])
    plain_inputs = [np.array(x, copy=True) if isinstance(x, np.ndarray) else x for x in inputs]
    try:
        with np.errstate(all="ignore"):
            result = f(*plain_inputs)
    except Exception:  # an example meant for Duals only
        return
    plain_out = _arrays(result)
    in_place = result is None or any(p is x for p in plain_out for x in plain_inputs)
    mutated = [in_place or (isinstance(x, np.ndarray) and not np.array_equal(x, y, equal_nan=True))
               for x, y in zip(plain_inputs, inputs, strict=True)]  # f writes into them itself
    rng = np.random.default_rng(i)
    lead = (K,) if batched else ()
    tangents = [rng.standard_normal(lead + np.shape(x)) for x in inputs]
    tag = new_tag()
    duals = [Dual(x, t, tag=tag) for x, t in zip(inputs, tangents, strict=True)]
    with np.errstate(all="ignore"):
        dual_out = _arrays(f(*duals))
    assert len(dual_out) == len(plain_out)
    written = {}  # output position -> the tangent written into it
    for which, (plain, dual) in enumerate(zip(plain_out, dual_out, strict=True)):
        if (type(dual) is not Dual or not isinstance(strip(dual), np.ndarray)
                or not isinstance(plain, np.ndarray) or not plain.size):
            continue  # a plain result, or a scalar (immutable)
        value = strip(dual)
        if "WARN_ON_WRITE=True" in str(plain.flags):  # NumPy deprecates writing into these
            assert not value.flags.writeable  # (broadcast_arrays, meshgrid): read-only here
            continue
        assert value.flags.writeable == plain.flags.writeable, "read-only where NumPy's is"
        if not plain.flags.writeable:
            with pytest.raises(ValueError, match="read-only"):
                dual[...] = 0.0
            continue
        mark = rng.standard_normal(plain.shape) + (1j if plain.dtype.kind == "c" else 0)
        plain[...] = mark
        written[which] = rng.standard_normal(lead + plain.shape).astype(value.dtype)
        dual[...] = Dual(mark.astype(value.dtype), written[which], tag=tag)
    for k, (x, d, t) in enumerate(zip(plain_inputs, duals, tangents, strict=True)):
        np.testing.assert_array_equal(d.value, x, err_msg=f"the value of input {k}")
        if mutated[k]:  # an in-place function: its tangents are checked by test_functions
            continue
        for c in range(K) if batched else [None]:  # each direction as NumPy sees it
            direction = t if c is None else t[c]
            column = np.empty_like(x) if isinstance(x, np.ndarray) else np.array(direction)
            column[...] = direction  # laid out as the input, as its Dual's tangent is
            args = [column if j == k else np.array(y, copy=True) if isinstance(y, np.ndarray)
                    else y for j, y in enumerate(inputs)]
            if isinstance(x, np.ndarray) and any(
                np.shares_memory(p, x) for p in plain_out if isinstance(p, np.ndarray)
            ):
                with np.errstate(all="ignore"):
                    out = _arrays(f(*args))
                for which, mark in written.items():  # the same writes, into the tangent
                    out[which][...] = mark if c is None else mark[c]
            got = d.tangent if c is None else d.tangent[c]
            np.testing.assert_array_equal(got, column, err_msg=f"the tangent of input {k}")


# --- indexing ----------------------------------------------------------------------------------

INDICES = [0, -1, (1, 2), slice(1, None), (Ellipsis, 1), (slice(None), None, 0), [1, 0],
           (np.array([0, 1]), np.array([2, 0])), np.array([[True, False, True],
                                                            [False, True, False]]),
           (slice(None, None, -1), slice(None, None, 2)), ()]


@pytest.mark.parametrize("index", INDICES, ids=str)
@pytest.mark.parametrize("batched", [False, True], ids=["single", "batched"])
@pytest.mark.parametrize("order", ["C", "F"])
def test_indexing_views_and_copies_as_numpy(index, batched, order):
    plain = np.array(POINT, order=order)
    lead = (K,) if batched else ()
    tangent = np.arange(np.prod(lead + POINT.shape), dtype=float).reshape(lead + POINT.shape)
    x = Dual(plain, tangent + 1.0)
    got = x[index]
    expected = plain[index]
    np.testing.assert_array_equal(got.value, expected)
    before = x.tangent.copy()
    written = plain.copy(order="K")
    if isinstance(expected, np.ndarray):
        got[...] = Dual(np.full(expected.shape, 7.0), np.full(np.shape(got.tangent), -9.0))
        written[index][...] = 7.0  # the same write on NumPy's array: reaches it iff a view
    else:  # one element: a copy, whose tangent is not a view into x's
        x[index] = Dual(7.0, np.full(np.shape(got.tangent), -9.0))
        written[index] = 7.0
        assert np.all(got.tangent > 0)
    changed = written != plain
    np.testing.assert_array_equal(x.value, written)
    np.testing.assert_array_equal(x.tangent[..., changed], -9.0)
    np.testing.assert_array_equal(x.tangent[..., ~changed], before[..., ~changed])


# --- the examples that were wrong ---------------------------------------------------------------


def test_augmented_assignment_writes_through_aliases():
    def h(x):
        y = x * 1.0
        z = y
        z += x
        return np.sum(y)

    value, grad = dd.value_and_gradient(h, np.array([1.0, 2.0]))
    assert value == 6.0
    np.testing.assert_array_equal(grad, [2.0, 2.0])


def _normalise_rows(a):
    a = a * 1.0
    for row in a:
        row /= np.linalg.norm(row)  # noqa: PLW2901 - in place: the row is a view of a
    return a


def _modified_gram_schmidt(a):
    q = a * 1.0
    for i in range(q.shape[1]):
        q[:, i] /= np.linalg.norm(q[:, i])
        for j in range(i + 1, q.shape[1]):
            q[:, j] -= (q[:, i] @ q[:, j]) * q[:, i]
    return q


@pytest.mark.parametrize("f", [_normalise_rows, _modified_gram_schmidt])
def test_in_place_linear_algebra_gives_numpys_values_and_exact_tangents(f):
    a = np.array([[1.0, 2.0, 0.5], [3.0, 4.0, -1.0], [0.2, -0.3, 2.0]])
    np.testing.assert_allclose(strip(f(Dual(a))), f(a), rtol=1e-15)
    direction = np.random.default_rng(1).standard_normal(a.shape)
    check_jvp(f, (a,), (direction,))
    np.testing.assert_allclose(dd.jacobian(f, a), dd.jacobian(f, a, chunk_size=1), rtol=1e-13,
                               atol=1e-15)


def test_views_of_read_only_tangents_share_writes():
    x = Dual(np.array([1.0, -2.0, 3.0, -4.0]), np.ones(4))
    for y in (np.where(x.value > 0, x, 0.0), np.clip(x, -1.0, 1.0), np.ones(4) + x[0]):
        yy = y.reshape(2, 2)
        yy[0, 1] = Dual(5.0, 6.0)
        assert y.value[1] == 5.0 and y.tangent[1] == 6.0


def test_out_views_receive_value_and_tangent():
    y = np.zeros_like(Dual(np.zeros(4), np.zeros(4)))
    view = y.reshape(2, 2)
    np.multiply(Dual(np.ones((2, 2)), np.full((2, 2), 2.0)), 3.0, out=view)
    np.testing.assert_array_equal(y.tangent, 6.0)


@pytest.mark.parametrize("chunk_size", [None, 1, 2])
def test_swaps_and_saved_entries_under_batched_tangents(chunk_size):
    def swap(b):
        b = b * 1.0
        b[0], b[1] = b[1], b[0]
        saved = b[2]
        b[2] = b[0] * 2.0
        b[0] = saved
        return b

    x = np.array([1.0, 2.0, 3.0])
    expected = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    np.testing.assert_array_equal(dd.jacobian(swap, x, chunk_size=chunk_size), expected)


def test_fortran_ordered_inputs_reshape_value_and_tangent_alike():
    def f(x):
        flat = x.reshape(-1)  # a copy of an F-ordered value; a view of a C-ordered one
        flat[0] = 10.0 * flat[1]
        return x

    for x in (np.ones((2, 3)), np.asfortranarray(np.arange(6.0).reshape(2, 3))):
        got = dd.jacobian(f, x)
        np.testing.assert_array_equal(got, dd.jacobian(f, x, chunk_size=1))
        np.testing.assert_array_equal(dd.value_and_jacobian(f, x)[0], f(x.copy(order="K")))


def test_copies_are_independent():
    x = Dual(np.arange(3.0), np.ones(3))
    for y in (copy.copy(x), copy.deepcopy(x), x.copy(), np.copy(x), x.astype(np.float64)):
        y[0] = Dual(9.0, 9.0)
        assert x.value[0] == 0.0 and x.tangent[0] == 1.0


def test_the_api_never_aliases_the_callers_arrays():
    def trimmed_mean(z):
        z.sort()  # sorts its argument in place
        return np.mean(z[1:-1])

    x = np.random.default_rng(2).permutation(np.arange(5000.0))
    keep = x.copy()
    g = dd.gradient(trimmed_mean, x)  # several chunks, each with a fresh copy of the point
    np.testing.assert_array_equal(x, keep)
    np.testing.assert_allclose(g, np.where((x > 0) & (x < 4999), 1 / 4998, 0.0))
    v = np.ones(5000)
    dd.jvp(lambda z: z.__imul__(2.0), (x,), (v,))
    np.testing.assert_array_equal(v, 1.0)
    np.testing.assert_array_equal(x, keep)


def test_a_slope_of_one_does_not_share_the_second_level_tangent():
    def f(x):
        def g(z):
            y = z * 1.0
            w = z + np.zeros(2)
            y[0] = 5.0 * z[1]
            return y + w

        return dd.jacobian(g, x)

    x = np.array([1.0, 2.0])
    h = dd.jacobian(f, x)
    np.testing.assert_array_equal(h, np.zeros((2, 2, 2)))


def test_zeros_like_then_fill_in_a_hessian():
    def f(x):
        out = np.zeros_like(x)
        for i in range(len(x)):
            out[i] = x[i] ** 3
        return np.sum(out)

    np.testing.assert_allclose(dd.hessian(f, np.array([1.0, 2.0])), np.diag([6.0, 12.0]))


def test_plain_arrays_refuse_duals_naming_the_remedy():
    x = Dual(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="zeros_like"):
        np.zeros(3)[:] = x
    with pytest.raises(TypeError, match="zeros_like"):
        np.add(x, 1.0, out=np.zeros(3))
    with pytest.raises(TypeError, match="zeros_like"):
        np.copyto(np.zeros(3), x)


def test_writes_that_cannot_be_represented_raise():
    x = Dual(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="complex"):
        x[0] = 1j
    with pytest.raises(TypeError, match="complex"):
        x += Dual(np.ones(3) * 1j)
    with pytest.raises(TypeError, match="newer"):
        x[0] = Dual(1.0, 1.0, tag=new_tag())
    np.testing.assert_array_equal(x.value, 1.0)


def test_adding_a_level_is_refused_while_views_exist():
    outer = Dual(2.0, 1.0, tag=new_tag())
    inner_tag = new_tag()
    fresh = Dual(np.zeros(3), np.zeros(3), tag=inner_tag)
    fresh[0] = Dual(outer, 1.0, tag=inner_tag)  # no views: the level is added
    assert type(fresh.value) is Dual and fresh.value.value[0] == 2.0
    viewed = Dual(np.zeros(3), np.zeros(3), tag=inner_tag)
    view = viewed[1:]
    with pytest.raises(TypeError, match="other views"):
        viewed[0] = Dual(outer, 1.0, tag=inner_tag)
    assert type(view.value) is np.ndarray


def _position(items, item):
    return next(i for i, candidate in enumerate(items) if candidate is item)


def test_plain_inputs_into_a_dual_out_give_numpys_result_with_zero_tangent():
    out = Dual(np.zeros(3), np.ones(3))
    assert np.round(np.array([1.26, 2.5, -0.4]), 1, out=out) is out
    np.testing.assert_array_equal(out.value, np.round(np.array([1.26, 2.5, -0.4]), 1))
    np.testing.assert_array_equal(out.tangent, 0.0)
    np.cumsum(np.ones(3), out=out)
    np.testing.assert_array_equal(out.value, [1.0, 2.0, 3.0])


def test_augmented_assignment_rounds_as_numpys_in_place_call():
    # NumPy's in-place complex product (out= its input) can round unlike the out-of-place one
    program = [("view-index", 0, 0, 37), ("view-index", 1, 0, 33), ("view-index", 0, 0, 0),
               ("view-index", 0, 0, 0), ("add-at", 1, 0, 0), ("imul", 2, 7, 0)]
    x = _layouts(np.complex128)["C"]
    plain_state, _ = run(program, x.copy())
    dual_state, _ = run(program, Dual(x, np.ones(x.shape, complex)))
    assert_same_values(plain_state, dual_state)
