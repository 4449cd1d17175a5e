"""Shape, joining and selection functions, and the ndarray face of Dual.

What the registry loop in ``test_functions.py`` cannot see: list and ``None``
outputs, writing into Dual arrays (``__setitem__``, ``put_along_axis``,
``sort``) and its aliasing rules, the conventions of docs/conventions.md
("Selection"), methods agreeing with functions, and the errors.
"""

import numpy as np
import pytest

from dualdiff import Dual, derivative, jvp, memory
from dualdiff.tags import new_tag
from dualdiff.testing import check_jvp

A = np.array([[1.0, -2.0, 0.5], [0.3, 4.0, -1.0]])
V = np.array([0.7, -1.2, 2.5, 0.1, -0.4])
K = 3  # directions in a batch


def tangents(rng, *arrays, batch=()):
    return tuple(rng.standard_normal(batch + np.shape(x)) for x in arrays)


def both_ways(f, primals, rng):
    """check_jvp with one direction and with a batch of K."""
    check_jvp(f, primals, tangents(rng, *primals))
    assert len(check_jvp(f, primals, tangents(rng, *primals, batch=(K,)))) == K


def second_order(f, primals, rng):
    """check_jvp of a directional derivative: ``f`` runs on nested duals, as in the registry."""
    directions = tangents(rng, *primals)

    def directional(*xs):
        return jvp(f, xs, directions)[1]

    check_jvp(directional, primals, tangents(rng, *primals), complex_step=False)
    check_jvp(directional, primals, tangents(rng, *primals, batch=(K,)), complex_step=False)


# --- list and tuple outputs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("split", "arg", "axis"),
    [
        (np.split, 5, 0),
        (np.split, [1, 3], 0),
        (np.array_split, 3, 0),  # sizes 2, 2, 1
        (np.array_split, [1, 1, 4], 0),  # an empty section
    ],
)
def test_splits_return_lists_of_duals(split, arg, axis, rng):
    t = rng.standard_normal(V.shape)
    parts = split(Dual(V, t), arg, axis=axis)
    expected_values, expected_tangents = split(V, arg, axis=axis), split(t, arg, axis=axis)
    assert type(parts) is list and len(parts) == len(expected_values)
    for part, value, tangent in zip(parts, expected_values, expected_tangents, strict=True):
        assert type(part) is Dual
        np.testing.assert_array_equal(part.value, value)
        np.testing.assert_array_equal(part.tangent, tangent)
    both_ways(lambda x: split(x, arg, axis=axis), (V,), rng)


def test_split_of_a_batch_keeps_the_batch_axis_first(rng):
    t = rng.standard_normal((K, 2, 3))
    parts = np.array_split(Dual(A, t), 2, axis=-1)
    assert [p.tangent.shape for p in parts] == [(K, 2, 2), (K, 2, 1)]
    np.testing.assert_array_equal(parts[1].tangent, t[:, :, 2:])


@pytest.mark.parametrize("split", [np.hsplit, np.vsplit])
def test_hsplit_vsplit(split, rng):
    both_ways(lambda x: split(x, [1]), (A,), rng)


def test_dsplit_needs_three_dimensions():
    with pytest.raises(ValueError, match="3 or more"):
        np.dsplit(Dual(A), 2)


def test_split_into_unequal_sections_raises_like_numpy():
    with pytest.raises(ValueError, match="equal division"):
        np.split(Dual(V), 2)


def test_atleast_nd_with_several_arguments_returns_a_tuple(rng):
    x, y = Dual(2.5, 1.0), Dual(V, rng.standard_normal(V.shape))
    a, b = np.atleast_2d(x, y)
    assert a.shape == (1, 1) and b.shape == (1, 5)
    np.testing.assert_array_equal(a.tangent, [[1.0]])
    c, d = np.atleast_3d(y, A)  # a plain argument stays plain
    assert type(c) is Dual and c.shape == (1, 5, 1) and type(d) is np.ndarray
    both_ways(np.atleast_3d, (A, V), rng)


def test_broadcast_arrays_keeps_plain_arrays_plain(rng):
    x, plain = Dual(V, rng.standard_normal((K, 5))), np.ones((2, 1))
    bx, bp = np.broadcast_arrays(x, plain)
    assert type(bx) is Dual and bx.tangent.shape == (K, 2, 5) and type(bp) is np.ndarray
    np.testing.assert_array_equal(bx.tangent[:, 1], x.tangent)
    both_ways(np.broadcast_arrays, (V, A[:, :1]), rng)


# --- joining ------------------------------------------------------------------------------------


