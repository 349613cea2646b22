"""Terminal pictures of a groove: a column chart of D at each grid step.

Columns rise for late steps and hang for early ones, in milliseconds at a
tempo or in percent of a grid step, with a row of velocity accents under
them; plain ASCII when the terminal cannot show block characters.
"""

from __future__ import annotations

import math

import numpy as np

#: Most columns drawn; longer periods show their beginning.
MAX_COLUMNS = 96
_RISE = " ▁▂▃▄▅▆▇█"
_SHADE = " ▁▂▃▄▅▆▇█"


#: Shortest span drawn: short periods (swing) repeat to fill two beats.
MIN_SPAN_BEAT = 2.0
#: Widest column: coarser grids are drawn in 16ths so a swing shows its shape.
MAX_COLUMN_BEAT = 0.25


def chart_span_beat(period_beat: float) -> float:
    """Beats to draw: one period, repeated to at least two beats."""
    if period_beat >= MIN_SPAN_BEAT:
        return period_beat
    return math.ceil(MIN_SPAN_BEAT / period_beat - 1e-9) * period_beat


def column_beat(g) -> float:
    """Beats per column for groove ``g``: its grid step, at most a 16th."""
    return min(g.grid_beat, MAX_COLUMN_BEAT)


def step_values(g, unit: str = "ms", bpm: float = 120.0, step_beat=None, span_beat=None):
    """(positions in beats, D there in ``unit``) at each column of one span.

    ``unit`` is ``"ms"`` (milliseconds at ``bpm``) or ``"percent"`` (of the
    groove's grid step); columns are ``step_beat`` apart (default
    :func:`column_beat`).
    """
    step = float(step_beat or column_beat(g))
    span = float(span_beat or chart_span_beat(g.period_beat))
    n = max(1, int(round(span / step)))
    beats = np.arange(n) * step
    dev = np.asarray(g.deviation(beats), dtype=float)
    scale = 60000.0 / bpm if unit == "ms" else 100.0 / g.grid_beat
    return beats, dev * scale


def _cell_up(fill: float, ascii_only: bool) -> str:
    if ascii_only:
        return "#" if fill >= 0.5 else ("." if fill > 0.1 else " ")
    return _RISE[int(round(min(max(fill, 0.0), 1.0) * 8))]


def _cell_down(fill: float, ascii_only: bool) -> str:
    if ascii_only:
        return "#" if fill >= 0.5 else ("'" if fill > 0.1 else " ")
    if fill >= 0.75:
        return "█"
    return "▀" if fill >= 0.375 else ("▔" if fill > 0.1 else " ")


def column_chart(
    values, beats, height: int = 8, ascii_only: bool = False, unit_label: str = ""
) -> list:
    """Lines of a column chart of ``values`` (one column per value).

    Positive values rise above the zero line, negative ones hang below;
    ``height`` rows share the range; the y labels show the extremes.
    """
    values = np.asarray(values, dtype=float)[:MAX_COLUMNS]
    beats = np.asarray(beats, dtype=float)[:MAX_COLUMNS]
    width = 3 if values.size <= 24 else (2 if values.size <= 48 else 1)
    top, bottom = max(values.max(), 0.0), max(-values.min(), 0.0)
    # Rows are split so the tallest column fills its top row exactly.
    if top > 0:
        rows_up = max(1, round(height * top / (top + bottom)))
        per_row = top / rows_up
    else:
        rows_up, per_row = 0, (bottom / height if bottom > 0 else 1.0)
    rows_down = math.ceil(bottom / per_row - 1e-9) if bottom > 0 else 0
    bar = width - 1 if width > 1 else 1
    label_w = 8
    lines = []
    for r in reversed(range(rows_up)):
        label = f"{top:+.1f}" if r == rows_up - 1 else ""
        cells = [(_cell_up(v / per_row - r, ascii_only) * bar).ljust(width) for v in values]
        lines.append(f"{label:>{label_w}} {'|' if ascii_only else '┤'}" + "".join(cells))
    axis = ("-" if ascii_only else "─") * (width * values.size)
    lines.append(f"{'0 ' + unit_label:>{label_w}} {'+' if ascii_only else '┼'}{axis}")
    for r in range(rows_down):
        label = f"{-bottom:+.1f}" if r == rows_down - 1 else ""
        cells = [(_cell_down(-v / per_row - r, ascii_only) * bar).ljust(width) for v in values]
        lines.append(f"{label:>{label_w}} {'|' if ascii_only else '┤'}" + "".join(cells))
    lines.append(" " * (label_w + 2) + beat_ruler(beats, width))
    return lines


def beat_ruler(beats, width: int) -> str:
    """Beat numbers (1, 2, ...) under the columns that start a beat."""
    ruler = [" "] * (width * len(beats) + 3)
    for i, b in enumerate(beats):
        if abs(b - round(b)) < 1e-9:
            label = str(int(round(b)) + 1)
            ruler[i * width : i * width + len(label)] = label
    return "".join(ruler).rstrip()


def accent_row(accents, width_of: int, ascii_only: bool = False) -> str:
    """One character per column, taller for louder accents (0..1); NaN is blank."""
    accents = np.asarray(accents, dtype=float)[:MAX_COLUMNS]
    width = 3 if width_of <= 24 else (2 if width_of <= 48 else 1)
    bar = width - 1 if width > 1 else 1
    chars = " .:-=+*#%@" if ascii_only else _SHADE
    top = len(chars) - 1
    cells = [
        (" " if not np.isfinite(a) else chars[int(round(min(max(a, 0.0), 1.0) * top))]) * bar
        for a in accents
    ]
    cells = [c.ljust(width) for c in cells]
    return "".join(cells)
