"""Linear algebra, products and FFTs beyond what the registry loop sees.

tests/test_functions.py checks every registered example against central differences.  Here:
closed forms, stacks of matrices, the conventions of docs/conventions.md ("Linear algebra"),
errors for unsupported arguments, and einsum over many subscript patterns.
"""

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dualdiff import Dual, gradient, hessian, jacobian, jvp
from dualdiff.testing import check_jvp

SPD = np.array([[1.3, 0.2, -0.1], [0.2, 1.1, 0.3], [-0.1, 0.3, 0.9]])
TALL = np.array([[1.0, 0.3, -0.5], [0.2, -1.1, 0.4], [0.7, 0.5, 0.9], [-0.3, 0.8, 0.1]])


def tangent(f, x, dx):
    return jvp(f, (x,), (dx,))[1]


def spd_stack(rng, shape, n):
    a = rng.standard_normal((*shape, n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def lower_symmetrized(d):
    """The symmetric matrix NumPy sees when it reads the lower triangle of d."""
    low = np.tril(d)
    return low + np.swapaxes(np.tril(d, -1), -1, -2)


def assert_close(actual, expected, rtol=1e-10, atol=1e-12):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# --- closed forms ---------------------------------------------------------------------------------


def test_det_is_det_times_trace_of_inverse_times_change(rng):
    a, da = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    expected = np.linalg.det(a) * np.trace(np.linalg.solve(a, da))
    assert_close(tangent(np.linalg.det, a, da), expected)
    assert_close(tangent(np.linalg.inv, a, da), -np.linalg.inv(a) @ da @ np.linalg.inv(a))


def test_hessian_of_log_det(rng):
    # d2 log det(A)[E, F] = -tr(A^-1 E A^-1 F)
    a = spd_stack(rng, (), 3)
    inverse = np.linalg.inv(a)
    expected = -np.einsum("jk,li->ijkl", inverse, inverse).reshape(9, 9)
    for log_det in (lambda x: np.linalg.slogdet(np.reshape(x, (3, 3)))[1],
                    lambda x: np.log(np.linalg.det(np.reshape(x, (3, 3))))):
        assert_close(hessian(log_det, a.ravel()), expected, rtol=1e-9)
        assert_close(gradient(log_det, a.ravel()), inverse.T.ravel())


def test_det_at_singular_matrices_uses_the_adjugate(rng):
    # These singular matrices have small dyadic entries, so every step of LU (any pivot order,
    # with or without FMA) is exact and det is exactly 0 on any BLAS: the adjugate path is taken.
    a = np.array([[1.0, 2.0], [2.0, 4.0]])  # rank 1: adj(A) = [[4, -2], [-2, 1]]
    assert np.linalg.det(a) == 0
    da = rng.standard_normal((2, 2))
    assert_close(tangent(np.linalg.det, a, da), np.trace(np.array([[4.0, -2], [-2, 1]]) @ da))
    rank_two = np.outer([1.0, 2, 0], [0.5, 1, 3]) + np.outer([0.0, 1, 1], [1.0, 0, 2])
    rank_one = np.outer([1.0, 2, 0.5], [0.5, 1, 3])
    for singular in (rank_two, rank_one, np.zeros((3, 3))):
        assert np.linalg.det(singular) == 0
        check_jvp(np.linalg.det, (singular,), (rng.standard_normal((2, 3, 3)),))

        direction = rng.standard_normal((3, 3))

        def directional(x, e=direction):
            return jvp(np.linalg.det, (x,), (e,))[1]

        # second order at the singular point: the adjugate's minors are differentiated too
        check_jvp(directional, (singular,), (rng.standard_normal((3, 3)),), complex_step=False)
    assert tangent(np.linalg.det, rank_one, rng.standard_normal((3, 3))) == 0  # adj(A) = 0
    stack = np.stack([rank_two, SPD])  # one singular matrix switches the stack to the adjugate
    check_jvp(np.linalg.det, (stack,), (rng.standard_normal((2, 2, 3, 3)),))


def test_slogdet_sign_is_plain_and_log_slope_is_the_trace(rng):
    a, da = -SPD, rng.standard_normal((3, 3))
    sign, logabsdet = np.linalg.slogdet(Dual(a, da))
    assert type(sign) is not Dual and sign == -1.0
    assert_close(logabsdet.tangent, np.trace(np.linalg.solve(a, da)))
    out, slope = jvp(np.linalg.slogdet, (a,), (da,))
    assert type(out).__name__ == "SlogdetResult" and np.all(slope.sign == 0)
    with np.errstate(all="raise"):
        sign, logabsdet = np.linalg.slogdet(Dual(np.array([[1.0, 2.0], [2.0, 4.0]]), da[:2, :2]))
    assert sign == 0 and logabsdet.value == -np.inf
    assert not np.isfinite(logabsdet.tangent)  # tr(adj(A) dA) / 0


def test_cond_is_the_ratio_of_extreme_singular_values(rng):
    a, da = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    u, s, vh = np.linalg.svd(a)
    ds = np.einsum("ai,ab,ib->i", u, da, vh)
    assert_close(tangent(np.linalg.cond, a, da), ds[0] / s[-1] - s[0] * ds[-1] / s[-1] ** 2)


# --- stacks of matrices ---------------------------------------------------------------------------

STACKED = {
    "inv": np.linalg.inv,
    "det": np.linalg.det,
    "slogdet": lambda a: np.linalg.slogdet(a)[1],
    "pinv": np.linalg.pinv,
    "solve": lambda a: np.linalg.solve(a, np.arange(3.0)),
    "solve-matrix": lambda a: np.linalg.solve(a, a[..., :2] * 2),
    "matrix_power": lambda a: np.linalg.matrix_power(a, -3),
    "cholesky": np.linalg.cholesky,
    "qr": lambda a: tuple(np.linalg.qr(a[..., :2])),
    "eigh": lambda a: tuple(np.linalg.eigh(a)),
    "eigvalsh": np.linalg.eigvalsh,
    "eigvals": np.linalg.eigvals,
    "svd": lambda a: tuple(np.linalg.svd(a[..., :2, :], full_matrices=False)),
    "svdvals": np.linalg.svdvals,
    "norm-nuc": lambda a: np.linalg.norm(a, "nuc", axis=(-2, -1)),
    "norm-2": lambda a: np.linalg.norm(a, 2, axis=(-1, -2), keepdims=True),
    "matrix_norm": lambda a: np.linalg.matrix_norm(a, ord=np.inf),
    "cond": np.linalg.cond,
}


@pytest.mark.parametrize("name", list(STACKED))
def test_a_stack_is_each_matrix_alone(name, rng):
    f = STACKED[name]
    a = spd_stack(rng, (2, 2), 3)
    a[..., 0, 1] += 0.1  # not symmetric: eigh and cholesky read the lower triangle
    directions = rng.standard_normal((3, 2, 2, 3, 3))
    _, batched = jvp(f, (a,), (directions,))
    batched = batched if isinstance(batched, tuple) else (batched,)
    for i in range(2):
        for j in range(2):
            _, alone = jvp(f, (a[i, j],), (directions[:, i, j],))
            alone = alone if isinstance(alone, tuple) else (alone,)
            for stacked, single in zip(batched, alone, strict=True):
                assert_close(np.asarray(stacked)[:, i, j], single, rtol=1e-9, atol=1e-10)
    check_jvp(f, (a,), (directions[:2],))


def test_lower_rank_operands_meet_stacks(rng):
    # the live operand has fewer loop axes than the constant one, with a batch of directions
    stack, vector = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), rng.standard_normal(3)
    cases = [
        (lambda b: np.linalg.solve(stack, b), vector),
        (lambda a: np.linalg.solve(a, stack), stack[0]),
        (lambda b: np.vecdot(b, stack), vector),
        (lambda b: np.matvec(stack, b), vector),
        (lambda b: np.vecmat(b, stack), vector),
        (lambda b: np.cross(b, stack), vector),
        (lambda b: np.cross(stack, b, axisa=1, axisc=0), vector),
        (lambda b: np.matmul(b, stack), vector),
    ]
    for f, x in cases:
        check_jvp(f, (x,), (rng.standard_normal((4, *x.shape)),))


# --- decompositions: identities, signs and ordering -----------------------------------------------


def test_eigh_rebuilds_the_matrix_it_reads(rng):
    a, da = SPD + np.triu(rng.standard_normal((3, 3)), 1), rng.standard_normal((3, 3))
    (w, v), (dw, dv) = jvp(np.linalg.eigh, (a,), (da,))
    assert np.all(np.diff(w) > 0)  # ascending, as NumPy
    rebuilt = dv @ np.diag(w) @ v.T + v @ np.diag(dw) @ v.T + v @ np.diag(w) @ dv.T
    assert_close(rebuilt, lower_symmetrized(da))
    assert_close(v.T @ dv, -(v.T @ dv).T)  # columns stay orthonormal
    upper_only = np.triu(da, 1)
    assert np.all(tangent(np.linalg.eigvalsh, a, upper_only) == 0)  # UPLO='L' ignores it
    assert np.any(tangent(lambda x: np.linalg.eigvalsh(x, UPLO="U"), a, upper_only) != 0)
    assert_close(tangent(np.linalg.eigvalsh, a, da), dw)


def test_svd_rebuilds_the_matrix(rng):
    for a in (TALL, TALL.T):
        da = rng.standard_normal(a.shape)
        (u, s, vh), (du, ds, dvh) = jvp(lambda x: np.linalg.svd(x, full_matrices=False),
                                        (a,), (da,))
        assert np.all(np.diff(s) < 0)  # descending, as NumPy
        rebuilt = du @ np.diag(s) @ vh + u @ np.diag(ds) @ vh + u @ np.diag(s) @ dvh
        assert_close(rebuilt, da)
        assert_close(u.T @ du, -(u.T @ du).T)
        assert_close(vh @ dvh.T, -(vh @ dvh.T).T)
        assert_close(tangent(np.linalg.svdvals, a, da), ds)
        assert_close(tangent(lambda x: np.linalg.svd(x, compute_uv=False), a, da), ds)


def test_qr_rebuilds_the_matrix(rng):
    for a in (TALL, TALL.T, SPD):
        da = rng.standard_normal(a.shape)
        (q, r), (dq, dr) = jvp(np.linalg.qr, (a,), (da,))
        assert_close(dq @ r + q @ dr, da)
        assert_close(np.tril(dr, -1), 0 * dr)  # R stays upper triangular
        assert_close(q.T @ dq, -(q.T @ dq).T)
        assert_close(tangent(lambda x: np.linalg.qr(x, mode="r"), a, da), dr)


def test_cholesky_rebuilds_the_matrix_it_reads(rng):
    da = rng.standard_normal((3, 3))
    low, dlow = jvp(np.linalg.cholesky, (SPD,), (da,))
    assert_close(dlow @ low.T + low @ dlow.T, lower_symmetrized(da))
    assert_close(np.triu(dlow, 1), 0 * dlow)
    up, dup = jvp(lambda x: np.linalg.cholesky(x, upper=True), (SPD,), (da.T,))
    assert_close(up, low.T)
    assert_close(dup, dlow.T)  # the upper triangle of da.T is the lower triangle of da


def test_eig_rebuilds_the_matrix_with_unit_eigenvectors(rng):
    a = np.array([[2.0, 0.3, -0.1], [0.1, 1.0, 0.4], [0.05, -0.2, -0.5]])
    da = rng.standard_normal((3, 3))
    (w, v), (dw, dv) = jvp(np.linalg.eig, (a,), (da,))
    inverse = np.linalg.inv(v)
    rebuilt = dv @ np.diag(w) @ inverse + v @ np.diag(dw) @ inverse
    rebuilt -= v @ np.diag(w) @ inverse @ dv @ inverse
    assert_close(rebuilt, da)
    assert_close(np.sum(v * dv, axis=0), np.zeros(3))
    assert_close(tangent(np.linalg.eigvals, a, da), dw)


def test_eigvals_of_a_real_matrix_with_complex_eigenvalues(rng):
    a = np.array([[0.0, -2.0], [1.0, 0.5]])
    da = rng.standard_normal((3, 2, 2))
    w, dw = jvp(np.linalg.eigvals, (a,), (da,))
    assert np.iscomplexobj(w) and np.iscomplexobj(dw)
    check_jvp(np.linalg.eigvals, (a,), (da,))
    # second order through nested duals
    check_jvp(lambda x: jvp(np.linalg.eigvals, (x,), (da[0],))[1], (a,), (da[1],),
              complex_step=False)


# --- repeated eigenvalues and singular values -----------------------------------------------------


def random_rotation(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def one_sided(f, a, da, h=1e-7):
    """The slope of f along da for t > 0 (one-sided differences, second order)."""
    return (-3 * f(a) + 4 * f(a + h * da) - f(a + 2 * h * da)) / (2 * h)


def symmetric(rng, n):
    d = rng.standard_normal((n, n))
    return d + d.T


def expm_sym(x):
    w, v = np.linalg.eigh(x)
    return v @ (np.exp(w)[..., None] * np.swapaxes(v, -1, -2))


def rebuild_eigh(x):
    w, v = np.linalg.eigh(x)
    return v @ (w[..., None] * np.swapaxes(v, -1, -2))


def rebuild_svd(x):
    u, s, vh = np.linalg.svd(x, full_matrices=False)
    return u @ (s[..., None] * vh)


def polar(x):
    u, _, vh = np.linalg.svd(x, full_matrices=False)
    return u @ vh


@pytest.mark.parametrize("spectrum", [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 3.0],
                                      [-2.0, 5.0, 5.0, 5.0], [2.0, 2.0, -1.0, -1.0]])
def test_eigenvalues_of_a_cluster_are_the_one_sided_slopes(spectrum, rng):
    n = len(spectrum)
    q = random_rotation(rng, n)
    a = q @ np.diag(spectrum) @ q.T
    da = symmetric(rng, n)
    dw, dv = jvp(np.linalg.eigh, (a,), (da,))[1]
    # the sorted eigenvalues of A + t dA, t > 0, move as the eigenvalues of each cluster's block
    assert_close(dw, one_sided(np.linalg.eigvalsh, a, da), rtol=1e-5, atol=1e-6)
    assert_close(tangent(np.linalg.eigvalsh, a, da), dw)
    assert_close(np.sum(dw), np.trace(da))  # symmetric functions stay exact
    # eigenvectors of a repeated eigenvalue are not unique: their tangents are NaN, loudly
    repeated = np.array([spectrum.count(x) > 1 for x in sorted(spectrum)])
    assert np.all(np.isnan(dv[:, repeated])) and np.all(np.isfinite(dv[:, ~repeated]))
    for rebuilt in (expm_sym, rebuild_eigh):  # so is anything built from them
        assert np.all(np.isnan(tangent(rebuilt, a, da)))


def test_eigenvalue_clusters_in_stacks_and_batches(rng):
    a = np.stack([np.eye(3), np.diag([1.0, 2.0, 3.0]), np.diag([4.0, 4.0, 0.5])])
    da = np.stack([np.stack([symmetric(rng, 3) for _ in range(3)]) for _ in range(2)])
    _, dw = jvp(np.linalg.eigvalsh, (a,), (da,))
    for k in range(2):
        assert_close(dw[k], one_sided(np.linalg.eigvalsh, a, da[k]), rtol=1e-5, atol=1e-6)
    single = jvp(np.linalg.eigvalsh, (a.astype(np.float32),), (da.astype(np.float32),))[1]
    assert single.dtype == np.float32  # a cluster's slopes keep float32
    assert_close(single, dw, rtol=1e-5, atol=1e-5)


def test_eig_at_a_repeated_eigenvalue(rng):
    a, da = np.diag([1.0, 1.0, 2.0]), rng.standard_normal((3, 3))
    (_, v), (dw, dv) = jvp(np.linalg.eig, (a,), (da,))
    inverse = np.linalg.inv(v)
    assert_close(dw, np.diag(inverse @ da @ v))  # linear; the cluster's sum is exact
    assert np.all(np.isnan(dv[:, :2])) and np.all(np.isfinite(dv[:, 2]))
    assert np.all(np.isnan(tangent(lambda x: np.linalg.eig(x)[1], np.eye(2), da[:2, :2])))


def test_the_cluster_threshold_is_sqrt_eps_relative(rng):
    # gaps above sqrt(eps) * max|w| are resolved (every tangent accurate to about sqrt(eps)),
    # gaps below it are a cluster: NaN eigenvectors, and the block's slopes for the eigenvalues
    da = symmetric(rng, 3)
    threshold = np.sqrt(np.finfo(float).eps) * 3.0
    for gap, resolved in ((1e-3, True), (2 * threshold, True), (0.5 * threshold, False),
                          (1e-12, False), (0.0, False)):
        a = np.diag([1.0, 1.0 + gap, 3.0])
        dw, dv = jvp(np.linalg.eigh, (a,), (da,))[1]
        assert np.all(np.isfinite(dv)) == resolved
        assert np.all(np.isnan(dv[:, :2])) != resolved and np.all(np.isfinite(dv[:, 2]))
        block = np.linalg.eigvalsh(da[:2, :2])
        assert_close(dw[:2], np.diag(da)[:2] if resolved else block)
    a = np.diag([1.0, 1.0 + 1e-4, 3.0])  # close but distinct: every tangent is exact
    check_jvp(expm_sym, (a,), (da,))
    check_jvp(rebuild_eigh, (a,), (da,))


def test_numerically_repeated_eigenvalues_from_rounding_form_a_cluster(rng):
    # Q I Q^T is I to rounding, but LAPACK's eigenvalues spread by a few n * eps, which
    # NumPy's rank tolerance n * eps * max|w| does not always cover; sqrt(eps) does.
    for n in (2, 3, 6):
        for _ in range(20):
            q = random_rotation(rng, n)
            dv = jvp(np.linalg.eigh, (q @ q.T,), (symmetric(rng, n),))[1][1]
            assert np.all(np.isnan(dv))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 5))
