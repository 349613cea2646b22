"""The per-note maths of rendering: quantize, groove, random offsets, velocity.

Everything here is a pure function of each note's own data (its position,
velocity, lane, and a key naming it), so a renderer working on whole files
and a block scheduler working note by note produce the same results.  No I/O
and no MIDI library: positions are beats, velocities plain numbers.

Random offsets are counter-based: ``note_noise(seed, stream, track, index)``
hashes its arguments with splitmix64 and turns the hash into a standard
normal with Box-Muller, so a note gets the same offset whatever else is
rendered, in any order, on any machine with IEEE doubles (``log``/``cos`` of
the platform's libm are the only possible difference, in the last ulp).
"""

from __future__ import annotations

import math

import numpy as np

from ._numba import kernel
from .errors import GrooveError

#: Streams of ``note_noise``: one for timing, one for velocity.
STREAM_TIMING = 0
STREAM_VELOCITY = 1
#: Random offsets are clipped at this many standard deviations.
CLIP_SIGMA = 2.5
#: How note ends move: with the groove curve, or keeping each duration.
ENDS = ("groove", "keep")

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = 2.0**-53


@kernel
def _mix(x):
    """splitmix64: one step of the generator, used as a 64-bit hash."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


@kernel
def _noise_one(seed, stream, track, index):
    """Standard normal, clipped at +-CLIP_SIGMA, of one (seed, stream, track, index)."""
    key = _mix(
        _mix(_mix(_mix(np.uint64(seed)) ^ np.uint64(stream)) ^ np.uint64(track)) ^ np.uint64(index)
    )
    h1 = _mix(key ^ np.uint64(1))
    h2 = _mix(key ^ np.uint64(2))
    u1 = (float(h1 >> np.uint64(11)) + 1.0) * _TWO_POW_53  # (0, 1]: log is finite
    u2 = float(h2 >> np.uint64(11)) * _TWO_POW_53
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return min(max(z, -CLIP_SIGMA), CLIP_SIGMA)


@kernel
def _noise_many(seed, stream, track, index, out):
    for i in range(out.shape[0]):
        out[i] = _noise_one(seed, stream, track[i], index[i])


def note_noise(seed: int, stream: int, track, index) -> np.ndarray:
    """Deterministic clipped standard normals, one per (track, index) key.

    Parameters
    ----------
    seed : int
        Whole number >= 0 (below 2**64).
    stream : int
        ``STREAM_TIMING`` or ``STREAM_VELOCITY`` (any whole number >= 0).
    track, index : array_like of int
        The note's key: its track and its ordinal among the track's notes.

    Returns
    -------
    numpy.ndarray
        float64 in [-2.5, 2.5], the same for the same key on every call.
    """
    for name, value in (("seed", seed), ("stream", stream)):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, np.integer))
            or not 0 <= int(value) < 2**64
        ):
            raise GrooveError(f"{name}: {value!r} must be a whole number from 0 to 2**64 - 1")
    track = np.ascontiguousarray(
        np.broadcast_to(np.asarray(track, dtype=np.int64), np.shape(index))
    )
    index = np.ascontiguousarray(np.asarray(index, dtype=np.int64))
    if index.size and (track.min() < 0 or index.min() < 0):
        raise GrooveError("track, index: note keys must be >= 0")
    out = np.empty(index.shape, dtype=np.float64)
    _noise_many(
        np.uint64(seed), np.uint64(stream), track.reshape(-1), index.reshape(-1), out.reshape(-1)
    )
    return out


def quantize_beat(start_beat, grid_beat, q):
    """Pull positions toward the nearest grid line by the fraction ``q``.

    ``start + q * (floor(start / grid + 0.5) * grid - start)``: ties go to the
    later grid line; ``q = 0`` returns ``start_beat`` exactly, ``q = 1`` the
    grid line.  Works elementwise on arrays (``grid_beat`` may be an array).
    """
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise GrooveError(f"quantize: {q!r} is outside [0, 1]")
    start = np.asarray(start_beat, dtype=np.float64)
    if q == 0.0:
        return start.copy() if start.ndim else float(start)
    grid = np.asarray(grid_beat, dtype=np.float64)
    nearest = np.floor(start / grid + 0.5) * grid
    out = start + q * (nearest - start)
    return out if out.ndim else float(out)


def ms_to_beat(ms, tempo_us_per_beat):
    """Milliseconds to beats at the given tempo (microseconds per beat)."""
    return (
        np.asarray(ms, dtype=np.float64) * 1000.0 / np.asarray(tempo_us_per_beat, dtype=np.float64)
    )


_SCALED = {}  # (id(groove), timing) -> (groove, scaled groove); holds the groove alive


def scaled(groove, timing):
    """``groove.scaled(timing)``, remembered: a batch renders many files with one groove."""
    key = (id(groove), float(timing))
    hit = _SCALED.get(key)
    if hit is not None and hit[0] is groove:
        return hit[1]
    result = groove.scaled(timing)
    if len(_SCALED) >= 256:
        _SCALED.clear()
    _SCALED[key] = (groove, result)
    return result


def move(groove, beats, timing=1.0, inverse=False):
    """Positions through ``groove.scaled(timing)`` (or its inverse); timing 0 is exact identity."""
    beats = np.asarray(beats, dtype=np.float64)
    if float(timing) == 0.0 or groove.is_identity:
        return beats.copy()
    g = scaled(groove, timing)
    return g.inverse(beats) if inverse else g.forward(beats)


def apply_notes(
    grooves,
    lane,
    start_beat,
    end_beat,
    velocity,
    *,
    timing=1.0,
    quantize=0.0,
    velocity_amount=0.0,
    ends="groove",
    random_offset_beat=None,
    velocity_offset=None,
    inverse=False,
):
    """Where notes land and how loud they are after a groove is applied.

    Elementwise: each output depends only on the same note's inputs, so this
    gives the same numbers for a whole file at once or one note at a time.

    Parameters
    ----------
    grooves : sequence of groove.Groove
        Unscaled grooves; ``lane[i]`` picks the one of note i.
    lane : array_like of int
        Index into ``grooves`` per note.
    start_beat, end_beat : array_like of float
        Note-on and note-off positions in beats.
    velocity : array_like of int
        Note-on velocities 1..127.
    timing : float
        0 .. 1.3, applied as ``groove.scaled(timing)``; 0 is the identity.
    quantize : float
        0 .. 1, pull of each start toward its lane groove's grid (see
        ``quantize_beat``) before the groove; the end moves by the same amount.
    velocity_amount : float
        -1 .. 1; velocity * (1 + velocity_amount * (accent - 1)) where accent is
        the lane groove's accent at the quantized start.
    ends : {"groove", "keep"}
        ``groove``: new end = T(end + quantize shift + random offset);
        ``keep``: new end = new start + (end - start).
    random_offset_beat : array_like of float, optional
        Per-note timing offset in beats (see ``note_noise``), added after
        quantize and before the groove, to start and end alike.
    velocity_offset : array_like of float, optional
        Per-note velocity offset, added before rounding.
    inverse : bool
        Use the groove's inverse instead of its forward map (undoes a render).

    Returns
    -------
    tuple of numpy.ndarray
        ``(new_start_beat, new_end_beat, new_velocity)``; velocities are
        ``clip(rint(v), 1, 127)`` (round half to even) as int64.
    """
    if ends not in ENDS:
        raise GrooveError(f"ends: {ends!r} is not known; use 'groove' or 'keep'")
    start = np.asarray(start_beat, dtype=np.float64)
    end = np.asarray(end_beat, dtype=np.float64)
    vel = np.asarray(velocity, dtype=np.float64)
    lane = np.asarray(lane, dtype=np.int64)
    grooves = list(grooves)
    if lane.size and (lane.min() < 0 or lane.max() >= len(grooves)):
        raise GrooveError(f"lane: indices must be 0 .. {len(grooves) - 1}")
    grid = np.array([g.grid_beat for g in grooves])[lane] if grooves else np.ones(0)
    q_start = quantize_beat(start, grid, quantize) if lane.size else start.copy()
    shifted = q_start - start  # the end follows the start's quantize shift
    rnd = 0.0 if random_offset_beat is None else np.asarray(random_offset_beat, np.float64)
    pre_start = q_start + rnd
    pre_end = end + shifted + rnd
    new_start = np.empty_like(start)
    new_end = np.empty_like(end)
    accent = np.ones_like(start)
    for k, g in enumerate(grooves):
        sel = lane == k
        if not sel.any():
            continue
        new_start[sel] = move(g, pre_start[sel], timing, inverse)
        if ends == "groove":
            new_end[sel] = move(g, pre_end[sel], timing, inverse)
        if velocity_amount != 0.0:
            accent[sel] = g.accent(q_start[sel])
    if ends == "keep":
        new_end = new_start + (end - start)
    factor = 1.0 + float(velocity_amount) * (accent - 1.0)
    new_vel = vel * factor
    if velocity_offset is not None:
        new_vel = new_vel + np.asarray(velocity_offset, dtype=np.float64)
    new_vel = np.clip(np.rint(new_vel), 1, 127).astype(np.int64)
    return new_start, new_end, new_vel
