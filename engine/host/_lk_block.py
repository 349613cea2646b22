"""One audio block of the live kernel: commands, input rows, transport, output (compiled).

Private; ``engine.host.live_kernel.process_block`` is this module's
``process_block``.  Order inside a block:

1. commands from the main thread's ring (at frame 0): stop, start, seek,
   panic, quit, params, tempo, loop, bank swap (acknowledged in the out ring);
2. input rows in frame order; before each row the transport runs up to its
   frame (timeline notes, clock out, click, loop wraps), then the row acts:
   transport messages move the transport (a panic at their frame when
   sounding notes must end), mapped CCs change a parameter at their frame,
   everything else enters the rack (``_lk_chain.live_event``);
3. the transport runs to the block end, the delay line releases what is
   due in the block, the click is added into the audio;
4. the output rows are sorted by frame (stable: ties keep emission order).
"""

import numba

from ._lk_chain import emit, live_event
from ._lk_clock import (
    click_segment,
    clock_in,
    clock_out,
    follower_beats_per_frame,
    follower_position,
    follower_position_ahead,
    render_click,
)
from ._lk_options import OPTIONS
from ._lk_release import release, send_earliest
from ._lk_timeline import timeline_seek, timeline_segment, timeline_wrap
from ._lk_transport import (
    NO_WRAP,
    anchor,
    beat_at,
    beats_per_frame,
    move_anchor,
    panic,
    release_then_panic,
    wrap_frame,
)
from .live_layout import (
    B_GROOVE_STAGE,
    B_STAGES,
    CMD_CONTINUE,
    CMD_LOOP,
    CMD_PANIC,
    CMD_PARAM,
    CMD_QUIT,
    CMD_SEEK,
    CMD_START,
    CMD_STOP,
    CMD_SWAP,
    CMD_TEMPO,
    F_ANCHOR_BEAT,
    F_BANK_BASE,
    F_BPM,
    F_CMD_ARG,
    F_LOOP_END,
    F_LOOP_START,
    F_PARAM,
    G_TIMING_CAP,
    I_ACTIVE_BANK,
    I_BANK_GEN,
    I_BLOCK_FRAME,
    I_CALLBACKS,
    I_CC_PARAM,
    I_CF_RUNNING,
    I_CF_STARTED,
    I_CLOCK_IN,
    I_CMD_RING,
    I_CS_WAS_PLAYING,
    I_DROPPED,
    I_EVENTS_IN,
    I_EVENTS_OUT,
    I_FENCE_FRAME,
    I_LOOP_ON,
    I_MAX_DUE,
    I_OUT_RING,
    I_PARAM_SET,
    I_PENDING_N,
    I_PLAYING,
    I_QUIET,
    I_QUIT_DONE,
    I_SWAP_ACK,
    I_SYNC_MIDI,
    I_WEIGHTS,
    MAX_PENDING,
    MAX_WEIGHTS,
    OUT_CC,
    OUT_SWAPPED,
    P_QUANTIZE,
    P_TIMING,
    P_VELOCITY,
    P_WEIGHT,
)
from .ring import ring_peek, ring_push3, ring_release, ring_slot

STOP_BYTE = 0xFC


@numba.njit(**OPTIONS)
def bank_base(istate, fstate):
    return int(fstate[F_BANK_BASE + istate[I_ACTIVE_BANK]])


@numba.njit(**OPTIONS)
def _generation_changed(istate):
    # nothing queued from now on may go out before what the old tables queued
    if istate[I_FENCE_FRAME] < istate[I_MAX_DUE]:
        istate[I_FENCE_FRAME] = istate[I_MAX_DUE]


@numba.njit(**OPTIONS)
def set_param(istate, fstate, which, value):
    if which == P_TIMING or which == P_QUANTIZE or which == P_VELOCITY:
        fstate[F_PARAM + which] = value
        istate[I_PARAM_SET + which] = 1
        _generation_changed(istate)


