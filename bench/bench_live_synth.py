"""Benchmark: the JACK callback's cost with the SoundFont synthesizer, ``groove live --synth``.

Prints JSON.  For each period (64 and 256 frames, 48 kHz, a private jackd
with the dummy driver, asynchronous), a session runs as ``groove live`` does
and a harness client plays held organ notes into it, as many as make
``--voices`` FluidSynth voices (found offline with the same SoundFont), then
20 closed hi-hats a second for ``--seconds`` (FluidSynth's voice count is
sampled from the main thread meanwhile); the callback's own duration (the backend's ring,
CLOCK_MONOTONIC inside the callback) gives p50/p99/max as a share of the
period (goal: p99 under 50%).  Side by side, on the same server and the same
notes: the compiled callback without the synth (what the synth adds), and
the synth in JACK-Client's Python callback (``GROOVE_LIVE_PATH=python``, the
path it replaces), each as a ratio of p99s against the compiled synth.
jackd's ``client was not finished`` lines (missed cycles) are counted too.

Usage: python bench/bench_live_synth.py [--seconds S] [--voices V] [--periods 64,256]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_live_callback import (  # noqa: E402
    SR,
    callback_times,
    not_finished,
    start_server,
    stop_server,
)
from tests.engine.live.jack_harness import START, JackHarness  # noqa: E402

PRESET = "swing16-62"
RUNS = (("kernel", True), ("kernel", False), ("python", True))
_names = itertools.count()


def _feed_synth(backend):
    """The FluidSynth the backend plays (either path), or None."""
    feed = getattr(backend, "feed", None)
    if feed is not None:
        return feed.synth
    live = getattr(backend, "_synth", None)
    return None if live is None else live.synth


def _held_notes(soundfont, voices):
    """How many held organ notes (channels 1-8) make ``voices`` FluidSynth voices, found
    by rendering them offline with the same SoundFont."""
    from engine.audio._segments import compiled
    from engine.audio.fluid import FluidSynth

    render = compiled()
    left, right = np.zeros(256, np.float32), np.zeros(256, np.float32)
    with FluidSynth(soundfont, SR) as synth:
        for ch in range(8):
            render(synth.ptr, np.array([[0, 0xC0 | ch, 19, 0]]), 1, 0, left, right)
        k = 0
        while synth.active_voices() < voices and k < 120:
            ch, key = k % 8, 40 + k
            render(synth.ptr, np.array([[0, 0x90 | ch, key, 80]]), 1, 256, left, right)
            k += 1
        return k


def _notes(held, seconds):
    """(frame, bytes): organ on channels 1-8, ``held`` notes held to the end, then 20
    closed hi-hats a second (channel 10) for ``seconds``; and the frame the hats start."""
    ev = [(0, bytes((START,)))]
    for ch in range(8):
        ev.append((100 + ch, bytes((0xC0 | ch, 19))))
    for k in range(held):
        ev.append((2000 + 64 * k, bytes((0x90 | k % 8, 40 + k, 80))))
    t0 = 2000 + 64 * held + SR // 2
    step = SR // 20
    for i in range(int(seconds * 20)):
        f = t0 + i * step + (i * 37) % 256
        ev.append((f, bytes((0x99, 42, 100))))
        ev.append((f + step // 2, bytes((0x89, 42, 0))))
    ev.sort(key=lambda e: e[0])
    return ev, t0


def run_one(server, log, period, path, synth, soundfont, held, seconds):
    from engine.live.session import LiveConfig, Session

    os.environ["JACK_DEFAULT_SERVER"] = server
    os.environ["GROOVE_LIVE_PATH"] = path
    name = f"gsy{period}{path[0]}{int(synth)}{next(_names)}"
    session = Session(
        LiveConfig(
            preset=PRESET,
            name=name,
            bpm=120.0,
            status=False,
            reload=False,
            synth=synth,
            soundfont=soundfont if synth else None,
            connect=False,
        ),
        out=open(os.devnull, "w"),
    )
    thread = threading.Thread(target=session.run, daemon=True)
    thread.start()
    while session.ready_sec is None and thread.is_alive():
        time.sleep(0.01)
    if session.ready_sec is None:
        raise RuntimeError(f"session {name} did not start")
    h = JackHarness(f"hsy{next(_names)}")
    try:
        h.connect(f"{name}:midi_in", f"{name}:midi_out")
        ev, t0 = _notes(held, seconds)
        base = h.play(ev, lead_sec=0.3)
        h.wait_frames(t0 - (h.frame_now() - base))  # the held notes all sound
        backend = session.backend
        synth_obj = _feed_synth(backend) if synth else None
        since_log = os.path.getsize(log)
        skip = backend.callbacks
        wall0 = time.monotonic()
        counts = []
        while not h.wait_sent(0.25) and time.monotonic() - wall0 < seconds * 4 + 30:
            if synth_obj is not None:  # FluidSynth's own counter, read from this thread
                counts.append(synth_obj.active_voices())
        wall = time.monotonic() - wall0
        sounding = int(np.median(counts)) if counts else None
        took = callback_times(backend)
        took = took[-max(backend.callbacks - skip, 1) :] * 1000.0
        describe = session.path.describe()
    finally:
        h.close()
        session.stop()
        thread.join(10)
    missed = not_finished(log, name, since_log)
    period_ms = period / SR * 1000.0
    p50, p99 = np.percentile(took, [50, 99])
    return dict(
        period_frames=period,
        path=path,
        synth=synth,
        path_describe=describe,
        voices_sounding_median=sounding,
        voices_sounding_min=min(counts) if counts else None,
        callbacks=int(took.shape[0]),
        callback_ms=dict(
            p50=round(float(p50), 4), p99=round(float(p99), 4), max=round(float(took.max()), 4)
        ),
        p99_pct_of_period=round(100 * float(p99) / period_ms, 2),
        max_pct_of_period=round(100 * float(took.max()) / period_ms, 1),
        not_finished=sum(missed.values()),
        wall_sec=round(wall, 1),
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--voices", type=int, default=32)
    ap.add_argument("--periods", default="64,256")
    ap.add_argument("--soundfont")
    args = ap.parse_args(argv)
    from engine.audio.soundfont import find_soundfont

    sf = str(find_soundfont(args.soundfont).path)
    held = _held_notes(sf, args.voices)
    rows = []
    for period in [int(p) for p in args.periods.split(",")]:
        exports = start_server(period)
        try:
            for path, synth in RUNS:
                rows.append(
                    run_one(
                        exports["JACK_DEFAULT_SERVER"],
                        exports["log"],
                        period,
                        path,
                        synth,
                        sf,
                        held,
                        args.seconds,
                    )
                )
        finally:
            stop_server(exports)
    summary = []
    for period in sorted({r["period_frames"] for r in rows}):
        by = {(r["path"], r["synth"]): r for r in rows if r["period_frames"] == period}
        ref = by.get(("kernel", True))
        if ref is None:
            continue
        p99 = ref["callback_ms"]["p99"]
        summary.append(
            dict(
                period_frames=period,
                kernel_synth_p99_pct_of_period=ref["p99_pct_of_period"],
                voices_median=ref["voices_sounding_median"],
                kernel_no_synth_p99_over_synth=round(
                    by[("kernel", False)]["callback_ms"]["p99"] / p99, 3
                ),
                python_synth_p99_over_kernel_synth=round(
                    by[("python", True)]["callback_ms"]["p99"] / p99, 3
                ),
                goal_p99_pct_of_period=50,
            )
        )
    print(
        json.dumps(
            dict(
                bench="live-synth-callback",
                machine=dict(cores=os.cpu_count(), jack="jackd2 dummy driver, asynchronous"),
                soundfont=sf,
                sample_rate=SR,
                preset=PRESET,
                seconds=args.seconds,
                voices_goal=args.voices,
                held_organ_notes=held,
                summary=summary,
                runs=rows,
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
