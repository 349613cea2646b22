"""Robust per-lane timing offsets and velocities, fitted as a three-level hierarchy.

Each note i sits in lane ``L_i`` (kick, snare, ... or -1 for none) at grid step
``k_i`` of the period and was played ``u_i`` steps off its grid line.  The
offsets, all in fractions of a step, are

* ``beat[j]``: one offset per step of a beat (``j = k mod cycle``), all notes;
* ``lane_beat[L, j]``: the same per lane;
* ``lanes[L, k]``: per lane and step of the whole period (what a preset's
  lane holds);
* ``pooled[k]``: per step over all notes (the preset's main groove).

They minimise (:func:`fit_lane_offsets`)

    sum_i H(u_i - lanes[L_i, k_i]) + sum_i H(u_i - pooled[k_i])
    + kappa_step / 2 * sum (lanes[L, k] - lane_beat[L, k mod cycle])**2
    + kappa_step / 2 * sum (pooled[k] - beat[k mod cycle])**2
    + kappa_lane / 2 * sum (lane_beat[L, j] - beat[j])**2

with H the Huber loss: outliers (flams, pushed fills) pull with a bounded
force; a step with few notes is shrunk toward the same position in its
lane's other beats, and a lane with few notes toward all notes (empirical
Bayes: ``kappa`` is worth that many notes played at the prior).  A large
``kappa_step`` makes the period effectively one beat; a small one lets each
step of the bar stand on its own, which is why :func:`cross_validate`
chooses it per performance.  Minimised by projected gradient descent
(``groove.fit.minimize``), every pooled and lane row kept monotone with
``groove.fit.project_monotone_offsets`` after each step.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from groove.fit import FitResult, minimize, project_monotone_offsets
from groove.losses import huber

#: Huber threshold in robust standard deviations (95% efficiency for Gaussian noise).
HUBER_K = 1.345
#: Smallest Huber threshold in steps (keeps a quantized input well posed).
MIN_DELTA_STEP = 0.01
#: Gaussian consistency factor of the median absolute deviation.
MAD_SIGMA = 1.4826


class LaneOffsets(NamedTuple):
    """Fitted offsets in fractions of a step (see the module docstring)."""

    pooled: np.ndarray
    lanes: np.ndarray
    beat: np.ndarray
    lane_beat: np.ndarray
    fit: FitResult


def cell_medians(values, cell, n_cells, fallback) -> tuple:
    """Median of ``values`` per cell (``fallback`` where a cell is empty) and the counts."""
    out = np.array(np.broadcast_to(fallback, (n_cells,)), dtype=np.float64)
    count = np.bincount(cell, minlength=n_cells)
    order = np.argsort(cell, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(count)])
    for c in np.flatnonzero(count):
        out[c] = np.median(values[order[bounds[c] : bounds[c + 1]]])
    return out, count


def robust_scale(u_step, step, n_steps) -> float:
    """Robust standard deviation (1.4826 MAD) of residuals about their step medians."""
    med, _ = cell_medians(u_step, step, n_steps, 0.0)
    return float(MAD_SIGMA * np.median(np.abs(u_step - med[step]))) if u_step.size else 0.0


def huber_delta(u_step, step, n_steps) -> float:
    """The Huber threshold in steps: ``HUBER_K`` robust standard deviations."""
    return max(HUBER_K * robust_scale(u_step, step, n_steps), MIN_DELTA_STEP)


@functools.lru_cache(maxsize=32)
def _penalty(n_lanes, n_steps, cycle, kappa_step, kappa_lane):
    """Hessian of the three shrinkage terms over x = [beat, lane_beat, lanes, pooled]."""
    L, N, B = n_lanes, n_steps, cycle
    iq, io, ig = B, B + L * B, B + L * B + L * N
    k = np.arange(N)
    lane_rows = (io + np.arange(L)[:, None] * N + k).ravel()
    lane_prior = (iq + np.arange(L)[:, None] * B + k % B).ravel()
    q_rows = (iq + np.arange(L)[:, None] * B + np.arange(B)).ravel()
    pairs = [
        (lane_rows, lane_prior, kappa_step),
        (ig + k, k % B, kappa_step),
        (q_rows, np.tile(np.arange(B), L), kappa_lane),
    ]
    H = np.zeros((ig + N, ig + N))
    for a, b, w in pairs:  # w/2 (x_a - x_b)^2 for each pair
        np.add.at(H, (a, a), w)
        np.add.at(H, (b, b), w)
        np.add.at(H, (a, b), -w)
        np.add.at(H, (b, a), -w)
    H.setflags(write=False)
    return H


def _start(u, step, lane, L, N, B):
    """Cell medians, each empty cell falling back to its parent: a robust first guess."""
    has = lane >= 0
    beat, _ = cell_medians(u, step % B, B, 0.0)
    lane_beat, _ = cell_medians(u[has], lane[has] * B + step[has] % B, L * B, np.tile(beat, L))
    prior = lane_beat.reshape(L, B)[:, np.arange(N) % B].ravel()
    lanes, _ = cell_medians(u[has], lane[has] * N + step[has], L * N, prior)
    pooled, _ = cell_medians(u, step, N, beat[np.arange(N) % B])
    return np.concatenate([beat, lane_beat, lanes, pooled])


def fit_lane_offsets(
    u_step,
    step,
    lane,
    n_lanes,
    n_steps,
    cycle,
    *,
    delta_step,
    kappa_step,
    kappa_lane,
    margin=0.01,
    tol=1e-7,
    max_iter=500,
) -> LaneOffsets:
    """Minimise the hierarchical Huber objective of the module docstring.

    Parameters
    ----------
    u_step : ndarray, shape (m,)
        Played minus grid position of each note, in steps.
    step : ndarray of int, shape (m,)
        Grid step of each note within the period, 0 .. n_steps - 1.
    lane : ndarray of int, shape (m,)
        Lane of each note, 0 .. n_lanes - 1, or -1 (only the pooled fit).
    n_lanes, n_steps, cycle : int
        Lanes, steps per period and steps per beat (``cycle`` divides
        ``n_steps``; 1 ties every step of a lane together).
    delta_step : float
        Huber threshold in steps.
    kappa_step, kappa_lane : float
        Shrinkage weights (notes' worth) toward the beat profile and toward
        all notes.
    margin : float
        Least gap between consecutive knots in steps (keeps T monotone).
    """
    L, N, B = int(n_lanes), int(n_steps), int(cycle)
    io, ig = B + L * B, B + L * B + L * N
    has = lane >= 0
    cell = np.concatenate([io + lane[has] * N + step[has], ig + step])
    obs = np.concatenate([u_step[has], u_step])
    H = _penalty(L, N, B, float(kappa_step), float(kappa_lane))
    n_par = ig + N

    def fun_and_grad(x):
        value, slope = huber(obs - x[cell], delta_step)
        pen = H @ x
        return float(value.sum() + 0.5 * x @ pen), pen - np.bincount(cell, slope, minlength=n_par)

    rows = np.arange(io, n_par).reshape(L + 1, N)
    nxt = (np.arange(N) + 1) % N

    def project(x):
        off = x[rows]
        bad = ((off[:, nxt] - off) < margin - 1.0).any(axis=1)
        if not bad.any():
            return x
        x = x.copy()
        for r in np.flatnonzero(bad):
            x[rows[r]] = project_monotone_offsets(off[r], margin)
        return x

    res = minimize(
        fun_and_grad,
        _start(u_step, step, lane, L, N, B),
        project=project,
        tol=tol,
        max_iter=max_iter,
    )
    x = res.x
    return LaneOffsets(
        x[ig:].copy(),
        x[io:ig].reshape(L, N).copy(),
        x[:B].copy(),
        x[B:io].reshape(L, B).copy(),
        res,
    )


def predict(offsets: LaneOffsets, step, lane) -> np.ndarray:
    """Each note's fitted offset in steps: its lane's, or the pooled one for lane -1."""
    if offsets.lanes.shape[0] == 0:
        return offsets.pooled[step]
    return np.where(lane >= 0, offsets.lanes[np.maximum(lane, 0), step], offsets.pooled[step])


def cross_validate(u_step, step, lane, fold, weight, choices, **fit_kw):
    """The ``kappa_step`` of ``choices`` with the least held-out weighted absolute error.

    Each fold is held out in turn (the others fit); ``weight`` turns a note's
    error in steps into ms.  Folds whose training part has no notes are
    skipped.  Returns ``(best, {choice: error_sum})``.
    """
    scores = {c: 0.0 for c in choices}
    for f in np.unique(fold):
        train, held = fold != f, fold == f
        if not train.any():
            continue
        for c in choices:
            fit = fit_lane_offsets(u_step[train], step[train], lane[train], kappa_step=c, **fit_kw)
            err = np.abs(u_step[held] - predict(fit, step[held], lane[held]))
            scores[c] += float(np.sum(err * weight[held]))
    return min(choices, key=lambda c: (scores[c], choices.index(c))), scores


def fit_lane_velocity(velocity, step, lane, n_lanes, n_steps, cycle, kappa=2.0):
    """Typical velocity per lane and step, and pooled per step: shrunk medians.

    Each cell's median is pulled toward its parent (step -> same position in
    the lane's beat -> the lane's median -> all notes) as
    ``(n * median + kappa * parent) / (n + kappa)``.

    Returns
    -------
    pooled : ndarray, shape (n_steps,)
    lanes : ndarray, shape (n_lanes, n_steps)
    """
    v = np.asarray(velocity, dtype=np.float64)
    L, N, B = int(n_lanes), int(n_steps), int(cycle)
    top = float(np.median(v)) if v.size else 0.0

    def shrunk(values, cells, n_cells, prior):
        med, count = cell_medians(values, cells, n_cells, prior)
        return (count * med + kappa * prior) / (count + kappa)

    beat = shrunk(v, step % B, B, np.full(B, top))
    pooled = shrunk(v, step, N, beat[np.arange(N) % B])
    has = lane >= 0
    vl, sl, ll = v[has], step[has], lane[has]
    lane_all = shrunk(vl, ll, L, np.full(L, top))
    lane_beat = shrunk(vl, ll * B + sl % B, L * B, np.repeat(lane_all, B))
    prior = lane_beat.reshape(L, B)[:, np.arange(N) % B].ravel()
    lanes = shrunk(vl, ll * N + sl, L * N, prior).reshape(L, N)
    return pooled, lanes
