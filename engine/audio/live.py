"""The synthesizer in a live audio callback: one block of MIDI in, one block of audio out.

``LiveSynth`` owns a FluidSynth, a preallocated row table and the compiled
segment kernel (``engine.audio._segments.render_segments``), compiled in
the constructor so nothing compiles on the audio thread.  ``render`` turns
the block's outgoing MIDI messages (``(offset, bytes)``, as a backend writes
them) into rows and renders the block in segments between them.  Each
message is sent at the frame of FluidSynth's 64-frame grid nearest its own
(``engine.audio.render.snap``) when that is inside the block, else at the
block's start: a message is known only when its block runs, so with blocks
of 64 frames or more (whole grid blocks) it sounds at most 32 frames early
or 31 late, like offline.

Two kinds of caller: the Python callbacks that run a rack the live kernel
cannot compile (a third-party processor: ``engine.live.backends.jack_backend``
and the PortAudio backend's Python path) call ``render`` once per block;
the compiled paths (the native JACK callback and the PortAudio backend's
kernel path) use ``engine.audio._live_feed``, which makes a ``LiveSynth``
for the synth and its one-line errors and then feeds the kernel's output
rows to ``render_segments`` itself, with no Python per block (the same
samples as ``render`` given the same rows and blocks).

A panic must lift the synth's pedals: an All Notes Off leaves notes held by
the sustain pedal sounding (MIDI's rule, and FluidSynth's), so the caller
says when a block carries a panic, and when the music stops (all sounds off).
"""

from __future__ import annotations

import numpy as np

from .fluid import FluidSynth, SynthError

#: Most messages one block's synth rows hold (more are dropped and counted).
MAX_ROWS = 4096
#: Rows a panic adds at the block's start: sustain and sostenuto up, All Notes Off, and
#: on a stop All Sounds Off, on every channel.
_PANIC_CCS = (64, 66, 123)
_STOP_CCS = (120,)
_RESERVED = 16 * (len(_PANIC_CCS) + len(_STOP_CCS))


def _ends(status, d1, d2) -> bool:
    """A note-off, or an All Notes Off / All Sounds Off."""
    kind = status & 0xF0
    return kind == 0x80 or (kind == 0x90 and d2 == 0) or (kind == 0xB0 and d1 in (120, 123))


class LiveSynth:
    """FluidSynth with a SoundFont, rendered block by block from a callback.

    Parameters
    ----------
    soundfont : path
    sample_rate : float
        The audio device's rate (an error, one line, when FluidSynth cannot play it).
    max_block : int
        Largest block ``render`` will be asked for.
    """

    def __init__(self, soundfont, sample_rate, max_block):
        from ._segments import compiled

        try:
            self.synth = FluidSynth(soundfont, sample_rate)
        except SynthError as exc:
            if "FluidSynth plays" not in str(exc):
                raise
            plays = str(exc).split(",")[0]
            raise SynthError(
                f"--synth: the audio device runs at {float(sample_rate):g} Hz; {plays}: "
                "restart it at 48000 Hz (e.g. jackd -r 48000)"
            ) from None
        self.soundfont = str(soundfont)
        self.block_frames = self.synth.block_frames
        self.rows = np.zeros((MAX_ROWS + _RESERVED, 4), np.int64)
        self.dropped = 0
        self.frame = 0  # the synth's own clock: frames rendered so far
        self._kernel = compiled()
        scratch = np.zeros(max(int(max_block), 1), np.float32)
        self._kernel(self.synth.ptr, self.rows, 0, 0, scratch, scratch)  # compile now

    def _pedals_up(self, n, stop):
        rows = self.rows
        for cc in _PANIC_CCS + (_STOP_CCS if stop else ()):
            for ch in range(16):
                rows[n, 0] = 0
                rows[n, 1] = 0xB0 | ch
                rows[n, 2] = cc
                rows[n, 3] = 0
                n += 1
        return n

    def render(self, msgs, frames, left, right, panic=False, stop=False) -> None:
        """Render ``frames`` frames of audio into ``left``/``right`` (float32, overwritten)
        with the block's outgoing ``msgs`` (offset, bytes) at their offsets.

        ``panic``: the block starts with a panic (its note-offs and All Notes Off are in
        ``msgs``), so every pedal comes up first; ``stop``: the music stopped, so every
        sound ends at the block's start (All Sounds Off) as well.
        """
        rows = self.rows
        n = self._pedals_up(0, stop) if panic or stop else 0
        limit = n + MAX_ROWS
        grid = self.block_frames
        clock = self.frame
        for offset, data in msgs:
            status = data[0]
            if not 0x80 <= status < 0xF0:
                continue  # clock, start, stop: nothing for a synth
            if n == limit:
                self.dropped += 1
                continue
            # the grid frame nearest the message's, not before the block (sorted: monotone)
            frame = max((clock + offset + grid // 2) // grid * grid - clock, 0)
            d1 = data[1] if len(data) > 1 else 0
            d2 = data[2] if len(data) > 2 else 0
            if stop and frame == 0 and _ends(status, d1, d2):
                continue  # FluidSynth would take a voice it just cut off back into its release
            rows[n, 0] = frame
            rows[n, 1] = status
            rows[n, 2] = d1
            rows[n, 3] = d2
            n += 1
        self._kernel(self.synth.ptr, rows, n, frames, left, right)
        self.frame = clock + frames

    def close(self) -> None:
        self.synth.close()
