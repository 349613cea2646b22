"""The per-block work both live backends share.

A backend's callback hands :meth:`BlockCore.run_block` the block length, the
absolute frame of its first sample and the MIDI bytes that arrived with
their frame offsets; it gets back the messages to send, sorted by frame.  In
between, in this order:

1. requests from other threads (panic, stop, quit) are taken from a deque;
2. transport messages (Start/Stop/Continue/Song Position, and the clock with
   ``sync="midi"``) move the engine's transport: commands queue and apply at
   this block's start, so a Start at frame f seeks to ``-f`` frames' worth of
   beats and beat 0 lands exactly on f;
3. CC numbers mapped to parameters are taken out and queued for the main
   thread (which rebuilds the groove off the audio thread);
4. the engine runs the block;
5. notes are paired on the way out: a note-off with no sounding note-on (the
   player releasing a key after a panic) is dropped and counted, so what we
   send is always balanced.

A panic (Stop, seek, restart, lost port, shutdown) runs *before* the block
is processed, so its note-offs at frame 0 precede every note-on of the block.
Nothing here does I/O or takes a lock; threads talk through deques.
"""

from __future__ import annotations

import collections
import math
import threading

import numpy as np

from engine.host.events import CONTROL_CHANGE, NOTE_OFF, NOTE_ON, EventList, parse_bytes, to_bytes
from engine.live.midiclock import (
    CLOCK,
    CLOCKS_PER_SIXTEENTH,
    CONTINUE,
    SONG_POSITION,
    START,
    STOP,
    ClockFollower,
    ClockSender,
)

#: Largest correction of the followed tempo per block, as a ratio of the estimate.
MAX_TEMPO_CORRECTION = 0.5
#: A following error larger than this (beats) is fixed by a seek, not by tempo.
SEEK_ERROR_BEAT = 0.25


