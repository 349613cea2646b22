"""Pair a performance's notes with its score's, and time each against a tempo curve.

A played performance has no grid: its tempo drifts and breathes.  Given the
score (the same notes, quantized), each played note is paired with its
score note by pitch and order: the longest common subsequence of the two
note lists, each sorted by onset and, within a chord, by pitch.  A tempo
curve (score beat -> performance second, piecewise linear with a knot every
``knot_beat``) is fitted to the pairs by Huber-weighted least squares;
unpaired score notes are then paired with an unpaired played note of the
same pitch near where the curve expects it, and pairs the curve cannot
explain (more than ``MAX_RESIDUAL_BEAT`` off) are dropped.  What remains off
the curve is the groove: each pair's residual in beats of the local tempo.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from groove.losses import huber

#: Played onsets closer than this belong to one chord (sorted by pitch).
CHORD_SEC = 0.035
#: A pair further than this from the tempo curve is a wrong pairing.
MAX_RESIDUAL_BEAT = 0.5
#: Largest LCS table (cells = played notes x score notes).
MAX_CELLS = 30_000_000
#: Huber threshold of the tempo-curve fit, seconds.
CURVE_DELTA_SEC = 0.03
_IRLS_ROUNDS = 8


class ScoreMatch(NamedTuple):
    """Pairs of played and score notes, measured against the fitted tempo curve.

    Attributes
    ----------
    perf_index, score_index : ndarray of int
        Rows of each pair in the played and in the score note arrays.
    score_beat : ndarray
        The score position of each pair, beats.
    residual_beat : ndarray
        Played minus curve, in beats of the local tempo (late > 0).
    ms_per_beat : ndarray
        The local tempo at each pair, milliseconds per score beat.
    n_perf, n_score : int
        Notes in each input.
    """

    perf_index: np.ndarray
    score_index: np.ndarray
    score_beat: np.ndarray
    residual_beat: np.ndarray
    ms_per_beat: np.ndarray
    n_perf: int
    n_score: int

    @property
    def share(self) -> float:
        """Paired notes over the larger of the two note counts."""
        return self.perf_index.size / max(self.n_perf, self.n_score, 1)


def _chord_order(onset, pitch, tolerance):
    """Row order by onset, notes of one chord (onsets within tolerance) by pitch."""
    by_time = np.argsort(onset, kind="stable")
    gaps = np.diff(onset[by_time]) > tolerance
    group = np.empty(onset.size, np.int64)
    group[by_time] = np.concatenate([[0], np.cumsum(gaps)])
    return np.lexsort((pitch, group))


def _lcs_pairs(a, b):
    """Index pairs of a longest common subsequence of int arrays a and b."""
    n, m = a.size, b.size
    table = np.zeros((n + 1, m + 1), np.int32)
    for i in range(1, n + 1):
        diag = table[i - 1, :-1] + (b == a[i - 1])
        table[i, 1:] = np.maximum.accumulate(np.maximum(table[i - 1, 1:], diag))
    pairs = []
    i, j = n, m
    while i > 0 and j > 0:
        if a[i - 1] == b[j - 1] and table[i, j] == table[i - 1, j - 1] + 1:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif table[i - 1, j] >= table[i, j - 1]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


class _Curve(NamedTuple):
    knot_beat: np.ndarray
    knot_sec: np.ndarray

    def sec(self, beat):
        return np.interp(beat, self.knot_beat, self.knot_sec, left=np.nan, right=np.nan)

    def sec_per_beat(self, beat):
        seg = np.clip(
            np.searchsorted(self.knot_beat, beat, side="right") - 1, 0, self.knot_beat.size - 2
        )
        return np.diff(self.knot_sec)[seg] / np.diff(self.knot_beat)[seg]


def _fit_curve(score_beat, perf_sec, knot_beat) -> _Curve:
    """Piecewise-linear tempo curve through the pairs, Huber-weighted least squares.

    Knots without pairs on either side are held by a small second-difference
    penalty, so the curve stays defined (and near-linear) across gaps.
    """
    lo = np.floor(score_beat.min() / knot_beat) * knot_beat
    hi = max(np.ceil(score_beat.max() / knot_beat) * knot_beat, lo + knot_beat)
    knots = np.arange(lo, hi + 0.5 * knot_beat, knot_beat)
    seg = np.clip(np.searchsorted(knots, score_beat, side="right") - 1, 0, knots.size - 2)
    frac = (score_beat - knots[seg]) / knot_beat
    A = np.zeros((score_beat.size, knots.size))
    A[np.arange(score_beat.size), seg] = 1.0 - frac
    A[np.arange(score_beat.size), seg + 1] = frac
    D2 = np.diff(np.eye(knots.size), 2, axis=0) * 1e-3
    w = np.ones(score_beat.size)
    for _ in range(_IRLS_ROUNDS):
        sw = np.sqrt(w)[:, None]
        lhs = np.vstack([A * sw, D2])
        rhs = np.concatenate([perf_sec * sw[:, 0], np.zeros(D2.shape[0])])
        coef = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        r = A @ coef - perf_sec
        _, slope = huber(r, CURVE_DELTA_SEC)
        # Huber as reweighted least squares: weight = psi(r) / r
        w = np.where(np.abs(r) > 1e-12, slope / np.where(r == 0, 1.0, r), 1.0)
    return _Curve(knots, coef)


def _pair_leftovers(pairs, curve, perf_sec, perf_pitch, score_beat, score_pitch):
    """Pair each unpaired score note with the nearest unpaired played note of its pitch."""
    free_perf = np.ones(perf_sec.size, bool)
    free_perf[pairs[:, 0]] = False
    free_score = np.ones(score_beat.size, bool)
    free_score[pairs[:, 1]] = False
    extra = []
    for j in np.flatnonzero(free_score):
        expect = curve.sec(score_beat[j])
        if not np.isfinite(expect):
            continue
        window = MAX_RESIDUAL_BEAT * curve.sec_per_beat(np.array([score_beat[j]]))[0]
        cand = np.flatnonzero(
            free_perf & (perf_pitch == score_pitch[j]) & (np.abs(perf_sec - expect) <= window)
        )
        if cand.size:
            i = cand[np.argmin(np.abs(perf_sec[cand] - expect))]
            free_perf[i] = False
            extra.append((i, j))
    if not extra:
        return pairs
    return np.vstack([pairs, np.array(extra, dtype=np.int64)])


def match(perf_sec, perf_pitch, score_beat, score_pitch, knot_beat, path="performance"):
    """Pair played notes with score notes and measure them against the tempo curve.

    Parameters
    ----------
    perf_sec, perf_pitch : ndarray
        Played onsets (seconds) and pitches.
    score_beat, score_pitch : ndarray
        Score onsets (beats) and pitches.
    knot_beat : float
        Spacing of the tempo curve's knots in score beats (the groove's
        period: the curve then cannot absorb the groove within a period).

    Raises
    ------
    ValueError
        When the two lists are too long to pair (``MAX_CELLS``).
    """
    perf_sec = np.asarray(perf_sec, np.float64)
    score_beat = np.asarray(score_beat, np.float64)
    n_perf, n_score = perf_sec.size, score_beat.size
    if n_perf * n_score > MAX_CELLS:
        raise ValueError(
            f"{path}: {n_perf} played x {n_score} score notes is too many to "
            f"pair (limit {MAX_CELLS:,} pairs of notes); select a part with "
            "--tracks/--channels/--notes"
        )
    po = _chord_order(perf_sec, perf_pitch, CHORD_SEC)
    so = _chord_order(score_beat, score_pitch, 1e-9)
    lcs = _lcs_pairs(perf_pitch[po], score_pitch[so])
    pairs = np.stack([po[lcs[:, 0]], so[lcs[:, 1]]], axis=1) if lcs.size else lcs
    empty = np.zeros(0, np.int64)
    if pairs.shape[0] < 2 or np.ptp(score_beat[pairs[:, 1]]) <= 0:
        return ScoreMatch(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0), n_perf, n_score)
    for _ in range(2):
        curve = _fit_curve(score_beat[pairs[:, 1]], perf_sec[pairs[:, 0]], knot_beat)
        pairs = _pair_leftovers(pairs, curve, perf_sec, perf_pitch, score_beat, score_pitch)
        sb = score_beat[pairs[:, 1]]
        r_beat = (perf_sec[pairs[:, 0]] - curve.sec(sb)) / curve.sec_per_beat(sb)
        pairs = pairs[np.abs(r_beat) <= MAX_RESIDUAL_BEAT]
        if pairs.shape[0] < 2:
            return ScoreMatch(empty, empty, np.zeros(0), np.zeros(0), np.zeros(0), n_perf, n_score)
    curve = _fit_curve(score_beat[pairs[:, 1]], perf_sec[pairs[:, 0]], knot_beat)
    pairs = pairs[np.argsort(score_beat[pairs[:, 1]], kind="stable")]
    sb = score_beat[pairs[:, 1]]
    spb = curve.sec_per_beat(sb)
    resid = (perf_sec[pairs[:, 0]] - curve.sec(sb)) / spb
    return ScoreMatch(pairs[:, 0], pairs[:, 1], sb, resid, 1000.0 * spb, n_perf, n_score)
