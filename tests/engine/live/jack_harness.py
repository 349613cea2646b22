"""A JACK test harness: send a pattern at exact frames, record what comes back.

Two clients, so that the graph ``harness-src -> groove -> harness-rec`` has
no cycle and everything happens in one JACK cycle: an event the source
writes at offset f of cycle k is read by ``groove`` at the same absolute
frame, and what ``groove`` writes at offset g is recorded at frame
``last_frame_time + g`` of that same cycle.

The pattern helpers and the expected-frame reference are plain Python
(usable without JACK): an input at absolute frame F is at beat
``t = (F - F_start) / frames_per_beat`` and should come out at frame
``F_start + (T(t) + L) * frames_per_beat``.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
NOTE_ON, NOTE_OFF = 0x90, 0x80
CLOCK, START, STOP = 0xF8, 0xFA, 0xFC


# -- patterns and the reference --------------------------------------------
def note_pattern(
    rng, n_notes, span_frame, keys=range(36, 96), min_len_frame=200, max_len_frame=6000, channel=0
):
    """Random notes over [0, span): (frame, bytes) sorted; no key overlaps itself."""
    starts = np.sort(rng.integers(0, span_frame, n_notes))
    free_at = {}
    events = []
    keys = list(keys)
    for f in starts:
        key = next((k for k in rng.permutation(keys) if free_at.get(k, -1) < f), None)
        if key is None:
            continue
        end = int(f + rng.integers(min_len_frame, max_len_frame))
        free_at[key] = end + 1
        vel = int(rng.integers(1, 128))
        events.append((int(f), bytes((NOTE_ON | channel, int(key), vel))))
        events.append((end, bytes((NOTE_OFF | channel, int(key), 0))))
    events.sort(key=lambda e: e[0])
    return events


def clock_pattern(bpm, sample_rate, first_frame, n_clocks):
    """Clocks at 24 per beat from ``first_frame`` (exact frames, rounded)."""
    fpc = sample_rate * 60.0 / (bpm * 24)
    return [(first_frame + round(k * fpc), bytes((CLOCK,))) for k in range(n_clocks)]


def expected_events(sent, f_start, frames_per_beat, forward, latency_beat):
    """(expected frame as a float, bytes) of each sent note message, in the groove.

    ``forward`` is the reference groove map T (vectorised); a note-off never
    goes before its note-on.
    """
    notes = [(f, b) for f, b in sent if b[0] & 0xF0 in (NOTE_ON, NOTE_OFF)]
    frames = np.array([f for f, _ in notes], dtype=np.float64)
    beats = (frames - f_start) / frames_per_beat
    due = np.asarray(forward(beats), dtype=np.float64) + latency_beat
    on_due = {}
    out = []
    for (_f, b), d in zip(notes, due):
        slot = (b[0] & 0x0F, b[1])
        if b[0] & 0xF0 == NOTE_ON and b[2] > 0:
            on_due[slot] = d
        else:
            d = max(d, on_due.get(slot, -np.inf))
        out.append((f_start + d * frames_per_beat, b))
    return out


def match_notes(expected, received):
    """Pair expected and received note messages per (status, channel, key), in order.

    Returns (errors in frames as an array, unmatched expected, unmatched received).
    """

    def key(b):
        kind = b[0] & 0xF0
        if kind == NOTE_ON and b[2] == 0:
            kind = NOTE_OFF
        return kind, b[0] & 0x0F, b[1]

    want = collections.defaultdict(collections.deque)
    for f, b in expected:
        want[key(b)].append(f)
    errors, extra = [], []
    for f, b in received:
        if b[0] & 0xF0 not in (NOTE_ON, NOTE_OFF):
            continue
        q = want.get(key(b))
        if q:
            errors.append(f - q.popleft())
        else:
            extra.append((f, b))
    missing = sum(len(q) for q in want.values())
    return np.array(errors), missing, extra


def balance(received):
    """Per (channel, key): note-ons minus note-offs (0 everywhere = nothing stuck)."""
    count = collections.Counter()
    for _, b in received:
        kind = b[0] & 0xF0
        if kind not in (NOTE_ON, NOTE_OFF) or len(b) < 3:
            continue
        slot = (b[0] & 0x0F, b[1])
        if kind == NOTE_ON and b[2] > 0:
            count[slot] += 1
        elif kind == NOTE_OFF or kind == NOTE_ON:
            count[slot] -= 1
    return {k: v for k, v in count.items() if v}


# -- the JACK clients ----------------------------------------------------------
class JackHarness:
    """A source client that plays (frame, bytes) at exact frames, and a recorder."""

    def __init__(self, name="harness", server=None):
        import jack

        server = server or os.environ.get("JACK_DEFAULT_SERVER")
        self.src = jack.Client(f"{name}-src", no_start_server=True, servername=server)
        self.rec = jack.Client(f"{name}-rec", no_start_server=True, servername=server)
        self.out = self.src.midi_outports.register("out")
        self.inp = self.rec.midi_inports.register("in")
        self.sample_rate = self.src.samplerate
        self.block_frames = self.src.blocksize
        self._queue = collections.deque()  # (absolute frame, bytes), sorted
        self.late_sends = 0
        self.errors = []  # exceptions raised inside our callbacks (should stay empty)
        self.xruns = 0
        self.src.set_xrun_callback(self._xrun)
        self.received = []
        self.sent = []
        self.src.set_process_callback(self._send)
        self.rec.set_process_callback(self._record)
        self.src.activate()
        self.rec.activate()

    def _xrun(self, delay_usec):
        self.xruns += 1

    def _send(self, frames):
        try:
            self._send_block(frames)
        except Exception as exc:
            self.errors.append(exc)

    def _record(self, frames):
        try:
            self._record_block(frames)
        except Exception as exc:
            self.errors.append(exc)

    def _send_block(self, frames):
        t0 = self.src.last_frame_time
        self.out.clear_buffer()
        q = self._queue
        end = t0 + frames
        while q and q[0][0] < end:
            f, data = q.popleft()
            if f < t0:
                self.late_sends += 1
            off = max(f - t0, 0)
            self.out.write_midi_event(off, data)
            self.sent.append((t0 + off, data))

    def _record_block(self, frames):
        t0 = self.rec.last_frame_time
        for off, buf in self.inp.incoming_midi_events():
            self.received.append((t0 + off, bytes(buf)))

    def connect(self, groove_in, groove_out):
        """Wire source -> groove_in and groove_out -> recorder."""
        self.src.connect(self.out, groove_in)
        self.rec.connect(groove_out, self.inp)

    def frame_now(self) -> int:
        return self.src.frame_time

    def play(self, events, lead_sec=0.3) -> int:
        """Schedule (relative frame, bytes) from ``lead_sec`` ahead; returns the base frame."""
        base = self.frame_now() + int(lead_sec * self.sample_rate)
        self._queue.extend((base + f, b) for f, b in events)
        return base

    def wait_sent(self, timeout_sec=120.0):
        deadline = time.monotonic() + timeout_sec
        while self._queue and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue

    def wait_frames(self, frames, timeout_sec=60.0):
        """Sleep until the JACK clock has moved ``frames`` on."""
        target = self.frame_now() + frames
        deadline = time.monotonic() + timeout_sec
        while self.frame_now() < target and time.monotonic() < deadline:
            time.sleep(0.005)

    def close(self):
        for c in (self.src, self.rec):
            try:
                c.deactivate()
                c.close()
            except Exception:
                pass


# -- the session under test ----------------------------------------------------
class LiveProcess:
    """``groove live`` as a subprocess; ``wait_ready`` reads its ready line."""

    def __init__(self, *args, env=None):
        cmd = [sys.executable, "-m", "engine.cli", "live", *map(str, args)]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.ready_sec = None

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text, timeout_sec=60.0, start=0):
        deadline = time.monotonic() + timeout_sec
        while time.monotonic() < deadline:
            for line in self.lines[start:]:
                if text in line:
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.01)
        raise AssertionError(
            f"no {text!r} from groove live; stdout {self.lines!r}, stderr {self.stderr()!r}"
        )

    def wait_ready(self, timeout_sec=60.0):
        line = self.wait_for("ready", timeout_sec)
        self.ready_sec = time.perf_counter() - self.t0
        return line

    def stderr(self):
        if self.proc.poll() is None:
            return "(running)"
        return self.proc.stderr.read()

    def terminate(self, timeout_sec=10.0):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(timeout_sec)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()
