"""Regenerate the small MIDI fixtures in this folder (run from anywhere).

Good files are built with mido; broken ones are byte strings written by
hand, one problem each.  All of them are the project's own work (CC0).
"""

import struct
from pathlib import Path

import mido

HERE = Path(__file__).resolve().parent


def chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">L", len(body)) + body


def header(fmt=1, n_tracks=1, division=480) -> bytes:
    return chunk(b"MThd", struct.pack(">HHH", fmt, n_tracks, division))


EOT = b"\x00\xff\x2f\x00"
NOTE = b"\x00\x90\x3c\x64\x83\x60\x80\x3c\x40"  # C4 on, 480 ticks later off


def abs_track(events):
    """A MidiTrack from (tick, message) pairs in any order (stable by tick)."""
    track, now = mido.MidiTrack(), 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def mixed() -> mido.MidiFile:
    """Format 1: tempo changes, 3/4 then 4/4, notes, CCs, pitch bend, sysex, odd meta,
    an overlap, a zero-length note, a note-off without note-on, a note that never ends."""
    M, Meta = mido.Message, mido.MetaMessage
    conductor = abs_track(
        [
            (0, Meta("track_name", name="conductor")),
            (0, Meta("set_tempo", tempo=500000)),
            (0, Meta("time_signature", numerator=3, denominator=4)),
            (1440, Meta("set_tempo", tempo=400000)),
            (1440, Meta("time_signature", numerator=4, denominator=4)),
            (1440, Meta("marker", text="B")),
            (3360, Meta("end_of_track")),
        ]
    )
    n = []
    for k in range(12):  # 16ths, slightly late, on channel 10
        n += [
            (k * 120 + 7, M("note_on", channel=9, note=42, velocity=60 + k)),
            (k * 120 + 67, M("note_off", channel=9, note=42, velocity=0)),
        ]
    n += [
        (0, M("note_on", channel=9, note=36, velocity=100)),
        (480, M("note_on", channel=9, note=36, velocity=0)),  # note-on velocity 0 ends it
        (960, M("note_on", channel=9, note=38, velocity=90)),
        (1000, M("note_on", channel=9, note=38, velocity=80)),  # overlap, same pitch
        (1100, M("note_off", channel=9, note=38)),
        (1200, M("note_off", channel=9, note=38)),
        (1320, M("note_on", channel=9, note=49, velocity=70)),
        (1320, M("note_off", channel=9, note=49)),  # zero length
        (1500, M("note_off", channel=9, note=42)),  # ends no note
        (3000, M("note_on", channel=9, note=51, velocity=40)),
    ]  # never ends
    drums = abs_track(n + [(0, Meta("track_name", name="drums")), (3360, Meta("end_of_track"))])
    keys = abs_track(
        [
            (0, Meta("track_name", name="keys")),
            (0, M("program_change", channel=0, program=4)),
            (0, M("sysex", data=[0x7E, 0x7F, 0x09, 0x01])),
            (0, mido.UnknownMetaMessage(0x60, data=[1, 2, 3])),
            (0, M("control_change", channel=0, control=64, value=127)),
            (120, M("note_on", channel=0, note=60, velocity=80)),
            (250, M("pitchwheel", channel=0, pitch=-2000)),
            (370, M("pitchwheel", channel=0, pitch=0)),
            (470, M("note_off", channel=0, note=60)),
            (600, M("aftertouch", channel=0, value=30)),
            (610, M("polytouch", channel=0, note=62, value=20)),
            (600, M("note_on", channel=0, note=62, velocity=81)),
            (830, M("note_off", channel=0, note=62)),
            (840, M("control_change", channel=0, control=64, value=0)),
            (3360, Meta("end_of_track")),
        ]
    )
    return mido.MidiFile(type=1, ticks_per_beat=480, tracks=[conductor, drums, keys])


def format2() -> mido.MidiFile:
    M, Meta = mido.Message, mido.MetaMessage
    seqs = []
    for tempo, pitch in ((500000, 60), (1000000, 67)):
        seqs.append(
            abs_track(
                [
                    (0, Meta("set_tempo", tempo=tempo)),
                    (0, M("note_on", note=pitch, velocity=90)),
                    (120, M("note_off", note=pitch)),
                    (120, M("note_on", note=pitch + 2, velocity=90)),
                    (240, M("note_off", note=pitch + 2)),
                    (480, Meta("end_of_track")),
                ]
            )
        )
    return mido.MidiFile(type=2, ticks_per_beat=96, tracks=seqs)


BROKEN = {
    "empty.mid": b"",
    "not-midi.mid": b"RIFF\x00\x00\x00\x04WAVE",
    "truncated-header.mid": b"MThd\x00\x00\x00\x06\x00\x01",
    "truncated-track.mid": header() + b"MTrk\x00\x00\x00\x20" + NOTE,
    "chunk-too-short.mid": header() + b"MTrk" + struct.pack(">L", 5) + NOTE + EOT,
    "running-status-without-status.mid": header() + chunk(b"MTrk", b"\x00\x3c\x64" + EOT),
    "data-byte-above-127.mid": header() + chunk(b"MTrk", b"\x00\x90\x3c\xc8" + EOT),
    "sysex-byte-above-127.mid": header() + chunk(b"MTrk", b"\x00\xf0\x03\x7e\x90\xf7" + EOT),
    "smpte.mid": header(division=0xE728) + chunk(b"MTrk", NOTE + EOT),
    "zero-tracks.mid": header(n_tracks=0),
    "format-3.mid": header(fmt=3) + chunk(b"MTrk", NOTE + EOT),
    "format0-two-tracks.mid": header(fmt=0, n_tracks=2) + chunk(b"MTrk", NOTE + EOT) * 2,
    "garbage-chunk.mid": header() + b"\x01\x02\x03\x04\x00\x00\x00\x00" + chunk(b"MTrk", EOT),
    "undefined-status.mid": header() + chunk(b"MTrk", b"\x00\xf4" + EOT),
    "realtime-in-track.mid": header() + chunk(b"MTrk", b"\x00\xf8" + NOTE + EOT),
    "missing-tracks.mid": header(n_tracks=3) + chunk(b"MTrk", NOTE + EOT),
}

GOOD_BYTES = {
    # an alien chunk before the track: skipped, as the standard says
    "alien-chunk.mid": header() + chunk(b"XFIH", b"anything") + chunk(b"MTrk", NOTE + EOT),
    # a track without end_of_track, and bytes after the last chunk
    "no-end-of-track.mid": header() + chunk(b"MTrk", NOTE) + b"\x2a",
    # an unknown meta type (0x60) that must come out byte for byte
    "unknown-meta.mid": header() + chunk(b"MTrk", b"\x00\xff\x60\x03abc" + NOTE + EOT),
}


def main():
    mixed().save(HERE / "mixed.mid")
    format2().save(HERE / "format2.mid")
    for folder, table in (("broken", BROKEN), (".", GOOD_BYTES)):
        (HERE / folder).mkdir(exist_ok=True)
        for name, data in table.items():
            (HERE / folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