def test_stack_and_concatenate_honour_dtype_and_casting(rng):
    x = Dual(V, rng.standard_normal(V.shape))
    for join in (np.stack, np.concatenate):
        out = join([x, V], dtype=np.float32)
        assert out.value.dtype == np.float32 and out.tangent.dtype == np.float32
        np.testing.assert_allclose(out.tangent, join([x.tangent, 0 * V]), rtol=1e-7)
        with pytest.raises(TypeError, match=r"[Cc]annot cast"):
            join([x, V], dtype=np.float32, casting="safe")
        with pytest.raises(TypeError, match="tangent"):
            join([x, V], dtype=np.int64)
    both_ways(lambda p: np.concatenate([p, V], dtype=np.complex128).real, (V,), rng)


def test_concatenate_with_axis_none_flattens(rng):
    out = np.concatenate([Dual(A, rng.standard_normal((K, 2, 3))), V], axis=None)
    assert out.shape == (11,) and out.tangent.shape == (K, 11)
    np.testing.assert_array_equal(out.tangent[:, 6:], 0.0)


def test_block_mixes_duals_and_constants(rng):
    def f(x, s):
        return np.block([[x, np.zeros((2, 1))], [V[None, :3], s]])

    out = f(Dual(A), Dual(2.0, 1.0))
    np.testing.assert_array_equal(out.value, np.block([[A, np.zeros((2, 1))], [V[None, :3], 2.0]]))
    assert out.tangent[2, 3] == 1.0 and np.count_nonzero(out.tangent) == 1
    both_ways(f, (A, 2.0), rng)


def test_block_reports_numpys_shape_errors():
    with pytest.raises(ValueError):
        np.block([[Dual(A), Dual(V)]])


@pytest.mark.parametrize("stack", [np.hstack, np.vstack, np.dstack, np.column_stack])
def test_stacking_helpers_with_a_plain_operand(stack, rng):
    both_ways(lambda x: stack([x, A[0]]), (A[1],), rng)


# --- None outputs: writing in place ---------------------------------------------------------


def test_put_along_axis_writes_into_a_dual_and_returns_none(rng):
    indices = np.array([[2], [0]])

    def f(x, v):
        out = np.copy(x)
        assert np.put_along_axis(out, indices, v, axis=1) is None
        return out

    value = f(A, np.array([[9.0], [8.0]]))
    np.testing.assert_array_equal(value, [[1.0, -2.0, 9.0], [8.0, 4.0, -1.0]])
    both_ways(f, (A, np.array([[9.0], [8.0]])), rng)
    both_ways(lambda x: f(x, 5.0), (A,), rng)  # a constant written: zero tangent there


def test_writes_in_place_under_nested_differentiation(rng):
    def put(x, v):
        out = np.sin(x) * 1.0
        np.put_along_axis(out, np.array([[2], [0]]), v**2, axis=1)
        return out * x

    def sort(x):
        out = x**3
        out.sort(axis=1)
        return out

    def write(x, v):
        out = np.cos(x)
        out[0, 1:] = v[0] * x[1, :2]
        out[:, 0] = 2.0
        return out

    second_order(put, (A, np.array([[9.0], [8.0]])), rng)
    second_order(sort, (A,), rng)
    second_order(write, (A, np.array([[0.5], [1.5]])), rng)


def test_put_along_axis_flat(rng):
    def f(x, v):
        out = x * 1.0
        np.put_along_axis(out, np.array([4, 0]), v, axis=None)
        return out

    both_ways(f, (A, np.array([1.5, -1.5])), rng)


def test_put_along_axis_refuses_a_plain_target():
    with pytest.raises(TypeError, match="plain array"):
        np.put_along_axis(A.copy(), np.array([[0], [1]]), Dual(np.ones((2, 1))), axis=1)


def test_sort_method_sorts_value_and_tangent_in_place(rng):
    t = rng.standard_normal((K, 5))
    x = Dual(V.copy(), t.copy())
    assert x.sort() is None
    order = np.argsort(V)
    np.testing.assert_array_equal(x.value, V[order])
    np.testing.assert_array_equal(x.tangent, t[:, order])


def test_fill_method(rng):
    x = Dual(A.copy(), rng.standard_normal(A.shape))
    x.fill(Dual(2.0, 3.0))
    np.testing.assert_array_equal(x.value, 2.0)
    np.testing.assert_array_equal(x.tangent, 3.0)


