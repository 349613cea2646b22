"""Driving a LiveKernel block by block in tests, and slow references to check it against."""

from __future__ import annotations

import math

import numpy as np

from engine.host.live_kernel import LiveKernel, process_block
from engine.host.processor import Rack

SR = 48000


def kernel(processors=(), **kw):
    kw.setdefault("sample_rate", SR)
    kw.setdefault("max_block", 1024)
    kern = LiveKernel.build(Rack(list(processors)), **kw)
    kern.prepare()
    return kern


def run(kern, events, total_frames, block=256, commands=None, audio=False, start_frame=0):
    """Feed ``events`` (abs_frame, status, d1, d2) through blocks; returns output rows (absolute).

    ``commands``: {block index: [(name, *values), ...]} queued before that block.
    With ``audio``: returns (rows, left channel as one array).
    """
    events = sorted(events, key=lambda e: e[0])
    out = []
    out_ev = np.zeros((8192, 4), np.int32)
    left = []
    i = 0
    k = 0
    frame = start_frame
    while frame < start_frame + total_frames:
        for cmd in (commands or {}).get(k, ()):
            kern.command(*cmd)
        rows = []
        while i < len(events) and events[i][0] < frame + block:
            e = events[i]
            rows.append((e[0] - frame, e[1], e[2], e[3]))
            i += 1
        in_ev = np.array(rows, np.int32).reshape(-1, 4)
        a_l = np.zeros(block if audio else 0, np.float32)
        a_r = np.zeros(block if audio else 0, np.float32)
        n = process_block(
            kern.istate, kern.fstate, in_ev, in_ev.shape[0], out_ev, block, frame, a_l, a_r
        )
        for r in out_ev[:n]:
            assert 0 <= r[0] < block, r
            out.append((frame + int(r[0]), int(r[1]), int(r[2]), int(r[3])))
        if audio:
            left.append(a_l.copy())
        kern.poll()
        frame += block
        k += 1
    if audio:
        return out, np.concatenate(left)
    return out


def notes_of(rows, channel=None):
    """Output notes as (on_frame, off_frame, key, velocity), pairing like a synth does (FIFO)."""
    open_ = {}
    notes = []
    for f, s, d1, d2 in rows:
        kind = s & 0xF0
        if kind == 0x90 and d2 > 0:
            open_.setdefault((s & 15, d1), []).append((f, d2))
        elif kind in (0x80, 0x90):
            stack = open_.get((s & 15, d1))
            if stack:
                on, vel = stack.pop(0)
                notes.append((on, f, d1, vel))
    return sorted(notes)


def fpb(bpm, sr=SR):
    return sr * 60.0 / bpm


def out_frame(in_frame, t_beat, x_beat, bpm, latency_frame, sr=SR):
    """The reference: f + floor((x - t) * frames_per_beat) + L."""
    return in_frame + math.floor((x_beat - t_beat) * fpb(bpm, sr) + 1e-6) + latency_frame


def start_row(frame=0):
    return (frame, 0xFA, 0, 0)
