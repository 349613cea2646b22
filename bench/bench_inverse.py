"""Benchmark: groove forward and inverse against numpy Newton and scipy brentq.

Prints JSON.  Everything is measured in this one process on the same curve
and the same random positions, so the ratios are what to read (the machine is
shared and noisy); each figure is the median of several repeats.

Curve: a blend of a 32-knot pchip template (1/32 grid, 4 beats) and a
16-knot linear one (1/16 grid, 4 beats), as the issue specifies.
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time

import numpy as np

N_FAST = 1_000_000
N_NUMPY = 1_000_000
N_BRENTQ = 10_000
REPEATS = 7


def make_curve():
    import groove

    rng = np.random.default_rng(7)
    pchip = groove.template(rng.uniform(-0.4, 0.4, 32), grid="1/32", period=4, interp="pchip")
    linear = groove.template(rng.uniform(-0.4, 0.4, 16), grid="1/16", period=4)
    return groove.blend([(pchip, 0.5), (linear, 0.5)])


def median_ns(fn, n, repeats=REPEATS):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        fn()
        times.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(times)


def numpy_newton(tab, y, iters=60, tol=1e-15):
    """Vectorised Newton with a bisection bracket, in numpy, on the same tables."""
    period, step, coef = tab.period_beat, tab.step_beat, tab.coef
    n = coef.shape[0]
    lo_dev, hi_dev = coef[:, 0].min() - step, coef[:, 0].max() + step

    def t_and_slope(x):
        m = np.floor(x / period)
        xr = x - m * period
        k = np.minimum((xr / step).astype(np.int64), n - 1)
        u = xr - k * step
        c = coef[k]
        d = c[:, 0] + u * (c[:, 1] + u * (c[:, 2] + u * c[:, 3]))
        s = 1.0 + c[:, 1] + u * (2.0 * c[:, 2] + 3.0 * u * c[:, 3])
        return x + d, s

    lo, hi = y - hi_dev, y - lo_dev
    x = y.copy()
    active = np.ones(y.shape, bool)
    for _ in range(iters):
        t, s = t_and_slope(x[active])
        f = t - y[active]
        xa, loa, hia = x[active], lo[active], hi[active]
        loa = np.where(f < 0, xa, loa)
        hia = np.where(f >= 0, xa, hia)
        with np.errstate(divide="ignore", invalid="ignore"):
            xn = xa - f / s
        bad = ~((xn > loa) & (xn < hia))
        xn[bad] = 0.5 * (loa[bad] + hia[bad])
        done = np.abs(xn - xa) <= tol * (1.0 + np.abs(xa))
        x[active], lo[active], hi[active] = xn, loa, hia
        idx = np.flatnonzero(active)
        active[idx[done]] = False
        if not active.any():
            break
    return x


def brentq_loop(tab, y):
    from scipy.optimize import brentq

    period, step = tab.period_beat, tab.step_beat
    coef = tab.coef.tolist()
    n = len(coef)

    def forward(x):
        m = math.floor(x / period)
        xr = x - m * period
        k = min(int(xr / step), n - 1)
        u = xr - k * step
        c0, c1, c2, c3 = coef[k]
        return x + c0 + u * (c1 + u * (c2 + u * c3))

    span = max(abs(r[0]) for r in coef) + step
    return np.array(
        [
            brentq(
                lambda x, yy=yy: forward(x) - yy,
                yy - span,
                yy + span,
                xtol=1e-15,
                rtol=8.9e-16,
                maxiter=200,
            )
            for yy in y
        ]
    )


def fresh_process_seconds(code):
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def startup():
    imp = "import time; t=time.perf_counter(); import groove; print(time.perf_counter()-t)"
    first = (
        "import time; t=time.perf_counter(); import groove; g=groove.swing(58); "
        "g.forward(0.3); g.inverse(0.3); print(time.perf_counter()-t)"
    )
    fresh_process_seconds(first)  # make sure numba's cache is warm
    return (
        statistics.median(fresh_process_seconds(imp) for _ in range(5)),
        statistics.median(fresh_process_seconds(first) for _ in range(5)),
    )


def main():
    g = make_curve()
    tab = g.tables()
    rng = np.random.default_rng(1)
    x = rng.uniform(0.0, 64.0, N_FAST)
    y = g.forward(x)
    g.inverse(y[:10])  # compile / load from cache outside the timing

    forward_ns = median_ns(lambda: g.forward(x), N_FAST)
    inverse_ns = median_ns(lambda: g.inverse(y), N_FAST)
    xi, evals = g.inverse_counted(y)
    err = np.abs(g.forward(xi) - y)

    yn = y[:N_NUMPY]
    numpy_ns = median_ns(lambda: numpy_newton(tab, yn), N_NUMPY, repeats=3)
    xn = numpy_newton(tab, yn)
    yb = y[:N_BRENTQ]
    brentq_ns = median_ns(lambda: brentq_loop(tab, yb), N_BRENTQ, repeats=3)
    xb = brentq_loop(tab, yb)
    import_s, first_call_s = startup()

    report = {
        "curve": "blend of 32-knot pchip (1/32, 4 beats) and 16-knot linear (1/16, 4 beats)",
        "points": N_FAST,
        "forward_ns": round(forward_ns, 2),
        "inverse_ns": round(inverse_ns, 2),
        "inverse_over_forward": round(inverse_ns / forward_ns, 2),
        "inverse_evals_mean": round(float(evals.mean()), 3),
        "inverse_evals_max": int(evals.max()),
        "converged_share": float(np.isfinite(xi).mean()),
        "worst_error_beat": float(err.max()),
        "numpy_newton_ns": round(numpy_ns, 2),
        "numpy_newton_worst_error_beat": float(np.abs(g.forward(xn) - yn).max()),
        "brentq_loop_ns": round(brentq_ns, 1),
        "brentq_worst_error_beat": float(np.abs(g.forward(xb) - yb).max()),
        "speedup_vs_numpy_newton": round(numpy_ns / inverse_ns, 1),
        "speedup_vs_brentq": round(brentq_ns / inverse_ns, 1),
        "import_groove_s": round(import_s, 3),
        "first_call_fresh_process_s": round(first_call_s, 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
