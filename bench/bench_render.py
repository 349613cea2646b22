"""Benchmark: ``groove render`` against symusic (C++), mido and pretty_midi, side by side.

Prints JSON.  A 1,000,000-note, 16-track file and a tiny one (the bundled
8-beat drum loop) are rendered / loaded and saved; each contender runs in
its own fresh process, one after another, several times, and medians count.
The machine is shared and noisy: read the ratios, not the seconds.

Per contender, two figures:

  process   wall time of the whole process, start-up included; the *cost* of
            the big file is its process time minus the tiny file's (the
            issue's measure: what a file adds, start-up and imports aside;
            for groove this includes loading numba's cached kernels, which a
            tiny file never needs)
  warm      the operation alone, timed inside a process that has already
            run it once (imports done, kernels loaded)
  peak_mb   the process's peak resident memory (VmHWM of /proc/self/status;
            ru_maxrss elsewhere), so C/C++ and numba allocations count, not
            only Python's (tracemalloc would miss them)

Contenders:

  groove      ``groove render IN -p swing16-58 -o OUT`` (engine.cli.main)
  groove_qr   the same with ``--quantize 0.5 --random-ms 4``
  symusic     symusic.Score(IN).dump_midi(OUT)        (bench-only: pip install '.[bench]')
  mido        mido.MidiFile(IN).save(OUT)
  mido_load   mido.MidiFile(IN) alone (the peak-memory yardstick)
  python, numba  a bare interpreter, and one that imports numba (its import cost)
  pretty      pretty_midi load + adjust_times(swing) + write  (--pretty)
  batch       ``groove render GMD/ -p swing16-58 -o tmp -j N``  (--batch, GMD present)

Usage: python bench/bench_render.py [--notes N] [--repeats R] [--pretty] [--batch]
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
TINY = ROOT / "examples" / "drum-loop.mid"
TPB = 480

_RENDER = "main(['render', IN, '-p', 'swing16-58', '-o', OUT] + EXTRA)"
CHILD = {
    "groove": ("from engine.cli import main", _RENDER),
    "symusic": ("import symusic", "symusic.Score(IN).dump_midi(OUT)"),
    "mido": ("import mido", "mido.MidiFile(IN).save(OUT)"),
    "mido_load": ("import mido", "mido.MidiFile(IN)"),
    "python": ("pass", "pass"),
    "numba": ("import numba", "pass"),
    "pretty": (
        "import numpy as np, pretty_midi",
        """
pm = pretty_midi.PrettyMIDI(IN)
end = pm.get_end_time() + 1.0
sixteenth = 0.125  # seconds at the file's 120 BPM
grid = np.arange(0.0, end + 2 * sixteenth, sixteenth)
swung = grid.copy()
swung[1::2] += 0.16 * sixteenth  # swing 58: every off-beat 16th 16% of a step late
pm.adjust_times(grid, swung)
pm.write(OUT)
""",
    ),
}
# once: the whole process; warm: run, then time a second run in the same process
_WRAP = """
import contextlib, io, json, resource, sys, time
IN, OUT, MODE, EXTRA = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
{imports}
def run():
    with contextlib.redirect_stdout(io.StringIO()):
        {body}
if MODE == "warm":
    run()
t0 = time.perf_counter()
run()
seconds = time.perf_counter() - t0
try:  # this process's own high-water mark (ru_maxrss may include the parent's at fork)
    with open("/proc/self/status") as f:
        peak = next(int(x.split()[1]) for x in f if x.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(dict(seconds=seconds, peak_mb=peak)))
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


def child(name: str, src: Path, dst: Path, mode: str, extra=()) -> dict:
    imports, body = CHILD[name]
    body = "\n        ".join(line for line in body.strip().splitlines())
    code = _WRAP.format(imports=imports, body=body)
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-c", code, str(src), str(dst), mode, json.dumps(list(extra))],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    wall = time.perf_counter() - t0
    out = json.loads(res.stdout.strip().splitlines()[-1])
    return dict(out, process=wall)


def measure(name, src, dst, repeats, mode="once", extra=()) -> dict:
    runs = [child(name, src, dst, mode, extra) for _ in range(repeats)]
    return dict(
        seconds=statistics.median(r["seconds"] for r in runs),
        process=statistics.median(r["process"] for r in runs),
        runs=[round(r["process"] if mode == "once" else r["seconds"], 3) for r in runs],
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
        note="wall time incl. start-up",
    )


