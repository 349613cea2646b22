"""Which groove explains a performance best: the ranking behind ``groove match``.

Each candidate preset is applied to the performance's notes quantized to
its grid (``groove.transform.apply_notes`` with ``quantize=1``, its lanes by
pitch, its own timing amount), and the rendering is compared with what was
played:

* the score, in ms, is the Huber RMS of the timing residuals,
  ``sqrt(2 * mean(Huber_delta(played - rendered)))`` with ``delta =
  HUBER_MS``: the RMS while residuals are small, growing only linearly with
  outliers (a flam, a pushed fill), so one wild note does not decide;
* also shown: the mean absolute residual; the timing amount (0 .. the
  groove's largest) that would explain the notes best, and its score; and
  a secondary score, the mean generalised IoU of each rendered note with
  the played one (``groove.losses.note_giou``: 1 = the same box in time and
  pitch; rendered notes keep their played durations, so it measures the
  start's error relative to the note's length).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from groove import MAX_TIMING, GrooveError
from groove import transform as tf
from groove.losses import huber, note_giou

from .performance import Performance

#: Huber threshold of the ranking score, ms: typical timing noise of a good drummer.
HUBER_MS = 15.0
#: Timing amounts tried for the best fit.
TIMING_STEPS = np.round(np.arange(0.0, MAX_TIMING + 1e-9, 0.05), 2)


def candidates(presets_dir=None):
    """Presets to rank: ``(name, path, origin, Preset)`` rows and one-line load problems.

    Without ``presets_dir``: every preset lookup finds (``GROOVE_PRESET_PATH``,
    the user's, the shipped ones).  With it: every .yaml/.yml file in that
    folder (e.g. grooves written by ``groove extract``) and every DAW groove
    (.agr, .rgt, Tracktion .xml), read through the importer.
    """
    from engine import presets

    rows, problems = [], []
    if presets_dir is None:
        from engine.presets.lookup import preset_files

        origin = {path: o for _, path, o in preset_files()}
        for name, path, result in presets.list_presets():
            if isinstance(result, GrooveError):
                problems.append(str(result))
            else:
                rows.append((name, str(path), origin.get(path, ""), result))
        return rows, problems
    folder = Path(presets_dir)
    if not folder.is_dir():
        raise ValueError(
            f"--presets: {str(folder)!r} is not a folder; give a folder of preset .yaml files"
        )
    from engine.presets.lookup import DAW_SUFFIXES

    for path in sorted(folder.iterdir()):
        wanted = (".yaml", ".yml", *DAW_SUFFIXES)
        if path.suffix.lower() not in wanted or path.name.startswith(".") or not path.is_file():
            continue
        try:
            rows.append((path.stem, str(path), str(folder), presets.load(path)))
        except GrooveError as exc:
            problems.append(str(exc))
    return rows, problems


def _render(preset, perf: Performance, timing):
    lane = preset.lane_of_pitch()[perf.pitch] + 1
    start, end, _ = tf.apply_notes(
        preset.grooves(),
        lane,
        perf.start_beat,
        perf.end_beat,
        perf.velocity,
        timing=timing,
        quantize=1.0,
        ends="keep",
    )
    return start, end


def huber_rms_ms(residual_ms) -> float:
    """sqrt(2 * mean Huber): the RMS for residuals within HUBER_MS, robust beyond."""
    value, _ = huber(residual_ms, HUBER_MS)
    return float(np.sqrt(2.0 * np.mean(value)))


def _giou(perf, start, end) -> float | None:
    ok = (perf.end_beat > perf.start_beat) & (end > start)
    if not ok.any():
        return None
    played = np.stack([perf.start_beat[ok], perf.end_beat[ok], perf.pitch[ok]], axis=-1)
    rendered = np.stack([start[ok], end[ok], perf.pitch[ok]], axis=-1)
    value, _ = note_giou(rendered, played)
    return float(np.mean(value))


def score_preset(perf: Performance, preset) -> dict:
    """How well one preset explains the performance (see the module docstring)."""
    timing = preset.amounts.timing
    start, end = _render(preset, perf, timing)
    resid = (perf.start_beat - start) * perf.ms_per_beat
    top = min([MAX_TIMING] + [g.max_timing for g in preset.grooves()])
    best = (huber_rms_ms(resid), timing)
    for a in TIMING_STEPS[TIMING_STEPS <= top]:
        s, _ = _render(preset, perf, float(a))
        best = min(best, (huber_rms_ms((perf.start_beat - s) * perf.ms_per_beat), float(a)))
    giou = _giou(perf, start, end)
    return dict(
        score_ms=round(huber_rms_ms(resid), 3),
        mean_abs_ms=round(float(np.mean(np.abs(resid))), 3),
        timing=timing,
        best_timing=best[1],
        best_score_ms=round(best[0], 3),
        giou=None if giou is None else round(giou, 4),
    )


def rank(perf: Performance, rows, top=None) -> list:
    """Score every candidate; best (lowest score) first, ``top`` of them."""
    out = []
    for name, path, origin, preset in rows:
        out.append(
            dict(
                name=name,
                path=path,
                origin=origin,
                kind=preset.kind,
                lanes=[ln.name for ln in preset.lanes],
                **score_preset(perf, preset),
            )
        )
    out.sort(key=lambda r: (r["score_ms"], r["name"]))
    for i, r in enumerate(out, start=1):
        r["rank"] = i
    return out[:top] if top else out


def format_table(perf: Performance, ranking, n_candidates) -> str:
    """The ranking as a text table."""
    head = (
        f"{perf.path}: {len(perf)} notes; {len(ranking)} of {n_candidates} presets by "
        f"timing residual (Huber RMS, delta {HUBER_MS:g} ms; lower is better)"
    )
    width = max([len(r["name"]) for r in ranking] + [6])
    lines = [
        head,
        f"{'rank':>4}  {'preset':<{width}}  {'residual':>9}  {'mean|r|':>8}  "
        f"{'best timing':>16}  {'GIoU':>6}  lanes",
    ]
    for r in ranking:
        best = f"{r['best_timing']:.2f} ({r['best_score_ms']:.1f})"
        giou = "-" if r["giou"] is None else f"{r['giou']:.3f}"
        lines.append(
            f"{r['rank']:>4}  {r['name']:<{width}}  {r['score_ms']:>6.1f} ms  "
            f"{r['mean_abs_ms']:>5.1f} ms  {best:>16}  {giou:>6}  "
            f"{', '.join(r['lanes']) or '-'}"
        )
    return "\n".join(lines)
