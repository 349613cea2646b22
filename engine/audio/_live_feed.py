"""The synthesizer fed from a compiled callback: ``LiveSynth.render`` as one numba kernel.

``feed`` takes a block's output rows exactly as the live kernel's
``process_block`` wrote them (int32 ``(frame, status, data1, data2)``,
sorted by frame) and renders the block through FluidSynth in segments
(``engine.audio._segments.render_segments``), the way
``engine.audio.live.LiveSynth.render`` does from Python: each channel
message at the frame of FluidSynth's 64-frame grid nearest its own, not
before the block's start; on a panic every pedal comes up first (an All
Notes Off leaves pedal-held notes sounding), on a stop every sound ends
too.  ``synth_block`` is the same with the panic and stop read from the
live kernel's state (its panic count, its transport, its quiet flag), for
the JACK callback.

Everything lives in preallocated arrays made on the main thread by
:class:`LiveFeed`: an int64 ``state`` (slots ``S_*`` below: the synth's
pointer, its own frame clock, the grid, the channels whose pedals went
down, the transport as the synth last heard it, the panic count last seen,
rows dropped) and an int64 row table for ``render_segments``.  Nothing here
allocates, raises or takes the GIL, so the callback may call it per block.

Pedals: the sustain and sostenuto lifts go only to channels that moved a
pedal since the last lift (a lift on a channel whose pedal never went down
changes nothing in FluidSynth, so the samples are LiveSynth's, which lifts
all 16); All Notes Off and All Sounds Off go to every channel.
"""

from __future__ import annotations

import numpy as np

from engine.host.live_layout import I_PANICS, I_PLAYING, I_QUIET
from groove._numba import kernel

from ._segments import render_segments

# -- state slots --------------------------------------------------------------
S_SYNTH = 0  # fluid_synth_t * as an integer
S_FRAME = 1  # frames the synth has rendered: the clock of its 64-frame grid
S_GRID = 2  # FluidSynth's internal block (frames)
S_PEDALS = 3  # bit per channel: a sustain or sostenuto pedal moved since the last lift
S_PLAYING = 4  # the transport as the synth last heard it (1 -> 0 is a stop)
S_PANICS = 5  # the live kernel's panic count as last seen
S_DROPPED = 6  # messages beyond MAX_ROWS in a block (not played)
S_LEN = 8

#: Most messages one block's synth rows hold (as ``engine.audio.live.MAX_ROWS``).
MAX_ROWS = 4096
#: Rows a panic or stop adds at the block's start: CC 64, 66, 123 and 120 on 16 channels.
RESERVED = 16 * 4


@kernel(inline="always")
def _ends(status, d1, d2):
    """A note-off, or an All Notes Off / All Sounds Off."""
    kind = status & 0xF0
    return kind == 0x80 or (kind == 0x90 and d2 == 0) or (kind == 0xB0 and (d1 == 120 or d1 == 123))


@kernel(inline="always")
def _row(rows, n, frame, status, d1, d2):
    if n >= rows.shape[0]:
        return n  # a table too small for the panic's rows: never written past its end
    rows[n, 0] = frame
    rows[n, 1] = status
    rows[n, 2] = d1
    rows[n, 3] = d2
    return n + 1


@kernel
def _pedals_up(state, rows, stop):
    """Frame-0 rows: pedals up where they moved, All Notes Off (and on a stop All Sounds
    Off) everywhere; in LiveSynth's order (one controller on every channel, then the next)."""
    n = 0
    pedals = state[S_PEDALS]
    for cc in (64, 66):
        for ch in range(16):
            if (pedals >> ch) & 1:
                n = _row(rows, n, 0, 0xB0 | ch, cc, 0)
    for ch in range(16):
        n = _row(rows, n, 0, 0xB0 | ch, 123, 0)
    if stop:
        for ch in range(16):
            n = _row(rows, n, 0, 0xB0 | ch, 120, 0)
    state[S_PEDALS] = 0
    return n


