"""The timeline scheduler inside the live kernel (compiled, private).

Rows are sorted by source beat; the plan (in the active bank, so a reload
swaps it with the groove) gives each row its position after quantize and
random offsets (``pre``), its end's, the kept length (``ends=keep``), its
lane and velocity.  A row is due at T(pre) on the grooved transport beat.
A segment [b0, b1) of transport beats emits every row not yet emitted with
T(pre) < b1: the scan starts at the first row not emitted and stops where
the source beat exceeds b1 + W (W bounds |T(pre) - src| over the reachable
amounts), and per-row flags make it exactly once.  A loop wrap ends every
sounding timeline note at the wrap frame and rewinds the flags to the loop
start, so each pass plays every row in [start, end) once and nothing at or
after the end; a seek rewinds them to the new beat.
"""

import math

import numba

from ._lk_chain import emit, param
from ._lk_math import lane_forward
from ._lk_options import OPTIONS
from .live_layout import (
    B_GROOVE_STAGE,
    B_STAGES,
    B_TL,
    F_WINDOW_BEAT,
    G_TIMING,
    I_CHAN_USED,
    I_LATE,
    I_ORDER,
    I_OUT_COUNT,
    I_TL_BASE,
    I_TL_FBASE,
    I_TL_FIRST,
    I_TL_N,
    I_TL_OWNER,
    KEYS,
    ORDER_CAP,
    P_TIMING,
    TL_BW,
    TL_IW,
)


@numba.njit(**OPTIONS)
def _on_beat(istate, fstate, bank, i):
    """T(pre) of row i under the active bank's groove and the current timing amount."""
    p = bank + int(fstate[bank + B_TL]) + i * TL_BW
    g = int(fstate[bank + B_GROOVE_STAGE])
    x = fstate[p]
    if g < 0:
        return x
    base = bank + int(fstate[bank + B_STAGES + 2 * g + 1])
    return lane_forward(
        fstate, bank, base, int(fstate[p + 3]), x, param(istate, fstate, base, P_TIMING, G_TIMING)
    )


@numba.njit(**OPTIONS)
def _off_beat(istate, fstate, bank, i, on):
    p = bank + int(fstate[bank + B_TL]) + i * TL_BW
    if fstate[p + 2] >= 0.0:
        return on + fstate[p + 2]
    g = int(fstate[bank + B_GROOVE_STAGE])
    x = fstate[p + 1]
    if g < 0:
        return max(x, on)
    base = bank + int(fstate[bank + B_STAGES + 2 * g + 1])
    a = param(istate, fstate, base, P_TIMING, G_TIMING)
    return max(lane_forward(fstate, bank, base, int(fstate[p + 3]), x, a), on)


@numba.njit(**OPTIONS)
def _frame(istate, beat, b0, bpf, offset, frames):
    f = math.floor((beat - b0) / bpf + 1e-6)
    if f < 0:
        if beat < b0 - 1e-9:
            istate[I_LATE] += 1
        f = 0
    return offset + min(f, max(frames - 1, 0))


