"""Polygon area and centroid, exact enough for slivers far from the origin.

The textbook shoelace formula sums cross products ``x_i*y_{i+1} - x_{i+1}*y_i``
of the raw coordinates; for a polygon 1e-9 across placed at (1e6, 1e6) every
term is about 1e12 while the area is 1e-18, so rounding (1e-4 per term) wipes
out every digit.  A nearly straight groove produces exactly such slivers.

Here the origin is first moved to vertex 0 with an error-free TwoSum (each
difference is kept as an unevaluated sum hi + lo), every product is expanded
into error-free TwoProducts (Dekker's split, no FMA needed) and all the terms
are summed with ``math.fsum``, which rounds the exact sum once.  So

* ``signed_area`` is the exact area of the given float vertices, correctly
  rounded;
* ``centroid`` is exact up to two roundings of its numerators plus the final
  division and the addition of vertex 0 back (a few ulps).

Both hold while no intermediate product overflows or underflows: coordinates
and their differences 0 or between about 1e-70 and 1e70 in magnitude.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .curve import Groove
from .errors import GrooveError

# 2**27 + 1: splits a double into two halves of at most 26 significant bits,
# whose pairwise products are exact (Dekker 1971).
_SPLITTER = 134217729.0
_BISECTIONS = 64


# -- error-free transformations (vectorised) ---------------------------------
def _two_sum(a, b):
    """s, e with s = fl(a + b) and a + b = s + e exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """p, e with p = fl(a * b) and a * b = p + e exactly (Dekker)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _exact_sum(*terms) -> float:
    return math.fsum(np.concatenate([np.ravel(t) for t in terms]).tolist())


# -- validation --------------------------------------------------------------
def _vertices(x, y):
    try:
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise GrooveError("polygon: x and y must be sequences of numbers") from None
    if xa.ndim != 1 or ya.ndim != 1 or xa.size != ya.size:
        raise GrooveError(
            f"polygon: x and y must be 1-D of equal length, got shapes {xa.shape} and {ya.shape}"
        )
    bad = np.flatnonzero(~(np.isfinite(xa) & np.isfinite(ya)))
    if bad.size:
        i = int(bad[0])
        raise GrooveError(
            f"polygon: vertex {i} is ({xa[i]!r}, {ya[i]!r}); coordinates must be finite"
        )
    return xa, ya


def _shifted(xa, ya):
    """Vertices relative to vertex 0, each coordinate as exact (hi, lo) columns."""
    xh, xl = _two_sum(xa, -xa[0])
    yh, yl = _two_sum(ya, -ya[0])
    return np.stack([xh, xl], axis=1), np.stack([yh, yl], axis=1)


def _cross_factors(X, Y):
    """Factor pairs (u, v) and signs whose sum of s*u*v is each edge's cross product.

    Edge i runs from vertex i to j = i + 1; its cross product
    X_i Y_j - X_j Y_i expands over the hi/lo parts into 8 signed products.
    """
    Xj, Yj = np.roll(X, -1, axis=0), np.roll(Y, -1, axis=0)
    u = np.concatenate([np.repeat(X, 2, axis=1), np.repeat(Xj, 2, axis=1)], axis=1)
    v = np.concatenate([np.tile(Yj, 2), np.tile(Y, 2)], axis=1)
    sign = np.array([1.0] * 4 + [-1.0] * 4)
    return u, v, sign


def _twice_area(X, Y) -> float:
    u, v, sign = _cross_factors(X, Y)
    p, e = _two_prod(u, v)
    return _exact_sum(sign * p, sign * e)


def _moment(X, Y, axis_parts) -> float:
    """Exact sum over edges of (a_i + a_j) * cross_i, rounded once.

    ``axis_parts`` is X or Y: the coordinate whose first moment is wanted.
    """
    u, v, sign = _cross_factors(X, Y)
    w = np.concatenate([axis_parts, np.roll(axis_parts, -1, axis=0)], axis=1)
    p, e = _two_prod(u, v)  # (n, 8) each
    terms = []
    for part in (p, e):
        hi, lo = _two_prod(w[:, :, None], (sign * part)[:, None, :])  # (n, 4, 8)
        terms += [hi, lo]
    return _exact_sum(*terms)


# -- public API --------------------------------------------------------------
def signed_area(x, y) -> float:
    """Signed area of the polygon with vertices (x[i], y[i]), closed implicitly.

    Positive for counter-clockwise vertices, negative for clockwise; a
    self-intersecting polygon gives the signed sum of its loops.

    Parameters
    ----------
    x, y : array_like of float, shape (n,)
        Vertex coordinates in order.

    Returns
    -------
    float
        The exact area of the float vertices, correctly rounded (see the
        module docstring for the range).  0.0 for fewer than 3 vertices.
    """
    xa, ya = _vertices(x, y)
    if xa.size < 3:
        return 0.0
    X, Y = _shifted(xa, ya)
    return 0.5 * _twice_area(X, Y)


def centroid(x, y) -> tuple[float, float]:
    """Centroid (cx, cy) of the polygon's area, accurate to a few ulps.

    Raises
    ------
    GrooveError
        When the signed area is 0 (collinear or repeated vertices, fewer than
        3 vertices, loops that cancel): the centroid is then undefined.
    """
    xa, ya = _vertices(x, y)
    if xa.size < 3:
        raise GrooveError(
            f"polygon: {xa.size} vertices enclose no area, so the centroid is "
            "undefined; give at least 3 vertices that are not collinear"
        )
    X, Y = _shifted(xa, ya)
    a2 = _twice_area(X, Y)
    if a2 == 0.0:
        raise GrooveError(
            f"polygon: the {xa.size} vertices enclose zero signed area "
            f"(near ({xa[0]:.6g}, {ya[0]:.6g})), so the centroid is undefined; "
            "check for collinear or repeated vertices"
        )
    # x0 + Mx / (3 * 2A): the offset from vertex 0 is small, so its few
    # roundings stay few ulps of the offset, not of x0.
    return (
        float(xa[0] + _moment(X, Y, X) / (3.0 * a2)),
        float(ya[0] + _moment(X, Y, Y) / (3.0 * a2)),
    )


class DisplacementRegion(NamedTuple):
    """The region between a groove's T and the straight line over one period.

    Attributes
    ----------
    abs_area_beat2 : float
        Total area of all lobes, beats x beats (0 for a straight groove).
    signed_area_beat2 : float
        Integral of D = T - t over the period: late lobes count positive,
        early ones negative.
    centroid_beat : tuple of float or None
        (t, T) centroid of the absolute displacement: t says where in the
        bar the feel pushes (late) or pulls (early).  None when there is no
        displacement.
    lobes : tuple of ndarray
        One (m, 2) array of (t_beat, T_beat) vertices per lobe, in time order,
        closed implicitly along the straight line.
    lobe_area_beat2 : ndarray
        Integral of D over each lobe (> 0 late, < 0 early).
    """

    abs_area_beat2: float
    signed_area_beat2: float
    centroid_beat: tuple | None
    lobes: tuple
    lobe_area_beat2: np.ndarray


def displacement_region(groove, n: int = 1024) -> DisplacementRegion:
    """Lobes between T and the line T = t over one period, with areas and centroid.

    The period [0, period_beat] is sampled at about ``n`` points laid on
    every segment knot, so linear templates are represented exactly and pchip
    ones by chords, to O((period / n)**2) (about 2e-5 relative at n = 1024,
    1.4e-6 at 4096, for a 4-beat 1/8 template).  Zero crossings of D are
    found by bisection and split the curve into lobes; a lobe cut by the
    period's ends is closed by a vertical edge there.

    Areas and centroids are computed in the sheared frame (t, D): the shear
    (t, y) -> (t, y - t) has determinant 1, so areas and t-centroids are the
    same, and D keeps digits that T = t + D loses to rounding (a 1e-12 beat
    deviation near beat 2 is only ~2000 ulps of T).

    Parameters
    ----------
    groove : groove.Groove
    n : int
        Approximate number of samples per period (>= 2).
    """
    if not isinstance(groove, Groove):
        raise GrooveError(f"groove: expected a groove.Groove, got {type(groove).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise GrooveError(f"n: {n!r} is not a whole number >= 2 of samples per period")
    period = groove.period_beat
    n_seg = groove.tables().coef.shape[0]
    per_seg = max(1, -(-int(n) // n_seg))
    t = period * (np.arange(n_seg * per_seg + 1) / (n_seg * per_seg))
    d = groove.deviation(t)
    t, d = _with_crossings(groove, t, d)
    lobes_td = _split_lobes(t, d)
    areas = np.array([-signed_area(lt, ld) for lt, ld in lobes_td])
    weights = np.abs(areas)
    total = math.fsum(weights.tolist())
    signed = math.fsum(areas.tolist())
    lobes = tuple(np.stack([lt, lt + ld], axis=1) for lt, ld in lobes_td)
    if total == 0.0:
        return DisplacementRegion(0.0, signed, None, lobes, areas)
    cents = [centroid(lt, ld) if w > 0 else (0.0, 0.0) for (lt, ld), w in zip(lobes_td, weights)]
    ct = math.fsum([w * c[0] for w, c in zip(weights, cents)]) / total
    cd = math.fsum([w * c[1] for w, c in zip(weights, cents)]) / total
    return DisplacementRegion(total, signed, (ct, ct + cd), lobes, areas)


def _with_crossings(groove, t, d):
    """Insert the zeros of D between samples of opposite sign."""
    sign = np.sign(d)  # not d[:-1] * d[1:]: that product underflows for tiny D
    idx = np.flatnonzero(sign[:-1] * sign[1:] < 0.0)
    if idx.size == 0:
        return t, d
    lo, hi = t[idx].copy(), t[idx + 1].copy()
    lo_neg = d[idx] < 0.0
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        neg = groove.deviation(mid) < 0.0
        move_lo = neg == lo_neg
        lo = np.where(move_lo, mid, lo)
        hi = np.where(move_lo, hi, mid)
    roots = 0.5 * (lo + hi)
    return np.insert(t, idx + 1, roots), np.insert(d, idx + 1, 0.0)


def _split_lobes(t, d):
    """Maximal runs of one sign of D, each with its bounding points on the line."""
    sign = np.sign(d)
    lobes = []
    i, n = 0, t.size
    while i < n:
        if sign[i] == 0.0:
            i += 1
            continue
        j = i
        while j + 1 < n and sign[j + 1] == sign[i]:
            j += 1
        lt = [t[i - 1]] if i > 0 else [t[i]]  # line point before the lobe
        ld = [0.0]
        lt += t[i : j + 1].tolist()
        ld += d[i : j + 1].tolist()
        lt.append(t[j + 1] if j + 1 < n else t[j])
        ld.append(0.0)
        lobes.append((np.array(lt), np.array(ld)))
        i = j + 1
    return lobes
