"""numba kernels for grooves: forward map, slope and safeguarded Newton inverse.

Private: callers go through ``groove.Groove``, which validates arguments and
holds the tables.  Every groove, blend or scaled groove is compiled by
``groove.curve`` to one periodic piecewise cubic of the deviation
D(t) = T(t) - t on a uniform grid: segment k covers [k*h, (k+1)*h) and there
D = c0 + c1*u + c2*u**2 + c3*u**3 with u = t - k*h.  The tables are

  coef   (n, 4) float64   c0..c3 of D per segment
  ytab   (n + 1,) float64 T at the segment starts, ytab[n] = period + ytab[0]
  bucket (nb,) int64      first segment whose end reaches each bucket of
                          grooved time, so the inverse starts its scan there

and a scalar header (period_beat, step_beat).  All kernels are total: they
never raise, and non-finite input gives NaN (the public API rejects it first).
"""
import math

import numpy as np

from ._numba import kernel

#: Most function evaluations one inversion may take (bisection alone needs
#: about 52 to reach one ulp, so Newton plus fallback stays well below).
MAX_EVALS = 60


@kernel
def segment_of(x, period, step, n):
    """Whole periods m, segment k and local coordinate u of position x."""
    m = math.floor(x / period)
    xr = x - m * period
    k = int(xr / step)
    if k >= n:  # xr rounded up to the period
        k = n - 1
    elif k < 0:
        k = 0
    return m, k, xr - k * step


@kernel
def deviation_one(x, period, step, coef):
    """D(x) for one position."""
    n = coef.shape[0]
    _m, k, u = segment_of(x, period, step, n)
    return coef[k, 0] + u * (coef[k, 1] + u * (coef[k, 2] + u * coef[k, 3]))


@kernel
def forward_one(x, period, step, coef):
    """T(x) = x + D(x) for one position."""
    return x + deviation_one(x, period, step, coef)


@kernel
def slope_one(x, period, step, coef):
    """T'(x) for one position (right derivative at segment starts)."""
    n = coef.shape[0]
    _m, k, u = segment_of(x, period, step, n)
    return 1.0 + coef[k, 1] + u * (2.0 * coef[k, 2] + 3.0 * u * coef[k, 3])


@kernel
def solve_segment(r, width, c1, c2, c3, step, out_evals):
    """Smallest u in [0, step] with u + c1 u + c2 u^2 + c3 u^3 >= r.

    Newton on g(u) = (1 + c1) u + c2 u^2 + c3 u^3 - r inside the bracket
    [lo, hi], falling back to bisection when a Newton step leaves the bracket
    or shrinks less than half as fast as the step before last (Numerical
    Recipes' rtsafe rule: plain bracketed Newton can cycle between two points
    beside a kink).  ``width`` = g(step) + r, the segment's rise in T, gives
    the secant start, which is exact on linear segments.
    """
    if r <= 0.0:
        return 0.0
    if r >= width:
        return step
    lo = 0.0
    hi = step
    u = step * (r / width)
    dx_old = step
    dx = step
    a1 = 1.0 + c1
    for evals in range(1, MAX_EVALS + 1):
        g = ((c3 * u + c2) * u + a1) * u - r
        out_evals[0] = evals
        # |g| at the level of its own rounding error: u is as exact as float64 gets.
        noise = 4.5e-16 * (r + abs(u * (abs(a1) + abs(u * (abs(c2) + abs(u * c3))))))
        if abs(g) <= noise:
            return u
        if g < 0.0:
            lo = u
        else:
            hi = u
        dg = (3.0 * c3 * u + 2.0 * c2) * u + a1
        newton_ok = dg > 0.0
        if newton_ok:
            dx_new = g / dg
            u_new = u - dx_new
            newton_ok = lo < u_new < hi and abs(2.0 * dx_new) <= abs(dx_old)
        dx_old = dx
        if newton_ok:
            dx = dx_new
            u = u_new
        else:
            dx = 0.5 * (hi - lo)
            u = lo + dx
        if abs(dx) <= 2.5e-16 * (step + abs(u)) or hi - lo <= 4.5e-16 * step:
            return u
    return u


@kernel
def inverse_one(y, period, step, coef, ytab, bucket, out_evals):
    """Smallest x with T(x) >= y for one grooved position y."""
    n = coef.shape[0]
    y0 = ytab[0]
    # Reduce y into (y0, y0 + period]: half open on the left so that a flat
    # stretch ending at the period boundary resolves to its left end.
    m = math.ceil((y - y0) / period) - 1.0
    yr = y - m * period
    nb = bucket.shape[0]
    b = int((yr - y0) / period * nb)
    if b >= nb:
        b = nb - 1
    elif b < 0:
        b = 0
    k = bucket[b]
    while k < n - 1 and ytab[k + 1] < yr:
        k += 1
    while k > 0 and ytab[k] >= yr:
        k -= 1
    u = solve_segment(
        yr - ytab[k], ytab[k + 1] - ytab[k], coef[k, 1], coef[k, 2], coef[k, 3],
        step, out_evals,
    )
    d = coef[k, 0] + u * (coef[k, 1] + u * (coef[k, 2] + u * coef[k, 3]))
    # x = y - D(x) keeps the full precision of y (D is small) and makes the
    # identity groove return y exactly.
    return y - d


@kernel
def forward_many(x, period, step, coef, out):
    for i in range(x.shape[0]):
        out[i] = forward_one(x[i], period, step, coef)


@kernel
def deviation_many(x, period, step, coef, out):
    for i in range(x.shape[0]):
        out[i] = deviation_one(x[i], period, step, coef)


@kernel
def slope_many(x, period, step, coef, out):
    for i in range(x.shape[0]):
        out[i] = slope_one(x[i], period, step, coef)


@kernel
def inverse_many(y, period, step, coef, ytab, bucket, out, evals):
    """Invert every y; evals[i] receives the evaluations inversion i took."""
    counter = np.zeros(1, np.int64)
    for i in range(y.shape[0]):
        counter[0] = 0
        out[i] = inverse_one(y[i], period, step, coef, ytab, bucket, counter)
        evals[i] = counter[0]
