"""Dual's ndarray methods: NumPy's signatures, called positionally and by keyword.

Every public attribute of ``np.ndarray`` is either on ``Dual`` or listed in ``NOT_ON_DUAL``
with the reason.  Each method has the parameters of the ndarray method (names, kinds, order
and defaults), and each call in ``CALLS`` runs twice -- with positional arguments as written
and with the same arguments by keyword -- on a Dual and on its value: the value is NumPy's
(bit for bit, to rounding for reductions), the tangent passes ``check_jvp`` (single and
batched), and index-like results are NumPy's plain results.
"""

import inspect
import math
import operator

import numpy as np
import pytest

from dualdiff import Dual
from dualdiff.testing import check_jvp

RNG = np.random.default_rng(7)
ARRAYS = {
    "matrix": (np.arange(12.0).reshape(3, 4) * 7 % 12) / 5 - 1,  # distinct values
    "sorted": np.array([-1.5, -0.2, 0.4, 1.1, 2.5]),
    "row": (np.arange(12.0).reshape(3, 4) * 7 % 12)[0] / 5 - 1,
    "column": np.array([[0.3], [-1.2], [2.0]]),
    "square": np.array([[1.0, -0.5, 2.0], [0.3, 1.5, -1.2], [0.8, 0.1, 0.6]]),
}
VECTOR4 = np.array([0.5, -1.0, 2.0, 0.25])

# Public ndarray attributes a Dual does not have, and why.
NOT_ON_DUAL = {
    "base": "memory of a single buffer; a Dual holds a value and tangents",
    "ctypes": "memory of a single buffer",
    "data": "memory of a single buffer",
    "flags": "memory of a single buffer",
    "strides": "memory of a single buffer",
    "itemsize": "memory of a single buffer",
    "nbytes": "memory of a single buffer",
    "byteswap": "raw memory",
    "getfield": "raw memory",
    "setfield": "raw memory",
    "setflags": "raw memory",
    "view": "raw memory: a reinterpretation has no tangent",
    "dump": "serialization would drop the tangent",
    "dumps": "serialization would drop the tangent",
    "tobytes": "serialization would drop the tangent",
    "tofile": "serialization would drop the tangent",
    "partition": "in place: use np.partition(x, kth), which returns the partitioned Dual",
    "resize": "in place, changes the size: use np.resize or np.reshape",
}

# ndarray methods whose text signature hides their parameters in **kwargs: the NumPy
# function's signature (less its first argument) is the reference, as ndarray forwards to it.
FROM_FUNCTION = ("sum", "mean", "max", "min", "prod", "std", "var")

# Methods that write in place or refuse (tested elsewhere), so absent from CALLS.
# In place (fill, sort, put: tests/test_memory.py) or refusing (item, tolist, choose).
NOT_CALLED = {"fill", "sort", "put", "item", "tolist", "choose"}

REDUCTIONS = {"sum", "mean", "prod", "std", "var", "cumsum", "cumprod", "trace", "dot"}
PLAIN = {"all", "any", "argmax", "argmin", "argsort", "argpartition", "searchsorted", "nonzero"}

