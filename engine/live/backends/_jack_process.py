"""The JACK process callback as a C function (numba ``cfunc``): no Python in it.

JACK calls ``process(nframes, arg)`` on its real-time thread.  ``arg`` points
to the *slot block*: a preallocated int64 array holding every address the
callback needs (libjack's functions, the client and ports, the kernel's
state arrays, the event buffers, the timing ring) and its counters.  One
cycle:

1. the input port's events become kernel rows (frame, status, data1, data2);
   longer messages (sysex) and anything that is not one normal short message
   are kept aside by address, to go out unchanged at their frame (not
   delayed by L: their bytes live in this cycle's input buffer only, and a
   copy across cycles would need a byte store sized for the largest sysex;
   sysex carries no timing a groove moves, so it goes out at once);
2. the kernel's ``process_block`` runs (numba, nogil, never raises);
3. its rows and the kept messages are merged by frame and written with
   ``jack_midi_event_write``; kernel rows a full port buffer refuses (a
   panic of thousands of notes) stay at the head of the output rows and go
   out first, at frame 0, in the next cycles (the kernel writes after them);
   a refused kept message (its bytes live in this cycle's input buffer) is
   counted as dropped;
4. the callback's own duration (CLOCK_MONOTONIC, ns) goes into a ring that
   the main thread reads for the status line and the benchmark.

Everything is an integer address; arrays are views made with
``numba.carray``.  Out-of-range values are clamped, never indexed.
"""

from __future__ import annotations

import numpy as np
from numba import carray, njit, types

from ._libjack import (
    as_voidptr,
    call_r32_3p,
    call_r32_p,
    call_r32_p3_2p,
    call_r32_pp32,
    call_r64_p32,
    call_v_p,
)

# -- the slot block --------------------------------------------------------------
(
    FN_PORT_GET_BUFFER,
    FN_MIDI_COUNT,
    FN_MIDI_GET,
    FN_MIDI_CLEAR,
    FN_MIDI_WRITE,
    FN_LAST_FRAME_TIME,
    FN_CLOCK_GETTIME,
    CLIENT,
    PORT_IN,
    PORT_OUT,
    PORT_CLICK,
    ISTATE,
    ISTATE_LEN,
    FSTATE,
    FSTATE_LEN,
    IN_EV,
    OUT_EV,
    EV_ROWS,
    LONG_EV,
    LONG_ROWS,
    MIDI_EVENT,
    BYTES,
    SCRATCH_AUDIO,
    MAX_BLOCK,
    RING_NS,
    RING_STAMP_NS,
    RING_MASK,
    TIMESPEC,
    # counters (audio thread writes, main thread reads)
    CALLBACKS,
    DROPPED_OUT,
    DROPPED_IN,
    LONG_PASSED,
    MIDI_IN,
    MIDI_OUT,
    FRAME_WRAPS,
    LAST_FRAME32,
    OVERSIZE,
    CARRY,  # kernel rows a full port buffer refused, kept at OUT_EV's head for the next cycle
    N_SLOTS,
) = range(39)

CLOCK_MONOTONIC = 1


@njit(inline="always", error_model="numpy", cache=True)
def _now_ns(s, ts):
    call_r32_3p(s[FN_CLOCK_GETTIME], (CLOCK_MONOTONIC, s[TIMESPEC]))
    return ts[0] * 1_000_000_000 + ts[1]


@njit(inline="always", error_model="numpy", cache=True)
def _message_len(status):
    """Bytes in a short message with this status byte (1, 2 or 3)."""
    kind = status & 0xF0
    if kind == 0xC0 or kind == 0xD0:
        return 2
    if kind < 0xF0:
        return 3
    if status == 0xF1 or status == 0xF3:
        return 2
    if status == 0xF2:
        return 3
    return 1


@njit(inline="always", error_model="numpy", cache=True)
def begin(s, nframes):
    """Start a cycle: (t0 ns, frames, absolute block frame, rows in, kept messages).

    Reads the input port into the kernel's input rows and the kept list.
    """
    ts = carray(as_voidptr(s[TIMESPEC]), 2, np.int64)
    t0 = _now_ns(s, ts)
    frames = np.int64(nframes)
    if frames > s[MAX_BLOCK]:
        s[OVERSIZE] += 1
        frames = s[MAX_BLOCK]
    # A 32-bit frame counter wraps every 24.8 h at 48 kHz: extend it.
    f32 = np.int64(call_r32_p(s[FN_LAST_FRAME_TIME], (s[CLIENT],)))
    if f32 < s[LAST_FRAME32]:
        s[FRAME_WRAPS] += 1
    s[LAST_FRAME32] = f32
    block_frame = (s[FRAME_WRAPS] << 32) + f32
    n_in, n_long = _read_input(s, nframes)
    return t0, frames, block_frame, n_in, n_long


