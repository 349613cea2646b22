"""Two FluidSynths whose 64-frame grids are half a block apart: notes to +-16 frames.

FluidSynth starts a message at its next 64-frame block, so one synth places a
note within -32..+31 frames of its frame (``engine.audio.render.snap``).  A
second synth run 32 frames ahead has its block starts half-way between the
first's: each note-on goes to the synth with the nearer block start (and its
note-off to the same synth), every other message (programs, controllers,
bends, pressure) to both, and the two outputs are summed.  A note then sounds
within -16..+15 frames of its frame (0.33 ms at 48 kHz), for about 16% more
CPU time (a second reverb and chorus; the voices are shared out, not doubled)
and the SoundFont loaded twice.  Offline only: ``render_rows`` plays a
``SynthPair`` like one synth.
"""

from __future__ import annotations

import numpy as np

from .fluid import FluidSynth


class SynthPair:
    """Two FluidSynths with the same SoundFont and options (see module docstring).

    Parameters
    ----------
    soundfont, sample_rate, **kwargs
        As for ``FluidSynth``.
    """

    def __init__(self, soundfont, sample_rate=48000.0, **kwargs):
        self.a = FluidSynth(soundfont, sample_rate, **kwargs)
        try:
            self.b = FluidSynth(soundfont, sample_rate, **kwargs)
        except BaseException:
            self.a.close()
            raise
        self.sample_rate = self.a.sample_rate
        self.soundfont = self.a.soundfont
        self.block_frames = self.a.block_frames
        #: how far ahead the second synth's clock runs (its grid: frames = lead mod block)
        self.lead_frames = self.block_frames // 2

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.a.close()
        self.b.close()

    def active_voices(self) -> int:
        return self.a.active_voices() + self.b.active_voices()


def route(rows, grid=64) -> tuple:
    """(rows for synth a, rows for synth b): note-ons to the synth whose block start is
    nearer (b's are at ``grid // 2`` mod ``grid``), each note-off to its note-on's synth
    (the oldest sounding one of its channel and key; one with no note-on to both), every
    other message to both.  Rows keep their order and frames."""
    rows = np.asarray(rows, np.int64).reshape(-1, 4)
    kind = rows[:, 1] & 0xF0
    on = (kind == 0x90) & (rows[:, 3] > 0)
    off = (kind == 0x80) | ((kind == 0x90) & (rows[:, 3] == 0))
    phase = rows[:, 0] % grid
    near_b = (phase >= grid // 4) & (phase < grid - grid // 4)
    to_a = ~(on | off)
    to_b = to_a.copy()
    sounding: dict = {}
    for i in np.flatnonzero(on | off).tolist():
        key = (int(rows[i, 1]) & 0x0F, int(rows[i, 2]))
        if on[i]:
            b = bool(near_b[i])
            sounding.setdefault(key, []).append(b)
        else:
            held = sounding.get(key)
            if not held:
                to_a[i] = to_b[i] = True
                continue
            b = held.pop(0)
        to_b[i] = b
        to_a[i] = not b
    return rows[to_a], rows[to_b]
