"""numba kernels of the engine: lane-wise groove maps and the block scheduler.

Private.  Tables come from ``engine.host.groovebank.GrooveBank.args()``; the
scalar groove kernels come from ``groove.kernels``.  Nothing here raises or
allocates per event.
"""

import numpy as np

from groove._numba import kernel
from groove.kernels import forward_one, inverse_one


@kernel
def lane_forward(x, lane, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell):
    return forward_one(x, period[lane], step[lane], coef[lane, : nseg[lane]])


@kernel
def lane_inverse(y, lane, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell):
    counter = np.zeros(1, np.int64)
    n = nseg[lane]
    return inverse_one(
        y,
        period[lane],
        step[lane],
        coef[lane, :n],
        ytab[lane, : n + 1],
        bucket[lane, : nbucket[lane]],
        guess[lane, : ncell[lane]],
        counter,
    )


@kernel
def map_lanes(x, lanes, out, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell):
    """out[i] = T_lane[i](x[i]) for a block's events."""
    for i in range(x.shape[0]):
        out[i] = lane_forward(
            x[i], lanes[i], period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell
        )


@kernel
def schedule(
    src_beat,
    pre_beat,
    off_pre_beat,
    lane,
    keep_len_beat,
    emitted,
    first,
    end_beat,
    window_beat,
    out_idx,
    out_on_beat,
    out_off_beat,
    period,
    step,
    nseg,
    coef,
    ytab,
    bucket,
    nbucket,
    guess,
    ncell,
):
    """Timeline rows due before ``end_beat`` (grooved), each exactly once.

    Rows are sorted by ``src_beat``.  Row i is due at T_lane(pre_beat[i])
    (pre_beat = source position after quantize and random offsets, which
    move it by at most ``window_beat``).  A row with source position past
    max over lanes of inverse(end_beat) + window_beat cannot be due yet,
    which bounds the scan; ``emitted`` flags make it exactly-once even when
    the groove changed since the last block (rows that became due in the
    past are returned too: the caller plays them late, at frame 0).
    Its note-off position: T_lane(off_pre_beat[i]), or on + keep_len_beat[i]
    where keep_len_beat[i] >= 0 (ends kept).

    Returns (number of rows written to out_*, the new ``first``: every row
    before it has been emitted).
    """
    n = src_beat.shape[0]
    hi = -np.inf
    for l in range(period.shape[0]):
        s = lane_inverse(end_beat, l, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell)
        if s > hi:
            hi = s
    hi += window_beat
    count = 0
    cap = out_idx.shape[0]
    i = first
    while i < n and src_beat[i] <= hi and count < cap:
        if not emitted[i]:
            l = lane[i]
            on = lane_forward(
                pre_beat[i], l, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell
            )
            if on < end_beat:
                emitted[i] = 1
                out_idx[count] = i
                out_on_beat[count] = on
                if keep_len_beat[i] >= 0.0:
                    out_off_beat[count] = on + keep_len_beat[i]
                else:
                    out_off_beat[count] = lane_forward(
                        off_pre_beat[i],
                        l,
                        period,
                        step,
                        nseg,
                        coef,
                        ytab,
                        bucket,
                        nbucket,
                        guess,
                        ncell,
                    )
                count += 1
        i += 1
    while first < n and emitted[first]:
        first += 1
    return count, first


@kernel
def rewind(
    src_beat,
    pre_beat,
    lane,
    emitted,
    start_beat,
    window_beat,
    period,
    step,
    nseg,
    coef,
    ytab,
    bucket,
    nbucket,
    guess,
    ncell,
):
    """After a seek to grooved ``start_beat``: rows due before it count as played.

    Rows whose source lies below every lane's inverse(start) - window are
    past, those above every lane's inverse(start) + window are to come, and
    only the rows between are mapped.  Returns the new ``first``.
    """
    n = src_beat.shape[0]
    lo = np.inf
    hi = -np.inf
    for l in range(period.shape[0]):
        s = lane_inverse(
            start_beat, l, period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell
        )
        lo = min(lo, s)
        hi = max(hi, s)
    lo -= window_beat
    hi += window_beat
    for i in range(n):
        if src_beat[i] < lo:
            emitted[i] = 1
        elif src_beat[i] > hi:
            emitted[i] = 0
        else:
            on = lane_forward(
                pre_beat[i], lane[i], period, step, nseg, coef, ytab, bucket, nbucket, guess, ncell
            )
            emitted[i] = 1 if on < start_beat else 0
    first = 0
    while first < n and emitted[first]:
        first += 1
    return first