@njit(inline="always", error_model="numpy", cache=True)
def _read_input(s, nframes):
    rows = s[EV_ROWS]
    in_ev = carray(as_voidptr(s[IN_EV]), (rows, 4), np.int32)
    long_ev = carray(as_voidptr(s[LONG_EV]), (s[LONG_ROWS], 3), np.int64)
    ev = carray(as_voidptr(s[MIDI_EVENT]), 3, np.int64)
    in_buf = call_r64_p32(s[FN_PORT_GET_BUFFER], (s[PORT_IN], nframes))
    n_in = 0
    n_long = 0
    count = np.int64(call_r32_p(s[FN_MIDI_COUNT], (in_buf,)))
    for i in range(count):
        if call_r32_pp32(s[FN_MIDI_GET], (s[MIDI_EVENT], in_buf, i)) != 0:
            continue
        frame = ev[0] & 0xFFFFFFFF  # uint32 time; the next 4 bytes are padding
        size = ev[1]
        if size <= 0:
            continue
        data = carray(as_voidptr(ev[2]), size, np.uint8)
        status = np.int64(data[0])
        short = status >= 0x80 and status != 0xF0 and status != 0xF7
        if short and size == _message_len(status):
            if n_in < rows:
                in_ev[n_in, 0] = frame
                in_ev[n_in, 1] = status
                in_ev[n_in, 2] = data[1] if size > 1 else 0
                in_ev[n_in, 3] = data[2] if size > 2 else 0
                n_in += 1
            else:
                s[DROPPED_IN] += 1
        elif n_long < long_ev.shape[0]:
            # Sysex and anything unusual: passed on unchanged, at its frame.
            long_ev[n_long, 0] = frame
            long_ev[n_long, 1] = ev[2]
            long_ev[n_long, 2] = size
            n_long += 1
        else:
            s[DROPPED_IN] += 1
    s[MIDI_IN] += n_in + n_long
    return n_in, n_long


@njit(inline="always", error_model="numpy", cache=True)
def views(s, nframes, frames):
    """The kernel's arguments: istate, fstate, in_ev, out_ev, audio_l, audio_r (zeroed)."""
    rows = s[EV_ROWS]
    in_ev = carray(as_voidptr(s[IN_EV]), (rows, 4), np.int32)
    carry = min(max(s[CARRY], 0), rows)
    out_ev = carray(as_voidptr(s[OUT_EV]), (rows, 4), np.int32)[carry:]
    mb = s[MAX_BLOCK]
    scratch = carray(as_voidptr(s[SCRATCH_AUDIO]), 2 * mb, np.float32)
    audio_r = scratch[mb : mb + frames]
    if s[PORT_CLICK] != 0:
        click = call_r64_p32(s[FN_PORT_GET_BUFFER], (s[PORT_CLICK], nframes))
        port = carray(as_voidptr(click), nframes, np.float32)
        port[:] = 0.0  # the whole port: past MAX_BLOCK the kernel writes nothing
        audio_l = port[:frames]
    else:
        audio_l = scratch[:frames]
    audio_l[:] = 0.0
    audio_r[:] = 0.0
    istate = carray(as_voidptr(s[ISTATE]), s[ISTATE_LEN], np.int64)
    fstate = carray(as_voidptr(s[FSTATE]), s[FSTATE_LEN], np.float64)
    return istate, fstate, in_ev, out_ev, audio_l, audio_r


