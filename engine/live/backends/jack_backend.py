"""The JACK backend: the JACK process callback is the block.

MIDI comes in and goes out with exact frame offsets (sample-accurate: an
event read at offset f of a cycle is at absolute frame ``last_frame_time +
f``, and what we write at offset f reaches the next client at that frame in
the same cycle).  ``--click`` adds an audio port ``click`` connected to the
first two physical playback ports.  With ``options.synth`` (a SoundFont)
the output also plays through FluidSynth on ports ``out_1``/``out_2``
(``engine.audio.live.LiveSynth``: each message at its frame of the block),
connected to the playback ports unless ``options.connect_audio`` is off.

The process callback only moves bytes between the ports and the core; the
xrun, port-connect and shutdown callbacks (JACK's non-realtime thread) only
count or append to deques.  We never start a server: JACK_NO_START_SERVER is
set, and a missing server is a one-line error.
"""

from __future__ import annotations

import collections
import os
import time

import numpy as np

from .base import BackendError, BackendOptions, callback_report, connect_jack_ports
from .click import Click

#: Largest JACK period the engine is prepared for (JACK's own maximum).
MAX_BLOCK = 8192


def _jack():
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import jack
    except (ImportError, OSError) as exc:
        raise BackendError(
            f"backend jack: JACK-Client is not usable ({exc}); install "
            "libjack (jackd2) and `pip install JACK-Client`"
        ) from None
    return jack


def _client(jack, name):
    server = os.environ.get("JACK_DEFAULT_SERVER")
    jack.set_error_function(lambda msg: None)  # libjack's lines; we print one of our own
    try:
        return jack.Client(name, no_start_server=True, servername=server)
    except jack.JackOpenError:
        where = f"server {server!r}" if server else "the default server"
        raise BackendError(
            f"backend jack: cannot reach {where}; start one (e.g. "
            "scripts/jackd-start.sh or qjackctl) or use --backend portaudio"
        ) from None
    finally:
        jack.set_error_function(None)


