"""Complex values: the non-holomorphic functions abs, conj, sign, real, imag and angle.

Their tangents are real-linear in dz but not a complex slope times dz; check_jvp compares
them with central differences along each complex direction (the complex-step reference
does not apply to complex inputs).  docs/conventions.md lists the formulas ("Complex
numbers").
"""

import cmath

import numpy as np
import pytest

import dualdiff
from dualdiff import Dual, jvp
from dualdiff.testing import check_jvp

Z = np.array([0.3 + 0.4j, -1.2 + 0.5j, 2.0 - 0.7j, -0.6 - 1.1j])
RNG = np.random.default_rng(3)
DZ = RNG.standard_normal(Z.shape) + 1j * RNG.standard_normal(Z.shape)
BATCH = RNG.standard_normal((3, *Z.shape)) + 1j * RNG.standard_normal((3, *Z.shape))

FUNCTIONS = [
    pytest.param(np.abs, id="abs"),
    pytest.param(abs, id="builtin-abs"),
    pytest.param(np.conj, id="conj"),
    pytest.param(np.sign, id="sign"),
    pytest.param(np.real, id="real"),
    pytest.param(np.imag, id="imag"),
    pytest.param(np.angle, id="angle"),
    pytest.param(lambda z: np.angle(z, deg=True), id="angle-deg"),
    pytest.param(lambda z: np.abs(np.exp(z)) * np.conj(z * z), id="mixed"),
    pytest.param(lambda z: np.real(z * np.conj(z)) - np.abs(z) ** 2, id="zero"),
]


@pytest.mark.parametrize("f", FUNCTIONS)
def test_arrays_single_and_batched(f):
    [report] = check_jvp(f, (Z,), (DZ,))
    assert report.complex_step is None  # complex input: central differences only
    assert len(check_jvp(f, (Z,), (BATCH,))) == 3


@pytest.mark.parametrize("f", FUNCTIONS)
def test_python_complex_scalars(f):
    for z, dz in zip(Z, DZ, strict=True):
        check_jvp(f, (complex(z),), (complex(dz),))
        check_jvp(f, (complex(z),), (BATCH[:, 0],))


def test_the_formulas():
    z, dz = 3 + 4j, 1 - 2j
    assert jvp(np.abs, (z,), (dz,))[1] == pytest.approx((np.conj(z) * dz).real / 5)
    assert jvp(np.conj, (z,), (dz,))[1] == np.conj(dz)
    assert jvp(np.angle, (z,), (dz,))[1] == pytest.approx((np.conj(z) * dz).imag / 25)
    assert jvp(np.real, (z,), (dz,))[1] == dz.real
    assert jvp(np.imag, (z,), (dz,))[1] == dz.imag
    value, tangent = jvp(np.sign, (z,), (dz,))
    assert value == pytest.approx(z / 5)
    step = 1e-7
    numeric = (np.sign(z + step * dz) - np.sign(z - step * dz)) / (2 * step)
    assert tangent == pytest.approx(numeric, rel=1e-7)


def test_at_zero_the_tangents_are_zero():
    for f in (np.abs, np.sign, np.angle):
        _, tangent = jvp(f, (0j,), (1 + 1j,))
        assert tangent == 0
        _, tangent = jvp(f, (np.zeros(2, complex),), (np.ones((3, 2), complex),))
        np.testing.assert_array_equal(tangent, np.zeros((3, 2)))


def test_real_values_keep_the_real_rules():
    x = np.array([-1.5, 0.0, 2.0])
    assert jvp(np.conj, (2.0,), (1.0,)) == (2.0, 1.0)
    _, tangent = jvp(np.abs, (x,), (np.ones(3),))
    np.testing.assert_array_equal(tangent, [-1.0, 0.0, 1.0])
    _, tangent = jvp(np.angle, (x,), (np.ones(3),))
    np.testing.assert_array_equal(tangent, np.zeros(3))


def test_real_functions_of_a_complex_path():
    # |exp(i t)| == 1 and angle(exp(i t)) == t, through complex intermediates.
    assert dualdiff.derivative(lambda t: np.abs(np.exp(1j * t)), 0.7) == pytest.approx(0, abs=1e-15)
    assert dualdiff.derivative(lambda t: np.angle(np.exp(1j * t)), 0.7) == pytest.approx(1.0)
    assert dualdiff.derivative(lambda t: np.real(cmath.exp(1) * np.exp(1j * t)), 0.0) == (
        pytest.approx(0.0, abs=1e-15)
    )


def test_second_derivatives_through_nested_duals():
    # |x + iy| and its Hessian (y**2, -xy; -xy, x**2) / r**3 at (3, 4)
    hessian = dualdiff.hessian(lambda v: np.abs(v[0] + 1j * v[1]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(hessian, np.array([[16.0, -12.0], [-12.0, 9.0]]) / 125)
    hessian = dualdiff.hessian(lambda v: np.angle(v[0] + 1j * v[1]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(hessian, np.array([[24.0, 7.0], [7.0, -24.0]]) / 625)
    # Re(sign(z)) == x / r: (-3xy**2 / r**5, 2y / r**3 - 3y**3 / r**5; ., -x / r**3 + 3xy**2 / r**5)
    hessian = dualdiff.hessian(lambda v: np.real(np.sign(v[0] + 1j * v[1])), np.array([3.0, 4.0]))
    np.testing.assert_allclose(hessian, np.array([[-144.0, 8.0], [8.0, 69.0]]) / 3125)


def test_questions_about_complex_values_are_plain():
    z = Dual(Z, DZ)
    x = Dual(np.real(Z), np.ones(4))
    assert np.iscomplexobj(z) is True and np.isrealobj(x) is True
    np.testing.assert_array_equal(np.iscomplex(z), [True] * 4)
    np.testing.assert_array_equal(np.isreal(x), [True] * 4)
    assert np.real_if_close(x) is x
    almost_real = Dual(np.array([1.0 + 1e-20j, 2.0]), np.array([1.0 + 1.0j, 2.0]))
    plain = np.real_if_close(almost_real)
    np.testing.assert_array_equal(plain.tangent, [1.0, 2.0])
    assert np.real_if_close(z) is z
