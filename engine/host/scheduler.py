"""The timeline scheduler: which notes of a timeline fall into an audio block.

Per block the grooved window [b0, b1) maps back through each lane's inverse
to a range of source positions, the sorted table is scanned there, and every
row found is mapped forward to its grooved beat and so to its frame, in one
numba call (``engine.host._kernels.schedule``).  Nothing is precomputed for the
whole track through the groove, so the groove, its amounts and the tempo can
change between blocks; a cursor and per-row flags keep every row emitted
exactly once, and a sounding-note table pairs every note-on with its
note-off, however the groove changed in between.

Threads: ``Timeline``, ``plan`` and ``prepare`` on the main thread; ``emit``,
``seek`` and ``notes_off`` on the audio thread.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from groove.transform import STREAM_TIMING, STREAM_VELOCITY, note_noise, quantize_beat

from . import _kernels as ek
from .events import NOTE_OFF, NOTE_ON, EventList
from .transport import Segment


@dataclass(frozen=True)
class Timeline:
    """Channel events to play, as arrays sorted by source beat.

    Attributes
    ----------
    src_beat : float64[n]     where the event sits on the timeline (beats)
    end_beat : float64[n]     a note's end; NaN for events that are not notes
    kind, channel, key, value : int64[n]   as in ``engine.host.events``
    track, index : int64[n]   the note's key for random offsets (track, ordinal)
    tempo_us : float64[n]     tempo at the event (microseconds per beat)
    moves : bool[n]           False: the event keeps its place (not grooved)
    row : int64[n]            the caller's id of the row (returned in events' ``note``)
    """

    src_beat: np.ndarray
    end_beat: np.ndarray
    kind: np.ndarray
    channel: np.ndarray
    key: np.ndarray
    value: np.ndarray
    track: np.ndarray
    index: np.ndarray
    tempo_us: np.ndarray
    moves: np.ndarray
    row: np.ndarray

    def __len__(self):
        return self.src_beat.shape[0]

    @classmethod
    def from_arrays(cls, **cols):
        """Build from columns in any order; sorts stably by ``src_beat``."""
        order = np.argsort(np.asarray(cols["src_beat"], dtype=np.float64), kind="stable")
        n = order.shape[0]
        defaults = dict(
            end_beat=np.full(n, np.nan),
            value=np.full(n, 100),
            track=np.zeros(n, np.int64),
            index=np.arange(n),
            tempo_us=np.full(n, 500000.0),
            moves=np.ones(n, bool),
            row=np.arange(n),
            channel=np.zeros(n, np.int64),
        )
        out = {}
        for name, typ in (
            ("src_beat", np.float64),
            ("end_beat", np.float64),
            ("kind", np.int64),
            ("channel", np.int64),
            ("key", np.int64),
            ("value", np.int64),
            ("track", np.int64),
            ("index", np.int64),
            ("tempo_us", np.float64),
            ("moves", bool),
            ("row", np.int64),
        ):
            col = cols.get(name, defaults.get(name))
            out[name] = np.ascontiguousarray(np.asarray(col, dtype=typ)[order])
        return cls(**out)


@dataclass(frozen=True)
class Plan:
    """A timeline under one groove state: what the audio thread reads."""

    pre_beat: np.ndarray  # position after quantize/random, before the groove
    off_pre_beat: np.ndarray  # the same for note ends
    keep_len_beat: np.ndarray  # >= 0: duration kept (ends='keep'); -1: ends grooved
    lane: np.ndarray  # index into bank
    velocity: np.ndarray  # note-on velocity after accents and random
    bank: object  # GrooveBank
    window_beat: float  # largest |pre - src| (bounds the scan)


def make_plan(timeline: Timeline, state, pre_maps=(), ends="groove") -> Plan:
    """Fold a groove state and earlier timing processors into per-row positions.

    Uses the same per-note maths as the direct renderer (``groove.transform``):
    start' = quantize(start) + random; end' = end + (start' - start).
    """
    tl = timeline
    a = state.amounts
    pos = tl.src_beat.copy()
    for m in pre_maps:
        pos = m.pre_map(pos, tl.track, tl.index, tl.tempo_us)
    note = ~np.isnan(tl.end_beat)
    lane = np.where(note, state.lane_of_pitch[np.clip(tl.key, 0, 127)], 0)
    lane = np.where(tl.moves, lane, state.identity_lane).astype(np.int64)
    grid = np.array([g.grid_beat for g in state.bank.grooves])[lane]
    q = np.where(note & tl.moves, quantize_beat(pos, grid, a.quantize) if a.quantize else pos, pos)
    rnd = np.zeros_like(pos)
    if a.random_ms and note.any():
        z = note_noise(a.seed, STREAM_TIMING, tl.track, tl.index)
        rnd = np.where(note & tl.moves, z * a.random_ms * 1000.0 / tl.tempo_us, 0.0)
    pre = q + rnd
    shift = q - tl.src_beat
    off_pre = np.where(note, tl.end_beat + shift + rnd, np.nan)
    keep = np.where(note & (ends == "keep"), tl.end_beat - tl.src_beat, -1.0)
    vel = tl.value.copy()
    moving = note & tl.moves
    if moving.any():  # the renderer's arithmetic, step for step (groove.transform)
        accent = np.ones(len(tl))
        if a.velocity:
            for k, g in enumerate(state.preset.grooves()):
                sel = moving & (lane == k)
                if sel.any():
                    accent[sel] = g.accent(q[sel])
        new = tl.value[moving] * (1.0 + float(a.velocity) * (accent[moving] - 1.0))
        if a.random_velocity:
            new = new + a.random_velocity * note_noise(
                a.seed, STREAM_VELOCITY, tl.track[moving], tl.index[moving]
            )
        vel[moving] = np.clip(np.rint(new), 1, 127)
    window = float(np.max(np.abs(pre - tl.src_beat))) if len(tl) else 0.0
    return Plan(pre, off_pre, keep, lane, vel.astype(np.int64), state.bank, window + 1e-9)


class Scheduler:
    """Plays a Timeline through a Plan, block by block.

    Parameters
    ----------
    timeline : Timeline
    capacity : int
        Most rows one block may emit (a denser block continues in the next).
    """

    def __init__(self, timeline: Timeline, capacity: int = 4096):
        self.timeline = timeline
        self.plan = None
        self._next_plan = None
        n = len(timeline)
        self.emitted = np.zeros(n, np.uint8)
        self.first = 0
        self._idx = np.zeros(capacity, np.int64)
        self._on = np.zeros(capacity)
        self._off = np.zeros(capacity)
        # sounding notes, one per (channel, key): off beat and row; +inf = silent
        self._snd_off = np.full(16 * 128, math.inf)
        self._snd_row = np.full(16 * 128, -1, np.int64)
        self._sounding = []  # slots sounding now (small)
        #: each note's note-off beat as planned when it started (before an
        #: overlap cut it short): the offline writer tidies overlaps itself
        self.planned_off = np.full(n, np.nan)
        self.late = 0
        self._resume_beat = None  # loop start after a wrap segment (see seek)

    # -- main thread ------------------------------------------------------
    def set_plan(self, plan: Plan):
        """Swap in a new plan at the next block (exactly-once is kept)."""
        if self.plan is None:
            self.plan = plan
        else:
            self._next_plan = plan

    def prepare(self):
        """Compile the kernels (call before the stream starts)."""
        p = self.plan
        ek.schedule(
            self.timeline.src_beat[:0],
            p.pre_beat[:0],
            p.off_pre_beat[:0],
            p.lane[:0],
            p.keep_len_beat[:0],
            self.emitted[:0],
            0,
            0.0,
            0.0,
            self._idx,
            self._on,
            self._off,
            *p.bank.args(),
        )
        ek.rewind(
            self.timeline.src_beat[:0],
            p.pre_beat[:0],
            p.lane[:0],
            self.emitted[:0],
            0.0,
            0.0,
            *p.bank.args(),
        )

    # -- audio thread -----------------------------------------------------
    def emit(self, out: EventList, seg: Segment) -> None:
        """Push the events due in one segment (frames relative to the block)."""
        if self._next_plan is not None:
            self.plan, self._next_plan = self._next_plan, None
        p, tl = self.plan, self.timeline
        end = seg.start_beat + seg.frames * seg.beats_per_frame
        if seg.end == "wrap" and math.isfinite(seg.loop_end_beat):
            # Nothing at or after the loop end (the last frame rounds up past it), and
            # the seek that follows goes to the loop start, not to the block's end.
            end = min(end, seg.loop_end_beat)
            self._resume_beat = seg.loop_start_beat
        count, self.first = ek.schedule(
            tl.src_beat,
            p.pre_beat,
            p.off_pre_beat,
            p.lane,
            p.keep_len_beat,
            self.emitted,
            self.first,
            end,
            p.window_beat,
            self._idx,
            self._on,
            self._off,
            *p.bank.args(),
        )
        order = np.argsort(self._on[:count], kind="stable") if count > 1 else range(count)
        for j in order:
            i = int(self._idx[j])
            on = float(self._on[j])
            self._flush_offs(out, seg, on, inclusive=True)
            if tl.kind[i] != NOTE_ON:
                self._push(out, seg, on, tl.kind[i], tl.channel[i], tl.key[i], tl.value[i], i)
                continue
            slot = int(tl.channel[i]) * 128 + int(tl.key[i])
            if self._snd_row[slot] >= 0:  # same key still sounding: end it here
                self._end(out, seg, slot, on)
            self._push(out, seg, on, NOTE_ON, tl.channel[i], tl.key[i], p.velocity[i], i)
            self._snd_off[slot] = max(float(self._off[j]), on)
            self.planned_off[i] = self._off[j]
            self._snd_row[slot] = i
            self._sounding.append(slot)
        self._flush_offs(out, seg, end, inclusive=False)

    def _push(self, out, seg, beat, kind, channel, key, value, row):
        # +1e-6: a beat computed to land exactly on a frame must not floor to the one before
        f = (
            math.floor((beat - seg.start_beat) / seg.beats_per_frame + 1e-6)
            if seg.beats_per_frame > 0
            else 0
        )
        if f < 0:
            self.late += beat < seg.start_beat - 1e-9
            f = 0
        f = min(f, max(seg.frames - 1, 0))
        out.push(seg.offset_frame + f, kind, channel, key, value, beat, int(self.timeline.row[row]))

    def _end(self, out, seg, slot, beat):
        row = int(self._snd_row[slot])
        tl = self.timeline
        self._push(out, seg, beat, NOTE_OFF, tl.channel[row], tl.key[row], 0, row)
        self._snd_off[slot] = math.inf
        self._snd_row[slot] = -1
        self._sounding.remove(slot)

    def _flush_offs(self, out, seg, upto, inclusive):
        while self._sounding:
            slot = min(self._sounding, key=self._snd_off.__getitem__)
            off = self._snd_off[slot]
            if off < upto or (inclusive and off == upto):
                self._end(out, seg, slot, off)
            else:
                return

    def notes_off(self, out: EventList, seg: Segment, beat: float) -> None:
        """Note-offs now for everything sounding (stop, seek, loop)."""
        for slot in sorted(self._sounding, key=self._snd_off.__getitem__):
            self._end(out, seg, slot, beat)

    def forget_sounding(self) -> None:
        """Drop the sounding-note table without note-offs (the caller sends them)."""
        for slot in self._sounding:
            self._snd_off[slot] = math.inf
            self._snd_row[slot] = -1
        self._sounding.clear()

    def seek(self, beat: float) -> None:
        """Continue from grooved ``beat``: rows due before it count as played.

        Right after a loop's wrap segment the loop start is used: the caller
        passes the transport's position, which is already past the whole block.
        """
        if self._resume_beat is not None:
            beat, self._resume_beat = self._resume_beat, None
        if self._next_plan is not None:
            self.plan, self._next_plan = self._next_plan, None
        p, tl = self.plan, self.timeline
        self.first = ek.rewind(
            tl.src_beat, p.pre_beat, p.lane, self.emitted, beat, p.window_beat, *p.bank.args()
        )

    @property
    def done(self) -> bool:
        """Every row emitted and every note ended."""
        return self.first >= len(self.timeline) and not self._sounding
