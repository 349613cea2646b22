"""The SMF reader as it was before the compiled codec: a slow, obviously-correct reference.

One Python pass per track, meta and sysex events decoded by mido's own
decoders (``build_meta_message``, ``Message.from_bytes``), exactly the code
``engine.midi`` shipped before ``engine.midi._smf_codec``.  ``read`` gives
the mido file or raises the MidiFileError the reader raised then; the
tests compare the codec's messages, tables, errors and rendered bytes to it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import mido
import numpy as np
from mido.messages import Message
from mido.messages.specs import SPEC_BY_STATUS
from mido.midifiles.meta import UnknownMetaMessage, build_meta_message
from mido.midifiles.tracks import MidiTrack

from engine.midi._render_kernels import offs_before_ons
from engine.midi.assemble import (
    _EOT_BYTES,
    _SRC_CLOSE,
    _SRC_EOT,
    CLOSING_VELOCITY,
    _Output,
    row_order,
)
from engine.midi.midifile import MidiFileError, _header

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


def read(path) -> mido.MidiFile:
    """Read ``path`` as the old reader did (MidiFileError for a bad file)."""
    with open(path, "rb") as f:
        data = f.read()
    return parse(data, path)


def parse(data: bytes, path="<bytes>") -> mido.MidiFile:
    fmt, n_tracks, tpb, pos = _header(data, path)
    tracks = []
    chunk_no = 0
    while len(tracks) < n_tracks:
        if pos + 8 > len(data):
            raise MidiFileError(
                path,
                f"truncated: the header declares {n_tracks} tracks but "
                f"the file ends after {len(tracks)}",
            )
        kind, size = struct.unpack_from(">4sL", data, pos)
        body = pos + 8
        if kind == b"MTrk" and body + size > len(data):
            raise MidiFileError(
                path,
                f"truncated: track {len(tracks)} (byte {pos}) declares "
                f"{size} bytes but only {len(data) - body} remain",
            )
        if kind == b"MTrk":
            tracks.append(_track(data, pos, size, len(tracks), path))
        elif not all(0x20 <= b < 0x7F for b in kind):
            raise MidiFileError(
                path,
                f"chunk {chunk_no} at byte {pos} has no valid type "
                f"({kind.hex(' ')}): a wrong chunk length before it, or "
                "a corrupt file",
            )
        pos = body + size
        chunk_no += 1
    return mido.MidiFile(type=fmt, ticks_per_beat=tpb, tracks=[to_messages(c) for c in tracks])


def _track(data: bytes, pos: int, size: int, number: int, path):
    try:
        return decode_track(data, pos + 8, pos + 8 + size)
    except Bad as exc:
        if exc.reason is None:
            raise MidiFileError(
                path,
                f"track {number}: an event runs past the end of its "
                f"chunk (byte {exc.at}); the chunk length ({size}) or "
                "an event is wrong",
            ) from None
        raise MidiFileError(path, f"track {number} (byte {exc.at}): {exc.reason}") from None
    except Exception as exc:  # anything else mido raises while building a message
        raise MidiFileError(path, f"track {number}: {type(exc).__name__}: {exc}") from None


# The assembler's ordering and gathering as they were (np.lexsort, fancy indexing):
# engine.midi.assemble now sorts almost-sorted rows with kernels and must agree.
def note_order(group, start):
    return np.lexsort((np.arange(len(group)), start, group))


def order(ev, nt, rows, group, group_moved, close):
    """Output permutation: by track, tick, original order; offs before ons of one key."""
    n_notes = len(nt)
    perm = np.lexsort((row_order(rows), rows["tick"], rows["track"]))
    note = rows["note"]
    fix = note >= 0
    fix[fix] = group_moved[note[fix]]
    if fix.any():
        is_on = np.zeros(note.size, bool)
        is_on[rows["n_keep"] : rows["n_keep"] + n_notes] = True
        is_off = (note >= 0) & ~is_on
        key = np.full(note.size, -1, np.int64)
        key[note >= 0] = group[note[note >= 0]]
        offs_before_ons(perm, rows["tick"], rows["track"], is_on, is_off, key, fix)
    return perm


def gather(ev, nt, perm, rows, velocity, tpb_out):
    """Per output row: the bytes to write, in output order."""
    src = rows["src"][perm]
    note = rows["note"][perm]
    real = np.maximum(src, 0)
    status = ev.status[real].astype(np.int64)
    data1 = ev.data1[real].astype(np.int64)
    data2 = ev.data2[real].astype(np.int64)
    blob_start = ev.blob_start[real].copy()
    blob_len = ev.blob_len[real].copy()
    is_on = np.zeros(rows["src"].size, bool)
    is_on[rows["n_keep"] : rows["n_keep"] + len(nt)] = True
    on = is_on[perm]
    data2[on] = velocity[note[on]]  # note-ons carry the new velocity
    closing = src == _SRC_CLOSE
    k = note[closing]
    status[closing] = 0x80 | nt.channel[k]
    data1[closing] = nt.pitch[k]
    data2[closing] = CLOSING_VELOCITY
    blob_len[closing] = 0
    eot = src == _SRC_EOT
    blob = np.concatenate([ev.blob, _EOT_BYTES])
    blob_start[eot] = ev.blob.size
    blob_len[eot] = 3
    track = rows["track"][perm]
    bounds = np.searchsorted(track, np.arange(ev.n_tracks + 1), side="left")
    return _Output(
        ev.fmt,
        tpb_out,
        ev.n_tracks,
        src,
        rows["tick"][perm],
        status,
        data1,
        data2,
        blob_start,
        blob_len,
        blob,
        bounds.astype(np.int64),
        ev.messages,
    )
