"""A MIDI file as numpy arrays: every event, and every note paired up.

``EventTable.from_raw`` (columns decoded straight from the file's bytes,
no mido) and ``EventTable.from_midifile`` (mido messages) give the same
table: per event its absolute tick, track, kind, status and data bytes;
meta and sysex events keep the exact bytes mido's writer would produce
(compiled: ``engine.midi._smf_codec.encode_fixed``).  ``NoteTable``
pairs note-ons with note-offs per (track, channel, pitch) first-in
first-out: the first open note of a pitch is the one a note-off ends (a
note-on with velocity 0 is a note-off).  The groove maths then runs over
whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from engine.host.tempo import TempoMap

from . import _render_kernels as rk
from . import _smf_codec as codec
from ._smf_decode import END_OF_TRACK, META_TYPE, SYSTEM_TYPES
from .midifile import MidiFileError

if TYPE_CHECKING:  # mido is imported only where mido objects are read
    import mido

KIND_NOTE_ON, KIND_NOTE_OFF, KIND_CHANNEL, KIND_FIXED, KIND_END = range(5)

# channel message type -> (status nibble, name of data byte 1, name of data byte 2)
_CHANNEL = {
    "note_on": (0x90, "note", "velocity"),
    "note_off": (0x80, "note", "velocity"),
    "control_change": (0xB0, "control", "value"),
    "polytouch": (0xA0, "note", "value"),
    "program_change": (0xC0, "program", None),
    "aftertouch": (0xD0, "value", None),
    "pitchwheel": (0xE0, None, None),
}


@dataclass(frozen=True)
class EventTable:
    """Every event of a file, in file order (tracks one after another).

    Attributes
    ----------
    fmt, ticks_per_beat : int
        From the header.
    tick : int64[n]
        Absolute tick of each event in its track.
    track : int64[n]
        Track number (0-based).
    kind : int8[n]
        ``KIND_NOTE_ON`` (velocity > 0), ``KIND_NOTE_OFF`` (note_off, or
        note_on with velocity 0), ``KIND_CHANNEL`` (other channel voice
        messages), ``KIND_FIXED`` (meta, sysex) or ``KIND_END`` (end_of_track).
    status, data1, data2 : int16[n]
        Channel messages' bytes as written (data2 = -1 for one-byte messages);
        0 for the others.
    blob, blob_start, blob_len : uint8[k], int32[n], int32[n]
        The encoded bytes of fixed events (``blob[blob_start[i]:][:blob_len[i]]``).
    track_start : int64[n_tracks + 1]
        Events of track t are ``track_start[t]:track_start[t + 1]``.
    messages : list or None
        The mido messages, flat, same order (for building mido output); None
        for a table read straight from bytes.
    tempos, time_signatures : list of tuple
        ``(tick, track, tempo_us)`` and ``(tick, track, numerator, denominator)``.
    names : list of str
        Each track's first track_name ('' if none).
    """

    fmt: int
    ticks_per_beat: int
    tick: np.ndarray
    track: np.ndarray
    kind: np.ndarray
    status: np.ndarray
    data1: np.ndarray
    data2: np.ndarray
    blob: np.ndarray
    blob_start: np.ndarray
    blob_len: np.ndarray
    track_start: np.ndarray
    messages: list | None
    tempos: list
    time_signatures: list
    names: list

    @property
    def n_tracks(self) -> int:
        return self.track_start.size - 1

    def track_end_tick(self) -> np.ndarray:
        """int64[n_tracks]: the last tick of each track (its end_of_track)."""
        ends = np.zeros(self.n_tracks, dtype=np.int64)
        has = self.track_start[1:] > self.track_start[:-1]
        ends[has] = self.tick[self.track_start[1:][has] - 1]
        return ends

    def tempo_maps(self) -> list:
        """One TempoMap per track: shared for formats 0/1, each track's own for format 2."""
        if self.fmt == 2:
            return [
                TempoMap(
                    self.ticks_per_beat,
                    [t for t, tr, _ in self.tempos if tr == k],
                    [u for _, tr, u in self.tempos if tr == k],
                )
                for k in range(self.n_tracks)
            ]
        shared = TempoMap(
            self.ticks_per_beat, [t for t, _, _ in self.tempos], [u for _, _, u in self.tempos]
        )
        return [shared] * self.n_tracks

    @classmethod
    def from_midifile(cls, mid: mido.MidiFile, path="<midi>") -> EventTable:
        """Build the table from mido messages; raises MidiFileError for messages a MIDI
        file cannot hold."""
        sizes = np.array([len(trk) for trk in mid.tracks], dtype=np.int64)
        track_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        messages = [msg for trk in mid.tracks for msg in trk]
        delta, status, data1, data2 = _columns(messages)
        track = np.repeat(np.arange(len(mid.tracks), dtype=np.int64), sizes)
        tick = _ticks(delta, track_start)
        kind = _channel_kinds(status, data2)
        n = tick.size
        blob, blob_start, blob_len = bytearray(), np.zeros(n, np.int32), np.zeros(n, np.int32)
        tempos, sigs, names = [], [], [""] * len(mid.tracks)
        for row in np.flatnonzero(status == 0).tolist():
            msg, t = messages[row], int(track[row])
            if msg.type == "end_of_track":
                kind[row] = KIND_END
                continue
            kind[row] = KIND_FIXED
            raw = _fixed_bytes(msg, path, t, row - int(track_start[t]))
            blob_start[row], blob_len[row] = len(blob), len(raw)
            blob += raw
            if msg.type == "set_tempo":
                tempos.append((int(tick[row]), t, msg.tempo))
            elif msg.type == "time_signature":
                sigs.append((int(tick[row]), t, msg.numerator, msg.denominator))
            elif msg.type == "track_name" and not names[t]:
                names[t] = msg.name
        blob = np.frombuffer(bytes(blob), dtype=np.uint8)
        return cls(
            mid.type, mid.ticks_per_beat, tick, track, kind, status, data1, data2,
            blob, blob_start, blob_len, track_start, messages, tempos, sigs, names,
        )  # fmt: skip

    @classmethod
    def from_raw(cls, raw, path="<midi>") -> EventTable:
        """Build the table from ``engine.midi.midifile.read_raw`` columns (no mido object per
        note; ``messages`` is then None, so only ``encode`` can write the result)."""
        ev = raw.events
        n_tracks = ev.track_start.size - 1
        track = np.repeat(np.arange(n_tracks, dtype=np.int64), np.diff(ev.track_start))
        _refuse_system(ev, track, path)
        kind = _channel_kinds(ev.status, ev.data2)
        kind[ev.xrow] = KIND_FIXED
        kind[ev.xrow[ev.xtype == END_OF_TRACK]] = KIND_END
        out = np.empty(int(ev.xlen.sum()) + 8 * ev.xlen.size, np.uint8)
        start, size = np.zeros(ev.xlen.size, np.int64), np.zeros(ev.xlen.size, np.int64)
        used = codec.encode_fixed(ev.data, ev.xtype, ev.xpos, ev.xlen, out, start, size)
        blob_start = np.zeros(ev.tick.size, np.int32)  # int32: n of them, most 0
        blob_len = np.zeros(ev.tick.size, np.int32)
        has = size > 0
        blob_start[ev.xrow[has]] = start[has]
        blob_len[ev.xrow[has]] = size[has]
        tempos, sigs, names = _meta_facts(ev, track, n_tracks)
        return cls(
            raw.fmt, raw.ticks_per_beat, ev.tick, track, kind, ev.status, ev.data1, ev.data2,
            out[:used].copy(), blob_start, blob_len, ev.track_start, None, tempos, sigs, names,
        )  # fmt: skip


