"""One block through every path of the live kernel: what ``LiveKernel.prepare`` runs (private).

numba compiles a function together with everything it calls, so one call
of ``process_block`` with the session's array types compiles the lot; the
rows and commands below also run each path once, on a copy of the state.
"""

import numpy as np

from . import live_layout as L
from ._lk_block import process_block
from .ring import ring_publish, ring_reserve


def warmup_block(istate, fstate, max_block):
    """One block through every path of the kernel (compiles it); returns the rows written."""
    frames = int(max(min(max_block, 256), 16))
    rows = [
        (0, 0xFA, 0, 0),  # start
        (0, 0xF8, 0, 0),  # clock
        (1, 0x90, 60, 100),
        (1, 0xB0, 64, 127),
        (2, 0xE0, 0, 64),
        (2, 0xA0, 60, 10),
        (3, 0xC0, 5, 0),
        (3, 0xD0, 30, 0),
        (4, 0x80, 60, 0),
        (4, 0x90, 61, 0),  # orphan note-off as a zero-velocity note-on
        (5, 0xF2, 0, 0),
        (6, 0xFC, 0, 0),
        (7, 0xFB, 0, 0),
        (8, 0xF1, 3, 0),
    ]
    in_ev = np.array(rows, np.int32)
    out_ev = np.zeros((4096, 4), np.int32)
    audio = np.zeros(frames, np.float32)
    for code, iarg, a0, a1 in (
        (L.CMD_LOOP, 0, 0.0, 1.0),
        (L.CMD_PARAM, L.P_TIMING, 0.5, 0.0),
        (L.CMD_TEMPO, 0, 120.0, 0.0),
        (L.CMD_CONTINUE, 0, 0.0, 0.0),
        (L.CMD_SEEK, 0, 0.0, 0.0),
        (L.CMD_PANIC, 0, 0.0, 0.0),
        (L.CMD_STOP, 0, 0.0, 0.0),
        (L.CMD_START, 0, 0.0, 0.0),
    ):
        at = ring_reserve(istate, L.I_CMD_RING)
        slot = int(istate[L.I_CMD_RING]) % L.CMD_CAP
        fstate[L.F_CMD_ARG + 2 * slot], fstate[L.F_CMD_ARG + 2 * slot + 1] = a0, a1
        istate[at], istate[at + 1] = code, iarg
        ring_publish(istate, L.I_CMD_RING)
    n = process_block(istate, fstate, in_ev, in_ev.shape[0], out_ev, frames, 0, audio, audio)
    empty = np.zeros(0, np.float32)
    process_block(istate, fstate, in_ev[:0], 0, out_ev, frames, frames, empty, empty)
    return n
