"""What the three DAW formats share: reading capped files, numbers, and grids of points.

Ableton's groove notes and SWS's groove points are both "a point pulls the
grid step nearest to it to itself": :func:`points_to_template` turns such
points into a template's offsets (fractions of a step) and accents, with
exact rational step arithmetic so that a point exactly on a step moves
nothing.  Nothing here builds a ``groove.Groove``: constructing one loads
the numba kernels, which ``groove import`` must not pay for.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from groove import MAX_PERIOD_BEAT, grid_step_beat

from ..errors import PresetError
from ..schema import NAME_PATTERN

#: Grids a groove's points are tried on, coarsest first (the .rgt rule).
AUTO_GRIDS = ("1/4", "1/8", "1/8t", "1/16", "1/16t", "1/32", "1/32t")
#: Points closer than this (beats, around the period) are one point written twice.
SAME_POINT_BEAT = 1e-6
#: Offsets are rounded to this many decimals (of a step): 0.14 stays 0.14.
OFFSET_DECIMALS = 12
#: A point this close to a half step (relative to its position) is on it, and
#: belongs to the earlier step: twice the rounding of 6 significant digits
#: (C++ streams, so SWS), and far above that of a full-precision float.
TIE_RELATIVE = 1e-5
#: Longest groove file read (beats).  A file may be longer than a preset
#: (periods are written as whole beats: 33.5 beats repeats every 67); it is
#: shortened to its own repeat, which must then fit MAX_PERIOD_BEAT.
MAX_FILE_BEAT = 4 * MAX_PERIOD_BEAT
_NAME_RE = re.compile(NAME_PATTERN)
# what C++ streams and JUCE read as a number (Python's float() also takes
# "1_0" and full-width digits); inf and nan are numbers refused as not finite
_NUMBER_RE = re.compile(
    r"^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)$", re.IGNORECASE | re.ASCII
)


class DawError(PresetError):
    """A DAW groove file that cannot be read or written; one line naming the file."""


@dataclass
class Imported:
    """One groove read from a DAW file, as the keys of a template preset.

    Attributes
    ----------
    name : str
        Suggested preset name (a valid file stem).
    fields : dict
        The preset's keys (without ``name``): kind, period, grid, offsets,
        optional velocity and amount defaults.
    header : list of str
        Lines of the header comment: source file, format, settings.
    warnings : list of str
        Things the conversion changed or dropped, one line each.
    """

    name: str
    fields: dict
    header: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def fail(path, message: str, line: int | None = None) -> DawError:
    """A DawError ``FILE[:LINE]: message`` (newlines folded)."""
    where = f"{path}:{line}" if line is not None else str(path)
    return DawError(f"{where}: {' '.join(str(message).split())}")


def read_capped(path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, refusing files over ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise fail(path, f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise fail(
            path,
            f"the file is larger than {limit // 1024} KiB; {what} is far smaller: "
            "is this the right file?",
        )
    return data


def number(text, path, what: str, line: int | None = None) -> float:
    """A finite float from text (``1e-007`` and ``- 0.5`` are fine), else DawError."""
    raw = "" if text is None else str(text)
    cleaned = re.sub(r"^([+-])\s+", r"\1", raw.strip())
    if not _NUMBER_RE.match(cleaned):
        raise fail(path, f"{what}: {raw!r} is not a number", line)
    value = float(cleaned)
    if not math.isfinite(value):
        raise fail(path, f"{what}: {raw!r} is not a finite number", line)
    return value


def preset_name(text: str, fallback: str = "imported") -> str:
    """``text`` made a valid preset name: spaces and odd characters become ``-``."""
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", text.strip()).strip("-._+")
    return name if name and _NAME_RE.match(name) else fallback


def fmt(value) -> str:
    """A number as short text for header comments (no trailing zeros)."""
    return f"{float(value):.10g}"


def exact_period(period_beat: float, path, what: str) -> Fraction:
    """A file's length as an exact number of beats, at most MAX_FILE_BEAT.

    The preset limit (MAX_PERIOD_BEAT) is checked by :func:`points_to_template`
    on the pattern's own repeat, which may be shorter than the file.
    """
    if period_beat <= 0:
        raise fail(path, f"{what}: {fmt(period_beat)} beats; a groove needs a length > 0")
    if period_beat > MAX_FILE_BEAT:
        raise fail(
            path,
            f"{what}: {fmt(period_beat)} beats is longer than a groove file read here "
            f"({MAX_FILE_BEAT} beats); shorten the groove in the DAW",
        )
    return Fraction(period_beat).limit_denominator(1 << 16)


def steps_in(period: Fraction, grid: str, path) -> int | None:
    """Whole number of ``grid`` steps in ``period`` (within 1e-6 beats), or None."""
    step = grid_step_beat(grid)
    n = period / step
    k = round(n)
    if k >= 1 and abs(float(n - k) * float(step)) <= SAME_POINT_BEAT:
        return int(k)
    return None


@dataclass
class Point:
    """A groove point: a position in beats from the groove's start, an optional level."""

    beat: float
    level: float | None = None


