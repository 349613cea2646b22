"""Pictures of grooves: D(t) over one period, knots, grid lines and accents.

``curve_series`` computes what is drawn (plain numpy, testable without
matplotlib); ``plot_presets`` draws it with matplotlib's object API (no
pyplot state, no display needed), imported only when called, and writes
the image atomically.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Curve samples per grid step (smooth enough for pchip at any zoom).
_SAMPLES_PER_STEP = 48
#: Longest span drawn by default (a 64-beat blend would be unreadable).
MAX_DEFAULT_SPAN_BEAT = 16.0


@dataclass
class Series:
    """One curve to draw: a preset's main groove or one of its lanes."""

    label: str
    color: int  # colour index: per preset, or per curve when one preset is drawn
    lane: int  # 0 for a main groove, 1, 2, ... for its lanes (the dash pattern)
    x_beat: np.ndarray  # sample positions
    y: np.ndarray  # D there, in the plot's unit
    knot_beat: np.ndarray
    knot_y: np.ndarray
    accent_beat: np.ndarray
    accent: np.ndarray  # velocity accents at each grid step (empty when all 1)


def default_span_beat(presets) -> float:
    """The longest period among ``presets`` (at least 1 beat, at most 16)."""
    longest = max(p.groove.period_beat for p in presets)
    return float(min(max(longest, 1.0), MAX_DEFAULT_SPAN_BEAT))


def unit_scale(unit: str, bpm: float, step_beat: float) -> float:
    """Factor from beats to the plot's unit: ms at ``bpm`` or % of ``step_beat``."""
    return 60000.0 / bpm if unit == "ms" else 100.0 / step_beat


def _series(label, color, lane, g, span, scale) -> Series:
    step = g.tables().step_beat
    n = max(2, int(round(span / g.grid_beat * _SAMPLES_PER_STEP)) + 1)
    x = np.linspace(0.0, span, n)
    knots = np.arange(0.0, span + 1e-9, step)
    steps = np.arange(0.0, span - 1e-9, g.grid_beat)
    accent = np.asarray(g.accent(steps), dtype=float)
    if (np.abs(accent - 1.0) < 1e-12).all():
        steps, accent = steps[:0], accent[:0]
    return Series(
        label,
        color,
        lane,
        x,
        g.deviation(x) * scale,
        knots,
        g.deviation(knots) * scale,
        steps,
        accent,
    )


def curve_series(
    presets, span_beat=None, unit: str = "ms", bpm: float = 120.0, lanes: bool = True
) -> list:
    """Every curve of ``presets`` (main grooves, then lanes) sampled over the span."""
    span = float(span_beat or default_span_beat(presets))
    step = min(p.groove.grid_beat for p in presets)
    scale = unit_scale(unit, bpm, step)
    out = []
    for i, p in enumerate(presets):
        name = p.name or p.kind
        label = f"{name} (notes in no lane)" if lanes and p.lanes else name
        out.append(_series(label, len(out) if len(presets) == 1 else i, 0, p.groove, span, scale))
        for k, lane in enumerate(p.lanes if lanes else (), start=1):
            notes = " ".join(map(str, lane.notes))
            out.append(
                _series(
                    f"{name} · {lane.name} (notes {notes})",
                    len(out) if len(presets) == 1 else i,
                    k,
                    lane.groove,
                    span,
                    scale,
                )
            )
    return out


def _grid_lines(ax, span, step):
    for x in np.arange(0.0, span + 1e-9, step):
        bar, beat = abs(x / 4 - round(x / 4)) < 1e-9, abs(x - round(x)) < 1e-9
        ax.axvline(
            x,
            color="0.35" if bar else ("0.65" if beat else "0.88"),
            lw=1.2 if bar else (0.8 if beat else 0.5),
            zorder=0,
        )


def _beat_ticks(ax, span):
    beats = np.arange(0.0, span + 1e-9, 1.0)
    ax.set_xticks(beats)
    ax.set_xticklabels([f"{int(b) + 1}" if b < span - 1e-9 else "" for b in beats])
    ax.set_xlim(0.0, span)


