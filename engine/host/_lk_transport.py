"""The live kernel's transport, panic and command handling (compiled, private).

The transport is an anchor: absolute frame ``I_ANCHOR_FRAME`` is at beat
``F_ANCHOR_BEAT``, and the tempo ``F_BPM`` holds from there, so the beat of
any frame is one multiply-add from integers and never drifts.  A loop
[start, end) moves the anchor forward at each wrap: the wrap frame is the
first frame whose beat reaches the loop end, and it sits at the loop start.
"""

import math

import numba

from ._lk_chain import emit
from ._lk_options import OPTIONS
from ._lk_release import release
from .live_layout import (
    F_ANCHOR_BEAT,
    F_BPM,
    F_LOOP_END,
    F_LOOP_START,
    F_SAMPLE_RATE,
    I_ANCHOR_FRAME,
    I_CHAN_USED,
    I_DROPPED,
    I_FENCE_FRAME,
    I_LAST_DUE,
    I_LOOP_ON,
    I_MAX_DUE,
    I_NOTES,
    I_OUT_COUNT,
    I_OUT_OWNER,
    I_PANICS,
    I_PENDING,
    I_PENDING_N,
    I_PLAYING,
    I_TL_OWNER,
    KEYS,
    MAX_NOTES,
    NOTE_W,
    OUT_RESERVE,
    P_D1,
    P_D2,
    P_FLAGS,
    P_STATUS,
    PEND_W,
)

NO_WRAP = 1 << 62


@numba.njit(**OPTIONS)
def beats_per_frame(fstate):
    return fstate[F_BPM] / 60.0 / fstate[F_SAMPLE_RATE]


@numba.njit(**OPTIONS)
def wrap_frame(istate, fstate):
    """Absolute frame of the next loop wrap (NO_WRAP: none)."""
    if not istate[I_PLAYING] or not istate[I_LOOP_ON]:
        return NO_WRAP
    beat = fstate[F_ANCHOR_BEAT]
    ls, le = fstate[F_LOOP_START], fstate[F_LOOP_END]
    if not (ls <= beat < le):
        return NO_WRAP
    n = math.ceil((le - beat) / beats_per_frame(fstate) - 1e-9)
    return istate[I_ANCHOR_FRAME] + max(n, 1)


@numba.njit(**OPTIONS)
def beat_at(istate, fstate, abs_frame):
    """Beat of an absolute frame at or after the anchor (no wrap in between)."""
    if not istate[I_PLAYING]:
        return fstate[F_ANCHOR_BEAT]
    return fstate[F_ANCHOR_BEAT] + (abs_frame - istate[I_ANCHOR_FRAME]) * beats_per_frame(fstate)


@numba.njit(**OPTIONS)
def anchor(istate, fstate, abs_frame, beat):
    istate[I_ANCHOR_FRAME] = abs_frame
    fstate[F_ANCHOR_BEAT] = beat


@numba.njit(**OPTIONS)
def move_anchor(istate, fstate, abs_frame):
    """Re-anchor at ``abs_frame`` (keeps the beat there); the clock must have got there."""
    anchor(istate, fstate, abs_frame, beat_at(istate, fstate, abs_frame))


@numba.njit(**OPTIONS)
def panic(istate, out_ev, n, block_frame, frame):
    """End everything at block ``frame``: pending controllers, note-offs, pedal, All Notes Off.

    Pending controller changes are sent (a pedal-up waiting in the delay
    line must not be lost); pending note-ons are dropped (never heard);
    then CC 64 = 0 on channels that used the sustain pedal, All Notes Off on
    channels that played notes, and a note-off for every note sounding at
    the output (in that order, so a cut tail never loses the safety net).
    """
    istate[I_PANICS] += 1
    for i in range(istate[I_PENDING_N]):
        b = I_PENDING + i * PEND_W
        if istate[b + P_FLAGS] != 0:
            continue
        st = istate[b + P_STATUS]
        kind = st & 0xF0
        if kind == 0x90 or kind == 0x80:
            continue  # unowned notes: the counts below end what sounds
        if n >= out_ev.shape[0] - OUT_RESERVE:
            istate[I_DROPPED] += 1  # no room left in this block (the pedal-ups still go)
            continue
        n = emit(istate, out_ev, n, frame, st, istate[b + P_D1], istate[b + P_D2])
    istate[I_PENDING_N] = 0
    # The safety net first: a caller whose port buffer holds fewer rows than out_ev (JACK's
    # MIDI buffer is sized in bytes) cuts the tail, and the tail must be note-offs, which
    # All Notes Off has already covered, not the pedal-ups and All Notes Off themselves.
    for ch in range(16):
        if istate[I_CHAN_USED + ch] & 2:
            n = emit(istate, out_ev, n, frame, 0xB0 | ch, 64, 0)
            istate[I_CHAN_USED + ch] &= ~2
    for ch in range(16):
        if istate[I_CHAN_USED + ch] & 1:
            n = emit(istate, out_ev, n, frame, 0xB0 | ch, 123, 0)
    room = out_ev.shape[0]
    for slot in range(KEYS):
        c = istate[I_OUT_COUNT + slot]
        # One note-off per sounding note while the buffer has room (for synths that
        # ignore All Notes Off); past that (a key retriggered hundreds of times), the All
        # Notes Off above ends the rest.
        for _ in range(c):
            if n >= room:
                break
            n = emit(istate, out_ev, n, frame, 0x80 | (slot // 128), slot % 128, 0)
        istate[I_OUT_COUNT + slot] = 0
        istate[I_OUT_OWNER + slot] = -1
        istate[I_TL_OWNER + slot] = -1
    for s in range(MAX_NOTES):
        istate[I_NOTES + s * NOTE_W] = 0
    istate[I_FENCE_FRAME] = block_frame + frame
    istate[I_LAST_DUE] = block_frame + frame
    istate[I_MAX_DUE] = block_frame + frame
    return n


@numba.njit(**OPTIONS)
def release_then_panic(istate, out_ev, n, block_frame, frame, last):
    """What is due before ``frame`` goes out first, then the panic at ``frame``."""
    n = release(istate, out_ev, n, block_frame, block_frame + frame, last)
    return panic(istate, out_ev, n, block_frame, frame)
