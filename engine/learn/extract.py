"""Learn a groove preset from a recorded performance: the API behind ``groove extract``.

Each played note is assigned to its nearest grid step (or paired with its
score note, ``engine.learn.scorematch``); its residual (played minus grid, in
steps) feeds the robust hierarchical fit of ``engine.learn.lanefit``, which gives
one offset per step for all notes (the preset's main groove) and one per
lane and step.  Lanes are drum families by the General MIDI drum map for
notes on channel 10, otherwise one per instrument (track and channel) when
their pitches do not overlap.  How strongly a step is tied to the same
position in the other beats of its lane (``kappa_step``: one offset per
bar step versus one per beat step) is chosen by cross-validation over
contiguous blocks of bars.  Velocity accents are each lane's typical
velocity per step (shrunk medians) over its loudest step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

import groove
from groove.grid import grid_step_beat

from . import lanefit
from .performance import (
    Assignment,
    ExtractError,
    Performance,
    assign_grid,
    assign_score,
    select_bars,
)

#: A fit needs at least this many notes on the grid.
MIN_NOTES = 8
#: A lane is written only with at least this many notes.
MIN_LANE_NOTES = 4
#: ... and only if it differs from the main groove by more than this somewhere.
LANE_SAME_MS = 1.0
#: Shrinkage of a lane toward all notes, in notes' worth.
KAPPA_LANE = 4.0
#: Candidates for the tie of each step to its lane's beat profile (notes' worth).
KAPPA_STEP_CHOICES = (2.0, 16.0, 128.0)
#: Used when there are too few bars to cross-validate.
KAPPA_STEP_DEFAULT = 16.0
#: Cross-validation folds (contiguous blocks of bars).
CV_FOLDS = 3
#: Shrinkage of per-step velocities toward their parents, in notes' worth.
VELOCITY_KAPPA = 2.0
#: General MIDI channel 10, as mido numbers channels.
DRUM_CHANNEL = 9
#: Drum lanes by the GM drum map; 22, 26 (hi-hat edge) and 58 (floor tom rim) are
#: the Roland TD-11 notes of the Groove MIDI Dataset.  The pedal hi-hat (a foot)
#: and the cross-stick (another stroke) get lanes of their own.
DRUM_LANES = (
    ("kick", (35, 36)),
    ("snare", (38, 39, 40)),
    ("cross-stick", (37,)),
    ("hi-hat", (22, 26, 42, 46)),
    ("hi-hat-pedal", (44,)),
    ("toms", (41, 43, 45, 47, 48, 50, 58)),
    ("ride", (51, 53, 59)),
    ("crash", (49, 52, 55, 57)),
)
LANE_MODES = ("auto", "none")


@dataclass(frozen=True)
class Lanes:
    """Lane names, their pitches, and each note's lane (-1: main groove only)."""

    names: tuple = ()
    notes: tuple = ()
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))


def steps_per_period(grid: str, period) -> tuple:
    """(step_beat, n_steps, cycle) of a grid and period; ExtractError if they do not fit."""
    try:
        step = grid_step_beat(grid)
    except groove.GrooveError as exc:
        raise ExtractError(str(exc).replace("grid:", "--grid:", 1)) from None
    per = Fraction(period).limit_denominator(1 << 20)
    if per <= 0 or per > groove.MAX_PERIOD_BEAT:
        raise ExtractError(
            f"--period: {period!r} beats; use a length from {float(step):g} "
            f"to {groove.MAX_PERIOD_BEAT} beats"
        )
    n = per / step
    if n.denominator != 1:
        raise ExtractError(
            f"--grid {grid} ({float(step):g} beat per step) does not divide "
            f"--period {float(per):g} beats; use a period that is a multiple "
            f"of {float(step):g} beat, or another grid"
        )
    beat = 1 / step
    cycle = int(beat) if beat.denominator == 1 and n.numerator % int(beat) == 0 else 1
    return float(step), n.numerator, cycle


