"""Plain-data MIDI events with a sample offset, in preallocated sorted lists.

One spec table describes every kind (as mido does) instead of a class per
message.  An event is a row of ``EVENT_DTYPE``:

  frame    int32    sample offset inside the block (0 <= frame < frames)
  kind     uint8    MIDI status nibble: 0x80 note-off, 0x90 note-on, 0xA0 poly
                    aftertouch, 0xB0 control change, 0xC0 program change,
                    0xD0 channel aftertouch, 0xE0 pitch bend
  channel  uint8    0..15
  key      uint8    note, controller or program number (0 where unused)
  value    int16    velocity, controller value, pressure, or bend -8192..8191
  beat     float64  the event's exact position in output beats (NaN if
                    unknown): offline writers place it at exact ticks
  note     int64    identity pairing a note-on with its note-off (-1: none)

Event lists stay sorted by frame, ties in insertion order, like CLAP's event
queues, and never allocate after construction: ``push`` on a full list drops
the event and counts it (an audio thread must not raise).
"""

from __future__ import annotations

import numpy as np

NOTE_OFF, NOTE_ON, POLY_AFTERTOUCH, CONTROL_CHANGE = 0x80, 0x90, 0xA0, 0xB0
PROGRAM_CHANGE, CHANNEL_AFTERTOUCH, PITCH_BEND = 0xC0, 0xD0, 0xE0

#: kind -> (name, number of data bytes, name of the key field, name of the value field)
SPECS = {
    NOTE_OFF: ("note_off", 2, "note", "velocity"),
    NOTE_ON: ("note_on", 2, "note", "velocity"),
    POLY_AFTERTOUCH: ("polytouch", 2, "note", "value"),
    CONTROL_CHANGE: ("control_change", 2, "control", "value"),
    PROGRAM_CHANGE: ("program_change", 1, "program", None),
    CHANNEL_AFTERTOUCH: ("aftertouch", 1, None, "value"),
    PITCH_BEND: ("pitchwheel", 2, None, "pitch"),
}
KIND_OF_NAME = {spec[0]: kind for kind, spec in SPECS.items()}

EVENT_DTYPE = np.dtype(
    [
        ("frame", np.int32),
        ("kind", np.uint8),
        ("channel", np.uint8),
        ("key", np.uint8),
        ("value", np.int16),
        ("beat", np.float64),
        ("note", np.int64),
    ]
)


class EventList:
    """A fixed-capacity list of events kept sorted by frame.

    Parameters
    ----------
    capacity : int
        Most events one block may carry; allocated once, here.
    """

    __slots__ = ("data", "count", "dropped")

    def __init__(self, capacity: int = 4096):
        if capacity < 1:
            raise ValueError(f"capacity: {capacity!r} must be at least 1")
        self.data = np.zeros(capacity, dtype=EVENT_DTYPE)
        self.count = 0
        self.dropped = 0

    def __len__(self):
        return self.count

    @property
    def capacity(self) -> int:
        return self.data.shape[0]

    def clear(self) -> None:
        """Forget all events (audio thread; keeps the dropped counter)."""
        self.count = 0

    def view(self) -> np.ndarray:
        """The events as a structured array view (no copy)."""
        return self.data[: self.count]

    def push(self, frame, kind, channel, key, value, beat=np.nan, note=-1) -> bool:
        """Insert one event after every event at the same or an earlier frame.

        Audio thread.  Returns False (and counts it) when the list is full.
        """
        n = self.count
        if n >= self.data.shape[0]:
            self.dropped += 1
            return False
        data = self.data
        i = n
        # Most events arrive in frame order: scan back from the end.
        while i > 0 and data[i - 1]["frame"] > frame:
            i -= 1
        if i < n:
            data[i + 1 : n + 1] = data[i:n]
        data[i] = (frame, kind, channel, key, value, beat, note)
        self.count = n + 1
        return True

    def extend(self, rows: np.ndarray, presorted: bool = False) -> None:
        """Merge a structured array of events into the list.

        ``presorted``: the rows are already sorted by frame (another
        EventList's view), which saves a sort when the list is empty or the
        rows all come after its last event.
        """
        k = rows.shape[0]
        if k == 0:
            return
        room = self.data.shape[0] - self.count
        if k > room:
            self.dropped += k - room
            rows = rows[:room]
            k = room
        n = self.count
        in_order = presorted and (n == 0 or rows[0]["frame"] >= self.data[n - 1]["frame"])
        self.data[n : n + k] = rows
        self.count = n + k
        if not in_order:
            merged = self.data[: self.count]
            order = np.argsort(merged["frame"], kind="stable")
            merged[:] = merged[order]


def to_bytes(event) -> bytes:
    """The MIDI wire bytes of one event row."""
    kind = int(event["kind"])
    status = kind | int(event["channel"])
    if kind == PITCH_BEND:
        v = int(event["value"]) + 8192
        return bytes((status, v & 0x7F, v >> 7))
    if kind in (PROGRAM_CHANGE,):
        return bytes((status, int(event["key"])))
    if kind == CHANNEL_AFTERTOUCH:
        return bytes((status, int(event["value"])))
    return bytes((status, int(event["key"]), int(event["value"])))


def parse_bytes(data) -> tuple | None:
    """(kind, channel, key, value) of a channel voice message, None for others.

    A note-on with velocity 0 is returned as a note-off, as MIDI defines it.
    """
    if not data or data[0] < 0x80 or data[0] >= 0xF0:
        return None
    kind, channel = data[0] & 0xF0, data[0] & 0x0F
    size = SPECS[kind][1]
    if len(data) < 1 + size or any(b > 0x7F for b in data[1 : 1 + size]):
        return None
    if kind == PITCH_BEND:
        return kind, channel, 0, (data[1] | (data[2] << 7)) - 8192
    if kind == PROGRAM_CHANGE:
        return kind, channel, data[1], 0
    if kind == CHANNEL_AFTERTOUCH:
        return kind, channel, 0, data[1]
    if kind == NOTE_ON and data[2] == 0:
        return NOTE_OFF, channel, data[1], 0
    return kind, channel, data[1], data[2]
