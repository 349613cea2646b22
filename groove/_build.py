"""Build the piecewise-cubic tables of a groove (numpy, run once per groove).

Every curve is brought to one periodic piecewise cubic of the deviation on a
uniform grid (see ``groove._kernels``): a template directly, a blend by
re-expanding each part on the common grid (the gcd of the parts' steps over
the lcm of their periods) and summing, a timing amount by scaling.  So a blend
costs the same per evaluation as a single template.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

#: Upper bound on segments per period (a 64-beat blend on a 1/96-beat grid).
MAX_SEGMENTS = 1 << 16


def linear_coef(dev_beat: np.ndarray, step: float) -> np.ndarray:
    """Cubic coefficients of D for straight lines between the knots."""
    nxt = np.roll(dev_beat, -1)
    coef = np.zeros((dev_beat.size, 4))
    coef[:, 0] = dev_beat
    coef[:, 1] = (nxt - dev_beat) / step
    return coef


def pchip_slopes(secant: np.ndarray, step: float) -> np.ndarray:
    """Fritsch-Carlson knot slopes of T, periodic, in scipy's arithmetic.

    ``secant[k]`` is T's slope between knots k and k+1.  At knot k the slope
    is the weighted harmonic mean of the secants on either side, or 0 where
    they differ in sign or either is 0 (scipy.interpolate.PchipInterpolator's
    interior rule; periodic neighbours replace its one-sided end rule so the
    curve is C1 across the period boundary).
    """
    before = np.roll(secant, 1)
    w1 = 2.0 * step + step
    w2 = step + 2.0 * step
    flat = (np.sign(before) != np.sign(secant)) | (secant == 0.0) | (before == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        whmean = (w1 / before + w2 / secant) / (w1 + w2)
        slopes = 1.0 / whmean
    slopes[flat] = 0.0
    return slopes


def pchip_coef(dev_beat: np.ndarray, step: float) -> np.ndarray:
    """Cubic coefficients of D for a monotone cubic Hermite T through the knots."""
    nxt = np.roll(dev_beat, -1)
    secant = 1.0 + (nxt - dev_beat) / step
    d0 = pchip_slopes(secant, step)
    d1 = np.roll(d0, -1)
    coef = np.empty((dev_beat.size, 4))
    coef[:, 0] = dev_beat
    coef[:, 1] = d0 - 1.0
    coef[:, 2] = (3.0 * secant - 2.0 * d0 - d1) / step
    coef[:, 3] = (d0 + d1 - 2.0 * secant) / step**2
    return coef


def shift_to(coef: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Re-expand each row's cubic c(v) as a cubic in u where v = u + offset."""
    c0, c1, c2, c3 = coef.T
    o = offset
    return np.stack(
        [
            c0 + o * (c1 + o * (c2 + o * c3)),
            c1 + o * (2.0 * c2 + 3.0 * o * c3),
            c2 + 3.0 * o * c3,
            c3,
        ],
        axis=1,
    )


def resample(coef: np.ndarray, step: Fraction, fine: Fraction, period: Fraction) -> np.ndarray:
    """A part's cubic table re-expressed on the finer grid ``fine`` over ``period``."""
    ratio = step / fine  # whole number by construction (fine = gcd of steps)
    assert ratio.denominator == 1
    ratio = ratio.numerator
    n_fine = int(period / fine)
    j = np.arange(n_fine) % (coef.shape[0] * ratio)
    seg = j // ratio
    offset = (j % ratio) * float(fine)
    return shift_to(coef[seg], offset)


def slope_range(coef: np.ndarray, step: float):
    """Minimum of D' on each segment and where it is reached (local u)."""
    c1, c2, c3 = coef[:, 1], coef[:, 2], coef[:, 3]
    cands = [np.zeros_like(c1), np.full_like(c1, step)]
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = np.where(c3 != 0.0, -c2 / (3.0 * c3), 0.0)
    cands.append(np.clip(vertex, 0.0, step))
    u = np.stack(cands, axis=1)
    vals = c1[:, None] + u * (2.0 * c2[:, None] + 3.0 * u * c3[:, None])
    idx = np.argmin(vals, axis=1)
    rows = np.arange(coef.shape[0])
    return vals[rows, idx], u[rows, idx]


def deviation_range(coef: np.ndarray, step: float):
    """Smallest and largest value of D over the period (knots and extrema)."""
    c0, c1, c2, c3 = coef.T
    us = [np.zeros_like(c0), np.full_like(c0, step)]
    a, b, c = 3.0 * c3, 2.0 * c2, c1
    with np.errstate(divide="ignore", invalid="ignore"):
        disc = np.sqrt(np.maximum(b * b - 4.0 * a * c, 0.0))
        for sign in (-1.0, 1.0):
            root = np.where(
                a != 0.0, (-b + sign * disc) / (2.0 * a), np.where(b != 0.0, -c / b, 0.0)
            )
            us.append(np.clip(np.nan_to_num(root), 0.0, step))
    u = np.stack(us, axis=1)
    vals = c0[:, None] + u * (c1[:, None] + u * (c2[:, None] + u * c3[:, None]))
    return float(vals.min()), float(vals.max())


def tables(coef: np.ndarray, step: float, period: float):
    """The inverse's tables: T at segment starts and the bucket index."""
    n = coef.shape[0]
    ytab = np.empty(n + 1)
    ytab[:n] = np.arange(n) * step + coef[:, 0]
    ytab[n] = period + coef[0, 0]
    n_buckets = max(64, 4 * n)
    lower = ytab[0] + np.arange(n_buckets) * (period / n_buckets)
    bucket = np.searchsorted(ytab[1:], lower, side="left").astype(np.int64)
    np.clip(bucket, 0, n - 1, out=bucket)
    return ytab, bucket


def guess_table(period: float, ytab: np.ndarray, inverse_at, slope_at, cells: int) -> np.ndarray:
    """Cubic Hermite coefficients of the inverse on a uniform grid of grooved time.

    Cell j covers [ytab[0] + j*w, ytab[0] + (j+1)*w) with w = period / cells;
    there x ~ e0 + e1 v + e2 v^2 + e3 v^3, v measured from the cell start.
    Exact inverse values at the cell edges, slopes 1/T' there, replaced by the
    cell's secant where T' is near 0 or the slope jumps (kinks, flat
    stretches): the table only needs to be a good first guess, the kernel
    verifies every answer.
    """
    w = period / cells
    y = ytab[0] + np.arange(cells + 1) * w
    x = inverse_at(y)
    secant = np.diff(x) / w
    with np.errstate(divide="ignore"):
        s = 1.0 / slope_at(x)
    s0, s1 = s[:-1].copy(), s[1:].copy()
    wild0 = ~np.isfinite(s0) | (s0 > 4.0 * secant) | (s0 < 0.25 * secant)
    wild1 = ~np.isfinite(s1) | (s1 > 4.0 * secant) | (s1 < 0.25 * secant)
    s0[wild0] = secant[wild0]
    s1[wild1] = secant[wild1]
    coef = np.empty((cells, 4))
    coef[:, 0] = x[:-1]
    coef[:, 1] = s0
    coef[:, 2] = (3.0 * secant - 2.0 * s0 - s1) / w
    coef[:, 3] = (s0 + s1 - 2.0 * secant) / w**2
    return coef
