"""Decode the events of one MTrk chunk into columns (private: see engine.midi.midifile).

One pass over a bytes buffer gives, per event, its delta time, status byte
(0 for meta, sysex and system messages) and data bytes; meta, sysex and
system events are decoded by mido into its own message objects.  From the
columns, ``to_messages`` builds exactly the messages ``mido.MidiFile(path,
clip=False)`` gives, and ``engine.midi.notetable.EventTable.from_raw`` builds
the renderer's arrays without creating a mido object per note.

Two mido 1.3 behaviours are not copied: an unknown meta event keeps its
delta time (mido drops it), and sysex cancels running status, as the
standard says (mido keeps 0xF0 as the running status).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mido.messages import Message
from mido.messages.specs import SPEC_BY_STATUS
from mido.midifiles.meta import UnknownMetaMessage, build_meta_message
from mido.midifiles.tracks import MidiTrack

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


class Bad(Exception):
    """A decoding problem at byte ``at`` (reason None: an event ran past the chunk)."""

    def __init__(self, at, reason=None):
        super().__init__(reason)
        self.at, self.reason = at, reason


@dataclass
class TrackColumns:
    """One track: per event delta time, status (0: see ``other``), data bytes (-1: none)."""

    delta: list = field(default_factory=list)
    status: list = field(default_factory=list)
    data1: list = field(default_factory=list)
    data2: list = field(default_factory=list)
    other: list = field(default_factory=list)  # mido messages of status-0 events, in order


def _varlen(data, i: int, end: int):
    value = 0
    while True:
        if i >= end:
            raise Bad(i)
        b = data[i]
        i += 1
        value = (value << 7) | (b & 0x7F)
        if b < 0x80:
            return value, i


def decode_track(data, pos: int, end: int) -> TrackColumns:
    """The events of ``data[pos:end]`` as columns; raises Bad."""
    cols = TrackColumns()
    delta_, status_, d1_, d2_ = (
        cols.delta.append,
        cols.status.append,
        cols.data1.append,
        cols.data2.append,
    )
    last_status = None
    i = pos
    while i < end:
        start = i
        delta, i = _varlen(data, i, end)
        if i >= end:
            raise Bad(i)
        status = data[i]
        i += 1
        if status < 0x80:
            if last_status is None:
                raise Bad(
                    start,
                    "a data byte where a status byte is needed (running status "
                    "with no status before it)",
                )
            status, i = last_status, i - 1
        if status < 0xF0:
            two = status < 0xC0 or status >= 0xE0
            if i + 1 + two > end:
                raise Bad(i)
            d1 = data[i]
            d2 = data[i + 1] if two else -1
            if d1 > 127 or d2 > 127:
                raise Bad(i, "a data byte above 127 in a channel message")
            i += 1 + two
            last_status = status
            delta_(delta)
            status_(status)
            d1_(d1)
            d2_(d2)
            continue
        if status == 0xFF:
            msg, i = _meta(data, i, end, delta, start)
        elif status in (0xF0, 0xF7):
            msg, i = _sysex(data, i, end, delta, start)
            last_status = None
        else:
            msg, i = _system(data, i, end, status, delta, start)
            last_status = None
        delta_(delta)
        status_(0)
        d1_(0)
        d2_(-1)
        cols.other.append(msg)
    return cols


def _meta(data, i, end, delta, at):
    if i >= end:
        raise Bad(i)
    meta_type = data[i]
    length, i = _varlen(data, i + 1, end)
    if i + length > end:
        raise Bad(i)
    try:
        msg = build_meta_message(meta_type, list(data[i : i + length]), delta)
    except Exception as exc:  # mido's decoders raise ValueError, KeyError, their own...
        raise Bad(
            at, f"meta event 0x{meta_type:02X} cannot be decoded ({type(exc).__name__}: {exc})"
        ) from None
    if isinstance(msg, UnknownMetaMessage):
        msg.time = delta
    return msg, i + length


def _sysex(data, i, end, delta, at):
    length, i = _varlen(data, i, end)
    if i + length > end:
        raise Bad(i)
    payload = bytes(data[i : i + length])
    # mido strips a leading F0 and the closing F7 and writes F0 ... F7 back
    payload = payload[1:] if payload[:1] == b"\xf0" else payload
    payload = payload[:-1] if payload[-1:] == b"\xf7" else payload
    if any(b > 127 for b in payload):
        raise Bad(at, "a data byte above 127 in a sysex message")
    return Message("sysex", data=payload, time=delta), i + length


def _system(data, i, end, status, delta, at):
    """System common / real-time bytes (not allowed in files; the table refuses them)."""
    spec = SPEC_BY_STATUS.get(status)
    if spec is None:
        raise Bad(at, f"undefined status byte 0x{status:02X} (no MIDI event starts with it)")
    size = spec["length"] - 1
    if i + size > end:
        raise Bad(i)
    try:
        return Message.from_bytes([status] + list(data[i : i + size]), time=delta), i + size
    except ValueError as exc:
        raise Bad(at, f"{spec['type']} message: {exc}") from None


def to_messages(cols: TrackColumns) -> MidiTrack:
    """The mido messages of a track (the ones mido's own reader makes)."""
    track = MidiTrack()
    append = track.append
    new = Message.__new__
    others = iter(cols.other)
    for delta, status, d1, d2 in zip(cols.delta, cols.status, cols.data1, cols.data2):
        if status == 0:
            append(next(others))
            continue
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
        msg = new(Message)
        msg.__dict__.update(fields)
        append(msg)
    return track