#        method          array     positional arguments, or (args, kwargs)
CALLS = [
    ("sum",          "matrix", ()),
    ("sum",          "matrix", (0,)),
    ("sum",          "matrix", ((0, -1), None, None, True)),
    ("sum",          "matrix", (1, float, None, False, 2.0, ARRAYS["matrix"] > -0.5)),
    ("sum",          "matrix", (-1, np.float64)),
    ("mean",         "matrix", ()),
    ("mean",         "matrix", (1,)),
    ("mean",         "matrix", (0, float, None, True)),
    ("max",          "matrix", ()),
    ("max",          "matrix", (0,)),
    ("max",          "matrix", (-1, None, True)),
    ("min",          "matrix", (1,)),
    ("min",          "matrix", ((0, 1), None, True)),
    ("prod",         "matrix", ()),
    ("prod",         "matrix", (1,)),
    ("prod",         "matrix", (0, None, None, True)),
    ("cumsum",       "matrix", ()),
    ("cumsum",       "matrix", (0,)),
    ("cumsum",       "matrix", (-1, float)),
    ("cumprod",      "matrix", ()),
    ("cumprod",      "matrix", (1,)),
    ("std",          "matrix", ()),
    ("std",          "matrix", (0,)),
    ("std",          "matrix", (1, None, None, 1, True)),
    ("var",          "matrix", (None, None, None, 1)),
    ("var",          "matrix", (-1, None, None, 0, True)),
    ("all",          "matrix", ()),
    ("all",          "matrix", (0,)),
    ("any",          "matrix", (1,)),
    ("any",          "matrix", ((-1,), {"keepdims": True})),
    ("argmax",       "matrix", ()),
    ("argmax",       "matrix", (0,)),
    ("argmin",       "matrix", (-1,)),
    ("argsort",      "matrix", ()),
    ("argsort",      "matrix", (0, "stable")),
    ("argpartition", "matrix", (2,)),
    ("argpartition", "matrix", (1, 0, "introselect")),
    ("searchsorted", "sorted", (0.5,)),
    ("searchsorted", "sorted", ([0.4, -3.0, 9.0], "right")),
    ("searchsorted", "row",    ([0.1, 0.9], "left", np.argsort(ARRAYS["matrix"][0]))),
    ("nonzero",      "matrix", ()),
    ("round",        "matrix", ()),
    ("round",        "matrix", (1,)),
    ("dot",          "matrix", (VECTOR4,)),
    ("dot",          "matrix", (ARRAYS["matrix"].T,)),
    ("reshape",      "matrix", (6, 2)),
    ("reshape",      "matrix", ((2, 6),)),
    ("reshape",      "matrix", (-1,)),
    ("reshape",      "matrix", (((4, 3),), {"order": "F"})),
    ("reshape",      "matrix", ((2, -1), {"order": "A", "copy": True})),
    ("ravel",        "matrix", ()),
    ("ravel",        "matrix", ("F",)),
    ("ravel",        "matrix", ("K",)),
    ("ravel",        "matrix", ("A",)),
    ("flatten",      "matrix", ()),
    ("flatten",      "matrix", ("F",)),
    ("flatten",      "matrix", ("K",)),
    ("to_device",    "matrix", ("cpu",)),
    ("transpose",    "matrix", ()),
    ("transpose",    "matrix", (1, 0)),
    ("transpose",    "matrix", ((1, 0),)),
    ("transpose",    "matrix", (np.array([1, 0]),)),
    ("transpose",    "matrix", (None,)),
    ("squeeze",      "column", ()),
    ("squeeze",      "column", (1,)),
    ("squeeze",      "column", ((-1,),)),
    ("swapaxes",     "matrix", (0, 1)),
    ("swapaxes",     "matrix", (-1, 0)),
    ("take",         "matrix", ([2, 0],)),
    ("take",         "matrix", ([1, 1], 1)),
    ("take",         "matrix", ([0, 7], -1, None, "clip")),
    ("compress",     "matrix", ([True, False, True],)),
    ("compress",     "matrix", ([True, False, True, True], 1)),
    ("repeat",       "matrix", (2,)),
    ("repeat",       "matrix", ([1, 0, 2], 0)),
    ("diagonal",     "matrix", ()),
    ("diagonal",     "matrix", (1,)),
    ("diagonal",     "matrix", (-1, 1, 0)),
    ("trace",        "square", ()),
    ("trace",        "matrix", (1,)),
    ("trace",        "matrix", (0, 1, 0, float)),
    ("clip",         "matrix", (-0.5, 0.5)),
    ("clip",         "matrix", (None, 0.3)),
    ("conj",         "matrix", ()),
    ("conjugate",    "matrix", ()),
    ("astype",       "matrix", (np.float64,)),
    ("astype",       "matrix", (np.float64, "K", "same_kind", True, True)),
    ("copy",         "matrix", ()),
    ("copy",         "matrix", ("F",)),
]  # fmt: skip


def public(cls):
    return {name for name in dir(cls) if not name.startswith("_")}


def reference_signature(name):
    """NumPy's signature of ``ndarray.<name>``, its ``self`` left out."""
    if name in FROM_FUNCTION:
        parameters = list(inspect.signature(getattr(np, name)).parameters.values())
    else:
        parameters = list(inspect.signature(getattr(np.ndarray, name)).parameters.values())
    return parameters[1:]


