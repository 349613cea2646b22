"""What the main thread reads of the live kernel: counters, CC values, parameter names.

Private; plain Python over ``istate`` (the main thread's side of
``engine.host.live_kernel``).
"""

from __future__ import annotations

import numpy as np

from . import live_layout as L

_PARAM_IDS = {"timing": L.P_TIMING, "quantize": L.P_QUANTIZE, "velocity": L.P_VELOCITY}


def param_id(name) -> int:
    """Kernel id of a CC-drivable parameter name (``weightN`` -> P_WEIGHT + N - 1)."""
    if isinstance(name, (int, np.integer)):
        return int(name)
    if name in _PARAM_IDS:
        return _PARAM_IDS[name]
    if name.startswith("weight") and name[6:].isdigit():
        return L.P_WEIGHT + int(name[6:]) - 1
    raise ValueError(f"param: {name!r} is not one of timing, quantize, velocity, weightN")


def param_name(pid: int) -> str:
    for k, v in _PARAM_IDS.items():
        if v == pid:
            return k
    return f"weight{pid - L.P_WEIGHT + 1}"


def new_weights(istate, seen_counts) -> list:
    """Blend weights set since the last call: [(name, latest value)]; updates ``seen_counts``.

    The audio thread writes a weight's value, then bumps its count; reading
    the count first means the value read is at least as new as the count.
    """
    taken = []
    for k in range(L.MAX_WEIGHTS):
        count = int(istate[L.I_WEIGHTS + 2 * k + 1])
        if count != seen_counts[k]:
            seen_counts[k] = count
            taken.append((param_name(L.P_WEIGHT + k), int(istate[L.I_WEIGHTS + 2 * k])))
    return taken


def counters(istate, *, latency_frame, sample_rate, needs_ms, swap_pending) -> dict:
    """The status counters of ``LiveKernel.poll``."""
    ist = istate
    need_frames = max(int(ist[L.I_NEED_LATENCY_FRAME]), 0)
    need_ms = max(needs_ms, need_frames * 1000.0 / sample_rate)
    lat_ms = latency_frame * 1000.0 / sample_rate
    return dict(
        callbacks=int(ist[L.I_CALLBACKS]),
        late=int(ist[L.I_LATE]),
        dropped=int(ist[L.I_DROPPED]),
        errors=int(ist[L.I_ERRORS]),
        events_in=int(ist[L.I_EVENTS_IN]),
        events_out=int(ist[L.I_EVENTS_OUT]),
        orphan_offs=int(ist[L.I_ORPHANS]),
        untreated=int(ist[L.I_UNTREATED]),
        reused=int(ist[L.I_REUSED]),
        forced=int(ist[L.I_FORCED]),
        deferred=int(ist[L.I_DEFERRED]),
        panics=int(ist[L.I_PANICS]),
        clock_in=int(ist[L.I_CLOCK_IN]),
        clock_out=int(ist[L.I_CLOCK_OUT]),
        latency_ms=lat_ms,
        needs_latency_ms=need_ms if need_ms > lat_ms + 1e-6 else None,
        swap_pending=swap_pending,
        generation=int(ist[L.I_BANK_GEN]),
        playing=bool(ist[L.I_PLAYING]),
        quiet=bool(ist[L.I_QUIET]),
        sounding=int(ist[L.I_OUT_COUNT : L.I_OUT_COUNT + L.KEYS].sum()),
    )
