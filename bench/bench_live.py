"""Benchmark: ``groove live``'s JACK callback time and missed cycles; backends compared.

Default (``--mode callback``, JSON): the session runs in this process on a
private JACK server (dummy driver, 48 kHz, ``-S``) at 32, 64 and 256 frames,
on the compiled kernel path (native C callback) and, side by side, on the
Python path (JACK-Client callback, ``GROOVE_LIVE_PATH=python``).  A child
process plays 1,000 notes/s of swing16-62 through it (tests/engine/live/
jack_harness.py) and checks every note came back.  Three conditions:
``idle``; ``busy_thread`` (a pure-Python thread spinning in the session's
own process); ``two_procs`` (two CPU-bound processes beside it).  Reported:
the callback's own time (taken inside the callback with CLOCK_MONOTONIC on
the native path, written into a ring the main thread reads; perf_counter
around the Python callback otherwise) as p50/p99/max and p99 as a share of
the period; cycles groove's client missed (jackd's ``client = NAME was not
finished`` log lines) per minute.  ``--reload-sec 60`` adds one run at 64
frames with the preset file rewritten every 0.3 s.

``--mode backends`` is the earlier comparison of timing errors: ``groove
live`` on JACK and on PortAudio + rtmidi, at 64 and 256 frames.

Prints JSON.  For each block size a private JACK server (dummy driver,
48 kHz, that period; scripts/jackd-start.sh) is started; ``groove live -p
swing16-62`` runs as a subprocess, and the test harness (tests/engine/
jack_harness.py) plays MIDI Start then 1,000 notes/s for ``--seconds`` at
exact frames and records what comes back.  Reported per backend and block:

- timing error of every note message against the exact expected frame
  ``F_start + T(t) * frames_per_beat`` (frames and ms: p50, p99, max of the
  absolute error; ``exact_frac``: share at exactly floor(expected), the frame
  holding the expected time).  For the portaudio backend the error is taken
  after its constant one-block I/O latency; the raw figure is given too;
- callback time p50/p99 against the block period (the session's own ring of
  callback durations, printed at exit), as a percentage; wall time and the
  callback thread's CPU time (the difference is preemption and GIL waits);
- xruns per minute (the session's JACK/PortAudio xrun count);
- start-up time: command to the ``ready`` line (wall seconds);
- lost/duplicated messages.

The portaudio backend runs twice: output from its timed sender thread
(default) and from the audio callback (``--send-timing block``), side by side.
On this machine PortAudio's clock is its JACK host API and rtmidi's ports are
JACK ports, which quantise input and output to the JACK period.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.engine.live.jack_harness import (  # noqa: E402
    START,
    JackHarness,
    LiveProcess,
    expected_events,
    match_notes,
)
from tests.groove.reference import ref_swing  # noqa: E402

SR = 48000
BPM = 120.0


def start_server(period):
    env = {
        **os.environ,
        "JACKD_NAME": f"groove-bench-{os.getpid()}-{period}",
        "JACKD_PERIOD": str(period),
    }
    res = subprocess.run(
        ["sh", str(REPO / "scripts" / "jackd-start.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=True,
    )
    return dict(
        line[len("export ") :].split("=", 1)
        for line in res.stdout.splitlines()
        if line.startswith("export ")
    )


def stop_server(exports):
    subprocess.run(
        ["sh", str(REPO / "scripts" / "jackd-stop.sh"), exports["GROOVE_JACKD_PID"]],
        timeout=30,
        check=False,
    )


def notes_pattern(seconds, rng):
    n = int(seconds * 1000)
    starts = 1000 + np.arange(n) * 48 + rng.integers(0, 48, n)
    out = []
    for k, f in enumerate(starts):
        key = 20 + k % 80
        out.append((int(f), bytes((0x90, key, 1 + k % 127))))
        out.append((int(f) + 2000, bytes((0x80, key, 0))))
    out.sort(key=lambda e: e[0])
    return out


def parse_stopped(line):
    num = r"([-\d.]+)"
    got = {}
    for key, pat in (
        ("xruns", rf"xruns {num}"),
        ("dropped", rf"dropped {num}"),
        ("cb_p50_ms", rf"callback p50 {num}"),
        ("cb_p99_ms", rf"p99 {num} max"),
        ("cb_max_ms", rf"max {num} ms of"),
        ("cpu_p50_ms", rf"cpu p50 {num}"),
        ("cpu_p99_ms", rf"cpu p50 [-\d.]+ p99 {num}"),
        ("send_lag_p99_ms", rf"send lag p50 [-\d.]+ p99 {num}"),
    ):
        m = re.search(pat, line)
        if m:
            got[key] = float(m.group(1))
    return got


def run_one(backend, block, seconds, send_timing="thread"):
    h = JackHarness(f"hb-{backend}-{block}")
    name = f"gb{block}{backend[0]}{send_timing[0]}"
    args = ["--name", name, "-p", "swing16-62", "--bpm", BPM]
    out_port = f"{name}:midi_out"
    if backend == "portaudio":
        args += [
            "--backend",
            "portaudio",
            "--midi-api",
            "jack",
            "--block",
            block,
            "--send-timing",
            send_timing,
        ]
        out_port = f"{name}-out:midi_out"
    t0 = time.perf_counter()
    p = LiveProcess(*args)
    try:
        p.wait_ready()
        startup_sec = time.perf_counter() - t0
        h.connect(f"{name}:midi_in", out_port)
        notes = notes_pattern(seconds, np.random.default_rng(1))
        wall0 = time.perf_counter()
        base = h.play([(1000, bytes((START,)))] + notes, lead_sec=0.5)
        h.wait_sent(seconds * 4 + 30)
        h.wait_frames(int(0.3 * SR))
        wall = time.perf_counter() - wall0
    finally:
        p.terminate()
        h.close()
    stats = parse_stopped(p.wait_for("stopped", 10))
    exp = expected_events(
        [(base + f, b) for f, b in notes],
        base + 1000,
        SR * 60 / BPM,
        ref_swing(62, "1/16").forward,
        0.0,
    )
    err, missing, extra = match_notes(exp, h.received)
    io_latency = block if backend == "portaudio" else 0
    exp_frames = np.array([f for f, _ in exp])[: len(err)]
    got_frames = exp_frames + err
    exact = np.mean(got_frames - io_latency == np.floor(exp_frames + 1e-6))
    abs_err = np.abs(err - io_latency)

    def pick(a):
        return dict(
            p50=round(float(np.percentile(a, 50)), 3),
            p99=round(float(np.percentile(a, 99)), 3),
            max=round(float(a.max()), 3),
        )

    period_ms = block / SR * 1000
    row = dict(
        backend=backend,
        block_frames=block,
        sample_rate=SR,
        music_sec=seconds,
        send_timing=send_timing if backend == "portaudio" else None,
        error_frames=pick(abs_err),
        error_ms=pick(abs_err / SR * 1000),
        exact_frac=round(float(exact), 4),
        raw_error_ms=pick(np.abs(err) / SR * 1000) if io_latency else None,
        io_latency_frames=io_latency,
        messages_sent=len(notes),
        missing=int(missing),
        extra=len(extra),
        dropped_reported=stats.get("dropped"),
        callback_ms=dict(
            p50=stats.get("cb_p50_ms"), p99=stats.get("cb_p99_ms"), max=stats.get("cb_max_ms")
        ),
        callback_p99_pct_of_block=round(100 * stats.get("cb_p99_ms", np.nan) / period_ms, 2),
        callback_cpu_ms=dict(p50=stats.get("cpu_p50_ms"), p99=stats.get("cpu_p99_ms")),
        callback_cpu_p99_pct_of_block=round(100 * stats.get("cpu_p99_ms", np.nan) / period_ms, 2),
        block_ms=round(period_ms, 3),
        xruns_per_min=round(stats.get("xruns", 0) / (wall / 60), 2),
        startup_sec=round(startup_sec, 3),
        harness_late_sends=h.late_sends,
        send_lag_p99_ms=stats.get("send_lag_p99_ms"),
    )
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=("callback", "backends"), default="callback")
    ap.add_argument("--seconds", type=float, default=20.0, help="music per run (default 20)")
    ap.add_argument("--blocks", default=None, help="periods (callback: 32,64,256; else 64,256)")
    ap.add_argument("--paths", default="kernel,python", help="callback mode: live paths")
    ap.add_argument("--reload-sec", type=float, default=60.0, help="0: no reload run")
    ap.add_argument(
        "--conditions", default="idle,busy_thread,two_procs", help="callback mode; '' for none"
    )
    ap.add_argument(
        "--traffic", nargs=3, metavar=("SERVER", "NAME", "SECONDS"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.traffic:
        from bench_live_callback import traffic_child

        return traffic_child(*args.traffic)
    if args.mode == "callback":
        from bench_live_callback import run_callback_bench

        blocks = [int(b) for b in (args.blocks or "32,64,256").split(",")]
        print(
            json.dumps(
                run_callback_bench(
                    blocks,
                    args.seconds,
                    args.paths.split(","),
                    args.reload_sec,
                    [c for c in args.conditions.split(",") if c],
                ),
                indent=1,
            )
        )
        return None
    args.blocks = args.blocks or "64,256"
    rows = []
    for block in [int(b) for b in args.blocks.split(",")]:
        exports = start_server(block)
        os.environ.update({k: v for k, v in exports.items() if k.startswith("JACK")})
        try:
            rows.append(run_one("jack", block, args.seconds))
            rows.append(run_one("portaudio", block, args.seconds, "thread"))
            rows.append(run_one("portaudio", block, args.seconds, "block"))
        finally:
            stop_server(exports)
    print(
        json.dumps(
            dict(
                bench="live",
                machine=dict(cores=os.cpu_count(), jack="jackd2 dummy driver, -S"),
                preset="swing16-62",
                notes_per_sec=1000,
                runs=rows,
            ),
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
