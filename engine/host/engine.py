"""The engine: a transport, an optional timeline scheduler and a rack.

One ``process`` call is one audio block, whoever drives it: the JACK or
PortAudio callback live, or the offline clock when rendering files, so what
is heard live is what a render writes.

Threads
-------
- main thread: ``Engine(...)``, ``prepare``, ``set_groove``, ``swap_rack``,
  the transport's commands (which only queue).
- audio thread: ``process``, ``panic``.  Neither raises: an exception inside
  a processor is caught, counted, and answered with a panic, so no note is
  left hanging.
"""

from __future__ import annotations

import numpy as np

from .events import CONTROL_CHANGE, NOTE_OFF, NOTE_ON, EventList
from .processor import Block, Rack
from .processors import GrooveProcessor
from .scheduler import Scheduler, Timeline, make_plan
from .transport import Segment, Transport


class NoteTracker:
    """Counts note-ons minus note-offs per (channel, key) on the engine's output."""

    def __init__(self):
        self.count = np.zeros(16 * 128, np.int64)
        self.channels = np.zeros(16, bool)

    def observe(self, events: np.ndarray):
        # a Python loop: blocks carry a handful of events, and np.add.at
        # costs more than the loop below for fewer than about fifty
        count = self.count
        for kind, channel, key in zip(
            events["kind"].tolist(), events["channel"].tolist(), events["key"].tolist()
        ):
            if kind == NOTE_ON:
                count[channel * 128 + key] += 1
                self.channels[channel] = True
            elif kind == NOTE_OFF and count[channel * 128 + key] > 0:
                count[channel * 128 + key] -= 1

    def panic(self, out: EventList, frame: int = 0, all_notes_off: bool = True):
        """Note-offs for every sounding note (and All Notes Off on used channels)."""
        for slot in np.flatnonzero(self.count):
            for _ in range(int(self.count[slot])):
                out.push(frame, NOTE_OFF, slot // 128, slot % 128, 0)
        self.count[:] = 0
        if all_notes_off:
            for ch in np.flatnonzero(self.channels):
                out.push(frame, CONTROL_CHANGE, int(ch), 123, 0)


class Engine:
    """Drive a rack (and optionally a timeline) block by block.

    Parameters
    ----------
    rack : Rack
        Processors in order; a ``GrooveProcessor`` in it also grooves the
        timeline, with every ``quantize``/``humanize`` of the rack folded in
        before the groove.
    timeline : Timeline, optional
        Events to play from beat 0 (offline rendering, playing a file).
    tempo : object, optional
        Tempo map for the transport (``ConstantTempo`` by default).
    ends : {"groove", "keep"}
        How the timeline's note ends move.
    """

    def __init__(
        self,
        rack: Rack,
        timeline: Timeline | None = None,
        tempo=None,
        ends: str = "groove",
        capacity: int = 4096,
    ):
        self.rack = rack
        self.timeline = timeline
        self.ends = ends
        self._tempo = tempo
        self._capacity = capacity
        self.transport = None
        self.scheduler = None
        self.input = EventList(capacity)
        self.output = EventList(capacity)
        self.block = Block()
        self.tracker = NoteTracker()
        self._next_rack = None
        self.stats = dict(blocks=0, events_in=0, events_out=0, late=0, dropped=0, errors=0)
        self.last_error = None

    # -- main thread ------------------------------------------------------
    def prepare(self, sample_rate: float, max_block: int) -> None:
        """Allocate and compile everything; call before the first ``process``."""
        import groove

        groove.warmup()
        self.transport = self.transport or Transport(sample_rate, self._tempo)
        self.rack.prepare(sample_rate, max_block)
        self.block.sample_rate = float(sample_rate)
        if self.timeline is not None:
            self.scheduler = Scheduler(self.timeline, self._capacity)
            self.scheduler.set_plan(self._plan(self.rack))
            self.scheduler.prepare()
        # one silent block through everything compiles what is left
        self.process(0)
        self.stats.update(blocks=0)

    def _plan(self, rack):
        gp = rack.find(GrooveProcessor)
        if gp is None:
            from groove import straight

            gp = GrooveProcessor(straight())
        # On a timeline every quantize/humanize acts before the groove, wherever it
        # stands in the rack (as in the direct renderer); live, rack order holds.
        pre = [
            p
            for p in rack.processors
            if p.timing and not p.bypass and p is not gp and hasattr(p, "pre_map")
        ]
        return make_plan(self.timeline, (gp._next or gp.current), pre, self.ends)

    def set_groove(self, preset=None, amounts=None) -> None:
        """Change the rack's groove (and replan the timeline); applied at a block boundary."""
        gp = self.rack.find(GrooveProcessor)
        if gp is None:
            raise ValueError("the rack has no groove processor to change")
        gp.set(preset, amounts)
        if self.scheduler is not None:
            self.scheduler.set_plan(self._plan(self.rack))

    def swap_rack(self, rack: Rack) -> None:
        """Use another rack from the next block on (sounding notes are ended)."""
        rack.prepare(self.block.sample_rate, 4096)
        if self.scheduler is not None:
            self.scheduler.set_plan(self._plan(rack))
        self._next_rack = rack

    @property
    def latency_beat(self) -> float:
        """The latency live events get: chained delay lines add up."""
        bpm = self.transport.bpm if self.transport else 120.0
        return sum(p.latency_beat(bpm) for p in self.rack.processors if p.timing and not p.bypass)

    # -- audio thread -----------------------------------------------------
    def process(self, frames: int, events_in: EventList | None = None) -> EventList:
        """Run one block of ``frames``; returns the output events (sorted by frame)."""
        out = self.output
        out.clear()
        events_in = self.input if events_in is None else events_in
        try:
            self._process(frames, events_in, out)
        except Exception as exc:  # the audio thread must never raise
            self.stats["errors"] += 1
            self.last_error = exc
            out.clear()
            self.panic(out)
        self.tracker.observe(out.view())
        self.stats["blocks"] += 1
        self.stats["events_in"] += len(events_in)
        self.stats["events_out"] += len(out)
        self.stats["dropped"] = out.dropped + events_in.dropped
        late = sum(getattr(p, "late", 0) for p in self.rack.processors)
        self.stats["late"] = late + (self.scheduler.late if self.scheduler is not None else 0)
        return out

    def _process(self, frames, events_in, out):
        tr = self.transport
        tr.apply_commands(lambda name, value: self._command(name, value, out))
        if self._next_rack is not None:
            self.panic(out)
            self.rack, self._next_rack = self._next_rack, None
        block = self.block
        block.frames = frames
        block.playing = tr.playing
        beat = tr.beat
        block.start_beat = beat
        block.beats_per_frame = tr.tempo.bpm_at(beat) / 60.0 / tr.sample_rate
        merged = events_in
        if tr.playing:
            segments = tr.take(frames)
            if self.scheduler is not None:
                timeline_events = self._timeline(frames, segments)
                if len(timeline_events):
                    timeline_events.extend(events_in.view(), presorted=True)
                    merged = timeline_events
        block.events_in = merged
        result = self.rack.process(block)
        out.extend(result.view(), presorted=True)

    def _timeline(self, frames, segments):
        ev = self.rack._lists[0]  # free before the rack runs: reuse it
        ev.clear()
        sch = self.scheduler
        for seg in segments:
            sch.emit(ev, seg)
            if seg.end == "wrap":
                end_beat = seg.start_beat + seg.frames * seg.beats_per_frame
                sch.notes_off(ev, seg, end_beat)
                sch.seek(self.transport.beat)
        return ev

    def _command(self, name, value, out):
        if name in ("stop", "seek"):
            # Everything sounding at the output ends now, including notes whose
            # note-offs were still waiting in a delay line: the tracker knows them.
            if self.scheduler is not None:
                self.scheduler.forget_sounding()
                if name == "seek":
                    self.scheduler.seek(value)
            self.rack.reset()
            self.tracker.panic(out, all_notes_off=False)

    def panic(self, out: EventList | None = None) -> EventList:
        """Note-offs for every sounding note and All Notes Off on used channels."""
        out = self.output if out is None else out
        if self.scheduler is not None and self.transport is not None:
            seg = Segment(0, 1, self.transport.beat, 0.0, "play")
            self.scheduler.notes_off(out, seg, self.transport.beat)
        self.rack.reset()
        self.tracker.observe(out.view())
        self.tracker.panic(out)
        return out
