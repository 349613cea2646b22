"""Live timing processors: an event at beat t goes out at beat map(t) + L.

A groove, quantize or humanize applied to live input must sometimes move an
event earlier than it arrived, which no real-time system can do; adding a
constant latency L (at least the largest early move) makes every move a
delay.  ``DelayProcessor`` holds the events until their block, pairs each
note-off with its note-on so that it never goes out first, and plays an
event that is already overdue at frame 0 of the current block, counting it
as late.

Events whose ``beat`` is finite were placed by the timeline scheduler, which
has already applied the timing processors through the groove's inverse:
they pass through untouched.
"""

from __future__ import annotations

import math

import numpy as np

from .events import EVENT_DTYPE, NOTE_OFF, NOTE_ON
from .processor import Block, Processor


class DelayProcessor(Processor):
    """Base of processors that move live events in time.

    Subclasses implement ``map_beats(beats, events) -> beats`` (vectorised,
    audio thread, must not raise) and ``early_beat(bpm)`` (the largest
    early move at a tempo, >= 0), and may override ``latency_ms``.
    """

    timing = True

    def __init__(self, latency_ms=None, capacity: int = 4096):
        super().__init__()
        if latency_ms is not None and not (0 <= latency_ms <= 2000):
            raise ValueError(f"latency_ms: {latency_ms!r} is outside 0 .. 2000")
        self.latency_ms = latency_ms
        self._pending = np.zeros(capacity, dtype=EVENT_DTYPE)  # .beat = due beat
        self._n = 0
        self._next_due = math.inf  # earliest due beat pending: most blocks release nothing
        self._on_due = np.full(16 * 128, -math.inf)  # due beat of each key's last note-on
        self.late = 0
        self.dropped = 0

    # -- subclass interface ------------------------------------------------
    def map_beats(self, beats: np.ndarray, events: np.ndarray) -> np.ndarray:
        return beats

    def early_beat(self, bpm: float) -> float:
        return 0.0

    def latency_beat(self, bpm: float) -> float:
        """L in beats: ``latency_ms`` at this tempo, or the largest early move."""
        if self.latency_ms is not None:
            return self.latency_ms / 1000.0 * bpm / 60.0
        return self.early_beat(bpm)

    # -- audio thread -----------------------------------------------------
    def reset(self):
        self._n = 0
        self._next_due = math.inf
        self._on_due[:] = -math.inf

    def process(self, block: Block):
        ev = block.events_in.view()
        out = block.events_out
        if ev.shape[0] == 0:
            if self._n:
                self._release(block, out)
            return
        live = np.isnan(ev["beat"])
        n_live = np.count_nonzero(live)
        if n_live == 0 or not block.playing or block.beats_per_frame <= 0.0:
            out.extend(ev, presorted=True)  # timeline events: already placed
        else:
            if n_live < ev.shape[0]:
                out.extend(ev[~live], presorted=True)
            self._enqueue(ev[live], block)
        if self._n:
            self._release(block, out)

    def _enqueue(self, ev, block):
        bpm = block.beats_per_frame * block.sample_rate * 60.0
        arrived = block.start_beat + ev["frame"] * block.beats_per_frame
        due = self.map_beats(arrived, ev) + self.latency_beat(bpm)
        # In order, over plain lists (structured-row access costs a microsecond
        # each): a note-off never goes before the note-on it ends.
        on_due = self._on_due
        slots = (ev["channel"].astype(np.int64) * 128 + ev["key"]).tolist()
        due_list = due.tolist()
        for i, kind in enumerate(ev["kind"].tolist()):
            if kind == NOTE_ON:
                on_due[slots[i]] = due_list[i]
            elif kind == NOTE_OFF and due_list[i] < on_due[slots[i]]:
                due_list[i] = on_due[slots[i]]
        k = min(ev.shape[0], self._pending.shape[0] - self._n)
        self.dropped += ev.shape[0] - k
        n = self._n
        self._pending[n : n + k] = ev[:k]
        self._pending["beat"][n : n + k] = due_list[:k]
        self._n = n + k
        if k:
            self._next_due = min(self._next_due, min(due_list[:k]))

    def _release(self, block, out):
        end = block.end_beat if block.frames else block.start_beat
        if self._n == 0 or self._next_due >= end:
            return
        pend = self._pending[: self._n]
        ready = pend["beat"] < end
        if not ready.any():
            return
        go = pend[ready]
        go = go[np.argsort(go["beat"], kind="stable")]
        late = go["beat"] < block.start_beat - 1e-9
        self.late += int(late.sum())
        # +1e-6: a beat meant to land exactly on a frame must not floor to the one before
        frames = np.floor((go["beat"] - block.start_beat) / block.beats_per_frame + 1e-6)
        go["frame"] = np.clip(frames, 0, max(block.frames - 1, 0)).astype(np.int32)
        go["beat"] = np.nan  # live events carry no timeline position
        out.extend(go)
        keep = pend[~ready]
        self._pending[: keep.shape[0]] = keep
        self._n = keep.shape[0]
        self._next_due = float(keep["beat"].min()) if self._n else math.inf

    def state(self):
        return dict(super().state(), pending=self._n, late=self.late, dropped=self.dropped)
