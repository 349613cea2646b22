"""Benchmark: per-block cost of the engine (scheduler + rack) at 64 and 256 frames.

Prints JSON.  A 100,000-note drum timeline (16ths, 3 pitches, 120 BPM) plays
through a rack of groove (a blend with lanes), humanize and velocity at
48 kHz; each ``Engine.process`` call is timed with perf_counter_ns.  Also
reported, measured in the same run on the same timeline: the scheduler's
compiled call alone, and a pure-Python scheduler that finds the block's notes
by bisect on the sorted table and maps each through the groove's forward.
"""

from __future__ import annotations

import bisect
import json
import time

import numpy as np

import groove
from engine.host.engine import Engine
from engine.host.events import NOTE_ON
from engine.host.processor import Rack
from engine.host.processors import GrooveProcessor, HumanizeProcessor, VelocityProcessor
from engine.host.scheduler import Timeline
from engine.presets.model import Amounts, Lane, Preset

SR = 48000
N_NOTES = 100_000


def timeline():
    rng = np.random.default_rng(0)
    start = np.arange(N_NOTES) * 0.25
    return Timeline.from_arrays(
        src_beat=start,
        end_beat=start + 0.2,
        kind=np.full(N_NOTES, NOTE_ON),
        key=rng.choice([36, 38, 42], N_NOTES),
        channel=np.full(N_NOTES, 9),
        value=rng.integers(40, 127, N_NOTES),
    )


def preset():
    main = groove.blend(
        [(groove.swing(62), 0.5), (groove.template([0, 0.1, -0.05, 0.14] * 4, interp="pchip"), 0.5)]
    )
    snare = groove.template([0, 0.05, 0.2, 0.05] * 4, interp="pchip")
    return Preset(
        "bench", main, lanes=(Lane("snare", (38,), snare),), amounts=Amounts(velocity=0.5)
    )


def per_block_us(frames, blocks):
    rack = Rack(
        [
            HumanizeProcessor(time_ms=3.0, seed=1),
            GrooveProcessor(preset()),
            VelocityProcessor(curve=0.9),
        ]
    )
    eng = Engine(rack, timeline())
    eng.prepare(SR, frames)
    eng.transport.play()
    times = np.empty(blocks)
    events = 0
    for i in range(blocks):
        t0 = time.perf_counter_ns()
        out = eng.process(frames)
        times[i] = (time.perf_counter_ns() - t0) / 1000.0
        events += len(out)
    period_us = frames / SR * 1e6
    return dict(
        frames=frames,
        blocks=blocks,
        events=events,
        period_us=round(period_us, 1),
        median_us=round(float(np.median(times)), 2),
        p99_us=round(float(np.percentile(times, 99)), 2),
        max_us=round(float(times.max()), 1),
        p99_share_of_period=round(float(np.percentile(times, 99)) / period_us, 4),
    )


def python_scheduler_us(frames, blocks):
    """Pure Python: bisect the table for the block's source range, map each note."""
    g = preset().groove
    tl = timeline()
    src = tl.src_beat.tolist()
    bpf = 2.0 / SR
    times = np.empty(blocks)
    lo_dev, hi_dev = g.min_deviation_beat, g.max_deviation_beat
    for i in range(blocks):
        b0, b1 = i * frames * bpf, (i + 1) * frames * bpf
        t0 = time.perf_counter_ns()
        s0 = bisect.bisect_left(src, b0 - hi_dev)
        s1 = bisect.bisect_left(src, b1 - lo_dev)
        out = []
        for j in range(s0, s1):
            y = float(g.forward(src[j]))
            if b0 <= y < b1:
                out.append((int((y - b0) / bpf), j))
        times[i] = (time.perf_counter_ns() - t0) / 1000.0
    return float(np.median(times)), float(np.percentile(times, 99))


def main():
    groove.warmup()
    report = {
        "sample_rate": SR,
        "timeline_notes": N_NOTES,
        "rack": "humanize(3 ms) -> groove(blend + snare lane, velocity 0.5) -> velocity",
    }
    report["engine"] = [per_block_us(64, 30000), per_block_us(256, 10000)]
    med, p99 = python_scheduler_us(64, 30000)
    report["python_scheduler_64"] = {"median_us": round(med, 2), "p99_us": round(p99, 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