@njit(inline="always", error_model="numpy", cache=True)
def finish(s, nframes, frames, n_out, n_long, t0):
    """Write the carried rows, then the kernel's rows and the kept messages merged by frame.

    Rows the port buffer refuses are carried to the next cycle (up to half
    the rows, so the kernel keeps room; past that they count as dropped).
    """
    rows = s[EV_ROWS]
    out_ev = carray(as_voidptr(s[OUT_EV]), (rows, 4), np.int32)
    long_ev = carray(as_voidptr(s[LONG_EV]), (s[LONG_ROWS], 3), np.int64)
    carry = min(max(s[CARRY], 0), rows)
    n_out = carry + min(max(np.int64(n_out), 0), rows - carry)
    out_buf = call_r64_p32(s[FN_PORT_GET_BUFFER], (s[PORT_OUT], nframes))
    call_v_p(s[FN_MIDI_CLEAR], (out_buf,))
    byts = carray(as_voidptr(s[BYTES]), 4, np.uint8)
    last = max(frames - 1, 0)
    floor = 0  # jack_midi_event_write wants frames in order
    i = 0
    j = 0
    refused = -1  # first kernel row the port buffer refused
    while i < n_out or j < n_long:
        short = j >= n_long or (i < n_out and (i < carry or out_ev[i, 0] <= long_ev[j, 0]))
        if short and refused >= 0:
            i += 1  # carried with the refused row, in order
            continue
        if short:
            frame = 0 if i < carry else min(max(np.int64(out_ev[i, 0]), floor), last)
            status = np.int64(out_ev[i, 1]) & 0xFF
            byts[0] = status
            byts[1] = out_ev[i, 2] & 0x7F
            byts[2] = out_ev[i, 3] & 0x7F
            size = _message_len(status)
            ptr = s[BYTES]
        else:
            frame = min(max(long_ev[j, 0], floor), last)
            ptr = long_ev[j, 1]
            size = long_ev[j, 2]
        if call_r32_p3_2p(s[FN_MIDI_WRITE], (out_buf, frame, ptr, size)) != 0:
            if short:
                refused = i
            else:
                s[DROPPED_OUT] += 1
        else:
            s[MIDI_OUT] += 1
            floor = frame
        if short:
            i += 1
        else:
            j += 1
    s[CARRY] = 0
    if refused >= 0:
        kept = min(n_out - refused, rows // 2)
        s[DROPPED_OUT] += n_out - refused - kept
        for k in range(kept):  # forward copy: the destination is at or before the source
            for c in range(4):
                out_ev[k, c] = out_ev[refused + k, c]
        s[CARRY] = kept
    s[LONG_PASSED] += n_long
    ts = carray(as_voidptr(s[TIMESPEC]), 2, np.int64)
    t1 = _now_ns(s, ts)
    k = s[CALLBACKS] & s[RING_MASK]
    ring = carray(as_voidptr(s[RING_NS]), s[RING_MASK] + 1, np.int64)
    stamps = carray(as_voidptr(s[RING_STAMP_NS]), s[RING_MASK] + 1, np.int64)
    ring[k] = t1 - t0
    stamps[k] = t0
    s[CALLBACKS] += 1


#: The C signature JACK calls: int process(jack_nframes_t nframes, void *arg).
SIGNATURE = types.int32(types.uint32, types.voidptr)
#: error_model numpy: nothing in the callback raises (a division by zero is inf).
OPTIONS = dict(nopython=True, error_model="numpy", cache=True)

# A module that binds a kernel defines its callback as (numba resolves
# ``process_block`` as that module's global, so the cfunc caches):
#
#     @cfunc(SIGNATURE, **OPTIONS)
#     def process(nframes, arg):
#         s = carray(arg, N_SLOTS, np.int64)
#         t0, frames, block_frame, n_in, n_long = begin(s, nframes)
#         istate, fstate, in_ev, out_ev, audio_l, audio_r = views(s, nframes, frames)
#         n_out = process_block(istate, fstate, in_ev, n_in, out_ev, frames, block_frame,
#                               audio_l, audio_r)
#         finish(s, nframes, frames, n_out, n_long, t0)
#         return 0


def fresh_cache(py_func, roots) -> None:
    """Drop numba's cached callback when a source it was built from changed.

    numba keys a cached function on its own file only; the callback links the
    whole kernel in, so a changed kernel module would otherwise run stale.
    ``roots`` are package directories whose ``.py`` files count.
    """
    import hashlib
    import os
    from pathlib import Path

    from numba.core.caching import FunctionCache

    stamp = hashlib.sha256()
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            st = path.stat()
            stamp.update(f"{path}:{st.st_mtime_ns}:{st.st_size};".encode())
    digest = stamp.hexdigest()
    cache = FunctionCache(py_func)
    mark = os.path.join(cache._cache_path, f"{py_func.__module__}.{py_func.__name__}.deps")
    try:
        with open(mark) as f:
            if f.read() == digest:
                return
    except OSError:
        pass
    try:
        cache.flush()
        os.makedirs(os.path.dirname(mark), exist_ok=True)
        with open(mark, "w") as f:
            f.write(digest)
    except OSError:  # a read-only install: numba will not cache there either
        pass