def _channel_kinds(status, data2):
    """Kinds of channel messages (other rows: KIND_CHANNEL, to be set by the caller)."""
    high = status & 0xF0
    kind = np.full(status.size, KIND_CHANNEL, dtype=np.int8)
    kind[(high == 0x90) & (data2 > 0)] = KIND_NOTE_ON
    kind[(high == 0x80) | ((high == 0x90) & (data2 == 0))] = KIND_NOTE_OFF
    return kind


def _ticks(delta, track_start):
    """Absolute ticks per track from delta times."""
    total = np.cumsum(delta)
    sizes = np.diff(track_start)
    has = sizes > 0
    before = np.zeros(sizes.size, np.int64)
    first = track_start[:-1][has]
    before[has] = total[first] - delta[first]
    return total - np.repeat(before, sizes)


def _refuse_system(ev, track, path):
    """A system message (clock, start, ...) in a track: a MIDI file cannot hold one."""
    system = np.flatnonzero((ev.xtype < META_TYPE) & (ev.xtype != 0xF0) & (ev.xtype != 0xF7))
    if system.size:
        row, status = int(ev.xrow[system[0]]), int(ev.xtype[system[0]])
        t = int(track[row])
        _refuse(path, t, row - int(ev.track_start[t]), SYSTEM_TYPES[status], status)


def _refuse(path, track, index, typ, status):
    raise MidiFileError(
        path,
        f"track {track} event {index}: a '{typ}' message "
        f"(0x{status:02X}), which a MIDI file cannot hold (only channel "
        "messages, sysex and meta events)",
    )