# --- __setitem__ ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "index",
    [
        (1, 2),
        (slice(None), 0),
        (Ellipsis, -1),
        np.array([[True, False, True], [False, False, True]]),
        ([1, 0], [2, 2]),
        (0, slice(None), None),
        (slice(None), [2, 0]),
    ],
    ids=["ints", "column", "ellipsis", "mask", "fancy", "newaxis", "slice-fancy"],
)
@pytest.mark.parametrize("batch", [(), (K,)], ids=["single", "batched"])
def test_setitem_writes_value_and_tangent(index, batch, rng):
    value, t = A.copy(), rng.standard_normal(batch + A.shape)
    target_shape = A[index].shape
    item_value, item_tangent = rng.standard_normal(target_shape), rng.standard_normal(
        batch + target_shape)
    x = Dual(value, t.copy())
    x[index] = Dual(item_value, item_tangent)
    expected_value = A.copy()
    expected_value[index] = item_value
    np.testing.assert_array_equal(x.value, expected_value)
    for direction in range(K) if batch else [Ellipsis]:  # each direction as NumPy would write it
        expected_tangent = t[direction].copy()
        expected_tangent[index] = item_tangent[direction]
        np.testing.assert_array_equal(x.tangent[direction], expected_tangent)


def test_setitem_with_non_adjacent_advanced_indices_and_a_batch(rng):
    cube, t = np.zeros((2, 3, 4)), rng.standard_normal((K, 2, 3, 4))
    x = Dual(cube, t.copy())
    index = ([0, 1], slice(None), [3, 2])  # NumPy puts the broadcast axis first
    item = Dual(np.ones((2, 3)), rng.standard_normal((K, 2, 3)))
    x[index] = item
    for k in range(K):
        expected = t[k].copy()
        expected[index] = item.tangent[k]
        np.testing.assert_array_equal(x.tangent[k], expected)


def test_setitem_broadcasts_items_and_constants(rng):
    x = Dual(A.copy(), rng.standard_normal((K, 2, 3)))
    x[:, 1] = 7.0  # a constant: zero tangent
    x[0] = Dual(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))  # one direction for all
    np.testing.assert_array_equal(x.value, [[1.0, 2.0, 3.0], [0.3, 7.0, -1.0]])
    np.testing.assert_array_equal(x.tangent[:, 0], np.broadcast_to([4.0, 5.0, 6.0], (K, 3)))
    np.testing.assert_array_equal(x.tangent[:, 1, 1], 0.0)
    x[1] = Dual(0.5, np.arange(K, dtype=float))  # a batched scalar into a row
    expected = np.repeat(np.arange(K, dtype=float)[:, None], 3, axis=1)
    np.testing.assert_array_equal(x.tangent[:, 1], expected)


def test_setitem_derivatives_match_the_checker(rng):
    def f(x, y):
        out = np.zeros_like(x) + 0.0 * x  # a Dual of x's tag
        out[0] = np.sin(x[1]) * y
        out[1, ::2] = y[:2] ** 2
        out[1, 1] = 3.0
        return out

    both_ways(f, (A, V[:3]), rng)


