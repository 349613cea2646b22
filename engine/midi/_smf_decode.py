"""Decode the track chunks of a file into columns (private: see engine.midi.midifile).

The walk over the bytes is compiled (``engine.midi._smf_codec.scan``): per
event its absolute tick, status byte (0 for meta, sysex and system
messages) and data bytes, and for the other events their type and where
their payload lies in the file.  Every event is checked as mido's decoders
check it, and a refusal reads as mido's would (``reason``).  ``to_tracks``
builds, only when asked, exactly the messages ``mido.MidiFile(path,
clip=False)`` gives; mido is imported there and nowhere on the render path.

Three mido 1.3 behaviours are not copied: an unknown meta event keeps its
delta time (mido drops it), sysex cancels running status, as the
standard says (mido keeps 0xF0 as the running status), and an event past
tick 2**53 is refused (mido reads a variable-length number of any length;
the standard's longest, 4 bytes, is below 2**28).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _smf_codec as codec

#: System messages a track may hold (a MIDI file may not: see EventTable).
SYSTEM_TYPES = {
    0xF1: "quarter_frame",
    0xF2: "songpos",
    0xF3: "song_select",
    0xF6: "tune_request",
    0xF8: "clock",
    0xFA: "start",
    0xFB: "continue",
    0xFC: "stop",
    0xFE: "active_sensing",
}
META_TYPE = 0x100  # xtype of a meta event: META_TYPE + its type byte
END_OF_TRACK = META_TYPE + 0x2F


class Bad(Exception):
    """A decoding problem in ``track`` at byte ``at`` (reason None: past the chunk's end)."""

    def __init__(self, track, at, reason=None):
        super().__init__(reason)
        self.track, self.at, self.reason = track, at, reason


@dataclass
class Columns:
    """All tracks' events, flat, in file order.

    ``tick`` (absolute in its track), ``status`` (0: not a channel message),
    ``data1``, ``data2`` (-1: one data byte) per event, ``track_start[t]`` the
    first row of track t; per non-channel event its row ``xrow``, ``xtype``
    (``META_TYPE`` + meta type, 0xF0/0xF7 sysex or escape, or a system status)
    and payload ``data[xpos:][:xlen]`` of the file's bytes ``data``.
    """

    data: np.ndarray
    track_start: np.ndarray
    tick: np.ndarray
    status: np.ndarray
    data1: np.ndarray
    data2: np.ndarray
    xrow: np.ndarray
    xtype: np.ndarray
    xpos: np.ndarray
    xlen: np.ndarray

    def payload(self, k: int) -> bytes:
        """The payload bytes of non-channel event k."""
        p = int(self.xpos[k])
        return self.data[p : p + int(self.xlen[k])].tobytes()


#: Chunks up to this many bytes in all are decoded in one pass into columns sized for
#: the worst case (an event takes at least 2 bytes); larger ones are counted first.
ONE_PASS_BYTES = 1 << 20


def decode_tracks(data: np.ndarray, starts, ends) -> Columns:
    """Decode the chunks ``data[starts[t]:ends[t]]``; raises Bad at the first problem."""
    starts = np.asarray(starts, np.int64)
    ends = np.asarray(ends, np.int64)
    rows = np.zeros(starts.size + 1, np.int64)
    size = int((ends - starts).sum())
    if size <= ONE_PASS_BYTES:
        bound = size // 2 + starts.size
        cols, nx = _scan(_empty(data, rows, bound, bound), starts, ends, True)
        return Columns(
            data,
            rows,
            *(c[: rows[-1]].copy() for c in (cols.tick, cols.status, cols.data1, cols.data2)),
            *(c[:nx].copy() for c in (cols.xrow, cols.xtype, cols.xpos, cols.xlen)),
        )
    _, nx = _scan(_empty(data, rows, 0, 0), starts, ends, False)
    return _scan(_empty(data, rows, int(rows[-1]), nx), starts, ends, True)[0]


def _empty(data, rows, n, nx) -> Columns:
    """Columns for n events, nx of them not channel messages (the types ``scan`` fills)."""
    return Columns(
        data,
        rows,
        np.empty(n, np.int64),
        np.empty(n, np.int16),
        np.empty(n, np.int16),
        np.empty(n, np.int16),
        np.empty(nx, np.int64),
        np.empty(nx, np.int16),
        np.empty(nx, np.int64),
        np.empty(nx, np.int64),
    )


def _scan(cols: Columns, starts, ends, fill: bool):
    """Run ``scan`` over the chunks into ``cols``; returns (cols, non-channel events)."""
    n, nx, err, at, track, a, b = codec.scan(
        cols.data,
        starts,
        ends,
        fill,
        cols.track_start,
        cols.tick,
        cols.status,
        cols.data1,
        cols.data2,
        cols.xrow,
        cols.xtype,
        cols.xpos,
        cols.xlen,
    )
    if err != codec.E_NONE:
        raise Bad(int(track), int(at), reason(int(err), int(a), int(b)))
    return cols, int(nx)


def reason(err: int, a: int, b: int) -> str | None:
    """The sentence for an error code of ``scan`` (None: an event runs past its chunk)."""
    if err == codec.E_PAST_END:
        return None
    if err == codec.E_NO_STATUS:
        return "a data byte where a status byte is needed (running status with no status before it)"
    if err == codec.E_CHANNEL_DATA:
        return "a data byte above 127 in a channel message"
    if err == codec.E_SYSEX_DATA:
        return "a data byte above 127 in a sysex message"
    if err == codec.E_UNDEFINED:
        return f"undefined status byte 0x{a:02X} (no MIDI event starts with it)"
    if err == codec.E_SYSTEM_DATA:
        return f"{SYSTEM_TYPES[a]} message: data byte must be in range 0..127"
    if err == codec.E_TICK_RANGE:
        return (
            f"this event's time passes tick {codec.TICK_LIMIT} (2**53, the latest groove "
            "can hold exactly); its delta time is wrong or the file is corrupt"
        )
    meta_type, why = _META_ERRORS[err](a, b)
    return f"meta event 0x{meta_type:02X} cannot be decoded ({why})"


def _key_error(key, mode):
    # mido's words, its "flats" for any key below 7 included
    if key < 7:
        return (
            0x59,
            f"KeySignatureError: Could not decode key with {abs(key)} flats and mode {mode}",
        )
    return 0x59, f"KeySignatureError: Could not decode key with {key} sharps and mode {mode}"


_META_ERRORS = {
    codec.E_META_INDEX: lambda a, b: (a, "IndexError: list index out of range"),
    codec.E_META_SMPTE_RATE: lambda a, b: (a, f"KeyError: {b}"),
    codec.E_META_RANGE_59: lambda a, b: (a, "ValueError: attribute must be in range 0..59"),
    codec.E_META_RANGE_99: lambda a, b: (a, "ValueError: attribute must be in range 0..99"),
    codec.E_META_DENOMINATOR: lambda a, b: (a, "ValueError: denominator must be a power of 2"),
    codec.E_META_KEY: _key_error,
}


def sysex_data(payload: bytes) -> bytes:
    """The data of a sysex or escape event as mido keeps it (no leading F0, no closing F7)."""
    payload = payload[1:] if payload[:1] == b"\xf0" else payload
    return payload[:-1] if payload[-1:] == b"\xf7" else payload


def to_tracks(cols: Columns) -> list:
    """The mido messages of every track (the ones mido's own reader makes)."""
    from mido.messages import Message
    from mido.midifiles.tracks import MidiTrack

    tracks = []
    others = {int(r): k for k, r in enumerate(cols.xrow.tolist())}
    tick, status = cols.tick.tolist(), cols.status.tolist()
    data1, data2 = cols.data1.tolist(), cols.data2.tolist()
    bounds = cols.track_start.tolist()
    for t in range(len(bounds) - 1):
        track = MidiTrack()
        now = 0
        for row in range(bounds[t], bounds[t + 1]):
            delta, now = tick[row] - now, tick[row]
            if status[row]:
                track.append(_channel(Message, delta, status[row], data1[row], data2[row]))
            else:
                track.append(_other(cols, others[row], delta))
        tracks.append(track)
    return tracks


# status nibble -> (type, name of data byte 1, name of data byte 2 or None)
VOICE = {
    0x80: ("note_off", "note", "velocity"),
    0x90: ("note_on", "note", "velocity"),
    0xA0: ("polytouch", "note", "value"),
    0xB0: ("control_change", "control", "value"),
    0xC0: ("program_change", "program", None),
    0xD0: ("aftertouch", "value", None),
    0xE0: ("pitchwheel", None, None),
}


def _channel(Message, delta, status, d1, d2):
    typ, n1, n2 = VOICE[status & 0xF0]
    if n1 is None:
        fields = {
            "type": typ,
            "time": delta,
            "channel": status & 15,
            "pitch": (d1 | (d2 << 7)) - 8192,
        }
    elif n2 is None:
        fields = {"type": typ, "time": delta, "channel": status & 15, n1: d1}
    else:
        fields = {"type": typ, "time": delta, "channel": status & 15, n1: d1, n2: d2}
    msg = Message.__new__(Message)
    msg.__dict__.update(fields)
    return msg


def _other(cols: Columns, k: int, delta: int):
    from mido.messages import Message
    from mido.midifiles.meta import UnknownMetaMessage, build_meta_message

    kind, payload = int(cols.xtype[k]), cols.payload(k)
    if kind >= META_TYPE:
        msg = build_meta_message(kind - META_TYPE, list(payload), delta)
        if isinstance(msg, UnknownMetaMessage):
            msg.time = delta
        return msg
    if kind in (0xF0, 0xF7):
        return Message("sysex", data=sysex_data(payload), time=delta)
    return Message.from_bytes([kind, *payload], time=delta)
