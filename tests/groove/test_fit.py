"""groove.fit: the SPG minimiser, the monotone projection and the robust step fit."""

import itertools

import numpy as np
import pytest

from groove import GrooveError, _fit_kernels
from groove.fit import _step_objective, fit_step_offsets, minimize, project_monotone_offsets
from groove.losses import huber


# -- minimize ----------------------------------------------------------------------------
def quadratic(A, b):
    return lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b)


def rosenbrock(v):
    """Extended Rosenbrock: minimum 0 at all ones."""
    r1, r2 = v[1:] - v[:-1] ** 2, 1.0 - v[:-1]
    g = np.zeros_like(v)
    g[:-1] += -400.0 * v[:-1] * r1 - 2.0 * r2
    g[1:] += 200.0 * r1
    return float(np.sum(100.0 * r1**2 + r2**2)), g


@pytest.mark.parametrize("seed", range(4))
def test_minimize_finds_the_minimum_of_a_convex_quadratic(seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    A = q @ np.diag(np.logspace(0, 2, 12)) @ q.T
    b = rng.normal(size=12)
    exact = np.linalg.solve(A, b)
    best = -0.5 * b @ exact
    res = minimize(quadratic(A, b), np.zeros(12))  # default tolerances
    assert res.converged, res
    assert res.loss - best <= 1e-8 * abs(best)
    np.testing.assert_allclose(res.x, exact, atol=1e-4)  # ~ sqrt(tol): the loss is flat
    # the loss is flat to rounding long before x is: tight x needs the gradient test
    res = minimize(quadratic(A, b), np.zeros(12), tol=0.0, gtol=1e-11)
    assert res.converged and res.reason == "gradient", res
    np.testing.assert_allclose(res.x, exact, atol=1e-10)


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [-1.2, 1.0, -1.2, 1.0, -1.2, 1.0]])
def test_minimize_finds_the_minimum_of_rosenbrock(x0):
    res = minimize(rosenbrock, x0, max_iter=6000, tol=0.0, gtol=1e-9)  # 6-D: ~2000
    assert res.converged and res.reason == "gradient", res
    np.testing.assert_allclose(res.x, np.ones(len(x0)), atol=1e-6)
    assert res.loss < 1e-12


def test_minimize_with_a_box_projection_matches_clipping():
    rng = np.random.default_rng(5)
    diag = rng.uniform(1, 10, 8)
    b = rng.normal(0, 10, 8)  # unconstrained optimum b / diag, often outside
    res = minimize(
        quadratic(np.diag(diag), b),
        np.full(8, 0.5),
        project=lambda x: np.clip(x, 0.0, 1.0),
        tol=0.0,
        gtol=1e-12,
    )
    assert res.converged
    np.testing.assert_allclose(res.x, np.clip(b / diag, 0.0, 1.0), atol=1e-10)


def test_minimize_reports_a_gradient_that_does_not_match():
    res = minimize(lambda x: (float(x @ x), -2.0 * x), [1.0, 2.0])
    assert not res.converged and res.reason == "line search"


def test_minimize_stops_at_max_iter():
    res = minimize(rosenbrock, [-1.2, 1.0], max_iter=3, tol=0.0)
    assert (res.iterations, res.converged, res.reason) == (3, False, "max_iter")
    assert res.loss < rosenbrock(np.array([-1.2, 1.0]))[0]


def test_minimize_validates_its_input():
    with pytest.raises(GrooveError, match="x0"):
        minimize(rosenbrock, [[1.0, 2.0]])
    with pytest.raises(GrooveError, match="gradient shape"):
        minimize(lambda x: (0.0, np.zeros(3)), [1.0, 2.0])
    with pytest.raises(GrooveError, match="not finite"):
        minimize(lambda x: (np.inf, np.zeros(2)), [1.0, 2.0])
    with pytest.raises(GrooveError, match="max_iter"):
        minimize(rosenbrock, [1.0, 2.0], max_iter=-1)


# -- monotone projection ---------------------------------------------------------------
def rises(o):
    return np.roll(o, -1) - o


