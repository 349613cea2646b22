"""The live rack as compiled code: each input event through the stages, into the delay line.

Private.  An event arriving at absolute frame ``f`` (beat ``t``) runs the
rack's stages in order once, at arrival: timing stages move its beat
(quantize, humanize, groove compose as maps on beats), the others change
its key or velocity or drop it.  It goes out at
``f + floor((x - t) * frames_per_beat) + L`` where ``x`` is the beat after
every timing stage, so the output frame is computed once, at the end.

A note moves whole: the note-on's slot keeps, per stage, the shift it got
before the groove (quantize and random offsets, which a note-off gets too:
quantize moves starts only, so the end keeps the length) and its groove
move (``ends=keep``) or lane (``ends=groove``: the end goes through the
curve).  A note-off is never due before its note-on; a note-on that finds
its output key still sounding from an earlier note ends that one first (so
the earlier note's late note-off cannot cut the new one).  Note-offs
without a note-on and everything the stages do not own pass through.
"""

import math

import numba

from ._lk_math import clamp_velocity, lane_accent, lane_forward, lane_grid, lane_of, noise, quantize
from ._lk_options import OPTIONS
from .live_layout import (
    B_ENDS_KEEP,
    B_NSTAGES,
    B_STAGES,
    F_CLIP_SIGMA,
    F_NOTES,
    F_PARAM,
    F_SAMPLE_RATE,
    G_QUANTIZE,
    G_RANDOM_MS,
    G_RANDOM_VEL,
    G_SEED,
    G_TIMING,
    G_VELOCITY,
    I_BANK_GEN,
    I_CHAN_USED,
    I_DROPPED,
    I_FENCE_FRAME,
    I_LAST_DUE,
    I_LATE,
    I_LATENCY_FRAME,
    I_MAX_DUE,
    I_NEED_LATENCY_FRAME,
    I_NOTE_COUNTER,
    I_NOTES,
    I_ORPHANS,
    I_PARAM_SET,
    I_PENDING,
    I_PENDING_N,
    I_REUSED,
    I_SEQ,
    I_UNTREATED,
    K_FILTER,
    K_GROOVE,
    K_HUMANIZE,
    K_QUANTIZE,
    K_TRANSPOSE,
    K_VELOCITY,
    MAX_NOTES,
    MAX_PENDING,
    N_ACTIVE,
    N_DROP,
    N_DUE_ON,
    N_GEN,
    N_IN_SLOT,
    N_INDEX,
    N_ON_ABS,
    N_OUT_KEY,
    N_SEQ,
    N_STATE,
    NOTE_FW,
    NOTE_W,
    NS_QUEUED,
    P_D1,
    P_D2,
    P_DUE,
    P_FLAGS,
    P_NOTE,
    P_QUANTIZE,
    P_SEQ,
    P_STATUS,
    P_TIMING,
    P_VELOCITY,
    PEND_W,
    PF_OFF,
    PF_ON,
)


@numba.njit(**OPTIONS)
def emit(istate, out_ev, n, frame, status, d1, d2):
    """Append one output row; a full buffer drops it and counts it."""
    if n >= out_ev.shape[0]:
        istate[I_DROPPED] += 1
        return n
    out_ev[n, 0] = frame
    out_ev[n, 1] = status
    out_ev[n, 2] = d1
    out_ev[n, 3] = d2
    if status & 0xF0 == 0xB0 and d1 == 64:
        istate[I_CHAN_USED + (status & 15)] |= 2
    return n + 1


@numba.njit(**OPTIONS)
def param(istate, fstate, gbase, which, field):
    """A CC-driven amount when a CC has set it, else the bank's value."""
    if istate[I_PARAM_SET + which]:
        return fstate[F_PARAM + which]
    return fstate[gbase + field]


@numba.njit(**OPTIONS)
def stage_base(fstate, bank, s):
    return int(fstate[bank + B_STAGES + 2 * s]), bank + int(fstate[bank + B_STAGES + 2 * s + 1])


@numba.njit(**OPTIONS)
def filter_pass(fstate, base, status, key, noteish):
    ch = status & 15
    if fstate[base + ch] == 0.0:
        return False
    if fstate[base + 16 + 128 + ((status >> 4) & 7)] == 0.0:
        return False
    if noteish and fstate[base + 16 + key] == 0.0:
        return False
    return True


