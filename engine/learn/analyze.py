"""What makes a performance feel the way it does: the report behind ``groove analyze``.

From an :class:`engine.learn.extract.Extraction` (the robust fit of the notes):

* swing on 8ths and 16ths, MPC-style: the share of each pair of steps the
  first one gets (50 % straight, 66.7 % triplet feel), from the fitted
  offsets of the pairs' steps, weighted by how many notes both have;
* the mean offset (median of every note's residual): laid back (> 0) or
  ahead (< 0), in ms;
* per lane and step: the fitted offset in ms, the spread of the notes
  around it (robust standard deviation, 1.4826 MAD: the tightness), the
  typical velocity and the accent;
* the displacement region between the fitted main groove T and the straight
  line over one period (``groove.geometry.displacement_region``): its area
  in beat x ms and its centroid (where in the bar the feel pulls).

Positions are 1-based for musicians: beat 1 is the downbeat.
"""

from __future__ import annotations

import numpy as np

import groove
from groove.geometry import displacement_region

from . import lanefit
from .extract import Extraction, steps_per_period

#: Below this mean offset (ms) the feel counts as on the beat.
ON_BEAT_MS = 2.0
#: A step needs this many notes for its spread to be reported.
MIN_SPREAD_NOTES = 3
_SIXTEENTH_NAMES = {0: "", 1: "e", 2: "&", 3: "a"}
_TRIPLET_NAMES = {0: "", 1: "trip", 2: "let"}


def position_label(step: int, step_beat: float) -> str:
    """ "1", "1e", "1&", "1a" for 16ths; "2trip" for triplets; "3+0.125" otherwise."""
    beat = step * step_beat
    whole = int(np.floor(beat + 1e-9))
    frac = beat - whole
    for per_beat, names in ((4, _SIXTEENTH_NAMES), (3, _TRIPLET_NAMES)):
        k = frac * per_beat
        if abs(k - round(k)) < 1e-6:
            return f"{whole + 1}{names[int(round(k)) % per_beat]}"
    return f"{whole + 1}+{frac:.3g}"


def swing_percent(offsets, count, step_beat, half_beat):
    """MPC swing of pairs of ``half_beat`` notes from per-step offsets (steps), or None.

    A pair starts on a step at a multiple of ``2 * half_beat``; its off-beat
    step is the one at ``half_beat`` when the grid has it, else (triplet
    grids) the step of the second half with the most notes.  Each pair gives
    the share of the pair before its off-beat note,
    ``100 * (off_position - on_position) / (2 * half_beat)``, weighted by the
    smaller of the two steps' note counts.  None when the grid cannot hold
    such pairs or no pair has notes on both steps.
    """
    pair = 2.0 * half_beat / step_beat
    if abs(pair - round(pair)) > 1e-9 or round(pair) < 2 or offsets.size % round(pair):
        return None
    pair = int(round(pair))
    half = half_beat / step_beat
    if abs(half - round(half)) < 1e-9:
        off_step = int(round(half))
    else:
        second = np.arange(int(np.ceil(half)), pair)
        per_pos = count.reshape(-1, pair).sum(axis=0)
        off_step = int(second[np.argmax(per_pos[second])])
    on = np.arange(0, offsets.size, pair)
    off = on + off_step
    weight = np.minimum(count[on], count[off]).astype(float)
    if weight.sum() == 0:
        return None
    swing = 100.0 * (off_step + offsets[off] - offsets[on]) * step_beat / (2.0 * half_beat)
    return float(np.average(swing, weights=weight))


def _spread_ms(resid_ms, step, n_steps):
    """Robust sd of residuals (about the fit) per step; None where too few notes."""
    out = []
    for k in range(n_steps):
        r = resid_ms[step == k]
        out.append(
            round(float(lanefit.MAD_SIGMA * np.median(np.abs(r - np.median(r)))), 2)
            if r.size >= MIN_SPREAD_NOTES
            else None
        )
    return out


def _lane_report(name, sel, offsets, typical, ex: Extraction, step_beat, n_steps, ms_beat):
    asg = ex.notes
    step = asg["step"][sel]
    ms = asg["ms_per_beat"][sel]
    played_ms = asg["residual_beat"][sel] * ms
    resid_ms = played_ms - offsets[step] * step_beat * ms
    count = np.bincount(step, minlength=n_steps)
    top = typical.max() if typical.size and typical.max() > 0 else 1.0
    steps = [
        dict(
            step=k,
            position=position_label(k, step_beat),
            notes=int(count[k]),
            offset_ms=round(float(offsets[k] * step_beat * ms_beat), 2),
            spread_ms=s,
            velocity=round(float(typical[k]), 1),
            accent=round(float(typical[k] / top), 3),
        )
        for k, s in zip(range(n_steps), _spread_ms(resid_ms, step, n_steps))
    ]
    return dict(
        name=name,
        notes=int(sel.sum()),
        mean_offset_ms=round(float(np.median(played_ms)), 2) if sel.any() else None,
        tightness_ms=round(float(lanefit.MAD_SIGMA * np.median(np.abs(resid_ms))), 2)
        if sel.any()
        else None,
        region=region_report(offsets, ex.grid, ex.period_beat, ms_beat),
        steps=steps,
    )