def brute_force_projection(z, margin):
    """Closest feasible point over all affine hulls of faces (2^n small solves).

    The projection onto a polyhedron is the projection onto the affine hull
    of the face it lies in; every such candidate that is feasible is at least
    as far as the true one, so the closest feasible candidate is it.
    """
    n = z.size
    rows = np.roll(np.eye(n), 1, axis=1) - np.eye(n)  # rows @ o = rises(o)
    best, best_dist = None, np.inf
    for k in range(n + 1):
        for active in itertools.combinations(range(n), k):
            o = z.copy()
            if active:
                A = rows[list(active)]
                resid = A @ z - (margin - 1.0)
                o = z - A.T @ np.linalg.pinv(A @ A.T) @ resid
            if (rises(o) >= margin - 1.0 - 1e-9).all() and np.sum((o - z) ** 2) < best_dist:
                best, best_dist = o, np.sum((o - z) ** 2)
    return best


@pytest.mark.parametrize("margin", [0.0, 0.05, 0.5])
def test_projection_matches_brute_force(margin):
    rng = np.random.default_rng(int(margin * 100))
    infeasible = 0
    for _ in range(40):
        n = int(rng.integers(2, 7))
        z = rng.normal(0, 1.0, n)
        infeasible += not (rises(z) >= margin - 1.0).all()
        p = project_monotone_offsets(z, margin)
        assert (rises(p) >= margin - 1.0 - 1e-12).all()
        np.testing.assert_allclose(p, brute_force_projection(z, margin), atol=1e-9)
    assert infeasible > 10


def test_projection_is_idempotent_and_keeps_feasible_input():
    rng = np.random.default_rng(11)
    for n in (1, 2, 5, 16, 64):
        z = rng.normal(0, 2.0, n)
        p = project_monotone_offsets(z, 0.1)
        assert np.array_equal(project_monotone_offsets(p, 0.1), p)
        feasible = np.cumsum(rng.uniform(-0.9, 0.4, n))
        feasible -= np.linspace(0, feasible[-1] - feasible[0], n) if n > 1 else 0
        assert (rises(feasible) >= -0.9 - 1e-12).all()
        assert np.array_equal(project_monotone_offsets(feasible, 0.1), feasible)


def test_projection_satisfies_the_variational_inequality():
    """(z - p) . (y - p) <= 0 for every feasible y: p is the closest point."""
    rng = np.random.default_rng(12)
    for _ in range(30):
        n = 16
        z = rng.normal(0, 1.5, n)
        p = project_monotone_offsets(z, 0.02)
        for _ in range(20):
            y = project_monotone_offsets(rng.normal(0, 1.5, n), 0.02)
            assert (z - p) @ (y - p) <= 1e-9


def test_projection_validates():
    with pytest.raises(GrooveError, match="margin"):
        project_monotone_offsets([0.0, 0.1], margin=1.0)
    with pytest.raises(GrooveError, match="offsets"):
        project_monotone_offsets([[0.0, 0.1]])
    z = np.array([0.0, -3.0])
    project_monotone_offsets(z)
    assert z.tolist() == [0.0, -3.0]  # input never modified


# -- per-step fit ---------------------------------------------------------------------
def test_huber_kernel_matches_numpy_reference():
    rng = np.random.default_rng(13)
    u = rng.normal(0, 0.3, 500)
    idx = rng.integers(0, 8, 500)
    w = rng.uniform(0, 2, 500)
    o = rng.normal(0, 0.1, 8)
    grad = np.empty(8)
    total = _fit_kernels.huber_steps(u, idx, w, o, 0.2, grad)
    value, deriv = huber(u - o[idx], 0.2)
    assert total == pytest.approx(np.sum(w * value), rel=1e-12)
    np.testing.assert_allclose(grad, -np.bincount(idx, w * deriv, minlength=8), atol=1e-12)


def test_step_objective_gradient_matches_finite_differences():
    rng = np.random.default_rng(14)
    u = rng.normal(0, 0.3, 200)
    idx = rng.integers(0, 8, 200)
    fun = _step_objective(u, idx, np.ones(200), 0.25, 1.7, np.array([-2, -1, 1, 3]))
    o = rng.normal(0, 0.1, 8)
    fd = np.array([(fun(o + e)[0] - fun(o - e)[0]) / 2e-6 for e in np.eye(8) * 1e-6])
    np.testing.assert_allclose(fun(o)[1], fd, atol=1e-6)