def test_setitem_of_a_broadcast_view_does_not_write_through_its_tangent():
    base = Dual(np.arange(3.0), np.array([1.0, 2.0, 3.0]))
    wide = np.copy(np.broadcast_to(base, (2, 3)))  # value copied, tangent from broadcast_to
    wide[0, 0] = Dual(10.0, 10.0)
    np.testing.assert_array_equal(wide.tangent, [[10.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(base.tangent, [1.0, 2.0, 3.0])
    view = np.broadcast_to(base, (2, 3))
    assert not view.tangent.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0] = 1.0  # the value is a read-only view, as in NumPy
    np.testing.assert_array_equal(base.value, [0.0, 1.0, 2.0])


def test_setitem_does_not_write_into_a_shared_tangent():
    x = Dual(np.zeros(3), np.ones(3))
    y = x + 1.0  # shares x's tangent
    y[0] = Dual(5.0, 5.0)
    np.testing.assert_array_equal(x.tangent, 1.0)
    np.testing.assert_array_equal(y.tangent, [5.0, 1.0, 1.0])
    z = np.where(np.ones(3, dtype=bool), y, 0.0)  # a read-only broadcast tangent
    z[1] = 2.0
    np.testing.assert_array_equal(z.tangent, [5.0, 0.0, 1.0])
    np.testing.assert_array_equal(y.tangent, [5.0, 1.0, 1.0])


def test_setitem_writes_a_writable_tangent_in_place(rng):
    x = Dual(A.copy(), rng.standard_normal((K, 2, 3)))
    value, tangent = x.value, x.tangent
    for i in range(3):
        x[1, i] = Dual(float(i), np.full(K, float(i)))
    assert x.value is value and x.tangent is tangent  # no copies
    np.testing.assert_array_equal(tangent[:, 1], np.broadcast_to([0.0, 1.0, 2.0], (K, 3)))


def test_setitem_through_a_view_reaches_value_and_tangent(rng):
    x = Dual(A.copy(), rng.standard_normal((K, 2, 3)))
    row = x[1]
    row[0] = Dual(9.0, np.full(K, 9.0))
    assert x.value[1, 0] == 9.0
    np.testing.assert_array_equal(x.tangent[:, 1, 0], 9.0)
    x[0][2] = 8.0  # chained indexing, as with arrays
    assert x.value[0, 2] == 8.0
    np.testing.assert_array_equal(x.tangent[:, 0, 2], 0.0)


def test_setitem_refuses_a_newer_dual():
    older = Dual(np.zeros(3), np.ones(3))
    newer = Dual(1.0, 1.0, tag=new_tag())
    with pytest.raises(TypeError, match="newer derivative"):
        older[0] = newer
    np.testing.assert_array_equal(older.value, 0.0)


def test_setitem_of_an_older_dual_keeps_it_as_a_constant():
    inner = Dual(np.zeros(3), np.zeros(3), tag=new_tag())
    outer_item = Dual(2.0, 5.0)  # USER_TAG: older than inner
    inner[1] = outer_item
    np.testing.assert_array_equal(inner.tangent, 0.0)  # a constant to inner's tag
    assert type(inner.value) is Dual and inner.value.tag == outer_item.tag
    np.testing.assert_array_equal(inner.value.value, [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(inner.value.tangent, [0.0, 5.0, 0.0])


def test_setitem_in_nested_differentiation():
    # d/da d/db of out[1] = a * b**2 is 2 b; the write happens inside the inner derivative.
    def inner(a, b):
        out = b * np.zeros(3)
        out[1] = a * b**2
        out[2] = a  # a constant of the inner derivative
        return out

    def outer(a):
        return derivative(lambda b: inner(a, b), 1.5)

    np.testing.assert_allclose(derivative(outer, 2.0), [0.0, 3.0, 0.0])
    np.testing.assert_allclose(outer(2.0), [0.0, 6.0, 0.0])


def test_setitem_errors():
    x = Dual(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match="index"):
        x[Dual(1.0, 0.0)] = 1.0
    with pytest.raises(TypeError, match="scalar"):
        Dual(1.0, 1.0)[()] = 2.0
    with pytest.raises(ValueError, match="batch"):
        x[0] = Dual(1.0, np.ones(K))
    batched = Dual(np.zeros(3), np.zeros((K, 3)))
    with pytest.raises(ValueError, match="batch"):
        batched[0] = Dual(1.0, np.ones(K + 1))


# --- clip ---------------------------------------------------------------------------------------


def test_clip_tangent_passes_inside_and_at_the_bounds():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    out = np.clip(Dual(x, np.ones(5)), -1.0, 1.0)
    np.testing.assert_array_equal(out.value, np.clip(x, -1.0, 1.0))
    np.testing.assert_array_equal(out.tangent, [0.0, 1.0, 1.0, 1.0, 0.0])
    assert derivative(lambda s: np.clip(s, 0.0, None), 0.0) == 1.0


def test_clip_with_dual_bounds_takes_the_bounds_tangent():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    low, high = Dual(-1.0, 10.0), Dual(np.full(5, 1.0), np.full(5, 20.0))
    out = np.clip(Dual(x, np.ones(5)), low, high)
    np.testing.assert_array_equal(out.tangent, [10.0, 1.0, 1.0, 1.0, 20.0])
    out = np.clip(x, low, high)  # a plain array between dual bounds
    np.testing.assert_array_equal(out.tangent, [10.0, 0.0, 0.0, 0.0, 20.0])


def test_clip_with_crossed_bounds_is_the_upper_bound():
    out = np.clip(Dual(np.array([-3.0, 0.0, 3.0]), np.ones(3)), Dual(1.0, 2.0), Dual(-1.0, 5.0))
    np.testing.assert_array_equal(out.value, [-1.0, -1.0, -1.0])
    np.testing.assert_array_equal(out.tangent, [5.0, 5.0, 5.0])


def test_clip_keywords_and_refusals(rng):
    x = Dual(V, rng.standard_normal((K, 5)))
    by_keywords = np.clip(x, min=-1.0, max=1.0)
    by_position = np.clip(x, -1.0, 1.0)
    np.testing.assert_array_equal(by_keywords.tangent, by_position.tangent)
    unclipped = np.clip(x, None, None)  # NumPy 2 allows it: a copy
    unclipped[0] = 9.0
    assert x.value[0] == V[0] and x.tangent[0, 0] != 0.0
    with pytest.raises(TypeError, match="not both"):
        np.clip(x, -1.0, 1.0, min=0.0)
    with pytest.raises(TypeError, match="out"):
        np.clip(x, -1.0, 1.0, out=np.empty(5))
    both_ways(np.clip, (V, -1.0 + 0 * V, np.full(5, 1.0)), rng)


# --- interp -------------------------------------------------------------------------------------

XP = np.array([0.0, 1.0, 3.0])
FP = np.array([0.0, 2.0, 1.0])


def test_interp_slope_at_knots_is_the_right_segments():
    slope = [derivative(lambda x: np.interp(x, XP, FP), float(k)) for k in XP]
    assert slope == [2.0, -0.5, -0.5]  # at the last knot: the last segment
    assert derivative(lambda x: np.interp(x, XP, FP), -1.0) == 0.0
    assert derivative(lambda x: np.interp(x, XP, FP), 4.0) == 0.0


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")  # complex step
def test_interp_in_every_argument(rng):
    x = np.array([-0.5, 0.3, 1.7, 2.9, 3.5])
    both_ways(np.interp, (x, XP, FP), rng)
    both_ways(lambda c, lo, hi: np.interp(x, XP, c, left=lo, right=hi), (FP, 5.0, -1.0), rng)
    both_ways(lambda a, p: np.interp(a, XP, FP, period=p), (x, 4.1), rng)


def test_interp_of_complex_heights(rng):
    fp = FP * (1 + 2j)
    out = np.interp(Dual(0.5, 1.0), XP, fp)
    assert out.value == np.interp(0.5, XP, fp) and out.tangent == 2 * (1 + 2j)


def test_interp_with_one_knot():
    out = np.interp(Dual(np.array([-1.0, 2.0]), np.ones(2)), [0.5], Dual(np.array([3.0]), [4.0]))
    np.testing.assert_array_equal(out.value, [3.0, 3.0])
    np.testing.assert_array_equal(out.tangent, [4.0, 4.0])


# --- the other selections -----------------------------------------------------------------------


def test_where_with_one_argument_returns_plain_indices():
    result = np.where(Dual(np.array([0.0, 1.5, 0.0, -2.0]), np.ones(4)))
    assert type(result) is tuple and type(result[0]) is np.ndarray
    np.testing.assert_array_equal(result[0], [1, 3])


def test_where_with_a_dual_condition_and_plain_choices():
    out = np.where(Dual(np.array([0.0, 1.0]), np.ones(2)), 1.0, 2.0)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, [2.0, 1.0])


def test_select_default_and_dtypes(rng):
    x = Dual(V.astype(np.float32), rng.standard_normal(5).astype(np.float32))
    out = np.select([V < 0], [x], default=Dual(0.5, 2.0))
    np.testing.assert_array_equal(out.tangent, np.where(V < 0, x.tangent, 2.0))
    plain = np.select([V < 0], [V.astype(np.float32)], default=np.arange(5))
    out = np.select([V < 0], [x], default=np.arange(5))
    assert out.value.dtype == plain.dtype and out.tangent.dtype == plain.dtype
    both_ways(lambda p, d: np.select([V < 0, V > 1], [p, -p], d), (V, 0.5), rng)


def test_piecewise_keeps_the_tangent_of_each_piece(rng):
    def f(x, c):
        return np.piecewise(x, [x < 0, x > 1], [lambda v: v**2, lambda v: c * v, 0.5])

    out = f(Dual(V, np.ones(5)), 3.0)
    np.testing.assert_array_equal(out.value, np.piecewise(V, [V < 0, V > 1],
                                                          [lambda v: v**2, lambda v: 3 * v, 0.5]))
    np.testing.assert_array_equal(out.tangent, np.where(V < 0, 2 * V, np.where(V > 1, 3.0, 0.0)))
    both_ways(f, (V, 3.0), rng)


def test_piecewise_of_a_scalar():
    assert derivative(lambda x: np.piecewise(x, [x < 0], [np.sin, np.cos]), 0.5) == -np.sin(0.5)


def test_take_and_take_along_axis_follow_the_indices(rng):
    t = rng.standard_normal((K, 2, 3))
    x = Dual(A, t)
    order = np.argsort(A, axis=1)
    np.testing.assert_array_equal(np.take_along_axis(x, order, axis=1).tangent,
                                  np.take_along_axis(t, order[None], axis=2))
    np.testing.assert_array_equal(np.take(x, [5, 0]).tangent, t.reshape(K, -1)[:, [5, 0]])
    with pytest.raises(TypeError, match="indices"):
        np.take(x, Dual(np.array([0.0]), np.ones(1)))
    with pytest.raises(TypeError, match="indices"):
        np.take_along_axis(A, Dual(np.zeros((2, 1))), axis=1)


def test_compress_and_extract_with_a_dual_condition(rng):
    x = Dual(V, rng.standard_normal(5))
    out = np.compress(x > 0, x)
    np.testing.assert_array_equal(out.tangent, x.tangent[V > 0])
    assert type(np.compress(x > 0, V)) is np.ndarray
    plain = np.extract(Dual(V, np.ones(5)), V)  # a dual condition acts by its value
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(np.extract(V > 0, x).tangent, x.tangent[V > 0])


# --- shape functions beyond the registry's examples --------------------------------------------


def test_pad_with_a_dual_constant(rng):
    out = np.pad(Dual(V, np.zeros(5)), (1, 2), constant_values=Dual(3.0, 7.0))
    np.testing.assert_array_equal(out.value, np.pad(V, (1, 2), constant_values=3.0))
    np.testing.assert_array_equal(out.tangent, [7.0, 0, 0, 0, 0, 0, 7.0, 7.0])
    both_ways(lambda x, c: np.pad(x, 1, constant_values=c), (A, 2.0), rng)


@pytest.mark.parametrize("mode", ["maximum", "minimum", "median", np.pad])
def test_pad_refuses_selecting_modes(mode):
    with pytest.raises(TypeError, match="mode"):
        np.pad(Dual(V), 1, mode=mode)


def test_pad_refuses_dual_fills_it_cannot_carry():
    with pytest.raises(TypeError, match="end_values"):
        np.pad(Dual(V), 1, mode="linear_ramp", end_values=(Dual(1.0), 2.0))
    with pytest.raises(TypeError, match="scalar"):
        np.pad(Dual(V), 1, constant_values=Dual(np.ones(2)))


def test_like_constructors_return_duals_of_the_same_derivative(rng):
    x = Dual(A.astype(np.float32), rng.standard_normal((K, 2, 3)).astype(np.float32), tag=7)
    for like in (np.zeros_like, np.ones_like, np.empty_like):
        out = like(x)
        assert type(out) is Dual and out.tag == x.tag and out.shape == (2, 3)
        assert out.dtype == np.float32 and out.tangent.shape == (K, 2, 3)
        np.testing.assert_array_equal(out.tangent, 0.0)
        out[1] = x[0]  # "allocate like x, then fill"
        np.testing.assert_array_equal(out.tangent[:, 1], x.tangent[:, 0])
    out = np.full_like(x, 2)
    assert type(out) is Dual and np.all(out.value == 2) and np.all(out.tangent == 0)
    assert type(np.zeros_like(x, dtype=int)) is np.ndarray  # integers hold no tangent


def test_full_like_with_a_dual_fill_is_a_dual(rng):
    out = np.full_like(Dual(A.astype(np.float32)), Dual(2.0, 3.0))
    assert type(out) is Dual and out.value.dtype == np.float32 and out.tangent.dtype == np.float32
    np.testing.assert_array_equal(out.tangent, np.full((2, 3), 3.0))
    out[0, 0] = 1.0  # a fresh, writable array
    assert out.tangent[1, 1] == 3.0
    with pytest.raises(TypeError, match="tangent"):
        np.full_like(Dual(A), Dual(2.0, 3.0), dtype=int)


def test_real_and_imag_of_complex_duals(rng):
    z = Dual(V * (1 - 2j), rng.standard_normal(5) * (1 + 1j))
    np.testing.assert_array_equal(np.real(z).tangent, z.tangent.real)
    np.testing.assert_array_equal(np.imag(z).tangent, z.tangent.imag)
    np.testing.assert_array_equal(z.real.value, V)
    np.testing.assert_array_equal(z.imag.tangent, z.tangent.imag)


def test_diag_and_triangles_of_batched_vectors(rng):
    t = rng.standard_normal((K, 5))
    for k in (0, 2, -1):
        out = np.diag(Dual(V, t), k)
        for i in range(K):
            np.testing.assert_array_equal(out.tangent[i], np.diag(t[i], k))
    out = np.triu(Dual(V, t), 1)
    for i in range(K):
        np.testing.assert_array_equal(out.tangent[i], np.triu(t[i], 1))


def test_astype(rng):
    x = Dual(A, rng.standard_normal((K, 2, 3)))
    single = x.astype(np.float32)
    assert single.value.dtype == np.float32 and single.tangent.dtype == np.float32
    assert x.astype(complex).tangent.dtype == np.complex128
    with pytest.raises(TypeError, match="tangent"):
        x.astype(int)
    with pytest.raises(TypeError, match="tangent"):
        x.astype(bool)
    with pytest.raises(TypeError, match="cast"):
        x.astype(np.float32, casting="safe")
    assert type(Dual(2.0, 1.0).astype(np.float64).value) is float


# --- methods agree with functions -------------------------------------------------------------

METHODS = [
    ("copy", (), np.copy),
    ("flatten", (), np.ravel),
    ("max", (), np.max),
    ("min", (1,), lambda x: np.min(x, axis=1)),
    ("clip", (-1.0, 1.0), lambda x: np.clip(x, -1.0, 1.0)),
    ("prod", (0,), lambda x: np.prod(x, axis=0)),
    ("cumsum", (1,), lambda x: np.cumsum(x, axis=1)),
    ("std", (), np.std),
    ("var", (0,), lambda x: np.var(x, axis=0)),
    ("argmax", (1,), lambda x: np.argmax(x, axis=1)),
    ("argmin", (), np.argmin),
    ("argsort", (), np.argsort),
    ("squeeze", (), np.squeeze),
    ("swapaxes", (0, 1), lambda x: np.swapaxes(x, 0, 1)),
    ("take", ([0, 4],), lambda x: np.take(x, [0, 4])),
    ("compress", ([True, False],), lambda x: np.compress([True, False], x)),
    ("repeat", (2,), lambda x: np.repeat(x, 2)),
    ("diagonal", (), np.diagonal),
    ("trace", (), np.trace),
    ("conj", (), np.conjugate),
    ("conjugate", (), np.conjugate),
]


def outcome(call):
    """What a call gives: ("ok", value, tangent) or ("raises", type, message)."""
    try:
        result = call()
    except TypeError as error:
        return ("raises", type(error), str(error))
    if type(result) is Dual:
        return ("ok", result.value, result.tangent)
    return ("ok", result, None)


@pytest.mark.parametrize(("name", "args", "function"), METHODS, ids=[m[0] for m in METHODS])
@pytest.mark.parametrize("batch", [(), (K,)], ids=["single", "batched"])
def test_methods_agree_with_functions(name, args, function, batch, rng):
    x = Dual(A, rng.standard_normal(batch + A.shape))
    by_method, by_function = outcome(lambda: getattr(x, name)(*args)), outcome(lambda: function(x))
    assert by_method[0] == by_function[0]
    if by_method[0] == "raises":  # a function another module has not registered (yet)
        assert by_method[1:] == by_function[1:]
        assert "no derivative rule" in by_method[2]
        return
    for a, b in zip(by_method[1:], by_function[1:], strict=True):
        np.testing.assert_array_equal(a, b)


def test_flatten_and_copy_are_independent(rng):
    x = Dual(A.copy(), rng.standard_normal(A.shape))
    flat, copied = x.flatten(), x.copy()
    flat[0] = 100.0
    copied[0, 0] = 100.0
    assert x.value[0, 0] == 1.0


def test_conversions_to_python_objects_raise():
    x = Dual(A, np.ones_like(A))
    with pytest.raises(TypeError, match="tangent"):
        x.tolist()
    with pytest.raises(TypeError, match="tangent"):
        x.item()
    with pytest.raises(TypeError, match="tangent"):
        Dual(1.0, 1.0).item()


# --- ravel and reshape in the value's memory order ('K', 'A') ---------------------------------


def layouts(rng, count=300):
    """Arrays with permuted, reversed, sliced, Fortran and broadcast axes."""
    for _ in range(count):
        ndim = int(rng.integers(0, 5))
        shape = tuple(int(n) for n in rng.integers(1, 4, size=ndim))
        a = rng.standard_normal(tuple(2 * n for n in shape))
        a = a[tuple(slice(None, None, int(rng.choice([1, 2, -1, -2]))) for _ in range(ndim))]
        a = a[tuple(slice(0, n) for n in shape)]
        if ndim:
            a = a.transpose(rng.permutation(ndim))
            if rng.random() < 0.3:
                a = np.asfortranarray(a)
            if rng.random() < 0.3:
                axis = int(rng.integers(ndim))
                b = np.take(a, [0], axis=axis)
                a = np.broadcast_to(b, (*b.shape[:axis], 3, *b.shape[axis + 1:]))
        yield a


@pytest.mark.parametrize("order", ["C", "F", "A", "K"])
def test_ravel_reads_value_and_tangent_in_the_values_order(order):
    rng = np.random.default_rng(11)
    for given in layouts(rng):
        a = given
        # The tangent of each element is its C-order label: the result says which element
        # each position holds, whatever the tangent's own (C) layout.
        labels = np.arange(a.size, dtype=float).reshape(a.shape)
        if a.ndim and a.flags.writeable:  # keep the value's own layout (Dual() would copy it)
            x = memory.make(a, memory.copy_laid_out(labels, a), 0)
        else:  # a broadcast input: Dual() copies it, and 'K' and 'A' read the copy's layout
            x = Dual(a, labels)
            a = np.asarray(x.value)
        flat = np.ravel(x, order)
        np.testing.assert_array_equal(flat.value, np.ravel(a, order))
        picked = np.ravel(a)[flat.tangent.astype(int)] if a.ndim else a.ravel()
        np.testing.assert_array_equal(picked, np.ravel(a, order))
        both = np.stack([x.tangent, -x.tangent])
        batched = np.ravel(memory.make(x.value, memory.copy_laid_out(both, x.value), 0), order)
        np.testing.assert_array_equal(batched.tangent, np.stack([flat.tangent, -flat.tangent]))
        np.testing.assert_array_equal(x.flatten(order).tangent, flat.tangent)
        assert np.shares_memory(flat.value, x.value) == np.shares_memory(flat.tangent, x.tangent)


def test_ravel_k_of_a_transposed_value_with_a_c_ordered_tangent():
    a = np.arange(6.0).reshape(2, 3)
    x = Dual(a.T, np.arange(6.0).reshape(3, 2) * 10)  # value in F order, tangent in C order
    flat = np.ravel(x, "K")
    np.testing.assert_array_equal(flat.value, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(flat.tangent, [0.0, 20.0, 40.0, 10.0, 30.0, 50.0])


def test_ravel_k_of_nested_duals():
    a = np.arange(6.0).reshape(2, 3).T
    inner = Dual(a, a * 10, tag=new_tag())
    outer = Dual(inner, Dual(a * 100, a * 1000, tag=inner.tag), tag=new_tag())
    flat = np.ravel(outer, "K")
    np.testing.assert_array_equal(flat.value.value, np.ravel(a, "K"))
    np.testing.assert_array_equal(flat.value.tangent, np.ravel(a, "K") * 10)
    np.testing.assert_array_equal(flat.tangent.value, np.ravel(a, "K") * 100)


def test_reshape_order_a_follows_the_values_layout():
    a = np.asfortranarray(A)
    labels = np.arange(6.0).reshape(2, 3)  # C-ordered tangent
    result = np.reshape(Dual(a, labels), (3, 2), order="A")
    np.testing.assert_array_equal(result.value, np.reshape(a, (3, 2), order="A"))
    np.testing.assert_array_equal(result.tangent, np.reshape(labels, (3, 2), order="F"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        np.reshape(Dual(A), (3, 2), orde="C")


# --- meshgrid --------------------------------------------------------------------------------


@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("copy", [True, False])
def test_meshgrid_matches_numpy_in_every_option(indexing, sparse, copy):
    rng = np.random.default_rng(5)
    xs = (V, A[0], np.array([0.5, 2.0]))
    ts = tangents(rng, *xs)
    grids = np.meshgrid(*(Dual(x, t) for x, t in zip(xs, ts, strict=True)), indexing=indexing,
                        sparse=sparse, copy=copy)
    values = np.meshgrid(*xs, indexing=indexing, sparse=sparse, copy=copy)
    slopes = np.meshgrid(*ts, indexing=indexing, sparse=sparse, copy=copy)
    assert type(grids) is tuple and len(grids) == 3
    for grid, value, slope in zip(grids, values, slopes, strict=True):
        np.testing.assert_array_equal(grid.value, value)
        np.testing.assert_array_equal(grid.tangent, slope)
        if copy:
            assert grid.value.flags.writeable and grid.tangent.flags.writeable
        elif not sparse:  # broadcast views: read-only, value and tangent
            assert not grid.value.flags.writeable and not grid.tangent.flags.writeable

    def f(*arrays):
        return np.meshgrid(*arrays, indexing=indexing, sparse=sparse, copy=copy)

    both_ways(f, xs, rng)


def test_meshgrid_plain_inputs_stay_plain_and_bad_indexing_raises():
    x, y = np.meshgrid(Dual(V), A[0])
    assert type(x) is Dual and type(y) is np.ndarray
    with pytest.raises(ValueError, match="indexing"):
        np.meshgrid(Dual(V), indexing="yx")


# --- plain answers ---------------------------------------------------------------------------


def test_size_searchsorted_and_index_helpers_answer_on_values():
    x = Dual(np.arange(9.0).reshape(3, 3), np.ones((2, 3, 3)))
    assert np.size(x) == 9 and np.size(x, 1) == 3 and type(np.size(x)) is int
    sorted_row = Dual(np.array([0.0, 1.0, 2.5]), np.ones(3))
    assert np.searchsorted(sorted_row, 1.5) == 2
    np.testing.assert_array_equal(np.searchsorted(sorted_row, Dual(np.array([0.5, 3.0])),
                                                  side="right"), [1, 3])
    for helper in (np.diag_indices_from, np.tril_indices_from, np.triu_indices_from):
        for got, want in zip(helper(x), helper(x.value), strict=True):
            np.testing.assert_array_equal(got, want)
