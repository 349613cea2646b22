"""Benchmark: ``groove render`` against mido and pretty_midi on one big file, and a batch.

Prints JSON.  A 1,000,000-note, 16-track file is generated in a temporary
folder; each contender runs in its own fresh process (so peak memory,
ru_maxrss, is its own), one after another, several times, and the median
time counts.  The machine is shared and noisy: read the ratios.

  render     engine.midi.render.render_file: mido read + note table + groove + our encoder
  mido       mido.MidiFile(path) + save(path): the floor any mido-based tool pays
  mido_load  mido.MidiFile(path) alone (for peak memory)
  render_imports  the render process before any file: numba, LLVM and kernels (fixed cost)
  pretty     pretty_midi.PrettyMIDI(path) + adjust_times(swing map) + write(path)
  batch      ``groove render GMD/ -p swing16-58 -o tmp -j N`` over the 1,021 GMD files

Usage: python bench/bench_render.py [--notes N] [--repeats R] [--skip-pretty] [--skip-batch]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GMD = ROOT / ".." / "shared" / "data" / "gmd"
TPB = 480

CHILD = {
    "render": """
import groove
from engine.midi.render import render_file
groove.warmup()
render_file(IN, OUT + '.warm.mid', groove.swing(58))  # compile/load every kernel first
t0 = time.perf_counter()
render_file(IN, OUT, groove.swing(58), **OPTS)
""",
    "mido": """
import mido
t0 = time.perf_counter()
mido.MidiFile(IN).save(OUT)
""",
    "mido_load": """
import mido
t0 = time.perf_counter()
mido.MidiFile(IN)
""",
    "render_imports": """
import groove, mido
from engine.midi.render import render_file
groove.warmup()
t0 = time.perf_counter()
""",
    "pretty": """
import numpy as np, pretty_midi
t0 = time.perf_counter()
pm = pretty_midi.PrettyMIDI(IN)
end = pm.get_end_time() + 1.0
sixteenth = 0.125  # seconds at the file's 120 BPM
grid = np.arange(0.0, end + 2 * sixteenth, sixteenth)
swung = grid.copy()
swung[1::2] += 0.16 * sixteenth  # swing 58: every off-beat 16th 16% of a step late
pm.adjust_times(grid, swung)
pm.write(OUT)
""",
}
_WRAP = """
import json, resource, sys, time
IN, OUT, OPTS = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
{body}
seconds = time.perf_counter() - t0
print(json.dumps(dict(seconds=seconds,
                      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)))
"""


# `groove render GMD -p swing16-58 -o OUT -j N`, with only the render subcommand loaded
_BATCH = """
import argparse, sys
from engine.cli import render as cmd_render
parser = argparse.ArgumentParser()
cmd_render.add_parser(parser.add_subparsers())
args = parser.parse_args(["render", sys.argv[1], "-p", "swing16-58", "-o", sys.argv[2],
                          "-j", sys.argv[3]])