def region_report(offsets, grid, period_beat, ms_per_beat) -> dict:
    """Area (beat x ms) and centroid of the region between T and the straight line."""
    g = groove.template(np.asarray(offsets, float), grid=grid, period=period_beat)
    reg = displacement_region(g)
    out = dict(
        area_beat_ms=round(reg.abs_area_beat2 * ms_per_beat, 3),
        signed_area_beat_ms=round(reg.signed_area_beat2 * ms_per_beat, 3),
        lobes=len(reg.lobes),
        centroid_beat=None,
        centroid_offset_ms=None,
        pull=None,
    )
    if reg.centroid_beat is not None:
        t, T = reg.centroid_beat
        out.update(
            centroid_beat=round(1.0 + t, 3),
            centroid_offset_ms=round((T - t) * ms_per_beat, 3),
            pull="late" if reg.signed_area_beat2 > 0 else "early",
        )
    return out


def report(ex: Extraction) -> dict:
    """The groove report of an extraction (plain data, JSON-ready)."""
    step_beat, n_steps, cycle = steps_per_period(ex.grid, ex.period_beat)
    asg = ex.notes
    ms_beat = float(np.median(asg["ms_per_beat"]))
    lane = ex.lane_index
    v_main, v_lanes = lanefit.fit_lane_velocity(
        asg["velocity"], asg["step"], lane, len(ex.lane_names), n_steps, cycle
    )
    count = np.bincount(asg["step"], minlength=n_steps)
    mean_ms = float(np.median(asg["residual_beat"] * asg["ms_per_beat"]))
    lanes = [
        _lane_report(
            "all", np.ones(len(asg), bool), ex.fit.pooled, v_main, ex, step_beat, n_steps, ms_beat
        )
    ]
    lanes += [
        _lane_report(name, lane == i, ex.fit.lanes[i], v_lanes[i], ex, step_beat, n_steps, ms_beat)
        for i, name in enumerate(ex.lane_names)
    ]
    feel = (
        "on the beat"
        if abs(mean_ms) < ON_BEAT_MS
        else "laid back"
        if mean_ms > 0
        else "ahead of the beat"
    )
    return dict(
        file=ex.source,
        score=ex.score,
        notes_used=ex.notes_used,
        notes_total=ex.notes_total,
        grid=ex.grid,
        period_beat=ex.period_beat,
        tempo_bpm=round(60000.0 / ms_beat, 2),
        swing_percent={
            "8ths": _round(swing_percent(ex.fit.pooled, count, step_beat, 0.5)),
            "16ths": _round(swing_percent(ex.fit.pooled, count, step_beat, 0.25)),
        },
        mean_offset_ms=round(mean_ms, 2),
        feel=feel,
        tightness_ms=lanes[0]["tightness_ms"],
        residual_ms=round(ex.residual_ms, 2),
        quantized_ms=round(ex.quantized_ms, 2),
        kappa_step=ex.kappa_step,
        match_share=ex.match_share,
        region=lanes[0]["region"],
        lanes=lanes,
        warnings=list(ex.warnings),
    )


def _round(x, nd=2):
    return None if x is None else round(x, nd)


def _fmt(value, width=6, nd=0):
    return f"{'-' if value is None else f'{value:.{nd}f}':>{width}}"


