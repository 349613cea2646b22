"""The process callback bound to the live kernel (``engine.host.live_kernel``).

Importing this module compiles the callback, or loads it from numba's cache
(dropped first when a kernel source changed: see ``fresh_cache``).  The
body is the pattern of ``_jack_process``: read, one kernel call, write.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import carray, cfunc

from engine.host.live_kernel import process_block

from ._jack_process import N_SLOTS, OPTIONS, SIGNATURE, begin, finish, fresh_cache, views

_ROOT = Path(__file__).resolve().parents[3]


def _process(nframes, arg):
    s = carray(arg, N_SLOTS, np.int64)
    t0, frames, block_frame, n_in, n_long = begin(s, nframes)
    istate, fstate, in_ev, out_ev, audio_l, audio_r = views(s, nframes, frames)
    n_out = process_block(
        istate, fstate, in_ev, n_in, out_ev, frames, block_frame, audio_l, audio_r
    )
    finish(s, nframes, frames, n_out, n_long, t0)
    return 0


fresh_cache(_process, [_ROOT / "engine" / "host", _ROOT / "groove", Path(__file__).parent])
process = cfunc(SIGNATURE, **OPTIONS)(_process)
