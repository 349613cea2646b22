"""numba kernels for ``groove.fit``: per-step Huber sums and the monotone projection.

Private: ``groove.fit`` validates every argument before calling these.  They
never raise.
"""

import numpy as np

from ._numba import kernel

#: Bisection steps on the multiplier of the wrap-around constraint; each
#: halves the bracket, so 200 reach one ulp from any starting width.
_MAX_BISECTIONS = 200


@kernel
def huber_steps(u_step, step_index, weight, offsets_step, delta_step, grad_out):
    """Sum_i w_i * Huber(u_i - o[k_i]) and its gradient w.r.t. o (into grad_out).

    ``u_step`` are the notes' residuals in steps, ``step_index`` their grid
    step, ``delta_step`` the Huber threshold in steps.
    """
    grad_out[:] = 0.0
    total = 0.0
    for i in range(u_step.size):
        k = step_index[i]
        r = u_step[i] - offsets_step[k]
        w = weight[i]
        if r > delta_step:
            total += w * delta_step * (r - 0.5 * delta_step)
            grad_out[k] -= w * delta_step
        elif r < -delta_step:
            total += w * delta_step * (-r - 0.5 * delta_step)
            grad_out[k] += w * delta_step
        else:
            total += 0.5 * w * r * r
            grad_out[k] -= w * r
    return total


@kernel
def isotonic(z, out):
    """Least-squares nondecreasing fit to z (pool adjacent violators), into out."""
    n = z.size
    means = np.empty(n)
    counts = np.empty(n, np.int64)
    nb = 0
    for i in range(n):
        means[nb] = z[i]
        counts[nb] = 1
        nb += 1
        while nb > 1 and means[nb - 2] > means[nb - 1]:
            c = counts[nb - 2] + counts[nb - 1]
            means[nb - 2] = (means[nb - 2] * counts[nb - 2] + means[nb - 1] * counts[nb - 1]) / c
            counts[nb - 2] = c
            nb -= 1
    i = 0
    for b in range(nb):
        for _ in range(counts[b]):
            out[i] = means[b]
            i += 1


@kernel
def _isotonic_shifted(z, mu, work, out):
    """isotonic(z + mu * (e_0 - e_last)): the Lagrangian minimiser for multiplier mu."""
    work[:] = z
    work[0] += mu
    work[-1] -= mu
    isotonic(work, out)
    return out[-1] - out[0]


@kernel
def isotonic_bounded_range(z, max_range, out):
    """Closest nondecreasing q to z with q[-1] - q[0] <= max_range (> 0), into out.

    The range constraint enters with a multiplier mu >= 0: the minimiser is
    the isotonic fit of z + mu * (e_0 - e_last), whose range falls
    continuously and monotonically with mu (the dual's derivative) and is 0
    for large mu.  Bisection finds the smallest mu that satisfies the bound;
    the returned point is the one at the feasible end of the bracket.
    """
    work = np.empty_like(z)
    if _isotonic_shifted(z, 0.0, work, out) <= max_range:
        return
    hi = 1.0
    for _ in range(2000):
        if _isotonic_shifted(z, hi, work, out) <= max_range:
            break
        hi *= 2.0
    lo = 0.0
    for _ in range(_MAX_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if _isotonic_shifted(z, mid, work, out) <= max_range:
            hi = mid
        else:
            lo = mid
    _isotonic_shifted(z, hi, work, out)
