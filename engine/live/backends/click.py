"""A metronome click rendered into the backend's audio buffer (``--click``).

Two short decaying sines (bar downbeat higher), precomputed when the
backend opens; rendering only copies slices, so it is safe on the audio thread.
"""

from __future__ import annotations

import math

import numpy as np

CLICK_SEC = 0.03
ACCENT_HZ, BEAT_HZ = 1760.0, 1320.0
GAIN = 0.5


class Click:
    """Click at every beat of a playing transport.

    Parameters
    ----------
    sample_rate : float
    beats_per_bar : int
        The first beat of each bar gets the accented click.
    """

    def __init__(self, sample_rate: float, beats_per_bar: int = 4):
        n = max(1, int(CLICK_SEC * sample_rate))
        t = np.arange(n) / sample_rate
        env = np.exp(-t / (CLICK_SEC / 5)) * GAIN
        self.accent = (np.sin(2 * np.pi * ACCENT_HZ * t) * env).astype(np.float32)
        self.beat = (np.sin(2 * np.pi * BEAT_HZ * t) * env * 0.6).astype(np.float32)
        self.beats_per_bar = beats_per_bar
        self._wave = None
        self._pos = 0

    def render(
        self, buf: np.ndarray, playing: bool, start_beat: float, beats_per_frame: float
    ) -> None:
        """Write one block of click into ``buf`` (1-D, length = the block)."""
        buf[:] = 0.0
        frames = buf.shape[0]
        self._continue(buf, 0)
        if not playing or beats_per_frame <= 0:
            return
        end_beat = start_beat + frames * beats_per_frame
        beat = math.ceil(start_beat - 1e-9)
        while beat < end_beat - 1e-12:
            frame = max(0, round((beat - start_beat) / beats_per_frame))
            if frame < frames:
                self._wave = self.accent if beat % self.beats_per_bar == 0 else self.beat
                self._pos = 0
                self._continue(buf, frame)
            beat += 1

    def _continue(self, buf, frame):
        wave = self._wave
        if wave is None:
            return
        n = min(buf.shape[0] - frame, wave.shape[0] - self._pos)
        buf[frame : frame + n] += wave[self._pos : self._pos + n]
        self._pos += n
        if self._pos >= wave.shape[0]:
            self._wave = None