def test_reconstructions_at_distinct_values_match_central_differences(seed, n):
    rng = np.random.default_rng(seed)
    a, da = symmetric(rng, n), rng.standard_normal((2, n, n))
    check_jvp(rebuild_eigh, (a,), (da,), rtol=1e-6)  # eigh reads the lower triangle only
    check_jvp(expm_sym, (a / n,), (da,), rtol=1e-6)
    g = rng.standard_normal((n + 1, n))
    for x in (g, g.T):
        check_jvp(rebuild_svd, (x,), (rng.standard_normal((2, *x.shape)),), rtol=1e-6)
        check_jvp(polar, (x,), (rng.standard_normal((2, *x.shape)),), rtol=1e-6)


def test_repeated_and_zero_singular_values(rng):
    q = random_rotation(rng, 3)
    a, da = 2 * q, rng.standard_normal((3, 3))  # every singular value is 2
    nuclear = lambda x: np.linalg.norm(x, "nuc")  # noqa: E731
    assert_close(tangent(nuclear, a, da), np.trace(q.T @ da))
    du, ds, dvh = jvp(np.linalg.svd, (a,), (da,))[1]
    assert np.all(np.isnan(du)) and np.all(np.isnan(dvh))  # singular vectors are not unique
    assert_close(ds, one_sided(np.linalg.svdvals, a, da), rtol=1e-5, atol=1e-6)
    assert_close(tangent(np.linalg.svdvals, a, da), ds)
    two = lambda x: np.linalg.norm(x, 2)  # noqa: E731
    assert_close(tangent(two, a, da), one_sided(two, a, da), rtol=1e-5, atol=1e-6)
    for f in (rebuild_svd, polar):  # U S Vh at I was off by 1, the polar factor U Vh gave 0
        assert np.all(np.isnan(tangent(f, np.eye(3), da)))
    rank_one = np.outer([1.0, 2.0, -1.0], [0.5, 0.5, 2.0])
    ds = tangent(np.linalg.svdvals, rank_one, da)
    assert ds[1] == 0 and ds[2] == 0 and ds[0] != 0  # a zero singular value is a kink: slope 0
    du = jvp(lambda x: np.linalg.svd(x)[0], (rank_one,), (da,))[1]
    assert np.all(np.isnan(du[:, 1:])) and np.all(np.isfinite(du[:, 0]))
    for order in ("nuc", 2, -2, "fro", 1, np.inf):
        assert np.all(tangent(lambda x, o=order: np.linalg.norm(x, o), np.zeros((3, 3)), da) == 0)


