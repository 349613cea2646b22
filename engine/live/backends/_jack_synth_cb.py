"""The process callback with the SoundFont synthesizer: ``_jack_cb`` plus FluidSynth.

The same cycle as ``_jack_cb.process`` (read, ``process_block``, write),
and between the kernel and the write the block's output rows go to
FluidSynth (``engine.audio._live_feed.synth_block``), rendered in segments
straight into the ``out_1``/``out_2`` port buffers: what is heard is the
MIDI that goes out, each message on FluidSynth's 64-frame grid nearest its
frame.  Still no Python and no GIL in the cycle.

The slot block is ``_jack_process``'s with four more slots after
``N_SLOTS`` (the synth's state and row table, the two audio ports), so the
shared helpers read it unchanged and the callback without a synth stays as
it was.  Importing this module compiles the callback or loads it from
numba's cache (dropped when a kernel source changed, ``fresh_cache``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import carray, cfunc

from engine.audio._live_feed import MAX_ROWS, RESERVED, S_LEN, synth_block
from engine.host.live_kernel import process_block

from ._jack_process import (
    FN_PORT_GET_BUFFER,
    N_SLOTS,
    OPTIONS,
    SIGNATURE,
    begin,
    finish,
    fresh_cache,
    views,
)
from ._libjack import as_voidptr, call_r64_p32

_ROOT = Path(__file__).resolve().parents[3]

# -- the slots after _jack_process's ------------------------------------------
SYNTH_STATE = N_SLOTS  # engine.audio._live_feed state (int64[S_LEN])
SYNTH_ROWS = N_SLOTS + 1  # its row table (int64[MAX_ROWS + RESERVED, 4])
PORT_OUT1 = N_SLOTS + 2
PORT_OUT2 = N_SLOTS + 3
N_SYNTH_SLOTS = N_SLOTS + 4
SYNTH_ROW_CAP = MAX_ROWS + RESERVED


def _process(nframes, arg):
    s = carray(arg, N_SYNTH_SLOTS, np.int64)
    t0, frames, block_frame, n_in, n_long = begin(s, nframes)
    istate, fstate, in_ev, out_ev, audio_l, audio_r = views(s, nframes, frames)
    n_out = process_block(
        istate, fstate, in_ev, n_in, out_ev, frames, block_frame, audio_l, audio_r
    )
    buf_l = call_r64_p32(s[FN_PORT_GET_BUFFER], (s[PORT_OUT1], nframes))
    buf_r = call_r64_p32(s[FN_PORT_GET_BUFFER], (s[PORT_OUT2], nframes))
    out_l = carray(as_voidptr(buf_l), nframes, np.float32)
    out_r = carray(as_voidptr(buf_r), nframes, np.float32)
    state = carray(as_voidptr(s[SYNTH_STATE]), S_LEN, np.int64)
    rows = carray(as_voidptr(s[SYNTH_ROWS]), (SYNTH_ROW_CAP, 4), np.int64)
    n_rows = min(max(np.int64(n_out), 0), out_ev.shape[0])
    synth_block(state, rows, istate, out_ev, n_rows, frames, out_l, out_r)
    if nframes > frames:  # a block longer than MAX_BLOCK: the kernel ran only `frames`
        out_l[frames:] = 0.0
        out_r[frames:] = 0.0
    finish(s, nframes, frames, n_out, n_long, t0)
    return 0


fresh_cache(
    _process,
    [
        _ROOT / "engine" / "host",
        _ROOT / "engine" / "audio",
        _ROOT / "groove",
        Path(__file__).parent,
    ],
)
process = cfunc(SIGNATURE, **OPTIONS)(_process)