def format_text(rep: dict) -> str:
    """The report as text a musician can read (about 100 columns for a 1/16 bar)."""
    sw = rep["swing_percent"]
    swing = ", ".join(f"{k} {v:.1f}%" for k, v in sw.items() if v is not None) or "n/a"
    reg = rep["region"]
    lines = [
        f"{rep['file']}: {rep['notes_used']} notes, {rep['tempo_bpm']:.0f} bpm, grid "
        f"{rep['grid']}, period {rep['period_beat']:g} beats",
        f"feel: {rep['feel']} ({rep['mean_offset_ms']:+.1f} ms median offset), tightness "
        f"{rep['tightness_ms']:.1f} ms (robust sd around the groove)",
        f"swing: {swing} (50% straight, 66.7% triplet)",
        f"groove fit: {rep['residual_ms']:.1f} ms mean |played - groove| "
        f"({rep['quantized_ms']:.1f} ms on the straight grid)",
    ]
    if reg["centroid_beat"] is not None:
        lines.append(
            f"displacement: {reg['area_beat_ms']:.1f} beat*ms in {reg['lobes']} "
            f"lobe(s), net {reg['pull']} ({reg['signed_area_beat_ms']:+.1f}); centroid "
            f"at beat {reg['centroid_beat']:.2f} of the bar, "
            f"{reg['centroid_offset_ms']:+.1f} ms"
        )
    else:
        lines.append("displacement: none (the fitted groove is straight)")
    steps = rep["lanes"][0]["steps"]
    lines.append("per step: offset ms / spread ms / accent")
    lines.append(" " * 14 + "".join(f"{s['position']:>6}" for s in steps))
    for ln in rep["lanes"]:
        if not ln["notes"]:
            continue
        lines.append(
            f"{ln['name'][:13]:<14}"
            + "".join(_fmt(s["offset_ms"] if s["notes"] else None) for s in ln["steps"])
            + f"   {ln['notes']} notes, mean {ln['mean_offset_ms']:+.1f} ms"
        )
        lines.append(
            f"{'  spread':<14}"
            + "".join(_fmt(s["spread_ms"]) for s in ln["steps"])
            + f"   tightness {ln['tightness_ms']:.1f} ms"
        )
        lines.append(
            f"{'  accent':<14}"
            + "".join(_fmt(s["accent"] * 100 if s["notes"] else None) for s in ln["steps"])
        )
    return "\n".join(lines)


_COLORS = [
    "#222222",
    "#d62728",
    "#1f77b4",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
]
_LANE_COLUMNS = 3
#: Lanes with fewer notes are left out of the plot (they follow the main groove).
MIN_PLOT_NOTES = 16


def _wrap(x_beat, y, period):
    """Knots of one period plus the first again at its end (the curve is periodic)."""
    return np.append(x_beat, period), np.append(y, y[0])


def _grid(ax, period, step_beat):
    for x in np.arange(0.0, period + 1e-9, step_beat):
        beat = abs(x - round(x)) < 1e-9
        ax.axvline(x, color="0.55" if beat else "0.88", lw=0.9 if beat else 0.5, zorder=0)
    ax.axhline(0.0, color="black", lw=0.8, zorder=1)


def _lane_arrays(ln):
    steps = ln["steps"]
    off = np.array([s["offset_ms"] for s in steps])
    spread = np.array([np.nan if s["spread_ms"] is None else s["spread_ms"] for s in steps])
    has = np.array([s["notes"] > 0 for s in steps])
    return off, spread, has


def _draw_lane(ax, ln, color, knots, period, note_x, note_ms, main_off=None):
    """One lane: its notes, fitted offsets with their spread, and the fitted curve."""
    off, spread, has = _lane_arrays(ln)
    ax.scatter(note_x, note_ms, s=4, color=color, alpha=0.22, lw=0, zorder=1)
    if main_off is not None:
        ax.plot(*_wrap(knots, main_off, period), color="0.45", lw=1.0, ls=(0, (3, 2)), zorder=2)
    ax.plot(*_wrap(knots, off, period), color=color, lw=2.0, zorder=3)
    ax.errorbar(
        knots[has],
        off[has],
        yerr=np.nan_to_num(spread[has]),
        fmt="o",
        ms=4,
        color=color,
        mfc="white",
        mew=1.2,
        elinewidth=1.0,
        capsize=2,
        zorder=4,
    )


