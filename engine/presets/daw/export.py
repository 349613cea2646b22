"""Any preset to a DAW format: sample its curve on a grid the format holds.

All three formats are "grid steps pulled to new times, straight lines in
between", so a linear curve whose knots lie on a grid the format has is
written exactly (swings, linear templates, blends of such).  Anything else
(pchip, a blend on a finer common grid than the format has) is sampled on
the grid that fits with the smallest error; within APPROX_BEAT it is
written with a warning giving that error, beyond it only when asked
(``approximate``).  Lanes are folded into the main curve (the formats hold one curve),
with a warning.  This module evaluates curves, so it loads the kernels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from groove import grid_step_beat

from . import agr, rgt, tracktion
from .common import (
    AUTO_GRIDS,
    MAX_FILE_BEAT,
    OFFSET_DECIMALS,
    DawError,
    fmt,
    nearest_step,
    preset_name,
)

FORMATS = ("agr", "rgt", "tracktion")
SUFFIX = {"agr": ".agr", "rgt": ".rgt", "tracktion": ".xml"}
_GRIDS = {
    "agr": agr.LIVE_GRIDS,
    "rgt": AUTO_GRIDS,
    "tracktion": tuple(tracktion.NOTES_PER_BEAT_GRIDS.values()),
}
#: Largest error (beats) still called exact: rounding of the written numbers.
EXACT_BEAT = 1e-9
#: Largest error (beats) written without ``approximate``: 1 ms at 120 bpm.
APPROX_BEAT = 0.002


@dataclass
class Exported:
    """The bytes of a DAW file and what the conversion lost."""

    data: bytes
    grid: str
    period_beat: float
    max_error_beat: float
    warnings: list = field(default_factory=list)


def _frac(x: float) -> Fraction:
    return Fraction(x).limit_denominator(1 << 16)


def _fits(offsets, positions, grid: str, fmt_name: str) -> bool:
    if fmt_name == "tracktion":
        return bool(np.all(np.abs(offsets) <= 0.5))
    # a point pulls its nearest step: each written position must read back (by the
    # importer's own rule, ties and near-ties to the earlier step) as its own step's
    if not np.all((offsets > -0.5) & (offsets <= 0.5)):
        return False
    step, n = grid_step_beat(grid), offsets.size
    return all(nearest_step(float(y), step)[0] % n == k for k, y in enumerate(positions))


def _positions(t, off, step: float, beats: float):
    """Where the points are written: the steps moved, folded into the file's length."""
    return (t + off * step) % beats


def _sample(groove, grid: str, span: Fraction):
    step = grid_step_beat(grid)
    n = int(span / step)
    t = np.arange(n) * float(step)
    y = groove.forward(t)
    off = np.round((y - t) / float(step), OFFSET_DECIMALS) + 0.0
    off = np.where(np.abs(off - 0.5) <= 1e-9, 0.5, off)
    return t, off, float(step)


def _max_error(groove, grid: str, offsets, period: float) -> float:
    step = float(grid_step_beat(grid))
    n = offsets.size
    x = np.linspace(0.0, period, 64 * max(1, int(round(period / step))), endpoint=False)
    k = np.floor(x / step).astype(np.int64)
    frac = x / step - k
    lin = (k + offsets[k % n] + frac * (1.0 + offsets[(k + 1) % n] - offsets[k % n])) * step
    return float(np.max(np.abs(groove.forward(x) - lin)))


def _plan(groove, fmt_name: str, span_of):
    """``(grid, span, offsets, t, step, error)`` for the format.

    A linear curve with its knots on one of the format's grids goes on the
    coarsest such grid it fits, exactly; any other curve on the grid (of
    those it fits) with the smallest error.
    """
    tables = groove.tables()
    knot = _frac(tables.step_beat)
    linear = not np.any(tables.coef[:, 2:])
    grids = _GRIDS[fmt_name]
    period = float(groove.period_beat)
    best = None
    for grid in grids:
        span = span_of(_frac(period), grid)
        if (span / grid_step_beat(grid)).denominator != 1:
            continue
        t, off, step = _sample(groove, grid, span)
        if not _fits(off, _positions(t, off, step, float(span)), grid, fmt_name):
            continue
        err = _max_error(groove, grid, off, float(span))
        on_knots = (knot / grid_step_beat(grid)).denominator == 1
        if linear and on_knots and err <= EXACT_BEAT:
            return grid, span, off, t, step, err
        if best is None or err < best[-1]:
            best = (grid, span, off, t, step, err)
    if best is not None:
        return best
    big = (
        "more than half a step (or half a step early)"
        if fmt_name != "tracktion"
        else ("more than half a cell")
    )
    raise DawError(
        f"the groove moves a grid step by {big} on every grid {fmt_name} has "
        f"({', '.join(grids)}); {fmt_name} cannot hold it (try a smaller timing amount)"
    )


def _whole_beats(period: Fraction, grid: str | None = None) -> Fraction:
    return Fraction(period.numerator)  # the least whole number of beats that repeats it


def _cells(period: Fraction, grid: str) -> Fraction:
    step = grid_step_beat(grid)
    return period * 2 if period / step < 2 else period