_DASHES = ["-", (0, (5, 2)), (0, (1, 1.5)), (0, (6, 2, 1, 2)), (0, (3, 1, 1, 1, 1, 1))]


def _draw_curves(ax, series, colors):
    for s in series:
        color = colors[s.color % len(colors)]
        ax.plot(
            s.x_beat,
            s.y,
            color=color,
            label=s.label,
            zorder=3 if s.lane else 4,
            ls=_DASHES[s.lane % len(_DASHES)],
            lw=1.5 if s.lane else 2.4,
        )
        ax.plot(
            s.knot_beat,
            s.knot_y,
            ls="none",
            marker="o",
            ms=3.5 if s.lane else 5,
            mfc="white" if s.lane else color,
            mec=color,
            mew=1.2,
            zorder=5,
        )


def _draw_accents(ax, series, colors, step):
    shown = [s for s in series if s.accent.size]
    if not shown:
        ax.text(
            0.5,
            0.5,
            "no velocity accents",
            ha="center",
            va="center",
            transform=ax.transAxes,
            color="0.4",
        )
        return
    # Each step's bars sit just right of its grid line, side by side.
    width = 0.8 * step / len(shown)
    for j, s in enumerate(shown):
        color = colors[s.color % len(colors)]
        ax.bar(
            s.accent_beat + 0.1 * step + j * width,
            s.accent,
            width=width * 0.9,
            align="edge",
            color=color,
            alpha=0.6 if s.lane else 0.9,
            hatch="////" if s.lane else None,
            edgecolor=color,
            lw=0.5,
            zorder=3,
        )
    ax.set_ylim(0, 1.05)


def plot_presets(
    presets, path, unit: str = "ms", bpm: float = 120.0, span_beat=None, lanes: bool = True
) -> Path:
    """Draw the grooves of ``presets`` to an image file (written atomically).

    Parameters
    ----------
    presets : sequence of engine.presets.model.Preset
    path : path
        The image; its suffix picks the format (.png, .svg, .pdf).
    unit : {"ms", "percent"}
        Left axis: ms at ``bpm``, or percent of the finest grid step.
    span_beat : float, optional
        Beats to draw; default the longest period (1 to 16 beats).
    lanes : bool
        Also draw each preset's lanes (dashed, hatched accents).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    span = float(span_beat or default_span_beat(presets))
    series = curve_series(presets, span, unit, bpm, lanes)
    step = min(p.groove.grid_beat for p in presets)
    colors = [
        "#1f77b4",
        "#d62728",
        "#2ca02c",
        "#ff7f0e",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#17becf",
    ]
    fig = Figure(figsize=(11, 6.2), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3.2, 1))
    _grid_lines(top, span, step)
    _grid_lines(bottom, span, step)
    top.axhline(0.0, color="black", lw=1.0, zorder=2)
    _draw_curves(top, series, colors)
    _draw_accents(bottom, series, colors, step)
    _beat_ticks(bottom, span)
    step_name = min(presets, key=lambda p: p.groove.grid_beat).groove.grid
    if unit == "ms":
        top.set_ylabel(f"D (ms at {bpm:g} bpm)\nlate ↑   early ↓")
        ms_per_step = step * 60000.0 / bpm
        right = top.secondary_yaxis(
            "right",
            functions=(lambda v: v / ms_per_step * 100.0, lambda v: v * ms_per_step / 100.0),
        )
        right.set_ylabel(f"% of a {step_name} step")
    else:
        top.set_ylabel(f"D (% of a {step_name} step)\nlate ↑   early ↓")
    names = ", ".join(p.name or p.kind for p in presets)
    top.set_title(f"Groove deviation D(t) = T(t) − t: {names}", loc="left", fontsize=12)
    top.legend(loc="upper left", bbox_to_anchor=(1.08, 1.0), fontsize=8, frameon=False)
    bottom.set_ylabel("velocity\naccent")
    bottom.set_xlabel(f"beat (grid lines every {step_name}; dots are knots)")
    from engine.atomic import save_figure

    return save_figure(fig, path)