def detect_lanes(asg: Assignment, mode: str, track_names=()) -> Lanes:
    """Drum families for channel-10 notes, else one lane per instrument if pitches differ."""
    if mode not in LANE_MODES:
        raise ExtractError(f"--lanes: {mode!r}; use auto or none")
    n = len(asg)
    none = Lanes(index=np.full(n, -1, np.int64))
    if mode == "none" or n == 0:
        return none
    drum = asg["channel"] == DRUM_CHANNEL
    if drum.any():
        names, notes, index = [], [], np.full(n, -1, np.int64)
        for name, pitches in DRUM_LANES:
            mine = drum & np.isin(asg["pitch"], pitches)
            if mine.sum() >= MIN_LANE_NOTES:
                index[mine] = len(names)
                names.append(name)
                notes.append(tuple(pitches))
        return Lanes(tuple(names), tuple(notes), index)
    inst, index = np.unique(asg["instrument"], return_inverse=True)
    sets = [set(asg["pitch"][index == i].tolist()) for i in range(inst.size)]
    if inst.size < 2 or sum(len(s) for s in sets) != len(set().union(*sets)):
        return none
    names = _instrument_names(inst, track_names)
    return Lanes(tuple(names), tuple(tuple(sorted(s)) for s in sets), index.astype(np.int64))


def _instrument_names(codes, track_names) -> list:
    """Lane names of instruments (track * 16 + channel): the track's name, made unique."""
    names = []
    for code in codes:
        track = int(code) // 16
        name = track_names[track].strip().lower() if track < len(track_names) else ""
        names.append("-".join(name.split()) or f"track{track}")
    for suffix in (lambda c: f"-{c // 16}", lambda c: f"-ch{c % 16 + 1}"):
        if len(set(names)) < len(names):
            names = [n + suffix(int(c)) for n, c in zip(names, codes)]
    return names


@dataclass(frozen=True)
class LaneResult:
    """One written lane: its pitches, offsets (fractions of a step) and accents.

    ``velocity_peak`` is the typical velocity of its loudest step (accent 1).
    """

    name: str
    notes: tuple
    offsets: np.ndarray
    velocity: np.ndarray
    n_notes: int
    velocity_peak: float


@dataclass(frozen=True)
class Extraction:
    """A learned groove with what it was learned from and how well it fits.

    ``residual_ms`` is the mean |played - groove| over the notes used (in
    sample); ``quantized_ms`` the same against the straight grid.
    """

    source: str
    grid: str
    period_beat: float
    offsets: np.ndarray
    velocity: np.ndarray
    velocity_peak: float
    lanes: tuple
    notes_used: int
    notes_total: int
    residual_ms: float
    quantized_ms: float
    delta_ms: float
    kappa_step: float
    fit: lanefit.LaneOffsets
    lane_names: tuple
    score: str | None = None
    match_share: float | None = None
    bars: tuple | None = None
    warnings: tuple = ()
    notes: Assignment | None = field(default=None, repr=False)
    lane_index: np.ndarray | None = field(default=None, repr=False)

    def to_mapping(self, name: str, description: str = "") -> dict:
        """The preset as plain data in the presets format."""
        out = dict(
            name=name,
            description=description or f"learned from {self.source}",
            kind="template",
            period=_number(self.period_beat),
            grid=self.grid,
            interp="linear",
            offsets=_rounded(self.offsets),
            velocity=_rounded(self.velocity),
        )
        if self.lanes:
            out["lanes"] = {
                ln.name: dict(
                    notes=[int(p) for p in ln.notes],
                    offsets=_rounded(ln.offsets),
                    velocity=_rounded(ln.velocity),
                )
                for ln in self.lanes
            }
        return out

    def to_preset(self, name: str = "extracted"):
        """An ``engine.presets.model.Preset`` of the rounded offsets (what a file would hold)."""
        from engine.presets.model import Lane, Preset

        def make(offsets, velocity):
            return groove.template(
                _rounded(offsets),
                grid=self.grid,
                period=self.period_beat,
                velocity=_rounded(velocity),
            )

        lanes = tuple(
            Lane(ln.name, tuple(ln.notes), make(ln.offsets, ln.velocity)) for ln in self.lanes
        )
        return Preset(
            name=name,
            groove=make(self.offsets, self.velocity),
            lanes=lanes,
            kind="template",
            description=f"learned from {self.source}",
        )

    def header_comment(self) -> str:
        """The comment a written preset starts with: source, notes used, residual."""
        src = self.source + (f" with score {self.score}" if self.score else "")
        bars = f", bars {self.bars[0]}-{self.bars[1]}" if self.bars else ""
        matched = (
            f", {100 * self.match_share:.0f}% of notes paired with the score"
            if self.match_share is not None
            else ""
        )
        lanes = ", ".join(ln.name for ln in self.lanes) or "none"
        return (
            f"groove extract: learned from {src}\n"
            f"notes used: {self.notes_used} of {self.notes_total}{bars}{matched}; "
            f"grid {self.grid}, period {_number(self.period_beat)} beats; lanes: {lanes}\n"
            f"fit residual: {self.residual_ms:.1f} ms mean |played - groove| "
            f"({self.quantized_ms:.1f} ms on the straight grid); Huber delta "
            f"{self.delta_ms:.1f} ms, kappa_step {self.kappa_step:g}"
        )


