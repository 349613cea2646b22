"""Slow, obviously-correct reference grooves for the tests of ``groove``.

The references share no code with the package: a reference template keeps its
knots as plain arrays and, for every position, reduces it modulo the period,
finds the knot interval and interpolates (a straight line, or scipy's
PchipInterpolator over three periods of knots so that every knot of the middle
period gets scipy's interior slope rule with its periodic neighbours).  A blend
is the weighted sum of its parts, a timing amount scales the deviation, and
the inverse is plain bisection on the reference forward map.

The second half describes the curves the tests run on (specs that build a
groove and its reference from the same plain data, and hypothesis strategies
for them), including adversarial ones: flat stretches, knot targets 9.3e-10
beat apart, slope ratios up to 1e9 between neighbouring steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import hypothesis.strategies as st
import numpy as np
from scipy.interpolate import PchipInterpolator

import groove

#: Grid step of each grid the tests use, in beats (written out, not parsed).
GRID_STEP_BEAT = {
    "1/8": Fraction(1, 2),
    "1/16": Fraction(1, 4),
    "1/32": Fraction(1, 8),
    "1/8t": Fraction(1, 3),
    "1/16t": Fraction(1, 6),
}
GRIDS = tuple(GRID_STEP_BEAT)
DYADIC_GRIDS = ("1/8", "1/16", "1/32")
PERIODS_BEAT = (1, 2, 4, 8)
INTERPS = ("linear", "pchip")


def n_steps(grid: str, period_beat) -> int:
    """Knots per period (the period must be a whole number of steps)."""
    n = Fraction(period_beat) / GRID_STEP_BEAT[grid]
    assert n.denominator == 1, (grid, period_beat)
    return n.numerator


class RefTemplate:
    """T through the knots (k*step, k*step + offsets[k]*step), periodic."""

    def __init__(self, offsets, grid: str, period_beat, interp: str = "linear"):
        self.offsets = np.asarray(offsets, dtype=np.float64)
        self.step_beat = float(GRID_STEP_BEAT[grid])
        self.period_beat = float(Fraction(period_beat))
        self.n = n_steps(grid, period_beat)
        assert self.offsets.size == self.n
        self.interp = interp
        # Knots of three consecutive periods, k = -n .. 2n.
        k = np.arange(-self.n, 2 * self.n + 1)
        self.knot_x = k * self.step_beat
        self.knot_y = self.knot_x + self.offsets[k % self.n] * self.step_beat
        if interp == "pchip":
            self._pchip = PchipInterpolator(self.knot_x, self.knot_y)
        else:
            assert interp == "linear", interp

    def _middle_period(self, xr):
        """T on [0, period] from the knots."""
        if self.interp == "pchip":
            return self._pchip(xr)
        # Knot interval k of each position, then a straight line; written as
        # y_k + f * (y_{k+1} - y_k) so that a flat interval gives y_k exactly.
        k = np.clip(np.floor(xr / self.step_beat).astype(np.int64), 0, self.n - 1)
        i = k + self.n  # index into the three-period knot arrays
        f = (xr - self.knot_x[i]) / self.step_beat
        return self.knot_y[i] + f * (self.knot_y[i + 1] - self.knot_y[i])

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        m = np.floor(x / self.period_beat)
        xr = x - m * self.period_beat
        return m * self.period_beat + self._middle_period(xr)

    def deviation_bounds(self):
        """Safe bounds on D: T stays between neighbouring knot targets."""
        h = self.step_beat
        return float(self.offsets.min() * h - h), float(self.offsets.max() * h + h)


def ref_swing(amount, grid: str) -> RefTemplate:
    """Swing: the off-beat of each pair of steps moves by (amount-50)/50 steps."""
    return RefTemplate([0.0, (amount - 50.0) / 50.0], grid, 2 * GRID_STEP_BEAT[grid], "linear")


class RefBlend:
    """T = sum_i w_i T_i with weights normalised (so D = sum_i w_i D_i)."""

    def __init__(self, parts):
        total = sum(w for _, w in parts)
        self.parts = [(ref, w / total) for ref, w in parts]

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        # Summing the parts' T (not x + sum of D) keeps a stretch that is
        # flat in every part exactly flat in the reference too.
        return sum(w * ref.forward(x) for ref, w in self.parts)

    def deviation_bounds(self):
        lo = sum(w * ref.deviation_bounds()[0] for ref, w in self.parts)
        hi = sum(w * ref.deviation_bounds()[1] for ref, w in self.parts)
        return lo, hi


class RefScaled:
    """T_a = t + a * D."""

    def __init__(self, ref, amount: float):
        self.ref = ref
        self.amount = float(amount)

    def forward(self, x):
        x = np.asarray(x, dtype=np.float64)
        return x + self.amount * (self.ref.forward(x) - x)

    def deviation_bounds(self):
        lo, hi = self.ref.deviation_bounds()
        return self.amount * lo, self.amount * hi


def ref_inverse(ref, y, max_iterations: int = 200):
    """Smallest x with T(x) >= y, by bisection on the reference forward map.

    The bracket [y - maxD - 1, y - minD + 1] keeps T(lo) < y <= T(hi); the
    loop halves it until no midpoint lies strictly inside any more.
    """
    y = np.asarray(y, dtype=np.float64)
    d_lo, d_hi = ref.deviation_bounds()
    lo = y - d_hi - 1.0
    hi = y - d_lo + 1.0
    assert (ref.forward(lo) < y).all() and (ref.forward(hi) >= y).all()
    for _ in range(max_iterations):
        mid = lo + 0.5 * (hi - lo)
        inside = (mid > lo) & (mid < hi)
        if not inside.any():
            break
        up = ref.forward(mid) >= y
        hi = np.where(inside & up, mid, hi)
        lo = np.where(inside & ~up, mid, lo)
    return hi


def ref_accent(velocity, grid: str, x):
    """Velocity of the nearest grid step (positions are never exact ties here)."""
    v = np.asarray(velocity, dtype=np.float64)
    k = np.floor(np.asarray(x) / float(GRID_STEP_BEAT[grid]) + 0.5).astype(np.int64)
    return v[k % v.size]


# -- curves to test on ----------------------------------------------------

_QUANTUM = 2.0**-30  # offsets on this grid make every rise exact in float64


def offsets_from_slopes(slopes, first_offset: float = 0.0):
    """Offsets whose segments have the given slopes of T (mean must be 1).

    Slopes are rounded to multiples of 2**-30 and the largest one absorbs the
    rounding, so the period closes exactly and a slope of 0 is a rise of
    exactly -1 (a flat stretch), a slope of 2**-30 one of -1 + 9.3e-10.
    """
    s = np.round(np.asarray(slopes, dtype=np.float64) / _QUANTUM) * _QUANTUM
    big = int(np.argmax(s))
    s[big] = 0.0
    s[big] = s.size - s.sum()
    assert s[big] > 0.0 and s.sum() == s.size
    first = round(first_offset / _QUANTUM) * _QUANTUM
    offs = first + np.concatenate([[0.0], np.cumsum(s[:-1] - 1.0)])
    rises = np.roll(offs, -1) - offs
    assert (rises >= -1.0).all()
    return offs


def adversarial_slopes(log_slopes, kinds):
    """Slopes of T per segment from log10 values and a kind per segment.

    ``kinds[k]`` is ``"free"`` (slope 10**log_slopes[k], then all free slopes
    are scaled together so the period closes with mean slope 1, keeping their
    ratios), ``"flat"`` (slope exactly 0) or ``"tiny"`` (slope 2**-30, about
    9.3e-10: neighbouring knot targets closer than 1e-9 beat).
    """
    logs = np.asarray(log_slopes, dtype=np.float64)
    kinds = np.asarray(kinds)
    free = kinds == "free"
    assert free.any(), "at least one segment must carry the rise"
    s = np.where(kinds == "tiny", _QUANTUM, 0.0)
    s[free] = 10.0 ** logs[free]
    s[free] *= (s.size - s[~free].sum()) / s[free].sum()
    return s


def flat_runs(offsets):
    """(first segment, segment count) of each maximal run of flat segments.

    A run wrapping past the period's end is reported from its first segment.
    """
    flat = (np.roll(offsets, -1) - offsets) == -1.0
    n = flat.size
    if flat.all():
        raise ValueError("a groove cannot be flat everywhere")
    runs = []
    for k in range(n):
        if flat[k] and not flat[k - 1]:
            length = 1
            while flat[(k + length) % n]:
                length += 1
            runs.append((k, length))
    return runs


# -- specifications: a groove and its reference from the same plain data ---


@dataclass(frozen=True)
class TemplateSpec:
    offsets: tuple
    grid: str
    period_beat: float
    interp: str

    def build(self):
        g = groove.template(
            list(self.offsets), grid=self.grid, period=self.period_beat, interp=self.interp
        )
        return g, RefTemplate(self.offsets, self.grid, self.period_beat, self.interp)


@dataclass(frozen=True)
class SwingSpec:
    amount: float
    grid: str

    def build(self):
        return groove.swing(self.amount, self.grid), ref_swing(self.amount, self.grid)


@dataclass(frozen=True)
class BlendSpec:
    parts: tuple  # ((spec, weight), ...)

    def build(self):
        built = [(spec.build(), w) for spec, w in self.parts]
        g = groove.blend([(g, w) for (g, _), w in built])
        return g, RefBlend([(ref, w) for (_, ref), w in built])


# -- hypothesis strategies ----------------------------------------------


@st.composite
def template_specs(draw, grids=GRIDS, periods=PERIODS_BEAT, spread=0.45):
    """Random templates: offsets within +-spread steps (T' >= 1 - 2*spread)."""
    grid = draw(st.sampled_from(grids))
    period = draw(st.sampled_from(periods))
    n = n_steps(grid, period)
    offsets = draw(st.lists(st.floats(-spread, spread), min_size=n, max_size=n))
    return TemplateSpec(tuple(offsets), grid, period, draw(st.sampled_from(INTERPS)))


@st.composite
def adversarial_specs(draw, grids=GRIDS, periods=PERIODS_BEAT, kinds=None):
    """Templates with flat stretches, ~1e-9 rises and slope ratios up to 1e9."""
    grid = draw(st.sampled_from(grids))
    period = draw(st.sampled_from(periods))
    n = n_steps(grid, period)
    choice = st.sampled_from(kinds or ("free", "free", "flat", "tiny"))
    segment_kinds = draw(st.lists(choice, min_size=n, max_size=n))
    if "free" not in segment_kinds:
        segment_kinds[draw(st.integers(0, n - 1))] = "free"
    logs = draw(st.lists(st.floats(-5.0, 4.0), min_size=n, max_size=n))
    first = draw(st.floats(-0.5, 0.5))
    offsets = offsets_from_slopes(adversarial_slopes(logs, segment_kinds), first)
    interp = draw(st.sampled_from(INTERPS))
    return TemplateSpec(tuple(offsets.tolist()), grid, period, interp)


def swing_specs(grids=GRIDS):
    return st.builds(SwingSpec, st.floats(1.0, 99.0), st.sampled_from(grids))


#: Weight pairs whose normalised values are binary fractions (exact sums).
DYADIC_WEIGHTS = ((1.0, 1.0), (1.0, 3.0), (3.0, 1.0), (2.0, 2.0))


@st.composite
def blend_specs(draw, part_specs, min_parts=2, max_parts=3, weights=None):
    """Blends of parts drawn from ``part_specs``.

    Weights are 0.1 .. 5 each, or one tuple drawn from ``weights`` (then the
    tuple's length is the number of parts).
    """
    if weights is None:
        count = draw(st.integers(min_parts, max_parts))
        ws = [draw(st.floats(0.1, 5.0)) for _ in range(count)]
    else:
        ws = draw(st.sampled_from(weights))
    return BlendSpec(tuple((draw(part_specs), w) for w in ws))