def fold_points(points, period: Fraction, path, wrap: bool) -> tuple:
    """Points inside one period, duplicates merged; ``(points, warnings)``.

    ``wrap`` folds positions outside [0, period) back in (an .rgt's bar-line
    point at ``period`` is its point 0 again); otherwise they are dropped
    with a warning (notes outside a Live clip's loop never play).
    """
    p = float(period)
    kept, warnings, dropped = [], [], 0
    for pt in points:
        beat = pt.beat
        if beat < 0 or beat >= p:
            near_end = abs(beat - p) <= SAME_POINT_BEAT or abs(beat) <= SAME_POINT_BEAT
            if not wrap and not near_end:
                dropped += 1
                continue
            beat = beat % p
            if p - beat <= SAME_POINT_BEAT:
                beat = 0.0
        kept.append(Point(beat, pt.level))
    if dropped:
        warnings.append(f"{dropped} note(s) outside the loop (0..{fmt(p)} beats) ignored")
    kept.sort(key=lambda q: q.beat)
    merged = []
    for pt in kept:
        if merged and pt.beat - merged[-1].beat <= SAME_POINT_BEAT:
            merged[-1] = _louder(merged[-1], pt)
        else:
            merged.append(pt)
    if len(merged) > 1 and merged[0].beat + p - merged[-1].beat <= SAME_POINT_BEAT:
        merged[0] = _louder(merged[0], merged.pop())
    return merged, warnings


def _louder(a: Point, b: Point) -> Point:
    levels = [v for v in (a.level, b.level) if v is not None]
    return Point(a.beat, max(levels) if levels else None)


def nearest_step(beat: float, step: Fraction) -> tuple:
    """``(k, offset)``: the step nearest ``beat`` and the offset from it in steps, exactly.

    A tie goes to the earlier step, and so does a point within
    ``TIE_RELATIVE * |beat|`` (at least SAME_POINT_BEAT) past the half
    step: a tie written as a rounded decimal (7/6 as 1.16667, or as the
    float 1.1666666666666667, 3.5000000000000004 steps) is still a tie.
    """
    q = Fraction(beat) / step
    band = Fraction(max(SAME_POINT_BEAT, TIE_RELATIVE * abs(float(beat)))) / step
    k = math.ceil(q - Fraction(1, 2) - band)
    return k, q - k


def collisions(points, period: Fraction, grid: str) -> int:
    """How many points share a step of ``grid`` with another point."""
    step = grid_step_beat(grid)
    n = int(period / step)
    seen: dict[int, int] = {}
    for pt in points:
        k = nearest_step(pt.beat, step)[0] % n
        seen[k] = seen.get(k, 0) + 1
    return sum(c - 1 for c in seen.values() if c > 1)


def choose_grid(points, period: Fraction, path) -> str:
    """The coarsest of AUTO_GRIDS that holds the period and puts every point on its own step."""
    fits = [g for g in AUTO_GRIDS if steps_in(period, g, path) is not None]
    if not fits:
        raise fail(path, f"the length {fmt(period)} beats is not a whole number of 1/32t steps")
    for grid in fits:
        if collisions(points, period, grid) == 0:
            return grid
    return fits[-1]