def export(preset, to: str, approximate: bool = False) -> Exported:
    """The DAW file of ``preset`` in format ``to`` (agr, rgt or tracktion).

    Parameters
    ----------
    preset : Preset
        Any preset; lanes are folded into the main curve (with a warning).
    to : str
        ``agr``, ``rgt`` or ``tracktion``.
    approximate : bool
        Write the nearest the format holds even when it is more than
        APPROX_BEAT off (the warning gives the error).

    Raises
    ------
    DawError
        The groove cannot be held by the format (a step moved by half a step
        or more, a period too long for it, or, without ``approximate``, a
        curve the format holds only more than APPROX_BEAT off).
    """
    if to not in FORMATS:
        raise DawError(f"--to {to!r}: unknown format; use one of {', '.join(FORMATS)}")
    warnings = []
    if preset.lanes:
        names = ", ".join(lane.name for lane in preset.lanes)
        warnings.append(
            f"lanes {names} folded into the main curve: {to} holds one curve, "
            "so their notes follow the main groove there"
        )
    g = preset.groove
    span_of = _cells if to == "tracktion" else _whole_beats
    whole = _whole_beats(_frac(float(g.period_beat)))
    if to != "tracktion" and whole > MAX_FILE_BEAT:
        raise DawError(
            f"the period {fmt(g.period_beat)} beats repeats only after {fmt(whole)} whole "
            f"beats, longer than a {to} file `groove import` reads ({MAX_FILE_BEAT} beats); "
            "give the preset a period of whole beats, or a simpler fraction"
        )
    grid, span, off, t, step, err = _plan(g, to, span_of)
    if err > APPROX_BEAT and not approximate:
        raise DawError(
            f"{to} cannot hold this groove within {fmt(APPROX_BEAT)} beats (1 ms at 120 bpm): "
            f"the nearest is on {grid}, largest error {fmt(err)} beats "
            f"({fmt(err * 500)} ms at 120 bpm); --approximate writes it anyway"
        )
    if err > EXACT_BEAT:
        warnings.append(
            f"the curve is not straight lines between {grid} steps; written as such on "
            f"{grid}, largest error {fmt(err)} beats ({fmt(err * 500)} ms at 120 bpm)"
        )
    name = preset_name(preset.name or "groove", "groove")
    accents = np.asarray(g.accent(t), dtype=np.float64)
    has_accents = not np.allclose(accents, 1.0, rtol=0, atol=1e-12)
    if to == "tracktion":
        n = len(off)
        if n > 1024:
            raise DawError(f"the groove needs {n} cells of {grid}; Tracktion holds at most 1024")
        if has_accents:
            warnings.append("velocity accents dropped: Tracktion templates hold timing only")
        warnings += _amount_losses(preset, to)
        per_beat = int(round(1 / step))
        data = tracktion.document(name, per_beat, [float(2 * o) + 0.0 for o in off])
        return Exported(data, grid, float(span), err, warnings)
    beats = float(span)
    y = _positions(t, off, step, beats)
    order = np.argsort(y, kind="stable")
    warnings += _relative_accents(accents, has_accents, to)
    if to == "rgt":
        warnings += _amount_losses(preset, to)
        levels = [float(a) for a in accents[order]] if has_accents else [None] * len(order)
        data = rgt.document(int(span), [float(v) for v in y[order]], levels)
        return Exported(data, grid, beats, err, warnings)
    amounts, more = _live_amounts(preset.amounts)
    warnings += more
    velocities = [float(127.0 * a) for a in accents[order]]
    data = agr.document(name, grid, beats, [float(v) for v in y[order]], velocities, amounts, step)
    return Exported(data, grid, beats, err, warnings)


def _relative_accents(accents, has_accents: bool, to: str) -> list:
    top = float(np.max(accents)) if has_accents else 1.0
    if top >= 1.0 - 1e-12 or top <= 0.0:
        return []
    return [
        f"the loudest accent is {fmt(top)}: {to} takes velocities relative to the loudest "
        f"note, so there (and imported back) the accents are scaled by {fmt(1 / top)}"
    ]


def _amount_losses(preset, to: str) -> list:
    a = preset.amounts
    lost = [
        f"{label} {fmt(v)}"
        for label, v, default in (
            ("timing", a.timing, 1.0),
            ("quantize", a.quantize, 0.0),
            ("velocity_amount", a.velocity, 0.0),
            ("random time_ms", a.random_ms, 0.0),
            ("random velocity", a.random_velocity, 0.0),
        )
        if v != default
    ]
    if not lost:
        return []
    where = "the SWS groove dialog" if to == "rgt" else "the clip's groove settings"
    return [f"{to} holds no amounts: {', '.join(lost)} not written; set them in {where}"]


def _live_amounts(a) -> tuple:
    warnings = []
    timing = a.timing * 100
    if timing > 100:
        warnings.append(
            f"timing {fmt(a.timing)} written as Live's TimingAmount 100 (its maximum); "
            "Live's global Amount goes to 130%"
        )
        timing = 100.0
    random = a.random_ms * 100 / agr.RANDOM_MS_AT_100
    if random > 100:
        warnings.append(
            f"random time_ms {fmt(a.random_ms)} over Live's Random 100% "
            f"({fmt(agr.RANDOM_MS_AT_100)} ms); written as 100"
        )
        random = 100.0
    if a.random_velocity:
        warnings.append("random velocity not written: Live's Random shakes timing only")
    amounts = {
        "quantize": a.quantize * 100,
        "timing": timing,
        "random": random,
        "velocity": a.velocity * 100,
    }
    return {k: (0.0 if math.isclose(v, 0.0, abs_tol=1e-12) else v) for k, v in amounts.items()}, (
        warnings
    )
