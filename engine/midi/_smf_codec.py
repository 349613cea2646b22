"""numba kernels of the SMF codec (private: see engine.midi._smf_decode, engine.midi.midifile).

``scan`` walks the track chunks of a file once per call, filling columns
sized for the worst case, or, for a big file, counting first
(``fill=False``) and filling in a second call.  It decodes
channel messages (with running status) into columns and records where the
payload of every other event (meta, sysex, escape, system message) lies in
the file, checking each event as mido's decoders would, so that a file is
refused with the reason mido would give.  ``encode_fixed`` writes the bytes
mido's writer produces for those events.

Every kernel also runs as plain Python (small inputs skip the compiler):
bytes are read with ``int()`` so numpy's 8-bit arithmetic never wraps.
"""

import math

import numpy as np

from groove._numba import kernel

# error codes of ``scan`` (engine.midi._smf_decode turns them into sentences)
E_NONE = 0
E_PAST_END = 1  # an event runs past the end of its chunk
E_NO_STATUS = 2  # running status with no status before it
E_CHANNEL_DATA = 3  # a data byte above 127 in a channel message
E_SYSEX_DATA = 4  # a data byte above 127 in a sysex message
E_UNDEFINED = 5  # undefined status byte (a = the byte)
E_SYSTEM_DATA = 6  # a data byte above 127 in a system message (a = status)
E_META_INDEX = 7  # meta payload too short for its type (a = meta type)
E_META_SMPTE_RATE = 8  # smpte_offset frame rate code above 3 (b = code)
E_META_RANGE_59 = 9  # smpte minutes or seconds above 59
E_META_RANGE_99 = 10  # smpte sub-frames above 99
E_META_DENOMINATOR = 11  # time_signature denominator exponent mido refuses
E_META_KEY = 12  # key_signature with no key name (a = sharps, signed; b = mode)
E_TICK_RANGE = 13  # an event's absolute tick passes TICK_LIMIT

#: Meta type bytes whose payload mido decodes to a fixed length (others: as read).
META_LENGTH = {0x00: 2, 0x20: 1, 0x21: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}
_META_LENGTH = np.full(256, -1, np.int64)
for _type, _size in META_LENGTH.items():
    _META_LENGTH[_type] = _size

#: Exponent k of a time signature's denominator 2**k that mido accepts: it checks
#: ``math.log(2**k, 2)`` is an integer, which floating point misses for some k.
_DENOMINATOR_OK = np.array(
    [math.log(2**k, 2) == int(math.log(2**k, 2)) for k in range(256)], np.bool_
)
_SYSTEM_DATA_BYTES = np.array(
    # F0..FF: -1 undefined (F0, F7, FF are decoded before this table is read)
    [-1, 1, 2, 1, -1, -1, 0, -1, 0, -1, 0, 0, 0, -1, 0, -1],
    np.int64,
)
_HUGE = 1 << 56  # a longer variable-length number saturates (no file is that long)
#: Latest absolute tick an event may have: every tick up to it is exact as a float64
#: beat, and sums of deltas stay far from int64's end (a 4-byte delta, the standard's
#: longest, is below 2**28; a file would need 2**25 of them to get here).
TICK_LIMIT = 1 << 53


@kernel
def _varlen(data, i, end):
    """(value, index after it); index -1 when it runs past ``end``."""
    value = 0
    while True:
        if i >= end:
            return 0, -1
        b = int(data[i])
        i += 1
        if value < _HUGE:
            value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i


@kernel
def _meta_error(data, p, n, meta_type, denominator_ok):
    """(code, a, b): what mido's decoder of ``meta_type`` says of ``data[p:p + n]``."""
    if meta_type == 0x00:
        if n == 1:
            return E_META_INDEX, meta_type, 0
    elif meta_type == 0x20 or meta_type == 0x51:
        if n < (1 if meta_type == 0x20 else 3):
            return E_META_INDEX, meta_type, 0
    elif meta_type == 0x54:
        for k in range(5):
            if n <= k:
                return E_META_INDEX, meta_type, 0
            v = int(data[p + k])
            if k == 0 and (v >> 5) > 3:
                return E_META_SMPTE_RATE, meta_type, v >> 5
            if (k == 1 or k == 2) and v > 59:
                return E_META_RANGE_59, meta_type, 0
            if k == 4 and v > 99:
                return E_META_RANGE_99, meta_type, 0
    elif meta_type == 0x58:
        for k in range(4):
            if n <= k:
                return E_META_INDEX, meta_type, 0
            if k == 1 and not denominator_ok[int(data[p + 1])]:
                return E_META_DENOMINATOR, meta_type, 0
    elif meta_type == 0x59:
        if n < 2:
            return E_META_INDEX, meta_type, 0
        key = int(data[p])
        key = key - 256 if key > 127 else key
        mode = int(data[p + 1])
        if key < -7 or key > 7 or mode > 1:
            return E_META_KEY, key, mode
    return E_NONE, 0, 0


