"""Single-producer single-consumer ring buffers in numpy memory.

A ring lives inside an int64 array at ``base``: a header ``head, tail,
capacity, width`` and then ``capacity`` rows of ``width`` int64 values.  Only
the producer writes ``head`` and only the consumer writes ``tail``, so the
two threads never take a lock: the producer fills the row first and then
publishes it by advancing ``head``; the consumer reads the row and then frees
it by advancing ``tail``.  Counters only grow (int64 will not wrap in a
session), and a row's slot is ``counter % capacity``.

The functions are numba-compiled with ``nogil`` so the audio thread calls
them from compiled code; the main thread calls the same functions from
Python.  Stores of aligned int64 are single instructions on the machines we
run on, and x86 keeps stores (and loads) in program order, which is all the
publish step needs; a port to a weakly ordered CPU would add fences here.
"""

from __future__ import annotations

import numba
import numpy as np

from ._lk_options import OPTIONS

HEAD, TAIL, CAP, WIDTH = 0, 1, 2, 3
HDR = 4


def size(capacity: int, width: int) -> int:
    """int64 slots a ring of ``capacity`` rows of ``width`` takes."""
    return HDR + capacity * width


@numba.njit(**OPTIONS)
def ring_init(arr, base, capacity, width):
    """Empty ring at ``base`` (call before either thread uses it)."""
    arr[base + HEAD] = 0
    arr[base + TAIL] = 0
    arr[base + CAP] = capacity
    arr[base + WIDTH] = width


@numba.njit(**OPTIONS)
def ring_count(arr, base):
    """Rows waiting."""
    return arr[base + HEAD] - arr[base + TAIL]


@numba.njit(**OPTIONS)
def ring_reserve(arr, base):
    """Producer: index of the next free row's first value, or -1 when full.

    Fill the row, then call ``ring_publish``.
    """
    head = arr[base + HEAD]
    cap = arr[base + CAP]
    if head - arr[base + TAIL] >= cap:
        return -1
    return base + HDR + (head % cap) * arr[base + WIDTH]


@numba.njit(**OPTIONS)
def ring_publish(arr, base):
    """Producer: make the reserved row visible to the consumer."""
    arr[base + HEAD] = arr[base + HEAD] + 1


@numba.njit(**OPTIONS)
def ring_slot(arr, base, counter):
    """Slot number (0 .. capacity - 1) of the row with this counter."""
    return counter % arr[base + CAP]


@numba.njit(**OPTIONS)
def ring_push3(arr, base, a, b, c):
    """Producer: push one row (its first three values); False when full."""
    at = ring_reserve(arr, base)
    if at < 0:
        return False
    w = arr[base + WIDTH]
    arr[at] = a
    if w > 1:
        arr[at + 1] = b
    if w > 2:
        arr[at + 2] = c
    ring_publish(arr, base)
    return True


@numba.njit(**OPTIONS)
def ring_peek(arr, base):
    """Consumer: index of the oldest row's first value, or -1 when empty."""
    tail = arr[base + TAIL]
    if arr[base + HEAD] - tail <= 0:
        return -1
    return base + HDR + (tail % arr[base + CAP]) * arr[base + WIDTH]


@numba.njit(**OPTIONS)
def ring_release(arr, base):
    """Consumer: free the oldest row (after reading it)."""
    arr[base + TAIL] = arr[base + TAIL] + 1


def pop_all(arr: np.ndarray, base: int) -> list:
    """Main thread: every waiting row as a tuple of ints."""
    rows = []
    w = int(arr[base + WIDTH])
    while True:
        at = ring_peek(arr, base)
        if at < 0:
            return rows
        rows.append(tuple(int(v) for v in arr[at : at + w]))
        ring_release(arr, base)


@numba.njit(**OPTIONS)
def ring_take_timed(arr, base, out, now_ns, origin_ns, frames_per_ns, last_frame):
    """Consumer: move rows ``(time_ns, a, b, c)`` stamped at or before ``now_ns`` into ``out``.

    Each becomes ``(frame, a, b, c)`` with ``frame = (time - origin) * rate`` clipped to
    ``[0, last_frame]`` (a wall-clock input placed in the block, as rtmidi input is).
    Returns the rows written; what does not fit waits for the next call.
    """
    n = 0
    cap = out.shape[0]
    while n < cap:
        at = ring_peek(arr, base)
        if at < 0 or arr[at] > now_ns:
            break
        f = int((arr[at] - origin_ns) * frames_per_ns)
        out[n, 0] = min(max(f, 0), last_frame)
        out[n, 1] = arr[at + 1]
        out[n, 2] = arr[at + 2]
        out[n, 3] = arr[at + 3]
        ring_release(arr, base)
        n += 1
    return n


def push_row(arr: np.ndarray, base: int, a: int, b: int, c: int, d: int) -> bool:
    """Producer (Python): push one 4-wide row; False when full."""
    at = int(ring_reserve(arr, base))
    if at < 0:
        return False
    arr[at], arr[at + 1], arr[at + 2], arr[at + 3] = a, b, c, d
    ring_publish(arr, base)
    return True
