"""Write a rack (and a timeline plan) as one bank of float64 tables (main thread, private).

A bank is everything the kernel reads about the rack: the stage program
(kind and parameter offset per stage), each stage's parameters, the groove
lanes' curve tables and accents, and the timeline plan.  ``LiveKernel``
writes a new bank into the inactive half of ``fstate`` and asks the audio
thread to flip to it; see ``engine.host.live_kernel``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from groove import MAX_TIMING, straight

from .live_layout import (
    B_ENDS_KEEP,
    B_GROOVE_STAGE,
    B_NSTAGES,
    B_RANDOM,
    B_STAGES,
    B_TL,
    G_LANE_OF_PITCH,
    G_LANES,
    G_NLANES,
    G_QUANTIZE,
    G_RANDOM_MS,
    G_RANDOM_VEL,
    G_SEED,
    G_TIMING,
    G_TIMING_CAP,
    G_VELOCITY,
    K_FILTER,
    K_GROOVE,
    K_HUMANIZE,
    K_QUANTIZE,
    K_TRANSPOSE,
    K_VELOCITY,
    L_COEF,
    L_GRID,
    L_NPARTS,
    L_NSEG,
    L_PARTS,
    L_PERIOD,
    L_STEP,
    LANE_W,
    MAX_STAGES,
    TL_BW,
)
from .processors import (
    FilterProcessor,
    GrooveProcessor,
    HumanizeProcessor,
    QuantizeProcessor,
    TransposeProcessor,
    VelocityProcessor,
)


class NotCompilable(ValueError):
    """A rack the live kernel cannot run (it holds a third-party Python processor)."""


@dataclass
class BankInfo:
    """What the main thread needs to know about a written bank."""

    early_beat: float  # largest reachable early move in beats (groove, quantize)
    early_ms: float  # and in milliseconds (humanize, random offsets)
    groove_stage: int  # -1: none
    window_beat: float  # timeline scan bound
    size: int


class _Writer:
    def __init__(self):
        self.data = [0.0] * (B_TL + 1)

    def put(self, values) -> int:
        at = len(self.data)
        self.data.extend(float(v) for v in values)
        return at


def _groove_stage(w, proc, cc_params, clip_sigma):
    st = proc.current
    preset, a = st.preset, st.amounts
    grooves = list(preset.grooves()) + [straight()]
    if "timing" in cc_params:
        cap = min(1.27, MAX_TIMING, min(g.max_timing for g in grooves))
        timing_max = max(cap, a.timing)
    else:
        cap = min(MAX_TIMING, min(g.max_timing for g in grooves))
        timing_max = a.timing
    head = [0.0] * (G_LANES + LANE_W * len(grooves))
    head[G_NLANES], head[G_TIMING], head[G_QUANTIZE] = len(grooves), a.timing, a.quantize
    head[G_VELOCITY], head[G_RANDOM_MS] = a.velocity, a.random_ms
    head[G_RANDOM_VEL], head[G_SEED], head[G_TIMING_CAP] = a.random_velocity, a.seed, cap
    head[G_LANE_OF_PITCH : G_LANE_OF_PITCH + 128] = (preset.lane_of_pitch() + 1).tolist()
    for i, g in enumerate(grooves):
        tab = g.tables()
        coef_at = w.put(np.asarray(tab.coef, np.float64).reshape(-1))
        parts = []
        for part in g._accents:  # (weight, step_beat, values)
            vals_at = w.put(np.asarray(part.values, np.float64))
            parts.append((part.step_beat, part.weight, part.values.size, vals_at))
        parts_at = w.put([v for p in parts for v in p]) if parts else 0
        d = G_LANES + i * LANE_W
        head[d + L_PERIOD], head[d + L_STEP] = tab.period_beat, tab.step_beat
        head[d + L_NSEG], head[d + L_COEF] = tab.coef.shape[0], coef_at
        head[d + L_GRID], head[d + L_NPARTS], head[d + L_PARTS] = g.grid_beat, len(parts), parts_at
    at = w.put(head)
    early_dev = max(0.0, -min(g.min_deviation_beat for g in grooves))
    late_dev = max(0.0, max(g.max_deviation_beat for g in grooves))
    q_max = 1.0 if "quantize" in cc_params else a.quantize
    grid = max(g.grid_beat for g in grooves)
    early_beat = timing_max * early_dev + 0.5 * grid * q_max
    reach = timing_max * max(early_dev, late_dev)
    return at, early_beat, clip_sigma * a.random_ms, a.random_ms > 0, reach


def _stage(w, proc, cc_params, clip_sigma):
    """(kind, params offset, early beat, early ms, random, groove reach) of one processor."""
    if type(proc) is QuantizeProcessor:
        at = w.put([proc.grid_beat, proc.amount])
        return K_QUANTIZE, at, 0.5 * proc.grid_beat * proc.amount, 0.0, False, 0.0
    if type(proc) is HumanizeProcessor:
        if proc.seed >= 2**53:
            raise NotCompilable(f"humanize: seed {proc.seed} is too large for the live kernel")
        at = w.put([proc.time_ms, proc.velocity, proc.seed])
        return K_HUMANIZE, at, 0.0, clip_sigma * proc.time_ms, proc.time_ms > 0, 0.0
    if type(proc) is GrooveProcessor:
        at, early_beat, early_ms, rnd, reach = _groove_stage(w, proc, cc_params, clip_sigma)
        return K_GROOVE, at, early_beat, early_ms, rnd, reach
    if type(proc) is VelocityProcessor:
        return K_VELOCITY, w.put(proc._table), 0.0, 0.0, False, 0.0
    if type(proc) is FilterProcessor:
        kinds = [proc._kind[0x80 + 16 * i] for i in range(8)]
        at = w.put(list(proc._channel) + list(proc._note) + kinds)
        return K_FILTER, at, 0.0, 0.0, False, 0.0
    if type(proc) is TransposeProcessor:
        return K_TRANSPOSE, w.put([proc.semitones]), 0.0, 0.0, False, 0.0
    raise NotCompilable(
        f"rack: processor {getattr(proc, 'name', type(proc).__name__)!r} "
        f"({type(proc).__module__}.{type(proc).__qualname__}) is Python code the live kernel "
        "cannot run; the rack runs on the Python path (not real-time safe)"
    )


def write_bank(rack, *, cc_params=(), ends="groove", timeline=None, clip_sigma=2.5):
    """(bank float64 array, BankInfo) for a rack; raises NotCompilable."""
    if ends not in ("groove", "keep"):
        raise ValueError(f"ends: {ends!r} is not one of groove, keep")
    procs = [p for p in rack.processors if not p.bypass]
    if len(procs) > MAX_STAGES:
        raise NotCompilable(f"rack: {len(procs)} processors; the live kernel runs {MAX_STAGES}")
    w = _Writer()
    early_beat = early_ms = reach = 0.0
    random = False
    groove_stage = -1
    for s, proc in enumerate(procs):
        kind, at, eb, em, rnd, rch = _stage(w, proc, cc_params, clip_sigma)
        w.data[B_STAGES + 2 * s], w.data[B_STAGES + 2 * s + 1] = kind, at
        early_beat += eb
        early_ms += em
        random |= rnd
        reach = max(reach, rch)
        if kind == K_GROOVE and groove_stage < 0:
            groove_stage = s
    w.data[B_NSTAGES], w.data[B_RANDOM] = len(procs), float(random)
    w.data[B_ENDS_KEEP], w.data[B_GROOVE_STAGE] = float(ends == "keep"), groove_stage
    window = reach
    if timeline is not None and len(timeline):
        plan, window = _plan(timeline, procs, groove_stage, ends, reach)
        w.data[B_TL] = w.put(plan.reshape(-1))
    bank = np.asarray(w.data, np.float64)
    info = BankInfo(early_beat, early_ms, groove_stage, window + 1e-9, bank.shape[0])
    return bank, info


def _plan(timeline, procs, groove_stage, ends, reach):
    """The timeline plan rows (pre, off pre, kept length, lane, velocity) and the scan bound."""
    from .scheduler import make_plan

    if groove_stage >= 0:
        gp = procs[groove_stage]
        state = gp._next or gp.current
    else:
        state = GrooveProcessor(straight()).current
    pre = [p for p in procs if p.timing and p is not procs[max(groove_stage, 0)]]
    pre = [p for p in pre if hasattr(p, "pre_map") and not isinstance(p, GrooveProcessor)]
    plan = make_plan(timeline, state, pre, ends)
    rows = np.zeros((len(timeline), TL_BW))
    rows[:, 0] = plan.pre_beat
    rows[:, 1] = np.nan_to_num(plan.off_pre_beat, nan=0.0)
    rows[:, 2] = plan.keep_len_beat
    rows[:, 3] = plan.lane
    rows[:, 4] = plan.velocity
    window = float(plan.window_beat) + reach
    if groove_stage < 0:
        window = float(plan.window_beat)
    return rows, window


def early_ms_total(info: BankInfo, bpm: float) -> float:
    """The latency a bank needs at a tempo, in milliseconds."""
    return info.early_beat * 60.0 / bpm * 1000.0 + info.early_ms


def latency_frames(ms: float, sample_rate: float) -> int:
    """Whole frames of a latency (rounded up: never less than asked)."""
    return int(math.ceil(ms * sample_rate / 1000.0 - 1e-9))