def methods():
    return sorted(name for name in public(np.ndarray) & public(Dual)
                  if callable(getattr(np.ndarray, name)) and not isinstance(
                      getattr(np.ndarray, name), property | type))


def split(call):
    if len(call) == 2 and isinstance(call[0], tuple) and isinstance(call[1], dict):
        return call
    return call, {}


def by_keyword(name, args, kwargs):
    """The same call with every positional-or-keyword argument passed by name."""
    parameters = inspect.signature(getattr(Dual, name)).parameters.values()
    positional, keywords = [], dict(kwargs)
    slots = [p for p in parameters if p.name != "self"]
    for value, parameter in zip(args, slots, strict=False):
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            keywords[parameter.name] = value
        else:
            positional.append(value)
    if len(args) > len(slots) or any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in slots):
        return args, kwargs  # reshape(*shape) and transpose(*axes) take positions only
    return tuple(positional), keywords


def call_ids():
    return [f"{name}-{i}" for i, (name, _, _) in enumerate(CALLS)]


# --- the inventory ---------------------------------------------------------------------------


def test_every_ndarray_attribute_is_on_dual_or_explained():
    missing = public(np.ndarray) - public(Dual) - set(NOT_ON_DUAL)
    assert not missing, f"ndarray attributes neither on Dual nor in NOT_ON_DUAL: {missing}"
    stale = set(NOT_ON_DUAL) & public(Dual)
    assert not stale, f"listed as missing but present: {stale}"
    assert set(NOT_ON_DUAL) <= public(np.ndarray)


def test_ptp_is_not_a_method_as_in_numpy_2():
    assert not hasattr(np.ndarray, "ptp") and not hasattr(Dual, "ptp")


@pytest.mark.parametrize("name", methods())
def test_signatures_are_numpys(name):
    ours = list(inspect.signature(getattr(Dual, name)).parameters.values())[1:]
    theirs = reference_signature(name)
    assert [(p.name, p.kind) for p in ours] == [(p.name, p.kind) for p in theirs]
    for mine, numpys in zip(ours, theirs, strict=True):
        if numpys.default is not np._NoValue and numpys.default is not inspect.Parameter.empty:
            assert mine.default == numpys.default, (name, mine.name)


def test_every_method_is_called():
    called = {name for name, _, _ in CALLS}
    assert set(methods()) - NOT_CALLED == called


# --- the calls -------------------------------------------------------------------------------


def holds_dual(x):
    if isinstance(x, tuple | list):
        return any(holds_dual(item) for item in x)
    return isinstance(x, Dual)


@pytest.mark.parametrize("style", ["positional", "keyword"])
@pytest.mark.parametrize(("name", "key", "call"), CALLS, ids=call_ids())
def test_value_is_numpys(name, key, call, style):
    array = ARRAYS[key]
    args, kwargs = split(call)
    if style == "keyword":
        args, kwargs = by_keyword(name, args, kwargs)
    expected = getattr(array, name)(*args, **kwargs)
    result = getattr(Dual(array, RNG.standard_normal(array.shape)), name)(*args, **kwargs)
    if name in PLAIN:
        assert not holds_dual(result)
        assert type(result) is type(expected)
        np.testing.assert_equal(result, expected)
        return
    assert type(result) is Dual
    value = np.asarray(result.value)
    assert value.shape == np.shape(expected) and value.dtype == np.asarray(expected).dtype
    if name in REDUCTIONS:
        np.testing.assert_allclose(value, expected, rtol=1e-14, atol=1e-15)
    else:
        np.testing.assert_array_equal(value, expected)


@pytest.mark.parametrize("style", ["positional", "keyword"])
@pytest.mark.parametrize(("name", "key", "call"), [c for c in CALLS if c[0] not in PLAIN],
                         ids=[i for i, c in zip(call_ids(), CALLS, strict=True)
                              if c[0] not in PLAIN])
