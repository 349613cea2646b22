"""The PortAudio backend: a sounddevice stream is the clock, rtmidi the ports.

rtmidi gives no frame offsets, so time is mapped through the wall clock:

* input: rtmidi's callback stamps each message with ``perf_counter()`` and
  queues it; the audio callback of block k takes what arrived before it and
  places each message at ``(t - w[k-1]) * rate`` frames, where ``w`` are the
  callbacks' times smoothed by a delay-locked loop.  So input is delayed by
  one block, constant, and keeps its spacing to within the callbacks' jitter;
* output (``send_timing="thread"``, the default): the audio callback queues
  each message with its due time ``w[k] + frame / rate`` and a sender thread
  (real-time priority where allowed) sends it then, not at the block start,
  paced so that a burst never exceeds ``PACE_PER_MS`` messages per
  millisecond (rtmidi's JACK output silently drops messages when a burst
  outruns its ring buffer or JACK's MIDI buffer: measured here from about
  1,100 back to back at 64 frames);
* output (``send_timing="block"``): the audio callback sends the block's
  messages itself, so output time is quantised to the block (at most
  ``PACE_PER_BLOCK`` a block; the rest wait for the next one).  No thread
  has to wake up in time, which is steadier on a loaded machine.

Anything rtmidi reports as an error is counted in ``dropped``.

With a compiled rack (``engine.host.live_kernel.LiveKernel`` passed to
``start`` instead of a ``BlockCore``), rtmidi's thread writes each message
with its arrival time into a single-producer single-consumer ring in numpy
memory, and the audio callback moves what arrived into the block and calls
the kernel's ``process_block`` once, a ``nogil`` call: no Python object per
event and no lock between the threads.  Messages longer than three bytes
(sysex) skip the kernel and go straight out.

With ``options.synth`` (a SoundFont) the grooved output also plays through
FluidSynth on the stream's own output (stereo when the device has two
channels, else mixed to one; the click adds in): on the kernel path the
callback calls ``engine.audio._live_feed.synth_block`` on the block's
output rows right after ``process_block``, another ``nogil`` call, so each
message sounds on FluidSynth's 64-frame grid nearest its frame in the
block, the frame its MIDI output is due at; on the Python path the same
rows go through ``engine.audio.live.LiveSynth``.  The synth is made on the
main thread in ``start`` (its own threads off) and freed in ``close``
after the stream is closed, when the callback can no longer run.  The MIDI
output goes on alongside, unchanged.

The rtmidi side (ports, input, the sender thread) is in ``_pa_midi``, the
audio callback (both paths, the synth output) in ``_pa_audio``: mixins of
:class:`PortAudioBackend`, whose constants are re-exported here.

``--midi-api`` picks rtmidi's API: alsa, jack (Linux), coremidi (macOS),
winmm (Windows; it has no virtual ports, so --in and --out are needed, e.g.
loopMIDI ports).
"""

from __future__ import annotations

import collections
import threading
import time

import numpy as np

from ._pa_audio import BLOCK_ROWS, RING_ROWS, _AudioCallback  # noqa: F401
from ._pa_midi import PACE_PER_BLOCK, PACE_PER_MS, QUEUE_LIMIT, _MidiPorts  # noqa: F401
from .base import BackendError, BackendOptions, callback_report
from .click import Click
from .timing import BlockClock, InputClock

API_NAMES = ("alsa", "jack", "coremidi", "winmm")


def _rtmidi():
    try:
        import rtmidi
    except ImportError as exc:
        raise BackendError(
            f"backend portaudio: python-rtmidi is missing ({exc}); `pip install python-rtmidi`"
        ) from None
    return rtmidi


def _sounddevice():
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise BackendError(
            f"backend portaudio: sounddevice is not usable ({exc}); install "
            "libportaudio2 and `pip install sounddevice`"
        ) from None
    return sounddevice


def api_ids(rtmidi) -> dict:
    """rtmidi API constants by the names ``--midi-api`` takes."""
    return {
        "alsa": rtmidi.API_LINUX_ALSA,
        "jack": rtmidi.API_UNIX_JACK,
        "coremidi": rtmidi.API_MACOSX_CORE,
        "winmm": rtmidi.API_WINDOWS_MM,
    }


def resolve_api(rtmidi, name):
    """(api id, api name) for ``--midi-api`` (None: rtmidi's first compiled API)."""
    compiled = rtmidi.get_compiled_api()
    ids = api_ids(rtmidi)
    names = [n for n, i in ids.items() if i in compiled]
    if name is None:
        if not compiled:
            raise BackendError("--midi-api: this rtmidi was built without any MIDI API")
        first = compiled[0]
        return first, next((n for n, i in ids.items() if i == first), str(first))
    if name not in ids:
        raise BackendError(f"--midi-api: {name!r} is not one of {', '.join(API_NAMES)}")
    if ids[name] not in compiled:
        raise BackendError(
            f"--midi-api: {name!r} is not built into this rtmidi "
            f"(it has: {', '.join(names) or 'none'})"
        )
    return ids[name], name


