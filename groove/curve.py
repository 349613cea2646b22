"""Groove curves: a small immutable value type and its constructors.

A groove maps musical time in beats to grooved time in beats, T(t) = t + D(t)
with D periodic.  Constructors validate everything and compile the curve to
the tables the numba kernels read (``groove._build``); evaluation goes through
``Groove.forward`` / ``Groove.inverse``, which validate their input and call
the kernels.  The value type itself (``Groove``, ``CurveTables``,
``MAX_TIMING``, the lazily built inverse guess table) lives in
``groove._groove`` and is re-exported here; this module holds the
constructors.  They run on the caller's thread (the main thread: presets,
the CLI, ``Engine.prepare``), never on an audio thread.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from . import _build
from ._groove import MAX_TIMING, CurveTables, Groove, _Accent, _check_number  # noqa: F401
from .errors import GrooveError
from .grid import MAX_PERIOD_BEAT, as_fraction, gcd_fraction, grid_step_beat, lcm_fraction


def _check_vector(values, name, size, lo=-math.inf, hi=math.inf):
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise GrooveError(f"{name}: expected a list of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size != size:
        raise GrooveError(
            f"{name}: expected {size} values (one per grid step), got "
            f"{arr.size if arr.ndim == 1 else arr.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < lo) | (arr > hi))
    if bad.size:
        raise GrooveError(
            f"{name}: step {bad[0]} is {values[bad[0]]!r}; allowed: finite, from {lo:g} to {hi:g}"
        )
    return arr


def template(
    offsets,
    grid: str = "1/16",
    period=4,
    interp: str = "linear",
    velocity=None,
    *,
    _kind="template",
    _params=None,
) -> Groove:
    """A groove from one timing offset per grid step.

    Parameters
    ----------
    offsets : sequence of float
        One per step, in fractions of a step (late > 0).  Knot k maps
        ``k*step`` to ``(k + offsets[k]) * step``.
    grid : str
        Step length, e.g. ``"1/16"`` (0.25 beat) or ``"1/8t"`` (1/3 beat).
    period : float
        Period in beats; must be a whole number of steps.
    interp : {"linear", "pchip"}
        Straight lines between knots, or a monotone cubic (Fritsch-Carlson).
    velocity : sequence of float, optional
        Velocity accents 0..1 per step (1 = full velocity).
    """
    step = grid_step_beat(grid)
    period_f = as_fraction(period, "period")
    n = period_f / step
    if n.denominator != 1:
        raise GrooveError(
            f"period: {period!r} beats is not a whole number of {grid} steps "
            f"({float(step):g} beat each); use a multiple of {float(step):g}"
        )
    n = n.numerator
    if period_f > MAX_PERIOD_BEAT:
        raise GrooveError(f"period: {period!r} beats is longer than {MAX_PERIOD_BEAT}")
    if interp not in ("linear", "pchip"):
        raise GrooveError(f"interp: {interp!r} is not known; use 'linear' or 'pchip'")
    offs = _check_vector(offsets, "offsets", n)
    rise = np.roll(offs, -1) - offs
    if (rise < -1.0).any():
        k = int(np.flatnonzero(rise < -1.0)[0])
        raise GrooveError(
            f"offsets: step {k} ({offs[k]:g}) to step {(k + 1) % n} ({offs[(k + 1) % n]:g}) "
            "makes the groove run backwards; each offset may be at most 1 step below "
            "the one before it"
        )
    acc = np.ones(n) if velocity is None else _check_vector(velocity, "velocity", n, 0.0, 1.0)
    dev = offs * float(step)
    coef = (
        _build.pchip_coef(dev, float(step))
        if interp == "pchip"
        else _build.linear_coef(dev, float(step))
    )
    params = dict(grid=grid, period=float(period_f), interp=interp, offsets=offs.tolist())
    if velocity is not None:
        params["velocity"] = acc.tolist()
    return Groove(
        _kind, grid, _params or params, period_f, step, coef, [_Accent(1.0, float(step), acc)]
    )


def swing(amount, grid: str = "1/16") -> Groove:
    """MPC/Linn swing: ``amount`` % of each pair of ``grid`` steps goes to the first.

    50 is straight, 66.67 a triplet feel, 75 hard swing.  The off-beat step
    lands at ``(amount / 50) * step``; positions between grid lines move along
    straight lines between the knots.
    """
    a = _check_number(amount, "amount")
    if not 0.0 < a < 100.0:
        raise GrooveError(
            f"amount: {a!r} is outside (0, 100); 50 is straight, 66.67 triplet feel, 75 hard swing"
        )
    return template(
        [0.0, (a - 50.0) / 50.0],
        grid=grid,
        period=swing_period_beat(grid),
        _kind="swing",
        _params=dict(amount=a, grid=grid),
    )


def swing_period_beat(grid: str) -> Fraction:
    """Period of a swing on ``grid``: one pair of steps."""
    return 2 * grid_step_beat(grid)


def straight(grid: str = "1/16") -> Groove:
    """The identity groove T(t) = t."""
    step = grid_step_beat(grid)
    return Groove(
        "straight",
        grid,
        dict(grid=grid),
        step,
        step,
        np.zeros((1, 4)),
        [_Accent(1.0, float(step), np.ones(1))],
    )


def blend(parts) -> Groove:
    """Weighted blend D = sum(w_i * D_i) of grooves, weights normalised to 1.

    Parameters
    ----------
    parts : sequence of (Groove, float)
        Grooves and their weights (>= 0, not all 0).  The period is the least
        common multiple of the parts' periods (at most 64 beats).
    """
    parts = list(parts)
    if not parts:
        raise GrooveError("parts: a blend needs at least one (groove, weight) pair")
    for i, part in enumerate(parts):
        if not (isinstance(part, (tuple, list)) and len(part) == 2 and isinstance(part[0], Groove)):
            raise GrooveError(f"parts[{i}]: expected a (Groove, weight) pair, got {part!r}")
    weights = np.array([_check_number(w, f"parts[{i}] weight") for i, (_, w) in enumerate(parts)])
    if (weights < 0).any():
        i = int(np.flatnonzero(weights < 0)[0])
        raise GrooveError(f"parts[{i}] weight: {weights[i]:g} is negative; weights must be >= 0")
    if weights.sum() <= 0:
        raise GrooveError("weights: all are 0; give at least one part a weight > 0")
    weights = weights / weights.sum()
    period, step = parts[0][0]._period, parts[0][0]._step
    for g, _ in parts[1:]:
        period = lcm_fraction(period, g._period)
        step = gcd_fraction(step, g._step)
    if period > MAX_PERIOD_BEAT:
        raise GrooveError(
            f"parts: the blend's period would be {float(period):g} beats (the least common "
            f"multiple of {', '.join(f'{float(g._period):g}' for g, _ in parts)}), over "
            f"{MAX_PERIOD_BEAT}; blend grooves whose periods share a multiple"
        )
    if period / step > _build.MAX_SEGMENTS:
        raise GrooveError(
            f"parts: the blend needs {period / step} segments, over "
            f"{_build.MAX_SEGMENTS}; mix fewer grids"
        )
    coef = sum(
        w * _build.resample(g._coef, g._step, step, period) for (g, _), w in zip(parts, weights)
    )
    accents = [
        _Accent(w * a.weight, a.step_beat, a.values)
        for (g, _), w in zip(parts, weights)
        for a in g._accents
    ]
    heaviest = parts[int(np.argmax(weights))][0]
    params = dict(parts=[(g.params, float(w)) for (g, _), w in zip(parts, weights)])
    return Groove("blend", heaviest.grid, params, period, step, coef, accents)