@kernel
def feed(state, rows, ev, n_ev, frames, out_l, out_r, panic, stop):
    """Render ``frames`` frames into out_l/out_r (float32, overwritten) with the first
    ``n_ev`` rows of ``ev`` (int32 or int64 ``(frame, status, data1, data2)``, sorted).

    ``panic``: the block carries a panic (its note-offs and All Notes Off are among the
    rows), so the pedals come up first; ``stop``: the music stopped, so every sound ends
    at the block's start as well.  Rows that are not channel messages (clock, start,
    stop, song position) are skipped.  Returns the number of rows sent to the synth.
    """
    n = _pedals_up(state, rows, stop) if panic or stop else 0
    limit = min(n + MAX_ROWS, rows.shape[0])
    grid = max(state[S_GRID], 1)
    clock = state[S_FRAME]
    last = max(frames - 1, 0)
    for i in range(min(max(n_ev, 0), ev.shape[0])):
        status = np.int64(ev[i, 1]) & 0xFF
        if status < 0x80 or status >= 0xF0:
            continue  # clock, start, stop: nothing for a synth
        if n >= limit:
            state[S_DROPPED] += 1
            continue
        offset = min(max(np.int64(ev[i, 0]), 0), last)  # where the MIDI output writes it
        # the grid frame nearest the message's, not before the block (sorted: monotone)
        frame = max((clock + offset + grid // 2) // grid * grid - clock, 0)
        d1 = np.int64(ev[i, 2]) & 0x7F
        d2 = np.int64(ev[i, 3]) & 0x7F
        if stop and frame == 0 and _ends(status, d1, d2):
            continue  # FluidSynth would take a voice it just cut off back into its release
        if status & 0xF0 == 0xB0 and (d1 == 64 or d1 == 66):
            state[S_PEDALS] |= np.int64(1) << (status & 0x0F)
        n = _row(rows, n, frame, status, d1, d2)
    render_segments(state[S_SYNTH], rows, n, frames, out_l, out_r)
    state[S_FRAME] = clock + frames
    return n


@kernel
def synth_block(state, rows, istate, ev, n_ev, frames, out_l, out_r):
    """``feed`` after the live kernel's ``process_block`` (``istate`` its state): a panic
    when its panic count moved this block, a stop when its transport stopped or it went
    quiet (the quit) since the last block."""
    panics = istate[I_PANICS]
    panic = panics != state[S_PANICS]
    state[S_PANICS] = panics
    playing = 1 if istate[I_PLAYING] != 0 and istate[I_QUIET] == 0 else 0
    stop = state[S_PLAYING] != 0 and playing == 0
    state[S_PLAYING] = playing
    return feed(state, rows, ev, n_ev, frames, out_l, out_r, panic, stop)


class LiveFeed:
    """A FluidSynth and the preallocated state ``feed`` and ``synth_block`` run on.

    Made on the main thread (the synth's own threads off, see ``engine.audio.fluid``);
    ``prepare`` compiles (or loads) the kernels; ``close`` frees the synth, only after
    the audio thread stopped calling them.

    Parameters
    ----------
    soundfont : path
    sample_rate : float
        The audio device's rate (one line when FluidSynth cannot play it).
    max_block : int
        Largest block the kernels will be asked for.
    """

    def __init__(self, soundfont, sample_rate, max_block):
        from .live import LiveSynth

        # LiveSynth makes the synth (and its one-line errors) and compiles render_segments
        self._live = LiveSynth(soundfont, sample_rate, max_block)
        self.synth = self._live.synth
        self.soundfont = self._live.soundfont
        self.block_frames = self._live.block_frames
        self.max_block = max(int(max_block), 1)
        self.state = np.zeros(S_LEN, np.int64)
        self.state[S_SYNTH] = self.synth.ptr
        self.state[S_GRID] = self.block_frames
        self.rows = np.zeros((MAX_ROWS + RESERVED, 4), np.int64)

    @property
    def dropped(self) -> int:
        return int(self.state[S_DROPPED])

    def prepare(self) -> None:
        """Compile ``feed`` and ``synth_block`` for the callback's argument types (or load
        them from numba's cache) by running each on an empty block."""
        ev = np.zeros((1, 4), np.int32)
        buf = np.zeros(self.max_block, np.float32)
        saved = self.state.copy()
        feed.compiled(self.state, self.rows, ev, 0, 0, buf, buf, False, False)
        istate = np.zeros(max(I_PANICS, I_PLAYING, I_QUIET) + 1, np.int64)
        synth_block.compiled(self.state, self.rows, istate, ev, 0, 0, buf, buf)
        self.state[:] = saved

    def close(self) -> None:
        """Free the synth (idempotent); the callback must no longer run."""
        self.state[S_SYNTH] = 0
        self._live.close()
