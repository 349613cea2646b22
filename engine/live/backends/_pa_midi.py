"""The PortAudio backend's rtmidi side: ports, input, and the timed output.

A mixin of ``portaudio_backend.PortAudioBackend`` (its state is made in the
backend's ``__init__``; see that module's docstring for how time is mapped).
Which thread runs what:

* the main thread: ``_open_midi`` and ``_close_midi`` (from ``open`` and
  ``close``);
* rtmidi's thread: ``_on_midi`` (the input callback: stamps each message and
  queues it, or pushes it into the kernel path's input ring) and
  ``_rt_error``;
* the sender thread ``groove-midi-out`` (``send_timing="thread"``):
  ``_send_loop`` sends each queued message at its due time, paced;
* the audio callback (``send_timing="block"``): ``_send_now``.
"""

from __future__ import annotations

import time

from .base import BackendError, match_port
from .timing import try_realtime

#: Most messages sent in one millisecond (see the portaudio_backend docstring).
PACE_PER_MS = 128
#: Most messages the callback sends in one block with send_timing="block".
PACE_PER_BLOCK = 256
#: Most messages queued between callbacks before new ones are counted as dropped.
QUEUE_LIMIT = 65536


class _MidiPorts:
    """rtmidi in/out ports and the sending of output (mixed into PortAudioBackend)."""

    # -- main thread -------------------------------------------------------
    def _open_midi(self, rtmidi, api):
        opt = self.options
        try:
            self.midi_in = rtmidi.MidiIn(api, name=opt.name)
            # JACK wants unique client names: name the output's client explicitly
            # rather than let JACK rename it <name>-01.
            out_client = f"{opt.name}-out" if self.api_name == "jack" else opt.name
            self._out_client = out_client
            self.midi_out = rtmidi.MidiOut(api, name=out_client)
        except Exception as exc:  # rtmidi raises its own SystemError and friends
            raise BackendError(
                f"--midi-api {self.api_name}: cannot open MIDI ({exc}); "
                f"try another --midi-api (`groove ports` shows what works)"
            ) from None
        self.midi_in.ignore_types(sysex=False, timing=False, active_sense=True)
        self.midi_out.set_error_callback(self._rt_error)
        self.midi_in.set_error_callback(self._rt_error)
        prefix = f"{opt.name}:" if self.api_name == "coremidi" else ""
        self._port_names = []
        for port, wanted, label in (
            (self.midi_in, opt.in_port, "--in"),
            (self.midi_out, opt.out_port, "--out"),
        ):
            kind = "midi_in" if port is self.midi_in else "midi_out"
            try:
                if wanted:
                    names = port.get_ports()
                    found = match_port(wanted, names, label)
                    port.open_port(names.index(found), kind)
                    self._port_names.append(found)
                else:
                    port.open_virtual_port(prefix + kind)
                    client = opt.name if port is self.midi_in else self._out_client
                    self._port_names.append(
                        f"{client}:{kind}" if self.api_name in ("jack", "alsa") else prefix + kind
                    )
            except BackendError:
                self._close_midi()
                raise
            except Exception as exc:
                self._close_midi()
                raise BackendError(
                    f"{label}: cannot open a {self.api_name} port ({exc}); "
                    "WinMM has no virtual ports: pass --in/--out"
                ) from None
        self.midi_in.set_callback(self._on_midi)

    def _close_midi(self):
        for port in (self.midi_in, self.midi_out):
            if port is not None:
                try:
                    port.close_port()
                    port.delete()
                except Exception:
                    pass
        self.midi_in = self.midi_out = None

    # -- rtmidi's thread ---------------------------------------------------
    def _on_midi(self, message, data=None):
        stamp = time.perf_counter()
        if self.kernel is not None:
            self._on_midi_kernel(
                message[0], min(self._input_clock.arrival(stamp, message[1]), stamp)
            )
            return
        if len(self._in_q) < QUEUE_LIMIT:
            at = min(self._input_clock.arrival(stamp, message[1]), stamp)
            self._in_q.append((at, bytes(message[0])))
        else:
            self.dropped += 1

    def _on_midi_kernel(self, msg, at):
        """rtmidi's thread, the ring's only producer: (arrival ns, status, data1, data2)."""
        if 1 <= len(msg) <= 3 and msg[0] != 0xF0:
            row = (
                int(at * 1e9),
                msg[0],
                msg[1] if len(msg) > 1 else 0,
                msg[2] if len(msg) > 2 else 0,
            )
            if not self._push_row(self._in_ring, 0, *row):
                self.dropped += 1
        else:
            self._out_q.append((at, bytes(msg)))  # sysex passes straight through

    def _rt_error(self, kind, text, data=None):
        self.dropped += 1
        self._notices.append(f"rtmidi: {text}")

    def _send_now(self, q):
        """send_timing="block": send what this block produced (paced per block)."""
        for _ in range(min(len(q), PACE_PER_BLOCK)):
            self._send_one(*q.popleft())

    def _send_one(self, due, data):
        """Send one message; a failure is counted and reported, never raised."""
        try:
            self.midi_out.send_message(data)
            self.sent += 1
            self.send_lag_sec.append(time.perf_counter() - due)
        except Exception as exc:
            self.dropped += 1
            self._notices.append(f"rtmidi: send failed ({exc})")

    # -- the sender thread -------------------------------------------------
    def _send_loop(self):
        try_realtime()
        q = self._out_q
        window_end, in_window = 0.0, 0
        while not self._stop or q:
            if not q:
                time.sleep(0.0005)
                continue
            due, data = q[0]
            now = time.perf_counter()
            if due > now:
                time.sleep(min(due - now, 0.001))
                continue
            if now >= window_end:
                window_end, in_window = now + 0.001, 0
            if in_window >= PACE_PER_MS:
                time.sleep(max(window_end - now, 0.0))
                continue
            q.popleft()
            self._send_one(due, data)
            in_window += 1
            if self._stop and not q:
                break
