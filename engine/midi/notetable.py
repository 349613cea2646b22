"""A MIDI file as numpy arrays: every event, and every note paired up.

``EventTable.from_raw`` (columns decoded straight from the file's bytes)
and ``EventTable.from_midifile`` (mido messages) give the same table: per
event its absolute tick, track, kind, status and data bytes; meta and sysex
events keep the exact bytes mido's writer would produce.  ``NoteTable``
pairs note-ons with note-offs per (track, channel, pitch) first-in
first-out: the first open note of a pitch is the one a note-off ends (a
note-on with velocity 0 is a note-off).  The groove maths then runs over
whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import mido
import numpy as np

from engine.host.tempo import TempoMap

from . import _render_kernels as rk
from ._smf_decode import TrackColumns
from .midifile import MidiFileError

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
    blob, blob_start, blob_len
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
        tracks = [_columns(trk) for trk in mid.tracks]
        messages = [msg for trk in mid.tracks for msg in trk]
        return cls._build(mid.type, mid.ticks_per_beat, tracks, messages, path)

    @classmethod
    def from_raw(cls, raw, path="<midi>") -> EventTable:
        """Build the table from ``engine.midi.midifile.read_raw`` columns (no mido object per
        note; ``messages`` is then None, so only ``encode`` can write the result)."""
        return cls._build(raw.fmt, raw.ticks_per_beat, raw.tracks, None, path)

    @classmethod
    def _build(cls, fmt, tpb, tracks, messages, path) -> EventTable:
        sizes = np.array([len(c.delta) for c in tracks], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        n = int(starts[-1])

        def column(name, dtype):
            return np.fromiter(
                chain.from_iterable(getattr(c, name) for c in tracks), dtype=dtype, count=n
            )

        delta, status = column("delta", np.int64), column("status", np.int16)
        data1, data2 = column("data1", np.int16), column("data2", np.int16)
        track = np.repeat(np.arange(len(tracks), dtype=np.int64), sizes)
        total = np.cumsum(delta)
        first = starts[:-1][sizes > 0]
        before = np.zeros(len(tracks), np.int64)
        before[sizes > 0] = total[first] - delta[first]
        tick = total - np.repeat(before, sizes)
        high = status & 0xF0
        kind = np.full(n, KIND_CHANNEL, dtype=np.int8)
        kind[(high == 0x90) & (data2 > 0)] = KIND_NOTE_ON
        kind[(high == 0x80) | ((high == 0x90) & (data2 == 0))] = KIND_NOTE_OFF
        other_rows = np.flatnonzero(status == 0)
        others = list(chain.from_iterable(c.other for c in tracks))
        blob, blob_start, blob_len = bytearray(), np.zeros(n, np.int64), np.zeros(n, np.int64)
        tempos, sigs, names = [], [], [""] * len(tracks)
        for row, msg in zip(other_rows.tolist(), others):
            t = int(track[row])
            if msg.type == "end_of_track":
                kind[row] = KIND_END
                continue
            kind[row] = KIND_FIXED
            raw = _fixed_bytes(msg, path, t, row - int(starts[t]))
            blob_start[row], blob_len[row] = len(blob), len(raw)
            blob += raw
            if msg.type == "set_tempo":
                tempos.append((int(tick[row]), t, msg.tempo))
            elif msg.type == "time_signature":
                sigs.append((int(tick[row]), t, msg.numerator, msg.denominator))
            elif msg.type == "track_name" and not names[t]:
                names[t] = msg.name
        return cls(
            fmt,
            tpb,
            tick,
            track,
            kind,
            status,
            data1,
            data2,
            np.frombuffer(bytes(blob), dtype=np.uint8),
            blob_start,
            blob_len,
            starts,
            messages,
            tempos,
            sigs,
            names,
        )


def _columns(trk):
    """A mido track as decoder columns (see engine.midi._smf_decode.TrackColumns)."""
    cols = TrackColumns()
    delta, status, data1, data2 = cols.delta, cols.status, cols.data1, cols.data2
    for msg in trk:
        d = msg.__dict__
        spec = _CHANNEL.get(d["type"])
        delta.append(d["time"])
        if spec is None:
            status.append(0)
            data1.append(0)
            data2.append(-1)
            cols.other.append(msg)
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
    return cols


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
        data = bytes(msg.data)
        return (
            b"\xf0" + bytes(mido.midifiles.meta.encode_variable_int(len(data) + 1)) + data + b"\xf7"
        )
    status = msg.bytes()[0]
    raise MidiFileError(
        path,
        f"track {track} event {index}: a '{msg.type}' message "
        f"(0x{status:02X}), which a MIDI file cannot hold (only channel "
        "messages, sysex and meta events)",
    )


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