def test_tangent_passes_check_jvp(name, key, call, style):
    array = ARRAYS[key]
    args, kwargs = split(call)
    if style == "keyword":
        args, kwargs = by_keyword(name, args, kwargs)

    def f(x):
        return getattr(x, name)(*args, **kwargs)

    check_jvp(f, (array,), (RNG.standard_normal(array.shape),))
    reports = check_jvp(f, (array,), (RNG.standard_normal((2, *array.shape)),))
    assert len(reports) == 2


def test_sum_dtype_float_and_positional_arguments():
    x = Dual(ARRAYS["matrix"], np.ones((3, 4)))
    total = x.sum(dtype=float)
    assert total.value == ARRAYS["matrix"].sum(dtype=float) and total.tangent == 12.0
    kept = x.sum(1, float, None, True)
    np.testing.assert_array_equal(kept.tangent, np.full((3, 1), 4.0))


def test_max_and_min_take_a_positional_axis():
    x = Dual(ARRAYS["matrix"], np.eye(3, 4))
    np.testing.assert_array_equal(x.max(0).value, ARRAYS["matrix"].max(0))
    np.testing.assert_array_equal(x.min(1, None, True).value, ARRAYS["matrix"].min(1, None, True))


def test_reshape_and_flatten_orders():
    a = ARRAYS["matrix"]
    x = Dual(a, a * 10)
    for order in "CFA":
        np.testing.assert_array_equal(x.reshape(4, 3, order=order).tangent,
                                      (a * 10).reshape(4, 3, order=order))
    for order in "CFAK":
        np.testing.assert_array_equal(x.flatten(order).tangent, (a * 10).flatten(order))
        np.testing.assert_array_equal(x.T.ravel(order).tangent, (a * 10).T.ravel(order))
    with pytest.raises(TypeError, match="reshape"):
        x.reshape()


def test_out_is_passed_on_and_refused_there():
    x = Dual(ARRAYS["matrix"], np.ones((3, 4)))
    for call in (lambda: x.sum(0, None, np.empty(4)), lambda: x.mean(out=np.empty(())),
                 lambda: x.cumprod(0, None, np.empty((3, 4))),
                 lambda: x.dot(VECTOR4, np.empty(3))):
        with pytest.raises(TypeError, match="out"):
            call()


def test_choose_on_a_dual_index_array_raises_clearly():
    with pytest.raises(TypeError, match="index array must be plain"):
        Dual(np.array([0.0, 1.0]), np.ones(2)).choose([np.zeros(2), np.ones(2)])


def test_round_method_is_numpys_and_the_builtin_gives_plain_numbers():
    x = Dual(np.array([1.26, -2.71]), np.ones(2))
    rounded = x.round(1)
    assert type(rounded) is Dual
    np.testing.assert_array_equal(rounded.value, [1.3, -2.7])
    np.testing.assert_array_equal(rounded.tangent, 0.0)
    assert type(round(x[0])) is int


def test_mt_is_the_matrix_transpose():
    cube = np.arange(24.0).reshape(2, 3, 4)
    x = Dual(cube, -cube)
    np.testing.assert_array_equal(x.mT.value, cube.mT)
    np.testing.assert_array_equal(x.mT.tangent, -cube.mT)


# --- conversions to Python integers ----------------------------------------------------------


@pytest.mark.parametrize("value", [2.7, -2.7, 0.0, -0.5, 1e15 + 0.5, np.float32(-3.9)])
def test_int_truncates_like_math_trunc(value):
    x = Dual(value, 1.0)
    assert int(x) == math.trunc(x) == int(value)
    assert type(int(x)) is int and type(math.trunc(x)) is int


def test_int_of_an_array_dual_follows_numpy():
    with pytest.raises(TypeError):
        int(Dual(np.array([1.5, 2.5]), np.ones(2)))
    assert int(Dual(np.array(2.5), 1.0)) == 2


@pytest.mark.parametrize(
    "use",
    [
        pytest.param(operator.index, id="operator.index"),
        pytest.param(range, id="range"),
        pytest.param(lambda d: [1, 2, 3][d], id="list-index"),
        pytest.param(np.zeros, id="np.zeros-shape"),
        pytest.param(hex, id="hex"),
    ],
)
def test_a_dual_is_not_an_index(use):
    with pytest.raises(TypeError, match=r"index|integer"):
        use(Dual(2.0, 1.0))