def _ratio(a, b):
    return round(a / b, 3) if b > 0 else None


def run_all(src, tiny, tmp, args) -> dict:
    """Every contender, interleaved: big and tiny file, process and warm."""
    qr = ["--quantize", "0.5", "--random-ms", "4"]
    names = ["groove", "symusic", "mido", "mido_load"] + (["pretty"] if args.pretty else [])
    res = {}
    for name in names:
        reps = args.repeats if name not in ("mido", "mido_load", "pretty") else args.slow_repeats
        res[name] = measure(name, src, tmp / f"{name}.mid", reps)
        res[name + "_tiny"] = measure(name, tiny, tmp / f"{name}-t.mid", args.repeats)
        if name in ("groove", "symusic", "mido"):
            res[name + "_warm"] = measure(name, src, tmp / f"{name}-w.mid", reps, "warm")
    res["groove_qr"] = measure("groove", src, tmp / "qr.mid", args.repeats, extra=qr)
    res["python"] = measure("python", tiny, tmp / "x.mid", args.repeats)
    res["numba"] = measure("numba", tiny, tmp / "x.mid", args.repeats)
    return res


def report_of(res, args) -> dict:
    cost = {
        k: res[k]["process"] - res[k + "_tiny"]["process"]
        for k in ("groove", "symusic", "mido", "mido_load", "pretty")
        if k in res
    }
    cost["groove_qr"] = res["groove_qr"]["process"] - res["groove_tiny"]["process"]
    warm = {k: res[k + "_warm"]["seconds"] for k in ("groove", "symusic", "mido")}
    numba_import = res["numba"]["process"] - res["python"]["process"]
    return {
        "groove_cost_split_seconds": {
            "numba import (a tiny file never needs it)": round(numba_import, 3),
            "loading the cached kernels (the rest)": round(
                cost["groove"] - numba_import - warm["groove"], 3
            ),
            "the work itself (warm)": round(warm["groove"], 3),
        },
        "process_seconds": {k: round(v["process"], 3) for k, v in res.items() if "warm" not in k},
        "cost_over_tiny_seconds": {k: round(v, 3) for k, v in cost.items()},
        "warm_seconds": {k: round(v, 3) for k, v in warm.items()},
        "runs": {k: v["runs"] for k, v in res.items()},
        "peak_mb": {k: round(v["peak_mb"], 1) for k, v in res.items()},
        "ratios": {
            "render cost / symusic load+dump cost (goal <= 1.5)": _ratio(
                cost["groove"], cost["symusic"]
            ),
            "render warm / symusic warm load+dump": _ratio(warm["groove"], warm["symusic"]),
            "mido load+save cost / render cost (goal >= 60)": _ratio(cost["mido"], cost["groove"]),
            "mido load+save warm / render warm": _ratio(warm["mido"], warm["groove"]),
            "render+quantize+random cost / symusic cost": _ratio(
                cost["groove_qr"], cost["symusic"]
            ),
            "render peak memory / mido load peak memory (goal <= 1)": _ratio(
                res["groove"]["peak_mb"], res["mido_load"]["peak_mb"]
            ),
            "render peak memory / symusic load+dump peak memory": _ratio(
                res["groove"]["peak_mb"], res["symusic"]["peak_mb"]
            ),
            "tiny file: render process / mido load+save process (goal <= 2)": _ratio(
                res["groove_tiny"]["process"], res["mido_tiny"]["process"]
            ),
            **(
                {
                    "render cost / pretty_midi load+adjust+write cost": _ratio(
                        cost["groove"], cost["pretty"]
                    )
                }
                if "pretty" in cost
                else {}
            ),
        },
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--slow-repeats", type=int, default=3, help="for mido and pretty_midi")
    ap.add_argument("--pretty", action="store_true", help="also pretty_midi (slow)")
    ap.add_argument("--batch", action="store_true", help="also the GMD batch")
    args = ap.parse_args(argv)
    report = dict(notes=args.notes, tracks=16, repeats=args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "big.mid"
        make_file(src, args.notes)
        report["file_mb"] = round(src.stat().st_size / 2**20, 2)
        report.update(report_of(run_all(src, TINY, tmp, args), args))
        if args.batch and GMD.is_dir():
            report["batch_gmd"] = [batch(tmp / f"gmd{j}", j, args.repeats) for j in (1, 2)]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
