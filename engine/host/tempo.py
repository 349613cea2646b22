"""Tempo maps: ticks <-> beats <-> seconds, vectorised.

A MIDI file counts time in ticks; ``ticks_per_beat`` makes them beats, and
the set_tempo events (microseconds per beat, 500000 = 120 BPM before the
first one) make them seconds.  Grooves work in beats, so a render never
touches the tempo map; it is needed to turn random offsets in milliseconds
into beats and for ``groove info``.
"""

from __future__ import annotations

import numpy as np

#: Microseconds per beat before the first set_tempo (120 BPM).
DEFAULT_TEMPO_US = 500_000


class TempoMap:
    """Piecewise-constant tempo over ticks.

    Parameters
    ----------
    ticks_per_beat : int
        The file's resolution (> 0).
    change_tick : array_like of int
        Ticks of the set_tempo events, in file order (sorted stably here; at
        one tick the last event wins).
    tempo_us : array_like of int
        Microseconds per beat of each event (> 0).
    """

    __slots__ = ("ticks_per_beat", "tick", "tempo_us", "_sec_at")

    def __init__(self, ticks_per_beat: int, change_tick=(), tempo_us=()):
        if ticks_per_beat <= 0:
            raise ValueError(f"ticks_per_beat: {ticks_per_beat!r} must be > 0")
        ticks = np.asarray(change_tick, dtype=np.int64).reshape(-1)
        tempi = np.asarray(tempo_us, dtype=np.float64).reshape(-1)
        if ticks.size != tempi.size:
            raise ValueError("change_tick and tempo_us must have the same length")
        if tempi.size and (tempi <= 0).any():
            raise ValueError("tempo_us: every tempo must be > 0 microseconds per beat")
        order = np.argsort(ticks, kind="stable")
        ticks, tempi = ticks[order], tempi[order]
        # keep the last change at each tick, and start with the default tempo at 0
        last = np.append(ticks[1:] != ticks[:-1], True) if ticks.size else np.zeros(0, bool)
        ticks, tempi = ticks[last], tempi[last]
        if not ticks.size or ticks[0] > 0:
            ticks = np.insert(ticks, 0, 0)
            tempi = np.insert(tempi, 0, DEFAULT_TEMPO_US)
        self.ticks_per_beat = int(ticks_per_beat)
        self.tick = ticks
        self.tempo_us = tempi
        seg_sec = np.diff(ticks) * tempi[:-1] / (1e6 * ticks_per_beat)
        self._sec_at = np.concatenate([[0.0], np.cumsum(seg_sec)])

    @property
    def bpm(self) -> np.ndarray:
        """Beats per minute of each segment."""
        return 60e6 / self.tempo_us

    def _segment(self, ticks) -> np.ndarray:
        return np.maximum(np.searchsorted(self.tick, ticks, side="right") - 1, 0)

    def tempo_at(self, ticks):
        """Microseconds per beat in force at each tick."""
        return self.tempo_us[self._segment(np.asarray(ticks, dtype=np.float64))]

    def seconds(self, ticks):
        """Seconds from tick 0 to each tick (ticks may be fractional)."""
        t = np.asarray(ticks, dtype=np.float64)
        k = self._segment(t)
        return self._sec_at[k] + (t - self.tick[k]) * self.tempo_us[k] / (1e6 * self.ticks_per_beat)

    def ticks_at_seconds(self, seconds):
        """The (fractional) tick reached at each time in seconds (inverse of ``seconds``)."""
        s = np.asarray(seconds, dtype=np.float64)
        k = np.maximum(np.searchsorted(self._sec_at, s, side="right") - 1, 0)
        return self.tick[k] + (s - self._sec_at[k]) * 1e6 * self.ticks_per_beat / self.tempo_us[k]

    def beats(self, ticks):
        """Ticks to beats (the tempo map does not enter)."""
        return np.asarray(ticks, dtype=np.float64) / self.ticks_per_beat

    def ticks(self, beats):
        """Beats to (fractional) ticks."""
        return np.asarray(beats, dtype=np.float64) * self.ticks_per_beat


def bars(time_signatures, ticks_per_beat: int, length_tick: int) -> float:
    """Length in bars of ``length_tick`` under a list of (tick, numerator, denominator).

    A bar holds ``numerator * 4 / denominator`` beats; 4/4 holds before the
    first time signature.
    """
    sigs = sorted(time_signatures, key=lambda s: s[0])
    points = [(0, 4, 4)] + [s for s in sigs if s[0] < length_tick and s[1] > 0 and s[2] > 0]
    total = 0.0
    for (tick, num, den), nxt in zip(points, points[1:] + [(length_tick, 0, 0)]):
        span_beat = max(nxt[0] - tick, 0) / ticks_per_beat
        total += span_beat / (num * 4.0 / den)
    return total