def synthetic_notes(rng, true, per_step, step_beat, noise_beat, outlier_frac):
    idx = np.repeat(np.arange(true.size), per_step)
    residual = true[idx] * step_beat + rng.normal(0, noise_beat, idx.size)
    out = rng.random(idx.size) < outlier_frac
    residual[out] += rng.choice([-1, 1], out.sum()) * rng.uniform(0.05, 0.15, out.sum())
    return idx, residual


def test_robust_fit_beats_the_mean_with_outliers():
    rng = np.random.default_rng(15)
    step = 0.25
    errors = []
    for _ in range(5):
        true = rng.uniform(-0.2, 0.3, 16)
        idx, residual = synthetic_notes(rng, true, 30, step, 0.01, 0.10)
        fit = fit_step_offsets(
            idx * step, residual, idx, 16, step_beat=step, delta=0.02, shrink=0.1
        )
        assert fit.converged
        mean = np.bincount(idx, residual) / np.bincount(idx) / step
        errors.append((np.sqrt(np.mean((fit.x - true) ** 2)), np.sqrt(np.mean((mean - true) ** 2))))
    robust, plain = np.mean(errors, axis=0)
    assert robust < 0.6 * plain, (robust, plain)


def test_without_outliers_or_shrink_the_fit_is_the_mean():
    rng = np.random.default_rng(16)
    true = rng.uniform(-0.1, 0.1, 8)
    idx, residual = synthetic_notes(rng, true, 20, 0.5, 0.002, 0.0)
    fit = fit_step_offsets(idx * 0.5, residual, idx, 8, step_beat=0.5, delta=0.1, shrink=0.0)
    np.testing.assert_allclose(fit.x, np.bincount(idx, residual) / 20 / 0.5, atol=1e-7)


def test_a_step_without_notes_follows_its_neighbours():
    ramp = 0.02 * np.arange(8) - 0.05  # linear, so every neighbour mean fits
    idx = np.repeat([k for k in range(8) if k != 3], 10)
    residual = ramp[idx] * 0.25
    fit = fit_step_offsets(
        idx * 0.25, residual, idx, 8, step_beat=0.25, shrink=1.0, margin=0.0, delta=0.05
    )
    # the period wraps: the ramp's jump from step 7 to 0 pulls on 6, 7, 0, 1 but not on 3
    assert fit.x[3] == pytest.approx(ramp[3], abs=1e-3)


def test_the_fit_is_projected_monotone():
    idx = np.array([0, 1, 2, 3] * 5)
    want = np.array([0.0, 0.6, -0.9, 0.2])  # 0.6 -> -0.9 runs backwards
    fit = fit_step_offsets(idx * 0.25, want[idx] * 0.25, idx, 4, step_beat=0.25, margin=0.1)
    assert (rises(fit.x) >= -0.9 - 1e-12).all()
    # least squares (no shrink, all residuals in Huber's quadratic zone): the
    # projection of the per-step means, steps 1 and 2 meet halfway
    fit = fit_step_offsets(
        idx * 0.25, want[idx] * 0.25, idx, 4, step_beat=0.25, margin=0.1, shrink=0.0, delta=1.0
    )
    np.testing.assert_allclose(fit.x, [0.0, 0.3, -0.6, 0.2], atol=1e-7)


def test_step_index_can_come_from_the_phase():
    rng = np.random.default_rng(17)
    true = rng.uniform(-0.1, 0.1, 4)
    idx, residual = synthetic_notes(rng, true, 10, 0.25, 0.001, 0.0)
    phase = idx * 0.25 + residual
    a = fit_step_offsets(phase, residual, None, 4, step_beat=0.25)
    b = fit_step_offsets(phase, residual, idx, 4, step_beat=0.25)
    np.testing.assert_array_equal(a.x, b.x)


def test_fit_validates():
    kw = dict(step_beat=0.25)
    with pytest.raises(GrooveError, match="step_index: note 1"):
        fit_step_offsets([0.0, 0.25], [0.0, 0.0], [0, 4], 4, **kw)
    with pytest.raises(GrooveError, match="residual_beat"):
        fit_step_offsets([0.0, 0.25], [0.0], [0, 1], 4, **kw)
    with pytest.raises(GrooveError, match="neighbours"):
        fit_step_offsets([0.0], [0.0], [0], 4, neighbours=[4], **kw)
    with pytest.raises(GrooveError, match="delta"):
        fit_step_offsets([0.0], [0.0], [0], 4, delta=0.0, **kw)