def _number(x):
    return int(x) if float(x).is_integer() else float(x)


def _rounded(values):
    return [round(float(v), 4) for v in np.asarray(values).ravel()]


def cv_folds(bar, n_folds=CV_FOLDS) -> np.ndarray:
    """Fold of each note: contiguous blocks of bars, about equal in bars."""
    bars = np.unique(bar)
    if bars.size < n_folds:
        return np.zeros(bar.size, np.int64)
    block = np.minimum(np.arange(bars.size) * n_folds // bars.size, n_folds - 1)
    return block[np.searchsorted(bars, bar)]


def fit_assignment(
    asg: Assignment, lanes: Lanes, n_steps: int, cycle: int, step_beat: float, kappa_step=None
):
    """The robust lane fit of the assigned notes; ``kappa_step`` None: by cross-validation.

    Returns ``(LaneOffsets, kappa_step, delta_step)``.
    """
    u = asg["residual_beat"] / step_beat
    step, lane = asg["step"], lanes.index
    delta = lanefit.huber_delta(u, step, n_steps)
    kw = dict(
        n_lanes=len(lanes.names),
        n_steps=n_steps,
        cycle=cycle,
        delta_step=delta,
        kappa_lane=KAPPA_LANE,
    )
    if kappa_step is None:
        fold = cv_folds(asg["bar"])
        if np.unique(fold).size < CV_FOLDS:
            kappa_step = KAPPA_STEP_DEFAULT
        else:
            weight = asg["ms_per_beat"] * step_beat
            kappa_step, _ = lanefit.cross_validate(
                u, step, lane, fold, weight, KAPPA_STEP_CHOICES, **kw
            )
    return lanefit.fit_lane_offsets(u, step, lane, kappa_step=kappa_step, **kw), kappa_step, delta


def _accents(typical):
    top = np.max(typical, axis=-1, keepdims=True)
    return np.clip(typical / np.where(top > 0, top, 1.0), 0.0, 1.0)


def build(
    asg: Assignment,
    lanes: Lanes,
    *,
    source,
    grid,
    period_beat,
    notes_total,
    kappa_step=None,
    **info,
) -> Extraction:
    """Fit offsets and accents of assigned notes and keep the lanes that differ."""
    if len(asg) < MIN_NOTES:
        raise ExtractError(
            f"{source}: {len(asg)} note(s) to learn from; a groove needs at "
            f"least {MIN_NOTES} (use a longer part, or widen --bars/--tracks/"
            "--channels/--notes)"
        )
    step_beat, n_steps, cycle = steps_per_period(grid, period_beat)
    fit, kappa_step, delta = fit_assignment(asg, lanes, n_steps, cycle, step_beat, kappa_step)
    v_main, v_lanes = lanefit.fit_lane_velocity(
        asg["velocity"], asg["step"], lanes.index, len(lanes.names), n_steps, cycle, VELOCITY_KAPPA
    )
    ms_per_step = float(np.median(asg["ms_per_beat"])) * step_beat
    kept = []
    for i, name in enumerate(lanes.names):
        count = int(np.sum(lanes.index == i))
        differs = np.max(np.abs(fit.lanes[i] - fit.pooled)) * ms_per_step > LANE_SAME_MS
        if count >= MIN_LANE_NOTES and differs:
            kept.append(
                LaneResult(
                    name,
                    lanes.notes[i],
                    fit.lanes[i],
                    _accents(v_lanes[i]),
                    count,
                    float(v_lanes[i].max()),
                )
            )
    written = _written_offsets(asg, lanes, fit, kept)
    ms = asg["ms_per_beat"]
    resid = np.abs(asg["residual_beat"] - written * step_beat) * ms
    return Extraction(
        source=source,
        grid=grid,
        period_beat=float(period_beat),
        offsets=fit.pooled,
        velocity=_accents(v_main),
        velocity_peak=float(v_main.max()),
        lanes=tuple(kept),
        notes_used=len(asg),
        notes_total=notes_total,
        residual_ms=float(np.mean(resid)),
        quantized_ms=float(np.mean(np.abs(asg["residual_beat"]) * ms)),
        delta_ms=delta * ms_per_step,
        kappa_step=float(kappa_step),
        fit=fit,
        lane_names=lanes.names,
        notes=asg,
        lane_index=lanes.index,
        **info,
    )


def _written_offsets(asg, lanes, fit, kept):
    """Each note's offset (steps) under the lanes actually written."""
    out = fit.pooled[asg["step"]].copy()
    names = {ln.name for ln in kept}
    for i, name in enumerate(lanes.names):
        if name in names:
            sel = lanes.index == i
            out[sel] = fit.lanes[i][asg["step"][sel]]
    return out


def extract(
    perf: Performance,
    *,
    grid="1/16",
    period=4,
    lanes="auto",
    bars=None,
    score: Performance | None = None,
    kappa_step=None,
) -> Extraction:
    """Learn a groove from a performance (see the module docstring).

    Parameters
    ----------
    perf : Performance
        The played notes (``engine.learn.performance.read``).
    grid, period : str, float
        The template's grid and period in beats.
    lanes : {"auto", "none"}
    bars : (int, int), optional
        First and last bar to use, 1-based (of the score when one is given).
    score : Performance, optional
        The quantized score of the same notes; notes are paired with it
        instead of being snapped to the grid.
    kappa_step : float, optional
        Fix the step-to-beat tie instead of cross-validating it.
    """
    step_beat, n_steps, _ = steps_per_period(grid, period)
    warnings = list(meter_warnings(score or perf, period))
    if score is None:
        warnings += triplet_hint(perf, grid)
    info = {}
    if score is None:
        asg = assign_grid(perf, step_beat, n_steps)
        names = perf.track_names
    else:
        asg, share = assign_score(perf, score, step_beat, n_steps, float(period))
        info.update(score=score.path, match_share=share)
        names = score.track_names
    if bars is not None:
        asg = select_bars(asg, bars, perf.path)
        info["bars"] = tuple(bars)
    return build(
        asg,
        detect_lanes(asg, lanes, names),
        source=perf.path,
        grid=grid,
        period_beat=float(period),
        notes_total=perf.notes_total,
        kappa_step=kappa_step,
        warnings=tuple(warnings),
        **info,
    )


#: Hint at a triplet grid when it leaves this share of the chosen grid's residual or less.
TRIPLET_HINT_RATIO = 0.8


def triplet_hint(perf: Performance, grid: str):
    """A hint when the notes sit clearly closer to the triplet grid a third coarser."""
    import re

    m = re.fullmatch(r"1/(\d+)", grid.strip())
    if m is None or int(m.group(1)) < 8 or len(perf) < MIN_NOTES:
        return
    step = float(grid_step_beat(grid))
    triplet = f"1/{int(m.group(1)) // 2}t"

    def off_ms(step_beat):
        b = perf.start_beat
        return float(np.median(np.abs(b - np.rint(b / step_beat) * step_beat) * perf.ms_per_beat))

    straight_ms, triplet_ms = off_ms(step), off_ms(step * 4.0 / 3.0)
    if triplet_ms < TRIPLET_HINT_RATIO * straight_ms:
        yield (
            f"the notes sit closer to a {triplet} grid than to {grid} (median {triplet_ms:.0f} "
            f"vs {straight_ms:.0f} ms off): the feel looks like triplets; try --grid "
            f"{triplet}"
        )


def meter_warnings(perf: Performance, period):
    """A warning when the file's bar is not the period (and how to set --period)."""
    if perf.time_signature is None:
        return
    num, den = perf.time_signature
    if abs(perf.bar_beat - float(period)) > 1e-9:
        yield (
            f"{perf.path} is in {num}/{den} (a bar of {_number(perf.bar_beat)} beats) but "
            f"the period is {_number(period)} beats; pass --period "
            f"{_number(perf.bar_beat)} for a one-bar groove"
        )
