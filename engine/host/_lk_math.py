"""Scalar maths of the live kernel: random offsets, quantize, groove lanes, accents.

Private; numba code over the kernel's float state.  The random offsets are
``groove.transform.note_noise`` step for step (splitmix64 hash, Box-Muller,
clipped), so a note humanized live gets the offset the renderer gives it.
"""

import math

import numba
import numpy as np

from ._lk_options import OPTIONS
from .live_layout import (
    G_LANE_OF_PITCH,
    G_LANES,
    G_NLANES,
    L_COEF,
    L_GRID,
    L_NPARTS,
    L_NSEG,
    L_PARTS,
    L_PERIOD,
    L_STEP,
    LANE_W,
    PART_W,
)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)
_TWO_POW_53 = 2.0**-53


@numba.njit(**OPTIONS)
def mix(x):
    """splitmix64 as a 64-bit hash (the renderer's)."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


@numba.njit(**OPTIONS)
def noise(seed, stream, track, index, clip):
    """Standard normal of one note key, clipped at +-clip sigma."""
    key = mix(
        mix(mix(mix(np.uint64(seed)) ^ np.uint64(stream)) ^ np.uint64(track)) ^ np.uint64(index)
    )
    h1 = mix(key ^ np.uint64(1))
    h2 = mix(key ^ np.uint64(2))
    u1 = (float(h1 >> np.uint64(11)) + 1.0) * _TWO_POW_53
    u2 = float(h2 >> np.uint64(11)) * _TWO_POW_53
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return min(max(z, -clip), clip)


@numba.njit(**OPTIONS)
def quantize(x, grid, amount):
    """Pull x toward the nearest grid line by ``amount`` (ties go later)."""
    if amount == 0.0 or grid <= 0.0:
        return x
    nearest = math.floor(x / grid + 0.5) * grid
    return x + amount * (nearest - x)


@numba.njit(**OPTIONS)
def lane_of(fstate, gbase, key):
    """Lane of a MIDI key in the groove stage at ``gbase``."""
    return int(fstate[gbase + G_LANE_OF_PITCH + (key & 127)])


@numba.njit(**OPTIONS)
def lane_row(fstate, gbase, lane):
    """fstate offset of a lane's row, the lane clamped to the stage's lanes (numba checks
    no bounds: a lane from another table must not read past this one)."""
    last = int(fstate[gbase + G_NLANES]) - 1
    if lane > last:
        lane = last
    if lane < 0:
        lane = 0
    return gbase + G_LANES + lane * LANE_W


@numba.njit(**OPTIONS)
def lane_grid(fstate, gbase, lane):
    return fstate[lane_row(fstate, gbase, lane) + L_GRID]


@numba.njit(**OPTIONS)
def lane_forward(fstate, bank, gbase, lane, x, amount):
    """T(x) = x + amount * D_lane(x) (D: the lane's unscaled deviation)."""
    if amount == 0.0:
        return x
    d = lane_row(fstate, gbase, lane)
    period = fstate[d + L_PERIOD]
    step = fstate[d + L_STEP]
    n = int(fstate[d + L_NSEG])
    c = bank + int(fstate[d + L_COEF])
    m = math.floor(x / period)
    xr = x - m * period
    k = int(xr / step)
    if k >= n:
        k = n - 1
    elif k < 0:
        k = 0
    u = xr - k * step
    c = c + 4 * k
    dev = fstate[c] + u * (fstate[c + 1] + u * (fstate[c + 2] + u * fstate[c + 3]))
    return x + amount * dev


@numba.njit(**OPTIONS)
def lane_accent(fstate, bank, gbase, lane, x):
    """The lane groove's velocity accent (0..1) at x: its nearest grid step's value."""
    d = lane_row(fstate, gbase, lane)
    nparts = int(fstate[d + L_NPARTS])
    p = bank + int(fstate[d + L_PARTS])
    out = 0.0
    for i in range(nparts):
        step = fstate[p + i * PART_W]
        weight = fstate[p + i * PART_W + 1]
        nvals = int(fstate[p + i * PART_W + 2])
        vals = bank + int(fstate[p + i * PART_W + 3])
        idx = int(np.rint(x / step)) % nvals
        out += weight * fstate[vals + idx]
    return out


@numba.njit(**OPTIONS)
def clamp_velocity(v):
    """``clip(rint(v), 1, 127)`` as the renderer rounds (half to even)."""
    r = np.rint(v)
    if r < 1.0:
        return 1
    if r > 127.0:
        return 127
    return int(r)
