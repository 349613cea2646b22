"""MIDI clock out, MIDI clock in and the click, compiled (private).

Clock out is ``engine.live.midiclock.ClockSender`` per transport segment:
each 1/24 beat goes out at the nearest frame of the segment holding it,
Start at beat 0, Song Position + Continue after a jump (a loop wrap too),
Stop when the transport stops.

Clock in is ``ClockFollower``: a least-squares line through the last 24
clocks gives the period; the song position at a frame is the last clock's
tick plus the time since that clock's place on the line, capped one clock
ahead.  Live input under ``sync=midi`` takes its beat from this position at
its own frame, so a note played on a clock lands on that clock's beat.
"""

import math

import numba

from ._lk_chain import emit
from ._lk_options import OPTIONS
from .live_layout import (
    CLICK_MAX,
    F_CF_DEFAULT_PERIOD,
    F_CF_INTERCEPT,
    F_CF_LAST_FRAME,
    F_CF_PERIOD,
    F_CF_TIMES,
    F_CLICK,
    F_CS_EXPECT,
    I_BEATS_PER_BAR,
    I_CF_ARMED,
    I_CF_DISAGREE,
    I_CF_HEAD,
    I_CF_LAST_TICK,
    I_CF_N,
    I_CF_NEXT_TICK,
    I_CF_RUNNING,
    I_CF_STARTED,
    I_CLICK,
    I_CLICK_N,
    I_CLICK_POS,
    I_CLICK_WAVE,
    I_CLOCK_OUT,
    I_CS_NEXT_TICK,
    I_CS_WAS_PLAYING,
    I_SEGS,
    I_SEND_CLOCK,
    MAX_SEGS,
    WINDOW_CLOCKS,
)

CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
JUMP_RATIO = 0.08
JUMP_CLOCKS = 3
GAP_PERIODS = 4.0


# -- clock out -------------------------------------------------------------------
@numba.njit(**OPTIONS)
def _cs_start(istate, out_ev, n, b0, bpf, offset):
    if b0 <= 1e-9:
        n = emit(istate, out_ev, n, offset + max(0, round(-b0 / bpf)), START, 0, 0)
        istate[I_CS_NEXT_TICK] = 0
        return n
    s16 = math.ceil(b0 * 4.0 - 1e-9)
    if s16 <= 0x3FFF:
        n = emit(istate, out_ev, n, offset, SONG_POSITION, s16 & 0x7F, s16 >> 7)
        n = emit(istate, out_ev, n, offset, CONTINUE, 0, 0)
        istate[I_CS_NEXT_TICK] = s16 * 6
        return n
    # Past Song Position's range (beat 4096): no position can be sent, so no false one
    # is; Continue, and clocks from the transport's beat on (never a catch-up burst).
    n = emit(istate, out_ev, n, offset, CONTINUE, 0, 0)
    istate[I_CS_NEXT_TICK] = math.ceil(b0 * 24.0 - 1e-6)
    return n


@numba.njit(**OPTIONS)
def clock_out(istate, fstate, out_ev, n, playing, b0, b1, bpf, offset, seg_frames):
    """Clock messages of one segment [b0, b1) starting at block frame ``offset``."""
    if not istate[I_SEND_CLOCK]:
        return n
    if not playing:
        if istate[I_CS_WAS_PLAYING]:
            n = emit(istate, out_ev, n, offset, STOP, 0, 0)
        istate[I_CS_WAS_PLAYING] = 0
        return n
    if not istate[I_CS_WAS_PLAYING]:
        n = _cs_start(istate, out_ev, n, b0, bpf, offset)
    elif abs(b0 - fstate[F_CS_EXPECT]) > 1e-6:
        n = emit(istate, out_ev, n, offset, STOP, 0, 0)
        n = _cs_start(istate, out_ev, n, b0, bpf, offset)
    istate[I_CS_WAS_PLAYING] = 1
    fstate[F_CS_EXPECT] = b1
    # never a tick before the segment (a burst of clocks on one frame)
    tick = max(istate[I_CS_NEXT_TICK], math.ceil(b0 * 24.0 - 1e-6))
    last = offset + max(seg_frames - 1, 0)
    while tick / 24.0 < b1 - 1e-12:
        f = offset + round((tick / 24.0 - b0) / bpf)
        n = emit(istate, out_ev, n, min(max(f, offset), last), CLOCK, 0, 0)
        istate[I_CLOCK_OUT] += 1
        tick += 1
    istate[I_CS_NEXT_TICK] = tick
    return n


