"""Transport: where the audio clock is in beats, play/stop/seek/loop, tempo.

The position is an integer count of frames since an anchor (the last seek,
start or tempo change), so the beat at any block start is computed directly
from integers and never drifts, however many hours a session runs.  A tempo
map (from a MIDI file) or a constant tempo turns seconds into beats.

Threads: ``play``, ``stop``, ``seek``, ``set_loop`` and ``set_tempo`` may be
called from any thread; they only queue a command.  ``segments`` and
``advance`` run on the audio thread, which applies queued commands at the
start of a block.
"""

from __future__ import annotations

import collections
import math
from typing import NamedTuple

import numpy as np


class ConstantTempo:
    """A tempo that never changes: the tempo-map interface for live use."""

    def __init__(self, bpm: float = 120.0):
        if not (isinstance(bpm, (int, float)) and math.isfinite(bpm) and 1.0 <= bpm <= 999.0):
            raise ValueError(f"bpm: {bpm!r} is outside 1 .. 999")
        self.bpm = float(bpm)
        self.change_beats = np.empty(0)

    def beat_to_sec(self, beat):
        return beat * (60.0 / self.bpm)

    def sec_to_beat(self, sec):
        return sec * (self.bpm / 60.0)

    def bpm_at(self, beat) -> float:
        return self.bpm

    def next_change_after(self, beat) -> float:
        return math.inf


class Segment(NamedTuple):
    """A stretch of a block with one tempo and no jump in beats."""

    offset_frame: int
    frames: int
    start_beat: float
    beats_per_frame: float
    #: 'play' (advance normally) or 'wrap' (the loop jumps back after it)
    end: str
    #: for 'wrap': the loop end (the segment's last frame rounds up past it) and
    #: the loop start the position jumped back to
    loop_end_beat: float = math.nan
    loop_start_beat: float = math.nan


class Transport:
    """Musical position of the audio clock.

    Parameters
    ----------
    sample_rate : float
        Frames per second.
    tempo : object
        ``ConstantTempo`` or a tempo map with ``beat_to_sec``,
        ``sec_to_beat``, ``bpm_at`` and ``next_change_after``.
    """

    def __init__(self, sample_rate: float, tempo=None):
        if not (isinstance(sample_rate, (int, float)) and 1000 <= sample_rate <= 768000):
            raise ValueError(f"sample_rate: {sample_rate!r} is outside 1000 .. 768000 Hz")
        self.sample_rate = float(sample_rate)
        self.tempo = tempo if tempo is not None else ConstantTempo()
        self.playing = False
        self.loop = None  # (start_beat, end_beat) or None
        self._anchor_sec = 0.0
        self._frames = 0  # frames since the anchor, an exact integer
        self._commands = collections.deque()  # append/popleft are atomic
        self.frame_count = 0  # frames processed in total (for statistics)

    # -- commands (any thread) --------------------------------------------
    def play(self):
        self._commands.append(("play", None))

    def stop(self):
        self._commands.append(("stop", None))

    def seek(self, beat: float):
        self._commands.append(("seek", float(beat)))

    def set_loop(self, start_beat=None, end_beat=None):
        """Loop [start_beat, end_beat); ``set_loop()`` clears the loop."""
        if start_beat is not None and not end_beat > start_beat:
            raise ValueError(f"loop: end {end_beat!r} must be after start {start_beat!r}")
        self._commands.append(
            ("loop", None if start_beat is None else (float(start_beat), float(end_beat)))
        )

    def set_tempo(self, bpm: float):
        """Switch to a constant tempo at the current position (live sync)."""
        self._commands.append(("tempo", ConstantTempo(bpm)))

    # -- audio thread -----------------------------------------------------
    @property
    def beat(self) -> float:
        """Beat position at the current frame."""
        return float(self.tempo.sec_to_beat(self._anchor_sec + self._frames / self.sample_rate))

    @property
    def bpm(self) -> float:
        return float(self.tempo.bpm_at(self.beat))

    def _anchor(self, beat):
        self._anchor_sec = float(self.tempo.beat_to_sec(beat))
        self._frames = 0

    def apply_commands(self, on_event=None):
        """Apply queued commands; ``on_event(name, value)`` hears each one."""
        while self._commands:
            name, value = self._commands.popleft()
            if name == "play":
                self.playing = True
            elif name == "stop":
                self.playing = False
            elif name == "seek":
                self._anchor(value)
            elif name == "loop":
                self.loop = value
            elif name == "tempo":
                beat = self.beat
                self.tempo = value
                self._anchor(beat)
            if on_event is not None:
                on_event(name, value)

    def take(self, frames: int):
        """Move through the next ``frames``, returned as stretches of one tempo.

        A segment ends at a tempo change or at the loop end (``end='wrap'``:
        the position has jumped back to the loop start after it, and the
        caller sends note-offs for what sounds and re-seeks its timeline).
        """
        out = []
        offset = 0
        while offset < frames:
            beat = self.beat
            bpm = self.tempo.bpm_at(beat)
            per_frame = bpm / 60.0 / self.sample_rate
            n = frames - offset
            end = "play"
            limit = self.tempo.next_change_after(beat)
            if self.loop is not None and self.loop[0] <= beat < self.loop[1]:
                if self.loop[1] <= limit:
                    limit, end = self.loop[1], "wrap"
            if limit < math.inf:
                to_limit = max(1, math.ceil((limit - beat) / per_frame - 1e-9))
                if to_limit <= n:
                    n = to_limit
                else:
                    end = "play"
            if end == "wrap":
                out.append(Segment(offset, n, beat, per_frame, end, *self.loop[::-1]))
            else:
                out.append(Segment(offset, n, beat, per_frame, end))
            self.advance(n)
            if end == "wrap":
                self._anchor(self.loop[0])
            offset += n
        return out

    def advance(self, frames: int):
        self._frames += frames
        self.frame_count += frames


class FileTempo:
    """A MIDI file's tempo map (``engine.host.tempo.TempoMap``) as the transport sees it."""

    def __init__(self, tempo_map):
        self.map = tempo_map
        self.tpb = tempo_map.ticks_per_beat
        self.change_beats = tempo_map.tick / self.tpb

    def beat_to_sec(self, beat):
        return float(self.map.seconds(beat * self.tpb))

    def sec_to_beat(self, sec):
        return float(self.map.ticks_at_seconds(sec)) / self.tpb

    def bpm_at(self, beat) -> float:
        return 60e6 / float(self.map.tempo_at(beat * self.tpb))

    def next_change_after(self, beat) -> float:
        i = int(np.searchsorted(self.change_beats, beat, side="right"))
        return float(self.change_beats[i]) if i < self.change_beats.size else math.inf