# --- norms ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", [None, 1, 2, 3, 0.5, -1.5, np.inf, -np.inf, 0])
def test_vector_norms(order, rng):
    x = np.array([0.7, -1.3, 2.1, -0.4])
    check_jvp(lambda v: np.linalg.norm(v, order), (x,), (rng.standard_normal((2, 4)),))
    check_jvp(lambda v: np.linalg.vector_norm(v, ord=2 if order is None else order),
              (x,), (rng.standard_normal(4),))
    kink = np.array([0.0, 0.0, 0.0, 0.0])
    with np.errstate(divide="ignore"):  # NumPy's own value for a negative order
        slope = tangent(lambda v: np.linalg.norm(v, order), kink, rng.standard_normal(4))
    assert np.all(slope == 0)


@pytest.mark.parametrize("order", [None, "fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norms_with_axes_and_keepdims(order, rng):
    x = rng.standard_normal((3, 2, 4))
    f = lambda v: np.linalg.norm(v, order, axis=(2, 0), keepdims=True)  # noqa: E731
    check_jvp(f, (x,), (rng.standard_normal((2, *x.shape)),))
    assert np.shape(tangent(f, x, x)) == (1, 2, 1)


def test_norm_kinks_at_zero_entries():
    x, along_zero = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.0, 0.0])
    for order in (0.5, -1.5, 1):  # |x|**p has a pole or a kink at 0: slope 0 there
        with np.errstate(divide="ignore"):
            assert tangent(lambda v, o=order: np.linalg.norm(v, o), x, along_zero) == 0
    assert tangent(lambda v: np.linalg.norm(v, 3), x, along_zero) == 0  # smooth there anyway


