"""The delay line's way out: release what is due, in due order, pairing notes (compiled, private).

A note-on that finds its output key still sounding from another note
whose note-off is already on its way (the player let go before this note
began, but timing moved that note-off later), or from a note played after
it (timing swapped the two), ends that note at this note-on's frame and
drops its late note-off, so it cannot cut this note.  Notes the player
overlapped on one key pass as played.
"""

import numba

from ._lk_chain import emit
from ._lk_options import OPTIONS
from .live_layout import (
    I_CHAN_USED,
    I_DEFERRED,
    I_FORCED,
    I_NOTES,
    I_ORDER,
    I_OUT_COUNT,
    I_OUT_OWNER,
    I_PENDING,
    I_PENDING_N,
    N_ACTIVE,
    N_SEQ,
    N_STATE,
    NOTE_W,
    NS_CUT,
    NS_SOUNDING,
    ORDER_CAP,
    OUT_RESERVE,
    P_D1,
    P_D2,
    P_DUE,
    P_FLAGS,
    P_NOTE,
    P_SEQ,
    P_STATUS,
    PEND_W,
    PF_OFF,
    PF_ON,
)


@numba.njit(**OPTIONS)
def send_pending(istate, out_ev, n, b, frame):
    """Emit one released delay-line entry (note pairing on the way out)."""
    status = istate[b + P_STATUS]
    key = istate[b + P_D1]
    flags = istate[b + P_FLAGS]
    s_id = istate[b + P_NOTE]
    ch = status & 15
    slot = ch * 128 + key
    if flags == PF_ON:
        nb = I_NOTES + s_id * NOTE_W
        owner = istate[I_OUT_OWNER + slot]
        if owner >= 0 and owner != s_id:
            ob = I_NOTES + owner * NOTE_W
            swapped = istate[ob + N_SEQ] > istate[nb + N_SEQ]
            if istate[ob + N_STATE] == NS_SOUNDING and (istate[ob + N_ACTIVE] == 2 or swapped):
                # The player released the earlier note before this one began, but its
                # note-off is due later (or timing swapped the two notes): end it here,
                # or its note-off would cut this note.
                n = emit(istate, out_ev, n, frame, 0x80 | ch, key, 0)
                istate[ob + N_STATE] = NS_CUT
                if istate[I_OUT_COUNT + slot] > 0:
                    istate[I_OUT_COUNT + slot] -= 1
        istate[I_OUT_OWNER + slot] = s_id
        istate[nb + N_STATE] = NS_SOUNDING
        istate[I_OUT_COUNT + slot] += 1
        istate[I_CHAN_USED + ch] |= 1
    elif flags == PF_OFF:
        nb = I_NOTES + s_id * NOTE_W
        cut = istate[nb + N_STATE] == NS_CUT
        istate[nb + N_ACTIVE] = 0
        istate[nb + N_STATE] = 0
        if istate[I_OUT_OWNER + slot] == s_id:
            istate[I_OUT_OWNER + slot] = -1
        if cut:
            return n
        if istate[I_OUT_COUNT + slot] > 0:
            istate[I_OUT_COUNT + slot] -= 1
    elif status & 0xF0 == 0x90 and istate[b + P_D2] > 0:
        istate[I_OUT_COUNT + slot] += 1
        istate[I_CHAN_USED + ch] |= 1
    elif (status & 0xF0 == 0x80 or status & 0xF0 == 0x90) and istate[I_OUT_COUNT + slot] > 0:
        istate[I_OUT_COUNT + slot] -= 1
    return emit(istate, out_ev, n, frame, status, key, istate[b + P_D2])


@numba.njit(**OPTIONS)
def release(istate, out_ev, n, block_frame, upto_frame, last_frame):
    """Emit every delay-line entry due before absolute ``upto_frame``, by due frame.

    In due order, not arrival order: a humanized note-on that overtakes the
    previous note's note-off must find that note still sounding.
    """
    count = istate[I_PENDING_N]
    m = 0
    for i in range(count):  # count <= MAX_PENDING < ORDER_CAP: every due entry is sorted
        if istate[I_PENDING + i * PEND_W + P_DUE] < upto_frame and m < ORDER_CAP:
            # insertion by (due, seq): entries are in arrival order, mostly in due order
            b = I_PENDING + i * PEND_W
            j = m
            while j > 0:
                pb = I_PENDING + istate[I_ORDER + j - 1] * PEND_W
                if istate[pb + P_DUE] < istate[b + P_DUE] or (
                    istate[pb + P_DUE] == istate[b + P_DUE]
                    and istate[pb + P_SEQ] < istate[b + P_SEQ]
                ):
                    break
                istate[I_ORDER + j] = istate[I_ORDER + j - 1]
                j -= 1
            istate[I_ORDER + j] = i
            m += 1
    if m == 0:
        return n
    # A full output buffer: the earliest go now, the rest wait for the next block (late,
    # in order), leaving room for a panic's pedal-ups and All Notes Off.
    room = out_ev.shape[0] - OUT_RESERVE - n
    if m > room:
        istate[I_DEFERRED] += m - max(room, 0)
        m = max(room, 0)
    for k in range(m):
        if n + 2 > out_ev.shape[0] - OUT_RESERVE:
            # a pairing cut can take two rows: what has no room stays pending, in order
            istate[I_DEFERRED] += m - k
            break
        b = I_PENDING + istate[I_ORDER + k] * PEND_W
        f = istate[b + P_DUE] - block_frame
        if f < 0:
            f = 0
        if f > last_frame:
            f = last_frame
        n = send_pending(istate, out_ev, n, b, f)
        istate[b + P_FLAGS] = -1
    keep = 0
    for i in range(count):
        b = I_PENDING + i * PEND_W
        if istate[b + P_FLAGS] == -1:
            continue
        if keep != i:
            kb = I_PENDING + keep * PEND_W
            for j in range(PEND_W):
                istate[kb + j] = istate[b + j]
        keep += 1
    istate[I_PENDING_N] = keep
    return n


@numba.njit(**OPTIONS)
def send_earliest(istate, out_ev, n, block_frame, frame):
    """A full delay line: send its earliest entry now (at block ``frame``, or its due frame
    when that is sooner), so a new event finds room; counted in I_FORCED.

    The earliest by (due, seq) goes first, so the stream keeps its order; only
    that entry's timing suffers.  Returns n (unchanged when out_ev has no room).
    """
    count = istate[I_PENDING_N]
    if count == 0 or n >= out_ev.shape[0] - OUT_RESERVE:
        return n
    best = 0
    for i in range(1, count):
        b = I_PENDING + i * PEND_W
        bb = I_PENDING + best * PEND_W
        if istate[b + P_DUE] < istate[bb + P_DUE] or (
            istate[b + P_DUE] == istate[bb + P_DUE] and istate[b + P_SEQ] < istate[bb + P_SEQ]
        ):
            best = i
    b = I_PENDING + best * PEND_W
    f = min(max(istate[b + P_DUE] - block_frame, 0), frame)
    n = send_pending(istate, out_ev, n, b, f)
    for k in range(b, I_PENDING + (count - 1) * PEND_W):  # keep arrival order (a panic's)
        istate[k] = istate[k + PEND_W]
    istate[I_PENDING_N] = count - 1
    istate[I_FORCED] += 1
    return n