@numba.njit(**OPTIONS)
def mapped_cc(istate, fstate, bank, which, value):
    """A mapped CC: timing, quantize, velocity change here; the rest go to the main thread."""
    if which == P_TIMING:
        cap = 1.3
        g = int(fstate[bank + B_GROOVE_STAGE])
        if g >= 0:
            cap = fstate[bank + int(fstate[bank + B_STAGES + 2 * g + 1]) + G_TIMING_CAP]
        set_param(istate, fstate, which, min(value / 100.0, cap))
    elif which == P_QUANTIZE:
        set_param(istate, fstate, which, value / 127.0)
    elif which == P_VELOCITY:
        set_param(istate, fstate, which, max(-1.0, min(1.0, (value - 64) / 63.0)))
    elif 0 <= which - P_WEIGHT < MAX_WEIGHTS:
        # the latest value, then its count: the main thread reads the count first
        w = I_WEIGHTS + 2 * (which - P_WEIGHT)
        istate[w] = value
        istate[w + 1] += 1
    elif not ring_push3(istate, I_OUT_RING, OUT_CC, which, value):
        istate[I_DROPPED] += 1  # the main thread has not polled for 256 weight CCs


@numba.njit(**OPTIONS)
def commands(istate, fstate, out_ev, n, block_frame, last):
    """Apply the main thread's commands at frame 0."""
    while True:
        at = ring_peek(istate, I_CMD_RING)
        if at < 0:
            return n
        code = istate[at]
        iarg = istate[at + 1]
        slot = ring_slot(istate, I_CMD_RING, istate[I_CMD_RING + 1])
        a0 = fstate[F_CMD_ARG + 2 * slot]
        a1 = fstate[F_CMD_ARG + 2 * slot + 1]
        ring_release(istate, I_CMD_RING)
        if code == CMD_STOP:
            n = release_then_panic(istate, out_ev, n, block_frame, 0, last)
            move_anchor(istate, fstate, block_frame)
            istate[I_PLAYING] = 0
        elif code == CMD_START:
            n = release_then_panic(istate, out_ev, n, block_frame, 0, last)
            istate[I_PLAYING] = 1
            anchor(istate, fstate, block_frame, 0.0)
            timeline_seek(istate, fstate, bank_base(istate, fstate), 0.0)
        elif code == CMD_CONTINUE:
            if not istate[I_PLAYING]:
                anchor(istate, fstate, block_frame, fstate[F_ANCHOR_BEAT])
                istate[I_PLAYING] = 1
        elif code == CMD_SEEK:
            n = release_then_panic(istate, out_ev, n, block_frame, 0, last)
            anchor(istate, fstate, block_frame, a0)
            timeline_seek(istate, fstate, bank_base(istate, fstate), a0)
        elif code == CMD_PANIC:
            n = release_then_panic(istate, out_ev, n, block_frame, 0, last)
        elif code == CMD_QUIT:
            n = release_then_panic(istate, out_ev, n, block_frame, 0, last)
            if istate[I_CS_WAS_PLAYING]:
                n = emit(istate, out_ev, n, 0, STOP_BYTE, 0, 0)
                istate[I_CS_WAS_PLAYING] = 0
            istate[I_QUIET] = 1
            istate[I_QUIT_DONE] = 1
            return n
        elif code == CMD_PARAM:
            set_param(istate, fstate, iarg, a0)
        elif code == CMD_SWAP:
            old = istate[I_ACTIVE_BANK]
            istate[I_ACTIVE_BANK] = int(a0)
            istate[I_BANK_GEN] = iarg
            istate[I_SWAP_ACK] = iarg
            _generation_changed(istate)
            ring_push3(istate, I_OUT_RING, OUT_SWAPPED, iarg, old)
        elif code == CMD_TEMPO:
            move_anchor(istate, fstate, block_frame)
            fstate[F_BPM] = a0
        elif code == CMD_LOOP:
            fstate[F_LOOP_START] = a0
            fstate[F_LOOP_END] = a1
            istate[I_LOOP_ON] = 1 if a1 > a0 else 0


