"""Benchmark: FluidSynth through groove's segment kernel, offline and per audio block.

Prints JSON.  Offline: a 16-channel General MIDI file (15 pitched parts and
drums, with controllers, pitch bend and aftertouch; tests/engine/audio/songs.py)
is rendered to audio by ``engine.audio.render.render_rows`` (reverb and chorus
on, as ``groove render --wav`` plays), after one warm-up; the median of the
repeats counts, as a multiple of real time (goal: at least 50x), by the wall clock
and by this process's CPU time (the machine is shared: CPU time is what one
core of its own would give).  Beside it,
the same rows rendered in one ``fluid_synth_write_float`` call per message
from Python (``python_loop``), the floor a binding without a kernel pays, and
through a ``SynthPair`` (``pair``: two synths whose grids are 32 frames apart,
what ``groove render --wav`` plays; ``engine.audio.twin``) with its cost as a
ratio of CPU times against one synth.

Per block: ``render_segments`` called as an audio callback would, at 64 and
256 frames, while ``--voices`` notes sound (held organ notes, added until that many
voices sound); the p50/p99/max of each block's time as a share of the block's
period (goal: p99 under 50%).  This is the kernel in this process, not a
JACK callback: the server's own cost is not in it.

Usage: python bench/bench_synth.py [--bars N] [--repeats R] [--voices V] [--soundfont F]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 48000


def _rows(bars):
    from engine.midi.frames import event_rows
    from engine.midi.notetable import EventTable
    from tests.engine.audio.songs import gm_song

    return event_rows(EventTable.from_midifile(gm_song(bars=bars)), SR)


def _offline(soundfont, rows, end, repeats, pair=False):
    """(median wall s, median CPU s, frames) of render_rows (through a SynthPair: pair)."""
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import render_rows
    from engine.audio.twin import SynthPair

    wall, cpu, frames = [], [], 0
    for i in range(repeats + 1):
        with (SynthPair if pair else FluidSynth)(soundfont, SR) as synth:
            t0, c0 = time.perf_counter(), time.process_time()
            frames = render_rows(synth, rows, end, progress=False).shape[0]
            if i:  # the first run compiles the kernel
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), frames


def _python_loop(soundfont, rows, end, repeats):
    """Median CPU s of the same rows sent from a Python loop (tests' reference)."""
    from engine.audio.fluid import FluidSynth
    from tests.engine.audio.test_segments import reference

    cpu = []
    for _ in range(repeats):
        with FluidSynth(soundfont, SR) as synth:
            c0 = time.process_time()
            reference(synth, rows, end)
            cpu.append(time.process_time() - c0)
    return statistics.median(cpu)


def _voices(soundfont, rows, end):
    """Median and most voices sounding, sampled every 100 ms."""
    from engine.audio._segments import compiled
    from engine.audio.fluid import FluidSynth

    render_segments = compiled()
    step = SR // 10
    left, right = np.zeros(step, np.float32), np.zeros(step, np.float32)
    counts = []
    with FluidSynth(soundfont, SR) as synth:
        for pos in range(0, end, step):
            lo, hi = np.searchsorted(rows[:, 0], [pos, pos + step])
            ev = rows[lo:hi].copy()
            ev[:, 0] -= pos
            render_segments(synth.ptr, ev, len(ev), step, left, right)
            counts.append(synth.active_voices())
    return float(np.median(counts)), int(max(counts))


def _blocks(soundfont, block, voices, seconds=5.0):
    from engine.audio._segments import compiled
    from engine.audio.fluid import FluidSynth

    render_segments = compiled()
    with FluidSynth(soundfont, SR) as synth:
        left, right = np.zeros(block, np.float32), np.zeros(block, np.float32)
        k = 0
        while synth.active_voices() < voices and k < 240:  # held organ notes until enough
            ch = k % 15 + (k % 15 >= 9)  # not the drum channel
            ons = np.array([[0, 0xC0 | ch, 19, 0], [0, 0x90 | ch, 36 + k // 15 * 3, 90]])
            render_segments(synth.ptr, ons, 2, block, left, right)
            k += 1
        none = np.zeros((0, 4), np.int64)
        n = int(seconds * SR / block)
        cost, cpu = np.empty(n), np.empty(n)
        for i in range(n):
            t0, c0 = time.perf_counter(), time.thread_time()
            render_segments(synth.ptr, none, 0, block, left, right)
            cost[i] = time.perf_counter() - t0
            cpu[i] = time.thread_time() - c0
        sounding = synth.active_voices()
    period = block / SR
    share = cost / period
    return {
        "frames": block,
        "voices_sounding": sounding,
        "p50_share": round(float(np.percentile(share, 50)), 4),
        "p99_share": round(float(np.percentile(share, 99)), 4),
        "max_share": round(float(share.max()), 4),
        "cpu_p99_share": round(float(np.percentile(cpu / period, 99)), 4),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=32, help="bars of the GM file (default 32)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--voices", type=int, default=32)
    ap.add_argument("--soundfont")
    args = ap.parse_args(argv)
    from engine.audio.soundfont import find_soundfont

    sf = find_soundfont(args.soundfont).path
    rows, end = _rows(args.bars)
    wall, cpu, frames = _offline(sf, rows, end, args.repeats)
    pair_wall, pair_cpu, _ = _offline(sf, rows, end, args.repeats, pair=True)
    loop_cpu = _python_loop(sf, rows, end, max(1, args.repeats // 2))
    voices_median, voices_max = _voices(sf, rows, end)
    audio_sec = frames / SR
    out = {
        "soundfont": str(sf),
        "sample_rate": SR,
        "offline": {
            "messages": int(len(rows)),
            "voices_median": voices_median,
            "voices_max": voices_max,
            "audio_sec": round(audio_sec, 2),
            "wall_sec_median": round(wall, 4),
            "cpu_sec_median": round(cpu, 4),
            "x_real_time_wall": round(audio_sec / wall, 1),
            "x_real_time_cpu": round(audio_sec / cpu, 1),
            "python_loop_x_real_time_cpu": round(audio_sec / loop_cpu, 1),
            "pair_x_real_time_wall": round(audio_sec / pair_wall, 1),
            "pair_x_real_time_cpu": round(audio_sec / pair_cpu, 1),
            "pair_cpu_over_one": round(pair_cpu / cpu, 3),
            "goal_x_real_time": 50,
        },
        "blocks": [_blocks(sf, b, args.voices) for b in (64, 256)],
        "blocks_goal_p99_share": 0.5,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