@kernel
def scan(data, starts, ends, fill, rows, tick, status, data1, data2, xrow, xtype, xpos, xlen):
    """Decode the track chunks ``data[starts[t]:ends[t]]``.

    With ``fill`` the columns are written (sized by a counting pass):
    per event ``tick`` (absolute in its track), ``status`` (0 for non-channel
    events), ``data1``, ``data2`` (-1: one data byte); per non-channel event
    its row ``xrow``, ``xtype`` (0x100 + meta type, 0xF0/0xF7 for sysex and
    escapes, or the system status byte) and its payload ``data[xpos:][:xlen]``.
    ``rows[t]`` is the first row of track t, ``rows[-1]`` the count.

    Returns (n_rows, n_other, error, byte, track, a, b): error is E_NONE or
    the first problem in file order, at ``byte`` of ``track``.
    """
    row = 0
    nx = 0
    for t in range(starts.shape[0]):
        rows[t] = row
        i = starts[t]
        end = ends[t]
        now = 0
        running = -1
        while i < end:
            start = i
            delta, i = _varlen(data, i, end)
            if i < 0:
                return row, nx, E_PAST_END, end, t, 0, 0
            if i >= end:
                return row, nx, E_PAST_END, i, t, 0, 0
            # bounds are written ``x > end - i``: ``i + x`` can pass int64's end
            if delta > TICK_LIMIT - now:
                return row, nx, E_TICK_RANGE, start, t, 0, 0
            now += delta
            st = int(data[i])
            i += 1
            if st < 0x80:
                if running < 0:
                    return row, nx, E_NO_STATUS, start, t, 0, 0
                st = running
                i -= 1
            if st < 0xF0:
                size = 1 if 0xC0 <= st < 0xE0 else 2
                if size > end - i:
                    return row, nx, E_PAST_END, i, t, 0, 0
                d1 = int(data[i])
                d2 = int(data[i + 1]) if size == 2 else -1
                if d1 > 127 or d2 > 127:
                    return row, nx, E_CHANNEL_DATA, i, t, 0, 0
                i += size
                running = st
                if fill:
                    tick[row] = now
                    status[row] = st
                    data1[row] = d1
                    data2[row] = d2
                row += 1
                continue
            kind = st
            if st == 0xFF:
                if i >= end:
                    return row, nx, E_PAST_END, i, t, 0, 0
                kind = 0x100 + int(data[i])
                length, i = _varlen(data, i + 1, end)
                if i < 0:
                    return row, nx, E_PAST_END, end, t, 0, 0
                if length > end - i:
                    return row, nx, E_PAST_END, i, t, 0, 0
                err, a, b = _meta_error(data, i, length, kind - 0x100, _DENOMINATOR_OK)
                if err != E_NONE:
                    return row, nx, err, start, t, a, b
            elif st == 0xF0 or st == 0xF7:
                length, i = _varlen(data, i, end)
                if i < 0:
                    return row, nx, E_PAST_END, end, t, 0, 0
                if length > end - i:
                    return row, nx, E_PAST_END, i, t, 0, 0
                lo, hi = _sysex_span(data, i, length)
                for k in range(lo, hi):
                    if int(data[k]) > 127:
                        return row, nx, E_SYSEX_DATA, start, t, 0, 0
                running = -1
            else:
                length = _SYSTEM_DATA_BYTES[st - 0xF0]
                if length < 0:
                    return row, nx, E_UNDEFINED, start, t, st, 0
                if length > end - i:
                    return row, nx, E_PAST_END, i, t, 0, 0
                for k in range(i, i + length):
                    if int(data[k]) > 127:
                        return row, nx, E_SYSTEM_DATA, start, t, st, 0
                running = -1
            if fill:
                tick[row] = now
                status[row] = 0
                data1[row] = 0
                data2[row] = -1
                xrow[nx] = row
                xtype[nx] = kind
                xpos[nx] = i
                xlen[nx] = length
            row += 1
            nx += 1
            i += length
    rows[starts.shape[0]] = row
    return row, nx, E_NONE, 0, -1, 0, 0


@kernel
def _sysex_span(data, p, n):
    """The sysex data mido keeps of ``data[p:p + n]``: without a leading F0 or closing F7."""
    lo = p
    hi = p + n
    if hi > lo and int(data[lo]) == 0xF0:
        lo += 1
    if hi > lo and int(data[hi - 1]) == 0xF7:
        hi -= 1
    return lo, hi


@kernel
def put_varlen(value, out, pos):
    """Write ``value`` as a variable-length quantity at ``out[pos]``; returns the next position."""
    shift = 0
    while (value >> (shift + 7)) > 0:
        shift += 7
    while shift > 0:
        out[pos] = 0x80 | ((value >> shift) & 0x7F)
        pos += 1
        shift -= 7
    out[pos] = value & 0x7F
    return pos + 1


@kernel
def encode_fixed(data, xtype, xpos, xlen, out, start, size):
    """Write each meta and sysex event as mido's writer does; returns bytes used.

    A meta event of a type mido decodes to a fixed length (``META_LENGTH``)
    is cut to it (or padded with zeros: sequence_number and midi_port may be
    empty); others keep their payload.  Sysex and escapes become F0 <length>
    <data> F7.  End-of-track and system messages get no bytes (size 0).
    ``out`` must hold ``sum(xlen) + 8 * len(xlen)`` bytes.
    """
    pos = 0
    for k in range(xtype.shape[0]):
        kind = xtype[k]
        start[k] = pos
        p = xpos[k]
        n = xlen[k]
        if kind >= 0x100 and kind != 0x12F:
            fixed = _META_LENGTH[kind - 0x100]
            m = n if fixed < 0 else fixed
            out[pos] = 0xFF
            out[pos + 1] = kind - 0x100
            pos = put_varlen(m, out, pos + 2)
            for j in range(m):
                out[pos + j] = data[p + j] if j < n else 0
            pos += m
        elif kind == 0xF0 or kind == 0xF7:
            lo, hi = _sysex_span(data, p, n)
            out[pos] = 0xF0
            pos = put_varlen(hi - lo + 1, out, pos + 1)
            for j in range(lo, hi):
                out[pos] = data[j]
                pos += 1
            out[pos] = 0xF7
            pos += 1
        size[k] = pos - start[k]
    return pos
