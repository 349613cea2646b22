"""How well an extracted groove predicts a real drummer: a held-out test on the GMD.

Protocol, per 4/4 "beat" file of the Groove MIDI Dataset (Gillick, Roberts,
Engel, Eck, Bamman: "Learning to Groove with Inverse Sequence
Transformations", ICML 2019; CC BY 4.0), train and validation splits:

1. assign every note to its nearest 1/16 step; bars count from beat 0;
2. learn on the notes of the first half of the bars (the training half);
3. quantize the notes of the second half to the 1/16 grid and render them
   with the learned groove (``groove.transform.apply_notes``, through the
   preset exactly as a file would hold it, for this project);
4. score each rendered note against the real performance: |rendered -
   played| in ms at the file's tempo, averaged per file; the median over
   files is reported.  Velocity likewise: the quantized notes play at each
   model's reference velocity (the training median; for accents, the
   typical velocity of the lane's loudest step) and the error is
   |rendered - played| velocity.

Models: ``quantized`` (no groove), ``global_offset`` (one median offset),
``per_step`` (median per 1/16 step of the bar: what DAWs extract),
``per_step_per_instrument`` (median per step and drum lane), ``extracted``
(``engine.learn.extract``: robust hierarchical lanes), and ``ceiling`` (this
project fitted on the test half itself).  Nothing is tuned on the test
halves: the extraction's only data-driven choice (``kappa_step``) is made by
cross-validation inside the training half.  Files with fewer than 2 bars or
fewer than ``MIN_NOTES_HALF`` notes in a half are skipped (and counted).

Run: ``python bench/fidelity.py [-j 2] [--gmd DIR] [--limit N] [--ablations]``; prints
JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_GMD = REPO / ".." / "shared" / "data" / "gmd"
GRID, PERIOD_BEAT, STEP_BEAT, N_STEPS = "1/16", 4.0, 0.25, 16
MIN_NOTES_HALF = 10
MODELS = ("quantized", "global_offset", "per_step", "per_step_per_instrument", "extracted")
#: --ablations: the extraction without lanes, and with kappa_step fixed (no cross-validation).
ABLATIONS = {
    "extracted_no_lanes": dict(lane_mode="none"),
    "extracted_kappa_step_16": dict(kappa_step=16.0),
}


def beat_files(gmd: Path):
    """The 4/4 beat files of the train and validation splits, in info.csv order."""
    with open(gmd / "info.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        str(gmd / r["midi_filename"])
        for r in rows
        if r["beat_type"] == "beat"
        and r["time_signature"] == "4-4"
        and r["split"] in ("train", "validation")
    ]


def _median_per(values, cell, n_cells, fallback):
    from engine.learn.lanefit import cell_medians

    return cell_medians(values, cell, n_cells, fallback)[0]


def _baselines(train, test):
    """Predicted offsets (beats) and velocities of the simple models on the test notes."""
    from engine.learn.extract import DRUM_LANES

    r, s = train["residual_beat"], train["step"]
    per_step = _median_per(r, s, N_STEPS, 0.0)
    lane_of = np.full(128, len(DRUM_LANES), np.int64)
    for i, (_, pitches) in enumerate(DRUM_LANES):
        lane_of[list(pitches)] = i
    n_cells = (len(DRUM_LANES) + 1) * N_STEPS
    cell_tr = lane_of[train["pitch"]] * N_STEPS + s
    cell_te = lane_of[test["pitch"]] * N_STEPS + test["step"]
    per_inst = _median_per(r, cell_tr, n_cells, np.tile(per_step, len(DRUM_LANES) + 1))
    v = train["velocity"].astype(np.float64)
    flat_v = float(np.median(v))
    timing = dict(
        quantized=np.zeros(len(test)),
        global_offset=np.full(len(test), np.median(r)),
        per_step=per_step[test["step"]],
        per_step_per_instrument=per_inst[cell_te],
    )
    step_v = _median_per(v, s, N_STEPS, flat_v)
    velocity = dict(quantized=np.full(len(test), flat_v), per_step=step_v[test["step"]])
    return timing, velocity


def _render(extraction, test):
    """Start (beats) and velocity of the quantized test notes rendered with the preset."""
    from groove import transform as tf

    preset = extraction.to_preset()
    lane = preset.lane_of_pitch()[test["pitch"]]
    peaks = np.array([extraction.velocity_peak] + [ln.velocity_peak for ln in extraction.lanes])
    start = test["grid_beat"]
    new_start, _, new_vel = tf.apply_notes(
        preset.grooves(), lane + 1, start, start + STEP_BEAT, peaks[lane + 1], velocity_amount=1.0
    )
    return new_start, new_vel


def evaluate(path, ablations=False):
    """Per-model mean timing error (ms) and velocity error of one file, or None if skipped."""
    from engine.learn import extract, performance

    perf = performance.read(path)
    asg = performance.assign_grid(perf, STEP_BEAT, N_STEPS)
    half = (int(asg["bar"].max()) + 1) // 2
    is_train = asg["bar"] < half
    train, test = asg.take(is_train), asg.take(~is_train)
    if half < 1 or len(train) < MIN_NOTES_HALF or len(test) < MIN_NOTES_HALF:
        return None
    played = test["grid_beat"] + test["residual_beat"]
    ms = test["ms_per_beat"]
    timing, velocity = _baselines(train, test)
    out = {k: float(np.mean(np.abs(test["residual_beat"] - v) * ms)) for k, v in timing.items()}
    vel = {k: float(np.mean(np.abs(test["velocity"] - v))) for k, v in velocity.items()}

    def learned(notes, lane_mode="auto", kappa_step=None):
        lanes = extract.detect_lanes(notes, lane_mode, perf.track_names)
        return extract.build(
            notes,
            lanes,
            source=path,
            grid=GRID,
            period_beat=PERIOD_BEAT,
            notes_total=len(notes),
            kappa_step=kappa_step,
        )

    ex = learned(train)
    start, v_new = _render(ex, test)
    out["extracted"] = float(np.mean(np.abs(start - played) * ms))
    vel["extracted"] = float(np.mean(np.abs(v_new - test["velocity"])))
    start, _ = _render(learned(test), test)
    out["ceiling"] = float(np.mean(np.abs(start - played) * ms))
    if ablations:
        for name, kw in ABLATIONS.items():
            start, _ = _render(learned(train, **kw), test)
            out[name] = float(np.mean(np.abs(start - played) * ms))
    return dict(
        file=os.path.relpath(path, REPO),
        timing_ms=out,
        velocity=vel,
        kappa_step=ex.kappa_step,
        lanes=len(ex.lanes),
        notes_test=len(test),
    )


def _safe(task):
    path, ablations = task
    try:
        return evaluate(path, ablations)
    except Exception as exc:  # a bad file is reported, it does not stop the run
        return dict(file=path, error=f"{type(exc).__name__}: {exc}")


def summarise(results, n_files, seconds, workers):
    done = [r for r in results if r and "error" not in r]
    errors = [r for r in results if r and "error" in r]

    def med(key, model):
        return round(float(np.median([r[key][model] for r in done])), 3)

    extra = tuple(k for k in ABLATIONS if done and k in done[0]["timing_ms"])
    timing = {m: med("timing_ms", m) for m in MODELS + ("ceiling",) + extra}
    ext = np.array([r["timing_ms"]["extracted"] for r in done])
    base = np.array([r["timing_ms"]["per_step"] for r in done])
    return dict(
        dataset="Groove MIDI Dataset (Gillick et al., ICML 2019; CC BY 4.0): 4/4 beat files, "
        "train + validation",
        protocol="fit on the first half of the bars, render the quantized second half, mean "
        "|rendered - played| per file; medians over files",
        files=n_files,
        scored=len(done),
        skipped=n_files - len(done) - len(errors),
        errors=[f"{r['file']}: {r['error']}" for r in errors][:5],
        notes_scored=int(sum(r["notes_test"] for r in done)),
        timing_ms_median=timing,
        extracted_vs_per_step=dict(
            median_ratio=round(timing["extracted"] / timing["per_step"], 4),
            median_of_ratios=round(float(np.median(ext / base)), 4),
            files_worse=round(float(np.mean(ext > base)), 4),
            files_worse_by_over_0_5_ms=round(float(np.mean(ext > base + 0.5)), 4),
            files_better=round(float(np.mean(ext < base)), 4),
        ),
        velocity_error_median={
            m: med("velocity", m) for m in ("quantized", "per_step", "extracted")
        },
        kappa_step_chosen={
            str(k): v for k, v in sorted(Counter(r["kappa_step"] for r in done).items())
        },
        lanes_written_median=float(np.median([r["lanes"] for r in done])),
        seconds=round(seconds, 1),
        workers=workers,
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gmd", type=Path, default=DEFAULT_GMD, help="the GMD folder (info.csv)")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--limit", type=int, help="only the first N files (a quick look)")
    ap.add_argument("--per-file", action="store_true", help="include every file's numbers")
    ap.add_argument(
        "--ablations",
        action="store_true",
        help="also score the extraction without lanes and without cross-validation",
    )
    args = ap.parse_args(argv)
    if not (args.gmd / "info.csv").is_file():
        print(f"fidelity: no GMD at {args.gmd} (info.csv missing); pass --gmd DIR", file=sys.stderr)
        return 2
    files = beat_files(args.gmd)[: args.limit]
    tasks = [(f, args.ablations) for f in files]
    t0 = time.perf_counter()
    if args.jobs > 1:
        with Pool(args.jobs) as pool:
            results = pool.map(_safe, tasks, chunksize=4)
    else:
        results = [_safe(t) for t in tasks]
    report = summarise(results, len(files), time.perf_counter() - t0, args.jobs)
    if args.per_file:
        report["per_file"] = [r for r in results if r]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