NEGATIVE_ORDERS = [-1, -2, -0.5, -3, -np.inf]


@pytest.mark.parametrize("order", NEGATIVE_ORDERS)
def test_negative_order_norms_at_a_zero_entry_have_slope_zero(order, rng):
    # one zero entry makes sum(|x|**p)**(1/p) zero, and near it the norm is about |x_0|:
    # a kink of the whole norm (as abs at 0), so every slope is 0 there, as NumPy's value stays 0
    x, directions = np.array([0.0, 1.0, -2.0]), rng.standard_normal((4, 3))
    norms = (lambda v: np.linalg.norm(v, order),
             lambda v: np.linalg.vector_norm(v, ord=order))
    for f in norms:
        with np.errstate(divide="ignore"):
            value, slope = jvp(f, (x,), (directions,))
        assert value == 0 and np.all(slope == 0)
        for side in (1e-2, -1e-2):  # either side of the kink: smooth, and exact
            check_jvp(f, (x + side * np.eye(3)[0],), (directions,))
            # and the slope along the zero entry tends to sign(side), that of |x_0|
            closer = x + 1e-8 * np.sign(side) * np.eye(3)[0]
            assert_close(tangent(f, closer, np.eye(3)[0]), np.sign(side), rtol=1e-2)


@pytest.mark.parametrize("order", [-1, -2])
def test_negative_order_matrix_norms_at_a_zero_column(order, rng):
    m = np.array([[0.0, 1.0, 0.5], [0.0, 2.0, -1.0], [0.0, 0.3, 0.8]])
    value, slope = jvp(lambda v: np.linalg.norm(v, order), (m,), (rng.standard_normal((4, 3, 3)),))
    assert value == 0 and np.all(slope == 0)
    near = m + 1e-2 * np.eye(3)[:, :1] * np.array([1.0, -2.0, 0.5])
    check_jvp(lambda v: np.linalg.norm(v, order), (near,), (rng.standard_normal((4, 3, 3)),))


