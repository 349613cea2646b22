"""A tiny built-in drum and tone synth, so a render can be heard without a synthesizer.

Each note-on starts a short precomputed sound: a pitched sine thump for
kicks (GM 35/36), noise bursts for snares and claps (37-40), short bright
noise for hats and cymbals (42-59 on channel 10), and a plucked sine at the
note's pitch for everything else.  Sounds are built in ``prepare``; ``render``
only adds slices into the block's buffer (numpy, no allocation per note
beyond a slot in a fixed voice table), so it runs in a block callback.
"""

from __future__ import annotations

import numpy as np

from engine.host.events import NOTE_ON

MAX_VOICES = 64


class DrumSynth:
    """Render note-ons of a block into a mono float32 buffer.

    Parameters
    ----------
    sample_rate : float
    """

    def __init__(self, sample_rate: float):
        self.sample_rate = float(sample_rate)
        rng = np.random.default_rng(0)
        t = np.arange(int(0.35 * sample_rate)) / sample_rate
        self._kick = (
            np.sin(2 * np.pi * (50 * t + 60 * (1 - np.exp(-t * 30)) / 30)) * np.exp(-t * 9)
        ).astype(np.float32)
        noise = rng.standard_normal(t.size).astype(np.float32)
        self._snare = (
            0.5 * noise * np.exp(-t * 22) + 0.4 * np.sin(2 * np.pi * 190 * t) * np.exp(-t * 30)
        ).astype(np.float32)
        self._hat = (0.3 * np.diff(noise, prepend=0) * np.exp(-t * 60)).astype(np.float32)
        self._tones = {}
        self._t = t
        self._voice_wave = [None] * MAX_VOICES
        self._voice_pos = np.zeros(MAX_VOICES, np.int64)
        self._voice_gain = np.zeros(MAX_VOICES, np.float32)
        self._next = 0
        for key in range(128):
            self._sound(9, key)
            self._sound(0, key)

    def _sound(self, channel, key):
        if channel == 9 and key in (35, 36):
            return self._kick
        if channel == 9 and 37 <= key <= 40:
            return self._snare
        if channel == 9 and 42 <= key <= 59:
            return self._hat
        wave = self._tones.get(key)
        if wave is None:
            t = self._t
            hz = 440.0 * 2 ** ((key - 69) / 12)
            wave = (0.4 * np.sin(2 * np.pi * hz * t) * np.exp(-t * 8)).astype(np.float32)
            self._tones[key] = wave
        return wave

    def render(self, events: np.ndarray, buf: np.ndarray) -> None:
        """Add this block's note-ons (and the tails of earlier ones) into ``buf``."""
        frames = buf.shape[0]
        for v in range(MAX_VOICES):
            self._play(v, buf, 0)
        for e in events[events["kind"] == NOTE_ON]:
            v = self._next
            self._next = (v + 1) % MAX_VOICES
            self._voice_wave[v] = self._sound(int(e["channel"]), int(e["key"]))
            self._voice_pos[v] = 0
            self._voice_gain[v] = e["value"] / 127.0
            self._play(v, buf, min(int(e["frame"]), max(frames - 1, 0)))

    def _play(self, v, buf, start):
        wave = self._voice_wave[v]
        if wave is None:
            return
        pos = self._voice_pos[v]
        n = min(buf.shape[0] - start, wave.shape[0] - pos)
        if n > 0:
            buf[start : start + n] += self._voice_gain[v] * wave[pos : pos + n]
            self._voice_pos[v] = pos + n
        if self._voice_pos[v] >= wave.shape[0]:
            self._voice_wave[v] = None