class PortAudioBackend(_MidiPorts, _AudioCallback):
    """A sounddevice output stream (clock, click) and rtmidi in/out ports."""

    name = "portaudio"

    def __init__(self, options: BackendOptions):
        self.options = options
        self.core = None
        self.xruns = 0
        self.dropped = 0
        self.sent = 0
        self.alive = True
        self.send_lag_sec = collections.deque(maxlen=100000)  # sent minus due (bench)
        self._in_q = collections.deque()
        self._input_clock = InputClock()
        self._out_q = collections.deque()
        self._notices = collections.deque()
        self._stop = False
        self._lost = set()
        self._frames_total = 0
        self._last_frames = 0
        self._stream = self._sender = None
        self.midi_in = self.midi_out = None
        self.callback_sec = np.zeros(1 << 16)  # ring of callback durations (bench, status)
        self.callback_cpu_sec = np.zeros(1 << 16)
        self.callbacks = 0
        self.kernel = None
        self.feed = None  # engine.audio._live_feed.LiveFeed (kernel path, options.synth)
        self.synth = None  # engine.audio.live.LiveSynth (Python path, options.synth)
        self._synth_playing = False  # Python path: the transport as the synth last heard it
        self.channels = 1

    # -- main thread -------------------------------------------------------
    def open(self) -> None:
        rtmidi, sd = _rtmidi(), _sounddevice()
        api, self.api_name = resolve_api(rtmidi, self.options.midi_api)
        self._open_midi(rtmidi, api)
        device = self.options.device
        if device is not None and str(device).isdigit():
            device = int(device)
        try:
            info = sd.query_devices(device, kind="output")
        except (ValueError, sd.PortAudioError) as exc:
            self._close_midi()
            raise BackendError(
                f"--device: no audio output device {device or '(default)'} "
                f"({exc}); `groove ports` lists them"
            ) from None
        self.sample_rate = float(self.options.sample_rate or info["default_samplerate"])
        self.block_frames = int(self.options.block_frames or 256)
        self.max_block = max(self.block_frames, 8192)
        self.device_name = info["name"]
        self._click = Click(self.sample_rate) if self.options.click else None
        self.clock = BlockClock(self.sample_rate)
        # the synth plays in stereo where the device has two channels (the click is mono)
        self.channels = 2 if self.options.synth and info["max_output_channels"] >= 2 else 1
        try:
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate,
                blocksize=self.block_frames,
                device=device,
                channels=self.channels,
                dtype="float32",
                callback=self._callback,
                latency="low",
            )
        except (ValueError, sd.PortAudioError) as exc:
            self._close_midi()
            raise BackendError(
                f"backend portaudio: cannot open {info['name']!r} at "
                f"{self.sample_rate:g} Hz, {self.block_frames} frames ({exc})"
            ) from None

    def start(self, core) -> None:
        """Start the stream driving ``core``: a BlockCore, or a LiveKernel (compiled rack)."""
        from engine.host.live_kernel import LiveKernel

        if self.options.send_timing not in ("thread", "block"):
            raise BackendError(
                f"--send-timing: {self.options.send_timing!r} is not one of thread, block"
            )
        self.core = core
        kernel = isinstance(core, LiveKernel)
        if self.options.synth:
            self._open_synth(kernel)
        if kernel:
            self._kernel_buffers()  # before rtmidi's thread can see the kernel
            self.kernel = core
        if self.options.send_timing == "thread":
            self._sender = threading.Thread(
                target=self._send_loop, name="groove-midi-out", daemon=True
            )
            self._sender.start()
        self._stream.start()

    def counts(self) -> dict:
        """MIDI messages in and out (kernel path: as the kernel counted them)."""
        if self.kernel is not None:
            st = self.kernel.poll()
            return dict(midi_in=st["events_in"], midi_out=st["events_out"])
        c = self.core.counts if self.core is not None else {}
        return dict(midi_in=c.get("midi_in", 0), midi_out=c.get("midi_out", 0))

    def describe(self) -> str:
        ports = f"in {self._port_names[0]!r}, out {self._port_names[1]!r}"
        io_ms = self.block_frames / self.sample_rate * 1000.0
        live = self.feed or self.synth
        synth = (
            ""
            if live is None
            else f"; synth {live.soundfont} on the device "
            + ("(stereo)" if self.channels == 2 else "(mono)")
        )
        return (
            f"portaudio {self.device_name!r} {self.sample_rate:g} Hz, {self.block_frames} "
            f"frames (+{io_ms:.1f} ms I/O latency); rtmidi {self.api_name} ({ports}; output "
            + (
                "timed by a sender thread)"
                if self.options.send_timing == "thread"
                else "sent by the audio callback, quantised to the block)"
            )
            + synth
        )

    def report(self) -> str:
        """Callback times, and how late the sender got messages out against their due time."""
        cb = callback_report(
            self.callback_sec,
            self.callbacks,
            self.block_frames,
            self.sample_rate,
            self.callback_cpu_sec,
        )
        lag = sorted(self.send_lag_sec)
        if not lag:
            return f"{cb}; sent 0"
        pick = [lag[min(len(lag) - 1, int(q * len(lag)))] * 1000 for q in (0.5, 0.99)]
        return (
            f"{cb}; sent {self.sent}, send lag p50 {pick[0]:.2f} p99 {pick[1]:.2f} "
            f"max {lag[-1] * 1000:.2f} ms"
        )

    def poll(self) -> list:
        """Panic when a named port disappeared (rtmidi has no notification)."""
        opt = self.options
        for port, wanted in ((self.midi_in, opt.in_port), (self.midi_out, opt.out_port)):
            if not wanted or wanted in self._lost:
                continue
            try:
                names = port.get_ports()
            except Exception:
                continue
            if not any(wanted.lower() in n.lower() for n in names):
                self._lost.add(wanted)
                if self.kernel is not None:
                    self.kernel.command("panic")
                else:
                    self.core.request("panic")
                self._notices.append(f"port lost: {wanted!r} is gone; notes ended")
        notices = []
        while self._notices:
            notices.append(self._notices.popleft())
        return notices

    def close(self, timeout_sec: float = 1.0) -> None:
        if self._stream is None:
            self._close_midi()
            self._close_synth()
            return
        if self.kernel is not None and self._stream.active:
            self.kernel.command("quit")
            deadline = time.perf_counter() + timeout_sec
            while not self.kernel.quit_done and time.perf_counter() < deadline:
                time.sleep(0.002)
            deadline = time.perf_counter() + timeout_sec
            while self._out_q and time.perf_counter() < deadline:
                time.sleep(0.001)
            time.sleep(0.05)
        elif self.core is not None and self._stream.active:
            self.core.request("quit")
            self.core.quiet.wait(timeout_sec)
            deadline = time.perf_counter() + timeout_sec
            while self._out_q and time.perf_counter() < deadline:
                time.sleep(0.001)
            time.sleep(0.05)  # rtmidi's JACK output flushes in its next cycle
        self._stop = True
        if self._sender is not None:
            self._sender.join(1.0)
        try:
            self._stream.stop()
            self._stream.close()
        except Exception:
            pass
        self._stream = None
        self._close_midi()
        self._close_synth()