class JackBackend:
    """JACK client ``<name>`` with ports ``midi_in``, ``midi_out`` (and ``click``)."""

    name = "jack"

    def __init__(self, options: BackendOptions):
        self.options = options
        self.client = None
        self.core = None
        self.xruns = 0
        self.dropped = 0
        self.alive = True
        self._events = collections.deque()  # notices from JACK's callback thread
        self._closing = False
        self._click = None
        self._synth = None
        self._synth_playing = False  # the transport, as the synth last heard it
        self.callback_sec = np.zeros(1 << 16)  # ring of callback durations (bench, status)
        self.callback_cpu_sec = np.zeros(1 << 16)
        self.callbacks = 0

    # -- main thread -------------------------------------------------------
    def open(self) -> None:
        jack = _jack()
        self.client = c = _client(jack, self.options.name)
        self.midi_in = c.midi_inports.register("midi_in")
        self.midi_out = c.midi_outports.register("midi_out")
        if self.options.click:
            self.click_out = c.outports.register("click")
            self._click = Click(c.samplerate)
        self.sample_rate = float(c.samplerate)
        self.block_frames = int(c.blocksize)
        self.max_block = MAX_BLOCK
        if self.options.synth:
            from engine.audio.live import LiveSynth

            try:
                self._synth = LiveSynth(self.options.synth, self.sample_rate, MAX_BLOCK)
            except ValueError:
                self.close(0.1)
                raise
            self.synth_out = (c.outports.register("out_1"), c.outports.register("out_2"))

    def start(self, core) -> None:
        self.core = core
        c = self.client
        c.set_process_callback(self._process)
        c.set_xrun_callback(self._xrun)
        c.set_shutdown_callback(self._shutdown)
        c.set_port_connect_callback(self._port_connect)
        c.activate()
        self._connect()

    def _connect(self):
        try:
            connect_jack_ports(
                self.client,
                self.options,
                self.midi_in,
                self.midi_out,
                self.click_out if self._click is not None else None,
                self.synth_out if self._synth is not None else (),
            )
        except BackendError:
            self.close(1.0)
            raise

    def describe(self) -> str:
        synth = "" if self._synth is None else f", synth {self._synth.soundfont} on out_1/out_2"
        return (
            f"jack client {self.client.name!r} ({self.midi_in.name}, {self.midi_out.name}), "
            f"{self.sample_rate:g} Hz, {self.block_frames} frames{synth}"
        )

    def report(self) -> str:
        """Callback times (JACK writes every message at its exact frame: no send lag)."""
        return callback_report(
            self.callback_sec,
            self.callbacks,
            self.block_frames,
            self.sample_rate,
            self.callback_cpu_sec,
        )

    def poll(self) -> list:
        notices = []
        while self._events:
            notices.append(self._events.popleft())
        return notices

    def close(self, timeout_sec: float = 1.0) -> None:
        """Final panic through the callback, then deactivate and close."""
        if self.client is None or self._closing:
            return
        self._closing = True
        if self.core is not None and self.alive:
            self.core.request("quit")
            # The quit panic is written in the next cycle; wait until it was.
            self.core.quiet.wait(timeout_sec)
            # One more cycle so the receiving clients have read it.
            time.sleep(2.0 * self.block_frames / self.sample_rate + 0.002)
        client = self.client
        try:
            client.deactivate()
        except Exception:
            pass
        try:
            client.close()
        except Exception:
            pass
        self.client = None
        if self._synth is not None:
            self._synth.close()

    # -- JACK's threads ----------------------------------------------------
    def _process(self, frames):
        t0, c0 = time.perf_counter(), time.thread_time()
        self._process_block(frames)
        i = self.callbacks & 0xFFFF
        self.callback_sec[i] = time.perf_counter() - t0
        self.callback_cpu_sec[i] = time.thread_time() - c0
        self.callbacks += 1

    def _process_block(self, frames):
        block_frame = self.client.last_frame_time
        incoming = [(off, bytes(buf)) for off, buf in self.midi_in.incoming_midi_events()]
        panics = self.core.counts["panics"]
        msgs = self.core.run_block(frames, block_frame, incoming)
        out = self.midi_out
        out.clear_buffer()
        for off, data in msgs:
            try:
                out.write_midi_event(off, data)
            except Exception:  # port buffer full: counted, shown in the status line
                self.dropped += 1
        if self._synth is not None:
            self._synth_block(msgs, frames, self.core.counts["panics"] != panics)
        if self._click is not None:
            playing, beat, bpf = self.core.transport_view
            self._click.render(self.click_out.get_array(), playing, beat, bpf)

    def _synth_block(self, msgs, frames, panic):
        """The synth plays the block's output; a panic lifts its pedals (an All Notes Off
        leaves pedal-held notes sounding), a stop or quit also ends every sound."""
        core = self.core
        playing = core.transport_view[0] and not core.quiet.is_set()
        stop = self._synth_playing and not playing
        self._synth_playing = playing
        left, right = self.synth_out
        self._synth.render(msgs, frames, left.get_array(), right.get_array(), panic, stop)

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
            # A source or destination went away: end every note we started.
            self.core.request("panic")
            self._events.append(f"port lost: {a.name} -> {b.name} disconnected; notes ended")


def list_ports() -> list:
    """JACK's audio and MIDI ports (or why there are none)."""
    try:
        jack = _jack()
        client = _client(jack, "groove-ports")
    except BackendError as exc:
        return [f"jack: unavailable: {exc}"]
    try:
        lines = [f"jack: server at {client.samplerate} Hz, {client.blocksize} frames"]
        for label, kw in (
            ("MIDI sources (--in)", dict(is_midi=True, is_output=True)),
            ("MIDI destinations (--out)", dict(is_midi=True, is_input=True)),
            ("audio playback (click)", dict(is_audio=True, is_input=True)),
        ):
            names = [p.name for p in client.get_ports(**kw)]
            lines.append(f"  {label}: " + (", ".join(names) if names else "none"))
        return lines
    finally:
        client.close()