@numba.njit(**OPTIONS)
def _end(istate, fstate, out_ev, n, slot, frame):
    off_base = I_TL_FBASE
    istate[I_TL_OWNER + slot] = -1
    fstate[istate[off_base] + istate[I_TL_N] + slot] = math.inf
    if istate[I_OUT_COUNT + slot] > 0:
        istate[I_OUT_COUNT + slot] -= 1
    return emit(istate, out_ev, n, frame, 0x80 | (slot // 128), slot % 128, 0)


@numba.njit(**OPTIONS)
def _flush(istate, fstate, out_ev, n, upto, inclusive, b0, bpf, offset, frames):
    """Note-offs of timeline notes ending before ``upto`` (or at it), earliest first."""
    offs = istate[I_TL_FBASE] + istate[I_TL_N]
    while True:
        best = -1
        best_off = math.inf
        for slot in range(KEYS):
            if istate[I_TL_OWNER + slot] >= 0 and fstate[offs + slot] < best_off:
                best, best_off = slot, fstate[offs + slot]
        if best < 0 or not (best_off < upto or (inclusive and best_off == upto)):
            return n
        n = _end(istate, fstate, out_ev, n, best, _frame(istate, best_off, b0, bpf, offset, frames))


@numba.njit(**OPTIONS)
def timeline_segment(istate, fstate, bank, out_ev, n, b0, b1, offset, frames, bpf):
    """Emit the rows due in transport beats [b0, b1) (block frames from ``offset``)."""
    rows = istate[I_TL_N]
    if rows == 0:
        return n
    ib = istate[I_TL_BASE]
    fb = istate[I_TL_FBASE]
    hi = b1 + fstate[F_WINDOW_BEAT]
    m = 0
    i = istate[I_TL_FIRST]
    while i < rows and fstate[fb + i] <= hi and m < ORDER_CAP:
        if istate[ib + i * TL_IW + 3] == 0:
            on = _on_beat(istate, fstate, bank, i)
            if on < b1:
                istate[ib + i * TL_IW + 3] = 1
                # insertion by on beat (stable)
                j = m
                while j > 0 and _on_beat(istate, fstate, bank, istate[I_ORDER + j - 1]) > on:
                    istate[I_ORDER + j] = istate[I_ORDER + j - 1]
                    j -= 1
                istate[I_ORDER + j] = i
                m += 1
        i += 1
    first = istate[I_TL_FIRST]
    while first < rows and istate[ib + first * TL_IW + 3]:
        first += 1
    istate[I_TL_FIRST] = first
    offs = fb + rows
    for k in range(m):
        r = istate[I_ORDER + k]
        on = _on_beat(istate, fstate, bank, r)
        n = _flush(istate, fstate, out_ev, n, on, True, b0, bpf, offset, frames)
        status = istate[ib + r * TL_IW]
        key = istate[ib + r * TL_IW + 1]
        f = _frame(istate, on, b0, bpf, offset, frames)
        if status & 0xF0 != 0x90:
            n = emit(istate, out_ev, n, f, status, key, istate[ib + r * TL_IW + 2])
            continue
        ch = status & 15
        slot = ch * 128 + key
        if istate[I_TL_OWNER + slot] >= 0:
            n = _end(istate, fstate, out_ev, n, slot, f)  # same key still sounding: end it here
        vel = int(fstate[bank + int(fstate[bank + B_TL]) + r * TL_BW + 4])
        n = emit(istate, out_ev, n, f, status, key, vel)
        istate[I_OUT_COUNT + slot] += 1
        istate[I_CHAN_USED + ch] |= 1
        istate[I_TL_OWNER + slot] = r
        fstate[offs + slot] = _off_beat(istate, fstate, bank, r, on)
    return _flush(istate, fstate, out_ev, n, b1, False, b0, bpf, offset, frames)


@numba.njit(**OPTIONS)
def timeline_seek(istate, fstate, bank, beat):
    """Rows due before ``beat`` count as played; the rest are to come."""
    rows = istate[I_TL_N]
    if rows == 0:
        return
    ib = istate[I_TL_BASE]
    fb = istate[I_TL_FBASE]
    w = fstate[F_WINDOW_BEAT]
    for i in range(rows):
        src = fstate[fb + i]
        if src < beat - w:
            done = 1
        elif src > beat + w:
            done = 0
        else:
            done = 1 if _on_beat(istate, fstate, bank, i) < beat else 0
        istate[ib + i * TL_IW + 3] = done
    first = 0
    while first < rows and istate[ib + first * TL_IW + 3]:
        first += 1
    istate[I_TL_FIRST] = first


@numba.njit(**OPTIONS)
def timeline_notes_off(istate, fstate, out_ev, n, frame):
    """Note-offs now for every sounding timeline note."""
    if istate[I_TL_N] == 0:
        return n
    for slot in range(KEYS):
        if istate[I_TL_OWNER + slot] >= 0:
            n = _end(istate, fstate, out_ev, n, slot, frame)
    return n


@numba.njit(**OPTIONS)
def timeline_wrap(istate, fstate, bank, out_ev, n, frame, loop_start):
    """A loop wrap at block ``frame``: end what sounds, rewind to the loop start."""
    if istate[I_TL_N] == 0:
        return n
    n = timeline_notes_off(istate, fstate, out_ev, n, frame)
    timeline_seek(istate, fstate, bank, loop_start)
    return n