def list_ports() -> list:
    """PortAudio's output devices and rtmidi's ports for each compiled API."""
    lines = []
    try:
        sd = _sounddevice()
        apis = sd.query_hostapis()
        lines.append("portaudio: audio output devices (--device):")
        found = False
        for i, dev in enumerate(sd.query_devices()):
            if dev["max_output_channels"] > 0:
                found = True
                lines.append(
                    f"  [{i}] {dev['name']} ({apis[dev['hostapi']]['name']}, "
                    f"{dev['default_samplerate']:g} Hz)"
                )
        if not found:
            lines.append(
                "  none (no sound card; with a JACK server running PortAudio's JACK "
                "host API shows 'system')"
            )
    except BackendError as exc:
        lines.append(f"portaudio: unavailable: {exc}")
    try:
        rtmidi = _rtmidi()
    except BackendError as exc:
        return lines + [f"rtmidi: unavailable: {exc}"]
    for name, api in api_ids(rtmidi).items():
        if api not in rtmidi.get_compiled_api():
            continue
        try:
            mi, mo = (
                rtmidi.MidiIn(api, name="groove-ports"),
                rtmidi.MidiOut(api, name="groove-ports"),
            )
            ins, outs = mi.get_ports(), mo.get_ports()
            mi.delete()
            mo.delete()
        except Exception as exc:
            lines.append(f"rtmidi --midi-api {name}: unavailable ({exc})")
            continue
        lines.append(
            f"rtmidi --midi-api {name}: sources (--in): {', '.join(ins) or 'none'}; "
            f"destinations (--out): {', '.join(outs) or 'none'}"
        )
    return lines