def test_norm_ties_share_the_slope():
    x, dx = np.array([1.0, -1.0, 0.5]), np.array([0.3, 0.7, 5.0])
    assert_close(tangent(lambda v: np.linalg.norm(v, np.inf), x, dx), (0.3 - 0.7) / 2)
    matrix = np.array([[1.0, -2.0], [3.0, 2.0]])  # both columns sum to 4 in absolute value
    dm = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert_close(tangent(lambda m: np.linalg.norm(m, 1), matrix, dm), ((1 + 1) + (-1 + 1)) / 2)


def test_vector_norm_over_several_axes_and_matrix_norm(rng):
    x = rng.standard_normal((2, 3, 4))
    check_jvp(lambda v: np.linalg.vector_norm(v, axis=(0, 2), ord=np.inf), (x,),
              (rng.standard_normal(x.shape),))
    check_jvp(lambda v: np.linalg.matrix_norm(v, ord=-2, keepdims=True), (x,),
              (rng.standard_normal((2, *x.shape)),))


# --- least squares and the rest -------------------------------------------------------------------


def test_lstsq(rng):
    b = rng.standard_normal(4)
    x, residuals, rank, sv = np.linalg.lstsq(Dual(TALL, rng.standard_normal((2, 4, 3))), b)
    assert type(rank) is not Dual and rank == 3
    assert type(x) is Dual and type(residuals) is Dual and type(sv) is Dual
    f = lambda a, y: tuple(np.linalg.lstsq(a, y)[i] for i in (0, 1, 3))  # noqa: E731
    check_jvp(f, (TALL, b), (rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4))))
    check_jvp(f, (TALL, np.stack([b, -b * b], axis=1)),
              (rng.standard_normal((4, 3)), rng.standard_normal((4, 2))))
    wide = lambda a, y: np.linalg.lstsq(a, y)[0]  # noqa: E731 - minimum-norm solution
    check_jvp(wide, (TALL.T, b[:3]), (rng.standard_normal((3, 4)), rng.standard_normal(3)))
    _, (dx, dres, drank, dsv) = jvp(np.linalg.lstsq, (TALL.T, b[:3]), (TALL.T, b[:3]))
    assert np.shape(dres) == (0,) and drank == 0 and np.shape(dsv) == (3,)
    pinv = np.linalg.pinv(TALL)
    _, dx = jvp(lambda y: np.linalg.lstsq(TALL, y)[0], (b,), (b,))
    assert_close(dx, pinv @ b)