@numba.njit(**OPTIONS)
def run_piece(istate, fstate, out_ev, n, block_frame, pos, end, clicks, last):
    """Advance the transport over block frames [pos, end): timeline, clock out, click, wraps.

    Returns (n, clicks).
    """
    bank = bank_base(istate, fstate)
    while pos < end:
        if not istate[I_PLAYING]:
            n = clock_out(istate, fstate, out_ev, n, False, 0.0, 0.0, 1.0, pos, end - pos)
            return n, clicks
        bpf = beats_per_frame(fstate)
        w = wrap_frame(istate, fstate)
        seg_end = end
        wraps = False
        if w != NO_WRAP and w - block_frame <= end:
            seg_end = w - block_frame
            wraps = True
        b0 = beat_at(istate, fstate, block_frame + pos)
        b1 = fstate[F_LOOP_END] if wraps else beat_at(istate, fstate, block_frame + seg_end)
        frames = seg_end - pos
        n = timeline_segment(istate, fstate, bank, out_ev, n, b0, b1, pos, frames, bpf)
        n = clock_out(istate, fstate, out_ev, n, True, b0, b1, bpf, pos, frames)
        clicks = click_segment(istate, b0, b1, bpf, pos, frames, clicks)
        if wraps:
            n = timeline_wrap(
                istate, fstate, bank, out_ev, n, min(seg_end, last), fstate[F_LOOP_START]
            )
            anchor(istate, fstate, w, fstate[F_LOOP_START])
        pos = seg_end
    return n, clicks


@numba.njit(**OPTIONS)
def transport_row(istate, fstate, out_ev, n, block_frame, f, status, d1, d2, last):
    """A realtime or Song Position message at block frame f moves the transport."""
    abs_f = block_frame + f
    playing = istate[I_PLAYING]
    bank = bank_base(istate, fstate)
    if istate[I_SYNC_MIDI]:
        if status == 0xF8:
            istate[I_CLOCK_IN] += 1
        what = clock_in(istate, fstate, abs_f, status, d1, d2)
        if what == 1 or what == 2:
            if playing and what == 1:
                n = release_then_panic(istate, out_ev, n, block_frame, f, last)
            beat = follower_position(istate, fstate, abs_f)
            fstate[F_BPM] = follower_beats_per_frame(fstate) * 60.0 * fstate[0]
            anchor(istate, fstate, abs_f, beat)
            istate[I_PLAYING] = 1
            timeline_seek(istate, fstate, bank, beat)
        elif what == 3 and playing:
            n = release_then_panic(istate, out_ev, n, block_frame, f, last)
            move_anchor(istate, fstate, abs_f)
            istate[I_PLAYING] = 0
        elif what == 4 and playing:
            # Song Position while running: jump there now; the next clock re-anchors
            n = release_then_panic(istate, out_ev, n, block_frame, f, last)
            beat = follower_position(istate, fstate, abs_f)
            anchor(istate, fstate, abs_f, beat)
            timeline_seek(istate, fstate, bank, beat)
        return n
    if status == 0xFA:
        if playing:
            n = release_then_panic(istate, out_ev, n, block_frame, f, last)
        anchor(istate, fstate, abs_f, 0.0)
        istate[I_PLAYING] = 1
        timeline_seek(istate, fstate, bank, 0.0)
    elif status == 0xFB:
        if not playing:
            anchor(istate, fstate, abs_f, fstate[F_ANCHOR_BEAT])
            istate[I_PLAYING] = 1
    elif status == STOP_BYTE:
        if playing:
            n = release_then_panic(istate, out_ev, n, block_frame, f, last)
            move_anchor(istate, fstate, abs_f)
            istate[I_PLAYING] = 0
    elif status == 0xF2:
        beat = ((d1 & 0x7F) | ((d2 & 0x7F) << 7)) / 4.0
        if playing:
            n = release_then_panic(istate, out_ev, n, block_frame, f, last)
        anchor(istate, fstate, abs_f, beat)
        timeline_seek(istate, fstate, bank, beat)
    elif status == 0xF8:
        istate[I_CLOCK_IN] += 1
    return n


@numba.njit(**OPTIONS)
def steer(istate, fstate, block_frame, frames):
    """sync=midi: aim the transport at the master's position at the block end."""
    if not istate[I_PLAYING]:
        return
    if not (istate[I_CF_RUNNING] and istate[I_CF_STARTED]):
        # No clock since a Song Position or Continue: the master's position is not moving
        # yet, so nothing to aim at; run on at its tempo (the next clock re-anchors).
        move_anchor(istate, fstate, block_frame)
        fstate[F_BPM] = follower_beats_per_frame(fstate) * 60.0 * fstate[0]
        return
    # The block's own clocks come later in its rows: extrapolate the fitted line
    # (uncapped) to the block end; the next block corrects what a tempo change moved.
    target = follower_position_ahead(istate, fstate, block_frame + frames, 1e9)
    now = beat_at(istate, fstate, block_frame)
    bpf_est = follower_beats_per_frame(fstate)
    if abs(target - now) > 0.25 + frames * bpf_est:
        now = follower_position(istate, fstate, block_frame)
    bpf = (target - now) / frames if frames > 0 else bpf_est
    bpf = min(max(bpf, 0.5 * bpf_est), 1.5 * bpf_est)
    anchor(istate, fstate, block_frame, now)
    fstate[F_BPM] = bpf * 60.0 * fstate[0]


