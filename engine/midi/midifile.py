"""Reading, validating and atomically writing Standard MIDI Files.

Chunks are walked here, strictly, so that every structural problem gets a
precise one-line reason (and so that unknown chunk types are skipped, as the
standard asks, where mido would stop).  Track events are decoded by compiled
code (``engine.midi._smf_decode``) into columns, checked as mido checks
them: ``read_raw`` keeps the columns for the renderer, with no mido at all;
``read`` turns them into the same mido messages ``mido.MidiFile(path,
clip=False)`` gives (a data byte above 127 is an error, never clipped).
Every problem becomes a ``MidiFileError`` naming the file, the track and the
byte.

Writing goes through a temporary file in the target directory and
``os.replace``, so an existing output is only ever replaced by a complete one.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.atomic import write_bytes

from ._smf_decode import Bad, Columns, decode_tracks, to_tracks

if TYPE_CHECKING:  # mido is imported only where mido objects are made
    import mido

#: Format 0 holds one track, 1 simultaneous tracks, 2 independent sequences.
FORMATS = (0, 1, 2)


class MidiFileError(ValueError):
    """A MIDI file that cannot be read or written; ``str()`` is one line.

    Attributes
    ----------
    path : str
        The file.
    reason : str
        What is wrong with it (and where, when known).
    """

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class RawFile:
    """A parsed file: header fields and every event as columns.

    ``events`` is an ``engine.midi._smf_decode.Columns`` (all tracks, flat).
    """

    fmt: int
    ticks_per_beat: int
    events: Columns

    @property
    def n_tracks(self) -> int:
        return self.events.track_start.size - 1


def read(path) -> mido.MidiFile:
    """Read and validate a MIDI file into a ``mido.MidiFile``.

    Raises
    ------
    MidiFileError
        For anything that is not a well-formed, tick-timed Standard MIDI File
        with at least one track; the message names the file and the problem.
    """
    return to_midifile(read_raw(path))


def read_raw(path) -> RawFile:
    """Read and validate a MIDI file into columns (no mido object per note)."""
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise MidiFileError(path, "is a directory, not a MIDI file") from None
    except OSError as exc:
        raise MidiFileError(path, f"cannot be read ({exc.strerror or exc})") from None
    return parse_raw(data, path)


def parse(data: bytes, path="<bytes>") -> mido.MidiFile:
    """Parse the bytes of a MIDI file (see ``read``)."""
    return to_midifile(parse_raw(data, path))


def to_midifile(raw: RawFile) -> mido.MidiFile:
    """The mido messages of a RawFile."""
    import mido

    return mido.MidiFile(
        type=raw.fmt, ticks_per_beat=raw.ticks_per_beat, tracks=to_tracks(raw.events)
    )


def parse_raw(data: bytes, path="<bytes>") -> RawFile:
    """Parse the bytes of a MIDI file into columns (see ``read``)."""
    fmt, n_tracks, tpb, pos = _header(data, path)
    starts, ends = [], []
    problem = None  # a chunk error; raised unless an earlier track is bad first
    chunk_no = 0
    while len(starts) < n_tracks:
        if pos + 8 > len(data):
            problem = (
                f"truncated: the header declares {n_tracks} tracks but "
                f"the file ends after {len(starts)}"
            )
            break
        kind, size = struct.unpack_from(">4sL", data, pos)
        body = pos + 8
        if kind == b"MTrk" and body + size > len(data):
            problem = (
                f"truncated: track {len(starts)} (byte {pos}) declares "
                f"{size} bytes but only {len(data) - body} remain"
            )
            break
        if kind == b"MTrk":
            starts.append(body)
            ends.append(body + size)
        elif not all(0x20 <= b < 0x7F for b in kind):
            problem = (
                f"chunk {chunk_no} at byte {pos} has no valid type "
                f"({kind.hex(' ')}): a wrong chunk length before it, or "
                "a corrupt file"
            )
            break
        # other chunk types (alien chunks) are skipped, as the standard says
        pos = body + size
        chunk_no += 1
    events = _tracks(np.frombuffer(data, np.uint8), starts, ends, path)
    if problem is not None:
        raise MidiFileError(path, problem)
    return RawFile(fmt, tpb, events)


def _header(data: bytes, path):
    if not data:
        raise MidiFileError(path, "is empty (0 bytes), not a MIDI file")
    if data[:4] != b"MThd":
        what = (
            "a RIFF (RMID) wrapper; extract the MIDI data from it first"
            if data[:4] == b"RIFF"
            else "does not start with 'MThd'"
        )
        raise MidiFileError(path, f"not a Standard MIDI File: {what}")
    if len(data) < 14:
        raise MidiFileError(path, f"truncated header ({len(data)} bytes; a header needs 14)")
    (size,) = struct.unpack_from(">L", data, 4)
    if size < 6:
        raise MidiFileError(path, f"header chunk length is {size}; it must be at least 6")
    if 8 + size > len(data):
        raise MidiFileError(path, f"truncated header: it declares {size} bytes")
    fmt, n_tracks, division = struct.unpack_from(">HHH", data, 8)
    if fmt not in FORMATS:
        raise MidiFileError(path, f"format {fmt} is not a MIDI file format (0, 1 or 2)")
    if division & 0x8000:
        fps = 256 - (division >> 8)
        raise MidiFileError(
            path,
            f"SMPTE time division ({fps} frames/s x {division & 0xFF} ticks per frame) has "
            "no beats; groove needs a file timed in ticks per beat",
        )
    if division == 0:
        raise MidiFileError(path, "ticks per beat is 0 in the header; it must be 1 to 32767")
    if n_tracks == 0:
        raise MidiFileError(path, "the header declares no tracks; there is nothing to render")
    if fmt == 0 and n_tracks != 1:
        raise MidiFileError(
            path,
            f"format 0 holds exactly one track, but the header declares "
            f"{n_tracks}; save it as format 1",
        )
    return fmt, n_tracks, division, 8 + size


def _tracks(data: np.ndarray, starts, ends, path) -> Columns:
    """Decode the MTrk chunks ``data[starts[t]:ends[t]]``, each read only inside itself."""
    try:
        return decode_tracks(data, starts, ends)
    except Bad as exc:
        if exc.reason is None:
            raise MidiFileError(
                path,
                f"track {exc.track}: an event runs past the end of its "
                f"chunk (byte {exc.at}); the chunk length "
                f"({ends[exc.track] - starts[exc.track]}) or an event is wrong",
            ) from None
        raise MidiFileError(path, f"track {exc.track} (byte {exc.at}): {exc.reason}") from None


def to_bytes(midi_file: mido.MidiFile, path="<output>") -> bytes:
    """Serialise with mido (the reference writer); errors become MidiFileError."""
    buf = io.BytesIO()
    try:
        midi_file.save(file=buf)
    except (ValueError, TypeError, struct.error) as exc:
        raise MidiFileError(path, f"cannot be written: {exc}") from None
    return buf.getvalue()


def write(midi_file: mido.MidiFile, path) -> None:
    """Save a ``mido.MidiFile`` atomically."""
    write_bytes(path, to_bytes(midi_file, path))