# -- click ---------------------------------------------------------------------------
@numba.njit(**OPTIONS)
def click_segment(istate, b0, b1, bpf, offset, seg_frames, count):
    """Note the click starts of one segment (beats in [b0, b1)); returns the new count."""
    if not istate[I_CLICK]:
        return count
    k = math.ceil(b0 - 1e-9)
    while k < b1 - 1e-12 and count < MAX_SEGS:
        f = round((k - b0) / bpf)
        if f < seg_frames:
            istate[I_SEGS + 2 * count] = offset + max(f, 0)
            bpb = istate[I_BEATS_PER_BAR]
            istate[I_SEGS + 2 * count + 1] = 0 if k % bpb == 0 else 1
            count += 1
        k += 1
    return count


@numba.njit(**OPTIONS)
def render_click(istate, fstate, audio_l, audio_r, frames, count):
    """Add the click into the block's audio (waves precomputed in fstate)."""
    if not istate[I_CLICK]:
        return
    pos = istate[I_CLICK_POS]
    wave = istate[I_CLICK_WAVE]
    size = istate[I_CLICK_N]
    si = 0
    has_l = audio_l.shape[0] >= frames
    has_r = audio_r.shape[0] >= frames
    for f in range(frames):
        while si < count and istate[I_SEGS + 2 * si] <= f:
            pos = 0
            wave = istate[I_SEGS + 2 * si + 1]
            si += 1
        if pos >= 0:
            v = fstate[F_CLICK + wave * CLICK_MAX + pos]
            if has_l:
                audio_l[f] += v
            if has_r:
                audio_r[f] += v
            pos += 1
            if pos >= size:
                pos = -1
    istate[I_CLICK_POS] = pos
    istate[I_CLICK_WAVE] = wave


# -- clock in --------------------------------------------------------------------------
@numba.njit(**OPTIONS)
def _cf_time(istate, fstate, i):
    return fstate[F_CF_TIMES + (istate[I_CF_HEAD] + i) % WINDOW_CLOCKS]


@numba.njit(**OPTIONS)
def _cf_fit(istate, fstate):
    n = istate[I_CF_N]
    if n < 2:
        fstate[F_CF_INTERCEPT] = _cf_time(istate, fstate, n - 1) if n else 0.0
        return
    t0 = _cf_time(istate, fstate, 0)
    mean_x = (n - 1) / 2.0
    sy = 0.0
    for i in range(n):
        sy += _cf_time(istate, fstate, i) - t0
    mean_y = sy / n
    sxy = 0.0
    for i in range(n):
        sxy += (i - mean_x) * (_cf_time(istate, fstate, i) - t0 - mean_y)
    sxx = n * (n * n - 1) / 12.0
    slope = sxy / sxx
    if slope <= 0:
        return
    fstate[F_CF_PERIOD] = slope
    fstate[F_CF_INTERCEPT] = t0 + mean_y + slope * (n - 1 - mean_x)


@numba.njit(**OPTIONS)
def _cf_drop_oldest(istate, keep):
    """Keep only the newest ``keep`` clocks of the window."""
    n = istate[I_CF_N]
    if n > keep:
        istate[I_CF_HEAD] = (istate[I_CF_HEAD] + n - keep) % WINDOW_CLOCKS
        istate[I_CF_N] = keep