def test_pinv_of_full_rank_matrices_matches_the_inverse(rng):
    a, da = SPD, rng.standard_normal((3, 3))
    assert_close(tangent(np.linalg.pinv, a, da), tangent(np.linalg.inv, a, da))
    check_jvp(np.linalg.pinv, (TALL,), (rng.standard_normal((3, *TALL.shape)),))


def test_rank_deficient_matrices(rng):
    u, v = rng.standard_normal(4), rng.standard_normal(3)
    # along perturbations that keep the rank (here: rank one), pinv's tangent is exact
    check_jvp(lambda x, y: np.linalg.pinv(np.outer(x, y)), (u, v),
              (rng.standard_normal((2, 4)), rng.standard_normal((2, 3))))
    defective = Dual(np.array([[1.0, 1.0], [0.0, 1.0]]), np.ones((2, 2)))
    assert np.max(np.abs(np.linalg.eigvals(defective).tangent)) > 1e10


def test_qr_of_a_rank_deficient_matrix_raises_or_is_loud():
    # R[1, 1] of a rank-one matrix is 0 in exact arithmetic; LAPACK returns 0 or rounding noise
    # (OpenBLAS's Haswell kernels give 0.0, its SkylakeX kernels -4.7e-17).  QR is not
    # differentiable there: along a direction that raises the rank, Q's second column jumps.
    a = np.array([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    da = np.zeros((3, 2))
    da[2, 1] = 1.0
    plain = np.linalg.qr(a)
    r11 = plain.R[1, 1]
    assert abs(r11) <= 10 * np.finfo(float).eps * np.linalg.norm(a)
    if r11 == 0:  # an exactly singular R: the tangents' solve raises, as documented
        with pytest.raises(np.linalg.LinAlgError):
            np.linalg.qr(Dual(a, da))
        return
    q, r = np.linalg.qr(Dual(a, da))  # otherwise the values are NumPy's, the tangent is loud
    assert_close(q.value, plain.Q)
    assert_close(r.value, plain.R)
    assert not np.all(np.isfinite(q.tangent)) or np.max(np.abs(q.tangent)) > 1e10


def test_matrix_power_multi_dot_and_tensor_solvers(rng):
    a, da = SPD, rng.standard_normal((3, 3))
    value, slope = jvp(lambda x: np.linalg.matrix_power(x, 0), (a,), (da,))
    assert np.array_equal(value, np.eye(3)) and np.all(slope == 0)
    assert_close(tangent(lambda x: np.linalg.matrix_power(x, -1), a, da),
                 tangent(np.linalg.inv, a, da))
    assert_close(tangent(lambda x: np.linalg.matrix_power(x, 6), a, da),
                 tangent(lambda x: x @ x @ x @ x @ x @ x, a, da))
    chain = [rng.standard_normal(3), a, TALL.T, rng.standard_normal((4, 2))]
    check_jvp(lambda *m: np.linalg.multi_dot(list(m)), tuple(chain),
              tuple(rng.standard_normal((2, *np.shape(m))) for m in chain))
    assert_close(tangent(lambda x: np.linalg.multi_dot([x, a, x]), a, da),
                 da @ a @ a + a @ a @ da)
    big = spd_stack(rng, (), 6).reshape(2, 3, 2, 3)
    check_jvp(np.linalg.tensorinv, (big,), (rng.standard_normal((2, *big.shape)),))
    check_jvp(np.linalg.tensorsolve, (big, TALL[:2]), (rng.standard_normal(big.shape),
                                                       rng.standard_normal((2, 3))))


# --- errors ---------------------------------------------------------------------------------------


def test_unsupported_arguments_raise(rng):
    complex_matrix = Dual(SPD + 1j * np.eye(3), np.ones((3, 3)))
    for f in (np.linalg.eigh, np.linalg.eigvalsh, np.linalg.svd, np.linalg.svdvals,
              np.linalg.cholesky, np.linalg.qr, np.linalg.pinv, np.linalg.norm,
              np.linalg.slogdet, np.linalg.eig):
        with pytest.raises(TypeError, match="real"):
            f(complex_matrix)
    tall = Dual(TALL, np.ones_like(TALL))
    with pytest.raises(TypeError, match="full_matrices=False"):
        np.linalg.svd(tall)
    with pytest.raises(TypeError, match="hermitian"):
        np.linalg.svd(Dual(SPD, SPD), hermitian=True)
    with pytest.raises(TypeError, match="hermitian"):
        np.linalg.pinv(Dual(SPD, SPD), hermitian=True)
    for mode in ("raw", "complete"):
        with pytest.raises(TypeError, match="mode"):
            np.linalg.qr(tall, mode=mode)
    with pytest.raises(TypeError, match="real eigenvalues"):
        np.linalg.eig(Dual(np.array([[0.0, -1.0], [1.0, 0.0]]), np.eye(2)))
    with pytest.raises(TypeError):
        np.linalg.matrix_power(Dual(SPD, SPD), 1.5)
    with pytest.raises(TypeError, match="order"):
        np.linalg.norm(Dual(SPD, SPD), Dual(2.0, 1.0))
    d = Dual(SPD, SPD)
    with pytest.raises(TypeError, match="dualdiff does not"):
        np.polyval(np.poly1d([1.0, 2.0]), d)
    calls = (lambda out: np.einsum("ij->i", d, out=out),
             lambda out: np.dot(d, d, out=out),
             lambda out: np.outer(d, d, out=out),
             lambda out: np.linalg.multi_dot([d, d], out=out),
             lambda out: np.fft.fft(d * (1 + 0j), out=out))
    for call in calls:
        expected = call(None)
        with pytest.raises(TypeError, match="plain array"):  # it would drop the tangent
            call(np.zeros(np.shape(expected.value), expected.dtype))
        out = np.zeros_like(expected)
        assert call(out) is out  # written in place, as NumPy's out=
        np.testing.assert_array_equal(out.value, expected.value)
        np.testing.assert_array_equal(out.tangent, expected.tangent)


# --- products and einsum --------------------------------------------------------------------------


def test_bilinear_products_conjugate_like_numpy(rng):
    a = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    b = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    da = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    db = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    for f in (np.vdot, np.vecdot, np.inner, np.dot, np.outer, np.kron,
              lambda x, y: np.correlate(x, y, "full"), np.convolve,
              lambda x, y: np.einsum("i,j->ij", x, y)):
        _, slope = jvp(f, (a, b), (da, db))
        assert_close(slope, f(da, b) + f(a, db))


def test_values_equal_numpys(rng):
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    p, x = rng.standard_normal(4), rng.standard_normal((2, 2))
    for f, args in ((np.kron, (a, b)), (np.outer, (a, b)), (np.polyval, (p, x)),
                    (lambda m: np.linalg.matrix_power(m, 7), (SPD,)),
                    (lambda *m: np.linalg.multi_dot(list(m)), (a, b, a))):
        duals = [Dual(v, np.zeros_like(v)) for v in args]
        assert np.array_equal(f(*duals).value, f(*args))


def test_polyval_in_both_arguments(rng):
    p, x = rng.standard_normal(5), rng.standard_normal((2, 3))
    jac = jacobian(lambda c: np.polyval(c, 1.5), p)
    assert_close(jac, 1.5 ** np.arange(4, -1, -1))
    slope = tangent(lambda v: np.polyval(p, v), x, np.ones_like(x))
    assert_close(slope, np.polyval(np.polyder(p), x))


def test_einsum_implicit_output_order_and_sublists(rng):
    a, da = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    for subscripts in ("ba", "ab", "Ab", "bA", "ij,jk", "...ij"):
        operands = (a,) if subscripts.count(",") == 0 else (a, a.T)
        tangents = (da,) if len(operands) == 1 else (da, da.T)
        value, slope = jvp(lambda *xs, s=subscripts: np.einsum(s, *xs), operands, tangents)
        assert np.array_equal(value, np.einsum(subscripts, *operands))
        expected = sum(np.einsum(subscripts, *operands[:i], t, *operands[i + 1:])
                       for i, t in enumerate(tangents))
        assert_close(slope, expected)
    value, slope = jvp(lambda x: np.einsum(x, [0, 1], x, [0, 2]), (a,), (da,))
    assert_close(value, a.T @ a)
    assert_close(slope, da.T @ a + a.T @ da)
    check_jvp(lambda x: np.einsum(x, [Ellipsis, 0], [0, Ellipsis]), (a,), (da,))


LABEL_SIZES = dict(zip("abcdeAB", (2, 3, 1, 2, 3, 2, 1), strict=True))


@st.composite
def einsum_problems(draw):
    count = draw(st.integers(1, 3))
    ellipsis = draw(st.booleans())
    inputs = []
    for _ in range(count):
        labels = draw(st.lists(st.sampled_from(list(LABEL_SIZES)), max_size=3))
        text = "".join(labels)
        if ellipsis and draw(st.booleans()):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + "..." + text[at:]
        inputs.append(text)
    used = sorted(set("".join(inputs).replace(".", "")))
    if draw(st.booleans()):
        subscripts = ",".join(inputs)
    else:
        output = draw(st.permutations(used))[: draw(st.integers(0, len(used)))]
        dots = "..." if any("..." in s for s in inputs) else ""
        subscripts = ",".join(inputs) + "->" + dots + "".join(output)
    broadcast = draw(st.sampled_from([(), (2,), (3, 1)]))
    shapes = []
    for s in inputs:
        core = tuple(LABEL_SIZES[c] for c in s.replace("...", ""))
        extra = broadcast[draw(st.integers(0, len(broadcast))):] if "..." in s else ()
        at = s.find("...")
        before = len(s[:at]) if at >= 0 else len(core)
        shapes.append(core[:before] + extra + core[before:])
    return subscripts, shapes


@settings(max_examples=80)
@given(einsum_problems(), st.integers(0, 2**32 - 1))
def test_einsum_is_the_product_rule_for_any_subscripts(problem, seed):
    subscripts, shapes = problem
    rng = np.random.default_rng(seed)
    operands = tuple(rng.standard_normal(shape) for shape in shapes)
    directions = tuple(rng.standard_normal((2, *shape)) for shape in shapes)
    value, slope = jvp(lambda *xs: np.einsum(subscripts, *xs), operands, directions)
    assert np.array_equal(value, np.einsum(subscripts, *operands))
    for k in range(2):
        expected = sum(
            np.einsum(subscripts, *operands[:i], directions[i][k], *operands[i + 1:])
            for i in range(len(operands))
        )
        assert_close(slope[k], expected)
    one = tuple(d[0] for d in directions)  # unbatched, and the first operand alone
    _, single = jvp(lambda *xs: np.einsum(subscripts, *xs), operands, one)
    assert_close(single, slope[0])
    _, first = jvp(lambda x: np.einsum(subscripts, x, *operands[1:]), operands[:1], one[:1])
    assert_close(first, np.einsum(subscripts, one[0], *operands[1:]))


def test_einsum_labels_are_distinct_from_the_batch_label():
    assert len(set(string.ascii_letters)) == 52  # NumPy's label alphabet, all taken below
    subscripts = string.ascii_letters[:51]
    x = np.ones((1,) * 51)
    _, slope = jvp(lambda v: np.einsum(subscripts + "->", v), (x,), (np.ones((3, *x.shape)),))
    assert_close(slope, np.ones(3))


# --- FFT ------------------------------------------------------------------------------------------


def test_fft_of_real_input_has_a_complex_dual(rng):
    x, dx = rng.standard_normal(6), rng.standard_normal(6)
    out = np.fft.fft(Dual(x, dx))
    assert np.iscomplexobj(out.value) and np.iscomplexobj(out.tangent)
    assert_close(out.tangent, np.fft.fft(dx))
    check_jvp(np.fft.fft, (x,), (rng.standard_normal((2, 6)),))


@pytest.mark.parametrize(("transform", "kwargs"), [
    (np.fft.fft, {"axis": 0, "n": 5}), (np.fft.rfft, {"axis": 0}), (np.fft.irfft, {"axis": 0}),
    (np.fft.hfft, {"axis": 0}), (np.fft.ihfft, {"axis": 0, "norm": "ortho"}),
    (np.fft.fft2, {"axes": (0, 2)}), (np.fft.rfftn, {}), (np.fft.irfftn, {"axes": (2, 0)}),
    (np.fft.ifftn, {"s": (2, 2), "axes": (0, 1)}), (np.fft.fftshift, {}),
    (np.fft.ifftshift, {"axes": 0}),
])
def test_fft_batched_tangents_transform_the_same_axes(transform, kwargs, rng):
    x, dx = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 3, 4, 5))
    _, slope = jvp(lambda v: transform(v, **kwargs), (x,), (dx,))
    for k in range(2):
        assert_close(slope[k], transform(dx[k], **kwargs))


def test_fft_round_trip_and_second_order(rng):
    x = rng.standard_normal(8)
    assert_close(jacobian(lambda v: np.fft.irfft(np.fft.rfft(v), n=8), x), np.eye(8))
    kernel = np.fft.rfft(rng.standard_normal(8))

    def energy(v):  # a real function of a complex intermediate
        y = np.fft.irfft(np.fft.rfft(v) * kernel, n=8)
        return np.sum(y**2)

    operator = jacobian(lambda v: np.fft.irfft(np.fft.rfft(v) * kernel, n=8), x)
    assert_close(hessian(energy, x), 2 * operator.T @ operator)