@numba.njit(**OPTIONS)
def new_note(istate, ch, key):
    """A free note slot (-1: none free)."""
    for s in range(MAX_NOTES):
        b = I_NOTES + s * NOTE_W
        if istate[b + N_ACTIVE] == 0:
            istate[b + N_ACTIVE] = 1
            istate[b + N_IN_SLOT] = ch * 128 + key
            istate[b + N_STATE] = NS_QUEUED
            istate[b + N_DROP] = 0
            istate[b + N_SEQ] = istate[I_SEQ]
            return s
    return -1


@numba.njit(**OPTIONS)
def find_note(istate, ch, key):
    """The oldest note of this input key still waiting for its note-off (-1: none)."""
    best = -1
    best_seq = 0
    slot = ch * 128 + key
    for s in range(MAX_NOTES):
        b = I_NOTES + s * NOTE_W
        if istate[b + N_ACTIVE] == 1 and istate[b + N_IN_SLOT] == slot:
            if best < 0 or istate[b + N_SEQ] < best_seq:
                best, best_seq = s, istate[b + N_SEQ]
    return best


@numba.njit(**OPTIONS)
def take_slot(istate, ch, key):
    """A slot for a new note: a free one; when the table is full, the oldest held note of
    the same input key (a retrigger with no note-off between: its slot is reused, the
    earlier note keeps sounding until a note-off of the key or a panic); else -1."""
    s_id = new_note(istate, ch, key)
    if s_id >= 0:
        return s_id
    s_id = find_note(istate, ch, key)
    if s_id < 0:
        return -1
    b = I_NOTES + s_id * NOTE_W
    istate[b + N_STATE] = NS_QUEUED
    istate[b + N_DROP] = 0
    istate[b + N_SEQ] = istate[I_SEQ]
    istate[I_REUSED] += 1
    return s_id


@numba.njit(**OPTIONS)
def note_on(istate, fstate, bank, ch, key, vel, t, bpf, playing):
    """Run a note-on through the stages; returns (slot, beat after timing, key, velocity).

    slot is -1 when the note table is full (the caller passes the note untimed);
    key < 0 when a stage dropped it.
    """
    s_id = take_slot(istate, ch, key)
    if s_id < 0:
        return -1, t, key, vel
    index = istate[I_NOTE_COUNTER]
    istate[I_NOTE_COUNTER] += 1
    istate[I_NOTES + s_id * NOTE_W + N_INDEX] = index
    fb = F_NOTES + s_id * NOTE_FW
    fstate[fb] = t
    bpm = bpf * fstate[F_SAMPLE_RATE] * 60.0
    clip = fstate[F_CLIP_SIGMA]
    x = t
    for s in range(int(fstate[bank + B_NSTAGES])):
        kind, base = stage_base(fstate, bank, s)
        dq = 0.0
        dg = 0.0
        lane = 0
        if kind == K_QUANTIZE:
            if playing:
                dq = quantize(x, fstate[base], fstate[base + 1]) - x
        elif kind == K_HUMANIZE:
            seed = int(fstate[base + 2])
            if playing and fstate[base] > 0.0:
                dq = noise(seed, 0, 0, index, clip) * fstate[base] / 1000.0 * bpm / 60.0
            if fstate[base + 1] > 0.0:
                vel = clamp_velocity(vel + fstate[base + 1] * noise(seed, 1, 0, index, clip))
        elif kind == K_GROOVE:
            lane = lane_of(fstate, base, key)
            seed = int(fstate[base + G_SEED])
            xq = x
            if playing:
                a_q = param(istate, fstate, base, P_QUANTIZE, G_QUANTIZE)
                xq = quantize(x, lane_grid(fstate, base, lane), a_q)
                r = 0.0
                if fstate[base + G_RANDOM_MS] > 0.0:
                    z = noise(seed, 0, 0, index, clip)
                    r = z * fstate[base + G_RANDOM_MS] / 1000.0 * bpm / 60.0
                dq = xq + r - x
                pre = x + dq
                a_t = param(istate, fstate, base, P_TIMING, G_TIMING)
                dg = lane_forward(fstate, bank, base, lane, pre, a_t) - pre
            a_v = param(istate, fstate, base, P_VELOCITY, G_VELOCITY)
            rv = fstate[base + G_RANDOM_VEL]
            if (a_v != 0.0 and playing) or rv > 0.0:
                v = float(vel)
                if a_v != 0.0 and playing:
                    v = v * (1.0 + a_v * (lane_accent(fstate, bank, base, lane, xq) - 1.0))
                if rv > 0.0:
                    v += rv * noise(seed, 1, 0, index, clip)
                vel = clamp_velocity(v)
        elif kind == K_VELOCITY:
            vel = int(fstate[base + vel])
        elif kind == K_FILTER:
            if key >= 0 and not filter_pass(fstate, base, 0x90 | ch, key, True):
                key = -1
        elif kind == K_TRANSPOSE:
            if key >= 0:
                key += int(fstate[base])
                if key < 0 or key > 127:
                    key = -1
        x += dq + dg
        fstate[fb + 1 + 3 * s] = dq
        fstate[fb + 2 + 3 * s] = dg
        fstate[fb + 3 + 3 * s] = lane
    b = I_NOTES + s_id * NOTE_W
    istate[b + N_OUT_KEY] = key
    istate[b + N_DROP] = 1 if key < 0 else 0
    return s_id, x, key, vel


