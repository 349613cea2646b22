"""The PortAudio backend's audio callback: both paths and the synth output.

A mixin of ``portaudio_backend.PortAudioBackend`` (its state is made in the
backend's ``__init__``).  PortAudio's callback thread runs ``_callback``:
the Python path (a ``BlockCore``, through ``engine.audio.live.LiveSynth``
when there is a synth) or ``_kernel_callback`` (a compiled rack, its
``process_block`` and ``synth_block`` calls ``nogil``), then the synth's
left/right and the click into the stream's channels.  The main thread makes
the buffers and the synth in ``start`` (``_open_synth``, ``_kernel_buffers``)
and frees the synth in ``close`` (``_close_synth``), after the stream is
closed.
"""

from __future__ import annotations

import time

import numpy as np

#: Input ring rows (kernel path) and most input rows one block takes.
RING_ROWS = 8192
BLOCK_ROWS = 4096


class _AudioCallback:
    """The stream's callback and its buffers (mixed into PortAudioBackend)."""

    # -- main thread -------------------------------------------------------
    def _open_synth(self, kernel):
        """The synth for ``options.synth``, made here on the main thread, and its buffers."""
        if kernel:
            from engine.audio._live_feed import LiveFeed, synth_block

            self.feed = LiveFeed(self.options.synth, self.sample_rate, self.max_block)
            self.feed.prepare()
            self._synth_block = synth_block.compiled  # the nogil dispatcher, compiled now
        else:
            from engine.audio.live import LiveSynth

            self.synth = LiveSynth(self.options.synth, self.sample_rate, self.max_block)
        self._synth_lr = np.zeros((2, self.max_block), np.float32)
        self._audio_click = np.zeros(self.max_block, np.float32)

    def _kernel_buffers(self):
        """Preallocate what the kernel path uses, and compile its input step."""
        from engine.host import ring
        from engine.host.live_kernel import process_block

        self._process = process_block
        self._in_ring = np.zeros(ring.size(RING_ROWS, 4), np.int64)
        ring.ring_init(self._in_ring, 0, RING_ROWS, 4)
        self._in_ev = np.zeros((BLOCK_ROWS, 4), np.int32)
        self._out_ev = np.zeros((BLOCK_ROWS, 4), np.int32)
        self._audio = np.zeros(self.max_block, np.float32)
        self._no_audio = np.zeros(0, np.float32)
        self._take = ring.ring_take_timed
        self._push_row = ring.push_row
        self._take(self._in_ring, 0, self._in_ev, 0, 0, self.sample_rate * 1e-9, 0)

    def _close_synth(self):
        """Free the synth: only once the stream is closed (its callback no longer runs)."""
        for live in (self.feed, self.synth):
            if live is not None:
                live.close()
        self.feed = self.synth = None

    # -- the audio callback --------------------------------------------------
    def _callback(self, outdata, frames, time_info, status):
        if self.kernel is not None:
            self._kernel_callback(outdata, frames, status)
            return
        now, cpu0 = time.perf_counter(), time.thread_time()
        if status.output_underflow or status.output_overflow:
            self.xruns += 1
        prev = self.clock.time_sec
        w = self.clock.update(now, self._last_frames)
        prev = w if prev is None else prev
        sr = self.sample_rate
        incoming = []
        q = self._in_q
        last = frames - 1
        while q and q[0][0] <= now:
            t, msg = q.popleft()
            incoming.append((min(max(int((t - prev) * sr), 0), last), msg))
        panics = self.core.counts["panics"]
        msgs = self.core.run_block(frames, self._frames_total, incoming)
        out_q = self._out_q
        for off, data in msgs:
            out_q.append((w + off / sr, data))
        if self._sender is None:
            self._send_now(out_q)
        self._frames_total += frames
        self._last_frames = frames
        if self.synth is not None:
            self._python_synth(outdata, msgs, frames, self.core.counts["panics"] != panics)
        elif self._click is not None:
            playing, beat, bpf = self.core.transport_view
            self._click.render(outdata[:, 0], playing, beat, bpf)
        else:
            outdata.fill(0)
        i = self.callbacks & 0xFFFF
        self.callback_sec[i] = time.perf_counter() - now
        self.callback_cpu_sec[i] = time.thread_time() - cpu0
        self.callbacks += 1

    def _kernel_callback(self, outdata, frames, status):
        """One block through the compiled rack (``process_block`` releases the GIL)."""
        now, cpu0 = time.perf_counter(), time.thread_time()
        if status.output_underflow or status.output_overflow:
            self.xruns += 1
        prev = self.clock.time_sec
        w = self.clock.update(now, self._last_frames)
        prev = w if prev is None else prev
        sr = self.sample_rate
        n_in = self._take(
            self._in_ring, 0, self._in_ev, int(now * 1e9), int(prev * 1e9), sr * 1e-9, frames - 1
        )
        audio = self._audio[:frames]
        audio[:] = 0.0
        k = self.kernel
        n = self._process(
            k.istate,
            k.fstate,
            self._in_ev,
            n_in,
            self._out_ev,
            frames,
            self._frames_total,
            audio if self._click is not None else self._no_audio,
            self._no_audio,
        )
        out_q = self._out_q
        for off, st, d1, d2 in self._out_ev[:n].tolist():
            out_q.append((w + off / sr, _wire(st, d1, d2)))
        if self._sender is None:
            self._send_now(out_q)
        self._frames_total += frames
        self._last_frames = frames
        if self.feed is not None:
            left, right = self._synth_lr[0, :frames], self._synth_lr[1, :frames]
            fd = self.feed
            self._synth_block(fd.state, fd.rows, k.istate, self._out_ev, n, frames, left, right)
            self._write_out(outdata, left, right, audio if self._click is not None else None)
        else:
            outdata[:, 0] = audio
        i = self.callbacks & 0xFFFF
        self.callback_sec[i] = time.perf_counter() - now
        self.callback_cpu_sec[i] = time.thread_time() - cpu0
        self.callbacks += 1

    def _python_synth(self, outdata, msgs, frames, panic):
        """Python path: the block's output through LiveSynth (a panic lifts its pedals, a
        stop or the quit ends every sound), then the click on top."""
        core = self.core
        playing = bool(core.transport_view[0]) and not core.quiet.is_set()
        stop = self._synth_playing and not playing
        self._synth_playing = playing
        left, right = self._synth_lr[0, :frames], self._synth_lr[1, :frames]
        self.synth.render(msgs, frames, left, right, panic, stop)
        click = None
        if self._click is not None:
            click = self._audio_click[:frames]
            click[:] = 0.0
            self._click.render(click, *core.transport_view)
        self._write_out(outdata, left, right, click)

    def _write_out(self, outdata, left, right, click):
        """The synth's left/right (and the click, in both) into the stream's channels."""
        if click is not None:
            left += click
            right += click
        if self.channels == 2:
            outdata[:, 0] = left
            outdata[:, 1] = right
        else:
            left += right
            left *= 0.5
            outdata[:, 0] = left


def _wire(status, d1, d2) -> bytes:
    """The MIDI bytes of a kernel output row."""
    if status < 0xC0 or 0xE0 <= status < 0xF0 or status == 0xF2:
        return bytes((status, d1, d2))
    if status < 0xE0 or status in (0xF1, 0xF3):
        return bytes((status, d1))
    return bytes((status,))