sys.exit(args.func(args))
"""


def make_file(path: Path, n_notes: int, n_tracks: int = 16, seed: int = 0) -> None:
    """A format 1 file of played-looking notes (16ths, +-20 ticks), written byte by byte."""
    rng = np.random.default_rng(seed)
    per = n_notes // n_tracks
    chunks = []
    for t in range(n_tracks):
        start = np.arange(per) * (TPB // 4) + rng.integers(0, 20, per)
        length = rng.integers(30, 110, per)
        pitch = 36 + (np.arange(per) * 7 + t) % 40
        vel = rng.integers(1, 128, per)
        # events: (tick, order, status, data1, data2); offs before ons at one tick
        tick = np.concatenate([start, start + length])
        order = np.concatenate([np.ones(per), np.zeros(per)])
        status = np.concatenate([np.full(per, 0x90 | (t % 16)), np.full(per, 0x80 | (t % 16))])
        d1 = np.concatenate([pitch, pitch])
        d2 = np.concatenate([vel, np.full(per, 64)])
        idx = np.lexsort((order, tick))
        body = bytearray(b"\x00\xff\x03" + bytes([len(f"t{t}")]) + f"t{t}".encode())
        if t == 0:
            body += b"\x00\xff\x51\x03\x07\xa1\x20"  # 120 BPM
        now = 0
        for i in idx.tolist():
            delta, now = int(tick[i]) - now, int(tick[i])
            var = [delta & 0x7F]
            delta >>= 7
            while delta:
                var.insert(0, 0x80 | (delta & 0x7F))
                delta >>= 7
            body += bytes(var) + bytes((int(status[i]), int(d1[i]), int(d2[i])))
        body += b"\x00\xff\x2f\x00"
        chunks.append(b"MTrk" + len(body).to_bytes(4, "big") + bytes(body))
    header = (
        b"MThd"
        + (6).to_bytes(4, "big")
        + b"\x00\x01"
        + n_tracks.to_bytes(2, "big")
        + TPB.to_bytes(2, "big")
    )
    path.write_bytes(header + b"".join(chunks))


def child(name: str, src: Path, dst: Path, opts=None) -> dict:
    code = _WRAP.format(body=CHILD[name])
    res = subprocess.run(
        [sys.executable, "-c", code, str(src), str(dst), json.dumps(opts or {})],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure(name, src, dst, repeats, opts=None) -> dict:
    runs = [child(name, src, dst, opts) for _ in range(repeats)]
    return dict(
        seconds=statistics.median(r["seconds"] for r in runs),
        runs=[round(r["seconds"], 3) for r in runs],
        peak_mb=statistics.median(r["peak_mb"] for r in runs),
    )


def batch(out_dir: Path, jobs: int, repeats: int) -> dict:
    n = len(list(GMD.rglob("*.mid")))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-c", _BATCH, str(GMD), str(out_dir), str(jobs)],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        times.append(time.perf_counter() - t0)
    sec = statistics.median(times)
    return dict(
        files=n,
        jobs=jobs,
        seconds=round(sec, 3),
        files_per_sec=round(n / sec, 1),
        runs=[round(t, 3) for t in times],
        note="wall time incl. start-up and warm-up",
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-pretty", action="store_true")
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args(argv)
    report = dict(notes=args.notes, tracks=16, repeats=args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "big.mid"
        make_file(src, args.notes)
        report["file_mb"] = round(src.stat().st_size / 2**20, 2)
        res = {
            "render": measure("render", src, tmp / "r.mid", args.repeats),
            "render_quantize_random": measure(
                "render", src, tmp / "q.mid", args.repeats, dict(quantize=0.5, random_ms=4)
            ),
            "mido_load_save": measure("mido", src, tmp / "m.mid", args.repeats),
            "mido_load": measure("mido_load", src, tmp / "x.mid", args.repeats),
            "render_imports": measure("render_imports", src, tmp / "y.mid", 1),
        }
        if not args.skip_pretty:
            res["pretty_midi"] = measure("pretty", src, tmp / "p.mid", args.repeats)
        report["seconds"] = {k: round(v["seconds"], 3) for k, v in res.items()}
        report["runs"] = {k: v["runs"] for k, v in res.items()}
        report["peak_mb"] = {k: round(v["peak_mb"], 1) for k, v in res.items()}
        mido_s = res["mido_load_save"]["seconds"]
        report["ratios"] = {
            "render / mido load+save (goal <= 1.15)": round(res["render"]["seconds"] / mido_s, 3),
            "render+quantize+random / mido load+save": round(
                res["render_quantize_random"]["seconds"] / mido_s, 3
            ),
            "render peak memory / mido load peak memory": round(
                res["render"]["peak_mb"] / res["mido_load"]["peak_mb"], 3
            ),
            "render peak memory without the fixed numba import (~MB) / mido load": round(
                (res["render"]["peak_mb"] - res["render_imports"]["peak_mb"])
                / res["mido_load"]["peak_mb"],
                3,
            ),
        }
        if "pretty_midi" in res:
            report["ratios"]["render / pretty_midi load+adjust+write (goal < 1)"] = round(
                res["render"]["seconds"] / res["pretty_midi"]["seconds"], 3
            )
        if not args.skip_batch and GMD.is_dir():
            report["batch_gmd"] = [batch(tmp / f"gmd{j}", j, args.repeats) for j in (1, 2)]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