@numba.njit(**OPTIONS)
def note_off_beat(istate, fstate, bank, s_id, t, playing):
    """The beat a note-off at beat t goes to: its note-on's treatment."""
    fb = F_NOTES + s_id * NOTE_FW
    x = t
    keep = fstate[bank + B_ENDS_KEEP] != 0.0
    for s in range(int(fstate[bank + B_NSTAGES])):
        kind, base = stage_base(fstate, bank, s)
        if kind == K_QUANTIZE or kind == K_HUMANIZE:
            x += fstate[fb + 1 + 3 * s]
        elif kind == K_GROOVE:
            x += fstate[fb + 1 + 3 * s]
            if keep:
                x += fstate[fb + 2 + 3 * s]
            elif playing:
                a_t = param(istate, fstate, base, P_TIMING, G_TIMING)
                x = lane_forward(fstate, bank, base, int(fstate[fb + 3 + 3 * s]), x, a_t)
    return x


@numba.njit(**OPTIONS)
def plain_beat(istate, fstate, bank, t, playing):
    """Controllers and other non-note events: the groove's main lane only."""
    if not playing:
        return t
    x = t
    for s in range(int(fstate[bank + B_NSTAGES])):
        kind, base = stage_base(fstate, bank, s)
        if kind == K_GROOVE:
            x = lane_forward(
                fstate, bank, base, 0, x, param(istate, fstate, base, P_TIMING, G_TIMING)
            )
    return x


@numba.njit(**OPTIONS)
def plain_stages(fstate, bank, status, d1):
    """Filter and transpose for a non-note event; returns its data1, or -1 to drop it."""
    kind = status & 0xF0
    for s in range(int(fstate[bank + B_NSTAGES])):
        k, base = stage_base(fstate, bank, s)
        if k == K_FILTER and status < 0xF0:
            if not filter_pass(fstate, base, status, d1, kind == 0xA0 or kind == 0x80):
                return -1
        elif k == K_TRANSPOSE and kind == 0xA0:
            d1 += int(fstate[base])
            if d1 < 0 or d1 > 127:
                return -1
    return d1


@numba.njit(**OPTIONS)
def due_frame(istate, fstate, bank, in_abs, t, x, bpf, playing):
    """Output frame of an event that arrived at ``in_abs`` (beat t) and moved to beat x."""
    lat = istate[I_LATENCY_FRAME]
    due = in_abs + lat
    if playing and bpf > 0.0 and x != t:
        due += int(math.floor((x - t) / bpf + 1e-6))
    early = in_abs + lat - due
    if early > istate[I_NEED_LATENCY_FRAME]:
        istate[I_NEED_LATENCY_FRAME] = early
    if due < in_abs:
        istate[I_LATE] += 1  # an early move beyond L: out at once
        due = in_abs
    if due < istate[I_FENCE_FRAME]:
        due = istate[I_FENCE_FRAME]  # nothing passes what was queued before a change
    return due


