"""numba kernels of the MIDI renderer (private: see engine.midi.notetable, engine.midi.render).

Sequential passes that numpy cannot express as whole-array operations:
pairing note-ons with note-offs, tidying notes of one pitch after they
moved, ordering events that share a tick, and encoding track chunks.
"""

import numpy as np

from groove._numba import kernel

from ._smf_codec import put_varlen

_ON, _OFF = 0, 1  # notetable.KIND_NOTE_ON, KIND_NOTE_OFF
_KEYS = 16 * 128


@kernel
def pair_notes(track, kind, status, data1):
    """FIFO pairing per (track, channel, pitch).

    Returns (on_event[m], off_event[m] (-1: never ends), orphan[n] bool).
    """
    n = kind.shape[0]
    m = 0
    for i in range(n):
        if kind[i] == _ON:
            m += 1
    on_event = np.empty(m, np.int64)
    off_event = np.full(m, -1, np.int64)
    nxt = np.full(m, -1, np.int64)
    head = np.full(_KEYS, -1, np.int64)
    tail = np.full(_KEYS, -1, np.int64)
    stamp = np.full(_KEYS, -1, np.int64)  # track whose queue a key holds
    orphan = np.zeros(n, np.bool_)
    j = 0
    for i in range(n):
        k = kind[i]
        if k != _ON and k != _OFF:
            continue
        key = (status[i] & 15) * 128 + data1[i]
        if stamp[key] != track[i]:
            stamp[key] = track[i]
            head[key] = -1
            tail[key] = -1
        if k == _ON:
            on_event[j] = i
            if tail[key] >= 0:
                nxt[tail[key]] = j
            else:
                head[key] = j
            tail[key] = j
            j += 1
        else:
            h = head[key]
            if h < 0:
                orphan[i] = True
            else:
                off_event[h] = i
                head[key] = nxt[h]
                if head[key] < 0:
                    tail[key] = -1
    return on_event, off_event, orphan


@kernel
def tidy_notes(order, group, start, end, moved, group_moved):
    """Make the notes of each moved group (track, channel, pitch) well-formed.

    ``order`` lists notes sorted by (group, start, note); in a group where any
    note moved, starts become strictly increasing (a later note that collides
    moves one tick later) and each note lasts at least one tick and ends no
    later than the next one starts.  ``start``/``end`` are changed in place;
    ``group_moved[note]`` is set for every note of a moved group.
    """
    n = order.shape[0]
    lo = 0
    while lo < n:
        hi = lo
        any_moved = False
        while hi < n and group[order[hi]] == group[order[lo]]:
            any_moved = any_moved or moved[order[hi]]
            hi += 1
        if any_moved:
            for p in range(lo, hi):
                i = order[p]
                group_moved[i] = True
                if p > lo and start[i] <= start[order[p - 1]]:
                    start[i] = start[order[p - 1]] + 1
            for p in range(lo, hi):
                i = order[p]
                if p + 1 < hi and end[i] > start[order[p + 1]]:
                    end[i] = start[order[p + 1]]
                if end[i] < start[i] + 1:
                    end[i] = start[i] + 1
        lo = hi
    return group_moved


@kernel
def offs_before_ons(perm, tick, track, is_on, is_off, key, fix):
    """At one tick, put a note-off before a note-on of the same key that precedes it.

    ``perm`` is the output order (sorted by track, tick, original order) and
    is changed in place; only events with ``fix`` set are moved (notes of
    moved groups, whose note-off always ends an earlier note).
    """
    n = perm.shape[0]
    lo = 0
    while lo < n:
        hi = lo + 1
        while hi < n and tick[perm[hi]] == tick[perm[lo]] and track[perm[hi]] == track[perm[lo]]:
            hi += 1
        for p in range(lo + 1, hi):
            e = perm[p]
            if not (is_off[e] and fix[e]):
                continue
            for q in range(lo, p):
                f = perm[q]
                if is_on[f] and fix[f] and key[f] == key[e]:
                    for r in range(p, q, -1):
                        perm[r] = perm[r - 1]
                    perm[q] = e
                    break
        lo = hi


@kernel
def encode_tracks(bounds, tick, status, data1, data2, blob_start, blob_len, blob, out):
    """Write MTrk chunks as mido's writer does (same running status); returns bytes used.

    Events ``bounds[t]:bounds[t + 1]`` form track t, in order, ticks absolute.
    A row with ``blob_len > 0`` is copied from ``blob`` and cancels running
    status; other rows are channel messages (``data2 < 0``: one data byte).
    """
    pos = 0
    for t in range(bounds.shape[0] - 1):
        out[pos : pos + 4] = np.array([0x4D, 0x54, 0x72, 0x6B], np.uint8)  # "MTrk"
        size_at = pos + 4
        pos += 8
        running = -1
        now = 0
        for i in range(bounds[t], bounds[t + 1]):
            pos = put_varlen(tick[i] - now, out, pos)
            now = tick[i]
            if blob_len[i] > 0:
                b = blob_start[i]
                for k in range(blob_len[i]):
                    out[pos + k] = blob[b + k]
                pos += blob_len[i]
                running = -1
                continue
            if status[i] != running:
                out[pos] = status[i]
                pos += 1
                running = status[i]
            out[pos] = data1[i]
            pos += 1
            if data2[i] >= 0:
                out[pos] = data2[i]
                pos += 1
        size = pos - size_at - 4
        for k in range(4):
            out[size_at + k] = (size >> (24 - 8 * k)) & 0xFF
    return pos