class BlockCore:
    """Transport, sync, CC taps and note pairing around an engine's ``process``.

    Parameters
    ----------
    engine : engine.host.engine.Engine
        Prepared (``engine.prepare``) before the first block.
    sample_rate : float
    sync : {"internal", "midi"}
        Internal clock at ``bpm``, or follow MIDI clock on the input.
    bpm : float
        Internal tempo, and the guess for MIDI clock until clocks arrive.
    send_clock : bool
        Send 24-ppq clock, Start, Stop, Continue and Song Position on the output.
    cc_map : dict, optional
        CC number -> parameter name; those CCs are consumed and queued.
    """

    def __init__(
        self,
        engine,
        sample_rate: float,
        sync: str = "internal",
        bpm: float = 120.0,
        send_clock: bool = False,
        cc_map: dict | None = None,
    ):
        if sync not in ("internal", "midi"):
            raise ValueError(f"sync: {sync!r} is not one of internal, midi")
        self.engine = engine
        self.sample_rate = float(sample_rate)
        self.sync = sync
        self.bpm = float(bpm)
        self.follower = ClockFollower(sample_rate, bpm) if sync == "midi" else None
        self.sender = ClockSender() if send_clock else None
        self.cc_param = [None] * 128
        for cc, name in (cc_map or {}).items():
            self.cc_param[int(cc)] = name
        self.requests = collections.deque()  # other threads -> audio thread
        self.cc_values = collections.deque()  # audio thread -> main thread: (name, 0..127)
        self.notices = collections.deque()  # audio thread -> main thread: short texts
        self.quiet = threading.Event()  # set once a quit panic has been sent
        self.failed = None  # the exception that stopped the audio path
        self.sounding = [0] * (16 * 128)  # note-ons minus note-offs we sent, per channel*128+key
        self.channels_used = np.zeros(16, bool)
        self._panic = EventList(16 * 128 + 16 + 16)
        self._messages = []
        self._clock_out = []
        self._thru = []
        self.counts = dict(
            blocks=0,
            midi_in=0,
            midi_out=0,
            orphan_offs=0,
            panics=0,
            clock_in=0,
            clock_out=0,
            errors=0,
        )
        self.block_frame = 0
        self.transport_view = (False, 0.0, 0.0)  # playing, start beat, beats per frame

    # -- any thread --------------------------------------------------------
    def request(self, what: str) -> None:
        """Ask the audio thread to ``"panic"``, ``"stop"``, ``"play"`` or ``"quit"``."""
        if what not in ("panic", "stop", "play", "quit"):
            raise ValueError(f"request: {what!r} is not one of panic, stop, play, quit")
        self.requests.append(what)

    # -- audio thread ------------------------------------------------------
    def run_block(self, frames: int, block_frame: int, incoming) -> list:
        """One block: ``incoming`` is (offset, bytes) in order; returns (offset, bytes)."""
        msgs = self._messages
        msgs.clear()
        if self.quiet.is_set() or self.failed is not None:
            return msgs
        try:
            self._run(frames, block_frame, incoming, msgs)
        except Exception as exc:  # the audio path must never raise: end every note instead
            self.counts["errors"] += 1
            self.failed = exc
            msgs.clear()
            self._emit_panic(msgs, frames)
            self.quiet.set()
        return msgs

    def _run(self, frames, block_frame, incoming, msgs):
        eng, tr = self.engine, self.engine.transport
        self.block_frame = block_frame
        self.counts["blocks"] += 1
        panic = False
        while self.requests:
            what = self.requests.popleft()
            if what == "quit":
                self._emit_panic(msgs, frames)
                if self.sender is not None and self.sender.was_playing:
                    msgs.append((0, bytes((STOP,))))  # clock slaves stop with us
                self.quiet.set()
                return
            panic |= what in ("panic", "stop")
            if what == "stop":
                tr.stop()
            elif what == "play":
                tr.play()
        inp = eng.input
        inp.clear()
        thru = self._thru
        thru.clear()
        state = _BlockState(tr.playing, tr.beat, tr.bpm)
        for offset, data in incoming:
            status = data[0]
            if status >= 0xF0:
                if status in (CLOCK, START, CONTINUE, STOP, SONG_POSITION):
                    panic |= self._transport_message(offset, bytes(data), state, frames)
                elif status < 0xF8:
                    thru.append((offset, bytes(data)))  # sysex and other common messages
                continue
            ev = parse_bytes(data)
            if ev is None:
                continue
            self.counts["midi_in"] += 1
            kind, channel, key, value = ev
            if kind == CONTROL_CHANGE and self.cc_param[key] is not None:
                self.cc_values.append((self.cc_param[key], value))
                continue
            inp.push(offset, kind, channel, key, value)
        if self.follower is not None and state.playing:
            panic |= self._follow(frames, block_frame, state)
        if panic:
            self._emit_panic(msgs, frames)
        out = eng.process(frames, inp)
        block = eng.block
        self.transport_view = (block.playing, block.start_beat, block.beats_per_frame)
        self._collect(out, thru, frames, msgs)

    def _transport_message(self, offset, data, state, frames) -> bool:
        """Act on one realtime/position message; True when sounding notes must end."""
        tr = self.engine.transport
        status = data[0]
        if self.follower is not None:
            if status == CLOCK:
                self.counts["clock_in"] += 1
            what = self.follower.feed(self.block_frame + offset, data)
            if what in ("start", "continue"):
                fpb = self.follower.frames_per_beat
                beat0 = self.follower.position_beat(self.block_frame + offset)
                restart = state.playing
                state.seek(beat0 - offset / fpb, self.follower.bpm)
                tr.set_tempo(state.bpm)
                tr.seek(state.beat)
                tr.play()
                state.playing = True
                return restart
            if what == "stop" and state.playing:
                tr.stop()
                state.playing = False
                return True
            return False
        # Internal clock: Start/Stop/Continue/Song Position move it; clocks are ignored.
        bpf = state.bpm / 60.0 / self.sample_rate
        if status == START:
            restart = state.playing
            state.seek(-offset * bpf, state.bpm)
            tr.seek(state.beat)
            tr.play()
            state.playing = True
            return restart
        if status == CONTINUE and not state.playing:
            tr.play()
            state.playing = True
        elif status == STOP and state.playing:
            tr.stop()
            state.playing = False
            return True
        elif status == SONG_POSITION and len(data) >= 3:
            sixteenths = (data[1] & 0x7F) | ((data[2] & 0x7F) << 7)
            state.seek(sixteenths / 4.0, state.bpm)
            tr.seek(state.beat)
            return state.playing
        return False

    def _follow(self, frames, block_frame, state) -> bool:
        """Steer the tempo so the transport meets the clock at the block's end."""
        f = self.follower
        if not f.started:
            return False
        target_end = f.position_beat(block_frame + frames)
        beat_now = state.beat
        if abs(target_end - beat_now) > SEEK_ERROR_BEAT + frames / f.frames_per_beat:
            beat_now = f.position_beat(block_frame)
            self.engine.transport.seek(beat_now)
            state.seek(beat_now, state.bpm)
            self.notices.append(f"clock: jumped to beat {beat_now:.3f}")
            panic = True
        else:
            panic = False
        est = f.bpm
        bpm = (target_end - beat_now) * 60.0 * self.sample_rate / frames if frames else est
        bpm = min(max(bpm, est * (1 - MAX_TEMPO_CORRECTION)), est * (1 + MAX_TEMPO_CORRECTION))
        if abs(bpm - state.bpm) > 1e-9 * est:
            self.engine.transport.set_tempo(bpm)
            state.bpm = bpm
        return panic

    def _emit_panic(self, msgs, frames):
        """Note-offs for everything sounding (engine and output side) at frame 0."""
        self.counts["panics"] += 1
        lst = self._panic
        lst.clear()
        self.engine.panic(lst)
        self._collect(lst, (), frames, msgs)
        # Notes we sent that the engine no longer tracks (e.g. after a rack swap).
        sounding = self.sounding
        for slot, count in enumerate(sounding):
            for _ in range(count):
                msgs.append((0, bytes((NOTE_OFF | (slot // 128), slot % 128, 0))))
            self.counts["midi_out"] += count
            sounding[slot] = 0

    def _collect(self, out, thru, frames, msgs):
        """Append ``out`` (an EventList) and ``thru`` to ``msgs``, pairing notes."""
        clock = self._clock_out
        clock.clear()
        if self.sender is not None and out is not self._panic:
            playing, beat, bpf = self.transport_view
            self.sender.block(playing, beat, bpf, frames, clock)
            self.counts["clock_out"] += len(clock)
        start = len(msgs)
        sounding = self.sounding
        last = max(frames - 1, 0)
        view = out.view()
        # Whole columns to Python lists at once: row-by-row numpy access costs
        # a microsecond per field.
        cols = zip(
            view["frame"].tolist(),
            view["kind"].tolist(),
            view["channel"].tolist(),
            view["key"].tolist(),
            view["value"].tolist(),
            range(len(view)),
        )
        for frame, kind, channel, key, value, i in cols:
            slot = channel * 128 + key
            if kind == NOTE_ON:
                sounding[slot] += 1
                self.channels_used[channel] = True
            elif kind == NOTE_OFF:
                if sounding[slot] <= 0:
                    self.counts["orphan_offs"] += 1
                    continue
                sounding[slot] -= 1
            if kind in _THREE_BYTES:
                data = bytes((kind | channel, key, value))
            else:
                data = to_bytes(view[i])
            msgs.append((frame if frame < last else last, data))
        if clock or thru:
            msgs.extend(clock)
            msgs.extend(thru)
            tail = sorted(msgs[start:], key=_frame_of)
            msgs[start:] = tail
        self.counts["midi_out"] += len(msgs) - start

    # -- any thread (read-only snapshots) ------------------------------------
    def sounding_notes(self) -> int:
        """Notes this core has sent that are still on."""
        return sum(self.sounding)


#: Kinds whose wire form is status, key, value (the value fits 7 bits).
_THREE_BYTES = frozenset((NOTE_OFF, NOTE_ON, 0xA0, CONTROL_CHANGE))


def _frame_of(msg):
    return msg[0]


class _BlockState:
    """The transport as this block will see it once queued commands apply."""

    __slots__ = ("playing", "beat", "bpm")

    def __init__(self, playing, beat, bpm):
        self.playing, self.beat, self.bpm = playing, beat, bpm

    def seek(self, beat, bpm):
        self.beat, self.bpm = beat, bpm


def bar_beat(beat: float, beats_per_bar: int = 4) -> str:
    """``bar:beat`` (both from 1) of a transport position, for the status line."""
    if not math.isfinite(beat):
        return "-:-"
    whole = math.floor(beat + 1e-9)
    return f"{whole // beats_per_bar + 1}:{whole % beats_per_bar + 1}"


__all__ = ["BlockCore", "bar_beat", "CLOCKS_PER_SIXTEENTH"]