def plot(rep: dict, ex: Extraction, path):
    """Draw the report to an image (written atomically): the fitted groove of all notes
    with the displacement region and its centroid; one small panel per lane with its
    notes, per-step offsets +- spread and fitted curve; the accents as a lane x step map."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from engine.atomic import save_figure

    step_beat, n_steps, _ = steps_per_period(ex.grid, ex.period_beat)
    period = ex.period_beat
    knots = np.arange(n_steps) * step_beat
    lanes = rep["lanes"][:1] + [ln for ln in rep["lanes"][1:] if ln["notes"] >= MIN_PLOT_NOTES]
    rows = -(-(len(lanes) - 1) // _LANE_COLUMNS)
    fig = Figure(figsize=(13, 5.2 + 2.3 * rows + 0.3 * len(lanes)), dpi=120, layout="constrained")
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        2 + rows, _LANE_COLUMNS, height_ratios=[3.2] + [1.6] * rows + [0.3 + 0.22 * len(lanes)]
    )
    asg = ex.notes
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(asg)) * step_beat
    note_x = asg["step"] * step_beat + jitter
    note_ms = asg["residual_beat"] * asg["ms_per_beat"]
    lo, hi = np.percentile(note_ms, [1, 99])
    main_off, _, _ = _lane_arrays(lanes[0])
    pad = 0.1 * (hi - lo + 1.0)
    ylim = (min(lo, main_off.min()) - pad, max(hi, main_off.max()) + pad)

    top = fig.add_subplot(grid[0, :])
    _grid(top, period, step_beat)
    fine = np.linspace(0.0, period, 40 * n_steps + 1)
    top.fill_between(
        fine,
        np.interp(fine, *_wrap(knots, main_off, period)),
        0.0,
        color="#ffca28",
        alpha=0.35,
        lw=0,
        zorder=1,
        label="displacement region (groove vs straight)",
    )
    _draw_lane(top, lanes[0], _COLORS[0], knots, period, note_x, note_ms)
    reg = rep["region"]
    if reg["centroid_beat"] is not None:
        top.plot(
            [reg["centroid_beat"] - 1.0],
            [reg["centroid_offset_ms"]],
            marker="*",
            ms=16,
            color="#ef6c00",
            mec="black",
            mew=0.6,
            zorder=6,
            ls="none",
            label=f"its centroid: beat {reg['centroid_beat']:.2f}, net {reg['pull']}",
        )
    top.plot(
        [],
        [],
        color=_COLORS[0],
        marker="o",
        mfc="white",
        label="fitted offset per step ± spread of the notes",
    )
    top.set_ylim(ylim)
    top.set_ylabel("offset from the grid (ms)\nlate ↑   early ↓")
    top.legend(loc="lower right", fontsize=8, framealpha=0.85)
    sw = rep["swing_percent"]
    swing = ", ".join(f"{k} {v:.1f}%" for k, v in sw.items() if v is not None) or "n/a"
    name = ex.source.replace("\\", "/").split("/")[-1]
    top.set_title(
        f"{name} — all {rep['notes_used']} notes at {rep['tempo_bpm']:.0f} bpm: "
        f"{rep['feel']} ({rep['mean_offset_ms']:+.1f} ms), tightness "
        f"{rep['tightness_ms']:.1f} ms, swing {swing}",
        loc="left",
        fontsize=11,
    )
    labels = [position_label(k, step_beat) for k in range(n_steps)]
    for j, ln in enumerate(lanes[1:], start=1):
        ax = fig.add_subplot(
            grid[1 + (j - 1) // _LANE_COLUMNS, (j - 1) % _LANE_COLUMNS], sharey=top
        )
        _grid(ax, period, step_beat)
        mine = ex.lane_index == ex.lane_names.index(ln["name"])
        _draw_lane(
            ax, ln, _COLORS[j % len(_COLORS)], knots, period, note_x[mine], note_ms[mine], main_off
        )
        ax.set_title(
            f"{ln['name']}: {ln['notes']} notes, {ln['mean_offset_ms']:+.0f} ms, "
            f"tightness {ln['tightness_ms']:.0f} ms",
            loc="left",
            fontsize=9,
        )
        beats = np.arange(0.0, period - 1e-9, 1.0)
        ax.set_xticks(beats)
        ax.set_xticklabels(
            [position_label(int(round(b / step_beat)), step_beat) for b in beats], fontsize=7
        )
        ax.set_xlim(-0.5 * step_beat, period - 0.5 * step_beat)
        ax.tick_params(labelsize=7)
        if j == 1:
            ax.plot([], [], color="0.45", lw=1.0, ls=(0, (3, 2)), label="all notes")
            ax.legend(loc="lower right", fontsize=7, framealpha=0.85)
    _draw_accents(fig.add_subplot(grid[-1, :]), lanes, labels)
    top.set_xticks(knots)
    top.set_xticklabels(labels, fontsize=8)
    top.set_xlim(-0.5 * step_beat, period - 0.5 * step_beat)
    return save_figure(fig, path)


def _draw_accents(ax, lanes, labels):
    """Accents as a lane x step map (blank where a lane has no notes)."""
    acc = np.array([[s["accent"] if s["notes"] else np.nan for s in ln["steps"]] for ln in lanes])
    ax.imshow(acc, aspect="auto", cmap="Greys", vmin=0.0, vmax=1.0, interpolation="nearest")
    for (r, c), v in np.ndenumerate(acc):
        if np.isfinite(v):
            ax.text(
                c,
                r,
                f"{100 * v:.0f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v > 0.55 else "black",
            )
    ax.set_yticks(range(len(lanes)))
    ax.set_yticklabels([ln["name"] for ln in lanes], fontsize=8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_title("velocity accent per step (% of the lane's loudest step)", loc="left", fontsize=9)
