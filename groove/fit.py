"""A small projected-gradient optimiser and the robust per-step offset fit.

Method of :func:`minimize`: spectral projected gradient (SPG2 of Birgin,
Martinez & Raydan, SIAM J. Optim. 2000).  Each iteration moves along
``d = P(x - alpha g) - x``, with ``alpha`` the Barzilai-Borwein step
``s.s / s.y`` of the last move (clipped to [1e-12, 1e12]; 1 / ||P(x0 - g) - x0||_inf
at the start), and backtracks (safeguarded quadratic interpolation, halving
at worst) until the non-monotone Armijo condition
``f(x_new) <= max(f over the last `memory` iterates) + 1e-4 g.(x_new - x)``
holds (``memory`` = 20 by default: with shorter memories the backtracking
spoils the BB steps, and ill-conditioned quadratics take several times
longer).  Every trial point goes through ``project``; for a convex feasible
set the trial points are convex combinations of feasible points, so that is
only a guard against rounding.  BB steps make this far faster than plain
gradient descent on ill-conditioned problems at the same cost per step.

Stopping rule, checked after every iteration (``FitResult.reason``):

* ``"gradient"`` (converged): the projected gradient ``||P(x - g) - x||_2``
  (``||g||_2`` without ``project``) is at most ``gtol``;
* ``"loss"`` (converged): the loss changed by at most
  ``tol * max(|f_prev|, |f|)`` in each of the last ``patience`` iterations
  (one flat iteration is not enough: BB steps are uneven);
* ``"max_iter"`` (not converged): ``max_iter`` iterations were taken;
* ``"line search"`` (not converged): no step of ``max_backtracks``
  reductions decreased the loss enough although the predicted decrease
  ``|g.d|`` exceeds ``tol * |f|`` (usually a gradient that does not match
  the loss); a smaller predicted decrease is rounding noise and counts as
  ``"loss"``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .errors import GrooveError

_ARMIJO = 1e-4
_ALPHA_MIN, _ALPHA_MAX = 1e-12, 1e12
#: Rises this far below the bound still count as feasible: the projection's
#: change of variables rounds, and a second projection must be a no-op.
_FEASIBLE_SLACK = 1e-12


class FitResult(NamedTuple):
    """What :func:`minimize` found.

    Attributes
    ----------
    x : ndarray
        The final point (feasible: it went through ``project``).
    loss : float
        The loss at ``x``.
    iterations : int
    converged : bool
        True when a tolerance was met (see ``reason``).
    grad_norm : float
        Norm of the projected gradient at ``x``.
    reason : str
        ``"gradient"``, ``"loss"``, ``"max_iter"`` or ``"line search"``.
    evaluations : int
        Calls of ``fun_and_grad``.
    """

    x: np.ndarray
    loss: float
    iterations: int
    converged: bool
    grad_norm: float
    reason: str
    evaluations: int


def _evaluate(fun_and_grad, x):
    f, g = fun_and_grad(x)
    g = np.asarray(g, dtype=np.float64)
    if g.shape != x.shape:
        raise GrooveError(
            f"fun_and_grad: gradient shape {g.shape} differs from x {x.shape}; "
            "return (loss, gradient) with the gradient shaped like x"
        )
    return float(f), g


def _count(value, name, lo):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise GrooveError(f"{name}: {value!r} is not a whole number >= {lo}")
    return int(value)


def _nonneg(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or value < 0
    ):
        raise GrooveError(f"{name}: {value!r} must be a finite number >= 0")
    return float(value)


def minimize(
    fun_and_grad,
    x0,
    *,
    project=None,
    max_iter=500,
    tol=1e-9,
    gtol=1e-8,
    patience=3,
    memory=20,
    max_backtracks=60,
) -> FitResult:
    """Minimise a smooth function, optionally over a convex set (see module doc).

    Parameters
    ----------
    fun_and_grad : callable
        ``x -> (loss, gradient)`` for a 1-D float array x.
    x0 : array_like, shape (n,)
        Start (projected first).
    project : callable, optional
        ``x -> closest feasible point``; applied after every step.
    max_iter : int
        Most iterations.
    tol : float
        Relative loss change that counts as converged.
    gtol : float
        Projected-gradient norm that counts as converged.
    patience : int
        Consecutive iterations within ``tol`` that count as converged.
    memory : int
        Iterates whose largest loss the Armijo test compares with (1 makes
        the search monotone).
    max_backtracks : int
        Most step reductions per iteration.
    """
    proj = project if project is not None else (lambda v: v)
    max_iter, memory = _count(max_iter, "max_iter", 0), _count(memory, "memory", 1)
    patience = _count(patience, "patience", 1)
    max_backtracks = _count(max_backtracks, "max_backtracks", 1)
    tol, gtol = _nonneg(tol, "tol"), _nonneg(gtol, "gtol")
    x = np.array(x0, dtype=np.float64)
    if x.ndim != 1 or not np.isfinite(x).all():
        raise GrooveError(f"x0: expected a 1-D array of finite numbers, got shape {x.shape}")
    x = np.asarray(proj(x), dtype=np.float64)
    f, g = _evaluate(fun_and_grad, x)
    if not (math.isfinite(f) and np.isfinite(g).all()):
        raise GrooveError(
            f"x0: the loss or gradient at the start is not finite (loss {f!r}); "
            "start from a point where the function is defined"
        )
    evals, history = 1, [f]
    pg = proj(x - g) - x
    pg_norm = float(np.linalg.norm(pg))
    # first step moves the largest coordinate by about 1
    alpha = float(
        np.clip(1.0 / max(np.max(np.abs(pg), initial=0.0), 1e-300), _ALPHA_MIN, _ALPHA_MAX)
    )
    it, flat, reason = 0, 0, "max_iter"
    while True:
        if pg_norm <= gtol:
            reason = "gradient"
            break
        if it >= max_iter:
            break
        it += 1
        step = _line_search(
            fun_and_grad, proj, x, f, g, alpha, max(history[-memory:]), max_backtracks
        )
        evals += step[-1]
        if step[0] is None:
            # a predicted decrease below tol is rounding noise, not a bad gradient
            reason = "loss" if abs(step[1]) <= tol * abs(f) else "line search"
            break
        x_new, f_new, g_new = step[:3]
        s, y = x_new - x, g_new - g
        sy = float(s @ y)
        alpha = float(np.clip(s @ s / sy, _ALPHA_MIN, _ALPHA_MAX)) if sy > 0 else _ALPHA_MAX
        f_prev, (x, f, g) = f, (x_new, f_new, g_new)
        history.append(f)
        pg_norm = float(np.linalg.norm(proj(x - g) - x))
        flat = flat + 1 if abs(f_prev - f) <= tol * max(abs(f_prev), abs(f)) else 0
        if flat >= patience:
            reason = "loss"
            break
    return FitResult(x, f, it, reason in ("gradient", "loss"), pg_norm, reason, evals)


def _line_search(fun_and_grad, proj, x, f, g, alpha, f_ref, max_backtracks):
    """Backtrack along d = P(x - alpha g) - x.

    Returns (x, f, g, evaluations), or (None, g.d, None, evaluations) when no
    step decreases the loss enough.
    """
    d = np.asarray(proj(x - alpha * g), dtype=np.float64) - x
    gd = float(g @ d)
    if not gd < 0.0:  # d == 0 up to rounding: no descent direction left
        return None, gd, None, 0
    lam = 1.0
    for n_eval in range(1, max_backtracks + 1):
        x_new = np.asarray(proj(x + lam * d), dtype=np.float64)
        f_new, g_new = _evaluate(fun_and_grad, x_new)
        if f_new <= f_ref + _ARMIJO * float(g @ (x_new - x)) and np.isfinite(g_new).all():
            return x_new, f_new, g_new, n_eval
        # minimiser of the quadratic through f, g.d and f_new, kept in [0.1, 0.5] lam
        curv = f_new - f - lam * gd
        trial = -0.5 * lam * lam * gd / curv if math.isfinite(curv) and curv > 0 else 0.0
        lam = trial if 0.1 * lam <= trial <= 0.5 * lam else 0.5 * lam
    return None, gd, None, max_backtracks


# -- monotone offsets ----------------------------------------------------------
def _offsets(values, name):
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise GrooveError(f"{name}: expected a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise GrooveError(f"{name}: expected a 1-D array of finite numbers, got {values!r}")
    return arr


def _margin(margin):
    m = _nonneg(margin, "margin")
    if m >= 1.0:
        raise GrooveError(f"margin: {m!r} steps leaves no room; use 0 <= margin < 1")
    return m


def project_monotone_offsets(offsets, margin=0.01) -> np.ndarray:
    """Closest offsets (least squares) whose periodic rises are >= -1 + margin.

    A template knot k sits at ``k + offsets[k]`` steps; the groove stays
    monotone while each knot (and knot 0 one period later) is at least
    ``margin`` steps after the one before: ``o[k+1] - o[k] >= -1 + margin``
    for every k, wrapping around.  With ``q_k = o_k + k (1 - margin)`` that is
    ``q`` nondecreasing with ``q[-1] - q[0] <= n (1 - margin)``: an isotonic
    regression (pool adjacent violators) with one extra constraint, handled by
    bisection on its Lagrange multiplier (``groove._fit_kernels``).

    Parameters
    ----------
    offsets : array_like, shape (n,)
        Offsets in fractions of a step.
    margin : float
        Least gap between consecutive knots in steps, 0 <= margin < 1.

    Returns
    -------
    ndarray
        A new array; feasible input (within 1e-12) comes back unchanged.
    """
    o = _offsets(offsets, "offsets")
    m = _margin(margin)
    if o.size < 2 or (np.roll(o, -1) - o >= m - 1.0 - _FEASIBLE_SLACK).all():
        return o
    from . import _fit_kernels

    lift = np.arange(o.size) * (1.0 - m)
    q = np.empty_like(o)
    _fit_kernels.isotonic_bounded_range(o + lift, o.size * (1.0 - m), q)
    return q - lift


# -- robust per-step fit -------------------------------------------------------
def _shifts(neighbours, n_steps):
    if isinstance(neighbours, (int, np.integer)) and not isinstance(neighbours, bool):
        m = _count(neighbours, "neighbours", 1)
        return np.concatenate([np.arange(-m, 0), np.arange(1, m + 1)])
    try:
        shifts = np.array(neighbours, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        shifts = np.zeros(0, np.int64)
    if shifts.size == 0 or (n_steps > 1 and (shifts % n_steps == 0).any()):
        raise GrooveError(
            f"neighbours: {neighbours!r}; give a count >= 1 or a list of step "
            "shifts that are not multiples of n_steps, e.g. [-1, 1] or [-4, 4]"
        )
    return shifts


def _step_indices(phase_beat, step_index, n_steps, step_beat):
    if step_index is None:
        return np.rint(phase_beat / step_beat).astype(np.int64) % n_steps
    idx = np.asarray(step_index)
    if idx.shape != phase_beat.shape or not np.issubdtype(idx.dtype, np.integer):
        raise GrooveError(
            f"step_index: expected {phase_beat.size} whole numbers (one per "
            f"note), got dtype {idx.dtype} shape {idx.shape}"
        )
    bad = np.flatnonzero((idx < 0) | (idx >= n_steps))
    if bad.size:
        raise GrooveError(
            f"step_index: note {bad[0]} has step {idx[bad[0]]}; allowed 0 to {n_steps - 1}"
        )
    return idx.astype(np.int64)


def _start(u_step, idx, n_steps):
    """Per-step median residual (0 for steps without notes): a robust first guess."""
    x0 = np.zeros(n_steps)
    order = np.argsort(idx, kind="stable")
    bounds = np.searchsorted(idx[order], np.arange(n_steps + 1))
    for k in range(n_steps):
        if bounds[k + 1] > bounds[k]:
            x0[k] = np.median(u_step[order[bounds[k] : bounds[k + 1]]])
    return x0


def _step_objective(u_step, idx, weight, delta_step, shrink, shifts):
    """fun_and_grad of the per-step fit (see :func:`fit_step_offsets`), in steps."""
    from . import _fit_kernels

    def fun_and_grad(o):
        grad = np.empty_like(o)
        data = _fit_kernels.huber_steps(u_step, idx, weight, o, delta_step, grad)
        # r = (I - A) o with A the mean over shifts; d/do of |r|^2 / 2 is (I - A)^T r
        r = o - np.mean([np.roll(o, -s) for s in shifts], axis=0)
        back = np.mean([np.roll(r, s) for s in shifts], axis=0)
        return data + 0.5 * shrink * float(r @ r), grad + shrink * (r - back)

    return fun_and_grad


def fit_step_offsets(
    phase_beat,
    residual_beat,
    step_index,
    n_steps,
    *,
    step_beat,
    delta=0.02,
    shrink=1.0,
    neighbours=1,
    margin=0.01,
    weights=None,
    max_iter=500,
    tol=1e-10,
    gtol=1e-9,
) -> FitResult:
    """Robust timing offset of each grid step from notes' residuals.

    Minimises, in steps (u_i = residual_beat[i] / step_beat),

        sum_i w_i * Huber_{delta/step_beat}(u_i - o[k_i])
        + shrink / 2 * sum_k (o_k - mean_{s in shifts} o_{(k+s) mod n})**2

    over offsets o projected monotone (:func:`project_monotone_offsets`), with
    :func:`minimize` from the per-step medians.  Huber bounds the pull of
    outliers; the second term, worth about ``shrink`` notes played at the
    neighbours' mean, pulls steps with few notes toward their neighbours (a
    step without notes ends up at their mean).

    Parameters
    ----------
    phase_beat : array_like, shape (m,)
        Each note's grid position within the period in beats; only used to
        derive ``step_index`` when that is None.
    residual_beat : array_like, shape (m,)
        Played minus grid position of each note, beats.
    step_index : array_like of int, shape (m,), or None
        Grid step of each note, 0 .. n_steps - 1 (None: nearest step of
        ``phase_beat``).
    n_steps : int
        Steps per period.
    step_beat : float
        Length of one step in beats.
    delta : float
        Huber threshold in beats: residuals further than this from the fit
        count linearly.
    shrink : float
        Weight of the neighbour term (0 disables it).
    neighbours : int or sequence of int
        The shifts whose mean a step shrinks toward: a count m means the m
        steps on either side; a list gives explicit shifts, e.g. ``[-4, 4]``
        for the same position in the neighbouring beats of a 1/16 grid.
    margin : float
        Least gap between consecutive knots in steps (keeps T monotone).
    weights : array_like, shape (m,), optional
        Per-note weights >= 0 (default 1).

    Returns
    -------
    FitResult
        ``x`` holds the offsets in fractions of a step.
    """
    n_steps = _count(n_steps, "n_steps", 1)
    step_beat = _nonneg(step_beat, "step_beat")
    if step_beat == 0:
        raise GrooveError("step_beat: 0 is not a step length; give the grid step in beats")
    phase = _offsets(phase_beat, "phase_beat")
    residual = _offsets(residual_beat, "residual_beat")
    if residual.shape != phase.shape:
        raise GrooveError(
            f"residual_beat: {residual.size} values for {phase.size} notes; "
            "give one residual per note"
        )
    idx = _step_indices(phase, step_index, n_steps, step_beat)
    w = np.ones_like(residual) if weights is None else _offsets(weights, "weights")
    if w.shape != residual.shape or (w < 0).any():
        raise GrooveError("weights: expected one weight >= 0 per note")
    delta_step = _nonneg(delta, "delta") / step_beat
    if delta_step == 0:
        raise GrooveError("delta: 0 leaves no quadratic zone; use a threshold > 0 beats")
    shrink = _nonneg(shrink, "shrink")
    shifts, m = _shifts(neighbours, n_steps), _margin(margin)
    u = residual / step_beat
    return minimize(
        _step_objective(u, idx, w, delta_step, shrink, shifts),
        _start(u, idx, n_steps),
        project=lambda o: project_monotone_offsets(o, m),
        max_iter=max_iter,
        tol=tol,
        gtol=gtol,
    )
