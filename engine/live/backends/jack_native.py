"""The native JACK backend: a C process callback over the compiled live kernel.

JACK's real-time thread runs a numba ``cfunc`` (``_jack_process``) that
reads the MIDI input port, calls the kernel's ``process_block`` once and
writes the output port, all through libjack's C functions: no Python, no
GIL, so a busy Python thread or a preset load on the main thread cannot
delay a cycle.  Everything the callback touches is preallocated here, on
the main thread, before activation, and reached through the callback's
``void *arg`` (an int64 array of addresses and counters).

JACK-Client still opens the client and serves everything outside the
process callback: ports, connections, the xrun, shutdown and port-connect
notifications (JACK's non-real-time thread).  The output port's latency
range is the kernel's fixed latency ``L`` (``jack_lsp -l`` shows it), so a
host can compensate.  A lost connection or a lost server asks the kernel
for a panic (every sounding note ended) from the main thread's ``poll``.
``close`` has the kernel send its final panic, then waits (at most
``CARRY_WAIT_SEC``) until rows the port buffer refused went out in later
cycles, and only then deactivates the client.

With ``options.synth`` (a SoundFont) the callback is ``_jack_synth_cb``'s:
the block's output rows also play through FluidSynth
(``engine.audio._live_feed``) straight into ports ``out_1``/``out_2``,
connected to the first two playback ports unless ``connect_audio`` is off.
The synth is made here on the main thread (its own threads off) and freed
only after the client is closed, when the callback can no longer run.
"""

from __future__ import annotations

import collections
import ctypes
import time

import numpy as np

from . import _jack_process as P
from ._libjack import (
    CAPTURE_LATENCY,
    LATENCY_CALLBACK,
    LIB,
    PLAYBACK_LATENCY,
    LatencyRange,
    libc_address,
)
from .base import BackendError, BackendOptions, connect_jack_ports
from .jack_backend import MAX_BLOCK, _client, _jack

#: Rows of the event buffers (input and output; JACK's default MIDI buffer
#: holds about 1,000 short messages per cycle).
EV_ROWS = 4096
LONG_ROWS = 256
RING = 1 << 16
#: Longest close waits for JACK to take the rows its port buffer refused (the carry).
CARRY_WAIT_SEC = 0.1


def _addr(a: np.ndarray) -> int:
    return a.ctypes.data


def _resident(a: np.ndarray) -> None:
    """Fault every page of ``a`` in now, and lock it in RAM when the OS lets us.

    np.zeros maps large arrays lazily: without this the real-time thread would
    take a page fault the first time it writes each page (the timing ring,
    the kernel's pending lists).  Main thread, before activation: nobody else
    touches ``a`` yet, so rewriting a byte per page with itself is safe.
    """
    raw = a.reshape(-1).view(np.uint8)
    raw[::4096] = raw[::4096].copy()
    try:
        _LIBC.mlock(ctypes.c_void_p(a.ctypes.data), ctypes.c_size_t(a.nbytes))
    except (OSError, AttributeError):
        pass  # not allowed (RLIMIT_MEMLOCK): resident for now, may be paged out


try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - every POSIX system has one
    _LIBC = None


def _port_ptr(port) -> int:
    """A JACK-Client port's ``jack_port_t *`` as an integer."""
    import jack

    return int(jack._ffi.cast("uintptr_t", port._ptr))


