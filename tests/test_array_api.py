"""dualdiff.array_api: the namespace routes through NumPy's dispatch, and the standard's suite.

Each namespace function is held to the NumPy function it calls: on Duals the
same value and tangents, bit for bit (so no second set of rules can hide
there).  The conformance suite (data-apis/array-api-tests, vendored beside the
repository) reruns a fast subset here; the full figure is in
docs/_data/array_api_conformance.json (benchmarks/array_api_conformance.py).
"""

import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

import dualdiff as dd
import dualdiff.array_api as xp
from dualdiff import Dual
from dualdiff.elementary import strip
from dualdiff.memory import tags_in

ROOT = Path(__file__).resolve().parent.parent
X = np.array([0.3, 0.7, 0.45])
T = np.array([1.0, -2.0, 0.5])

# name in the namespace -> the NumPy function it must agree with
UNARY = {
    "abs": np.absolute, "acos": np.arccos, "acosh": None, "asin": np.arcsin, "asinh": np.arcsinh,
    "atan": np.arctan, "atanh": np.arctanh, "ceil": np.ceil, "conj": np.conjugate,
    "cos": np.cos, "cosh": np.cosh, "exp": np.exp, "expm1": np.expm1, "floor": np.floor,
    "log": np.log, "log1p": np.log1p, "log2": np.log2, "log10": np.log10,
    "negative": np.negative, "positive": np.positive, "reciprocal": np.reciprocal,
    "round": np.round, "sign": np.sign, "sin": np.sin, "sinh": np.sinh, "square": np.square,
    "sqrt": np.sqrt, "tan": np.tan, "tanh": np.tanh, "trunc": np.trunc, "real": np.real,
    "sum": np.sum, "prod": np.prod, "mean": np.mean, "std": np.std, "var": np.var,
    "max": np.max, "min": np.min, "cumulative_sum": np.cumulative_sum,
    "cumulative_prod": np.cumulative_prod, "flip": np.flip, "sort": np.sort,
    "diff": np.diff, "fft.fft": np.fft.fft, "fft.rfft": np.fft.rfft, "fft.ifft": np.fft.ifft,
    "linalg.vector_norm": np.linalg.vector_norm, "fft.fftshift": np.fft.fftshift,
}
BINARY = {
    "add": np.add, "atan2": np.arctan2, "copysign": np.copysign, "divide": np.divide,
    "hypot": np.hypot, "logaddexp": np.logaddexp, "maximum": np.maximum,
    "minimum": np.minimum, "multiply": np.multiply, "pow": np.power,
    "subtract": np.subtract, "matmul": np.matmul, "vecdot": np.vecdot,
    "linalg.outer": np.outer,
}


def member(name):
    module, _, attribute = name.rpartition(".")
    return getattr(getattr(xp, module) if module else xp, attribute)


def same(a, b):
    assert type(a) is type(b)
    if type(a) is Dual:
        assert a.tag == b.tag
        same(a.value, b.value)
        same(a.tangent, b.tangent)
    else:
        np.testing.assert_array_equal(a, b, strict=True)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_functions_are_numpys_on_duals(name):
    reference = UNARY[name] or np.arccosh
    x = Dual(X + 1.0 if name == "acosh" else X, T)
    same(member(name)(x), reference(x))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_functions_are_numpys_on_duals(name):
    x, y = Dual(X, T), Dual(X[::-1] + 0.5, T[::-1])
    same(member(name)(x, y), BINARY[name](x, y))


def test_the_namespace_is_the_duals_own():
    x = Dual(X, T)
    assert x.__array_namespace__() is xp
    assert x.__array_namespace__(api_version="2023.12") is xp
    with pytest.raises(ValueError, match=r"2024\.12"):
        x.__array_namespace__(api_version="2099.12")
    assert x.device == "cpu" and x.to_device("cpu") is x
    with pytest.raises(ValueError, match="CPU only"):
        x.to_device("gpu")
    assert x.dtype == xp.float64 and Dual(np.float32(1.0)).dtype == xp.float32
    np.testing.assert_array_equal(xp.stack([x, x]).mT.value, np.stack([X, X]).T)


def test_comparisons_and_predicates_act_on_values():
    x = Dual(X, T)
    for result in (xp.less(x, 0.5), xp.isnan(x), xp.equal(x, x), xp.signbit(-x)):
        assert type(result) is np.ndarray and result.dtype == xp.bool
    np.testing.assert_array_equal(xp.less(x, 0.5), X < 0.5)
    assert type(xp.argmax(x)) is np.ndarray and int(xp.argmax(x)) == 1
    assert bool(xp.all(xp.isfinite(x)))


