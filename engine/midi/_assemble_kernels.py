"""numba kernels of the assembler (private: see engine.midi.assemble).

Rendered rows come out almost in order: a groove moves each note a little,
so within a track (or a pitch) only neighbours swap.  ``sort_segments``
exploits that with an insertion sort per segment that gives up past a
budget of moves (the caller then sorts with ``np.lexsort``: the result is
the same stable order either way).  ``event_rows`` lays the output rows out
in file order per track, ``gather`` collects the bytes of each output row.
"""

import numpy as np

from groove._numba import kernel


@kernel
def sort_segments(perm, key, bounds, budget):
    """Stable-sort each ``perm[bounds[s]:bounds[s + 1]]`` by ``key[perm[i]]``, in place.

    Returns False (``perm`` then half-sorted) once more than ``budget`` moves
    were needed.
    """
    moves = 0
    for s in range(bounds.shape[0] - 1):
        lo = bounds[s]
        for i in range(lo + 1, bounds[s + 1]):
            e = perm[i]
            k = key[e]
            j = i
            while j > lo and key[perm[j - 1]] > k:
                perm[j] = perm[j - 1]
                j -= 1
            moves += i - j
            if moves > budget:
                return False
            perm[j] = e
    return True


@kernel
def event_rows(track_start, row_of_event, close_track, close_base, eot_base):
    """Output rows in file order per track: events, then closing note-offs, then end_of_track.

    ``row_of_event[e]`` is the output row of input event e (-1: dropped);
    closing note-off c is row ``close_base + c`` in track ``close_track[c]``
    (ascending), track t's end_of_track row ``eot_base + t``.  Returns
    (order, bounds): the rows, and where each track's rows begin.
    """
    n_tracks = track_start.shape[0] - 1
    count = 0
    for e in range(row_of_event.shape[0]):
        if row_of_event[e] >= 0:
            count += 1
    order = np.empty(count + close_track.shape[0] + n_tracks, np.int64)
    bounds = np.empty(n_tracks + 1, np.int64)
    p = 0
    c = 0
    for t in range(n_tracks):
        bounds[t] = p
        for e in range(track_start[t], track_start[t + 1]):
            if row_of_event[e] >= 0:
                order[p] = row_of_event[e]
                p += 1
        while c < close_track.shape[0] and close_track[c] == t:
            order[p] = close_base + c
            p += 1
            c += 1
        order[p] = eot_base + t
        p += 1
    bounds[n_tracks] = p
    return order, bounds


@kernel
def gather(perm, src, note, n_keep, n_notes, ev, velocity, channel, pitch, close_velocity, eot_at):
    """Source, status, data bytes and blob span of each output row, in output order.

    ``ev`` holds the events' status, data1, data2, blob_start, blob_len (a
    tuple of arrays).  Rows ``n_keep:n_keep + n_notes`` are note-ons and take
    ``velocity[note]``; a row with ``src`` -1 is a closing note-off of note
    ``note`` (``close_velocity``), -2 an end_of_track (3 bytes at ``eot_at``).
    Returns (src, status, data1, data2, blob_start, blob_len).
    """
    n = perm.shape[0]
    out_src = np.empty(n, np.int32)
    status = np.zeros(n, np.int16)  # small types: this is the render's peak of memory
    data1 = np.zeros(n, np.int16)
    data2 = np.zeros(n, np.int16)
    start = np.zeros(n, np.int32)
    length = np.zeros(n, np.int32)
    for i in range(n):
        r = perm[i]
        s = src[r]
        out_src[i] = s
        if s >= 0:
            status[i] = ev[0][s]
            data1[i] = ev[1][s]
            data2[i] = ev[2][s]
            start[i] = ev[3][s]
            length[i] = ev[4][s]
            if n_keep <= r < n_keep + n_notes:
                data2[i] = velocity[note[r]]
        elif s == -1:
            status[i] = 0x80 | channel[note[r]]
            data1[i] = pitch[note[r]]
            data2[i] = close_velocity
        else:
            start[i] = eot_at
            length[i] = 3
    return out_src, status, data1, data2, start, length


@kernel
def track_max(best, track, tick):
    """``best[t] = max(best[t], tick of every row of track t)``, in place."""
    for i in range(track.shape[0]):
        if tick[i] > best[track[i]]:
            best[track[i]] = tick[i]


@kernel
def note_keys(note, n_keep, n_notes, group, group_moved):
    """Per row: note-on, note-off, its key (group, -1: not a note) and whether it may move.

    Rows ``n_keep:n_keep + n_notes`` are note-ons, other rows with a note
    (``note >= 0``) note-offs; a row may move when its note's group moved.
    Returns (is_on, is_off, key, fix, any fix).
    """
    n = note.shape[0]
    is_on = np.zeros(n, np.bool_)
    is_off = np.zeros(n, np.bool_)
    key = np.full(n, -1, np.int64)
    fix = np.zeros(n, np.bool_)
    any_fix = False
    for r in range(n):
        k = note[r]
        if k < 0:
            continue
        key[r] = group[k]
        on = n_keep <= r < n_keep + n_notes
        is_on[r] = on
        is_off[r] = not on
        if group_moved[k]:
            fix[r] = True
            any_fix = True
    return is_on, is_off, key, fix, any_fix