@numba.njit(**OPTIONS)
def sort_rows(out_ev, n):
    """Stable insertion sort by frame (rows come mostly in order)."""
    for i in range(1, n):
        f, s, a, b = out_ev[i, 0], out_ev[i, 1], out_ev[i, 2], out_ev[i, 3]
        j = i
        while j > 0 and out_ev[j - 1, 0] > f:
            for k in range(4):
                out_ev[j, k] = out_ev[j - 1, k]
            j -= 1
        out_ev[j, 0], out_ev[j, 1], out_ev[j, 2], out_ev[j, 3] = f, s, a, b


@numba.njit(**OPTIONS)
def process_block(istate, fstate, in_ev, n_in, out_ev, frames, block_frame, audio_l, audio_r):
    """One block; returns how many rows of ``out_ev`` it wrote (see IFACE11 / live_kernel)."""
    istate[I_CALLBACKS] += 1
    istate[I_BLOCK_FRAME] = block_frame
    if istate[I_QUIET]:
        return 0
    last = max(frames - 1, 0)
    n = commands(istate, fstate, out_ev, 0, block_frame, last)
    if istate[I_QUIET]:
        sort_rows(out_ev, n)
        return n
    midi = istate[I_SYNC_MIDI] != 0
    if midi:
        steer(istate, fstate, block_frame, frames)
    pos = 0
    clicks = 0
    n_in = min(max(n_in, 0), in_ev.shape[0])  # numba checks no bounds: never trust a count
    istate[I_EVENTS_IN] += n_in
    for i in range(n_in):
        f = min(max(int(in_ev[i, 0]), 0), last)
        status = int(in_ev[i, 1])
        d1 = int(in_ev[i, 2]) & 0x7F  # data bytes: a stray high bit must not index past a table
        d2 = int(in_ev[i, 3]) & 0x7F
        if f > pos:
            n, clicks = run_piece(istate, fstate, out_ev, n, block_frame, pos, f, clicks, last)
            pos = f
        if status == 0xF8 or status == 0xFA or status == 0xFB or status == 0xFC or status == 0xF2:
            n = transport_row(istate, fstate, out_ev, n, block_frame, f, status, d1, d2, last)
            continue
        if status < 0x80:
            continue  # stray data bytes
        if status >= 0xF8:
            # active sensing, reset (and the undefined 0xF9, 0xFD): real-time bytes the
            # rack does not use pass at once (real-time messages may go anywhere)
            n = emit(istate, out_ev, n, f, status, 0, 0)
            continue
        bank = bank_base(istate, fstate)
        if status & 0xF0 == 0xB0:
            which = istate[I_CC_PARAM + (d1 & 127)] - 1
            if which >= 0:
                mapped_cc(istate, fstate, bank, which, d2)
                continue
        playing = istate[I_PLAYING] != 0
        if midi and playing:
            t = follower_position(istate, fstate, block_frame + f)
            bpf = follower_beats_per_frame(fstate)
        else:
            t = beat_at(istate, fstate, block_frame + f)
            bpf = beats_per_frame(fstate)
        if istate[I_PENDING_N] >= MAX_PENDING:
            n = send_earliest(istate, out_ev, n, block_frame, f)  # make room, keep order
        live_event(istate, fstate, bank, block_frame + f, status, d1, d2, t, bpf, playing)
    n, clicks = run_piece(istate, fstate, out_ev, n, block_frame, pos, frames, clicks, last)
    n = release(istate, out_ev, n, block_frame, block_frame + frames, last)
    render_click(istate, fstate, audio_l, audio_r, frames, clicks)
    sort_rows(out_ev, n)
    istate[I_EVENTS_OUT] += n
    return n


@numba.njit(**OPTIONS)
def final_panic(istate, out_ev, block_frame, last):
    """A panic outside the block (tests, shutdown paths): everything ends at frame 0."""
    return panic(istate, out_ev, 0, block_frame, 0)