def _meta_facts(ev, track, n_tracks):
    """Tempos, time signatures and track names from the meta events' payloads."""
    tempos, sigs, names = [], [], [""] * n_tracks
    for k in np.flatnonzero(ev.xtype == META_TYPE + 0x51).tolist():
        row, p = int(ev.xrow[k]), ev.payload(k)
        tempos.append((int(ev.tick[row]), int(track[row]), p[0] << 16 | p[1] << 8 | p[2]))
    for k in np.flatnonzero(ev.xtype == META_TYPE + 0x58).tolist():
        row, p = int(ev.xrow[k]), ev.payload(k)
        sigs.append((int(ev.tick[row]), int(track[row]), p[0], 2 ** p[1]))
    for k in np.flatnonzero(ev.xtype == META_TYPE + 0x03).tolist():
        t = int(track[ev.xrow[k]])
        if not names[t]:
            names[t] = ev.payload(k).decode("latin1")  # mido's charset
    return tempos, sigs, names


def _columns(messages):
    """Delta, status, data1, data2 of mido messages (status 0: not a channel message)."""
    delta, status, data1, data2 = [], [], [], []
    for msg in messages:
        d = msg.__dict__
        spec = _CHANNEL.get(d["type"])
        delta.append(d["time"])
        if spec is None:
            status.append(0)
            data1.append(0)
            data2.append(-1)
            continue
        st, n1, n2 = spec
        status.append(st | d["channel"])
        if n1 is None:  # pitchwheel: 14 bits, low 7 first
            value = d["pitch"] + 8192
            data1.append(value & 0x7F)
            data2.append(value >> 7)
        else:
            data1.append(d[n1])
            data2.append(d[n2] if n2 else -1)
    return (
        np.array(delta, dtype=np.int64),
        np.array(status, dtype=np.int16),
        np.array(data1, dtype=np.int16),
        np.array(data2, dtype=np.int16),
    )


def _fixed_bytes(msg, path, track: int, index: int) -> bytes:
    """The bytes mido's writer produces for a meta or sysex event."""
    if msg.is_meta:
        try:
            return bytes(msg.bytes())
        except Exception as exc:  # a meta built by hand with values mido cannot encode
            raise MidiFileError(
                path, f"track {track} event {index}: {msg.type} cannot be encoded ({exc})"
            ) from None
    if msg.type == "sysex":
        from mido.midifiles.meta import encode_variable_int

        data = bytes(msg.data)
        return b"\xf0" + bytes(encode_variable_int(len(data) + 1)) + data + b"\xf7"
    _refuse(path, track, index, msg.type, msg.bytes()[0])


@dataclass(frozen=True)
class NoteTable:
    """Notes paired from an EventTable (FIFO per track, channel and pitch).

    Attributes
    ----------
    start_tick, end_tick : int64[m]
        Note-on tick; note-off tick (the track's end tick when it never ends).
    channel, pitch, velocity, track : int64[m]
        Channel 0..15, pitch 0..127, note-on velocity 1..127, track number.
    index : int64[m]
        The note's ordinal among its track's notes (the random offsets' key).
    on_event, off_event : int64[m]
        Event rows of the note-on and note-off (-1: the note never ends).
    orphan_off : int64[k]
        Event rows of note-offs that end no note.
    """

    start_tick: np.ndarray
    end_tick: np.ndarray
    channel: np.ndarray
    pitch: np.ndarray
    velocity: np.ndarray
    track: np.ndarray
    index: np.ndarray
    on_event: np.ndarray
    off_event: np.ndarray
    orphan_off: np.ndarray

    def __len__(self) -> int:
        return self.start_tick.size

    @property
    def ended(self) -> np.ndarray:
        return self.off_event >= 0

    @classmethod
    def from_events(cls, ev: EventTable) -> NoteTable:
        on_event, off_event, orphan = rk.pair_notes(ev.track, ev.kind, ev.status, ev.data1)
        track = ev.track[on_event]
        first_note = np.searchsorted(track, np.arange(ev.n_tracks), side="left")
        end_tick = ev.track_end_tick()[track]
        ended = off_event >= 0
        end_tick[ended] = ev.tick[off_event[ended]]
        return cls(
            start_tick=ev.tick[on_event],
            end_tick=end_tick,
            channel=(ev.status[on_event] & 0x0F).astype(np.int64),
            pitch=ev.data1[on_event].astype(np.int64),
            velocity=ev.data2[on_event].astype(np.int64),
            track=track,
            index=np.arange(on_event.size, dtype=np.int64) - first_note[track],
            on_event=on_event,
            off_event=off_event,
            orphan_off=np.flatnonzero(orphan),
        )