@numba.njit(**OPTIONS)
def enqueue(istate, due, status, d1, d2, note, flags):
    n = istate[I_PENDING_N]
    if n >= MAX_PENDING:
        istate[I_DROPPED] += 1
        return False
    b = I_PENDING + n * PEND_W
    istate[b + P_DUE] = due
    istate[b + P_SEQ] = istate[I_SEQ]
    istate[b + P_STATUS] = status
    istate[b + P_D1] = d1
    istate[b + P_D2] = d2
    istate[b + P_NOTE] = note
    istate[b + P_FLAGS] = flags
    istate[I_SEQ] += 1
    istate[I_PENDING_N] = n + 1
    istate[I_LAST_DUE] = due
    if due > istate[I_MAX_DUE]:
        istate[I_MAX_DUE] = due
    return True


@numba.njit(**OPTIONS)
def live_event(istate, fstate, bank, in_abs, status, d1, d2, t, bpf, playing):
    """One live channel or system-common message at absolute frame ``in_abs``."""
    kind = status & 0xF0
    ch = status & 15
    if kind == 0x90 and d2 > 0:
        s_id, x, key, vel = note_on(istate, fstate, bank, ch, d1, d2, t, bpf, playing)
        if s_id < 0:
            # The note table is full: the note passes untimed, as its note-off will (an
            # orphan): the same stages for both, so they stay a pair.
            istate[I_UNTREATED] += 1
            if plain_stages(fstate, bank, 0x80 | ch, d1) >= 0:
                due = due_frame(istate, fstate, bank, in_abs, t, t, bpf, playing)
                enqueue(istate, due, status, d1, d2, -1, 0)
            return
        nb = I_NOTES + s_id * NOTE_W
        istate[nb + N_GEN] = istate[I_BANK_GEN]
        istate[nb + N_ON_ABS] = in_abs
        if key < 0:
            return
        due = due_frame(istate, fstate, bank, in_abs, t, x, bpf, playing)
        istate[nb + N_DUE_ON] = due
        if not enqueue(istate, due, status, key, vel, s_id, PF_ON):
            istate[nb + N_ACTIVE] = 0
        return
    if kind == 0x80 or kind == 0x90:
        s_id = find_note(istate, ch, d1)
        if s_id < 0:
            istate[I_ORPHANS] += 1  # not ours: passes through untouched (but for L)
            if plain_stages(fstate, bank, status, d1) >= 0:
                due = due_frame(istate, fstate, bank, in_abs, t, t, bpf, playing)
                enqueue(istate, due, status, d1, d2, -1, 0)
            return
        else:
            nb = I_NOTES + s_id * NOTE_W
            istate[nb + N_ACTIVE] = 2  # its note-off is on the way
            if istate[nb + N_DROP]:
                istate[nb + N_ACTIVE] = 0
                return
            if istate[nb + N_GEN] == istate[I_BANK_GEN]:
                x = note_off_beat(istate, fstate, bank, s_id, t, playing)
                due = due_frame(istate, fstate, bank, in_abs, t, x, bpf, playing)
            else:
                # The tables changed under the held note: its per-stage values belong to
                # the old stages, so the note keeps its played length instead.
                due = istate[nb + N_DUE_ON] + in_abs - istate[nb + N_ON_ABS]
                if due < istate[I_FENCE_FRAME]:
                    due = istate[I_FENCE_FRAME]
            if due < istate[nb + N_DUE_ON]:
                due = istate[nb + N_DUE_ON]
            enqueue(istate, due, status, istate[nb + N_OUT_KEY], d2, s_id, PF_OFF)
            return
    d1 = plain_stages(fstate, bank, status, d1)
    if d1 < 0:
        return
    x = plain_beat(istate, fstate, bank, t, playing) if status < 0xF0 else t
    due = due_frame(istate, fstate, bank, in_abs, t, x, bpf, playing)
    enqueue(istate, due, status, d1, d2, -1, 0)