@numba.njit(**OPTIONS)
def _cf_add(istate, fstate, frame):
    n = istate[I_CF_N]
    if n:
        interval = frame - _cf_time(istate, fstate, n - 1)
        period = fstate[F_CF_PERIOD]
        if interval > GAP_PERIODS * period or interval <= 0:
            istate[I_CF_N] = 0
            istate[I_CF_DISAGREE] = 0
        else:
            ratio = interval / period - 1.0
            if abs(ratio) <= JUMP_RATIO:
                istate[I_CF_DISAGREE] = 0
            else:
                step = 1 if ratio > 0 else -1
                d = istate[I_CF_DISAGREE]
                d = d + step if d * step > 0 else step
                istate[I_CF_DISAGREE] = d
                if abs(d) >= JUMP_CLOCKS:
                    _cf_drop_oldest(istate, JUMP_CLOCKS)
                    istate[I_CF_DISAGREE] = 0
    n = istate[I_CF_N]
    if n == WINDOW_CLOCKS:
        _cf_drop_oldest(istate, WINDOW_CLOCKS - 1)
        n -= 1
    fstate[F_CF_TIMES + (istate[I_CF_HEAD] + n) % WINDOW_CLOCKS] = frame
    istate[I_CF_N] = n + 1
    _cf_fit(istate, fstate)


@numba.njit(**OPTIONS)
def clock_in(istate, fstate, abs_frame, status, d1, d2):
    """Feed one clock-related message; returns 1 start, 2 continue, 3 stop, 4 seek, 0 other."""
    if status == CLOCK:
        _cf_add(istate, fstate, float(abs_frame))
        if not istate[I_CF_RUNNING]:
            return 0
        istate[I_CF_LAST_TICK] = istate[I_CF_NEXT_TICK]
        fstate[F_CF_LAST_FRAME] = float(abs_frame)
        istate[I_CF_NEXT_TICK] += 1
        if not istate[I_CF_STARTED]:
            istate[I_CF_STARTED] = 1
            return istate[I_CF_ARMED]
        return 0
    if status == START:
        istate[I_CF_NEXT_TICK] = 0
        istate[I_CF_RUNNING] = 1
        istate[I_CF_STARTED] = 0
        istate[I_CF_ARMED] = 1
    elif status == CONTINUE:
        istate[I_CF_RUNNING] = 1
        istate[I_CF_STARTED] = 0
        istate[I_CF_ARMED] = 2
    elif status == STOP:
        istate[I_CF_RUNNING] = 0
        return 3
    elif status == SONG_POSITION:
        istate[I_CF_NEXT_TICK] = ((d1 & 0x7F) | ((d2 & 0x7F) << 7)) * 6
        istate[I_CF_STARTED] = 0
        return 4
    return 0


@numba.njit(**OPTIONS)
def follower_position(istate, fstate, abs_frame):
    """The master's song position (beats) at a frame, interpolated, capped one clock ahead."""
    return follower_position_ahead(istate, fstate, abs_frame, 1.0)


@numba.njit(**OPTIONS)
def follower_position_ahead(istate, fstate, abs_frame, cap_ticks):
    """The song position, at most ``cap_ticks`` clocks past the last clock."""
    if not (istate[I_CF_RUNNING] and istate[I_CF_STARTED]):
        return max(istate[I_CF_NEXT_TICK], 0) / 24.0
    period = fstate[F_CF_PERIOD]
    at = fstate[F_CF_LAST_FRAME]
    if istate[I_CF_N] >= 2 and abs(fstate[F_CF_INTERCEPT] - at) < period:
        at = fstate[F_CF_INTERCEPT]
    ticks = min((abs_frame - at) / period, cap_ticks)
    return (istate[I_CF_LAST_TICK] + ticks) / 24.0


@numba.njit(**OPTIONS)
def follower_beats_per_frame(fstate):
    p = fstate[F_CF_PERIOD]
    if not p > 0.0:
        p = fstate[F_CF_DEFAULT_PERIOD]
    return 1.0 / (24.0 * p)
