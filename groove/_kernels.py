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
    for evals in range(1, MAX_EVALS):  # one evaluation is left for the fast path's try
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
def _reduce_grooved(y, period, ytab):
    """Whole periods m and y reduced into (ytab[0], ytab[0] + period]."""
    # Half open on the left so that a flat stretch ending at the period
    # boundary resolves to its left end.
    m = math.ceil((y - ytab[0]) / period) - 1.0
    return m, y - m * period


@kernel
def inverse_safe(y, period, step, coef, ytab, bucket, out_evals):
    """Smallest x with T(x) >= y: the segment from the bucket table, then
    bracketed Newton inside it.  Always converges; the fallback of
    ``inverse_one`` and the builder of its guess table."""
    n = coef.shape[0]
    m, yr = _reduce_grooved(y, period, ytab)
    nb = bucket.shape[0]
    b = int((yr - ytab[0]) / period * nb)
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
        yr - ytab[k],
        ytab[k + 1] - ytab[k],
        coef[k, 1],
        coef[k, 2],
        coef[k, 3],
        step,
        out_evals,
    )
    d = coef[k, 0] + u * (coef[k, 1] + u * (coef[k, 2] + u * coef[k, 3]))
    # x = y - D(x) keeps the full precision of y (D is small) and makes the
    # identity groove return y exactly.
    return y - d


@kernel
def inverse_fast(y, period, step, coef, ytab, guess):
    """The fast path of ``inverse_one``, NaN where it cannot prove its answer.

    A cubic Hermite table of the inverse on a uniform grid of
    grooved time (``guess``, built by ``groove._build.guess_table``) gives x0,
    one Halley step on T refines it (cubic convergence), and the step is
    accepted when the error bound |dx|^3 (K^2/T'^2 + 6|c3|/T') proves it
    exact to about an ulp and it stays in x0's segment.  Anything else (a
    kink or a flat stretch inside the table cell, T' near 0) goes to the
    bracketed ``inverse_safe``.  Written with one division: this is the
    scheduler's innermost operation.
    """
    n = coef.shape[0]
    cells = guess.shape[0]
    inv_period = 1.0 / period  # loop-invariant: hoisted when inlined
    y0 = ytab[0]
    m = math.ceil((y - y0) * inv_period) - 1.0
    yr = y - m * period
    v = yr - y0
    j = int(v * (cells * inv_period))
    if j >= cells:
        j = cells - 1
    elif j < 0:
        j = 0
    v -= j * (period / cells)
    x0 = guess[j, 0] + v * (guess[j, 1] + v * (guess[j, 2] + v * guess[j, 3]))
    k = int(x0 * (1.0 / step))
    if 0 <= k < n and x0 >= 0.0:
        u = x0 - k * step
        c1 = coef[k, 1]
        c2 = coef[k, 2]
        c3 = coef[k, 3]
        g = x0 + coef[k, 0] + u * (c1 + u * (c2 + u * c3)) - yr
        dg = 1.0 + c1 + u * (2.0 * c2 + 3.0 * u * c3)
        d2g = 2.0 * c2 + 6.0 * c3 * u
        # Halley: dx = g / (g' - g g'' / (2 g'))
        denom = dg * dg - 0.5 * g * d2g
        if dg > 1e-6 and denom > 0.0:
            dx = g * dg / denom
            u1 = u - dx
            curv = abs(2.0 * c2) + 6.0 * abs(c3) * step
            adx = abs(dx)
            # ytab[k] < yr: nothing before this segment reaches y yet (after a
            # flat stretch the root at u1 = 0 would be its right end, not left)
            if (
                0.0 <= u1 <= step
                and ytab[k] < yr
                and adx * adx * adx * (curv * curv + 6.0 * abs(c3) * dg) <= 4e-16 * step * dg * dg
            ):
                return m * period + (k * step + u1)
    return np.nan


@kernel
def inverse_one(y, period, step, coef, ytab, bucket, guess, out_evals):
    """Smallest x with T(x) >= y for one grooved position y.

    ``inverse_fast`` first; where it declines, the bracketed ``inverse_safe``.
    ``out_evals[0]`` receives the curve evaluations taken.
    """
    x = inverse_fast(y, period, step, coef, ytab, guess)
    out_evals[0] = 1
    if x == x:
        return x
    x = inverse_safe(y, period, step, coef, ytab, bucket, out_evals)
    out_evals[0] += 1
    return x


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
def inverse_many(y, period, step, coef, ytab, bucket, guess, out, evals):
    """Invert every y; evals[i] receives the evaluations inversion i took.

    Two passes: the fast path over everything, then the safe solver over the
    few it declined; a loop that may branch into the safe solver compiles
    to much slower code for all elements.
    """
    for i in range(y.shape[0]):
        out[i] = inverse_fast(y[i], period, step, coef, ytab, guess)
        evals[i] = 1
    counter = np.zeros(1, np.int64)
    for i in range(y.shape[0]):
        if out[i] != out[i]:
            counter[0] = 0
            out[i] = inverse_safe(y[i], period, step, coef, ytab, bucket, counter)
            evals[i] = counter[0] + 1


@kernel
def inverse_safe_many(y, period, step, coef, ytab, bucket, out):
    counter = np.zeros(1, np.int64)
    for i in range(y.shape[0]):
        out[i] = inverse_safe(y[i], period, step, coef, ytab, bucket, counter)