class NativeJackBackend:
    """JACK client ``<name>`` with ports ``midi_in``, ``midi_out`` (and ``click``).

    Parameters
    ----------
    options : BackendOptions
    callback : numba cfunc, optional
        The process callback (default: ``_jack_cb.process``, bound to
        ``engine.host.live_kernel.process_block``); a test binds a stand-in
        kernel the same way (see ``_jack_process``).
    """

    name = "jack"
    realtime_safe = True

    def __init__(self, options: BackendOptions, callback=None):
        self.options = options
        self.callback = callback
        self.client = self.kernel = None
        self.alive = True
        self.xruns = 0
        self._events = collections.deque()  # notices from JACK's notification thread
        self._panic_wanted = False
        self._closing = False
        self._active = False
        self._keep = []  # everything whose address the callback holds
        self.feed = None  # engine.audio._live_feed.LiveFeed with options.synth

    # -- main thread -------------------------------------------------------
    def open(self) -> None:
        jack = _jack()
        self.client = c = _client(jack, self.options.name)
        self.midi_in = c.midi_inports.register("midi_in")
        self.midi_out = c.midi_outports.register("midi_out")
        self.click_out = c.outports.register("click") if self.options.click else None
        self.sample_rate = float(c.samplerate)
        self.block_frames = int(c.blocksize)
        self.max_block = MAX_BLOCK
        if self.options.synth:
            from engine.audio._live_feed import LiveFeed

            try:
                self.feed = LiveFeed(self.options.synth, self.sample_rate, self.max_block)
            except ValueError:
                self.close(0.1)
                raise
            self.synth_out = (c.outports.register("out_1"), c.outports.register("out_2"))

    @property
    def client_ptr(self) -> int:
        import jack

        return int(jack._ffi.cast("uintptr_t", self.client._ptr))

    def _slots(self, kernel) -> np.ndarray:
        synth = None
        if self.feed is not None:
            from . import _jack_synth_cb as synth
        s = np.zeros(P.N_SLOTS if synth is None else synth.N_SYNTH_SLOTS, np.int64)

        def buf(a):
            self._keep.append(a)
            _resident(a)
            return _addr(a)

        for slot, fn in (
            (P.FN_PORT_GET_BUFFER, "jack_port_get_buffer"),
            (P.FN_MIDI_COUNT, "jack_midi_get_event_count"),
            (P.FN_MIDI_GET, "jack_midi_event_get"),
            (P.FN_MIDI_CLEAR, "jack_midi_clear_buffer"),
            (P.FN_MIDI_WRITE, "jack_midi_event_write"),
            (P.FN_LAST_FRAME_TIME, "jack_last_frame_time"),
        ):
            s[slot] = LIB.address(fn)
        s[P.FN_CLOCK_GETTIME] = libc_address("clock_gettime")
        s[P.CLIENT] = self.client_ptr
        s[P.PORT_IN] = _port_ptr(self.midi_in)
        s[P.PORT_OUT] = _port_ptr(self.midi_out)
        s[P.PORT_CLICK] = _port_ptr(self.click_out) if self.click_out is not None else 0
        istate = np.ascontiguousarray(kernel.istate)
        fstate = np.ascontiguousarray(kernel.fstate)
        if istate is not kernel.istate or fstate is not kernel.fstate:
            raise BackendError("backend jack: the kernel's state arrays must be contiguous")
        s[P.ISTATE], s[P.ISTATE_LEN] = buf(istate), istate.shape[0]
        s[P.FSTATE], s[P.FSTATE_LEN] = buf(fstate), fstate.shape[0]
        s[P.IN_EV] = buf(np.zeros((EV_ROWS, 4), np.int32))
        s[P.OUT_EV] = buf(np.zeros((EV_ROWS, 4), np.int32))
        s[P.EV_ROWS] = EV_ROWS
        s[P.LONG_EV] = buf(np.zeros((LONG_ROWS, 3), np.int64))
        s[P.LONG_ROWS] = LONG_ROWS
        s[P.MIDI_EVENT] = buf(np.zeros(4, np.int64))
        s[P.BYTES] = buf(np.zeros(8, np.uint8))
        s[P.SCRATCH_AUDIO] = buf(np.zeros(2 * self.max_block, np.float32))
        s[P.MAX_BLOCK] = self.max_block
        self.ring_ns = np.zeros(RING, np.int64)
        self.ring_stamp_ns = np.zeros(RING, np.int64)
        s[P.RING_NS], s[P.RING_STAMP_NS] = buf(self.ring_ns), buf(self.ring_stamp_ns)
        s[P.RING_MASK] = RING - 1
        s[P.TIMESPEC] = buf(np.zeros(2, np.int64))
        if synth is not None:
            feed = self.feed
            if feed.rows.shape != (synth.SYNTH_ROW_CAP, 4) or not feed.rows.flags.c_contiguous:
                raise BackendError("backend jack: the synth's row table has the wrong shape")
            s[synth.SYNTH_STATE] = buf(feed.state)
            s[synth.SYNTH_ROWS] = buf(feed.rows)
            s[synth.PORT_OUT1] = _port_ptr(self.synth_out[0])
            s[synth.PORT_OUT2] = _port_ptr(self.synth_out[1])
        _resident(s)
        return s

    def start(self, kernel) -> None:
        """Compile the callback, register it, report L, activate, connect."""
        if self.feed is not None:
            self.feed.prepare()
        if self.callback is None:
            if self.feed is not None:
                from ._jack_synth_cb import process
            else:
                from ._jack_cb import process

            self.callback = process
        self.kernel = kernel
        cb = self.callback
        self.slots = self._slots(kernel)
        self._keep.append(self.slots)
        self._cfunc = cb
        c = self.client
        ptr = self.client_ptr
        if LIB.jack_set_process_callback(ptr, cb.address, _addr(self.slots)) != 0:
            raise BackendError("backend jack: libjack refused the process callback")
        self._latency_cb = LATENCY_CALLBACK(self._latency)
        LIB.jack_set_latency_callback(ptr, self._latency_cb, None)
        c.set_xrun_callback(self._xrun)
        c.set_shutdown_callback(self._shutdown)
        c.set_port_connect_callback(self._port_connect)
        c.activate()
        self._active = True
        LIB.jack_recompute_total_latencies(ptr)
        self._connect()

    def _connect(self):
        try:
            connect_jack_ports(
                self.client,
                self.options,
                self.midi_in,
                self.midi_out,
                self.click_out,
                self.synth_out if self.feed is not None else (),
            )
        except BackendError:
            self.close(1.0)
            raise

    # -- counters and reports ------------------------------------------------
    @property
    def callbacks(self) -> int:
        return int(self.slots[P.CALLBACKS]) if self.kernel is not None else 0

    @property
    def dropped(self) -> int:
        s = getattr(self, "slots", None)
        synth = 0 if self.feed is None else self.feed.dropped
        return synth if s is None else int(s[P.DROPPED_OUT] + s[P.DROPPED_IN]) + synth

    def counts(self) -> dict:
        s = self.slots
        return dict(
            callbacks=int(s[P.CALLBACKS]),
            midi_in=int(s[P.MIDI_IN]),
            midi_out=int(s[P.MIDI_OUT]),
            long_passed=int(s[P.LONG_PASSED]),
            dropped_in=int(s[P.DROPPED_IN]),
            dropped_out=int(s[P.DROPPED_OUT]),
            oversize=int(s[P.OVERSIZE]),
        )

    def callback_times_sec(self, last: int | None = None):
        """(durations, start stamps) of the last callbacks, seconds, oldest first."""
        n = min(self.callbacks, RING)
        if last is not None:
            n = min(n, last)
        end = self.callbacks
        idx = np.arange(end - n, end) & (RING - 1)
        return self.ring_ns[idx] * 1e-9, self.ring_stamp_ns[idx] * 1e-9

    def describe(self) -> str:
        return (
            f"jack client {self.client.name!r} ({self.midi_in.name}, {self.midi_out.name}), "
            f"{self.sample_rate:g} Hz, {self.block_frames} frames, native callback"
            + ("" if self.feed is None else f", synth {self.feed.soundfont} on out_1/out_2")
        )

    def report(self) -> str:
        from .base import callback_report

        took, _ = self.callback_times_sec()
        return callback_report(took, took.shape[0], self.block_frames, self.sample_rate)

    def poll(self) -> list:
        """Notices since the last poll; a lost port asks the kernel for a panic."""
        notices = []
        while self._events:
            notices.append(self._events.popleft())
        if self._panic_wanted and self.kernel is not None:
            self._panic_wanted = False
            self.kernel.command("panic")
        return notices

    def close(self, timeout_sec: float = 1.0) -> None:
        """Final panic through the callback (the kernel's ``quit``), then close."""
        if self.client is None or self._closing:
            return
        self._closing = True
        if self.kernel is not None and self.alive and self._active:
            self.kernel.command("quit")
            self._wait_quit(timeout_sec)
            self._wait_carry()
        client = self.client
        for step in (client.deactivate, client.close):
            try:
                step()
            except Exception:
                pass
        self.client = None
        if self.feed is not None:  # the callback is gone with the client: free the synth
            self.feed.close()

    def _wait_quit(self, timeout_sec):
        """Until the kernel sent its final panic, and one more cycle for readers."""
        deadline = time.monotonic() + timeout_sec
        start = self.callbacks
        while time.monotonic() < deadline and self.alive:
            done = getattr(self.kernel, "quit_done", None)
            # Without the flag: two cycles after the command (it runs at a block start).
            if done if done is not None else self.callbacks >= start + 2:
                break
            time.sleep(0.001)
        target = self.callbacks + 2
        while self.callbacks < target and time.monotonic() < deadline and self.alive:
            time.sleep(0.001)

    def _wait_carry(self):
        """Until the rows a full port buffer refused went out (a final panic of thousands
        of notes spans cycles; ``_jack_process.finish`` carries them), then one cycle more
        for the readers; at most ``CARRY_WAIT_SEC`` (a stalled server does not hold us)."""
        deadline = time.monotonic() + CARRY_WAIT_SEC
        if self.slots[P.CARRY] <= 0:
            return
        while self.slots[P.CARRY] > 0 and time.monotonic() < deadline and self.alive:
            time.sleep(0.001)
        target = self.callbacks + 1
        while self.callbacks < target and time.monotonic() < deadline and self.alive:
            time.sleep(0.001)

    # -- JACK's notification thread ------------------------------------------
    def _latency(self, mode, arg):
        """Our output is the input ``L`` frames later; hosts add it up."""
        try:
            rng = LatencyRange()
            late = int(self.kernel.latency_frame) if self.kernel is not None else 0
            if mode == CAPTURE_LATENCY:
                src, dst = self.midi_in, self.midi_out
            elif mode == PLAYBACK_LATENCY:
                src, dst = self.midi_out, self.midi_in
            else:
                return
            LIB.jack_port_get_latency_range(_port_ptr(src), mode, ctypes.byref(rng))
            rng.min += late
            rng.max += late
            LIB.jack_port_set_latency_range(_port_ptr(dst), mode, ctypes.byref(rng))
        except Exception:  # a notification thread must not raise into libjack
            pass

    def _xrun(self, delay_usec):
        self.xruns += 1

    def _shutdown(self, status, reason):
        self.alive = False
        self._events.append(f"JACK server shut down: {reason}")

    def _port_connect(self, a, b, connect):
        if connect or self._closing:
            return
        mine = (self.midi_in.name, self.midi_out.name)
        if a.name in mine or b.name in mine:
            self._panic_wanted = True
            self._events.append(f"port lost: {a.name} -> {b.name} disconnected; notes ended")


__all__ = ["NativeJackBackend"]