def points_to_template(points, period: Fraction, grid: str, path) -> tuple:
    """Template keys of points on ``grid``; ``(fields, warnings)``.

    Each point pulls its nearest step to itself; steps with no point stay;
    when two points fall on one step the nearer is kept (with a warning).
    Levels become accents relative to the loudest point; steps without one
    keep full velocity.  The period is shortened to the shortest repeat of
    the pattern, which leaves the curve the same.
    """
    step = grid_step_beat(grid)
    n = steps_in(period, grid, path)
    if n is None:
        raise fail(
            path,
            f"the length {fmt(period)} beats is not a whole number of {grid} steps "
            f"({fmt(step)} beat each); use another --grid",
        )
    period = step * n
    offsets: list = [None] * n
    levels: list = [None] * n
    owners: list = [None] * n
    warnings = []
    for pt in points:
        k, off = nearest_step(pt.beat, step)
        k %= n
        if offsets[k] is not None:
            keep_new = abs(off) < abs(offsets[k])
            kept, lost = (pt.beat, owners[k]) if keep_new else (owners[k], pt.beat)
            warnings.append(
                f"points at beats {fmt(kept)} and {fmt(lost)} fall on the same {grid} "
                f"step {k}; kept {fmt(kept)} (the nearer)"
            )
            if not keep_new:
                continue
        offsets[k], levels[k], owners[k] = off, pt.level, pt.beat
    offs = [0.0 if o is None else round(float(o), OFFSET_DECIMALS) + 0.0 for o in offsets]
    velocity = _accents(levels)
    n_short = _shortest_repeat(offs, velocity)
    if step * n_short > MAX_PERIOD_BEAT:
        raise fail(
            path,
            f"the groove ({fmt(period)} beats) does not repeat within {MAX_PERIOD_BEAT} "
            "beats, the longest a preset holds; shorten the groove in the DAW",
        )
    if n_short < n:
        offs = offs[:n_short]
        velocity = None if velocity is None else velocity[:n_short]
    fields = {
        "kind": "template",
        "period": _plain(step * n_short),
        "grid": grid,
        "interp": "linear",
        "offsets": offs,
    }
    if velocity is not None:
        fields["velocity"] = velocity
    return fields, warnings


def _accents(levels) -> list | None:
    known = [v for v in levels if v is not None]
    top = max(known, default=0.0)
    if top <= 0:
        return None
    acc = [1.0 if v is None else round(max(v, 0.0) / top, OFFSET_DECIMALS) for v in levels]
    return None if all(a == 1.0 for a in acc) else acc


def _shortest_repeat(offsets, velocity) -> int:
    n = len(offsets)
    for d in range(1, n):
        if n % d == 0 and all(
            offsets[i] == offsets[i % d] and (velocity is None or velocity[i] == velocity[i % d])
            for i in range(n)
        ):
            return d
    return n


def _plain(value: Fraction):
    f = float(value)
    return int(f) if f.is_integer() else f


def repeat_note(fields: dict, length_beat: float) -> list:
    """A header line when the pattern was written shorter than the file's length."""
    if abs(float(fields["period"]) - length_beat) <= SAME_POINT_BEAT:
        return []
    return [
        f"The pattern repeats every {fmt(fields['period'])} beats of the file's "
        f"{fmt(length_beat)}: one repeat is written (the same curve)."
    ]


def check_template(fields: dict, path) -> None:
    """The template rules that need no curve: whole steps, no fold-back, period limit."""
    offs = fields["offsets"]
    n = len(offs)
    for k in range(n):
        if offs[(k + 1) % n] - offs[k] < -1.0:
            raise fail(
                path,
                f"step {k} ({fmt(offs[k])}) to step {(k + 1) % n} ({fmt(offs[(k + 1) % n])}) "
                "would make the groove run backwards",
            )


def stem(path) -> str:
    """The file name without its extension."""
    return Path(str(path)).stem