def test_asarray_joins_duals_and_numbers():
    x = xp.asarray([[Dual(1.0, 1.0), 2.0], [3, Dual(4.0, 0.5)]])
    np.testing.assert_array_equal(x.value, [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x.tangent, [[1.0, 0.0], [0.0, 0.5]])
    with pytest.raises(ValueError, match="copy"):
        xp.asarray([Dual(1.0, 1.0)], copy=False)
    d = Dual(X, T)
    assert xp.asarray(d) is d and xp.asarray(d, copy=True) is not d
    assert xp.asarray(d, dtype=xp.float32).tangent.dtype == np.float32
    np.testing.assert_array_equal(xp.asarray(d, dtype=xp.int64), [0, 0, 0])  # as int(x)


def test_asarray_keeps_nested_derivatives_apart():
    # inner (newer) and outer (older) perturbations in one list: as np.stack nests them
    def outer(a):
        def inner(b):
            joined = xp.asarray([a, b, 2.0])
            same(joined, np.stack([a, b, 2.0]))
            return xp.sum(joined * joined)  # a^2 + b^2 + 4
        return dd.derivative(inner, 3.0) * a  # 2b a = 6a
    assert dd.derivative(outer, 5.0) == 6.0


def test_plain_data_becomes_constants_and_integers_stay_numpy():
    z = xp.zeros((2, 2))
    assert type(z) is Dual and not np.any(z.tangent)
    assert type(xp.arange(3)) is np.ndarray and xp.arange(3).tolist() == [0, 1, 2]
    assert type(xp.ones(2, dtype=xp.bool)) is np.ndarray
    assert xp.full(2, Dual(3.0, 1.0)).tangent.tolist() == [1.0, 1.0]
    assert type(xp.linspace(0.0, 1.0, 3)) is Dual
    assert xp.eye(2).value.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_a_constant_made_inside_a_derivative_takes_that_derivatives_duals():
    # SciPy's rosen_hess fills H = xp.zeros((n, n)) with the Duals of the call
    def f(x):
        h = xp.zeros((2,))
        h[0] = x[0] * x[1]
        h[1] = xp.sin(x[1])
        return h
    _, tangent = dd.jvp(f, (np.array([2.0, 0.5]),), (np.array([1.0, 0.0]),))
    np.testing.assert_allclose(tangent, [0.5, 0.0])
    assert tags_in(xp.zeros(1)) == {0}  # outside any call: the user's tag


def test_descending_sort_is_stable_and_carries_tangents():
    x = Dual(np.array([1.0, 3.0, 1.0]), np.array([10.0, 20.0, 30.0]))
    out = xp.sort(x, descending=True)
    np.testing.assert_array_equal(strip(out), [3.0, 1.0, 1.0])
    np.testing.assert_array_equal(out.tangent, [20.0, 10.0, 30.0])
    np.testing.assert_array_equal(xp.argsort(x, descending=True), [1, 0, 2])


def test_unsupported_functions_raise_dualdiffs_type_error():
    with pytest.raises(TypeError, match=r"no derivative rule for numpy\.unique_values"):
        xp.unique_values(Dual(X, T))
    with pytest.raises(TypeError, match="DLPack"):
        xp.from_dlpack(Dual(X, T))
    np.testing.assert_array_equal(xp.unique_values(np.array([2, 1, 2])), [1, 2])


def test_info_and_dtype_functions():
    info = xp.__array_namespace_info__()
    assert info.default_device() == "cpu" and info.devices() == ["cpu"]
    assert set(info.dtypes(kind="real floating")) == {"float32", "float64"}
    assert xp.isdtype(Dual(X).dtype, "real floating")
    assert xp.result_type(Dual(X), xp.float32) == xp.float64
    assert xp.finfo(Dual(X)).eps == np.finfo(np.float64).eps
    assert not xp.can_cast(xp.float64, xp.int8)


# --- the conformance suite ------------------------------------------------------------------

# Every file of the suite but the three that take 80% of its time (linalg's hypothesis
# matrices, dlpack's, and 621 special cases): about 20 s of the whole run's 150 s
# (docs/_data/array_api_conformance.json has each file's seconds).
SLOW = {"test_linalg.py", "test_dlpack.py", "test_special_cases.py"}


def conformance():
    spec = importlib.util.spec_from_file_location(
        "array_api_conformance", ROOT / "benchmarks" / "array_api_conformance.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("array_api_conformance", module)
    spec.loader.exec_module(module)
    return module


def test_the_conformance_subset_fails_nothing_the_published_figure_passes():
    harness = conformance()
    suite, looked = harness.locate_suite()
    if suite is None:
        pytest.skip(f"the array API test suite is not here (looked for {looked})")
    published = json.loads(harness.RESULTS.read_text())
    with tempfile.TemporaryDirectory() as scratch:
        subset = sorted(f"array_api_tests/{path.name}"
                        for path in (suite / "array_api_tests").glob("test_*.py")
                        if path.name not in SLOW)
        data = harness.run(suite, subset, published["run"]["max_examples"],
                           Path(scratch) / "report.json", timeout=300)
    result = harness.summarize(data)
    assert result["summary"].get("passed", 0) > 0
    new = sorted(set(result["failing"]) - set(published["failing"]))
    assert not new, f"conformance tests that pass in the published run now fail: {new}"
